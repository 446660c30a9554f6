"""Pure parts of join_runner: the clock-skew limit, and the health wait of a slice."""

import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import join as join_runner


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
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster_health
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
        importer.wait_until("healthy", lambda c, k: cluster_health.health(c, k)["healthy"], lambda c, k: cluster_health.health(c, k)["reason"])
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
