# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. How federated_project and federated_resource run their plans: the writes
(execute/executor.py), the result composed from what they wrote, then the propagation wait (plan/propagation.py).

The result is composed before the wait, so a wait that reaches the end of its time slice returns it
(with `pending`) and the action plugin keeps it for the final result; a wait that times out fails with the
result and kubefed's propagation, as before."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils import versions
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import adoption as adoption_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import federation as fchecks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, Refused
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Context, Executor, diffs_result
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import drift
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import placement
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import propagation
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import adoption as adoption_read
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import federation as read


def host_context(module, connect):
    """(the host's name in messages, its connection, the executor's context) of a module that writes on the host."""
    p = module.params
    cluster = p.get("cluster_name") or "host"
    conn = connect(module, cluster, timeout=p.get("timeout"))
    return cluster, conn, Context(module, {"host": conn})


def named(subject, kind, name):
    """Refused (nothing written) when `name` is not a valid name for the kind."""
    problems = fchecks.name(subject, kind, name)
    if problems:
        raise Refused(problems, subject, changed=False)


def host_version(conn, cluster, subject):
    """(the host's state, its version's implementation); Refused (nothing written) on a version whose multi-cluster
    projects and workspaces the collection does not write."""
    state = read.host(conn)
    impl = versions.for_state(state)
    problems = versions.federation_problems(impl, cluster, state)
    if problems:
        raise Refused(problems, subject, changed=False)
    return state, impl


def run(module, ctx, plan, compose, shown=None, extra_diffs=(), waits=True, propagated=True):
    """Run `plan`; `compose(values)` -> (result keys, the federated object after the writes). Returns the
    result (changed, plan, the composed keys, diff with --diff, propagation with wait) or raises.
    `waits`: False for the plans that never wait (deletions); `propagated`: False when kubefed does not propagate
    the object (a 4.1 workspace: no `propagation` key)."""
    shown = shown or (lambda obj: obj)
    result = {"changed": False, "plan": steps.public(plan)}
    executor = Executor(ctx, result)
    outcome = executor.run([s for s in plan if s.kind != "wait"])
    executor.raise_failure()
    keys, fed_obj = compose(ctx.values)
    result.update(keys)
    if getattr(module, "_diff", False):
        result["diff"] = diffs_result(outcome, many=True) + [d for d in extra_diffs if d]
    if not waits or not module.params.get("wait") or ctx.check_mode:
        return result
    waits = [s for s in plan if s.kind == "wait"]
    if waits:
        outcome = executor.run(waits)
        fed_obj = propagation.last(ctx.values)
        result["result"] = shown(federated.normalize_federated(fed_obj))
    if propagated:
        result["propagation"] = drift.propagation(fed_obj or {})
    if not outcome.ok:
        error = outcome.failed[1]
        shown_result = {k: val for k, val in result.items() if k != "diff"}
        raise KubeSphereError(error.reason, cluster=error.cluster, obj=error.obj, code=error.code, **shown_result)
    return result


def adoption(module, ctx, host, connect, subject, clusters, target, name, namespace, live, skip_host=False):
    """Before the first write: what the run would adopt on the clusters its placement adds (read/adoption.py).
    Raises Refused (would_adopt unless the `adopt` option, managed_label_false always); returns the result
    keys {adopted: [{cluster, kind, namespace, name}], adoption_unchecked: [{cluster, reason}]} and warns
    about the clusters that could not be read. Only the clusters the federated object `live` (None: not made
    yet) does not place already are read: kubefed propagates to the others, so what is there is its own (a
    converged rerun reaches no member). A later slice of the run (resuming) reads nothing: its writes are done."""
    if ctx.slicer.resuming:
        return {}
    p = module.params
    already = set(placement.placement_names(live) or []) if live else set()
    found = adoption_read.facts(module, host, connect, [c for c in clusters or [] if c not in already], target,
                                name, namespace, skip_host=skip_host, timeout=p.get("timeout"),
                                connections=p.get("member_connections"))
    problems = adoption_checks.would_adopt(subject, found, p.get("adopt"))
    if problems:
        raise Refused(problems, subject, changed=False)
    keys = {"adopted": adoption_checks.adopted(found)}
    not_read = adoption_checks.unchecked(found)
    if not_read:
        keys["adoption_unchecked"] = not_read
        for row in not_read:
            ctx.warn("%s: whether kubefed would adopt an existing object on cluster %r was not checked: %s"
                     % (subject, row["cluster"], row["reason"]))
    return keys
