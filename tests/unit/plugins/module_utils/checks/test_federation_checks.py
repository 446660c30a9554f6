"""Checks before writing multi-cluster projects and federated resources: one code and message per bad input."""

import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import PROBLEM_KEYS, codes
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import federation as checks

SUBJECT = "FederatedDeployment demo/web"
FTC = {"metadata": {"name": "deployments.apps"},
       "spec": {"federatedType": {"group": "types.kubefed.io", "kind": "FederatedDeployment", "scope": "Namespaced",
                                  "version": "v1beta1"},
                "propagation": "Enabled",
                "targetType": {"group": "apps", "kind": "Deployment", "scope": "Namespaced", "version": "v1"}}}
TARGET = federated.federated_types(FTC)["target"]
MANIFEST = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "demo"},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "app", "image": "nginx"}]}}}}


def shaped(problems):
    for p in problems:
        assert tuple(sorted(p)) == tuple(sorted(PROBLEM_KEYS))
        assert p["message"]
    return problems


def fed_with(overrides):
    obj = federated.federated_object(MANIFEST, FTC, ["member1", "member2"])
    obj["spec"]["overrides"] = overrides
    return obj


# ---------------------------------------------------------------- replicas and weights

@pytest.mark.parametrize("value,code", [(-1, "replicas_invalid"), (1.5, "replicas_invalid"), ("2", "replicas_invalid"),
                                        (True, "replicas_invalid")])
def test_bad_replicas(value, code):
    problems = shaped(checks.replicas(SUBJECT, {"member1": {"replicas": value}, "member2": {"replicas": 0}}))
    assert codes(problems) == [code]
    assert problems[0]["cluster"] == "member1"
    assert "member1" in problems[0]["message"] and SUBJECT in problems[0]["message"]


def test_good_replicas():
    assert checks.replicas(SUBJECT, {"member1": {"replicas": 0}, "member2": {"replicas": 4}, "m3": {}}) == []


def test_weights_good():
    assert checks.weights(SUBJECT, 10, {"member1": 1, "member2": 3}, {"member1": 1}, {"member1": 5}) == []


@pytest.mark.parametrize("total,weights,low,high,expected", [
    (-1, {"a": 1}, None, None, ["replicas_total_invalid"]),
    (2.5, {"a": 1}, None, None, ["replicas_total_invalid"]),
    (10, {}, None, None, ["weights_missing"]),
    (10, {"a": -1, "b": 1}, None, None, ["weight_invalid"]),
    (10, {"a": "x"}, None, None, ["weight_invalid"]),
    (10, {"a": 0, "b": 0}, None, None, ["weights_all_zero"]),
    (10, {"a": 1}, {"a": 5}, {"a": 2}, ["replicas_min_above_max"]),
    (10, {"a": 1}, {"a": -1}, None, ["replicas_bound_invalid"]),
    (10, {"a": 1}, None, {"z": 3}, ["replicas_bound_without_weight"]),
])
def test_bad_weights(total, weights, low, high, expected):
    assert codes(shaped(checks.weights(SUBJECT, total, weights, low, high))) == expected


def test_weight_mode_rules():
    assert checks.weight_mode(SUBJECT, "Deployment", ["m1", "m2"], {"m1": 1, "m2": 1}, {}) == []
    assert codes(checks.weight_mode(SUBJECT, "StatefulSet", ["m1"], {"m1": 1}, {})) == ["rsp_kind_unsupported"]
    assert codes(checks.weight_mode(SUBJECT, "Deployment", ["m1"], {"m1": 1, "m9": 1}, {})) == \
        ["weight_cluster_not_placed"]
    assert codes(checks.weight_mode(SUBJECT, "Deployment", ["m1"], {"m1": 1}, {"m1": {"replicas": 2}})) == \
        ["replicas_count_and_weight"]


# ---------------------------------------------------------------- overrides

def test_good_overrides_pass():
    obj = federated.federated_object(MANIFEST, FTC, ["member1"], {"member1": {
        "replicas": 2, "image": {"app": "nginx:2"},
        "overrides": [{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}},
                      {"path": "/spec/template/spec/nodeSelector", "value": {"disk": "ssd"}}]}})
    assert checks.overrides(SUBJECT, obj, TARGET) == []


@pytest.mark.parametrize("path", ["/metadata/name", "/metadata/namespace", "/metadata/generateName", "/kind"])
def test_forbidden_paths(path):
    problems = shaped(checks.overrides(SUBJECT, fed_with([
        {"clusterName": "member1", "clusterOverrides": [{"path": path, "value": "x"}]}]), TARGET))
    assert codes(problems) == ["override_path_forbidden"]
    assert problems[0]["cluster"] == "member1"
    assert path in problems[0]["message"] and SUBJECT in problems[0]["message"]


def test_api_version_may_be_overridden_as_kubefed_allows():
    assert checks.overrides(SUBJECT, fed_with([
        {"clusterName": "member1", "clusterOverrides": [{"path": "/apiVersion", "value": "apps/v1"}]}]), TARGET) == []


@pytest.mark.parametrize("items,expected", [
    ([{"op": "move", "path": "/spec/replicas"}], ["override_op_invalid"]),
    ([{"op": "replace", "path": "spec/replicas", "value": 1}], ["override_path_invalid"]),
    ([{"path": "", "value": 1}], ["override_path_invalid"]),
    ([{"path": "/spec/replicas", "value": 1}, {"path": "/spec/replicas", "value": 2}], ["override_path_duplicate"]),
    ([{"path": "/spec/template/spec", "value": {}}, {"path": "/spec/template/spec/hostname", "value": "x"}],
     ["override_path_nested"]),
    # evanphx v4 semantics against the object kubefed creates
    ([{"op": "replace", "path": "/metadata/annotations/x", "value": "y"}], ["override_does_not_apply"]),
    ([{"op": "replace", "path": "/spec/template/spec/containers/1/image", "value": "y"}], ["override_does_not_apply"]),
    ([{"op": "remove", "path": "/spec/paused"}], ["override_does_not_apply"]),
])
def test_bad_overrides(items, expected):
    problems = shaped(checks.overrides(SUBJECT, fed_with([{"clusterName": "member2", "clusterOverrides": items}]),
                                       TARGET))
    assert codes(problems) == expected
    assert all(p["cluster"] == "member2" for p in problems)


def test_replace_of_a_missing_key_is_fine():
    assert checks.overrides(SUBJECT, fed_with([{"clusterName": "member1", "clusterOverrides": [
        {"op": "replace", "path": "/spec/paused", "value": True},
        {"op": "replace", "path": "/spec/template/spec/containers/0/resources", "value": {}}]}]), TARGET) == []


def test_a_cluster_twice_stops_everything_as_kubefed_cannot_read_the_overrides():
    problems = checks.overrides(SUBJECT, fed_with([
        {"clusterName": "member1", "clusterOverrides": [{"path": "/spec/replicas", "value": 1}]},
        {"clusterName": "member1", "clusterOverrides": []},
        {"clusterName": "member2", "clusterOverrides": [{"path": "/status/x", "value": 1}]}]), TARGET)
    assert codes(problems) == ["override_cluster_duplicate"]


def test_the_failing_override_is_named_for_each_cluster():
    problems = checks.overrides(SUBJECT, fed_with([
        {"clusterName": "member1", "clusterOverrides": [{"path": "/metadata/labels/x", "value": "1"}]},
        {"clusterName": "member2", "clusterOverrides": [
            {"path": "/spec/replicas", "value": 1}, {"path": "/status/x", "value": 1}]}]), TARGET)
    assert [(p["cluster"], p["code"]) for p in problems] == [
        ("member1", "override_does_not_apply"), ("member2", "override_does_not_apply")]
    assert "override[0] /metadata/labels/x" in problems[0]["message"]     # no labels in the template
    assert "override[1] /status/x" in problems[1]["message"]


# ---------------------------------------------------------------- settings

def test_settings_problems():
    template = federated.template_of(MANIFEST, "apps/v1")
    assert checks.settings(SUBJECT, "Deployment", template, ["member1"], {"member1": {"image": {"app": "x"}}}) == []
    problems = shaped(checks.settings(SUBJECT, "Deployment", template, ["member1"], {
        "member1": {"image": {"nope": "x"}, "colour": "red", "data": {"k": "v"}},
        "member9": {"replicas": 1},
    }))
    assert codes(problems) == ["setting_unknown", "setting_not_applicable", "setting_unknown_container",
                               "setting_cluster_not_placed"]
    assert codes(checks.settings(SUBJECT, "ConfigMap", {}, ["m"], {"m": {"replicas": 1, "image": {"a": "b"}}})) == \
        ["setting_not_applicable", "setting_not_applicable"]
    assert codes(checks.settings(SUBJECT, "Service", {}, ["m"], {"m": {"ports": {"a": []}}})) == ["setting_invalid"]
    assert codes(checks.settings(SUBJECT, "Deployment", template, ["m"], {"m": {"overrides": [{"op": "add"}]}})) == \
        ["setting_invalid"]


def test_template_finalizers_are_refused():
    manifest = dict(MANIFEST, metadata={"name": "web", "finalizers": ["x"]})
    assert codes(checks.template(SUBJECT, manifest)) == ["template_finalizers"]
    assert checks.template(SUBJECT, MANIFEST) == []


# ---------------------------------------------------------------- clusters, types, versions

MEMBERS = [
    {"name": "host", "ready": True, "kubefed_ready": True, "offline": False},
    {"name": "member1", "ready": True, "kubefed_ready": True, "offline": False},
    {"name": "member2", "ready": True, "kubefed_ready": False, "offline": True},
    {"name": "member3", "ready": True, "kubefed_ready": False, "offline": False},
    {"name": "member4", "ready": False, "kubefed_ready": True, "offline": False},
]


def test_clusters_must_be_ready_members_for_kubefed():
    assert checks.clusters(SUBJECT, ["member1", "host"], MEMBERS) == []
    problems = shaped(checks.clusters(SUBJECT, ["member2", "member3", "member4", "ghost"], MEMBERS))
    assert [(p["cluster"], p["code"]) for p in problems] == [
        ("ghost", "cluster_not_member"), ("member2", "cluster_offline"),
        ("member3", "cluster_kubefed_not_ready"), ("member4", "cluster_not_ready")]
    assert "member1" in problems[0]["message"]       # lists the members


def test_project_clusters():
    assert checks.project_clusters(SUBJECT, ["member1"], ["member1", "member2"]) == []
    assert codes(checks.project_clusters(SUBJECT, ["member1", "member3"], ["member1"])) == ["cluster_not_in_project"]


def test_federated_type():
    assert checks.federated_type(SUBJECT, "apps/v1", "Deployment", [FTC]) == []
    problems = shaped(checks.federated_type(SUBJECT, "batch/v1", "CronJob", [FTC]))
    assert codes(problems) == ["federated_type_missing"] and "CronJob" in problems[0]["message"]
    disabled = {"metadata": FTC["metadata"], "spec": dict(FTC["spec"], propagation="Disabled")}
    assert codes(checks.federated_type(SUBJECT, "apps/v1", "Deployment", [disabled])) == ["federated_type_disabled"]


def test_served_versions():
    served = {"member1": ["v1", "apps/v1"], "member2": ["v1"]}
    assert checks.served(SUBJECT, "apps/v1", ["member1", "member3"], served) == []
    problems = shaped(checks.served(SUBJECT, "apps/v1", ["member1", "member2"], served))
    assert [(p["cluster"], p["code"]) for p in problems] == [("member2", "api_not_served")]


def test_every_ready_member_must_serve_the_version_even_unplaced():
    """kubefed's sync controller of a kind waits until its informer synced on every Ready KubeFedCluster."""
    served = {"member1": ["v1", "example.com/v1"], "member2": ["v1"], "member3": ["v1", "example.com/v1"]}
    problems = shaped(checks.served(SUBJECT, "example.com/v1", ["member1"], served,
                                    ready_members=["host", "member1", "member2", "member3"]))
    assert [(p["cluster"], p["code"]) for p in problems] == [("member2", "api_not_served_by_member")]
    assert "every Ready member" in problems[0]["message"]
    # placed and not served: the placed code only, once
    problems = checks.served(SUBJECT, "example.com/v1", ["member1", "member2"], served,
                             ready_members=["member1", "member2"])
    assert [(p["cluster"], p["code"]) for p in problems] == [("member2", "api_not_served")]
    # a member that is not Ready for kubefed does not block kubefed; one without facts is not judged
    assert checks.served(SUBJECT, "example.com/v1", ["member1"], served, ready_members=["member1"]) == []
    assert checks.served(SUBJECT, "example.com/v1", ["member1"], {"member1": served["member1"]},
                         ready_members=["member1", "member2"]) == []


def test_a_raw_override_of_a_path_a_setting_writes_is_refused():
    obj = federated.federated_object(MANIFEST, FTC, ["member1"], {"member1": {
        "replicas": 2, "overrides": [{"path": "/spec/replicas", "value": 5}]}})
    problems = checks.overrides(SUBJECT, obj, TARGET)
    assert codes(problems) == ["override_path_duplicate"] and problems[0]["cluster"] == "member1"


def test_workspace_clusters_and_typed_confirmation():
    assert checks.workspace_clusters("project demo", ["member1"], ["member1", "member2"]) == []
    problems = shaped(checks.workspace_clusters("project demo", ["member1", "member3"], ["member1"]))
    assert [(p["cluster"], p["code"]) for p in problems] == [("member3", "cluster_not_in_workspace")]
    assert checks.deletion_confirmed("project demo", "demo", "demo") == []
    for typed in (None, "", "Demo", "demo "):
        problems = shaped(checks.deletion_confirmed("project demo", "demo", typed))
        assert codes(problems) == ["confirmation_mismatch"] and "'demo'" in problems[0]["message"]
