"""Contract: ks-apiserver v3.4.1's cluster API (the console's checks) as the collection will call or
re-implement it (fidelity audit F17). Lab: `joined_lab`; member3 is never imported, its role is changed here
and put back."""

import json

import yaml

from .realks import KsApi, admin_kubeconfig, b64, set_role, wait_for

VALIDATE = "/kapis/cluster.kubesphere.io/v1alpha1/clusters/validation"


def validation_body(name, kubeconfig, ctype="direct"):
    return {"apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster", "metadata": {"name": name},
            "spec": {"joinFederation": True, "connection": {"type": ctype, "kubeconfig": b64(kubeconfig)}}}


def validate(ks, body, timeout=120):
    """POST the validation; while the member's ks-apiserver restarts on a new rendering (the lab restarts it,
    as the kubelet restarts a pod), the answer is 'unable validate kubesphere endpoint': ask again."""
    answer = {}

    def done():
        answer["v"] = ks.call("POST", VALIDATE, body)
        return "unable validate kubesphere endpoint" not in answer["v"][1]
    try:
        wait_for(done, timeout, "an answer not about the member's ks-apiserver")
    except AssertionError:
        pass
    return answer["v"]


def test_anonymous_requests_are_refused(joined_lab):
    status, _ = KsApi(joined_lab, joined_lab.host).call("POST", VALIDATE, validation_body("x", "{}"))
    assert status in (401, 403)


def test_validation_refuses_another_role_another_jwt_and_the_same_cluster_twice(joined_lab):
    ks, m3 = joined_lab.ks, joined_lab.client("member3")
    member3 = admin_kubeconfig(joined_lab, "member3")
    try:
        # role none (member3 as installed)
        status, text = validate(ks, validation_body("member3", member3))
        assert status == 400, text
        assert ("failed to validate member cluster configuration, err: the clusterRole of the member cluster must "
                "be 'member'") in text
        # member, with a jwtSecret of its own
        set_role(m3, "member", jwt="anotherJwtSecretForMember3XXXXXX")
        status, text = validate(ks, validation_body("member3", member3))
        assert status == 400, text
        assert "hostcluster Jwt is not equal to member cluster jwt, please edit the member cluster cluster config" in text
        # member with the host's jwtSecret: accepted
        set_role(m3, "member", jwt=joined_lab.jwt)
        status, text = validate(ks, validation_body("member3", member3))
        assert status == 200, text
    finally:
        set_role(m3, "none")
    # an imported cluster under a second name (kube-system UID already in a Cluster's status.uid)
    status, text = ks.call("POST", VALIDATE, validation_body("member9", admin_kubeconfig(joined_lab, "member1")))
    assert status == 400
    assert "cluster member9 already exists (member1), MUST not import the same cluster twice" in text
    # only direct connections are validated
    status, text = ks.call("POST", VALIDATE, validation_body("member9", member3, ctype="proxy"))
    assert status == 400 and "cluster connection type MUST be direct" in text


def test_agent_deployment_is_only_for_proxy_clusters(joined_lab):
    status, text = joined_lab.ks.call("GET", "/kapis/cluster.kubesphere.io/v1alpha1/clusters/member1/agent/deployment")
    assert status == 404 and "cluster member1 is not using proxy connection" in text


def test_the_host_kubeconfig_cannot_be_replaced_through_the_api(joined_lab):
    status, text = joined_lab.ks.call("PUT", "/kapis/cluster.kubesphere.io/v1alpha1/clusters/host/kubeconfig",
                                      {"kubeconfig": b64(admin_kubeconfig(joined_lab, "host"))})
    assert status == 400 and "update kubeconfig of the host cluster is not allowed" in text


def test_version_and_configz_of_a_member_through_its_service_proxy(joined_lab):
    """What the cluster controller and the validation read: /kapis/version via the member's kube-apiserver."""
    m1 = joined_lab.client("member1")
    raw = m1.request("GET", "/api/v1/namespaces/kubesphere-system/services/:ks-apiserver:/proxy/kapis/version",
                     raw=True)
    assert json.loads(raw)["gitVersion"] == "v3.4.1"
    assert yaml.safe_load(raw)  # JSON is YAML: the body is a plain version document
