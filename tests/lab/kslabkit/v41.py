"""`kslab up --kubesphere v4.1.3`: the lab with KubeSphere v4.1.3's real control plane.

Per cluster: the kube-apiserver (as in the 3.4 mode: same ports, PKI, audit log, egress selector) and a
kube-controller-manager with the controllers v4.1 needs (deployment, replicaset, job, endpoint, endpointslice
beside the 3.4 mode's), one Node `<cluster>-node1`; no KubeSphere CRDs (the ks-core chart brings its own).
Then the v4.1 supervisor (v41supervisor.py: pod player, ks-apiserver, ks-controller-manager, CONNECT proxy)
and, on the host (the first cluster) only, `helm upgrade --install ks-core` with the v4.1.3 source's
config/ks-core chart (`multicluster.hostClusterName` = the host's name) as the lab identity kslab:up. Members
are bare: the host's ks-controller-manager installs ks-core on a member when its Cluster is created. The same
inventory.yml as the 3.4 mode is written. Binaries: `tests/lab/build-binaries.sh --kubesphere v4.1.3`."""

import os
import subprocess
import time

from .furnish import _node
from . import museum
from .health import check_kcms_started, start_kubernetes
from .kubeconfigs import component_kubeconfig, write_inventory
from .layout import LabError, _say, binary, claim_ports, new_state, port_base, save_state
from .processes import _kcm_argv, _spawn, start_supervisor
from .rest import ApiError, Rest
from .supervisor import node_ip
from .v41supervisor import HELM_VERSION, KS_VERSION, chart_path, v41_binary

KCM_CONTROLLERS = ("serviceaccount-token,serviceaccount,namespace,garbagecollector,"
                   "deployment,replicaset,job,endpoint,endpointslice")
HELM_TIMEOUT = 900


def check_binaries():
    names = ("etcd", "kube-apiserver", "kube-controller-manager", "tower-proxy", "tower-agent", "kubefed-controller-manager")
    missing = [binary(b) for b in names if not os.access(binary(b), os.X_OK)]
    missing += [v41_binary(b) for b in ("ks-controller-manager", "ks-apiserver", "helm", "kubectl", "kustomize", "hyperfed",
                                        "kubefed-extension")
                if not os.access(v41_binary(b), os.X_OK)]
    if missing or not os.path.isfile(os.path.join(chart_path(), "Chart.yaml")):
        raise LabError("the v4.1.3 lab needs %s: run `tests/lab/build-binaries.sh --kubesphere v4.1.3`"
                       % ", ".join(missing or [chart_path()]))


def _start_kcm41(state, name):
    c = state["clusters"][name]
    argv = [a if not a.startswith("--controllers=") else "--controllers=" + KCM_CONTROLLERS for a in _kcm_argv(name, c)]
    log = os.path.join(state["state_dir"], "logs", "%s-kube-controller-manager.log" % name)
    c["kcm_log"] = log
    c["kcm_pid"] = _spawn(argv, log, os.path.join(c["dir"], "kcm.pid"))
    save_state(state)


def start_kcm(state, name):
    """The kube-controller-manager of a v4.1 lab's cluster (also for `_reuse`)."""
    _start_kcm41(state, name)


def _node_for(rest, name, index):
    """The cluster's one Node, with a made-up InternalIP (node_ip: not loopback, so an address built from it, such
    as tower's NodePort, is one an agent could dial; only the lab's CONNECT proxy knows where it goes)."""
    node_name, node, node_status = _node(name, 1, rest.get("/version")["gitVersion"])
    node_status["status"]["addresses"] = [{"type": "InternalIP", "address": node_ip(index)},
                                          {"type": "Hostname", "address": node_name}]
    rest.ensure(node)
    rest.merge_patch("/api/v1/nodes/%s/status" % node_name, node_status)
    rest.ensure({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubesphere-system"}})


def helm_env(state, name):
    """Environment for the lab's helm against cluster `name` as kslab:up (no proxy from outside)."""
    c = state["clusters"][name]
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "no_proxy", "all_proxy")}
    home = os.path.join(c["dir"], "helm-home")
    env.update(KUBECONFIG=component_kubeconfig(c["dir"], name, c["server"], "up"), HELM_CACHE_HOME=home + "/cache",
               HELM_CONFIG_HOME=home + "/config", HELM_DATA_HOME=home + "/data")
    return env


def install_ks_core(state, name, timeout=HELM_TIMEOUT):
    """`helm upgrade --install ks-core` on the host with the v4.1.3 chart; the pod player runs its hook Jobs."""
    c = state["clusters"][name]
    log = os.path.join(state["state_dir"], "logs", "%s-helm-ks-core.log" % name)
    argv = [v41_binary("helm"), "upgrade", "--install", "ks-core", chart_path(), "--namespace", "kubesphere-system",
            "--create-namespace", "--set", "multicluster.role=host", "--set", "multicluster.hostClusterName=%s" % name,
            "--wait",
            "--timeout", "%ds" % (timeout - 60)]
    t0 = time.time()
    with open(log, "ab") as f:
        r = subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT, env=helm_env(state, name), timeout=timeout,
                           stdin=subprocess.DEVNULL, check=False)
    if r.returncode != 0:
        from .processes import log_tail  # noqa: PLC0415

        raise RuntimeError("helm upgrade --install ks-core on %s failed (exit %d): %s (log %s; `tests/lab/kslab down` "
                           "cleans up)" % (name, r.returncode, " | ".join(log_tail(log, 4)), log))
    _say("%s: ks-core %s installed with helm %s in %.1f s (log %s)" % (name, KS_VERSION, HELM_VERSION,
                                                                         time.time() - t0, log))
    c["ks_core"] = True


def wait_host_ready(state, name, timeout):
    """Until the host's Cluster object reports Ready True (ks-controller-manager and ks-apiserver are up)."""
    rest = Rest(state["clusters"][name]["kubeconfig"])
    deadline = time.time() + timeout
    last = "no Cluster %s yet" % name
    while time.time() < deadline:
        try:
            cl = rest.try_get("/apis/cluster.kubesphere.io/v1alpha1/clusters/%s" % name)
        except (ApiError, OSError) as e:
            cl, last = None, str(e)
        if cl:
            conds = {x.get("type"): x for x in (cl.get("status") or {}).get("conditions") or []}
            if (conds.get("Ready") or {}).get("status") == "True":
                return cl
            last = "Ready: %s" % ((conds.get("Ready") or {}).get("message") or "not reported yet")
        time.sleep(1)
    raise RuntimeError("the host Cluster %s did not turn Ready within %d s (%s); see `tests/lab/kslab status`"
                       % (name, timeout, last))


def _start_kcm_and_node(state, name):
    """v4.1's kube-controller-manager, and the made-up Node its pods are bound to."""
    _start_kcm41(state, name)
    _node_for(Rest(os.path.join(state["clusters"][name]["dir"], "identities", "up.kubeconfig")), name,
              state["clusters"][name]["index"])


def up(names, timeout=180):
    """Start a v4.1.3 lab of `names` (the first is the host). Returns the state dict."""
    check_binaries()
    base = port_base()
    state = new_state(names, (), None, base, claim_ports(base, names))
    state["kubesphere"] = KS_VERSION
    save_state(state)
    t0 = start_kubernetes(state, names, timeout, _start_kcm_and_node)
    check_kcms_started(state)
    write_inventory(state)
    start_supervisor(state)
    save_state(state)
    install_ks_core(state, names[0])
    save_state(state)
    cl = wait_host_ready(state, names[0], timeout)
    _say("host Cluster %s Ready (kubeSphereVersion %s) after %.1f s" % (
        names[0], (cl.get("status") or {}).get("kubeSphereVersion"), time.time() - t0))
    host = state["clusters"][names[0]]
    published = museum.publish(Rest(component_kubeconfig(host["dir"], names[0], host["server"], "up")))
    _say("%s: the extension museum's charts published as ExtensionVersions %s (museum.py)" % (
        names[0], ", ".join(published)))
    return state
