"""execute/slicing.py: a wait's time across slices, when a slice ends with WaitPending, and what it hands
over; and the multicluster_role wait (its plan's role-applied step) run in slices (the fake connection, a fake
clock, no sleeps)."""

import pytest
import yaml
from fakes import FakeConnection, FakeModule

from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import role as mr
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute import slicing as progress
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Executor


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def slicer(clock, seconds=None, resume=None, timeout=600):
    options = {"seconds": seconds, "resume": resume} if seconds or resume else None
    return progress.Slicer({"wait_timeout": timeout, progress.OPTION: options}, clock=clock)


def test_without_a_slice_a_wait_never_ends_pending():
    clock = Clock()
    wait = slicer(clock).wait("m1", "x", 600)
    clock.now += 599
    wait.check(lambda: "state")  # no slice: nothing raised
    assert not wait.spent() and wait.nap(5) == 1.0
    clock.now += 1
    assert wait.spent() and wait.nap(5) == 0.0


def test_a_slice_ends_with_pending_and_the_next_slice_of_the_same_wait_counts_the_time_already_waited():
    clock = Clock()
    wait = slicer(clock, seconds=20).wait("member2", "Cluster member2 is healthy", 600)
    clock.now += 15
    wait.check(lambda: pytest.fail("described before the end of the slice"))
    assert wait.nap(10) == 5.0  # cut to what is left of the slice
    clock.now += 5
    with pytest.raises(progress.WaitPending) as e:
        wait.check(lambda: "KubeFedCluster member2 Offline", extra="kept")
    pending = e.value.pending
    assert pending == {"cluster": "member2", "condition": "Cluster member2 is healthy",
                       "state": "KubeFedCluster member2 Offline", "elapsed": 20, "timeout": 600, "ran": 20.0,
                       "resume": {"cluster": "member2", "key": "Cluster member2 is healthy", "elapsed": 20.0,
                                  "timeout": 600, "condition": "Cluster member2 is healthy", "extra": "kept"}}
    nxt = slicer(clock, seconds=20, resume=pending["resume"])
    clock.now += 3  # the next run re-reads and checks before it comes back to the wait: that counts too
    assert nxt.wait("member2", "Cluster member2 is healthy", 600).elapsed() == 23.0
    assert nxt.wait("member2", "Cluster member2 is Initialized by tower", 600).elapsed() == 0  # another wait
    assert nxt.wait("member1", "Cluster member2 is healthy", 600).elapsed() == 0  # another cluster


def test_when_wait_timeout_is_spent_the_slice_does_not_end_pending_and_the_caller_times_out():
    clock = Clock()
    resume = {"cluster": "m1", "key": "c", "elapsed": 590}
    wait = slicer(clock, seconds=20, resume=resume).wait("m1", "c", 600)
    assert wait.nap(30) == 10.0  # cut to what is left of wait_timeout
    clock.now += 20
    assert wait.spent()
    wait.check(lambda: "state")  # nothing raised: the caller fails with its timeout message


def _unreachable():
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError  # noqa: PLC0415

    return KubeSphereError("the API server is unreachable (connection refused)", cluster="host", code="unreachable")


def test_a_later_slice_rides_out_a_host_that_does_not_answer_until_the_slice_ends():
    """The slice's first reads fail (the host's API server restarting, tests/integration/test_faults.py): they are
    retried like the wait's polls, and the slice ends pending with that state, the carried values kept."""
    clock = Clock()
    resume = {"cluster": "member1", "key": "healthy", "elapsed": 40.0, "timeout": 120, "condition": "Cluster member1 is healthy",
              "carry": {"token": "x"}, "done": ["cluster"]}
    calls, resets = [], []

    def read():
        calls.append(clock.now)
        raise _unreachable()
    with pytest.raises(progress.WaitPending) as e:
        slicer(clock, seconds=20, resume=resume).ride_out(read, sleep=lambda s: setattr(clock, "now", clock.now + s),
                                                          nap=5, reset=lambda: resets.append(1))
    assert calls == [1000, 1005, 1010, 1015, 1020] and len(resets) == 4
    pending = e.value.pending
    assert pending["state"] == "cluster 'host': the API server is unreachable (connection refused)"
    assert pending["elapsed"] == 60 and pending["timeout"] == 120
    assert pending["resume"]["key"] == "healthy" and pending["resume"]["carry"] == {"token": "x"}
    assert pending["resume"]["done"] == ["cluster"]


def test_a_later_slice_reads_once_the_host_answers_again_and_fails_at_once_on_other_errors():
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError  # noqa: PLC0415

    clock = Clock()
    resume = {"cluster": "member1", "key": "healthy", "elapsed": 40.0, "timeout": 120}
    answers = [_unreachable(), {"facts": 1}]

    def read():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def sleep(seconds):
        clock.now += seconds

    def unreachable():
        raise _unreachable()
    assert slicer(clock, seconds=20, resume=resume).ride_out(read, sleep=sleep) == {"facts": 1}

    def forbidden():
        raise KubeSphereError("forbidden", cluster="host", code="forbidden")
    with pytest.raises(KubeSphereError) as e:
        slicer(clock, seconds=20, resume=resume).ride_out(forbidden, sleep=sleep)
    assert e.value.code == "forbidden"
    # the wait's time spent: the read's own error, as before
    spent = dict(resume, elapsed=120)
    with pytest.raises(KubeSphereError) as e:
        slicer(clock, seconds=20, resume=spent).ride_out(unreachable, sleep=sleep)
    assert e.value.code == "unreachable"
    # not a later slice: one read, its error as it is
    with pytest.raises(KubeSphereError):
        slicer(clock, seconds=20).ride_out(unreachable, sleep=sleep)


def test_pending_result_keeps_what_the_slice_did():
    error = progress.WaitPending("m1", "c", "s", 3.7, 600)
    out = progress.pending_result({"changed": True, "diff": {"after": 1}}, error)
    assert out["changed"] is True and out["diff"] == {"after": 1} and out["pending"]["elapsed"] == 3


# --- multicluster_role's wait in slices -------------------------------------------------------------

CC_API = "installer.kubesphere.io/v1alpha1"
T0, T1 = "2026-01-01T00:00:00UTC", "2026-01-01T00:05:00UTC"


def objects_of(role, enabled_time, spec_role="host"):
    doc = {"multicluster": {"clusterRole": role}}
    return [
        {"apiVersion": CC_API, "kind": "ClusterConfiguration", "metadata": {"name": "ks-installer", "namespace": "kubesphere-system"},
         "spec": {"multicluster": {"clusterRole": spec_role}}, "status": {"core": {"status": "enabled", "enabledTime": enabled_time}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubesphere-config", "namespace": "kubesphere-system"},
         "data": {"kubesphere.yaml": yaml.safe_dump(doc)}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubesphere-system"}},
    ]


def conn_of(objs):
    return FakeConnection(label="h", objects=objs, served={("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Pod"),
                                                           (CC_API, "ClusterConfiguration")})


def params(**kw):
    base = {"cluster_name": "h", "role": "host", "jwt_secret": None, "host_cluster_name": None,
            "proxy_publish_address": None, "wait_timeout": 600, "wait_sleep": 0, "peers": [], "wait": True,
            "force": False, "create": False, "dest": None, "sync_components": False, "components_include": [],
            "components_exclude": []}
    base.update(kw)
    return base


def run_role(monkeypatch, conn, p, clock=None):
    """operations/role.run on `conn` (no host connection), sleeps advancing the fake clock."""
    monkeypatch.setattr(mr, "Connection", lambda module, label, **kw: conn)
    if clock is not None:
        monkeypatch.setattr(mr, "Slicer", lambda params: progress.Slicer(params, clock=clock))
        monkeypatch.setattr(mr, "Executor", lambda ctx, result: Executor(
            ctx, result, sleep=lambda s: setattr(clock, "now", clock.now + max(s, 1))))
    return mr.run(FakeModule(**p))


def test_the_role_wait_ends_its_slice_pending_with_the_state_and_what_was_read_before_the_write(monkeypatch):
    clock = Clock()
    conn = conn_of(objects_of("none", T0, spec_role="none"))
    p = params(**{progress.OPTION: {"seconds": 20}})
    with pytest.raises(progress.WaitPending) as e:
        run_role(monkeypatch, conn, p, clock)
    pending = e.value.pending
    assert pending["cluster"] == "h" and pending["condition"] == "ks-installer applied role 'host'"
    assert "clusterRole 'none' (wanted 'host')" in pending["state"] and pending["timeout"] == 600
    assert pending["resume"]["key"] == "role-applied"
    assert pending["resume"]["carry"]["role-before"] == {"config_role": "none", "enabled_time": T0,
                                                         "role_before": "none", "wrote": True,
                                                         "proxy_publish_address": None}
    # what the slice did travels with it: the write, the role before it
    assert e.value.result["changed"] is True and e.value.result["role_before"] == "none"
    assert e.value.result["result"]["spec"]["multicluster"]["clusterRole"] == "host"
    assert [s["id"] for s in e.value.result["plan"]] == ["role-before", "role-patch", "role-applied"]


def test_a_later_slice_still_tells_a_failed_multicluster_task_from_what_the_first_slice_read(monkeypatch):
    """The later slice reads a ClusterConfiguration written already; the failure evidence (the role rendered
    and enabledTime moved since our write) comes from the facts the first slice handed over."""
    conn = conn_of(objects_of("host", T1))  # the run since the write rendered host, multicluster unset
    before = {"config_role": "none", "enabled_time": T0, "role_before": "none", "wrote": True}
    resume = {"cluster": "h", "key": "role-applied", "elapsed": 40, "carry": {"role-before": before}}
    p = params(**{progress.OPTION: {"seconds": 20, "resume": resume}})
    with pytest.raises(KubeSphereError) as e:
        run_role(monkeypatch, conn, p)
    assert e.value.code == "installer_failed" and "moved since our write" in e.value.msg
    assert e.value.result["role_before"] == "none"  # the first slice's read, not this one's
    assert [s["id"] for s in e.value.result["plan"]] == ["role-before", "role-applied"]  # nothing left to write
    assert not [c for c in conn.calls if c[0] == "merge_patch"]
    # the same state without the handed-over facts (a first run): no evidence of a run since a write, it waits
    with pytest.raises(KubeSphereError) as e:
        run_role(monkeypatch, conn_of(objects_of("host", T1)), params(wait_timeout=0))
    assert e.value.code == "timeout"


def test_a_slice_resumes_only_when_the_previous_one_stopped_in_a_wait():
    Slicer = progress.Slicer
    assert not Slicer({}).resuming
    assert not Slicer({"_wait_slice": {"seconds": 20, "resume": {}}}).resuming
    assert Slicer({"_wait_slice": {"seconds": 20, "resume": {"cluster": "m1", "key": "x", "elapsed": 3}}}).resuming
