"""The AWX job templates, unchanged, on a KubeSphere v4.1.3 fleet (`kslab up --kubesphere v4.1.3`: ks-core on the
host, two bare members), run as AWX runs a job (tests/awx/awxkit.py: ansible-runner, a private data dir, the fleet
credential injected as its injectors say): the site job imports both members (the host installs ks-core on them), a
second site job changes nothing, the status job reports the 4.1 roles and version; no key material and no jwtSecret
in any job's stdout or events. Run in the lab-v41 stage with the other v4.1 tests (here, not in tests/awx: one pytest
run holds them all, and its folders' conftest modules would collide)."""

import base64
import importlib.util
import os

import pytest
import yaml


def _awxkit():
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "awx", "awxkit.py")
    spec = importlib.util.spec_from_file_location("awxkit", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


AWX = _awxkit()

pytestmark = pytest.mark.timeout(1200)
# as test_runner.py's survey: the lab's kubeconfigs name 127.0.0.1, which imports refuse unless allowed
SURVEY = {"kubesphere_join_allow_loopback": True, "kubesphere_rollout_waves": []}
READ = "Read the cluster"
IMPORT = "Import the member (checks first, then the Cluster, the agent for proxy members, health and verification)"
CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters/"


@pytest.fixture(scope="module")
def lab(make_v41_lab):
    return make_v41_lab(members=2)


@pytest.fixture(scope="module")
def credential(lab):
    return AWX.fleet_kubeconfig(lab)


@pytest.fixture
def run_job(tmp_path):
    return lambda playbook, **kw: AWX.awx_job(tmp_path, playbook, **kw)


def secrets(lab, kubeconfig_text):
    """Every private key of the credential (embedded and PEM body lines) and the host's jwtSecret (4.1:
    authentication.issuer.jwtSecret of its kubesphere-config)."""
    found = []
    for user in yaml.safe_load(kubeconfig_text)["users"]:
        data = user["user"]["client-key-data"]
        found.append(data)
        found += [ln for ln in base64.b64decode(data).decode().splitlines() if len(ln) > 40 and "PRIVATE KEY" not in ln]
    cm = lab.client(lab.host).get("/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config")
    found.append(yaml.safe_load(cm["data"]["kubesphere.yaml"])["authentication"]["issuer"]["jwtSecret"])
    return [s for s in found if s]


def no_secret(job, lab, credential):
    for secret in secrets(lab, credential):
        assert secret not in job.stdout and secret not in job.events_text, "a secret reached the job's output"


def condition(obj, kind):
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == kind), {})


def test_the_site_job_imports_the_v41_members_and_a_second_changes_nothing(lab, credential, run_job):
    job = run_job("playbooks/site.yml", survey=SURVEY, fleet_kubeconfig_text=credential, timeout=1100)
    assert job.status == "successful", job
    for name in lab.members:
        assert job.results(IMPORT)[name]["health"]["verdict"] == "ready"
        obj = lab.client(lab.host).get(CLUSTERS + name)
        assert condition(obj, "KSCoreReady").get("status") == "True" and condition(obj, "Ready").get("status") == "True"
    no_secret(job, lab, credential)

    again = run_job("playbooks/site.yml", survey=SURVEY, fleet_kubeconfig_text=credential)
    assert again.status == "successful", again
    stats = next(e for e in again.events if e["event"] == "playbook_on_stats")["event_data"]
    assert set(stats.get("processed") or {}) >= set(lab.names), stats
    assert not stats.get("changed"), "a second site job changed %s" % stats.get("changed")


def test_the_status_job_reports_the_v41_fleet(lab, credential, run_job):
    job = run_job("playbooks/status.yml", fleet_kubeconfig_text=credential)
    assert job.status == "successful", job
    facts = {h: r["cluster"] for h, r in job.results(READ).items()}
    assert {h: (f["role"], f["kubesphere_line"], f["kubesphere_version"]) for h, f in facts.items()} == dict(
        {lab.host: ("host", "4.1", "v4.1.3")}, **{m: ("member", "4.1", "v4.1.3") for m in lab.members})
    health = {c["name"]: c.get("health") for c in facts[lab.host]["clusters"]}
    assert all(health[m] == "ready" for m in lab.members), health
    no_secret(job, lab, credential)
