"""Starting and stopping the lab's processes: etcd, one kube-apiserver and one kube-controller-manager per
cluster, and the supervisor (tests/lab/standins, which runs KubeSphere's processes); their pid files, and
`down`, which stops them all by pid and removes the state folder."""

import glob
import os
import shutil
import signal
import subprocess
import sys
import time

import yaml

from .kubeconfigs import component_kubeconfig
from .layout import LAB_DIR, LabError, _port_free, _say, binary, egress_socket, load_state, read_procs, save_state, \
    state_dir


def _alive(pid, needle):
    """True when `pid` runs and its command line contains `needle` (so a reused pid is not ours); a tuple
    needle: every part of it (e.g. the program and this lab's state folder, so that another lab's process
    that got a recycled pid is never taken for ours)."""
    parts = needle if isinstance(needle, tuple) else (needle,)
    for _ in range(40):  # a process just started shows an empty command line for a moment (see exit_status)
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmdline = f.read()
        except (OSError, TypeError):
            return False
        if cmdline or _ended_by_proc(pid):
            break
        time.sleep(0.05)
    return all(part.encode() in cmdline for part in parts)


def exit_status(pid):
    """None while `pid` runs, else how it ended ("exit code 1", "killed by signal 9", "gone").

    Not from /proc/<pid>/cmdline: between exec's point of no return (which is when Popen returns) and the
    kernel laying out the new argv, a process that runs well reads as an empty command line; on a loaded
    machine that window lasts long enough for a check right after the start to call a healthy process dead.
    A child of this process is reaped here (waitpid), so its exit status is known; any other is looked up
    in /proc (absent or a zombie: ended)."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return _ended_by_proc(pid)
    except (OSError, TypeError):
        return "gone"
    if done == 0:
        return None
    if os.WIFSIGNALED(status):
        return "killed by signal %d" % os.WTERMSIG(status)
    return "exit code %d" % os.WEXITSTATUS(status)


def _ended_by_proc(pid):
    """exit_status for a process that is not our child (reaps nothing): from /proc/<pid>/stat."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError, TypeError):
        return "gone"
    return "gone (zombie)" if state == "Z" else None


# Every Go process of the lab runs on one P. Measured on an idle 3-cluster lab with the host role (90 s each way):
# with GOMAXPROCS=1 the kube-apiservers took 16% less CPU than with 2, etcd 24% less, kubefed and
# kube-controller-manager about 20% less; a full test run keeps a dozen labs on two cores, where a process
# gains nothing from a second P and pays for its idle scheduling and GC workers.
GO_ENV = {"GOMAXPROCS": "1"}


def _spawn(argv, log_path, pid_path, env=None, cwd=None):
    log = open(log_path, "ab")
    try:
        proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env=env or dict(os.environ, **GO_ENV), cwd=cwd,
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


def _read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


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


# ---------------------------------------------------------------------------------------------------
# etcd


def start_etcd(state):
    """Start the lab's etcd (one for every cluster, each under its own prefix); returns its URL. Does not
    wait for it (health.py's _wait_port does)."""
    sd = state["state_dir"]
    lay = state["ports"]
    etcd_url = "http://127.0.0.1:%d" % lay["etcd"]
    peer = "http://127.0.0.1:%d" % lay["etcd_peer"]
    state["etcd"]["pid"] = _spawn(
        [binary("etcd"), "--name=kslab", "--data-dir=%s" % state["etcd"]["data_dir"],
         "--listen-client-urls=%s" % etcd_url, "--advertise-client-urls=%s" % etcd_url,
         "--listen-peer-urls=%s" % peer, "--initial-advertise-peer-urls=%s" % peer,
         "--initial-cluster=kslab=%s" % peer, "--unsafe-no-fsync=true", "--log-level=warn",
         "--quota-backend-bytes=4294967296"],
        etcd_log(state), os.path.join(sd, "etcd.pid"),
    )
    save_state(state)
    return etcd_url


def etcd_log(state):
    return os.path.join(state["state_dir"], "logs", "etcd.log")


# ---------------------------------------------------------------------------------------------------
# kube-apiserver


AUDIT_POLICY = """\
# Written by kslab: every request at Metadata level (who, verb, resource, response code), no bodies.
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
"""


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
        # SIGTERM (a graceful restart, as the kubelet stops it) ends open watches first and then returns in
        # seconds; without it the HTTP server waited its full 60 s for those watches before it exited
        "--shutdown-watch-termination-grace-period=5s",
        "--v=0",
    ]


def start_apiserver(state, name, etcd_url):
    """Write a cluster's kube-apiserver files (audit policy, egress selector) and start it (its PKI and
    kubeconfigs must exist: kubeconfigs.write_cluster_credentials). Does not wait for it."""
    c = state["clusters"][name]
    _write_apiserver_files(c)
    c["pid"] = _spawn(_apiserver_argv(name, c, etcd_url), c["log"], os.path.join(c["dir"], "apiserver.pid"))
    save_state(state)
    _say("started %s on %s (pid %d)" % (name, c["server"], c["pid"]))


# ---------------------------------------------------------------------------------------------------
# kube-controller-manager


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


# ---------------------------------------------------------------------------------------------------
# the supervisor


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
    mode = ["--kubesphere", state["kubesphere"]] if state.get("kubesphere", "v3.4.1") != "v3.4.1" else []
    state["standins"] = {"pid": _spawn([sys.executable, "-m", "standins", "--state", sd] + mode, log,
                                       os.path.join(sd, "standins.pid"), env=env), "log": log}
    save_state(state)
    deadline = time.time() + 20
    while time.time() < deadline and _port_free(state["ports"]["connect"]):
        ended = exit_status(state["standins"]["pid"])
        if ended:
            raise LabError("the lab's supervisor exited at start-up (%s): %s (log %s)"
                           % (ended, " | ".join(log_tail(log, 3)) or "no output", log))
        time.sleep(0.2)
    if mode:
        _say("supervisor started (pid %d, log %s): pod player, CONNECT proxy on 127.0.0.1:%d, KubeSphere %s's "
             "processes for the pods that run them" % (state["standins"]["pid"], log, state["ports"]["connect"],
                                                       state["kubesphere"]))
        return
    _say("supervisor started (pid %d, log %s): ks-installer stand-in, CONNECT proxy on 127.0.0.1:%d, KubeSphere's "
         "processes as the installer renders them" % (state["standins"]["pid"], log, state["ports"]["connect"]))


start_standins = start_supervisor  # the older name


# ---------------------------------------------------------------------------------------------------
# down


def _lab_pids(sd, state):
    """(what, pid, needle, stop timeout) of every process this lab may have started, in stopping order:
    the supervisor, what it recorded, kube-controller-managers, kube-apiservers, etcd. From lab.json and
    from the pid files, so a crash between the two still stops everything."""
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
    return pids


def down(quiet=False):
    """Stop what this lab started (by pid) and remove its state. Safe after a crash."""
    sd = state_dir()
    state = load_state() or {}
    stopped = []
    seen = set()
    for what, pid, needle, timeout in _lab_pids(sd, state):
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
