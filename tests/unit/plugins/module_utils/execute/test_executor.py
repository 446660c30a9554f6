"""execute/executor.py over the one fake connection: check mode (dry runs, predicted steps, no waits), the
diff of each write, deferred bodies, a vanished object, one wait loop with its timeout and its slices
(resumed by step id, carried values, what was done before), always-steps after a failure."""

import pytest
from fakes import FakeConnection, FakeModule

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute import slicing
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Context, Executor
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps

CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {"a": "1"}}
SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "n"}, "data": {"token": "dG9r"}}


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def executor(conn, check_mode=False, slice_options=None, clock=None, **values):
    module = FakeModule(check_mode=check_mode, **({slicing.OPTION: slice_options} if slice_options else {}))
    clock = clock or Clock()
    ctx = Context(module, {"host": conn}, slicer=slicing.Slicer(module.params, clock=clock), values=values)
    return Executor(ctx, {}, sleep=clock.sleep)


def test_check_mode_sends_writes_as_dry_runs_predicts_what_cannot_be_and_waits_for_nothing():
    conn = FakeConnection(label="host")
    plan = [steps.create("cm", "host", "host", CM),
            steps.create("later", "host", "host", dict(CM, metadata={"name": "d", "namespace": "n"}), dry_run=False),
            steps.wait("ready", "host", "host", "ConfigMap n/c", "ready", lambda ctx: pytest.fail("polled"), 10),
            steps.act("file", "local", "host", "a file", lambda ctx: pytest.fail("acted")),
            steps.verify("look", "host", "host", "ConfigMap n/c", lambda ctx: "seen")]
    ex = executor(conn, check_mode=True)
    out = ex.run(plan)
    assert out.ok and out.done == ["cm", "later", "look"] and out.predicted == ["later", "ready", "file"]
    assert conn.writes() == [("create", ("ConfigMap", "c", True))] and conn.store == {}  # dry run: nothing stored
    assert ex.result["changed"] is True and ex.ctx.values["look"] == "seen"
    assert [i for i, _d in out.diffs] == ["cm", "later"]


def test_a_write_diff_is_masked_at_the_steps_secret_paths_and_a_body_may_wait_for_earlier_values():
    conn = FakeConnection(label="host")
    plan = [steps.verify("token", "host", "host", "Secret n/s", lambda ctx: "dG9r"),
            steps.create("secret", "host", "host", lambda values: dict(SECRET, data={"token": values["token"]}),
                         secret_paths=(("data",),), obj="Secret n/s")]
    ex = executor(conn)
    out = ex.run(plan)
    assert out.ok and conn.get("v1", "Secret", "s", "n")["data"] == {"token": "dG9r"}
    diff = out.diff_of("secret")
    assert diff["before"] == {} and "dG9r" not in str(diff) and diff["after_header"] == "Secret n/s"
    assert plan[1].public() == {"id": "secret", "kind": "create", "side": "host", "cluster": "host",
                                "object": "Secret n/s", "verb": "create",
                                "deferred": "built from the values of earlier steps"}


def test_a_patch_of_a_vanished_object_fails_unless_missing_is_ok():
    conn = FakeConnection(label="host")
    gone = steps.patch("p", "host", "host", "v1", "ConfigMap", "c", {"data": {"a": "2"}}, namespace="n")
    out = executor(conn).run([gone])
    assert out.failed[1].code == "not_found" and "is gone" in out.failed[1].msg
    ok = steps.patch("p", "host", "host", "v1", "ConfigMap", "c", {"data": {"a": "2"}}, namespace="n", missing_ok=True)
    assert executor(conn).run([ok]).ok


def test_always_steps_run_after_a_failure_and_the_rest_is_skipped():
    conn = FakeConnection(label="host")
    ran = []

    def boom(ctx):
        raise KubeSphereError("boom", cluster="host", code="api_error")

    plan = [steps.act("a", "host", "host", "x", boom), steps.act("b", "host", "host", "y", lambda ctx: ran.append("b")),
            steps.act("restore", "host", "host", "z", lambda ctx: ran.append("restore"), always=True)]
    ex = executor(conn)
    out = ex.run(plan)
    assert ran == ["restore"] and out.skipped == ["b"] and out.done == ["restore"] and out.failed[0].id == "a"
    with pytest.raises(KubeSphereError) as err:
        ex.raise_failure("the run failed", code="run_failed")
    assert err.value.code == "run_failed" and err.value.msg.startswith("cluster 'host': the run failed at step 'a': ")
    assert "skipped: b; done: restore" in err.value.msg


def test_a_wait_retries_read_errors_and_times_out_with_the_last_state():
    conn = FakeConnection(label="host")
    seen = iter([KubeSphereError("unreachable", code="unreachable")] + [(False, "Ready False", None)] * 50)

    def poll(ctx):
        item = next(seen)
        if isinstance(item, Exception):
            raise item
        return item

    wait = steps.wait("healthy", "host", "member1", "Cluster member1", "healthy", poll, timeout=30, sleep=5)
    out = executor(conn).run([wait])
    error = out.failed[1]
    assert error.code == "timeout" and error.msg == ("cluster 'member1': Cluster member1: not healthy within 30 s: "
                                                     "Ready False")


def test_a_wait_ends_its_slice_pending_and_the_next_slice_resumes_it_by_step_id():
    conn = FakeConnection(label="host")
    clock = Clock()
    polls = []

    def poll(ctx):
        polls.append(ctx.values.get("before"))
        return len(polls) > 6, "Ready False", "ok"

    def plan():
        return [steps.verify("before", "host", "host", "x", lambda ctx: ctx.values.get("before") or "read first",
                             carry=True),
                steps.wait("healthy", "host", "member1", "Cluster member1", "healthy", poll, timeout=600, sleep=5)]

    first = executor(conn, slice_options={"seconds": 20}, clock=clock)
    first.result["written"] = "yes"
    with pytest.raises(slicing.WaitPending) as e:
        first.run(plan())
    pending = e.value.pending
    assert pending["resume"]["key"] == "healthy" and pending["resume"]["carry"] == {"before": "read first"}
    assert pending["resume"]["done"] == ["before"] and pending["elapsed"] == 20
    assert e.value.result == {"written": "yes", "changed": False}
    clock.now += 3  # the next run re-reads before it comes back to the wait: that counts too
    second = executor(conn, slice_options={"seconds": 20, "resume": pending["resume"]}, clock=clock)
    assert second.ctx.slicer.resuming
    out = second.run(plan())
    assert out.ok and second.ctx.values["healthy"] == "ok" and out.done == ["before", "before", "healthy"]
    assert polls[-1] == "read first"  # the carried value, not a new read
