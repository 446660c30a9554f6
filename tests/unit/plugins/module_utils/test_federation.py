"""Builders, evanphx-v4 JSON patch and normalisation for kubefed federated objects (pure)."""

import base64
import copy
import os

import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federation as fed

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


def deployment(**extra):
    obj = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "demo", "labels": {"app": "web"}, "uid": "u1",
                        "resourceVersion": "5"},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [
                                     {"name": "app", "image": "nginx:1.24", "env": [{"name": "A", "value": "1"}]},
                                     {"name": "sidecar", "image": "busybox"}],
                                     "initContainers": [{"name": "init", "image": "busybox"}]}}},
           "status": {"replicas": 1}}
    obj.update(extra)
    return obj


# ---------------------------------------------------------------- JSON patch (evanphx v4.11)

DOC = {"metadata": {"name": "x", "labels": {"a": "1"}}, "spec": {"list": [1, 2, 3], "obj": {"k": "v"}}}


@pytest.mark.parametrize("ops,expected", [
    ([{"op": "replace", "path": "/metadata/labels/a", "value": "2"}], ("metadata", "labels", {"a": "2"})),
    # replace of a missing KEY in an existing object succeeds (evanphx v4, unlike RFC 6902)
    ([{"op": "replace", "path": "/metadata/labels/b", "value": "3"}], ("metadata", "labels", {"a": "1", "b": "3"})),
    ([{"path": "/metadata/labels/b", "value": "3"}], ("metadata", "labels", {"a": "1", "b": "3"})),   # op "" = replace
    ([{"op": "add", "path": "/metadata/annotations", "value": {"x": "y"}}], ("metadata", "annotations", {"x": "y"})),
    ([{"op": "add", "path": "/spec/list/1", "value": 9}], ("spec", "list", [1, 9, 2, 3])),
    ([{"op": "add", "path": "/spec/list/-", "value": 9}], ("spec", "list", [1, 2, 3, 9])),
    ([{"op": "add", "path": "/spec/list/3", "value": 9}], ("spec", "list", [1, 2, 3, 9])),
    ([{"op": "add", "path": "/spec/list/-1", "value": 9}], ("spec", "list", [1, 2, 3, 9])),   # -1 of len+1
    ([{"op": "replace", "path": "/spec/list/0", "value": 0}], ("spec", "list", [0, 2, 3])),
    ([{"op": "remove", "path": "/spec/list/-1"}], ("spec", "list", [1, 2])),
    ([{"op": "remove", "path": "/spec/obj/k"}], ("spec", "obj", {})),
    ([{"op": "replace", "path": "/spec/obj/a~1b", "value": 1}], ("spec", "obj", {"k": "v", "a/b": 1})),
    ([{"op": "replace", "path": "/spec/obj/a~0b", "value": 1}], ("spec", "obj", {"k": "v", "a~b": 1})),
    ([{"op": "replace", "path": "/spec/obj/k"}], ("spec", "obj", {"k": None})),            # no value = null
])
def test_apply_patch_succeeds_like_evanphx_v4(ops, expected):
    out = fed.apply_patch(DOC, ops)
    node = out
    for key in expected[:-1]:
        node = node[key]
    assert node == expected[-1]
    assert DOC["spec"]["list"] == [1, 2, 3] and DOC["metadata"]["labels"] == {"a": "1"}   # input untouched


@pytest.mark.parametrize("ops,reason", [
    ([{"op": "replace", "path": "/metadata/annotations/x", "value": "y"}], "missing the parent"),
    ([{"op": "add", "path": "/status/phase", "value": "y"}], "missing the parent"),
    ([{"op": "replace", "path": "/spec/list/3", "value": 0}], "invalid array index"),
    ([{"op": "replace", "path": "/spec/list/-", "value": 0}], "invalid array index"),
    ([{"op": "replace", "path": "/spec/list/-1", "value": 0}], "invalid array index"),
    ([{"op": "add", "path": "/spec/list/4", "value": 0}], "invalid array index"),
    ([{"op": "add", "path": "/spec/list/x", "value": 0}], "invalid array index"),
    ([{"op": "remove", "path": "/spec/list/3"}], "invalid array index"),
    ([{"op": "remove", "path": "/spec/obj/missing"}], "no key"),
    ([{"op": "replace", "path": "/metadata/name/x", "value": 0}], "missing the parent"),   # through a string
    ([{"op": "replace", "path": "/spec/list/9/x", "value": 0}], "missing the parent"),
    ([{"op": "move", "path": "/spec/obj/k"}], "unsupported op"),
    ([{"op": "replace", "path": "nopointer", "value": 0}], "not a JSON pointer"),
])
def test_apply_patch_refuses_like_evanphx_v4(ops, reason):
    with pytest.raises(fed.PatchError) as info:
        fed.apply_patch(DOC, ops)
    assert reason in str(info.value)
    assert info.value.index == 0


# Outcomes of the real evanphx/json-patch v4.11.0 (kubefed v0.8.1's go.mod), recorded by applying each
# override to GO_DOC as kubefed does (util.ApplyJSONPatch: op "" -> replace, value omitted when null).
# None = the library refuses it (or panics: replace at a negative index).
GO_DOC = {"metadata": {"name": "x", "labels": {"a": "1"}},
          "spec": {"list": [1, 2, 3], "obj": {"k": "v"}, "n": None, "s": "str"}}
GO_VECTORS = [
    ({"op": "replace", "path": "/metadata/annotations/x", "value": "y"}, None),
    ({"op": "replace", "path": "/metadata/labels/b", "value": "2"}, ("metadata", "labels", {"a": "1", "b": "2"})),
    ({"path": "/spec/obj/new", "value": 1}, ("spec", "obj", {"k": "v", "new": 1})),
    ({"op": "add", "path": "/spec/list/3", "value": 4}, ("spec", "list", [1, 2, 3, 4])),
    ({"op": "add", "path": "/spec/list/4", "value": 4}, None),
    ({"op": "add", "path": "/spec/list/-", "value": 4}, ("spec", "list", [1, 2, 3, 4])),
    ({"op": "add", "path": "/spec/list/-4", "value": 0}, ("spec", "list", [0, 1, 2, 3])),
    ({"op": "add", "path": "/spec/list/-5", "value": 0}, None),
    ({"op": "replace", "path": "/spec/list/-1", "value": 0}, None),
    ({"op": "replace", "path": "/spec/list/3", "value": 0}, None),
    ({"op": "replace", "path": "/spec/list/2", "value": 0}, ("spec", "list", [1, 2, 0])),
    ({"op": "remove", "path": "/spec/list/-1"}, ("spec", "list", [1, 2])),
    ({"op": "remove", "path": "/spec/list/-3"}, ("spec", "list", [2, 3])),
    ({"op": "remove", "path": "/spec/list/-4"}, None),
    ({"op": "remove", "path": "/spec/list/3"}, None),
    ({"op": "remove", "path": "/spec/obj/missing"}, None),
    ({"op": "remove", "path": "/spec/obj"}, ("spec", {"list": [1, 2, 3], "n": None, "s": "str"})),
    ({"op": "add", "path": "/spec/s/x", "value": 1}, None),
    ({"op": "add", "path": "/spec/n/x", "value": 1}, None),
    ({"op": "replace", "path": "/spec/list/1/x", "value": 1}, None),
    ({"op": "replace", "path": "/spec/obj/k"}, ("spec", "obj", {"k": None})),
    ({"op": "add", "path": "/", "value": 1}, ("", 1)),
    ({"op": "replace", "path": "spec/obj", "value": 1}, ("obj", 1)),       # first piece ignored; checks refuse it
    ({"op": "replace", "path": "/spec/list/01", "value": 9}, ("spec", "list", [1, 9, 3])),
    ({"op": "replace", "path": "/spec/list/ 1", "value": 9}, None),
    ({"op": "add", "path": "/spec/obj/a~1b~0c", "value": 1}, ("spec", "obj", {"a/b~c": 1, "k": "v"})),
]


@pytest.mark.parametrize("operation,expected", GO_VECTORS,
                         ids=["%s %s" % (v[0].get("op", ""), v[0]["path"]) for v in GO_VECTORS])
def test_apply_patch_matches_the_real_evanphx_v4(operation, expected):
    if expected is None:
        with pytest.raises(fed.PatchError):
            fed.apply_patch(GO_DOC, [operation])
        return
    node = fed.apply_patch(GO_DOC, [operation])
    for key in expected[:-1]:
        node = node[key]
    assert node == expected[-1]


def test_apply_patch_is_all_or_nothing_and_names_the_failing_override():
    ops = [{"op": "replace", "path": "/metadata/labels/a", "value": "2"},
           {"op": "replace", "path": "/nope/x", "value": 1}]
    doc = copy.deepcopy(DOC)
    with pytest.raises(fed.PatchError) as info:
        fed.apply_patch(doc, ops)
    assert info.value.index == 1 and info.value.path == "/nope/x"
    assert doc == DOC


def test_pointer_escapes_and_splits_like_rfc6901():
    assert fed.pointer("metadata", "annotations", "kubesphere.io/x~y") == "/metadata/annotations/kubesphere.io~1x~0y"
    assert fed.pointer_tokens("/metadata/annotations/kubesphere.io~1x~0y") == \
        ["metadata", "annotations", "kubesphere.io/x~y"]
    assert fed.is_pointer("/a") and not fed.is_pointer("a/b") and not fed.is_pointer("") and not fed.is_pointer(3)


# ---------------------------------------------------------------- FederatedTypeConfig

def test_federated_types_from_an_ftc():
    types = fed.federated_types(FTC_DEPLOYMENT)
    assert types["enabled"] is True
    assert (types["federated"]["apiVersion"], types["federated"]["kind"]) == \
        ("types.kubefed.io/v1beta1", "FederatedDeployment")
    assert (types["target"]["apiVersion"], types["target"]["kind"], types["target"]["plural"]) == \
        ("apps/v1", "Deployment", "deployments")
    assert fed.federated_types(FTC_CONFIGMAP)["target"]["apiVersion"] == "v1"


def test_ftc_target_group_defaults_from_its_name_as_kubefed_does():
    types = fed.federated_types(FTC_WORKSPACE)
    assert types["target"]["apiVersion"] == "tenant.kubesphere.io/v1alpha1"
    assert types["target"]["namespaced"] is False
    assert fed.find_ftc([FTC_CONFIGMAP, FTC_WORKSPACE], "tenant.kubesphere.io/v1alpha1", "Workspace") is FTC_WORKSPACE


def test_find_ftc_matches_group_and_kind():
    ftcs = [FTC_CONFIGMAP, FTC_DEPLOYMENT]
    assert fed.find_ftc(ftcs, "apps/v1", "Deployment") is FTC_DEPLOYMENT
    assert fed.find_ftc(ftcs, "v1", "ConfigMap") is FTC_CONFIGMAP
    assert fed.find_ftc(ftcs, "extensions/v1beta1", "Deployment") is None
    assert fed.find_ftc(ftcs, "batch/v1", "CronJob") is None


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
                    types = fed.federated_types(doc)
                    kinds[types["target"]["kind"]] = (types["target"]["apiVersion"], types["federated"]["kind"])
    assert kinds["Deployment"] == ("apps/v1", "FederatedDeployment")
    assert kinds["Secret"] == ("v1", "FederatedSecret")
    assert kinds["Namespace"] == ("v1", "FederatedNamespace")
    assert kinds["Workspace"] == ("tenant.kubesphere.io/v1alpha1", "FederatedWorkspace")


# ---------------------------------------------------------------- overrides from settings

def test_settings_become_overrides_sorted_by_path():
    template = fed.template_of(deployment(), "apps/v1")
    entries = fed.cluster_overrides("Deployment", template, {
        "replicas": 2, "image": {"app": "nginx:1.25", "init": "busybox:2"},
        "env": {"app": {"B": "x", "A": 2}},
        "resources": {"sidecar": {"limits": {"cpu": "100m"}}},
        "ports": {"app": [{"name": "http", "containerPort": 8080}]},
        "overrides": [{"path": "/spec/template/spec/nodeSelector", "op": "add", "value": {"disk": "ssd"}},
                      {"path": "/spec/paused", "op": "remove", "value": "ignored"}],
    })
    assert entries == [
        {"op": "remove", "path": "/spec/paused"},
        {"op": "replace", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/template/spec/containers/0/env",
         "value": [{"name": "A", "value": "2"}, {"name": "B", "value": "x"}]},
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.25"},
        {"op": "replace", "path": "/spec/template/spec/containers/0/ports",
         "value": [{"name": "http", "containerPort": 8080}]},
        {"op": "replace", "path": "/spec/template/spec/containers/1/resources", "value": {"limits": {"cpu": "100m"}}},
        {"op": "replace", "path": "/spec/template/spec/initContainers/0/image", "value": "busybox:2"},
        {"op": "add", "path": "/spec/template/spec/nodeSelector", "value": {"disk": "ssd"}},
    ]


def test_env_value_from_and_booleans():
    template = fed.template_of(deployment(), "apps/v1")
    [entry] = fed.cluster_overrides("Deployment", template, {"env": {"app": {
        "DEBUG": True, "TOKEN": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "t"}}}}}})
    assert entry["value"] == [{"name": "A", "value": "1"}, {"name": "DEBUG", "value": "true"},
                              {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "t"}}}]


def test_cronjob_containers_are_found_under_the_job_template():
    cron = {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {
        "containers": [{"name": "c", "image": "a"}]}}}}}}
    [entry] = fed.cluster_overrides("CronJob", cron, {"image": {"c": "b"}})
    assert entry["path"] == "/spec/jobTemplate/spec/template/spec/containers/0/image"


def test_unknown_container_is_an_error():
    with pytest.raises(fed.FederationError):
        fed.cluster_overrides("Deployment", fed.template_of(deployment()), {"image": {"nope": "x"}})
    with pytest.raises(fed.FederationError):
        fed.cluster_overrides("Service", {"spec": {}}, {"data": {"k": "v"}})


def test_configmap_data_keys_per_key_or_whole_when_the_template_has_none():
    assert fed.cluster_overrides("ConfigMap", {"data": {"a": "1"}}, {"data": {"b": 2, "a": "x"}}) == [
        {"op": "replace", "path": "/data/a", "value": "x"}, {"op": "replace", "path": "/data/b", "value": "2"}]
    assert fed.cluster_overrides("ConfigMap", {}, {"data": {"a": "x"}}) == [
        {"op": "replace", "path": "/data", "value": {"a": "x"}}]


def test_secret_data_is_base64_encoded():
    [entry] = fed.cluster_overrides("Secret", {"data": {"password": "eA=="}}, {"data": {"password": "s3cret"}})
    assert entry == {"op": "replace", "path": "/data/password", "value": base64.b64encode(b"s3cret").decode()}


def test_service_ports_are_the_whole_list():
    ports = [{"name": "http", "port": 80, "targetPort": 8080}]
    assert fed.cluster_overrides("Service", {"spec": {"ports": []}}, {"ports": ports}) == [
        {"op": "replace", "path": "/spec/ports", "value": ports}]


# ---------------------------------------------------------------- builders

def test_host_namespace_as_the_console_creates_it():
    assert fed.host_namespace("demo", "ws1") == {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "demo", "labels": {
            "kubesphere.io/workspace": "ws1", "kubesphere.io/kubefed-host-namespace": "true",
            "kubefed.io/managed": "false"}}}
    # the collection's labels never win over the three it must set
    ns = fed.host_namespace("demo", "ws1", labels={"kubefed.io/managed": "true", "team": "a"})
    assert ns["metadata"]["labels"]["kubefed.io/managed"] == "false" and ns["metadata"]["labels"]["team"] == "a"


def test_federated_namespace_as_the_console_writes_it():
    obj = fed.federated_namespace("demo", "ws1", ["member2", "member1", "member1"],
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
    assert fed.federated_namespace("demo", "ws1", [])["spec"] == {
        "template": {"metadata": {"labels": {"kubesphere.io/workspace": "ws1"}}},
        "placement": {"clusters": []}, "overrides": []}


def test_workspace_template_and_adding_a_cluster():
    wt = fed.workspace_template("ws1", ["member1"], manager="admin")
    assert wt["apiVersion"] == "tenant.kubesphere.io/v1alpha2"
    assert wt["spec"] == {"template": {"spec": {"manager": "admin"}}, "placement": {"clusters": [{"name": "member1"}]}}
    wt["spec"]["placement"]["clusterSelector"] = {}
    moved = fed.with_placement(wt, ["member2", "member1"])
    assert moved["spec"]["placement"] == {"clusters": [{"name": "member1"}, {"name": "member2"}], "clusterSelector": {}}
    assert wt["spec"]["placement"]["clusters"] == [{"name": "member1"}]


def test_template_of_strips_identity_status_and_annotations():
    manifest = deployment()
    manifest["metadata"]["annotations"] = {"a": "b"}
    manifest["metadata"]["finalizers"] = ["x"]
    template = fed.template_of(manifest, "apps/v1")
    assert "apiVersion" not in template and "kind" not in template and "status" not in template
    assert template["metadata"] == {"labels": {"app": "web"}}
    assert manifest["metadata"]["name"] == "web"          # input untouched
    # a different version of the target stays in the template (kubefed then uses it)
    assert fed.template_of(dict(manifest, apiVersion="apps/v1beta2"), "apps/v1")["apiVersion"] == "apps/v1beta2"


def test_secret_string_data_is_folded_into_data():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "demo"},
              "type": "Opaque", "data": {"a": "YQ=="}, "stringData": {"b": "bee", "a": "ay"}}
    template = fed.template_of(secret, "v1")
    assert template == {"type": "Opaque", "data": {"a": base64.b64encode(b"ay").decode(),
                                                   "b": base64.b64encode(b"bee").decode()}}


def test_federated_deployment_with_counts_drops_zero_clusters():
    settings = {"member1": {"replicas": 2, "image": {"app": "nginx:1.25"}}, "member2": {"replicas": 0}}
    obj = fed.federated_object(deployment(), FTC_DEPLOYMENT, ["member1", "member2", "host"], settings)
    assert obj["apiVersion"] == "types.kubefed.io/v1beta1" and obj["kind"] == "FederatedDeployment"
    assert obj["metadata"] == {"name": "web", "namespace": "demo", "labels": {"app": "web"}}
    assert obj["spec"]["placement"] == {"clusters": [{"name": "host"}, {"name": "member1"}]}
    assert obj["spec"]["overrides"] == [{"clusterName": "member1", "clusterOverrides": [
        {"op": "replace", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.25"}]}]
    assert obj["spec"]["template"]["spec"]["replicas"] == 1
    assert "retainReplicas" not in obj["spec"]
    assert fed.federated_object(deployment(), FTC_DEPLOYMENT, ["m"], retain_replicas=True)["spec"]["retainReplicas"]


def test_annotations_stay_on_the_federated_object_unless_mirrored():
    manifest = deployment()
    manifest["metadata"]["annotations"] = {"kubesphere.io/description": "d"}
    obj = fed.federated_object(manifest, FTC_DEPLOYMENT, ["member1"])
    assert obj["metadata"]["annotations"] == {"kubesphere.io/description": "d"}
    assert obj["spec"]["overrides"] == []
    mirrored = fed.federated_object(manifest, FTC_DEPLOYMENT, ["member1"], mirror_annotations=True)
    assert mirrored["spec"]["overrides"][0]["clusterOverrides"] == [
        {"op": "replace", "path": "/metadata/annotations", "value": {"kubesphere.io/description": "d"}}]


def test_cluster_scoped_federated_object_has_no_namespace():
    ws = {"apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace", "metadata": {"name": "ws1"},
          "spec": {"manager": "admin"}}
    obj = fed.federated_object(ws, FTC_WORKSPACE, ["member1"])
    assert obj["kind"] == "FederatedWorkspace" and obj["metadata"] == {"name": "ws1"}
    assert obj["spec"]["template"] == {"spec": {"manager": "admin"}}


def test_rsp_shape_that_works_with_console_style_placement():
    rsp = fed.replica_scheduling_preference("web", "demo", 10, {"member2": 3, "member1": 1},
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
    norm = fed.normalize_federated(LIVE)
    assert norm["spec"]["placement"]["clusters"] == [{"name": "member1"}, {"name": "member2"}]
    assert norm["spec"]["overrides"] == [
        {"clusterName": "member1", "clusterOverrides": [{"op": "replace", "path": "/spec/replicas", "value": 2}]},
        {"clusterName": "member2", "clusterOverrides": [{"op": "replace", "path": "/data/a", "value": "x"},
                                                        {"op": "replace", "path": "/spec/replicas", "value": 8}]}]
    assert [c["name"] for c in norm["status"]["clusters"]] == ["member1", "member2"]
    shuffled = copy.deepcopy(LIVE)
    shuffled["spec"]["overrides"].reverse()
    shuffled["spec"]["placement"]["clusters"].reverse()
    assert fed.normalize_federated(shuffled) == norm
    assert LIVE["spec"]["placement"]["clusters"][0] == {"name": "member2"}   # input untouched


def test_a_second_build_compares_equal_to_what_kubefed_rewrote():
    settings = {"member1": {"replicas": 2}, "member2": {"replicas": 3, "image": {"app": "nginx:1.25"}}}
    built = fed.federated_object(deployment(), FTC_DEPLOYMENT, ["member1", "member2"], settings)
    rewritten = copy.deepcopy(built)
    rewritten["spec"]["overrides"].reverse()
    for entry in rewritten["spec"]["overrides"]:
        for item in entry["clusterOverrides"]:
            item.pop("op")          # kubefed's RSP plugin writes overrides without op
    rewritten["spec"]["placement"]["clusters"].reverse()
    assert fed.normalize_federated(rewritten) == fed.normalize_federated(built)
    settings["member2"].pop("image")
    assert fed.normalize_federated(rewritten) != fed.normalize_federated(
        fed.federated_object(deployment(), FTC_DEPLOYMENT, ["member1", "member2"], settings))


def test_weight_mode_ignores_and_keeps_what_the_rsp_owns():
    desired = fed.federated_object(deployment(), FTC_DEPLOYMENT, ["member1", "member2"],
                                   {"member2": {"image": {"app": "nginx:1.25"}}})
    live = copy.deepcopy(desired)
    live["spec"]["placement"]["clusters"] = [{"name": "member2"}, {"name": "host"}, {"name": "member1"}]
    live["spec"]["overrides"] = [
        {"clusterName": "member2", "clusterOverrides": [
            {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.25"},
            {"path": "/spec/replicas", "value": 8}]},
        {"clusterName": "member1", "clusterOverrides": [{"path": "/spec/replicas", "value": 2}]},
        {"clusterName": "host", "clusterOverrides": [{"path": "/spec/replicas", "value": 0}]}]
    assert fed.without_rsp_owned(live) == fed.without_rsp_owned(desired)
    kept = fed.keep_rsp_owned(desired, live)
    assert kept == fed.normalize_federated(live)
    changed = fed.federated_object(deployment(), FTC_DEPLOYMENT, ["member1", "member2"], {})
    assert fed.without_rsp_owned(live) != fed.without_rsp_owned(changed)
    kept = fed.keep_rsp_owned(changed, live)
    assert kept["spec"]["overrides"][1] == {"clusterName": "member1", "clusterOverrides": [
        {"op": "replace", "path": "/spec/replicas", "value": 2}]}
    assert all(i["path"] == "/spec/replicas" for e in kept["spec"]["overrides"] for i in e["clusterOverrides"])


# ---------------------------------------------------------------- comparable, masking, deletion

def test_comparable_ignores_status_kubefed_finalizer_and_server_fields():
    built = fed.federated_object(deployment(), FTC_DEPLOYMENT, ["member1", "member2"], {"member1": {"replicas": 2}})
    live = copy.deepcopy(built)
    live["metadata"].update(uid="u", resourceVersion="9", generation=4, finalizers=["kubefed.io/sync-controller"],
                            creationTimestamp="t")
    live["spec"]["placement"]["clusters"].reverse()
    live["status"] = {"conditions": [{"type": "Propagation", "status": "True"}]}
    assert fed.comparable(live) == fed.comparable(built)
    live["metadata"]["labels"]["hand"] = "x"
    assert fed.comparable(live) != fed.comparable(built)
    assert fed.comparable(None) == {}


def test_mask_secret_hides_every_value_but_keeps_keys():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "demo"},
              "stringData": {"password": "hunter2"}}
    ftc_secret = copy.deepcopy(FTC_SECRET)
    obj = fed.federated_object(secret, ftc_secret, ["member1", "member2"], {
        "member1": {"data": {"password": "m1-pass"}},
        "member2": {"overrides": [{"path": "/data", "value": {"password": "cGxhaW4="}},
                                  {"path": "/metadata/labels", "value": {"tier": "db"}}]}})
    masked = fed.mask_secret(obj)
    text = repr(masked)
    for secret_text in ("hunter2", "aHVudGVyMg==", "m1-pass", base64.b64encode(b"m1-pass").decode(), "cGxhaW4="):
        assert secret_text not in text
    assert masked["spec"]["template"]["data"] == {"password": "********"}
    assert masked["spec"]["overrides"][1]["clusterOverrides"] == [
        {"op": "replace", "path": "/data", "value": {"password": "********"}},
        {"op": "replace", "path": "/metadata/labels", "value": {"tier": "db"}}]
    assert "hunter2" not in repr(fed.mask_secret(dict(secret)))
    assert base64.b64decode(obj["spec"]["template"]["data"]["password"]) == b"hunter2"   # input untouched


def test_project_deletion_reports_what_goes_on_each_member():
    kfc = [{"name": "host"}, {"name": "member1"}, {"name": "member2"}]
    fns = fed.federated_namespace("demo", "ws1", ["member1", "member2"])
    cm = fed.federated_object({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "demo"},
                               "data": {"a": "1"}}, FTC_CONFIGMAP, ["member1", "member2"])
    web = fed.federated_object(deployment(), FTC_DEPLOYMENT, ["member2"])
    web["metadata"]["annotations"] = {"kubefed.io/orphan": "true"}
    assert fed.project_deletion("demo", fns, [cm, web], kfc) == {
        "member1": {"removed": ["ConfigMap demo/cfg", "Namespace demo"], "kept": []},
        "member2": {"removed": ["ConfigMap demo/cfg", "Namespace demo"], "kept": ["Deployment demo/web"]}}
