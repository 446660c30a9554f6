"""plugin_utils/sliced.py: the slice's arguments, the progress line, and the merge of the slices' results
into the result one run gives."""

import pytest
from ansible.errors import AnsibleError

from ansible_collections.kubesphere.multicluster.plugins.plugin_utils import sliced

PENDING = {"cluster": "member2", "condition": "Cluster member2 is healthy (Ready True and its KubeFedCluster Ready True)",
           "state": "KubeFedCluster member2 Offline", "elapsed": 40, "timeout": 600, "resume": {"elapsed": 40}}


def test_interval_defaults_to_20_and_0_turns_slicing_off():
    assert sliced.interval(None) == 20 and sliced.interval("") == 20
    assert sliced.interval("15") == 15 and sliced.interval(0) == 0 and sliced.interval(-3) == 0
    with pytest.raises(AnsibleError):
        sliced.interval("soon")


def test_slice_args_add_the_internal_option_and_drop_a_users_own():
    args = {"name": "m1", "wait_timeout": 600, sliced.OPTION: {"seconds": 1}}
    wanted = {"name": "m1", "wait_timeout": 600, sliced.OPTION: {"seconds": 20, "resume": {}}}
    assert sliced.slice_args(args, 20, None) == wanted
    assert sliced.slice_args(args, 20, {"elapsed": 5})[sliced.OPTION]["resume"] == {"elapsed": 5}
    assert sliced.slice_args(args, 0, None) == {"name": "m1", "wait_timeout": 600}


def test_the_progress_line_names_cluster_condition_state_and_time():
    assert sliced.progress_line(PENDING) == (
        "member2: waiting until Cluster member2 is healthy (Ready True and its KubeFedCluster Ready True) "
        "(now: KubeFedCluster member2 Offline), 40 s of 600 s")
    assert sliced.progress_line(PENDING, hidden=True) == "waiting (details hidden by no_log), 40 s of 600 s"


def test_merge_gives_the_result_of_one_run():
    first = {"changed": True, "diff": {"before": {}, "after": {"x": 1}}, "changes": ["(create)"], "warnings": ["w"],
             "pending": PENDING, "invocation": {"module_args": {"name": "m1", sliced.OPTION: {"seconds": 20}}}}
    middle = {"changed": False, "changes": [], "warnings": ["w"], "pending": PENDING}
    last = {"changed": False, "changes": [], "health": {"verdict": "ready"}, "warnings": ["w2"],
            "invocation": {"module_args": {"name": "m1", sliced.OPTION: {"seconds": 20}}}}
    out = sliced.merge([first, middle, last], write_keys=("diff", "changes"))
    assert out == {"changed": True, "diff": {"before": {}, "after": {"x": 1}}, "changes": ["(create)"],
                   "health": {"verdict": "ready"}, "warnings": ["w", "w2"], "invocation": {"module_args": {"name": "m1"}}}
    assert last["invocation"]["module_args"][sliced.OPTION] == {"seconds": 20}  # inputs untouched


def test_merge_of_slices_that_wrote_nothing_is_unchanged_and_a_late_failure_keeps_changed():
    quiet = sliced.merge([{"changed": False, "pending": PENDING}, {"changed": False, "msg": "ok"}])
    assert quiet == {"changed": False, "msg": "ok"}
    failed = sliced.merge([{"changed": True, "diff": {"a": 1}, "pending": PENDING},
                           {"changed": False, "failed": True, "msg": "cluster 'm1': not healthy within 600 s"}])
    assert failed["failed"] and failed["changed"] and failed["diff"] == {"a": 1}


def test_merge_keeps_what_only_an_earlier_slice_returned():
    """The dedicated credential is made (and reported) by the slice that writes; a later slice that only goes
    on waiting does not return it: the merged result still has it (it was lost before, when an import's
    health wait outlasted one slice: the cause of the dedicated-credential test failing in loaded full runs)."""
    first = {"changed": True, "credential": {"cluster_role": "cluster-admin"}, "credential_changes": ["Secret s"],
             "pending": PENDING}
    last = {"changed": False, "health": {"verdict": "ready"}}
    out = sliced.merge([first, last], write_keys=("diff", "credential_changes"))
    assert out["credential"] == {"cluster_role": "cluster-admin"} and out["credential_changes"] == ["Secret s"]
    assert out["health"] == {"verdict": "ready"} and out["changed"] is True and "pending" not in out


def test_the_next_slice_counts_what_the_call_took_outside_the_modules_run():
    pending = dict(PENDING, ran=20.0, resume={"cluster": "member2", "condition": "c", "elapsed": 18.0, "before": {"x": 1}})
    assert sliced.carry_over(pending, 22.5) == {"cluster": "member2", "condition": "c", "elapsed": 20.5, "before": {"x": 1}}
    assert sliced.carry_over(dict(PENDING, resume={}), 22.5) == {}


def test_the_plan_of_a_sliced_federation_run_is_the_one_of_the_slice_that_wrote():
    """federated_project/federated_resource: a later slice re-plans and finds only the wait left; the run's
    `plan` stays the one that wrote (what --check showed)."""
    from ansible_collections.kubesphere.multicluster.plugins.action import federated_project, federated_resource

    wrote = [{"id": "host-namespace", "verb": "create"}, {"id": "wait-propagated", "kind": "wait"}]
    first = {"changed": True, "plan": wrote, "diff": [{"a": 1}], "pending": PENDING}
    last = {"changed": False, "plan": [{"id": "wait-propagated", "kind": "wait"}], "diff": [],
            "propagation": {"status": "True"}}
    for action in (federated_project.ActionModule, federated_resource.ActionModule):
        out = sliced.merge([first, last], action.WRITE_KEYS)
        assert out["plan"] == wrote and out["diff"] == [{"a": 1}] and out["propagation"] == {"status": "True"}
