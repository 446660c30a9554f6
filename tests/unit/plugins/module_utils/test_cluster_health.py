"""A member's health from its Cluster's conditions and its KubeFedCluster, not from Ready alone (pure)."""

from cluster_fixtures import READY, cluster, cond, kfc

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster_health


def test_condition_readers_take_the_last_of_a_type():
    c = cluster(conds=[cond("Ready", "False"), cond("Federated", "True"), cond("Ready", "True")])
    assert cluster_health.ready(c) and cluster_health.federated(c)
    assert not cluster_health.initialized(c) and cluster_health.status_of(c, "Initialized") is None
    assert cluster_health.conditions(None) == {}


def test_cert_expiry_condition_reads_token_kubeconfigs_as_never_expiring():
    token = cluster(conds=[cond("KubeConfigCertExpiresInSevenDays", "False", "KubeConfigCertExpiresInSevenDays")])
    assert cluster_health.cert_expiry(token) == {"expires_in_seven_days": False, "not_after": None}
    soon = cluster(conds=[cond("KubeConfigCertExpiresInSevenDays", "True", "x", "2026-11-30 00:00:00 +0000 UTC")])
    assert cluster_health.cert_expiry(soon) == {"expires_in_seven_days": True, "not_after": "2026-11-30 00:00:00 +0000 UTC"}
    assert cluster_health.cert_expiry(cluster(ctype="proxy")) == {"expires_in_seven_days": None, "not_after": None}


def test_dead_member_stays_ready_on_its_cluster_but_health_says_offline():
    verdict = cluster_health.health(cluster(conds=READY),
                                    kfc(cond("Offline", "True", "ClusterNotReachable", "cluster is not reachable")))
    assert verdict["verdict"] == "offline" and not verdict["healthy"]
    assert "ClusterNotReachable" in verdict["reason"] and "still says Ready True" in verdict["reason"]
    assert verdict["cluster_ready"] == "True"


def test_health_verdicts():
    ok = kfc(cond("Ready", "True", "ClusterReady", "/healthz responded with ok"))
    assert cluster_health.health(cluster(conds=READY), ok)["verdict"] == "ready"
    assert cluster_health.health(cluster(conds=READY), ok)["healthy"]
    assert cluster_health.health(cluster(conds=READY), None, kubefed_read=False)["verdict"] == "unknown"
    assert cluster_health.health(cluster(conds=READY), None)["verdict"] == "unknown"
    assert cluster_health.health(cluster(conds=READY), kfc())["verdict"] == "joining"
    assert cluster_health.health(cluster(conds=READY), kfc(cond("Ready", "False", "ClusterNotReady")))["verdict"] == "unhealthy"
    failed = [cond("Federated", "False", "the server could not find the requested resource"),
              cond("Ready", "False", "Cluster join federation control plane failed", "Cluster is Not Ready now")]
    v = cluster_health.health(cluster(conds=failed), None)
    assert v["verdict"] == "not_federated" and "could not find" in v["reason"]
    assert cluster_health.health(cluster(conds=[cond("Ready", "False", "x")]), None)["verdict"] == "not_ready"
    assert cluster_health.health(cluster(kubeconfig=None), None)["verdict"] == "joining"
    assert cluster_health.health(None)["verdict"] == "absent"
    gone = cluster(conds=READY)
    gone["metadata"]["deletionTimestamp"] = "2026-11-26T00:00:00Z"
    assert cluster_health.health(gone, ok)["verdict"] == "terminating"
    off = cluster(conds=READY)
    off["spec"]["joinFederation"] = False
    assert cluster_health.health(off, ok)["verdict"] == "not_federated"


def test_proxy_health_follows_tower():
    assert cluster_health.health(cluster(ctype="proxy", kubeconfig=None), None)["verdict"] == "joining"
    init = [cond("Initialized", "True", "Initialized", "Cluster has been initialized")]
    v = cluster_health.health(cluster(ctype="proxy", kubeconfig=None, conds=init), None)
    assert v["verdict"] == "agent_not_connected" and "cluster-agent" in v["reason"]
    conn = init + [cond("AgentAvailable", "True")]
    assert cluster_health.health(cluster(ctype="proxy", conds=conn), None)["verdict"] == "joining"
    assert cluster_health.health(cluster(ctype="proxy", conds=conn + READY),
                                 kfc(cond("Ready", "True")))["verdict"] == "ready"


def test_health_readers_take_the_read_models_summaries_too():
    summary = {"name": "member1", "uid": "u-9", "role": "member", "connection_type": "proxy",
               "conditions": [cond("Ready", "True")]}
    assert cluster_health.ready(summary)
    assert cluster_health.kubefed_state({"name": "member1", "ready": False, "offline": True}) == "offline"
    assert cluster_health.kubefed_state({"name": "member1", "ready": True, "offline": False}) == "ready"
    assert cluster_health.kubefed_state({"name": "member1", "ready": False, "offline": False}) == "not_ready"
    v = cluster_health.health(cluster(conds=READY), {"name": "member1", "ready": False, "offline": True})
    assert v["verdict"] == "offline" and "reports Offline;" in v["reason"]
