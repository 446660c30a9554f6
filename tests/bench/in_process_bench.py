#!/usr/bin/env python3
"""CPU of `cluster_info` run as a module process against run in the worker process: prints figures, asserts nothing.

  .venv/bin/python tests/bench/in_process_bench.py --inventory /tmp/lab3/inventory.yml --inventory /tmp/lab7/inventory.yml

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


def run(playbook, inventory, in_process, forks):
    env = dict(os.environ,
               ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"),
               ANSIBLE_NOCOLOR="1",
               PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory, playbook, "--forks", str(forks),
           "-e", "kubesphere_in_process=%s" % ("true" if in_process else "false")]
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0 or "failed=0" not in proc.stdout:
        sys.exit("ansible-playbook failed (rc %s):\n%s\n%s" % (proc.returncode, proc.stdout[-3000:], proc.stderr[-2000:]))
    return {"cpu": cpu, "wall": wall, "load": load}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inventory", action="append", required=True, help="a lab's inventory.yml (repeatable)")
    ap.add_argument("--tasks", type=int, default=2, help="cluster_info tasks per cluster in one run (default 2)")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each way per inventory (default 3)")
    ap.add_argument("--forks", type=int, default=10)
    opts = ap.parse_args()

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


if __name__ == "__main__":
    main()
