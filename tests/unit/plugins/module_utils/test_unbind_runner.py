"""operations/unbind.py over the one fake connection: the dead-member plan, run by the executor, backs up
the webhook configuration to a file before deleting it, and restores it exactly even when a later step
fails; a restore that differs keeps the backup; a backup left by a killed run is restored by the next."""

import json
import os

import pytest
from fakes import FakeConnection

from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import unbind as ur
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Context, Executor
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import unbind as plans

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


OPTIONS = {"force": True, "remove_from_placements": False, "cleanup_member": False, "remove_agent": True,
           "wait": True, "wait_timeout": 0, "wait_sleep": 1}
WEBHOOK_REF = ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "cluster.kubesphere.io")


class Module:
    check_mode = False
    params = {}


def dead_plan(io, webhook=None, cluster=None, backup=None, alive=False):
    """The plan for the dead member1 (with the lab's webhook configuration and Cluster unless `alive` says the
    run is a later one: the Cluster gone, the configuration missing)."""
    if not alive:
        webhook, cluster = webhook or WEBHOOK, cluster or CLUSTER
    member = {"reachable": False, "error": {"code": "unreachable", "message": "connection refused"}}
    facts = {"cluster": cluster, "member": member, "kubefed_cluster": None, "webhook": webhook, "federated": [],
             "webhook_backup": backup, "host_label": "host"}
    return plans.plan("member1", facts, OPTIONS, io)


def host():
    return FakeConnection(label="host", objects=[WEBHOOK, CLUSTER], served=SERVED)


def execute(conn, steps):
    return Executor(Context(Module(), {"host": conn}), {}, sleep=lambda s: None).run(steps)


def test_the_dead_plan_backs_up_before_deleting_and_restores_when_a_step_fails(tmp_path):
    conn = host()
    path = ur.backup_path(str(tmp_path / "b"), "host")
    io = ur.UnbindIO(conn, path)
    seen = []
    original_delete = conn.delete

    def delete(api_version, kind, name, namespace=None, dry_run=False):
        if kind == "ValidatingWebhookConfiguration":
            with open(path) as f:  # the backup is on disk before the configuration goes
                seen.append(json.load(f))
        if kind == "Cluster":  # someone else's finalizer holds it: it stays
            return conn.get(api_version, kind, name, namespace)
        return original_delete(api_version, kind, name, namespace, dry_run)

    conn.delete = delete
    plan = dead_plan(io)
    assert plan["path"] == "dead"
    # the Cluster keeps a finalizer of someone else's: the wait until it is gone fails (wait_timeout 0)
    out = execute(conn, plan["steps"])
    assert not out.ok and out.failed[0].id == "cluster-gone"
    assert out.done[-1] == "restore-webhook" and out.skipped == []
    assert seen == [plans.restorable(WEBHOOK)]
    live = conn.get(*WEBHOOK_REF)
    assert plans.restored(WEBHOOK, live) and io.restored is True
    assert not os.path.exists(path)  # restored exactly: the backup is not left to be restored later


def test_a_restore_that_does_not_match_keeps_the_backup_and_fails(tmp_path):
    conn = host()
    path = ur.backup_path(str(tmp_path), "host")
    ur.write_backup(path, plans.restorable(WEBHOOK))
    io = ur.UnbindIO(conn, path)
    original_create = conn.create

    def lossy_create(obj, dry_run=False):
        obj = json.loads(json.dumps(obj))
        obj["webhooks"][0]["failurePolicy"] = "Ignore"
        return original_create(obj, dry_run)

    conn.create = lossy_create
    conn.delete(*WEBHOOK_REF)
    with pytest.raises(KubeSphereError) as err:
        io.restore(Context(Module(), {"host": conn}), plans.restorable(WEBHOOK))
    assert err.value.code == "restore_differs" and io.restored is False
    assert os.path.exists(path)


def test_a_backup_left_by_a_killed_run_is_restored_by_the_next_one(tmp_path):
    path = ur.backup_path(str(tmp_path), "host")
    ur.write_backup(path, plans.restorable(WEBHOOK))
    assert ur.load_backup(path) == plans.restorable(WEBHOOK)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    conn = FakeConnection(label="host", objects=[], served=SERVED)
    io = ur.UnbindIO(conn, path)
    plan = dead_plan(io, backup=ur.load_backup(path), alive=True)
    assert [s["id"] for s in plan["steps"]] == ["restore-webhook"]
    out = execute(conn, plan["steps"])
    assert out.ok and plans.restored(WEBHOOK, conn.get(*WEBHOOK_REF)) and not os.path.exists(path)


def test_the_finalizer_patch_of_a_cluster_that_vanished_is_done_through_the_real_client(tmp_path):
    """The user's case: KubeSphere's controller finished the deletion the moment the webhook configuration was
    gone, so the dead plan's patch of the Cluster meets a 404 (through the real kubernetes client, only the
    transport fake): the step is done (missing_ok), not an AttributeError on None."""
    from transport import not_found, real_connection

    path = "/apis/cluster.kubesphere.io/v1alpha1/clusters/member1"
    conn, transport = real_connection({("PATCH", path): (404, not_found("clusters", "member1", "cluster.kubesphere.io"))},
                                      tmp_path)
    patch = [s for s in dead_plan(ur.UnbindIO(conn, str(tmp_path / "backup.json")))["steps"]
             if s.public().get("verb") == "patch"]
    assert [(s.id, s["object"]) for s in patch] == [("remove-finalizer", "Cluster member1")]
    out = execute(conn, patch)
    assert out.ok and out.done == ["remove-finalizer"]
    assert transport.requests == [("PATCH", path)]


def test_a_patch_that_must_find_its_object_says_it_is_gone(tmp_path):
    """A patch step without missing_ok (a placement to edit) whose object vanished fails with not_found."""
    from transport import not_found, real_connection
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps

    path = "/apis/cluster.kubesphere.io/v1alpha1/clusters/member1"
    conn, _t = real_connection({("PATCH", path): (404, not_found("clusters", "member1", "cluster.kubesphere.io"))},
                               tmp_path)
    step = steps.patch("p", "host", "host", "cluster.kubesphere.io/v1alpha1", "Cluster", "member1",
                       {"metadata": {"labels": {"a": "b"}}})
    out = execute(conn, [step])
    error = out.failed[1]
    assert error.code == "not_found" and "is gone: nothing to patch" in error.msg


def test_the_dead_plan_completes_when_the_cluster_is_gone_before_its_patch(tmp_path):
    """The whole dead plan over the fake connection, which deletes at once (no finalizers): every step after
    the Cluster's delete meets it absent, as the user's run did once the controller finished the deletion;
    the run is ok and the webhook restored."""
    conn = host()
    io = ur.UnbindIO(conn, ur.backup_path(str(tmp_path), "host"))
    out = execute(conn, dead_plan(io)["steps"])
    assert out.ok and not out.failures
    assert "remove-finalizer" in out.done and io.restored is True
    assert ("merge_patch", ("Cluster", "member1", False)) in conn.calls
    assert conn.get("cluster.kubesphere.io/v1alpha1", "Cluster", "member1") is None


def test_the_finalizer_patch_is_retried_while_the_deleted_webhook_still_denies_it(tmp_path):
    """kube-apiserver applies a just-deleted webhook configuration until its cache catches up (seen on the lab,
    a proxy member's fifth round: 403 from validating-cluster.kubesphere.io right after the delete): the patch
    is retried until it goes through."""
    conn = host()
    io = ur.UnbindIO(conn, ur.backup_path(str(tmp_path), "host"))
    original, denials = conn.merge_patch, []

    def merge_patch(api_version, kind, name, patch, namespace=None, dry_run=False, subresource=None):
        if kind == "Cluster" and len(denials) < 2:
            denials.append(name)
            raise conn.error('admission webhook "validating-cluster.kubesphere.io" denied the request (HTTP 403)',
                             obj="Cluster %s" % name, code="forbidden")
        return original(api_version, kind, name, patch, namespace, dry_run, subresource)

    conn.merge_patch = merge_patch
    out = execute(conn, [s for s in dead_plan(io)["steps"] if s.id == "remove-finalizer"])
    assert out.ok and out.done == ["remove-finalizer"] and denials == ["member1", "member1"]
    assert not conn.get("cluster.kubesphere.io/v1alpha1", "Cluster", "member1")["metadata"].get("finalizers")


@pytest.mark.parametrize("bits, refused", [(0o755, True), (0o750, True), (0o700, False)])
def test_a_backup_folder_open_to_others_is_refused_before_any_write(tmp_path, monkeypatch, bits, refused):
    """The forced unbind of a dead member backs the webhook configuration up: an existing folder open to its
    group or others is refused (folder_not_private) before the first write, and never chmod'ed."""
    from fakes import FakeModule  # noqa: PLC0415

    from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import Refused  # noqa: PLC0415

    folder = tmp_path / "backups"
    folder.mkdir()
    os.chmod(folder, bits)
    conn = host()
    member = {"reachable": False, "error": {"code": "unreachable", "message": "connection refused"}}
    facts = {"cluster": CLUSTER, "member": member, "kubefed_cluster": None, "webhook": WEBHOOK, "federated": [],
             "webhook_backup": None, "host_label": "host", "backup_file": ur.backup_path(str(folder), "host")}
    monkeypatch.setattr(ur, "read", lambda module, p: (conn, None, facts))
    params = dict(OPTIONS, name="member1", confirm_unbind="member1", webhook_backup_dir=str(folder))
    module = FakeModule(check_mode=True, **params)
    if refused:
        with pytest.raises(Refused) as e:
            ur.run(module)
        assert e.value.code == "folder_not_private" and "chmod 700 %s" % folder in e.value.msg
    else:
        assert ur.run(module)["path"] == "dead"
    assert [c for c in conn.calls if c[0] not in ("get", "list") and c[1][0] != "GET"] == []  # nothing written
    assert os.listdir(folder) == [] and (os.stat(folder).st_mode & 0o777) == bits
