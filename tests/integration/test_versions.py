"""The KubeSphere version is detected per cluster, never assumed, and a fleet that mixes versions is refused
before any write.

A private lab: `host` runs KubeSphere 3.4 (the real control plane, the installer stand-in) and `member1` is a
bare kube-apiserver. The test then gives member1 what a KubeSphere v4.1.3 install leaves for the detection to
read: the `ks-core` Helm release record, stored exactly as Helm 3 stores it (a `helm.sh/release.v1` Secret in
kubesphere-system: base64 of gzip of the release JSON, labels owner/name/status/version). No v4.1 control plane
runs here (that is the v4.1 lab's part): what is proven is the read over a real API server (the label
selector, the decoding), the verdict, and that nothing is written when the verdict refuses."""

import base64
import gzip
import json
import os

from auditlog import AuditLog
from conftest import REPO
from test_cluster_info import INFO, inventory

SITE = os.path.join(REPO, "playbooks", "site.yml")


def v41_release_record():
    release = {"name": "ks-core", "namespace": "kubesphere-system", "version": 1,
               "info": {"status": "deployed", "description": "Install complete"},
               "chart": {"metadata": {"name": "ks-core", "version": "1.1.4", "appVersion": "v4.1.3"}},
               "config": {"multicluster": {"role": "member"}}, "manifest": ""}
    helm_encoded = base64.b64encode(gzip.compress(json.dumps(release).encode())).decode()
    return {"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
            "metadata": {"name": "sh.helm.release.v1.ks-core.v1", "namespace": "kubesphere-system",
                         "labels": {"owner": "helm", "name": "ks-core", "status": "deployed", "version": "1"}},
            "data": {"release": base64.b64encode(helm_encoded.encode()).decode()}}


def test_versions_are_detected_per_cluster_and_a_mixed_fleet_is_refused_writing_nothing(
        make_lab, tmp_path, ansible_run):
    lab = make_lab(members=1, not_installed=("member1",))
    audit = AuditLog.for_lab(lab)
    inv = inventory(tmp_path, {n: (lab.kubeconfig(n), n) for n in lab.names})

    run = ansible_run(INFO, inv)
    assert run.rc == 0, run
    facts = {n: r["cluster"] for n, r in run.results("info").items()}
    host_cc = lab.client("host").get(
        "/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/ks-installer")
    assert (facts["host"]["kubesphere_line"], facts["host"]["version_managed"]) == ("3.4", True)
    assert facts["host"]["version_evidence"].startswith("ks-installer's ClusterConfiguration")
    assert facts["host"]["kubesphere_version"] == ((host_cc.get("status") or {}).get("core") or {}).get(
        "version", host_cc["metadata"].get("labels", {}).get("version"))
    assert (facts["member1"]["kubesphere_line"], facts["member1"]["ks_core_release"]) == (None, None)

    member = lab.client("member1")
    member.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubesphere-system"}})
    member.apply(v41_release_record())
    run = ansible_run(INFO, inv)
    assert run.rc == 0, run
    m1 = run.results("info")["member1"]["cluster"]
    assert (m1["kubesphere_line"], m1["kubesphere_version"], m1["version_managed"]) == ("4.1", "v4.1.3", True)
    assert m1["ks_core_release"] == {"name": "ks-core", "namespace": "kubesphere-system", "revision": 1,
                                     "status": "deployed", "chart": "ks-core", "chart_version": "1.1.4",
                                     "app_version": "v4.1.3", "description": "Install complete",
                                     # the release's own values say the role (config multicluster.role member)
                                     "multicluster": {"role": "member", "host_cluster_name": None}}
    assert m1["kubesphere_installed"] is True

    mark = audit.mark()
    run = ansible_run(SITE, lab.inventory)
    assert run.rc != 0, run
    failures = "\n".join(run.failures())
    assert "mixed_versions" in failures, failures
    assert "KubeSphere 3.4 on host; KubeSphere 4.1 on member1" in failures, failures
    audit.sync(lab)
    assert audit.writes_by_collection(since=mark) == []
