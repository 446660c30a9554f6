# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. What an unbind reads: the host's side (Cluster, KubeFedCluster, the
webhook configuration, every federated object that may place the member) and the member's side with its own
connection (agent, kube-federation-system leftovers, workspace labels, kubesphere-config); after the run,
what is left."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.federated import federated_types
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import WEBHOOK_NAME, installer


def webhook(conn):
    return conn.get(v.WEBHOOK_API_VERSION, v.VALIDATING_WEBHOOK_KIND, WEBHOOK_NAME)


def placed_kinds(conn):
    """The kinds whose objects carry a placement: KubeSphere's WorkspaceTemplate and the federated type of
    every FederatedTypeConfig on the host (what federated_resource can propagate), as
    [(api_version, kind)]."""
    kinds = [(v.TENANT_API_VERSION, v.WORKSPACE_TEMPLATE_KIND)]
    for ftc in conn.list(v.KUBEFED_API_VERSION, v.FEDERATED_TYPE_CONFIG_KIND, v.KUBEFED_NAMESPACE, if_served=True) or []:
        fed = federated_types(ftc)["federated"]
        if fed["kind"] and (fed["apiVersion"], fed["kind"]) not in kinds:
            kinds.append((fed["apiVersion"], fed["kind"]))
    return kinds


def read_host(conn, name, with_webhook=True):
    """The host's side of an unbind, as objects (None when absent). `with_webhook` False: a version without the
    Cluster webhook (4.1) does not read it."""
    out = {"cluster": conn.get(v.CLUSTER_API_VERSION, v.CLUSTER_KIND, name),
           "kubefed_cluster": conn.get(v.KUBEFED_API_VERSION, v.KUBEFED_CLUSTER_KIND, name, v.KUBEFED_NAMESPACE,
                                       if_served=True),
           "webhook": webhook(conn) if with_webhook else None, "federated": []}
    for api_version, kind in placed_kinds(conn):
        for obj in conn.list(api_version, kind, if_served=True) or []:
            obj.setdefault("apiVersion", api_version)
            obj.setdefault("kind", kind)
            out["federated"].append(obj)
    return out


def host_leftovers(conn, name, with_webhook=True):
    """What plan.unbind.remaining needs of the host after the run (the webhook only `with_webhook`)."""
    out = {
        "cluster": conn.get(v.CLUSTER_API_VERSION, v.CLUSTER_KIND, name),
        "kubefed_cluster": conn.get(v.KUBEFED_API_VERSION, v.KUBEFED_CLUSTER_KIND, name, v.KUBEFED_NAMESPACE,
                                    if_served=True),
        "secret": conn.get("v1", "Secret", "%s-secret" % name, v.KUBEFED_NAMESPACE) is not None,
        "service": conn.get("v1", "Service", "mc-%s" % name, v.KS_NAMESPACE) is not None,
    }
    if with_webhook:
        out["webhook"] = webhook(conn)
    return out


def read_member(conn):
    """The member's facts for the report: reachable/error, agent, federation leftovers (names), namespaces
    with a workspace label, parsed kubesphere-config. A member that cannot be read (or no connection: None)
    gives reachable False and the error {code, message}; it never raises."""
    if conn is None:
        return {"reachable": False, "error": {"code": "no_connection", "message": "no connection to the member "
                                              "was given"}}
    try:
        cm = conn.get("v1", "ConfigMap", installer.CONFIG_MAP, v.KS_NAMESPACE)
        try:
            config = installer.parse_config(cm)
        except ValueError:
            config = None
        ns_list = conn.list("v1", "Namespace", label_selector=v.WORKSPACE_LABEL) or []
        fed = {
            "service_accounts": _names(conn.list("v1", "ServiceAccount", v.KUBEFED_NAMESPACE)),
            "secrets": _names(conn.list("v1", "Secret", v.KUBEFED_NAMESPACE)),
            "cluster_roles": _names(conn.list(v.RBAC_API_VERSION, "ClusterRole")),
            "cluster_role_bindings": _names(conn.list(v.RBAC_API_VERSION, "ClusterRoleBinding")),
        }
        return {
            "reachable": True, "error": None, "config": config,
            "agent": conn.get("apps/v1", "Deployment", "cluster-agent", v.KS_NAMESPACE),
            "federation": fed,
            "workspace_namespaces": {objects.get_path(n, "metadata.name"):
                                     (objects.get_path(n, "metadata.labels") or {}).get(v.WORKSPACE_LABEL)
                                     for n in ns_list},
        }
    except KubeSphereError as e:
        return {"reachable": False, "error": {"code": e.code or "api_error", "message": e.reason}}


def _names(items):
    return sorted(objects.get_path(i, "metadata.name") for i in items or [])
