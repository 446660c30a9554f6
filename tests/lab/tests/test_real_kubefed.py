"""Contract: kubefed v0.8.1 as KubeSphere 3.4 configures it (KubeFedConfig from the installer stand-in), as the
collection's federation and drift features will meet it (fidelity audit F9, F11). Lab: `joined_lab`."""

import time

import pytest

from .realks import TYPES, wait_for

MEMBERS = ["member1", "member2"]


@pytest.fixture
def fed_namespace(joined_lab, unique):
    """A host namespace federated to member1 and member2 (FederatedNamespace), removed afterwards."""
    host = joined_lab.client(joined_lab.host)
    ns = "fed-" + unique
    host.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    host.request("POST", "%s/namespaces/%s/federatednamespaces" % (TYPES, ns), {
        "apiVersion": "types.kubefed.io/v1beta1", "kind": "FederatedNamespace",
        "metadata": {"name": ns, "namespace": ns},
        "spec": {"placement": {"clusters": [{"name": m} for m in MEMBERS]}}})
    for m in MEMBERS:
        wait_for(lambda m=m: joined_lab.client(m).try_get("/api/v1/namespaces/" + ns), 120, "namespace on " + m)
    yield ns
    host.request("DELETE", "%s/namespaces/%s/federatednamespaces/%s" % (TYPES, ns, ns))
    host.request("DELETE", "/api/v1/namespaces/" + ns)


def test_propagation_and_a_hand_edit_on_a_member_is_reverted(joined_lab, fed_namespace):
    host, ns = joined_lab.client(joined_lab.host), fed_namespace
    host.request("POST", "%s/namespaces/%s/federatedconfigmaps" % (TYPES, ns), {
        "apiVersion": "types.kubefed.io/v1beta1", "kind": "FederatedConfigMap",
        "metadata": {"name": "settings", "namespace": ns},
        "spec": {"template": {"data": {"mode": "fleet"}},
                 "placement": {"clusters": [{"name": m} for m in MEMBERS]},
                 "overrides": [{"clusterName": "member2", "clusterOverrides": [{"path": "/data/mode",
                                                                                 "value": "edge"}]}]}})
    path = "/api/v1/namespaces/%s/configmaps/settings" % ns
    m1, m2 = joined_lab.client("member1"), joined_lab.client("member2")
    copy1 = wait_for(lambda: m1.try_get(path), 120, "copy on member1")
    assert copy1["data"] == {"mode": "fleet"}
    assert copy1["metadata"]["labels"]["kubefed.io/managed"] == "true"
    assert wait_for(lambda: m2.try_get(path), 60, "copy on member2")["data"] == {"mode": "edge"}

    # once kubefed has settled (Propagation True written), a hand edit on a member comes back through the
    # member informer, which kubefed handles after its retry delay (10 s)
    fcm = "%s/namespaces/%s/federatedconfigmaps/settings" % (TYPES, ns)
    wait_for(lambda: [c for c in (host.get(fcm).get("status") or {}).get("conditions") or []
                      if c["type"] == "Propagation" and c["status"] == "True"], 60, "Propagation True")
    settled = {"rv": None, "since": time.time()}

    def quiet_for_3s():
        rv = host.get(fcm)["metadata"]["resourceVersion"]
        if rv != settled["rv"]:
            settled.update(rv=rv, since=time.time())
        return time.time() - settled["since"] >= 3
    wait_for(quiet_for_3s, 60, "the FederatedConfigMap to stop changing", interval=0.5)
    m1.merge_patch(path, {"data": {"mode": "hand-edited"}})
    edited = time.time()
    wait_for(lambda: m1.get(path)["data"] == {"mode": "fleet"}, 120, "kubefed to revert the hand edit", interval=0.2)
    took = time.time() - edited
    print("hand edit on member1 reverted after %.1f s" % took)
    assert took > 3, "kubefed reverts member edits after its 10 s retry delay, not at once (%.1f s)" % took


def test_replica_scheduling_preference_splits_10_as_1_to_3(joined_lab, fed_namespace):
    host, ns = joined_lab.client(joined_lab.host), fed_namespace
    labels = {"app": "web"}
    host.request("POST", "%s/namespaces/%s/federateddeployments" % (TYPES, ns), {
        "apiVersion": "types.kubefed.io/v1beta1", "kind": "FederatedDeployment",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"template": {"spec": {"replicas": 10, "selector": {"matchLabels": labels},
                                       "template": {"metadata": {"labels": labels},
                                                    "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}},
                 "placement": {"clusters": [{"name": m} for m in MEMBERS]}}})
    host.request("POST", "/apis/scheduling.kubefed.io/v1alpha1/namespaces/%s/replicaschedulingpreferences" % ns, {
        "apiVersion": "scheduling.kubefed.io/v1alpha1", "kind": "ReplicaSchedulingPreference",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"targetKind": "FederatedDeployment", "totalReplicas": 10,
                 "clusters": {"member1": {"weight": 1}, "member2": {"weight": 3}}}})

    def replicas():
        fd = host.get("%s/namespaces/%s/federateddeployments/web" % (TYPES, ns))
        out = {}
        for o in fd["spec"].get("overrides") or []:
            for co in o.get("clusterOverrides") or []:
                if co.get("path") == "/spec/replicas":
                    out[o["clusterName"]] = co["value"]
        return out if set(MEMBERS) <= set(out) else None
    got = wait_for(replicas, 180, "RSP overrides")
    print("RSP overrides: %s; placement: %s" % (got, host.get("%s/namespaces/%s/federateddeployments/web" % (
        TYPES, ns))["spec"]["placement"]))
    assert {m: got[m] for m in MEMBERS} == {"member1": 2, "member2": 8}
    assert set(got) - set(MEMBERS) <= {"host"} and got.get("host", 0) == 0  # the host has no weight
    for m, n in (("member1", 2), ("member2", 8)):
        dep = wait_for(lambda m=m: joined_lab.client(m).try_get(
            "/apis/apps/v1/namespaces/%s/deployments/web" % ns), 120, "Deployment on " + m)
        wait_for(lambda m=m, n=n: joined_lab.client(m).get(
            "/apis/apps/v1/namespaces/%s/deployments/web" % ns)["spec"]["replicas"] == n, 60, "replicas on " + m)
        assert dep["metadata"]["labels"]["kubefed.io/managed"] == "true"
