"""Builders, FederatedTypeConfigs and normalisation for kubefed federated objects (pure)."""

import base64
import copy
import os

import pytest

from federation_fixtures import deployment

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated

FTC_DEPLOYMENT = {
    "apiVersion": "core.kubefed.io/v1beta1", "kind": "FederatedTypeConfig", "metadata": {"name": "deployments.apps"},
    "spec": {"federatedType": {"group": "types.kubefed.io", "kind": "FederatedDeployment",
                               "pluralName": "federateddeployments", "scope": "Namespaced", "version": "v1beta1"},
             "propagation": "Enabled",
             "targetType": {"group": "apps", "kind": "Deployment", "pluralName": "deployments",
                            "scope": "Namespaced", "version": "v1"}}}
FTC_CONFIGMAP = {
    "metadata": {"name": "configmaps"},
    "spec": {"federatedType": {"group": "types.kubefed.io", "kind": "FederatedConfigMap",
                               "pluralName": "federatedconfigmaps", "scope": "Namespaced", "version": "v1beta1"},
             "propagation": "Enabled",
             "targetType": {"kind": "ConfigMap", "pluralName": "configmaps", "scope": "Namespaced",
                            "version": "v1"}}}
FTC_SECRET = copy.deepcopy(FTC_CONFIGMAP)
FTC_SECRET["metadata"]["name"] = "secrets"
FTC_SECRET["spec"]["federatedType"].update(kind="FederatedSecret", pluralName="federatedsecrets")
FTC_SECRET["spec"]["targetType"].update(kind="Secret", pluralName="secrets")
FTC_SERVICE = copy.deepcopy(FTC_CONFIGMAP)
FTC_SERVICE["metadata"]["name"] = "services"
FTC_SERVICE["spec"]["federatedType"].update(kind="FederatedService", pluralName="federatedservices")
FTC_SERVICE["spec"]["targetType"].update(kind="Service", pluralName="services")
FTC_WORKSPACE = {"metadata": {"name": "workspaces.tenant.kubesphere.io"},
                 "spec": {"federatedType": {"group": "types.kubefed.io", "kind": "FederatedWorkspace",
                                            "scope": "Cluster", "version": "v1beta1"},
                          "propagation": "Enabled",
                          "targetType": {"kind": "Workspace", "scope": "Cluster", "version": "v1alpha1"}}}


# ---------------------------------------------------------------- FederatedTypeConfig

def test_federated_types_from_an_ftc():
    types = federated.federated_types(FTC_DEPLOYMENT)
    assert types["enabled"] is True
    assert (types["federated"]["apiVersion"], types["federated"]["kind"]) == \
        ("types.kubefed.io/v1beta1", "FederatedDeployment")
    assert (types["target"]["apiVersion"], types["target"]["kind"], types["target"]["plural"]) == \
        ("apps/v1", "Deployment", "deployments")
    assert federated.federated_types(FTC_CONFIGMAP)["target"]["apiVersion"] == "v1"


def test_ftc_target_group_defaults_from_its_name_as_kubefed_does():
    types = federated.federated_types(FTC_WORKSPACE)
    assert types["target"]["apiVersion"] == "tenant.kubesphere.io/v1alpha1"
    assert types["target"]["namespaced"] is False
    assert federated.find_ftc([FTC_CONFIGMAP, FTC_WORKSPACE], "tenant.kubesphere.io/v1alpha1", "Workspace") is FTC_WORKSPACE


def test_find_ftc_matches_group_and_kind():
    ftcs = [FTC_CONFIGMAP, FTC_DEPLOYMENT]
    assert federated.find_ftc(ftcs, "apps/v1", "Deployment") is FTC_DEPLOYMENT
    assert federated.find_ftc(ftcs, "v1", "ConfigMap") is FTC_CONFIGMAP
    assert federated.find_ftc(ftcs, "extensions/v1beta1", "Deployment") is None
    assert federated.find_ftc(ftcs, "batch/v1", "CronJob") is None


def test_the_shipped_ftcs_parse(tmp_path):
    yaml = pytest.importorskip("yaml")
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "..",
                          "shared", "kubesphere-crds", "v3.4", "federated-types")
    if not os.path.isdir(folder):
        pytest.skip("KubeSphere's federated-type files not found at %s" % folder)
    kinds = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as handle:
            for doc in yaml.safe_load_all(handle):
                if doc and doc.get("kind") == "FederatedTypeConfig":
                    types = federated.federated_types(doc)
                    kinds[types["target"]["kind"]] = (types["target"]["apiVersion"], types["federated"]["kind"])
    assert kinds["Deployment"] == ("apps/v1", "FederatedDeployment")
    assert kinds["Secret"] == ("v1", "FederatedSecret")
    assert kinds["Namespace"] == ("v1", "FederatedNamespace")
    assert kinds["Workspace"] == ("tenant.kubesphere.io/v1alpha1", "FederatedWorkspace")


# ---------------------------------------------------------------- builders

def test_host_namespace_as_the_console_creates_it():
    assert federated.host_namespace("demo", "ws1") == {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "demo", "labels": {
            "kubesphere.io/workspace": "ws1", "kubesphere.io/kubefed-host-namespace": "true",
            "kubefed.io/managed": "false"}}}
    # the collection's labels never win over the three it must set
    ns = federated.host_namespace("demo", "ws1", labels={"kubefed.io/managed": "true", "team": "a"})
    assert ns["metadata"]["labels"]["kubefed.io/managed"] == "false" and ns["metadata"]["labels"]["team"] == "a"


def test_federated_namespace_as_the_console_writes_it():
    obj = federated.federated_namespace("demo", "ws1", ["member2", "member1", "member1"],
                                        annotations={"kubesphere.io/alias-name": "Demo"})
    assert obj["apiVersion"] == "types.kubefed.io/v1beta1" and obj["kind"] == "FederatedNamespace"
    assert obj["metadata"] == {"name": "demo", "namespace": "demo", "labels": {"kubesphere.io/workspace": "ws1"},
                               "annotations": {"kubesphere.io/alias-name": "Demo"}}
    assert obj["spec"]["template"] == {"metadata": {"labels": {"kubesphere.io/workspace": "ws1"}}}
    assert obj["spec"]["placement"] == {"clusters": [{"name": "member1"}, {"name": "member2"}]}
    assert obj["spec"]["overrides"] == [
        {"clusterName": c, "clusterOverrides": [{"op": "replace", "path": "/metadata/annotations",
                                                 "value": {"kubesphere.io/alias-name": "Demo"}}]}
        for c in ("member1", "member2")]
    assert federated.federated_namespace("demo", "ws1", [])["spec"] == {
        "template": {"metadata": {"labels": {"kubesphere.io/workspace": "ws1"}}},
        "placement": {"clusters": []}, "overrides": []}


def test_workspace_template_and_adding_a_cluster():
    wt = federated.workspace_template("ws1", ["member1"], manager="admin")
    assert wt["apiVersion"] == "tenant.kubesphere.io/v1alpha2"
    assert wt["spec"] == {"template": {"spec": {"manager": "admin"}}, "placement": {"clusters": [{"name": "member1"}]}}
    wt["spec"]["placement"]["clusterSelector"] = {}
    moved = federated.with_placement(wt, ["member2", "member1"])
    assert moved["spec"]["placement"] == {"clusters": [{"name": "member1"}, {"name": "member2"}], "clusterSelector": {}}
    assert wt["spec"]["placement"]["clusters"] == [{"name": "member1"}]


def test_template_of_strips_identity_status_and_annotations():
    manifest = deployment()
    manifest["metadata"]["annotations"] = {"a": "b"}
    manifest["metadata"]["finalizers"] = ["x"]
    template = federated.template_of(manifest, "apps/v1")
    assert "apiVersion" not in template and "kind" not in template and "status" not in template
    assert template["metadata"] == {"labels": {"app": "web"}}
    assert manifest["metadata"]["name"] == "web"          # input untouched
    # a different version of the target stays in the template (kubefed then uses it)
    assert federated.template_of(dict(manifest, apiVersion="apps/v1beta2"), "apps/v1")["apiVersion"] == "apps/v1beta2"


def test_secret_string_data_is_folded_into_data():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "demo"},
              "type": "Opaque", "data": {"a": "YQ=="}, "stringData": {"b": "bee", "a": "ay"}}
    template = federated.template_of(secret, "v1")
    assert template == {"type": "Opaque", "data": {"a": base64.b64encode(b"ay").decode(),
                                                   "b": base64.b64encode(b"bee").decode()}}


def test_federated_deployment_with_counts_drops_zero_clusters():
    settings = {"member1": {"replicas": 2, "image": {"app": "nginx:1.25"}}, "member2": {"replicas": 0}}
    obj = federated.federated_object(deployment(), FTC_DEPLOYMENT, ["member1", "member2", "host"], settings)
    assert obj["apiVersion"] == "types.kubefed.io/v1beta1" and obj["kind"] == "FederatedDeployment"
    assert obj["metadata"] == {"name": "web", "namespace": "demo", "labels": {"app": "web"}}
    assert obj["spec"]["placement"] == {"clusters": [{"name": "host"}, {"name": "member1"}]}
    assert obj["spec"]["overrides"] == [{"clusterName": "member1", "clusterOverrides": [
        {"op": "replace", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.25"}]}]
    assert obj["spec"]["template"]["spec"]["replicas"] == 1
    assert "retainReplicas" not in obj["spec"]
    assert federated.federated_object(deployment(), FTC_DEPLOYMENT, ["m"], retain_replicas=True)["spec"]["retainReplicas"]


def test_annotations_stay_on_the_federated_object_unless_mirrored():
    manifest = deployment()
    manifest["metadata"]["annotations"] = {"kubesphere.io/description": "d"}
    obj = federated.federated_object(manifest, FTC_DEPLOYMENT, ["member1"])
    assert obj["metadata"]["annotations"] == {"kubesphere.io/description": "d"}
    assert obj["spec"]["overrides"] == []
    mirrored = federated.federated_object(manifest, FTC_DEPLOYMENT, ["member1"], mirror_annotations=True)
    assert mirrored["spec"]["overrides"][0]["clusterOverrides"] == [
        {"op": "replace", "path": "/metadata/annotations", "value": {"kubesphere.io/description": "d"}}]


def test_cluster_scoped_federated_object_has_no_namespace():
    ws = {"apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace", "metadata": {"name": "ws1"},
          "spec": {"manager": "admin"}}
    obj = federated.federated_object(ws, FTC_WORKSPACE, ["member1"])
    assert obj["kind"] == "FederatedWorkspace" and obj["metadata"] == {"name": "ws1"}
    assert obj["spec"]["template"] == {"spec": {"manager": "admin"}}


def test_rsp_shape_that_works_with_console_style_placement():
    rsp = federated.replica_scheduling_preference("web", "demo", 10, {"member2": 3, "member1": 1},
                                                  min_replicas={"member1": 1}, max_replicas={"member2": 8})
    assert rsp == {"apiVersion": "scheduling.kubefed.io/v1alpha1", "kind": "ReplicaSchedulingPreference",
                   "metadata": {"name": "web", "namespace": "demo"},
                   "spec": {"targetKind": "FederatedDeployment", "totalReplicas": 10, "rebalance": True,
                            "intersectWithClusterSelector": False,
                            "clusters": {"member1": {"weight": 1, "minReplicas": 1},
                                         "member2": {"weight": 3, "maxReplicas": 8}}}}
    assert "*" not in rsp["spec"]["clusters"]


# ---------------------------------------------------------------- normalisation

LIVE = {
    "spec": {
        "placement": {"clusters": [{"name": "member2"}, {"name": "member1"}]},
        "overrides": [
            {"clusterName": "member2", "clusterOverrides": [{"path": "/spec/replicas", "value": 8},
                                                            {"op": "replace", "path": "/data/a", "value": "x"}]},
            {"clusterName": "host", "clusterOverrides": []},
            {"clusterName": "member1", "clusterOverrides": [
                {"op": "replace", "path": "/spec/replicas", "value": 2}]}]},
    "status": {"clusters": [{"name": "member2"}, {"name": "member1", "status": "UpdateFailed"}]},
}


def test_normalize_federated_sorts_what_kubefed_writes_in_map_order():
    norm = federated.normalize_federated(LIVE)
    assert norm["spec"]["placement"]["clusters"] == [{"name": "member1"}, {"name": "member2"}]
    assert norm["spec"]["overrides"] == [
        {"clusterName": "member1", "clusterOverrides": [{"op": "replace", "path": "/spec/replicas", "value": 2}]},
        {"clusterName": "member2", "clusterOverrides": [{"op": "replace", "path": "/data/a", "value": "x"},
                                                        {"op": "replace", "path": "/spec/replicas", "value": 8}]}]
    assert [c["name"] for c in norm["status"]["clusters"]] == ["member1", "member2"]
    shuffled = copy.deepcopy(LIVE)
    shuffled["spec"]["overrides"].reverse()
    shuffled["spec"]["placement"]["clusters"].reverse()
    assert federated.normalize_federated(shuffled) == norm
    assert LIVE["spec"]["placement"]["clusters"][0] == {"name": "member2"}   # input untouched


def test_a_second_build_compares_equal_to_what_kubefed_rewrote():
    settings = {"member1": {"replicas": 2}, "member2": {"replicas": 3, "image": {"app": "nginx:1.25"}}}
    built = federated.federated_object(deployment(), FTC_DEPLOYMENT, ["member1", "member2"], settings)
    rewritten = copy.deepcopy(built)
    rewritten["spec"]["overrides"].reverse()
    for entry in rewritten["spec"]["overrides"]:
        for item in entry["clusterOverrides"]:
            item.pop("op")          # kubefed's RSP plugin writes overrides without op
    rewritten["spec"]["placement"]["clusters"].reverse()
    assert federated.normalize_federated(rewritten) == federated.normalize_federated(built)
    settings["member2"].pop("image")
    assert federated.normalize_federated(rewritten) != federated.normalize_federated(
        federated.federated_object(deployment(), FTC_DEPLOYMENT, ["member1", "member2"], settings))


def test_weight_mode_ignores_and_keeps_what_the_rsp_owns():
    desired = federated.federated_object(deployment(), FTC_DEPLOYMENT, ["member1", "member2"],
                                         {"member2": {"image": {"app": "nginx:1.25"}}})
    live = copy.deepcopy(desired)
    live["spec"]["placement"]["clusters"] = [{"name": "member2"}, {"name": "host"}, {"name": "member1"}]
    live["spec"]["overrides"] = [
        {"clusterName": "member2", "clusterOverrides": [
            {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.25"},
            {"path": "/spec/replicas", "value": 8}]},
        {"clusterName": "member1", "clusterOverrides": [{"path": "/spec/replicas", "value": 2}]},
        {"clusterName": "host", "clusterOverrides": [{"path": "/spec/replicas", "value": 0}]}]
    assert federated.without_rsp_owned(live) == federated.without_rsp_owned(desired)
    kept = federated.keep_rsp_owned(desired, live)
    assert kept == federated.normalize_federated(live)
    changed = federated.federated_object(deployment(), FTC_DEPLOYMENT, ["member1", "member2"], {})
    assert federated.without_rsp_owned(live) != federated.without_rsp_owned(changed)
    kept = federated.keep_rsp_owned(changed, live)
    assert kept["spec"]["overrides"][1] == {"clusterName": "member1", "clusterOverrides": [
        {"op": "replace", "path": "/spec/replicas", "value": 2}]}
    assert all(i["path"] == "/spec/replicas" for e in kept["spec"]["overrides"] for i in e["clusterOverrides"])


# ---------------------------------------------------------------- comparable, masking, deletion

def test_comparable_ignores_status_kubefed_finalizer_and_server_fields():
    built = federated.federated_object(deployment(), FTC_DEPLOYMENT, ["member1", "member2"], {"member1": {"replicas": 2}})
    live = copy.deepcopy(built)
    live["metadata"].update(uid="u", resourceVersion="9", generation=4, finalizers=["kubefed.io/sync-controller"],
                            creationTimestamp="t")
    live["spec"]["placement"]["clusters"].reverse()
    live["status"] = {"conditions": [{"type": "Propagation", "status": "True"}]}
    assert federated.comparable(live) == federated.comparable(built)
    live["metadata"]["labels"]["hand"] = "x"
    assert federated.comparable(live) != federated.comparable(built)
    assert federated.comparable(None) == {}


def test_mask_secret_hides_every_value_but_keeps_keys():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "demo"},
              "stringData": {"password": "hunter2"}}
    ftc_secret = copy.deepcopy(FTC_SECRET)
    obj = federated.federated_object(secret, ftc_secret, ["member1", "member2"], {
        "member1": {"data": {"password": "m1-pass"}},
        "member2": {"overrides": [{"path": "/data", "value": {"password": "cGxhaW4="}},
                                  {"path": "/metadata/labels", "value": {"tier": "db"}}]}})
    masked = federated.mask_secret(obj)
    text = repr(masked)
    for secret_text in ("hunter2", "aHVudGVyMg==", "m1-pass", base64.b64encode(b"m1-pass").decode(), "cGxhaW4="):
        assert secret_text not in text
    assert masked["spec"]["template"]["data"] == {"password": "********"}
    assert masked["spec"]["overrides"][1]["clusterOverrides"] == [
        {"op": "replace", "path": "/data", "value": {"password": "********"}},
        {"op": "replace", "path": "/metadata/labels", "value": {"tier": "db"}}]
    assert "hunter2" not in repr(federated.mask_secret(dict(secret)))
    assert base64.b64decode(obj["spec"]["template"]["data"]["password"]) == b"hunter2"   # input untouched


def test_project_deletion_reports_what_goes_on_each_member():
    kfc = [{"name": "host"}, {"name": "member1"}, {"name": "member2"}]
    fns = federated.federated_namespace("demo", "ws1", ["member1", "member2"])
    cm = federated.federated_object({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "demo"},
                                     "data": {"a": "1"}}, FTC_CONFIGMAP, ["member1", "member2"])
    web = federated.federated_object(deployment(), FTC_DEPLOYMENT, ["member2"])
    web["metadata"]["annotations"] = {"kubefed.io/orphan": "true"}
    assert federated.project_deletion("demo", fns, [cm, web], kfc) == {
        "member1": {"removed": ["ConfigMap demo/cfg", "Namespace demo"], "kept": []},
        "member2": {"removed": ["ConfigMap demo/cfg", "Namespace demo"], "kept": ["Deployment demo/web"]}}
