# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Importing a member into a KubeSphere 4.1 host: the checks before any
write, what the health wait says while it waits and when it times out, and the verification after.

Facts (KubeSphere v4.1.3; ../shared/docs/kubesphere-v4.1.md 1.2-1.6 and 6 items 7-15):
- a member needs no KubeSphere: the host's cluster controller installs the Helm release ks-core on it (role
  member, the host's jwtSecret) once its Cluster exists, so 3.4's checks "member has KubeSphere, role member,
  same jwtSecret, its ks-apiserver answers" do not apply; reachability, the kubeconfig (loopback, TLS, client
  certificate), clock skew and the same cluster twice (kube-system UID) still do;
- the validation API refuses a member whose kubesphere-system carries cluster.kubesphere.io/host-cluster
  ("current cluster is managed by another host cluster 'H'"): a member of another host;
- a cluster that runs a standalone KubeSphere 4.1 is itself a host (its ks-core release renders clusterRole
  host): the join's `helm upgrade` with role member would remove its ks-apiserver, ks-console and
  ks-controller-manager, so it is refused;
- a failed install of ks-core on the member writes no condition on the Cluster: only the member's Helm release
  records (Secrets sh.helm.release.v1.ks-core.vN in kubesphere-system: status, description) say why;
- after a sync the controller annotates the member's kubesphere-system with cluster.kubesphere.io/name (the
  member) and cluster.kubesphere.io/host-cluster (the host): the identity the verification reads;
- proxy members need the tower extension on the host (Service kubesphere-system/tower, tower v0.2.1's proxy);
  the cluster-agent and what it runs as are versions/v4_1/agent.py's; the host's controller installs ks-core on
  the member through the agent's tunnel once tower has filled the Cluster's kubeconfig."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import time

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import join as join_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import usable
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import helm_release
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v4_1 import member_health

KS_CORE = "ks-core"
TOWER_SERVICE = "tower"  # what the tower extension's chart runs on the host (kubesphere-system/tower)
REMOVE_ANNOTATIONS = ("kubectl annotate namespace %s %s- %s-"
                      % (v.KS_NAMESPACE, v.HOST_CLUSTER_ANNOTATION, v.CLUSTER_NAME_ANNOTATION))
UNINSTALL_KS_CORE = "helm uninstall %s -n %s" % (KS_CORE, v.KS_NAMESPACE)
SYNC_ANNOTATION = "kubesphere.io/syncAt"
STUCK_AFTER = 360  # seconds: the controller's Helm install times out after 300 s (helper.go, Wait, 5 min)
VERIFY_WAIT = 30  # seconds the verification gives the controller to annotate kubesphere-system after Ready
CREDENTIAL_NOTE = ("dedicated_credential works as on 3.4: the host's controller installs ks-core on the member "
                   "with that ServiceAccount's token (cluster-admin)")


# ---------------------------------------------------------------------------------------------------
# the checks before any write (pure)


def import_problems(name, connection_type, member, host, kubeconfig=None, options=None):
    """Every problem found before importing `name` into a 4.1 host ([] means the import may start); the facts
    are checks/join.py's (`member` also has ks_core_release: the member's ks-core release record or None)."""
    opts = join_checks._opts(options)
    member = member or {}
    host = host or {}
    out = join_checks.name_problems(name, connection_type)
    if connection_type not in co.CONNECTION_TYPES:
        out.append(problem("connection_type_invalid", name, "cluster '%s': connection type %r is neither direct nor "
                           "proxy: choose direct when the host reaches the member's API server" % (name, connection_type)))
    if connection_type == "direct":
        out += join_checks.kubeconfig_problems(name, kubeconfig, opts)
    if connection_type == "proxy":
        out += proxy_problems(name, host, opts["allow_loopback"])
    out += host_problems(name, host)
    out += join_checks.existing_problems(name, connection_type, host.get("clusters"), member.get("kube_system_uid"))
    if not member.get("reachable"):
        out.append(join_checks.unreachable_problem(name, member.get("error"), connection_type))
        return out
    out += join_checks.skew_problems(name, member.get("clock"), host.get("clock"), opts["max_clock_skew"],
                                     host.get("name"))
    out += join_checks.identity_problems(name, member, host, former_names=False)
    out += standalone_problems(name, member)
    return out


HOST_WORDS = {"install": "install ks-core there (helm upgrade --install ks-core ... -n kubesphere-system)",
              "set_role": "set its ks-core release's multicluster.role to host",
              "jwt_path": "authentication.issuer.jwtSecret",
              "jwt_missing": "authentication.issuer.jwtSecret: its ks-core release has not rendered it"}


def host_problems(name, host):
    """The host renders kubesphere-config with clusterRole host and a jwtSecret (the chart renders both)."""
    return join_checks.host_problems(name, host, HOST_WORDS)


def member_role(member):
    """The role a member's own KubeSphere runs with: its rendered kubesphere-config's clusterRole, else None (no
    KubeSphere there, or not rendered yet)."""
    return objects.get_path(member.get("config") or {}, "multicluster.clusterRole") or None


def standalone_problems(name, member):
    """A member that runs its own KubeSphere as a host (a standalone 4.1 install: every install without a role
    is a host): the join would downgrade it to a member, removing its control plane."""
    release = member.get("ks_core_release")
    if member_role(member) != "host":
        return []
    shown = "its kubesphere-config"
    if release:
        shown = "Helm release %s revision %s (%s, chart %s %s)" % (
            KS_CORE, release.get("revision"), release.get("status"), release.get("chart"), release.get("app_version"))
    return [problem("member_is_host", name, "cluster '%s' runs its own KubeSphere as a host (%s in %s renders "
                    "clusterRole host): the host's controller would upgrade that release with role member, which "
                    "removes its ks-apiserver, ks-console and ks-controller-manager; import another cluster, or "
                    "remove KubeSphere from it first (%s)" % (name, shown, v.KS_NAMESPACE, UNINSTALL_KS_CORE))]


def proxy_problems(name, host, allow_loopback=False):
    """A proxy member of a 4.1 host needs the tower extension on the host (its Service kubesphere-system/tower is
    what the agent dials) and an address the agent reaches (checks/join.py's address checks; a 4.1 member has no
    ServiceAccount to check: the import creates the agent's own, versions/v4_1/agent.py)."""
    if not host.get("tower_service"):
        return [problem("extension_missing", name, "cluster '%s': a proxy member of a KubeSphere 4.1 host needs the "
                        "tower extension (\"KubeSphere Multi-Cluster Agent Connection\"), and the host has no Service "
                        "%s/%s: install that extension on the host (kubesphere.multicluster.extension name=tower; "
                        "join.yml does it when kubesphere_join_install_tower is true), or import the member with "
                        "connection_type: direct" % (name, v.KS_NAMESPACE, TOWER_SERVICE))]
    return join_checks.proxy_address_problems(name, host, allow_loopback)


# ---------------------------------------------------------------------------------------------------
# the member's Helm release: what the wait says, and why it timed out


def read_release(conn, with_records=False):
    """(the member's ks-core release record or None, None) or (None, why it could not be read); with
    `with_records`, a third item: the release Secrets read."""
    try:
        records = conn.list("v1", "Secret", v.KS_NAMESPACE, label_selector=helm_release.selector(KS_CORE))
    except KubeSphereError as e:
        return (None, e.reason, []) if with_records else (None, e.reason)
    found = helm_release.current(records)
    return (found, None, records or []) if with_records else (found, None)


def _epoch(text):
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    except (TypeError, ValueError):
        return None


def stuck_first_install(records, now):
    """The name of the ks-core release record left `pending-install` at revision 1 by an install that cannot be
    running any more (older than STUCK_AFTER: the controller's Helm install gives up after 5 minutes), else None.
    Helm then refuses every later operation ("another operation (install/upgrade/rollback) is in progress"), so
    the host's controller retries for ever: seen when ks-controller-manager restarts during a member's install
    (v4.1.3 crashes once when the first member turns Ready on a fresh install, ../shared/docs/kubesphere-v4.1.md
    1.3, which kills the install of a member imported at the same time)."""
    latest = None
    for secret in records or []:
        labels = objects.get_path(secret, "metadata.labels") or {}
        try:
            revision = int(labels.get("version"))
        except (TypeError, ValueError):
            continue
        if latest is None or revision > latest[0]:
            latest = (revision, secret, labels)
    if latest is None or latest[0] != 1 or latest[2].get("status") != "pending-install":
        return None
    times = [t for t in (_epoch(objects.get_path(latest[1], "metadata.creationTimestamp")),) if t]
    for key in ("createdAt", "modifiedAt"):
        try:
            times.append(int(latest[2].get(key)))
        except (TypeError, ValueError):
            pass
    if not times or now - max(times) < STUCK_AFTER:
        return None
    return objects.get_path(latest[1], "metadata.name")


def release_text(release, error=None):
    """One sentence on the member's ks-core release."""
    if error:
        return "its Helm release %s could not be read (%s)" % (KS_CORE, error)
    if release is None:
        return ("it has no Helm release %s yet (the host's controller has not started the install: its "
                "ks-controller-manager log says \"failed to install KS Core in cluster ...\")" % KS_CORE)
    text = "its Helm release %s is at revision %s, status %s" % (KS_CORE, release.get("revision"), release.get("status"))
    if release.get("description"):
        text += " (\"%s\")" % release["description"]
    return text


def wait_detail(ctx, name, live, now=time.time):
    """What the health wait shows beside the verdict while ks-core is not ready on the member (the member's
    release), None otherwise. A first install left pending by an interrupted install (stuck_first_install) is
    cleared: its release record is deleted (a warning says so) and the Cluster annotated kubesphere.io/syncAt, so
    the host's controller installs again at once (Helm adopts the objects the interrupted install made: they carry its release annotations)."""
    if not live or member_health.ks_core_ready(live):
        return None
    conn = ctx.conn("member")
    release, error, records = read_release(conn, with_records=True)
    stuck = stuck_first_install(records, now())
    if stuck:
        conn.delete("v1", "Secret", stuck, v.KS_NAMESPACE)
        # the controller retries with back-off (minutes); a new kubesphere.io/syncAt reconciles now (as the
        # console's "sync" does; its predicate watches that annotation)
        ctx.conn("host").merge_patch(v.CLUSTER_API_VERSION, v.CLUSTER_KIND, name,
                                     {"metadata": {"annotations": {SYNC_ANNOTATION: str(int(now()))}}})
        ctx.repaired("cluster '%s': the first install of ks-core on it was left pending-install by an install that "
                     "stopped (ks-controller-manager restarted during it), so Helm refused every retry (\"another "
                     "operation is in progress\"); its release record Secret %s/%s was deleted and the host's "
                     "controller installs ks-core again" % (name, v.KS_NAMESPACE, stuck))
        return "%s; the stuck first install of ks-core was cleared, waiting for the host's controller to retry" % (
            member_health.health(live)["reason"])
    return "%s; %s" % (member_health.health(live)["reason"], release_text(release, error))


def healthy_timeout(ctx, name, timeout, state):
    """The error of a health wait that timed out: the verdict, and what the member's ks-core release says (a
    failed install writes no condition)."""
    release, error = read_release(ctx.conn("member"))
    hint = ""
    if release is not None and release.get("status") not in ("deployed", None):
        hint = (": fix what the release's description says (images the member cannot pull or run, a hook Job "
                "that failed) and the host's controller retries; `%s` on the member starts it again" % UNINSTALL_KS_CORE)
    return KubeSphereError("not %s within %s s: %s; on the member, %s%s"
                           % (member_health.HEALTHY, timeout, state, release_text(release, error), hint),
                           cluster=name, obj="%s %s" % (v.CLUSTER_KIND, name), code="timeout")


# ---------------------------------------------------------------------------------------------------
# the verification after the import


def read_identity(conn, name, host_name, deadline=VERIFY_WAIT, sleep=time.sleep, now=time.time):
    """The member's kubesphere-system annotations (None when unreadable); the controller writes them in the
    same sync that sets Ready, so they are read again for up to `deadline` seconds until they name `name`."""
    end = now() + deadline
    while True:
        try:
            ns = conn.get("v1", "Namespace", v.KS_NAMESPACE)
        except KubeSphereError:
            return None
        found = objects.get_path(ns or {}, "metadata.annotations") or {}
        if (found.get(v.CLUSTER_NAME_ANNOTATION) == name and found.get(v.HOST_CLUSTER_ANNOTATION) == host_name) \
                or now() >= end:
            return found
        sleep(2)


def usable_problems(name, cluster, kubefed_cluster, annotations, host_name=None):
    """What Ready does not prove, after an import into a 4.1 host ([] when usable): the health verdict, the
    Cluster's status.uid and kubeSphereVersion, and the member's kubesphere-system annotations naming it and
    this host."""
    out = usable.synced_problems(name, cluster, member_health.health(cluster, kubefed_cluster),
                                 "the member's ks-apiserver (Deployment ks-agent) is not reachable through its "
                                 "service proxy")
    if annotations is None:
        out.append(problem("member_identity_unread", name, "cluster '%s': its namespace %s could not be read, so "
                           "the name the host writes there is unverified" % (name, v.KS_NAMESPACE)))
        return out
    wanted = {v.CLUSTER_NAME_ANNOTATION: name, v.HOST_CLUSTER_ANNOTATION: host_name or v.DEFAULT_HOST_CLUSTER_NAME}
    wrong = ["%s=%s (not %s)" % (k, annotations.get(k) or "unset", want) for k, want in sorted(wanted.items())
             if annotations.get(k) != want]
    if wrong:
        out.append(problem("cluster_name_not_written", name, "cluster '%s': its namespace %s shows %s: the host's "
                           "controller has not completed a sync of this member yet (wait, or check "
                           "ks-controller-manager's log on the host)" % (name, v.KS_NAMESPACE, ", ".join(wrong))))
    return out
