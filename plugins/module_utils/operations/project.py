# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The work of the federated_project module, in the one shape: READ the host
(read/federation.py), CHECK every input (checks/federation.py; Refused before any write), PLAN
(plan/project.py), EXECUTE (operations/federation_run.py: the writes, then the propagation wait).

A later slice of the same run (the action plugin, wait: true) re-reads and re-plans: the writes are done, so
only the wait is left; it does not make the checks again (they held before the writes: a placed member that
goes offline while kubefed propagates is a failed wait, not a refusal)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import Connection
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import federation as fchecks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import Refused
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import placement
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import federation_run
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import project as project_plan
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import federation as read
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

# The project's member namespaces, for the adoption check (read/adoption.py)
NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "namespaced": False}


def run(module, connect=Connection):
    p = module.params
    cluster, conn, ctx = federation_run.host_context(module, connect)
    subject = "project %s" % p["name"]
    federation_run.named(subject, "Namespace", p["name"])
    if p["state"] == "absent":
        return delete(module, conn, ctx, subject, cluster)
    state, impl = federation_run.host_version(conn, cluster, subject)
    facts = read.project(conn, p["name"], p["workspace"], state, impl.WORKSPACE_TEMPLATE_API_VERSION)
    if ctx.slicer.resuming:
        desired = project_plan.federated_namespace(impl, p)
    else:
        desired = check(impl, facts, p, subject)
        warn_missing_workspace(module, conn, facts, p, subject)
    adopting = federation_run.adoption(module, ctx, conn, connect, subject, p["clusters"], NAMESPACE, p["name"],
                                       None, facts["federated_namespace"], skip_host=True)
    plan = project_plan.plan(impl, facts, p, desired, cluster)

    def compose(values):
        keys = project_plan.results(facts, values, p)
        keys.update(adopting)
        fed = values.get(project_plan.FEDERATED_ID, facts["federated_namespace"])
        return keys, fed
    return federation_run.run(module, ctx, plan, compose)


def check(impl, facts, p, subject):
    """Every check of state=present; returns the FederatedNamespace to write or raises Refused."""
    problems = fchecks.namespace_not_deleted(subject, facts["namespace"])
    problems += fchecks.clusters(subject, p["clusters"], facts["members"])
    wt = facts["workspace_template"]
    if p.get("workspace_clusters") is not None and not p["workspace_placement"]:  # the workspace this run leaves
        problems += fchecks.workspace_clusters(subject, p["clusters"], p["workspace_clusters"])
    elif wt is not None and not p["workspace_placement"]:
        problems += fchecks.workspace_clusters(subject, p["clusters"], placement.placement_names(wt) or [])
    problems += fchecks.project_settings(subject, p["clusters"], project_plan.settings(p))
    if problems:
        raise Refused(problems, subject, changed=False)
    desired = project_plan.federated_namespace(impl, p)
    problems = fchecks.overrides(subject, desired, impl.NAMESPACE_TARGET)
    if problems:
        raise Refused(problems, subject, changed=False)
    return desired


def warn_missing_workspace(module, conn, facts, p, subject):
    """A project names a workspace the host does not have (and this run does not make): KubeSphere's console
    then shows it in no workspace. A warning, not a refusal: kubefed federates it all the same."""
    if facts["workspace_template"] is not None or p["workspace_placement"] or p.get("workspace_clusters") is not None:
        return
    if read.served(conn, v.TENANT_API_VERSION, v.WORKSPACE_TEMPLATE_KIND):
        module.warn("%s: its workspace %r does not exist on the host (no WorkspaceTemplate), so KubeSphere's console "
                    "shows the project in no workspace; create the workspace first (kubesphere_workspaces, module "
                    "kubesphere.multicluster.workspace) or set workspace_placement" % (subject, p["workspace"]))


def delete(module, conn, ctx, subject, cluster):
    p = module.params
    name = p["name"]
    problems = fchecks.deletion_confirmed(subject, name, p.get("confirm"))
    if problems:
        raise Refused(problems, subject, changed=False)
    facts = read.project_deletion(conn, name)
    plan = project_plan.deletion(facts, name, cluster)
    if not plan:
        return {"changed": False, "deleted": {}, "result": {}, "namespace": None, "plan": []}
    deleted = {}
    if facts["federated_namespace"] is not None:
        deleted = federated.project_deletion(name, facts["federated_namespace"], facts["federated_objects"],
                                             facts["kubefed_clusters"])
    fed_diff = {"before_header": "FederatedNamespace %s/%s" % (name, name),
                "after_header": "FederatedNamespace %s/%s" % (name, name),
                "before": federated.comparable(facts["federated_namespace"]) or {}, "after": {}}
    result = federation_run.run(module, ctx, plan, lambda _values: ({"deleted": deleted, "result": {},
                                                                     "namespace": None}, None),
                                extra_diffs=[fed_diff], waits=False)
    return result
