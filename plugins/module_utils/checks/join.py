# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Every check before importing a member, before any write.

Real KubeSphere 3.4 joins a member whose jwtSecret or role is wrong and marks it Ready; only the
console's validation API (ks-apiserver `POST /kapis/cluster.kubesphere.io/v1alpha1/clusters/validation`,
direct members only) refuses such members. These checks are a superset of that API's, for both
connection types: whatever it refuses, `import_problems` refuses too (see `CONSOLE_MESSAGES`).

`import_problems(name, connection_type, member, host, kubeconfig, options)` takes plain facts:

name             the KubeSphere name to import the member as.
connection_type  'direct' or 'proxy'.
kubeconfig       (direct) the kubeconfig TEXT the host will store in the Cluster (one context; its
                 current-context is what KubeSphere's controller uses); None for proxy members.
member           what the member's API server answered (read with the credentials the host will use
                 for a direct member, with the member connection for a proxy member):
    reachable          bool; False when nothing could be read
    error              why not (text, or the read model's {code, message}), when not reachable
    config             the parsed `kubesphere.yaml` of kubesphere-system/kubesphere-config, or None when
                       there is none: {multicluster: {clusterRole, clusterName}, authentication:
                       {jwtSecret, maximumClockSkew}}
    kube_system_uid    metadata.uid of Namespace kube-system
    ks_namespace_annotations  annotations of Namespace kubesphere-system ({} when none; v4 writes
                       cluster.kubesphere.io/host-cluster and cluster.kubesphere.io/name there)
    kubesphere_api     {reachable: bool, error: text, version: text, waited: seconds} of GET
                       /api/v1/namespaces/kubesphere-system/services/:ks-apiserver:/proxy/kapis/version
                       through the member's API server (the console's check); None when not probed; `waited`
                       when it was probed again while ks-apiserver restarted (read/join.py PROBE_RESTARTING)
    service_accounts   {namespace: [names]} for kubesphere-system and kube-federation-system
                       (a missing key means "not read"; kubesphere-system without `kubesphere` means no
                       KubeSphere there; kube-federation-system `<old>-kubesphere` is a former join)
    clock              offset of the member's clock from the controller's, in seconds, or an interval
                       {low, high} (see clock.sample_offset); None when not measured
host             the host cluster:
    name               the host's own Cluster name (multicluster.hostClusterName, default `host`)
    config             its parsed kubesphere.yaml (role, jwtSecret, agentImage, proxyPublish*)
    clusters           its Cluster objects, its own included: dicts as the API returns them (read:
                       metadata.name, metadata.deletionTimestamp, spec.connection.type, status.uid), or the
                       read model's summaries {name, uid, connection_type, role[, deleting, finalizers]}
    kube_system_uid    its kube-system UID
    clock              as for the member
    proxy              (proxy members) agent.proxy_address(...) for this host
    other_hosts        {host label: [Cluster objects]} of other KubeSphere hosts the inventory knows
options          allow_loopback (False), allow_insecure (False), cert_expiry_margin_days (30),
                 max_clock_skew (seconds, 10: KubeSphere's default maximumClockSkew; pass the smaller
                 of the two clusters' rendered values), now (an aware datetime; default: now).

Each problem names the cluster and says what to do; the codes are stable.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import kubeconfig as kc
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import x509
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import clock
from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import installer

KUBESPHERE_SA = "kubesphere"
DEFAULTS = {"allow_loopback": False, "allow_insecure": False, "cert_expiry_margin_days": 30,
            "max_clock_skew": 10.0, "now": None}

# ks-apiserver's validation API messages (KubeSphere 3.4.1 handler.go validateCluster, in its order) and
# the check code that refuses the same member. A message not listed maps to member_unreachable when it is a
# transport/API error of the kube-system GET or the ServerVersion call (validateKubeConfig).
CONSOLE_MESSAGES = (
    (r"^cluster connection type MUST be direct$", "console_direct_only"),
    (r"^cluster kubeconfig MUST NOT be empty$", "kubeconfig_missing"),
    (r"already exists \(.*\), MUST not import the same cluster twice$", "already_imported"),
    (r"^unable validate kubesphere endpoint", "kubesphere_unreachable"),
    (r"the clusterRole of the member cluster must be 'member'", "member_role_not_member"),
    (r"hostcluster Jwt is not equal to member cluster jwt", "jwt_mismatch"),
    (r"^failed to get host cluster kubesphere-system/configmap/kubesphere-config", "host_config_missing"),
    (r"^failed to validate member cluster configuration, err: configmaps? \"?kubesphere-config\"? not found",
     "member_config_missing"),
    (r"^failed to validate member cluster configuration", "member_config_missing"),
    (r"(couldn't get version|error loading config|invalid configuration|no server found|"
     r"illegal base64|yaml:|json:)", "kubeconfig_invalid"),
)


def console_code(message):
    """The check code that refuses what the console's validation API refused with `message`.
    'console_direct_only' is the API declining proxy members (the collection validates them itself);
    anything else it answers (connection refused, 401, x509, timeouts) is member_unreachable.

    One deliberate difference for the oracle test: the API compares the UID with EVERY Cluster, so it
    also refuses a member already imported under the very name being validated ("cluster m already
    exists (m)"). The collection treats that as a rerun (state present, nothing to create) -- not a
    refusal. Every other refusal of the API is a refusal here too."""
    text = (message or "").strip()
    for pattern, code in CONSOLE_MESSAGES:
        if re.search(pattern, text):
            return code
    return "member_unreachable"


def _opts(options):
    out = dict(DEFAULTS)
    out.update({k: v for k, v in (options or {}).items() if v is not None})
    if out["now"] is None:
        out["now"] = datetime.datetime.now(datetime.timezone.utc)
    return out


def max_skew(member, host, given):
    """The clock-skew limit: `given`, else the smaller maximumClockSkew the two clusters render."""
    if given is not None:
        return float(given)
    configs = ((member or {}).get("config"), (host or {}).get("config"))
    values = [clock.parse_duration(installer.config_max_clock_skew(c)) for c in configs if c]
    return min(values) if values else clock.DEFAULT_MAX_SKEW


def import_problems(name, connection_type, member, host, kubeconfig=None, options=None):
    """Every problem found before importing `name`; [] means the import may start."""
    opts = _opts(options)
    member = member or {}
    host = host or {}
    out = []
    out += name_problems(name, connection_type)
    if connection_type not in co.CONNECTION_TYPES:
        out.append(problem("connection_type_invalid", name, "cluster '%s': connection type %r is neither direct nor "
                           "proxy: choose direct when the host reaches the member's API server, proxy otherwise"
                           % (name, connection_type)))
    if connection_type == "direct":
        out += kubeconfig_problems(name, kubeconfig, opts)
    out += host_problems(name, host)
    out += existing_problems(name, connection_type, host.get("clusters"), member.get("kube_system_uid"))
    if not member.get("reachable"):
        out.append(unreachable_problem(name, member.get("error"), connection_type))
        return out
    out += config_problems(name, member.get("config"), host.get("config"))
    out += kubesphere_api_problems(name, member.get("kubesphere_api"))
    out += skew_problems(name, member.get("clock"), host.get("clock"), opts["max_clock_skew"], host.get("name"))
    out += identity_problems(name, member, host)
    if connection_type == "proxy":
        out += proxy_problems(name, member, host, opts["allow_loopback"])
    return out


def fact_problems(name, kubeconfig, member_clock, host_clock, options=None):
    """The import's checks that need no read beyond facts already read: the kubeconfig the host would store
    and the clock skew between the two clocks measured (versions/v3_4/settled.py: a converged import proven
    by this run's preflight facts still passes these, with the run's options)."""
    opts = _opts(options)
    skew = skew_problems(name, member_clock, host_clock, opts["max_clock_skew"])
    return kubeconfig_problems(name, kubeconfig, opts) + skew


# ---------------------------------------------------------------------------------------------------
# the name and the kubeconfig


def name_problems(name, connection_type=None):
    """KubeSphere's rule for a cluster name (objects/cluster.py `valid_name`), as the import and the fleet
    checks both apply it."""
    if co.valid_name(name, connection_type):
        return []
    return [problem("invalid_name", name, "cluster '%s': KubeSphere rejects this name: use %s" % (name, co.NAME_RULE))]


def kubeconfig_problems(name, kubeconfig, opts):
    """The kubeconfig a direct member is imported with: present, readable, self-contained, its server
    reachable from the host's pods (not loopback), TLS verified, its client certificate not expiring."""
    if not kubeconfig:
        return [problem("kubeconfig_missing", name, "cluster '%s': a direct import needs the member's kubeconfig "
                        "(the host stores it in the Cluster): give it, or use connection type proxy" % name)]
    try:
        view = kc.view(kubeconfig)
    except ValueError as e:
        return [problem("kubeconfig_invalid", name, "cluster '%s': %s: give a kubeconfig with one usable context"
                        % (name, e))]
    out = []
    files = view["files"]
    if files:
        out.append(problem("kubeconfig_not_self_contained", name, "cluster '%s': the kubeconfig refers to files "
                           "(%s) that KubeSphere's controller on the host cannot read: embed them (*-data fields, "
                           "`kubectl config view --raw --minify --flatten`)" % (name, ", ".join(files))))
    if not view["server"]:
        out.append(problem("kubeconfig_invalid", name, "cluster '%s': the kubeconfig's cluster %r has no server"
                           % (name, view["cluster"])))
    elif kc.is_loopback(view["server"]) and not opts["allow_loopback"]:
        out.append(problem("loopback_server", name, "cluster '%s': the kubeconfig's server %s is a loopback "
                           "address: inside the host's ks-controller-manager pod it is the pod itself, not the "
                           "member; use an address the host's pods reach (allow_loopback: true only when host and "
                           "member really share that address, as in a one-machine lab)" % (name, view["server"])))
    if view["insecure"] and not opts["allow_insecure"]:
        out.append(problem("tls_verification_off", name, "cluster '%s': the kubeconfig sets insecure-skip-tls-verify, "
                           "so the host would not verify the member's API server (kubefed gets "
                           "disabledTLSValidations [*]): give its CA (certificate-authority-data), or set "
                           "allow_insecure: true to accept that" % name))
    if view["auth"] == "certificate" and view["client_certificate_data"]:
        out += _expiry_problems(name, view["client_certificate_data"], opts)
    return out


def _expiry_problems(name, pem, opts):
    try:
        not_after = x509.certificate_not_after(pem)
    except ValueError as e:
        return [problem("certificate_unreadable", name, "cluster '%s': the kubeconfig's client certificate cannot be "
                        "read (%s): give a valid client-certificate-data" % (name, e))]
    now = opts["now"]
    margin = datetime.timedelta(days=float(opts["cert_expiry_margin_days"]))
    when = not_after.strftime("%Y-%m-%d %H:%M:%S UTC")
    if not_after <= now:
        return [problem("certificate_expired", name, "cluster '%s': the kubeconfig's client certificate expired on %s: "
                        "renew it (or use a dedicated ServiceAccount token credential, which does not expire)"
                        % (name, when))]
    if not_after - now < margin:
        return [problem("certificate_expiring", name, "cluster '%s': the kubeconfig's client certificate expires on %s, "
                        "within %g days: KubeSphere loses the member then; renew it first, use a dedicated "
                        "ServiceAccount token credential, or lower cert_expiry_margin_days"
                        % (name, when, float(opts["cert_expiry_margin_days"])))]
    return []


# ---------------------------------------------------------------------------------------------------
# the host and its Cluster objects


# how the host's problems read on KubeSphere 3.4 (a version that renders otherwise gives its own words)
HOST_WORDS_34 = {"install": "install KubeSphere there and give it the host role",
                 "set_role": "set its role to host and wait for ks-installer",
                 "jwt_path": "authentication.jwtSecret", "jwt_missing": "jwtSecret: its installer has not rendered it yet"}


def host_problems(name, host, words=None):
    """The host renders kubesphere-config with clusterRole host and a jwtSecret (at `words["jwt_path"]`)."""
    words = words or HOST_WORDS_34
    config = host.get("config")
    label = host.get("name") or "host"
    if not config:
        return [problem("host_config_missing", name, "cluster '%s': the host (%s) has no kubesphere-config "
                        "(kubesphere-system/kubesphere-config): %s before importing members"
                        % (name, label, words["install"]))]
    out = []
    role = objects.get_path(config, "multicluster.clusterRole")
    if role != "host":
        out.append(problem("host_not_host", name, "cluster '%s': the host (%s) renders clusterRole %s, not host: %s "
                           "before importing members" % (name, label, role or "unset", words["set_role"])))
    if not objects.get_path(config, words["jwt_path"]):
        out.append(problem("host_config_missing", name, "cluster '%s': the host's (%s) kubesphere-config has no %s"
                           % (name, label, words["jwt_missing"])))
    return out


def existing_problems(name, connection_type, clusters, member_uid):
    """A Cluster already named `name` on the host: the same member (a rerun: fine), another member
    (name_taken), the same member with another connection type, or one being deleted."""
    live = next((c for c in clusters or [] if co.name_of(c) == name), None)
    if live is None:
        return []
    out = []
    if co.deleting(live):
        out.append(problem("cluster_terminating", name, "cluster '%s': its Cluster object on the host is being "
                           "deleted (finalizers: %s): wait until it is gone (or unbind it with force when the member "
                           "is dead) before importing it again" % (name, ", ".join(co.finalizers(live)) or "none")))
    live_uid = co.uid(live)
    if live_uid and member_uid and live_uid != member_uid:
        out.append(problem("name_taken", name, "cluster '%s': the host already has a Cluster named '%s' for another "
                           "cluster (kube-system UID %s, this member's is %s; KubeSphere's webhook would refuse this "
                           "kubeconfig for it with 403): choose another name, or unbind that one first"
                           % (name, name, live_uid, member_uid)))
    if connection_type in co.CONNECTION_TYPES and co.connection_type(live) != connection_type:
        out.append(problem("connection_type_change", name, "cluster '%s' is already imported with connection type "
                           "%s, not %s: unbind it and import it again to change the connection type"
                           % (name, co.connection_type(live), connection_type)))
    return out


# ---------------------------------------------------------------------------------------------------
# the member


def unreachable_problem(name, error, connection_type="direct"):
    via = "the kubeconfig the host would store" if connection_type == "direct" else "its connection"
    return problem("member_unreachable", name, "cluster '%s': its API server cannot be read with %s (%s): fix the "
                   "server address, credentials or network first" % (name, via, co.error_text(error)))


def config_problems(name, member_config, host_config):
    """What ks-apiserver's validation compares (validateMemberClusterConfiguration): the member renders
    clusterRole member and the host's jwtSecret (compared by fingerprint, never shown)."""
    if not member_config:
        return [problem("member_config_missing", name, "cluster '%s': it has no kubesphere-config "
                        "(kubesphere-system/kubesphere-config): install KubeSphere 3.4 there and give it the member "
                        "role (kubesphere.multicluster.cluster_role) before importing it" % name)]
    out = []
    role = objects.get_path(member_config, "multicluster.clusterRole")
    if role != "member":
        out.append(problem("member_role_not_member", name, "cluster '%s': its kubesphere-config renders clusterRole "
                           "%s, not member (KubeSphere would still mark it Ready, and its users would get 401s): set "
                           "its role to member with the host's jwtSecret and wait for its installer"
                           % (name, role or "unset")))
    host_jwt = objects.get_path(host_config or {}, "authentication.jwtSecret")
    member_jwt = objects.get_path(member_config, "authentication.jwtSecret")
    if host_jwt and fingerprint(member_jwt) != fingerprint(host_jwt):
        out.append(problem("jwt_mismatch", name, "cluster '%s': its rendered jwtSecret (%s) differs from the host's "
                           "(%s): logins through the host would fail with 401 on it; copy the host's jwtSecret to it "
                           "(kubesphere.multicluster.cluster_role role member) and wait for its installer"
                           % (name, fingerprint(member_jwt) or "empty", fingerprint(host_jwt))))
    return out


def kubesphere_api_problems(name, probe):
    if probe is None or probe.get("reachable"):
        return []
    waited = " (probed again for %d s: it did not come back)" % probe["waited"] if probe.get("waited") else ""
    return [problem("kubesphere_unreachable", name, "cluster '%s': its ks-apiserver does not answer through its API "
                    "server's service proxy (kubesphere-system/ks-apiserver /kapis/version: %s)%s: make sure "
                    "ks-apiserver runs there; the host reads its version and configuration that way"
                    % (name, co.error_text(probe.get("error")), waited))]


def _interval(offset):
    if offset is None:
        return None
    if isinstance(offset, (int, float)):
        return float(offset), float(offset)
    return float(offset["low"]), float(offset["high"])


def skew_problems(name, member_clock, host_clock, threshold, host_label=None):
    """Clock skew between host and member (KubeSphere tokens carry iat/exp checked with
    maximumClockSkew): clock_skew when even the smallest skew the measurements allow exceeds the limit,
    clock_skew_possible when only the largest does."""
    m, h = _interval(member_clock), _interval(host_clock)
    if m is None or h is None:
        return []
    least = max(m[0] - h[1], h[0] - m[1], 0.0)
    most = max(m[1] - h[0], h[1] - m[0])
    mid = abs((m[0] + m[1]) / 2.0 - (h[0] + h[1]) / 2.0)
    label = host_label or "the host"
    if least > threshold:
        return [problem("clock_skew", name, "cluster '%s': its clock and %s's differ by at least %.1f s (measured "
                        "%.1f s), more than maximumClockSkew %g s: tokens issued by the host would be rejected "
                        "(\"token used before issued\"); synchronise the clocks (NTP) first"
                        % (name, label, least, mid, threshold))]
    if most > threshold:
        return [problem("clock_skew_possible", name, "cluster '%s': its clock and %s's may differ by up to %.1f s "
                        "(measured %.1f s), more than maximumClockSkew %g s: measure again or synchronise the "
                        "clocks (NTP)" % (name, label, most, mid, threshold))]
    return []


def previous_names(member):
    """Names this member was imported under before, from what a join leaves behind on it: the
    multicluster.clusterName the host's controller writes into its kubesphere-config, the v4
    annotation on kubesphere-system, and kube-federation-system ServiceAccounts `<name>-kubesphere`.
    {name: [evidence]}."""
    out = {}
    written = objects.get_path(member.get("config") or {}, "multicluster.clusterName")
    if written:
        out.setdefault(written, []).append("its kubesphere-config has multicluster.clusterName '%s'" % written)
    annotated = (member.get("ks_namespace_annotations") or {}).get(vocabulary.CLUSTER_NAME_ANNOTATION)
    if annotated:
        out.setdefault(annotated, []).append("kubesphere-system is annotated %s=%s" % (vocabulary.CLUSTER_NAME_ANNOTATION, annotated))
    for sa in (member.get("service_accounts") or {}).get(vocabulary.KUBEFED_NAMESPACE) or []:
        if sa.endswith("-kubesphere") and len(sa) > len("-kubesphere"):
            old = sa[:-len("-kubesphere")]
            out.setdefault(old, []).append("ServiceAccount %s/%s is left from a join" % (vocabulary.KUBEFED_NAMESPACE, sa))
    return out


def identity_problems(name, member, host, former_names=True):
    """The member's identity (kube-system UID) against the Clusters of this host and of other hosts, the
    v4 host annotation, and (`former_names`, KubeSphere 3.4's rule) the names a former import left behind."""
    out = []
    uid = member.get("kube_system_uid")
    host_label = host.get("name") or "host"
    imported_here = []
    if uid:
        if host.get("kube_system_uid") == uid:
            out.append(problem("already_imported", name, "cluster '%s' is the host itself (same kube-system UID %s): "
                               "a host cannot import itself; check the member's kubeconfig" % (name, uid)))
        for c in host.get("clusters") or []:
            cname = co.name_of(c)
            if co.uid(c) == uid:
                imported_here.append(cname)
                if cname != name and host.get("kube_system_uid") != uid:
                    out.append(problem("already_imported", name, "cluster '%s' is already imported on the host as "
                                       "'%s' (same kube-system UID %s; KubeSphere: \"MUST not import the same cluster "
                                       "twice\"): use the name '%s', or unbind '%s' first" % (name, cname, uid, cname, cname)))
        for label, clusters in sorted((host.get("other_hosts") or {}).items()):
            for c in clusters or []:
                if co.uid(c) == uid:
                    out.append(problem("managed_by_other_host", name, "cluster '%s' is imported by another host, '%s', "
                                       "as '%s': unbind it there first" % (name, label, co.name_of(c))))
    annotated = (member.get("ks_namespace_annotations") or {}).get(vocabulary.HOST_CLUSTER_ANNOTATION)
    if annotated and annotated != host_label:
        out.append(problem("managed_by_other_host", name, "cluster '%s': its kubesphere-system namespace says it is "
                           "managed by host '%s' (%s, KubeSphere v4): unbind it there first; when that host is gone, "
                           "remove the annotations (kubectl annotate namespace %s %s- %s-)"
                           % (name, annotated, vocabulary.HOST_CLUSTER_ANNOTATION, vocabulary.KS_NAMESPACE,
                              vocabulary.HOST_CLUSTER_ANNOTATION, vocabulary.CLUSTER_NAME_ANNOTATION)))
    if former_names and name not in imported_here:
        earlier = {old: why for old, why in previous_names(member).items()
                   if old != name and old not in imported_here}
        for old, why in sorted(earlier.items()):
            out.append(problem("reimport_name_changed", name, "cluster '%s' was imported before as '%s' (%s): KubeSphere "
                               "3.4 re-joins a member only under its former name (another name hits the workspace "
                               "conflict of kubesphere#3569/#3570); import it as '%s', or clean the member's leftovers "
                               "first (unbind with cleanup_member)" % (name, old, "; ".join(why), old)))
    return out


def proxy_problems(name, member, host, allow_loopback=False):
    """The address the agent dials (proxy_address_problems), and the member KubeSphere's ServiceAccount it runs as."""
    out = proxy_address_problems(name, host, allow_loopback)
    accounts = member.get("service_accounts") or {}
    if vocabulary.KS_NAMESPACE in accounts and KUBESPHERE_SA not in (accounts.get(vocabulary.KS_NAMESPACE) or []):
        out.append(problem("no_kubesphere_service_account", name, "cluster '%s': it has no ServiceAccount %s/%s, which "
                           "the cluster-agent runs as (its pod could not be created): install KubeSphere there first"
                           % (name, vocabulary.KS_NAMESPACE, KUBESPHERE_SA)))
    return out


def proxy_address_problems(name, host, allow_loopback=False):
    """The host publishes an address for the member's cluster-agent, and not a loopback one (unless allowed)."""
    out = []
    proxy = host.get("proxy") or {}
    if not proxy.get("address"):
        out.append(problem("no_proxy_address", name, "cluster '%s': the host publishes no address for the member's "
                           "cluster-agent to reach tower: %s" % (name, proxy.get("error") or "it was not derived")))
    elif kc.is_loopback(proxy["address"]) and not allow_loopback:
        out.append(problem("loopback_proxy_address", name, "cluster '%s': the address the cluster-agent would dial, "
                           "%s (from %s), is a loopback address: inside the agent's pod on the member it is the pod "
                           "itself; set the host's proxyPublishAddress to an address the member reaches "
                           "(allow_loopback: true only in a one-machine lab)" % (name, proxy["address"], proxy.get("source"))))
    return out


def rotation_problems(name, live, probe):
    """Before replacing an imported member's stored kubeconfig (objects/credential.py's rotation_problems):
    `probe` is {uid, error} of kube-system read with the new kubeconfig."""
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import credential  # noqa: PLC0415

    return credential.rotation_problems(name, live, probe.get("uid"), probe.get("error"))
