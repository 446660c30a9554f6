"""The single kubernetes.core adapter against the lab's real API servers: every write path, check mode
(server-side dry run writes nothing), idempotency, and diffs that never carry a secret."""

import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils import _k8s
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError


class FakeModule:
    """Only what Connection reads from a module: params, and hide() for secrets."""

    def __init__(self, **params):
        self.params = params
        self.hidden = set()

    def hide(self, *secrets):
        self.hidden.update(secrets)


def secret_obj(name, value):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "default"},
            "stringData": {"token": value}}


def cm(name, value):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"},
            "data": {"k": value}}


@pytest.fixture
def conn(lab):
    return _k8s.Connection(FakeModule(kubeconfig=lab.kubeconfig(lab.members[0])), lab.members[0])


def test_create_patch_noop_delete_with_check_mode(conn, kube, lab, unique, cleanup):
    name = "adapter-" + unique
    path = "/api/v1/namespaces/default/configmaps/" + name
    cleanup(lab.members[0], path)
    member = kube(lab.members[0])

    r = _k8s.ensure_object(conn, cm(name, "1"), check_mode=True)
    assert r["changed"] and r["method"] == "create" and r["diff"]["before"] == {}
    assert r["diff"]["after"]["data"] == {"k": "1"}
    assert member.try_get(path) is None                      # check mode wrote nothing

    r = _k8s.ensure_object(conn, cm(name, "1"))
    assert r["changed"] and r["method"] == "create"
    rv = member.get(path)["metadata"]["resourceVersion"]

    r = _k8s.ensure_object(conn, cm(name, "1"))
    assert not r["changed"] and r["method"] == "none"
    assert member.get(path)["metadata"]["resourceVersion"] == rv  # no write at all

    r = _k8s.ensure_object(conn, cm(name, "2"), check_mode=True)
    assert r["changed"] and r["diff"]["before"]["data"] == {"k": "1"} and r["diff"]["after"]["data"] == {"k": "2"}
    assert member.get(path)["data"] == {"k": "1"}

    r = _k8s.ensure_object(conn, cm(name, "2"))
    assert r["changed"] and r["method"] == "patch" and member.get(path)["data"] == {"k": "2"}

    r = _k8s.delete_object(conn, "v1", "ConfigMap", name, "default", check_mode=True)
    assert r["changed"] and r["diff"]["after"] == {} and member.try_get(path) is not None
    r = _k8s.delete_object(conn, "v1", "ConfigMap", name, "default")
    assert r["changed"] and member.try_get(path) is None
    assert not _k8s.delete_object(conn, "v1", "ConfigMap", name, "default")["changed"]


def test_diffs_mask_secret_fields(conn, lab, unique, cleanup):
    name = "adapter-s-" + unique
    cleanup(lab.members[0], "/api/v1/namespaces/default/secrets/" + name)
    r = _k8s.ensure_object(conn, secret_obj(name, "very-secret-value"), secret_paths=[("data", "*"), ("stringData", "*")])
    assert r["changed"]
    assert "very-secret-value" not in repr(r)
    assert "dmVyeS1zZWNyZXQtdmFsdWU=" not in repr(r)          # nor its base64


def test_reads_name_the_cluster_on_errors(lab):
    bad = _k8s.Connection(FakeModule(kubeconfig=lab.kubeconfig(lab.host), context="nope"), "host")
    with pytest.raises(KubeSphereError) as err:
        bad.raw("GET", "/version")
    assert err.value.code == "no_such_context" and err.value.msg.startswith("cluster 'host': the kubeconfig has no such context")
    assert "nope" in err.value.msg


def test_a_kind_the_server_does_not_serve(conn):
    with pytest.raises(KubeSphereError) as err:
        conn.get("example.invalid/v1", "Nothing", "x")
    assert err.value.code == "kind_not_served"
    assert "does not serve example.invalid/v1/Nothing" in err.value.msg


def test_version_through_raw(conn):
    status, headers, body = conn.raw("GET", "/version")
    assert status == 200 and body["gitVersion"].startswith("v1.") and headers.get("Date")


def test_wait_for_uses_the_predicate_and_is_immediate_in_check_mode(conn, lab, unique, cleanup):
    name = "adapter-w-" + unique
    cleanup(lab.members[0], "/api/v1/namespaces/default/configmaps/" + name)

    def has_k(obj):
        return bool(obj and obj.get("data", {}).get("k") == "1")

    assert _k8s.wait_for(conn, "v1", "ConfigMap", name, has_k, "default", check_mode=True) == (False, None, 0)
    satisfied, obj, elapsed = _k8s.wait_for(conn, "v1", "ConfigMap", name, has_k, "default", timeout=1, sleep=1)
    assert satisfied is False and elapsed >= 1
    _k8s.ensure_object(conn, cm(name, "1"))
    satisfied, obj, elapsed = _k8s.wait_for(conn, "v1", "ConfigMap", name, has_k, "default", timeout=5, sleep=1)
    assert satisfied is True and obj["data"]["k"] == "1"


def test_owned_objects_are_applied_server_side(conn, lab, unique, cleanup):
    name = "adapter-a-" + unique
    cleanup(lab.members[0], "/api/v1/namespaces/default/configmaps/" + name)
    two = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"},
           "data": {"k": "1", "gone": "x"}}
    assert _k8s.ensure_object(conn, two, owned=True)["method"] == "create"
    assert _k8s.ensure_object(conn, dict(two, data={"k": "1", "gone": "x"}), owned=True)["changed"] is False
    # created by create, not by apply: the field manager owns no field yet, so take ownership with one apply
    _k8s.ensure_object(conn, dict(two, data={"k": "1", "gone": "y"}), owned=True)
    r = _k8s.ensure_object(conn, cm(name, "1"), owned=True)
    assert r["changed"] is True and r["method"] == "apply"
    assert lab.client(lab.members[0]).get("/api/v1/namespaces/default/configmaps/" + name)["data"] == {"k": "1"}


def test_if_served_reads_an_unserved_kind_as_absent(conn):
    assert conn.get("example.invalid/v1", "Nothing", "x", if_served=True) is None
    assert conn.list("example.invalid/v1", "Nothing", if_served=True) is None


def test_one_rule_for_absent_objects_against_a_real_api_server(conn, lab, unique):
    """get, merge_patch (also a dry run), delete: None; list: []; raw: the 404; create and server-side apply in
    a namespace that does not exist: not_found naming it (the real Status details), and nothing is created."""
    name, ns = "absent-" + unique, "no-such-namespace-" + unique
    assert conn.get("v1", "ConfigMap", name, "default") is None
    assert conn.merge_patch("v1", "ConfigMap", name, {"data": {"k": "1"}}, "default") is None
    assert conn.merge_patch("v1", "ConfigMap", name, {"data": {"k": "1"}}, "default", dry_run=True) is None
    assert conn.delete("v1", "ConfigMap", name, "default") is None
    assert conn.list("v1", "ConfigMap", ns) == []
    assert conn.raw("GET", "/api/v1/namespaces/default/configmaps/" + name)[0] == 404
    for write in (conn.create, lambda o: conn.create(o, dry_run=True), conn.apply):
        obj = dict(cm(name, "1"), metadata={"name": name, "namespace": ns})
        with pytest.raises(KubeSphereError) as err:
            write(obj)
        assert err.value.code == "not_found" and err.value.result["missing_namespace"] == ns
        assert "its namespace %s does not exist (HTTP 404)" % ns in err.value.msg
    assert lab.client(lab.members[0]).try_get("/api/v1/namespaces/" + ns) is None
