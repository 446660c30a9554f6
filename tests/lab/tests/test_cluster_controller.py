"""The cluster-controller stand-in (tests/lab/standins/clusters.py): direct joins against real members."""

import base64

import yaml

from kslabkit.lab import embedded_kubeconfig
from standins.conditions import events_for, find_condition, set_condition
from standins.installer import read_ks_config
from standins.runtime import rest_from_kubeconfig_bytes

from .test_installer import FAST, make_host, make_member, wait_for, wait_installed

CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters"
FED = "/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/kubefedclusters/"
FED_SECRETS = "/api/v1/namespaces/kube-federation-system/secrets/"


def kubeconfig_b64(lab, name):
    return base64.b64encode(embedded_kubeconfig(lab.kubeconfig(name)).encode()).decode()


def direct_cluster(name, kubeconfig, labels=None):
    return {"apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
            "metadata": {"name": name, "labels": labels or {},
                         "annotations": {"kubesphere.io/way-to-add": "import"}},
            "spec": {"provider": "kslab", "joinFederation": True,
                     "connection": {"type": "direct", "kubeconfig": kubeconfig}}}


def cond(host, name, ctype):
    return find_condition(host.get("%s/%s" % (CLUSTERS, name)), ctype) or {}


def wait_cond(host, name, ctype, status, timeout=30):
    return wait_for(lambda: cond(host, name, ctype).get("status") == status and cond(host, name, ctype),
                    timeout=timeout, what="%s %s=%s" % (name, ctype, status))


def hosted_lab(make_lab, member_jwt=None):
    """A private lab with `host` as host and the members' roles set (member1 gets the host's jwtSecret)."""
    lab = make_lab(extra_env=FAST)
    host, m1, m2 = (lab.client(n) for n in lab.names)
    wait_installed(host, m1, m2)
    jwt = make_host(host)["authentication"]["jwtSecret"]
    make_member(m1, jwt)
    make_member(m2, member_jwt or jwt)
    return lab, host, m1, m2, jwt


def test_host_cluster_and_direct_join_then_delete(make_lab):
    lab, host, m1, _, _ = hosted_lab(make_lab)

    # the host Cluster the controller makes itself (§3)
    ready = wait_cond(host, "host", "Ready", "True")
    assert ready["reason"] == "Ready" and ready["message"] == "Cluster is available now"
    hc = host.get(CLUSTERS + "/host")
    assert hc["metadata"]["labels"] == {"cluster-role.kubesphere.io/host": "", "kubesphere.io/managed": "true"}
    assert hc["metadata"]["annotations"]["kubesphere.io/description"].startswith(
        "The description was created by KubeSphere automatically.")
    assert {k: hc["spec"][k] for k in ("joinFederation", "enable", "provider")} == {
        "joinFederation": True, "enable": True, "provider": "kubesphere"}
    assert hc["spec"]["connection"]["type"] == "direct"
    assert find_condition(hc, "KubeConfigCertExpiresInSevenDays") is None  # not for the host

    # a direct member, as the console imports it
    kc = kubeconfig_b64(lab, "member1")
    host.request("POST", CLUSTERS, direct_cluster("member1", kc, {"cluster.kubesphere.io/group": "lab"}))
    ready = wait_cond(host, "member1", "Ready", "True")
    assert (ready["reason"], ready["message"]) == ("Ready", "Cluster is available now")
    c = host.get(CLUSTERS + "/member1")
    fed = find_condition(c, "Federated")
    assert (fed["status"], fed.get("reason", ""), fed["message"]) == (
        "True", "", "Cluster has joined federation control plane successfully")
    assert c["metadata"]["finalizers"] == ["finalizer.cluster.kubesphere.io"]
    st = c["status"]
    assert st["kubernetesVersion"] == m1.get("/version")["gitVersion"]
    assert st["nodeCount"] == 3
    assert st["uid"] == m1.get("/api/v1/namespaces/kube-system")["metadata"]["uid"]
    assert st["kubeSphereVersion"] == "v3.4.1"
    assert st["configz"]["core"] is True and st["configz"]["multicluster"] is False
    assert c["spec"]["connection"]["kubernetesAPIEndpoint"] == lab.server("member1")
    exp = find_condition(c, "KubeConfigCertExpiresInSevenDays")
    assert exp["status"] == "False" and exp["reason"] == "KubeConfigCertExpiresInSevenDays"
    assert exp["message"].endswith(" +0000 UTC")
    assert all(k["lastTransitionTime"] <= k["lastUpdateTime"] for k in st["conditions"])

    # member side of the join, and the host side kubefed uses
    sa = m1.get("/api/v1/namespaces/kube-federation-system/serviceaccounts/member1-kubesphere")
    assert sa["metadata"]["name"] == "member1-kubesphere"
    crb = m1.get("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubefed-controller-manager:member1-kubesphere")
    assert crb["subjects"][0]["name"] == "member1-kubesphere"
    kfc = host.get(FED + "member1")
    assert kfc["spec"]["apiEndpoint"] == lab.server("member1")
    assert kfc["spec"]["secretRef"] == {"name": "member1-secret"}
    assert kfc["metadata"]["labels"] == {"cluster.kubesphere.io/group": "lab"}
    ca = yaml.safe_load(embedded_kubeconfig(lab.kubeconfig("member1")))["clusters"][0]["cluster"]
    assert kfc["spec"]["caBundle"] == ca["certificate-authority-data"]
    token = base64.b64decode(host.get(FED_SECRETS + "member1-secret")["data"]["token"]).decode()
    as_sa = rest_from_kubeconfig_bytes(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "x",
        "clusters": [{"name": "x", "cluster": {"server": kfc["spec"]["apiEndpoint"],
                                               "certificate-authority-data": kfc["spec"]["caBundle"]}}],
        "users": [{"name": "x", "user": {"token": token}}],
        "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}]}).encode())
    assert as_sa.get("/api/v1/namespaces/kube-system")["metadata"]["name"] == "kube-system"

    # the host writes the member's cluster name into its kubesphere-config
    wait_for(lambda: read_ks_config(m1)["multicluster"].get("clusterName") == "member1", what="clusterName")

    # UPDATE webhook (emulated): a kubeconfig of another cluster is put back, with the webhook's words
    other = kubeconfig_b64(lab, "member2")
    host.merge_patch(CLUSTERS + "/member1", {"spec": {"connection": {"kubeconfig": other}}})
    wait_for(lambda: host.get(CLUSTERS + "/member1")["spec"]["connection"]["kubeconfig"] == kc, what="revert")
    msgs = [e["message"] for e in events_for(host, "member1") if e["reason"] == "AdmissionDenied"]
    assert msgs == ['admission webhook "validating-cluster.kubesphere.io" denied the request: this kubeconfig '
                    'corresponds to a different cluster than the previous one, you need to make sure that '
                    'kubeconfig is not from another cluster']

    # deletion: host side removed, finalizer released, member leftovers stay (as in 3.4)
    host.request("DELETE", CLUSTERS + "/member1")
    wait_for(lambda: host.try_get(CLUSTERS + "/member1") is None, what="Cluster gone")
    assert host.try_get(FED + "member1") is None
    assert host.try_get(FED_SECRETS + "member1-secret") is None
    assert m1.try_get("/api/v1/namespaces/kube-federation-system/serviceaccounts/member1-kubesphere")
    assert m1.try_get("/apis/rbac.authorization.k8s.io/v1/clusterroles/kubefed-controller-manager:member1-kubesphere")
    assert host.try_get(FED + "host")  # the others stay joined


def admin_token(rest):
    """A cluster-admin ServiceAccount token (TokenRequest) on a lab cluster."""
    rest.ensure({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "t-admin", "namespace": "default"}})
    rest.ensure({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                 "metadata": {"name": "t-admin"},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                 "subjects": [{"kind": "ServiceAccount", "name": "t-admin", "namespace": "default"}]})
    return rest.request("POST", "/api/v1/namespaces/default/serviceaccounts/t-admin/token",
                        {"spec": {"expirationSeconds": 3600}})["status"]["token"]


def test_refusals_and_failures_are_visible(make_lab, unique, free_port):
    lab, host, m1, m2, _ = hosted_lab(make_lab, member_jwt="not-the-host-secret-0123456789ab")
    kc1 = kubeconfig_b64(lab, "member1")
    host.request("POST", CLUSTERS, direct_cluster("member1", kc1))
    wait_cond(host, "member1", "Ready", "True")

    # the same cluster under a second name
    dup = "again-" + unique
    host.request("POST", CLUSTERS, direct_cluster(dup, kc1))
    v = wait_cond(host, dup, "KslabValidation", "False")
    assert v["reason"] == "AlreadyExists"
    assert v["message"] == "cluster %s already exists (member1), MUST not import the same cluster twice" % dup
    assert cond(host, dup, "Ready") == {} and host.try_get(FED + dup) is None

    # a kubeconfig without a client certificate: 3.4's expiry check fails and the status is never written
    token_cfg = yaml.safe_load(embedded_kubeconfig(lab.kubeconfig("member2")))
    token_cfg["users"][0]["user"] = {"token": admin_token(m2)}
    tok = "token-" + unique
    host.request("POST", CLUSTERS, direct_cluster(tok, base64.b64encode(yaml.safe_dump(token_cfg).encode()).decode()))
    wait_for(lambda: any("empty CertData" in e["message"] for e in events_for(host, tok)), what="expiry event")
    assert not (host.get(CLUSTERS + "/" + tok).get("status") or {}).get("conditions")

    # jwtSecret differs from the host's: never Ready True
    host.request("POST", CLUSTERS, direct_cluster("member2", kubeconfig_b64(lab, "member2")))
    ready = wait_cond(host, "member2", "Ready", "False")
    assert (ready["reason"], ready["message"]) == ("Unauthorized", "jwt: failed to parse token: signature is invalid")
    assert cond(host, "member2", "KslabValidation")["reason"] == "JWTMismatch"
    assert any(e["message"] == "jwt: failed to parse token: signature is invalid" for e in events_for(host, "member2"))

    # a member whose role is not `member`
    m2.merge_patch("/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/"
                   "ks-installer", {"spec": {"multicluster": {"clusterRole": "none"}}})
    wait_for(lambda: cond(host, "member2", "KslabValidation").get("reason") == "NotMember", what="role check")
    assert cond(host, "member2", "Ready")["message"] == (
        "failed to validate member cluster configuration, err: the clusterRole of the member cluster must be 'member'")

    # unreachable member and a kubeconfig that is not one
    cfg = yaml.safe_load(embedded_kubeconfig(lab.kubeconfig("member1")))
    port = free_port()
    cfg["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:%d" % port
    gone = "gone-" + unique
    host.request("POST", CLUSTERS, direct_cluster(gone, base64.b64encode(yaml.safe_dump(cfg).encode()).decode()))
    fed = wait_cond(host, gone, "Federated", "False")
    assert fed["message"] == "Cluster can not join federation control plane"
    assert fed["reason"] == ('Get "https://127.0.0.1:%d/api/v1/namespaces/kube-system": dial tcp 127.0.0.1:%d: '
                             "connect: connection refused" % (port, port))
    ready = cond(host, gone, "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "False", "Cluster join federation control plane failed", "Cluster is Not Ready now")
    bad = "bad-" + unique
    host.request("POST", CLUSTERS, direct_cluster(bad, base64.b64encode(b"this is not a kubeconfig").decode()))
    fed = wait_cond(host, bad, "Federated", "False")
    assert fed["reason"].startswith("failed to create cluster config for %s: " % bad)
    assert cond(host, bad, "Ready")["status"] == "False"


def test_condition_times_move_only_on_change():
    conds, changed = set_condition([], "Ready", "False", "A", "a")
    assert changed and conds[0]["lastTransitionTime"] == conds[0]["lastUpdateTime"]
    first = dict(conds[0], lastTransitionTime="2020-01-01T00:00:00Z", lastUpdateTime="2020-01-01T00:00:00Z")
    same, changed = set_condition([first], "Ready", "False", "A", "a")
    assert not changed and same == [first]
    other, changed = set_condition([first], "Ready", "False", "B", "b")  # new reason, same status
    assert changed and other[0]["lastTransitionTime"] == "2020-01-01T00:00:00Z"
    assert other[0]["lastUpdateTime"] != "2020-01-01T00:00:00Z"
    flipped, _ = set_condition([first, {"type": "X", "status": "True"}], "Ready", "True", "Ready", "ok")
    assert flipped[0]["lastTransitionTime"] != "2020-01-01T00:00:00Z" and flipped[1]["type"] == "X"
