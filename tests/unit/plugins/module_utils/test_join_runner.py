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


class ProbedConnection:
    """A member connection whose service proxy answers the /kapis/version probe with `answers` in turn (an int is
    an HTTP status returned, an exception is raised; the last answer stays); counts probes and time bounds."""

    label = "member2"

    def __init__(self, answers):
        self.answers, self.probes, self.bounds = list(answers), 0, 0

    def raw(self, method, path):
        self.probes += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer, {}, {"gitVersion": "v3.4.1"} if answer == 200 else "no endpoints available"

    def new_bound(self):
        self.bounds += 1


def settle(answers, settle_timeout=60, slice_seconds=None, resume=None):
    """operations/join.py settled_probe on a fake clock: (the probe it returns, the connection)."""
    from fakes import FakeModule  # noqa: PLC0415

    from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute import slicing  # noqa: PLC0415
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Context  # noqa: PLC0415
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import join as join_op  # noqa: PLC0415
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import join as read_join  # noqa: PLC0415

    now = [0.0]
    options = {slicing.OPTION: {"seconds": slice_seconds, "resume": resume or {}}} if slice_seconds else {}
    module = FakeModule(name="member2", wait_sleep=2, settle_timeout=settle_timeout, **options)
    slicer = slicing.Slicer(module.params, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    conn = ProbedConnection(answers)
    first = read_join.probe_kubesphere_api(conn)
    return join_op.settled_probe(module, Context(module, {}, slicer=slicer), conn, first), conn


def test_a_restarting_ks_apiserver_is_probed_again_until_it_answers():
    """503 (the service proxy has no endpoint) and 502 (the endpoint refused) while it restarts: probed again
    every wait_sleep, each probe with the connection's whole time bound."""
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError  # noqa: PLC0415

    refused = KubeSphereError("error trying to reach service: 502 Bad Gateway (HTTP 503)", code="api_error", status=503)
    out, conn = settle([503, refused, 200])
    assert out == {"reachable": True, "error": None, "version": "v3.4.1"}
    assert (conn.probes, conn.bounds) == (3, 2)


def test_a_ks_apiserver_still_restarting_after_the_settle_timeout_is_unreachable_and_other_answers_are_not_waited():
    out, conn = settle([503], settle_timeout=10)
    assert out["reachable"] is False and out["status"] == 503 and out["waited"] == 10, out
    assert conn.probes == 6  # at 0, 2, 4, 6, 8, 10 s
    out, conn = settle([403])  # not a restart: refused at once
    assert out["reachable"] is False and "waited" not in out and conn.probes == 1, out
    out, conn = settle([503], settle_timeout=0)  # settle_timeout 0: one probe
    assert conn.probes == 1 and "waited" not in out


def test_the_settle_wait_ends_its_slice_pending_and_the_next_slice_counts_the_time_already_waited():
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute import slicing  # noqa: PLC0415
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import join as join_op  # noqa: PLC0415

    with pytest.raises(slicing.WaitPending) as e:
        settle([503], settle_timeout=60, slice_seconds=20)
    pending = e.value.pending
    assert (pending["cluster"], pending["elapsed"], pending["timeout"]) == ("member2", 20, 60), pending
    assert pending["resume"]["key"] == join_op.SETTLE_KEY and "503" in pending["state"], pending
    # the next slice: 40 s left of the wait, then the probe's last answer is the result
    out, conn = settle([503], settle_timeout=60, slice_seconds=50, resume=pending["resume"])
    assert out["reachable"] is False and out["waited"] == 60 and conn.probes == 21, out  # the read at 20 s, then 22 to 60 s
