# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The fleet doctor: what is wrong with a running fleet, from the facts each
cluster read of itself (cluster_info results) and the inventory's description of the fleet. Pure.

A finding is a problem (checks/__init__.py: code, cluster, message) plus `level` (error or warning) and `fix`
(what to run or do). Errors are what breaks KubeSphere's multi-cluster features now or silently (a jwtSecret
that differs: KubeSphere still calls the member Ready; a member whose KubeFedCluster is Offline while its
Cluster says Ready); warnings are drift and what will break later (a certificate that expires within the
margin, a group label that differs from the inventory), and `forbidden`: a kind the cluster's credential may not
read (a read-only credential that lacks it), whose checks are skipped rather than judged from an empty answer."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import clock as clock_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import versions as version_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import clock
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state
from ansible_collections.kubesphere.multicluster.plugins.module_utils import versions
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.vocabulary import CLUSTER_KIND, GROUP_LABEL

LEVELS = ("error", "warning")
DEFAULTS = {"cert_expiry_days": 30}


def finding(code, cluster, level, message, fix):
    out = problem(code, cluster, message)
    out.update(level=level, fix=fix)
    return out


def diagnose(facts, inventory, options=None):
    """Every finding about the fleet, errors first, then by cluster and code.

    `facts`: {inventory cluster name: its cluster_info facts, or None when it was not read};
    `inventory`: the clusters as fleet.model describes them ({name, role, cluster_group, provider, ...});
    `options`: cert_expiry_days (30), now (an aware UTC datetime)."""
    opts = dict(DEFAULTS, **(options or {}))
    opts.setdefault("now", datetime.datetime.now(datetime.timezone.utc))
    out = []
    readable = {}
    for c in inventory:
        f = facts.get(c["name"])
        if not f or not f.get("reachable"):
            reason = (f or {}).get("reason") or "it was not read (its cluster_info task did not run)"
            out.append(finding("unreachable", c["name"], "error", "cluster '%s' could not be read: %s"
                               % (c["name"], reason), "check its kubeconfig and context in the inventory, the "
                               "network path to its API server and its credentials, then run doctor.yml again"))
            continue
        readable[c["name"]] = (c, f)
        out += _forbidden(c["name"], f)
    out += _versions(readable)
    hosts = [(c, f) for c, f in readable.values() if c["role"] == "host"]
    host = hosts[0] if len(hosts) == 1 else None
    fleet_line = host[1].get("kubesphere_line") if host is not None else None
    for c, f in readable.values():
        out += _role(c, f, fleet_line)
    if host is not None and CLUSTER_KIND not in _unread(host[1]):
        out += _members(host, readable, inventory, opts)
    if host is not None:
        out += _extensions(host)
    out += _clocks(readable)
    return sorted(out, key=lambda x: (LEVELS.index(x["level"]), x["cluster"] or "", x["code"]))


def _unread(f):
    return {u.get("kind") for u in f.get("unreadable") or []}


def _forbidden(name, f):
    """One warning per kind the cluster's credential may not read: the doctor says what it could not check
    instead of failing (or of concluding from an empty answer)."""
    out = []
    for u in f.get("unreadable") or []:
        where = " in namespace %s" % u["namespace"] if u.get("namespace") else ""
        out.append(finding(u.get("code") or "forbidden", name, "warning", "cluster '%s': the credential may not "
                           "read %s%s (%s), so what depends on it was not checked" % (
                               name, u["kind"], where, u.get("message") or "403 Forbidden"),
                           "grant the inventory's credential for this cluster get/list/watch on %s%s (the "
                           "read-only fleet role: docs/rbac/fleet-reader.yaml), or accept the unchecked part"
                           % (u["kind"], where)))
    return out


def _versions(readable):
    out = []
    for name, (_c, f) in sorted(readable.items()):
        if f.get("kubesphere_line") and f.get("version_managed") is False:
            out.append(finding("unsupported_version", name, "error", "cluster '%s' runs KubeSphere %s (%s), which "
                               "this release of the collection does not manage" % (
                                   name, f["kubesphere_line"], f.get("version_evidence")),
                               "manage it with a release of kubesphere.multicluster that supports KubeSphere %s"
                               % f["kubesphere_line"]))
    for p in version_checks.mixed_lines(None, {n: f.get("kubesphere_line") for n, (_c, f) in readable.items()}):
        out.append(finding(p["code"], p["cluster"], "error", p["message"],
                           "upgrade the clusters of the older version (KubeSphere's own upgrade path), or "
                           "keep each version in its own inventory"))
    return out


def _role(c, f, fleet_line=None):
    name, wanted, role = c["name"], c["role"], f.get("role") or "none"
    if f.get("kubesphere_installed") is None and f.get("role") is None:
        return []  # neither its ClusterConfiguration nor its kubesphere-config could be read: a `forbidden` finding
    if not f.get("kubesphere_installed") and wanted == "member" and versions.member_needs_no_install(fleet_line):
        return []  # 4.1: the host installs ks-core on a member when it imports it (`not_imported` says so)
    if not f.get("kubesphere_installed"):
        return [finding("not_installed", name, "warning", "cluster '%s' has no KubeSphere installed" % name,
                        "install KubeSphere on it in its role, then run site.yml")]
    if role != wanted:
        return [finding("role_differs", name, "error", "cluster '%s' is the inventory's %s, but its KubeSphere "
                        "runs as %s" % (name, wanted, role), "run site.yml (it sets the %s role)" % wanted)]
    return []


def _extensions(host):
    """KubeSphere 4.1: an extension whose last install, upgrade or uninstall failed (`failed`, as the version's
    extension words judge its InstallPlan's state)."""
    hc, hf = host
    out = []
    for e in hf.get("extensions") or []:
        if e.get("failed"):
            out.append(finding("extension_failed", hc["name"], "error", "host '%s': extension %s is %s (version %s): %s"
                               % (hc["name"], e.get("name"), e.get("state"), e.get("version"),
                                  e.get("failure") or "no reason recorded"),
                               "a known wedge: %s" % e["fix"] if e.get("fix") else
                               "read the pod log of its helm-executor Job (%s/%s), fix the cause, then run the "
                               "extension module again with a changed config (a comment line is enough: KubeSphere "
                               "retries only on a change); an UninstallFailed one goes with the annotation "
                               "kubesphere.io/force-delete on its InstallPlan" % (e.get("target_namespace"), e.get("job_name"))))
    return out


def _members(host, readable, inventory, opts):
    hc, hf = host
    out = []
    placed = {s["name"]: s for s in hf.get("clusters") or [] if s.get("name")}
    wanted = {c["name"]: c for c in inventory if c["role"] == "member"}
    for name, c in sorted(wanted.items()):
        summary = placed.get(name)
        if summary is None:
            out.append(finding("not_imported", name, "warning", "cluster '%s' is a member in the inventory but host "
                               "'%s' has no Cluster of that name" % (name, hc["name"]), "run join.yml"))
            continue
        out += _member(name, c, summary, hc, hf, readable.get(name, (None, None))[1], opts)
    for name, summary in sorted(placed.items()):
        if summary.get("role") == "member" and name not in wanted:
            out.append(finding("not_in_inventory", name, "warning", "host '%s' has a Cluster '%s' that the "
                               "inventory does not list" % (hc["name"], name),
                               "add it to kubesphere_members, or unbind it (unbind.yml with the cluster in the "
                               "inventory, or the console)"))
    return out


def _member(name, c, summary, hc, hf, mf, opts):
    out = []
    health = summary.get("health")
    if health is not None and health != "ready":
        out.append(finding("member_unhealthy", name, "error", "cluster '%s' is not healthy on host '%s': %s" % (
            name, hc["name"], summary.get("health_reason") or health),
            "status.yml shows its conditions; %s, or unbind it (unbind.yml, force for a dead member)"
            % ("bring its API server back (KubeSphere 4.1 sets Ready False while it is unreachable; without "
               "KSCoreReady the host's install of ks-core on it has not succeeded: the member's Helm release ks-core "
               "in kubesphere-system says why)" if versions.member_needs_no_install(hf.get("kubesphere_line"))
               else "a member that died after joining stays Ready on its Cluster, so bring its API server back")))
    if mf and hf.get("jwt_secret_hash") and mf.get("jwt_secret_hash") and \
            mf["jwt_secret_hash"] != hf["jwt_secret_hash"]:
        out.append(finding("jwt_secret_differs", name, "error", "cluster '%s': its jwtSecret differs from host "
                           "'%s''s (KubeSphere still reports it Ready, but tokens issued by the host are rejected "
                           "there)" % (name, hc["name"]),
                           "the host passes its jwtSecret to ks-core on the member only when it installs or upgrades "
                           "it: change the member Cluster's spec.config so the host upgrades ks-core there (KubeSphere "
                           "4.1)" if versions.member_needs_no_install(hf.get("kubesphere_line")) else
                           "run site.yml (member_config copies the host's jwtSecret to the member)"))
    out += _labels(name, c, summary)
    out += _certificate(name, summary, opts)
    out += _proxy(name, summary, hc, hf, mf)
    out += _made_locally(name, hc, mf)
    if mf:
        host_only = versions.host_only_components(hf.get("kubesphere_line"))
        missing = [n for n in hf.get("components") or [] if n not in host_only
                   and n not in (mf.get("components") or [])]
        if missing:
            out.append(finding("components_missing", name, "warning", "cluster '%s' lacks components enabled on "
                               "host '%s': %s (their multi-cluster views show nothing for it)"
                               % (name, hc["name"], ", ".join(missing)),
                               "enable them on the member (member_config_sync_components: true in site.yml)"))
    return out


def _proxy(name, summary, hc, hf, mf):
    """A proxy member whose cluster-agent dials an address other than where the host publishes tower now (the
    address was changed and this agent not re-pointed): it reconnects to the old address, or never."""
    if summary.get("connection_type") != "proxy" or not mf:
        return []
    seen = cluster_state.agent_agreement(mf, hf)
    if seen["matches"] is not False:
        return []
    return [finding("stale_proxy_address", name, "error", "cluster '%s': its cluster-agent dials %s, but host "
                    "'%s' publishes tower at %s" % (name, seen["dials"], hc["name"], seen["published"]),
                    "run join.yml: it re-points every proxy member's agent to the host's address")]


def _made_locally(name, hc, mf):
    """A joined member holding namespaces or workspaces kubefed does not manage: made on its own console (or
    with its own credentials); the host's console and multi-cluster projects never show them."""
    found = (mf or {}).get("made_locally") or {}
    parts = ["%s %s" % (what, ", ".join(found[what])) for what in ("namespaces", "workspaces") if found.get(what)]
    if not parts:
        return []
    return [finding("made_on_member", name, "warning", "cluster '%s' holds %s made on the member itself (not "
                    "managed by kubefed): host '%s' never shows them" % (name, " and ".join(parts), hc["name"]),
                    "make them multi-cluster projects and workspaces from the host (federate.yml; adopt: true takes "
                    "over the existing namespace), or delete them on the member")]


def _labels(name, c, summary):
    out = []
    have, want = summary.get("cluster_group"), c.get("cluster_group")
    if (have or None) != (want or None):
        if want:
            fix = "run join.yml (it sets label %s=%s)" % (GROUP_LABEL, want)
        else:
            fix = "remove the label: kubectl --context <host> label cluster %s %s-" % (name, GROUP_LABEL)
        out.append(finding("group_differs", name, "warning", "cluster '%s': its group on the host is %s, the "
                           "inventory's is %s" % (name, _shown(have), _shown(want)), fix))
    have, want = summary.get("provider"), c.get("provider")
    if want and have != want:
        out.append(finding("provider_differs", name, "warning", "cluster '%s': its provider on the host is %s, the "
                           "inventory's is %s" % (name, _shown(have), _shown(want)), "run join.yml"))
    return out


def _shown(value):
    return "'%s'" % value if value else "unset"


def _certificate(name, summary, opts):
    text = summary.get("client_cert_not_after")
    if not text:
        return []
    not_after = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    fix = ("renew the member's client certificate and run join.yml with the new kubeconfig, or import it with "
           "join_dedicated_credential: true (a ServiceAccount token, which does not expire)")
    if not_after <= opts["now"]:
        return [finding("certificate_expired", name, "error", "cluster '%s': the client certificate of the "
                        "kubeconfig its Cluster stores expired on %s" % (name, text), fix)]
    days = (not_after - opts["now"]).total_seconds() / 86400.0
    if days < float(opts["cert_expiry_days"]):
        return [finding("certificate_expiring", name, "warning", "cluster '%s': the client certificate of the "
                        "kubeconfig its Cluster stores expires on %s, in %d days (margin %g)"
                        % (name, text, int(days), float(opts["cert_expiry_days"])), fix)]
    return []


def _clocks(readable):
    facts = [f for _c, f in readable.values()]
    limits = [f.get("maximum_clock_skew_seconds") for f in facts if f.get("maximum_clock_skew_seconds")]
    report = clock_checks.skew_report(clock_checks.cluster_offsets(facts),
                                      threshold=min(limits) if limits else clock.DEFAULT_MAX_SKEW)
    return [finding(p["code"], p["cluster"], "error" if p["code"] == "clock_skew" else "warning", p["message"],
                    "synchronise the nodes' clocks (time_sync.yml with kubesphere_time_sync_nodes)")
            for p in report["problems"]]


def counts(findings):
    return {level: sum(1 for x in findings if x["level"] == level) for level in LEVELS}


def text(findings):
    """The findings as lines for a person: level, code, message, then the fix."""
    if not findings:
        return "the doctor found nothing wrong"
    n = counts(findings)
    lines = ["the doctor found %d error%s and %d warning%s:" % (
        n["error"], "" if n["error"] == 1 else "s", n["warning"], "" if n["warning"] == 1 else "s")]
    for x in findings:
        lines.append("- %s [%s] %s; fix: %s" % (x["level"].upper(), x["code"], x["message"], x["fix"]))
    return "\n".join(lines)
