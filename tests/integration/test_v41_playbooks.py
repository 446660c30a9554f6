"""The same playbooks a 3.4 fleet runs, on a KubeSphere v4.1.3 fleet (`kslab up --kubesphere v4.1.3`: ks-core
helm-installed on the host, two bare members), with the inventory the 3.4 lab uses (inventories/lab: member1
imported direct, member2 by proxy): nothing in it says 4.1, the version is detected on each cluster (the ks-core
release's appVersion; a bare member takes its host's line).

One module lab, the playbooks in the order a user runs them:
1. site.yml --check on the fresh fleet: the plan (the host role checked, the tower extension member2 needs and the
   kubefed extension the projects need to be installed, member1's import planned as a Cluster to create, member2's
   import and the projects left unchecked until those are there), nothing written (the lab's audit logs);
2. site.yml: the host role checked and reported, the tower extension installed through KubeSphere's InstallPlan
   (the real tower v0.2.1 runs), both members imported (Ready and KSCoreReady, ks-core deployed on them by the host:
   on member2 through the tunnel its cluster-agent opened to tower), verified; then the kubefed extension installed
   (the real kubefed v0.8.1, its webhook and the extension's backend, which joins both members into kubefed) and the
   inventory's project `shop` on both members with its per-cluster overrides and replicas by weight;
3. site.yml again: changed nothing, wrote nothing; again with -vvv: no secret in its output;
4. status.yml: the 4.1 version and role of every cluster, both members healthy;
5. doctor.yml: no finding on the healthy fleet, exit code 0, nothing written;
6. unbind.yml for member2 with its typed confirmation (a wrong one refused first): its Cluster gone, its agent
   and what it ran as removed, the report names ks-core left on the member.

Runs in the lab-v41 stage (tests/run-all.sh), skipped when the v4.1.3 binaries are not built."""

import base64
import os

import pytest
import yaml
from auditlog import AuditLog
from conftest import with_lab_inventory
from lab_projects import shop_on
from polling import wait_for

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(REPO, "playbooks")
CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters"
KS_NS = "/api/v1/namespaces/kubesphere-system"
HOST_ANN = "cluster.kubesphere.io/host-cluster"
NAME_ANN = "cluster.kubesphere.io/name"
HOST_ROLE = "Set the host role and wait until KubeSphere applied it"
MEMBER_ROLE = "Set the member role with the host's jwtSecret and wait until KubeSphere applied it"
IMPORT = "Import the member (checks first, then the Cluster, the agent for proxy members, health and verification)"
TOWER = "Install the tower extension that proxy members need (KubeSphere 4.1)"
TOWER_PENDING = "Check mode, tower extension pending"
DIRECT, PROXY = "member1", "member2"  # as inventories/lab imports them
KUBEFED = "Install the kubefed extension the projects need (KubeSphere 4.1)"
PLANS = "/apis/kubesphere.io/v1alpha1/installplans/"


# After an import, KubeSphere writes on the member with the kubeconfig its Cluster stores (the lab's admin user,
# as the collection's): the Helm SDK in the host's ks-controller-manager and the member's ks-agent send Go's
# default user agent. The collection is Python (kubernetes' client): a Go client's request is never its own.
GO_CLIENT = "Go-http-client/"

pytestmark = pytest.mark.timeout(1500)


@pytest.fixture(scope="module")
def lab(make_v41_lab, tmp_path_factory):
    return with_lab_inventory(make_v41_lab(members=2), tmp_path_factory, rendered=False)


@pytest.fixture(scope="module")
def audit(lab):
    return AuditLog.for_lab(lab)


def playbook(name):
    return os.path.join(PLAYBOOKS, name)


def writes(audit, lab, mark):
    """What the collection wrote on any cluster since `mark` (KubeSphere's own Go clients left out)."""
    audit.sync(lab)
    return [(r.cluster, r.user_agent, r.verb, r.full_resource, r.name)
            for r in audit.writes_by_collection_alone(since=mark) if not r.user_agent.startswith(GO_CLIENT)]


def cluster(lab, name):
    return lab.client(lab.host).try_get("%s/%s" % (CLUSTERS, name))


def condition(obj, kind):
    return next((c for c in (obj or {}).get("status", {}).get("conditions") or [] if c["type"] == kind), {})


def annotations(lab, name):
    return ((lab.client(name).try_get(KS_NS) or {}).get("metadata") or {}).get("annotations") or {}


def one(run, task):
    """{host: result} of a task, failing with the run when the task did not run."""
    results = run.results(task)
    assert results, (task, run)
    return results


def test_site_check_mode_on_a_fresh_v41_fleet_reports_the_plan_and_writes_nothing(lab, audit, ansible_run):
    mark = audit.mark()
    run = ansible_run(playbook("site.yml"), lab.lab_inventory, check=True, diff=True)
    assert run.rc == 0, run
    host = one(run, HOST_ROLE)[lab.host]
    assert (host["changed"], host["applied"], host["kubesphere_line"], host["plan"]) == (False, True, "4.1", []), host
    assert "Helm release ks-core" in host["role_source"]
    members = one(run, MEMBER_ROLE)
    for name in lab.members:
        r = members[name]
        assert (r["changed"], r["kubesphere_line"], r["role_before"]) == (False, "4.1", "none"), r
        assert cluster(lab, name) is None
    tower = one(run, TOWER)[lab.host]
    assert tower["changed"] is True and [s["id"] for s in tower["plan"]][0] == "installplan", tower
    imp = one(run, IMPORT)[DIRECT]
    assert imp["changed"] is True, imp
    assert imp["plan"][0]["id"] == "cluster" and imp["plan"][0]["verb"] == "create", imp["plan"]
    assert imp["diff"]["before"] == {} and imp["diff"]["after"]["metadata"]["name"] == DIRECT
    # member2's import would be refused for the tower not installed yet: it says so instead
    assert one(run, IMPORT)[PROXY].get("skipped") is True
    assert "tower extension this proxy member needs is not installed" in one(run, TOWER_PENDING)[PROXY]["msg"]
    # the projects need the kubefed extension, which the run would install first: reported, not checked
    kubefed = one(run, KUBEFED)[lab.host]
    assert kubefed["changed"] is True and kubefed["plan"][0]["id"] == "installplan", kubefed
    assert "kubefed extension they need is not installed" in one(run, "Check mode, members not imported yet")[lab.host]["msg"]
    assert run.changed_hosts() == {lab.host: 2, DIRECT: 1}, run  # the predictions only
    for name in ("tower", "kubefed"):
        assert lab.client(lab.host).try_get(PLANS + name) is None
    assert writes(audit, lab, mark) == []


def test_without_the_extensions_a_proxy_member_and_a_project_are_refused_writing_nothing(lab, audit, ansible_run):
    """Told not to install them (kubesphere_join_install_tower, kubesphere_projects_install_kubefed: false), the
    proxy member's import and the project are refused before any write, each naming the extension it needs."""
    mark = audit.mark()
    run = ansible_run(playbook("join.yml"), lab.lab_inventory, limit=PROXY,
                      extra_vars={"kubesphere_join_install_tower": False})
    assert run.rc != 0
    res = one(run, IMPORT)[PROXY]
    assert [p["code"] for p in res["problems"]] == ["extension_missing"], res
    assert "tower extension" in res["msg"] and "kubesphere-system/tower" in res["msg"], res["msg"]
    run = ansible_run(playbook("federate.yml"), lab.lab_inventory, limit=lab.host,
                      extra_vars={"kubesphere_projects_install_kubefed": False})
    assert run.rc != 0
    # the check pass of the project, before the first write of the run
    failed = [f for f in run.failures() if "The project (host Namespace + FederatedNamespace): shop (check pass) [%s]"
              % lab.host in f]
    assert len(failed) == 1 and "(code extension_missing)" in failed[0], run
    assert "projects need the extension kubefed" in failed[0] and "it has no InstallPlan kubefed" in failed[0], failed
    assert writes(audit, lab, mark) == []


def test_site_imports_both_members_and_checks_the_host_role(lab, ansible_run):
    run = ansible_run(playbook("site.yml"), lab.lab_inventory, timeout=1200)
    assert run.rc == 0, run
    assert set(run.changed_hosts()) == {lab.host, DIRECT, PROXY}, run
    assert all(run.changed_hosts()[name] == 1 for name in lab.members), run
    for task in (TOWER, KUBEFED):
        ext = one(run, task)[lab.host]["extension"]
        assert ext["installed"] is True and ext["state"] == "Installed", ext
    preflight = one(run, "Read the cluster (the facts the fleet-level checks use)")
    assert (preflight[lab.host]["cluster"]["kubesphere_line"], preflight[lab.host]["cluster"]["kubesphere_version"]) \
        == ("4.1", "v4.1.3")
    assert "appVersion v4.1.3" in preflight[lab.host]["cluster"]["version_evidence"]
    host = one(run, HOST_ROLE)[lab.host]
    assert (host["changed"], host["applied"], host["role_before"]) == (False, True, "host"), host
    assert host["result"]["multicluster"] == {"clusterRole": "host", "hostClusterName": lab.host}
    for name in lab.members:
        assert one(run, MEMBER_ROLE)[name]["applied"] is True
        res = one(run, IMPORT)[name]
        assert res["changed"] is True and res["health"]["verdict"] == "ready" and res["verification"] == [], res
        obj = cluster(lab, name)
        assert condition(obj, "KSCoreReady").get("status") == "True", obj
        assert condition(obj, "Ready").get("status") == "True", obj
        assert obj["status"]["kubeSphereVersion"] == "v4.1.3"
        ann = annotations(lab, name)
        assert (ann.get(NAME_ANN), ann.get(HOST_ANN)) == (name, lab.host)
    # member2 by proxy: tower initialised it and its agent connected; the host reaches it through tower's tunnel
    obj = cluster(lab, PROXY)
    assert obj["spec"]["connection"]["type"] == "proxy" and condition(obj, "AgentAvailable").get("status") == "True"
    assert obj["spec"]["connection"]["kubernetesAPIEndpoint"].endswith(":6443")
    agent = lab.client(PROXY).get("/apis/apps/v1/namespaces/kubesphere-system/deployments/cluster-agent")
    pod = agent["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "tower" and pod["containers"][0]["image"] == "kubesphere/tower:v0.2.1"
    assert lab.client(PROXY).try_get("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/tower") is not None
    assert one(run, IMPORT)[PROXY]["agent"]["spec"]["template"]["spec"]["serviceAccountName"] == "tower"
    # the project shop on both members as declared: kubefed (the extension's, which joined both members, member2
    # through tower's tunnel) propagated it with its overrides and replicas by weight
    kfcs = {k["metadata"]["name"]: condition(k, "Ready").get("status") for k in lab.client(lab.host).get(
        "/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/kubefedclusters")["items"]}
    assert kfcs == {lab.host: "True", DIRECT: "True", PROXY: "True"}, kfcs
    for name in lab.members:
        assert shop_on(lab, name), name
        assert lab.client(name).get("/api/v1/namespaces/shop")["metadata"]["labels"]["kubesphere.io/workspace"] == "retail"


def test_a_workspace_with_labels_reaches_both_members_and_a_rerun_changes_nothing(lab, audit, ansible_run):
    """The workspace module on 4.1: its WorkspaceTemplate in v1beta1 (whose schema keeps the labels), synced to each
    member by KubeSphere's own controller; the wait ends when that controller took it; a rerun writes nothing."""
    play = """
- hosts: %s
  gather_facts: false
  tasks:
    - name: The workspace
      kubesphere.multicluster.workspace:
        kubeconfig: "{{ kubesphere_kubeconfig }}"
        context: "{{ kubesphere_context }}"
        name: retail
        clusters: [%s]
        alias_name: Retail
        labels: {tier: gold}
        wait: true
        wait_timeout: 120
""" % (lab.host, ", ".join(lab.members))
    run = ansible_run(play, lab.lab_inventory)
    assert run.rc == 0, run
    res = one(run, "The workspace")[lab.host]
    assert res["changed"] is True and "propagation" not in res, res
    assert res["workspace"]["spec"]["labels"] == {"tier": "gold"}, res
    for name in lab.members:
        ws = wait_for(lambda n=name: lab.client(n).try_get("/apis/tenant.kubesphere.io/v1beta1/workspaces/retail"), 120,
                      "Workspace retail on %s" % name)
        assert ws["metadata"]["labels"]["tier"] == "gold", ws
    mark = audit.mark()
    again = ansible_run(play, lab.lab_inventory)
    assert again.rc == 0 and one(again, "The workspace")[lab.host]["changed"] is False, again
    assert writes(audit, lab, mark) == []


def test_a_second_site_run_changes_nothing_and_writes_nothing(lab, audit, ansible_run):
    mark = audit.mark()
    run = ansible_run(playbook("site.yml"), lab.lab_inventory)
    assert run.rc == 0, run
    assert run.changed_hosts() == {}, run
    assert one(run, TOWER)[lab.host].get("skipped") is True  # the host has an InstallPlan tower: left as it is
    for name in lab.members:
        res = one(run, IMPORT)[name]
        assert res["changed"] is False and [s for s in res["plan"] if s.get("verb")] == [], res  # no write planned
    assert writes(audit, lab, mark) == []


def test_no_secret_of_the_v41_fleet_appears_in_vvv_output(lab, ansible_run):
    """site.yml again with -vvv and the default callback: the host's jwtSecret (authentication.issuer.jwtSecret
    of its kubesphere-config), each member's stored kubeconfig (base64) and its client key appear nowhere."""
    run = ansible_run(playbook("site.yml"), lab.lab_inventory, verbosity=3, callback="default", timeout=900)
    assert run.rc == 0, run
    text = run.stdout + run.stderr
    assert "member1" in text and "kubesphere.multicluster.member runs in the worker process" in text
    rendered = yaml.safe_load(lab.client(lab.host).get(KS_NS + "/configmaps/kubesphere-config")["data"]["kubesphere.yaml"])
    secrets = {"host jwtSecret": rendered["authentication"]["issuer"]["jwtSecret"],
               "shop's Secret value": "lab-shop-password-ap"}
    for name in lab.members:
        stored = cluster(lab, name)["spec"]["connection"]["kubeconfig"]
        user = yaml.safe_load(base64.b64decode(stored))["users"][0]["user"]
        secrets["%s stored kubeconfig (base64)" % name] = stored
        if cluster(lab, name)["spec"]["connection"].get("token"):
            secrets["%s agent token" % name] = cluster(lab, name)["spec"]["connection"]["token"]
        if user.get("token"):
            secrets["%s token" % name] = user["token"]
        else:
            key = user["client-key-data"]
            secrets["%s client key (base64)" % name] = key
            secrets["%s client key (PEM body)" % name] = base64.b64decode(key).decode().splitlines()[1]
    for what, value in secrets.items():
        assert value and value not in text, "%s appears in the -vvv output" % what


def test_status_shows_the_v41_fleet_with_healthy_members(lab, audit, ansible_run, tmp_path):
    mark = audit.mark()
    run = ansible_run(playbook("status.yml"), lab.lab_inventory, extra_vars={"status_report_dir": str(tmp_path / "report")})
    assert run.rc == 0, run
    facts = {h: r["cluster"] for h, r in one(run, "Read the cluster").items()}
    for name in lab.names:
        f = facts[name]
        assert (f["kubesphere_line"], f["kubesphere_version"], f["version_managed"]) == ("4.1", "v4.1.3", True), f
        assert f["role"] == ("host" if name == lab.host else "member"), f
        assert f["ks_core_release"]["status"] == "deployed", f
    summaries = {s["name"]: s for s in facts[lab.host]["clusters"]}
    assert sorted(summaries) == sorted(lab.names)
    for name in lab.members:
        assert summaries[name]["health"] == "ready" and "KSCoreReady True" in summaries[name]["health_reason"]
        assert facts[name]["jwt_secret_hash"] == facts[lab.host]["jwt_secret_hash"]
    table = one(run, "Print the fleet")[lab.host]["msg"]
    for name in lab.names:
        row = [line.split() for line in table.splitlines() if line.startswith(name + " ")][0]
        assert row[1] == ("host" if name == lab.host else "member") and "v4.1.3" in row, table
        if name != lab.host:
            assert "yes" in row, table
    assert writes(audit, lab, mark) == []


def test_doctor_finds_nothing_wrong_on_the_healthy_v41_fleet(lab, audit, ansible_run, tmp_path):
    mark = audit.mark()
    run = ansible_run(playbook("doctor.yml"), lab.lab_inventory, extra_vars={"doctor_report_dir": str(tmp_path / "doctor")})
    assert run.rc == 0, run
    diagnosis = one(run, "Diagnose the fleet")[lab.host]
    assert diagnosis["counts"]["error"] == 0, diagnosis["findings"]
    assert [(f["code"], f["cluster"], f["level"]) for f in diagnosis["findings"]] == [], diagnosis["findings"]
    assert writes(audit, lab, mark) == []


def test_unbind_one_member_with_its_typed_confirmation(lab, ansible_run):
    member, stays = lab.members[1], lab.members[0]
    refused = ansible_run(playbook("unbind.yml"), lab.lab_inventory,
                          extra_vars={"kubesphere_unbind_cluster": member, "kubesphere_unbind_confirm": stays})
    assert refused.rc != 0 and cluster(lab, member) is not None
    run = ansible_run(playbook("unbind.yml"), lab.lab_inventory,
                      extra_vars={"kubesphere_unbind_cluster": member, "kubesphere_unbind_confirm": member})
    assert run.rc == 0, run
    # unbind.yml plays on the members only; the member's preview (check mode) and its unbind report changed
    assert set(run.changed_hosts(lab.members)) == {member}, run
    res = one(run, "Unbind the member")[member]
    assert res["changed"] is True and [s["id"] for s in res["plan"]] == [
        "delete-cluster", "cluster-gone", "delete-kubefedcluster", "delete-kubefed-secret", "delete-agent",
        "delete-agent-serviceaccount", "delete-agent-clusterrolebinding"], res
    assert lab.client(lab.host).try_get("/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/"
                                        "kubefedclusters/%s" % member) is None
    removed = " ".join(i["object"] for i in res["report"]["removed_on_member"])
    assert "cluster-agent" in removed and "ClusterRoleBinding tower" in removed, res["report"]
    assert lab.client(member).try_get("/apis/apps/v1/namespaces/kubesphere-system/deployments/cluster-agent") is None
    assert lab.client(member).try_get("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/tower") is None
    left = " ".join("%s %s" % (i["object"], i["why"]) for i in res["report"]["stays_on_member"])
    assert "Helm release kubesphere-system/ks-core" in left and "helm uninstall ks-core -n kubesphere-system" in left
    assert res["remaining"] == {"host": [], "member": ["Helm release kubesphere-system/ks-core"]}
    assert cluster(lab, member) is None and cluster(lab, stays) is not None
    assert wait_for(lambda: NAME_ANN not in annotations(lab, member), 60, "the member's annotations removed")


def test_without_kubesphere_config_the_role_is_read_from_the_ks_core_release_values(lab, audit, ansible_run):
    """The unbound member keeps ks-core (the host installed it with the value multicluster.role member). With its
    kubesphere-config gone (the test deletes it), the role comes from the release's values: cluster_info says
    member, not none, and the role step reads role member from the values and writes nothing."""
    member = lab.members[1]
    assert cluster(lab, member) is None  # unbound by the test before
    lab.client(member).request("DELETE", KS_NS + "/configmaps/kubesphere-config")
    mark = audit.mark()
    run = ansible_run("""
- hosts: %s
  gather_facts: false
  module_defaults:
    group/kubesphere.multicluster.kubesphere:
      kubeconfig: "{{ kubesphere_kubeconfig }}"
      context: "{{ kubesphere_context }}"
  tasks:
    - name: Read it
      kubesphere.multicluster.cluster_info:
        cluster_name: "{{ kubesphere_cluster_name }}"
    - name: Role member
      kubesphere.multicluster.multicluster_role:
        cluster_name: "{{ kubesphere_cluster_name }}"
        role: member
        host_cluster_name: "%s"
""" % (member, lab.host), lab.lab_inventory)
    assert run.rc == 0, run
    facts = one(run, "Read it")[member]["cluster"]
    assert (facts["role"], facts["config_rendered"], facts["kubesphere_line"]) == ("member", False, "4.1"), facts
    assert facts["ks_core_release"]["multicluster"]["role"] == "member", facts["ks_core_release"]
    role = one(run, "Role member")[member]
    assert (role["changed"], role["applied"], role["role_before"]) == (False, True, "member"), role
    assert role["result"]["role_read_from"] == "Helm values", role
    assert "has the Helm value multicluster.role member" in role["note"], role
    assert writes(audit, lab, mark) == []


def test_a_standalone_member_forced_through_member_config_fails_with_what_the_import_will_do(lab, audit, ansible_run):
    """member2 renders clusterRole host (a standalone KubeSphere 4.1: its kubesphere-config, written by the test):
    member_config.yml with member_config_force passes the guard but cannot call the role applied; the verification
    fails with the module's 4.1 note (the import refuses it, how to remove KubeSphere), not a ks-installer message,
    and nothing is written."""
    member = lab.members[1]
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubesphere-config", "namespace": "kubesphere-system"},
          "data": {"kubesphere.yaml": "authentication:\n  issuer:\n    jwtSecret: standalone-secret\nhelmExecutor: {}\n"
                   "multicluster:\n  clusterRole: host\n  hostClusterName: %s\n" % member}}
    lab.client(member).request("POST", KS_NS + "/configmaps", cm)
    mark = audit.mark()
    run = ansible_run(playbook("member_config.yml"), lab.lab_inventory, extra_vars={"member_config_force": True})
    assert run.rc != 0
    role = one(run, MEMBER_ROLE)[member]
    assert (role["applied"], [p["code"] for p in role["problems"]]) == (False, ["member_runs_host_ks_core"]), role
    verify = one(run, "The member renders role member and the host's jwtSecret")
    assert verify[lab.members[0]].get("failed") is not True, verify
    msg = verify[member]["msg"]
    assert verify[member]["failed"] and msg == role["note"], verify
    assert "renders clusterRole host, not member" in msg and "member_is_host" in msg and "ks-installer" not in msg
    assert "standalone-secret" not in run.stdout
    assert writes(audit, lab, mark) == []
