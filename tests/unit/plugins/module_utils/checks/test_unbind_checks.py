import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import PROBLEM_KEYS, codes
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import unbind


def cluster(name="member1", ctype="direct", uid="uid-1", labels=None, deleting=False, host=False):
    c = {"apiVersion": co.API_VERSION, "kind": "Cluster",
         "metadata": {"name": name, "finalizers": [co.FINALIZER], "labels": dict(labels or {})},
         "spec": {"joinFederation": True, "connection": {"type": ctype}},
         "status": {"uid": uid, "conditions": [{"type": "Ready", "status": "True"}]}}
    if host:
        c["metadata"]["labels"][co.HOST_LABEL] = ""
    if deleting:
        c["metadata"]["deletionTimestamp"] = "2026-11-26T00:00:00Z"
    return c


OFFLINE = {"metadata": {"name": "member1"}, "spec": {"secretRef": {"name": "member1-secret"}},
           "status": {"conditions": [{"type": "Offline", "status": "True", "reason": "ClusterNotReachable"}]}}
KF_READY = {"metadata": {"name": "member1"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
UP = {"reachable": True}
DOWN = {"reachable": False, "error": "dial tcp 10.0.0.5:6443: connect: connection refused"}

WEBHOOK = {
    "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
    "metadata": {"name": "cluster.kubesphere.io", "uid": "w-1", "resourceVersion": "77", "generation": 1,
                 "creationTimestamp": "2026-11-01T00:00:00Z", "managedFields": [{"manager": "kubectl"}],
                 "labels": {"app": "ks-controller-manager"},
                 "annotations": {"meta.helm.sh/release-name": "ks-core"}},
    "webhooks": [{"name": "validating-cluster.kubesphere.io", "admissionReviewVersions": ["v1"],
                  "clientConfig": {"caBundle": "Q0E=",
                                   "service": {"name": "ks-controller-manager", "namespace": "kubesphere-system",
                                               "path": "/validate-cluster-kubesphere-io-v1alpha1", "port": 443}},
                  "failurePolicy": "Fail", "matchPolicy": "Exact", "sideEffects": "None", "timeoutSeconds": 30,
                  "rules": [{"apiGroups": ["cluster.kubesphere.io"], "apiVersions": ["v1alpha1"],
                             "operations": ["UPDATE"], "resources": ["clusters"], "scope": "*"}]}],
}


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
