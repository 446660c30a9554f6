"""The sliced action plugins (member, multicluster_role, federated_project, federated_resource) and the
one-run ones (cluster_info, federation_info, clock_skew) run their module's main() in the worker process
where the connection is local (plugins/plugin_utils/in_process.py): each plugin names its module's own
main; a sliced run goes slice after slice in this process (resume handed on, the writing slice's diff kept,
no_log's progress line hidden) without starting a module process; switched off, every slice is shipped."""

import importlib
import json

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.loader import connection_loader
from ansible.template import Templar

from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import KubeSphereModule
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute import slicing
from ansible_collections.kubesphere.multicluster.plugins.plugin_utils import in_process, sliced

SECRET = "s3cr3t-slice-token-77a1"
NAME = "kubesphere.multicluster.sliced_probe"
CALLS = []  # what the probe saw, one entry per run of its main() in this process

PLUGINS = ("member", "multicluster_role", "federated_project", "federated_resource",
           "cluster_info", "federation_info", "clock_skew")


def probe_main():
    """A waiting module: its first slice writes and returns `pending`, the next one (given `resume`) ends."""
    spec = {"cluster_name": {"type": "str", "required": True}, "token": {"type": "str", "no_log": True},
            "fail": {"type": "bool", "default": False}}
    spec[slicing.OPTION] = {"type": "dict"}
    module = KubeSphereModule(argument_spec=spec, supports_check_mode=True)

    def operation(mod):
        options = mod.params.get(slicing.OPTION) or {}
        resume = options.get("resume") or {}
        CALLS.append({"seconds": options.get("seconds"), "resume": resume, "check_mode": mod.check_mode})
        if mod.params["fail"]:
            from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
            raise KubeSphereError("Cluster %s is not healthy, token %s" % (mod.params["cluster_name"], mod.params["token"]),
                                  cluster=mod.params["cluster_name"], code="not_healthy")
        if options.get("seconds") and not resume:
            return {"changed": True, "diff": {"before": {}, "after": {"token": mod.params["token"]}},
                    "pending": {"cluster": mod.params["cluster_name"], "condition": "Cluster %s is healthy"
                                % mod.params["cluster_name"], "state": "Offline", "elapsed": 20, "timeout": 600,
                                "ran": 20, "resume": {"elapsed": 20, "wait": "health"}}}
        return {"changed": False, "diff": {"before": {"x": 1}, "after": {"x": 1}}, "health": "ready"}

    module.run_operation(operation)


class ProbeAction(sliced.SlicedModuleAction):
    MODULE = NAME
    MAIN = staticmethod(probe_main)


def action(cls, args, no_log=False, check_mode=False):
    task = Task()
    task.args = dict(args)
    task.no_log = no_log
    task.check_mode = check_mode
    play_context = PlayContext()
    conn = connection_loader.get("local", play_context, "/dev/null")
    loader = DataLoader()
    return cls(task, conn, play_context, loader, Templar(loader=loader), None)


@pytest.fixture
def probe(monkeypatch):
    """The probe's action with the module path recorded instead of run (a module process would start there)."""
    del CALLS[:]
    act = action(ProbeAction, {"cluster_name": "member2", "token": SECRET})
    shipped = []

    def ship(**kwargs):
        shipped.append(kwargs)
        return {"changed": False, "shipped": True}

    monkeypatch.setattr(act, "_execute_module", ship)
    return act, shipped


@pytest.mark.parametrize("name", PLUGINS)
def test_each_plugin_runs_its_own_modules_main(name):
    plugin = importlib.import_module("ansible_collections.kubesphere.multicluster.plugins.action.%s" % name)
    module = importlib.import_module("ansible_collections.kubesphere.multicluster.plugins.modules.%s" % name)
    assert plugin.ActionModule.MODULE == "kubesphere.multicluster.%s" % name
    assert plugin.ActionModule.MAIN is module.main  # staticmethod: the function itself, not a bound method
    base = sliced.SlicedModuleAction if name in PLUGINS[:4] else in_process.ModuleAction
    assert issubclass(plugin.ActionModule, base)


def test_the_slices_run_in_this_process_and_make_one_result(probe, capsys):
    act, shipped = probe
    out = act.run(task_vars={sliced.INTERVAL_VAR: 20, "inventory_hostname": "member2"})
    assert shipped == []  # no module process
    assert [c["resume"] for c in CALLS] == [{}, {"elapsed": 20.0, "wait": "health"}]
    assert [c["seconds"] for c in CALLS] == [20, 20]
    assert out["changed"] is True and out["health"] == "ready" and "pending" not in out
    assert out["diff"] == {"before": {}, "after": {"token": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}}  # the writer's, masked
    assert SECRET not in json.dumps(out, default=str)
    assert slicing.OPTION not in out["invocation"]["module_args"]
    printed = capsys.readouterr().out
    assert "[member2] member2: waiting until Cluster member2 is healthy (now: Offline), 20 s of 600 s" in printed


def test_a_failure_names_the_cluster_and_hides_the_secret(probe):
    act, shipped = probe
    act._task.args["fail"] = True
    out = act.run(task_vars={})
    assert shipped == [] and len(CALLS) == 1
    assert out["failed"] is True and out["code"] == "not_healthy" and out["cluster"] == "member2"
    assert out["msg"] == "cluster 'member2': Cluster member2 is not healthy, token ********"


def test_check_mode_runs_one_unsliced_run_in_this_process(probe):
    act, shipped = probe
    act._task.check_mode = True
    out = act.run(task_vars={})
    assert shipped == [] and CALLS == [{"seconds": None, "resume": {}, "check_mode": True}]
    assert out["changed"] is False


def test_no_log_hides_the_progress_line(probe, capsys):
    act, shipped = probe
    act._task.no_log = True
    act.run(task_vars={"inventory_hostname": "member2"})
    assert shipped == [] and len(CALLS) == 2
    printed = capsys.readouterr().out
    assert "waiting (details hidden by no_log), 20 s of 600 s" in printed and "Cluster member2" not in printed


@pytest.mark.parametrize("task_vars", [{in_process.SWITCH_VAR: False}, {in_process.SWITCH_VAR: "false"}])
def test_switched_off_every_slice_is_a_module_process(probe, task_vars):
    act, shipped = probe
    out = act.run(task_vars=dict(task_vars))
    assert CALLS == [] and out["shipped"] is True
    assert [s["module_name"] for s in shipped] == [NAME]
    assert shipped[0]["module_args"][sliced.OPTION] == {"seconds": 20, "resume": {}}
