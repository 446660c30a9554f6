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


def bin_dir():
    cache = os.environ.get("KSLAB_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "kslab"))
    return os.path.join(cache, K8S_VERSION, "bin")


def port_base():
    return int(os.environ.get("KSLAB_PORT_BASE", "26440"))


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
    """True when `pid` runs and its command line contains `needle` (so a reused pid is not ours)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return needle.encode() in f.read()
    except (OSError, TypeError):
        return False


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


def _spawn(argv, log_path, pid_path, env=None):
    log = open(log_path, "ab")
    proc = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        env=env or dict(os.environ, GOMAXPROCS="2"),
    )
    with open(pid_path, "w") as f:
        f.write(str(proc.pid))
    return proc.pid


def _stop(pid, needle, timeout=15):
    if not _alive(pid, needle):
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except OSError:
        os.kill(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline and _alive(pid, needle):
        time.sleep(0.2)
    if _alive(pid, needle):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    return True


# ---------------------------------------------------------------------------------------------------
# up


def _check_binaries():
    missing = [b for b in ("etcd", "kube-apiserver") if not os.access(os.path.join(bin_dir(), b), os.X_OK)]
    if missing:
        raise LabError(
            "%s not built for Kubernetes %s in %s: run `tests/lab/build-binaries.sh` (or `make lab-binaries`)"
            % (" and ".join(missing), K8S_VERSION, bin_dir())
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


def _apiserver_argv(name, c, etcd_url):
    d = c["dir"]
    issuer = "https://%s.kslab.local" % name
    return [
        os.path.join(bin_dir(), "kube-apiserver"),
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
        "--v=0",
    ]


def _wait_ready(rest, name, log, timeout):
    deadline = time.time() + timeout
    last = ""
    while time.time() < deadline:
        try:
            if rest.request("GET", "/readyz", raw=True).strip() == b"ok" and rest.try_get("/api/v1/namespaces/default"):
                return
        except (ApiError, OSError) as e:
            last = str(e)
        time.sleep(0.5)
    raise LabError("cluster %s was not ready after %d s (%s); see %s" % (name, timeout, last[:200], log))


def cluster_names(members):
    return ["host"] + ["member%d" % i for i in range(1, members + 1)]


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
        if healthy(state) and list(state["clusters"]) == list(names):
            _say("lab already running with %s: reusing it" % ", ".join(names))
            start_standins(state)
            return state
        _say("an earlier lab is here but %s: cleaning it up first" % (
            "not healthy" if list(state["clusters"]) == list(names) else "has other clusters"))
        down(quiet=True)
    _check_binaries()
    crds_dir = crds_dir or os.environ.get("KSLAB_CRDS_DIR") or os.path.join(LAB_DIR, "crds")
    if not os.path.isdir(crds_dir):
        raise LabError("the CRD folder %s does not exist: point KSLAB_CRDS_DIR or --crds at a folder of CRD YAML files"
                       % crds_dir)
    crds_dir = os.path.abspath(crds_dir)

    base = port_base()
    etcd_port = base
    ports = {n: base + 3 + i for i, n in enumerate(names)}
    busy = [p for p in [etcd_port, etcd_port + 1] + list(ports.values()) if not _port_free(p)]
    if busy:
        raise LabError(
            "port%s %s on 127.0.0.1 %s in use by another process: stop it, or choose another range with "
            "KSLAB_PORT_BASE=<port> (the lab uses %d..%d)"
            % ("s" if len(busy) > 1 else "", ", ".join(map(str, busy)), "are" if len(busy) > 1 else "is",
               base, base + 3 + len(names) - 1)
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
        "etcd": {"port": etcd_port, "data_dir": data_dir, "pid": None},
        "clusters": {},
        "standins": {"pid": None},
    }
    for i, n in enumerate(names):
        d = os.path.join(sd, n)
        state["clusters"][n] = {
            "index": i, "dir": d, "port": ports[n], "server": "https://127.0.0.1:%d" % ports[n],
            "kubeconfig": os.path.join(d, "kubeconfig"), "installed": n not in not_installed, "pid": None,
        }
    save_state(state)

    t0 = time.time()
    etcd_url = "http://127.0.0.1:%d" % etcd_port
    peer = "http://127.0.0.1:%d" % (etcd_port + 1)
    etcd_log = os.path.join(sd, "logs", "etcd.log")
    state["etcd"]["pid"] = _spawn(
        [os.path.join(bin_dir(), "etcd"), "--name=kslab", "--data-dir=%s" % data_dir,
         "--listen-client-urls=%s" % etcd_url, "--advertise-client-urls=%s" % etcd_url,
         "--listen-peer-urls=%s" % peer, "--initial-advertise-peer-urls=%s" % peer,
         "--initial-cluster=kslab=%s" % peer, "--unsafe-no-fsync=true", "--log-level=warn",
         "--quota-backend-bytes=4294967296"],
        etcd_log, os.path.join(sd, "etcd.pid"),
    )
    save_state(state)
    _wait_port(etcd_port, 30, "etcd", etcd_log)

    for n in names:
        c = state["clusters"][n]
        make_cluster_pki(c["dir"], n)
        _write_kubeconfig(c["kubeconfig"], n, c["server"], os.path.join(c["dir"], "ca.crt"),
                          os.path.join(c["dir"], "admin.crt"), os.path.join(c["dir"], "admin.key"))
        log = os.path.join(sd, "logs", "%s.log" % n)
        c["pid"] = _spawn(_apiserver_argv(n, c, etcd_url), log, os.path.join(c["dir"], "apiserver.pid"))
        save_state(state)
        _say("started %s on %s (pid %d)" % (n, c["server"], c["pid"]))
    for n in names:
        c = state["clusters"][n]
        _wait_ready(Rest(c["kubeconfig"]), n, os.path.join(sd, "logs", "%s.log" % n), timeout)
        _say("%s ready after %.1f s" % (n, time.time() - t0))

    from .furnish import furnish  # noqa: PLC0415 (keeps `kslab status` light)

    for n in names:
        furnish(Rest(state["clusters"][n]["kubeconfig"]), n, state["clusters"][n], crds_dir, names)
    _say("KubeSphere CRDs (%s) and cluster furniture loaded after %.1f s" % (crds_dir, time.time() - t0))
    write_inventory(state)
    start_standins(state)
    save_state(state)
    return state


def _wait_port(port, timeout, what, log):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not _port_free(port):
            return
        time.sleep(0.2)
    raise LabError("%s did not listen on port %d after %d s; see %s" % (what, port, timeout, log))


def start_standins(state):
    """Start the KubeSphere stand-ins (tests/lab/standins) in the background, once."""
    if os.environ.get("KSLAB_NO_STANDINS") == "1":
        return
    if not os.path.exists(os.path.join(LAB_DIR, "standins", "__main__.py")):
        return
    pid = state.get("standins", {}).get("pid")
    if pid and _alive(pid, "standins"):
        return
    sd = state["state_dir"]
    env = dict(os.environ, PYTHONPATH=LAB_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    state["standins"] = {"pid": _spawn([sys.executable, "-m", "standins", "--state", sd],
                                       os.path.join(sd, "logs", "standins.log"),
                                       os.path.join(sd, "standins.pid"), env=env)}
    save_state(state)
    _say("stand-ins for KubeSphere's controllers started (pid %d, log %s)" % (
        state["standins"]["pid"], os.path.join(sd, "logs", "standins.log")))


def write_inventory(state):
    """An inventory in the layout of inventories/lab/, for any number of clusters."""
    names = list(state["clusters"])
    inv = {
        "kubesphere_host": {"hosts": {names[0]: None}},
        "kubesphere_members": {"hosts": {n: None for n in names[1:]}},
        "kubesphere_clusters": {
            "children": {"kubesphere_host": None, "kubesphere_members": None},
            "vars": {"ansible_connection": "local",
                     "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
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
    sp = state.get("standins", {}).get("pid")
    lines.append("%-10s %-24s %s" % ("(stand-ins)", "", "running" if sp and _alive(sp, "standins") else "not running"))
    return lines


def down(quiet=False):
    """Stop what this lab started (by pid file) and remove its state. Safe after a crash."""
    sd = state_dir()
    state = load_state() or {}
    stopped = []
    pids = []
    sp = state.get("standins", {}).get("pid") or _read_pid(os.path.join(sd, "standins.pid"))
    pids.append(("stand-ins", sp, "standins"))
    for n, c in (state.get("clusters") or {}).items():
        pids.append((n, c.get("pid") or _read_pid(os.path.join(c["dir"], "apiserver.pid")), "kube-apiserver"))
    for pidfile in glob.glob(os.path.join(sd, "*", "apiserver.pid")):
        pids.append((os.path.basename(os.path.dirname(pidfile)), _read_pid(pidfile), "kube-apiserver"))
    pids.append(("etcd", state.get("etcd", {}).get("pid") or _read_pid(os.path.join(sd, "etcd.pid")), "etcd"))
    seen = set()
    for what, pid, needle in pids:
        if pid and pid not in seen:
            seen.add(pid)
            if _stop(pid, needle):
                stopped.append(what)
    data_dir = state.get("etcd", {}).get("data_dir")
    if data_dir and os.path.basename(data_dir).startswith("kslab-etcd-"):
        shutil.rmtree(data_dir, ignore_errors=True)
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
