"""The lab itself: real API servers at the pinned version, one per cluster, isolated from each other,
with KubeSphere's CRDs and furniture, and a CLI that fails with one clear line on bad input."""

import os
import socket
import subprocess

import pytest

from kslabkit import lab as kslab
from kslabkit.rest import ApiError, Rest

KSLAB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "kslab")


def run_kslab(*args, env=None):
    return subprocess.run([KSLAB, *args], env=dict(os.environ, **(env or {})), capture_output=True, text=True,
                          timeout=300)


def test_every_cluster_reports_the_pinned_version(lab, kube):
    for name in lab.names:
        assert kube(name).get("/version")["gitVersion"] == kslab.K8S_VERSION


def test_each_cluster_lists_its_namespaces_with_its_own_kubeconfig(lab, kube):
    for name in lab.names:
        names = {ns["metadata"]["name"] for ns in kube(name).get("/api/v1/namespaces")["items"]}
        assert {"default", "kube-system"} <= names


def test_clusters_are_separate_api_surfaces(lab, kube, unique):
    """An object made in one cluster is not in another, and kube-system UIDs differ."""
    host, member = lab.host, lab.members[0]
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "iso-" + unique, "namespace": "default"}}
    kube(host).ensure(cm)
    try:
        assert kube(member).try_get("/api/v1/namespaces/default/configmaps/iso-" + unique) is None
        uids = {kube(n).get("/api/v1/namespaces/kube-system")["metadata"]["uid"] for n in lab.names}
        assert len(uids) == len(lab.names)
    finally:
        kube(host).request("DELETE", "/api/v1/namespaces/default/configmaps/iso-" + unique)


def test_one_clusters_credentials_are_refused_by_another(lab, tmp_path):
    """The host's admin certificate, presented to a member (trusting the member's CA), is refused."""
    import yaml

    host_cfg = yaml.safe_load(open(lab.kubeconfig(lab.host)))
    member_cfg = yaml.safe_load(open(lab.kubeconfig(lab.members[0])))
    mixed = dict(host_cfg)
    mixed["clusters"] = member_cfg["clusters"]
    mixed["clusters"][0]["name"] = host_cfg["clusters"][0]["name"]
    path = tmp_path / "mixed"
    path.write_text(yaml.safe_dump(mixed))
    with pytest.raises(ApiError) as err:
        Rest(str(path)).get("/api/v1/namespaces")
    assert err.value.status == 401


def test_clusters_trust_only_their_own_ca(lab):
    """A client that trusts the host's CA refuses a member's serving certificate."""
    import ssl
    import urllib.request

    ctx = ssl.create_default_context(cafile=os.path.join(lab.state["clusters"][lab.host]["dir"], "ca.crt"))
    with pytest.raises(urllib.error.URLError) as err:
        urllib.request.urlopen(lab.server(lab.members[0]) + "/version", context=ctx, timeout=5)
    assert "CERTIFICATE_VERIFY_FAILED" in str(err.value)


def test_kubesphere_crds_and_furniture_are_loaded(lab, kube):
    for name in lab.names:
        c = kube(name)
        crds = {x["metadata"]["name"] for x in c.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")["items"]}
        assert {"clusterconfigurations.installer.kubesphere.io", "clusters.cluster.kubesphere.io",
                "kubefedclusters.core.kubefed.io", "federatednamespaces.types.kubefed.io",
                "federateddeployments.types.kubefed.io", "replicaschedulingpreferences.scheduling.kubefed.io",
                "workspacetemplates.tenant.kubesphere.io"} <= crds
        nodes = c.get("/api/v1/nodes")["items"]
        assert len(nodes) == 3
        assert all(any(cond["type"] == "Ready" and cond["status"] == "True" for cond in n["status"]["conditions"])
                   for n in nodes)
        cc = c.get("/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/ks-installer")
        assert cc["metadata"]["labels"]["version"] == "v3.4.1"


def test_crd_schemas_are_enforced(lab, kube, unique):
    """The real API server validates what is written against the loaded schema."""
    bad = {"apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
           "metadata": {"name": "schema-" + unique}, "spec": {"joinFederation": "not-a-bool"}}
    with pytest.raises(ApiError) as err:
        kube(lab.host).request("POST", "/apis/cluster.kubesphere.io/v1alpha1/clusters", bad)
    assert err.value.status == 422


def test_not_installed_cluster_has_no_kubesphere(make_lab):
    private = make_lab(members=1, not_installed=("member1",), extra_env={"KSLAB_NO_STANDINS": "1"})
    c = private.client("member1")
    assert c.try_get("/api/v1/namespaces/kubesphere-system") is None
    assert c.try_get("/api/v1/namespaces/default") is not None
    assert private.client("host").try_get("/api/v1/namespaces/kubesphere-system") is not None


def test_up_is_idempotent_and_status_shows_every_cluster(lab):
    env = lab.env
    before = dict((n, c["pid"]) for n, c in lab.state["clusters"].items())
    r = run_kslab("up", env=env)
    assert r.returncode == 0, r.stderr
    assert "reusing it" in r.stdout
    after = kslab_state(env)
    assert {n: c["pid"] for n, c in after["clusters"].items()} == before
    s = run_kslab("status", env=env)
    for n in lab.names:
        assert n in s.stdout
    assert s.stdout.count("ready %s" % kslab.K8S_VERSION) == len(lab.names)


def kslab_state(env):
    import json

    with open(os.path.join(env["KSLAB_STATE"], "lab.json")) as f:
        return json.load(f)


def test_kubeconfig_prints_the_path_and_rejects_an_unknown_cluster(lab):
    r = run_kslab("kubeconfig", lab.members[0], env=lab.env)
    assert r.returncode == 0 and r.stdout.strip() == lab.kubeconfig(lab.members[0])
    r = run_kslab("kubeconfig", "nosuch", env=lab.env)
    assert r.returncode == 2
    assert r.stderr.strip() == "kslab: no cluster named 'nosuch' in this lab (clusters: %s)" % ", ".join(lab.names)


def test_bad_input_gives_one_clear_line(tmp_path):
    env = {"KSLAB_STATE": str(tmp_path / "s"), "KSLAB_PORT_BASE": "28900"}
    r = run_kslab("up", "--clusters", "host,Bad_Name", env=env)
    assert r.returncode == 2 and "'Bad_Name' is not a cluster name KubeSphere accepts" in r.stderr
    r = run_kslab("up", env=dict(env, KSLAB_CACHE=str(tmp_path / "empty")))
    assert r.returncode == 2 and "run `tests/lab/build-binaries.sh`" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_named(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        r = run_kslab("up", env={"KSLAB_STATE": str(tmp_path / "s"), "KSLAB_PORT_BASE": str(port)})
    finally:
        s.close()
    assert r.returncode == 2
    assert "port %d on 127.0.0.1 is in use by another process" % port in r.stderr
    assert "KSLAB_PORT_BASE" in r.stderr


def test_down_after_a_crash_still_cleans_up(tmp_path):
    env = {"KSLAB_STATE": str(tmp_path / "s"), "KSLAB_PORT_BASE": "28940", "KSLAB_NO_STANDINS": "1"}
    r = run_kslab("up", "--members", "1", env=env)
    assert r.returncode == 0, r.stderr
    state = kslab_state(env)
    os.kill(state["clusters"]["host"]["pid"], 9)  # a crashed API server
    r = run_kslab("down", env=env)
    assert r.returncode == 0
    for pid in [state["etcd"]["pid"]] + [c["pid"] for c in state["clusters"].values()]:
        assert not os.path.exists("/proc/%d" % pid) or b"kslab" not in open("/proc/%d/cmdline" % pid, "rb").read()
    assert not os.path.exists(env["KSLAB_STATE"])
    assert not os.path.exists(state["etcd"]["data_dir"])


def test_build_without_go_says_what_to_install(tmp_path):
    """A machine without Go gets one line that says what to install, and nothing is built."""
    build = os.path.join(os.path.dirname(KSLAB), "build-binaries.sh")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KSLAB_CACHE": str(tmp_path / "cache")}
    if any(os.access(os.path.join(d, "go"), os.X_OK) for d in env["PATH"].split(":")):
        env["PATH"] = str(tmp_path)  # go lives in /usr/bin here: offer bash only
        os.symlink("/bin/bash", tmp_path / "bash")
    r = subprocess.run(["/bin/bash", build], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "kslab build: no Go toolchain on PATH: install Go 1.24 or newer (Debian: apt-get install golang-go; "
        "or https://go.dev/dl) and run again"]
    assert not os.path.exists(tmp_path / "cache")
