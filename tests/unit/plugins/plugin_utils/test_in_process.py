"""plugin_utils/in_process.py: a module's main() run in the action plugin's process gives what the module
process gives: AnsibleModule's own argument checks and messages, no_log values masked, check mode and diff
handed over, warnings, the collection's failure shape (msg, code, cluster); and where it must not run in
process (not local, switched off, async, environment), the module path is taken."""

import json

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.loader import connection_loader
from ansible.template import Templar

from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import KubeSphereModule
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.plugin_utils import in_process


from ansible_collections.kubesphere.multicluster.plugins.action import cluster_info as cluster_info_action

SECRET = "s3cr3t-token-4f1d9c"
NAME = "kubesphere.multicluster.test_module"


def probe_main():
    """A module as the collection writes them: KubeSphereModule, an argument spec with no_log and
    mutually_exclusive, one operation through run_operation."""
    spec = {"cluster_name": {"type": "str", "required": True},
            "token": {"type": "str", "no_log": True},
            "mode": {"type": "str", "choices": ["read", "fail"], "default": "read"},
            "count": {"type": "int", "default": 1},
            "a": {"type": "str"}, "b": {"type": "str"}}
    module = KubeSphereModule(argument_spec=spec, supports_check_mode=True, mutually_exclusive=[("a", "b")])

    def operation(mod):
        mod.warn("cluster '%s': a warning" % mod.params["cluster_name"])
        if mod.params["mode"] == "fail":
            raise KubeSphereError("refused: the token %s is wrong" % mod.params["token"],
                                  cluster=mod.params["cluster_name"], code="unauthorized")
        return {"changed": not mod.check_mode, "check_mode": mod.check_mode, "diff_mode": mod._diff,
                "count": mod.params["count"], "echo": "token is %s" % mod.params["token"]}

    module.run_operation(operation)


def crashing_main():
    raise ValueError("boom")


def action(args=None, check_mode=False, diff=False, no_log=False, connection="local", async_val=0,
           environment=None):
    task = Task()
    task.args = dict(args or {})
    task.check_mode = check_mode
    task.diff = diff
    task.no_log = no_log
    task.async_val = async_val
    if environment is not None:
        task.environment = environment
    play_context = PlayContext()
    conn = connection_loader.get(connection, play_context, "/dev/null")
    loader = DataLoader()
    return cluster_info_action.ActionModule(task, conn, play_context, loader, Templar(loader=loader), None)


def warnings(result):
    """The messages of a result's warnings (WarningSummary objects, as the module path returns them)."""
    return [w.event.msg for w in result.get("warnings", [])]


def run(args, **kwargs):
    act = action(args, **kwargs)
    return in_process.run(act, NAME, probe_main, act._task.args, {})


def test_a_result_with_check_mode_diff_warnings_and_typed_arguments():
    out = run({"cluster_name": "m1", "count": "3"}, check_mode=True, diff=True)
    assert out["changed"] is False and out["check_mode"] is True and out["diff_mode"] is True
    assert out["count"] == 3  # converted by AnsibleModule, as in a module process
    assert warnings(out) == ["cluster 'm1': a warning"]
    assert out["invocation"]["module_args"]["count"] == 3
    wrote = run({"cluster_name": "m1"})
    assert wrote["changed"] is True and wrote["check_mode"] is False and wrote["diff_mode"] is False


def test_argument_errors_are_ansible_modules_own():
    missing = run({"count": 2})
    assert missing["failed"] is True and missing["msg"] == "missing required arguments: cluster_name"
    bad_type = run({"cluster_name": "m1", "count": "many"})
    assert bad_type["failed"] is True and "count" in bad_type["msg"] and "int" in bad_type["msg"]
    choice = run({"cluster_name": "m1", "mode": "write"})
    assert choice["failed"] is True and "value of mode must be one of: read, fail, got: write" in choice["msg"]
    both = run({"cluster_name": "m1", "a": "x", "b": "y"})
    assert both["failed"] is True and both["msg"] == "parameters are mutually exclusive: a|b"
    unknown = run({"cluster_name": "m1", "colour": "red"})
    assert unknown["failed"] is True and "Unsupported parameters" in unknown["msg"] and "colour" in unknown["msg"]


def test_no_log_values_are_masked_in_the_result_and_the_failure():
    out = run({"cluster_name": "m1", "token": SECRET})
    assert SECRET not in json.dumps(out, default=str)
    assert out["echo"] == "token is ********"
    assert out["invocation"]["module_args"]["token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    failed = run({"cluster_name": "m1", "token": SECRET, "mode": "fail"})
    assert SECRET not in json.dumps(failed, default=str)
    assert failed["failed"] is True and failed["code"] == "unauthorized" and failed["cluster"] == "m1"
    assert failed["msg"] == "cluster 'm1': refused: the token ******** is wrong"


def test_the_failure_shape_of_the_collection():
    failed = run({"cluster_name": "member2", "mode": "fail"})
    wanted = {"failed": True, "code": "unauthorized", "cluster": "member2"}
    assert {k: failed[k] for k in ("failed", "code", "cluster")} == wanted
    assert warnings(failed) == ["cluster 'member2': a warning"]


def test_warnings_of_one_run_do_not_leak_into_the_next():
    run({"cluster_name": "m1"})
    second = run({"cluster_name": "m2"})
    assert warnings(second) == ["cluster 'm2': a warning"]


def test_an_exception_in_the_module_is_a_failed_result_not_a_crash():
    act = action({"cluster_name": "m1"})
    out = in_process.run(act, NAME, crashing_main, act._task.args, {})
    assert out["failed"] is True and out["exception"].event.msg == "boom"


def test_the_real_cluster_info_reports_a_missing_kubeconfig_and_hides_an_inline_one():
    act = action({"cluster_name": "m1", "kubeconfig": "/nonexistent/kubeconfig"})
    out = in_process.run(act, "kubesphere.multicluster.cluster_info", cluster_info_action.ActionModule.MAIN, act._task.args, {})
    assert out["cluster"]["reachable"] is False and out["cluster"]["reason_code"] == "kubeconfig_missing"
    inline = ("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
              "users: [{name: u, user: {token: %s}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
              "current-context: c\n" % SECRET)
    act = action({"cluster_name": "m1", "kubeconfig": inline, "timeout": 5})
    out = in_process.run(act, "kubesphere.multicluster.cluster_info", cluster_info_action.ActionModule.MAIN, act._task.args, {})
    assert out["cluster"]["reachable"] is False and SECRET not in json.dumps(out, default=str)


@pytest.mark.parametrize("kwargs, task_vars, why", [
    ({}, {}, None),
    ({}, {in_process.SWITCH_VAR: False}, "kubesphere_in_process is false"),
    ({}, {in_process.SWITCH_VAR: "no"}, "kubesphere_in_process is false"),
    ({"connection": "ssh"}, {}, "the connection is ssh, not local"),
    ({"async_val": 30}, {}, "the task is async"),
    ({"environment": [{"HTTPS_PROXY": "http://proxy:3128"}]}, {}, "the task sets environment (HTTPS_PROXY)"),
    ({"environment": [{}]}, {}, None),
])
def test_where_it_runs_in_process(kwargs, task_vars, why):
    assert in_process.refusal(action({"cluster_name": "m1"}, **kwargs), probe_main, task_vars) == why


def test_no_importable_module_code_takes_the_module_path():
    assert in_process.refusal(action({}), None, {}) == "the module's code cannot be imported on the controller"


def test_execute_ships_the_module_when_it_must_not_run_in_process(monkeypatch):
    act = action({"cluster_name": "m1"})
    shipped = []
    monkeypatch.setattr(act, "_execute_module", lambda **kw: shipped.append(kw) or {"changed": False, "shipped": True})
    assert in_process.execute(act, NAME, probe_main, act._task.args, {in_process.SWITCH_VAR: False})["shipped"]
    assert shipped[0]["module_name"] == NAME and shipped[0]["module_args"] == {"cluster_name": "m1"}
    assert in_process.execute(act, NAME, probe_main, act._task.args, {})["check_mode"] is False
    assert len(shipped) == 1
