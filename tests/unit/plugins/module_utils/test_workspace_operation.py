"""The workspace module's operation (operations/workspace.py, plan/workspace.py, checks/workspace.py) against the
fake connection: the plan, a converged rerun, check mode, every refusal before any write, the deletion."""

import pytest
from fakes import FakeConnection, FakeModule

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import Refused
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import workspace
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

IAM = "iam.kubesphere.io/v1alpha2"
SERVED = {("v1", "Namespace"), (v.CLUSTER_API_VERSION, v.CLUSTER_KIND), (v.KUBEFED_API_VERSION, v.KUBEFED_CLUSTER_KIND),
          (v.TYPES_API_VERSION, "FederatedNamespace"), (v.TYPES_API_VERSION, "FederatedWorkspace"),
          (v.TENANT_API_VERSION, v.WORKSPACE_TEMPLATE_KIND), (IAM, "User")}
MEMBERS = ["member1", "member2"]


def _cond(kind, status):
    return {"type": kind, "status": status}


def host(users=("alice",), served=None, objects=()):
    clusters = [{"apiVersion": v.CLUSTER_API_VERSION, "kind": v.CLUSTER_KIND, "metadata": {"name": m},
                 "status": {"conditions": [_cond("Ready", "True")]}} for m in MEMBERS]
    kfcs = [{"apiVersion": v.KUBEFED_API_VERSION, "kind": v.KUBEFED_CLUSTER_KIND,
             "metadata": {"name": m, "namespace": v.KUBEFED_NAMESPACE},
             "status": {"conditions": [_cond("Ready", "True"), _cond("Offline", "False")]}} for m in MEMBERS]
    people = [{"apiVersion": IAM, "kind": "User", "metadata": {"name": u}} for u in users]
    return FakeConnection(label="host", objects=clusters + kfcs + people + list(objects),
                          served=SERVED if served is None else served)


def params(**more):
    p = {"name": "retail", "clusters": MEMBERS, "manager": "alice", "alias_name": "Retail", "description": None,
         "labels": {}, "state": "present", "confirm": None, "wait": False, "wait_timeout": 120, "_wait_slice": None,
         "cluster_name": "host", "timeout": None}
    p.update(more)
    return p


def run(conn, check_mode=False, **more):
    return workspace.run(FakeModule(check_mode=check_mode, diff=True, **params(**more)), lambda *_a, **_k: conn)


def project(name, clusters):
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {v.WORKSPACE_LABEL: "retail"}}}
    fns = {"apiVersion": v.TYPES_API_VERSION, "kind": "FederatedNamespace", "metadata": {"name": name, "namespace": name},
           "spec": {"placement": {"clusters": [{"name": c} for c in clusters]}}}
    return [ns, fns]


def test_creates_the_workspace_template_then_plans_nothing():
    conn = host()
    first = run(conn)
    assert [(s["id"], s["verb"]) for s in first["plan"]] == [("workspace-template", "create")]
    wt = conn.get(v.TENANT_API_VERSION, v.WORKSPACE_TEMPLATE_KIND, "retail")
    assert wt["spec"]["template"]["spec"]["manager"] == "alice"
    assert [c["name"] for c in wt["spec"]["placement"]["clusters"]] == MEMBERS
    assert wt["metadata"]["annotations"] == {v.ALIAS_ANNOTATION: "Retail"}
    assert first["changed"] is True and first["workspace"]["spec"]["clusters"] == MEMBERS
    assert first["diff"][0]["before"] == {} and first["diff"][0]["after"]["spec"]["manager"] == "alice"
    writes = len(conn.writes())
    again = run(conn)
    assert again["plan"] == [] and again["changed"] is False and len(conn.writes()) == writes


def test_a_change_is_one_merge_patch_and_keeps_what_kubesphere_added():
    conn = host()
    run(conn)
    wt = conn.get(v.TENANT_API_VERSION, v.WORKSPACE_TEMPLATE_KIND, "retail")
    wt["metadata"]["labels"] = {v.KUBEFED_MANAGED_LABEL: "false"}  # what KubeSphere's controller adds
    conn._put(wt)
    result = run(conn, clusters=["member1"], manager="alice")
    assert [(s["id"], s["verb"]) for s in result["plan"]] == [("workspace-template", "patch")]
    live = conn.get(v.TENANT_API_VERSION, v.WORKSPACE_TEMPLATE_KIND, "retail")
    assert [c["name"] for c in live["spec"]["placement"]["clusters"]] == ["member1"]
    assert live["metadata"]["labels"] == {v.KUBEFED_MANAGED_LABEL: "false"}


def test_labels_are_refused_before_any_write_on_34_whose_workspace_template_drops_them():
    """KubeSphere 3.4's WorkspaceTemplate CRD declares spec.template.metadata with no fields: the API server prunes
    the labels (seen against the lab's real CRD: tests/integration/test_plan_federation.py), so a run writing them
    would never converge. Refused, naming the host, the workspace and the labels; nothing written."""
    conn = host()
    with pytest.raises(Refused) as e:
        run(conn, labels={"team": "a", "tier": "b"})
    assert [(p["code"], p["cluster"]) for p in e.value.problems] == [("workspace_labels_dropped", "host")]
    message = e.value.problems[0]["message"]
    assert "workspace retail" in message and "KubeSphere 3.4" in message and "team, tier" in message, message
    assert "spec.template.metadata.labels" in message and "remove labels" in message, message
    assert conn.writes() == []
    run(conn)  # without labels: created
    writes = len(conn.writes())
    with pytest.raises(Refused):
        run(conn, labels={"team": "a"})
    assert len(conn.writes()) == writes


def test_check_mode_writes_only_a_dry_run():
    conn = host()
    result = run(conn, check_mode=True, wait=True)
    assert [s["id"] for s in result["plan"]] == ["workspace-template", "wait-workspace-propagated"]
    assert conn.get(v.TENANT_API_VERSION, v.WORKSPACE_TEMPLATE_KIND, "retail") is None
    assert all(w[1][-1] is True for w in conn.writes())  # dry runs only


def test_every_refusal_comes_before_any_write():
    conn = host(users=(), objects=project("shop", ["member2"]))
    run(conn, manager=None)
    writes = len(conn.writes())
    with pytest.raises(Refused) as e:
        run(conn, clusters=["member1", "nowhere"], manager="bob")
    assert sorted(p["code"] for p in e.value.problems) == ["cluster_not_member", "manager_not_found", "workspace_in_use"]
    in_use = [p for p in e.value.problems if p["code"] == "workspace_in_use"][0]
    assert in_use["cluster"] == "member2" and "shop" in in_use["message"]
    assert len(conn.writes()) == writes
    with pytest.raises(Refused) as e:
        run(conn, name="Not_A_Name")
    assert [p["code"] for p in e.value.problems] == ["invalid_name"]


def test_a_manager_is_unchecked_with_a_warning_when_the_host_serves_no_users():
    conn = host(served=SERVED - {(IAM, "User")}, users=())
    module = FakeModule(check_mode=False, diff=False, **params(manager="bob"))
    workspace.run(module, lambda *_a, **_k: conn)
    assert any("was not checked" in w for w in module.warnings)


def test_deletion_needs_the_name_and_no_project_left():
    conn = host(objects=project("shop", ["member1"]))
    run(conn)
    writes = len(conn.writes())
    with pytest.raises(Refused) as e:
        run(conn, state="absent", confirm="retial")
    assert sorted(p["code"] for p in e.value.problems) == ["confirmation_mismatch", "workspace_not_empty"]
    assert len(conn.writes()) == writes
    conn.delete("v1", "Namespace", "shop")
    result = run(conn, state="absent", confirm="retail")
    assert [(s["id"], s["verb"]) for s in result["plan"]] == [("delete-workspace-template", "delete")]
    assert conn.get(v.TENANT_API_VERSION, v.WORKSPACE_TEMPLATE_KIND, "retail") is None
    assert run(conn, state="absent", confirm="retail") == {"changed": False, "workspace": {}, "plan": []}


def test_a_project_being_deleted_no_longer_holds_the_workspace():
    ns, fns = project("shop", ["member1"])
    ns["metadata"]["deletionTimestamp"] = "2026-12-06T00:00:00Z"
    conn = host(objects=[ns, fns])
    run(conn)
    result = run(conn, state="absent", confirm="retail")
    assert [(s["id"], s["verb"]) for s in result["plan"]] == [("delete-workspace-template", "delete")]


def test_projects_and_workspaces_on_a_kubesphere_41_host_without_the_kubefed_extension_are_refused_before_any_write():
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import project  # noqa: PLC0415

    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubesphere-config", "namespace": v.KS_NAMESPACE},
              "data": {"kubesphere.yaml": "helmExecutor: {}\nextension: {}\nmulticluster: {clusterRole: host}\n"}}
    failed = {"apiVersion": "kubesphere.io/v1alpha1", "kind": "InstallPlan", "metadata": {"name": "kubefed"},
              "spec": {"extension": {"name": "kubefed", "version": "1.0.0"}}, "status": {"state": "InstallFailed"}}
    conn = host(objects=[config, failed], served=SERVED | {("v1", "ConfigMap"), ("v1", "Secret"),
                                                           ("kubesphere.io/v1alpha1", "InstallPlan")})
    with pytest.raises(Refused) as e:
        run(conn)
    assert [p["code"] for p in e.value.problems] == ["extension_missing"]
    assert "KubeSphere 4.1" in e.value.problems[0]["message"] and "InstallFailed" in e.value.problems[0]["message"]
    module = FakeModule(check_mode=False, diff=False, name="shop", workspace="retail", clusters=MEMBERS, alias_name=None,
                        description=None, labels={}, overrides={}, workspace_placement=False, workspace_clusters=None,
                        state="present", confirm=None, wait=False, wait_timeout=120, _wait_slice=None,
                        cluster_name="host", timeout=None, adopt=False)
    with pytest.raises(Refused) as e:
        project.run(module, lambda *_a, **_k: conn)
    assert [p["code"] for p in e.value.problems] == ["extension_missing"]
    assert conn.writes() == []
