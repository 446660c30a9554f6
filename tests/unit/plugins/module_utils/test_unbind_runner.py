"""The unbind runner's executor over the one fake connection: the dead-member plan backs up the webhook
configuration to a file before deleting it, and restores it exactly even when a later step fails."""

import json
import os

import pytest
from fakes import FakeConnection

from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import unbind as ur
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import unbind as checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError

WEBHOOK = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
           "metadata": {"name": "cluster.kubesphere.io", "labels": {"app": "ks"}, "uid": "u-1",
                        "resourceVersion": "7", "creationTimestamp": "2025-01-01T00:00:00Z"},
           "webhooks": [{"name": "validating-cluster.kubesphere.io", "failurePolicy": "Fail",
                         "clientConfig": {"caBundle": "Q0E=",
                                          "service": {"name": "ks-controller-manager", "namespace": "kubesphere-system"}},
                         "rules": [{"operations": ["UPDATE"], "apiGroups": ["cluster.kubesphere.io"],
                                    "apiVersions": ["v1alpha1"], "resources": ["clusters"]}],
                         "sideEffects": "None", "admissionReviewVersions": ["v1"]}]}
CLUSTER = {"apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
           "metadata": {"name": "member1", "finalizers": ["finalizer.cluster.kubesphere.io"]},
           "spec": {"joinFederation": True, "connection": {"type": "direct"}},
           "status": {"uid": "kube-system-uid", "conditions": [{"type": "Ready", "status": "True"}]}}
SERVED = {("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
          ("cluster.kubesphere.io/v1alpha1", "Cluster"), ("core.kubefed.io/v1beta1", "KubeFedCluster"), ("v1", "Secret")}
PARAMS = {"wait": True, "wait_timeout": 5, "wait_sleep": 1}


def dead_plan():
    member = {"reachable": False, "error": {"code": "unreachable", "message": "connection refused"}}
    return checks.plan("member1", CLUSTER, member, None, WEBHOOK, force=True)


def host():
    return FakeConnection(label="host", objects=[WEBHOOK, CLUSTER], served=SERVED)


def test_the_dead_plan_backs_up_before_deleting_and_restores_when_a_step_fails(tmp_path):
    conn = host()
    path = ur.backup_path(str(tmp_path / "b"), "host")
    ex = ur.Executor(PARAMS, conn, None, path)
    seen = []

    def execute(step):
        if step["action"] == "delete" and step["kind"] == "ValidatingWebhookConfiguration":
            with open(path) as f:  # the backup is on disk before the configuration goes
                seen.append(json.load(f))
        if step["action"] == "wait_deleted":
            raise KubeSphereError("injected failure")
        return ex(step)

    plan = dead_plan()
    assert plan["path"] == "dead"
    out = checks.run(plan["steps"], execute)
    assert not out["ok"] and out["failed"][0]["step"] == "wait_deleted Cluster member1 on host"
    assert out["done"][-1] == "create ValidatingWebhookConfiguration cluster.kubesphere.io on host"
    assert out["skipped"] == ["verify Cluster member1 on both"]
    assert seen == [checks.restorable(WEBHOOK)]
    live = conn.get("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "cluster.kubesphere.io")
    assert checks.restored(WEBHOOK, live) and ex.restored is True
    assert not os.path.exists(path)  # restored exactly: the backup is not left to be restored later


def test_a_restore_that_does_not_match_keeps_the_backup_and_fails(tmp_path):
    conn = host()
    path = ur.backup_path(str(tmp_path), "host")
    ur.write_backup(path, checks.restorable(WEBHOOK))
    ex = ur.Executor(PARAMS, conn, None, path)
    original_create = conn.create

    def lossy_create(obj, dry_run=False):
        obj = json.loads(json.dumps(obj))
        obj["webhooks"][0]["failurePolicy"] = "Ignore"
        return original_create(obj, dry_run)

    conn.create = lossy_create
    conn.delete("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "cluster.kubesphere.io")
    with pytest.raises(KubeSphereError) as err:
        ex.restore(conn, checks.restorable(WEBHOOK))
    assert err.value.code == "restore_differs" and ex.restored is False
    assert os.path.exists(path)


def test_a_backup_left_by_a_killed_run_is_restored_by_the_next_one(tmp_path):
    path = ur.backup_path(str(tmp_path), "host")
    ur.write_backup(path, checks.restorable(WEBHOOK))
    assert ur.load_backup(path) == checks.restorable(WEBHOOK)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    plan = checks.plan("member1", None, {"reachable": True}, None, None, webhook_backup=ur.load_backup(path))
    assert [s["action"] for s in plan["steps"]] == ["create", "verify"]
    conn = FakeConnection(label="host", objects=[], served=SERVED)
    out = checks.run(plan["steps"], ur.Executor(PARAMS, conn, None, path))
    live = conn.get("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "cluster.kubesphere.io")
    assert out["ok"] and checks.restored(WEBHOOK, live)


def test_the_finalizer_patch_of_a_cluster_that_vanished_is_done_through_the_real_client(tmp_path):
    """The user's case: KubeSphere's controller finished the deletion the moment the webhook configuration was
    gone, so the dead plan's patch of the Cluster meets a 404 (through the real kubernetes client, only the
    transport fake): the step is done (missing_ok), not an AttributeError on None."""
    from transport import not_found, real_connection

    path = "/apis/cluster.kubesphere.io/v1alpha1/clusters/member1"
    conn, transport = real_connection({("PATCH", path): (404, not_found("clusters", "member1", "cluster.kubesphere.io"))},
                                      tmp_path)
    patch = [s for s in dead_plan()["steps"] if s["action"] == "patch"]
    assert [(s["kind"], s["name"], s.get("missing_ok")) for s in patch] == [("Cluster", "member1", True)]
    out = checks.run(patch, ur.Executor(PARAMS, conn, None, str(tmp_path / "backup.json")))
    assert out == {"done": ["patch Cluster member1 on host"], "failed": [], "skipped": [], "ok": True}
    assert transport.requests == [("PATCH", path)]


def test_a_patch_that_must_find_its_object_says_it_is_gone(tmp_path):
    """A patch step without missing_ok (a placement to edit) whose object vanished fails with not_found."""
    from transport import not_found, real_connection

    path = "/apis/cluster.kubesphere.io/v1alpha1/clusters/member1"
    conn, _t = real_connection({("PATCH", path): (404, not_found("clusters", "member1", "cluster.kubesphere.io"))},
                               tmp_path)
    step = checks.step("patch", "host", "Cluster", "member1", api_version="cluster.kubesphere.io/v1alpha1",
                       why="test", patch={"metadata": {"labels": {"a": "b"}}})
    with pytest.raises(KubeSphereError) as err:
        ur.Executor(PARAMS, conn, None, str(tmp_path / "backup.json"))(step)
    assert err.value.code == "not_found" and "is gone: nothing to patch" in err.value.msg


def test_the_dead_plan_completes_when_the_cluster_is_gone_before_its_patch(tmp_path):
    """The whole dead plan over the fake connection, which deletes at once (no finalizers): every step after
    the Cluster's delete meets it absent, as the user's run did once the controller finished the deletion;
    the run is ok and the webhook restored (wait false: the fake has no client for kubernetes.core's Waiter)."""
    conn = host()
    ex = ur.Executor(dict(PARAMS, wait=False), conn, None, ur.backup_path(str(tmp_path), "host"))
    out = checks.run(dead_plan()["steps"], ex)
    assert out["ok"] and not out["failed"], out
    assert "patch Cluster member1 on host" in out["done"] and ex.restored is True
    assert ("merge_patch", ("Cluster", "member1", False)) in conn.calls
    assert conn.get("cluster.kubesphere.io/v1alpha1", "Cluster", "member1") is None
