"""Pure parts of the import: the kubeconfig the host stores (read/kubeconfig.py: flattened to one context, files
embedded), the clock-skew limit (checks/join.py), and the health wait ending its slice (plan/join.py's step run by
the executor)."""

import base64

import pytest
import yaml

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import join as join_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read.kubeconfig import flatten_kubeconfig


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
    flat = yaml.safe_load(flatten_kubeconfig(str(kubeconfig_with_files(tmp_path))))
    assert flat["current-context"] == "a" and [c["name"] for c in flat["contexts"]] == ["a"]
    assert flat["clusters"] == [{"name": "a", "cluster": {
        "server": "https://a:6443", "certificate-authority-data": base64.b64encode(b"CA-PEM").decode()}}]
    user = flat["users"][0]["user"]
    assert base64.b64decode(user["client-certificate-data"]) == b"CERT-PEM"
    assert base64.b64decode(user["client-key-data"]) == b"KEY-PEM"  # relative to the kubeconfig's folder
    assert "client-key" not in user and "client-certificate" not in user


def test_the_named_context_wins_and_inline_text_is_accepted(tmp_path):
    text = kubeconfig_with_files(tmp_path).read_text()
    flat = yaml.safe_load(flatten_kubeconfig(text, context="b"))
    assert flat["current-context"] == "b" and flat["users"] == [{"name": "other", "user": {"token": "t"}}]
    assert flat["clusters"][0]["cluster"] == {"server": "https://b:6443"}


@pytest.mark.parametrize("value,context,why", [
    ("/nonexistent/kubeconfig", None, "does not exist"),
    ("apiVersion: v1\nclusters: []\ncontexts: []\n", "x", "no context 'x'"),
    ("apiVersion: v1\ncontexts:\n- {name: x, context: {cluster: gone}}\nclusters: []\n", "x", "does not define"),
])
def test_unusable_kubeconfigs_say_why(value, context, why):
    with pytest.raises(ValueError, match=why):
        flatten_kubeconfig(value, context)


def test_the_skew_limit_is_the_smaller_rendered_value_unless_given():
    member = {"config": {"authentication": {"maximumClockSkew": "4s"}}}
    host = {"config": {"authentication": {"maximumClockSkew": "10s"}}}
    assert join_checks.max_skew(member, host, None) == 4.0
    assert join_checks.max_skew(member, host, 2) == 2.0
    assert join_checks.max_skew({"config": None}, {"config": {}}, None) == 10.0


def test_the_health_wait_ends_its_slice_pending_with_the_cluster_condition_and_state():
    """Run by the action plugin (_wait_slice), the wait stops at the end of the slice with what it sees;
    wait_timeout is not spent, so this is no failure."""
    from fakes import FakeConnection, FakeModule  # noqa: PLC0415

    from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Context, Executor  # noqa: PLC0415
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute import slicing as progress  # noqa: PLC0415
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co  # noqa: PLC0415
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import join as join_plan  # noqa: PLC0415

    now = [0.0]
    cluster = {"apiVersion": co.API_VERSION, "kind": co.KIND, "metadata": {"name": "member2"},
               "spec": {"connection": {"type": "proxy"}, "joinFederation": True},
               "status": {"conditions": [{"type": "Initialized", "status": "True"}, {"type": "AgentAvailable", "status": "True"},
                                         {"type": "Ready", "status": "False", "reason": "Unknown"}]}}
    host = FakeConnection(label="host", objects=[cluster], served={(co.API_VERSION, co.KIND)})
    module = FakeModule(name="member2", connection_type="proxy", wait=True, wait_timeout=600, wait_sleep=5,
                        **{progress.OPTION: {"seconds": 20}})
    plan = [s for s in join_plan.plan({"host": {"config": {}, "proxy": {"address": "http://10.0.0.1:8080"}}, "live": cluster, "kubefed": None, "agent": None},
                                      dict(module.params)) if s.id == "healthy"]
    ctx = Context(module, {"host": host}, slicer=progress.Slicer(module.params, clock=lambda: now[0]))
    with pytest.raises(progress.WaitPending) as e:
        Executor(ctx, sleep=lambda s: now.__setitem__(0, now[0] + max(s, 1))).run(plan)
    pending = e.value.pending
    assert pending["cluster"] == "member2"
    assert pending["condition"] == "Cluster member2 is healthy (Ready True and its KubeFedCluster Ready True)"
    assert pending["elapsed"] == 20 and pending["timeout"] == 600 and "Ready False" in pending["state"]
    assert pending["resume"]["key"] == "healthy"
