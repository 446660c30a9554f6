"""kubesphere.multicluster.cluster_info against the lab's real API servers: every fact compared with what
the API server holds, check mode, changed=false, secrets never shown, and each kind of unreachable
cluster with its own reason."""

import base64
import contextlib
import os
import socket
import threading
import time

import pytest
import yaml

from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint
from auditlog import KUBESPHERE_AGENTS, AuditLog
from conftest import inventory_hosts
from evidence import record
from kslabkit.rest import ApiError

INFO = """
- hosts: kubesphere_clusters
  gather_facts: false
  tasks:
    - name: info
      kubesphere.multicluster.cluster_info:
        cluster_name: "{{ kubesphere_cluster_name }}"
        kubeconfig: "{{ kubesphere_kubeconfig }}"
        context: "{{ kubesphere_context | default(omit) }}"
        fail_on_unreachable: "{{ strict | default(false) }}"
        clock_samples: 2
"""


def broken_kubeconfigs(lab, tmp_path):
    """Kubeconfigs that fail in different ways, built from a real member's."""
    with open(lab.kubeconfig(lab.members[0])) as f:
        good = yaml.safe_load(f)
    out = {}
    bad_ca = yaml.safe_load(yaml.safe_dump(good))
    bad_ca["clusters"][0]["cluster"]["certificate-authority"] = os.path.join(os.path.dirname(lab.kubeconfig(lab.host)), "ca.crt")
    closed = yaml.safe_load(yaml.safe_dump(good))
    closed["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    token = yaml.safe_load(yaml.safe_dump(good))
    token["users"][0]["user"] = {"token": "not-a-valid-token-4711"}
    for name, cfg in (("badcert", bad_ca), ("closed", closed), ("badtoken", token)):
        (tmp_path / name).write_text(yaml.safe_dump(cfg))
        out[name] = str(tmp_path / name)
    return out


def inventory(tmp_path, clusters, host=None):
    """A one-file inventory in the collection's layout: clusters maps name -> (kubeconfig, context)."""
    host = host or next(iter(clusters))

    def hosts(names):
        return {n: {"kubesphere_cluster_name": n, "kubesphere_kubeconfig": clusters[n][0],
                    "kubesphere_context": clusters[n][1]} for n in names}

    inv = {"kubesphere_clusters": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "children": {"kubesphere_host": {"hosts": hosts([host])},
                     "kubesphere_members": {"hosts": hosts([n for n in clusters if n != host])}}}}
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(inv))
    return str(path)


@pytest.fixture
def lab_inventory(lab, tmp_path):
    return inventory(tmp_path, {n: (lab.kubeconfig(n), n) for n in lab.names})


def config_of(kube, name):
    cm = kube(name).try_get("/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config")
    return yaml.safe_load(cm["data"]["kubesphere.yaml"]) if cm else {}


def test_every_fact_matches_the_api_server(lab, kube, lab_inventory, ansible_run):
    run = ansible_run(INFO, lab_inventory)
    assert run.rc == 0, run
    results = run.results("info")
    assert sorted(results) == sorted(lab.names)
    for name in lab.names:
        r = results[name]
        f = r["cluster"]
        api = kube(name)
        assert r["changed"] is False
        assert f["name"] == name and f["reachable"] is True and f["reason_code"] is None
        assert f["kubernetes_version"] == api.get("/version")["gitVersion"]
        assert f["kube_system_uid"] == api.get("/api/v1/namespaces/kube-system")["metadata"]["uid"]
        cc = api.try_get("/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/ks-installer")
        assert f["kubesphere_installed"] is (cc is not None)
        # the version is read, never assumed: ks-installer's ClusterConfiguration says 3.4. Like a real
        # ks-installer v3.4.1, the stand-in leaves a ks-core Helm release whose chart (ks-installer's ks-core
        # 0.1.0) says appVersion v3.3.2: it is reported, and it does not make the cluster a 3.3 one
        assert (f["kubesphere_line"], f["kubesphere_version"], f["version_managed"]) == ("3.4", "v3.4.1", True)
        release = f["ks_core_release"]
        assert release is not None, f
        assert (release["chart"], release["chart_version"], release["app_version"], release["status"]) == (
            "ks-core", "0.1.0", "v3.3.2", "deployed")
        assert f["version_evidence"].startswith(
            "ks-installer's ClusterConfiguration kubesphere-system/ks-installer (version v3.4.1); Helm release "
            "ks-core revision %s (deployed, chart ks-core 0.1.0, appVersion v3.3.2)" % release["revision"]), f
        assert f["cluster_role"]["spec"] == cc["spec"]["multicluster"]["clusterRole"]
        config = config_of(kube, name)
        assert f["cluster_role"]["rendered"] == (config.get("multicluster") or {}).get("clusterRole")
        jwt = (config.get("authentication") or {}).get("jwtSecret")
        assert f["jwt_secret_hash"] == fingerprint(jwt)
        if jwt:
            assert jwt not in run.stdout
        # the lab runs on this machine's clock: the true offset is 0, which the interval must contain
        assert f["clock"]["low"] <= 0.0 <= f["clock"]["high"], f["clock"]
        assert 0.0 < f["clock"]["uncertainty"] <= 1.0
        assert r["msg"].startswith("cluster '%s': Kubernetes %s" % (name, f["kubernetes_version"]))


def test_check_mode_reads_the_same_and_changes_nothing(lab, lab_inventory, ansible_run):
    audit = AuditLog.for_lab(lab)
    audit.sync(lab)
    mark = audit.mark()
    run = ansible_run(INFO, lab_inventory, check=True)
    assert run.rc == 0, run
    results = run.results("info")
    assert sorted(results) == sorted(inventory_hosts(lab_inventory)) == sorted(lab.names), run
    assert run.changed_hosts() == {}, run
    for name, r in results.items():
        assert r["changed"] is False and r["cluster"]["reachable"] is True
        assert r["cluster"]["kubernetes_version"].startswith("v1.")
    # nothing written on any cluster: the audit logs, not the results' word for it (KubeSphere's own components
    # act as the lab's admin user on a member imported with its kubeconfig: told apart by their user agent)
    audit.sync(lab)
    writes = [r for r in audit.writes_by_collection(since=mark) if not r.user_agent.startswith(KUBESPHERE_AGENTS)]
    assert writes == []


@contextlib.contextmanager
def probe_cluster(kube, host, unique, ready="False"):
    """A Cluster object on the host for the length of a test, carrying a kubeconfig and a token that must
    never show up anywhere. Yields (name, secret strings)."""
    name = "probe-" + unique
    secrets = [base64.b64encode(b"kubeconfig-that-must-not-leak-" + unique.encode()).decode(), "tok-" + unique]
    cluster = {"apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
               "metadata": {"name": name, "labels": {"cluster.kubesphere.io/group": "probe"}},
               "spec": {"joinFederation": False, "provider": "kslab",
                        "connection": {"type": "proxy", "kubeconfig": secrets[0], "token": secrets[1]}},
               # KubeSphere 3.4's Cluster CRD has no status subresource: status is written with the object
               "status": {"kubernetesVersion": "v1.34.3", "kubeSphereVersion": "v3.4.1",
                          "conditions": [{"type": "Ready", "status": ready, "reason": "Probe",
                                          "message": "probe ready=%s" % ready, "lastUpdateTime": "2026-01-01T00:00:00Z",
                                          "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}
    path = "/apis/cluster.kubesphere.io/v1alpha1/clusters/" + name
    kube(host).request("POST", "/apis/cluster.kubesphere.io/v1alpha1/clusters", cluster)
    try:
        yield name, secrets
    finally:
        # KubeSphere's webhook (ValidatingWebhookConfiguration cluster.kubesphere.io, failurePolicy Fail) denies
        # every Cluster UPDATE on a cluster whose ks-controller-manager does not serve it (not a host): the
        # finalizer patch may be refused there; DELETE is not intercepted.
        try:
            kube(host).merge_patch(path, {"metadata": {"finalizers": None}})
        except ApiError:
            pass
        kube(host).request("DELETE", path)


def test_v4_host_annotations_and_the_hosts_cluster_objects(lab, kube, lab_inventory, ansible_run, unique):
    member, host = lab.members[0], lab.host
    ns_path = "/api/v1/namespaces/kubesphere-system"
    annotations = {"cluster.kubesphere.io/name": member, "cluster.kubesphere.io/host-cluster": host}
    kube(member).merge_patch(ns_path, {"metadata": {"annotations": annotations}})
    try:
        with probe_cluster(kube, host, unique) as (name, secrets):
            run = ansible_run(INFO, lab_inventory)
        assert run.rc == 0, run
        results = run.results("info")
        assert results[member]["cluster"]["host_annotations"] == annotations
        listed = {c["name"]: c for c in results[host]["cluster"]["clusters"]}
        probe = listed[name]
        assert (probe["connection_type"], probe["ready"], probe["cluster_group"]) == ("proxy", False, "probe")
        assert probe["ready_reason"] == "probe ready=False"
        assert probe["conditions"][0]["reason"] == "Probe"
        assert all(s not in run.stdout for s in secrets)
    finally:
        kube(member).merge_patch(ns_path, {"metadata": {"annotations": {k: None for k in annotations}}})


def test_each_unreachable_cluster_has_its_own_reason(lab, tmp_path, ansible_run):
    bad = broken_kubeconfigs(lab, tmp_path)
    member = lab.members[0]
    inv = inventory(tmp_path, {lab.host: (lab.kubeconfig(lab.host), lab.host),
                               "wrongctx": (lab.kubeconfig(member), "no-such-context"),
                               "badcert": (bad["badcert"], member),
                               "closed": (bad["closed"], member),
                               "badtoken": (bad["badtoken"], member)})
    run = ansible_run(INFO, inv)
    assert run.rc == 0, run
    results = run.results("info")
    assert results[lab.host]["cluster"]["reachable"] is True
    assert "not-a-valid-token-4711" not in run.stdout
    expected = {
        "wrongctx": ("no_such_context", "cluster 'wrongctx': not reachable: the kubeconfig has no context 'no-such-context'"),
        "badcert": ("tls_untrusted", "cluster 'badcert': not reachable: the API server's TLS certificate is not "
                                     "trusted by the kubeconfig's CA (certificate verify failed: unable "
                                     "to get local issuer certificate)"),
        "closed": ("unreachable", "cluster 'closed': not reachable: the API server is unreachable (connection refused)"),
        "badtoken": ("unauthorized", "cluster 'badtoken': not reachable: the API server rejected the credentials "
                                     "(401 Unauthorized)"),
    }
    for name, (code, msg) in expected.items():
        r = results[name]
        assert r.get("failed") is not True and r["changed"] is False
        assert (r["cluster"]["reachable"], r["cluster"]["reason_code"], r["msg"]) == (False, code, msg)


def test_fail_on_unreachable(lab, tmp_path, ansible_run):
    bad = broken_kubeconfigs(lab, tmp_path)
    inv = inventory(tmp_path, {lab.host: (lab.kubeconfig(lab.host), lab.host), "closed": (bad["closed"], lab.members[0])})
    run = ansible_run(INFO, inv, extra_vars={"strict": True})
    assert run.rc != 0
    results = run.results("info")
    assert results[lab.host].get("failed") is not True
    r = results["closed"]
    assert r["failed"] is True and r["code"] == "unreachable"
    assert r["msg"] == "cluster 'closed': not reachable: the API server is unreachable (connection refused)"


class SilentServer:
    """Accepts TCP connections and never says a word; records how long each client held its connection.

    The durations are measured on this side, from accept to the client's close, so they show the deadline the
    module applied (3 s asked, 30 s the default) and not how long Ansible took to start on a loaded machine.
    """

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.held = []
        self.accepted = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.sock.getsockname()[1]

    def _serve(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn):
        opened = time.monotonic()
        try:
            while conn.recv(4096):
                pass
        except OSError:
            pass
        self.held.append(time.monotonic() - opened)
        conn.close()

    def close(self):
        """Stop listening, and give the connections the client already dropped a moment to be counted."""
        self.sock.close()
        deadline = time.monotonic() + 10
        while len(self.held) < self.accepted and time.monotonic() < deadline:
            time.sleep(0.05)


def test_a_server_that_never_answers_is_reported_within_the_timeout(lab, tmp_path, ansible_run):
    """An address that accepts connections and then says nothing (like a dropped route or a stuck proxy)."""
    silent = SilentServer()
    try:
        with open(lab.kubeconfig(lab.members[0])) as f:
            cfg = yaml.safe_load(f)
        cfg["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:%d" % silent.port
        (tmp_path / "silent").write_text(yaml.safe_dump(cfg))
        inv = inventory(tmp_path, {lab.host: (lab.kubeconfig(lab.host), lab.host),
                                   "silent": (str(tmp_path / "silent"), lab.members[0])})
        run = ansible_run(INFO.replace("clock_samples: 2", "timeout: 3"), inv)
    finally:
        silent.close()
    assert run.rc == 0, run
    r = run.results("info")["silent"]
    assert (r["cluster"]["reason_code"], r["msg"]) == (
        "timeout", "cluster 'silent': not reachable: the API server did not answer within 3 s")
    assert run.results("info")[lab.host]["cluster"]["reachable"] is True
    # the client hung up on the silent server itself, after the 3 s asked for, far before the 30 s default
    assert silent.held and len(silent.held) == silent.accepted, (silent.accepted, silent.held)
    assert all(2.5 <= held < 15 for held in silent.held), silent.held
    record("faults", __file__, "silent-apiserver", fault="an API server that accepts connections and never answers",
           moment="cluster_info reads the fleet (status.yml, doctor.yml)",
           sees="cluster 'silent': not reachable: the API server did not answer within 3 s (reason_code timeout, the "
                "module's timeout); the other clusters are still read", rerun="-",
           command="ansible-playbook -i <inventory, one cluster's server silent> <play: cluster_info timeout: 3>")


def test_a_cluster_without_kubesphere(make_lab, tmp_path, ansible_run):
    lab = make_lab(members=1, not_installed=("member1",))
    inv = inventory(tmp_path, {n: (lab.kubeconfig(n), n) for n in lab.names})
    run = ansible_run(INFO, inv)
    assert run.rc == 0, run
    results = run.results("info")
    bare = results["member1"]["cluster"]
    assert (bare["reachable"], bare["kubesphere_installed"], bare["kubesphere_version"], bare["role"]) == (
        True, False, None, "none")
    assert (bare["kubesphere_line"], bare["version_evidence"]) == (
        None, "no KubeSphere found (no ks-core release, no ClusterConfiguration, no kubesphere-config)")
    assert bare["installer"]["present"] is False and bare["jwt_secret_hash"] is None
    assert results["member1"]["msg"] == "cluster 'member1': Kubernetes %s, KubeSphere not installed, role none" % (
        bare["kubernetes_version"])
    assert results["host"]["cluster"]["kubesphere_installed"] is True


def test_inline_kubeconfig_content_works_and_never_shows(lab, tmp_path, ansible_run):
    """As AWX injects it: the kubeconfig's YAML text (certificates and key inlined) in a variable."""
    from kslabkit.lab import embedded_kubeconfig

    member = lab.members[0]
    content = embedded_kubeconfig(lab.kubeconfig(member))
    key_data = yaml.safe_load(content)["users"][0]["user"]["client-key-data"]
    inv = inventory(tmp_path, {lab.host: (lab.kubeconfig(lab.host), lab.host), member: (content, member)})
    run = ansible_run(INFO, inv, verbosity=3)
    assert run.rc == 0, run
    f = run.results("info")[member]["cluster"]
    assert f["reachable"] is True and f["kubernetes_version"].startswith("v1.")
    assert key_data not in run.stdout and key_data not in run.stderr
    assert key_data[:40] not in run.stdout
