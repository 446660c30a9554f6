# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The work of the extension module, in the one shape: READ the host (its version
and role; the extension's InstallPlan and the ExtensionVersions it offers, read/extension.py), CHECK every input
(checks/extension.py; Refused before any write), PLAN (plan/extension.py), EXECUTE (execute/executor.py: the write,
then the wait until KubeSphere installed exactly what was asked, or uninstalled it). The InstallPlan's words are the
version's (`impl.EXTENSIONS`; KubeSphere 3.4 has none and is refused). A later slice of the same run re-reads and
re-plans: only the wait is left, and the checks are not made again."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils import versions
from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import Connection
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import extension as checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, Refused
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Executor, diffs_result
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import federation_run
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import extension as extension_plan
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import extension as read


def run(module, connect=Connection):
    p = module.params
    cluster, conn, ctx = federation_run.host_context(module, connect)
    subject = "extension %s" % p["name"]
    federation_run.named(subject, "InstallPlan", p["name"])
    present = p["state"] == "present"
    if not present and not ctx.slicer.resuming:
        problems = checks.uninstall_problems(subject, cluster, p["name"], p.get("confirm"))
        if problems:
            raise Refused(problems, subject, changed=False)
    state = read.host(conn)
    impl = versions.for_state(state)
    problems = versions.extension_problems(impl, cluster)
    if problems:
        raise Refused(problems, subject, changed=False)
    ext = impl.EXTENSIONS
    config = ext.trim_config(p.get("config")) if present else ""
    if config:
        module.hide(config)  # as stored: the option itself is no_log
    facts = read.facts(conn, ext, p["name"], p.get("version") if present else None)
    if not ctx.slicer.resuming:
        problems = checks.host_problems(cluster, cluster_state.role(state), facts["served"])
        if present and not problems:
            problems = checks.install_problems(ext, cluster, subject, facts, p["name"], p["version"], config)
        if problems:
            raise Refused(problems, subject, changed=False)
    if present:
        plan = extension_plan.plan(ext, facts, p, cluster, config)
    else:
        plan = extension_plan.deletion(ext, facts, p, cluster)
    return execute(module, ctx, ext, plan, facts)


def execute(module, ctx, ext, plan, facts):
    """The writes, then the waits; the result shows the InstallPlan as the run leaves it."""
    result = {"changed": False, "plan": steps.public(plan)}
    executor = Executor(ctx, result)
    outcome = executor.run([s for s in plan if s.kind != "wait"])
    executor.raise_failure()
    if getattr(module, "_diff", False):
        result["diff"] = diffs_result(outcome)
    values = ctx.values
    live = facts["plan"]
    for step_id in (extension_plan.PLAN_ID, extension_plan.DELETE_ID):
        if step_id in values:
            live = values[step_id] or None
    if not ctx.check_mode:
        if any(s.kind == "wait" for s in plan):
            # with the carried step again (it returns what it found): a slice's end hands its value over
            outcome = executor.run([s for s in plan if s.kind == "wait" or s.get("carry")])
            for step_id in (extension_plan.WAIT_ID, extension_plan.GONE_ID):
                if step_id in values:
                    live = values[step_id]
            if not outcome.ok:
                error = outcome.failed[1]
                shown = dict(result, **describe(ext, live))
                shown.pop("diff", None)
                raise KubeSphereError(error.reason, cluster=error.cluster, obj=error.obj, code=error.code, **shown)
    result.update(describe(ext, live))
    return result


def describe(ext, live):
    """The result keys: the InstallPlan (config as a fingerprint) and the extension's state, {} when gone."""
    if not live:
        return {"installplan": {}, "extension": {}}
    return {"installplan": extension_plan.shown(live), "extension": ext.summary(live)}
