#!/usr/bin/env python3
"""CPU of `cluster_info` run as a module process against run in the worker process: prints figures, asserts nothing.

  .venv/bin/python tests/bench/in_process_bench.py --inventory /tmp/lab3/inventory.yml --inventory /tmp/lab7/inventory.yml

  .venv/bin/python tests/bench/in_process_bench.py --site --inventory ... --inventory ... \
      [--baseline-collections /work/main/build/collections] [--no-module-process]

With --site, a run is a no-op rerun of playbooks/site.yml (the lab converged first by one unmeasured run; the
project `shop` placed on every member with kubesphere_projects_wait, as tests/bench/site_bench.py does), and
the per-member cost is the slope of the median CPU between the smallest and the largest lab (clusters - 1
members). The ways: every module a module process (kubesphere_in_process false), in the worker process
(true), and with --baseline-collections another checkout's collection (e.g. main before a change) run the
same way as in the worker. Each run must change nothing (changed=0 on every host).

Each inventory is a lab's (`tests/lab/kslab up` writes <state>/inventory.yml; connection local, as the
collection is run). A run is one ansible-playbook of `--tasks` cluster_info tasks on every cluster of the
inventory (the preflight read and the status role run it twice per cluster in site.yml + status.yml), with
`kubesphere_in_process` false (the module path: one Python process per task and host, AnsiballZ, the
kubernetes client imported each time) or true (plugins/plugin_utils/in_process.py: the module's main() in
the forked worker, its imports paid once by ansible-playbook). The two ways alternate, `--repeats` times.

CPU is user + system time of ansible-playbook and every process it waited for (its workers and module
processes): resource.getrusage(RUSAGE_CHILDREN) before and after the subprocess. The per-cluster cost is the
slope of the median CPU between the smallest and the largest inventory; per host-task it is the median CPU
over (clusters x tasks). The load average when each run started is printed beside it."""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VENV_BIN = os.path.dirname(sys.executable)

PLAY = """- hosts: kubesphere_clusters
  gather_facts: false
  tasks:
%s"""
TASK = """    - name: read {i}
      kubesphere.multicluster.cluster_info:
        cluster_name: "{{{{ kubesphere_cluster_name }}}}"
        kubeconfig: "{{{{ kubesphere_kubeconfig }}}}"
        context: "{{{{ kubesphere_context }}}}"
"""


def clusters(inventory):
    with open(inventory) as f:
        data = yaml.safe_load(f)
    out = []
    for group in ("kubesphere_host", "kubesphere_members"):
        out += list(((data.get(group) or {}).get("hosts") or {}).keys())
    return out


def site_vars(inventory):
    """The project of inventories/lab (shop, workspace retail) placed on every member of the lab (site_bench)."""
    members = [n for n in clusters(inventory) if n != clusters(inventory)[0]]
    path = os.path.join(os.path.dirname(inventory), "in-process-bench-vars.json")
    with open(path, "w") as f:
        json.dump({"kubesphere_projects": [{"name": "shop", "workspace": "retail", "clusters": members}],
                   "kubesphere_projects_wait": True, "kubesphere_projects_wait_timeout": 240}, f)
    return path


def run(playbook, inventory, in_process, forks, collections=None, extra=None, noop=False):
    env = dict(os.environ,
               ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=collections or os.path.join(REPO, "build", "collections"),
               ANSIBLE_NOCOLOR="1",
               PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory, playbook, "--forks", str(forks),
           "-e", "kubesphere_in_process=%s" % ("true" if in_process else "false")]
    if extra:
        cmd += ["-e", "@" + extra]
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0 or "failed=0" not in proc.stdout:
        sys.exit("ansible-playbook failed (rc %s):\n%s\n%s" % (proc.returncode, proc.stdout[-3000:], proc.stderr[-2000:]))
    if noop and not all(" changed=0 " in line for line in proc.stdout.splitlines() if " ok=" in line and " : " in line):
        sys.exit("not a no-op (a host changed):\n%s" % proc.stdout[-3000:])
    return {"cpu": cpu, "wall": wall, "load": load}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inventory", action="append", required=True, help="a lab's inventory.yml (repeatable)")
    ap.add_argument("--tasks", type=int, default=2, help="cluster_info tasks per cluster in one run (default 2)")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each way per inventory (default 3)")
    ap.add_argument("--forks", type=int, default=10)
    ap.add_argument("--site", action="store_true", help="no-op reruns of playbooks/site.yml instead of cluster_info")
    ap.add_argument("--baseline-collections", default=None,
                    help="with --site: also measure the collection of this ANSIBLE_COLLECTIONS_PATH (e.g. main's)")
    ap.add_argument("--no-module-process", action="store_true",
                    help="with --site: leave out the module-process way (every module in its own process)")
    opts = ap.parse_args()
    if opts.site:
        return site(opts)

    fd, playbook = tempfile.mkstemp(suffix=".yml", prefix="in-process-bench-")
    with os.fdopen(fd, "w") as f:
        f.write(PLAY % "".join(TASK.format(i=i + 1) for i in range(opts.tasks)))
    rows = []
    try:
        for inventory in opts.inventory:
            n = len(clusters(inventory))
            runs = {False: [], True: []}
            run(playbook, inventory, True, opts.forks)  # unmeasured: warms the page cache and the lab
            for _ in range(opts.repeats):
                for way in (False, True):
                    runs[way].append(run(playbook, inventory, way, opts.forks))
            for way in (False, True):
                cpu = [r["cpu"] for r in runs[way]]
                wall = [r["wall"] for r in runs[way]]
                load = [r["load"] for r in runs[way]]
                rows.append({"clusters": n, "way": "in process" if way else "module process",
                             "cpu": statistics.median(cpu), "cpus": cpu, "wall": statistics.median(wall),
                             "load": "%.1f-%.1f" % (min(load), max(load)),
                             "per_task": statistics.median(cpu) / (n * opts.tasks)})
    finally:
        os.unlink(playbook)

    print("\ncluster_info x %d per cluster, forks %d, %d runs per way (CPU = user + sys of ansible-playbook and "
          "its children)\n" % (opts.tasks, opts.forks, opts.repeats))
    print("| clusters | way | CPU-s (median; all runs) | CPU-s per host-task | wall s (median) | load avg 1 min |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print("| %d | %s | %.2f (%s) | %.2f | %.1f | %s |" % (
            r["clusters"], r["way"], r["cpu"], ", ".join("%.2f" % c for c in r["cpus"]), r["per_task"], r["wall"], r["load"]))
    sizes = sorted({r["clusters"] for r in rows})
    if len(sizes) > 1:
        print()
        for way in ("module process", "in process"):
            low = next(r for r in rows if r["clusters"] == sizes[0] and r["way"] == way)
            high = next(r for r in rows if r["clusters"] == sizes[-1] and r["way"] == way)
            slope = (high["cpu"] - low["cpu"]) / (sizes[-1] - sizes[0])
            print("%s: %.2f CPU-s per cluster (%.2f per cluster and task), %.2f CPU-s fixed" % (
                way, slope, slope / opts.tasks, low["cpu"] - slope * sizes[0]))


def site(opts):
    playbook = os.path.join(REPO, "playbooks", "site.yml")
    ways = [("in process", None, True)]
    if not opts.no_module_process:
        ways.insert(0, ("module process", None, False))
    if opts.baseline_collections:
        ways.insert(0, ("baseline", opts.baseline_collections, True))
    rows = []
    for inventory in opts.inventory:
        n = len(clusters(inventory)) - 1
        extra = site_vars(inventory)
        print("converging %s (%d members)" % (inventory, n), flush=True)
        run(playbook, inventory, True, opts.forks, extra=extra)  # unmeasured: converges the lab, warms caches
        runs = {w[0]: [] for w in ways}
        for _ in range(opts.repeats):
            for label, collections, in_proc in ways:
                # another checkout's collection runs its own playbooks (its modules and playbooks go together)
                own = os.path.join(collections, "ansible_collections", "kubesphere", "multicluster", "playbooks",
                                   "site.yml") if collections else playbook
                r = run(own, inventory, in_proc, opts.forks, collections=collections, extra=extra, noop=True)
                print("  %d members %-15s %.2f CPU-s %.1f s wall load %.1f" % (n, label, r["cpu"], r["wall"], r["load"]),
                      flush=True)
                runs[label].append(r)
        for label, _, _ in ways:
            cpu = [r["cpu"] for r in runs[label]]
            load = [r["load"] for r in runs[label]]
            rows.append({"members": n, "way": label, "cpu": statistics.median(cpu), "cpus": cpu,
                         "wall": statistics.median([r["wall"] for r in runs[label]]),
                         "load": "%.1f-%.1f" % (min(load), max(load))})
    print("\nplaybooks/site.yml no-op rerun, forks %d, %d runs per way (CPU = user + sys of ansible-playbook and its "
          "children)\n" % (opts.forks, opts.repeats))
    print("| members | way | CPU-s (median; all runs) | wall s (median) | load avg 1 min |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        cpus = ", ".join("%.2f" % c for c in r["cpus"])
        print("| %d | %s | %.2f (%s) | %.1f | %s |" % (r["members"], r["way"], r["cpu"], cpus, r["wall"], r["load"]))
    sizes = sorted({r["members"] for r in rows})
    if len(sizes) > 1:
        print()
        for label, _, _ in ways:
            low = next(r for r in rows if r["members"] == sizes[0] and r["way"] == label)
            high = next(r for r in rows if r["members"] == sizes[-1] and r["way"] == label)
            slope = (high["cpu"] - low["cpu"]) / (sizes[-1] - sizes[0])
            print("%s: %.2f CPU-s per member, %.2f CPU-s fixed" % (label, slope, low["cpu"] - slope * sizes[0]))


if __name__ == "__main__":
    main()
