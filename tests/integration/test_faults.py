"""Faults injected at the worst moment against KubeSphere 3.4.1's real control plane (issue 20's "Faults"):
each ends in a clear message naming the cluster and what to do, or in a transparent retry, and a rerun that
converges with nothing duplicated (one Cluster per member) and nothing lost.

One private lab for the module (host, member1, member2; roles set by host_config.yml and member_config.yml);
the tests run in file order and each leaves the fleet as the next expects it:
1. ks-controller-manager paused (SIGSTOP: the lab's supervisor restarts a process that dies) while member1 is
   imported, and the host's kube-apiserver stopped (SIGTERM) and started again while that import waits;
2. the controller's ansible-playbook and its workers killed (SIGKILL) right after the Cluster member2 is made;
3. a writer updating the Cluster member2 (PUT with its resourceVersion, as kubectl edit does) in a loop while
   the collection changes the same Cluster;
4. kubefed paused (SIGSTOP) while a project is federated (a project federated before must stay untouched);
5. member2's kube-apiserver stopped for good: the doctor says so; a forced unbind killed (SIGKILL) between
   deleting KubeSphere's webhook configuration and restoring it; its rerun finishes and restores it;
6. kubefed paused during a normal unbind of member1, whose first run is killed right after it deleted the
   Cluster;
7. member1 (unbound, alive) set to role none while its ks-installer holds its run longer than the wait (the
   stand-in's per-cluster hang mark): the timeout names the cluster, what the installer last did, and that it
   may still be running;
8. site.yml on the host and member1 (now a proxy member; member2 stays dead, out of the inventory), held by a
   callback plugin after host_config.yml's last play while the host's kube-apiserver is stopped (SIGTERM) and
   started again: member1 gets role member back and is imported by proxy;
9. tower restarted as a kubelet restarts a pod (SIGTERM, SIGKILL after a grace period) while member1's agent is
   connected;
10. member1's kube-apiserver stopped (SIGTERM) and started again under its connected agent.
Each of 9 and 10: the member is healthy again (status.yml) and a rerun of join.yml writes nothing."""

import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time

import pytest
import yaml

from auditlog import AuditLog
from evidence import record
from kslabkit.rest import USER_AGENT as LAB_CLIENT
from polling import wait_for
from unbind_lab import (CLUSTERS, KFC, VWC, cluster, condition, kill_apiserver, restart_apiserver, restorable,
                        set_roles)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(REPO, "playbooks")
VENV_BIN = os.path.dirname(sys.executable)
RACER = "faults.test/racer"
HOLD = "kubesphere.multicluster.test/hold"

pytestmark = pytest.mark.timeout(1500)


@pytest.fixture(scope="module")
def fleet(make_module_lab):
    lab = make_module_lab(members=2)
    set_roles(lab)
    lab.audit = AuditLog.for_lab(lab)
    lab.webhook_before = lab.client(lab.host).get(VWC)
    return lab


# --- helpers ------------------------------------------------------------------------------------------------


def import_play(lab, name, play_vars=None, **args):
    """The member module once on localhost: import `name` (direct) with explicit connections."""
    task = {"name": "import", "kubesphere.multicluster.member": dict({
        "name": name, "kubeconfig": lab.kubeconfig(name), "host_kubeconfig": lab.kubeconfig(lab.host),
        "allow_loopback": True, "wait_sleep": 2, "wait_timeout": 300}, **args)}
    return yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                            "vars": dict(play_vars or {}), "tasks": [task]}], sort_keys=False)


def only_result(run):
    return run.results("import")["localhost"]


def playbook_env():
    return dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
                ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"),
                ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1")


def start_playbook(lab, text_or_path, name, extra_vars=None, inventory="localhost,"):
    """ansible-playbook in its own session (its workers in its process group), as a CI job or a terminal runs
    it; returns the Popen."""
    path = text_or_path
    if "\n" in text_or_path:
        path = os.path.join(lab.state_dir, "%s.yml" % name)
        with open(path, "w") as f:
            f.write(text_or_path)
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory, path]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    return subprocess.Popen(cmd, cwd=REPO, env=playbook_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def kill_group(proc):
    """SIGKILL of ansible-playbook and every worker it forked (its process group): nothing of the run is left
    to clean up after itself."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def exited(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] == "Z"
    except FileNotFoundError:
        return True


def component_pid(lab, kind):
    """The pid of the host's `kind` (ks-controller-manager, kubefed) that the lab's supervisor runs now."""
    for name in sorted(os.listdir(os.path.join(lab.state_dir, "procs"))):
        with open(os.path.join(lab.state_dir, "procs", name)) as f:
            rec = json.load(f)
        if rec.get("kind") == kind and rec.get("cluster") == lab.host and not rec.get("exit"):
            with open("/proc/%d/cmdline" % rec["pid"], "rb") as f:
                assert rec["needle"].encode() in f.read(), rec  # the lab's own process, started for this module
            return rec["pid"]
    raise AssertionError("no running %s of %s in %s/procs" % (kind, lab.host, lab.state_dir))


def uid_of(lab, name):
    return lab.client(name).get("/api/v1/namespaces/kube-system")["metadata"]["uid"]


def clusters_of_member(lab, name):
    """The names of every Cluster on the host whose status.uid is member `name`'s kube-system uid."""
    uid = uid_of(lab, name)
    return [c["metadata"]["name"] for c in lab.client(lab.host).get(CLUSTERS)["items"]
            if (c.get("status") or {}).get("uid") == uid]


def collection_writes(lab, mark):
    lab.audit.sync(lab)
    return [r for r in lab.audit.writes_by_collection_alone(since=mark) if LAB_CLIENT not in r.user_agent]


def assert_imported_once(lab, ansible_run, name, **args):
    """A rerun of the import finishes (health ready), one Cluster holds the member's uid, another run changes
    nothing."""
    run = ansible_run(import_play(lab, name, **args), "localhost,", timeout=900)
    res = only_result(run)
    assert run.rc == 0, (res.get("code"), res.get("msg"), res.get("problems"))
    assert res["health"]["verdict"] == "ready", run
    assert clusters_of_member(lab, name) == [name]
    run = ansible_run(import_play(lab, name, **args), "localhost,", timeout=900)
    assert run.rc == 0 and only_result(run)["changed"] is False, run
    return res


# --- 1. ks-controller-manager paused during a join; the host's kube-apiserver restarted during the wait ---------


def test_controller_manager_paused_during_a_join_and_the_host_apiserver_restarted_during_its_wait(fleet, ansible_run):
    """ks-controller-manager is paused from before the Cluster member1 is made until after the import's wait
    ended; while the import waits, the host's kube-apiserver is stopped and started again. The wait rides out
    the restart (its reads are retried; its end is the timeout with what is missing, not an unreachable host);
    the Cluster stays not joined; resumed, a rerun finishes with one Cluster."""
    lab = fleet
    host = lab.client(lab.host)
    pid = component_pid(lab, "ks-controller-manager")
    # the default time slices (20 s): the host is down across the wait's polls and the start of later slices
    # (a slice starts by reading again: execute/slicing.py's ride_out waits a host that does not answer out)
    play = import_play(lab, "member1", wait_timeout=120)
    os.kill(pid, signal.SIGSTOP)
    try:
        mark = lab.audit.mark()
        proc = start_playbook(lab, play, "paused-join")
        try:
            wait_for(lambda: cluster(host, "member1"), 240, "Cluster member1 created", interval=0.2)
            signalled = time.time()
            # SIGTERM: kube-apiserver shuts down gracefully (it ends its watches first: a few seconds with the
            # lab's --shutdown-watch-termination-grace-period), then the lab starts it again: the wait (120 s)
            # spans both
            kill_apiserver(lab, lab.host)
            stopped = time.time()
            restart_apiserver(lab, lab.host)
            restarted = time.time()
            out, _err = proc.communicate(timeout=600)
        finally:
            if proc.poll() is None:
                kill_group(proc)
        print("host kube-apiserver: %.1f s from SIGTERM to its end, then %.1f s until the new one answered"
              % (stopped - signalled, restarted - stopped))
        assert proc.returncode != 0, out[-3000:]
        res = json.loads(out[out.index("{"):])["plays"][0]["tasks"][0]["hosts"]["localhost"]
        assert res.get("failed") and res["code"] == "timeout", res
        msg = res["msg"]
        assert "cluster 'member1'" in msg and "Cluster member1" in msg and "not healthy" in msg, msg
        assert "KubeSphere has not set Ready yet" in msg and "ks-controller-manager" in msg, msg
        assert "run the import again" in msg, msg
        assert "unreachable" not in msg, msg  # the restart was ridden out: the last poll read the Cluster
        live = cluster(host, "member1")
        assert not (live.get("status") or {}).get("conditions"), live  # not joined while the controller is paused
        assert host.try_get("%s/member1" % KFC) is None
        # the wait read the Cluster again after the host came back (the audit log of the restarted kube-apiserver)
        lab.audit.sync(lab, clusters=[lab.host])
        reads = [r for r in lab.audit.requests(cluster=lab.host, since=mark, who="collection", verbs=("get",))
                 if r.resource == "clusters" and r.name == "member1" and LAB_CLIENT not in r.user_agent]
        assert any(r.time >= time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(restarted)) for r in reads), reads
        writes = collection_writes(lab, mark)
        assert [(r.verb, r.resource) for r in writes] == [("create", "clusters")], writes
    finally:
        os.kill(pid, signal.SIGCONT)
    assert_imported_once(lab, ansible_run, "member1")
    command = "ansible-playbook -i localhost, <play: member import of member1, wait_timeout: 120>"
    record("faults", __file__, "controller-manager-paused-during-join",
           fault="ks-controller-manager stopped (SIGSTOP) during a join",
           moment="from before the Cluster is created until after the import's wait ended",
           sees="the import fails (code timeout) naming cluster 'member1' and Cluster member1: KubeSphere has not "
                "set Ready yet; the Cluster has no status condition at all: ks-controller-manager on the host has "
                "not acted on it (check that it runs, its log), then run the import again. The Cluster stays not "
                "joined (no condition, no KubeFedCluster)",
           rerun="ks-controller-manager resumed (SIGCONT): the rerun finishes (health ready) with exactly one "
                 "Cluster for the member's uid; a third run changes nothing",
           command=command)
    record("faults", __file__, "host-apiserver-restarted-during-import-wait",
           fault="the host's kube-apiserver stopped (SIGTERM: its graceful shutdown) and started again during an "
                 "import's wait",
           moment="right after the Cluster was created, while the import waits for it to be healthy (time slices "
                  "of 20 s: the host is down across the wait's polls and the start of later slices)",
           sees="nothing: the wait's polls and a later slice's reads are retried while the host does not answer; "
                "it read the Cluster again from the restarted API server (audit log) and ended with the timeout of "
                "the paused controller above, not with an unreachable host",
           rerun="the same rerun as above: one Cluster, health ready",
           command=command)


# --- 2. the controller killed mid-import -----------------------------------------------------------------------


def test_the_controller_killed_mid_import_then_a_rerun_finishes_with_one_cluster(fleet, ansible_run):
    lab = fleet
    host = lab.client(lab.host)
    proc = start_playbook(lab, import_play(lab, "member2"), "killed-import")
    try:
        wait_for(lambda: cluster(host, "member2"), 240, "Cluster member2 created", interval=0.1)
    finally:
        kill_group(proc)
    assert [c for c in host.get(CLUSTERS)["items"] if c["metadata"]["name"] == "member2"]
    mark = lab.audit.mark()
    assert_imported_once(lab, ansible_run, "member2")
    assert collection_writes(lab, mark) == []  # the Cluster was made by the killed run: the rerun only waits
    record("faults", __file__, "controller-killed-mid-import",
           fault="the controller's ansible-playbook and its workers killed (SIGKILL) during an import",
           moment="right after the Cluster was created, before the wait for its health",
           sees="the run is gone (no result); the Cluster member2 is left as created",
           rerun="the rerun finds the Cluster, writes nothing new and waits: health ready, exactly one Cluster for "
                 "the member's uid; a third run changes nothing",
           command="ansible-playbook -i localhost, <play: member import of member2>")


# --- 3. a writer racing the collection on the same Cluster -------------------------------------------------------


class Racer(threading.Thread):
    """Updates the Cluster's annotation RACER in a loop with GET then PUT (the resourceVersion it read), as
    kubectl edit or a controller does; counts its own 409 Conflicts."""

    def __init__(self, lab, name):
        super().__init__(daemon=True)
        self.rest = lab.client(lab.host)
        self.path = "%s/%s" % (CLUSTERS, name)
        self.stop = threading.Event()
        self.updates = self.conflicts = 0
        self.last = None
        self.errors = []

    def run(self):
        from kslabkit.rest import ApiError  # noqa: PLC0415

        n = 0
        while not self.stop.is_set():
            n += 1
            obj = self.rest.get(self.path)
            obj["metadata"].setdefault("annotations", {})[RACER] = str(n)
            try:
                self.rest.request("PUT", self.path, obj)
                self.updates += 1
                self.last = str(n)
            except ApiError as e:
                if e.status == 409:
                    self.conflicts += 1
                else:
                    self.errors.append(str(e))


def test_a_writer_racing_on_the_same_cluster_cannot_make_the_collection_conflict(fleet, ansible_run):
    """The collection writes an object it shares with others by merge patch (no resourceVersion, so no
    precondition): a writer updating the same Cluster between the collection's read and its write cannot make
    it fail with 409 Conflict, and the other writer's change survives."""
    lab = fleet
    host = lab.client(lab.host)
    racer = Racer(lab, "member2")
    mark = lab.audit.mark()
    racer.start()
    try:
        wait_for(lambda: racer.updates >= 3, 60, "the racer's first updates", interval=0.1)
        runs = []
        for value in ("one", "two"):  # two changes of the Cluster while it is updated underneath
            runs.append(ansible_run(import_play(lab, "member2", labels={"faults.test/run": value}), "localhost,",
                                    timeout=900))
    finally:
        racer.stop.set()
        racer.join(30)
    print("racer: %d updates, %d conflicts" % (racer.updates, racer.conflicts))
    for run in runs:
        res = only_result(run)
        assert run.rc == 0 and res["changed"] is True and res["health"]["verdict"] == "ready", run
    assert racer.errors == [] and racer.updates > 3
    live = cluster(host, "member2")
    assert live["metadata"]["labels"]["faults.test/run"] == "two"
    assert live["metadata"]["annotations"][RACER] == racer.last  # the other writer's last change survives
    writes = collection_writes(lab, mark)
    patches = [r for r in writes if r.resource == "clusters" and r.name == "member2"]
    assert [(r.verb, r.code) for r in patches] == [("patch", 200)] * 2, writes
    assert all(r.verb == "patch" for r in writes), writes
    # the race was real: between each run's last read of the Cluster and its patch, the other writer's update
    # changed the Cluster (its resourceVersion), so a write carrying the version read would have had a 409
    reads = [r for r in lab.audit.requests(cluster=lab.host, since=mark, who="collection", verbs=("get",))
             if r.resource == "clusters" and r.name == "member2" and LAB_CLIENT not in r.user_agent]
    others = [r for r in lab.audit.requests(cluster=lab.host, since=mark, verbs=("update",))
              if r.resource == "clusters" and r.name == "member2" and LAB_CLIENT in r.user_agent and r.code == 200]
    for p in patches:
        read = max((r.time for r in reads if r.time < p.time), default=None)
        assert read is not None, (p, reads)
        between = [r for r in others if read < r.time < p.time]
        assert between, ("no update of the other writer between the read at %s and the patch at %s" % (read, p.time))
    record("faults", __file__, "racing-writer-on-cluster",
           fault="a writer updating the same Cluster (GET then PUT with its resourceVersion, in a loop) while the "
                 "collection changes it",
           moment="two imports of member2 with a new label each, all the while",
           sees="nothing: the collection writes shared objects by merge patch, which carries no resourceVersion, "
                "so the race cannot give it a 409 Conflict (the audit log: its two writes are PATCHes answered "
                "200, each after the other writer had updated the Cluster since the collection read it); only the "
                "other writer's PUTs can conflict, and its last change survives beside the label",
           rerun="not needed: every run succeeded, the Cluster has the last label and the other writer's last "
                 "annotation; still one Cluster",
           command="ansible-playbook -i localhost, <play: member import of member2, labels: {faults.test/run: ...}>")


# --- 4. kubefed paused during a federate -------------------------------------------------------------------------

FEDNS = "/apis/types.kubefed.io/v1beta1/namespaces/%s/federatednamespaces/%s"


def project_play(lab, name, wait_timeout, **args):
    task = {"name": "project", "kubesphere.multicluster.federated_project": dict({
        "kubeconfig": lab.kubeconfig(lab.host), "name": name, "workspace": "faults", "clusters": lab.members,
        "wait": True, "wait_timeout": wait_timeout}, **args)}
    return yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": [task]}],
                          sort_keys=False)


def on_members(lab, ns):
    return all(lab.client(m).try_get("/api/v1/namespaces/" + ns) for m in lab.members)


def test_kubefed_paused_during_a_federate_fails_clearly_and_a_rerun_converges(fleet, ansible_run):
    """A project already federated (`faults-keep`) stands for what must not be lost. kubefed is paused
    (SIGSTOP) before a second project is federated with wait: the FederatedNamespace is written, nothing is
    propagated, the wait ends with what is missing and what to check; resumed, a rerun converges."""
    lab = fleet
    host = lab.client(lab.host)
    run = ansible_run(project_play(lab, "faults-keep", 240), "localhost,", timeout=900)
    assert run.rc == 0, run
    keep = host.get(FEDNS % ("faults-keep", "faults-keep"))
    pid = component_pid(lab, "kubefed")
    os.kill(pid, signal.SIGSTOP)
    try:
        mark = lab.audit.mark()
        run = ansible_run(project_play(lab, "faults-shop", 30), "localhost,", timeout=900)
        assert run.rc != 0, run
        res = run.results("project")["localhost"]
        assert res["failed"] and res["code"] == "timeout", res
        msg = res["msg"]
        assert "FederatedNamespace faults-shop/faults-shop" in msg and "kubefed has not propagated it" in msg, msg
        assert "kubefed-controller-manager runs" in msg and "run this task again" in msg and "{" not in msg, msg
        assert host.try_get(FEDNS % ("faults-shop", "faults-shop")) is not None
        assert not any(lab.client(m).try_get("/api/v1/namespaces/faults-shop") for m in lab.members)
        assert all(r.name in ("faults-shop", "faults") for r in collection_writes(lab, mark))
    finally:
        os.kill(pid, signal.SIGCONT)
    run = ansible_run(project_play(lab, "faults-shop", 240), "localhost,", timeout=900)
    assert run.rc == 0, run
    assert on_members(lab, "faults-shop") and on_members(lab, "faults-keep")
    fed = host.get("/apis/types.kubefed.io/v1beta1/federatednamespaces")["items"]
    assert sorted(f["metadata"]["name"] for f in fed if f["metadata"]["name"].startswith("faults-")) == \
        ["faults-keep", "faults-shop"]
    assert host.get(FEDNS % ("faults-keep", "faults-keep"))["metadata"]["resourceVersion"] == \
        keep["metadata"]["resourceVersion"]
    run = ansible_run(project_play(lab, "faults-shop", 240), "localhost,", timeout=900)
    assert run.rc == 0 and run.results("project")["localhost"]["changed"] is False, run
    record("faults", __file__, "kubefed-paused-during-federate",
           fault="kubefed stopped (SIGSTOP) during a federate",
           moment="from before the project's FederatedNamespace is written until after its wait (wait: true) ended",
           sees="the task fails (code timeout) naming FederatedNamespace faults-shop/faults-shop: kubefed has not "
                "propagated it to every cluster within 30 s: kubefed has not reported yet; kubefed's controller on "
                "the host has not processed the object yet: check that kubefed-controller-manager runs and its log, "
                "then run this task again",
           rerun="kubefed resumed (SIGCONT): the rerun converges (the Namespace on both members), one "
                 "FederatedNamespace per project, the other project's untouched (same resourceVersion); a third "
                 "run changes nothing",
           command="ansible-playbook -i localhost, <play: federated_project faults-shop on member1, member2, "
                   "wait: true, wait_timeout: 30>")


# --- 5. a member's kube-apiserver stopped for good: the doctor; a forced unbind killed mid-way ----------------


def test_the_doctor_names_a_member_whose_apiserver_is_stopped_for_good(fleet, ansible_run, tmp_path):
    """member2's kube-apiserver killed (SIGKILL: a machine that died, no graceful shutdown) and never started again."""
    lab = fleet
    # a finalizer of another controller (the test's) holds the Cluster, so the forced unbind below waits for it
    # with the webhook configuration deleted: the window its SIGKILL needs (set now: the webhook denies every
    # update of a Cluster whose member it cannot reach)
    host = lab.client(lab.host)
    held = cluster(host, "member2")
    host.merge_patch(CLUSTERS + "/member2", {"metadata": {"finalizers": held["metadata"]["finalizers"] + [HOLD]}})
    kill_apiserver(lab, "member2", signal.SIGKILL)
    run = ansible_run(os.path.join(PLAYBOOKS, "doctor.yml"), lab.inventory,
                      extra_vars={"kubesphere_report_dir": str(tmp_path / "report")})
    assert run.rc != 0, run  # an error-level finding fails the doctor
    found = next(iter(run.results("Diagnose the fleet").values()))
    errors = {(x["code"], x["cluster"]): x for x in found["findings"] if x["level"] == "error"}
    assert ("unreachable", "member2") in errors, found
    finding = errors[("unreachable", "member2")]
    assert "cluster 'member2' could not be read" in finding["message"], finding
    assert "refused" in finding["message"] or "unreachable" in finding["message"], finding
    assert "kubeconfig" in finding["fix"] and "doctor.yml again" in finding["fix"], finding
    assert not [k for k in errors if k[1] in (lab.host, "member1")], errors
    record("faults", __file__, "dead-member-doctor",
           fault="a member's kube-apiserver stopped (SIGKILL) for good after it joined",
           moment="doctor.yml on the lab's inventory",
           sees="the doctor fails on an error-level finding: [unreachable] cluster 'member2' could not be read "
                "(the API server is unreachable); fix: check its kubeconfig and context, the network path to its "
                "API server and its credentials, then run doctor.yml again. No finding on the host or member1",
           rerun="-",
           command="ansible-playbook -i <inventory> playbooks/doctor.yml")


def unbind_vars(name, backups, **extra):
    out = {"kubesphere_unbind_cluster": name, "kubesphere_unbind_confirm": name,
           "kubesphere_unbind_webhook_backup_dir": backups, "kubesphere_unbind_wait_timeout": 240}
    out.update(extra)
    return out


def test_a_forced_unbind_killed_while_the_webhook_is_deleted_is_finished_by_a_rerun(fleet, ansible_run, tmp_path):
    """member2 is dead (the test above): the forced unbind backs up KubeSphere's webhook configuration, deletes
    the Cluster and the configuration, ... and restores it. Killed right after the configuration is gone, the
    run leaves it missing and its backup (0600) on the controller; the rerun restores it exactly from the
    backup, finishes the unbind and removes the backup."""
    lab = fleet
    host = lab.client(lab.host)
    wait_for(lambda: condition(host.try_get("%s/member2" % KFC), "Offline", "True"), 300,
             "KubeFedCluster member2 Offline")
    backups = str(tmp_path / "backups")
    extra = unbind_vars("member2", backups, kubesphere_unbind_force=True)
    proc = start_playbook(lab, os.path.join(PLAYBOOKS, "unbind.yml"), "killed-unbind", extra, lab.inventory)
    try:
        wait_for(lambda: host.try_get(VWC) is None, 300, "the webhook configuration deleted", interval=0.05)
    finally:
        kill_group(proc)
    files = os.listdir(backups)
    assert len(files) == 1, files
    backup = os.path.join(backups, files[0])
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600 and stat.S_IMODE(os.stat(backups).st_mode) == 0o700
    assert host.try_get(VWC) is None  # nothing restored it: the run was killed
    # the other controller releases the Cluster (the webhook configuration is gone: the update is let through)
    finalizers = cluster(host, "member2")["metadata"].get("finalizers") or []
    host.merge_patch(CLUSTERS + "/member2", {"metadata": {"finalizers": [f for f in finalizers if f != HOLD] or None}})
    run = ansible_run(os.path.join(PLAYBOOKS, "unbind.yml"), lab.inventory, extra_vars=extra, timeout=900)
    assert run.rc == 0, run
    assert cluster(host, "member2") is None and host.try_get("%s/member2" % KFC) is None
    assert restorable(host.get(VWC)) == restorable(lab.webhook_before)
    assert os.listdir(backups) == []
    assert cluster(host, "member1") is not None and condition(cluster(host, "member1"), "Ready", "True")
    run = ansible_run(os.path.join(PLAYBOOKS, "unbind.yml"), lab.inventory, extra_vars=extra, timeout=900)
    assert run.rc == 0 and not run.changed_hosts(lab.members), run
    record("faults", __file__, "controller-killed-mid-forced-unbind",
           fault="the controller's ansible-playbook and its workers killed (SIGKILL) during a forced unbind of a "
                 "dead member",
           moment="right after it deleted the ValidatingWebhookConfiguration cluster.kubesphere.io (backed up first), "
                  "while it waits for the Cluster to go (held by another controller's finalizer until after the kill)",
           sees="the run is gone; the webhook configuration is missing and its backup is on the controller "
                "(0600 in a 0700 folder)",
           rerun="the rerun restores the webhook configuration exactly from the backup (compared with the one "
                 "before), finishes the unbind (Cluster and KubeFedCluster gone) and removes the backup; member1 "
                 "untouched; a third run changes nothing",
           command="ansible-playbook -i <inventory> playbooks/unbind.yml -e kubesphere_unbind_cluster=member2 "
                   "-e kubesphere_unbind_confirm=member2 -e kubesphere_unbind_force=true")


# --- 6. the controller killed during a normal unbind (kubefed paused) ----------------------------------------


def test_the_controller_killed_mid_unbind_then_a_rerun_finishes_it(fleet, ansible_run, tmp_path):
    """kubefed is paused (SIGSTOP) for the whole unbind of member1 (the killed run and the rerun): the unbind
    needs only KubeSphere's controller. The controller's run is killed right after it deleted the Cluster."""
    lab = fleet
    host = lab.client(lab.host)
    extra = unbind_vars("member1", str(tmp_path / "backups"))
    keep = host.get(FEDNS % ("faults-keep", "faults-keep"))
    pid = component_pid(lab, "kubefed")
    os.kill(pid, signal.SIGSTOP)
    try:
        proc = start_playbook(lab, os.path.join(PLAYBOOKS, "unbind.yml"), "killed-unbind-normal", extra, lab.inventory)
        try:
            wait_for(lambda: (cluster(host, "member1") or {}).get("metadata", {}).get("deletionTimestamp")
                     or cluster(host, "member1") is None, 300, "Cluster member1 deleted", interval=0.05)
        finally:
            kill_group(proc)
        run = ansible_run(os.path.join(PLAYBOOKS, "unbind.yml"), lab.inventory, extra_vars=extra, timeout=900)
        assert run.rc == 0, run
        assert cluster(host, "member1") is None and host.try_get("%s/member1" % KFC) is None
    finally:
        os.kill(pid, signal.SIGCONT)
    assert restorable(host.get(VWC)) == restorable(lab.webhook_before)
    # while kubefed was paused, a resync of the host's own Cluster could fail to join it ("Cluster join federation
    # control plane failed": Ready False); with kubefed back, the controller's next sync makes it Ready again
    wait_for(lambda: condition(cluster(host, lab.host), "Ready", "True"), 180, "the host's Cluster Ready again")
    # nothing lost: the projects stay (their placement still names member1: remove_from_placements was not set)
    after = host.get(FEDNS % ("faults-keep", "faults-keep"))
    assert after["spec"]["placement"] == keep["spec"]["placement"]
    assert lab.client("member1").try_get("/api/v1/namespaces/faults-keep") is not None  # nothing removed there
    run = ansible_run(os.path.join(PLAYBOOKS, "unbind.yml"), lab.inventory, extra_vars=extra, timeout=900)
    assert run.rc == 0 and not run.changed_hosts(lab.members), run
    record("faults", __file__, "controller-killed-mid-unbind",
           fault="the controller's ansible-playbook and its workers killed (SIGKILL) during an unbind",
           moment="right after it deleted the Cluster member1 (KubeSphere's controller unjoining it)",
           sees="the run is gone (no result)",
           rerun="the rerun finds the Cluster being deleted or gone and finishes: Cluster and KubeFedCluster gone, "
                 "the webhook configuration as before, the host's own Cluster Ready; a third run changes nothing",
           command=UNBIND_MEMBER1)
    record("faults", __file__, "kubefed-paused-during-unbind",
           fault="kubefed stopped (SIGSTOP) during an unbind",
           moment="from before the unbind of member1 until its rerun ended (with the SIGKILL above)",
           sees="nothing: the unbind needs KubeSphere's controller, not kubefed (it removes the KubeFedCluster "
                "itself)",
           rerun="the rerun finishes the unbind while kubefed is still paused; resumed, the projects placed on "
                 "member1 are untouched (FederatedNamespace placement as before, the Namespace left on member1)",
           command=UNBIND_MEMBER1)


UNBIND_MEMBER1 = ("ansible-playbook -i <inventory> playbooks/unbind.yml -e kubesphere_unbind_cluster=member1 "
                  "-e kubesphere_unbind_confirm=member1")


# --- 7. an installer slower than the role's wait timeout ------------------------------------------------------

CC = "/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/ks-installer"
KS_CONFIG = "/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config"
HANG = "kslab.standins/hang"  # the ks-installer stand-in's per-cluster knob: a pending run waits while it is set


def role_play(lab, name, role, wait_timeout):
    task = {"name": "role", "kubesphere.multicluster.multicluster_role": {
        "kubeconfig": lab.kubeconfig(name), "cluster_name": name, "role": role, "wait_timeout": wait_timeout,
        "wait_sleep": 1}}
    return yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": [task]}],
                          sort_keys=False)


def rendered_role(lab, name):
    cm = lab.client(name).try_get(KS_CONFIG) or {}
    return ((yaml.safe_load((cm.get("data") or {}).get("kubesphere.yaml") or "") or {}).get("multicluster")
            or {}).get("clusterRole")


def test_an_installer_slower_than_the_wait_timeout_fails_saying_what_it_last_did(fleet, ansible_run):
    """member1 (unbound above, alive, role member) is set to role none while its ks-installer holds its run
    (the stand-in's hang mark: a run that takes longer than the wait): the task fails at its wait_timeout naming
    the cluster and what the installer last did; once the installer ran, a rerun converges without a write."""
    lab = fleet
    member = lab.client("member1")
    assert rendered_role(lab, "member1") == "member"
    member.merge_patch(CC, {"metadata": {"annotations": {HANG: "true"}}})
    try:
        mark = lab.audit.mark()
        run = ansible_run(role_play(lab, "member1", "none", 15), "localhost,", timeout=600)
        assert run.rc != 0, run
        res = run.results("role")["localhost"]
        assert res["failed"] and res["code"] == "timeout" and res["cluster"] == "member1", res
        msg = res["msg"]
        assert msg.startswith("cluster 'member1': ") and "ks-installer had not applied role 'none' after 15s" in msg, msg
        # what the installer last did: the role it rendered last, and no run since the write
        assert "Last seen: rendered clusterRole member" in msg, msg
        assert "not moved since our write: no run got past ks-core since" in msg, msg
        assert "it may still be running (a run takes minutes), so run this again later or with a longer wait_timeout" \
            in msg, msg
        assert "run this again" in msg, msg
        writes = collection_writes(lab, mark)
        assert [(r.cluster, r.verb, r.resource) for r in writes] == [("member1", "patch", "clusterconfigurations")], \
            writes
        assert rendered_role(lab, "member1") == "member"
    finally:
        member.merge_patch(CC, {"metadata": {"annotations": {HANG: None}}})
    wait_for(lambda: rendered_role(lab, "member1") == "none", 120, "the installer rendering role none on member1")
    mark = lab.audit.mark()
    run = ansible_run(role_play(lab, "member1", "none", 60), "localhost,", timeout=600)
    res = run.results("role")["localhost"]
    assert run.rc == 0 and res["changed"] is False, run
    assert collection_writes(lab, mark) == []
    record("faults", __file__, "installer-slower-than-wait-timeout",
           fault="ks-installer slower than the role's wait (its run held: the lab's stand-in waits while the "
                 "ClusterConfiguration carries kslab.standins/hang)",
           moment="member1's role changed (member to none) with wait_timeout 15",
           sees="the task fails (code timeout, cluster member1): " + stable_message(msg),
           rerun="once the installer ran (kubesphere-config rendered role none), the rerun changes nothing and "
                 "writes nothing (audit log)",
           command="ansible-playbook -i localhost, <play: multicluster_role member1 role none, wait_timeout: 15>")


def stable_message(msg):
    """A message with what changes from run to run (times, fingerprints) left out, for the evidence page."""
    msg = re.sub(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(Z|UTC| UTC)?", "<time>", msg)
    return re.sub(r"sha256:[0-9a-f]+", "sha256:<fingerprint>", msg)


# --- 8. the host's kube-apiserver restarted between two plays of site.yml (member1 imported by proxy) ---------

SITE = os.path.join(PLAYBOOKS, "site.yml")
JOIN = os.path.join(PLAYBOOKS, "join.yml")
STATUS = os.path.join(PLAYBOOKS, "status.yml")
HOST_PLAY = "Make the host cluster"  # host_config.yml's last play; the next one is member_config.yml's first
SITE_VARS = {"host_config_wait_sleep": 1, "host_config_wait_timeout": 120, "kubesphere_join_wait_sleep": 1,
             "kubesphere_join_wait_timeout": 240}
PAUSE_CALLBACK = '''
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: pause_between_plays
type: aggregate
short_description: a test's hold between two plays
description: At the start of the play after the play named in FAULT_AFTER_PLAY, write <FAULT_DIR>/paused and wait
  for <FAULT_DIR>/resume (the test injects its fault meanwhile).
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "pause_between_plays"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.previous = None
        self.held = False

    def v2_playbook_on_play_start(self, play):
        folder = os.environ["FAULT_DIR"]
        name = play.get_name()
        with open(os.path.join(folder, "plays"), "a") as f:
            f.write(name + "\\n")
        if self.previous == os.environ["FAULT_AFTER_PLAY"] and not self.held:
            self.held = True
            with open(os.path.join(folder, "paused"), "w") as f:
                f.write(name)
            deadline = time.time() + 600
            while not os.path.exists(os.path.join(folder, "resume")) and time.time() < deadline:
                time.sleep(0.2)
        self.previous = name
'''


def proxy_inventory(lab, tmp_path):
    """The lab's inventory without member2 (stopped for good above), member1 a proxy member."""
    with open(lab.inventory) as f:
        inv = yaml.safe_load(f)
    inv["kubesphere_members"]["hosts"].pop("member2")
    inv["kubesphere_members"]["hosts"]["member1"]["kubesphere_connection_type"] = "proxy"
    path = tmp_path / "proxy-inventory.yml"
    path.write_text(yaml.safe_dump(inv))
    return str(path)


def agent_available(lab):
    return condition(cluster(lab.client(lab.host), "member1"), "AgentAvailable")


def utc(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def test_the_host_apiserver_restarted_between_two_plays_of_site_yml(fleet, ansible_run, tmp_path):
    """site.yml on the host and member1 (role none since the test above, unbound, now a proxy member). A callback
    plugin holds the run at the start of member_config.yml's first play (after host_config.yml's last), while the
    host's kube-apiserver is stopped (SIGTERM) and started again; then the run goes on: member1 gets role member
    and is imported by proxy. The restart is transparent; a rerun changes nothing; one Cluster per member."""
    lab = fleet
    host = lab.client(lab.host)
    inventory = proxy_inventory(lab, tmp_path)
    plugins = tmp_path / "callbacks"
    plugins.mkdir()
    (plugins / "pause_between_plays.py").write_text(PAUSE_CALLBACK)
    hold = tmp_path / "hold"
    hold.mkdir()
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory, SITE, "-e", json.dumps(SITE_VARS)]
    env = dict(playbook_env(), ANSIBLE_CALLBACK_PLUGINS=str(plugins), ANSIBLE_CALLBACKS_ENABLED="pause_between_plays",
               FAULT_DIR=str(hold), FAULT_AFTER_PLAY=HOST_PLAY)
    old_pid = lab.state["clusters"][lab.host]["pid"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        wait_for(lambda: (hold / "paused").exists() or proc.poll() is not None, 600, "the run held between plays",
                 interval=0.2)
        assert (hold / "paused").exists(), proc.communicate(timeout=60)
        kill_apiserver(lab, lab.host)
        restart_apiserver(lab, lab.host)
        restarted = time.time()
        (hold / "resume").write_text("")
        out, err = proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            kill_group(proc)
    assert lab.state["clusters"][lab.host]["pid"] != old_pid
    plays = (hold / "plays").read_text().splitlines()
    held = (hold / "paused").read_text()
    assert plays[plays.index(HOST_PLAY) + 1] == held == "Read every cluster (unless the preflight did in this run)"
    assert "Make the member clusters (host's jwtSecret, optional component sync), wave by wave" in plays
    assert proc.returncode == 0, out[-6000:] + err[-3000:]
    assert rendered_role(lab, "member1") == "member"
    live = cluster(host, "member1")
    assert live["spec"]["connection"]["type"] == "proxy" and condition(live, "Ready", "True"), live
    assert agent_available(lab)["status"] == "True"
    # the import (after the restart) read and wrote through the restarted kube-apiserver
    lab.audit.sync(lab, clusters=[lab.host])
    writes = [r for r in lab.audit.requests(cluster=lab.host, since=restarted, who="collection", verbs=("create",))
              if r.resource == "clusters" and r.name == "member1"]
    assert len(writes) == 1, writes
    assert clusters_of_member(lab, "member1") == ["member1"]
    assert sorted(c["metadata"]["name"] for c in host.get(CLUSTERS)["items"]) == [lab.host, "member1"]
    run = ansible_run(SITE, inventory, extra_vars=SITE_VARS, timeout=900)
    assert run.rc == 0 and run.changed_hosts() == {}, run
    assert clusters_of_member(lab, "member1") == ["member1"]
    record("faults", __file__, "host-apiserver-restarted-between-site-plays",
           fault="the host's kube-apiserver stopped (SIGTERM: its graceful shutdown) and started again between two "
                 "plays of site.yml",
           moment="after host_config.yml's last play (Make the host cluster), before member_config.yml's first "
                  "(a callback plugin holds the run there until the host serves again); member1 then gets role "
                  "member and is imported by proxy",
           sees="nothing: the run succeeds; member1 is rendered role member and joined by proxy (Ready, "
                "AgentAvailable), its Cluster created once, through the restarted API server (audit log)",
           rerun="site.yml again changes nothing; exactly one Cluster for the member's uid (the host's own and "
                 "member1's, nothing else)",
           command="ansible-playbook -i <inventory: host, member1 (proxy)> playbooks/site.yml")


# --- 9. tower restarted while the proxy member is connected; 10. the proxy member's kube-apiserver restarted ---


def healthy_in_status(lab, ansible_run, inventory, report):
    from test_status_playbook import table_of  # noqa: PLC0415

    run = ansible_run(STATUS, inventory, extra_vars={"kubesphere_report_dir": report}, timeout=600)
    assert run.rc == 0, run
    rows, notes = table_of(run)
    assert rows["member1"]["READY"] == "yes", (rows, notes)
    # the one note on member1: where its agent dials, the address the host publishes (the same: not STALE)
    assert [n for n in notes if n.startswith("member1")] == [
        n for n in notes if n.startswith("member1: proxy agent dials ") and "STALE" not in n], notes
    seen = next(c for c in run.results("Read the cluster")[lab.host]["cluster"]["clusters"] if c["name"] == "member1")
    assert seen["health"] == "ready", seen
    return rows


def joined_again(lab, since):
    """The Cluster Ready and kubefed's health probe of member1 (through tower and the agent to member1's
    kube-apiserver, every 10 s) answered Ready True after `since`: the whole path works again."""
    host = lab.client(lab.host)
    probe = condition(host.try_get("%s/member1" % KFC), "Ready", "True")
    return (condition(cluster(host, "member1"), "Ready", "True") and probe
            and probe["lastProbeTime"] >= utc(since))


def join_converged(lab, ansible_run, inventory):
    mark = lab.audit.mark()
    run = ansible_run(JOIN, inventory, extra_vars=SITE_VARS, timeout=900)
    assert run.rc == 0 and run.changed_hosts() == {}, run
    assert collection_writes(lab, mark) == []
    assert clusters_of_member(lab, "member1") == ["member1"]


GRACE = 10  # seconds between SIGTERM and SIGKILL (a kubelet's grace period, shortened)


def test_tower_restarted_while_a_proxy_member_is_connected(fleet, ansible_run, tmp_path):
    lab = fleet
    inventory = proxy_inventory(lab, tmp_path)
    before = agent_available(lab)
    assert before["status"] == "True"
    pid = component_pid(lab, "tower")
    # a pod's restart: SIGTERM, then SIGKILL after the grace period (tower v0.2.1 stops its informer on SIGTERM but
    # does not exit while an agent is connected); the lab's supervisor starts it again after its back-off
    signalled = time.time()
    os.kill(pid, signal.SIGTERM)
    try:
        wait_for(lambda: exited(pid), GRACE, "tower to exit on SIGTERM", interval=0.5)
        killed = False
    except AssertionError:
        os.kill(pid, signal.SIGKILL)
        killed = True
    print("tower: %s" % ("SIGKILL after %d s of SIGTERM" % GRACE if killed else "exited on SIGTERM"))

    def new_tower():
        try:
            return component_pid(lab, "tower") != pid
        except (AssertionError, OSError):  # none running yet, or a record of one that just exited
            return False
    wait_for(new_tower, 120, "tower started again", interval=0.5)
    # the agent reconnected: tower's record of the connection is newer than the restart
    wait_for(lambda: (agent_available(lab) or {}).get("status") == "True"
             and agent_available(lab)["lastUpdateTime"] >= utc(signalled), 300, "member1's agent reconnected")
    wait_for(lambda: joined_again(lab, signalled), 300, "member1 Ready again (Cluster, kubefed's probe)")
    healthy_in_status(lab, ansible_run, inventory, str(tmp_path / "report"))
    join_converged(lab, ansible_run, inventory)
    record("faults", __file__, "tower-restarted-proxy-member-connected",
           fault="tower (the host's proxy) restarted as a kubelet restarts a pod (SIGTERM, SIGKILL after a 10 s grace "
                 "period: tower v0.2.1 does not exit on SIGTERM while an agent is connected) while a proxy member is "
                 "connected",
           moment="member1 joined by proxy, its cluster-agent connected",
           sees="member1's agent reconnects by itself: tower records a new connection (AgentAvailable True, updated "
                "after the restart); the Cluster is Ready and kubefed's health probe through tower answers Ready True "
                "again; status.yml reports member1 READY yes, health ready",
           rerun="join.yml changes nothing and writes nothing (audit log); one Cluster for the member's uid",
           command="ansible-playbook -i <inventory: host, member1 (proxy)> playbooks/status.yml, then "
                   "playbooks/join.yml")


def test_the_proxy_members_apiserver_restarted(fleet, ansible_run, tmp_path):
    lab = fleet
    inventory = proxy_inventory(lab, tmp_path)
    old_pid = lab.state["clusters"]["member1"]["pid"]
    kill_apiserver(lab, "member1")
    restart_apiserver(lab, "member1")
    restarted = time.time()
    assert lab.state["clusters"]["member1"]["pid"] != old_pid
    wait_for(lambda: joined_again(lab, restarted), 300, "member1 Ready again (Cluster, kubefed's probe)")
    assert agent_available(lab)["status"] == "True"
    healthy_in_status(lab, ansible_run, inventory, str(tmp_path / "report"))
    join_converged(lab, ansible_run, inventory)
    record("faults", __file__, "proxy-member-apiserver-restarted",
           fault="a proxy member's kube-apiserver stopped (SIGTERM: its graceful shutdown) and started again",
           moment="member1 joined by proxy, its cluster-agent connected to tower",
           sees="nothing to do: the agent serves the restarted API server (kubefed's health probe through tower and "
                "the agent answered Ready True after the restart; the Cluster Ready, AgentAvailable True); status.yml "
                "reports member1 READY yes, health ready",
           rerun="join.yml changes nothing and writes nothing (audit log); one Cluster for the member's uid",
           command="ansible-playbook -i <inventory: host, member1 (proxy)> playbooks/status.yml, then "
                   "playbooks/join.yml")
