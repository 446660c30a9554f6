"""The lab itself: real API servers at the pinned version, one per cluster, isolated from each other,
with KubeSphere's CRDs and furniture, an audit log per cluster, KubeSphere 3.4.1's real control plane
following what the installer stand-in renders, and a CLI that fails with one clear line on bad input."""

import json
import os
import signal
import socket
import subprocess
import time

import pytest

from kslabkit import lab as kslab
from kslabkit.rest import ApiError, Rest

import polling
import ports

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


def _free_block(span):
    """The first base in the private port range (tests/ports.py) whose `span` ports are all free now: scanned in
    order, no randomness."""
    start, stop = ports.private_range(28000, 31000)
    for base in range(start, stop, span):
        if all(kslab._port_free(p) for p in range(base, base + span)):
            return base
    pytest.fail("no %d free ports on 127.0.0.1 between %d and %d" % (span, start, stop))


def test_a_port_in_use_is_named(tmp_path):
    """Another process holds the lab's first kube-apiserver port: `up` names exactly that port."""
    base = _free_block(kslab.ports_needed(3))
    busy = kslab.layout(base, kslab.cluster_names(2))["clusters"]["host"]["apiserver"]
    s = socket.socket()
    s.bind(("127.0.0.1", busy))
    s.listen(1)
    try:
        r = run_kslab("up", env={"KSLAB_STATE": str(tmp_path / "s"), "KSLAB_PORT_BASE": str(base)})
    finally:
        s.close()
    assert r.returncode == 2
    assert "port %d on 127.0.0.1 is in use by another process" % busy in r.stderr
    assert "KSLAB_PORT_BASE" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not os.path.exists(tmp_path / "s" / "lab.json")


def test_port_layout_stays_in_the_labs_range():
    """Every port of a lab comes from its own range; ks-apiserver's below the ephemeral range."""
    names = kslab.cluster_names(8)
    lay = kslab.layout(27000, names)
    ports = [lay["etcd"], lay["etcd_peer"], lay["connect"]] + [p for c in lay["clusters"].values() for p in c.values()]
    assert len(ports) == len(set(ports))
    assert min(ports) == 27000 and max(ports) < 27000 + kslab.ports_needed(len(names))
    r = run_kslab("up", env={"KSLAB_STATE": "/nonexistent/kslab", "KSLAB_PORT_BASE": "32750"})  # member2: 32772
    assert r.returncode == 2 and "choose a lower KSLAB_PORT_BASE" in r.stderr


def test_down_after_a_crash_still_cleans_up(tmp_path):
    env = {"KSLAB_STATE": str(tmp_path / "s"), "KSLAB_PORT_BASE": str(_free_block(kslab.ports_needed(2))),
           "KSLAB_NO_STANDINS": "1"}
    r = run_kslab("up", "--members", "1", env=env)
    assert r.returncode == 0, r.stderr
    state = kslab_state(env)
    os.kill(state["clusters"]["host"]["pid"], 9)  # a crashed API server
    r = run_kslab("down", env=env)
    assert r.returncode == 0
    kcm = [c["kcm_pid"] for c in state["clusters"].values()]
    for pid in [state["etcd"]["pid"]] + [c["pid"] for c in state["clusters"].values()] + kcm:
        assert not os.path.exists("/proc/%d" % pid) or b"kslab" not in open("/proc/%d/cmdline" % pid, "rb").read()
    assert not os.path.exists(env["KSLAB_STATE"])
    assert not os.path.exists(state["etcd"]["data_dir"])


def test_build_without_go_says_what_to_install(tmp_path):
    """A machine without Go gets one line that says what to install, and nothing is built."""
    build = os.path.join(os.path.dirname(KSLAB), "build-binaries.sh")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KSLAB_CACHE": str(tmp_path / "cache")}
    if any(os.access(os.path.join(d, "go"), os.X_OK) for d in env["PATH"].split(":")):
        # go lives in /usr/bin here: offer every other command of /usr/bin and /bin, without go
        tools = tmp_path / "path"
        tools.mkdir()
        for d in ("/usr/bin", "/bin"):
            for name in os.listdir(d):
                if name not in ("go", "gofmt") and not (tools / name).exists():
                    os.symlink(os.path.join(d, name), tools / name)
        env["PATH"] = str(tools)
    r = subprocess.run(["/bin/bash", build], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "kslab build: no Go toolchain on PATH: install Go 1.24 or newer (Debian: apt-get install golang-go; "
        "or https://go.dev/dl) and run again"]
    assert not os.path.exists(tmp_path / "cache")


# --- KubeSphere's real control plane ------------------------------------------------------------------

KS = "kubesphere-system"
CC = "/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/ks-installer"
KS_VERSION_VIA_PROXY = "/api/v1/namespaces/kubesphere-system/services/:ks-apiserver:80/proxy/kapis/version"


def wait_for(what, fn, timeout=120, interval=1.0):
    """tests/polling.py's wait_for, the description first (as this file's calls read)."""
    return polling.wait_for(fn, timeout, what, interval)


def procs(lab):
    return {p["name"]: p for p in kslab.read_procs(lab.state_dir)}


def audit_users(lab, name):
    users = set()
    with open(lab.state["clusters"][name]["audit_log"]) as f:
        for line in f:
            users.add(json.loads(line)["user"].get("username", ""))
    return users


def supervisor_log(lab):
    with open(os.path.join(lab.state_dir, "logs", "supervisor.log")) as f:
        return f.read()


def test_every_kube_apiserver_writes_an_audit_log_with_one_user_per_lab_component(lab, kube, unique):
    for name in lab.names:
        kube(name).try_get("/api/v1/namespaces/audit-probe-" + unique)
    for name in lab.names:
        with open(lab.state["clusters"][name]["audit_log"]) as f:
            events = [json.loads(line) for line in f]
        assert all(e["level"] == "Metadata" and e["stage"] != "RequestReceived" for e in events)
        assert all("requestObject" not in e for e in events)
        probe = [e for e in events if e["requestURI"].endswith("/namespaces/audit-probe-" + unique)]
        assert probe and {e["user"]["username"] for e in probe} == {kslab.ADMIN_USER}
        users = {e["user"].get("username", "") for e in events}
        assert {"kslab:up", "kslab:kube-controller-manager", "kslab:supervisor"} <= users
        if lab.state["clusters"][name].get("installed", True):
            assert "kslab:ks-installer" in users


def test_each_installed_cluster_serves_ks_apiserver_v341_through_its_service_proxy(lab, kube):
    for name in lab.names:
        if not lab.state["clusters"][name].get("installed", True):
            continue
        version = wait_for("ks-apiserver of %s through the service proxy" % name,
                           lambda n=name: kube(n).get(KS_VERSION_VIA_PROXY))
        assert version["gitVersion"] == "v3.4.1", version
        ep = kube(name).get("/api/v1/namespaces/kubesphere-system/endpoints/ks-apiserver")
        ip = ep["subsets"][0]["addresses"][0]["ip"]
        assert not ip.startswith("127.")  # a made-up Pod IP: only the CONNECT proxy knows where it goes


def test_the_connect_proxy_refuses_a_pod_ip_it_does_not_map(lab, kube, unique, cleanup):
    """A Service whose Endpoints point at a made-up IP the lab never mapped: the service proxy goes through
    the CONNECT proxy, which refuses, so nothing dials that address."""
    c = kube(lab.members[0])
    name, ip = "nomap-" + unique, "10.244.77.7"
    base = "/api/v1/namespaces/default"
    c.request("POST", base + "/services", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                                           "spec": {"ports": [{"port": 80, "targetPort": 9090}]}})
    cleanup(lab.members[0], base + "/services/" + name)
    c.request("POST", base + "/pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                                       "spec": {"containers": [{"name": "x", "image": "x"}]}})
    cleanup(lab.members[0], base + "/pods/" + name)
    c.request("PATCH", base + "/pods/%s/status" % name, {"status": {"podIP": ip, "podIPs": [{"ip": ip}]}},
              content_type="application/merge-patch+json")
    uid = c.get(base + "/pods/" + name)["metadata"]["uid"]
    c.request("POST", base + "/endpoints", {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name},
                                            "subsets": [{"addresses": [{"ip": ip, "targetRef": {
                                                "kind": "Pod", "name": name, "namespace": "default", "uid": uid}}],
                                                "ports": [{"port": 9090}]}]})
    cleanup(lab.members[0], base + "/endpoints/" + name)
    with pytest.raises(ApiError) as err:
        c.request("GET", base + "/services/%s:80/proxy/" % name, raw=True)
    assert err.value.status >= 500
    assert "refused CONNECT %s:9090" % ip in wait_for(
        "the refusal in the supervisor's log", lambda: "refused CONNECT %s:9090" % ip in supervisor_log(lab)
        and supervisor_log(lab), timeout=10)


def test_status_lists_every_process_and_its_health(lab):
    installed = [n for n in lab.names if lab.state["clusters"][n].get("installed", True)]
    wait_for("every ks-apiserver recorded", lambda: all("ks-apiserver@" + n in procs(lab) for n in installed))
    r = run_kslab("status", env=lab.env)
    assert r.returncode == 0, r.stderr
    rows = [ln.split() for ln in r.stdout.splitlines()]
    for n in lab.names:
        assert ["kube-controller-manager", n] == [x for x in rows if x[:2] == ["kube-controller-manager", n]][0][:2]
        assert any(x[:2] == ["kube-controller-manager", n] and x[-2:] == ["ok", "running"] for x in rows)
        assert any(x[:2] == ["kube-apiserver", n] and x[-1] == "ok" for x in rows)
    for kind in ("supervisor", "connect-proxy", "etcd"):
        assert any(x and x[0] == kind and "ok" in x for x in rows), r.stdout
    for n in installed:
        wait_for("ks-apiserver of %s healthy" % n, lambda n=n: any(
            ln.split()[:2] == ["ks-apiserver", n] and "ok" in ln.split()
            for ln in run_kslab("status", env=lab.env).stdout.splitlines() if ln.strip()))


def test_a_process_that_dies_is_reported_by_name_with_its_log_and_started_again(lab):
    member = lab.members[0]
    name = "ks-apiserver@" + member
    wait_for(name + " running", lambda: name in procs(lab))
    pid = procs(lab)[name]["pid"]
    os.kill(pid, signal.SIGKILL)
    log = wait_for("the death in the supervisor's log",
                   lambda: "%s DIED" % name in supervisor_log(lab) and supervisor_log(lab), timeout=20)
    assert "last lines of %s" % procs(lab).get(name, {}).get("log", os.path.join(
        lab.state_dir, "logs", "ks-apiserver-%s.log" % member)) in log
    new = wait_for("restarted", lambda: procs(lab).get(name, {}).get("pid") not in (None, pid) and procs(lab)[name])
    assert kslab._alive(new["pid"], "ks-apiserver")
    version = wait_for("ks-apiserver answering again", lambda: lab.client(member).get(KS_VERSION_VIA_PROXY))
    assert version["gitVersion"] == "v3.4.1"


STANDIN_USERS = ("kslab:supervisor", "kslab:ks-installer")
HANDLED = "kslab.standins/handled-spec-hash"


def standin_requests(lab, name, offset):
    """The stand-ins' requests other than their watches in cluster `name`'s audit log after `offset`."""
    with open(lab.state["clusters"][name]["audit_log"]) as f:
        f.seek(offset)
        events = [json.loads(ln) for ln in f if ln.strip()]
    return [e for e in events if e["user"].get("username") in STANDIN_USERS and e["verb"] != "watch"]


def test_an_idle_lab_polls_nothing_and_a_change_still_wakes_the_stand_ins(lab, kube, unique):
    """The supervisor and the installer stand-in follow watches: once nothing has changed for a while they make
    no request at all (they read every cluster each second before), and a change is still acted on."""
    host = lab.host

    def quiet_window():
        offsets = {n: os.path.getsize(lab.state["clusters"][n]["audit_log"]) for n in lab.names}
        time.sleep(8)
        return all(not standin_requests(lab, n, offsets[n]) for n in lab.names)

    assert wait_for("8 s in which the stand-ins read nothing", quiet_window, timeout=150, interval=0.5)
    before = kube(host).get(CC)["metadata"]["annotations"].get(HANDLED)
    offset = os.path.getsize(lab.state["clusters"][host]["audit_log"])
    for value in (unique, None):  # a spec change the installer runs for; then the spec as it was
        kube(host).merge_patch(CC, {"spec": {"kslabWakeProbe": value}})
        handled = wait_for("the installer's run for the changed spec", lambda b=before: (
            kube(host).get(CC)["metadata"]["annotations"].get(HANDLED) not in (None, b)
            and kube(host).get(CC)["metadata"]["annotations"][HANDLED]), timeout=60)
        before = handled
    reads = standin_requests(lab, host, offset)
    assert any(e["user"]["username"] == "kslab:ks-installer" and e["verb"] == "patch" for e in reads)


def test_a_crashed_supervisor_is_replaced_by_up_and_its_processes_are_not_left_behind(lab):
    """kill -9 of the supervisor leaves its processes running; `kslab up` starts a new supervisor, which stops
    them (by the pids recorded in <state>/procs) and starts its own; the service proxy answers again."""
    installed = [n for n in lab.names if lab.state["clusters"][n].get("installed", True)]
    wait_for("every ks-apiserver", lambda: all("ks-apiserver@" + n in procs(lab) for n in installed))
    old = {name: p["pid"] for name, p in procs(lab).items()}
    sup = kslab_state(lab.env)["standins"]["pid"]
    os.kill(sup, signal.SIGKILL)
    wait_for("the supervisor gone", lambda: not kslab._alive(sup, "standins"), timeout=10)
    assert all(kslab._alive(pid, "ks-apiserver") for pid in old.values())  # orphans, for now
    r = run_kslab("up", env=lab.env)
    assert r.returncode == 0, r.stderr
    assert kslab_state(lab.env)["standins"]["pid"] != sup
    wait_for("the orphans stopped", lambda: not any(kslab._alive(pid, "ks-apiserver") for pid in old.values()),
             timeout=30)
    for n in installed:
        version = wait_for("ks-apiserver of %s again" % n, lambda n=n: lab.client(n).get(KS_VERSION_VIA_PROXY))
        assert version["gitVersion"] == "v3.4.1"
    assert all(procs(lab)["ks-apiserver@" + n]["pid"] != old["ks-apiserver@" + n] for n in installed)

def test_a_host_runs_the_real_cluster_controller_its_webhook_tower_and_kubefed(make_lab):
    """Following the installer's rendering: role host starts ks-controller-manager (which creates the
    Cluster `host`), tower and kubefed, and the installer's webhook points at the host's webhook; role none
    again stops them."""
    lab = make_lab(members=1)
    host = lab.client(lab.host)
    host.merge_patch(CC, {"spec": {"multicluster": {"clusterRole": "host"}}})
    wanted = {"ks-controller-manager@host", "tower@host", "kubefed@host", "ks-apiserver@host"}
    wait_for("host processes", lambda: wanted <= set(procs(lab)), timeout=180)
    cluster = wait_for("Cluster host", lambda: host.try_get("/apis/cluster.kubesphere.io/v1alpha1/clusters/host"),
                       timeout=180)
    assert cluster["metadata"]["labels"].get("cluster-role.kubesphere.io/host") == ""
    assert any(m["manager"].startswith("controller-manager") or m["manager"].startswith("ks-controller-manager")
               for m in cluster["metadata"]["managedFields"]), cluster["metadata"]["managedFields"]
    assert "kslab:ks-controller-manager" in audit_users(lab, lab.host)
    hook = host.get("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/cluster.kubesphere.io")
    url = hook["webhooks"][0]["clientConfig"]["url"]
    assert url == "https://127.0.0.1:%d/validate-cluster-kubesphere-io-v1alpha1" % (
        lab.state["clusters"]["host"]["ports"]["ks_webhook"])
    # the webhook answers: an UPDATE of the Cluster goes through it (allowed for a harmless label)
    host.merge_patch("/apis/cluster.kubesphere.io/v1alpha1/clusters/host", {"metadata": {"labels": {"kslab-probe": "1"}}})
    ready = wait_for("kubefed healthy and the host's KubeFedCluster", lambda: host.try_get(
        "/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/kubefedclusters/host"), timeout=120)
    assert ready["spec"]["apiEndpoint"]
    r = run_kslab("status", env=lab.env)
    for kind in ("ks-controller-manager", "tower", "kubefed"):
        assert any(ln.split()[:2] == [kind, "host"] and "ok" in ln.split() for ln in r.stdout.splitlines()), r.stdout

    host.merge_patch(CC, {"spec": {"multicluster": {"clusterRole": "none"}}})
    wait_for("host processes stopped", lambda: not ({"ks-controller-manager@host", "tower@host", "kubefed@host"}
                                                     & set(procs(lab))), timeout=120)



def test_a_process_is_dead_only_when_it_has_ended_not_while_its_command_line_is_unreadable():
    """`kslab up` decides "exited at start-up" by the exit status (its own child) or /proc/<pid>/stat, never
    by an empty /proc/<pid>/cmdline, which a process shows between exec and the kernel laying out its argv."""
    from kslabkit.processes import exit_status  # noqa: PLC0415

    running = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        assert exit_status(running.pid) is None
    finally:
        os.kill(running.pid, signal.SIGKILL)
    assert wait_for("sleep killed", lambda: exit_status(running.pid), timeout=10, interval=0.1) == "killed by signal 9"
    failing = subprocess.Popen(["sh", "-c", "exit 3"])
    assert wait_for("sh ended", lambda: exit_status(failing.pid), timeout=10, interval=0.1) == "exit code 3"
    assert exit_status(os.getppid()) is None  # not a child: looked up in /proc
    assert exit_status(2 ** 22 + 1) == "gone"
