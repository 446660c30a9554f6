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
