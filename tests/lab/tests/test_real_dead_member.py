"""Contract: what KubeSphere 3.4 does with a member that died after joining (fidelity audit F2, F3): its
Cluster stays Ready True (the webhook denies the controller's own status write), only kubefed's
KubeFedCluster goes Offline, and deleting the Cluster hangs on its finalizer until the
ValidatingWebhookConfiguration `cluster.kubesphere.io` is removed. Lab: `breakable_lab`, member1 (direct);
its kube-apiserver is stopped here and never comes back."""

import os
import signal

import pytest
from auditlog import AuditLog
from polling import until_admitted

from kslabkit.rest import ApiError

from .realks import (CLUSTERS, KFC, VWC, admin_kubeconfig, cluster, condition, direct_cluster, kubefed_cluster,
                     kubefed_ready, wait_condition, wait_for)


@pytest.fixture(scope="module")
def dead_member1(breakable_lab):
    lab = breakable_lab
    host = lab.client(lab.host)
    host.request("POST", CLUSTERS, direct_cluster("member1", admin_kubeconfig(lab, "member1")))
    wait_condition(host, "member1", "Ready", timeout=300)
    wait_for(lambda: kubefed_ready(host, "member1"), 300, "KubeFedCluster member1 Ready")
    pid = lab.state["clusters"]["member1"]["pid"]
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        assert b"kube-apiserver" in f.read()  # the lab's member1 kube-apiserver, started by this test's lab
    os.kill(pid, signal.SIGKILL)  # a member that dies (SIGTERM: kube-apiserver drains for a long while)
    wait_for(lambda: not os.path.exists("/proc/%d" % pid) or open("/proc/%d/stat" % pid).read().split()[2] == "Z",
             60, "member1's kube-apiserver to stop")
    wait_for(lambda: _refused(lab), 30, "member1's port to refuse connections")
    return lab


def _refused(lab):
    try:
        lab.client("member1").get("/version")
        return False
    except OSError:
        return True


def test_the_cluster_stays_ready_while_its_kubefed_cluster_goes_offline(dead_member1):
    lab = dead_member1
    host = lab.client(lab.host)
    audit = AuditLog.for_lab(lab.state)
    mark = audit.mark()
    offline = wait_for(lambda: (condition(kubefed_cluster(host, "member1"), "Offline") or {}).get("status") == "True"
                       and condition(kubefed_cluster(host, "member1"), "Offline"), 180, "KubeFedCluster Offline")
    assert offline["reason"] == "ClusterNotReachable"
    assert condition(kubefed_cluster(host, "member1"), "Ready") is None

    # the controller resyncs (15 s here), fails to reach member1 and tries to write Federated/Ready False:
    # the webhook denies that write, as it denies every update of this Cluster now
    def denied_controller_update():
        audit.sync(lab)
        return [r for r in audit.requests(cluster=lab.host, since=mark, who="kslab:ks-controller-manager",
                                          verbs=("update",))
                if r.resource == "clusters" and r.name == "member1" and r.code is not None and r.code >= 400]
    tried = wait_for(denied_controller_update, 180, "a denied status update of member1 by ks-controller-manager")
    assert tried
    ready = condition(cluster(host, "member1"), "Ready")
    assert (ready["status"], ready["message"]) == ("True", "Cluster is available now")
    with pytest.raises(ApiError) as err:
        host.merge_patch(CLUSTERS + "/member1", {"metadata": {"labels": {"touched": "yes"}}})
    assert err.value.status == 403 and 'admission webhook "validating-cluster.kubesphere.io" denied the request' \
        in err.value.reason


def test_deleting_the_dead_members_cluster_hangs_until_the_webhook_configuration_goes(dead_member1):
    lab = dead_member1
    host = lab.client(lab.host)
    host.request("DELETE", CLUSTERS + "/member1")
    # the unjoin only needs the host: the KubeFedCluster goes ...
    wait_for(lambda: kubefed_cluster(host, "member1") is None, 180, "KubeFedCluster member1 removed")
    # ... but the finalizer stays: removing it is an UPDATE the webhook denies (also for the user)
    c = cluster(host, "member1")
    assert c["metadata"].get("deletionTimestamp") and c["metadata"]["finalizers"] == [
        "finalizer.cluster.kubesphere.io"]
    with pytest.raises(ApiError) as err:
        host.merge_patch(CLUSTERS + "/member1", {"metadata": {"finalizers": None}})
    assert err.value.status == 403
    assert host.try_get(CLUSTERS + "/member1") is not None

    # the maintainers' workaround (kubesphere#2306): remove the webhook configuration. The controller has
    # given up on this Cluster by now (15 failed retries; observed: no new attempt within 4 minutes), so it
    # finishes only when something updates the Cluster again (or the user removes the finalizer, allowed now)
    saved = host.get(VWC)
    host.request("DELETE", VWC)
    try:
        kick = {"metadata": {"labels": {"kslab-test/kick": "1"}}}
        until_admitted(lambda: host.merge_patch(CLUSTERS + "/member1", kick))
        wait_for(lambda: host.try_get(CLUSTERS + "/member1") is None, 120, "Cluster member1 gone")
        assert host.try_get("/api/v1/namespaces/kube-federation-system/secrets/member1-secret") is None
    finally:
        for key in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
            saved["metadata"].pop(key, None)
        host.request("POST", VWC.rsplit("/", 1)[0], saved)
    assert host.try_get(KFC + "/member1") is None
