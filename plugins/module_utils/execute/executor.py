# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The one executor: runs a plan's steps (plan/steps.py) in order.

It owns what every operation shares:
- check mode: writes go as server-side dry runs (or are predicted when the step says it cannot be dry-run),
  acts that write are skipped, waits are not awaited; verifications run;
- `changed` and the diff of every write (masked at the step's secret paths, or by the step's `show`);
- waiting: one loop for every wait step, read errors retried until the time is up, one timeout message;
- progress and resume: run by the action plugin, a wait stops at the end of its slice (execute/slicing.py)
  and the run returns `pending`; the next slice finds the same wait by its step id and counts the time
  already waited. Values of steps marked `carry` travel with it;
- failure: the first failing step stops the plan; steps marked `always` (restores) still run; `Outcome`
  says what was done, what failed and what was skipped.

A later slice re-reads and re-plans: what an earlier slice wrote is then no longer in the plan (the
operation's read finds it done), so the executor never has to skip steps by itself."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.slicing import Slicer, WaitPending
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan.steps import WRITES


class Context:
    """What a step's functions get: the connections by side, the values of the steps run so far (by id),
    check mode, and the module (to hide secrets and warn)."""

    def __init__(self, module, connections, slicer=None, values=None):
        self.module = module
        self.connections = dict(connections)
        self.slicer = slicer or Slicer(getattr(module, "params", {}) or {})
        self.check_mode = bool(getattr(module, "check_mode", False))
        self.values = dict(self.slicer.resume.get("carry") or {})
        self.values.update(values or {})
        self.repairs = []  # what a wait's poll had to write to get unstuck (see repaired)

    def conn(self, side):
        conn = self.connections.get(side)
        if conn is None:
            raise KubeSphereError("no connection to the %s was given" % side, code="no_connection")
        return conn

    def hide(self, *secrets):
        hide = getattr(self.module, "hide", None)
        if hide is not None:
            hide(*secrets)

    def warn(self, text):
        self.module.warn(text)

    def repaired(self, text):
        """A poll wrote to get a stuck wait going (a known upstream defect's way out): it is warned about, and
        the executor reports the run changed, with `repaired` in the result, like a write of the plan."""
        self.repairs.append(text)
        self.warn(text)


class Outcome:
    def __init__(self):
        self.done, self.skipped, self.predicted = [], [], []
        self.failures = []  # (step, KubeSphereError): the first stops the plan; an `always` step may add one
        self.changed = False
        self.diffs = []  # (step id, {before, after, before_header, after_header})

    @property
    def failed(self):
        return self.failures[0] if self.failures else None

    @property
    def ok(self):
        return not self.failures

    def diff_of(self, step_id):
        return next((d for i, d in self.diffs if i == step_id), None)

    def summary(self):
        out = {"done": list(self.done), "skipped": list(self.skipped)}
        if self.predicted:
            out["predicted"] = list(self.predicted)
        out["failed"] = [{"step": step.id, "error": error.msg} for step, error in self.failures]
        return out


class Executor:
    def __init__(self, context, result=None, sleep=time.sleep):
        self.ctx = context
        self.result = result if result is not None else {}
        self.sleep = sleep
        self.outcome = Outcome()
        # a later slice of the same run: what the earlier slices did counts as done in this run's report
        self.outcome.done = list(context.slicer.resume.get("done") or [])

    # --- the plan -------------------------------------------------------------------------------------

    def run(self, steps):
        """Run `steps`; returns the Outcome (never raises a step's failure: see raise_failure). A wait that
        reaches the end of its slice raises WaitPending with the result so far."""
        steps = list(steps)
        self.result.setdefault("changed", False)
        for step in steps:
            if self.outcome.failed is not None and not step.get("always"):
                self.outcome.skipped.append(step.id)
                continue
            try:
                self.ctx.values[step.id] = self.step(step)
            except WaitPending as pending:
                pending.pending["resume"]["carry"] = self.carried(steps)
                pending.pending["resume"]["done"] = list(self.outcome.done)
                pending.result = self.result
                raise
            except KubeSphereError as e:
                self.outcome.failures.append((step, e))
                continue
        return self.outcome

    def raise_failure(self, prefix=None, code=None, **result):
        """Raise the first failure again, its message led by `prefix` and followed by what was skipped
        (`code`: the code of that message; the failing step's own by default)."""
        if not self.outcome.failures:
            return
        step, error = self.outcome.failures[0]
        if prefix is None:
            raise error
        later = ["also failed: step '%s': %s" % (s.id, e.msg) for s, e in self.outcome.failures[1:]]
        reason = "%s at step '%s': %s; %sskipped: %s; done: %s" % (
            prefix, step.id, error.msg, "".join(t + "; " for t in later), ", ".join(self.outcome.skipped) or "nothing",
            ", ".join(self.outcome.done) or "nothing")
        extra = dict(error.result)
        extra.update(result)
        raise KubeSphereError(reason, cluster=step.get("cluster"), code=code or error.code or "failed", **extra)

    def carried(self, steps):
        return {s.id: self.ctx.values[s.id] for s in steps if s.get("carry") and s.id in self.ctx.values}

    # --- one step -------------------------------------------------------------------------------------

    def step(self, step):
        kind = step.kind
        if kind in WRITES:
            value = self.write(step)
        elif kind == "wait":
            if self.ctx.check_mode:
                self.outcome.predicted.append(step.id)
                return None
            value = self.wait(step)
        elif kind == "act":
            if self.ctx.check_mode and step.get("writes", True):
                self.outcome.predicted.append(step.id)
                return None
            value = step["run"](self.ctx)
            if step.get("writes", True):
                self.changed()
        elif kind == "verify":
            value = step["run"](self.ctx)
        else:
            raise KubeSphereError("unknown step kind %r" % kind, code="internal")
        self.outcome.done.append(step.id)
        return value

    def changed(self):
        self.outcome.changed = True
        self.result["changed"] = True

    def resolve(self, value):
        return value(self.ctx.values) if callable(value) else value

    def write(self, step):
        conn = self.ctx.conn(step["side"])
        check = self.ctx.check_mode
        kind = step.kind
        predicted = check and step.get("dry_run") is False
        if kind == "create":
            body = self.resolve(step["body"])
            after = body if predicted else conn.create(body, dry_run=check)
        elif kind == "apply":
            body = self.resolve(step["body"])
            after = body if predicted else conn.apply(body, dry_run=check)
        elif kind == "patch":
            body = self.resolve(step["patch"])
            if predicted:
                after = objects.merge(step.get("before") or {}, body)
            else:
                after = conn.merge_patch(step["api_version"], step["object_kind"], step["name"], body,
                                         step.get("namespace"), dry_run=check)
            if after is None:
                if step.get("missing_ok"):  # gone meanwhile: nothing to patch, the step is done
                    return None
                raise conn.error("is gone: nothing to patch", obj=step["object"], code="not_found")
        else:  # delete
            if not predicted:
                conn.delete(step["api_version"], step["object_kind"], step["name"], step.get("namespace"),
                            dry_run=check)
            after = {}
        if predicted:
            self.outcome.predicted.append(step.id)
        self.changed()
        self.outcome.diffs.append((step.id, self.diff(step, step.get("before"), after)))
        return after

    def diff(self, step, before, after):
        show = step.get("show")
        if show is not None:
            b, a = (show(before) if before else {}), (show(after) if after else {})
        else:
            paths = step.get("secret_paths") or ()
            b = objects.mask(objects.normalize(before), paths) if before else {}
            a = objects.mask(objects.normalize(after), paths) if after else {}
        header = step.get("object") or step.id
        return {"before_header": header, "after_header": header, "before": b, "after": a}

    def note_repairs(self):
        if self.ctx.repairs:
            self.changed()
            self.result["repaired"] = list(self.ctx.repairs)

    def wait(self, step):
        """Poll until done; read errors are retried until the time is up (the last one is the state), unless
        the step says retry_errors=False or the error is marked `final` (its poll raises to fail at once). `condition` (optional) is how
        progress lines name the wait, else "<object> is <what>"."""
        condition = step.get("condition") or "%s is %s" % (step.get("object") or step.id, step["what"])
        wait = self.ctx.slicer.wait(step.get("cluster"), condition, step["timeout"], key=step.id)
        conn = self.ctx.connections.get(step.get("side"))
        state = "nothing read yet"
        while True:
            if conn is not None and hasattr(conn, "new_bound"):
                conn.new_bound()  # the connection's timeout bounds each poll, not the whole wait
            try:
                done, state, value = step["poll"](self.ctx)
                self.note_repairs()
                if done:
                    return value
            except KubeSphereError as e:
                if step.get("retry_errors", True) is False or getattr(e, "final", False):
                    raise
                state = e.msg
            if wait.spent():
                break
            last = state
            wait.check(lambda: last)
            self.sleep(wait.nap(step.get("sleep") or 5))
        fail = step.get("fail")
        error = fail(self.ctx, state) if fail is not None else None
        raise error or KubeSphereError("not %s within %s s: %s" % (step["what"], step["timeout"], state),
                                       cluster=step.get("cluster"), obj=step.get("object"), code="timeout")


def diffs_result(outcome, many=False):
    """The `diff` return value: the one diff of a run that made one write, or the list (`many`)."""
    found = [d for _i, d in outcome.diffs]
    if many:
        return found
    return found[0] if len(found) == 1 else found
