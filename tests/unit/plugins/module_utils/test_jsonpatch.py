"""kubefed's JSON patch (evanphx/json-patch v4.11) and JSON pointers, emulated (pure)."""

import copy

import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import jsonpatch


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
    out = jsonpatch.apply_patch(DOC, ops)
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
    with pytest.raises(jsonpatch.PatchError) as info:
        jsonpatch.apply_patch(DOC, ops)
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
        with pytest.raises(jsonpatch.PatchError):
            jsonpatch.apply_patch(GO_DOC, [operation])
        return
    node = jsonpatch.apply_patch(GO_DOC, [operation])
    for key in expected[:-1]:
        node = node[key]
    assert node == expected[-1]


def test_apply_patch_is_all_or_nothing_and_names_the_failing_override():
    ops = [{"op": "replace", "path": "/metadata/labels/a", "value": "2"},
           {"op": "replace", "path": "/nope/x", "value": 1}]
    doc = copy.deepcopy(DOC)
    with pytest.raises(jsonpatch.PatchError) as info:
        jsonpatch.apply_patch(doc, ops)
    assert info.value.index == 1 and info.value.path == "/nope/x"
    assert doc == DOC


def test_pointer_escapes_and_splits_like_rfc6901():
    assert jsonpatch.pointer("metadata", "annotations", "kubesphere.io/x~y") == "/metadata/annotations/kubesphere.io~1x~0y"
    assert jsonpatch.pointer_tokens("/metadata/annotations/kubesphere.io~1x~0y") == \
        ["metadata", "annotations", "kubesphere.io/x~y"]
    assert jsonpatch.is_pointer("/a") and not jsonpatch.is_pointer("a/b") and not jsonpatch.is_pointer("") and not jsonpatch.is_pointer(3)
