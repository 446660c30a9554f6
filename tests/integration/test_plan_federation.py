"""federated_project and federated_resource plan what they write (issue: the one shape), against the lab's REAL
kubefed v0.8.1: a project and a Deployment with per-cluster replicas on a joined fleet (test_federation.py's
`joined_fleet`). --check returns the plan and writes nothing; the real run plans the same steps and writes
exactly the plan's writes (the host's audit log); then, converged, --check plans nothing and the real run
writes nothing and changes nothing.

A private lab (KSLAB_PRIVATE_PORTS gives its ports); KSLAB_FEDERATION_LAB=<state dir> uses an already running lab
instead (joined if needed, left running), as test_federation_paths.py does."""

import os

import pytest

from auditlog import AuditLog
from plan_audit import audit_writes, plan_writes
from test_federation import (MEMBERS, joined_fleet, kubeconfig_vars, play, private_lab_env, run_playbook, running_lab,
                             wait_for)


@pytest.fixture(scope="module")
def fleet(make_module_lab):
    return joined_fleet(running_lab() or make_module_lab(members=2, extra_env=private_lab_env(200)))


def tasks(ns):
    dep = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": ns, "labels": {"app": "web"}},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}}
    return [
        {"name": "project", "kubesphere.multicluster.federated_project": {
            "kubeconfig": "{{ hk }}", "name": ns, "workspace": "plans", "clusters": MEMBERS, "alias_name": "Plans",
            "wait": True, "wait_timeout": 300}},
        {"name": "deployment", "kubesphere.multicluster.federated_resource": {
            "kubeconfig": "{{ hk }}", "definition": dep, "clusters": MEMBERS, "wait": True, "wait_timeout": 300,
            "settings": {"member1": {"replicas": 1}, "member2": {"replicas": 2}}}},
    ]


def run(fleet, ns, check=False):
    out = run_playbook(play(tasks(ns)), "localhost,", extra_vars=kubeconfig_vars(fleet), check=check)
    assert out.rc == 0, out
    return {name: out.results(name)["localhost"] for name in ("project", "deployment")}


def plans(results):
    return [step for name in ("project", "deployment") for step in results[name]["plan"]]


def test_check_plans_what_the_run_writes_then_converged_plans_nothing(fleet):
    ns = "plan-" + os.urandom(3).hex()
    sides = {"host": fleet.host}
    audit = AuditLog.for_lab(fleet)
    try:
        mark = audit.mark()
        check = run(fleet, ns, check=True)
        audit.sync(fleet)
        assert audit.writes_by_collection(since=mark) == []
        predicted = plans(check)
        assert [(s["id"], s.get("verb")) for s in predicted] == [
            ("host-namespace", "create"), ("federated-namespace", "apply"), ("wait-propagated", None),
            ("federated-object", "apply"), ("wait-propagated", None)], predicted
        assert check["deployment"]["replicas"] == {"member1": 1, "member2": 2}

        mark = audit.mark()
        real = run(fleet, ns)
        assert plans(real) == predicted
        assert real["project"]["changed"] and real["deployment"]["changed"]
        assert real["deployment"]["propagation"]["status"] == "True", real["deployment"]
        audit.sync(fleet)
        assert plan_writes(predicted, sides) == audit_writes(audit, mark)
        for m, want in (("member1", 1), ("member2", 2)):
            path = "/apis/apps/v1/namespaces/%s/deployments/web" % ns
            wait_for(lambda m=m, want=want, path=path: (fleet.client(m).try_get(path) or {}).get("spec", {})
                     .get("replicas") == want, 240, "%d replicas of web on %s" % (want, m))

        mark = audit.mark()
        converged = run(fleet, ns, check=True)
        assert plans(converged) == [], plans(converged)
        again = run(fleet, ns)
        assert plans(again) == [] and not again["project"]["changed"] and not again["deployment"]["changed"]
        audit.sync(fleet)
        assert audit.writes_by_collection(since=mark) == []
    finally:
        run_playbook(play([{"kubesphere.multicluster.federated_project": {
            "kubeconfig": "{{ hk }}", "name": ns, "workspace": "plans", "state": "absent", "confirm": ns}}]),
            "localhost,", extra_vars=kubeconfig_vars(fleet))
