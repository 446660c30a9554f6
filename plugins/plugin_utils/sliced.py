# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of the action plugins of the modules that wait (member, multicluster_role): they run the
module in time slices and print, between two slices, one progress line per host at the default
verbosity, since a module cannot print on the controller while it runs.

The module side is plugins/module_utils/execute/slicing.py: given the internal option `_wait_slice`
({seconds, resume}) its waits stop at the end of the slice and it returns its result with `pending`
({cluster, condition, state, elapsed, timeout, resume}). Every slice runs the whole module again: it
finds nothing left to write (it is idempotent) and goes on waiting where the previous slice stopped
(`resume`). merge() makes of the slices' results the result one run gives.

Each slice runs through plugins/plugin_utils/in_process.py: in the worker process where the connection is
local (the plugin imports the module's `main` at its top and names it in MAIN), else as a module process."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.kubesphere.multicluster.plugins.plugin_utils import in_process

display = Display()

OPTION = "_wait_slice"  # plugins/module_utils/execute/slicing.py OPTION
INTERVAL_VAR = "kubesphere_progress_interval"
DEFAULT_INTERVAL = 20
# a wait is bounded by its wait_timeout; the module waits at most a few times in a row (three for a proxy
# member): past this many times the longest wait_timeout seen, something restarts its waits
RUNAWAY_FACTOR = 4


def interval(value):
    """The slice length from the variable kubesphere_progress_interval: seconds, 0 (or less) for none."""
    if value is None or value == "":
        return DEFAULT_INTERVAL
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise AnsibleError("%s must be a number of seconds, got %r" % (INTERVAL_VAR, value))
    return seconds if seconds > 0 else 0


def slice_args(args, seconds, resume):
    """The module's arguments for one slice (a user's own _wait_slice is dropped)."""
    out = {k: v for k, v in args.items() if k != OPTION}
    if seconds:
        out[OPTION] = {"seconds": seconds, "resume": resume or {}}
    return out


def carry_over(pending, call_seconds):
    """What the next slice gets: the module's `resume`, its wait's time plus what the call took outside the
    module's run (sending the module, starting Python, returning), so wait_timeout stays wall time."""
    resume = dict(pending.get("resume") or {})
    if "elapsed" in resume:
        outside = max(0.0, call_seconds - float(pending.get("ran") or call_seconds))
        resume["elapsed"] = round(float(resume["elapsed"]) + outside, 1)
    return resume


def progress_line(pending, hidden=False):
    """One line on a wait not over yet, e.g. "member2: waiting until Cluster member2 is healthy (...)
    (KubeFedCluster member2 Offline), 40 s of 600 s". With no_log only the times are shown."""
    times = "%d s of %s s" % (int(pending.get("elapsed") or 0), pending.get("timeout"))
    if hidden:
        return "waiting (details hidden by no_log), %s" % times
    state = pending.get("state")
    return "%s: waiting until %s%s, %s" % (pending.get("cluster"), pending.get("condition"),
                                           " (now: %s)" % state if state else "", times)


def merge(results, write_keys=("diff",)):
    """The result one run gives, from the results of its slices (in order): every key any slice returned,
    the later slice's value where two did (a later slice re-reads and re-plans, so it returns only what it
    did or saw itself: a value an earlier slice alone had, such as the dedicated credential of the slice
    that made it, is kept); `changed` if any slice changed something; the `write_keys` (diff and the like)
    from the first slice that changed something (later slices find nothing to write); every slice's
    warnings once; no `pending` nor `_wait_slice` in the invocation."""
    final = {}
    for r in results:
        final.update(r)
    final.pop("pending", None)
    writer = next((r for r in results if r.get("changed")), None)
    if writer is not None:
        final["changed"] = True
        for key in write_keys:
            if key in writer:
                final[key] = writer[key]
    for key in ("warnings", "deprecations"):
        seen = []
        for r in results:
            for item in r.get(key) or []:
                if item not in seen:
                    seen.append(item)
        if seen:
            final[key] = seen
    invocation = final.get("invocation")
    if isinstance(invocation, dict) and isinstance(invocation.get("module_args"), dict):
        args = dict(invocation["module_args"])
        args.pop(OPTION, None)
        final["invocation"] = dict(invocation, module_args=args)
    return final


class SlicedModuleAction(ActionBase):
    """Runs MODULE in slices while it returns `pending`; prints one progress line per slice."""

    MODULE = None  # the module's fully qualified name
    # the module's main() imported by the plugin (staticmethod(main)), or None: always a module process
    MAIN = None
    WRITE_KEYS = ("diff",)  # the result's keys that record what was written (taken from the writing slice)
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(SlicedModuleAction, self).run(tmp, task_vars)
        seconds = 0 if self._task.async_val or self._task.check_mode else self._interval(task_vars)
        host = task_vars.get("inventory_hostname") or self._task.get_name()
        args = dict(self._task.args)
        results, resume, started, longest = [], None, time.monotonic(), 0
        while True:
            called = time.monotonic()
            out = in_process.execute(self, self.MODULE, self.MAIN, slice_args(args, seconds, resume), task_vars,
                                     wrap_async=bool(self._task.async_val))
            results.append(out)
            pending = out.get("pending")
            if not pending or out.get("failed") or out.get("unreachable"):
                break
            display.display("[%s] %s" % (host, progress_line(pending, hidden=self._task.no_log)))
            resume = carry_over(pending, time.monotonic() - called)
            longest = max(longest, int(pending.get("timeout") or 0))
            if time.monotonic() - started > RUNAWAY_FACTOR * longest + 60:
                final = merge(results, self.WRITE_KEYS)
                final.update(failed=True, msg="%s: the wait did not end within %d times its wait_timeout (last: %s)"
                             % (host, RUNAWAY_FACTOR, progress_line(pending, hidden=self._task.no_log)))
                result.update(final)
                return result
        result.update(merge(results, self.WRITE_KEYS))
        if not self._task.async_val:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _interval(self, task_vars):
        value = task_vars.get(INTERVAL_VAR)
        if isinstance(value, str) and self._templar is not None:
            value = self._templar.template(value)
        return interval(to_text(value) if value is not None else None)
