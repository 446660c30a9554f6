#!/usr/bin/env python3
"""Lab benchmark: prints figures, asserts nothing.

  .venv/bin/python tests/bench/lab_bench.py            warm `kslab up` for 3 and 9 clusters; memory (RSS) per
                                                       process kind, per cluster and for the whole lab
  .venv/bin/python tests/bench/lab_bench.py --cold     also a cold build (empty binary cache AND empty Go build
                                                       cache; the Go module download cache is kept)
  KSLAB_BENCH_PORT_BASE=27100 ...                      first port of the measured labs (default 29100)

Each measured lab runs in its own state folder and port range, and is stopped afterwards. "Warm" means the
binaries are built and cached. After `up`, the first cluster is made a host (its ClusterConfiguration gets
`multicluster.clusterRole: host`, as the collection does) so that the host's KubeSphere processes
(ks-controller-manager, tower, kubefed) run too; memory is read once they are all healthy, plus 10 s."""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
KSLAB = os.path.join(REPO, "tests", "lab", "kslab")
BUILD = os.path.join(REPO, "tests", "lab", "build-binaries.sh")
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))

from kslabkit import lab as kslab  # noqa: E402
from kslabkit.rest import ApiError, Rest  # noqa: E402

CC = "/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/ks-installer"
HOST_KINDS = ("ks-controller-manager", "tower", "kubefed")


def rss_mib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, TypeError):
        pass
    return 0.0


def processes(state):
    """(kind, cluster, pid) of every process of the lab."""
    out = [("etcd", "", state["etcd"]["pid"])]
    for n, c in state["clusters"].items():
        out.append(("kube-apiserver", n, c["pid"]))
        out.append(("kube-controller-manager", n, c.get("kcm_pid")))
    out.append(("supervisor (installer stand-in, CONNECT proxy)", "", state.get("standins", {}).get("pid")))
    for p in kslab.read_procs(state["state_dir"]):
        out.append((p["kind"], p.get("cluster", ""), p["pid"]))
    return out


def wait(what, fn, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if fn():
                return True
        except (ApiError, OSError):
            pass
        time.sleep(1)
    print("  (%s: not within %d s)" % (what, timeout))
    return False


def measure_up(members, port_base):
    state_dir = tempfile.mkdtemp(prefix="kslab-bench-")
    env = dict(os.environ, KSLAB_STATE=state_dir, KSLAB_PORT_BASE=str(port_base))
    t0 = time.time()
    r = subprocess.run([KSLAB, "up", "--members", str(members)], env=env, capture_output=True, text=True)
    elapsed = time.time() - t0
    if r.returncode != 0:
        print("kslab up --members %d failed: %s" % (members, r.stderr.strip()))
        shutil.rmtree(state_dir, ignore_errors=True)
        return None
    try:
        with open(os.path.join(state_dir, "lab.json")) as f:
            state = json.load(f)
        names = list(state["clusters"])
        t1 = time.time()
        wait("every ks-apiserver", lambda: {"ks-apiserver@" + n for n in names}
             <= {p["name"] for p in kslab.read_procs(state_dir)
                 if kslab.process_health(p).startswith("ok")})
        ks_ready = time.time() - t1
        host = Rest(state["clusters"][names[0]]["kubeconfig"])
        host.merge_patch(CC, {"spec": {"multicluster": {"clusterRole": "host"}}})
        t2 = time.time()
        wait("the host's KubeSphere processes", lambda: {k + "@" + names[0] for k in HOST_KINDS}
             <= {p["name"] for p in kslab.read_procs(state_dir) if kslab.process_health(p).startswith("ok")})
        host_ready = time.time() - t2
        time.sleep(10)
        rows = [(kind, cl, rss_mib(pid)) for kind, cl, pid in processes(state)]
    finally:
        subprocess.run([KSLAB, "down"], env=env, capture_output=True)
        shutil.rmtree(state_dir, ignore_errors=True)
    return {"clusters": members + 1, "up_s": elapsed, "ks_ready_s": ks_ready, "host_ready_s": host_ready, "rows": rows}


def cold_build():
    cache = tempfile.mkdtemp(prefix="kslab-cold-")
    gocache = tempfile.mkdtemp(prefix="kslab-gocache-")
    env = dict(os.environ, KSLAB_CACHE=cache, GOCACHE=gocache)
    t0 = time.time()
    r = subprocess.run([BUILD], env=env, capture_output=True, text=True)
    elapsed = time.time() - t0
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(gocache, ignore_errors=True)
    return elapsed if r.returncode == 0 else None


def report(m):
    print("\n== %d clusters ==" % m["clusters"])
    print("warm `kslab up`: %.1f s; every ks-apiserver healthy %.1f s later; host's ks-controller-manager, tower "
          "and kubefed healthy %.1f s after the host role was set" % (m["up_s"], m["ks_ready_s"], m["host_ready_s"]))
    by_kind = collections.defaultdict(list)
    by_cluster = collections.defaultdict(float)
    for kind, cl, mib in m["rows"]:
        by_kind[kind].append(mib)
        if cl:
            by_cluster[cl] += mib
    print("%-48s %5s %9s %9s %9s" % ("process kind", "count", "MiB each", "min", "max"))
    for kind, vals in by_kind.items():
        print("%-48s %5d %9.0f %9.0f %9.0f" % (kind, len(vals), sum(vals) / len(vals), min(vals), max(vals)))
    hosts = [c for c in by_cluster if c == "host"]
    members = [v for c, v in by_cluster.items() if c not in hosts]
    for c in hosts:
        print("per cluster: host %.0f MiB" % by_cluster[c], end="")
    if members:
        print("; member (average) %.0f MiB" % (sum(members) / len(members)), end="")
    print("; shared (etcd, supervisor) %.0f MiB" % sum(mib for _, cl, mib in m["rows"] if not cl))
    print("whole lab: %.0f MiB" % sum(mib for _, _, mib in m["rows"]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cold", action="store_true", help="also measure a cold build (many minutes)")
    args = p.parse_args()
    base = int(os.environ.get("KSLAB_BENCH_PORT_BASE", "29100"))
    print("machine: %d cores" % os.cpu_count())
    if args.cold:
        t = cold_build()
        print("cold build (every lab binary, empty Go build cache): %s" % ("%.0f s" % t if t else "FAILED"))
    for members, port in ((2, base), (8, base + 200)):
        m = measure_up(members, port)
        if m:
            report(m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
