from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects


def test_normalize_drops_what_the_server_owns():
    live = {"apiVersion": "v1", "kind": "ConfigMap", "status": {"x": 1},
            "metadata": {"name": "a", "namespace": "n", "uid": "u", "resourceVersion": "7", "generation": 2,
                         "creationTimestamp": "t", "managedFields": [{}],
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
            "data": {"k": "v"}}
    assert objects.normalize(live) == {"apiVersion": "v1", "kind": "ConfigMap",
                                       "metadata": {"name": "a", "namespace": "n"}, "data": {"k": "v"}}
    assert live["metadata"]["uid"] == "u"  # input untouched
    assert objects.normalize(None) == {}


def test_contains_is_a_subset_test_with_exact_lists():
    existing = {"spec": {"a": 1, "b": {"c": [1, 2]}, "d": "x"}}
    assert objects.contains(existing, {"spec": {"a": 1}})
    assert objects.contains(existing, {"spec": {"b": {"c": [1, 2]}}})
    assert not objects.contains(existing, {"spec": {"b": {"c": [1]}}})
    assert not objects.contains(existing, {"spec": {"a": 2}})
    assert not objects.contains(existing, {"spec": {"z": 1}})
    assert objects.contains(existing, {"spec": {"z": None}})   # None = must be absent
    assert not objects.contains(existing, {"spec": {"d": None}})


def test_merge_follows_json_merge_patch():
    assert objects.merge({"a": {"b": 1, "c": 2}}, {"a": {"b": None, "d": 3}}) == {"a": {"c": 2, "d": 3}}
    assert objects.merge({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}


def test_get_path():
    obj = {"a": {"b": {"c": 3}}}
    assert objects.get_path(obj, "a.b.c") == 3
    assert objects.get_path(obj, ("a", "b")) == {"c": 3}
    assert objects.get_path(obj, "a.x.c", "dflt") == "dflt"


def test_mask_hides_values_at_paths_and_wildcards():
    obj = {"spec": {"authentication": {"jwtSecret": "s3cr3t"}}, "data": {"k1": "v1", "k2": ""}}
    masked = objects.mask(obj, [("spec", "authentication", "jwtSecret"), ("data", "*"), ("no", "such")])
    assert masked["spec"]["authentication"]["jwtSecret"] == objects.MASK
    assert masked["data"] == {"k1": objects.MASK, "k2": ""}
    assert obj["spec"]["authentication"]["jwtSecret"] == "s3cr3t"


def test_diff_is_normalized_and_masked():
    before = {"metadata": {"name": "a", "uid": "u"}, "spec": {"s": "old"}}
    after = {"metadata": {"name": "a", "uid": "u"}, "spec": {"s": "new"}}
    d = objects.diff(before, after, [("spec", "s")])
    assert d == {"before": {"metadata": {"name": "a"}, "spec": {"s": objects.MASK}},
                 "after": {"metadata": {"name": "a"}, "spec": {"s": objects.MASK}}}
