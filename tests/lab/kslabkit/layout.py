"""The lab's layout: where it lives (state folder, binary cache, CRDs), which ports it takes, and its state
file lab.json. Also LabError and the `[kslab]` progress line, which every other lab module uses."""

import glob
import json
import os
import re
import shutil
import socket

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tests/lab
REPO = os.path.dirname(os.path.dirname(LAB_DIR))
K8S_VERSION = os.environ.get("KSLAB_K8S_VERSION", "v1.34.3")
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
NODES_PER_CLUSTER = 3


class LabError(Exception):
    """A problem the user can fix; the CLI prints it as one line."""


def _say(msg):
    print("[kslab] %s" % msg, flush=True)


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


def _check_binaries():
    missing = [b for b in BINARIES if not os.access(binary(b), os.X_OK)]
    if missing:
        raise LabError(
            "%s not built in %s: run `tests/lab/build-binaries.sh` (or `make lab-binaries`)"
            % (", ".join(missing), cache_dir())
        )


def default_crds_dir():
    """KubeSphere 3.4's real CRDs (v3.4 and v3.4-ks-core), beside the checkout: <repo>/../shared/kubesphere-crds."""
    return os.path.join(os.path.dirname(REPO), "shared", "kubesphere-crds")


def _resolve_crds(crds_dir):
    crds_dir = crds_dir or os.environ.get("KSLAB_CRDS_DIR") or default_crds_dir()
    if not os.path.isdir(crds_dir):
        raise LabError("the CRD folder %s does not exist: point KSLAB_CRDS_DIR or --crds at KubeSphere 3.4's CRDs "
                       "(../shared/kubesphere-crds beside the checkout)" % crds_dir)
    return os.path.abspath(crds_dir)


# ---------------------------------------------------------------------------------------------------
# cluster names and ports


def cluster_names(members):
    return ["host"] + ["member%d" % i for i in range(1, members + 1)]


def check_names(names, not_installed):
    """LabError unless every name is one KubeSphere accepts and `not_installed` names only clusters of `names`."""
    for n in list(names) + list(not_installed):
        if not NAME_RE.match(n):
            raise LabError(
                "%r is not a cluster name KubeSphere accepts (lowercase letters, digits, '-' and '.', "
                "alphanumeric at both ends)" % n
            )
    unknown = [n for n in not_installed if n not in names]
    if unknown:
        raise LabError("--not-installed names unknown clusters: %s (clusters: %s)" % (", ".join(unknown), ", ".join(names)))


def port_base():
    return int(os.environ.get("KSLAB_PORT_BASE", "26440"))


# Port layout of a lab with base B and N clusters (every port on 127.0.0.1):
#   B etcd client, B+1 etcd peer, B+2 CONNECT proxy (HTTPS_PROXY of the host-side KubeSphere binaries),
#   B+3+i kube-apiserver of cluster i,
#   B+3+N+8*i+k the KubeSphere processes of cluster i: k=0 ks-apiserver, 1 ks-controller-manager webhook,
#   2 its metrics, 3 tower proxy (agents), 4 kubefed healthz, 5 kubefed metrics, 6 kubefed's webhook and 7 the
#   kubefed extension's backend (health) in the v4.1 mode.
KS_PORTS = ("ks_apiserver", "ks_webhook", "ks_metrics", "tower", "kubefed_healthz", "kubefed_metrics",
            "kubefed_webhook", "kubefed_backend")  # the last two: the v4.1 mode's kubefed extension
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


def claim_ports(base, names):
    """The port layout of a lab of `names` from `base`; LabError when it leaves 1024..32767 or a port is taken."""
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
    return lay


# ---------------------------------------------------------------------------------------------------
# state: lab.json and the folders under the state folder


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


def new_state(names, not_installed, crds_dir, base, lay):
    """The state of a new lab (not saved yet). Makes the state folder's logs/ and an empty etcd data folder
    on /dev/shm (when there is one)."""
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
    return state


def kubeconfig_path(name, state=None):
    state = state or load_state()
    if not state:
        raise LabError("no lab is running here (%s): start one with `tests/lab/kslab up`" % state_dir())
    if name not in state["clusters"]:
        raise LabError(
            "no cluster named %r in this lab (clusters: %s)" % (name, ", ".join(state["clusters"]))
        )
    return state["clusters"][name]["kubeconfig"]


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


def egress_socket(c):
    """The Unix socket of a cluster's `cluster` egress (the CONNECT proxy); short enough for sun_path."""
    path = os.path.join(c["dir"], "egress.sock")
    if len(path) > 100:
        import hashlib  # noqa: PLC0415

        path = os.path.join("/tmp", "kslab-%d-%s" % (os.getuid(), hashlib.sha1(c["dir"].encode()).hexdigest()[:12]),
                            "egress.sock")
    return path
