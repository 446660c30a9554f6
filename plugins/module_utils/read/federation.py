# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. What federated_project, federated_resource and federation_info read of
the host (and, for federation_info, of one member), as plain data. The only calls to a cluster these
operations make before their plans; the KubeFedClusters are summarised once, by
read/cluster_state.kubefed_summaries.

- `host(conn)`: read/cluster_state's state of the host (installer, Clusters, KubeFedClusters);
  `members(state)`: checks/federation's `members` from it; `kubefed_clusters(state)`: [{name, labels,
  ready, offline, reason}] ([] without kubefed).
- `project(conn, name, workspace)`, `project_deletion(conn, name)`, `workspace(conn, name, manager)`,
  `resource(conn, fed_type, target, name, namespace)`: the objects each plan starts from (None when absent).
- `ftcs`, `namespaced_federated`, `federated_namespaces`: single reads (what a member serves:
  read/cluster_state.served_versions)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.placement import placement_names
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

HOST_PARTS = ("installer", "clusters", "kubefed", "extensions")  # extensions: 4.1's kubefed (none read on 3.4)


def host(conn, parts=HOST_PARTS):
    """The host's state (read/cluster_state.read of `parts`); raises the read's error."""
    return cluster_state.require(cluster_state.read(conn, parts=parts))


def kubefed_clusters(state):
    """The host's KubeFedClusters as read/cluster_state summarised them ([] when kubefed is not installed)."""
    return list(state.get("kubefed_clusters") or [])


def members(conn, state):
    """checks.federation's `members`: one per KubeSphere Cluster on the host, judged by its KubeFedCluster.
    `conn` names the host in the error when it serves no Cluster (not a KubeSphere host)."""
    # a member first: its Clusters are not read (cluster_state.only_a_member), which must not read as "not served"
    if "cluster_configuration" in state and "config" in state and cluster_state.role(state) == "member":
        raise conn.error("the cluster is a KubeSphere member, not the host: give the host cluster's kubeconfig and "
                         "context (multi-cluster projects are written on the host)", code="not_a_host")
    if state.get("clusters") is None:
        raise conn.error("the cluster is not a KubeSphere host (Cluster is not served)", code="not_a_host")
    by_kfc = {c["name"]: c for c in kubefed_clusters(state)}
    out = []
    for summary in state["clusters"]:
        kfc = by_kfc.get(summary["name"]) or {}
        out.append({"name": summary["name"], "ready": summary["ready"], "kubefed_ready": bool(kfc.get("ready")),
                    "offline": bool(kfc.get("offline"))})
    return out


def ftcs(conn):
    return conn.list(v.KUBEFED_API_VERSION, v.FEDERATED_TYPE_CONFIG_KIND, v.KUBEFED_NAMESPACE, if_served=True) or []


def federated_namespace(conn, name):
    return conn.get(v.TYPES_API_VERSION, "FederatedNamespace", name, name, if_served=True)


def project(conn, name, workspace, state, template_api_version=v.TENANT_API_VERSION):
    """What a project's plan starts from: the host's members and KubeFedClusters, the WorkspaceTemplate (read in the
    version's `template_api_version`), the host Namespace and the FederatedNamespace (None when absent)."""
    return {"members": members(conn, state), "kubefed_clusters": kubefed_clusters(state),
            "workspace_template": conn.get(template_api_version, v.WORKSPACE_TEMPLATE_KIND, workspace, if_served=True),
            "namespace": conn.get("v1", "Namespace", name),
            "federated_namespace": conn.get(v.TYPES_API_VERSION, "FederatedNamespace", name, name)}


IAM_API_VERSION = "iam.kubesphere.io/v1alpha2"


def workspace(conn, name, manager=None, state=None, template_api_version=v.TENANT_API_VERSION):
    """What a workspace's plan and checks start from: the WorkspaceTemplate and KubeSphere's FederatedWorkspace
    (None when absent), its projects [{name, clusters}] (host namespaces labelled with the workspace and not being
    deleted, with their FederatedNamespace placement), the host's members (with `state`: the host's state), and the manager's User
    ({"served": False} when the host serves no Users)."""
    projects = [ns["metadata"]["name"] for ns in conn.list("v1", "Namespace", label_selector="%s=%s" % (
        v.WORKSPACE_LABEL, name)) or [] if not ns["metadata"].get("deletionTimestamp")]  # being deleted: not held
    if projects:  # their placements, with one list of every FederatedNamespace
        placed = {f["metadata"]["namespace"]: sorted(placement_names(f) or []) for f in federated_namespaces(conn)
                  if f["metadata"]["namespace"] == f["metadata"]["name"]}
        projects = [{"name": n, "clusters": placed.get(n, [])} for n in projects]
    out = {"workspace_template": conn.get(template_api_version, v.WORKSPACE_TEMPLATE_KIND, name, if_served=True),
           "federated_workspace": conn.get(v.TYPES_API_VERSION, "FederatedWorkspace", name, if_served=True),
           "projects": projects, "manager": {"served": True, "user": None}}
    if state is not None:
        out["members"] = members(conn, state)
    if manager:
        user = conn.get(IAM_API_VERSION, "User", manager, if_served=True)
        out["manager"] = {"served": user is not None or served(conn, IAM_API_VERSION, "User"), "user": user}
    return out


def served(conn, api_version, kind):
    """Whether the cluster serves the kind."""
    try:
        conn.resource(api_version, kind)
    except KubeSphereError as e:
        if e.code == "kind_not_served":
            return False
        raise
    return True


def project_deletion(conn, name):
    """What deleting a project starts from: the host Namespace, the FederatedNamespace, the KubeFedClusters
    and (when federated) every federated object in the namespace."""
    namespace = conn.get("v1", "Namespace", name)
    fed_ns = federated_namespace(conn, name)
    out = {"namespace": namespace, "federated_namespace": fed_ns, "kubefed_clusters": [], "federated_objects": []}
    if namespace is not None and fed_ns is not None:
        out["kubefed_clusters"] = kubefed_clusters(host(conn, parts=("kubefed",)))
        out["federated_objects"] = namespaced_federated(conn, name, ftcs(conn))
    return out


def resource(conn, fed_type, target, name, namespace, state=None):
    """What a federated resource's plan starts from: the live federated object, its project's
    FederatedNamespace, whether the namespace exists on the host, the RSP of the same name; with `state`
    (state=present) the members too."""
    out = {"live": conn.get(fed_type["apiVersion"], fed_type["kind"], name, namespace), "federated_namespace": None,
           "namespace_missing": False, "rsp": None, "members": None}
    if target["namespaced"]:
        out["namespace_missing"] = conn.get("v1", "Namespace", namespace) is None
        if state is not None:
            out["federated_namespace"] = federated_namespace(conn, namespace)
    if namespace and not out["namespace_missing"]:
        out["rsp"] = conn.get(v.SCHEDULING_API_VERSION, v.RSP_KIND, name, namespace, if_served=True)
    if state is not None:
        out["members"] = members(conn, state)
    return out


def namespaced_federated(conn, namespace, ftc_list):
    """Every federated object in `namespace` (any FederatedTypeConfig's namespaced federated type; a
    cluster-scoped one, such as FederatedWorkspace, is in no namespace: listing it "in" one lists them all)."""
    out = []
    for ftc in ftc_list:
        fed = federated.federated_types(ftc)["federated"]
        if not fed["kind"] or fed["kind"] == "FederatedNamespace" or not fed["namespaced"]:
            continue
        out.extend(conn.list(fed["apiVersion"], fed["kind"], namespace, if_served=True) or [])
    return out


def federated_namespaces(conn):
    """Every FederatedNamespace of the host (every multi-cluster project)."""
    return conn.list(v.TYPES_API_VERSION, "FederatedNamespace", if_served=True) or []
