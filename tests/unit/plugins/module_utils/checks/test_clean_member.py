"""A clean member (versions/v3_4/clean.py, checks/clean.py, plan/join.py's join_failed): the workspace conflict
as KubeSphere 3.4.1's checkWorkspaces compares it, the permanent join failure the health wait stops on, and
the user namespaces and workspaces reported before an import."""

import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import clean as clean_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import clean

CONFLICT = "The workspace wsx is found in the target member cluster member1, which is conflict with the workspace on host"


def ws(name, labels=None):
    return {"apiVersion": clean.WORKSPACE_API_VERSION, "kind": "Workspace",
            "metadata": {"name": name, "labels": labels or {}}}


def managed_ws(name, value="true"):
    return ws(name, {"kubefed.io/managed": value})


def fed(name, clusters=None, no_clusters_key=False, selector=None):
    placement = {}
    if not no_clusters_key:
        placement["clusters"] = None if clusters is None else [{"name": c} for c in clusters]
    if selector is not None:
        placement["clusterSelector"] = selector
    return {"apiVersion": "types.kubefed.io/v1beta1", "kind": "FederatedWorkspace", "metadata": {"name": name},
            "spec": {"placement": placement}}


def test_a_managed_workspace_whose_federated_workspace_does_not_place_the_member_conflicts():
    found = clean.workspace_conflicts("member1", [managed_ws("wsx")], {"wsx": fed("wsx", ["host"])}, None)
    assert found == [{"workspace": "wsx", "placement": ["host"]}]


def test_an_empty_cluster_list_places_no_cluster_and_conflicts():
    found = clean.workspace_conflicts("member1", [managed_ws("wsx")], {"wsx": fed("wsx", [])}, None)
    assert found == [{"workspace": "wsx", "placement": []}]


@pytest.mark.parametrize("federated", [
    fed("wsx", ["host", "member1"]),                                   # placed on the member
    fed("wsx", None),                                                  # clusters: null (nil: every cluster)
    fed("wsx", no_clusters_key=True, selector={"matchLabels": {"a": "b"}}),  # nil, selector ignored
    None,                                                              # no FederatedWorkspace on the host
], ids=["placed", "null", "absent-key-with-selector", "no-federated-workspace"])
def test_what_the_controller_accepts_is_no_conflict(federated):
    assert clean.workspace_conflicts("member1", [managed_ws("wsx")], {"wsx": federated}, None) == []


@pytest.mark.parametrize("workspace", [ws("wsx"), managed_ws("wsx", "True"), managed_ws("wsx", "false"),
                                       ws("wsx", {"kubesphere.io/managed": "true"})],
                         ids=["unlabelled", "True", "false", "other-label"])
def test_only_the_label_selector_kubefed_managed_true_is_compared(workspace):
    assert clean.workspace_conflicts("member1", [workspace], {"wsx": fed("wsx", ["host"])}, None) == []


def test_an_existing_kubefed_cluster_means_no_check_as_in_the_controller():
    kfc = {"metadata": {"name": "member1"}}
    assert clean.workspace_conflicts("member1", [managed_ws("wsx")], {"wsx": fed("wsx", ["host"])}, kfc) == []


def test_every_conflict_is_found_in_name_order():
    found = clean.workspace_conflicts("member1", [managed_ws("b"), managed_ws("a"), managed_ws("c")],
                                      {"a": fed("a", ["host"]), "b": fed("b", []), "c": fed("c", ["member1"])}, None)
    assert [c["workspace"] for c in found] == ["a", "b"]


def test_the_problem_names_the_member_the_workspace_and_the_three_ways_out():
    [p] = clean_checks.workspace_conflict_problems("member1", [{"workspace": "wsx", "placement": ["host"]}])
    assert p["code"] == "workspace_conflict" and p["cluster"] == "member1"
    for words in ("cluster 'member1'", "Workspace wsx", "places only host", CONFLICT,
                  "kubectl label workspace wsx kubefed.io/managed-", "delete that Workspace",
                  "place 'member1' in the host's FederatedWorkspace wsx"):
        assert words in p["message"], words


def federated_condition(status, reason, message="Cluster can not join federation control plane"):
    return {"metadata": {"name": "member1"},
            "status": {"conditions": [{"type": "Federated", "status": status, "reason": reason, "message": message},
                                      {"type": "Ready", "status": "False",
                                       "reason": "Cluster join federation control plane failed"}]}}


def test_the_workspace_conflict_is_a_permanent_join_failure():
    failure = clean.join_failure(federated_condition("False", CONFLICT))
    assert failure == {"code": "workspace_conflict", "workspace": "wsx", "reason": CONFLICT,
                       "message": "Cluster can not join federation control plane"}


@pytest.mark.parametrize("reason", [
    'Get "https://10.0.0.2:6443/api/v1/namespaces/kube-federation-system/serviceaccounts/member1-kubesphere": '
    'dial tcp 10.0.0.2:6443: connect: connection refused',
    "timed out waiting for the condition",
    'Key "token" not found in service account secret',
    "the server is currently unable to handle the request",
    "",
], ids=["transport", "token-wait", "token-key", "unavailable", "empty"])
def test_every_other_federated_false_is_transient(reason):
    assert clean.join_failure(federated_condition("False", reason)) is None


def test_federated_true_or_missing_is_no_failure():
    assert clean.join_failure(federated_condition("True", CONFLICT)) is None
    assert clean.join_failure({"metadata": {"name": "member1"}}) is None
    assert clean.join_failure(None) is None


def test_user_namespaces_leave_out_kubernetes_and_kubesphere_ones():
    def ns(name, labels=None, deleting=False):
        meta = {"name": name, "labels": labels or {}}
        if deleting:
            meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        return {"metadata": meta}
    found = clean.user_namespaces([ns("default"), ns("kube-system"), ns("kube-federation-system"),
                                   ns("kubesphere-system"), ns("kubesphere-monitoring-system"), ns("istio-system"),
                                   ns("monitoring", {"kubesphere.io/workspace": "system-workspace"}),
                                   ns("shop"), ns("demo"), ns("gone", deleting=True)])
    assert found == ["demo", "shop"]
    assert clean.user_workspaces([ws("system-workspace"), ws("team-b"), ws("team-a")]) == ["team-a", "team-b"]


def test_a_member_not_clean_is_one_warning_naming_what_it_holds():
    assert clean_checks.member_not_clean("member1", [], []) == []
    [p] = clean_checks.member_not_clean("member1", ["shop"], ["team-a"])
    assert p["code"] == "member_not_clean" and p["cluster"] == "member1"
    assert "namespaces shop and workspaces team-a" in p["message"] and "kubefed" in p["message"]


# --- the health wait: plan/join.py's healthy step run by the executor ------------------------------------


def _healthy_run(cluster, member_objects, host_objects=(), timeout=600):
    from fakes import FakeConnection, FakeModule  # noqa: PLC0415

    from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Context, Executor  # noqa: PLC0415
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co  # noqa: PLC0415
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import join as join_plan  # noqa: PLC0415

    served = {(co.API_VERSION, co.KIND), ("types.kubefed.io/v1beta1", "FederatedWorkspace")}
    host = FakeConnection(label="host", objects=[cluster] + list(host_objects), served=served)
    member = FakeConnection(label="member1", objects=member_objects,
                            served={(clean.WORKSPACE_API_VERSION, "Workspace"), ("v1", "Namespace")})
    module = FakeModule(name="member1", connection_type="direct", wait=True, wait_timeout=timeout, wait_sleep=5)
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import v3_4  # noqa: PLC0415

    impl = v3_4
    plan = [join_plan._pair_wait("healthy", "member1", impl.HEALTHY, lambda c, k: impl.health(c, k)["healthy"],
                                 dict(module.params), impl)]
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute import slicing  # noqa: PLC0415

    now = [0.0]
    ctx = Context(module, {"host": host, "member": member}, slicer=slicing.Slicer(module.params, clock=lambda: now[0]))
    sleeps = []

    def sleep(s):
        sleeps.append(s)
        now[0] += s
    executor = Executor(ctx, sleep=sleep)
    return executor.run(plan), sleeps


def _cluster(reason):
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co  # noqa: PLC0415

    c = federated_condition("False", reason)
    c.update(apiVersion=co.API_VERSION, kind=co.KIND)
    c["spec"] = {"connection": {"type": "direct"}, "joinFederation": True}
    return c


def test_the_health_wait_fails_at_once_with_the_controllers_words_while_the_conflict_holds():
    outcome, sleeps = _healthy_run(_cluster(CONFLICT), [managed_ws("wsx")], [fed("wsx", ["host"])])
    error = outcome.failed[1]
    assert error.code == "join_failed" and error.cluster == "member1"
    assert CONFLICT in error.msg and "Cluster can not join federation control plane" in error.msg
    assert "kubectl label workspace wsx kubefed.io/managed-" in error.msg
    assert [p["code"] for p in error.result["problems"]] == ["workspace_conflict"]
    assert sleeps == []  # the first poll failed: no sleep, no timeout


def test_a_transient_federated_false_is_waited_out_to_the_timeout():
    outcome, sleeps = _healthy_run(_cluster("timed out waiting for the condition"), [managed_ws("wsx")],
                                   [fed("wsx", ["host"])], timeout=12)
    assert outcome.failed[1].code == "timeout" and sleeps


def test_a_conflict_resolved_since_the_controller_wrote_it_is_waited_on():
    """The label was removed after the failed join: the stale condition does not fail the wait."""
    outcome, sleeps = _healthy_run(_cluster(CONFLICT), [ws("wsx")], [fed("wsx", ["host"])], timeout=12)
    error = outcome.failed[1]
    assert error.code == "timeout" and "the conflict is resolved" in error.msg and sleeps
