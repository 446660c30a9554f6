"""The kubefed replica planner stand-in (tests/lab/standins/planner.py) against kubefed's own test vectors
(/work/shared/testdata/kubefed-planner-vectors.json, one case per call in planner_test.go) and the worked
examples of kubefed-planner.md and the fact sheet §5. Pure: no lab needed."""

import json

import pytest

from standins.planner import fnv1_32, plan

VECTORS = "/work/shared/testdata/kubefed-planner-vectors.json"
with open(VECTORS) as f:
    CASES = json.load(f)["cases"]


def test_forty_cases():
    assert len(CASES) == 40


@pytest.mark.parametrize("case", CASES, ids=["%s-L%d" % (c["test"], c["line"]) for c in CASES])
def test_vector(case):
    got, overflow = plan(case["prefs"], case["totalReplicas"], case["clusters"], case["existing"],
                         case["capacity"], case["rebalance"], case["key"])
    assert got == case["expected"]
    assert overflow == case["expectedOverflow"]


@pytest.mark.parametrize("text,value", [
    ("", 0x811C9DC5), ("a", 0x050C5D7E), ("ab", 0x70772D38), ("abc", 0x439C2F4B),
    ("A", 84696414), ("B", 84696413), ("C", 84696412), ("D", 84696411), ("E", 84696410),
])
def test_fnv1_reference_values(text, value):
    assert fnv1_32(text.encode()) == value


STAR = {"*": {"weight": 1}}


@pytest.mark.parametrize("prefs,total,clusters,kwargs,expected,expected_overflow", [
    # fact sheet §5 worked vectors
    (STAR, 50, ["A", "B", "C"], {}, {"A": 16, "B": 17, "C": 17}, {}),
    (STAR, 1, ["A", "B"], {}, {"A": 0, "B": 1}, {}),
    (STAR, 1, ["A", "B", "C", "D"], {}, {"A": 0, "B": 0, "C": 0, "D": 1}, {}),
    ({"c1": {"weight": 2}, "c2": {"weight": 3}}, 10, ["c1", "c2"], {}, {"c1": 4, "c2": 6}, {}),
    ({"*": {"minReplicas": 2, "weight": 0}}, 50, ["A", "B", "C"], {}, {"A": 2, "B": 2, "C": 2}, {}),
    ({"*": {"weight": 1, "maxReplicas": 2}}, 50, ["A", "B", "C"], {}, {"A": 2, "B": 2, "C": 2}, {}),
    # kubefed-planner.md worked examples
    (STAR, 50, ["A", "B", "C"], {"capacity": {"C": 10}, "rebalance": True},
     {"A": 20, "B": 20, "C": 10}, {"C": 7}),
    ({"A": {"weight": 1}, "B": {"weight": 5}}, 60, ["A", "B"], {"capacity": {"B": 10}},
     {"A": 50, "B": 10}, {}),
    ({"*": {"minReplicas": 20, "weight": 1}}, 60, ["A", "B"], {"capacity": {"B": 10}, "rebalance": True},
     {"A": 50, "B": 10}, {"B": 15}),
    # quirks documented in kubefed-planner.md (min above max)
    ({"*": {"minReplicas": 20, "maxReplicas": 12, "weight": 1}}, 50, ["A", "B"], {}, {"A": 12, "B": 12}, {}),
    ({"*": {"minReplicas": 20, "maxReplicas": 12, "weight": 0}}, 50, ["A", "B"], {}, {"A": 20, "B": 20}, {}),
    # no preference and no "*": the cluster gets 0 and takes no part
    ({"A": {"weight": 1}}, 5, ["A", "B"], {}, {"A": 5, "B": 0}, {}),
    # issue #31816: greedy keep-existing in hash order
    (STAR, 50, ["A", "B"], {"existing": {"A": 10, "B": 70}}, {"A": 0, "B": 50}, {}),
], ids=["50-over-ABC", "1-over-AB", "1-over-ABCD", "rsp-example", "min2-weight0", "max2",
        "capacity-rebalance", "weights-capacity", "min-capacity-rebalance", "min-above-max",
        "min-above-max-weight0", "no-pref", "issue-31816"])
def test_worked_examples(prefs, total, clusters, kwargs, expected, expected_overflow):
    assert plan(prefs, total, clusters, **kwargs) == (expected, expected_overflow)


def test_key_changes_order():
    """The key is hashed after the cluster name: with a key the tie-break is no longer reverse-alphabetical."""
    key = "ns/web"
    order = sorted(["A", "B"], key=lambda c: fnv1_32((c + key).encode()))
    got, _ = plan(STAR, 1, ["A", "B"], key=key)
    assert got[order[0]] == 1
