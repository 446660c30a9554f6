# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The checks of the workspace module that are not shared with projects
(checks/federation.py has the name, the clusters and the typed confirmation). Pure: facts in, problems out.

- `manager`: the workspace's manager must be a KubeSphere User on the host (KubeSphere's workspace controller
  binds the manager to the workspace's admin role by name; a name that is no User leaves the workspace without
  an administrator);
- `clusters_in_use`: a cluster leaves a workspace only when no project of the workspace is placed on it (kubefed
  would delete the member's Workspace under the project's namespace);
- `labels_kept`: labels only where the version's WorkspaceTemplate keeps them (KubeSphere 3.4's CRD prunes
  spec.template.metadata.labels: written, they would vanish, and every run would write them again);
- `not_empty`: a workspace is deleted only when it holds no project (KubeSphere's controller would delete the
  projects' namespaces with it, on the host and on every member)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem


def manager(subject, name, user, users_served):
    """`user`: the host's User named `name` (None when absent); `users_served`: whether the host serves Users
    at all (False: not checked, the caller warns)."""
    if not name or not users_served or user is not None:
        return []
    return [problem("manager_not_found", None, "%s: the manager %r is no KubeSphere user on the host; create the "
                    "user first, or name an existing one" % (subject, name))]


def clusters_in_use(subject, wanted, placed_now, projects):
    """`projects`: [{name, clusters}] of the workspace's projects (their FederatedNamespace placement)."""
    out = []
    for cluster in sorted(set(placed_now or []) - set(wanted or [])):
        users = sorted(p["name"] for p in projects or [] if cluster in (p.get("clusters") or []))
        if users:
            out.append(problem("workspace_in_use", cluster, "cluster %r: %s: projects of the workspace are placed "
                               "on this cluster (%s); remove the cluster from them first, or keep it in the "
                               "workspace" % (cluster, subject, ", ".join(users))))
    return out


def labels_kept(subject, cluster, labels, kept, version_name):
    """`kept`: whether the version's WorkspaceTemplate keeps spec.template.metadata.labels."""
    if not labels or kept:
        return []
    return [problem("workspace_labels_dropped", cluster, "cluster %r: %s: %s cannot keep labels of a workspace: its "
                    "WorkspaceTemplate schema declares spec.template.metadata with no fields, so the API server drops "
                    "spec.template.metadata.labels on every write and KubeSphere copies no label to the Workspace; "
                    "remove labels (%s) from the workspace's parameters"
                    % (cluster, subject, version_name, ", ".join(sorted(labels))))]


def not_empty(subject, projects):
    names = sorted(p["name"] for p in projects or [])
    if not names:
        return []
    return [problem("workspace_not_empty", None, "%s: the workspace still holds projects (%s); delete them first "
                    "(kubesphere_projects_absent): deleting the workspace would delete their namespaces on the host "
                    "and on every member" % (subject, ", ".join(names)))]
