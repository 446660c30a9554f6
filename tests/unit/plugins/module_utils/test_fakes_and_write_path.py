"""The one fake connection keeps Connection's exact contract, and the one write path's decision table
(_k8s.ensure_object): create, unchanged, patch, apply (owned objects), check mode, masking."""

import inspect

from fakes import FakeConnection

from ansible_collections.kubesphere.multicluster.plugins.module_utils import _k8s

MASK = "********"


def public(cls):
    return {n: m for n, m in vars(cls).items() if not n.startswith("_") and (callable(m) or isinstance(m, property))}


def test_the_fake_has_exactly_the_connections_public_methods_and_signatures():
    real, fake = public(_k8s.Connection), public(FakeConnection)
    extra_helpers = {"objects_of", "writes", "CORE"}
    assert set(real) == set(fake) - extra_helpers
    for name, method in real.items():
        if isinstance(method, property):
            assert isinstance(fake[name], property), name
            continue
        assert inspect.signature(method) == inspect.signature(fake[name]), name
    assert inspect.signature(_k8s.Connection.__init__).parameters.keys() <= \
        inspect.signature(FakeConnection.__init__).parameters.keys()


def secret(value, extra=None):
    data = {"token": value}
    data.update(extra or {})
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"}, "stringData": data}


def cm(data, labels=None):
    meta = {"name": "c", "namespace": "default"}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def test_create_then_unchanged():
    conn = FakeConnection(label="m1")
    r = _k8s.ensure_object(conn, cm({"a": "1"}))
    assert (r["changed"], r["method"], r["before"]) == (True, "create", {})
    assert conn.get("v1", "ConfigMap", "c", "default")["data"] == {"a": "1"}
    again = _k8s.ensure_object(conn, cm({"a": "1"}))
    assert (again["changed"], again["method"]) == (False, "none")
    assert [c[0] for c in conn.writes()] == ["create"]


def test_patch_only_what_differs_and_keep_other_fields():
    conn = FakeConnection(label="m1", objects=[cm({"a": "1", "other": "kept"})])
    r = _k8s.ensure_object(conn, cm({"a": "2"}))
    assert (r["changed"], r["method"]) == (True, "patch")
    assert conn.get("v1", "ConfigMap", "c", "default")["data"] == {"a": "2", "other": "kept"}
    assert r["diff"]["before"]["data"]["a"] == "1" and r["diff"]["after"]["data"]["a"] == "2"


def test_check_mode_writes_nothing_but_predicts():
    conn = FakeConnection(label="m1", objects=[cm({"a": "1"})])
    r = _k8s.ensure_object(conn, cm({"a": "2"}), check_mode=True)
    assert (r["changed"], r["method"]) == (True, "patch") and r["after"]["data"]["a"] == "2"
    assert conn.get("v1", "ConfigMap", "c", "default")["data"] == {"a": "1"}
    created = _k8s.ensure_object(FakeConnection(label="m1"), cm({"a": "1"}), check_mode=True)
    assert created["method"] == "create"
    assert all(call[1][-1] is True for call in conn.writes())  # every write was a dry run


def test_secrets_are_masked_in_before_after_and_diff():
    conn = FakeConnection(label="m1", objects=[secret("old-secret-value")])
    r = _k8s.ensure_object(conn, secret("new-secret-value"), secret_paths=[("stringData", "*")])
    assert r["changed"] and r["method"] == "patch"
    assert "old-secret-value" not in repr(r) and "new-secret-value" not in repr(r)
    assert r["after"]["stringData"]["token"] == MASK and r["diff"]["before"]["stringData"]["token"] == MASK


def test_owned_objects_are_applied_whole_so_dropped_fields_go():
    conn = FakeConnection(label="m1", objects=[cm({"a": "1", "dropped": "x"}, labels={"old": "y"})])
    merged = _k8s.ensure_object(conn, cm({"a": "1"}))
    assert merged["method"] == "none"  # merge semantics: a subset is already true
    r = _k8s.ensure_object(conn, cm({"a": "1"}), owned=True)
    assert (r["changed"], r["method"]) == (True, "apply")
    stored = conn.get("v1", "ConfigMap", "c", "default")
    assert stored["data"] == {"a": "1"} and "labels" not in stored["metadata"]
    again = _k8s.ensure_object(conn, cm({"a": "1"}), owned=True)
    assert (again["changed"], again["method"]) == (False, "none")


def test_owned_objects_in_check_mode_write_nothing():
    conn = FakeConnection(label="m1", objects=[cm({"a": "1", "dropped": "x"})])
    r = _k8s.ensure_object(conn, cm({"a": "1"}), check_mode=True, owned=True)
    assert r["changed"] and r["after"]["data"] == {"a": "1"}
    assert conn.get("v1", "ConfigMap", "c", "default")["data"] == {"a": "1", "dropped": "x"}
