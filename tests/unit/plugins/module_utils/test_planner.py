"""kubefed's replica planner: every vector of kubefed's planner_test.go, plus hand-written cases."""

import json
import os

import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import replica_planner as planner

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "..",
                       "shared", "testdata", "kubefed-planner-vectors.json")


def _cases():
    if not os.path.exists(VECTORS):
        return [pytest.param(None, marks=pytest.mark.skip(
            reason="kubefed planner vectors not found at %s (../shared/testdata of the checkout)" % VECTORS))]
    with open(VECTORS) as handle:
        cases = json.load(handle)["cases"]
    return [pytest.param(c, id="%s-L%d" % (c["test"], c["line"])) for c in cases]


@pytest.mark.parametrize("case", _cases())
def test_kubefed_vector(case):
    plan, overflow = planner.plan(case["prefs"], case["totalReplicas"], case["clusters"], case["existing"],
                                  case["capacity"], case["rebalance"], case["key"])
    assert plan == case["expected"]
    assert overflow == case["expectedOverflow"]


def test_the_vector_file_has_all_forty_cases():
    if not os.path.exists(VECTORS):
        pytest.skip("kubefed planner vectors not found at %s" % VECTORS)
    with open(VECTORS) as handle:
        assert len(json.load(handle)["cases"]) == 40


@pytest.mark.parametrize("text,expected", [
    ("", 0x811C9DC5), ("a", 0x050C5D7E), ("ab", 0x70772D38), ("abc", 0x439C2F4B),
    ("A", 84696414), ("B", 84696413), ("E", 84696410),
])
def test_fnv1_32_reference_values(text, expected):
    assert planner.fnv1_32(text) == expected


def test_fnv1_is_not_fnv1a():
    # FNV-1a of "a" is 0xE40C292C
    assert planner.fnv1_32("a") != 0xE40C292C


STAR = {"*": {"weight": 1}}


@pytest.mark.parametrize("prefs,total,clusters,expected", [
    (STAR, 50, ["A", "B", "C"], {"A": 16, "B": 17, "C": 17}),        # hash order E..A: C and B round up
    (STAR, 1, ["A", "B"], {"A": 0, "B": 1}),
    (STAR, 1, ["A", "B", "C", "D"], {"A": 0, "B": 0, "C": 0, "D": 1}),
    ({"*": {"weight": 0, "minReplicas": 2}}, 50, ["A", "B", "C"], {"A": 2, "B": 2, "C": 2}),
    ({"*": {"weight": 1, "maxReplicas": 2}}, 50, ["A", "B", "C"], {"A": 2, "B": 2, "C": 2}),
    ({"A": {"weight": 2}, "B": {"weight": 3}}, 10, ["A", "B"], {"A": 4, "B": 6}),
    ({"A": {"weight": 1}}, 10, ["A", "B"], {"A": 10, "B": 0}),       # no preference, no "*": 0
    ({"*": {"weight": 1, "minReplicas": 20, "maxReplicas": 12}}, 50, ["A", "B"], {"A": 12, "B": 12}),
    ({"*": {"weight": 0, "minReplicas": 20, "maxReplicas": 12}}, 50, ["A", "B"], {"A": 20, "B": 20}),
])
def test_hand_written_vectors(prefs, total, clusters, expected):
    plan, overflow = planner.plan(prefs, total, clusters, rebalance=True)
    assert plan == expected
    assert overflow == {}


def test_existing_replicas_are_kept_without_rebalance_greedily_in_hash_order():
    # kubefed issue #31816: B comes first and keeps all 50
    plan = planner.plan(STAR, 50, ["A", "B"], existing={"A": 10, "B": 70})[0]
    assert plan == {"A": 0, "B": 50}
    plan = planner.plan(STAR, 50, ["A", "B"], existing={"A": 10, "B": 70}, rebalance=True)[0]
    assert plan == {"A": 25, "B": 25}


def test_capacity_overflow_is_trimmed_without_rebalance_and_kept_with_it():
    plan, overflow = planner.plan({"A": {"weight": 1}, "B": {"weight": 5}}, 60, ["A", "B"], capacity={"B": 10})
    assert plan == {"A": 50, "B": 10}
    assert overflow == {}
    plan, overflow = planner.plan(STAR, 50, ["A", "B", "C"], capacity={"C": 10}, rebalance=True)
    assert plan == {"A": 20, "B": 20, "C": 10}
    assert overflow == {"C": 7}


def test_schedule_adds_overflow_and_zero_for_clusters_that_run_the_target():
    result = planner.schedule(STAR, 50, ["A", "B", "C"], existing={"Z": 3}, capacity={"C": 10}, rebalance=True)
    assert result == {"A": 20, "B": 20, "C": 17, "Z": 0}


def test_schedule_defaults_empty_preferences_to_weight_one_everywhere():
    assert planner.schedule({}, 50, ["A", "B", "C"]) == {"A": 16, "B": 17, "C": 17}


def test_preview_is_what_the_real_kubefed_wrote_in_the_lab():
    # real kubefed v0.8.1 (real-kubesphere.md): RSP total 10, weights 1:3 -> member1 2, member2 8
    assert planner.preview(10, {"member1": 1, "member2": 3}, ["member1", "member2"], key="demo/web") == \
        {"member1": 2, "member2": 8}


def test_preview_gives_zero_to_candidates_without_a_weight_and_honours_bounds():
    assert planner.preview(10, {"member1": 1, "member2": 1}, ["host", "member1", "member2"],
                           max_replicas={"member1": 3}, key="demo/web") == {"host": 0, "member1": 3, "member2": 7}
    assert planner.preview(10, {"member1": 0, "member2": 1}, ["member1", "member2"],
                           min_replicas={"member1": 4}) == {"member1": 4, "member2": 6}


def test_ties_depend_on_the_key_as_in_kubefed():
    clusters = ["member1", "member2"]
    results = set()
    for key in ("demo/web", "demo/api", "prod/web", "x/y", "a/b", "ns/name"):
        result = planner.preview(5, {"member1": 1, "member2": 1}, clusters, key=key)
        assert sum(result.values()) == 5
        first = min(clusters, key=lambda c: planner.fnv1_32(c + key))
        assert result[first] == 3
        results.add(tuple(sorted(result.items())))
    assert len(results) == 2    # the key decides which cluster gets the odd replica


def test_rsp_preferences_have_no_wildcard():
    assert planner.rsp_preferences({"m1": 1, "m2": 3}, {"m1": 1}, {"m2": 5}) == \
        {"m1": {"weight": 1, "minReplicas": 1}, "m2": {"weight": 3, "maxReplicas": 5}}
