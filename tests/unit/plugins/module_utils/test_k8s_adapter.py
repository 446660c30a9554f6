"""The adapter's pure parts: option names, inline kubeconfig handling, error wording."""

import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils import _k8s
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError

INLINE = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: https://127.0.0.1:1}}]
users: [{name: u, user: {token: tok-123, client-key-data: a2V5}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
"""


def test_kubernetes_core_is_importable_here():
    assert _k8s.IMPORT_ERROR is None


def test_auth_argspec_is_kubernetes_cores_and_can_be_prefixed():
    plain = _k8s.auth_argspec()
    assert {"kubeconfig", "context", "host", "api_key", "validate_certs", "ca_cert"} <= set(plain)
    assert plain["api_key"].get("no_log") is True
    host = _k8s.auth_argspec("host_")
    assert set(host) == {"host_" + k for k in plain}
    assert host["host_validate_certs"]["aliases"] == ["host_verify_ssl"]
    assert host["host_api_key"]["no_log"] is True
    assert "aliases" in plain["validate_certs"] and plain["validate_certs"]["aliases"] == ["verify_ssl"]


def test_auth_params_picks_one_clusters_options():
    params = {"kubeconfig": "/a", "context": None, "host_kubeconfig": "/b", "host_context": "h", "other": 1}
    assert _k8s.auth_params(params) == {"kubeconfig": "/a"}
    assert _k8s.auth_params(params, "host_") == {"kubeconfig": "/b", "context": "h"}


def test_inline_kubeconfig_becomes_a_dict_and_its_secrets_are_collected():
    value, secrets = _k8s.resolve_kubeconfig(INLINE, "m1")
    assert value["current-context"] == "c"
    assert "tok-123" in secrets and "a2V5" in secrets and INLINE in secrets


def test_a_missing_kubeconfig_file_names_the_cluster_and_the_path(tmp_path):
    with pytest.raises(KubeSphereError) as err:
        _k8s.resolve_kubeconfig(str(tmp_path / "nope"), "member1")
    assert err.value.msg == "cluster 'member1': kubeconfig file %s does not exist" % (tmp_path / "nope")


def test_invalid_inline_kubeconfig_is_refused():
    with pytest.raises(KubeSphereError) as err:
        _k8s.resolve_kubeconfig("apiVersion: v1\nclusters: [unclosed\n", "m1")
    assert "not valid YAML" in err.value.msg


@pytest.mark.parametrize("text,expected", [
    ("HTTPSConnectionPool(host='127.0.0.1', port=1): Max retries exceeded ([Errno 111] Connection refused)",
     "connection refused: the API server is unreachable"),
    ("Max retries exceeded (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] "
     "certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)')))",
     "the API server's certificate is not trusted (certificate verify failed: unable to get local issuer certificate)"),
])
def test_transport_errors_read_as_one_line(text, expected):
    assert _k8s.api_error_reason(Exception(text)) == expected
