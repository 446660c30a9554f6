"""The sliced rollout (extensions/awx/workflow_templates/sliced_rollout.json) run as AWX runs it, through
ansible-runner, on a private lab of a host and 8 members: the host job (one job, the whole inventory), then the
members job sliced in 3 as AWX slices it (hosts in name order, slice i of n takes hosts i, i+n, ...; a slice's
inventory holds only its share, every group kept) with the three slices started at the same time, then the
status job. Most slices have no host in their share: they reach it through kubesphere_host_context in the fleet
credential's kubeconfig and read it themselves.

Asserted: every slice succeeds and imports exactly the members of its share; a slice without the host read the
host through that context (its kube-system UID is the host's); afterwards every member renders role member with
the host's jwtSecret and its Cluster and KubeFedCluster are Ready (what one unsliced run leaves), and an
unsliced site job then finds nothing to change and writes nothing; the audit logs show one Cluster create per
member on the host and no 409 (write conflict) anywhere from the collection; no key or jwtSecret in any job's
output. The wall times of each job and slice are printed (run with -s), never asserted."""

import concurrent.futures
import os
import time

import pytest
import yaml

from auditlog import KUBESPHERE_AGENTS, AuditLog
from awxkit import CONFIG, awx_job, awx_slices, fleet_inventory, fleet_kubeconfig, secrets_of, write_inventory

pytestmark = pytest.mark.timeout(2400)
FAST = {"host_config_wait_sleep": 1, "member_config_wait_sleep": 1, "host_config_wait_timeout": 180,
        "member_config_wait_timeout": 180, "kubesphere_join_allow_loopback": True, "kubesphere_join_wait_sleep": 2,
        "kubesphere_join_wait_timeout": 400}
SLICES = 3
MEMBERS = 8
CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters/"
KUBEFED = "/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/kubefedclusters/"
KUBE_SYSTEM = "/api/v1/namespaces/kube-system"
READ = "Read the cluster (the facts the fleet-level checks use)"
IMPORT = "Import the member (checks first, then the Cluster, the agent for proxy members, health and verification)"
# KubeSphere's own controllers act on direct members with the stored (lab admin) kubeconfig: the same user as
# the collection, told apart by their user agent (as tests/integration/test_join.py does).


@pytest.fixture(scope="module")
def sliced_lab(make_module_lab):
    """A private lab of a host and 8 members (KSLAB_AWX_SLICED_STATE: a fresh lab of that size already running,
    e.g. to profile; it is left running)."""
    if os.environ.get("KSLAB_AWX_SLICED_STATE"):
        import importlib.util  # noqa: PLC0415

        spec = importlib.util.spec_from_file_location(
            "kslab_tests_conftest", os.path.join(os.path.dirname(os.path.dirname(__file__)), "conftest.py"))
        tests_conftest = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(tests_conftest)
        lab = tests_conftest.LabHandle(dict(os.environ, KSLAB_STATE=os.environ["KSLAB_AWX_SLICED_STATE"]))
        assert len(lab.members) == MEMBERS
    else:
        lab = make_module_lab(members=MEMBERS, extra_env={"KSLAB_INSTALLER_DELAY": "0.5"})
    deadline = time.time() + 180
    while not all(lab.client(n).try_get(CONFIG) for n in lab.names):
        assert time.time() < deadline, "the ks-installer stand-in did not render kubesphere-config"
        time.sleep(1)
    return lab


def rendered(lab, name):
    cm = lab.client(name).try_get(CONFIG) or {}
    return yaml.safe_load((cm.get("data") or {}).get("kubesphere.yaml") or "") or {}


def ready(obj):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in ((obj or {}).get("status") or {}).get("conditions") or [])


def by_collection(requests):
    return [r for r in requests if not r.user_agent.startswith(KUBESPHERE_AGENTS)]


def assert_clean(job, lab, kubeconfig_text):
    for secret in secrets_of(lab, kubeconfig_text):
        assert secret not in job.stdout and secret not in job.events_text, "a secret reached a job's output"


def test_host_job_then_three_slices_at_once_then_status(sliced_lab, tmp_path):
    lab = sliced_lab
    credential = fleet_kubeconfig(lab)
    groups = fleet_inventory(lab)
    full = write_inventory(str(tmp_path / "inventory"), groups)
    shares = awx_slices(lab.names, SLICES)
    assert sorted(h for s in shares for h in s) == sorted(lab.names) and all(shares)
    audit = AuditLog.for_lab(lab)
    uids = {n: lab.client(n).get(KUBE_SYSTEM)["metadata"]["uid"] for n in lab.names}
    times = {}

    start = time.time()
    host_job = awx_job(tmp_path, "playbooks/host.yml", survey=FAST, fleet_kubeconfig_text=credential, inventory=full)
    times["host job"] = time.time() - start
    assert host_job.status == "successful", host_job
    assert rendered(lab, lab.host)["multicluster"]["clusterRole"] == "host"
    assert_clean(host_job, lab, credential)

    mark = audit.mark()

    def run_slice(i):
        inventory = write_inventory(str(tmp_path / ("slice%d" % (i + 1))), groups, keep=shares[i])
        began = time.time()
        job = awx_job(tmp_path, "playbooks/members.yml", fleet_kubeconfig_text=credential, inventory=inventory,
                      survey=dict(FAST, kubesphere_host_context=lab.host), timeout=1800)
        return job, began, time.time()

    with concurrent.futures.ThreadPoolExecutor(SLICES) as pool:
        done = list(pool.map(run_slice, range(SLICES)))
    first, last = min(d[1] for d in done), max(d[2] for d in done)
    for i, (job, began, ended) in enumerate(done):
        members = [h for h in shares[i] if h != lab.host]
        times["slice %d/%d (%s)" % (i + 1, SLICES, ", ".join(shares[i]))] = ended - began
        assert job.status == "successful", "slice %d: %r" % (i + 1, job)
        imported = job.results(IMPORT)
        assert sorted(imported) == sorted(members), "slice %d imported %s" % (i + 1, sorted(imported))
        read = {h: r["cluster"]["kube_system_uid"] for h, r in job.results(READ).items()}
        assert read == {h: uids[h] for h in set(shares[i]) | {lab.host}}, \
            "slice %d read %s (the host through its context, and its own share)" % (i + 1, sorted(read))
        assert_clean(job, lab, credential)
    times["members job (3 slices, first start to last end)"] = last - first
    assert any(lab.host not in s for s in shares), "no slice without the host: the test would prove nothing"

    host = lab.client(lab.host)
    secret = rendered(lab, lab.host)["authentication"]["jwtSecret"]
    for member in lab.members:
        r = rendered(lab, member)
        assert r["multicluster"]["clusterRole"] == "member", member
        assert r["authentication"]["jwtSecret"] == secret, "%s does not render the host's jwtSecret" % member
        assert ready(host.try_get(CLUSTERS + member)), "%s: its Cluster is not Ready" % member
        assert ready(host.try_get(KUBEFED + member)), "%s: its KubeFedCluster is not Ready" % member

    audit.sync(lab)
    writes = by_collection(audit.writes_by_collection(since=mark))
    creates = sorted(r.name for r in writes if r.cluster == lab.host and r.verb == "create"
                     and r.full_resource == "clusters.cluster.kubesphere.io")
    assert creates == sorted(lab.members), "Cluster creates on the host: %s" % creates
    conflicts = [r for r in by_collection(audit.requests(since=mark, who="collection")) if r.code == 409]
    assert conflicts == [], "write conflicts: %s" % conflicts
    assert not [r for r in writes if r.cluster == lab.host and r.full_resource != "clusters.cluster.kubesphere.io"], \
        "a slice wrote to the host something else than its members' Clusters"

    start = time.time()
    survey = {"kubesphere_status_strict": "true", "kubesphere_report_dir": ""}
    status = awx_job(tmp_path, "playbooks/status.yml", survey=survey, fleet_kubeconfig_text=credential,
                     inventory=full)
    times["status job"] = time.time() - start
    assert status.status == "successful", status
    roles = {h: r["cluster"]["role"] for h, r in status.results("Read the cluster").items()}
    assert roles == dict({lab.host: "host"}, **{m: "member" for m in lab.members})
    assert_clean(status, lab, credential)

    # what one unsliced run leaves: an unsliced site job finds nothing to change and writes nothing
    mark = audit.mark()
    start = time.time()
    site = awx_job(tmp_path, "playbooks/site.yml", survey=FAST, fleet_kubeconfig_text=credential, inventory=full)
    times["unsliced site job afterwards (no-op)"] = time.time() - start
    assert site.status == "successful", site
    stats = next(e for e in site.events if e["event"] == "playbook_on_stats")["event_data"]
    assert not stats.get("changed"), "the unsliced site job changed %s after the sliced rollout" % stats.get("changed")
    audit.sync(lab)
    assert by_collection(audit.writes_by_collection(since=mark)) == []

    print("\nsliced rollout, %d members, %d slices, %s:" % (MEMBERS, SLICES, os.uname().nodename))
    for what, seconds in times.items():
        print("  %-70s %7.1f s" % (what, seconds))
    print("  %-70s %7.1f s" % ("members job per member", times["members job (3 slices, first start to last end)"]
                               / MEMBERS))


# Refusals of playbooks/slice_host.yml, before any connection (the kubeconfig names a port nothing listens on).
NOWHERE = yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "host",
                          "clusters": [{"name": n, "cluster": {"server": "https://127.0.0.1:9"}} for n in ("host", "member1")],
                          "users": [{"name": "u", "user": {"token": "not-a-secret"}}],
                          "contexts": [{"name": n, "context": {"cluster": n, "user": "u"}} for n in ("host", "member1")]})
GROUPS = {"kubesphere_host": {"hosts": {"host": {"kubesphere_context": "host"}}},
          "kubesphere_members": {"hosts": {"member1": {"kubesphere_context": "member1"}}},
          "kubesphere_clusters": {"children": {"kubesphere_host": {}, "kubesphere_members": {}}}}


def failure(job):
    failed = [e["event_data"] for e in job.events if e["event"] == "runner_on_failed"]
    assert job.status == "failed" and len(failed) == 1, job
    return failed[0]["task"], failed[0]["res"]["msg"]


def test_a_host_context_naming_another_cluster_than_the_inventorys_host_is_refused(tmp_path):
    inventory = write_inventory(str(tmp_path / "inventory"), GROUPS)
    job = awx_job(tmp_path, "playbooks/members.yml", fleet_kubeconfig_text=NOWHERE, inventory=inventory,
                  survey={"kubesphere_host_context": "member1"})
    task, msg = failure(job)
    assert task == "The host named by kubesphere_host_context is the inventory's host"
    assert msg.startswith("[host_context_mismatch] cluster 'host':") and "'member1'" in msg, msg
    assert "PLAY [Fleet preflight]" not in job.stdout, "a play after the refusal ran"


def test_a_slice_without_the_host_and_without_a_kubeconfig_for_it_is_refused(tmp_path):
    inventory = write_inventory(str(tmp_path / "slice"), GROUPS, keep=["member1"])
    job = awx_job(tmp_path, "playbooks/members.yml", inventory=inventory, survey={"kubesphere_host_context": "host"})
    task, msg = failure(job)
    assert task == "The fleet kubeconfig the host is read through is given"
    assert msg.startswith("[no_host_kubeconfig] cluster 'host':"), msg
    assert "PLAY [Fleet preflight]" not in job.stdout, "a play after the refusal ran"


def test_a_slice_without_the_host_nor_its_context_is_refused_by_the_fleet_check(tmp_path):
    inventory = write_inventory(str(tmp_path / "slice"), GROUPS, keep=["member1"])
    job = awx_job(tmp_path, "playbooks/members.yml", fleet_kubeconfig_text=NOWHERE, inventory=inventory)
    task, msg = failure(job)
    assert task.endswith("Check the fleet in the inventory (one host, valid and distinct names, kubeconfigs and "
                         "contexts, distinct API servers)")
    assert "[no_host]" in msg and "kubesphere_host_context" in msg, msg
