"""The lab: one etcd and one real kube-apiserver per cluster, on loopback, with KubeSphere's CRDs.

State lives in $KSLAB_STATE (default: <repo>/.kslab): lab.json, per-cluster PKI and kubeconfig, logs,
pid files and a generated inventory. etcd's data lives on /dev/shm. Binaries come from
tests/lab/build-binaries.sh and are cached in $KSLAB_CACHE (default ~/.cache/kslab).

Where things are: this file holds `up` (a short sequence of the steps below) and re-exports the names other
code uses (`from kslabkit import lab`), so callers need not know the split. layout.py: the state folder,
binary cache and CRD folder, cluster names, the port layout and its claim, lab.json (load/save/new state),
LabError. kubeconfigs.py: each cluster's PKI and admin kubeconfig, one kubeconfig per lab component, the lab
CA and webhook wiring, the inventory, embedded_kubeconfig. processes.py: starting etcd, kube-apiservers,
kube-controller-managers and the supervisor, pid files, stopping by pid and `down`. health.py: waiting for
etcd and kube-apiservers, cluster and process health, `status`. certs.py makes the certificates, furnish.py
loads CRDs and furniture, supervisor.py (run by tests/lab/standins) runs KubeSphere's processes."""

import os
import time

from .certs import make_cluster_pki
from .health import (_http_health, _wait_port, _wait_ready, check_kcms_started, cluster_health, healthy,
                     process_health, start_kubernetes, status)
from .kubeconfigs import (ADMIN_USER, COMPONENTS, _write_kubeconfig, component_kubeconfig, component_user,
                          embedded_kubeconfig, wire_webhooks, write_cluster_credentials, write_inventory)
from .layout import (BINARIES, K8S_VERSION, KS_APISERVER_PORT_LIMIT, KS_PORTS, LAB_DIR, NAME_RE, NODES_PER_CLUSTER,
                     PORTS_PER_CLUSTER, REPO, LabError, _check_binaries, _port_free, _resolve_crds, _say, bin_dir,
                     binary, cache_dir, check_names, claim_ports, cluster_names, default_crds_dir, egress_socket,
                     kubeconfig_path, lab_ca_dir, layout, load_state, new_state, port_base, ports_needed, procs_dir,
                     read_procs, save_state, state_dir)
from .processes import (AUDIT_POLICY, SUPERVISOR_NEEDLE, _alive, _apiserver_argv, _kcm_argv, _read_pid, _spawn,
                        _start_kcm, _stop, _write_apiserver_files, down, etcd_log, log_tail, start_apiserver,
                        start_etcd, start_standins, start_supervisor, supervisor_needle)
from .rest import ApiError, Rest

# The names callers reach through `lab.` (tests/, tests/bench, standins): kept here so the split is invisible.
__all__ = [
    "ADMIN_USER", "AUDIT_POLICY", "ApiError", "BINARIES", "COMPONENTS", "K8S_VERSION", "KS_APISERVER_PORT_LIMIT",
    "KS_PORTS", "LAB_DIR", "LabError", "NAME_RE", "NODES_PER_CLUSTER", "PORTS_PER_CLUSTER", "REPO", "Rest",
    "SUPERVISOR_NEEDLE", "_alive", "_apiserver_argv", "_check_binaries", "_http_health", "_kcm_argv", "_port_free",
    "_read_pid", "_resolve_crds", "_say", "_spawn", "_start_kcm", "_stop", "_wait_port", "_wait_ready",
    "_write_apiserver_files", "_write_kubeconfig", "bin_dir", "binary", "cache_dir", "check_names",
    "check_kcms_started", "claim_ports", "cluster_health", "cluster_names", "component_kubeconfig",
    "component_user", "default_crds_dir", "down", "egress_socket", "embedded_kubeconfig", "etcd_log", "healthy",
    "kubeconfig_path", "lab_ca_dir", "layout", "load_state", "log_tail", "make_cluster_pki", "new_state",
    "port_base", "ports_needed", "process_health", "procs_dir", "read_procs", "save_state", "start_apiserver",
    "start_etcd", "start_standins", "start_supervisor", "state_dir", "status", "supervisor_needle", "up",
    "wire_webhooks", "write_cluster_credentials", "write_inventory",
]


def up(names=None, not_installed=(), crds_dir=None, timeout=180, kubesphere="v3.4.1"):
    """Start (or reuse) the lab. Returns the state dict. kubesphere="v4.1.3": the v4.1 mode (v41.py)."""
    names = names or cluster_names(2)
    check_names(names, not_installed)
    if kubesphere != "v3.4.1" and not_installed:
        raise LabError("--not-installed is a 3.4 option: in the v4.1.3 mode every member is a bare cluster")
    state = load_state()
    if state:
        if _reusable(state, names) and state.get("kubesphere", "v3.4.1") == kubesphere:
            return _reuse(state, names)
        _say("an earlier lab is here but %s: cleaning it up first" % (
            "has other clusters" if list(state["clusters"]) != list(names) else
            "was made by an older kslab" if "ports" not in state else
            "runs KubeSphere %s" % state.get("kubesphere", "v3.4.1") if state.get("kubesphere", "v3.4.1") != kubesphere
            else "not healthy"))
        down(quiet=True)
    if kubesphere == "v4.1.3":
        from . import v41  # noqa: PLC0415

        return v41.up(names, timeout)
    _check_binaries()
    crds_dir = _resolve_crds(crds_dir)
    base = port_base()
    state = new_state(names, not_installed, crds_dir, base, claim_ports(base, names))
    wire_webhooks(state)
    save_state(state)

    t0 = start_kubernetes(state, names, timeout, _start_kcm)
    _furnish_all(state, names, crds_dir)
    _say("KubeSphere CRDs (%s) and cluster furniture loaded after %.1f s" % (crds_dir, time.time() - t0))
    check_kcms_started(state)
    write_inventory(state)
    start_supervisor(state)
    save_state(state)
    return state


def _reusable(state, names):
    return "ports" in state and healthy(state) and list(state["clusters"]) == list(names)


def _reuse(state, names):
    """The running lab, with any stopped kube-controller-manager and the supervisor started again."""
    _say("lab already running with %s: reusing it" % ", ".join(names))
    for n in names:
        c = state["clusters"][n]
        if not _alive(c.get("kcm_pid"), "kube-controller-manager"):
            _say("kube-controller-manager of %s is not running: starting it" % n)
            if state.get("kubesphere", "v3.4.1") == "v4.1.3":
                from . import v41  # noqa: PLC0415

                v41.start_kcm(state, n)
            else:
                _start_kcm(state, n)
    start_supervisor(state)
    return state


def _furnish_all(state, names, crds_dir):
    """KubeSphere's CRDs and the cluster furniture (furnish.py) on every cluster, four at a time."""
    from .furnish import furnish  # noqa: PLC0415 (keeps `kslab status` light)

    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    def _furnish(n):
        c = state["clusters"][n]
        furnish(Rest(os.path.join(c["dir"], "identities", "up.kubeconfig")), n, c, crds_dir, names)

    with ThreadPoolExecutor(max_workers=min(4, len(names))) as pool:
        for _ in pool.map(_furnish, names):
            pass
