# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The `member` module's state=absent: unbind a member from its host,
in the architecture's order: READ the host (Cluster, KubeFedCluster, the webhook configuration, federated
objects) and the member with its own connection (agent, kube-federation-system leftovers, workspace
labels, kubesphere-config); CHECK (`checks.unbind.unbind_problems`: the typed confirmation, not the host,
a dead member only with force) before any write; REPORT what goes and what stays (also in check mode);
PLAN (`checks.unbind.plan`) and RUN it (`checks.unbind.run`: the webhook restore runs even when a step
failed); VERIFY by reading again (`checks.unbind.remaining`).

The module's parameters this runner reads (member.py's argument spec for state=absent):
  name (str, required), confirm_unbind (str, no default), force (bool, false), remove_from_placements
  (bool, false), cleanup_member (bool, false), remove_agent (bool, true), webhook_backup_dir (path,
  ~/.ansible/kubesphere-backups), wait (bool, true), wait_timeout (int, 600), wait_sleep (int, 5),
  timeout (int: seconds the member's connection may take, 20 when unset; a dead member must not hold the
  run), host_label (the host's name in messages and in the backup file's name, default "host"),
  kubernetes.core's auth options for the member and the same prefixed `host_` for the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import installer
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import Connection, auth_params, wait_for
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import unbind as checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError

# Federated objects whose placement may name the member (kind served or not: each read is if_served).
FEDERATED_KINDS = (
    ("tenant.kubesphere.io/v1alpha2", "WorkspaceTemplate", False),
    ("types.kubefed.io/v1beta1", "FederatedNamespace", True),
    ("types.kubefed.io/v1beta1", "FederatedDeployment", True),
    ("types.kubefed.io/v1beta1", "FederatedConfigMap", True),
    ("types.kubefed.io/v1beta1", "FederatedSecret", True),
    ("types.kubefed.io/v1beta1", "FederatedService", True),
)
RBAC = "rbac.authorization.k8s.io/v1"
DEFAULT_MEMBER_TIMEOUT = 20


# ---------------------------------------------------------------------------------------------------
# read


def read_host(conn, name):
    """The host's side of an unbind, as objects (None when absent)."""
    out = {
        "cluster": conn.get(co.API_VERSION, co.KIND, name),
        "kubefed_cluster": conn.get(co.KUBEFED_API_VERSION, co.KUBEFED_KIND, name, checks.KUBEFED_NAMESPACE,
                                    if_served=True),
        "webhook": conn.get(checks.WEBHOOK_API[0], checks.WEBHOOK_API[1], checks.WEBHOOK_NAME),
        "federated": [],
    }
    for api_version, kind, namespaced in FEDERATED_KINDS:
        items = conn.list(api_version, kind, if_served=True)
        for obj in items or []:
            obj.setdefault("apiVersion", api_version)
            obj.setdefault("kind", kind)
            out["federated"].append(obj)
    return out


def host_leftovers(conn, name):
    """What `checks.unbind.remaining` needs of the host after the run."""
    return {
        "cluster": conn.get(co.API_VERSION, co.KIND, name),
        "kubefed_cluster": conn.get(co.KUBEFED_API_VERSION, co.KUBEFED_KIND, name, checks.KUBEFED_NAMESPACE,
                                    if_served=True),
        "secret": conn.get("v1", "Secret", "%s-secret" % name, checks.KUBEFED_NAMESPACE) is not None,
        "service": conn.get("v1", "Service", "mc-%s" % name, checks.KS_NAMESPACE) is not None,
        "webhook": conn.get(checks.WEBHOOK_API[0], checks.WEBHOOK_API[1], checks.WEBHOOK_NAME),
    }


def read_member(conn):
    """The member's facts for the report: reachable/error, agent, federation leftovers (names), namespaces
    with a workspace label, parsed kubesphere-config. A member that cannot be read gives reachable False
    and the error {code, message}; it never raises."""
    try:
        cm = conn.get("v1", "ConfigMap", installer.CONFIG_MAP, installer.KS_NAMESPACE)
        try:
            config = installer.parse_config(cm)
        except ValueError:
            config = None
        ns_list = conn.list("v1", "Namespace", label_selector=checks.WORKSPACE_LABEL) or []
        fed = {
            "service_accounts": _names(conn.list("v1", "ServiceAccount", checks.KUBEFED_NAMESPACE)),
            "secrets": _names(conn.list("v1", "Secret", checks.KUBEFED_NAMESPACE)),
            "cluster_roles": _names(conn.list(RBAC, "ClusterRole", label_selector=None)),
            "cluster_role_bindings": _names(conn.list(RBAC, "ClusterRoleBinding")),
        }
        return {
            "reachable": True, "error": None, "config": config,
            "agent": conn.get("apps/v1", "Deployment", "cluster-agent", checks.KS_NAMESPACE),
            "federation": fed,
            "workspace_namespaces": {objects.get_path(n, "metadata.name"):
                                     (objects.get_path(n, "metadata.labels") or {}).get(checks.WORKSPACE_LABEL)
                                     for n in ns_list},
        }
    except KubeSphereError as e:
        return {"reachable": False, "error": {"code": e.code or "api_error", "message": e.reason}}


def _names(items):
    return sorted(objects.get_path(i, "metadata.name") for i in items or [])


# ---------------------------------------------------------------------------------------------------
# the webhook backup file


def backup_path(directory, host_label):
    return os.path.join(os.path.expanduser(directory), "%s-validatingwebhookconfiguration-%s.json"
                        % (host_label, checks.WEBHOOK_NAME))


def load_backup(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def write_backup(path, body):
    """Write atomically, mode 0600 (it holds the webhook's caBundle, not a secret, but no one else's)."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".backup-")
    with os.fdopen(fd, "w") as f:
        json.dump(body, f, indent=2, sort_keys=True)
    os.rename(tmp, path)


# ---------------------------------------------------------------------------------------------------
# acting


class Executor:
    """Runs one plan step through the right connection; raises on failure (checks.unbind.run reports it)."""

    def __init__(self, p, host, member, backup_file):
        self.p, self.host, self.member, self.backup_file = p, host, member, backup_file
        self.restored = None

    def conn(self, step):
        return self.host if step["cluster"] == "host" else self.member

    def __call__(self, step):
        action = step["action"]
        conn = self.conn(step)
        if action == "backup":
            write_backup(self.backup_file, step["body"])
        elif action == "delete":
            conn.delete(step["api_version"], step["kind"], step["name"], step["namespace"])  # None: gone already
        elif action == "patch":
            found = conn.merge_patch(step["api_version"], step["kind"], step["name"], step["patch"],
                                     step["namespace"])  # None: gone already (Connection's rule)
            if found is None and not step.get("missing_ok"):
                raise conn.error("is gone: nothing to patch", obj=step["object"], code="not_found")
        elif action == "wait_deleted":
            if not self.p["wait"]:
                return
            timeout = self.p["wait_timeout"]
            ok, _obj, _t = wait_for(conn, step["api_version"], step["kind"], step["name"], lambda o: o is None,
                                    step["namespace"], timeout=timeout, sleep=min(self.p["wait_sleep"], max(timeout, 1)))
            if not ok:
                left = self.host.get(step["api_version"], step["kind"], step["name"], step["namespace"]) or {}
                held = co.finalizers(left)
                hint = ""
                if co.FINALIZER in held:
                    hint = ("; KubeSphere's controller could not remove its finalizer: when the member is down, its "
                            "webhook denies that update (kubesphere#2306): rerun with force once its KubeFedCluster "
                            "says Offline")
                raise conn.error("was not gone within %s s (finalizers: %s)%s" % (
                    timeout, ", ".join(held) or "none", hint), obj=step["object"], code="timeout")
        elif action == "create":  # the webhook configuration's restore
            self.restore(conn, step["body"])
        elif action == "verify":
            return
        else:
            raise KubeSphereError("unknown step %r" % action)

    def restore(self, conn, body):
        live = conn.get(checks.WEBHOOK_API[0], checks.WEBHOOK_API[1], checks.WEBHOOK_NAME)
        if checks.restored(body, live):
            self.restored = True
            return
        if live is not None:  # someone (the installer) recreated it differently: put back exactly the backup
            conn.delete(checks.WEBHOOK_API[0], checks.WEBHOOK_API[1], checks.WEBHOOK_NAME)
        conn.create(body)
        live = conn.get(checks.WEBHOOK_API[0], checks.WEBHOOK_API[1], checks.WEBHOOK_NAME)
        self.restored = checks.restored(body, live)
        if not self.restored:
            raise conn.error("differs from the backup after the restore (backup kept in %s)" % self.backup_file,
                             obj="ValidatingWebhookConfiguration %s" % checks.WEBHOOK_NAME, code="restore_differs")
        if os.path.exists(self.backup_file):
            os.unlink(self.backup_file)  # restored exactly: a stale backup must never be restored later


# ---------------------------------------------------------------------------------------------------
# the module's work


def host_label(p):
    return p.get("host_label") or p.get("host_cluster_name") or "host"


def run(module):
    p = module.params
    result = {"changed": False, "name": p["name"]}
    try:
        module.exit_json(**unbind(module, p, result))
    except KubeSphereError as e:
        module.fail_from(e, **result)


def unbind(module, p, result):
    name = p["name"]
    host = Connection(module, host_label(p), prefix="host_", timeout=None)
    facts = read_host(host, name)
    cluster, kfc, webhook = facts["cluster"], facts["kubefed_cluster"], facts["webhook"]
    if auth_params(p):
        member_conn = Connection(module, name, timeout=p.get("timeout") or DEFAULT_MEMBER_TIMEOUT)
        member = read_member(member_conn)
    else:
        member_conn = None
        member = {"reachable": False, "error": {"code": "no_connection", "message": "no connection to the member "
                                                "was given"}}
    backup_file = backup_path(p["webhook_backup_dir"], host_label(p))
    backup = load_backup(backup_file) if webhook is None else None
    result["health"] = co.health(cluster, kfc) if cluster else None
    result["member_reachable"] = bool(member.get("reachable"))
    if not member.get("reachable"):
        result["member_error"] = member.get("error")

    problems = checks.unbind_problems(name, p["confirm_unbind"], cluster, member, kfc, p["force"])
    the_plan = checks.plan(name, cluster, member, kfc, webhook, facts["federated"], force=p["force"],
                           remove_from_placements=p["remove_from_placements"], cleanup_member=p["cleanup_member"],
                           remove_agent=p["remove_agent"], timeout=p["wait_timeout"], webhook_backup=backup)
    result["report"] = the_plan["report"]
    if problems or the_plan["problems"]:
        result["problems"] = problems or the_plan["problems"]
        raise KubeSphereError("refused (nothing was changed): " + " | ".join(x["message"] for x in result["problems"]),
                              code=result["problems"][0]["code"])
    result["path"] = the_plan["path"]
    result["steps"] = [_public(s) for s in the_plan["steps"]]
    writes = [s for s in the_plan["steps"] if s["action"] not in ("verify", "wait_deleted")]
    result["changed"] = bool(writes)
    if module._diff and cluster is not None:
        result["diff"] = {"before": co.mask(objects.normalize(cluster)), "after": {}}
    if module.check_mode or not writes:
        if not writes:
            result["remaining"] = checks.remaining(name, host_leftovers(host, name),
                                                   member if member.get("reachable") else None)
        return result

    if the_plan["path"] == "dead":
        module.warn("cluster '%s': unreachable (%s) and not Ready for kubefed: unbinding it with force removes the "
                    "ValidatingWebhookConfiguration %s for the time it takes; it is backed up to %s and restored"
                    % (name, co.error_text(member.get("error")), checks.WEBHOOK_NAME, backup_file))
    execute = Executor(p, host, member_conn, backup_file)
    outcome = checks.run(the_plan["steps"], execute)
    result["steps"] = outcome
    if execute.restored is not None:
        result["webhook_restored"] = execute.restored
        result["webhook_backup"] = backup_file if not execute.restored else None
    after_member = read_member(member_conn) if member_conn is not None and member.get("reachable") else None
    result["remaining"] = checks.remaining(name, host_leftovers(host, name), after_member)
    if not outcome["ok"]:
        failed = outcome["failed"][0]
        raise KubeSphereError("the unbind failed at '%s': %s; skipped: %s; done: %s" % (
            failed["step"], failed["error"], ", ".join(outcome["skipped"]) or "nothing",
            ", ".join(outcome["done"]) or "nothing"), cluster=name, code="unbind_failed")
    if result["remaining"]["host"]:
        raise KubeSphereError("left on the host after the unbind: %s" % "; ".join(result["remaining"]["host"]),
                              cluster=name, code="unbind_incomplete")
    return result


def _public(step):
    """A plan step as returned (no webhook body: it is large and in the backup file)."""
    return {k: v for k, v in step.items() if k not in ("body",)}
