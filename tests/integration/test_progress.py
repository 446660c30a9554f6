"""Progress of long waits at the default verbosity (issue 12): the member and multicluster_role action plugins
run their modules in time slices and print one line per slice: the cluster, the condition, what is seen now
and the seconds waited. Against a private lab (KSLAB_PRIVATE_PORT_BASE picks its ports): site.yml on a fresh
fleet with the default callback prints those lines and imports both members; a second run changes nothing."""

import os
import re
import signal
import threading
import time

import pytest

from auditlog import KUBESPHERE_AGENTS, AuditLog
from conftest import REPO, inventory_hosts, with_lab_inventory
from standins.installer import read_ks_config
from test_faults import component_pid

SITE = os.path.join(REPO, "playbooks", "site.yml")
FAST = {"kubesphere_join_wait_sleep": 2, "kubesphere_join_wait_timeout": 420,
        "member_config_wait_sleep": 1, "host_config_wait_sleep": 1, "kubesphere_progress_interval": 2}
LINE = re.compile(r"^\[(?P<host>[\w-]+)\] (?P<cluster>[\w-]+): waiting until (?P<condition>.+?)"
                  r"(?: \(now: (?P<state>.*)\))?, (?P<elapsed>\d+) s of (?P<timeout>\d+) s$", re.M)
RECAP = re.compile(r"^(?P<host>[\w-]+)\s*: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)", re.M)
CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters"

pytestmark = pytest.mark.timeout(2400)


@pytest.fixture(scope="module")
def fleet(make_module_lab, tmp_path_factory):
    base = os.environ.get("KSLAB_PRIVATE_PORT_BASE")  # never KSLAB_PORT_BASE (the stage's shared lab)
    # The installer stand-in takes 6 s per run here (run-all.sh makes it 1 s): the host role's wait must outlast
    # a 2 s slice for its progress line to be certain.
    extra_env = {"KSLAB_INSTALLER_DELAY": "6"}
    if base:
        extra_env["KSLAB_PORT_BASE"] = base
    lab = make_module_lab(members=2, extra_env=extra_env)
    return with_lab_inventory(lab, tmp_path_factory)


def recap(run):
    return {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"} for m in RECAP.finditer(run.stdout)}


def ready(obj):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in ((obj or {}).get("status") or {}).get("conditions") or [])


HEALTH = "Cluster member1 is healthy (Ready True and its KubeFedCluster Ready True)"


def hold_kubefed_until(lab, released, stopped):
    """Keep the host's kubefed controller-manager stopped (SIGSTOP), from the moment the lab starts it (after
    the host role) until `released()`: no KubeFedCluster can turn Ready meanwhile. A kubefed the lab starts
    anew is stopped too; the pids stopped go into `stopped` (the caller continues them)."""
    while not released():
        try:
            pid = component_pid(lab, "kubefed")
        except (AssertionError, OSError):  # not started yet (or just exiting)
            pid = None
        if pid and pid not in stopped:
            os.kill(pid, signal.SIGSTOP)
            stopped.add(pid)
        time.sleep(0.2)


def test_site_prints_progress_while_members_join_and_a_second_run_changes_nothing(fleet, ansible_run, tmp_path):
    lab = fleet
    output = str(tmp_path / "site.out")
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(run=ansible_run(
        SITE, lab.lab_inventory, extra_vars=FAST, callback="default", timeout=1800, stdout_path=output)))
    runner.start()
    # member1's health wait must outlast a 2 s slice for its progress line to be certain (on a quick lab kubefed
    # finds it Ready within one): the host's kubefed is held stopped until the run has printed that line, so
    # member1's KubeFedCluster cannot turn Ready before (nor member2's; its wait just lasts as long)

    def printed_health():
        with open(output) as f:
            return any(m["condition"] == HEALTH for m in LINE.finditer(f.read()))
    stopped = set()
    try:
        hold_kubefed_until(lab, lambda: not runner.is_alive() or (os.path.exists(output) and printed_health()), stopped)
    finally:
        for pid in stopped:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
    runner.join(1800)
    run = outcome["run"]
    assert run.rc == 0, run
    lines = [m.groupdict() for m in LINE.finditer(run.stdout)]
    # every line names its own host's cluster, and the seconds waited grow from one line to the next of a wait
    assert lines and all(x["host"] == x["cluster"] and int(x["elapsed"]) <= int(x["timeout"]) for x in lines), lines
    for cond in {(x["cluster"], x["condition"]) for x in lines}:
        seen = [int(x["elapsed"]) for x in lines if (x["cluster"], x["condition"]) == cond]
        assert seen == sorted(seen), (cond, seen)
    # the host's role (ks-installer's run) and member1's health (kubefed held) take longer than a slice
    assert [x for x in lines if x["cluster"] == lab.host and x["condition"] == "ks-installer applied role 'host'"
            and int(x["timeout"]) == 600], lines
    # a proxy member's waits (tower, the agent) may end within one slice: its lines, if any, are its own
    for name in ("member1", "member2"):
        mine = [x for x in lines if x["condition"].startswith("Cluster %s is " % name)]
        assert all(x["cluster"] == name and int(x["timeout"]) == 420 for x in mine), mine
    health = [x for x in lines if x["condition"] == HEALTH]
    assert health and all(x["state"] for x in health), lines
    # the lines carry no secret: no key, certificate or JWT, and none of the lab's real secrets (the words
    # "token" and "kubeconfig" may appear: KubeSphere's own conditions say `Key "token" not found in service
    # account secret` while a member's token controller is slow)
    printed = "\n".join(m.group(0) for m in LINE.finditer(run.stdout))
    assert not re.search(r"BEGIN|client-key|eyJ", printed, re.I), printed
    host_client = lab.client(lab.host)
    clusters = {c["metadata"]["name"]: c for c in host_client.get(CLUSTERS)["items"]}
    secrets = {"host jwtSecret": read_ks_config(host_client)["authentication"]["jwtSecret"],
               "agent token": clusters["member2"]["spec"]["connection"]["token"],
               "stored kubeconfig (base64)": clusters["member1"]["spec"]["connection"]["kubeconfig"]}
    for what, value in secrets.items():
        assert value and value not in printed, "%s appears in a progress line" % what
    stats = recap(run)
    assert stats["member1"]["changed"] > 0 and stats["member2"]["changed"] > 0, stats
    assert all(s["failed"] == 0 and s["unreachable"] == 0 for s in stats.values()), stats
    # the real outcome: both members imported and Ready
    clusters = {c["metadata"]["name"]: c for c in lab.client(lab.host).get(CLUSTERS)["items"]}
    assert ready(clusters["member1"]) and ready(clusters["member2"]), clusters.keys()
    assert clusters["member2"]["spec"]["connection"]["type"] == "proxy"

    audit = AuditLog.for_lab(lab)
    audit.sync(lab)
    mark = audit.mark()
    again = ansible_run(SITE, lab.lab_inventory, extra_vars=FAST, callback="default", timeout=1200)
    assert again.rc == 0, again
    stats = recap(again)
    assert set(stats) >= inventory_hosts(lab.lab_inventory), (stats, again)
    assert all(s["changed"] == 0 and s["failed"] == 0 for s in stats.values()), (stats, again)
    # and wrote nothing (the audit log; KubeSphere's components act as the admin user on member1, imported
    # with its kubeconfig: told apart by their user agent)
    audit.sync(lab)
    assert [r for r in audit.writes_by_collection(since=mark) if not r.user_agent.startswith(KUBESPHERE_AGENTS)] == []
    assert not LINE.search(again.stdout), again
