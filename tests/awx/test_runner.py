"""The playbooks run as AWX runs them (ansible-runner, private data dir, survey answers as extra vars, the
fleet credential injected as its injectors say), against a private lab; artifacts are read back: the job's
status, its events, and no key material or jwtSecret in stdout or any event."""


import base64
import os
import time

import pytest
import yaml

from awxkit import CONFIG, REPO, cluster_kubeconfig, secrets_of

pytestmark = pytest.mark.timeout(900)
# The lab's kubeconfigs name 127.0.0.1, which imports refuse unless allowed: an extra var here, as a survey or the
# job's extra vars would give it (a real fleet's AWX inventory does not need it).
FAST = {"host_config_wait_sleep": 1, "member_config_wait_sleep": 1, "host_config_wait_timeout": 90,
        "member_config_wait_timeout": 90, "kubesphere_join_allow_loopback": True}
KUBE_SYSTEM = "/api/v1/namespaces/kube-system"
READ = "Read the cluster"


def uids(lab):
    return {n: lab.client(n).get(KUBE_SYSTEM)["metadata"]["uid"] for n in lab.names}


def rendered(lab, name):
    cm = lab.client(name).try_get(CONFIG) or {}
    return yaml.safe_load((cm.get("data") or {}).get("kubesphere.yaml") or "") or {}


def assert_no_secret(job, lab, kubeconfig_text):
    for secret in secrets_of(lab, kubeconfig_text):
        assert secret not in job.stdout, "a secret reached the job's stdout"
        assert secret not in job.events_text, "a secret reached the job events"


def test_doctor_is_a_check_job_that_reads_the_fleet(awx_lab, fleet_credential, run_job):
    job = run_job("playbooks/preflight.yml", fleet_kubeconfig_text=fleet_credential, job_type="check")
    assert job.status == "successful" and job.rc == 0, job
    (res,) = job.results("Check the fleet in the inventory (one host, valid and distinct names, kubeconfigs and "
                         "contexts, distinct API servers)").values()
    assert not res.get("failed") and not res.get("problems"), res
    assert [e for e in job.events if e["event"] == "playbook_on_stats"], "no stats event"
    assert_no_secret(job, awx_lab, fleet_credential)


def test_doctor_names_the_cluster_the_fleet_credential_lacks(awx_lab, fleet_credential, run_job):
    kc = yaml.safe_load(fleet_credential)
    kc["contexts"] = [c for c in kc["contexts"] if c["name"] != "member2"]
    job = run_job("playbooks/preflight.yml", fleet_kubeconfig_text=yaml.safe_dump(kc), job_type="check")
    assert job.status == "failed", job
    failed = [e for e in job.events if e["event"] == "runner_on_failed"]
    assert failed and "member2" in failed[0]["event_data"]["res"]["msg"], job
    assert_no_secret(job, awx_lab, fleet_credential)


def test_status_job_reads_each_cluster_through_its_own_context(awx_lab, fleet_credential, run_job):
    job = run_job("playbooks/status.yml", survey={"kubesphere_status_strict": "true"},
                  fleet_kubeconfig_text=fleet_credential)
    assert job.status == "successful", job
    facts = {h: r["cluster"] for h, r in job.results(READ).items()}
    assert set(facts) == set(awx_lab.names)
    assert {h: f["kube_system_uid"] for h, f in facts.items()} == uids(awx_lab)
    for name in awx_lab.names:
        assert name in job.stdout
    assert_no_secret(job, awx_lab, fleet_credential)


def test_site_job_sets_the_roles_then_status_shows_them(awx_lab, fleet_credential, run_job):
    job = run_job("playbooks/site.yml", survey=dict(FAST, kubesphere_rollout_waves=[]),
                  fleet_kubeconfig_text=fleet_credential)
    assert job.status == "successful", job
    host, members = awx_lab.host, awx_lab.members
    assert (rendered(awx_lab, host).get("multicluster") or {}).get("clusterRole") == "host"
    secret = rendered(awx_lab, host)["authentication"]["jwtSecret"]
    for member in members:
        r = rendered(awx_lab, member)
        assert r["multicluster"]["clusterRole"] == "member"
        assert r["authentication"]["jwtSecret"] == secret
    assert_no_secret(job, awx_lab, fleet_credential)

    again = run_job("playbooks/site.yml", survey=FAST, fleet_kubeconfig_text=fleet_credential)
    assert again.status == "successful", again
    stats = next(e for e in again.events if e["event"] == "playbook_on_stats")["event_data"]
    # the recap names every cluster (a job where a host never played would otherwise read as "nothing changed")
    assert set(stats.get("processed") or {}) >= set(awx_lab.names), stats
    assert not stats.get("changed"), "a second site job changed %s" % stats.get("changed")

    status = run_job("playbooks/status.yml", fleet_kubeconfig_text=fleet_credential)
    assert status.status == "successful", status
    roles = {h: r["cluster"]["role"] for h, r in status.results(READ).items()}
    assert roles == dict({host: "host"}, **{m: "member" for m in members})
    assert_no_secret(status, awx_lab, fleet_credential)


@pytest.fixture
def bearer_credential(awx_lab):
    """AWX's "OpenShift or Kubernetes API Bearer Token" credential for member1: a ServiceAccount token
    (cluster-admin) and the CA file, as the env vars (and file) that credential injects."""
    rest = awx_lab.client("member1")
    sa = "awx-bearer"
    rest.ensure({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": "default"}})
    rest.ensure({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                 "metadata": {"name": sa},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                 "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": "default"}]})
    token = rest.request("POST", "/api/v1/namespaces/default/serviceaccounts/%s/token" % sa,
                         {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                          "spec": {"expirationSeconds": 3600}})["status"]["token"]
    assert rest.get(KUBE_SYSTEM)  # the admin still reads it; the token is checked by the test's run
    with open(awx_lab.kubeconfig("member1")) as f:
        ca_path = yaml.safe_load(f)["clusters"][0]["cluster"]["certificate-authority"]
    with open(ca_path) as f:
        ca = f.read()
    yield {
        "env": {"K8S_AUTH_HOST": awx_lab.server("member1"), "K8S_AUTH_API_KEY": token,
                "K8S_AUTH_VERIFY_SSL": "True", "K8S_AUTH_SSL_CA_CERT": "{file:bearer_ca}"},
        "files": {"bearer_ca": ca},
        "token": token,
    }
    for path in ("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/" + sa,
                 "/api/v1/namespaces/default/serviceaccounts/" + sa):
        try:
            rest.request("DELETE", path)
        except Exception:  # noqa: BLE001  cleanup only
            pass


def test_a_kubernetes_bearer_credential_also_attached_changes_no_cluster_connection(
        awx_lab, fleet_credential, bearer_credential, run_job):
    job = run_job("playbooks/status.yml", survey={"kubesphere_status_strict": "true"},
                  fleet_kubeconfig_text=fleet_credential,
                  credentials_env=bearer_credential["env"], extra_files=bearer_credential["files"])
    assert bearer_credential["token"] not in job.stdout + job.events_text
    assert job.status == "successful", job
    facts = {h: r["cluster"] for h, r in job.results(READ).items()}
    assert {h: f["kube_system_uid"] for h, f in facts.items()} == uids(awx_lab)


def test_status_job_writes_the_report_html_and_json_without_secrets(awx_lab, fleet_credential, run_job, tmp_path):
    out = tmp_path / "fleet-report"
    job = run_job("playbooks/status.yml", survey={"kubesphere_report_dir": str(out)},
                  fleet_kubeconfig_text=fleet_credential)
    assert job.status == "successful", job
    html = (out / "index.html").read_text()
    data = (out / "fleet.json").read_text()
    for name in awx_lab.names:
        assert 'data-cluster="%s"' % name in html and '"name": "%s"' % name in data
    for secret in secrets_of(awx_lab, fleet_credential):
        assert secret not in html and secret not in data
    assert_no_secret(job, awx_lab, fleet_credential)


def test_per_cluster_credentials_give_each_cluster_its_own_kubeconfig(awx_lab, run_job):
    """The documented alternative: one credential per cluster (the template's type, one per cluster), the
    inventory of extensions/awx/inventory_per_cluster mapping each host to its credential's variable."""
    kubeconfigs = {n: cluster_kubeconfig(awx_lab, n) for n in awx_lab.names}
    job = run_job("playbooks/status.yml", survey={"kubesphere_status_strict": "true"},
                  cluster_kubeconfigs=kubeconfigs, inventory="inventory_per_cluster")
    assert job.status == "successful", job
    facts = {h: r["cluster"] for h, r in job.results(READ).items()}
    assert {h: f["kube_system_uid"] for h, f in facts.items()} == uids(awx_lab)
    for text in kubeconfigs.values():
        assert_no_secret(job, awx_lab, text)


UNBIND = os.path.join(REPO, "playbooks", "unbind.yml")
CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters/"


@pytest.mark.skipif(not os.path.exists(UNBIND),
                    reason="playbooks/unbind.yml is pending: this test runs the unbind job template's survey once it exists")
def test_unbind_job_needs_the_typed_confirmation(awx_lab, fleet_credential, run_job):
    from kslabkit.lab import embedded_kubeconfig  # noqa: PLC0415

    site = run_job("playbooks/site.yml", survey=FAST, fleet_kubeconfig_text=fleet_credential)
    assert site.status == "successful", site
    host = awx_lab.client(awx_lab.host)
    kubeconfig = base64.b64encode(embedded_kubeconfig(awx_lab.kubeconfig("member1")).encode()).decode()
    host.ensure({"apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
                 "metadata": {"name": "member1", "annotations": {"kubesphere.io/way-to-add": "import"}},
                 "spec": {"provider": "kslab", "joinFederation": True,
                          "connection": {"type": "direct", "kubeconfig": kubeconfig}}})

    wrong = run_job("playbooks/unbind.yml", fleet_kubeconfig_text=fleet_credential,
                    survey={"kubesphere_unbind_cluster": "member1", "kubesphere_unbind_confirm": "member2"})
    assert wrong.status == "failed", wrong
    assert "member1" in wrong.stdout
    assert host.try_get(CLUSTERS + "member1"), "a wrong confirmation unbound the member"

    right = run_job("playbooks/unbind.yml", fleet_kubeconfig_text=fleet_credential,
                    survey={"kubesphere_unbind_cluster": "member1", "kubesphere_unbind_confirm": "member1"})
    assert right.status == "successful", right.stdout[-4000:]
    deadline = time.time() + 90
    while host.try_get(CLUSTERS + "member1"):
        assert time.time() < deadline, "member1's Cluster object is still on the host"
        time.sleep(1)
    assert_no_secret(right, awx_lab, fleet_credential)
