"""The fleet report renderer: model from cluster_info facts (tolerant of missing keys), JSON, and a
standalone HTML page with the table and the SVG topology."""

import json
import re
import xml.etree.ElementTree as ET

from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet import report_page as fr
from ansible_collections.kubesphere.multicluster.plugins.filter.fleet_report import _fleet_report


def cluster_obj(name, ready=True, mode="direct", host=False, federated=None, **extra):
    conds = [{"type": "Ready", "status": "True" if ready else "False", "message": "m-%s" % name}]
    if federated is not None:
        conds.append({"type": "Federated", "status": "True" if federated else "False", "message": "joined"})
    d = {"name": name, "role": "host" if host else "member", "connection_type": mode, "ready": ready,
         "ready_reason": None if ready else "Agent has not connected to proxy.", "conditions": conds}
    d.update(extra)
    return d


def facts(name, role, offset=0.0, jwt="sha256:aaa", clusters=None, **extra):
    d = {"name": name, "reachable": True, "reason_code": None, "reason": None, "role": role,
         "kubernetes_version": "v1.34.3", "kubesphere_version": "v3.4.1", "kubesphere_installed": True,
         "jwt_secret_hash": jwt, "clock": {"offset": offset, "uncertainty": 0.5}, "clusters": clusters or [],
         "maximum_clock_skew_seconds": 10.0, "warnings": []}
    d.update(extra)
    return d


def fleet():
    host = facts("host", "host", clusters=[
        cluster_obj("host", host=True, federated=True),
        cluster_obj("m1", federated=True, kubefed={"ready": True, "offline": False}),
        cluster_obj("m2", ready=False, mode="proxy"),
        cluster_obj("m4", mode="proxy", federated=True),
    ], federated_projects=[{"name": "shop", "clusters": ["m1", "m4"]}, {"name": "web", "clusters": [{"name": "m1"}]}])
    return [host,
            facts("m1", "member", offset=0.3, projects=["local"]),
            facts("m2", "member", offset=30.0, jwt="sha256:bbb"),
            {"name": "m3", "reachable": False, "reason_code": "unreachable", "reason": "connection refused"}]


def by_name(model):
    return {r["name"]: r for r in model["clusters"]}


def test_model_states_and_sources():
    model = fr.report(fleet(), "host", {"m3": "direct"})
    rows = by_name(model)
    assert [r["name"] for r in model["clusters"]] == ["host", "m1", "m2", "m3", "m4"]
    assert {n: r["state"] for n, r in rows.items()} == {
        "host": "host", "m1": "ready", "m2": "not_ready", "m3": "unreachable", "m4": "ready"}
    assert rows["m1"]["kubefed"] == {"ready": True, "source": "kubefedcluster", "reason": None}
    assert rows["m4"]["kubefed"]["source"] == "federated-condition" and rows["m4"]["kubefed"]["ready"] is None
    assert rows["m4"]["in_inventory"] is False and rows["m4"]["connection_type"] == "proxy"
    assert rows["m3"]["connection_type"] == "direct"  # from the inventory when the host does not know it
    assert rows["m1"]["projects"] == ["local", "shop", "web"] and rows["m4"]["projects"] == ["shop"]
    assert rows["m2"]["jwt_matches_host"] is False and rows["m1"]["jwt_matches_host"] is True
    assert rows["m1"]["clock_skew"]["within"] and not rows["m1"]["clock_skew"]["too_far"]
    assert rows["m2"]["clock_skew"]["too_far"]
    notes = "\n".join(model["notes"])
    for expected in ("m3: unreachable [unreachable] connection refused", "m2: jwtSecret differs",
                     "m2: clock +30.0 s", "m2: not Ready: Agent has not connected", "m4: joined to the host but not"):
        assert expected in notes
    assert model["summary"] == {"host": 1, "ready": 2, "not_ready": 1, "unreachable": 1}


def test_kubefed_offline_degrades_a_member_kubesphere_calls_ready():
    host = facts("host", "host", clusters=[cluster_obj("m1")],
                 kubefed_clusters=[{"name": "m1", "ready": False, "offline": True, "reason": "ClusterNotReachable"}])
    rows = by_name(fr.report([host, facts("m1", "member")], "host"))
    assert rows["m1"]["state"] == "degraded" and rows["m1"]["kubefed"]["reason"] == "ClusterNotReachable"


def test_tolerates_missing_keys_and_odd_values():
    model = fr.report([{"name": "a"}, {"name": "b", "role": "host", "clusters": "not a list", "clock": "x"},
                       {"no": "name"}, None], None)
    rows = by_name(model)
    assert set(rows) == {"a", "b"}
    assert rows["b"]["role"] == "host" and rows["a"]["state"] == "unreachable"
    html = fr.to_html(model)
    assert 'data-cluster="a"' in html
    assert fr.report([], None)["clusters"] == []
    ET.fromstring(fr._svg(fr.report([], None)))  # an empty fleet still draws


def test_json_round_trips():
    model = fr.report(fleet(), "host", generated="2026-01-01 00:00:00 UTC")
    assert json.loads(fr.to_json(model)) == json.loads(json.dumps(model))
    assert json.loads(fr.to_json(model))["schema"] == fr.SCHEMA


def test_html_is_standalone_escaped_and_the_svg_is_well_formed():
    facts_ = fleet()
    facts_[1]["warnings"] = ["<script>alert(1)</script>"]
    html = fr.to_html(fr.report(facts_, "host"))
    assert "<script" not in html and "&lt;script&gt;" in html
    assert not re.search(r'(src|href)="(https?:)?//', html) and "@import" not in html and "url(" not in html
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))
    ns = "{http://www.w3.org/2000/svg}"
    edges = {e.get("data-cluster"): e for e in svg.iter(ns + "line") if e.get("class") == "edge"}
    assert set(edges) == {"m1", "m2", "m3", "m4"}
    assert "stroke-dasharray" not in edges["m1"].attrib and edges["m2"].get("stroke-dasharray") == "10 6"
    nodes = {g.get("data-cluster"): g.get("data-state") for g in svg.iter(ns + "g") if g.get("class") == "node"}
    assert nodes == {"host": "host", "m1": "ready", "m2": "not_ready", "m3": "unreachable", "m4": "ready"}
    texts = " ".join(t.text or "" for t in svg.iter(ns + "text"))
    assert "kubefed: Ready" in texts and "kubefed: joined" in texts
    assert "local, shop, web" in texts


def test_filter_reads_hostvars():
    f = fleet()
    hostvars = {"h": {"kubesphere_cluster_name": "host", "r": {"cluster": f[0]}},
                "x1": {"kubesphere_cluster_name": "m1", "r": {"cluster": f[1]}, "kubesphere_connection_type": "direct"},
                "x3": {"kubesphere_cluster_name": "m3", "r": {"failed": True, "msg": "boom"}}}
    model = _fleet_report(["h", "x1", "x3"], hostvars, "h", "r", "data")
    rows = by_name(model)
    assert model["host"] == "host" and rows["m3"]["reason"] == "boom" and rows["m3"]["state"] == "unreachable"
    assert _fleet_report(["h"], hostvars, "h", "r", "json").startswith("{")
    assert _fleet_report(["h"], hostvars, "h", "r").startswith("<!DOCTYPE html>")


def test_filter_places_the_projects_federation_info_read_under_their_member():
    # cluster_info's facts carry no projects: the status role reads them per member with federation_info
    # (list_projects=true) into status_projects_info, and the report shows them under that member.
    f = fleet()
    facts = [dict(c) for c in f[:3]]
    for c in facts:
        c.pop("projects", None)
        c.pop("federated_projects", None)
    hostvars = {"h": {"kubesphere_cluster_name": "host", "r": {"cluster": facts[0]}},
                "x1": {"kubesphere_cluster_name": "m1", "r": {"cluster": facts[1]},
                       "status_projects_info": {"changed": False, "projects": [
                           {"name": "shop", "workspace": "retail", "state": "in_sync"},
                           {"name": "blog", "workspace": "media", "state": "drifted"}]}},
                "x2": {"kubesphere_cluster_name": "m2", "r": {"cluster": facts[2]},
                       "status_projects_info": {"failed": True, "msg": "host unreachable"}}}
    rows = by_name(_fleet_report(["h", "x1", "x2"], hostvars, "h", "r", "data"))
    assert rows["m1"]["projects"] == ["blog", "shop"]
    assert rows["m2"]["projects"] == [] and rows["host"]["projects"] == []
    as_json = {c["name"]: c for c in json.loads(_fleet_report(["h", "x1", "x2"], hostvars, "h", "r", "json"))["clusters"]}
    assert as_json["m1"]["projects"] == ["blog", "shop"] and as_json["m2"]["projects"] == []
    html = _fleet_report(["h", "x1", "x2"], hostvars, "h", "r", "html")
    row = re.search(r'<tr data-cluster="m1"[^>]*>(.*?)</tr>', html).group(1)
    assert re.findall(r"<td>([^<]*)</td>$", row) == ["blog, shop"]
    assert "shop" not in re.search(r'<tr data-cluster="m2"[^>]*>(.*?)</tr>', html).group(1)
    # without the variable (status_projects false) the report still renders, with no projects
    rows = by_name(_fleet_report(["h", "x1"], hostvars, "h", "r", "data", None, "absent_var"))
    assert rows["m1"]["projects"] == []


def test_an_extension_that_is_not_installed_is_a_note_of_the_status_table():
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet.report import extension_notes

    f = {"name": "host", "extensions": [{"name": "kubefed", "version": "1.0.0", "state": "Installed", "installed": True},
                                        {"name": "hello", "version": "2.0.0", "state": "UpgradeFailed", "installed": False,
                                         "failure": "Job has reached the specified backoff limit"}]}
    assert extension_notes(f) == ["host: extension hello is UpgradeFailed (version 2.0.0): Job has reached the "
                                  "specified backoff limit"]
    assert extension_notes({"name": "m1", "extensions": None}) == []
