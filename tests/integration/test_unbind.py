"""playbooks/unbind.yml (role unbind, module member state=absent) against KubeSphere's real control plane:
a private lab whose members were joined as the console joins direct members (unbind_lab.import_direct),
the real ks-controller-manager unjoining them when their Cluster goes.

What must show: a refused run (no or wrong typed confirmation) writes nothing (audit log); check mode
reports and writes nothing; the unbind removes the Cluster, the KubeFedCluster and its Secret on the host
and reports what stays on the member (checked against the member itself); absent again changes nothing;
the optional placement removal and member cleanup; a later import under the same name works and one
under another name of the same cluster is refused, before any write."""

import os

import pytest
from auditlog import AuditLog
from unbind_lab import (CLUSTERS, KFC, cluster, condition, import_direct, set_roles, start_lab, wait_for,
                        wait_joined)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNBIND = os.path.join(REPO, "playbooks", "unbind.yml")
WS = "/apis/tenant.kubesphere.io/v1alpha2/workspacetemplates"
WS_NAME = "unbind-test-ws"
NS = "unbind-test-project"


@pytest.fixture(scope="module")
def joined(make_module_lab):
    lab = start_lab(make_module_lab, 0)
    set_roles(lab)
    for name in lab.members:
        import_direct(lab, name)
    for name in lab.members:
        wait_joined(lab, name)
    host, m1 = lab.client(lab.host), lab.client("member1")
    # a federated workspace placed on both members, and a project of it on member1
    host.request("POST", WS, {
        "apiVersion": "tenant.kubesphere.io/v1alpha2", "kind": "WorkspaceTemplate",
        "metadata": {"name": WS_NAME},
        "spec": {"template": {"spec": {"manager": "admin"}},
                 "placement": {"clusters": [{"name": "member1"}, {"name": "member2"}]}}})
    m1.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": NS, "labels": {"kubesphere.io/workspace": WS_NAME}}})
    return lab


@pytest.fixture
def backups(tmp_path):
    return str(tmp_path / "backups")


def unbind(ansible_run, lab, names, confirm, backups, check=False, diff=False, **extra):
    extra_vars = {"kubesphere_unbind_cluster": names, "kubesphere_unbind_confirm": confirm,
                  "kubesphere_unbind_webhook_backup_dir": backups, "kubesphere_unbind_wait_timeout": 300}
    extra_vars.update(extra)
    return ansible_run(UNBIND, lab.inventory, check=check, diff=diff, extra_vars=extra_vars)


def objects(items):
    return [i["object"] for i in items]


@pytest.mark.parametrize("confirm", ["", "member2", "*", "yes"])
def test_refused_without_the_typed_name_and_nothing_is_written(joined, ansible_run, backups, confirm):
    lab = joined
    audit = AuditLog.for_lab(lab)
    mark = audit.mark()
    r = unbind(ansible_run, lab, "member1", confirm, backups)
    assert r.rc != 0, r
    failed = r.results("Report what the unbind removes and what stays on the member (nothing written)")["member1"]
    assert failed["failed"] and failed["code"] == "unbind_not_confirmed"
    assert "set confirm_unbind: member1" in failed["msg"]
    audit.sync(lab)
    assert audit.writes_by_collection(since=mark) == []
    assert cluster(lab.client(lab.host), "member1") is not None


def test_check_mode_reports_what_goes_and_what_stays_and_writes_nothing(joined, ansible_run, backups):
    lab = joined
    audit = AuditLog.for_lab(lab)
    mark = audit.mark()
    r = unbind(ansible_run, lab, "member1", "member1", backups, check=True, diff=True)
    assert r.rc == 0, r
    res = r.results("Report what the unbind removes and what stays on the member (nothing written)")["member1"]
    assert res["changed"] and res["path"] == "normal"
    assert objects(res["report"]["removed_on_host"]) == [
        "Cluster member1", "KubeFedCluster kube-federation-system/member1",
        "Secret kube-federation-system/member1-secret"]
    stays = objects(res["report"]["stays_on_member"])
    for item in ("ServiceAccount kube-federation-system/member1-kubesphere",
                 "ClusterRole kubefed-controller-manager:member1-kubesphere",
                 "ClusterRoleBinding kubefed-controller-manager:member1-kubesphere",
                 "Namespace %s" % NS, "the copy of WorkspaceTemplate %s" % WS_NAME,
                 "ConfigMap kubesphere-system/kubesphere-config"):
        assert item in stays
    assert any(s.startswith("Secret kube-federation-system/member1-kubesphere-token-") for s in stays)
    # the diff shows the delete, the kubeconfig masked
    assert res["diff"]["after"] == {} and res["diff"]["before"]["metadata"]["name"] == "member1"
    assert res["diff"]["before"]["spec"]["connection"]["kubeconfig"].startswith("********")
    assert "client-key-data" not in r.stdout
    assert r.results("Unbind the member")["member1"].get("skipped")
    audit.sync(lab)
    assert audit.writes_by_collection(since=mark) == []
    assert cluster(lab.client(lab.host), "member1") is not None


def test_unbind_removes_the_member_and_reports_the_leftovers(joined, ansible_run, backups):
    lab = joined
    host, m1 = lab.client(lab.host), lab.client("member1")
    r = unbind(ansible_run, lab, "member1", "member1", backups, kubesphere_unbind_remove_from_placements=True)
    assert r.rc == 0, r
    res = r.results("Unbind the member")["member1"]
    assert res["changed"] and res["steps"]["ok"] and not res["steps"]["failed"]
    assert res["steps"]["done"][0] == "placement-workspacetemplate-%s" % WS_NAME  # placements first
    # the host side is gone
    assert cluster(host, "member1") is None
    assert host.try_get(KFC + "/member1") is None
    assert host.try_get("/api/v1/namespaces/kube-federation-system/secrets/member1-secret") is None
    assert [c["name"] for c in host.get(WS + "/" + WS_NAME)["spec"]["placement"]["clusters"]] == ["member2"]
    # the member keeps what the report said, and the verification lists exactly what is really there
    assert res["remaining"]["host"] == []
    left = res["remaining"]["member"]
    assert "ServiceAccount kube-federation-system/member1-kubesphere" in left
    assert m1.try_get("/api/v1/namespaces/kube-federation-system/serviceaccounts/member1-kubesphere") is not None
    assert m1.try_get("/apis/rbac.authorization.k8s.io/v1/clusterroles/kubefed-controller-manager:member1-kubesphere")
    assert "Namespace %s" % NS in left
    assert m1.get("/api/v1/namespaces/" + NS)["metadata"]["labels"]["kubesphere.io/workspace"] == WS_NAME
    assert "ConfigMap kubesphere-system/kubesphere-config" in left
    # other members untouched
    assert condition(cluster(host, "member2"), "Ready", "True")


def test_absent_again_changes_nothing(joined, ansible_run, backups):
    lab = joined
    audit = AuditLog.for_lab(lab)
    mark = audit.mark()
    r = unbind(ansible_run, lab, "member1", "member1", backups)
    assert r.rc == 0, r
    res = r.results("Unbind the member")["member1"]
    assert res["changed"] is False and res["path"] == "nothing"
    audit.sync(lab)
    assert audit.writes_by_collection(since=mark) == []


def test_cleanup_of_the_member_side_leftovers(joined, ansible_run, backups):
    lab = joined
    host, m2 = lab.client(lab.host), lab.client("member2")
    assert m2.try_get("/api/v1/namespaces/kube-federation-system/serviceaccounts/member2-kubesphere") is not None
    r = unbind(ansible_run, lab, ["member2"], ["member2"], backups, kubesphere_unbind_cleanup_member=True)
    assert r.rc == 0, r
    res = r.results("Unbind the member")["member2"]
    assert cluster(host, "member2") is None
    assert "ServiceAccount kube-federation-system/member2-kubesphere" in objects(res["report"]["removed_on_member"])
    assert m2.try_get("/api/v1/namespaces/kube-federation-system/serviceaccounts/member2-kubesphere") is None
    assert m2.try_get("/apis/rbac.authorization.k8s.io/v1/clusterroles/kubefed-controller-manager:member2-kubesphere") \
        is None
    assert m2.try_get("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/"
                      "kubefed-controller-manager:member2-kubesphere") is None
    assert not [s for s in res["remaining"]["member"] if "kube-federation-system" in s or "kubefed" in s]


PROXY_IMPORT = """
- hosts: member2
  gather_facts: false
  tasks:
    - name: Import by proxy
      kubesphere.multicluster.member:
        name: member2
        state: present
        connection_type: proxy
        allow_loopback: true
        kubeconfig: "{{ kubesphere_kubeconfig }}"
        context: "{{ kubesphere_context }}"
        host_kubeconfig: "{{ hostvars['host'].kubesphere_kubeconfig }}"
        host_context: "{{ hostvars['host'].kubesphere_context }}"
        wait_sleep: 2
        wait_timeout: 420
"""
AGENT = "/apis/apps/v1/namespaces/kubesphere-system/deployments/cluster-agent"


def test_a_proxy_member_loses_its_cluster_before_its_agent(joined, ansible_run, backups):
    lab = joined
    host, m2 = lab.client(lab.host), lab.client("member2")
    r = ansible_run(PROXY_IMPORT, lab.inventory)
    assert r.rc == 0, r
    wait_joined(lab, "member2")
    assert m2.try_get(AGENT) is not None
    assert host.try_get("/api/v1/namespaces/kubesphere-system/services/mc-member2") is not None
    r = unbind(ansible_run, lab, "member2", "member2", backups)
    assert r.rc == 0, r
    preview = r.results("Report what the unbind removes and what stays on the member (nothing written)")["member2"]
    assert "Deployment kubesphere-system/cluster-agent" in objects(preview["report"]["removed_on_member"])
    assert "Service kubesphere-system/mc-member2" in objects(preview["report"]["removed_on_host"])
    done = r.results("Unbind the member")["member2"]["steps"]["done"]
    assert done.index("cluster-gone") < done.index("delete-agent")
    assert done[0] == "delete-cluster"
    assert cluster(host, "member2") is None and m2.try_get(AGENT) is None
    wait_for(lambda: host.try_get("/api/v1/namespaces/kubesphere-system/services/mc-member2") is None, 120,
             "tower's Service mc-member2 removed")


IMPORT = """
- hosts: member1
  gather_facts: false
  tasks:
    - name: Import
      kubesphere.multicluster.member:
        name: "{{ import_name }}"
        state: present
        allow_loopback: true
        kubeconfig: "{{ kubesphere_kubeconfig }}"
        context: "{{ kubesphere_context }}"
        host_kubeconfig: "{{ hostvars['host'].kubesphere_kubeconfig }}"
        host_context: "{{ hostvars['host'].kubesphere_context }}"
        wait_timeout: 400
"""


def test_a_later_import_under_the_same_name_works(joined, ansible_run):
    lab = joined
    host = lab.client(lab.host)
    r = ansible_run(IMPORT, lab.inventory, extra_vars={"import_name": "member1"})
    assert r.rc == 0, r
    wait_joined(lab, "member1")
    assert condition(cluster(host, "member1"), "Ready", "True")


def test_an_import_under_another_name_of_the_same_cluster_is_refused(joined, ansible_run):
    lab = joined
    host = lab.client(lab.host)
    audit = AuditLog.for_lab(lab)
    mark = audit.mark()
    r = ansible_run(IMPORT, lab.inventory, extra_vars={"import_name": "member1-again"})
    assert r.rc != 0, r
    res = r.results("Import")["member1"]
    assert res["failed"] and "member1" in res["msg"]
    audit.sync(lab)
    assert audit.writes_by_collection(since=mark, cluster=lab.host) == []
    assert cluster(host, "member1-again") is None
    assert [c["metadata"]["name"] for c in host.get(CLUSTERS)["items"]].count("member1") == 1


def test_a_list_is_unbound_member_by_member_each_by_its_own_confirmation(joined, ansible_run, backups):
    lab = joined
    host = lab.client(lab.host)
    import_direct(lab, "member2")
    wait_joined(lab, "member2")
    assert cluster(host, "member1") is not None  # imported again above
    # member2 is not confirmed: member1 goes, member2 is refused and stays
    r = unbind(ansible_run, lab, ["member1", "member2"], "member1", backups)
    assert r.rc != 0, r
    refused = r.results("Report what the unbind removes and what stays on the member (nothing written)")["member2"]
    assert refused["failed"] and refused["code"] == "unbind_not_confirmed"
    assert cluster(host, "member1") is None and cluster(host, "member2") is not None
    # both confirmed (AWX's text answer, comma separated): member2 goes, member1 is already gone
    r = unbind(ansible_run, lab, ["member1", "member2"], "member1, member2", backups)
    assert r.rc == 0, r
    done = r.results("Unbind the member")
    assert done["member1"]["changed"] is False and done["member2"]["changed"] is True
    assert cluster(host, "member2") is None


def test_a_name_that_is_not_a_member_of_the_inventory_is_refused(joined, ansible_run, backups):
    r = unbind(ansible_run, joined, "nosuch", "nosuch", backups)
    assert r.rc != 0, r
    assert "unknown here: ['nosuch']" in r.stdout
