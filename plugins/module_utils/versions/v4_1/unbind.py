# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Unbinding a member of a KubeSphere 4.1 host: what the member shows, the
report of what goes and what stays, and what is left after the run (pure but `read_member`).

Facts (KubeSphere v4.1.3, pkg/controller/cluster/cluster_controller.go; ../shared/docs/kubesphere-v4.1.md 1.3,
6 items 16-18):
- the console unbinds with a plain DELETE of the Cluster; v4.1.3's chart registers no Cluster webhook, so the
  controller's finalizer goes in about a second even for a dead member: no webhook workaround, no force;
- the finalizer drops the cluster from WorkspaceTemplates' placements and users' granted-clusters and, only when
  the Cluster is Ready, removes the member's kubesphere-system annotations cluster.kubesphere.io/name and
  cluster.kubesphere.io/host-cluster; a dead member keeps them, and they make the console's validation refuse its
  re-import ("current cluster is managed by another host cluster");
- ks-core (the Helm release the host installed: Deployment ks-agent, its Services, webhooks, CRDs) stays on the
  member; no kubefed objects are made by the join (the kubefed extension's backend unjoins its own)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, describe
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster_health as ch
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import helm_release
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v4_1 import agent, join

IDENTITY = (v.CLUSTER_NAME_ANNOTATION, v.HOST_CLUSTER_ANNOTATION)
UNJOIN_WHY = ("kubefed's view of the member: the kubefed extension's backend removes it only when it sees the Cluster "
              "being deleted, or in its 3-minute sweep")
# what the kubefed extension's backend (kubefedctl v0.10.0 join) made on the member, in kube-federation-system
KUBEFED_SA = "%s-kubesphere"
KUBEFED_RBAC = "kubefed-controller-manager:%s-kubesphere"


def read_member(conn):
    """{reachable, error, annotations (kubesphere-system's, {} when it has none, None when the namespace is
    absent), ks_core_release (the record or None)}; a member that cannot be read (or no connection) gives
    reachable False and the error {code, message}; it never raises."""
    if conn is None:
        return {"reachable": False, "error": {"code": "no_connection", "message": "no connection to the member "
                                              "was given"}}
    try:
        ns = conn.get("v1", "Namespace", v.KS_NAMESPACE)
        records = conn.list("v1", "Secret", v.KS_NAMESPACE, label_selector=helm_release.selector(join.KS_CORE)) \
            if ns is not None else []
    except KubeSphereError as e:
        return {"reachable": False, "error": {"code": e.code or "api_error", "message": e.reason}}
    return {"reachable": True, "error": None,
            "annotations": None if ns is None else dict(objects.get_path(ns, "metadata.annotations") or {}),
            "ks_core_release": helm_release.current(records)}


def _item(side, kind, name, namespace=None, why=None):
    return {"cluster": side, "object": describe(kind, name, namespace), "why": why}


def identity_annotations(name, annotations):
    """The identity annotations on the member's kubesphere-system that name this member ({key: value})."""
    found = annotations or {}
    if found.get(v.CLUSTER_NAME_ANNOTATION) not in (None, name):
        return {}
    return {k: found[k] for k in IDENTITY if k in found}


def _ks_core_item(name, release):
    where = " (revision %s, %s)" % (release.get("revision"), release.get("status")) if release else ""
    return _item(name, "Helm release", join.KS_CORE, v.KS_NAMESPACE,
                 "KubeSphere's agent the host installed%s (Deployment ks-agent, its Services, webhooks and CRDs) stays: "
                 "`%s` on the member removes it" % (where, join.UNINSTALL_KS_CORE))


def _identity_item(name, why):
    return _item(name, "Namespace", v.KS_NAMESPACE, why="keeps annotations %s (%s), which make KubeSphere's validation "
                 "refuse its re-import: remove them with `%s`" % (", ".join(IDENTITY), why, join.REMOVE_ANNOTATIONS))


def report(name, cluster, member=None, federated=None, remove_agent=True, cleanup_member=False,
           remove_from_placements=False, kubefed_cluster=None):
    """What an unbind removes on the host and on the member, and what stays on the member:
    {removed_on_host, removed_on_member, stays_on_member}, lists of {cluster, object, why}. `member` is
    read_member's (all optional); a proxy member's agent and what it runs as go with `remove_agent` when the member
    is reachable; a member the kubefed extension joined (its `kubefed_cluster`) leaves its ServiceAccount and
    ClusterRole(Binding) in kube-federation-system unless `cleanup_member`."""
    member = member or {}
    reachable = member.get("reachable")
    removed_host, removed_member, stays = [], [], []
    if cluster is not None:
        removed_host.append(_item("host", v.CLUSTER_KIND, name,
                                  why="the member's registration (KubeSphere's controller removes its finalizer)"))
    if kubefed_cluster is not None:
        removed_host.append(_item("host", v.KUBEFED_CLUSTER_KIND, name, v.KUBEFED_NAMESPACE, UNJOIN_WHY))
        secret = objects.get_path(kubefed_cluster, "spec.secretRef.name") or "%s-secret" % name
        removed_host.append(_item("host", "Secret", secret, v.KUBEFED_NAMESPACE, "the member's token kubefed used"))
        for kind, obj_name, ns in (("ServiceAccount", KUBEFED_SA % name, v.KUBEFED_NAMESPACE),
                                   ("ClusterRole", KUBEFED_RBAC % name, None),
                                   ("ClusterRoleBinding", KUBEFED_RBAC % name, None)):
            item = _item(name, kind, obj_name, ns, "what the kubefed extension's join made on the member")
            (removed_member if cleanup_member and reachable else stays).append(item)
    if cluster is not None and co.connection_type(cluster) == "proxy":
        deployment = {"kind": "Deployment", "metadata": {"name": agent.NAME, "namespace": agent.NAMESPACE}}
        for obj in [deployment] + agent.removed_with_agent():
            item = _item(name, obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace"),
                         "the proxy agent" if obj["kind"] == "Deployment" else "what the proxy agent runs as")
            if remove_agent and reachable:
                removed_member.append(dict(item, why=item["why"] + " (removed after the Cluster is gone)"))
            else:
                stays.append(dict(item, why=item["why"] + ("" if reachable else " (the member is unreachable)")))
    release = member.get("ks_core_release")
    if release is not None or not reachable or cluster is not None:
        stays.append(_ks_core_item(name, release))
    identity = identity_annotations(name, member.get("annotations"))
    if cluster is not None and reachable and identity:
        if ch.ready(cluster):
            removed_member.append(_item(name, "Namespace", v.KS_NAMESPACE, why="its annotations %s (KubeSphere's "
                                        "controller removes them, the Cluster being Ready)" % ", ".join(sorted(identity))))
        else:
            stays.append(_identity_item(name, "the Cluster is not Ready, so KubeSphere's controller does not remove "
                                              "them"))
    elif cluster is not None and not reachable:
        stays.append(_identity_item(name, "the member is unreachable, so KubeSphere's controller cannot remove them"))
    elif identity:
        stays.append(_identity_item(name, "left from an earlier import"))
    return {"removed_on_host": removed_host, "removed_on_member": removed_member, "stays_on_member": stays}


def remaining(name, host, member=None):
    """What is still there after an unbind, read again: {host: [objects] (failures), member: [objects] (facts)}.
    `host` = {cluster, kubefed_cluster, ...} (operations/unbind.py's read; the webhook is not 4.1's)."""
    host = host or {}
    left_host = []
    if host.get("cluster") is not None:
        left_host.append("Cluster %s (%s; finalizers: %s)" % (name, "being deleted" if co.deleting(host["cluster"])
                                                              else "present",
                                                              ", ".join(co.finalizers(host["cluster"])) or "none"))
    if host.get("kubefed_cluster") is not None:
        left_host.append(describe(v.KUBEFED_CLUSTER_KIND, name, v.KUBEFED_NAMESPACE))
    left_member = []
    if (member or {}).get("reachable"):
        if member.get("ks_core_release") is not None:
            left_member.append(_ks_core_item(name, member["ks_core_release"])["object"])
        if identity_annotations(name, member.get("annotations")):
            left_member.append("annotations %s of %s" % (", ".join(sorted(identity_annotations(
                name, member.get("annotations")))), describe("Namespace", v.KS_NAMESPACE)))
    return {"host": left_host, "member": left_member}
