"""The lab: one etcd and one real kube-apiserver per cluster, on loopback, with KubeSphere's CRDs.

State lives in $KSLAB_STATE (default: <repo>/.kslab): lab.json, per-cluster PKI and kubeconfig, logs,
pid files and a generated inventory. etcd's data lives on /dev/shm. Binaries come from
tests/lab/build-binaries.sh and are cached in $KSLAB_CACHE (default ~/.cache/kslab)."""

import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import yaml

from .certs import make_cluster_pki
from .rest import ApiError, Rest

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tests/lab
REPO = os.path.dirname(os.path.dirname(LAB_DIR))
K8S_VERSION = os.environ.get("KSLAB_K8S_VERSION", "v1.34.3")
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
NODES_PER_CLUSTER = 3


class LabError(Exception):
    """A problem the user can fix; the CLI prints it as one line."""


def state_dir():
    return os.path.abspath(os.environ.get("KSLAB_STATE", os.path.join(REPO, ".kslab")))


def cache_dir():
    return os.environ.get("KSLAB_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "kslab"))


def bin_dir():
    return os.path.join(cache_dir(), K8S_VERSION, "bin")


# Every binary the lab runs: name -> (cache sub-folder, file). Built by tests/lab/build-binaries.sh.
BINARIES = {
    "etcd": (K8S_VERSION, "etcd"),
    "kube-apiserver": (K8S_VERSION, "kube-apiserver"),
    "kube-controller-manager": (K8S_VERSION, "kube-controller-manager"),
    "kubefed-controller-manager": ("kubefed-v0.8.1", "kubefed-controller-manager"),
    "ks-controller-manager": ("kubesphere-v3.4.1", "ks-controller-manager"),
    "ks-apiserver": ("kubesphere-v3.4.1", "ks-apiserver"),
    "tower-proxy": ("tower-v0.2.1", "tower-proxy"),
    "tower-agent": ("tower-v0.2.1", "tower-agent"),
}


def binary(name):
    sub, f = BINARIES[name]
    return os.path.join(cache_dir(), sub, "bin", f)


def default_crds_dir():
    """KubeSphere 3.4's real CRDs (v3.4 and v3.4-ks-core), beside the checkout: <repo>/../shared/kubesphere-crds."""
    return os.path.join(os.path.dirname(REPO), "shared", "kubesphere-crds")


def port_base():
    return int(os.environ.get("KSLAB_PORT_BASE", "26440"))


# Port layout of a lab with base B and N clusters (every port on 127.0.0.1):
#   B etcd client, B+1 etcd peer, B+2 CONNECT proxy (HTTPS_PROXY of the host-side KubeSphere binaries),
#   B+3+i kube-apiserver of cluster i,
#   B+3+N+8*i+k the KubeSphere processes of cluster i: k=0 ks-apiserver, 1 ks-controller-manager webhook,
#   2 its metrics, 3 tower proxy (agents), 4 kubefed healthz, 5 kubefed metrics (6, 7 spare).
KS_PORTS = ("ks_apiserver", "ks_webhook", "ks_metrics", "tower", "kubefed_healthz", "kubefed_metrics")
PORTS_PER_CLUSTER = 8
KS_APISERVER_PORT_LIMIT = 32768  # ks-apiserver must listen below the ephemeral range


def ports_needed(n_clusters):
    """How many consecutive ports from KSLAB_PORT_BASE a lab of n clusters uses."""
    return 3 + n_clusters + PORTS_PER_CLUSTER * n_clusters


def layout(base, names):
    n = len(names)
    out = {"etcd": base, "etcd_peer": base + 1, "connect": base + 2, "clusters": {}}
    for i, name in enumerate(names):
        block = base + 3 + n + PORTS_PER_CLUSTER * i
        ports = {"apiserver": base + 3 + i}
        ports.update({k: block + j for j, k in enumerate(KS_PORTS)})
        out["clusters"][name] = ports
    return out


def _say(msg):
    print("[kslab] %s" % msg, flush=True)


# ---------------------------------------------------------------------------------------------------
# state


def load_state():
    path = os.path.join(state_dir(), "lab.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def save_state(state):
    os.makedirs(state_dir(), exist_ok=True)
    tmp = os.path.join(state_dir(), "lab.json.tmp")
    with open(tmp, "w") as f:
        json.dump(state, f, indent=2, sort_keys=True)
    os.replace(tmp, os.path.join(state_dir(), "lab.json"))


def kubeconfig_path(name, state=None):
    state = state or load_state()
    if not state:
        raise LabError("no lab is running here (%s): start one with `tests/lab/kslab up`" % state_dir())
    if name not in state["clusters"]:
        raise LabError(
            "no cluster named %r in this lab (clusters: %s)" % (name, ", ".join(state["clusters"]))
        )
    return state["clusters"][name]["kubeconfig"]


# ---------------------------------------------------------------------------------------------------
# processes


def _alive(pid, needle):
    """True when `pid` runs and its command line contains `needle` (so a reused pid is not ours); a tuple
    needle: every part of it (e.g. the program and this lab's state folder, so that another lab's process
    that got a recycled pid is never taken for ours)."""
    parts = needle if isinstance(needle, tuple) else (needle,)
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmdline = f.read()
    except (OSError, TypeError):
        return False
    return all(part.encode() in cmdline for part in parts)


def _port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def _spawn(argv, log_path, pid_path, env=None, cwd=None):
    log = open(log_path, "ab")
    try:
        proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env=env or dict(os.environ, GOMAXPROCS="2"), cwd=cwd,
        )
    except OSError as e:
        raise LabError("could not start %s: %s; run `tests/lab/build-binaries.sh`" % (argv[0], e.strerror)) from None
    finally:
        log.close()
    with open(pid_path, "w") as f:
        f.write(str(proc.pid))
    return proc.pid


def _stop(pid, needle, timeout=15):
    if not _alive(pid, needle):
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except OSError:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.time() + timeout
    while time.time() < deadline and _alive(pid, needle):
        time.sleep(0.1)
    if _alive(pid, needle):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        deadline = time.time() + 5
        while time.time() < deadline and _alive(pid, needle):
            time.sleep(0.1)
    return True


def log_tail(path, lines=8):
    """The last lines of a log file (for reports about a process that died)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 8192))
            text = f.read().decode(errors="replace")
    except OSError:
        return []
    return [ln for ln in text.splitlines() if ln.strip()][-lines:]


def lab_ca_dir(sd=None):
    """The lab's own CA (webhook serving certificates, tower's CA)."""
    return os.path.join(sd or state_dir(), "lab-ca")


def procs_dir(sd=None):
    """Where the supervisor records every process it runs (one JSON file each), so `down` finds them by pid."""
    return os.path.join(sd or state_dir(), "procs")


def read_procs(sd=None):
    out = []
    for path in sorted(glob.glob(os.path.join(procs_dir(sd), "*.json"))):
        try:
            with open(path) as f:
                out.append(json.load(f))
        except (OSError, ValueError):
            continue
    return out


# ---------------------------------------------------------------------------------------------------
# identities: one client certificate per lab component, so the audit log separates them from the collection


ADMIN_USER = "kslab-admin"  # the collection's (and tests') identity: the admin kubeconfig kslab writes
COMPONENTS = ("up", "supervisor", "ks-installer", "kube-controller-manager", "ks-apiserver",
              "ks-controller-manager", "tower", "kubefed", "cluster-agent")


def component_user(component):
    return "kslab:%s" % component


def component_kubeconfig(cluster_dir, cluster_name, server, component):
    """A kubeconfig with embedded data for one lab component on one cluster (CN kslab:<component>,
    O system:masters), written once."""
    import base64  # noqa: PLC0415

    from .certs import make_client_cert  # noqa: PLC0415

    path = os.path.join(cluster_dir, "identities", "%s.kubeconfig" % component)
    if os.path.exists(path):
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cert, key = make_client_cert(cluster_dir, component_user(component))
    with open(os.path.join(cluster_dir, "ca.crt"), "rb") as f:
        ca = f.read()
    user = component_user(component)
    cfg = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": server,
                                                        "certificate-authority-data": base64.b64encode(ca).decode()}}],
        "users": [{"name": user, "user": {"client-certificate-data": base64.b64encode(cert).decode(),
                                          "client-key-data": base64.b64encode(key).decode()}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": cluster_name,
    }
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------------------------------------------
# up


def _check_binaries():
    missing = [b for b in BINARIES if not os.access(binary(b), os.X_OK)]
    if missing:
        raise LabError(
            "%s not built in %s: run `tests/lab/build-binaries.sh` (or `make lab-binaries`)"
            % (", ".join(missing), cache_dir())
        )


def _write_kubeconfig(path, name, server, ca, cert, key):
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority": ca}}],
        "users": [{"name": "%s-admin" % name, "user": {"client-certificate": cert, "client-key": key}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": "%s-admin" % name}}],
        "current-context": name,
    }
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    os.chmod(path, 0o600)


AUDIT_POLICY = """\
# Written by kslab: every request at Metadata level (who, verb, resource, response code), no bodies.
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
"""


def egress_socket(c):
    """The Unix socket of a cluster's `cluster` egress (the CONNECT proxy); short enough for sun_path."""
    path = os.path.join(c["dir"], "egress.sock")
    if len(path) > 100:
        import hashlib  # noqa: PLC0415

        path = os.path.join("/tmp", "kslab-%d-%s" % (os.getuid(), hashlib.sha1(c["dir"].encode()).hexdigest()[:12]),
                            "egress.sock")
    return path


def _write_apiserver_files(c):
    d = c["dir"]
    with open(os.path.join(d, "audit-policy.yaml"), "w") as f:
        f.write(AUDIT_POLICY)
    egress = {
        "apiVersion": "apiserver.k8s.io/v1beta1", "kind": "EgressSelectorConfiguration",
        "egressSelections": [{"name": "cluster", "connection": {
            "proxyProtocol": "HTTPConnect", "transport": {"uds": {"udsName": egress_socket(c)}}}}],
    }
    with open(os.path.join(d, "egress-selector.yaml"), "w") as f:
        yaml.safe_dump(egress, f, sort_keys=False)


def _apiserver_argv(name, c, etcd_url):
    d = c["dir"]
    issuer = "https://%s.kslab.local" % name
    return [
        binary("kube-apiserver"),
        "--etcd-servers=%s" % etcd_url,
        "--etcd-prefix=/kslab/%s/registry" % name,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        "--secure-port=%d" % c["port"],
        "--cert-dir=%s" % d,
        "--tls-cert-file=%s/apiserver.crt" % d,
        "--tls-private-key-file=%s/apiserver.key" % d,
        "--client-ca-file=%s/ca.crt" % d,
        "--service-account-issuer=%s" % issuer,
        "--api-audiences=%s" % issuer,
        "--service-account-key-file=%s/sa.pub" % d,
        "--service-account-signing-key-file=%s/sa.key" % d,
        "--service-cluster-ip-range=10.%d.0.0/24" % (96 + c["index"]),
        "--authorization-mode=RBAC",
        "--disable-admission-plugins=ServiceAccount",
        "--endpoint-reconciler-type=none",
        "--allow-privileged=true",
        "--profiling=false",
        "--enable-priority-and-fairness=false",
        "--audit-policy-file=%s/audit-policy.yaml" % d,
        "--audit-log-path=%s" % c["audit_log"],
        "--audit-log-format=json",
        "--audit-log-maxsize=200",
        "--audit-log-maxbackup=1",
        "--egress-selector-config-file=%s/egress-selector.yaml" % d,
        "--v=0",
    ]


def _kcm_argv(name, c):
    d = c["dir"]
    return [
        binary("kube-controller-manager"),
        "--kubeconfig=%s" % component_kubeconfig(d, name, c["server"], "kube-controller-manager"),
        "--controllers=serviceaccount-token,serviceaccount,namespace,garbagecollector",
        "--service-account-private-key-file=%s/sa.key" % d,
        "--root-ca-file=%s/ca.crt" % d,
        "--use-service-account-credentials=false",
        "--leader-elect=false",
        "--secure-port=0",
        "--profiling=false",
        "--v=0",
    ]


def _start_kcm(state, name):
    c = state["clusters"][name]
    log = os.path.join(state["state_dir"], "logs", "%s-kube-controller-manager.log" % name)
    c["kcm_log"] = log
    c["kcm_pid"] = _spawn(_kcm_argv(name, c), log, os.path.join(c["dir"], "kcm.pid"))
    save_state(state)


def _wait_ready(rest, name, log, timeout, pid=None):
    deadline = time.time() + timeout
    last = ""
    while time.time() < deadline:
        if pid and not _alive(pid, "kube-apiserver"):
            raise LabError("kube-apiserver of %s exited at start-up: %s (log %s)"
                           % (name, " | ".join(log_tail(log, 3)) or "no output", log))
        try:
            if rest.request("GET", "/readyz", raw=True).strip() == b"ok" and rest.try_get("/api/v1/namespaces/default"):
                return
        except (ApiError, OSError) as e:
            last = str(e)
        time.sleep(0.5)
    raise LabError("cluster %s was not ready after %d s (%s); see %s" % (name, timeout, last[:200], log))


def cluster_names(members):
    return ["host"] + ["member%d" % i for i in range(1, members + 1)]


def _resolve_crds(crds_dir):
    crds_dir = crds_dir or os.environ.get("KSLAB_CRDS_DIR") or default_crds_dir()
    if not os.path.isdir(crds_dir):
        raise LabError("the CRD folder %s does not exist: point KSLAB_CRDS_DIR or --crds at KubeSphere 3.4's CRDs "
                       "(../shared/kubesphere-crds beside the checkout)" % crds_dir)
    return os.path.abspath(crds_dir)


def up(names=None, not_installed=(), crds_dir=None, timeout=180):
    """Start (or reuse) the lab. Returns the state dict."""
    names = names or cluster_names(2)
    for n in list(names) + list(not_installed):
        if not NAME_RE.match(n):
            raise LabError(
                "%r is not a cluster name KubeSphere accepts (lowercase letters, digits, '-' and '.', "
                "alphanumeric at both ends)" % n
            )
    unknown = [n for n in not_installed if n not in names]
    if unknown:
        raise LabError("--not-installed names unknown clusters: %s (clusters: %s)" % (", ".join(unknown), ", ".join(names)))
    state = load_state()
    if state:
        if "ports" in state and healthy(state) and list(state["clusters"]) == list(names):
            _say("lab already running with %s: reusing it" % ", ".join(names))
            for n in names:
                c = state["clusters"][n]
                if not _alive(c.get("kcm_pid"), "kube-controller-manager"):
                    _say("kube-controller-manager of %s is not running: starting it" % n)
                    _start_kcm(state, n)
            start_supervisor(state)
            return state
        _say("an earlier lab is here but %s: cleaning it up first" % (
            "has other clusters" if list(state["clusters"]) != list(names) else
            "was made by an older kslab" if "ports" not in state else "not healthy"))
        down(quiet=True)
    _check_binaries()
    crds_dir = _resolve_crds(crds_dir)

    base = port_base()
    lay = layout(base, names)
    last = base + ports_needed(len(names)) - 1
    top_ks = max(p["ks_apiserver"] for p in lay["clusters"].values())
    if top_ks >= KS_APISERVER_PORT_LIMIT or base < 1024:
        raise LabError("KSLAB_PORT_BASE=%d puts ports outside 1024..%d (ks-apiserver must listen below the ephemeral "
                       "range): choose a lower KSLAB_PORT_BASE" % (base, KS_APISERVER_PORT_LIMIT - 1))
    busy = [p for p in range(base, last + 1) if not _port_free(p)]
    if busy:
        raise LabError(
            "port%s %s on 127.0.0.1 %s in use by another process: stop it, or choose another range with "
            "KSLAB_PORT_BASE=<port> (the lab uses %d..%d)"
            % ("s" if len(busy) > 1 else "", ", ".join(map(str, busy)), "are" if len(busy) > 1 else "is",
               base, last)
        )

    sd = state_dir()
    os.makedirs(os.path.join(sd, "logs"), exist_ok=True)
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else sd
    data_dir = os.path.join(shm, "kslab-etcd-%d-%d" % (os.getuid(), base))
    shutil.rmtree(data_dir, ignore_errors=True)
    state = {
        "k8s_version": K8S_VERSION,
        "crds_dir": crds_dir,
        "state_dir": sd,
        "port_base": base,
        "ports": lay,
        "etcd": {"port": lay["etcd"], "data_dir": data_dir, "pid": None},
        "clusters": {},
        "standins": {"pid": None},
    }
    for i, n in enumerate(names):
        d = os.path.join(sd, n)
        state["clusters"][n] = {
            "index": i, "dir": d, "port": lay["clusters"][n]["apiserver"],
            "server": "https://127.0.0.1:%d" % lay["clusters"][n]["apiserver"],
            "kubeconfig": os.path.join(d, "kubeconfig"), "installed": n not in not_installed, "pid": None,
            "audit_log": os.path.join(d, "audit.log"), "log": os.path.join(sd, "logs", "%s.log" % n),
            "ports": lay["clusters"][n],
        }
    # Where each cluster's kube-apiserver reaches ks-controller-manager's webhook (served on hosts by the
    # supervisor's ks-controller-manager); the installer stand-in installs the ValidatingWebhookConfiguration
    # with it, as ks-installer's ks-core chart does on every cluster.
    import base64  # noqa: PLC0415

    from .certs import make_ca  # noqa: PLC0415

    make_ca(lab_ca_dir(sd), "kslab-lab-ca")
    with open(os.path.join(lab_ca_dir(sd), "ca.crt"), "rb") as f:
        ca_bundle = base64.b64encode(f.read()).decode()
    for n in names:
        state["clusters"][n]["webhook"] = {"url": "https://127.0.0.1:%d" % lay["clusters"][n]["ks_webhook"],
                                           "caBundle": ca_bundle}
    save_state(state)

    t0 = time.time()
    etcd_url = "http://127.0.0.1:%d" % lay["etcd"]
    peer = "http://127.0.0.1:%d" % lay["etcd_peer"]
    etcd_log = os.path.join(sd, "logs", "etcd.log")
    state["etcd"]["pid"] = _spawn(
        [binary("etcd"), "--name=kslab", "--data-dir=%s" % data_dir,
         "--listen-client-urls=%s" % etcd_url, "--advertise-client-urls=%s" % etcd_url,
         "--listen-peer-urls=%s" % peer, "--initial-advertise-peer-urls=%s" % peer,
         "--initial-cluster=kslab=%s" % peer, "--unsafe-no-fsync=true", "--log-level=warn",
         "--quota-backend-bytes=4294967296"],
        etcd_log, os.path.join(sd, "etcd.pid"),
    )
    save_state(state)
    _wait_port(lay["etcd"], 30, "etcd", etcd_log)

    for n in names:
        c = state["clusters"][n]
        make_cluster_pki(c["dir"], n)
        _write_kubeconfig(c["kubeconfig"], n, c["server"], os.path.join(c["dir"], "ca.crt"),
                          os.path.join(c["dir"], "admin.crt"), os.path.join(c["dir"], "admin.key"))
        for comp in COMPONENTS:
            component_kubeconfig(c["dir"], n, c["server"], comp)
        _write_apiserver_files(c)
        c["pid"] = _spawn(_apiserver_argv(n, c, etcd_url), c["log"], os.path.join(c["dir"], "apiserver.pid"))
        save_state(state)
        _say("started %s on %s (pid %d)" % (n, c["server"], c["pid"]))
    for n in names:
        c = state["clusters"][n]
        _wait_ready(Rest(c["kubeconfig"]), n, c["log"], timeout, c["pid"])
        _start_kcm(state, n)
        _say("%s ready after %.1f s; kube-controller-manager started (pid %d)" % (n, time.time() - t0, c["kcm_pid"]))

    from .furnish import furnish  # noqa: PLC0415 (keeps `kslab status` light)

    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    def _furnish(n):
        c = state["clusters"][n]
        furnish(Rest(os.path.join(c["dir"], "identities", "up.kubeconfig")), n, c, crds_dir, names)

    with ThreadPoolExecutor(max_workers=min(4, len(names))) as pool:
        for _ in pool.map(_furnish, names):
            pass
    _say("KubeSphere CRDs (%s) and cluster furniture loaded after %.1f s" % (crds_dir, time.time() - t0))
    for n in names:
        c = state["clusters"][n]
        if not _alive(c["kcm_pid"], "kube-controller-manager"):
            raise LabError("kube-controller-manager of %s exited at start-up: %s (log %s; `tests/lab/kslab down` "
                           "cleans up)" % (n, " | ".join(log_tail(c["kcm_log"], 3)) or "no output", c["kcm_log"]))
    write_inventory(state)
    start_supervisor(state)
    save_state(state)
    return state


def _wait_port(port, timeout, what, log):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not _port_free(port):
            return
        time.sleep(0.2)
    raise LabError("%s did not listen on port %d after %d s; see %s" % (what, port, timeout, log))


SUPERVISOR_NEEDLE = "standins"


def supervisor_needle(state_dir):
    """What identifies this lab's supervisor: `python -m standins --state <this lab's state folder>`."""
    return (SUPERVISOR_NEEDLE, state_dir)


def start_supervisor(state):
    """Start the lab's supervisor (tests/lab/standins: the ks-installer stand-in, the CONNECT proxy and the
    KubeSphere processes that follow what the installer renders) in the background, once."""
    if os.environ.get("KSLAB_NO_STANDINS") == "1":
        return
    pid = state.get("standins", {}).get("pid")
    if pid and _alive(pid, supervisor_needle(state["state_dir"])):
        return
    sd = state["state_dir"]
    env = dict(os.environ, PYTHONPATH=LAB_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    log = os.path.join(sd, "logs", "supervisor.log")
    state["standins"] = {"pid": _spawn([sys.executable, "-m", "standins", "--state", sd], log,
                                       os.path.join(sd, "standins.pid"), env=env), "log": log}
    save_state(state)
    deadline = time.time() + 20
    while time.time() < deadline and _port_free(state["ports"]["connect"]):
        if not _alive(state["standins"]["pid"], supervisor_needle(sd)):
            raise LabError("the lab's supervisor exited at start-up: %s (log %s)"
                           % (" | ".join(log_tail(log, 3)) or "no output", log))
        time.sleep(0.2)
    _say("supervisor started (pid %d, log %s): ks-installer stand-in, CONNECT proxy on 127.0.0.1:%d, KubeSphere's "
         "processes as the installer renders them" % (state["standins"]["pid"], log, state["ports"]["connect"]))


start_standins = start_supervisor  # the older name


def write_inventory(state):
    """An inventory in the layout of inventories/lab/, for any number of clusters."""
    names = list(state["clusters"])
    inv = {
        "kubesphere_host": {"hosts": {names[0]: None}},
        "kubesphere_members": {"hosts": {n: None for n in names[1:]}},
        "kubesphere_clusters": {
            "children": {"kubesphere_host": None, "kubesphere_members": None},
            # Every kube-apiserver of the lab is on 127.0.0.1, so the kubeconfig the host stores for a direct
            # member names a loopback address, which the collection's import refuses unless allowed (as
            # inventories/lab allows it): right for a one-machine lab only.
            "vars": {"ansible_connection": "local",
                     "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                     "kubesphere_join_allow_loopback": True},
        },
    }
    for n in names:
        grp = inv["kubesphere_host"] if n == names[0] else inv["kubesphere_members"]
        grp["hosts"][n] = {
            "kubesphere_cluster_name": n,
            "kubesphere_kubeconfig": state["clusters"][n]["kubeconfig"],
            "kubesphere_context": n,
            "kubesphere_connection_type": "direct",
            "kubesphere_cluster_group": "production" if n == names[0] else "lab",
        }
    with open(os.path.join(state["state_dir"], "inventory.yml"), "w") as f:
        f.write("# Written by `tests/lab/kslab up`; same layout as inventories/lab/.\n")
        yaml.safe_dump(inv, f, sort_keys=False, default_flow_style=False)


# ---------------------------------------------------------------------------------------------------
# status / down


def cluster_health(c):
    if not _alive(c.get("pid"), "kube-apiserver"):
        return "not running"
    try:
        rest = Rest(c["kubeconfig"], timeout=5)
        ok = rest.request("GET", "/readyz", raw=True).strip() == b"ok"
        version = rest.get("/version")["gitVersion"]
        return "ready %s" % version if ok else "not ready"
    except (ApiError, OSError) as e:
        return "unreachable (%s)" % str(e)[:80]


def healthy(state):
    return _alive(state["etcd"].get("pid"), "etcd") and all(
        cluster_health(c).startswith("ready") for c in state["clusters"].values()
    )


def _http_health(url, timeout=3):
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body = r.read(300).decode(errors="replace")
            return True, body
    except urllib.error.HTTPError as e:
        return e.code < 500, "HTTP %d" % e.code
    except OSError as e:
        return False, str(getattr(e, "reason", e))[:60]


def process_health(p):
    """'ok ...' or what is wrong, for one supervised process record."""
    if not _alive(p.get("pid"), p.get("needle", "")):
        return "DIED (exit %s)" % p.get("exit", "?") if p.get("exit") is not None else "not running"
    h = p.get("health") or {}
    if h.get("http"):
        ok, body = _http_health(h["http"])
        if h.get("expect") and ok:
            ok = h["expect"] in body
        return ("ok " + h.get("what", "")).strip() if ok else "running, not answering (%s)" % body
    if h.get("tcp"):
        return "ok listening" if not _port_free(h["tcp"]) else "running, not listening on %d" % h["tcp"]
    return "ok running"


def status():
    state = load_state()
    if not state:
        return ["no lab here (%s); start one with `tests/lab/kslab up`" % state_dir()]
    lines = ["%-10s %-24s %s" % ("CLUSTER", "SERVER", "HEALTH")]
    etcd_ok = _alive(state["etcd"].get("pid"), "etcd")
    lines.append("%-10s %-24s %s" % ("(etcd)", "http://127.0.0.1:%d" % state["etcd"]["port"],
                                     "running" if etcd_ok else "not running"))
    for n, c in state["clusters"].items():
        lines.append("%-10s %-24s %s%s" % (n, c["server"], cluster_health(c),
                                           "" if c.get("installed", True) else " (KubeSphere not installed)"))
    rows = []  # (process, cluster, pid, address, health, log)
    dead = []
    rows.append(("etcd", "", state["etcd"].get("pid"), "127.0.0.1:%d" % state["etcd"]["port"],
                 "ok running" if etcd_ok else "not running", os.path.join(state["state_dir"], "logs", "etcd.log")))
    for n, c in state["clusters"].items():
        h = cluster_health(c)
        rows.append(("kube-apiserver", n, c.get("pid"), "127.0.0.1:%d" % c["port"],
                     "ok" if h.startswith("ready") else h, c.get("log")))
        kcm = c.get("kcm_pid")
        rows.append(("kube-controller-manager", n, kcm, "-",
                     "ok running" if _alive(kcm, "kube-controller-manager") else "not running", c.get("kcm_log")))
    sp = state.get("standins", {}).get("pid")
    sup_ok = bool(sp) and _alive(sp, supervisor_needle(state["state_dir"]))
    if os.environ.get("KSLAB_NO_STANDINS") != "1" or sp:
        sup_log = state.get("standins", {}).get("log") or os.path.join(state["state_dir"], "logs", "supervisor.log")
        rows.append(("supervisor", "", sp, "-", "ok running" if sup_ok else "not running", sup_log))
        cport = state.get("ports", {}).get("connect")
        if cport:
            rows.append(("connect-proxy", "", sp, "127.0.0.1:%d" % cport,
                         "ok listening" if sup_ok and not _port_free(cport) else "not listening", sup_log))
    for p in read_procs(state["state_dir"]):
        rows.append((p["kind"], p.get("cluster", ""), p.get("pid"), p.get("address", "-"), process_health(p),
                     p.get("log")))
    lines.append("")
    lines.append("%-26s %-9s %-8s %-22s %s" % ("PROCESS", "CLUSTER", "PID", "ADDRESS", "HEALTH"))
    for kind, cl, pid, addr, health, log in rows:
        lines.append("%-26s %-9s %-8s %-22s %s" % (kind, cl, pid or "-", addr, health))
        if not health.startswith("ok"):
            dead.append((kind, cl, log))
    for kind, cl, log in dead:
        tail = log_tail(log, 5) if log else []
        if tail:
            lines.append("%s%s: last lines of %s:" % (kind, "@" + cl if cl else "", log))
            lines.extend("    " + ln[:200] for ln in tail)
    return lines


def down(quiet=False):
    """Stop what this lab started (by pid) and remove its state. Safe after a crash."""
    sd = state_dir()
    state = load_state() or {}
    stopped = []
    pids = []
    sp = state.get("standins", {}).get("pid") or _read_pid(os.path.join(sd, "standins.pid"))
    pids.append(("supervisor", sp, supervisor_needle(sd), 10))
    for p in read_procs(sd):
        pids.append((p.get("name", p.get("kind")), p.get("pid"), p.get("needle", "kslab"), 5))
    for n, c in (state.get("clusters") or {}).items():
        pids.append(("kube-controller-manager@" + n, c.get("kcm_pid") or _read_pid(os.path.join(c["dir"], "kcm.pid")),
                     "kube-controller-manager", 10))
    for pidfile in glob.glob(os.path.join(sd, "*", "kcm.pid")):
        pids.append(("kube-controller-manager@" + os.path.basename(os.path.dirname(pidfile)), _read_pid(pidfile),
                     "kube-controller-manager", 10))
    for n, c in (state.get("clusters") or {}).items():
        pids.append((n, c.get("pid") or _read_pid(os.path.join(c["dir"], "apiserver.pid")), "kube-apiserver", 15))
    for pidfile in glob.glob(os.path.join(sd, "*", "apiserver.pid")):
        pids.append((os.path.basename(os.path.dirname(pidfile)), _read_pid(pidfile), "kube-apiserver", 15))
    pids.append(("etcd", state.get("etcd", {}).get("pid") or _read_pid(os.path.join(sd, "etcd.pid")), "etcd", 15))
    seen = set()
    for what, pid, needle, timeout in pids:
        if pid and pid not in seen:
            seen.add(pid)
            if _stop(pid, needle, timeout):
                stopped.append(what)
    data_dir = state.get("etcd", {}).get("data_dir")
    if data_dir and os.path.basename(data_dir).startswith("kslab-etcd-"):
        shutil.rmtree(data_dir, ignore_errors=True)
    for c in (state.get("clusters") or {}).values():
        sock = egress_socket(c)
        if sock.startswith("/tmp/kslab-"):
            shutil.rmtree(os.path.dirname(sock), ignore_errors=True)
    if os.path.isdir(sd) and (os.path.exists(os.path.join(sd, "lab.json")) or glob.glob(os.path.join(sd, "*.pid"))):
        shutil.rmtree(sd, ignore_errors=True)
    if not quiet:
        _say("stopped %s; removed %s" % (", ".join(stopped) or "nothing (no process was running)", sd))


def _read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def embedded_kubeconfig(path):
    """The kubeconfig at `path` as YAML text with certificates and keys inlined (`*-data` fields), as a
    user pastes it into KubeSphere's console or a Cluster object carries it."""
    import base64  # noqa: PLC0415

    with open(path) as f:
        cfg = yaml.safe_load(f)
    for section, key, fields in (("clusters", "cluster", ("certificate-authority",)),
                                 ("users", "user", ("client-certificate", "client-key"))):
        for entry in cfg.get(section, []):
            body = entry[key]
            for field in fields:
                if field in body:
                    with open(body.pop(field), "rb") as fh:
                        body[field + "-data"] = base64.b64encode(fh.read()).decode()
    return yaml.safe_dump(cfg, sort_keys=False)
