# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The plans of the workspace module (pure): from what read/federation.workspace
read and the module's parameters to plan/steps.py steps.

A workspace is KubeSphere's WorkspaceTemplate on the host: its manager (spec.template.spec.manager), its labels
(spec.template.metadata.labels), its alias and description (annotations) and the clusters it spans
(spec.placement.clusters, exactly the inventory's). KubeSphere's workspacetemplate controller makes the
FederatedWorkspace of it and kubefed the Workspace on each placed member; the collection never writes those
(KubeSphere overwrites a direct edit). state=present: create the WorkspaceTemplate, or merge-patch what differs;
then (wait: true) wait until KubeSphere's FederatedWorkspace has the same placement and kubefed propagated it.
state=absent: delete the WorkspaceTemplate (KubeSphere's finalizer removes the rest). A converged workspace
plans nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, describe
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import placement
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import project as project_plan
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import propagation
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

TEMPLATE_ID = "workspace-template"
DELETE_ID = "delete-workspace-template"
WAIT_ID = "wait-workspace-propagated"
SLEEP = 2


annotations = project_plan.annotations  # alias_name and description, as a project's


def shown(obj):
    """What decides `changed` and what the diff shows of a WorkspaceTemplate: the fields the module owns."""
    if not obj:
        return {}
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    template = spec.get("template") or {}
    return {"metadata": {"name": meta.get("name"),
                         "annotations": {k: val for k, val in (meta.get("annotations") or {}).items()
                                         if k in (v.ALIAS_ANNOTATION, v.DESCRIPTION_ANNOTATION)}},
            "spec": {"manager": (template.get("spec") or {}).get("manager"),
                     "labels": dict((template.get("metadata") or {}).get("labels") or {}),
                     "clusters": sorted(placement.placement_names(obj) or [])}}


def differences(live, p):
    """The merge patch that makes `live` what the parameters say ({} when converged). Annotations and labels the
    parameters do not name are kept (KubeSphere adds its own); the placement is the clusters, exactly."""
    have = shown(live)
    out = {}
    wanted_annotations = annotations(p)
    changed = {k: val for k, val in wanted_annotations.items() if have["metadata"]["annotations"].get(k) != val}
    if changed:
        out["metadata"] = {"annotations": changed}
    spec = {}
    if sorted(set(p["clusters"])) != have["spec"]["clusters"]:
        spec["placement"] = placement.placement(p["clusters"])
    template = {}
    if p.get("manager") and have["spec"]["manager"] != p["manager"]:
        template["spec"] = {"manager": p["manager"]}
    labels = {k: val for k, val in (p.get("labels") or {}).items() if have["spec"]["labels"].get(k) != val}
    if labels:
        template["metadata"] = {"labels": labels}
    if template:
        spec["template"] = template
    if spec:
        out["spec"] = spec
    return out


def settled(fed_workspace, clusters):
    """KubeSphere's FederatedWorkspace has the wanted placement and kubefed propagated it to every cluster (3.4)."""
    if not fed_workspace or sorted(placement.placement_names(fed_workspace) or []) != sorted(set(clusters)):
        return False
    return propagation.settled(fed_workspace, clusters)


def federated_state(obj, clusters):
    """(done, what it shows) of 3.4's FederatedWorkspace `obj` (None: not made yet) for `clusters` (sorted)."""
    if obj is None:
        return False, "KubeSphere has not made the FederatedWorkspace yet"
    if sorted(placement.placement_names(obj) or []) != clusters:
        return False, "KubeSphere has not copied the placement yet (placed: %s)" % (
            ", ".join(placement.placement_names(obj) or []) or "none")
    return settled(obj, clusters), propagation.state(obj)


def plan(impl, facts, p, cluster):
    """The steps of state=present. `facts`: read/federation.workspace."""
    live = facts["workspace_template"]
    out = []
    if live is None:
        body = impl.workspace_template(p["name"], p["clusters"], manager=p.get("manager"), labels=p.get("labels"),
                                       annotations=annotations(p) or None)
        out.append(steps.create(TEMPLATE_ID, "host", cluster, body, show=shown,
                                why="the workspace has no WorkspaceTemplate"))
    else:
        patch = differences(live, p)
        if patch:
            out.append(steps.patch(TEMPLATE_ID, "host", cluster, impl.WORKSPACE_TEMPLATE_API_VERSION, v.WORKSPACE_TEMPLATE_KIND,
                                   p["name"], patch, before=live, show=shown,
                                   why="the WorkspaceTemplate differs from the parameters"))
    sync = impl.WORKSPACE_SYNC
    if p.get("wait") and (out or not sync["state"](facts[sync["fact"]], sorted(set(p["clusters"])))[0]):
        out.append(wait(impl, cluster, p["name"], p["clusters"], p["wait_timeout"]))
    return out


def wait(impl, cluster, name, clusters, timeout):
    """Until the version's record of the workspace's sync says done (impl.WORKSPACE_SYNC: 3.4's FederatedWorkspace
    propagated by kubefed; 4.1's WorkspaceTemplate taken by KubeSphere's controller, which writes each member's
    Workspace itself)."""
    clusters = sorted(set(clusters))
    sync = impl.WORKSPACE_SYNC
    obj_text = describe(sync["kind"], name)

    def poll(ctx):
        obj = ctx.conn("host").get(sync["api_version"], sync["kind"], name)
        ctx.values[propagation.WAIT_ID + ".last"] = obj  # where federation_run reads the wait's last object
        done, state = sync["state"](obj, clusters)
        return done, state, obj

    def fail(ctx, state):
        return KubeSphereError("the workspace did not reach its clusters within %d s: %s (%s)"
                               % (timeout, state, sync["how"]), cluster=cluster, obj=obj_text, code="timeout")

    return steps.wait(WAIT_ID, "host", cluster, obj_text, sync["what"] % (", ".join(clusters) or "no cluster"),
                      poll, timeout, sleep=SLEEP, fail=fail, why="wait: true")


def deletion(facts, name, cluster):
    if facts["workspace_template"] is None:
        return []
    return [steps.delete(DELETE_ID, "host", cluster, v.TENANT_API_VERSION, v.WORKSPACE_TEMPLATE_KIND, name,
                         before=facts["workspace_template"], show=shown,
                         why="state: absent (KubeSphere removes the FederatedWorkspace, kubefed the members' "
                             "Workspaces)")]


def results(facts, values, p):
    """The result keys of state=present (federation_run adds `result` and `propagation` after a wait)."""
    live = values[TEMPLATE_ID] if TEMPLATE_ID in values else facts["workspace_template"]
    return {"workspace": shown(live), "clusters": sorted(set(p["clusters"]))}
