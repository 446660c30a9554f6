"""plan/unbind.py: placements, the report of what goes and what stays, the plan's steps for each path,
what is left after the run; and the plan run by the executor (restores always run)."""

import copy

import pytest

from unbind_fixtures import DOWN, KF_READY, OFFLINE, UP, WEBHOOK, cluster

from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Context, Executor
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.placement import selector_matches
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import unbind


# --- placements ----------------------------------------------------------------------------------------


def fed(kind, name, ns=None, clusters=None, selector=None, overrides=None):
    placement = {}
    if clusters is not None:
        placement["clusters"] = [{"name": c} for c in clusters]
    if selector is not None:
        placement["clusterSelector"] = selector
    obj = {"apiVersion": "types.kubefed.io/v1beta1", "kind": kind, "metadata": {"name": name},
           "spec": {"placement": placement}}
    if ns:
        obj["metadata"]["namespace"] = ns
    if overrides is not None:
        obj["spec"]["overrides"] = overrides
    return obj


@pytest.mark.parametrize("selector, labels, match", [
    ({}, {}, True), (None, {"a": "b"}, False), ({"matchLabels": {"env": "prod"}}, {"env": "prod"}, True),
    ({"matchLabels": {"env": "prod"}}, {"env": "dev"}, False),
    ({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}]}, {"env": "dev"}, True),
    ({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]}, {"env": "dev"}, False),
    ({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]}, {}, True),
    ({"matchExpressions": [{"key": "env", "operator": "Exists"}]}, {}, False),
    ({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, {}, True),
])
def test_selector_matches(selector, labels, match):
    assert selector_matches(selector, labels) is match


def test_placements_on_the_member_and_the_patch_that_removes_it():
    objs = [
        fed("FederatedNamespace", "demo", "demo", clusters=["member1", "member2"],
            overrides=[{"clusterName": "member1", "clusterOverrides": [{"path": "/metadata/labels/x", "value": "1"}]},
                       {"clusterName": "member2", "clusterOverrides": []}]),
        fed("FederatedConfigMap", "cfg", "demo", clusters=["member2"]),
        fed("FederatedDeployment", "web", "demo", selector={"matchLabels": {"cluster.kubesphere.io/group": "prod"}}),
        fed("FederatedSecret", "s", "demo", clusters=[], selector={}),  # an explicit empty list wins: nowhere
        {"apiVersion": "tenant.kubesphere.io/v1alpha2", "kind": "WorkspaceTemplate", "metadata": {"name": "ws"},
         "spec": {"placement": {"clusters": [{"name": "member1"}]}}},
    ]
    got = unbind.placements("member1", {"cluster.kubesphere.io/group": "prod"}, objs)
    assert [(p["object"], p["how"]) for p in got] == [
        ("FederatedNamespace demo/demo", "clusters"), ("FederatedDeployment demo/web", "selector"),
        ("WorkspaceTemplate ws", "clusters")]
    assert got[0]["patch"] == {"spec": {"placement": {"clusters": [{"name": "member2"}]},
                                        "overrides": [{"clusterName": "member2", "clusterOverrides": []}]}}
    assert got[1]["patch"] is None
    assert got[2]["patch"] == {"spec": {"placement": {"clusters": []}}}


# --- report --------------------------------------------------------------------------------------------


def objects_of(items):
    return [i["object"] for i in items]


def test_report_for_a_proxy_member_names_what_goes_and_what_stays():
    member = {"reachable": True, "agent": {"kind": "Deployment"},
              "federation": {"service_accounts": ["member1-kubesphere", "default"],
                             "secrets": ["member1-kubesphere-token-abcde", "default-token-x"],
                             "cluster_roles": ["kubefed-controller-manager:member1-kubesphere", "admin"],
                             "cluster_role_bindings": ["kubefed-controller-manager:member1-kubesphere"]},
              "workspace_namespaces": {"demo": "ws1"},
              "config": {"multicluster": {"clusterRole": "member", "clusterName": "member1"}}}
    rep = unbind.report("member1", cluster(ctype="proxy"), member,
                        [fed("FederatedNamespace", "demo", "demo", clusters=["member1"])])
    assert objects_of(rep["removed_on_host"]) == [
        "Cluster member1", "KubeFedCluster kube-federation-system/member1",
        "Secret kube-federation-system/member1-secret", "Service kubesphere-system/mc-member1"]
    assert objects_of(rep["removed_on_member"]) == ["Deployment kubesphere-system/cluster-agent"]
    assert objects_of(rep["stays_on_member"]) == [
        "ServiceAccount kube-federation-system/member1-kubesphere",
        "Secret kube-federation-system/member1-kubesphere-token-abcde",
        "ClusterRole kubefed-controller-manager:member1-kubesphere",
        "ClusterRoleBinding kubefed-controller-manager:member1-kubesphere",
        "Namespace demo", "the copy of FederatedNamespace demo/demo", "ConfigMap kubesphere-system/kubesphere-config"]
    assert all(i["cluster"] == "member1" for i in rep["stays_on_member"])
    cleaned = unbind.report("member1", cluster(ctype="proxy"), member,
                            [fed("FederatedNamespace", "demo", "demo", clusters=["member1"])],
                            cleanup_member=True, remove_from_placements=True)
    assert objects_of(cleaned["stays_on_member"]) == ["Namespace demo", "ConfigMap kubesphere-system/kubesphere-config"]


def test_report_for_an_unreadable_member_predicts_kubefedctl_names():
    rep = unbind.report("member1", cluster(ctype="proxy"), DOWN, cleanup_member=True)
    stays = objects_of(rep["stays_on_member"])
    assert "Deployment kubesphere-system/cluster-agent" in stays
    assert "Secret kube-federation-system/member1-kubesphere-token-*" in stays
    assert rep["removed_on_member"] == []


# --- plans ---------------------------------------------------------------------------------------------


class IO:
    """plan/unbind.py's `io` without a world: what the steps did, in order."""

    def __init__(self, gone=True, fail_restore=False):
        self.did, self.gone, self.fail_restore = [], gone, fail_restore

    def cluster_gone(self, name):
        def poll(ctx):
            self.did.append(("poll", name))
            return self.gone, "still there", None
        return poll

    def remove_finalizer(self, name, finalizers):
        def poll(ctx):
            self.did.append(("remove_finalizer", finalizers))
            return True, "patched", None
        return poll

    def gone_failure(self, name, timeout):
        from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
        return KubeSphereError("was not gone within %s s" % timeout, cluster="host", obj="Cluster %s" % name,
                               code="timeout")

    def backup(self, body):
        self.did.append(("backup", body))

    def restore(self, ctx, body):
        self.did.append(("restore", body))
        if self.fail_restore:
            from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
            raise KubeSphereError("restore failed", code="restore_differs")
        return True


OPTIONS = {"force": False, "remove_from_placements": False, "cleanup_member": False, "remove_agent": True,
           "wait": True, "wait_timeout": 300, "wait_sleep": 5}


def make(cluster_obj, member, kubefed=None, webhook=None, federated=None, webhook_backup=None, io=None, **options):
    facts = {"cluster": cluster_obj, "member": member, "kubefed_cluster": kubefed, "webhook": webhook,
             "federated": federated, "webhook_backup": webhook_backup, "host_label": "host"}
    return unbind.plan("member1", facts, dict(OPTIONS, **options), io or IO())


def actions(p):
    return [(s["kind"], s["object"], s["side"]) for s in p["steps"]]


def ids(p):
    return [s["id"] for s in p["steps"]]


def test_proxy_unbind_deletes_the_cluster_before_the_agent():
    member = {"reachable": True, "agent": {"kind": "Deployment"}}
    p = make(cluster(ctype="proxy"), member, KF_READY)
    assert p["path"] == "normal"
    assert actions(p) == [("delete", "Cluster member1", "host"), ("wait", "Cluster member1", "host"),
                          ("delete", "Deployment kubesphere-system/cluster-agent", "member")]
    assert ids(p) == ["delete-cluster", "cluster-gone", "delete-agent"]


def test_direct_unbind_with_placements_first_and_member_cleanup():
    member = {"reachable": True, "federation": {"service_accounts": ["member1-kubesphere"],
                                                "secrets": ["member1-kubesphere-token-q"],
                                                "cluster_roles": [], "cluster_role_bindings": []}}
    objs = [fed("FederatedNamespace", "demo", "demo", clusters=["member1", "member2"])]
    p = make(cluster(), member, KF_READY, federated=objs, remove_from_placements=True, cleanup_member=True)
    assert actions(p) == [
        ("patch", "FederatedNamespace demo/demo", "host"), ("delete", "Cluster member1", "host"),
        ("wait", "Cluster member1", "host"),
        ("delete", "ServiceAccount kube-federation-system/member1-kubesphere", "member"),
        ("delete", "Secret kube-federation-system/member1-kubesphere-token-q", "member")]
    assert p["steps"][0]["patch"] == {"spec": {"placement": {"clusters": [{"name": "member2"}]}}}
    assert p["steps"][0]["id"] == "placement-federatednamespace-demo.demo"


def test_rerun_after_the_cluster_is_gone_only_cleans_and_nothing_to_do_is_nothing():
    p = make(None, {"reachable": True, "agent": {"kind": "Deployment"}})
    assert actions(p) == [("delete", "Deployment kubesphere-system/cluster-agent", "member")]
    assert make(None, {"reachable": True})["path"] == "nothing" and make(None, {"reachable": True})["steps"] == []
    deleting = make(cluster(deleting=True), UP, KF_READY)
    assert ids(deleting) == ["cluster-gone"]
    assert ids(make(cluster(), UP, KF_READY, wait=False)) == ["delete-cluster"]


def test_dead_member_plan_restores_the_webhook_exactly_and_always():
    io = IO()
    p = make(cluster(ctype="proxy"), DOWN, OFFLINE, webhook=WEBHOOK, force=True, cleanup_member=True, io=io)
    assert p["path"] == "dead"
    assert actions(p) == [
        ("act", "ValidatingWebhookConfiguration cluster.kubesphere.io", "local"),
        ("delete", "Cluster member1", "host"),
        ("delete", "ValidatingWebhookConfiguration cluster.kubesphere.io", "host"),
        ("wait", "Cluster member1", "host"),
        ("delete", "KubeFedCluster kube-federation-system/member1", "host"),
        ("delete", "Secret kube-federation-system/member1-secret", "host"),
        ("wait", "Cluster member1", "host"),
        ("act", "ValidatingWebhookConfiguration cluster.kubesphere.io", "host")]
    assert ids(p) == ["backup-webhook", "delete-cluster", "delete-webhook", "remove-finalizer", "delete-kubefedcluster",
                      "delete-kubefed-secret", "cluster-gone", "restore-webhook"]
    finalizer = p["steps"][3]
    assert finalizer.public()["verb"] == "patch"
    finalizer["poll"](None)
    assert io.did[-1] == ("remove_finalizer", None)
    io.did.clear()
    restore = p["steps"][7]
    assert restore["always"] and [s for s in p["steps"] if s.get("always")] == [restore]
    assert restore.public()["verb"] == "create"
    expected = copy.deepcopy(WEBHOOK)
    for key in ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"):
        del expected["metadata"][key]
    p["steps"][0]["run"](None)
    restore["run"](None)
    assert io.did == [("backup", expected), ("restore", expected)]
    # nothing on the dead member is touched, and the report says what stays there
    assert all(s["side"] in ("host", "local") for s in p["steps"])
    assert "Deployment kubesphere-system/cluster-agent" in objects_of(p["report"]["stays_on_member"])


def test_dead_member_keeps_other_finalizers_and_works_without_a_webhook():
    c = cluster()
    c["metadata"]["finalizers"].append("example.com/other")
    p = make(c, DOWN, OFFLINE, webhook=None, force=True)
    io = IO()
    p = make(c, DOWN, OFFLINE, webhook=None, force=True, io=io)
    assert [s["id"] for s in p["steps"]] == ["delete-cluster", "remove-finalizer", "delete-kubefedcluster",
                                             "delete-kubefed-secret", "cluster-gone"]
    p["steps"][1]["poll"](None)
    assert io.did == [("remove_finalizer", ["example.com/other"])]


def test_restored_ignores_server_owned_metadata_only():
    live = copy.deepcopy(WEBHOOK)
    live["metadata"].update(uid="w-2", resourceVersion="99", creationTimestamp="2026-11-26T00:00:00Z")
    assert unbind.restored(WEBHOOK, live)
    live["webhooks"][0]["clientConfig"]["caBundle"] = "other"
    assert not unbind.restored(WEBHOOK, live)
    assert not unbind.restored(WEBHOOK, None)


# --- the plan run by the executor ----------------------------------------------------------------------


class Module:
    check_mode = False
    params = {}

    def warn(self, text):
        raise AssertionError(text)


class Host:
    """Records writes; the Cluster stays (a wait that never ends)."""
    label = "host"

    def __init__(self):
        self.writes = []

    def delete(self, *args, **kwargs):
        self.writes.append(("delete",) + args[1:3])
        return {}

    def merge_patch(self, api_version, kind, name, patch, namespace=None, dry_run=False):
        self.writes.append(("patch", kind, name))
        return {"metadata": {"name": name}}


def run_plan(p, host):
    ex = Executor(Context(Module(), {"host": host}), {}, sleep=lambda s: None)
    return ex, ex.run(p["steps"])


def test_run_restores_the_webhook_even_when_a_step_fails():
    io = IO(gone=False)
    p = make(cluster(), DOWN, OFFLINE, webhook=WEBHOOK, force=True, io=io, wait_timeout=0)
    host = Host()
    ex, out = run_plan(p, host)
    assert not out.ok and out.failed[0].id == "cluster-gone" and out.failed[1].code == "timeout"
    assert io.did[-1][0] == "restore"  # the restore ran after the failure
    assert out.done[-1] == "restore-webhook" and out.skipped == []
    assert [f["step"] for f in out.summary()["failed"]] == ["cluster-gone"]


def test_run_reports_a_failing_restore_too():
    io = IO(gone=False, fail_restore=True)
    p = make(cluster(), DOWN, OFFLINE, webhook=WEBHOOK, force=True, io=io, wait_timeout=0)
    ex, out = run_plan(p, Host())
    assert [(step.id, e.code) for step, e in out.failures] == [("cluster-gone", "timeout"),
                                                               ("restore-webhook", "restore_differs")]
    assert "restore-webhook" not in out.done
    with pytest.raises(Exception) as err:
        ex.raise_failure("the unbind failed", code="unbind_failed")
    assert err.value.code == "unbind_failed" and "also failed: step 'restore-webhook': restore failed" in err.value.msg


def test_run_all_good():
    p = make(cluster(), UP, KF_READY)
    host = Host()
    ex, out = run_plan(p, host)
    assert out.ok and out.done == ["delete-cluster", "cluster-gone"] and host.writes == [("delete", "Cluster", "member1")]


def test_cleanup_of_unread_leftovers_uses_kubefedctls_names():
    p = make(None, {"reachable": True}, cleanup_member=True)
    assert actions(p) == [
        ("delete", "ClusterRoleBinding kubefed-controller-manager:member1-kubesphere", "member"),
        ("delete", "ClusterRole kubefed-controller-manager:member1-kubesphere", "member"),
        ("delete", "ServiceAccount kube-federation-system/member1-kubesphere", "member")]


def test_a_rerun_restores_a_webhook_configuration_a_stopped_run_left_deleted():
    backup = unbind.restorable(WEBHOOK)
    # the Cluster is gone already, the live configuration is missing: the plan restores the backup
    io = IO()
    p = make(None, DOWN, None, webhook=None, webhook_backup=backup, io=io)
    assert ids(p) == ["restore-webhook"]
    p["steps"][0]["run"](None)
    assert io.did == [("restore", backup)]
    # still stuck and dead: no second backup, no delete of a configuration that is not there, one restore
    p = make(cluster(deleting=True), DOWN, OFFLINE, webhook=None, webhook_backup=backup, force=True)
    assert [i for i in ids(p) if "webhook" in i] == ["restore-webhook"]
    # a live configuration and a stale backup: the live one is what gets restored
    live = copy.deepcopy(WEBHOOK)
    live["webhooks"][0]["timeoutSeconds"] = 10
    io = IO()
    p = make(cluster(), DOWN, OFFLINE, webhook=live, webhook_backup=backup, force=True, io=io)
    restores = [s for s in p["steps"] if s["id"] == "restore-webhook"]
    assert len(restores) == 1
    restores[0]["run"](None)
    assert io.did[0][1]["webhooks"][0]["timeoutSeconds"] == 10


def test_remaining_after_an_unbind():
    assert unbind.remaining("member1", {"cluster": None, "kubefed_cluster": None, "webhook": WEBHOOK},
                            {"reachable": True, "federation": {"service_accounts": [], "secrets": [],
                                                               "cluster_roles": [], "cluster_role_bindings": []}}) \
        == {"host": [], "member": []}
    stuck = unbind.remaining("member1", {"cluster": cluster(deleting=True), "kubefed_cluster": {}, "secret": True,
                                         "service": True, "webhook": None},
                             {"reachable": True, "agent": {"kind": "Deployment"},
                              "federation": {"service_accounts": ["member1-kubesphere"]},
                              "config": {"multicluster": {"clusterName": "member1"}}})
    assert stuck["host"] == [
        "Cluster member1 (being deleted; finalizers: finalizer.cluster.kubesphere.io)",
        "KubeFedCluster kube-federation-system/member1", "Secret kube-federation-system/member1-secret",
        "Service kubesphere-system/mc-member1",
        "ValidatingWebhookConfiguration cluster.kubesphere.io is MISSING: restore it from the backup"]
    assert stuck["member"][0] == "Deployment kubesphere-system/cluster-agent"
    assert "ServiceAccount kube-federation-system/member1-kubesphere" in stuck["member"]
    assert stuck["member"][-1] == "ConfigMap kubesphere-system/kubesphere-config"
    assert unbind.remaining("member1", {}, DOWN)["member"] == []
