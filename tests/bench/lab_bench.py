#!/usr/bin/env python3
"""Lab benchmark: prints figures, asserts nothing.

  .venv/bin/python tests/bench/lab_bench.py            warm `kslab up` for 3 and 9 clusters, memory per cluster
  .venv/bin/python tests/bench/lab_bench.py --cold     also a cold build (empty binary cache AND empty Go build
                                                       cache; the Go module download cache is kept)

Each measured lab runs in its own state folder and port range, and is stopped afterwards."""

import argparse
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


def rss_mib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def measure_up(members, port_base):
    state = tempfile.mkdtemp(prefix="kslab-bench-")
    env = dict(os.environ, KSLAB_STATE=state, KSLAB_PORT_BASE=str(port_base))
    t0 = time.time()
    r = subprocess.run([KSLAB, "up", "--members", str(members)], env=env, capture_output=True, text=True)
    elapsed = time.time() - t0
    if r.returncode != 0:
        print("kslab up --members %d failed: %s" % (members, r.stderr.strip()))
        return None
    time.sleep(5)  # let start-up work settle before reading memory
    with open(os.path.join(state, "lab.json")) as f:
        lab = json.load(f)
    apiservers = [rss_mib(c["pid"]) for c in lab["clusters"].values()]
    etcd = rss_mib(lab["etcd"]["pid"])
    standins = rss_mib(lab.get("standins", {}).get("pid") or 0)
    subprocess.run([KSLAB, "down"], env=env, capture_output=True)
    shutil.rmtree(state, ignore_errors=True)
    return {"clusters": members + 1, "up_s": elapsed, "apiserver_rss": apiservers, "etcd_rss": etcd, "standins_rss": standins}


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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cold", action="store_true", help="also measure a cold build (several minutes)")
    args = p.parse_args()
    print("machine: %d cores" % os.cpu_count())
    if args.cold:
        t = cold_build()
        print("cold build (kube-apiserver + etcd, empty Go build cache): %s" % ("%.0f s" % t if t else "FAILED"))
    for members, port in ((2, 29100), (8, 29200)):
        m = measure_up(members, port)
        if not m:
            continue
        per = sum(m["apiserver_rss"]) / len(m["apiserver_rss"])
        print("warm `kslab up` with %d clusters: %.1f s; kube-apiserver RSS %.0f MiB per cluster (min %.0f, max %.0f); "
              "etcd %.0f MiB; stand-ins %.0f MiB; total %.0f MiB"
              % (m["clusters"], m["up_s"], per, min(m["apiserver_rss"]), max(m["apiserver_rss"]), m["etcd_rss"],
                 m["standins_rss"], sum(m["apiserver_rss"]) + m["etcd_rss"] + m["standins_rss"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
