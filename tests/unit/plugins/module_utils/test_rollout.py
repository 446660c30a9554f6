import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet.rollout import RolloutError, plan

GROUPS = {
    "all": ["host", "m1", "m2", "m3", "m4"],
    "kubesphere_host": ["host"],
    "kubesphere_members": ["m1", "m2", "m3", "m4"],
    "wave_canary": ["m2"],
    "wave_rest": ["m1", "m3", "host"],   # the host in a wave is not a member: ignored
}


def test_waves_in_sorted_order_then_members_in_no_wave():
    p = plan(GROUPS)
    assert p["waves"] == [{"name": "canary", "hosts": ["m2"]}, {"name": "rest", "hosts": ["m1", "m3"]},
                          {"name": None, "hosts": ["m4"]}]
    assert p["serial"] == [1, 2, 1]
    assert p["pattern"] == "wave_canary:wave_rest:kubesphere_members:&kubesphere_members"


def test_an_explicit_order_wins():
    p = plan(GROUPS, waves=["rest", "canary"])
    assert [w["name"] for w in p["waves"]] == ["rest", "canary", None]
    assert p["serial"] == [2, 1, 1]
    assert p["pattern"].startswith("wave_rest:wave_canary:")


def test_no_waves_is_one_batch():
    groups = {"kubesphere_members": ["m1", "m2"]}
    assert plan(groups) == {"pattern": "kubesphere_members:&kubesphere_members", "serial": [2],
                            "waves": [{"name": None, "hosts": ["m1", "m2"]}]}


def test_no_members_at_all():
    assert plan({"kubesphere_members": []})["serial"] == ["100%"]


def test_unknown_wave_is_refused_with_the_waves_there_are():
    with pytest.raises(RolloutError) as err:
        plan(GROUPS, waves=["canary", "later"])
    assert str(err.value) == ("the rollout order names wave later, but the inventory has no group wave_later "
                              "(waves: canary, rest)")


def test_a_member_in_two_waves_is_refused():
    groups = dict(GROUPS, wave_rest=["m1", "m2"])
    with pytest.raises(RolloutError) as err:
        plan(groups)
    assert str(err.value) == "member m2 is in waves canary and rest: put it in one wave"
