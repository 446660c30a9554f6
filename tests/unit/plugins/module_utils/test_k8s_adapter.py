"""The adapter's pure parts: option names, inline kubeconfig handling, error wording."""

import pytest
import yaml

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
    assert "neither YAML nor JSON" in err.value.msg and err.value.code == "kubeconfig_invalid"


def _max_retry(reason):
    import urllib3

    return urllib3.exceptions.MaxRetryError(None, "/version", reason=reason)


def _cases():
    import ssl

    import urllib3
    from kubernetes.config import ConfigException
    from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError

    class Http:  # what DynamicApiError wraps: an ApiException-like object
        def __init__(self, status, reason):
            self.status, self.reason, self.body, self.headers = status, reason, None, {}

    refused = urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    untrusted = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    return [
        (_max_retry(refused), "unreachable"),
        (_max_retry(urllib3.exceptions.SSLError(untrusted)), "tls_untrusted"),
        (_max_retry(urllib3.exceptions.ConnectTimeoutError(None, "timed out")), "timeout"),
        (urllib3.exceptions.ReadTimeoutError(None, "/version", "read timed out"), "timeout"),
        (ConfigException("Invalid kube-config file. Expected object with name nope in /k contexts list"), "no_such_context"),
        (ConfigException("Invalid kube-config file. No configuration found."), "kubeconfig_invalid"),
        (DynamicApiError(Http(401, "Unauthorized")), "unauthorized"),
        (DynamicApiError(Http(403, "Forbidden")), "forbidden"),
        (DynamicApiError(Http(500, "Internal Server Error")), "api_error"),
        (ResourceNotFoundError("No matches found for {'kind': 'Nothing'}"), "kind_not_served"),
    ]


def test_error_codes_come_from_the_exception_types():
    for error, code in _cases():
        got, reason = _k8s.error_code(error)
        assert got == code, (error, got, reason)
        assert got in _k8s.ERROR_CODES and reason


def test_a_wrapped_error_is_read_through_its_cause():
    try:
        try:
            raise _max_retry(_cases()[0][0].reason)
        except Exception as inner:
            raise RuntimeError("Could not create API client") from inner
    except RuntimeError as outer:
        assert _k8s.error_code(outer)[0] == "unreachable"


def test_kubeconfig_secrets_cover_every_secret_field():
    data = {"users": [{"name": "u", "user": {
        "token": "t1", "password": "p1", "client-key-data": "k1", "client-certificate-data": "c1",
        "auth-provider": {"name": "oidc", "config": {"access-token": "a1", "refresh-token": "r1", "id-token": "i1",
                                                     "client-secret": "s1", "client-id": "public"}},
        "exec": {"command": "x", "env": [{"name": "AWS_SECRET", "value": "e1"}]}}}],
        "clusters": [{"name": "c", "cluster": {"server": "https://x", "certificate-authority-data": "ca1"}}]}
    found = set(_k8s.kubeconfig.secrets(data))
    assert found == {"t1", "p1", "k1", "c1", "a1", "r1", "i1", "s1", "e1", "ca1"}


def test_k8s_auth_environment_is_invisible_while_a_client_is_built(monkeypatch):
    monkeypatch.setenv("K8S_AUTH_HOST", "https://elsewhere:6443")
    monkeypatch.setenv("K8S_AUTH_API_KEY", "env-token")
    monkeypatch.setenv("KUBECONFIG_UNRELATED", "kept")
    seen = {}

    def fake_get_api_client(module=None, **auth):
        import os

        seen["env"] = {k: v for k, v in os.environ.items() if k.startswith("K8S_AUTH_")}
        seen["auth"] = auth
        return object()

    monkeypatch.setattr(_k8s, "get_api_client", fake_get_api_client)

    class Module:
        params = {"kubeconfig": None, "context": "m1"}
        warnings = []

        def warn(self, msg):
            self.warnings.append(msg)

        def hide(self, *values):
            pass

    module = Module()
    conn = _k8s.Connection(module, "m1")
    assert conn.client is not None
    assert seen["env"] == {} and seen["auth"] == {"context": "m1"}
    import os

    assert os.environ["K8S_AUTH_HOST"] == "https://elsewhere:6443"  # restored afterwards
    assert module.warnings == [_k8s.IGNORED_ENV_WARNING % "K8S_AUTH_API_KEY, K8S_AUTH_HOST"]


def test_a_json_inline_kubeconfig_is_content():
    import json

    value, secrets = _k8s.resolve_kubeconfig(json.dumps(yaml.safe_load(INLINE), indent=1), "m1")
    assert value["current-context"] == "c" and "tok-123" in secrets


def test_member_kubeconfigs_given_inline_are_hidden_from_the_start_whether_or_not_they_are_used():
    """members/member_connections: the token of a member's inline kubeconfig (text, as AWX injects it) is a no_log
    value before any connection is made (the adoption check connects only to the members a placement adds); a
    path is not hidden, and text that is no kubeconfig is hidden whole."""
    from fakes import FakeModule
    from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import hide_member_kubeconfigs

    text = yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "c",
                           "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                           "users": [{"name": "u", "user": {"token": "member9-token-5f1e"}}],
                           "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]})
    module = FakeModule(member_connections=[
        {"cluster_name": "member9", "kubeconfig": text, "context": None},
        {"cluster_name": "member1", "kubeconfig": "/no/such/kubeconfig", "context": "member1"},
        {"cluster_name": "member2", "kubeconfig": "apiVersion: v1\nusers: [{name: u, user: {token: unclosed-9c2\n", "context": None}])
    hide_member_kubeconfigs(module)
    assert "member9-token-5f1e" in module.hidden and text in module.hidden
    assert "apiVersion: v1\nusers: [{name: u, user: {token: unclosed-9c2\n" in module.hidden
    assert not [h for h in module.hidden if "/no/such" in h]
    module = FakeModule(members=[{"cluster_name": "member9", "kubeconfig": text, "context": None}])
    hide_member_kubeconfigs(module)
    assert "member9-token-5f1e" in module.hidden
