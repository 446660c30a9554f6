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
        bad.version()
    assert err.value.msg.startswith("cluster 'host': cannot build a client")
    assert "nope" in err.value.msg


def test_a_kind_the_server_does_not_serve(conn):
    with pytest.raises(KubeSphereError) as err:
        conn.get("example.invalid/v1", "Nothing", "x")
    assert err.value.code == "kind_not_served"
    assert "does not serve example.invalid/v1/Nothing" in err.value.msg


def test_server_time_and_version(conn):
    import time

    assert conn.version()["gitVersion"].startswith("v1.")
    assert abs(conn.server_time() - time.time()) < 5


def test_if_served_reads_an_unserved_kind_as_absent(conn):
    assert conn.get("example.invalid/v1", "Nothing", "x", if_served=True) is None
    assert conn.list("example.invalid/v1", "Nothing", if_served=True) is None
