#!/usr/bin/env python3
"""Build benchmark for the lab's binaries: prints figures, asserts nothing.

  python3 tests/bench/build_bench.py                 figures recorded so far (no build): per binary its size, the
                                                     cold build time and the latest warm rebuild time
  python3 tests/bench/build_bench.py --noop          also time a second `build-binaries.sh` run (everything cached:
                                                     it only checks versions and stamps)
  python3 tests/bench/build_bench.py --rebuild [NAME ...]
                                                     also force a rebuild of each binary (or only the NAMEs) with
                                                     the Go build cache warm, one `--only NAME --force` at a time
  python3 tests/bench/build_bench.py --warm          both of the above

Figures come from the log tests/lab/build-binaries.sh keeps in ${KSLAB_CACHE:-~/.cache/kslab}/build-times.tsv
(one line per step). "cold" is the first build of a binary recorded in that cache root: on a fresh machine the Go
build cache was empty then, except for packages an earlier binary of the same run had compiled (kube-apiserver
before kube-controller-manager, ks-controller-manager before ks-apiserver). Preparation steps (module download,
unpacking a source archive) are listed apart. The load column is the 1-minute load average when a step started:
the machine is shared, and a higher load means a slower step. A cold build is never run from here: it would
empty the Go build cache that other builds share (tests/bench/lab_bench.py --cold does that on purpose)."""

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(REPO, "tests", "lab", "build-binaries.sh")
CACHE = os.environ.get("KSLAB_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "kslab")
TIMES = os.path.join(CACHE, "build-times.tsv")


def binaries():
    """(name, path) of every binary, in build order, as build-binaries.sh --list reports them."""
    out = subprocess.run([BUILD, "--list"], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            rows.append((parts[0], parts[1]))
    return rows


def read_log():
    rows = []
    try:
        with open(TIMES) as f:
            for line in f:
                cols = line.rstrip("\n").split("\t")
                if len(cols) < 6 or cols[0] == "finished_utc":
                    continue
                load = cols[6] if len(cols) > 6 else "-"
                rows.append({"at": cols[0], "name": cols[1], "version": cols[2], "seconds": int(cols[3]),
                             "bytes": int(cols[4]), "kind": cols[5], "load": load})
    except FileNotFoundError:
        pass
    return rows


def mmss(seconds):
    if seconds is None:
        return "-"
    return "%d:%02d" % divmod(int(seconds), 60)


def mib(n):
    return "%.1f" % (n / 1048576.0)


def run_build(args):
    t0 = time.time()
    r = subprocess.run([BUILD] + args, capture_output=True, text=True)
    took = time.time() - t0
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        sys.exit("build-binaries.sh %s failed (exit %d)" % (" ".join(args), r.returncode))
    return took


def report(noop_seconds):
    rows = read_log()
    print("Lab binaries (cache %s; log %s)" % (CACHE, TIMES))
    print("%-28s %9s  %-26s %-26s %s" % ("binary", "size MiB", "cold build (load)", "warm rebuild (load)", "path"))
    cold_total = 0
    cold_missing = []
    for name, path in binaries():
        size = mib(os.path.getsize(path)) if os.path.exists(path) else "missing"
        mine = [r for r in rows if r["name"] == name]
        cold = next((r for r in mine if r["kind"] == "first"), None)
        warm = next((r for r in reversed(mine) if r["kind"] in ("forced", "rebuild")), None)
        if cold:
            cold_total += cold["seconds"]
            cold_s = "%s (%s) %s" % (mmss(cold["seconds"]), cold["load"], cold["at"][11:16])
        else:
            cold_missing.append(name)
            cold_s = "not recorded"
        warm_s = "%s (%s) %s" % (mmss(warm["seconds"]), warm["load"], warm["at"][11:16]) if warm else "not measured"
        print("%-28s %9s  %-26s %-26s %s" % (name, size, cold_s, warm_s, path))
    prep = {}
    for r in rows:
        if r["kind"] == "prep":
            prep.setdefault(r["name"], r)  # the first one: the cold download/unpack
    if prep:
        print("\nPreparation steps (first time; module downloads depend on the network):")
        for name, r in prep.items():
            cold_total += r["seconds"]
            print("  %-26s %s (load %s) at %s" % (name, mmss(r["seconds"]), r["load"], r["at"]))
    print("\nCold: the first build recorded for each binary in this cache root (Go build cache empty on a fresh")
    print("machine, except packages shared with a binary built earlier in the same run).")
    print("Sum of the recorded cold steps: %s" % mmss(cold_total), end="")
    print(" (not recorded: %s)" % ", ".join(cold_missing) if cold_missing else "")
    print("Warm rebuild: `build-binaries.sh --only NAME --force` with the Go build cache warm (compile cached, link redone).")
    print("In parentheses: the 1-minute load average when the step started (the machine is shared); 'mtime' marks")
    print("a figure read from file times, for binaries built before build-binaries.sh logged its steps.")
    if noop_seconds is not None:
        print("Second run with every binary cached (nothing to build): %.1f s" % noop_seconds)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--noop", action="store_true", help="time a run of build-binaries.sh with everything cached")
    p.add_argument("--rebuild", nargs="*", metavar="NAME", help="force warm rebuilds (all binaries, or these)")
    p.add_argument("--warm", action="store_true", help="--noop and --rebuild of every binary")
    a = p.parse_args()
    noop = None
    if a.noop or a.warm:
        run_build([])  # make sure everything is built, so the timed run below has nothing to do
        noop = run_build([])
    rebuild = a.rebuild
    if a.warm and rebuild is None:
        rebuild = []
    if rebuild is not None:
        names = rebuild or [n for n, _ in binaries()]
        for name in names:
            print("rebuilding %s (warm Go cache)..." % name, flush=True)
            run_build(["--only", name, "--force"])
    report(noop)


if __name__ == "__main__":
    main()
