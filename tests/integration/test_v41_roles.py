"""The role step and the status reads on KubeSphere v4.1.3's real control plane (`kslab up --kubesphere v4.1.3`:
ks-core helm-installed on the host, bare members), one module-scoped lab for every case.

On 4.1 the role is the Helm value multicluster.role of the release ks-core, which the collection does not change,
and a member needs nothing prepared (the host installs ks-core on it with its jwtSecret when its Cluster is
created). So host_config.yml and member_config.yml check and report and write nothing (the lab's audit logs),
the first run and the second; what they cannot do is refused before any write, naming the cluster, with a stable
code. cluster_info / status.yml / doctor.yml report the v4.1 role, version and each member's health (Ready and
KSCoreReady) with no KubeFedCluster.

Runs in the lab-v41 stage (tests/run-all.sh), skipped when the v4.1.3 binaries are not built."""

import os
import sys

import pytest
from auditlog import AuditLog

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab", "tests"))
from realks import CLUSTERS, admin_kubeconfig, direct_cluster, wait_condition  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(REPO, "playbooks")
NS = "/api/v1/namespaces/kubesphere-system"
CONFIG = NS + "/configmaps/kubesphere-config"
HOST_ANNOTATION = "cluster.kubesphere.io/host-cluster"

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def lab(make_v41_lab):
    return make_v41_lab(members=2)


@pytest.fixture(scope="module")
def audit(lab):
    return AuditLog.for_lab(lab)


def playbook(name):
    return os.path.join(PLAYBOOKS, name)


def role_results(run):
    """{host: result} of the multicluster_role tasks of a run (host_config's and member_config's)."""
    out = {}
    for task in run.tasks():
        if task["task"]["name"].startswith(("kubesphere.multicluster.host_config : Set the host role",
                                            "kubesphere.multicluster.member_config : Set the member role")):
            out.update(task["hosts"])
    return out


# After an import, KubeSphere keeps writing on the member with the kubeconfig its Cluster stores (the lab's admin
# user, as the collection's): the Helm SDK in the host's ks-controller-manager and the member's ks-agent send Go's
# default user agent. The collection is Python (kubernetes' client): a Go client's request is never its own.
GO_CLIENT = "Go-http-client/"


def wrote_nothing(audit, lab, mark):
    audit.sync(lab)
    writes = [r for r in audit.writes_by_collection_alone(since=mark) if not r.user_agent.startswith(GO_CLIENT)]
    assert writes == [], [(r.user_agent, r.verb, r.full_resource, r.name) for r in writes]


def ensure_ks_namespace(lab, name, annotations):
    """kubesphere-system on `name` with `annotations` merged in (made when absent): the test's own write."""
    rest = lab.client(name)
    if rest.try_get(NS) is None:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubesphere-system"}}
        rest.request("POST", "/api/v1/namespaces", body)
    rest.merge_patch(NS, {"metadata": {"annotations": annotations}})


def run_roles(ansible_run, lab, check=False, diff=False, extra_vars=None):
    return ansible_run("- import_playbook: %s\n- import_playbook: %s\n" % (playbook("host_config.yml"), playbook("member_config.yml")),
                       lab.inventory, check=check, diff=diff, extra_vars=extra_vars)


def test_host_and_member_config_on_a_fresh_v41_fleet_write_nothing_first_and_second_run(lab, audit, ansible_run):
    """A v4.1 host (ks-core renders clusterRole host) and two bare members (no KubeSphere before their import):
    the members take the host's line, not the 3.4 default; both roles pass, changed 0, nothing written."""
    mark = audit.mark()
    for attempt in ("first", "second"):
        run = run_roles(ansible_run, lab)
        assert run.rc == 0, run
        assert run.changed_hosts() == {}, (attempt, run)
        results = role_results(run)
        assert sorted(results) == sorted([lab.host] + lab.members), run
        host = results[lab.host]
        assert (host["changed"], host["applied"], host["kubesphere_line"], host["role_before"]) == (False, True, "4.1", "host")
        assert host["plan"] == [] and "Helm release ks-core" in host["role_source"]
        assert host["result"]["multicluster"] == {"clusterRole": "host", "hostClusterName": lab.host}
        assert host["result"]["release"]["app_version"] == "v4.1.3"
        for m in lab.members:
            r = results[m]
            assert (r["changed"], r["applied"], r["kubesphere_line"], r["role_before"]) == (False, True, "4.1", "none"), r
            assert "nothing to write on the member" in r["note"] and "no jwtSecret is copied" in r["note"]
            assert "jwt_secret_hash" not in r
    wrote_nothing(audit, lab, mark)


def test_check_mode_and_diff_on_v41_write_nothing(lab, audit, ansible_run):
    mark = audit.mark()
    run = run_roles(ansible_run, lab, check=True, diff=True)
    assert run.rc == 0, run
    assert run.changed_hosts() == {}, run
    results = role_results(run)
    assert all(r["applied"] and r["plan"] == [] for r in results.values()), results
    wrote_nothing(audit, lab, mark)


def test_a_host_name_that_differs_is_refused_with_the_helm_upgrade_that_sets_it(lab, audit, ansible_run):
    mark = audit.mark()
    run = ansible_run(playbook("host_config.yml"), lab.inventory, extra_vars={"host_config_cluster_name": "other-name"})
    assert run.rc != 0
    r = run.results("Set the host role and wait until KubeSphere applied it")[lab.host]
    assert r["failed"] and r["code"] == "role_set_by_helm" and r["cluster"] == lab.host, r
    assert "cluster '%s'" % lab.host in r["msg"] and "hostClusterName %s (wanted other-name)" % lab.host in r["msg"]
    assert "helm upgrade ks-core" in r["msg"] and "--reuse-values" in r["msg"]
    assert "--set multicluster.role=host --set multicluster.hostClusterName=other-name" in r["msg"]
    wrote_nothing(audit, lab, mark)


def test_a_proxy_publish_address_is_refused_on_v41(lab, audit, ansible_run):
    mark = audit.mark()
    run = ansible_run(playbook("host_config.yml"), lab.inventory,
                      extra_vars={"kubesphere_proxy_publish_address": "http://192.168.0.10:30721"})
    assert run.rc != 0
    r = run.results("Set the host role and wait until KubeSphere applied it")[lab.host]
    assert r["failed"] and r["code"] == "proxy_publish_address_not_in_v41" and r["cluster"] == lab.host, r
    assert "next `helm upgrade ks-core` drops" in r["msg"] and "tower extension" in r["msg"]
    wrote_nothing(audit, lab, mark)


def test_role_member_on_the_v41_host_is_refused(lab, audit, ansible_run):
    """The host runs ks-core in role host: role member there is a Helm value the collection does not set (and a
    standalone KubeSphere, which an import would strip of its host-only workloads)."""
    mark = audit.mark()
    run = ansible_run("""
- hosts: %s
  gather_facts: false
  tasks:
    - name: Role member on the host
      kubesphere.multicluster.multicluster_role:
        cluster_name: "{{ kubesphere_cluster_name }}"
        kubeconfig: "{{ kubesphere_kubeconfig }}"
        context: "{{ kubesphere_context }}"
        role: member
        host_cluster_name: somewhere-else
""" % lab.host, lab.inventory)
    assert run.rc != 0
    r = run.results("Role member on the host")[lab.host]
    assert r["failed"] and r["code"] == "member_runs_host_ks_core" and r["cluster"] == lab.host, r
    assert "renders clusterRole host" in r["msg"] and "remove its host-only workloads" in r["msg"]
    wrote_nothing(audit, lab, mark)


def test_a_member_annotated_by_another_host_is_refused_and_force_passes_writing_nothing(lab, audit, ansible_run):
    member = lab.members[1]
    ensure_ks_namespace(lab, member, {HOST_ANNOTATION: "another-host"})
    try:
        mark = audit.mark()
        run = ansible_run(playbook("member_config.yml"), lab.inventory)
        assert run.rc != 0
        r = run.results("Set the member role with the host's jwtSecret and wait until KubeSphere applied it")[member]
        assert r["failed"] and r["code"] == "managed_by_other_host" and r["cluster"] == member, r
        assert "cluster '%s'" % member in r["msg"] and "%s=another-host" % HOST_ANNOTATION in r["msg"]
        run = ansible_run(playbook("member_config.yml"), lab.inventory, extra_vars={"member_config_force": True})
        assert run.rc == 0, run
        assert run.changed_hosts() == {}, run
        forced = role_results(run)[member]
        assert forced["applied"] and [p["code"] for p in forced["problems"]] == ["managed_by_other_host"]
        wrote_nothing(audit, lab, mark)
    finally:
        lab.client(member).merge_patch(NS, {"metadata": {"annotations": {HOST_ANNOTATION: None}}})


@pytest.fixture(scope="module")
def member1_joined(lab):
    """member1 imported as the console does (its Cluster made on the host; the host installs ks-core on it)."""
    host = lab.client(lab.host)
    host.request("POST", CLUSTERS, direct_cluster(lab.members[0], admin_kubeconfig(lab, lab.members[0])))
    wait_condition(host, lab.members[0], "KSCoreReady", timeout=300)
    wait_condition(host, lab.members[0], "Ready", timeout=300)
    return lab


def test_an_imported_member_renders_role_member_and_member_config_writes_nothing(member1_joined, audit, ansible_run):
    lab = member1_joined
    mark = audit.mark()
    run = ansible_run(playbook("member_config.yml"), lab.inventory)
    assert run.rc == 0, run
    assert run.changed_hosts() == {}, run
    r = role_results(run)[lab.members[0]]
    assert (r["applied"], r["role_before"], r["result"]["multicluster"]["clusterRole"]) == (True, "member", "member")
    assert "renders clusterRole member" in r["note"]
    wrote_nothing(audit, lab, mark)


def test_cluster_info_status_and_doctor_report_the_v41_role_version_and_health(member1_joined, audit, ansible_run, tmp_path):
    lab = member1_joined
    joined, bare = lab.members
    mark = audit.mark()
    run = ansible_run(playbook("status.yml"), lab.inventory, extra_vars={"status_report_dir": str(tmp_path / "report")})
    assert run.rc == 0, run
    facts = {h: r["cluster"] for h, r in run.results("Read the cluster").items()}
    host = facts[lab.host]
    assert (host["role"], host["kubesphere_line"], host["kubesphere_version"], host["version_managed"]) == \
        ("host", "4.1", "v4.1.3", True)
    assert host["installer"]["present"] is False and host["components"] == [] and host["kubefed_clusters"] is None
    summaries = {s["name"]: s for s in host["clusters"]}
    assert summaries[joined]["health"] == "ready", summaries[joined]
    assert "KSCoreReady True" in summaries[joined]["health_reason"]
    assert "health" not in summaries[lab.host]  # the host's own Cluster gets no KSCoreReady on 4.1
    assert (facts[joined]["role"], facts[joined]["kubesphere_version"]) == ("member", "v4.1.3")
    assert facts[joined]["jwt_secret_hash"] == host["jwt_secret_hash"]
    assert (facts[bare]["kubesphere_installed"], facts[bare]["kubesphere_line"]) == (False, None)
    table = run.results("Print the fleet")[lab.host]["msg"]
    row = [line.split() for line in table.splitlines() if line.startswith(joined + " ")][0]
    assert row[1] == "member" and "v4.1.3" in row and "yes" in row, table

    run = ansible_run(playbook("doctor.yml"), lab.inventory, extra_vars={"doctor_report_dir": str(tmp_path / "doctor")})
    assert run.rc == 0, run
    text = "\n".join(run.results("Print the findings")[lab.host]["msg"])
    assert "[not_imported] cluster '%s'" % bare in text
    assert "not_installed" not in text and "member_unhealthy" not in text and "unsupported_version" not in text, text
    wrote_nothing(audit, lab, mark)


def test_a_standalone_v41_kubesphere_is_refused_as_a_member(member1_joined, audit, ansible_run):
    """A cluster whose ks-core renders role host (a standalone KubeSphere 4.1: here the rendered kubesphere-config
    alone, written by the test) is refused as a member before any write."""
    lab = member1_joined
    member = lab.members[1]
    ensure_ks_namespace(lab, member, {})
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubesphere-config", "namespace": "kubesphere-system"},
          "data": {"kubesphere.yaml": "authentication:\n  issuer:\n    jwtSecret: standalone-secret\nhelmExecutor: {}\n"
                   "multicluster:\n  clusterRole: host\n  hostClusterName: host\n"}}
    rest = lab.client(member)
    rest.request("POST", NS + "/configmaps", cm)
    try:
        mark = audit.mark()
        run = ansible_run(playbook("member_config.yml"), lab.inventory)
        assert run.rc != 0
        r = run.results("Set the member role with the host's jwtSecret and wait until KubeSphere applied it")[member]
        assert r["failed"] and r["code"] == "member_runs_host_ks_core" and r["cluster"] == member, r
        assert "cluster '%s' runs its own KubeSphere 4.1 as a host" % member in r["msg"]
        assert "standalone-secret" not in run.stdout
        wrote_nothing(audit, lab, mark)
    finally:
        rest.request("DELETE", CONFIG)
