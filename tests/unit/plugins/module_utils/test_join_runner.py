"""Pure parts of join_runner: the kubeconfig the host stores (flattened to one context, files embedded) and
the clock-skew limit."""

import base64

import pytest
import yaml

from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import join as join_runner


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


def test_the_health_wait_ends_its_slice_pending_with_the_cluster_condition_and_state(monkeypatch):
    """Run by the action plugin (_wait_slice), the wait stops at the end of the slice with what it sees;
    wait_timeout is not spent, so this is no failure."""
    from fakes import FakeConnection, FakeModule  # noqa: PLC0415

    from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co  # noqa: PLC0415
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute import slicing as progress  # noqa: PLC0415

    now = [0.0]
    monkeypatch.setattr(join_runner.time, "sleep", lambda s: now.__setitem__(0, now[0] + max(s, 1)))
    cluster = {"apiVersion": co.API_VERSION, "kind": co.KIND, "metadata": {"name": "member2"},
               "spec": {"connection": {"type": "proxy"}},
               "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Unknown"}]}}
    host = FakeConnection(label="host", objects=[cluster], served={(co.API_VERSION, co.KIND)})
    module = FakeModule(name="member2", connection_type="proxy", wait_timeout=600, wait_sleep=5,
                        **{progress.OPTION: {"seconds": 20}})
    importer = join_runner.Importer(module, host, None, None)
    importer.slicer = progress.Slicer(module.params, clock=lambda: now[0])
    with pytest.raises(progress.WaitPending) as e:
        importer.wait_until("healthy", lambda c, k: co.health(c, k)["healthy"], lambda c, k: co.health(c, k)["reason"])
    pending = e.value.pending
    assert pending["cluster"] == "member2" and pending["condition"] == "Cluster member2 is healthy"
    assert pending["elapsed"] == 20 and pending["timeout"] == 600 and pending["state"]


def test_a_cluster_deleted_between_the_read_and_the_patch_fails_saying_so():
    """The Connection's rule: a patch of a vanished object is None; the import says it was deleted meanwhile
    (code not_found) instead of crashing on None."""
    from fakes import FakeConnection, FakeModule  # noqa: PLC0415

    from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError  # noqa: PLC0415
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co  # noqa: PLC0415

    live = {"apiVersion": co.API_VERSION, "kind": co.KIND,
            "metadata": {"name": "member2", "labels": {"cluster.kubesphere.io/group": "lab"}},
            "spec": {"connection": {"type": "proxy"}, "joinFederation": True, "enable": True}}
    desired = {"apiVersion": co.API_VERSION, "kind": co.KIND,
               "metadata": {"name": "member2", "labels": {"cluster.kubesphere.io/group": "production"}},
               "spec": {"connection": {"type": "proxy"}, "joinFederation": True, "enable": True}}
    assert co.compare(live, desired)["patch"]  # the import would patch the Cluster
    host = FakeConnection(label="host", objects=[], served={(co.API_VERSION, co.KIND)})  # deleted meanwhile
    importer = join_runner.Importer(FakeModule(name="member2", connection_type="proxy"), host, None, None)
    with pytest.raises(KubeSphereError) as err:
        importer.write_cluster(desired, live)
    assert err.value.code == "not_found"
    assert err.value.msg == ("cluster 'host': Cluster member2: was deleted by someone else while this run was updating it "
                             "(nothing was written to it; rerun to act on what is there now)")
    assert [c[0] for c in host.writes()] == ["merge_patch"]
