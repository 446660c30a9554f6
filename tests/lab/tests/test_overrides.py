"""kubefed override rules (tests/lab/standins/overrides.py), pure: validation of spec.overrides and the
RFC 6902 patch semantics kubefed v0.8.1 inherits from evanphx/json-patch v4.11.0."""

import pytest

from standins.overrides import OverrideError, apply_patch, cluster_overrides, overrides_map

DEPLOY = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "ns", "labels": {"app": "web"}},
    "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "a", "image": "nginx:1"}]}}},
}


def fed(*items):
    return {"spec": {"overrides": list(items)}}


def test_overrides_by_cluster():
    obj = fed({"clusterName": "c1", "clusterOverrides": [{"path": "/spec/replicas", "value": 3}]},
              {"clusterName": "c2"})
    assert overrides_map(obj) == {"c1": [{"path": "/spec/replicas", "value": 3}], "c2": []}
    assert cluster_overrides(obj, "c3") == []
    assert cluster_overrides({"spec": {}}, "c1") == []


@pytest.mark.parametrize("path", ["/metadata/namespace", "/metadata/name", "/metadata/generateName", "/kind"])
def test_forbidden_paths(path):
    with pytest.raises(OverrideError, match="has an invalid path: %s" % path):
        overrides_map(fed({"clusterName": "c1", "clusterOverrides": [{"path": path, "value": "x"}]}))


def test_allowed_neighbours_of_forbidden_paths():
    ops = [{"path": "/metadata/labels", "value": {"a": "b"}}, {"path": "/apiVersion", "value": "apps/v1"}]
    assert overrides_map(fed({"clusterName": "c1", "clusterOverrides": ops}))["c1"] == ops


def test_cluster_only_once():
    with pytest.raises(OverrideError, match='cluster "c1" appears more than once'):
        overrides_map(fed({"clusterName": "c1"}, {"clusterName": "c1"}))


def test_path_once_per_cluster():
    ops = [{"path": "/spec/replicas", "value": 1}, {"path": "/spec/replicas", "op": "add", "value": 2}]
    with pytest.raises(OverrideError, match='path "/spec/replicas" appears more than once for cluster "c1"'):
        overrides_map(fed({"clusterName": "c1", "clusterOverrides": ops}))


def test_same_path_in_two_clusters_is_fine():
    one = [{"path": "/spec/replicas", "value": 1}]
    assert set(overrides_map(fed({"clusterName": "a", "clusterOverrides": one},
                                 {"clusterName": "b", "clusterOverrides": one}))) == {"a", "b"}


def test_op_defaults_to_replace():
    out = apply_patch(DEPLOY, [{"path": "/spec/replicas", "value": 5}])
    assert out["spec"]["replicas"] == 5
    assert DEPLOY["spec"]["replicas"] == 1  # input untouched


def test_replace_nested_array_element():
    out = apply_patch(DEPLOY, [{"path": "/spec/template/spec/containers/0/image", "value": "nginx:2"}])
    assert out["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"


@pytest.mark.parametrize("path", ["/spec/strategy/type", "/status/replicas", "/spec/template/spec/containers/1/image"])
def test_replace_with_missing_parent_fails(path):
    with pytest.raises(OverrideError, match="does not apply"):
        apply_patch(DEPLOY, [{"path": path, "value": "x"}])


def test_replace_array_index_out_of_range_fails():
    with pytest.raises(OverrideError, match="missing key"):
        apply_patch(DEPLOY, [{"op": "replace", "path": "/spec/template/spec/containers/1", "value": {}}])


def test_replace_of_missing_key_in_existing_object_adds_it():
    """evanphx/json-patch v4 (what kubefed v0.8.1 links) does not fail here; the console relies on it for
    its /metadata/annotations overrides."""
    out = apply_patch(DEPLOY, [{"path": "/metadata/annotations", "value": {"a": "1"}}])
    assert out["metadata"]["annotations"] == {"a": "1"}


def test_add_new_key_and_nested():
    out = apply_patch(DEPLOY, [{"op": "add", "path": "/metadata/annotations", "value": {}},
                               {"op": "add", "path": "/metadata/annotations/kubesphere.io~1creator", "value": "me"}])
    assert out["metadata"]["annotations"] == {"kubesphere.io/creator": "me"}


def test_add_needs_parent():
    with pytest.raises(OverrideError, match="add operation does not apply"):
        apply_patch(DEPLOY, [{"op": "add", "path": "/spec/strategy/type", "value": "Recreate"}])


@pytest.mark.parametrize("key,expected", [("0", ["x", "a"]), ("1", ["a", "x"]), ("-", ["a", "x"]), ("-1", ["a", "x"])])
def test_add_to_array(key, expected):
    out = apply_patch({"l": ["a"]}, [{"op": "add", "path": "/l/" + key, "value": "x"}])
    assert out["l"] == expected


@pytest.mark.parametrize("key", ["2", "-3", "x"])
def test_add_to_array_bad_index(key):
    with pytest.raises(OverrideError):
        apply_patch({"l": ["a"]}, [{"op": "add", "path": "/l/" + key, "value": "x"}])


def test_remove():
    out = apply_patch(DEPLOY, [{"op": "remove", "path": "/metadata/labels/app"},
                               {"op": "remove", "path": "/spec/template/spec/containers/0"}])
    assert out["metadata"]["labels"] == {}
    assert out["spec"]["template"]["spec"]["containers"] == []


@pytest.mark.parametrize("path", ["/metadata/labels/nope", "/spec/template/spec/containers/3", "/nope/x"])
def test_remove_missing_fails(path):
    with pytest.raises(OverrideError):
        apply_patch(DEPLOY, [{"op": "remove", "path": path}])


def test_remove_negative_index():
    assert apply_patch({"l": [1, 2, 3]}, [{"op": "remove", "path": "/l/-1"}]) == {"l": [1, 2]}


def test_unknown_op_fails():
    with pytest.raises(OverrideError, match="Unexpected kind: move"):
        apply_patch(DEPLOY, [{"op": "move", "path": "/spec/replicas"}])


def test_path_without_slash_fails():
    with pytest.raises(OverrideError):
        apply_patch(DEPLOY, [{"path": "spec", "value": 1}])


def test_pointer_escapes():
    obj = {"a": {"x/y": 1, "m~n": 2}}
    out = apply_patch(obj, [{"path": "/a/x~1y", "value": 10}, {"path": "/a/m~0n", "value": 20}])
    assert out == {"a": {"x/y": 10, "m~n": 20}}


def test_ops_apply_in_order_and_value_zero_kept():
    out = apply_patch(DEPLOY, [{"op": "add", "path": "/spec/paused", "value": False},
                               {"path": "/spec/replicas", "value": 0}])
    assert out["spec"]["paused"] is False and out["spec"]["replicas"] == 0


def test_null_parent_is_missing():
    with pytest.raises(OverrideError):
        apply_patch({"a": None}, [{"op": "add", "path": "/a/b", "value": 1}])
