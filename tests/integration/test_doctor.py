"""The fleet doctor against a private lab joined by site.yml (KubeSphere 3.4.1's real control plane): a healthy
fleet has no error; each cause set up on the lab gives its finding, with the cluster and the fix; the doctor
writes nothing to any cluster (audit log) and its report files hold no secret. Causes: a group label, a
certificate margin, a jwtSecret that differs, a namespace and a workspace made on a member itself."""

import json
import os

import yaml

from auditlog import AuditLog
from conftest import REPO
from polling import wait_for

SITE = os.path.join(REPO, "playbooks", "site.yml")
DOCTOR = os.path.join(REPO, "playbooks", "doctor.yml")
GROUP = "cluster.kubesphere.io/group"
CC = "/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/ks-installer"
CONFIG = "/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config"
OTHER_SECRET = "a-different-secret-of-32-chars-xx"


def rendered_jwt(client):
    config = yaml.safe_load(client.get(CONFIG)["data"]["kubesphere.yaml"]) or {}
    return (config.get("authentication") or {}).get("jwtSecret")


def findings(run):
    result = run.results("Diagnose the fleet")
    assert result, run
    return next(iter(result.values()))


def by_code(found):
    return {(x["code"], x["cluster"]): x for x in found["findings"]}


def test_the_doctor_reports_each_cause_with_its_fix_and_writes_nothing(make_lab, tmp_path, ansible_run):
    lab = make_lab(members=1)
    audit = AuditLog.for_lab(lab)
    run = ansible_run(SITE, lab.inventory, timeout=900)
    assert run.rc == 0, run
    # the lab's own inventory describes no project: federate.yml's play that reads members' API versions matches
    # no host (not even a skipped task per member), and the preflight read none
    assert run.results("Read the member's API group/versions") == {}
    reads = run.results("Read the cluster (the facts the fleet-level checks use)")
    assert reads and all(r["cluster"]["api_versions"] is None for r in reads.values()), reads
    report = tmp_path / "report"

    mark = audit.mark()
    run = ansible_run(DOCTOR, lab.inventory, extra_vars={"kubesphere_report_dir": str(report)})
    assert run.rc == 0, run
    found = findings(run)
    assert found["counts"]["error"] == 0, found["msg"]
    saved = json.loads((report / "doctor.json").read_text())
    assert saved == {"counts": found["counts"], "findings": found["findings"]}
    assert (report / "doctor.txt").read_text().strip() == found["msg"]
    audit.sync(lab)
    assert audit.writes_by_collection_alone(since=mark) == []

    # causes: a group label the inventory does not give, a certificate margin longer than the lab
    # certificate's life, and a member whose jwtSecret differs from the host's (KubeSphere still calls it Ready)
    host = lab.client("host")
    host.merge_patch("/apis/cluster.kubesphere.io/v1alpha1/clusters/member1", {"metadata": {"labels": {GROUP: "stray"}}})
    # the member's ClusterConfiguration given another jwtSecret (as when it was installed on its own): its
    # installer renders it into kubesphere-config, and the member keeps its Ready Cluster on the host
    member = lab.client("member1")
    # and a namespace and a workspace made on member1 itself (not through the host): kubefed does not manage them
    member.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                  "metadata": {"name": "made-on-member1"}})
    member.request("POST", "/apis/tenant.kubesphere.io/v1alpha1/workspaces", {
        "apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace", "metadata": {"name": "ws-on-member1"}})
    member.merge_patch(CC, {"spec": {"authentication": {"jwtSecret": OTHER_SECRET}}})
    wait_for(lambda: rendered_jwt(member) == OTHER_SECRET, timeout=300, what="member1's installer renders the new jwtSecret")

    mark = audit.mark()
    run = ansible_run(DOCTOR, lab.inventory, extra_vars={"kubesphere_report_dir": str(report),
                                                         "kubesphere_cert_expiry_days": 100000}, verbosity=3)
    assert run.rc != 0, run
    found = by_code(findings(run))
    jwt = found[("jwt_secret_differs", "member1")]
    assert jwt["level"] == "error" and "run site.yml" in jwt["fix"]
    group = found[("group_differs", "member1")]
    assert group["level"] == "warning" and "its group on the host is 'stray', the inventory's is 'lab'" in group["message"]
    assert group["fix"] == "run join.yml (it sets label %s=lab)" % GROUP
    local = found[("made_on_member", "member1")]
    assert local["level"] == "warning"
    assert "namespaces made-on-member1 and workspaces ws-on-member1" in local["message"], local
    cert = found[("certificate_expiring", "member1")]
    assert cert["level"] == "warning" and "expires on" in cert["message"]
    assert "error-level finding(s): jwt_secret_differs" in "\n".join(run.failures()), run.failures()
    assert OTHER_SECRET not in run.stdout + (report / "doctor.json").read_text()
    audit.sync(lab)
    assert audit.writes_by_collection_alone(since=mark) == []

    # the fix the doctor names works: site.yml copies the host's jwtSecret and sets the group again
    run = ansible_run(SITE, lab.inventory, timeout=900)
    assert run.rc == 0, run
    run = ansible_run(DOCTOR, lab.inventory, extra_vars={"kubesphere_report_dir": str(report)})
    assert run.rc == 0, run
    assert findings(run)["counts"]["error"] == 0
    assert ("group_differs", "member1") not in by_code(findings(run))
