"""Pure parts of join_runner: the kubeconfig the host stores (flattened to one context, files embedded) and
the clock-skew limit."""

import base64

import pytest
import yaml

from ansible_collections.kubesphere.multicluster.plugins.module_utils import join_runner


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
    flat = yaml.safe_load(join_runner.flatten_kubeconfig(str(kubeconfig_with_files(tmp_path))))
    assert flat["current-context"] == "a" and [c["name"] for c in flat["contexts"]] == ["a"]
    assert flat["clusters"] == [{"name": "a", "cluster": {
        "server": "https://a:6443", "certificate-authority-data": base64.b64encode(b"CA-PEM").decode()}}]
    user = flat["users"][0]["user"]
    assert base64.b64decode(user["client-certificate-data"]) == b"CERT-PEM"
    assert base64.b64decode(user["client-key-data"]) == b"KEY-PEM"  # relative to the kubeconfig's folder
    assert "client-key" not in user and "client-certificate" not in user


def test_the_named_context_wins_and_inline_text_is_accepted(tmp_path):
    text = kubeconfig_with_files(tmp_path).read_text()
    flat = yaml.safe_load(join_runner.flatten_kubeconfig(text, context="b"))
    assert flat["current-context"] == "b" and flat["users"] == [{"name": "other", "user": {"token": "t"}}]
    assert flat["clusters"][0]["cluster"] == {"server": "https://b:6443"}


@pytest.mark.parametrize("value,context,why", [
    ("/nonexistent/kubeconfig", None, "does not exist"),
    ("apiVersion: v1\nclusters: []\ncontexts: []\n", "x", "no context 'x'"),
    ("apiVersion: v1\ncontexts:\n- {name: x, context: {cluster: gone}}\nclusters: []\n", "x", "does not define"),
])
def test_unusable_kubeconfigs_say_why(value, context, why):
    with pytest.raises(ValueError, match=why):
        join_runner.flatten_kubeconfig(value, context)


def test_the_skew_limit_is_the_smaller_rendered_value_unless_given():
    member = {"config": {"authentication": {"maximumClockSkew": "4s"}}}
    host = {"config": {"authentication": {"maximumClockSkew": "10s"}}}
    assert join_runner.max_skew(member, host, None) == 4.0
    assert join_runner.max_skew(member, host, 2) == 2.0
    assert join_runner.max_skew({"config": None}, {"config": {}}, None) == 10.0
