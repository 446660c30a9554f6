"""One rule for an absent object across `_k8s.Connection` (get, list, merge_patch, delete, create, apply,
wait_for), checked through the REAL kubernetes client: only the HTTP transport is fake (tests/unit/transport.py),
so a 404 or 410 reaches the Connection as the client's own NotFoundError / GoneError, built by
ApiException.from_response and kubernetes.dynamic.exceptions.api_exception as for a real API server.

  get, merge_patch, delete: None on 404 and on 410 Gone;  list: [];
  create, apply: KubeSphereError code not_found naming the missing namespace;
  a 410 Expired (a too old continue token) and every other status stay errors."""

import pytest
from kubernetes.dynamic.exceptions import GoneError, NotFoundError
from transport import expired, gone, not_found, real_connection, status

from ansible_collections.kubesphere.multicluster.plugins.module_utils import _k8s
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError

CLUSTER_API = "cluster.kubesphere.io/v1alpha1"
CLUSTER_PATH = "/apis/cluster.kubesphere.io/v1alpha1/clusters/member1"
SECRET_PATH = "/api/v1/namespaces/nope/secrets/s1"
ABSENT = {
    "404": (404, not_found("clusters", "member1", "cluster.kubesphere.io")),
    "410": (410, gone()),
}
SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s1", "namespace": "nope"}, "data": {}}
NAMESPACE_MISSING = (404, not_found("namespaces", "nope"))


def test_the_transport_gives_what_the_real_client_raises(tmp_path):
    """The premise: through this transport the kubernetes client itself raises NotFoundError for a 404 and
    GoneError for a 410, with the Status body (the Connection sees nothing else)."""
    conn, _t = real_connection({("GET", CLUSTER_PATH): ABSENT["410"], ("PATCH", CLUSTER_PATH): ABSENT["404"]}, tmp_path)
    res = conn.resource(CLUSTER_API, "Cluster")
    with pytest.raises(GoneError) as err:
        conn.client.get(res, name="member1")
    assert err.value.status == 410 and "the object has been deleted" in err.value.summary()
    with pytest.raises(NotFoundError) as err:
        conn.client.client.patch(res, {"metadata": {"name": "member1"}}, name="member1",
                                 content_type="application/merge-patch+json")
    assert err.value.status == 404 and 'clusters.cluster.kubesphere.io "member1" not found' in err.value.summary()


@pytest.mark.parametrize("answer", sorted(ABSENT))
def test_get_patch_and_delete_of_an_absent_object_return_none(tmp_path, answer):
    conn, transport = real_connection({(m, CLUSTER_PATH): ABSENT[answer] for m in ("GET", "PATCH", "DELETE")}, tmp_path)
    assert conn.get(CLUSTER_API, "Cluster", "member1") is None
    assert conn.merge_patch(CLUSTER_API, "Cluster", "member1", {"metadata": {"finalizers": None}}) is None
    assert conn.merge_patch(CLUSTER_API, "Cluster", "member1", {"metadata": {"finalizers": None}}, dry_run=True) is None
    assert conn.delete(CLUSTER_API, "Cluster", "member1") is None
    assert transport.requests == [("GET", CLUSTER_PATH), ("PATCH", CLUSTER_PATH), ("PATCH", CLUSTER_PATH),
                                  ("DELETE", CLUSTER_PATH)]


def test_a_patch_that_finds_the_object_returns_it(tmp_path):
    """The other side of the rule: present objects still come back as dicts."""
    live = {"apiVersion": CLUSTER_API, "kind": "Cluster", "metadata": {"name": "member1", "resourceVersion": "9"}}
    conn, _t = real_connection({("PATCH", CLUSTER_PATH): (200, live)}, tmp_path)
    assert conn.merge_patch(CLUSTER_API, "Cluster", "member1", {"metadata": {"finalizers": None}}) == live


def test_list_of_absent_objects_is_empty_and_an_expired_continue_token_is_an_error(tmp_path):
    path = "/apis/cluster.kubesphere.io/v1alpha1/clusters"
    conn, _t = real_connection({("GET", path): (404, not_found("clusters", ""))}, tmp_path)
    assert conn.list(CLUSTER_API, "Cluster") == []
    conn, _t = real_connection({("GET", path): (410, expired())}, tmp_path)
    with pytest.raises(KubeSphereError) as err:
        conn.list(CLUSTER_API, "Cluster")
    assert err.value.code == "api_error" and "too old" in err.value.reason and err.value.result["status"] == 410


def test_a_410_expired_on_a_read_is_not_absent(tmp_path):
    conn, _t = real_connection({("GET", CLUSTER_PATH): (410, expired())}, tmp_path)
    with pytest.raises(KubeSphereError) as err:
        conn.get(CLUSTER_API, "Cluster", "member1")
    assert err.value.code == "api_error"


def test_other_statuses_stay_errors_with_their_code(tmp_path):
    denied = (403, status(403, "Forbidden", 'clusters.cluster.kubesphere.io "member1" is forbidden'))
    conn, _t = real_connection({("PATCH", CLUSTER_PATH): denied}, tmp_path)
    with pytest.raises(KubeSphereError) as err:
        conn.merge_patch(CLUSTER_API, "Cluster", "member1", {"spec": {}})
    assert err.value.code == "forbidden" and err.value.msg.startswith("cluster 'host': Cluster member1: ")


@pytest.mark.parametrize("dry_run", [False, True])
def test_create_in_a_missing_namespace_is_not_found_naming_the_namespace(tmp_path, dry_run):
    conn, _t = real_connection({("POST", "/api/v1/namespaces/nope/secrets"): NAMESPACE_MISSING}, tmp_path)
    with pytest.raises(KubeSphereError) as err:
        conn.create(SECRET, dry_run=dry_run)
    e = err.value
    assert e.code == "not_found" and e.result["missing_namespace"] == "nope" and e.result["status"] == 404
    assert e.msg == "cluster 'host': Secret nope/s1: cannot be written: its namespace nope does not exist (HTTP 404)"


def test_apply_in_a_missing_namespace_is_not_found_naming_the_namespace(tmp_path):
    """Server-side apply makes an absent object, so its 404 is the namespace's, as for create."""
    conn, _t = real_connection({("PATCH", SECRET_PATH): NAMESPACE_MISSING}, tmp_path)
    with pytest.raises(KubeSphereError) as err:
        conn.apply(SECRET)
    assert err.value.code == "not_found" and err.value.result["missing_namespace"] == "nope"
    assert "its namespace nope does not exist" in err.value.msg


def test_a_create_404_without_namespace_details_still_says_not_found(tmp_path):
    webhook = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
               "metadata": {"name": "cluster.kubesphere.io"}}
    path = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
    conn, _t = real_connection({("POST", path): (404, status(404, "NotFound", "the server could not find the "
                                                                  "requested resource"))}, tmp_path)
    with pytest.raises(KubeSphereError) as err:
        conn.create(webhook)
    assert err.value.code == "not_found" and "HTTP 404" in err.value.reason
    assert "could not find the requested resource" in err.value.reason


def test_wait_for_deletion_sees_a_410_gone_as_absent(tmp_path):
    conn, _t = real_connection({("GET", CLUSTER_PATH): ABSENT["410"]}, tmp_path)
    ok, obj, _elapsed = _k8s.wait_for(conn, CLUSTER_API, "Cluster", "member1", lambda o: o is None, timeout=5, sleep=1)
    assert ok is True and obj is None


def test_raw_answers_an_absent_path_with_its_status(tmp_path):
    """raw() answers (status, headers, body): an absent path is its status, never an exception."""
    conn, _t = real_connection({("GET", "/apis/nothing"): (404, status(404, "NotFound", "no"))}, tmp_path)
    assert conn.raw("GET", "/apis/nothing") == (404, {}, None)


def test_ensure_object_says_so_when_its_object_vanishes_between_read_and_patch(tmp_path):
    """ensure_object reads the object, then patches it: deleted meanwhile, the patch answers 404 and the write
    path fails with not_found saying what happened (not an AttributeError on None)."""
    live = {"apiVersion": CLUSTER_API, "kind": "Cluster", "metadata": {"name": "member1", "labels": {"a": "1"}}}
    conn, transport = real_connection({("GET", CLUSTER_PATH): (200, live), ("PATCH", CLUSTER_PATH): ABSENT["404"]},
                                      tmp_path)
    desired = {"apiVersion": CLUSTER_API, "kind": "Cluster", "metadata": {"name": "member1", "labels": {"a": "2"}}}
    with pytest.raises(KubeSphereError) as err:
        _k8s.ensure_object(conn, desired)
    assert err.value.code == "not_found" and "was deleted by someone else while this run was patching it" in err.value.msg
    assert transport.requests == [("GET", CLUSTER_PATH), ("PATCH", CLUSTER_PATH)]
