import base64

import pytest
import yaml

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import kubeconfig as kc
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import credential
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import codes


def test_the_credential_objects_bind_cluster_admin_to_a_dedicated_service_account():
    sa, secret, binding = credential.build("host")
    assert sa == {"apiVersion": "v1", "kind": "ServiceAccount",
                  "metadata": {"name": "kubesphere-multicluster", "namespace": "kube-system",
                               "labels": {"app.kubernetes.io/managed-by": "kubesphere.multicluster"},
                               "annotations": {"kubesphere.multicluster/host": "host"}}}
    assert secret["type"] == "kubernetes.io/service-account-token"
    assert secret["metadata"]["annotations"]["kubernetes.io/service-account.name"] == "kubesphere-multicluster"
    assert secret["metadata"]["name"] == "kubesphere-multicluster-token" and "data" not in secret
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": "cluster-admin"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kubesphere-multicluster",
                                    "namespace": "kube-system"}]
    assert "metadata" in binding and "namespace" not in binding["metadata"]


def test_why_cluster_admin_rests_on_the_join_rules():
    assert {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]} in credential.JOIN_CLUSTER_ROLE_RULES
    assert "cluster-admin" in credential.WHY_CLUSTER_ADMIN


def test_revoke_removes_the_binding_first():
    assert credential.revoke("ks", "ops") == [("ClusterRoleBinding", "ks:cluster-admin", None),
                                              ("Secret", "ks-token", "ops"), ("ServiceAccount", "ks", "ops")]


def test_token_of_waits_for_the_token_controller():
    assert credential.token_of({"data": {}}) is None
    assert credential.token_of(None) is None
    assert credential.token_of({"data": {"token": base64.b64encode(b"eyJ.abc").decode()}}) == "eyJ.abc"


def test_kubeconfig_from_the_token_and_the_members_server_and_ca():
    text = credential.kubeconfig("member1", "https://10.0.0.5:6443", "eyJ.abc", ca_data="Q0E=")
    view = kc.view(text)
    assert view["server"] == "https://10.0.0.5:6443" and view["auth"] == "token" and view["has_ca"]
    assert not view["insecure"] and view["files"] == []
    doc = yaml.safe_load(text)
    assert doc["users"][0]["user"] == {"token": "eyJ.abc"}
    with pytest.raises(ValueError):
        credential.kubeconfig("member1", "https://x", None)


def test_ca_comes_from_the_users_kubeconfig_else_the_token_secret():
    user_kc = ("current-context: c\ncontexts: [{name: c, context: {cluster: m, user: u}}]\n"
               "clusters: [{name: m, cluster: {server: 'https://x', certificate-authority-data: VVNFUg==}}]\n"
               "users: [{name: u, user: {token: t}}]\n")
    secret = {"data": {"ca.crt": "Uk9PVA=="}}
    assert credential.ca_of(user_kc, secret=secret) == "VVNFUg=="
    assert credential.ca_of(user_kc.replace(", certificate-authority-data: VVNFUg==", ""), secret=secret) == "Uk9PVA=="
    assert credential.ca_of("not: [a kubeconfig", secret=secret) == "Uk9PVA=="
    assert credential.ca_of("", secret=None) is None


def imported(uid="uid-1", ctype="direct", host=False):
    c = {"metadata": {"name": "member1", "labels": {}}, "spec": {"connection": {"type": ctype}},
         "status": {"uid": uid}}
    if host:
        c["metadata"]["labels"][co.HOST_LABEL] = ""
    return c


def test_rotation_must_reach_the_same_cluster():
    assert credential.rotation_problems("member1", imported(), "uid-1") == []
    assert credential.rotation_problems("member1", None, "anything") == []
    other = credential.rotation_problems("member1", imported(), "uid-2")
    assert codes(other) == ["kubeconfig_other_cluster"]
    assert "403" in other[0]["message"] and "uid-2" in other[0]["message"] and "uid-1" in other[0]["message"]
    unread = credential.rotation_problems("member1", imported(), None, "Unauthorized")
    assert codes(unread) == ["rotation_unreadable"] and "Unauthorized" in unread[0]["message"]
    assert codes(credential.rotation_problems("member1", imported(ctype="proxy"), "uid-1")) == ["rotation_proxy"]
    assert codes(credential.rotation_problems("host", imported(host=True), "uid-1")) == ["rotation_host"]
    assert credential.rotation_problems("member1", imported(uid=None), "uid-9") == []  # never synced: no webhook check
