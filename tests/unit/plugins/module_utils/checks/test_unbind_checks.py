import copy

import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import PROBLEM_KEYS, codes
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import unbind


def cluster(name="member1", ctype="direct", uid="uid-1", labels=None, deleting=False, host=False):
    c = {"apiVersion": co.API_VERSION, "kind": "Cluster",
         "metadata": {"name": name, "finalizers": [co.FINALIZER], "labels": dict(labels or {})},
         "spec": {"joinFederation": True, "connection": {"type": ctype}},
         "status": {"uid": uid, "conditions": [{"type": "Ready", "status": "True"}]}}
    if host:
        c["metadata"]["labels"][co.HOST_LABEL] = ""
    if deleting:
        c["metadata"]["deletionTimestamp"] = "2026-11-26T00:00:00Z"
    return c


OFFLINE = {"metadata": {"name": "member1"}, "spec": {"secretRef": {"name": "member1-secret"}},
           "status": {"conditions": [{"type": "Offline", "status": "True", "reason": "ClusterNotReachable"}]}}
KF_READY = {"metadata": {"name": "member1"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
UP = {"reachable": True}
DOWN = {"reachable": False, "error": "dial tcp 10.0.0.5:6443: connect: connection refused"}

WEBHOOK = {
    "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
    "metadata": {"name": "cluster.kubesphere.io", "uid": "w-1", "resourceVersion": "77", "generation": 1,
                 "creationTimestamp": "2026-11-01T00:00:00Z", "managedFields": [{"manager": "kubectl"}],
                 "labels": {"app": "ks-controller-manager"},
                 "annotations": {"meta.helm.sh/release-name": "ks-core"}},
    "webhooks": [{"name": "validating-cluster.kubesphere.io", "admissionReviewVersions": ["v1"],
                  "clientConfig": {"caBundle": "Q0E=",
                                   "service": {"name": "ks-controller-manager", "namespace": "kubesphere-system",
                                               "path": "/validate-cluster-kubesphere-io-v1alpha1", "port": 443}},
                  "failurePolicy": "Fail", "matchPolicy": "Exact", "sideEffects": "None", "timeoutSeconds": 30,
                  "rules": [{"apiGroups": ["cluster.kubesphere.io"], "apiVersions": ["v1alpha1"],
                             "operations": ["UPDATE"], "resources": ["clusters"], "scope": "*"}]}],
}


# --- confirmation and checks ---------------------------------------------------------------------------


@pytest.mark.parametrize("confirm, said", [(None, "is not set"), ("", "is not set"),
                                           ("member2", "is 'member2', which is not")])
def test_unbind_needs_the_cluster_name_typed(confirm, said):
    probs = unbind.confirm_problems("member1", confirm)
    assert codes(probs) == ["unbind_not_confirmed"]
    assert said in probs[0]["message"] and "set confirm_unbind: member1" in probs[0]["message"]
    assert tuple(sorted(probs[0])) == tuple(sorted(PROBLEM_KEYS))
    assert unbind.confirm_problems("member1", "member1") == []


def test_unbind_checks():
    assert unbind.unbind_problems("member1", "member1", cluster(), UP) == []
    assert codes(unbind.unbind_problems("host", "host", cluster("host", host=True), UP)) == ["unbind_host"]
    dead = unbind.unbind_problems("member1", "member1", cluster(), DOWN, OFFLINE)
    assert codes(dead) == ["member_unreachable_needs_force"]
    assert "connection refused" in dead[0]["message"] and "Offline" in dead[0]["message"]
    assert unbind.unbind_problems("member1", "member1", cluster(), DOWN, OFFLINE, force=True) == []
    # the inventory cannot read it but kubefed can: not dead, the normal path applies
    assert unbind.unbind_problems("member1", "member1", cluster(), DOWN, KF_READY) == []
    # never joined (no status.uid): the webhook lets everything through, no force needed
    assert unbind.unbind_problems("member1", "member1", cluster(uid=None), DOWN) == []
    assert unbind.unbind_problems("member1", "member1", None, DOWN) == []


def test_dead_needs_proof():
    assert unbind.dead(cluster(), DOWN, OFFLINE)
    assert unbind.dead(cluster(), DOWN, None)
    assert not unbind.dead(cluster(), UP, OFFLINE)
    assert not unbind.dead(cluster(), DOWN, KF_READY)
    assert not unbind.dead(cluster(uid=None), DOWN, OFFLINE)
    assert not unbind.dead(None, DOWN, OFFLINE)


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
    assert unbind.selector_matches(selector, labels) is match


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


def actions(p):
    return [(s["action"], s["object"], s["cluster"]) for s in p["steps"]]


def test_proxy_unbind_deletes_the_cluster_before_the_agent():
    member = {"reachable": True, "agent": {"kind": "Deployment"}}
    p = unbind.plan("member1", cluster(ctype="proxy"), member, KF_READY)
    assert p["path"] == "normal" and p["problems"] == []
    assert actions(p) == [("delete", "Cluster member1", "host"), ("wait_deleted", "Cluster member1", "host"),
                          ("delete", "Deployment kubesphere-system/cluster-agent", "member1"),
                          ("verify", "Cluster member1", "both")]


def test_direct_unbind_with_placements_first_and_member_cleanup():
    member = {"reachable": True, "federation": {"service_accounts": ["member1-kubesphere"],
                                                "secrets": ["member1-kubesphere-token-q"],
                                                "cluster_roles": [], "cluster_role_bindings": []}}
    objs = [fed("FederatedNamespace", "demo", "demo", clusters=["member1", "member2"])]
    p = unbind.plan("member1", cluster(), member, KF_READY, federated=objs, remove_from_placements=True,
                    cleanup_member=True)
    assert actions(p) == [
        ("patch", "FederatedNamespace demo/demo", "host"), ("delete", "Cluster member1", "host"),
        ("wait_deleted", "Cluster member1", "host"),
        ("delete", "ServiceAccount kube-federation-system/member1-kubesphere", "member1"),
        ("delete", "Secret kube-federation-system/member1-kubesphere-token-q", "member1"),
        ("verify", "Cluster member1", "both")]
    assert p["steps"][0]["patch"] == {"spec": {"placement": {"clusters": [{"name": "member2"}]}}}


def test_rerun_after_the_cluster_is_gone_only_cleans_and_nothing_to_do_is_nothing():
    p = unbind.plan("member1", None, {"reachable": True, "agent": {"kind": "Deployment"}})
    assert actions(p) == [("delete", "Deployment kubesphere-system/cluster-agent", "member1"),
                          ("verify", "Cluster member1", "both")]
    assert unbind.plan("member1", None, {"reachable": True})["path"] == "nothing"
    deleting = unbind.plan("member1", cluster(deleting=True), UP, KF_READY)
    assert actions(deleting)[0] == ("wait_deleted", "Cluster member1", "host")


def test_dead_member_plan_restores_the_webhook_exactly_and_always():
    p = unbind.plan("member1", cluster(ctype="proxy"), DOWN, OFFLINE, webhook=WEBHOOK, force=True, cleanup_member=True)
    assert p["path"] == "dead" and p["problems"] == []
    assert actions(p) == [
        ("backup", "ValidatingWebhookConfiguration cluster.kubesphere.io", "host"),
        ("delete", "Cluster member1", "host"),
        ("delete", "ValidatingWebhookConfiguration cluster.kubesphere.io", "host"),
        ("patch", "Cluster member1", "host"),
        ("delete", "KubeFedCluster kube-federation-system/member1", "host"),
        ("delete", "Secret kube-federation-system/member1-secret", "host"),
        ("wait_deleted", "Cluster member1", "host"),
        ("create", "ValidatingWebhookConfiguration cluster.kubesphere.io", "host"),
        ("verify", "Cluster member1", "both")]
    finalizer = p["steps"][3]
    assert finalizer["patch"] == {"metadata": {"finalizers": None}}
    restore = p["steps"][7]
    assert restore["always"] and [s for s in p["steps"] if s["always"]] == [restore]
    expected = copy.deepcopy(WEBHOOK)
    for key in ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"):
        del expected["metadata"][key]
    assert restore["body"] == expected == p["steps"][0]["body"]
    # nothing on the dead member is touched, and the report says what stays there
    assert all(s["cluster"] in ("host", "both") for s in p["steps"])
    assert "Deployment kubesphere-system/cluster-agent" in objects_of(p["report"]["stays_on_member"])


def test_dead_member_keeps_other_finalizers_and_works_without_a_webhook():
    c = cluster()
    c["metadata"]["finalizers"].append("example.com/other")
    p = unbind.plan("member1", c, DOWN, OFFLINE, webhook=None, force=True)
    assert [s["action"] for s in p["steps"]] == ["delete", "patch", "delete", "delete", "wait_deleted", "verify"]
    assert p["steps"][1]["patch"] == {"metadata": {"finalizers": ["example.com/other"]}}


def test_dead_member_without_force_is_refused_and_the_host_never_unbinds():
    p = unbind.plan("member1", cluster(), DOWN, OFFLINE, webhook=WEBHOOK)
    assert p["steps"] == [] and codes(p["problems"]) == ["member_unreachable_needs_force"]
    assert codes(unbind.plan("host", cluster("host", host=True), UP)["problems"]) == ["unbind_host"]


def test_restored_ignores_server_owned_metadata_only():
    live = copy.deepcopy(WEBHOOK)
    live["metadata"].update(uid="w-2", resourceVersion="99", creationTimestamp="2026-11-26T00:00:00Z")
    assert unbind.restored(WEBHOOK, live)
    live["webhooks"][0]["clientConfig"]["caBundle"] = "other"
    assert not unbind.restored(WEBHOOK, live)
    assert not unbind.restored(WEBHOOK, None)


# --- running a plan ------------------------------------------------------------------------------------


def test_run_restores_the_webhook_even_when_a_step_fails():
    p = unbind.plan("member1", cluster(), DOWN, OFFLINE, webhook=WEBHOOK, force=True)
    seen = []

    def execute(step):
        seen.append((step["action"], step["kind"]))
        if step["action"] == "wait_deleted":
            raise TimeoutError("Cluster member1 still exists after 300 s")

    result = unbind.run(p["steps"], execute)
    assert not result["ok"]
    assert result["failed"] == [{"step": "wait_deleted Cluster member1 on host",
                                 "error": "Cluster member1 still exists after 300 s"}]
    assert seen[-1] == ("create", "ValidatingWebhookConfiguration")  # the restore ran after the failure
    assert result["skipped"] == ["verify Cluster member1 on both"]
    assert "create ValidatingWebhookConfiguration cluster.kubesphere.io on host" in result["done"]


def test_run_reports_a_failing_restore_too():
    steps = [unbind.step("delete", "host", "X", "a"), unbind.step("create", "host", "Y", "b", always=True)]

    def execute(step):
        raise RuntimeError("boom %s" % step["kind"])

    result = unbind.run(steps, execute)
    assert [f["error"] for f in result["failed"]] == ["boom X", "boom Y"] and result["done"] == []


def test_run_all_good():
    result = unbind.run(unbind.plan("member1", cluster(), UP, KF_READY)["steps"], lambda s: None)
    assert result == {"done": ["delete Cluster member1 on host", "wait_deleted Cluster member1 on host",
                               "verify Cluster member1 on both"], "failed": [], "skipped": [], "ok": True}


def test_cleanup_of_unread_leftovers_uses_kubefedctls_names():
    p = unbind.plan("member1", None, {"reachable": True}, cleanup_member=True)
    assert actions(p) == [
        ("delete", "ClusterRoleBinding kubefed-controller-manager:member1-kubesphere", "member1"),
        ("delete", "ClusterRole kubefed-controller-manager:member1-kubesphere", "member1"),
        ("delete", "ServiceAccount kube-federation-system/member1-kubesphere", "member1"),
        ("verify", "Cluster member1", "both")]
    assert all(s.get("missing_ok") for s in p["steps"][:3])


def test_a_rerun_restores_a_webhook_configuration_a_stopped_run_left_deleted():
    backup = unbind.restorable(WEBHOOK)
    # the Cluster is gone already, the live configuration is missing: the plan restores the backup
    p = unbind.plan("member1", None, DOWN, None, webhook=None, webhook_backup=backup)
    assert actions(p) == [("create", "ValidatingWebhookConfiguration cluster.kubesphere.io", "host"),
                          ("verify", "Cluster member1", "both")]
    assert p["steps"][0]["body"] == backup and p["steps"][0]["replace_existing"]
    # still stuck and dead: no second backup, no delete of a configuration that is not there, one restore
    p = unbind.plan("member1", cluster(deleting=True), DOWN, OFFLINE, webhook=None, webhook_backup=backup, force=True)
    assert [a for a in actions(p) if "Webhook" in a[1]] == [
        ("create", "ValidatingWebhookConfiguration cluster.kubesphere.io", "host")]
    # a live configuration and a stale backup: the live one is what gets restored
    live = copy.deepcopy(WEBHOOK)
    live["webhooks"][0]["timeoutSeconds"] = 10
    p = unbind.plan("member1", cluster(), DOWN, OFFLINE, webhook=live, webhook_backup=backup, force=True)
    restores = [s for s in p["steps"] if s["action"] == "create"]
    assert len(restores) == 1 and restores[0]["body"]["webhooks"][0]["timeoutSeconds"] == 10


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
