import pytest

from unbind_fixtures import DOWN, KF_READY, OFFLINE, UP, cluster

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import PROBLEM_KEYS, codes
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import unbind


# --- confirmation and checks ---------------------------------------------------------------------------


@pytest.mark.parametrize("confirm, said", [(None, "is not set"), ("", "is not set"),
                                           ("member2", "is 'member2', which is not")])
def test_unbind_needs_the_cluster_name_typed(confirm, said):
    probs = unbind.confirm_problems("member1", confirm)
    assert codes(probs) == ["unbind_not_confirmed"]
    assert said in probs[0]["message"] and "set confirm_unbind: member1" in probs[0]["message"]
    assert tuple(sorted(probs[0])) == tuple(sorted(PROBLEM_KEYS))
    assert unbind.confirm_problems("member1", "member1") == []


def test_unbind_checks():
    assert unbind.unbind_problems("member1", "member1", cluster(), UP) == []
    assert codes(unbind.unbind_problems("host", "host", cluster("host", host=True), UP)) == ["unbind_host"]
    dead = unbind.unbind_problems("member1", "member1", cluster(), DOWN, OFFLINE)
    assert codes(dead) == ["member_unreachable_needs_force"]
    assert "connection refused" in dead[0]["message"] and "Offline" in dead[0]["message"]
    assert unbind.unbind_problems("member1", "member1", cluster(), DOWN, OFFLINE, force=True) == []
    # the inventory cannot read it but kubefed can: not dead, the normal path applies
    assert unbind.unbind_problems("member1", "member1", cluster(), DOWN, KF_READY) == []
    # never joined (no status.uid): the webhook lets everything through, no force needed
    assert unbind.unbind_problems("member1", "member1", cluster(uid=None), DOWN) == []
    assert unbind.unbind_problems("member1", "member1", None, DOWN) == []


def test_dead_needs_proof():
    assert unbind.dead(cluster(), DOWN, OFFLINE)
    assert unbind.dead(cluster(), DOWN, None)
    assert not unbind.dead(cluster(), UP, OFFLINE)
    assert not unbind.dead(cluster(), DOWN, KF_READY)
    assert not unbind.dead(cluster(uid=None), DOWN, OFFLINE)
    assert not unbind.dead(None, DOWN, OFFLINE)
