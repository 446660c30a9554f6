# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The clock-skew gate that runs before any join (pure checks).

Two measurements, neither needs SSH to a cluster:
- clusters: each API server's offset against the controller, from its `Date` header (clock.py, through
  cluster_info); compared pairwise by `skew_report`.
- nodes (where the inventory has node hosts): `chronyc -c tracking`, the node's offset from NTP time.
  Two nodes each within threshold/2 of NTP time are within the threshold of each other, so each node is
  judged alone and no fleet-wide join of node results is needed.

The threshold must stay below KubeSphere's maximumClockSkew (default 10s): tokens are rejected above it,
so the gate has to trip first. Codes: clock_skew, clock_skew_possible, bad_threshold,
node_not_synchronised, node_clock_offset."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import clock
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem


def skew_report(offsets, threshold=clock.DEFAULT_MAX_SKEW):
    """Pairwise clock skew of clusters.

    `offsets` maps a cluster name to its offset interval (from `sample_offset`/`combine`), a plain number
    of seconds (taken as exact), or None (not measured: left out and listed in `unmeasured`).
    Returns {max_skew, max_skew_pair, max_skew_uncertainty, threshold, unmeasured, problems}:
    - max_skew: the largest |offset_a - offset_b| by midpoints, rounded to ms (0.0 with fewer than two);
    - problems: one per pair whose skew exceeds `threshold` -- code `clock_skew` when even the smallest
      skew the intervals allow exceeds it, `clock_skew_possible` when only the largest does."""
    measured = {}
    for name, off in sorted(offsets.items()):
        if off is None:
            continue
        measured[name] = clock.interval(off, off) if isinstance(off, (int, float)) else off
    names = sorted(measured)
    report = {"max_skew": 0.0, "max_skew_pair": None, "max_skew_uncertainty": 0.0, "threshold": threshold,
              "unmeasured": sorted(n for n, o in offsets.items() if o is None), "problems": []}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            oa, ob = measured[a], measured[b]
            skew = abs(oa["offset"] - ob["offset"])
            least = max(oa["low"] - ob["high"], ob["low"] - oa["high"], 0.0)
            most = max(oa["high"] - ob["low"], ob["high"] - oa["low"])
            if skew > report["max_skew"] or report["max_skew_pair"] is None:
                report.update(max_skew=round(skew, 3), max_skew_pair=[a, b],
                              max_skew_uncertainty=round(oa["uncertainty"] + ob["uncertainty"], 3))
            if least > threshold:
                report["problems"].append(_skew_problem("clock_skew", a, b, skew, least, threshold, "differ by"))
            elif most > threshold:
                report["problems"].append(_skew_problem("clock_skew_possible", a, b, skew, most, threshold,
                                                        "may differ by up to"))
    return report


def _skew_problem(code, a, b, skew, bound, threshold, verb):
    return problem(
        code, b,
        "clusters '%s' and '%s': clocks %s %.1f s (measured %.1f s from the API servers' Date headers), "
        "more than maximumClockSkew %.0f s: KubeSphere tokens issued by one are rejected by the other; "
        "synchronise the nodes' clocks (NTP)" % (a, b, verb, bound, skew, threshold))


# `chronyc -c tracking` columns (chrony's CSV report): 0 reference ID, 1 reference name, 2 stratum,
# 3 reference time, 4 system time offset (s), 5 last offset (s), 6 RMS offset (s), ..., 13 leap status.
SYSTEM_TIME, LAST_OFFSET, LEAP = 4, 5, 13


def parse_tracking(text):
    """{reference, stratum, offset, last_offset, leap} from `chronyc -c tracking` output.
    Raises ValueError when the text is not that report."""
    line = (text or "").strip().splitlines()[-1] if (text or "").strip() else ""
    cols = line.split(",")
    if len(cols) < 14:
        raise ValueError("not the output of `chronyc -c tracking`: %r" % line[:80])
    try:
        return {"reference": cols[1], "stratum": int(cols[2]), "offset": float(cols[SYSTEM_TIME]),
                "last_offset": float(cols[LAST_OFFSET]), "leap": cols[LEAP]}
    except ValueError:
        raise ValueError("unreadable numbers in `chronyc -c tracking` output: %r" % line[:80])


def threshold_problem(threshold, maximum_clock_skews):
    """A problem when the gate would not trip before KubeSphere rejects tokens (None when fine)."""
    limits = [s for s in maximum_clock_skews if s]
    limit = min(limits) if limits else clock.DEFAULT_MAX_SKEW
    if threshold <= 0 or threshold >= limit:
        return problem("bad_threshold", None,
                       "the clock-skew threshold (%.1f s) must be above 0 and lower than KubeSphere's "
                       "maximumClockSkew (%.1f s)" % (threshold, limit))
    return None


def node_problems(node, tracking, threshold):
    """Problems of one node's `chronyc -c tracking` report against the threshold."""
    out = []
    if tracking["leap"].lower().startswith("not synchron"):
        out.append(problem("node_not_synchronised", node,
                           "node '%s': chrony is not synchronised (reference %s)" % (node, tracking["reference"] or "none")))
    if abs(tracking["offset"]) > threshold / 2.0:
        out.append(problem("node_clock_offset", node,
                           "node '%s': clock is %.3f s off NTP time, more than half the threshold (%.1f s)"
                           % (node, tracking["offset"], threshold)))
    return out


def cluster_offsets(cluster_facts):
    """{name: clock interval} of cluster_info results (`cluster` dicts); None for clusters not measured."""
    return {f["name"]: f.get("clock") if f.get("reachable", True) else None for f in cluster_facts}


def gate(cluster_facts=(), node=None, tracking=None, threshold=5.0):
    """The verdict: {problems (fail), warnings (only possible), report}. `tracking` is a node's parsed
    report (parse_tracking). Pure."""
    skews = [f.get("maximum_clock_skew_seconds") for f in cluster_facts]
    bad = threshold_problem(threshold, skews)
    if bad:
        return {"problems": [bad], "warnings": [], "report": None}
    report = skew_report(cluster_offsets(cluster_facts), threshold) if cluster_facts else None
    problems = [p for p in (report or {}).get("problems", []) if p["code"] == "clock_skew"]
    warnings = [p["message"] for p in (report or {}).get("problems", []) if p["code"] != "clock_skew"]
    warnings += ["cluster '%s': clock not measured" % n for n in (report or {}).get("unmeasured", [])]
    if tracking is not None:
        problems += node_problems(node, tracking, threshold)
    return {"problems": problems, "warnings": warnings, "report": report}
