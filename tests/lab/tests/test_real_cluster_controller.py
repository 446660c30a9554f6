"""Contract: ks-controller-manager v3.4.1's cluster controller and its UPDATE webhook, as the collection will
meet them (fidelity audit F1, F4, F5, F15). Lab: `joined_lab` (tests/lab/tests/conftest.py)."""

import base64

import pytest
import yaml
from auditlog import AuditLog

from kslabkit.rest import ApiError
from standins.installer import read_ks_config

from .realks import (CLUSTERS, KFC, admin_kubeconfig, b64, cluster, condition, wait_for)


def test_a_member_with_another_jwt_secret_joins_ready(joined_lab):
    host, m1 = joined_lab.client(joined_lab.host), joined_lab.client("member1")
    assert read_ks_config(m1)["authentication"]["jwtSecret"] != joined_lab.jwt
    assert read_ks_config(m1)["multicluster"]["clusterRole"] == "member"
    c = cluster(host, "member1")
    ready, fed = condition(c, "Ready"), condition(c, "Federated")
    assert (ready["status"], ready["reason"], ready["message"]) == ("True", "Ready", "Cluster is available now")
    assert (fed["status"], fed["message"]) == ("True", "Cluster has joined federation control plane successfully")
    assert c["metadata"]["finalizers"] == ["finalizer.cluster.kubesphere.io"]
    assert c["status"]["uid"] == m1.get("/api/v1/namespaces/kube-system")["metadata"]["uid"]
    assert c["status"]["nodeCount"] == len(m1.get("/api/v1/nodes")["items"])
    assert c["status"]["kubernetesVersion"] == m1.get("/version")["gitVersion"]
    assert c["spec"]["connection"]["kubernetesAPIEndpoint"] == joined_lab.state["clusters"]["member1"]["server"]
    assert not any(cond["type"] == "KslabValidation" for cond in c["status"]["conditions"])


def test_a_member_with_another_role_joins_ready(joined_lab):
    host, m2 = joined_lab.client(joined_lab.host), joined_lab.client("member2")
    assert read_ks_config(m2)["multicluster"].get("clusterRole") == "none"
    ready = condition(cluster(host, "member2"), "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Ready")


def test_the_member_kubesphere_is_read_through_its_service_proxy(joined_lab):
    """Version and configz come from the member's ks-apiserver via its kube-apiserver's service proxy."""
    host = joined_lab.client(joined_lab.host)
    st = wait_for(lambda: cluster(host, "member1")["status"].get("configz") and cluster(host, "member1")["status"],
                  180, "configz of member1")
    assert st["kubeSphereVersion"] == "v3.4.1"
    assert st["configz"].get("multicluster") is False      # the member's own `multicluster.enable`
    assert "authentication" in st["configz"]                # Config.ToMap() keys, not CC components (F10)
    assert "core" not in st["configz"]


def test_a_serviceaccount_token_kubeconfig_joins_ready_with_an_empty_expiry(joined_lab):
    host = joined_lab.client(joined_lab.host)
    c = cluster(host, "member2")
    kc = yaml.safe_load(base64.b64decode(c["spec"]["connection"]["kubeconfig"]))
    assert "token" in kc["users"][0]["user"] and "client-certificate-data" not in kc["users"][0]["user"]
    exp = condition(c, "KubeConfigCertExpiresInSevenDays")
    assert exp["status"] == "False" and exp["reason"] == "KubeConfigCertExpiresInSevenDays"
    assert not exp.get("message")
    assert condition(c, "Ready")["status"] == "True"
    # a client-certificate kubeconfig: the message is the certificate's NotAfter, Go's time format
    cert_exp = condition(cluster(host, "member1"), "KubeConfigCertExpiresInSevenDays")
    assert cert_exp["status"] == "False" and cert_exp["message"].endswith(" +0000 UTC")


def test_join_artefacts_on_member_and_host(joined_lab):
    """What kubefedctl join leaves (F15): unbind leftover lists and drift reports rely on these names."""
    host, m1 = joined_lab.client(joined_lab.host), joined_lab.client("member1")
    sa = m1.get("/api/v1/namespaces/kube-federation-system/serviceaccounts/member1-kubesphere")
    secrets = m1.get("/api/v1/namespaces/kube-federation-system/secrets")["items"]
    tokens = [s for s in secrets if s["metadata"]["name"].startswith("member1-kubesphere-token-")]
    assert tokens and tokens[0]["type"] == "kubernetes.io/service-account-token" and tokens[0]["data"].get("token")
    assert sa["metadata"]["name"] == "member1-kubesphere"
    assert m1.get("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubefed-controller-manager:member1-kubesphere")
    kfc = host.get(KFC + "/member1")
    assert kfc["spec"]["secretRef"] == {"name": "member1-secret"}
    assert kfc["metadata"]["labels"].get("cluster.kubesphere.io/group") == "testing"
    assert base64.b64decode(host.get("/api/v1/namespaces/kube-federation-system/secrets/member1-secret")["data"]
                            ["token"]) == base64.b64decode(tokens[0]["data"]["token"])


def test_the_webhook_refuses_a_kubeconfig_of_another_cluster(joined_lab):
    host = joined_lab.client(joined_lab.host)
    audit = AuditLog.for_lab(joined_lab.state)
    before = cluster(host, "member1")["spec"]["connection"]["kubeconfig"]
    mark = audit.mark()
    with pytest.raises(ApiError) as err:
        host.merge_patch(CLUSTERS + "/member1",
                         {"spec": {"connection": {"kubeconfig": b64(admin_kubeconfig(joined_lab, "member2"))}}})
    assert err.value.status == 403
    assert ('admission webhook "validating-cluster.kubesphere.io" denied the request: this kubeconfig corresponds '
            'to a different cluster than the previous one') in err.value.reason
    assert cluster(host, "member1")["spec"]["connection"]["kubeconfig"] == before
    audit.sync(joined_lab)
    tried = [r for r in audit.writes_by_collection(since=mark, cluster=joined_lab.host)
             if r.resource == "clusters" and r.name == "member1"]
    assert [(r.verb, r.code) for r in tried] == [("patch", 403)]
    assert audit.writes_by_collection(since=mark, succeeded_only=True) == []
