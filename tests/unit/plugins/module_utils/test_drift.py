"""Drift of federated objects: the expected member object, the comparison, kubefed's status (pure)."""

import base64
import copy

import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import drift
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import jsonpatch
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import overrides as ov


def ftc(name, kind, group="", version="v1"):
    return {"metadata": {"name": name},
            "spec": {"federatedType": {"group": "types.kubefed.io", "kind": "Federated" + kind, "scope": "Namespaced",
                                       "version": "v1beta1"},
                     "propagation": "Enabled",
                     "targetType": {"group": group, "kind": kind, "scope": "Namespaced", "version": version}}}


FTC_DEPLOYMENT = ftc("deployments.apps", "Deployment", "apps")
FTC_CONFIGMAP = ftc("configmaps", "ConfigMap")
FTC_SECRET = ftc("secrets", "Secret")
FTC_SERVICE = ftc("services", "Service")


def deployment():
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "demo", "labels": {"app": "web"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [
                                      {"name": "app", "image": "nginx:1.24", "env": [{"name": "A", "value": "1"}]},
                                      {"name": "sidecar", "image": "busybox"}]}}}}


DEPLOY_TARGET = federated.federated_types(FTC_DEPLOYMENT)["target"]


def fed_deployment(settings=None, clusters=("member1", "member2")):
    return federated.federated_object(deployment(), FTC_DEPLOYMENT, list(clusters), settings)


def member_copy(fed_obj, cluster, target=DEPLOY_TARGET):
    """What a member holds after kubefed created it, plus what its API server and controllers add."""
    obj = drift.object_for_cluster(fed_obj, target, cluster)
    obj["metadata"].update(uid="u-%s" % cluster, resourceVersion="12", generation=3,
                           creationTimestamp="2026-01-01T00:00:00Z", managedFields=[{"manager": "kubefed"}])
    if target["kind"] == "Deployment":
        obj["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "1"}
        obj["spec"]["strategy"] = {"type": "RollingUpdate"}
        obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
        obj["spec"]["template"]["spec"]["dnsPolicy"] = "ClusterFirst"
        obj["status"] = {"readyReplicas": 1}
    return obj


# ---------------------------------------------------------------- the expected object

def test_object_for_cluster_follows_kubefed_on_create():
    obj = fed_deployment({"member1": {"replicas": 3, "image": {"app": "nginx:1.25"}}})
    obj["spec"]["template"]["metadata"]["annotations"] = {"dropped": "by kubefed"}
    expected = drift.object_for_cluster(obj, DEPLOY_TARGET, "member1")
    assert expected["apiVersion"] == "apps/v1" and expected["kind"] == "Deployment"
    assert expected["metadata"] == {"name": "web", "namespace": "demo",
                                    "labels": {"app": "web", "kubefed.io/managed": "true"}}
    assert expected["spec"]["replicas"] == 3
    assert expected["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    other = drift.object_for_cluster(obj, DEPLOY_TARGET, "member2")
    assert other["spec"]["replicas"] == 1
    assert other["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.24"


def test_namespaces_get_no_namespace_and_a_template_api_version_wins():
    fns = federated.federated_namespace("demo", "ws1", ["member1"])
    target = {"kind": "Namespace", "apiVersion": "v1"}
    expected = drift.object_for_cluster(fns, target, "member1")
    labels = {"kubesphere.io/workspace": "ws1", "kubefed.io/managed": "true"}
    assert expected["metadata"] == {"name": "demo", "labels": labels}
    obj = fed_deployment()
    obj["spec"]["template"]["apiVersion"] = "apps/v1beta2"
    assert drift.object_for_cluster(obj, DEPLOY_TARGET, "member1")["apiVersion"] == "apps/v1beta2"


def test_update_retains_finalizers_annotations_and_replicas_when_asked():
    obj = fed_deployment()
    live = member_copy(obj, "member1")
    live["metadata"]["finalizers"] = ["example.com/keep"]
    live["spec"]["replicas"] = 7
    expected = drift.object_for_cluster(obj, DEPLOY_TARGET, "member1", live)
    assert expected["metadata"]["finalizers"] == ["example.com/keep"]
    assert expected["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1"}
    assert expected["spec"]["replicas"] == 1
    obj["spec"]["retainReplicas"] = True
    assert drift.object_for_cluster(obj, DEPLOY_TARGET, "member1", live)["spec"]["replicas"] == 7


def test_overrides_apply_after_retention_so_an_annotation_override_wins():
    obj = fed_deployment({"member1": {"overrides": [
        {"op": "add", "path": "/metadata/annotations/team", "value": "a"}]}})
    live = member_copy(fed_deployment(), "member1")
    expected = drift.object_for_cluster(obj, DEPLOY_TARGET, "member1", live)
    assert expected["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1", "team": "a"}
    # on create there are no annotations: the same override misses its parent (kubefed's asymmetry)
    with pytest.raises(jsonpatch.PatchError):
        drift.object_for_cluster(obj, DEPLOY_TARGET, "member1")


def test_service_keeps_cluster_ip_and_matching_node_ports():
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "demo"},
           "spec": {"type": "NodePort", "selector": {"app": "web"},
                    "ports": [{"name": "http", "protocol": "TCP", "port": 80},
                              {"name": "metrics", "protocol": "TCP", "port": 9090}]}}
    obj = federated.federated_object(svc, FTC_SERVICE, ["member1"])
    target = federated.federated_types(FTC_SERVICE)["target"]
    live = copy.deepcopy(svc)
    live["metadata"]["labels"] = {"kubefed.io/managed": "true"}
    live["spec"].update(clusterIP="10.0.0.5", clusterIPs=["10.0.0.5"], healthCheckNodePort=0)
    live["spec"]["ports"] = [{"name": "http", "protocol": "TCP", "port": 80, "nodePort": 30080},
                             {"name": "metrics", "protocol": "UDP", "port": 9090, "nodePort": 30090}]
    expected = drift.object_for_cluster(obj, target, "member1", live)
    assert expected["spec"]["clusterIP"] == "10.0.0.5" and expected["spec"]["clusterIPs"] == ["10.0.0.5"]
    assert "healthCheckNodePort" not in expected["spec"]
    assert expected["spec"]["ports"][0]["nodePort"] == 30080
    assert "nodePort" not in expected["spec"]["ports"][1]       # protocol differs: not the same port
    assert drift.differing_fields(expected, live, "Service") == ["/spec/ports/1/protocol"]


def test_service_account_keeps_generated_secrets_only_when_the_template_has_none():
    fed_sa = {"metadata": {"name": "sa", "namespace": "demo"}, "spec": {"template": {}}}
    target = {"kind": "ServiceAccount", "apiVersion": "v1"}
    live = {"metadata": {"labels": {"kubefed.io/managed": "true"}}, "secrets": [{"name": "sa-token-x"}]}
    assert drift.object_for_cluster(fed_sa, target, "m", live)["secrets"] == [{"name": "sa-token-x"}]
    fed_sa["spec"]["template"]["secrets"] = [{"name": "mine"}]
    assert drift.object_for_cluster(fed_sa, target, "m", live)["secrets"] == [{"name": "mine"}]


# ---------------------------------------------------------------- comparison and states

def test_a_fresh_member_copy_is_in_sync_despite_server_defaults():
    obj = fed_deployment({"member1": {"replicas": 3}})
    live = member_copy(obj, "member1")
    entry = drift.member_drift(obj, DEPLOY_TARGET, "member1", live)
    assert entry == {"cluster": "member1", "state": "in_sync", "fields": [], "error": None}


@pytest.mark.parametrize("edit,fields", [
    (lambda o: o["spec"].update(replicas=5), ["/spec/replicas"]),
    (lambda o: o["spec"]["template"]["spec"]["containers"][0].update(image="evil"),
     ["/spec/template/spec/containers/0/image"]),
    (lambda o: o["metadata"]["labels"].update(extra="x"), ["/metadata/labels/extra"]),
    (lambda o: o["metadata"]["labels"].pop("app"), ["/metadata/labels/app"]),
    (lambda o: o["spec"]["template"]["spec"]["containers"].pop(1), ["/spec/template/spec/containers"]),
    (lambda o: o["spec"]["template"]["spec"]["containers"][0].pop("env"), ["/spec/template/spec/containers/0/env"]),
])
def test_hand_edits_are_reported_as_json_pointers(edit, fields):
    obj = fed_deployment({"member1": {"replicas": 3}})
    live = member_copy(obj, "member1")
    edit(live)
    entry = drift.member_drift(obj, DEPLOY_TARGET, "member1", live)
    assert entry["state"] == "drifted"
    assert entry["fields"] == fields


def test_annotation_hand_edits_are_not_drift_because_kubefed_retains_them():
    obj = fed_deployment()
    live = member_copy(obj, "member1")
    live["metadata"]["annotations"]["hand"] = "edit"
    assert drift.member_drift(obj, DEPLOY_TARGET, "member1", live)["state"] == "in_sync"


def test_missing_and_not_managed():
    obj = fed_deployment()
    assert drift.member_drift(obj, DEPLOY_TARGET, "member1", None)["state"] == "missing"
    live = member_copy(obj, "member1")
    live["metadata"]["labels"]["kubefed.io/managed"] = "false"
    entry = drift.member_drift(obj, DEPLOY_TARGET, "member1", live)
    assert entry["state"] == "not_managed" and "false" in entry["error"]
    live["metadata"]["labels"].pop("kubefed.io/managed")
    assert drift.member_drift(obj, DEPLOY_TARGET, "member1", live)["state"] == "not_managed"


def test_overrides_kubefed_rejects_make_the_state_unknown():
    obj = fed_deployment({"member1": {"overrides": [{"path": "/spec/nope/x", "value": 1}]}})
    live = member_copy(fed_deployment(), "member1")
    entry = drift.member_drift(obj, DEPLOY_TARGET, "member1", live)
    assert entry["state"] == "unknown" and "/spec/nope/x" in entry["error"]


def test_kubesphere_and_apiserver_namespace_additions_are_not_drift():
    fns = federated.federated_namespace("demo", "ws1", ["member1"])
    target = {"kind": "Namespace", "apiVersion": "v1"}
    live = drift.object_for_cluster(fns, target, "member1")
    live["metadata"]["labels"]["kubesphere.io/namespace"] = "demo"
    live["metadata"]["labels"]["kubernetes.io/metadata.name"] = "demo"   # the kube-apiserver's own label
    live["metadata"]["finalizers"] = ["finalizers.kubesphere.io/namespaces"]
    live["spec"] = {"finalizers": ["kubernetes"]}
    live["status"] = {"phase": "Active"}
    assert drift.member_drift(fns, target, "member1", live)["state"] == "in_sync"
    live["metadata"]["labels"]["other"] = "x"
    assert drift.member_drift(fns, target, "member1", live)["fields"] == ["/metadata/labels/other"]


def test_configmap_data_is_compared_whole():
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "demo"},
          "data": {"a": "1", "b": "2"}}
    obj = federated.federated_object(cm, FTC_CONFIGMAP, ["member1"], {"member1": {"data": {"b": "member"}}})
    target = federated.federated_types(FTC_CONFIGMAP)["target"]
    live = drift.object_for_cluster(obj, target, "member1")
    assert live["data"] == {"a": "1", "b": "member"}
    assert drift.member_drift(obj, target, "member1", live)["state"] == "in_sync"
    live["data"]["extra"] = "x"
    live["data"]["b"] = "2"
    assert drift.member_drift(obj, target, "member1", live)["fields"] == ["/data/b", "/data/extra"]


def test_secret_drift_reports_keys_never_values():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "demo"},
              "type": "Opaque", "stringData": {"password": "hunter2", "user": "app"}}
    obj = federated.federated_object(secret, FTC_SECRET, ["member1"], {"member1": {"data": {"password": "m1-pass"}}})
    target = federated.federated_types(FTC_SECRET)["target"]
    live = drift.object_for_cluster(obj, target, "member1")
    assert base64.b64decode(live["data"]["password"]) == b"m1-pass"
    live["data"]["password"] = base64.b64encode(b"changed-by-hand").decode()
    rows = drift.report(obj, FTC_SECRET, {"member1": live})
    assert rows[0]["state"] == "drifted" and rows[0]["fields"] == ["/data/password"]
    text = repr(rows)
    for secret_text in ("hunter2", "m1-pass", "changed-by-hand", live["data"]["password"],
                        live["data"]["user"], "bTEtcGFzcw=="):
        assert secret_text not in text


# ---------------------------------------------------------------- kubefed's status and the report

STATUS = {"observedGeneration": 2,
          "conditions": [{"type": "Propagation", "status": "False", "reason": "CheckClusters",
                          "lastUpdateTime": "t", "lastTransitionTime": "t"}],
          "clusters": [{"name": "member2", "status": "ApplyOverridesFailed"}, {"name": "member1"}]}


def test_propagation_reads_condition_and_cluster_statuses():
    obj = fed_deployment()
    obj["status"] = STATUS
    prop = drift.propagation(obj)
    assert prop["status"] == "False" and prop["reason"] == "CheckClusters"
    assert prop["clusters"] == {"member1": "", "member2": "ApplyOverridesFailed"}
    assert "some clusters" in prop["message"]
    assert drift.propagation(fed_deployment())["message"] == "kubefed has not reported yet"
    assert drift.cluster_reason("ManagedLabelFalse").startswith("the member object is labelled")
    assert drift.cluster_reason("SomethingNew") == "SomethingNew"


def test_report_combines_drift_status_and_cluster_health():
    obj = fed_deployment({"member1": {"replicas": 3}})
    obj["status"] = STATUS
    live1 = member_copy(obj, "member1")
    live1["spec"]["replicas"] = 9
    rows = drift.report(obj, FTC_DEPLOYMENT, {"member1": live1, "member2": None},
                        cluster_health={"member1": {"ready": False, "offline": True},
                                        "member2": {"ready": True, "offline": False}})
    assert [r["cluster"] for r in rows] == ["member1", "member2"]
    assert rows[0]["state"] == "drifted" and rows[0]["fields"] == ["/spec/replicas"]
    assert rows[0]["propagation"] == "" and "Offline" in rows[0]["reason"]
    assert rows[1]["state"] == "missing" and rows[1]["propagation"] == "ApplyOverridesFailed"
    assert "overrides" in rows[1]["reason"]


def test_report_in_sync_says_propagated():
    obj = fed_deployment()
    obj["status"] = {"conditions": [{"type": "Propagation", "status": "True"}],
                     "clusters": [{"name": "member1"}, {"name": "member2"}]}
    rows = drift.report(obj, FTC_DEPLOYMENT, dict((c, member_copy(obj, c)) for c in ("member1", "member2")))
    assert [(r["state"], r["reason"]) for r in rows] == [("in_sync", "propagated")] * 2


def test_the_host_namespace_of_a_project_is_not_managed_by_design():
    fns = federated.federated_namespace("demo", "ws1", ["host", "member1"])
    ns_ftc = ftc("namespaces", "Namespace")
    host_ns = federated.host_namespace("demo", "ws1")
    member_ns = drift.object_for_cluster(fns, federated.federated_types(ns_ftc)["target"], "member1")
    fns["status"] = {"conditions": [{"type": "Propagation", "status": "False", "reason": "CheckClusters"}],
                     "clusters": [{"name": "host", "status": "ManagedLabelFalse"}, {"name": "member1"}]}
    rows = drift.report(fns, ns_ftc, {"host": host_ns, "member1": member_ns}, host="host")
    assert [(r["cluster"], r["state"], r["propagation"]) for r in rows] == [
        ("host", "not_managed", "ManagedLabelFalse"), ("member1", "in_sync", "")]
    assert "console" not in rows[1]["reason"] and "as the console creates it" in rows[0]["reason"]


def test_zero_and_false_match_what_the_server_omits():
    obj = fed_deployment()
    obj["spec"]["template"]["spec"]["minReadySeconds"] = 0
    obj["spec"]["template"]["spec"]["template"]["spec"]["hostNetwork"] = False
    live = member_copy(fed_deployment(), "member1")
    assert drift.member_drift(obj, DEPLOY_TARGET, "member1", live)["state"] == "in_sync"
    obj["spec"]["template"]["spec"]["minReadySeconds"] = 5
    assert drift.member_drift(obj, DEPLOY_TARGET, "member1", live)["fields"] == ["/spec/minReadySeconds"]


def test_a_status_behind_the_generation_is_stale():
    obj = fed_deployment()
    obj["metadata"]["generation"] = 3
    obj["status"] = {"observedGeneration": 2, "conditions": [{"type": "Propagation", "status": "True"}],
                     "clusters": [{"name": "member1"}]}
    assert drift.propagation(obj)["stale"] is True
    rows = drift.report(obj, FTC_DEPLOYMENT, {"member1": member_copy(obj, "member1")}, clusters=["member1"])
    assert rows[0]["state"] == "in_sync" and "not processed the last change" in rows[0]["reason"]
    obj["status"]["observedGeneration"] = 3
    assert drift.propagation(obj)["stale"] is False
    assert drift.propagation(fed_deployment())["stale"] is False


@pytest.mark.parametrize("bad", [
    [{"clusterName": "member2", "clusterOverrides": [{"path": "/spec/replicas", "value": 1},
                                                     {"op": "remove", "path": "/spec/replicas"}]}],
    [{"clusterName": "member2", "clusterOverrides": [{"path": "/kind", "value": "Pod"}]}],
    [{"clusterName": "member2", "clusterOverrides": []}, {"clusterName": "member2", "clusterOverrides": []}],
])
def test_unreadable_overrides_fail_every_cluster_as_in_kubefed(bad):
    # util.GetOverrides refuses the whole list: member1, without overrides of its own, fails too
    obj = fed_deployment()
    obj["spec"]["overrides"] = bad
    live = member_copy(fed_deployment(), "member1")
    entry = drift.member_drift(obj, DEPLOY_TARGET, "member1", live)
    assert entry["state"] == "unknown"
    with pytest.raises(jsonpatch.PatchError):
        ov.overrides_map(obj)


# ---------------------------------------------------------------- quantities

def _with_resources(obj, requests, limits=None):
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {"requests": dict(requests)}
    if limits:
        container["resources"]["limits"] = dict(limits)
    return obj


def test_quantities_the_apiserver_canonicalised_are_not_drift():
    manifest = _with_resources(deployment(), {"cpu": 0.5, "memory": "1024Mi"}, {"cpu": "1000m", "memory": "1e9"})
    manifest["spec"]["template"]["spec"]["volumes"] = [{"name": "tmp", "emptyDir": {"sizeLimit": "0.5Gi"}}]
    obj = federated.federated_object(manifest, FTC_DEPLOYMENT, ["member1"], None)
    live = member_copy(obj, "member1")
    pod = live["spec"]["template"]["spec"]
    # what the member's API server stores (canonical form)
    pod["containers"][0]["resources"] = {"requests": {"cpu": "500m", "memory": "1Gi"},
                                         "limits": {"cpu": "1", "memory": "1G"}}
    pod["volumes"][0]["emptyDir"]["sizeLimit"] = "512Mi"
    row = drift.member_drift(obj, DEPLOY_TARGET, "member1", live)
    assert row["state"] == "in_sync", row


def test_a_different_quantity_is_drift():
    obj = federated.federated_object(_with_resources(deployment(), {"cpu": 0.5, "memory": "1Gi"}), FTC_DEPLOYMENT,
                                     ["member1"], None)
    live = member_copy(obj, "member1")
    live["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"] = {"cpu": "600m", "memory": "1G"}
    row = drift.member_drift(obj, DEPLOY_TARGET, "member1", live)
    assert row["state"] == "drifted"
    assert row["fields"] == ["/spec/template/spec/containers/0/resources/requests/cpu",
                             "/spec/template/spec/containers/0/resources/requests/memory"]


def test_values_outside_quantity_fields_are_compared_as_written():
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "demo"},
          "data": {"cpu": "0.5"}}
    obj = federated.federated_object(cm, FTC_CONFIGMAP, ["member1"], None)
    target = federated.federated_types(FTC_CONFIGMAP)["target"]
    live = drift.object_for_cluster(obj, target, "member1")
    live["data"]["cpu"] = "500m"
    assert drift.member_drift(obj, target, "member1", live)["fields"] == ["/data/cpu"]
    # an annotation-like or replica field holding a number is not a quantity either
    dep = fed_deployment()
    live = member_copy(dep, "member1")
    live["spec"]["replicas"] = "1"
    assert "/spec/replicas" in drift.member_drift(dep, DEPLOY_TARGET, "member1", live)["fields"]


def test_a_quantity_override_is_compared_by_value():
    obj = federated.federated_object(_with_resources(deployment(), {"cpu": "250m"}), FTC_DEPLOYMENT, ["member1"],
                                     {"member1": {"overrides": [
                                         {"path": "/spec/template/spec/containers/0/resources/requests/cpu",
                                          "value": 1.5}]}})
    live = member_copy(obj, "member1")
    live["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "1500m"
    assert drift.member_drift(obj, DEPLOY_TARGET, "member1", live)["state"] == "in_sync"
