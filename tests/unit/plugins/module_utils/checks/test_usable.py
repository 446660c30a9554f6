"""What Ready does not prove, checked after an import (pure)."""

from cluster_fixtures import READY, cluster, cond, kfc

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import codes
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import usable


def test_usable_after_import_checks_what_ready_does_not_prove():
    ok = kfc(cond("Ready", "True"))
    assert usable.usable_problems("member1", cluster(conds=READY), ok, {"multicluster": {"clusterName": "member1"}}) == []
    probs = usable.usable_problems("member1", cluster(conds=READY, ks="unknown", uid=""), kfc(cond("Offline", "True")),
                                   {"multicluster": {"clusterRole": "member"}})
    assert codes(probs) == ["health_offline", "no_uid", "kubesphere_version_unknown", "cluster_name_not_written"]
    assert all(p["cluster"] == "member1" and "member1" in p["message"] for p in probs)
    assert codes(usable.usable_problems("member1", cluster(conds=READY), ok, None)) == ["member_config_unread"]
    other = usable.usable_problems("member1", cluster(conds=READY), ok, {"multicluster": {"clusterName": "old"}})
    assert codes(other) == ["cluster_name_not_written"] and "'old'" in other[0]["message"]
