"""Health and readiness: waiting for etcd and each kube-apiserver at start-up, the health of every cluster
and process, and `kslab status` (a table of clusters and processes, with the last log lines of any that is
not well)."""

import os
import time

from .layout import LabError, _port_free, load_state, read_procs, state_dir
from .processes import _alive, etcd_log, exit_status, log_tail, start_apiserver, start_etcd, supervisor_needle
from .rest import ApiError, Rest


def _wait_port(port, timeout, what, log):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not _port_free(port):
            return
        time.sleep(0.2)
    raise LabError("%s did not listen on port %d after %d s; see %s" % (what, port, timeout, log))


def _wait_ready(rest, name, log, timeout, pid=None):
    deadline = time.time() + timeout
    last = ""
    while time.time() < deadline:
        ended = exit_status(pid) if pid else None
        if ended:
            raise LabError("kube-apiserver of %s exited at start-up (%s): %s (log %s)"
                           % (name, ended, " | ".join(log_tail(log, 3)) or "no output", log))
        try:
            if rest.request("GET", "/readyz", raw=True).strip() == b"ok" and rest.try_get("/api/v1/namespaces/default"):
                return
        except (ApiError, OSError) as e:
            last = str(e)
        time.sleep(0.5)
    raise LabError("cluster %s was not ready after %d s (%s); see %s" % (name, timeout, last[:200], log))


def check_kcms_started(state):
    """LabError when a cluster's kube-controller-manager exited at start-up (with the end of its log)."""
    for n, c in state["clusters"].items():
        ended = exit_status(c["kcm_pid"])
        if ended:
            raise LabError("kube-controller-manager of %s exited at start-up (%s): %s (log %s; `tests/lab/kslab down` "
                           "cleans up)" % (n, ended, " | ".join(log_tail(c["kcm_log"], 3)) or "no output", c["kcm_log"]))


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


# ---------------------------------------------------------------------------------------------------
# status


def _cluster_lines(state, etcd_ok):
    """The CLUSTER table: etcd, then each cluster's server and health."""
    lines = ["%-10s %-24s %s" % ("CLUSTER", "SERVER", "HEALTH")]
    lines.append("%-10s %-24s %s" % ("(etcd)", "http://127.0.0.1:%d" % state["etcd"]["port"],
                                     "running" if etcd_ok else "not running"))
    for n, c in state["clusters"].items():
        lines.append("%-10s %-24s %s%s" % (n, c["server"], cluster_health(c),
                                           "" if c.get("installed", True) else " (KubeSphere not installed)"))
    return lines


def _process_rows(state, etcd_ok):
    """(process, cluster, pid, address, health, log) of every process of the lab."""
    rows = []
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
    return rows


def status():
    state = load_state()
    if not state:
        return ["no lab here (%s); start one with `tests/lab/kslab up`" % state_dir()]
    etcd_ok = _alive(state["etcd"].get("pid"), "etcd")
    lines = _cluster_lines(state, etcd_ok)
    dead = []
    rows = _process_rows(state, etcd_ok)
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


def start_kubernetes(state, names, timeout, start_kcm):
    """etcd, every cluster's kube-apiserver, then for each as it turns ready `start_kcm(state, name)` (the
    kube-controller-manager of the lab's mode and what goes with it). Returns when it started (time.time())."""
    from .kubeconfigs import write_cluster_credentials  # noqa: PLC0415
    from .layout import _say  # noqa: PLC0415

    t0 = time.time()
    etcd_url = start_etcd(state)
    _wait_port(state["ports"]["etcd"], 30, "etcd", etcd_log(state))
    for n in names:
        write_cluster_credentials(state["clusters"][n], n)
        start_apiserver(state, n, etcd_url)
    for n in names:
        c = state["clusters"][n]
        _wait_ready(Rest(c["kubeconfig"]), n, c["log"], timeout, c["pid"])
        start_kcm(state, n)
        _say("%s ready after %.1f s; kube-controller-manager started (pid %d)" % (n, time.time() - t0, c["kcm_pid"]))
    return t0
