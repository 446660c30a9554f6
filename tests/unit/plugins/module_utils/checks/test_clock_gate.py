"""checks/clock.py: chronyc parsing, the threshold rule, node and cluster verdicts."""

import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import clock
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import clock as timesync

SYNCED = "C0A80001,ntp1.example.com,3,1795568000.0,0.000812,-0.0001,0.0003,-1.2,0.01,0.05,0.0001,0.0002,64.0,Normal"
UNSYNCED = "00000000,,0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,Not synchronised"


def cluster(name, offset, skew=10.0, reachable=True):
    measured = {"low": offset - 0.5, "high": offset + 0.5, "offset": offset, "uncertainty": 0.5} if offset is not None else None
    return {"name": name, "reachable": reachable, "maximum_clock_skew_seconds": skew, "clock": measured}


def test_parse_tracking():
    t = timesync.parse_tracking("header noise\n" + SYNCED + "\n")
    assert t == {"reference": "ntp1.example.com", "stratum": 3, "offset": 0.000812, "last_offset": -0.0001,
                 "leap": "Normal"}


@pytest.mark.parametrize("text", ["", "Reference ID : C0A80001", "a,b,c,d,e,f,g,h,i,j,k,l,m,n"])
def test_parse_tracking_rejects_other_text(text):
    with pytest.raises(ValueError):
        timesync.parse_tracking(text)


def test_threshold_must_stay_below_maximum_clock_skew():
    assert timesync.threshold_problem(5, [10.0, None]) is None
    assert timesync.threshold_problem(10, [])["code"] == "bad_threshold"
    assert "lower than KubeSphere's maximumClockSkew (3.0 s)" in timesync.threshold_problem(5, [10.0, 3.0])["message"]
    assert timesync.threshold_problem(0, [10.0])["code"] == "bad_threshold"


def test_node_problems():
    assert timesync.node_problems("n1", timesync.parse_tracking(SYNCED), 5) == []
    off = dict(timesync.parse_tracking(SYNCED), offset=-2.6)
    assert [p["code"] for p in timesync.node_problems("n1", off, 5)] == ["node_clock_offset"]
    assert [p["code"] for p in timesync.node_problems("n1", timesync.parse_tracking(UNSYNCED), 5)] == \
        ["node_not_synchronised"]


def test_gate_fails_only_on_certain_cluster_skew():
    assert timesync.gate([cluster("a", 0.0), cluster("b", 1.0)], threshold=5)["problems"] == []
    far = timesync.gate([cluster("a", 0.0), cluster("b", 8.0)], threshold=5)
    assert [p["code"] for p in far["problems"]] == ["clock_skew"] and far["report"]["max_skew"] == 8.0
    near = timesync.gate([cluster("a", 0.0), cluster("b", 5.5)], threshold=5)
    assert near["problems"] == [] and near["warnings"]  # only possibly above: a warning


def test_gate_lists_unmeasured_clusters_and_checks_the_threshold():
    verdict = timesync.gate([cluster("a", 0.0), cluster("b", None, reachable=False)], threshold=5)
    assert verdict["warnings"] == ["cluster 'b': clock not measured"]
    assert timesync.gate([cluster("a", 0.0, skew=4.0)], threshold=5)["problems"][0]["code"] == "bad_threshold"


def test_gate_node_only():
    assert timesync.gate(node="n1", tracking=timesync.parse_tracking(SYNCED), threshold=5) == {"problems": [], "warnings": [], "report": None}


def test_skew_report_within_threshold():
    r = timesync.skew_report({"host": clock.interval(-0.5, 0.5), "m1": clock.interval(1.5, 2.5), "m2": None}, 10)
    assert r["max_skew"] == 2.0 and r["max_skew_pair"] == ["host", "m1"] and r["max_skew_uncertainty"] == 1.0
    assert r["problems"] == [] and r["unmeasured"] == ["m2"]


def test_skew_report_certain_problem():
    r = timesync.skew_report({"host": clock.interval(-0.5, 0.5), "m1": clock.interval(14.5, 15.5)}, 10)
    (p,) = r["problems"]
    assert p["code"] == "clock_skew" and p["cluster"] == "m1" and sorted(p) == ["cluster", "code", "message"]
    assert p["message"].startswith("clusters 'host' and 'm1': clocks differ by 14.0 s (measured 15.0 s")
    assert "maximumClockSkew 10 s" in p["message"]


def test_skew_report_possible_problem_near_the_threshold():
    r = timesync.skew_report({"host": clock.interval(-0.5, 0.5), "m1": clock.interval(9.2, 10.2)}, 10)
    (p,) = r["problems"]
    assert p["code"] == "clock_skew_possible"
    assert "may differ by up to 10.7 s" in p["message"]


def test_skew_report_accepts_plain_numbers_and_single_clusters():
    assert timesync.skew_report({"a": 0.0, "b": -12.0}, 10)["problems"][0]["code"] == "clock_skew"
    only = timesync.skew_report({"a": 3.0})
    assert only["max_skew"] == 0.0 and only["max_skew_pair"] is None and only["problems"] == []
