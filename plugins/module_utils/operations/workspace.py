# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The work of the workspace module, in the one shape: READ the host
(read/federation.workspace), CHECK every input (checks/federation.py: the name, the clusters, the typed
confirmation; checks/workspace.py: the manager, clusters still used by projects, projects left in a workspace to
delete; Refused before any write), PLAN (plan/workspace.py), EXECUTE (operations/federation_run.py: the write,
then the wait until KubeSphere and kubefed placed the workspace). A later slice of the same run re-reads and
re-plans: only the wait is left, and the checks are not made again."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import Connection
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import federation as fchecks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import workspace as wchecks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import Refused
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import placement
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import federation_run
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import workspace as workspace_plan
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import federation as read


def run(module, connect=Connection):
    p = module.params
    cluster, conn, ctx = federation_run.host_context(module, connect)
    subject = "workspace %s" % p["name"]
    federation_run.named(subject, "WorkspaceTemplate", p["name"])
    if p["state"] == "absent":
        return delete(module, conn, ctx, subject, cluster)
    state, impl = federation_run.host_version(conn, cluster, subject)
    facts = read.workspace(conn, p["name"], p.get("manager"), state, impl.WORKSPACE_TEMPLATE_API_VERSION)
    if not ctx.slicer.resuming:
        check(module, facts, p, subject, impl, cluster)
    plan = workspace_plan.plan(impl, facts, p, cluster)
    return federation_run.run(module, ctx, plan, lambda values: (workspace_plan.results(facts, values, p),
                                                                 facts["federated_workspace"]),
                              propagated=impl.WORKSPACE_SYNC["propagated"])


def check(module, facts, p, subject, impl, cluster):
    """Every check of state=present (Refused with all of them); the manager unchecked is a warning."""
    problems = fchecks.clusters(subject, p["clusters"], facts["members"])
    problems += wchecks.labels_kept(subject, cluster, p.get("labels"), impl.WORKSPACE_TEMPLATE_KEEPS_LABELS, impl.NAME)
    live = facts["workspace_template"]
    if live is not None:
        problems += wchecks.clusters_in_use(subject, p["clusters"], placement.placement_names(live) or [],
                                            facts["projects"])
    problems += wchecks.manager(subject, p.get("manager"), facts["manager"]["user"], facts["manager"]["served"])
    if problems:
        raise Refused(problems, subject, changed=False)
    if p.get("manager") and not facts["manager"]["served"]:
        module.warn("%s: the host serves no KubeSphere Users (iam.kubesphere.io), so the manager %r was not checked"
                    % (subject, p["manager"]))


def delete(module, conn, ctx, subject, cluster):
    p = module.params
    problems = fchecks.deletion_confirmed(subject, p["name"], p.get("confirm"))
    facts = read.workspace(conn, p["name"])
    problems += wchecks.not_empty(subject, facts["projects"])
    if problems:
        raise Refused(problems, subject, changed=False)
    plan = workspace_plan.deletion(facts, p["name"], cluster)
    if not plan:
        return {"changed": False, "workspace": {}, "plan": []}
    return federation_run.run(module, ctx, plan, lambda _values: ({"workspace": {}}, None), waits=False)
