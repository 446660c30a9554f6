"""KubeSphere 4.1's health verdict (versions/v4_1/member_health.py): Ready and KSCoreReady, Ready False believed,
the kubefed extension's KubeFedCluster used when present and never required."""

from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v4_1 import member_health as health


def cluster(ready=None, ks_core=None, kubeconfig="a2M=", kind="direct", deleting=False):
    conditions = []
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready, "reason": "r", "message": "m"})
    if ks_core is not None:
        conditions.append({"type": "KSCoreReady", "status": ks_core})
    meta = {"name": "member1"}
    if deleting:
        meta.update(deletionTimestamp="2026-12-06T00:00:00Z", finalizers=["finalizer.cluster.kubesphere.io"])
    return {"metadata": meta, "spec": {"connection": {"type": kind, "kubeconfig": kubeconfig}},
            "status": {"conditions": conditions}}


def test_ready_and_ks_core_ready_is_healthy_without_kubefed():
    out = health.health(cluster("True", "True"), None)
    assert out["healthy"] and out["verdict"] == "ready" and out["kubefed"] == "absent"


def test_no_ks_core_ready_is_joining_and_says_where_a_failed_install_shows():
    out = health.health(cluster("True", None), None)
    assert out["verdict"] == "joining" and "Helm release ks-core" in out["reason"]


def test_ready_false_is_believed():
    out = health.health(cluster("False", "True"), None)
    assert out["verdict"] == "not_ready" and not out["healthy"] and "member1" in out["reason"]


def test_an_offline_kubefed_cluster_of_the_extension_is_believed():
    kfc = {"status": {"conditions": [{"type": "Offline", "status": "True", "reason": "ClusterNotReachable"}]}}
    assert health.health(cluster("True", "True"), kfc)["verdict"] == "offline"


def test_absent_terminating_and_no_kubeconfig():
    assert health.health(None)["verdict"] == "absent"
    assert health.health(cluster("True", "True", deleting=True))["verdict"] == "terminating"
    assert health.health(cluster(None, None, kubeconfig=""))["verdict"] == "joining"
