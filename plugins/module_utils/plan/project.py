# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The plans of federated_project (pure): from what read/federation.project
(or project_deletion) read and the module's parameters (a plain dict) to plan/steps.py steps.

state=present, in order: the workspace's placement (workspace_placement: create the WorkspaceTemplate or add the
project's clusters to it), the host Namespace (shared with KubeSphere's controllers: created, or the missing
labels merged in; never taken over), the FederatedNamespace (owned whole: server-side apply when its comparable
form differs), then (wait: true) the propagation wait. state=absent: delete the host Namespace (the
FederatedNamespace and every federated object in it go with it). A converged project plans nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import placement
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import propagation
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

WORKSPACE_ID = "workspace-template"
NAMESPACE_ID = "host-namespace"
FEDERATED_ID = "federated-namespace"
DELETE_ID = "delete-namespace"


def annotations(p):
    out = {}
    if p.get("alias_name"):
        out[v.ALIAS_ANNOTATION] = p["alias_name"]
    if p.get("description"):
        out[v.DESCRIPTION_ANNOTATION] = p["description"]
    return out


def settings(p):
    """The per-cluster settings of a project: {cluster: {"overrides": [...]}} from the `overrides` option."""
    return {c: {"overrides": items} for c, items in (p.get("overrides") or {}).items()}


def federated_namespace(impl, p):
    """The FederatedNamespace the parameters describe (the settings of placed clusters only)."""
    placed = {c: s for c, s in settings(p).items() if c in p["clusters"]}
    return impl.project_federated_namespace(p["name"], p["workspace"], p["clusters"], labels=p.get("labels"),
                                            annotations=annotations(p) or None, settings=placed)


def plan(impl, facts, p, desired, cluster):
    """The steps of state=present. `facts`: read/federation.project; `desired`: federated_namespace(p);
    `cluster`: the host's name in messages."""
    out = []
    if p["workspace_placement"]:
        out += workspace_steps(impl, facts["workspace_template"], p["workspace"], p["clusters"], cluster)
    out += namespace_steps(impl, facts["namespace"], p, cluster)
    live = facts["federated_namespace"]
    if federated.comparable(live) != federated.comparable(desired):
        out.append(steps.apply(FEDERATED_ID, "host", cluster, desired, before=live, show=federated.comparable,
                               dry_run=facts["namespace"] is not None,
                               why="the FederatedNamespace differs from the parameters (owned whole)"))
    if p.get("wait") and (out or not propagation.settled(live, p["clusters"])):
        out.append(propagation.wait(cluster, v.TYPES_API_VERSION, "FederatedNamespace", p["name"], p["name"],
                                    p["clusters"], p["wait_timeout"]))
    return out


def workspace_steps(impl, wt, workspace, clusters, cluster):
    if wt is None:
        return [steps.create(WORKSPACE_ID, "host", cluster, impl.workspace_template(workspace, clusters),
                             show=federated.comparable, why="the workspace has no WorkspaceTemplate")]
    have = sorted(placement.placement_names(wt) or [])
    wanted = sorted(set(have) | set(clusters))
    if wanted == have:
        return []
    return [steps.patch(WORKSPACE_ID, "host", cluster, impl.WORKSPACE_TEMPLATE_API_VERSION, v.WORKSPACE_TEMPLATE_KIND, workspace,
                        {"spec": {"placement": placement.placement(wanted)}}, before=wt,
                        show=lambda o: {"placement": placement.placement_names(o)},
                        why="the workspace is not placed on every cluster of the project")]


def _labels(obj):
    return (obj.get("metadata") or {}).get("labels") or {}


def namespace_steps(impl, live, p, cluster):
    desired = impl.project_host_namespace(p["name"], p["workspace"], p.get("labels"))
    wanted = desired["metadata"]["labels"]
    if live is None:
        return [steps.create(NAMESPACE_ID, "host", cluster, desired,
                             show=lambda o: {"metadata": {"labels": {k: _labels(o).get(k) for k in wanted}}},
                             why="the project's host Namespace does not exist")]
    labels = _labels(live)
    missing = {k: val for k, val in wanted.items() if labels.get(k) != val}
    if not missing:
        return []
    return [steps.patch(NAMESPACE_ID, "host", cluster, "v1", "Namespace", p["name"], {"metadata": {"labels": missing}},
                        before=live, show=lambda o: {"metadata": {"labels": _labels(o)}},
                        why="the host Namespace lacks labels of the project")]


def deletion(facts, name, cluster):
    """The steps of state=absent: delete the host Namespace (nothing when it is gone)."""
    if facts["namespace"] is None:
        return []
    return [steps.delete(DELETE_ID, "host", cluster, "v1", "Namespace", name, before=facts["namespace"],
                         show=lambda _o: {"metadata": {"name": name}},
                         why="state: absent (the FederatedNamespace and its federated objects go with it)")]


def results(facts, values, p):
    """The result keys of state=present from the read and the values of the steps run."""
    fed = values[FEDERATED_ID] if FEDERATED_ID in values else facts["federated_namespace"]
    namespace = values[NAMESPACE_ID] if NAMESPACE_ID in values else facts["namespace"]
    return {"result": federated.normalize_federated(fed), "namespace": namespace,
            "clusters": sorted(set(p["clusters"]))}
