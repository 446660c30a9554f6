# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The steps a plan is made of (pure data; execute/executor.py runs them).

A plan is a list of steps, made by a pure function from what was read (plan/<operation>.py). Each step has
a stable `id` (unique within its plan: resume and tests key on it), the `side` whose connection it uses
("host", "member", or "local" for the controller's file system), the `cluster` it names in messages, the
`object` it acts on ("Cluster member1"), and `why`, one sentence for a person. A converged cluster plans
no write and no wait: an empty plan.

Kinds:
- create / patch / apply / delete: one write. `body` (create, apply) or `patch` (merge patch) may be a
  function of the run's values (`values` -> dict) when it depends on an earlier step (the dedicated
  credential's token); the public view then says so. Check mode sends it as a server-side dry run
  (`dry_run=False` steps are predicted only: for example an object whose namespace the plan creates first).
- wait: poll(context) -> (done, state, value) until done or `timeout` seconds; `state` is one printable
  sentence (progress lines, the timeout message). Not run in check mode. `fail(context, state)` may return
  the error to raise when the time is up (default: code `timeout` naming the object and the last state).
- act: run(context) -> value, for what is not one object write (write a backup file, restore a webhook
  configuration from it, apply the agent built from a token read earlier). `writes` says whether check
  mode skips it.
- verify: like act but never writes (run in check mode too).
Every step may set `always=True`: it runs even when an earlier step failed (a restore), and `carry=True`:
its value is handed to the next slice of the same run (safe to print)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

WRITES = ("create", "patch", "apply", "delete")
KINDS = WRITES + ("wait", "act", "verify")


class Step(dict):
    """One step: a dict (ids, names, payload) whose callables are hidden from its public view."""

    @property
    def id(self):
        return self["id"]

    @property
    def kind(self):
        return self["kind"]

    @property
    def writes(self):
        return self["kind"] in WRITES or (self["kind"] == "act" and self.get("writes", True))

    def public(self):
        """What --check and the result show of this step: no callables, no bodies (they may hold secrets
        and are shown masked by the diff instead)."""
        out = {k: v for k, v in self.items() if k in ("id", "kind", "side", "cluster", "object", "why", "always")
               and v not in (None, False)}
        if self["kind"] in WRITES:
            out["verb"] = self["kind"]
        elif self.get("verb"):  # an act that writes one API object says how (create, patch, apply, delete)
            out["verb"] = self["verb"]
        for key in ("body", "patch"):
            if callable(self.get(key)):
                out["deferred"] = "built from the values of earlier steps"
        return out


def _step(kind, step_id, side, cluster, obj, why=None, **extra):
    if kind not in KINDS:
        raise ValueError("unknown step kind %r" % kind)
    out = Step(id=step_id, kind=kind, side=side, cluster=cluster, object=obj, why=why)
    out.update(extra)
    return out


def create(step_id, side, cluster, body, why=None, secret_paths=(), obj=None, **extra):
    """Create `body` (absent on the cluster when the plan was made)."""
    return _step("create", step_id, side, cluster, obj or _describe_body(body), why, body=body,
                 secret_paths=secret_paths, **extra)


def patch(step_id, side, cluster, api_version, kind, name, body, namespace=None, why=None, missing_ok=False,
          secret_paths=(), **extra):
    """Merge-patch `body` into the object. `missing_ok`: an object gone meanwhile is not a failure."""
    return _step("patch", step_id, side, cluster, _describe(kind, name, namespace), why, api_version=api_version,
                 object_kind=kind, name=name, namespace=namespace, patch=body, missing_ok=missing_ok,
                 secret_paths=secret_paths, **extra)


def apply(step_id, side, cluster, body, why=None, secret_paths=(), obj=None, **extra):
    """Server-side apply of an object the collection owns whole."""
    return _step("apply", step_id, side, cluster, obj or _describe_body(body), why, body=body,
                 secret_paths=secret_paths, **extra)


def delete(step_id, side, cluster, api_version, kind, name, namespace=None, why=None, **extra):
    """Delete the object (already gone: nothing to do)."""
    return _step("delete", step_id, side, cluster, _describe(kind, name, namespace), why, api_version=api_version,
                 object_kind=kind, name=name, namespace=namespace, **extra)


def wait(step_id, side, cluster, obj, what, poll, timeout, sleep=5, fail=None, why=None, **extra):
    """Wait until `obj` is `what` ("healthy", "gone", ...): poll(context) -> (done, state, value)."""
    return _step("wait", step_id, side, cluster, obj, why, what=what, poll=poll, timeout=timeout, sleep=sleep,
                 fail=fail, **extra)


def act(step_id, side, cluster, obj, run, why=None, writes=True, **extra):
    return _step("act", step_id, side, cluster, obj, why, run=run, writes=writes, **extra)


def verify(step_id, side, cluster, obj, run, why=None, **extra):
    return _step("verify", step_id, side, cluster, obj, why, run=run, **extra)


def public(steps):
    return [s.public() for s in steps]


def writes(steps):
    return [s for s in steps if s.writes]


def _describe(kind, name, namespace=None):
    return "%s %s" % (kind, "%s/%s" % (namespace, name) if namespace else name)


def _describe_body(body):
    if callable(body):
        return None
    meta = body.get("metadata") or {}
    return _describe(body.get("kind"), meta.get("name"), meta.get("namespace"))
