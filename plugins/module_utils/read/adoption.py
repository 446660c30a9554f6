# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. What federated_project and federated_resource read on the clusters of a
placement before writing: whether the object they federate already exists there, and with which
`kubefed.io/managed` label (checks/adoption.py judges it).

A member is reached with the connection the run was given for it (`connections`: the inventory's kubeconfig
and context for that member, proxy members included). A member without one is reached the way KubeSphere's
cluster controller reaches it (and kubefed, through the KubeFedCluster the controller derives from it): with the
kubeconfig stored in its Cluster object on the host (`spec.connection.kubeconfig`). The host's own Cluster is
read through the module's host connection. A proxy member's stored kubeconfig points at tower's proxy Service (a
ClusterIP inside the host cluster, tower's pkg/proxy/proxy.go:481), which the controller cannot reach: such a
member without a connection, and a member whose Cluster has no kubeconfig or cannot be read, is `unchecked`
with the reason (the operation warns and lists it), never guessed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import adoption as checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as cluster_object
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v


def facts(module, host, connect, clusters, target, name, namespace, skip_host=False, timeout=None, connections=None):
    """One fact per cluster of `clusters` (checks/adoption.py's shape) for the object `target` (the FTC's
    target type: {apiVersion, kind, namespaced}) named `name` (in `namespace`). `skip_host`: the host's
    own Cluster is left out (a project's host Namespace is the project's own, labelled managed=false).
    `connections`: [{cluster_name, kubeconfig, context}], the members' own connections."""
    given = {c["cluster_name"]: c for c in connections or []}
    out = []
    for cluster in sorted(set(clusters or [])):
        fact = {"cluster": cluster, "kind": target["kind"], "namespace": namespace if target["namespaced"] else None,
                "name": name}
        if cluster in given:
            conn, reason = given_connection(module, connect, cluster, given[cluster], timeout)
        else:
            obj = host.get(v.CLUSTER_API_VERSION, v.CLUSTER_KIND, cluster, if_served=True)
            conn, reason = member_connection(module, host, connect, cluster, obj, timeout)
        if conn == "host" and skip_host:
            continue
        if conn is None:
            out.append(dict(fact, state="unchecked", reason=reason))
            continue
        if conn == "host":
            conn = host
        try:
            live = conn.get(target["apiVersion"], target["kind"], name, fact["namespace"], if_served=True)
        except KubeSphereError as e:
            out.append(dict(fact, state="unchecked", reason="cannot be read (%s: %s)" % (e.code, e.reason)))
            continue
        out.append(dict(fact, state=checks.state_of(live)))
    return out


def given_connection(module, connect, cluster, params, timeout, what="its connection"):
    """(Connection, None) for a member reached with `params` (its own connection, the inventory's, or `what`
    else), (None, reason) when that kubeconfig cannot be used."""
    try:
        return connect(module, cluster, params=params, timeout=timeout), None
    except KubeSphereError as e:
        return None, "%s cannot be used (%s: %s)" % (what, e.code, e.reason)


def member_connection(module, host, connect, cluster, obj, timeout):
    """("host", None) for the host's own Cluster, (Connection, None) for a member reached through its stored
    kubeconfig, (None, reason) when it cannot be reached from here."""
    if obj is None:
        return None, "no Cluster %s on the host" % cluster
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if v.HOST_LABEL in labels:
        return "host", None
    connection = (obj.get("spec") or {}).get("connection") or {}
    if connection.get("type") == "proxy":
        return None, ("a proxy member: its stored kubeconfig points at tower's proxy Service inside the host "
                      "cluster, which this controller cannot reach")
    try:
        text = cluster_object.kubeconfig_text(obj)
    except ValueError as e:
        return None, str(e)
    if not text:
        return None, "its Cluster stores no kubeconfig"
    return given_connection(module, connect, cluster, {"kubeconfig": text}, timeout, what="its stored kubeconfig")
