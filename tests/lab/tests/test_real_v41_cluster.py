"""Contract: what the collection relies on from KubeSphere v4.1.3's real control plane, in the lab's v4.1 mode
(`kslab up --kubesphere v4.1.3`: helm-installed ks-core on the host, bare members).

What the collection will rely on, each asserted below:
- the host's `Cluster` (named after `multicluster.hostClusterName`) turns Ready with `kubeSphereVersion: v4.1.3`;
- KubeSphere is the Helm release `ks-core` in kubesphere-system (release Secret `sh.helm.release.v1.ks-core.vN`,
  label `status=deployed`), whose values carry `multicluster.role` and whose chart appVersion is v4.1.3; the
  rendered `kubesphere-config` says `clusterRole: host`;
- a member needs nothing prepared: creating a direct `Cluster` (kubeconfig) makes the host install ks-core on the
  bare member (release deployed there, rendered `clusterRole: member`, the host's
  `authentication.issuer.jwtSecret`), and the Cluster
  reaches KSCoreReady True and Ready True; the member's kubesphere-system namespace carries
  `cluster.kubesphere.io/host-cluster: <host>` and `cluster.kubesphere.io/name: <member>`;
- a member whose kube-apiserver stopped goes Ready False (no webhook freezes it, unlike 3.4);
- deleting a live member's Cluster unbinds: the Cluster is gone, the member's namespace annotations are removed,
  ks-core stays on the member.
Skipped, with the command to run, when the v4.1.3 binaries are not built."""

import base64
import gzip
import json
import os
import signal
import subprocess

import pytest
import yaml

from polling import wait_for

from .realks import CLUSTERS, admin_kubeconfig, cluster, condition, direct_cluster, wait_condition


@pytest.fixture(scope="module")
def v41_lab(make_v41_lab):
    return make_v41_lab(members=2)


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def collection_run(lab, playbook):
    """ansible-playbook (the collection from this checkout) on the lab's inventory: (rc, the json callback's
    output as a dict)."""
    import sys  # noqa: PLC0415

    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"),
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1")
    r = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
                        os.path.join(lab.env["KSLAB_STATE"], "inventory.yml"), playbook],
                       env=env, capture_output=True, text=True, timeout=900)
    return r.returncode, json.loads(r.stdout[r.stdout.index("{"):])


def test_the_collection_detects_v41_and_its_host_role_step_writes_nothing(v41_lab):
    """Not a contract of KubeSphere's: the collection's version detection against a real v4.1 host (its real
    Helm release record), and host_config.yml on it: the role is ks-core's Helm value, which the collection
    reports and does not write (tests/integration/test_v41_roles.py has the rest)."""
    from auditlog import AuditLog  # noqa: PLC0415

    info = os.path.join(REPO, "tests", "lab", "tests", "v41_info.yml")
    rc, out = collection_run(v41_lab, info)
    assert rc == 0, out.get("stats")
    facts = {h: r["cluster"] for t in out["plays"][0]["tasks"] for h, r in t["hosts"].items()}
    host = facts[v41_lab.host]
    assert (host["kubesphere_line"], host["kubesphere_version"], host["version_managed"]) == ("4.1", "v4.1.3", True)
    assert host["ks_core_release"]["app_version"] == "v4.1.3" and host["ks_core_release"]["status"] == "deployed"
    assert host["version_evidence"].startswith("Helm release ks-core revision")

    audit = AuditLog.for_lab(v41_lab.env["KSLAB_STATE"])
    mark = audit.mark()
    rc, out = collection_run(v41_lab, os.path.join(REPO, "playbooks", "host_config.yml"))
    assert rc == 0, out.get("stats")
    results = [r for t in (t for p in out["plays"] for t in p["tasks"]) if "Set the host role" in t["task"]["name"]
               for r in t["hosts"].values()]
    assert len(results) == 1 and not results[0].get("failed"), results
    assert (results[0]["changed"], results[0]["applied"], results[0]["kubesphere_line"]) == (False, True, "4.1")
    assert results[0]["result"]["multicluster"]["clusterRole"] == "host"
    assert not any(s.get("changed") for s in out["stats"].values()), out["stats"]
    audit.sync(v41_lab)
    assert audit.writes_by_collection_alone(since=mark) == []


def release(rest, name="ks-core", ns="kubesphere-system"):
    """The newest Helm release record of `name` (Helm's storage: Secrets labelled owner=helm), decoded."""
    items = rest.get("/api/v1/namespaces/%s/secrets?labelSelector=owner%%3Dhelm,name%%3D%s" % (ns, name))["items"]
    if not items:
        return None
    newest = max(items, key=lambda s: int(s["metadata"]["labels"]["version"]))
    raw = base64.b64decode(base64.b64decode(newest["data"]["release"]))
    return dict(json.loads(gzip.decompress(raw)), _labels=newest["metadata"]["labels"])


def rendered(rest):
    cm = rest.get("/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config")
    return yaml.safe_load(cm["data"]["kubesphere.yaml"])


def ns_annotations(rest):
    return rest.get("/api/v1/namespaces/kubesphere-system")["metadata"].get("annotations") or {}


def test_the_host_cluster_is_ready_with_its_version(v41_lab):
    host = v41_lab.client(v41_lab.host)
    ready = wait_condition(host, v41_lab.host, "Ready", timeout=300)
    assert ready["status"] == "True"
    st = cluster(host, v41_lab.host)["status"]
    assert st["kubeSphereVersion"] == "v4.1.3"
    assert ns_annotations(host).get("cluster.kubesphere.io/host-cluster") == v41_lab.host


def test_kubesphere_is_the_ks_core_release_with_its_role(v41_lab):
    host = v41_lab.client(v41_lab.host)
    rel = release(host)
    assert rel["_labels"]["status"] == "deployed"
    assert rel["info"]["status"] == "deployed"
    assert rel["chart"]["metadata"]["appVersion"] == "v4.1.3"
    assert rel["config"]["multicluster"]["role"] == "host"
    cfg = rendered(host)
    assert cfg["multicluster"]["clusterRole"] == "host"
    assert cfg["multicluster"]["hostClusterName"] == v41_lab.host


@pytest.fixture(scope="module")
def member1_joined(v41_lab):
    host = v41_lab.client(v41_lab.host)
    host.request("POST", CLUSTERS, direct_cluster("member1", admin_kubeconfig(v41_lab, "member1")))
    wait_condition(host, "member1", "KSCoreReady", timeout=300)
    wait_condition(host, "member1", "Ready", timeout=300)
    return v41_lab


def test_a_created_member_cluster_gets_ks_core_and_turns_ready(member1_joined):
    lab = member1_joined
    host, m1 = lab.client(lab.host), lab.client("member1")
    obj = cluster(host, "member1")
    assert condition(obj, "KSCoreReady")["status"] == "True"
    assert condition(obj, "Ready")["status"] == "True"
    assert obj["status"]["kubeSphereVersion"] == "v4.1.3"
    rel = release(m1)
    assert rel["info"]["status"] == "deployed" and rel["chart"]["metadata"]["appVersion"] == "v4.1.3"
    cfg = rendered(m1)
    assert cfg["multicluster"]["clusterRole"] == "member"
    host_jwt = rendered(host)["authentication"]["issuer"]["jwtSecret"]  # v4.1: under issuer (3.4: authentication)
    assert host_jwt and cfg["authentication"]["issuer"]["jwtSecret"] == host_jwt
    ann = wait_for(lambda: ns_annotations(m1).get("cluster.kubesphere.io/name") == "member1" and ns_annotations(m1),
                   120, "member1's kubesphere-system annotated")
    assert ann["cluster.kubesphere.io/host-cluster"] == lab.host


def test_deleting_a_live_member_cluster_unbinds_it(member1_joined):
    lab = member1_joined
    host, m1 = lab.client(lab.host), lab.client("member1")
    host.request("DELETE", "%s/member1" % CLUSTERS)
    wait_for(lambda: host.try_get("%s/member1" % CLUSTERS) is None, 120, "Cluster member1 gone")
    wait_for(lambda: "cluster.kubesphere.io/host-cluster" not in ns_annotations(m1), 120,
             "member1's host-cluster annotation removed")
    assert release(m1)["info"]["status"] == "deployed"  # ks-core stays on the member


def test_a_stopped_member_goes_ready_false(v41_lab):
    lab = v41_lab
    host = lab.client(lab.host)
    host.request("POST", CLUSTERS, direct_cluster("member2", admin_kubeconfig(lab, "member2")))
    wait_condition(host, "member2", "Ready", timeout=300)
    pid = lab.state["clusters"]["member2"]["pid"]
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        assert b"kube-apiserver" in f.read()
    os.kill(pid, signal.SIGKILL)

    def refused():
        try:
            lab.client("member2").get("/version")
            return False
        except OSError:
            return True
    wait_for(refused, 60, "member2's port to refuse connections")
    # a reconcile now rather than at the next resync (the console's "sync" does the same)
    host.merge_patch("%s/member2" % CLUSTERS, {"metadata": {"annotations": {"kubesphere.io/syncAt": "kslab-test"}}})
    down = wait_condition(host, "member2", "Ready", status="False", timeout=180)
    assert "member2" in down.get("message", "")


def test_the_3_4_installer_stand_in_s_release_records_are_what_helm_reads(v41_lab):
    """The 3.4 ks-installer stand-in's Helm release records (tests/lab/standins/installer.py helm_upgrade_install:
    ks-installer v3.4.1's `helm upgrade --install ks-core` with its chart ks-core 0.1.0, appVersion v3.3.2) have
    the shape real Helm v3.16.2 writes (the host's ks-core records here, written by `helm upgrade --install`), and
    real helm reads them: `helm history` and `helm list` show the chart, appVersion, revisions and statuses. In a
    namespace of its own on this lab's host (the v4.1 lab is the one with a real helm), removed afterwards."""
    from kslabkit.v41 import helm_env  # noqa: PLC0415
    from kslabkit.v41supervisor import v41_binary  # noqa: PLC0415
    from standins.installer import KS_CORE_CHART, helm_upgrade_install  # noqa: PLC0415

    host = v41_lab.client(v41_lab.host)
    ns = "kslab-installer-records"
    host.ensure({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    try:
        assert helm_upgrade_install(host, "ks-core", ns, KS_CORE_CHART, {"replicaCount": 1}) == 1
        assert helm_upgrade_install(host, "ks-core", ns, KS_CORE_CHART, {"replicaCount": 1}) == 2
        real = host.get("/api/v1/namespaces/kubesphere-system/secrets?labelSelector=owner%3Dhelm")["items"]
        ours = host.get("/api/v1/namespaces/%s/secrets?labelSelector=owner%%3Dhelm" % ns)["items"]
        assert real and len(ours) == 2
        assert {s["type"] for s in real + ours} == {"helm.sh/release.v1"}
        newest_real = max(real, key=lambda s: int(s["metadata"]["labels"]["version"]))
        newest_ours = max(ours, key=lambda s: int(s["metadata"]["labels"]["version"]))
        assert set(newest_ours["metadata"]["labels"]) == set(newest_real["metadata"]["labels"])

        def body(secret):
            return json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"]))))
        b_real, b_ours = body(newest_real), body(newest_ours)
        assert set(b_ours) <= set(b_real) and set(b_ours["info"]) <= set(b_real["info"]), (set(b_real), set(b_ours))
        assert set(b_ours["chart"]) == set(b_real["chart"])

        env = helm_env(v41_lab.state, v41_lab.host)
        helm = v41_binary("helm")

        def helm_json(*args):
            r = subprocess.run([helm] + list(args) + ["-n", ns, "-o", "json"], env=env, capture_output=True,
                               text=True, timeout=120, check=False)
            assert r.returncode == 0, r.stderr
            return json.loads(r.stdout)
        history = helm_json("history", "ks-core")
        assert [(h["revision"], h["status"], h["chart"], h["app_version"], h["description"]) for h in history] == [
            (1, "superseded", "ks-core-0.1.0", "v3.3.2", "Install complete"),
            (2, "deployed", "ks-core-0.1.0", "v3.3.2", "Upgrade complete")]
        listed = helm_json("list")
        assert [(r["name"], r["revision"], r["status"], r["chart"], r["app_version"]) for r in listed] == [
            ("ks-core", "2", "deployed", "ks-core-0.1.0", "v3.3.2")]
    finally:
        host.request("DELETE", "/api/v1/namespaces/%s" % ns)
