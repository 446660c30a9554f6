# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The plan of a role change (multicluster_role): pure functions from what
was read (read/role.py) and the module's parameters (a plain dict) to steps (plan/steps.py).

Three cases, by what was read:
- `dest`: KubeSphere is not installed; the file to install with is written on the controller (act role-file);
- the cluster has no role object and `create`: its namespace (when absent) and the whole object are created;
- the cluster is installed: the role is merge-patched into its role object (role-patch) and the wait
  (role-applied) polls until the installer applied it. `role-before` carries the facts read before the write
  to later slices (the wait tells a failed installer run from what changed since then).
A converged cluster (role object holding the patch, role applied) plans nothing. What differs between
KubeSphere versions comes from `impl` (versions.for_state: the `role_*` names of versions/v3_4)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.files import write_private
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read.role import read_cluster

SIDE = "cluster"  # the connection of the cluster whose role changes (the host's is only read)
FILE_MODE = "0600"  # the install file carries the jwtSecret
BEFORE, PATCH, APPLIED = "role-before", "role-patch", "role-applied"
NAMESPACE, CREATE, FILE = "role-namespace", "role-create", "role-file"


# ---------------------------------------------------------------------------------------------------
# before install


def plan_file(p, found, text, impl):
    """Write the install file `p["dest"]` with `text` (found: read_file's facts); [] when it holds it
    already with mode 0600."""
    if found["text"] == text and found["mode"] == int(FILE_MODE, 8):
        return []
    path = p["dest"]

    def write(ctx):
        return write_private(ctx.module, path, text, FILE_MODE, prefix=impl.ROLE_FILE_PREFIX)

    return [steps.act(FILE, "local", p["cluster_name"], path, write,
                      why="the file to install KubeSphere with, in role '%s' (mode %s)" % (p["role"], FILE_MODE))]


def plan_create(p, target, obj, impl):
    """Create the role object `obj` (and its namespace when absent) before the installer's first run."""
    name, namespace = p["cluster_name"], impl.ROLE_OBJECT["namespace"]
    out = []
    if not target["ks_namespace"]:
        out.append(steps.create(NAMESPACE, SIDE, name, {"apiVersion": "v1", "kind": "Namespace",
                                                        "metadata": {"name": namespace}},
                                why="the namespace of the role object"))
    # a dry-run create cannot land in a namespace the plan creates first: predicted in check mode then
    out.append(steps.create(CREATE, SIDE, name, obj, secret_paths=impl.ROLE_SECRET_PATHS, dry_run=not out,
                            why="no role object yet: the installer applies role '%s' on its first run" % p["role"]))
    return out


# ---------------------------------------------------------------------------------------------------
# the change


def plan_change(p, target, impl, patch, secret=None, options=None):
    """Patch the role into the installed cluster's role object and wait until it is applied; [] when the
    object holds the patch and the role is applied (or holds it and no wait is asked)."""
    name = p["cluster_name"]
    current = impl.role_object(target)
    write = not objects.contains(current, patch)
    left = impl.role_applied_problems(p["role"], target, secret, options)
    if not write and not (p["wait"] and left):
        return []
    before = dict(impl.role_before_facts(target), wrote=write)
    out = [steps.verify(BEFORE, SIDE, name, impl.ROLE_SOURCE, remembered(before), carry=True,
                        why="what the installer had done before the write, for the wait (safe to print)")]
    if write:
        ref = impl.ROLE_OBJECT
        out.append(steps.patch(PATCH, SIDE, name, ref["api_version"], ref["kind"], ref["name"], patch,
                               namespace=ref["namespace"], before=current, secret_paths=impl.ROLE_SECRET_PATHS,
                               why="set role '%s'" % p["role"]))
    if p["wait"]:
        out.append(wait_applied(p, impl, secret, options))
    return out


def remembered(before):
    """The role-before step: the facts of this run's read, or those an earlier slice of it handed over (read
    before its write: this slice's read comes after it)."""
    def run(ctx):
        return ctx.slicer.carried(BEFORE) if ctx.slicer.resuming and ctx.slicer.carried(BEFORE) else before
    return run


def wait_applied(p, impl, secret=None, options=None):
    """Poll the cluster until impl.role_applied_problems is empty (the value: the last state read). A failed
    installer run the version can tell (impl.role_failure) fails at once with code installer_failed; read
    errors fail at once too; anything else ends at wait_timeout with what the installer last did."""
    name, role = p["cluster_name"], p["role"]
    seen = {}

    def poll(ctx):
        state = seen["state"] = read_cluster(ctx.conn(SIDE))
        left = impl.role_applied_problems(role, state, secret, options)
        if not left:
            return True, "applied", state
        failure = impl.role_failure(role, ctx.values.get(BEFORE), state, ctx.conn(SIDE))
        if failure:
            raise KubeSphereError(failure, cluster=name, code="installer_failed")
        return False, "; ".join(left), None

    def fail(ctx, _state):
        state = seen["state"]
        left = impl.role_applied_problems(role, state, secret, options)
        return KubeSphereError(impl.role_timeout(role, p["wait_timeout"], left, state, ctx.values.get(BEFORE),
                                                 ctx.conn(SIDE)), cluster=name, code="timeout")

    return steps.wait(APPLIED, SIDE, name, impl.ROLE_SOURCE, "applied", poll, p["wait_timeout"],
                      sleep=max(p["wait_sleep"], 0.2), fail=fail, retry_errors=False, condition=impl.role_condition(role),
                      why="the installer applies role '%s'" % role)


# ---------------------------------------------------------------------------------------------------
# the host's proxy address changed: ks-apiserver serves the new one before any agent is re-pointed

SERVING_RESTART, SERVING_WAIT = "ks-apiserver-restart", "ks-apiserver-rollout"


def serving_steps(p, target, impl, options, carried=None, before=None, now=None):
    """After the role-applied wait of a host whose options change what ks-apiserver serves (the proxy address, as
    rendered before the write: impl.role_serving_address), the how-to's restart of ks-apiserver
    (`ks-apiserver-restart`, carried to later slices: a later slice does not restart again) and the wait until its
    rollout is complete (`ks-apiserver-rollout`). In a later slice of the run, `carried` is what the restart did and
    `before` the role-before facts the first slice read before its write. [] for other roles, without wait, or when
    nothing ks-apiserver serves changes."""
    if p["role"] != "host" or not p["wait"] or not hasattr(impl, "role_serving_changes"):
        return []
    served = (before or {}).get("proxy_publish_address") if before else impl.role_serving_address(target)
    if carried is None and not impl.role_serving_changes(served, options):
        return []
    name, ref = p["cluster_name"], impl.ROLE_SERVING_OBJECT
    obj = "%s %s/%s" % (ref["kind"], ref["namespace"], ref["name"])
    served = served or "tower's Service address"
    wanted = (options or {}).get("proxyPublishAddress") or "tower's Service address"
    why = "ks-apiserver builds the agent Deployment with the address it read at start: restarted as the how-to does"
    if carried is not None:
        restart = steps.verify(SERVING_RESTART, SIDE, name, obj, lambda ctx: carried, carry=True, why=why)
    else:
        restart = steps.act(SERVING_RESTART, SIDE, name, obj, _restart(ref, impl, now, served, wanted), verb="patch",
                            carry=True, why=why)
    return [restart, _rollout_wait(p, impl, ref, obj)]


def _restart(ref, impl, now, served, wanted):
    def run(ctx):
        conn = ctx.conn(SIDE)
        at = now or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())  # when the restart is made, not planned
        out = {"restarted": False, "from": served, "to": wanted, "at": at, "generation": None}
        if conn.get(ref["api_version"], ref["kind"], ref["name"], ref["namespace"]) is None:
            ctx.warn("cluster '%s': no Deployment %s/%s to restart: ks-apiserver serves the new proxy address once it "
                     "reads its kubesphere.yaml again" % (ctx.module.params["cluster_name"], ref["namespace"], ref["name"]))
            return out
        after = conn.merge_patch(ref["api_version"], ref["kind"], ref["name"], impl.role_serving_restart(at),
                                 ref["namespace"])
        return dict(out, restarted=True, generation=objects.get_path(after or {}, "metadata.generation"))
    return run


def _rollout_wait(p, impl, ref, obj):
    name = p["cluster_name"]

    def poll(ctx):
        restart = ctx.values.get(SERVING_RESTART) or {}
        if not restart.get("restarted"):
            return True, "not restarted", None
        dep = ctx.conn(SIDE).get(ref["api_version"], ref["kind"], ref["name"], ref["namespace"])
        done, state = impl.role_serving_rollout(dep)
        if done and (objects.get_path(dep or {}, "metadata.generation") or 0) < (restart.get("generation") or 0):
            done = False
        return done, state, state

    def fail(ctx, state):
        restart = ctx.values.get(SERVING_RESTART) or {}
        return KubeSphereError(
            "cluster '%s': ks-apiserver's rollout restart did not complete within %s s (%s): its pods started before "
            "it still hand out cluster-agents that dial %s, not %s. See `kubectl -n %s rollout status deployment %s`; "
            "no agent was re-pointed yet" % (name, p["wait_timeout"], state, restart.get("from"), restart.get("to"),
                                             ref["namespace"], ref["name"]),
            cluster=name, obj=obj, code="ks_apiserver_not_restarted")

    return steps.wait(SERVING_WAIT, SIDE, name, obj, "rolled out", poll, p["wait_timeout"],
                      sleep=max(p["wait_sleep"], 0.2), fail=fail, condition=impl.ROLE_SERVING,
                      why="every ks-apiserver pod then read the new proxy address at start")
