"""A member that died after joining, against KubeSphere's real control plane (the fidelity audit's F2/F3,
kubesphere#2306, #6154): its Cluster stays Ready True (the real webhook denies every update of it), only
the KubeFedCluster says Offline. The collection's reports must say so (cluster_info, status.yml's fleet
table, the preflight), and its unbind is refused without force and completed with force, the
ValidatingWebhookConfiguration cluster.kubesphere.io restored exactly as it was (compared before and
after), also when a step fails (an injected failure: a finalizer of another controller holds the Cluster).

Lab: private, host + member1 + member2 joined as the console joins direct members; member2's Cluster
also carries a test finalizer (the injected failure); both members' kube-apiservers are stopped for good."""

import json
import os
import re
import stat
import threading

import pytest
from auditlog import AuditLog
from evidence import record
from polling import until_admitted
from unbind_lab import (CLUSTERS, KFC, VWC, cluster, condition, import_direct, kill_apiserver, restorable,
                        set_roles, start_lab, wait_for, wait_joined)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(REPO, "playbooks")
HOLD = "kubesphere.multicluster.test/hold"
PREVIEW = "Report what the unbind removes and what stays on the member (nothing written)"
FAULT = "a member's kube-apiserver stopped for good after it joined"
UNBIND_CMD = ("ansible-playbook -i <inventory> playbooks/unbind.yml -e kubesphere_unbind_cluster=<member> "
              "-e kubesphere_unbind_confirm=<member>")


def fault(key, **row):
    record("faults", __file__, key, fault=FAULT, **row)


@pytest.fixture(scope="module")
def dead(make_module_lab):
    lab = start_lab(make_module_lab, 40)
    set_roles(lab)
    host = lab.client(lab.host)
    for name in lab.members:
        import_direct(lab, name)
    for name in lab.members:
        wait_joined(lab, name)
    held = cluster(host, "member2")
    host.merge_patch(CLUSTERS + "/member2", {"metadata": {"finalizers": held["metadata"]["finalizers"] + [HOLD]}})
    lab.webhook_before = host.get(VWC)
    for name in lab.members:
        kill_apiserver(lab, name)
    for name in lab.members:
        wait_for(lambda name=name: condition(host.try_get("%s/%s" % (KFC, name)), "Offline", "True"), 300,
                 "KubeFedCluster %s Offline" % name)
    return lab


def unbind(ansible_run, lab, name, backups, **extra):
    extra_vars = {"kubesphere_unbind_cluster": name, "kubesphere_unbind_confirm": name,
                  "kubesphere_unbind_webhook_backup_dir": backups, "kubesphere_unbind_wait_timeout": 240}
    extra_vars.update(extra)
    return ansible_run(os.path.join(PLAYBOOKS, "unbind.yml"), lab.inventory, extra_vars=extra_vars)


def assert_webhook_as_before(lab):
    live = lab.client(lab.host).get(VWC)
    assert restorable(live) == restorable(lab.webhook_before)
    return live


def test_status_preflight_and_cluster_info_say_offline_while_the_cluster_says_ready(dead, ansible_run):
    lab = dead
    host = lab.client(lab.host)
    ready = condition(cluster(host, "member1"), "Ready")
    assert ready["status"] == "True"  # what KubeSphere's own object still claims
    r = ansible_run(os.path.join(PLAYBOOKS, "status.yml"), lab.inventory)
    assert r.rc == 0, r
    table = r.results("Print the fleet")[lab.host]["msg"]
    rows = {line.split()[0]: line.split() for line in table.splitlines()[1:] if line.strip() and ":" not in line}
    assert rows["member1"][4] == "OFFLINE" and rows["member2"][4] == "OFFLINE"
    assert "member1: cluster 'member1': KubeFedCluster kube-federation-system/member1 reports Offline True " \
        "(ClusterNotReachable" in table
    assert "its Cluster still says Ready True" in table
    info = r.results("Read the cluster")[lab.host]["cluster"]
    seen = {c["name"]: c for c in info["clusters"]}
    assert seen["member1"]["ready"] is True
    assert (seen["member1"]["kubefed"], seen["member1"]["health"]) == ("offline", "offline")
    assert seen["host"]["health"] == "ready"

    pre = ansible_run(os.path.join(PLAYBOOKS, "preflight.yml"), lab.inventory,
                      extra_vars={"preflight_fail_on_problems": False})
    said = pre.results("Report members whose KubeFedCluster says Offline or that are not proven healthy")
    assert any("member1" in m and "Offline" in m for m in said[lab.host]["msg"]), pre
    fault("dead-member-status", moment="after the member joined: its Cluster still says Ready True",
          sees="status.yml: READY OFFLINE with kubefed's reason and a note that the Cluster still says Ready True; "
               "cluster_info: health offline; preflight.yml reports the member Offline",
          rerun="-", command="ansible-playbook -i <inventory> playbooks/status.yml (and preflight.yml)")


def test_the_inventory_plugin_says_the_dead_member_is_not_ready(dead, tmp_path):
    """Discovery (kubesphere.multicluster.clusters, discover: true) gives the same verdict as cluster_info:
    kubesphere_ready is false and kubesphere_health offline although the Cluster still says Ready True."""
    from test_inventory_plugin import ansible_inventory, compact, plain  # noqa: PLC0415

    lab = dead
    assert condition(cluster(lab.client(lab.host), "member1"), "Ready")["status"] == "True"
    proc = ansible_inventory(compact(lab, tmp_path, discover=True))
    assert proc.returncode == 0, proc.stderr
    hostvars = json.loads(proc.stdout)["_meta"]["hostvars"]
    for name in lab.members:
        seen = plain(hostvars[name])
        assert (seen["kubesphere_joined"], seen["kubesphere_ready"], seen["kubesphere_health"]) == (True, False, "offline")
        assert "KubeFedCluster kube-federation-system/%s reports Offline" % name in seen["kubesphere_ready_reason"]
    host = plain(hostvars[lab.host])
    assert (host["kubesphere_ready"], host["kubesphere_health"]) == (True, "ready")
    fault("dead-member-inventory", moment="after the member joined: its Cluster still says Ready True",
          sees="the inventory plugin's discovery: kubesphere_ready false, kubesphere_health offline, the reason "
               "KubeFedCluster ... reports Offline", rerun="-",
          command="ansible-inventory -i <fleet.kubesphere.yml with discover: true> --list")


def test_unbind_of_a_dead_member_is_refused_without_force(dead, ansible_run, tmp_path):
    lab = dead
    audit = AuditLog.for_lab(lab)
    mark = audit.mark()
    r = unbind(ansible_run, lab, "member1", str(tmp_path))
    assert r.rc != 0, r
    res = r.results(PREVIEW)["member1"]
    assert res["failed"] and res["code"] == "member_unreachable_needs_force"
    assert "set force: true" in res["msg"] and "webhook" in res["msg"] and "kubesphere#2306" in res["msg"]
    assert res["health"]["verdict"] == "offline" and res["member_reachable"] is False
    audit.sync(lab)
    assert audit.writes_by_collection(since=mark) == []
    assert cluster(lab.client(lab.host), "member1") is not None
    assert_webhook_as_before(lab)
    fault("dead-member-unbind-refused", moment="unbind without force",
          sees="refused, code member_unreachable_needs_force: set force: true (the webhook, kubesphere#2306); "
               "zero writes (audit log)", rerun="-", command=UNBIND_CMD)


def test_a_backup_folder_open_to_others_is_refused_before_any_write(dead, ansible_run, tmp_path):
    """The webhook configuration's backup is restored later: its folder must be the user's alone. An existing
    folder open to others is refused (folder_not_private) before the first write and left as it is."""
    lab = dead
    audit = AuditLog.for_lab(lab)
    mark = audit.mark()
    backups = tmp_path / "open"
    backups.mkdir()
    os.chmod(backups, 0o755)
    r = unbind(ansible_run, lab, "member1", str(backups), kubesphere_unbind_force=True)
    assert r.rc != 0, r
    res = r.results(PREVIEW)["member1"]  # the check-mode preview already refuses: the unbind never runs
    assert res["failed"] and res["code"] == "folder_not_private", res
    assert not r.results("Unbind the member")
    assert "chmod 700 %s" % backups in res["msg"] and "cluster 'member1'" in res["msg"]
    audit.sync(lab)
    assert audit.writes_by_collection(since=mark) == []
    assert os.listdir(backups) == [] and stat.S_IMODE(os.stat(backups).st_mode) == 0o755
    assert cluster(lab.client(lab.host), "member1") is not None
    assert_webhook_as_before(lab)
    record("files", __file__, "webhook-backup-folder-open",
           file="<kubesphere_unbind_webhook_backup_dir> existing and open to group or others",
           written_by="member (state: absent, force: true), role unbind", side="controller", mode="-",
           dir_mode="0755 (left as it is)", holds_secret=False,
           holds="nothing: refused (code folder_not_private) before the first write, zero writes (audit log)",
           checked="failed task with chmod 700 <folder>, folder empty and not chmod'ed, webhook configuration as before",
           command=UNBIND_CMD + " -e kubesphere_unbind_force=true -e kubesphere_unbind_webhook_backup_dir=<0755 folder>")


def test_forced_unbind_of_a_dead_member_completes_and_restores_the_webhook(dead, ansible_run, tmp_path):
    lab = dead
    host = lab.client(lab.host)
    backups = str(tmp_path / "backups")
    r = unbind(ansible_run, lab, "member1", backups, kubesphere_unbind_force=True)
    assert r.rc == 0, r
    res = r.results("Unbind the member")["member1"]
    assert res["changed"] and res["path"] == "dead" and res["steps"]["ok"]
    assert res["steps"]["done"][:3] == ["backup-webhook", "delete-cluster", "delete-webhook"]
    assert "restore-webhook" in res["steps"]["done"]
    assert res["webhook_restored"] is True
    assert any("removes the ValidatingWebhookConfiguration" in w for w in res.get("warnings", []))
    assert cluster(host, "member1") is None
    assert host.try_get(KFC + "/member1") is None
    assert host.try_get("/api/v1/namespaces/kube-federation-system/secrets/member1-secret") is None
    live = assert_webhook_as_before(lab)
    assert live["metadata"]["uid"] != lab.webhook_before["metadata"]["uid"]  # it really was deleted and recreated
    assert not os.listdir(backups)  # restored exactly: no stale backup left to restore later
    # what stays on the dead member is reported, and the run says what was done
    stays = [i["object"] for i in res["report"]["stays_on_member"]]
    assert "ServiceAccount kube-federation-system/member1-kubesphere" in stays

    again = unbind(ansible_run, lab, "member1", backups, kubesphere_unbind_force=True)
    assert again.rc == 0, again
    assert again.results("Unbind the member")["member1"]["changed"] is False
    fault("dead-member-forced-unbind", moment="unbind with force: true",
          sees="success at the first try: Cluster, KubeFedCluster and its Secret gone, the ValidatingWebhookConfiguration "
               "deleted and restored exactly (compared), a warning that says so, what stays on the dead member listed",
          rerun="changed false", command=UNBIND_CMD + " -e kubesphere_unbind_force=true")


class BackupWatch:
    """Stats the webhook configuration's backup while a forced unbind runs: the file exists from the step
    backup-webhook until the restore (the wait for the Cluster's deletion lies between)."""

    def __init__(self, folder):
        self.folder, self.seen, self.stop = folder, None, threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)

    def watch(self):
        while not self.stop.is_set() and self.seen is None:
            try:
                for name in os.listdir(self.folder):
                    path = os.path.join(self.folder, name)
                    if name.endswith(".json") and not name.startswith("."):
                        with open(path) as f:
                            text = f.read()
                        self.seen = {"name": name, "mode": stat.S_IMODE(os.stat(path).st_mode),
                                     "dir_mode": stat.S_IMODE(os.stat(self.folder).st_mode), "text": text}
            except (OSError, ValueError):
                pass
            self.stop.wait(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def test_the_webhook_is_restored_even_when_a_step_fails(dead, ansible_run, tmp_path):
    lab = dead
    host = lab.client(lab.host)
    backups = str(tmp_path / "backups")
    os.makedirs(backups, 0o700)  # the watch needs the folder; the run's own creation is test_files_at_rest's
    with BackupWatch(backups) as watch:
        r = unbind(ansible_run, lab, "member2", backups, kubesphere_unbind_force=True, kubesphere_unbind_wait_timeout=20)
    try:
        assert r.rc != 0, r
        res = r.results("Unbind the member")["member2"]
        assert res["failed"] and res["code"] == "unbind_failed"
        assert "step 'cluster-gone'" in res["msg"] and "Cluster member2" in res["msg"] and HOLD in res["msg"]
        assert res["steps"]["failed"][0]["step"] == "cluster-gone"
        assert "restore-webhook" in res["steps"]["done"]
        assert res["webhook_restored"] is True
        assert_webhook_as_before(lab)
        left = cluster(host, "member2")
        assert left["metadata"]["deletionTimestamp"] and left["metadata"]["finalizers"] == [HOLD]
        assert any(s.startswith("Cluster member2 (being deleted; finalizers: %s)" % HOLD) for s in res["remaining"]["host"])
    finally:
        release_hold(lab)
    wait_for(lambda: cluster(host, "member2") is None, 120, "Cluster member2 gone once the hold is released")
    # the backup at rest, seen while the run waited: 0600 in 0700, the webhook configuration, no key or token
    seen = watch.seen
    assert seen is not None, "the backup file was never seen during the forced unbind"
    assert seen["name"] == "%s-validatingwebhookconfiguration-cluster.kubesphere.io.json" % lab.host
    assert (seen["mode"], seen["dir_mode"]) == (0o600, 0o700)
    body = json.loads(seen["text"])
    assert body["kind"] == "ValidatingWebhookConfiguration" and restorable(body) == restorable(lab.webhook_before)
    assert not re.search(r"PRIVATE KEY|\btoken\b|jwtSecret", seen["text"])
    assert not os.listdir(backups)  # restored exactly, then removed
    record("files", __file__, "webhook-backup",
           file="<kubesphere_unbind_webhook_backup_dir>/<host>-validatingwebhookconfiguration-cluster.kubesphere.io.json",
           written_by="member (state: absent, force: true, dead member), role unbind", side="controller",
           mode="0600", dir_mode="0700 (created 0700; an existing folder open to others is refused)", holds_secret=False,
           holds="the ValidatingWebhookConfiguration cluster.kubesphere.io as it must be restored (its caBundle is a CA "
                 "certificate, not a secret); removed once restored exactly, kept when a run stops before the restore",
           checked="seen during the run: mode 0600, folder 0700, the webhook configuration, no private key, token or "
                   "jwtSecret; gone after the restore",
           command=UNBIND_CMD + " -e kubesphere_unbind_force=true (member dead)")
    fault("dead-member-step-fails", moment="forced unbind while another controller's finalizer holds the Cluster",
          sees="failed, code unbind_failed, naming step cluster-gone, the Cluster and the finalizer that holds it; the "
               "webhook configuration restored anyway (always-step), what is left on the host listed",
          rerun="-: the Cluster goes once that finalizer is released", command=UNBIND_CMD + " -e kubesphere_unbind_force=true")


def release_hold(lab):
    """The test's own finalizer goes the way users go by hand (the webhook would deny the update)."""
    host = lab.client(lab.host)
    if cluster(host, "member2") is None:
        return
    saved = restorable(host.get(VWC))
    host.request("DELETE", VWC)
    try:
        until_admitted(lambda: host.merge_patch(CLUSTERS + "/member2", {"metadata": {"finalizers": None}}))
    finally:
        host.request("POST", VWC.rsplit("/", 1)[0], json.loads(json.dumps(saved)))
