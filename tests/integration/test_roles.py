"""Roles host_config/member_config/time_sync and the multicluster_role module against a PRIVATE lab with the stand-ins.

Each test starts its own lab (every cluster role `none`, ks-installer stand-in with a short delay) and
runs real ansible-playbook. "Writes nothing" is checked in the lab's audit logs: no create, update, patch or
delete by the collection's user on any cluster since a mark (`mark_writes`, `collection_writes`)."""

import os
import stat
import time

import pytest
import yaml
from auditlog import KUBESPHERE_AGENTS, AuditLog

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SITE = os.path.join(REPO, "playbooks", "site.yml")
FAST = {"host_config_wait_sleep": 1, "member_config_wait_sleep": 1, "host_config_wait_timeout": 60,
        "member_config_wait_timeout": 60}
CC = "/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/ks-installer"
CONFIG = "/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config"
NS = "/api/v1/namespaces/kubesphere-system"
MASK = "********"
FAIL, HANG = "kslab.standins/fail", "kslab.standins/hang"               # lab-only injections (STANDINS.md)
HANDLED, RESULT = "kslab.standins/handled-spec-hash", "kslab.standins/result"

pytestmark = pytest.mark.timeout(600)


# --- helpers -------------------------------------------------------------------------------------------

_labs_started = []


def private_lab(make_lab, members=2, not_installed=()):
    """A private lab, every cluster role none, ks-installer stand-in with a short delay."""
    extra_env = {"KSLAB_INSTALLER_DELAY": "0.5"}
    if os.environ.get("KSLAB_PRIVATE_PORT_BASE"):  # a range given to this session: a fresh block of it per lab,
        # so that a lab starting never meets the ports of the one just stopped (labs run one at a time here);
        # never KSLAB_PORT_BASE, which is the stage's shared lab. Unset: free ports.
        _labs_started.append(None)
        extra_env["KSLAB_PORT_BASE"] = str(int(os.environ["KSLAB_PRIVATE_PORT_BASE"]) + 100 * ((len(_labs_started) - 1) % 10))
    lab = make_lab(members=members, not_installed=not_installed, extra_env=extra_env)
    installed = [n for n in lab.names if n not in not_installed]
    deadline = time.time() + 60
    while not all(jwt(lab, n) for n in installed):  # the installer stand-in's first run
        assert time.time() < deadline, "the ks-installer stand-in did not render kubesphere-config"
        time.sleep(0.5)
    return lab


def installer_result(lab, name, timeout=60):
    """The ClusterConfiguration once the ks-installer stand-in has finished a run on it (its lab-only
    `kslab.standins/result` mark, see tests/lab/STANDINS.md)."""
    deadline = time.time() + timeout
    while True:
        cc = lab.client(name).try_get(CC) or {}
        if RESULT in (cc.get("metadata", {}).get("annotations") or {}):
            return cc
        assert time.time() < deadline, "the ks-installer stand-in did not finish a run on %s" % name
        time.sleep(0.5)


def restart_installer(lab, name):
    """What an operator does once the cause is fixed: restart ks-installer so it runs the same spec again
    (it reacts only to spec changes); in the lab, remove the injection and forget the spec it handled."""
    lab.client(name).merge_patch(CC, {"metadata": {"annotations": {FAIL: None, HANDLED: None}}})


def rendered(lab, name):
    cm = lab.client(name).try_get(CONFIG)
    return yaml.safe_load((cm or {}).get("data", {}).get("kubesphere.yaml") or "") or {}


def jwt(lab, name):
    return (rendered(lab, name).get("authentication") or {}).get("jwtSecret")


def role(lab, name):
    return (rendered(lab, name).get("multicluster") or {}).get("clusterRole")


# KubeSphere's own components act as the lab's admin user on a member imported with its kubeconfig; their user
# agents tell them apart from the collection (as in test_join.py).


def mark_writes(lab):
    """Where every cluster's audit log ends now: what collection_writes counts from. Synced first, so that
    the test's own writes just before (as the same admin user) are behind the mark."""
    audit = AuditLog.for_lab(lab)
    audit.sync(lab)
    return audit, audit.mark()


def collection_writes(lab, since, cluster=None):
    """Every write the collection's user sent since mark_writes() (on `cluster`, or any), dry runs excepted."""
    audit, mark = since
    audit.sync(lab)
    return [r for r in audit.writes_by_collection(since=mark, cluster=cluster)
            if not r.user_agent.startswith(KUBESPHERE_AGENTS)]


def changed_hosts(run):
    """{host: changed tasks} once the recap names every host of the run's inventory (conftest.PlaybookRun)."""
    return run.changed_hosts()


def one_task(lab, hosts, args, name="role change"):
    """A playbook text running multicluster_role once on `hosts` with the inventory's connection."""
    task = {"name": name, "kubesphere.multicluster.multicluster_role": dict({
        "cluster_name": "{{ kubesphere_cluster_name }}",
        "kubeconfig": "{{ kubesphere_kubeconfig }}",
        "context": "{{ kubesphere_context }}",
        "wait_sleep": 1, "wait_timeout": 60,
    }, **args)}
    return yaml.safe_dump([{"hosts": hosts, "gather_facts": False, "tasks": [task]}], sort_keys=False)


HOST_CONN = {"host_kubeconfig": "{{ hostvars[groups['kubesphere_host'][0]].kubesphere_kubeconfig }}",
             "host_context": "{{ hostvars[groups['kubesphere_host'][0]].kubesphere_context }}"}
# The fleet as facts (what the preflight role reads with cluster_info and peer_facts shapes)
PEERS = {"peers": "{{ [{'name': groups['kubesphere_host'][0], 'role': 'host'}] }}"}


def result_of(run, host, name="role change"):
    return run.results(name)[host]


# --- site.yml from a fleet of role none ------------------------------------------------------------------

def test_site_check_apply_idempotent_and_secret_never_shown(make_lab, ansible_run):
    lab = private_lab(make_lab)
    assert {role(lab, n) for n in lab.names} <= {"none", None}
    host_secret = jwt(lab, lab.host)
    assert host_secret

    # the clock gate runs first: a threshold KubeSphere would not honour stops the run before any write
    before = mark_writes(lab)
    gate = ansible_run(SITE, lab.inventory, extra_vars=dict(FAST, time_sync_threshold=20))
    assert gate.rc != 0 and "lower than KubeSphere's maximumClockSkew" in gate.stdout, gate
    assert collection_writes(lab, before) == []

    # --check --diff: nothing written, a diff with the secret masked
    check = ansible_run(SITE, lab.inventory, check=True, diff=True, extra_vars=FAST, callback="default")
    assert check.rc == 0, check
    assert collection_writes(lab, before) == []
    assert "clusterRole: member" in check.stdout and MASK in check.stdout
    assert host_secret not in check.stdout + check.stderr

    # the real run, at -vvv and with --diff: applied, secret nowhere in the output
    run = ansible_run(SITE, lab.inventory, diff=True, verbosity=3, extra_vars=FAST)
    assert run.rc == 0, run
    assert host_secret not in run.stdout + run.stderr
    assert changed_hosts(run).keys() == set(lab.names)
    assert role(lab, lab.host) == "host"
    assert lab.client(lab.host).get(CC)["status"]["multicluster"]["status"] == "enabled"
    for member in lab.members:
        assert role(lab, member) == "member"
        assert jwt(lab, member) == host_secret
    member_result = run.results("Set the member role with the host's jwtSecret and wait until KubeSphere applied it")
    for res in member_result.values():
        assert res["applied"] is True and res["jwt_secret_hash"].startswith("sha256:")
        assert res["result"]["spec"]["authentication"]["jwtSecret"] == MASK

    # a second run changes nothing; neither does a check run now
    again = ansible_run(SITE, lab.inventory, extra_vars=FAST)
    assert again.rc == 0, again
    assert changed_hosts(again) == {}
    # ... and reads no member again: the preflight's facts of this run show each one settled (issue 21)
    settled = again.results("Set the member role with the host's jwtSecret and wait until KubeSphere applied it")
    assert settled.keys() == set(lab.members)
    for name, res in settled.items():
        assert "preflight read shows role member" in res.get("settled", ""), (name, res)
        assert res["applied"] is True and res["plan"] == [] and "installer" not in res
    # a member whose ClusterConfiguration lost the jwtSecret is not settled: the next run reads it and puts it back
    spoiled = lab.members[0]
    lab.client(spoiled).merge_patch(CC, {"spec": {"authentication": {"jwtSecret": None}}})
    mended = ansible_run(SITE, lab.inventory, extra_vars=FAST)
    assert mended.rc == 0 and spoiled in changed_hosts(mended), mended
    assert "settled" not in mended.results("Set the member role with the host's jwtSecret and wait until KubeSphere "
                                           "applied it")[spoiled]
    assert lab.client(spoiled).get(CC)["spec"]["authentication"]["jwtSecret"] == host_secret
    assert jwt(lab, spoiled) == host_secret
    before = mark_writes(lab)
    check = ansible_run(SITE, lab.inventory, check=True, diff=True, extra_vars=FAST)
    assert check.rc == 0 and changed_hosts(check) == {}, check
    assert collection_writes(lab, before) == []

    # component sync (off by default): what the host enables, except the App Store, is enabled on members
    lab.client(lab.host).merge_patch(CC, {"spec": {"devops": {"enabled": True},
                                                   "openpitrix": {"store": {"enabled": True}}}})
    members = os.path.join(REPO, "playbooks", "member_config.yml")
    sync = ansible_run(members, lab.inventory, extra_vars=dict(FAST, member_config_sync_components=True))
    assert sync.rc == 0 and changed_hosts(sync).keys() == set(lab.members), sync
    for member in lab.members:
        spec = lab.client(member).get(CC)["spec"]
        assert spec["devops"]["enabled"] is True and spec["openpitrix"]["store"]["enabled"] is False
    again = ansible_run(members, lab.inventory, extra_vars=dict(FAST, member_config_sync_components=True))
    assert again.rc == 0 and changed_hosts(again) == {}, again


# --- guards ---------------------------------------------------------------------------------------------------

def refused(run, host, code):
    res = result_of(run, host)
    assert run.rc != 0 and res.get("failed"), run
    assert res["code"] == code, res
    assert [p["code"] for p in res["problems"]] == [code]
    return res["msg"]


def test_guards_refuse_and_write_nothing(make_lab, ansible_run):
    lab = private_lab(make_lab)
    host, m1, m2 = lab.host, lab.members[0], lab.members[1]
    made = ansible_run(one_task(lab, host, {"role": "host"}), lab.inventory)
    assert made.rc == 0, made

    # a second host
    before = mark_writes(lab)
    run = ansible_run(one_task(lab, m1, dict(PEERS, role="host")), lab.inventory)
    msg = refused(run, m1, "second_host")
    assert "cannot become a host: '%s' already is the host" % host in msg and "force: true" in msg
    assert collection_writes(lab, before) == []

    # the host has members (a Cluster object other than its own)
    lab.client(host).request("POST", "/apis/cluster.kubesphere.io/v1alpha1/clusters", {
        "apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
        "metadata": {"name": "joined-elsewhere"}, "spec": {"connection": {"type": "direct"}}})
    before = mark_writes(lab)
    run = ansible_run(one_task(lab, host, {"role": "none"}), lab.inventory)
    assert "joined-elsewhere" in refused(run, host, "host_has_members")
    assert collection_writes(lab, before) == []

    # a member that is imported somewhere cannot become a host (v4 annotation, no peers given)
    lab.client(m1).merge_patch(NS, {"metadata": {"annotations": {"cluster.kubesphere.io/host-cluster": "other"}}})
    before = mark_writes(lab)
    run = ansible_run(one_task(lab, m1, {"role": "host"}), lab.inventory)
    assert "host-cluster=other" in refused(run, m1, "member_imported")
    assert collection_writes(lab, before) == []

    # a member another host manages
    lab.client(m2).merge_patch(NS, {"metadata": {"annotations": {"cluster.kubesphere.io/host-cluster": "other"}}})
    before = mark_writes(lab)
    run = ansible_run(one_task(lab, m2, dict(HOST_CONN, role="member")), lab.inventory)
    assert "managed by another host" in refused(run, m2, "managed_by_other_host")
    assert collection_writes(lab, before) == []

    # force: done, with the problem as a warning
    run = ansible_run(one_task(lab, m2, dict(HOST_CONN, role="member", force=True)), lab.inventory)
    res = result_of(run, m2)
    assert run.rc == 0 and res["changed"] and res["applied"], run
    assert any("forced:" in w for w in res.get("warnings", []))
    assert jwt(lab, m2) == jwt(lab, host)


# --- installer failures --------------------------------------------------------------------------------------

def test_installer_failure_and_timeout_say_what_happened(make_lab, ansible_run):
    """ks-installer writes no `failed` status: a failed multicluster task on the host is told, early, from
    what its run left; a failed pre-install task and a hung installer end at wait_timeout with what the
    installer last did."""
    lab = private_lab(make_lab)
    host, m1, m2 = lab.host, lab.members[0], lab.members[1]

    # the host's multicluster task fails: kubesphere-config still renders host, status.multicluster stays unset
    lab.client(host).merge_patch(CC, {"metadata": {"annotations": {FAIL: "multicluster"}}})
    run = ansible_run(one_task(lab, host, {"role": "host", "wait_timeout": 600}), lab.inventory)
    res = result_of(run, host)
    assert run.rc != 0 and res["code"] == "installer_failed", run    # not "timeout": it did not wait 600 s
    assert "ks-installer's multicluster task failed in its run after role 'host' was written" in res["msg"]
    assert "rendered clusterRole host" in res["msg"] and "status.multicluster unset" in res["msg"]
    assert "status.core.enabledTime" in res["msg"] and "(moved since our write" in res["msg"]
    assert "ks-installer pod's log" in res["msg"] and "rollout restart deployment ks-installer" in res["msg"]
    assert role(lab, host) == "host" and "multicluster" not in lab.client(host).get(CC)["status"]
    assert jwt(lab, host) not in run.stdout + run.stderr

    # fixed and restarted: the same task, unchanged spec, now finds the role applied
    restart_installer(lab, host)
    run = ansible_run(one_task(lab, host, {"role": "host"}), lab.inventory)
    assert run.rc == 0 and result_of(run, host)["applied"] and not result_of(run, host)["changed"], run
    assert lab.client(host).get(CC)["status"]["multicluster"]["status"] == "enabled"

    # a member whose pre-install task ks-core fails: nothing rendered, status.core untouched -> timeout
    lab.client(m1).merge_patch(CC, {"metadata": {"annotations": {FAIL: "ks-core"}}})
    run = ansible_run(one_task(lab, m1, dict(HOST_CONN, role="member", wait_timeout=15)), lab.inventory)
    res = result_of(run, m1)
    assert run.rc != 0 and res["code"] == "timeout", run
    assert "had not applied role 'member' after 15s" in res["msg"]
    assert "kubesphere-config shows clusterRole 'none' (wanted 'member')" in res["msg"]
    assert "rendered clusterRole none" in res["msg"] and "(not moved since our write" in res["msg"]
    assert "runs again only when the ClusterConfiguration's spec changes" in res["msg"]
    assert "rollout restart deployment ks-installer" in res["msg"]
    assert installer_result(lab, m1)["metadata"]["annotations"][RESULT].startswith("Task 'ks-core' failed")
    assert jwt(lab, host) not in run.stdout + run.stderr

    # a hung installer: no run at all -> timeout
    lab.client(m2).merge_patch(CC, {"metadata": {"annotations": {HANG: "true"}}})
    run = ansible_run(one_task(lab, m2, dict(HOST_CONN, role="member", wait_timeout=3)), lab.inventory)
    res = result_of(run, m2)
    assert run.rc != 0 and res["code"] == "timeout", run
    assert "had not applied role 'member' after 3s" in res["msg"]
    assert "kubesphere-config shows clusterRole 'none' (wanted 'member')" in res["msg"]
    assert "(not moved since our write" in res["msg"]
    assert jwt(lab, host) not in run.stdout + run.stderr


# --- before install ---------------------------------------------------------------------------------------------

def test_before_install_file_and_configuration(make_lab, ansible_run, tmp_path):
    """The file (dest) and the object (create: true) have the shape ks-installer v3.4.1 keeps: it applies the
    role on them instead of deleting and re-creating them (the UID stays)."""
    lab = private_lab(make_lab, members=1, not_installed=("member1",))
    host, m1 = lab.host, lab.members[0]
    assert lab.client(m1).try_get(CC) is None
    assert ansible_run(one_task(lab, host, {"role": "host"}), lab.inventory).rc == 0
    secret = jwt(lab, host)

    # without an option: a clear refusal
    run = ansible_run(one_task(lab, m1, dict(HOST_CONN, role="member")), lab.inventory)
    assert result_of(run, m1)["code"] == "not_installed" and "create: true" in result_of(run, m1)["msg"]

    # dest: the file to install with (0600, the host's secret), idempotent, masked diff
    dest = str(tmp_path / "cluster-configuration.yaml")
    task = one_task(lab, m1, dict(HOST_CONN, role="member", dest=dest))
    run = ansible_run(task, lab.inventory, diff=True)
    assert run.rc == 0 and result_of(run, m1)["changed"], run
    assert secret not in run.stdout + run.stderr
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    with open(dest) as f:
        doc = yaml.safe_load(f)
    assert doc["spec"]["multicluster"]["clusterRole"] == "member"
    assert doc["spec"]["authentication"]["jwtSecret"] == secret
    assert not ansible_run(task, lab.inventory).results("role change")[m1]["changed"]

    # installing with that file (what `kubectl apply -f` does): the installer keeps the object and applies it
    rest = lab.client(m1)
    if rest.try_get(NS) is None:
        rest.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                    "metadata": {"name": "kubesphere-system"}})
    uid = rest.request("POST", CC.rsplit("/", 1)[0], doc)["metadata"]["uid"]
    done = installer_result(lab, m1)
    assert done["metadata"]["uid"] == uid and done["metadata"]["annotations"][RESULT] == "successful", done
    assert role(lab, m1) == "member" and jwt(lab, m1) == secret
    rest.request("DELETE", CC)
    deadline = time.time() + 60
    while rest.try_get(CC) is not None:
        assert time.time() < deadline, "the ClusterConfiguration was not deleted"
        time.sleep(0.5)

    # create: the ClusterConfiguration before the installer; the installer applies the role on that object
    audit = AuditLog.for_lab(lab)
    mark = audit.mark()
    run = ansible_run(one_task(lab, m1, dict(HOST_CONN, role="member", create=True)), lab.inventory)
    assert run.rc == 0 and result_of(run, m1)["changed"], run
    done = installer_result(lab, m1)
    assert done["metadata"]["annotations"][RESULT] == "successful", done
    assert done["spec"]["multicluster"]["clusterRole"] == "member"
    audit.sync(lab, clusters=[m1])
    made = [(audit.who(r), r.verb) for r in audit.requests(cluster=m1, since=mark, verbs=("create", "delete"))
            if r.resource == "clusterconfigurations" and r.succeeded and not r.dry_run]
    assert made == [("collection", "create")], made           # the installer neither deleted nor re-created it
    uid = done["metadata"]["uid"]
    run = ansible_run(one_task(lab, m1, dict(HOST_CONN, role="member")), lab.inventory)
    res = result_of(run, m1)
    assert run.rc == 0 and not res["changed"] and res["applied"], run
    assert jwt(lab, m1) == secret
    assert lab.client(m1).get(CC)["metadata"]["uid"] == uid


# --- time sync on node hosts, through playbooks/time_sync.yml ----------------------------------------------------

def test_time_sync_playbook_configures_node_hosts(make_lab, ansible_run, tmp_path):
    lab = private_lab(make_lab, members=1)
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    with open(lab.inventory) as f:
        (inventory / "clusters.yml").write_text(f.read())
    root = tmp_path / "root"
    (inventory / "nodes.yml").write_text(yaml.safe_dump({
        "kubesphere_host": {"hosts": {lab.host: {"kubesphere_node_group": "host_nodes"}}},
        "host_nodes": {"hosts": {"host-node1": None}, "vars": {
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "time_sync_root": str(root), "time_sync_install": False, "time_sync_manage_service": False,
            "time_sync_servers": ["ntp.lab.example"],
            "time_sync_tracking_command": "printf '%s' 'C0A80001,ntp.lab.example,3,0.0,0.0004,0.0,0.0,0.0,0.0,0.0,0.0,"
                                          "0.0,64.0,Normal'"}},
    }))
    playbook = os.path.join(REPO, "playbooks", "time_sync.yml")
    run = ansible_run(playbook, str(inventory))
    assert run.rc == 0, run
    assert run.stats_of()["host-node1"]["changed"] >= 1
    confs = list(root.rglob("chrony*.conf"))
    assert len(confs) == 1 and "server ntp.lab.example iburst" in confs[0].read_text()
    assert run.results("The node is synchronised and close to NTP time")["host-node1"]["node_offset"] == 0.0004
    assert "max_skew" in run.results("Fail when two clusters' clocks differ more than the threshold")[lab.host]
    again = ansible_run(playbook, str(inventory))
    assert again.rc == 0 and again.changed_hosts() == {}, again


def member_task_ran(run):
    """The clusters the member task ran on (member_config.yml first reads every cluster, in its own play)."""
    return set(run.results("Set the member role with the host's jwtSecret and wait until KubeSphere applied it"))


def test_members_roll_out_wave_by_wave_and_a_failed_wave_stops_the_next(make_lab, ansible_run):
    """member_config.yml follows the inventory's wave groups: canary first; when a canary member fails, the next
    wave is not touched; once fixed, a rerun finishes the rollout in order."""
    lab = private_lab(make_lab, members=3)
    host, m1, m2, m3 = lab.names
    inventory = yaml.safe_load(open(lab.inventory))
    inventory["wave_canary"] = {"hosts": {m2: None}}
    inventory["wave_rest"] = {"hosts": {m1: None}}            # m3 is in no wave: it goes last
    path = os.path.join(lab.state_dir, "waves.yml")
    with open(path, "w") as f:
        yaml.safe_dump(inventory, f)
    assert ansible_run(os.path.join(REPO, "playbooks", "host_config.yml"), path, extra_vars=FAST).rc == 0

    # the canary's installer fails in ks-core (nothing rendered: the wait times out) -> the next waves never start
    lab.client(m2).merge_patch(CC, {"metadata": {"annotations": {FAIL: "ks-core"}}})
    run = ansible_run(os.path.join(REPO, "playbooks", "member_config.yml"), path,
                      extra_vars=dict(FAST, member_config_wait_timeout=15))
    assert run.rc != 0
    assert run.stats[m2]["failures"] == 1
    assert member_task_ran(run) == {m2}                       # the next waves were never started
    assert role(lab, m1) == "none" and role(lab, m3) == "none"
    assert installer_result(lab, m2)["metadata"]["annotations"][RESULT].startswith("Task 'ks-core' failed")

    # Removing the cause alone is not enough: the installer does not rerun the spec it already ran.
    lab.client(m2).merge_patch(CC, {"metadata": {"annotations": {FAIL: None}}})
    run = ansible_run(os.path.join(REPO, "playbooks", "member_config.yml"), path,
                      extra_vars=dict(FAST, member_config_wait_timeout=3))
    assert run.rc != 0 and member_task_ran(run) == {m2}
    msg = result_of(run, m2, "Set the member role with the host's jwtSecret and wait until KubeSphere applied it")["msg"]
    assert "rendered clusterRole none" in msg
    assert "runs again only when the ClusterConfiguration's spec changes" in msg
    assert "rollout restart deployment ks-installer" in msg

    restart_installer(lab, m2)
    run = ansible_run(os.path.join(REPO, "playbooks", "member_config.yml"), path, extra_vars=FAST)
    assert run.rc == 0, run
    assert [role(lab, n) for n in (m1, m2, m3)] == ["member", "member", "member"]
    batches = [sorted(p["tasks"][0]["hosts"]) for p in run.data["plays"][1:]]  # after the read play
    assert batches == [[m2], [m1], [m3]]                      # one batch per wave: canary, rest, then no wave
