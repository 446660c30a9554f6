"""The forced unbind of a dead member succeeds at the FIRST try, round after round (issue "Absent objects").

A user's run: member1's kube-apiserver stopped, kubefed said Offline, `playbooks/unbind.yml -e
kubesphere_unbind_force=true` failed at 'patch Cluster member1 on host' although it had removed the Cluster:
KubeSphere's controller finishes the deletion the moment the ValidatingWebhookConfiguration is gone, so the
patch that removes the controller's finalizer can meet the Cluster absent (a 404), and the adapter crashed on
it. Whether the controller wins that race differs from run to run: so, on one private lab with KubeSphere's
real control plane, ROUNDS rounds per member, each: import the member if it is not (join.yml, member1 direct,
member2 proxy as inventories/lab says), stop its kube-apiserver for good, wait until its KubeFedCluster says
Offline, run unbind.yml with force once and require success (rc 0, the Cluster gone, the webhook configuration
restored exactly), then start the kube-apiserver again for the next round. Each round prints whether the
collection's patch of the Cluster met it absent (the API server's audit log: its response code)."""

import os

import pytest
from auditlog import KUBESPHERE_AGENTS, AuditLog
from evidence import record
from conftest import with_lab_inventory
from unbind_lab import (KFC, VWC, cluster, condition, kill_apiserver, restart_apiserver, restorable, set_roles,
                        start_lab, wait_for, wait_joined)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JOIN = os.path.join(REPO, "playbooks", "join.yml")
UNBIND = os.path.join(REPO, "playbooks", "unbind.yml")
ROUNDS = int(os.environ.get("KSLAB_FORCED_UNBIND_ROUNDS", "5"))
FAST = {"kubesphere_join_wait_sleep": 2, "kubesphere_join_wait_timeout": 420}

pytestmark = pytest.mark.timeout(600 * ROUNDS)


@pytest.fixture(scope="module")
def fleet(make_module_lab, tmp_path_factory):
    lab = start_lab(make_module_lab, 80)
    with_lab_inventory(lab, tmp_path_factory)
    set_roles(lab)
    lab.audit = AuditLog.for_lab(lab)
    return lab


def import_member(lab, ansible_run, name):
    """join.yml for this member only (inventories/lab: member1 direct, member2 proxy), then both the Cluster and
    the KubeFedCluster Ready."""
    if cluster(lab.client(lab.host), name) is None:
        r = ansible_run(JOIN, lab.lab_inventory, extra_vars=dict(FAST, kubesphere_join_members=[name]), timeout=900)
        assert r.rc == 0, r
    wait_joined(lab, name)


def finalizer_patches(lab, name, mark):
    """Response codes of the collection's patches of Cluster `name` on the host since `mark`."""
    lab.audit.sync(lab, clusters=[lab.host])
    return [r.code for r in lab.audit.requests(cluster=lab.host, since=mark, who="collection", verbs=("patch",))
            if r.resource == "clusters" and r.name == name and not r.dry_run
            and not r.user_agent.startswith(KUBESPHERE_AGENTS)]


@pytest.mark.parametrize("name,connection_type", [("member1", "direct"), ("member2", "proxy")])
def test_the_forced_unbind_of_a_dead_member_succeeds_at_the_first_try(
        fleet, ansible_run, tmp_path, name, connection_type):
    lab = fleet
    host = lab.client(lab.host)
    seen = []
    for round_no in range(1, ROUNDS + 1):
        import_member(lab, ansible_run, name)
        assert cluster(host, name)["spec"]["connection"]["type"] == connection_type
        webhook_before = host.get(VWC)
        kill_apiserver(lab, name)
        try:
            wait_for(lambda: condition(host.try_get("%s/%s" % (KFC, name)), "Offline", "True"), 300,
                     "KubeFedCluster %s Offline" % name)
            assert (condition(host.try_get("%s/%s" % (KFC, name)), "Ready") or {}).get("status") != "True"
            mark = lab.audit.mark()
            r = ansible_run(UNBIND, lab.lab_inventory, extra_vars={
                "kubesphere_unbind_cluster": name, "kubesphere_unbind_confirm": name, "kubesphere_unbind_force": True,
                "kubesphere_unbind_webhook_backup_dir": str(tmp_path / ("backups-%d" % round_no)),
                "kubesphere_unbind_wait_timeout": 240})
            res = r.results("Unbind the member").get(name) or {}
            assert r.rc == 0 and not res.get("failed"), "round %d: %r" % (round_no, r)
            assert res["path"] == "dead" and res["steps"]["ok"] and not res["steps"]["failed"], (round_no, res)
            assert "remove-finalizer" in res["steps"]["done"], (round_no, res["steps"])
            assert res["webhook_restored"] is True and res["remaining"]["host"] == [], (round_no, res)
            assert cluster(host, name) is None
            assert host.try_get("%s/%s" % (KFC, name)) is None
            assert restorable(host.get(VWC)) == restorable(webhook_before)
            seen.append(finalizer_patches(lab, name, mark))
        finally:
            restart_apiserver(lab, name)
    print("%s (%s): the collection's patch of Cluster %s answered, round by round: %s (404: the controller had "
          "finished the deletion first)" % (name, connection_type, name, seen))
    record("faults", __file__, "forced-unbind-dead-%s" % connection_type,
           fault="a %s member's kube-apiserver stopped for good after it joined" % connection_type,
           moment="forced unbind, each round once kubefed says Offline (KSLAB_FORCED_UNBIND_ROUNDS rounds, 5 by default)",
           sees="success at the first try in every round (rc 0): the Cluster and KubeFedCluster gone, the webhook "
                "configuration restored exactly, nothing left on the host, also when KubeSphere's controller finished "
                "the deletion before the collection's finalizer patch (404)",
           rerun="the member imported again for the next round (join.yml)",
           command="ansible-playbook -i <inventory> playbooks/unbind.yml -e kubesphere_unbind_cluster=<member> "
                   "-e kubesphere_unbind_confirm=<member> -e kubesphere_unbind_force=true")
