"""federated_project and federated_resource plan what they write (issue: the one shape), against the lab's REAL
kubefed v0.8.1: a project and a Deployment with per-cluster replicas on a joined fleet (test_federation.py's
`joined_fleet`). --check returns the plan and writes nothing; the real run plans the same steps and writes
exactly the plan's writes (the host's audit log); then, converged, --check plans nothing and the real run
writes nothing and changes nothing. The workspace module the same way (created, changed, deleted), and at -vvv
with the host's kubeconfig inlined: no key in its output.

A private lab (KSLAB_PRIVATE_PORTS gives its ports); KSLAB_FEDERATION_LAB=<state dir> uses an already running lab
instead (joined if needed, left running), as test_federation_paths.py does."""

import os

import pytest
import yaml

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


# --- the workspace module: its plan against the audit log; nothing secret at -vvv -----------------------------

WT = "/apis/tenant.kubesphere.io/v1alpha2/workspacetemplates/"


def workspace_run(fleet, name, check=False, verbosity=0, callback="ansible.posix.json", hk=None, **args):
    args = dict({"kubeconfig": "{{ hk }}", "name": name}, **args)
    task = {"name": "workspace", "kubesphere.multicluster.workspace": args}
    out = run_playbook(play([task]), "localhost,", extra_vars={"hk": hk or fleet.kubeconfig(fleet.host)}, check=check,
                       verbosity=verbosity, callback=callback)
    assert out.rc == 0, out
    return out if callback != "ansible.posix.json" else out.results("workspace")["localhost"]


def test_the_workspace_module_plans_what_it_writes(fleet):
    """Create, change and delete a workspace: each time --check returns the plan and writes nothing, the real run
    plans the same steps and writes exactly the plan's writes (the host's audit log); converged, both plan
    nothing and the real run writes nothing."""
    ws = "plan-ws-" + os.urandom(3).hex()
    sides = {"host": fleet.host}
    audit = AuditLog.for_lab(fleet)
    states = [
        ("create", dict(clusters=MEMBERS, manager="admin", alias_name="Plans"), [("workspace-template", "create")]),
        ("change", dict(clusters=MEMBERS[:1], manager="admin", alias_name="Plans", description="changed"),
         [("workspace-template", "patch")]),
        ("delete", dict(state="absent", confirm=ws), [("delete-workspace-template", "delete")]),
    ]
    try:
        for what, args, expected in states:
            mark = audit.mark()
            check = workspace_run(fleet, ws, check=True, **args)
            audit.sync(fleet)
            assert audit.writes_by_collection(since=mark) == [], what
            assert [(s["id"], s.get("verb")) for s in check["plan"]] == expected, (what, check["plan"])
            assert check["changed"] is True, (what, check)

            mark = audit.mark()
            real = workspace_run(fleet, ws, **args)
            assert real["plan"] == check["plan"] and real["changed"] is True, (what, real)
            audit.sync(fleet)
            assert plan_writes(real["plan"], sides) == audit_writes(audit, mark), what
            live = fleet.client(fleet.host).try_get(WT + ws)
            if what == "delete":
                assert live is None or live["metadata"].get("deletionTimestamp"), live
            else:
                assert sorted(c["name"] for c in live["spec"]["placement"]["clusters"]) == args["clusters"], live
                assert live["spec"]["template"]["spec"]["manager"] == "admin", live

            mark = audit.mark()
            converged = workspace_run(fleet, ws, check=True, **args)
            again = workspace_run(fleet, ws, **args)
            assert converged["plan"] == [] and again["plan"] == [] and again["changed"] is False, (what, again)
            audit.sync(fleet)
            assert audit.writes_by_collection(since=mark) == [], what
    finally:
        if fleet.client(fleet.host).try_get(WT + ws) is not None:
            workspace_run(fleet, ws, state="absent", confirm=ws)


def test_workspace_labels_are_refused_on_34_whose_workspace_template_drops_them(fleet):
    """KubeSphere 3.4's WorkspaceTemplate CRD (the lab loads the real one) prunes spec.template.metadata.labels:
    the API server answers a create without them. Written, they would vanish and every run would write them again
    (found by the plan test above: the converged run planned the same patch). The module refuses them before any
    write, naming the host, the workspace and the labels."""
    ws = "labels-ws-" + os.urandom(3).hex()
    host = fleet.client(fleet.host)
    body = {"apiVersion": "tenant.kubesphere.io/v1alpha2", "kind": "WorkspaceTemplate", "metadata": {"name": ws},
            "spec": {"placement": {"clusters": []},
                     "template": {"metadata": {"labels": {"team": "plans"}}, "spec": {"manager": "admin"}}}}
    made = host.request("POST", WT.rstrip("/"), body)
    try:
        assert made["spec"]["template"].get("metadata") in ({}, None), made["spec"]  # what the schema keeps
    finally:
        host.request("DELETE", WT + ws)
    audit = AuditLog.for_lab(fleet)
    mark = audit.mark()
    out = run_playbook(play([{"name": "workspace", "kubesphere.multicluster.workspace": {
        "kubeconfig": "{{ hk }}", "name": ws, "clusters": MEMBERS, "manager": "admin", "labels": {"team": "plans"}}}]),
        "localhost,", extra_vars=kubeconfig_vars(fleet))
    assert out.rc != 0, out
    res = out.results("workspace")["localhost"]
    assert res["code"] == "workspace_labels_dropped" and res["cluster"] == fleet.host, res
    assert "workspace %s" % ws in res["msg"] and "team" in res["msg"] and "remove labels" in res["msg"], res["msg"]
    audit.sync(fleet)
    assert audit.writes_by_collection(since=mark) == []


def test_the_workspace_module_prints_no_secret_at_vvv(fleet, tmp_path):
    """The host's kubeconfig as AWX injects it (its YAML text, the client key inlined), the workspace created and
    deleted at -vvv (the default callback: what a terminal shows): neither the key nor the kubeconfig's text is
    in the output."""
    from kslabkit.lab import embedded_kubeconfig

    content = embedded_kubeconfig(fleet.kubeconfig(fleet.host))
    key_data = yaml.safe_load(content)["users"][0]["user"]["client-key-data"]
    ws = "vvv-ws-" + os.urandom(3).hex()
    runs = [workspace_run(fleet, ws, verbosity=3, callback="default", hk=content, clusters=MEMBERS, manager="admin"),
            workspace_run(fleet, ws, verbosity=3, callback="default", hk=content, state="absent", confirm=ws)]
    for run in runs:
        assert "kubesphere.multicluster.workspace" in run.stdout and "changed: [localhost]" in run.stdout, run
        for text in (run.stdout, run.stderr):
            assert key_data not in text and key_data[:40] not in text
