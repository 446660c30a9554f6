# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The `member` module's state=absent: unbind a member from its host.

READ the host and the member (read/unbind.py) -> CHECK (checks/unbind.py: the typed confirmation, not the
host, a dead member only with force) -> PLAN (plan/unbind.py, with the report of what goes and what stays,
also in check mode) -> EXECUTE (execute/executor.py: the webhook restore runs even when a step failed; the
wait until the Cluster is gone runs in time slices under the action plugin) -> read what is left.

The module's parameters this operation reads (member.py's argument spec for state=absent):
  name, confirm_unbind, force, remove_from_placements, cleanup_member, remove_agent, webhook_backup_dir
  (~/.ansible/kubesphere-backups), wait, wait_timeout, wait_sleep, timeout (the member's connection: 20 s
  when unset, a dead member must not hold the run), host_label (the host's name in messages and in the
  backup file's name), kubernetes.core's auth options for the member and the same prefixed `host_` for the
  host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile

from ansible_collections.kubesphere.multicluster.plugins.module_utils import versions
from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import Connection, auth_params
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import unbind as checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, Refused
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Context, Executor
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import files as file_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute import files
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import unbind as plans
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import unbind as reads
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import WEBHOOK_NAME

DEFAULT_MEMBER_TIMEOUT = 20
OPTIONS = ("force", "remove_from_placements", "cleanup_member", "remove_agent", "wait", "wait_timeout", "wait_sleep")


# ---------------------------------------------------------------------------------------------------
# the webhook backup file


def backup_path(directory, host_label):
    return os.path.join(os.path.expanduser(directory), "%s-validatingwebhookconfiguration-%s.json"
                        % (host_label, WEBHOOK_NAME))


def load_backup(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def write_backup(path, body):
    """Write atomically, mode 0600 in a 0700 folder (created 0700 when absent; an existing one open to others
    is refused before the first write, checks/files.py). It holds the webhook's caBundle (a CA certificate,
    not a secret), but the run restores it: no one else may change it."""
    directory = files.make_private_folder(os.path.dirname(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".backup-")
    with os.fdopen(fd, "w") as f:
        json.dump(body, f, indent=2, sort_keys=True)
    os.rename(tmp, path)


# ---------------------------------------------------------------------------------------------------
# what the plan's steps do (plan/unbind.py's `io`)


class UnbindIO:
    """The functions of an unbind's steps that touch the world: the backup file, the restore, the poll of
    the Cluster's deletion and its timeout message."""

    def __init__(self, host, backup_file):
        self.host, self.backup_file = host, backup_file
        self.restored = None

    def backup(self, body):
        write_backup(self.backup_file, body)
        return self.backup_file

    def cluster_gone(self, name):
        def poll(ctx):
            live = ctx.conn("host").get(v.CLUSTER_API_VERSION, v.CLUSTER_KIND, name)
            if live is None:
                return True, "gone", None
            return False, "%s; finalizers: %s" % ("being deleted" if co.deleting(live) else "present",
                                                  ", ".join(co.finalizers(live)) or "none"), None
        return poll

    def remove_finalizer(self, name, finalizers):
        """A poll that merge-patches the Cluster's finalizers: done once the patch went through or the Cluster
        is gone (a 403 from the webhook whose configuration was just deleted is retried by the wait)."""
        def poll(ctx):
            after = ctx.conn("host").merge_patch(v.CLUSTER_API_VERSION, v.CLUSTER_KIND, name,
                                                 {"metadata": {"finalizers": finalizers}})
            return True, "gone" if after is None else "patched", after
        return poll

    def gone_failure(self, name, timeout):
        left = self.host.get(v.CLUSTER_API_VERSION, v.CLUSTER_KIND, name) or {}
        held = co.finalizers(left)
        hint = ""
        if v.CLUSTER_FINALIZER in held:
            hint = ("; KubeSphere's controller could not remove its finalizer: when the member is down, its webhook "
                    "denies that update (kubesphere#2306): rerun with force once its KubeFedCluster says Offline")
        reason = "was not gone within %s s (finalizers: %s)%s" % (timeout, ", ".join(held) or "none", hint)
        return self.host.error(reason, obj="%s %s" % (v.CLUSTER_KIND, name), code="timeout")

    def restore(self, ctx, body):
        """Put back exactly the backed-up webhook configuration; the backup file goes once it is restored."""
        conn = ctx.conn("host")
        live = reads.webhook(conn)
        if plans.restored(body, live):
            self.restored = True
            return True
        if live is not None:  # someone (the installer) recreated it differently: put back exactly the backup
            conn.delete(v.WEBHOOK_API_VERSION, v.VALIDATING_WEBHOOK_KIND, WEBHOOK_NAME)
        conn.create(body)
        self.restored = plans.restored(body, reads.webhook(conn))
        if not self.restored:
            raise conn.error("differs from the backup after the restore (backup kept in %s)" % self.backup_file,
                             obj=plans.WEBHOOK_OBJECT, code="restore_differs")
        if os.path.exists(self.backup_file):
            os.unlink(self.backup_file)  # restored exactly: a stale backup must never be restored later
        return True


# ---------------------------------------------------------------------------------------------------
# the operation


def host_label(p):
    return p.get("host_label") or p.get("host_cluster_name") or "host"


def read(module, p):
    """Connections and facts: the host (it must answer), the member with its own connection (it may not)."""
    name = p["name"]
    host = Connection(module, host_label(p), prefix="host_", timeout=None)
    member_conn = None
    if auth_params(p):
        member_conn = Connection(module, name, timeout=p.get("timeout") or DEFAULT_MEMBER_TIMEOUT)
    impl = versions.for_state(cluster_state.require(cluster_state.read(host, parts=("installer",))))
    facts = reads.read_host(host, name, with_webhook=impl.UNBIND_WEBHOOK)  # 4.1: no Cluster webhook, no backup
    facts["member"] = impl.unbind_read_member(member_conn)
    facts["host_label"] = host_label(p)
    facts["backup_file"] = backup_path(p["webhook_backup_dir"], host_label(p))
    facts["webhook_backup"] = load_backup(facts["backup_file"]) if impl.UNBIND_WEBHOOK and facts["webhook"] is None \
        else None
    facts["impl"] = impl
    return host, member_conn, facts


def run(module):
    p = module.params
    name = p["name"]
    host, member_conn, facts = read(module, p)
    cluster, member = facts["cluster"], facts["member"]
    impl = facts.get("impl") or versions.v3_4  # facts that name no version: 3.4's
    result = {"changed": False, "name": name, "member_reachable": bool(member.get("reachable")),
              "health": impl.health(cluster, facts["kubefed_cluster"]) if cluster else None}
    if not member.get("reachable"):
        result["member_error"] = member.get("error")
    problems = checks.unbind_problems(name, p["confirm_unbind"], cluster, member, facts["kubefed_cluster"], p["force"],
                                      dead=impl.unbind_dead)
    io = UnbindIO(host, facts["backup_file"])
    the_plan = plans.plan(name, facts, {k: p[k] for k in OPTIONS}, io, impl)
    result["report"] = the_plan["report"]
    if any(s.id == "backup-webhook" for s in the_plan["steps"]):
        problems += file_checks.private_folder(name, files.folder_facts(os.path.dirname(facts["backup_file"])),
                                               "the backup of the ValidatingWebhookConfiguration %s" % WEBHOOK_NAME)
    if problems:
        raise Refused(problems, "the checks before unbinding cluster '%s'" % name, **result)
    result.update(path=the_plan["path"], plan=steps.public(the_plan["steps"]))
    if module._diff and cluster is not None:
        result["diff"] = {"before": co.mask(objects.normalize(cluster)), "after": {}}
    if the_plan["path"] == "dead" and not module.check_mode and facts["webhook"] is not None:
        module.warn("cluster '%s': unreachable (%s) and not Ready for kubefed: unbinding it with force removes the "
                    "ValidatingWebhookConfiguration %s for the time it takes; it is backed up to %s and restored"
                    % (name, co.error_text(member.get("error")), WEBHOOK_NAME, facts["backup_file"]))
    executor = Executor(Context(module, {"host": host, "member": member_conn}), result)
    outcome = executor.run(the_plan["steps"])
    result["changed"] = bool(steps.writes(the_plan["steps"]))
    result["steps"] = dict(outcome.summary(), ok=outcome.ok)
    if io.restored is not None:
        result["webhook_restored"] = io.restored
        result["webhook_backup"] = facts["backup_file"] if not io.restored else None
    return verify(module, name, host, member_conn, member, outcome, executor, result, impl)


def verify(module, name, host, member_conn, member, outcome, executor, result, impl):
    """Read what is left (not in check mode when the plan writes: the plan is the answer) and fail when the
    host kept any."""
    if module.check_mode and result["changed"]:
        return result
    after_member = impl.unbind_read_member(member_conn) if member_conn is not None and member.get("reachable") else None
    result["remaining"] = impl.unbind_remaining(name, reads.host_leftovers(host, name, with_webhook=impl.UNBIND_WEBHOOK),
                                                after_member)
    executor.raise_failure("the unbind failed", code="unbind_failed", **result)
    if result["remaining"]["host"]:
        raise KubeSphereError("left on the host after the unbind: %s" % "; ".join(result["remaining"]["host"]),
                              cluster=name, code="unbind_incomplete", **result)
    return result
