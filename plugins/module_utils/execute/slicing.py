# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waits in time slices, so the controller can print progress while a module waits.

A module cannot print on the controller while it runs; its action plugin (plugins/plugin_utils/sliced.py)
can. The plugin runs the module with the internal option `_wait_slice` ({seconds, elapsed, resume}): the
module's wait loops then stop at the end of the slice and the module returns, instead of its usual result,
the same result with `pending` ({cluster, condition, state, elapsed, timeout, resume}); the plugin prints
one line and runs the module again with the time already spent, until the module returns for good.
A wait is known across slices by its key: the id of the plan step that waits (execute/executor.py), never
the sentence shown to the user; `resume` also carries the values the plan's steps declared to carry.
Without `_wait_slice` (the module run directly) nothing changes: the waits run to wait_timeout.

`pending` never carries a secret: `state` is what the module would put in its timeout message (already
safe to print) and `resume` holds only facts the next slice needs (e.g. what was read before the write)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError

OPTION = "_wait_slice"
# the codes of a read that failed because a cluster did not answer (_k8s.error_code): retried by a later slice
TRANSIENT = ("unreachable", "timeout")


def wait_argspec(wait, wait_timeout, wait_sleep=None):
    """The argument spec of a module that waits (documented by the doc fragments wait and wait_slice): wait,
    wait_timeout, wait_sleep when the module has it, and the internal _wait_slice."""
    out = {"wait": {"type": "bool", "default": wait}, "wait_timeout": {"type": "int", "default": wait_timeout},
           OPTION: {"type": "dict"}}
    if wait_sleep is not None:
        out["wait_sleep"] = {"type": "int", "default": wait_sleep}
    return out


class WaitPending(Exception):
    """Raised by a wait loop at the end of its slice, the wait not finished and wait_timeout not spent.
    `result` is what the run has to return so far (the executor fills it in)."""

    def __init__(self, cluster, condition, state, elapsed, timeout, resume=None):
        super(WaitPending, self).__init__("%s: waiting until %s (%s)" % (cluster, condition, state))
        self.pending = {"cluster": cluster, "condition": condition, "state": state, "elapsed": int(elapsed),
                        "timeout": timeout, "resume": resume or {}}
        self.result = {}


class Slicer:
    """The slice of one module run: at most `seconds` of waiting in this run (None: no slice, the module
    was run directly), and `resume`, what the previous slice of the same wait handed over."""

    def __init__(self, params, clock=time.monotonic, sleep=time.sleep):
        options = params.get(OPTION) or {}
        self.clock, self.sleep = clock, sleep
        self.seconds = options.get("seconds") or None
        self.resume = options.get("resume") or {}
        self.started = clock()

    @property
    def resuming(self):
        """This run is a later slice of the same task: an earlier slice made the checks and the writes and
        stopped in a wait (its `resume` names the wait), so this one only has that wait left."""
        return bool(self.resume.get("key"))

    def carried(self, name, default=None):
        """A value an earlier slice handed over (`resume`), e.g. facts read before its write."""
        return (self.resume.get("carry") or {}).get(name, default)

    def wait(self, cluster, condition, timeout, key=None):
        """One wait of the module, up to `timeout` seconds in all: when the previous slice ended in the same
        wait (same cluster and key: the plan step's id), the time it had waited already counts."""
        key = key or condition
        before = 0
        if self.resume.get("cluster") == cluster and self.resume.get("key") == key:
            # the time waited so far, and what this run took before it came back to the wait (re-reading,
            # the checks): the wait is as long in wall time as in one run
            before = max(0, float(self.resume.get("elapsed") or 0)) + (self.clock() - self.started)
        return Wait(self, cluster, condition, timeout, before, key)

    def ride_out(self, read, sleep=time.sleep, nap=5, reset=None):
        """read() for a later slice of a wait (`resuming`): the slice starts by reading again, and a read that
        fails because a cluster does not answer (codes in TRANSIENT: an API server restarting) is retried as
        the wait itself retries its polls, until the slice ends (WaitPending: the next slice reads again) or
        the wait's time is spent (the error is raised). `reset()` runs before each retry (the connections'
        time bounds). Not resuming, or an earlier slice that handed no timeout: read() once."""
        timeout = self.resume.get("timeout")
        if not self.resuming or timeout is None:
            return read()
        wait = self.wait(self.resume.get("cluster"), self.resume.get("condition") or self.resume["key"], timeout,
                         key=self.resume["key"])
        while True:
            try:
                return read()
            except KubeSphereError as e:
                if e.code not in TRANSIENT or wait.spent():
                    raise
                state = e.msg
            carry = dict((k, v) for k, v in self.resume.items() if k in ("carry", "done"))
            wait.check(lambda: state, **carry)
            sleep(wait.nap(nap))
            if reset is not None:
                reset()

    def settle(self, first, poll, settled, timeout, cluster, condition, key, describe, nap=5, between=None):
        """A wait before the plan (the import's checks waiting for a member's ks-apiserver that restarts):
        `first` (what a poll saw already), then poll() until settled(value) or `timeout` seconds are spent,
        counting the earlier slices of the same wait (`key`). Returns (the last value, seconds waited); at the
        end of the slice raises WaitPending (the next slice runs from its start again). `between()` runs before
        each new poll (the connection's time bound); describe(value) says what is seen, for the progress line."""
        wait = self.wait(cluster, condition, timeout, key=key)
        value = first
        while not (settled(value) or wait.spent()):
            wait.check(lambda: describe(value))
            self.sleep(wait.nap(nap))
            if between is not None:
                between()
            value = poll()
        return value, wait.elapsed()

    def ran(self):
        return self.clock() - self.started

    def left(self):
        return None if self.seconds is None else self.seconds - (self.clock() - self.started)


class Wait:
    def __init__(self, slicer, cluster, condition, timeout, before, key=None):
        self.slicer, self.cluster, self.condition, self.timeout = slicer, cluster, condition, timeout
        self.before = before
        self.key = key or condition
        self.started = slicer.clock()

    def elapsed(self):
        return self.before + (self.slicer.clock() - self.started)

    def spent(self):
        """wait_timeout is spent: the wait fails with its usual timeout message."""
        return self.elapsed() >= self.timeout

    def nap(self, sleep):
        """How long to sleep before the next poll: `sleep`, cut to what is left of the wait and the slice."""
        left = self.timeout - self.elapsed()
        slice_left = self.slicer.left()
        if slice_left is not None:
            left = min(left, slice_left)
        return max(0.0, min(float(sleep), left))

    def check(self, describe_state, **resume):
        """After a poll that did not satisfy the wait: raise WaitPending at the end of the slice (when
        wait_timeout is not spent yet; then the caller fails as usual). `describe_state()` is called only
        then; `resume` is what the next slice needs besides the time waited (safe to print)."""
        slice_left = self.slicer.left()
        if slice_left is not None and slice_left <= 0 and not self.spent():
            elapsed = self.elapsed()
            handed = dict(resume, cluster=self.cluster, key=self.key, elapsed=round(elapsed, 1), timeout=self.timeout,
                          condition=self.condition)
            error = WaitPending(self.cluster, self.condition, describe_state(), elapsed, self.timeout, handed)
            error.pending["ran"] = round(self.slicer.ran(), 1)
            raise error


def pending_result(result, error):
    """The module's result at the end of a slice: what it did so far, and `pending`."""
    out = dict(result)
    out["pending"] = error.pending
    return out
