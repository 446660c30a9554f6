"""A wait's poll that had to write to get unstuck (Context.repaired) makes the run changed, with `repaired` in the
result and a warning, like a write of the plan."""

from fakes import FakeModule

from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Context, Executor
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps


def test_a_repair_during_a_wait_is_a_change_and_said():
    module = FakeModule()
    ctx = Context(module, {})
    polls = []

    def poll(c):
        polls.append(1)
        if len(polls) == 1:
            c.repaired("cluster 'member1': the stuck record was deleted")
            return False, "stuck", None
        return True, "done", "ok"

    result = {}
    outcome = Executor(ctx, result, sleep=lambda _s: None).run(
        [steps.wait("w", "host", "member1", "Cluster member1", "healthy", poll, 60, sleep=1)])
    assert outcome.ok and result["changed"] is True
    assert result["repaired"] == ["cluster 'member1': the stuck record was deleted"]
    assert module.warnings == ["cluster 'member1': the stuck record was deleted"]


def test_a_wait_without_repairs_changes_nothing():
    result = {}
    Executor(Context(FakeModule(), {}), result, sleep=lambda _s: None).run(
        [steps.wait("w", "host", "member1", "Cluster member1", "healthy", lambda c: (True, "done", "ok"), 60)])
    assert result["changed"] is False and "repaired" not in result
