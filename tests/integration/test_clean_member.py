"""Clean members (issue 19 part 2) against KubeSphere 3.4.1's real ks-controller-manager on a private lab.

KubeSphere's join (checkWorkspaces) refuses a member that holds a `kubefed.io/managed=true` Workspace whose
FederatedWorkspace on the host does not place that member. The import must refuse it itself, before any write
(the audit logs show no write of the collection on any cluster), naming the workspace and the way out; once
the way out is applied the import succeeds and reports the member's user objects as a warning. When the
conflict appears after the checks passed (created here the moment the Cluster appears, before a proxy
member's agent connected), the real controller refuses the join and the health wait fails at once with the
controller's words instead of waiting out its timeout. The tests run in file order on one private lab."""

import os
import threading
import time

import pytest

from auditlog import AuditLog
from conftest import run_playbook, with_lab_inventory
from polling import wait_for
from unbind_lab import condition

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JOIN = os.path.join(REPO, "playbooks", "join.yml")
SITE_PARTS = [os.path.join(REPO, "playbooks", p) for p in ("host_config.yml", "member_config.yml")]
CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters"
KFC = "/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/kubefedclusters"
WORKSPACES = "/apis/tenant.kubesphere.io/v1alpha1/workspaces"
FED_WORKSPACES = "/apis/types.kubefed.io/v1beta1/federatedworkspaces"
IMPORT_TASK = "Import the member (checks first, then the Cluster, the agent for proxy members, health and verification)"
CONFLICT = "The workspace %s is found in the target member cluster %s, which is conflict with the workspace on host"
# a wait far longer than any of these runs needs: a run that fails early did not wait it out
FAST = {"kubesphere_join_wait_sleep": 2, "kubesphere_join_wait_timeout": 900,
        "member_config_wait_sleep": 1, "host_config_wait_sleep": 1}

pytestmark = pytest.mark.timeout(2400)


@pytest.fixture(scope="module")
def fleet(make_module_lab, tmp_path_factory):
    lab = make_module_lab(members=2)
    with_lab_inventory(lab, tmp_path_factory)
    lab.audit = AuditLog.for_lab(lab)
    for playbook in SITE_PARTS:  # the roles (host, members), not the imports
        run = run_playbook(playbook, lab.lab_inventory, extra_vars=FAST, timeout=1200)
        assert run.rc == 0, run
    return lab


def collection_writes(lab, mark):
    lab.audit.sync(lab)
    return lab.audit.writes_by_collection_alone(since=mark)


def workspace(name, managed=True):
    labels = {"kubefed.io/managed": "true"} if managed else {}
    return {"apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace",
            "metadata": {"name": name, "labels": labels}, "spec": {"manager": "admin"}}


def federated_workspace(name, clusters):
    """The host's FederatedWorkspace of a workspace placed on `clusters` only."""
    return {"apiVersion": "types.kubefed.io/v1beta1", "kind": "FederatedWorkspace", "metadata": {"name": name},
            "spec": {"template": {"spec": {"manager": "admin"}},
                     "placement": {"clusters": [{"name": c} for c in clusters]}}}


def join(lab, ansible_run, member, what=""):
    """join.yml for `member` alone: (the run, the import task's result). Prints how long the run took (a
    measurement for the report, never asserted)."""
    started = time.monotonic()
    run = ansible_run(JOIN, lab.lab_inventory, extra_vars=dict(FAST, kubesphere_join_members=[member]), timeout=1500)
    print("MEASURED %s: join.yml for %s took %.1f s (rc %s)" % (what, member, time.monotonic() - started, run.rc))
    results = run.results(IMPORT_TASK)
    assert member in results, run
    return run, results[member]


def test_a_conflicting_workspace_is_refused_before_any_write_naming_it_and_the_way_out(fleet, ansible_run):
    lab = fleet
    host, member = lab.client(lab.host), lab.client("member1")
    host.ensure(federated_workspace("wsx", [lab.host]))
    member.ensure(workspace("wsx"))
    member.ensure({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    mark = lab.audit.mark()
    run, res = join(lab, ansible_run, "member1", "refused by the check")
    assert run.rc != 0 and res.get("failed"), run
    assert res["code"] == "workspace_conflict" and res["cluster"] == "member1", res
    assert [p["code"] for p in res["problems"]] == ["workspace_conflict"], res["problems"]
    for words in ("Workspace wsx", "places only %s" % lab.host, CONFLICT % ("wsx", "member1"),
                  "kubectl label workspace wsx kubefed.io/managed-", "delete that Workspace",
                  "place 'member1' in the host's FederatedWorkspace wsx"):
        assert words in res["msg"], (words, res["msg"])
    # the warning-level finding rides along with the refusal
    assert res["member_objects"] == {"namespaces": ["shop"], "workspaces": ["wsx"]}, res
    # nothing written on any cluster, no Cluster, no KubeFedCluster
    assert collection_writes(lab, mark) == []
    assert host.try_get("%s/member1" % CLUSTERS) is None
    assert host.try_get("%s/member1" % KFC) is None


def test_after_the_way_out_the_import_succeeds_and_warns_of_what_the_member_holds(fleet, ansible_run):
    """The way out taken: the label removed from the member's Workspace (the controller then ignores it)."""
    lab = fleet
    lab.client("member1").merge_patch("%s/wsx" % WORKSPACES, {"metadata": {"labels": {"kubefed.io/managed": None}}})
    run, res = join(lab, ansible_run, "member1", "import after the label was removed")
    assert run.rc == 0, run
    assert res["changed"] and res["health"]["verdict"] == "ready", res
    assert res["member_objects"] == {"namespaces": ["shop"], "workspaces": ["wsx"]}, res
    assert [f["code"] for f in res["findings"]] == ["member_not_clean"], res
    assert any("namespaces shop and workspaces wsx" in w for w in res.get("warnings") or []), res
    assert "namespaces shop and workspaces wsx" in run.stdout
    c = lab.client(lab.host).get("%s/member1" % CLUSTERS)
    assert condition(c, "Federated")["status"] == "True"
    # a rerun on the joined member reads no workspaces and finds nothing to warn of (the KubeFedCluster exists)
    run, res = join(lab, ansible_run, "member1")
    assert run.rc == 0 and res["changed"] is False and "findings" not in res, res


def _make_conflict_when_the_cluster_appears(lab, name, ws, stop):
    """A thread: the moment the host has Cluster `name` (the checks passed, the import wrote it; a proxy
    member's agent has not connected yet, so the controller has not joined), make Workspace `ws` on the member
    kubefed-managed. Returns (thread, record) where record['made'] tells whether it did."""
    from kslabkit.rest import Rest  # noqa: PLC0415 (a client of its own: this runs beside the test's)

    record = {"made": None}
    host, member = Rest(lab.kubeconfig(lab.host)), Rest(lab.kubeconfig(name))

    def run():
        while not stop.is_set():
            c = host.try_get("%s/%s" % (CLUSTERS, name))
            if c is not None:
                record["federated_before"] = condition(c, "Federated")
                member.ensure(workspace(ws))
                record["made"] = True
                return
            time.sleep(0.1)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, record


def test_a_join_the_controller_refuses_fails_the_health_wait_at_once_with_its_words(fleet, ansible_run):
    """member2 (proxy) passes the checks; the conflict is made right after the Cluster is written, before its
    agent connects. KubeSphere's controller then sets Federated False with the conflict; the run fails with
    code join_failed and those words long before its 900 s wait_timeout (the result says no timeout)."""
    lab = fleet
    host = lab.client(lab.host)
    host.ensure(federated_workspace("wsy", [lab.host]))
    stop = threading.Event()
    thread, record = _make_conflict_when_the_cluster_appears(lab, "member2", "wsy", stop)
    try:
        run, res = join(lab, ansible_run, "member2", "controller-refused join (join_failed)")
    finally:
        stop.set()
        thread.join(10)
    assert record["made"] and record.get("federated_before") is None, record
    assert run.rc != 0 and res.get("failed"), run
    assert res["code"] == "join_failed" and res["cluster"] == "member2", res
    assert CONFLICT % ("wsy", "member2") in res["msg"] and "Cluster can not join federation control plane" in res["msg"], res
    assert "kubectl label workspace wsy kubefed.io/managed-" in res["msg"]
    assert [p["code"] for p in res["problems"]] == ["workspace_conflict"], res
    assert res["join_failure"]["reason"] == CONFLICT % ("wsy", "member2")
    c = host.get("%s/member2" % CLUSTERS)
    fed = condition(c, "Federated")
    assert fed["status"] == "False" and fed["reason"] == CONFLICT % ("wsy", "member2")
    # a rerun is refused by the check, before any write
    mark = lab.audit.mark()
    run, res = join(lab, ansible_run, "member2", "rerun refused by the check")
    assert run.rc != 0 and res["code"] == "workspace_conflict", res
    assert collection_writes(lab, mark) == []
    # the way out (placing member2 in the FederatedWorkspace's placement), then the import completes
    host.merge_patch("%s/wsy" % FED_WORKSPACES, {"spec": {"placement": {"clusters": [{"name": lab.host},
                                                                                     {"name": "member2"}]}}})
    print("MEASURED Federated condition before the last rerun: %s" % condition(host.get("%s/member2" % CLUSTERS), "Federated"))
    run, res = join(lab, ansible_run, "member2", "rerun after the placement (stale Federated False waited on)")
    assert run.rc == 0 and res["health"]["verdict"] == "ready", run
    wait_for(lambda: (condition(host.get("%s/member2" % CLUSTERS), "Federated") or {}).get("status") == "True", 60,
             "member2 Federated True")
