# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. A clean member, in KubeSphere 3.4.1's words (pure functions).

Facts from KubeSphere 3.4.1 (pkg/controller/cluster/join.go, cluster_controller.go):
- `checkWorkspaces` runs in `createKubeFedCluster` only when the host has no KubeFedCluster
  kube-federation-system/<name> yet (a first join; an existing KubeFedCluster is updated without it). With
  the member's kubeconfig it lists the member's Workspaces (tenant.kubesphere.io/v1alpha1) with the label
  selector `kubefed.io/managed=true`; for each it gets the host's FederatedWorkspace (types.kubefed.io/v1beta1,
  cluster-scoped) of the same name: absent -> no conflict; `spec.placement.clusters` nil (absent or null) ->
  no conflict (the selector is ignored); otherwise the member's name must be one of the placement's cluster
  names, else the join fails with "The workspace <ws> is found in the target member cluster <name>, which is
  conflict with the workspace on host" (an empty list `clusters: []` places no cluster: a conflict).
- A failed join: the controller writes the Cluster's condition Federated False with the error text as its
  REASON and the message "Cluster can not join federation control plane" (and Ready False "Cluster join
  federation control plane failed"), and requeues the Cluster with back-off. Every other error of the join
  is an API/transport error of a read or write on the member or the host, or the 30 s wait for the
  kubefed ServiceAccount's token Secret ("timed out waiting for the condition", or `Key "token" not found`
  while the token controller has not filled it): all go away on a retry by themselves (transient). The
  workspace conflict alone stays until someone changes the member's Workspace or the host's
  FederatedWorkspace: it is the one permanent failure (`join_failure`)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster_health
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.common import get_path
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

WORKSPACE_API_VERSION = "tenant.kubesphere.io/v1alpha1"
WORKSPACE_KIND = "Workspace"
FEDERATED_WORKSPACE_KIND = "FederatedWorkspace"
MANAGED_SELECTOR = "%s=true" % v.KUBEFED_MANAGED_LABEL
SYSTEM_WORKSPACE = "system-workspace"
# the controller's messages
CONFLICT_REASON = re.compile(r"^The workspace (?P<workspace>\S+) is found in the target member cluster "
                             r"(?P<cluster>\S+), which is conflict with the workspace on host$")
FAILED_MESSAGE = "Cluster can not join federation control plane"
# namespaces a KubeSphere 3.4 member has before anyone uses it (Kubernetes', ks-installer's, its components')
SYSTEM_NAMESPACES = ("default", "istio-system", "kubeedge", "openpitrix-system", "argocd")
SYSTEM_PREFIXES = ("kube-", "kubesphere-")


def name_of(obj):
    return get_path(obj or {}, "metadata.name")


def managed(obj):
    """The controller's selector kubefed.io/managed=true (the value exactly "true")."""
    return (get_path(obj or {}, "metadata.labels") or {}).get(v.KUBEFED_MANAGED_LABEL) == "true"


def placement_clusters(federated_workspace):
    """The names in spec.placement.clusters, or None when that list is nil (absent or null)."""
    clusters = get_path(federated_workspace or {}, "spec.placement.clusters")
    if clusters is None:
        return None
    return [c.get("name") for c in clusters if isinstance(c, dict)]


def places(federated_workspace, cluster):
    """containsCluster: a nil cluster list places every cluster (the selector is not looked at)."""
    names = placement_clusters(federated_workspace)
    return names is None or cluster in names


def workspace_conflicts(name, member_workspaces, federated_workspaces, kubefed_cluster):
    """What checkWorkspaces would refuse when joining `name`: [{workspace, placement}] (placement: the
    FederatedWorkspace's cluster names). `member_workspaces`: the member's Workspaces (any labels: this
    function applies the selector); `federated_workspaces`: {name: the host's FederatedWorkspace or None};
    `kubefed_cluster`: the host's KubeFedCluster of `name` (not None: the controller does not check)."""
    if kubefed_cluster:
        return []
    out = []
    for ws in sorted(member_workspaces or [], key=name_of):
        ws_name = name_of(ws)
        if not managed(ws):
            continue
        fed = (federated_workspaces or {}).get(ws_name)
        if fed is None or places(fed, name):
            continue
        out.append({"workspace": ws_name, "placement": placement_clusters(fed)})
    return out


def join_failure(cluster):
    """The permanent join failure the Cluster reports, or None: {code, workspace, reason, message} when its
    Federated condition is False with the workspace conflict as reason. Any other Federated False (an API,
    transport or token-wait error) is transient: the controller retries it."""
    cond = cluster_health.condition(cluster, "Federated") or {}
    if cond.get("status") != "False":
        return None
    reason = (cond.get("reason") or "").strip()
    found = CONFLICT_REASON.match(reason)
    if not found:
        return None
    return {"code": "workspace_conflict", "workspace": found.group("workspace"), "reason": reason,
            "message": cond.get("message") or ""}


def user_namespaces(namespaces):
    """The names of namespaces that neither Kubernetes nor KubeSphere made (sorted): not kube-*,
    kubesphere-*, default or a component's, not in ks-installer's system-workspace, not being deleted."""
    out = []
    for ns in namespaces or []:
        name = name_of(ns)
        labels = get_path(ns, "metadata.labels") or {}
        if not name or name in SYSTEM_NAMESPACES or name.startswith(SYSTEM_PREFIXES):
            continue
        if labels.get(v.WORKSPACE_LABEL) == SYSTEM_WORKSPACE or get_path(ns, "metadata.deletionTimestamp"):
            continue
        out.append(name)
    return sorted(out)


def made_locally(namespaces, workspaces):
    """{namespaces, workspaces}: the names of a user's namespaces and workspaces on a cluster that kubefed does
    not manage (no kubefed.io/managed=true label): on a joined member, what was made on its own console or
    with its own credentials, which the host never shows."""
    unmanaged_ns = [ns for ns in namespaces or [] if not managed(ns)]
    unmanaged_ws = [ws for ws in workspaces or [] if not managed(ws)]
    return {"namespaces": user_namespaces(unmanaged_ns), "workspaces": user_workspaces(unmanaged_ws)}


def user_workspaces(workspaces):
    """The names of the member's workspaces other than ks-installer's system-workspace (sorted)."""
    return sorted(n for n in (name_of(w) for w in workspaces or []) if n and n != SYSTEM_WORKSPACE)
