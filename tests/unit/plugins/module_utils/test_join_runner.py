"""Pure parts of the import: the clock-skew limit (checks/join.py), and the health wait ending its slice
(plan/join.py's step run by the executor). The kubeconfig the host stores is tested in test_kubeconfig.py."""


import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import join as join_checks


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


@pytest.mark.parametrize("status, hinted", [({}, True), ({"conditions": [
    {"type": "Initialized", "status": "True"}, {"type": "AgentAvailable", "status": "True"},
    {"type": "Ready", "status": "False"}]}, False)])
def test_the_health_waits_timeout_says_when_kubesphere_never_acted_on_the_cluster(status, hinted):
    """A Cluster with no condition at all when the wait ends (ks-controller-manager stopped: the lab's fault test
    tests/integration/test_faults.py): the timeout says what is missing and what to do; a Cluster KubeSphere
    acted on (a condition) gets no such hint."""
    from fakes import FakeConnection, FakeModule  # noqa: PLC0415

    from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError  # noqa: PLC0415
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Context, Executor  # noqa: PLC0415
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute import slicing as progress  # noqa: PLC0415
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co  # noqa: PLC0415
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import join as join_plan  # noqa: PLC0415

    now = [0.0]
    cluster = {"apiVersion": co.API_VERSION, "kind": co.KIND, "metadata": {"name": "member1"},
               "spec": {"connection": {"type": "proxy"}, "joinFederation": True}, "status": status}
    host = FakeConnection(label="host", objects=[cluster], served={(co.API_VERSION, co.KIND)})
    module = FakeModule(name="member1", connection_type="proxy", wait=True, wait_timeout=30, wait_sleep=5)
    plan = [s for s in join_plan.plan({"host": {"config": {}, "proxy": {"address": "http://10.0.0.1:8080"}}, "live": cluster, "kubefed": None, "agent": None},
                                      dict(module.params)) if s.id == "healthy"]
    ctx = Context(module, {"host": host}, slicer=progress.Slicer(module.params, clock=lambda: now[0]))
    outcome = Executor(ctx, sleep=lambda s: now.__setitem__(0, now[0] + max(s, 1))).run(plan)
    assert outcome.failures
    step, error = outcome.failures[0]
    assert step.id == "healthy" and isinstance(error, KubeSphereError) and error.code == "timeout"
    assert error.cluster == "member1" and "not healthy" in error.msg
    assert ("ks-controller-manager on the host has not acted on it" in error.msg) is hinted, error.msg
    assert ("run the import again" in error.msg) is hinted, error.msg
