"""The one kubeconfig parser: content or path, the context clientcmd picks, its view, the fleet summary,
the flattened kubeconfig the host stores, the API server URL (pure but for the files a kubeconfig names)."""

import base64
import datetime

import pytest
import yaml

from cluster_fixtures import kubeconfig

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import kubeconfig as kc
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import x509


def test_parse_kubeconfig_certificate_and_token_users():
    text = kubeconfig()
    view = kc.view(text)
    assert view["server"] == "https://10.0.0.5:6443" and view["auth"] == "certificate"
    assert view["has_ca"] and not view["insecure"] and not view["token"]
    assert x509.certificate_not_after(view["client_certificate_data"]) == datetime.datetime(
        2030, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    robot = kc.view(text, context="token@member1")
    assert robot["auth"] == "token" and robot["client_certificate_data"] is None


@pytest.mark.parametrize("text, msg", [
    ("[1, 2]", "not a YAML mapping"), ("a: [", "not YAML"), ("clusters: []", "no current-context"),
    ("current-context: x\ncontexts: []", "no context 'x'"),
    ("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]", "does not define"),
])
def test_parse_kubeconfig_says_what_is_wrong(text, msg):
    with pytest.raises(ValueError, match=msg):
        kc.view(text)


@pytest.mark.parametrize("server, loop", [
    ("https://127.0.0.1:6443", True), ("https://127.9.9.9", True), ("https://[::1]:6443", True),
    ("https://localhost:6443", True), ("https://api.localhost", True),
    ("https://10.0.0.1:6443", False), ("https://member.example.com:6443", False), ("", False), (None, False),
])
def test_is_loopback(server, loop):
    assert kc.is_loopback(server) is loop


def test_view_gives_the_ca_of_the_chosen_cluster():
    assert kc.view(kubeconfig())["ca_data"] == "Q0E="
    no_ca = "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: s}}]"
    assert kc.view(no_ca)["ca_data"] is None and kc.view(no_ca)["auth"] == "none"


# --- flatten: the kubeconfig the host stores (one context, files embedded) ------------------------------


def kubeconfig_with_files(tmp_path):
    (tmp_path / "ca.crt").write_bytes(b"CA-PEM")
    (tmp_path / "admin.crt").write_bytes(b"CERT-PEM")
    (tmp_path / "admin.key").write_bytes(b"KEY-PEM")
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "a",
           "clusters": [{"name": "a", "cluster": {"server": "https://a:6443", "certificate-authority": "ca.crt"}},
                        {"name": "b", "cluster": {"server": "https://b:6443"}}],
           "users": [{"name": "admin", "user": {"client-certificate": str(tmp_path / "admin.crt"),
                                                "client-key": "admin.key"}},
                     {"name": "other", "user": {"token": "t"}}],
           "contexts": [{"name": "a", "context": {"cluster": "a", "user": "admin"}},
                        {"name": "b", "context": {"cluster": "b", "user": "other"}}]}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_a_path_is_flattened_to_its_context_with_files_embedded(tmp_path):
    flat = yaml.safe_load(kc.flatten(str(kubeconfig_with_files(tmp_path))))
    assert flat["current-context"] == "a" and [c["name"] for c in flat["contexts"]] == ["a"]
    assert flat["clusters"] == [{"name": "a", "cluster": {
        "server": "https://a:6443", "certificate-authority-data": base64.b64encode(b"CA-PEM").decode()}}]
    user = flat["users"][0]["user"]
    assert base64.b64decode(user["client-certificate-data"]) == b"CERT-PEM"
    assert base64.b64decode(user["client-key-data"]) == b"KEY-PEM"  # relative to the kubeconfig's folder
    assert "client-key" not in user and "client-certificate" not in user


def test_the_named_context_wins_and_inline_text_is_accepted(tmp_path):
    text = kubeconfig_with_files(tmp_path).read_text()
    flat = yaml.safe_load(kc.flatten(text, context="b"))
    assert flat["current-context"] == "b" and flat["users"] == [{"name": "other", "user": {"token": "t"}}]
    assert flat["clusters"][0]["cluster"] == {"server": "https://b:6443"}


@pytest.mark.parametrize("value,context,why", [
    ("/nonexistent/kubeconfig", None, "does not exist"),
    ("apiVersion: v1\nclusters: []\ncontexts: []\n", "x", "no context 'x'"),
    ("apiVersion: v1\ncontexts:\n- {name: x, context: {cluster: gone}}\nclusters: []\n", "x", "does not define"),
])
def test_unusable_kubeconfigs_say_why(value, context, why):
    with pytest.raises(ValueError, match=why):
        kc.flatten(value, context)
