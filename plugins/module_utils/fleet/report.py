# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Reports over many clusters' facts (pure): the fleet table that
playbooks/status.yml prints (filter fleet_table), and the peer facts multicluster_role's checks take
(filter peer_facts). Input is what cluster_info returned for each cluster (`cluster`)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import clock
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import clock as clock_checks

# ---------------------------------------------------------------------------------------------------
# the fleet table

COLUMNS = ("CLUSTER", "ROLE", "KUBERNETES", "KUBESPHERE", "READY", "JWT=HOST", "SKEW")


def fleet_rows(all_facts, host=None):
    """One row per cluster (dicts keyed by COLUMNS) plus notes, from each cluster's cluster_info facts.

    READY is what the host's Cluster objects say (yes / no / not joined), corrected by kubefed: a Cluster
    whose KubeFedCluster says Offline is OFFLINE (a member that died after joining keeps Ready True on its
    Cluster; a note says so), one whose health is otherwise not proven gets its verdict in parentheses, e.g.
    "yes (unknown)"; clusters the host manages that
    are not among `all_facts` get a row as the host sees them, and a note. JWT=HOST compares the jwtSecret
    fingerprint with the host's; SKEW is the clock offset against the host (the controller when the host
    could not be measured), '~' marking a value within the 1 s resolution of the Date header."""
    by_name = {f["name"]: f for f in all_facts}
    host_f = by_name.get(host) if host else next((f for f in all_facts if f.get("role") == "host"), None)
    host_view = {c["name"]: c for c in (host_f or {}).get("clusters") or []}
    # the host's credential may not list Clusters: whether a member joined is unknown, not "not joined"
    blind = any(u.get("kind") == "Cluster" for u in (host_f or {}).get("unreadable") or [])
    ref = (host_f or {}).get("clock")
    rows, notes = [], []
    for f in all_facts:
        if not f["reachable"]:
            rows.append(dict(zip(COLUMNS, (f["name"], "?", "-", "-", _ready(host_view.get(f["name"])), "-", "-"))))
            notes.append("%s: UNREACHABLE [%s] %s" % (f["name"], f["reason_code"], f["reason"]))
            continue
        ks = f["kubesphere_version"] or ("installed" if f["kubesphere_installed"] else "?"
                                         if f["kubesphere_installed"] is None else "not installed")
        ready = "?" if blind else _ready(host_view.get(f["name"])) if f is not host_f or f["name"] in host_view else "-"
        rows.append(dict(zip(COLUMNS, (f["name"], f["role"] or "?", f["kubernetes_version"] or "-", ks, ready,
                                       _jwt(f, host_f), _skew(f["clock"], ref)))))
        notes += ["%s: %s" % (f["name"], w) for w in f.get("warnings") or []]
        notes += extension_notes(f)
    for name, seen in sorted(host_view.items()):
        if name not in by_name and seen["role"] != "host":
            rows.append(dict(zip(COLUMNS, (name, "member", seen["kubernetes_version"] or "-",
                                           seen["kubesphere_version"] or "-", _ready(seen), "-", "-"))))
            notes.append("%s: joined to the host but not in the inventory (no kubeconfig): shown as the host sees it"
                         % name)
    for name, seen in sorted(host_view.items()):
        if seen.get("health") and seen["health"] not in ("ready", "absent") and seen["role"] != "host" \
                and (seen["ready"] or seen["health"] == "offline"):
            notes.append("%s: %s" % (name, seen.get("health_reason") or seen["health"]))
    for f in all_facts:
        seen = host_view.get(f["name"])
        if f["reachable"] and seen and seen.get("connection_type") == "proxy":
            agree = cluster_state.agent_agreement(f, host_f)
            if agree["dials"] or agree["published"]:
                notes.append("%s: proxy agent dials %s; the host publishes %s%s" % (
                    f["name"], agree["dials"] or "(no agent)", agree["published"] or "(unknown)",
                    " (STALE: run join.yml)" if agree["matches"] is False else ""))
    offsets = {f["name"]: f.get("clock") for f in all_facts if f["reachable"]}
    threshold = (host_f or {}).get("maximum_clock_skew_seconds") or clock.DEFAULT_MAX_SKEW
    notes += [p["message"] for p in clock_checks.skew_report(offsets, threshold)["problems"]]
    return rows, notes


def extension_notes(f):
    """KubeSphere 4.1: a note for each extension of the cluster (a host's InstallPlans) that is not Installed."""
    return ["%s: extension %s is %s (version %s)%s" % (f["name"], e.get("name"), e.get("state") or "not acted on yet",
                                                       e.get("version"), ": %s" % e["failure"] if e.get("failure") else "")
            for e in f.get("extensions") or [] if not e.get("installed")]


def _ready(seen):
    if seen is None:
        return "not joined"
    health = seen.get("health")
    if health == "offline":
        return "OFFLINE"
    if seen["ready"] and health and health != "ready":
        return "yes (%s)" % health
    return "yes" if seen["ready"] else "no"


def _jwt(f, host_f):
    if host_f is None or not host_f.get("reachable"):
        return "?"
    if not f["jwt_secret_hash"] or not host_f.get("jwt_secret_hash"):
        return "-"
    return "yes" if f["jwt_secret_hash"] == host_f["jwt_secret_hash"] else "NO"


def _skew(off, ref):
    if not off:
        return "-"
    base = ref["offset"] if ref else 0.0
    value = round(off["offset"] - base, 1) or 0.0  # no "-0.0"
    unc = off["uncertainty"] + (ref["uncertainty"] if ref else 0.0)
    return "%s%+.1fs" % ("~" if abs(value) <= unc else "", value)


def fleet_table(all_facts, host=None):
    """The fleet as aligned text: a header, one line per cluster, then notes (unreachable clusters with
    their reason, warnings, clock-skew problems)."""
    rows, notes = fleet_rows(all_facts, host)
    widths = [max([len(c)] + [len(str(r[c])) for r in rows]) for c in COLUMNS]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths)).rstrip()]
    lines += ["  ".join(str(r[c]).ljust(w) for c, w in zip(COLUMNS, widths)).rstrip() for r in rows]
    return "\n".join(lines + ([""] + notes if notes else []))


def facts_of(result):
    """The cluster facts a cluster_info result holds: its `cluster`, or, for a read that failed on purpose
    (fail_on_unreachable), its `facts` (a failure's `cluster` is the cluster's name); None without either."""
    if not isinstance(result, dict):
        return None
    for key in ("cluster", "facts"):
        if isinstance(result.get(key), dict):
            return result[key]
    return None


def no_result(name, msg=None):
    """Facts for an inventory host whose cluster_info task did not run or failed."""
    return cluster_state.unreachable(name, "no_result",
                                     msg or "cluster_info returned no result (the task failed or was skipped)")


def peer_facts(all_facts):
    """What multicluster_role's checks need of every cluster (its `peers` option): name, role, kube-system
    UID, the KubeSphere line it runs, and on a host its Cluster objects' names and recorded UIDs. Never
    connection data."""
    out = []
    for f in all_facts:
        if not f or not f.get("name"):
            continue
        out.append({"name": f["name"], "role": f.get("role"), "kube_system_uid": f.get("kube_system_uid"),
                    "kubesphere_line": f.get("kubesphere_line"),
                    "clusters": [{"name": c["name"], "uid": c.get("uid")} for c in f.get("clusters") or []
                                 if c.get("name")]})
    return out


# ---------------------------------------------------------------------------------------------------
# projects per member

PROJECT_COLUMNS = ("CLUSTER", "PROJECTS", "IN SYNC", "NOT IN SYNC")


def projects_table(per_member):
    """Multi-cluster projects per member as aligned text. `per_member`: [(cluster name, federation_info result
    with `projects`, or None when it was not read)]. A member whose projects could not be read says why."""
    rows, notes = [], []
    for name, result in per_member:
        if not result or result.get("failed") or "projects" not in result:
            rows.append(dict(zip(PROJECT_COLUMNS, (name, "?", "-", "-"))))
            notes.append("%s: projects not read (%s)" % (name, (result or {}).get("msg") or "no result"))
            continue
        projects = result["projects"]
        bad = ["%s (%s%s)" % (p["name"], p["state"], ": " + ", ".join(p["fields"]) if p.get("fields") else "")
               for p in projects if p["state"] != "in_sync"]
        good = [p["name"] for p in projects if p["state"] == "in_sync"]
        rows.append(dict(zip(PROJECT_COLUMNS, (name, str(len(projects)), ", ".join(good) or "-",
                                               ", ".join(bad) or "-"))))
    widths = [max([len(c)] + [len(str(r[c])) for r in rows]) for c in PROJECT_COLUMNS]
    lines = ["  ".join(c.ljust(w) for c, w in zip(PROJECT_COLUMNS, widths)).rstrip()]
    lines += ["  ".join(str(r[c]).ljust(w) for c, w in zip(PROJECT_COLUMNS, widths)).rstrip() for r in rows]
    return "\n".join(lines + ([""] + notes if notes else []))


def peers_argspec():
    """The argument spec of `peers` (what peer_facts makes; documented by the doc fragment peers)."""
    return {"type": "list", "elements": "dict", "default": [], "options": {
        "name": {"type": "str", "required": True},
        "role": {"type": "str"},
        "kube_system_uid": {"type": "str"},
        "kubesphere_line": {"type": "str"},
        "clusters": {"type": "list", "elements": "dict", "default": [], "options": {
            "name": {"type": "str", "required": True},
            "uid": {"type": "str"},
        }},
    }}
