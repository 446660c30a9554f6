# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The fleet report: pure functions from each cluster's facts (what
cluster_info returns) to a report model, a standalone HTML page (fleet table and an inline SVG topology,
no external assets) and machine-readable JSON.

The facts' shape evolves, so every read here is tolerant: a missing key shows as unknown, never as an
error. What is read, and from where:

- a cluster's own facts: name, reachable, reason_code, reason, role, kubernetes_version,
  kubesphere_version, kubesphere_installed, jwt_secret_hash, clock {offset, uncertainty}, warnings,
  projects (list of names or of {name}; cluster_info does not read them: the fleet_report filter adds
  the names each member's federation_info result lists, which is how the status role's report gets them),
  connection_type;
- the host's facts: maximum_clock_skew_seconds, and `clusters` (its Cluster objects: name, role,
  connection_type, ready, ready_reason, conditions, kubernetes_version, kubesphere_version, and, when the
  read model has them, kubefed {ready, offline, reason} or kubefed_ready, and projects);
- the host's `kubefed_clusters` ([{name, ready, offline, reason}]) and `federated_projects`
  ([{name, clusters: [...]}]), when present.

Ready as kubefed sees it is the KubeFedCluster's Ready/Offline conditions when the facts carry them;
without them the report falls back to the Cluster's `Federated` condition, shown as "joined" (KubeSphere
saying the join happened), never as "Ready".

Nothing secret is read or written: the jwtSecret appears only as "same as the host's" or not."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math

from html import escape as _escape

SCHEMA = "kubesphere.multicluster/fleet-report/v1"
DEFAULT_MAX_SKEW = 10.0

STATE_WORDS = {
    "ready": "Ready",
    "degraded": "Degraded",
    "not_ready": "Not ready",
    "unreachable": "Unreachable",
    "not_joined": "Not joined",
    "host": "Host",
    "unknown": "Unknown",
}
COLOURS = {
    "ready": "#2e7d32", "host": "#1565c0", "degraded": "#ef8f00", "not_ready": "#c62828",
    "unreachable": "#6d1b1b", "not_joined": "#757575", "unknown": "#9e9e9e",
}


def _d(value):
    return value if isinstance(value, dict) else {}


def _l(value):
    return value if isinstance(value, list) else []


def _condition(entry, ctype):
    for c in _l(_d(entry).get("conditions")):
        if _d(c).get("type") == ctype:
            return c
    return None


def _names(items):
    out = []
    for item in _l(items):
        name = item.get("name") if isinstance(item, dict) else item
        if name and str(name) not in out:
            out.append(str(name))
    return out


# ---------------------------------------------------------------------------------------------------
# the model


def _kubefed(name, host_entry, host_facts):
    """{'ready': True/False/None, 'source': 'kubefedcluster'|'federated-condition'|None, 'reason': str}."""
    fed = host_entry.get("kubefed")
    if isinstance(fed, dict) and ("ready" in fed or "offline" in fed):
        ready = fed.get("ready")
        if fed.get("offline") is True:
            ready = False
        return {"ready": ready, "source": "kubefedcluster", "reason": fed.get("reason") or fed.get("message")}
    if "kubefed_ready" in host_entry:
        return {"ready": host_entry.get("kubefed_ready"), "source": "kubefedcluster",
                "reason": host_entry.get("kubefed_reason")}
    for kc in _l(host_facts.get("kubefed_clusters")):
        if _d(kc).get("name") == name:
            ready = kc.get("ready")
            if kc.get("offline") is True:
                ready = False
            return {"ready": ready, "source": "kubefedcluster", "reason": kc.get("reason") or kc.get("message")}
    federated = _condition(host_entry, "Federated")
    if federated:
        return {"ready": None, "source": "federated-condition", "joined": federated.get("status") == "True",
                "reason": federated.get("message") or federated.get("reason")}
    return {"ready": None, "source": None, "reason": None}


def _projects(name, facts, host_entry, host_facts):
    found = _names(facts.get("projects")) + _names(host_entry.get("projects"))
    for project in _l(host_facts.get("federated_projects")):
        placed = _names(_d(project).get("clusters"))
        if name in placed and project.get("name"):
            found.append(str(project["name"]))
    out = []
    for p in found:
        if p not in out:
            out.append(p)
    return sorted(out)


def _skew(clock, ref, threshold):
    clock = _d(clock)
    if "offset" not in clock:
        return None
    ref = _d(ref)
    try:
        value = float(clock["offset"]) - float(ref.get("offset") or 0.0)
        uncertainty = float(clock.get("uncertainty") or 0.0) + float(ref.get("uncertainty") or 0.0)
    except (TypeError, ValueError):
        return None
    value = round(value, 2) or 0.0
    return {"seconds": value, "uncertainty": round(uncertainty, 2), "threshold": threshold,
            "within": abs(value) <= uncertainty, "too_far": abs(value) - uncertainty > threshold}


def _state(row):
    if not row["reachable"]:
        return "unreachable"
    if row["role"] == "host":
        return "host"
    ks = row["ready_kubesphere"]
    if ks is None:
        return "not_joined" if not row["joined"] else "unknown"
    if ks is False:
        return "not_ready"
    if row["kubefed"]["ready"] is False:
        return "degraded"
    return "ready"


def report(all_facts, host=None, connection_types=None, generated=None):
    """The report model: {'schema', 'generated', 'host', 'clusters': [...], 'notes': [...], 'summary'}.

    all_facts: each cluster's facts (cluster_info's `cluster`); host: the host cluster's name (else the
    cluster whose role is host); connection_types: {name: 'direct'|'proxy'} from the inventory, used when
    the host's Cluster object does not say."""
    all_facts = [_d(f) for f in _l(all_facts) if _d(f).get("name")]
    connection_types = _d(connection_types)
    by_name = {f["name"]: f for f in all_facts}
    host_f = by_name.get(host) if host else None
    if host_f is None:
        host_f = next((f for f in all_facts if f.get("role") == "host"), {})
    host_name = host_f.get("name") or host
    host_view = {}
    for entry in _l(host_f.get("clusters")):
        if _d(entry).get("name"):
            host_view[entry["name"]] = entry
    threshold = host_f.get("maximum_clock_skew_seconds") or DEFAULT_MAX_SKEW
    ref = host_f.get("clock") if host_f.get("reachable") else None
    rows, notes = [], []
    names = [f["name"] for f in all_facts] + sorted(n for n in host_view if n not in by_name
                                                    and _d(host_view[n]).get("role") != "host")
    for name in names:
        facts = by_name.get(name, {})
        entry = _d(host_view.get(name))
        in_inventory = name in by_name
        reachable = facts.get("reachable") if in_inventory else None
        role = facts.get("role") or entry.get("role") or ("host" if name == host_name else "member")
        if name == host_name:
            role = "host"
        kf = _kubefed(name, entry, host_f)
        ready = entry.get("ready") if entry else None
        if entry and ready is None:
            cond = _condition(entry, "Ready")
            ready = None if cond is None else cond.get("status") == "True"
        jwt = facts.get("jwt_secret_hash")
        host_jwt = host_f.get("jwt_secret_hash")
        row = {
            "name": name,
            "role": role,
            "in_inventory": in_inventory,
            "reachable": bool(reachable) if in_inventory else True,
            "reason_code": facts.get("reason_code"),
            "reason": facts.get("reason"),
            "kubernetes_version": facts.get("kubernetes_version") or entry.get("kubernetes_version"),
            "kubesphere_version": facts.get("kubesphere_version") or entry.get("kubesphere_version"),
            "connection_type": entry.get("connection_type") or facts.get("connection_type")
            or connection_types.get(name),
            "joined": bool(entry) if role != "host" else True,
            "ready_kubesphere": ready if role != "host" or entry else None,
            "ready_reason": entry.get("ready_reason") or _d(_condition(entry, "Ready")).get("message"),
            "kubefed": kf,
            "jwt_matches_host": None if not (jwt and host_jwt) else jwt == host_jwt,
            "clock_skew": _skew(facts.get("clock"), ref, threshold) if role != "host" else None,
            "projects": _projects(name, facts, entry, host_f),
            "warnings": [str(w) for w in _l(facts.get("warnings"))],
        }
        if not in_inventory:
            row["reachable"] = True
            notes.append("%s: joined to the host but not in the inventory: shown as the host sees it" % name)
        row["state"] = _state(row)
        if not row["reachable"]:
            notes.append("%s: unreachable [%s] %s" % (name, row["reason_code"], row["reason"]))
        if row["jwt_matches_host"] is False:
            notes.append("%s: jwtSecret differs from the host's (tokens issued by the host are refused)" % name)
        if row["clock_skew"] and row["clock_skew"]["too_far"]:
            notes.append("%s: clock %+.1f s from the host's, more than KubeSphere's maximumClockSkew (%g s)"
                         % (name, row["clock_skew"]["seconds"], threshold))
        if row["role"] != "host" and row["ready_kubesphere"] is False:
            notes.append("%s: not Ready: %s" % (name, row["ready_reason"] or "no reason given"))
        notes += ["%s: %s" % (name, w) for w in row["warnings"]]
        rows.append(row)
    counts = {}
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    return {"schema": SCHEMA, "generated": generated, "host": host_name, "clusters": rows, "notes": notes,
            "summary": counts}


def to_json(model):
    return json.dumps(model, indent=2, sort_keys=True)


# ---------------------------------------------------------------------------------------------------
# HTML


def _e(value):
    return _escape("" if value is None else str(value), True)


def _yes_no(value, yes="yes", no="no", unknown="-"):
    return unknown if value is None else (yes if value else no)


def _kubefed_words(kf):
    if kf.get("source") == "kubefedcluster":
        return _yes_no(kf.get("ready"), "Ready", "Offline / not ready", "unknown")
    if kf.get("source") == "federated-condition":
        return "joined" if kf.get("joined") else "not joined"
    return "-"


def _skew_words(skew):
    if not skew:
        return "-"
    return "%s%+.1f s" % ("\u2248" if skew["within"] else "", skew["seconds"])


def _table(model):
    head = ("Cluster", "Role", "State", "Connection", "Kubernetes", "KubeSphere", "Ready (KubeSphere)",
            "Ready (kubefed)", "jwtSecret = host", "Clock skew", "Projects")
    out = ['<table id="fleet"><thead><tr>%s</tr></thead><tbody>' % "".join("<th>%s</th>" % h for h in head)]
    for r in model["clusters"]:
        ready_ks = "-" if r["role"] == "host" and r["ready_kubesphere"] is None else \
            ("not joined" if not r["joined"] else _yes_no(r["ready_kubesphere"], "Ready", "Not ready", "unknown"))
        cells = (
            '<td class="name">%s</td>' % _e(r["name"]),
            "<td>%s</td>" % _e(r["role"]),
            '<td><span class="badge" style="background:%s">%s</span></td>' % (COLOURS[r["state"]],
                                                                              _e(STATE_WORDS[r["state"]])),
            "<td>%s</td>" % _e(r["connection_type"] or "-"),
            "<td>%s</td>" % _e(r["kubernetes_version"] or "-"),
            "<td>%s</td>" % _e(r["kubesphere_version"] or "-"),
            '<td title="%s">%s</td>' % (_e(r["ready_reason"]), _e(ready_ks)),
            '<td title="%s">%s</td>' % (_e(r["kubefed"].get("reason")), _e(_kubefed_words(r["kubefed"]))),
            "<td>%s</td>" % _e(_yes_no(r["jwt_matches_host"], "yes", "NO")),
            "<td>%s</td>" % _e(_skew_words(r["clock_skew"])),
            "<td>%s</td>" % _e(", ".join(r["projects"]) or "-"),
        )
        out.append('<tr data-cluster="%s" data-state="%s">%s</tr>' % (_e(r["name"]), _e(r["state"]), "".join(cells)))
    out.append("</tbody></table>")
    return "\n".join(out)


def _svg(model):
    """Host in the middle, members on a circle around it; the edge's dash says the connection mode, its
    colour and each node's the state; under each member: Ready as KubeSphere and kubefed see it, the clock
    skew, and its projects."""
    rows = model["clusters"]
    host = next((r for r in rows if r["role"] == "host"), None)
    members = [r for r in rows if r is not host]
    n = len(members)
    radius = 0 if not n else (170 if n <= 4 else 170 + 12 * (n - 4))
    spots = [2 * math.pi * i / max(n, 1) for i in range(n)]  # the first member to the right; two: left, right
    ys = [0.0] + [radius * math.sin(a) for a in spots]
    width = max(760, 2 * radius + 360)
    height = int(max(ys) - min(ys)) + 270  # room above for a circle, below for a node's lines and the legend
    cx, cy = width / 2.0, 80.0 - min(ys)
    parts = ['<svg id="topology" xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="%d" '
             'viewBox="0 0 %d %d" font-family="sans-serif">' % (width, height, width, height),
             "<title>Fleet topology: host %s and %d member(s)</title>" % (_e(model.get("host")), n)]
    positions = []
    for m, angle in zip(members, spots):
        positions.append((m, cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    for m, x, y in positions:  # edges first, under the nodes
        dash = {"direct": "", "proxy": ' stroke-dasharray="10 6"'}.get(m["connection_type"], ' stroke-dasharray="2 6"')
        colour = COLOURS[m["state"]]
        values = (_e(m["name"]), _e(m["connection_type"] or "none"), cx, cy, x, y, colour, dash)
        parts.append('<line class="edge" data-cluster="%s" data-connection="%s" x1="%.1f" y1="%.1f" x2="%.1f" '
                     'y2="%.1f" stroke="%s" stroke-width="3"%s/>' % values)
        label = m["connection_type"] or ("not joined" if not m["joined"] else "?")
        parts.append('<text class="mode" x="%.1f" y="%.1f" font-size="12" fill="#444" text-anchor="middle"%s>%s</text>'
                     % (cx + 0.6 * (x - cx), cy + 0.6 * (y - cy) - 6, HALO, _e(label)))
    if host:
        parts.append(_node(host, cx, cy, 46))
    for m, x, y in positions:
        parts.append(_node(m, x, y, 34))
    legend_y = height - 18
    parts.append('<g font-size="12" fill="#333">'
                 '<line x1="16" y1="%d" x2="56" y2="%d" stroke="#333" stroke-width="3"/>'
                 '<text x="62" y="%d">direct</text>'
                 '<line x1="120" y1="%d" x2="160" y2="%d" stroke="#333" stroke-width="3" stroke-dasharray="10 6"/>'
                 '<text x="166" y="%d">proxy (tower)</text>'
                 '<line x1="262" y1="%d" x2="302" y2="%d" stroke="#333" stroke-width="3" stroke-dasharray="2 6"/>'
                 '<text x="308" y="%d">not joined / unknown</text></g>'
                 % tuple([legend_y, legend_y, legend_y + 4] * 3))
    parts.append("</svg>")
    return "\n".join(parts)


HALO = ' paint-order="stroke" stroke="#fff" stroke-width="4" stroke-linejoin="round"'


def _node(r, x, y, size):
    colour = COLOURS[r["state"]]
    lines = ["%s" % STATE_WORDS[r["state"]]]
    if r["role"] != "host":
        ks = "not joined" if not r["joined"] else _yes_no(r["ready_kubesphere"], "Ready", "not Ready", "?")
        lines.append("KubeSphere: %s" % ks)
        lines.append("kubefed: %s" % _kubefed_words(r["kubefed"]))
        lines.append("skew: %s" % _skew_words(r["clock_skew"]))
    else:
        lines.append("KubeSphere %s" % (r["kubesphere_version"] or "?"))
    out = ['<g class="node" data-cluster="%s" data-state="%s">' % (_e(r["name"]), _e(r["state"])),
           '<circle cx="%.1f" cy="%.1f" r="%d" fill="%s" stroke="#fff" stroke-width="3"/>' % (x, y, size, colour),
           '<text x="%.1f" y="%.1f" font-size="%d" font-weight="bold" fill="#fff" text-anchor="middle">%s</text>'
           % (x, y + 5, 15 if r["role"] == "host" else 13, _e(r["name"]))]
    ty = y + size + 16
    for line in lines:
        out.append('<text x="%.1f" y="%.1f" font-size="12" fill="#222" text-anchor="middle"%s>%s</text>'
                   % (x, ty, HALO, _e(line)))
        ty += 15
    projects = r["projects"][:4]
    if r["projects"]:
        more = len(r["projects"]) - len(projects)
        label = ", ".join(projects) + (" +%d" % more if more > 0 else "")
        w = 14 + 7 * len(label)
        out.append('<rect class="projects" x="%.1f" y="%.1f" width="%d" height="18" rx="9" fill="#e3f2fd" '
                   'stroke="#1565c0"/>' % (x - w / 2.0, ty - 12, w))
        out.append('<text x="%.1f" y="%.1f" font-size="11" fill="#0d47a1" text-anchor="middle">%s</text>'
                   % (x, ty + 1, _e(label)))
    out.append("</g>")
    return "\n".join(out)


CSS = """
body{font-family:sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px} .meta{color:#666;font-size:13px;margin-bottom:16px}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:12px 0}
th,td{border:1px solid #ddd;padding:6px 9px;text-align:left} th{background:#eceff1}
td.name{font-weight:bold} .badge{color:#fff;border-radius:10px;padding:2px 9px;font-size:12px;white-space:nowrap}
#topology{background:#fff;border:1px solid #ddd} ul.notes{font-size:13px} .summary span{margin-right:14px}
"""


def to_html(model, title="KubeSphere fleet report"):
    """A standalone page: no scripts, no external stylesheets, fonts or images."""
    summary = "".join('<span class="summary-%s">%s: %d</span>' % (_e(k), _e(STATE_WORDS.get(k, k)), v)
                      for k, v in sorted(model["summary"].items()))
    notes = "".join("<li>%s</li>" % _e(n) for n in model["notes"]) or "<li>none</li>"
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>%s</title>" % _e(title),
        "<style>%s</style></head><body>" % CSS,
        "<h1>%s</h1>" % _e(title),
        '<div class="meta">host: <b>%s</b> &middot; %d cluster(s)%s</div>'
        % (_e(model.get("host") or "?"), len(model["clusters"]),
           (" &middot; generated %s" % _e(model["generated"])) if model.get("generated") else ""),
        '<div class="summary">%s</div>' % summary,
        _svg(model),
        "<h2>Clusters</h2>",
        _table(model),
        "<h2>Notes</h2>",
        '<ul class="notes">%s</ul>' % notes,
        "</body></html>",
    ])
