"""federated_project and federated_resource in the one shape, on the fake host: the plans (ids, order, the empty
plan of a converged object), check mode, the result and diff shapes, and a later slice that only goes on
waiting (the checks are not made again)."""

import copy

import pytest
from fakes import FakeConnection, FakeModule
from federation_fixtures import ftc

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, Refused
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import project, resource
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import propagation
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

SERVED = {("v1", "Namespace"), ("v1", "ConfigMap"), (v.CLUSTER_API_VERSION, v.CLUSTER_KIND),
          (v.KUBEFED_API_VERSION, v.KUBEFED_CLUSTER_KIND), (v.KUBEFED_API_VERSION, v.FEDERATED_TYPE_CONFIG_KIND),
          (v.TYPES_API_VERSION, "FederatedNamespace"), (v.TYPES_API_VERSION, "FederatedDeployment"),
          (v.TENANT_API_VERSION, v.WORKSPACE_TEMPLATE_KIND), (v.SCHEDULING_API_VERSION, v.RSP_KIND)}
MEMBERS = ["member1", "member2"]


def _cond(kind, status):
    return {"type": kind, "status": status}


def cluster(name):
    return {"apiVersion": v.CLUSTER_API_VERSION, "kind": v.CLUSTER_KIND, "metadata": {"name": name},
            "status": {"conditions": [_cond("Ready", "True")]}}


def kfc(name, offline=False):
    conds = [_cond("Ready", "False" if offline else "True"), _cond("Offline", "True" if offline else "False")]
    return {"apiVersion": v.KUBEFED_API_VERSION, "kind": v.KUBEFED_CLUSTER_KIND,
            "metadata": {"name": name, "namespace": v.KUBEFED_NAMESPACE}, "status": {"conditions": conds}}


DEPLOYMENT_FTC = ftc("Deployment", "deployments", group="apps")


def host(offline=()):
    objects = [cluster(m) for m in MEMBERS] + [kfc(m, m in offline) for m in MEMBERS] + [DEPLOYMENT_FTC]
    return FakeConnection(label="host", objects=objects, served=SERVED)


def project_params(**more):
    p = {"name": "shop", "workspace": "retail", "clusters": MEMBERS, "alias_name": "Shop", "description": None,
         "labels": {}, "overrides": {}, "workspace_placement": False, "state": "present", "confirm": None,
         "wait": False, "wait_timeout": 120, "_wait_slice": None, "cluster_name": "host", "timeout": None}
    p.update(more)
    return p


def connect_to(conn):
    return lambda module, name, **_kw: conn


def run_project(conn, check_mode=False, diff=True, **params):
    return project.run(FakeModule(check_mode=check_mode, diff=diff, **project_params(**params)), connect_to(conn))


def test_project_plan_then_converged_plan_is_empty():
    conn = host()
    first = run_project(conn)
    assert [s["id"] for s in first["plan"]] == ["host-namespace", "federated-namespace"]
    assert [s["verb"] for s in first["plan"]] == ["create", "apply"]
    assert first["changed"] is True and first["clusters"] == MEMBERS
    assert first["namespace"]["metadata"]["labels"]["kubefed.io/managed"] == "false"
    assert [d["before_header"] for d in first["diff"]] == ["Namespace shop", "FederatedNamespace shop/shop"]
    assert first["diff"][0]["after"] == {"metadata": {"labels": {
        "kubesphere.io/workspace": "retail", "kubesphere.io/kubefed-host-namespace": "true",
        "kubefed.io/managed": "false"}}}
    assert first["result"]["spec"]["placement"] == {"clusters": [{"name": "member1"}, {"name": "member2"}]}
    writes = len(conn.writes())
    again = run_project(conn)
    assert again["plan"] == [] and again["changed"] is False and again["diff"] == []
    assert len(conn.writes()) == writes


def test_project_check_mode_predicts_the_federated_namespace_of_a_namespace_it_creates():
    conn = host()
    result = run_project(conn, check_mode=True, wait=True)
    assert [s["id"] for s in result["plan"]] == ["host-namespace", "federated-namespace", "wait-propagated"]
    assert conn.writes() == [("create", ("Namespace", "shop", True))]   # the apply is predicted only
    assert conn.get("v1", "Namespace", "shop") is None
    assert result["changed"] is True and "propagation" not in result


def test_project_refuses_before_any_write():
    conn = host(offline=("member2",))
    with pytest.raises(Refused) as e:
        run_project(conn, overrides={"elsewhere": [{"path": "/x"}], "member1": ["no path"]})
    found = [p["code"] for p in e.value.problems]
    assert found == ["cluster_offline", "setting_cluster_not_placed", "setting_invalid"]
    assert conn.writes() == []


def _propagated(fed_obj, clusters, status="True"):
    out = copy.deepcopy(fed_obj)
    out["metadata"]["generation"] = 1
    out["status"] = {"observedGeneration": 1, "conditions": [{"type": "Propagation", "status": status}],
                     "clusters": [{"name": c} for c in clusters]}
    return out


def test_a_settled_project_with_wait_plans_no_wait_and_reports_the_propagation():
    conn = host()
    run_project(conn)
    fed = conn.get(v.TYPES_API_VERSION, "FederatedNamespace", "shop", "shop")
    conn._put(_propagated(fed, MEMBERS))
    result = run_project(conn, wait=True)
    assert result["plan"] == [] and result["changed"] is False
    assert result["propagation"]["status"] == "True"


def test_a_later_slice_only_goes_on_waiting_when_a_member_went_offline():
    """The first slice wrote and stopped in the wait; member2 then went offline. The next slice must not refuse
    (cluster_offline held before the write, not now): its plan is the wait alone, which fails as a wait."""
    conn = host()
    run_project(conn)   # the first slice's writes
    fed = conn.get(v.TYPES_API_VERSION, "FederatedNamespace", "shop", "shop")
    conn._put(_propagated(fed, ["member1"], status="False"))
    conn._put(kfc("member2", offline=True))
    with pytest.raises(Refused):    # a new run checks again
        run_project(conn, wait=True, wait_timeout=30)
    resume = {"seconds": 5, "elapsed": 60, "resume": {"cluster": "host", "key": propagation.WAIT_ID, "elapsed": 60}}
    with pytest.raises(KubeSphereError) as e:
        run_project(conn, wait=True, wait_timeout=30, _wait_slice=resume)
    assert not isinstance(e.value, Refused)
    assert e.value.code == "timeout" and e.value.cluster == "host"
    assert "kubefed has not propagated it to every cluster within 30 s" in e.value.msg
    assert "kubefed-controller-manager" not in e.value.msg  # kubefed processed it: it said why it did not propagate
    assert [s["id"] for s in e.value.result["plan"]] == [propagation.WAIT_ID]
    assert e.value.result["propagation"]["status"] == "False" and e.value.result["changed"] is False


def test_a_wait_kubefed_never_answered_says_to_check_its_controller():
    """kubefed stopped (tests/integration/test_faults.py pauses it): the FederatedNamespace never gets a status;
    the timeout says so in words (no dict) and what to check."""
    conn = host()
    run_project(conn)
    resume = {"seconds": 5, "elapsed": 60, "resume": {"cluster": "host", "key": propagation.WAIT_ID, "elapsed": 60}}
    with pytest.raises(KubeSphereError) as e:
        run_project(conn, wait=True, wait_timeout=30, _wait_slice=resume)
    assert e.value.code == "timeout" and e.value.cluster == "host"
    assert "within 30 s: kubefed has not reported yet; kubefed's controller on the host has not processed the " \
        "object yet: check that kubefed-controller-manager runs" in e.value.msg, e.value.msg
    assert "{" not in e.value.msg, e.value.msg


def test_project_deletion_needs_the_name_then_deletes_the_namespace():
    conn = host()
    run_project(conn)
    with pytest.raises(Refused) as e:
        run_project(conn, state="absent")
    assert e.value.code == "confirmation_mismatch"
    result = run_project(conn, state="absent", confirm="shop", check_mode=True)
    assert [(s["id"], s["verb"]) for s in result["plan"]] == [("delete-namespace", "delete")]
    assert result["deleted"] == {"member1": {"removed": ["Namespace shop"], "kept": []},
                                 "member2": {"removed": ["Namespace shop"], "kept": []}}
    assert [d["before_header"] for d in result["diff"]] == ["Namespace shop", "FederatedNamespace shop/shop"]
    assert conn.get("v1", "Namespace", "shop") is not None
    run_project(conn, state="absent", confirm="shop")
    gone = run_project(conn, state="absent", confirm="shop")
    assert gone == {"changed": False, "deleted": {}, "result": {}, "namespace": None, "plan": []}


# --------------------------------------------------------------------------------------------- resource

DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
              "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                       "template": {"metadata": {"labels": {"app": "web"}},
                                    "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}}


def resource_params(**more):
    p = {"definition": copy.deepcopy(DEPLOYMENT), "clusters": MEMBERS, "settings": {}, "replicas_by_weight": None,
         "retain_replicas": None, "mirror_annotations": False, "member_api_versions": None, "state": "present",
         "project_clusters": None,
         "wait": False, "wait_timeout": 120, "_wait_slice": None, "cluster_name": "host", "timeout": None}
    p.update(more)
    return p


def run_resource(conn, check_mode=False, **params):
    return resource.run(FakeModule(check_mode=check_mode, diff=True, **resource_params(**params)), connect_to(conn))


def test_resource_by_weight_plans_the_object_and_its_rsp_then_nothing():
    conn = host()
    run_project(conn)
    rbw = {"total": 10, "weights": {"member1": 1, "member2": 3}, "min_replicas": {}, "max_replicas": {}}
    first = run_resource(conn, replicas_by_weight=rbw)
    assert [(s["id"], s["verb"]) for s in first["plan"]] == [("federated-object", "apply"),
                                                             ("replica-scheduling-preference", "apply")]
    assert first["replicas"] == {"member1": 2, "member2": 8} and first["placement"] == MEMBERS
    assert first["rsp"]["spec"]["targetKind"] == "FederatedDeployment"
    assert [d["before_header"] for d in first["diff"]] == [
        "FederatedDeployment shop/web", "ReplicaSchedulingPreference shop/web", "replica division Deployment shop/web"]
    again = run_resource(conn, replicas_by_weight=rbw)
    assert again["plan"] == [] and again["changed"] is False
    assert again["rsp"]["spec"]["totalReplicas"] == 10
    # back to counts: the RSP of the weight mode goes
    counts = run_resource(conn, settings={"member1": {"replicas": 1}, "member2": {"replicas": 2}})
    assert [(s["id"], s["verb"]) for s in counts["plan"]] == [("federated-object", "apply"),
                                                              ("replica-scheduling-preference", "delete")]
    assert counts["rsp"] is None and counts["replicas"] == {"member1": 1, "member2": 2}
    assert conn.get(v.SCHEDULING_API_VERSION, v.RSP_KIND, "web", "shop") is None


def test_resource_refuses_weights_for_a_kind_kubefed_does_not_schedule():
    conn = host()
    run_project(conn)
    definition = copy.deepcopy(DEPLOYMENT)
    definition["kind"] = "StatefulSet"
    ftc = copy.deepcopy(DEPLOYMENT_FTC)
    ftc["metadata"]["name"] = "statefulsets.apps"
    ftc["spec"]["targetType"]["kind"] = "StatefulSet"
    ftc["spec"]["federatedType"]["kind"] = "FederatedStatefulSet"
    conn._put(ftc)
    conn.served.add((v.TYPES_API_VERSION, "FederatedStatefulSet"))
    rbw = {"total": 3, "weights": {"member1": 1}, "min_replicas": {}, "max_replicas": {}}
    with pytest.raises(Refused) as e:
        run_resource(conn, definition=definition, replicas_by_weight=rbw)
    assert [p["code"] for p in e.value.problems] == ["rsp_kind_unsupported"]
    assert "need a Deployment or a ReplicaSet" in e.value.msg


def test_resource_deletion_plans_the_object_and_the_rsp():
    conn = host()
    run_project(conn)
    rbw = {"total": 4, "weights": {"member1": 1}, "min_replicas": {}, "max_replicas": {}}
    run_resource(conn, replicas_by_weight=rbw, clusters=["member1"])
    result = run_resource(conn, state="absent")
    assert [(s["id"], s["verb"]) for s in result["plan"]] == [("delete-federated-object", "delete"),
                                                              ("delete-replica-scheduling-preference", "delete")]
    assert result["changed"] is True and result["replicas"] == {} and result["placement"] == []
    assert run_resource(conn, state="absent")["plan"] == []


def test_resource_in_check_mode_before_its_project_exists_is_predicted_and_refused_for_real():
    conn = host()
    result = run_resource(conn, check_mode=True, wait=True)
    assert [(s["id"], s.get("verb")) for s in result["plan"]] == [("federated-object", "apply"),
                                                                  ("wait-propagated", None)]
    assert conn.writes() == [] and result["changed"] is True
    assert result["replicas"] == {"member1": 1, "member2": 1}
    with pytest.raises(Refused) as e:
        run_resource(conn)
    assert e.value.code == "namespace_not_federated" and conn.writes() == []


def test_resource_checks_against_the_project_clusters_this_run_leaves():
    """The federated_project role's check pass (check mode, before the project is written) gives the project's
    clusters as the run leaves them: they replace the live FederatedNamespace's placement in the check."""
    conn = host()
    run_project(conn, clusters=["member1"])
    with pytest.raises(Refused) as e:  # the live project is on member1 only
        run_resource(conn, check_mode=True)
    assert e.value.code == "cluster_not_in_project" and e.value.cluster == "member2"
    # the project this run widens to both members: the check pass agrees with the writes
    result = run_resource(conn, check_mode=True, project_clusters=MEMBERS)
    assert result["changed"] is True and result["placement"] == MEMBERS
    # a project that does not exist yet is checked against the clusters it will have
    fresh = host()
    with pytest.raises(Refused) as e:
        run_resource(fresh, check_mode=True, project_clusters=["member1"])
    assert e.value.code == "cluster_not_in_project" and fresh.writes() == []


def test_the_wait_of_replicas_by_weight_needs_the_planned_division():
    fed = {"metadata": {"generation": 1}, "spec": {"overrides": [
        {"clusterName": "member1", "clusterOverrides": [{"path": "/spec/replicas", "value": 2}]},
        {"clusterName": "member2", "clusterOverrides": [{"path": "/spec/replicas", "value": 8}]}]},
        "status": {"observedGeneration": 1, "conditions": [{"type": "Propagation", "status": "True"}],
                   "clusters": [{"name": "member1"}, {"name": "member2"}]}}
    assert propagation.settled(fed, MEMBERS)
    assert propagation.settled(fed, MEMBERS, {"member1": 2, "member2": 8})
    assert not propagation.settled(fed, MEMBERS, {"member1": 5, "member2": 5})
    assert not propagation.settled(fed, MEMBERS + ["member3"])


def test_federation_info_lists_the_projects_placed_on_the_member():
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import federation_info

    conn = host()
    run_project(conn, clusters=["member1"])
    member = FakeConnection(label="member1", objects=[{"apiVersion": "v1", "kind": "Namespace",
                                                       "metadata": {"name": "shop", "labels": {
                                                           "kubesphere.io/workspace": "retail"}}}],
                            raw_answers={"/api": (200, {}, {"versions": ["v1"]})})
    params = {"cluster_name": "member1", "host_cluster_name": "host", "namespace": None, "kinds": [], "names": [],
              "list_projects": True, "timeout": None}

    def connect(module, name, prefix="", **_kw):
        return conn if prefix == "host_" else member
    result = federation_info.run(FakeModule(**params), connect)
    assert result["api_versions"] == ["v1"] and result["resources"] == []
    assert [(p["name"], p["workspace"]) for p in result["projects"]] == [("shop", "retail")]
    params["cluster_name"] = "member2"   # not placed there
    assert federation_info.run(FakeModule(**params), connect)["projects"] == []


def test_a_project_deletion_reports_namespaced_federated_objects_only():
    """A FederatedWorkspace is cluster-scoped: it is not in the project (the real API server lists every one
    for a cluster-scoped kind, whatever namespace is asked)."""
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import federation as read

    workspace_ftc = copy.deepcopy(DEPLOYMENT_FTC)
    workspace_ftc["metadata"]["name"] = "workspaces.tenant.kubesphere.io"
    workspace_ftc["spec"]["targetType"].update(group="tenant.kubesphere.io", version="v1alpha1", kind="Workspace",
                                               scope="Cluster")
    workspace_ftc["spec"]["federatedType"].update(kind="FederatedWorkspace", scope="Cluster")
    conn = host()
    conn.served.add((v.TYPES_API_VERSION, "FederatedWorkspace"))
    conn.list = lambda api_version, kind, namespace=None, **_kw: (
        [{"kind": kind, "metadata": {"name": "everywhere"}}] if kind == "FederatedWorkspace" else [])
    assert read.namespaced_federated(conn, "shop", [DEPLOYMENT_FTC, workspace_ftc]) == []


def test_a_project_whose_workspace_does_not_exist_is_warned_about():
    conn = host()
    module = FakeModule(check_mode=False, diff=False, **project_params())
    project.run(module, connect_to(conn))
    assert [w for w in module.warnings if "workspace 'retail' does not exist" in w]
    module = FakeModule(check_mode=False, diff=False, **project_params(name="shop2", workspace_placement=True))
    project.run(module, connect_to(conn))
    assert not [w for w in module.warnings if "does not exist" in w]


def test_a_member_given_as_the_host_is_named_a_member_not_a_cluster_without_clusters():
    """A member's Clusters are not read (every role source says member): the refusal still says what it is."""
    import yaml  # noqa: PLC0415
    cc = {"apiVersion": "installer.kubesphere.io/v1alpha1", "kind": "ClusterConfiguration",
          "metadata": {"name": "ks-installer", "namespace": "kubesphere-system", "labels": {"version": "v3.4.1"}},
          "spec": {"multicluster": {"clusterRole": "member"}}, "status": {"core": {"status": "enabled"}}}
    config = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "kubesphere-config", "namespace": "kubesphere-system"},
              "data": {"kubesphere.yaml": yaml.safe_dump({"multicluster": {"clusterRole": "member"}})}}
    conn = FakeConnection(label="host", objects=[cc, config], served=SERVED | {(cc["apiVersion"], cc["kind"])})
    with pytest.raises(KubeSphereError) as e:
        run_project(conn)
    assert e.value.code == "not_a_host" and "is a KubeSphere member, not the host" in e.value.reason, e.value.reason
    assert conn.writes() == []


NAMESPACE_FTC = ftc("Namespace", "namespaces", scope="Cluster")


def test_federation_info_with_members_reads_the_host_once_and_reports_each_member_as_alone():
    """The wait of playbooks/federate.yml: one read of the host's objects for every member, and per member the
    same rows a run for that member alone reports (member3 is not placed: no row, no read)."""
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import federation_info

    conn = host()
    conn._put(NAMESPACE_FTC)
    run_project(conn, clusters=["member1", "member2"])
    members = {
        "member1": FakeConnection(label="member1", objects=[{"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": "shop", "labels": {"kubefed.io/managed": "true", "kubesphere.io/workspace": "retail"}}}]),
        "member2": FakeConnection(label="member2"),
        "member3": FakeConnection(label="member3")}

    def connect(module, name, prefix="", **_kw):
        return conn if prefix == "host_" else members[name]
    base = {"host_cluster_name": "host", "namespace": "shop", "kinds": ["Namespace"], "names": [],
            "list_projects": False, "api_versions": False, "timeout": None}
    alone = {}
    for name in members:
        result = federation_info.run(FakeModule(cluster_name=name, members=None, **base), connect)
        alone[name] = result["resources"][0]["members"]
    conn.calls[:] = []
    for m in members.values():
        m.calls[:] = []
    together = federation_info.run(FakeModule(cluster_name=None, members=[
        {"cluster_name": n, "kubeconfig": None, "context": None} for n in members], **base), connect)
    assert together["clusters"] == ["member1", "member2", "member3"] and "api_versions" not in together
    [row] = together["resources"]
    assert row["placed"] and row["members"] == alone["member1"] + alone["member2"] and alone["member3"] == []
    # member1 holds the namespace (its labels differ from kubefed's template here), member2 does not
    assert [(r["cluster"], r["state"]) for r in row["members"]] == [("member1", "drifted"), ("member2", "missing")]
    # the host's reads are those of one member's run; member3 (not placed) is not read
    assert len(conn.calls) == 3, conn.calls
    assert [len(m.calls) for m in members.values()] == [1, 1, 0]


def test_federation_info_refuses_a_member_named_twice_before_reading():
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import federation_info

    conn = host()

    def connect(module, name, prefix="", **_kw):
        return conn
    twice = [{"cluster_name": "member1", "kubeconfig": None, "context": None}] * 2
    with pytest.raises(KubeSphereError) as e:
        federation_info.run(FakeModule(cluster_name=None, members=twice, host_cluster_name="host", namespace="shop",
                                       kinds=[], names=[], list_projects=False, api_versions=False, timeout=None),
                            connect)
    assert e.value.code == "invalid_input" and e.value.cluster == "member1" and conn.calls == []


def test_a_project_whose_host_namespace_is_being_deleted_is_refused_writing_nothing():
    terminating = {"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": "shop", "deletionTimestamp": "2026-12-07T19:00:00Z",
        "labels": {v.WORKSPACE_LABEL: "retail", "kubesphere.io/kubefed-host-namespace": "true", "kubefed.io/managed": "false"}}}
    conn = FakeConnection(label="host", objects=host().objects_of("Cluster") + host().objects_of("KubeFedCluster")
                          + [DEPLOYMENT_FTC, terminating], served=SERVED)
    with pytest.raises(Refused) as e:
        run_project(conn)
    assert [p["code"] for p in e.value.problems] == ["project_being_deleted"]
    assert "Namespace shop is being deleted" in e.value.problems[0]["message"]
    assert conn.writes() == []
