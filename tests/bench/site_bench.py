#!/usr/bin/env python3
"""site.yml against a plain kubernetes.core playbook: prints figures, asserts nothing (issue 13).

The same fleet outcome (host role, members' roles with the host's jwtSecret, the members imported with
direct connections and Ready, the project `shop` federated to every member) reached two ways on the same
lab, in one run, alternating:

  (a) collection   playbooks/site.yml
  (b) plain        tests/bench/plain/site.yml (kubernetes.core.k8s / k8s_info only)

For each fleet size: a COLD run of each way on a fresh lab (`kslab down` + `kslab up --members N`), then
no-op RERUNS of both ways, alternating, on one converged lab; at the largest size also reruns with forks 1.
Printed per way and phase: median wall time, tasks (task headers / host-task results), API requests of the
playbook's user (kslab-admin) per cluster and verb from the audit log, and writes.

  .venv/bin/python tests/bench/site_bench.py                      members 2,4,8; 3 colds, 5 reruns per way
  .venv/bin/python tests/bench/site_bench.py --quick              members 2,8; 1 cold, 3 reruns per way
  ... --members 2,4 --cold-repeats 1 --repeats 3 --forks 10 --no-forks1 --json build/bench-site.json
  ... --members 8 --cold-ways collection                          only the collection measured cold
  .venv/bin/python tests/bench/site_bench.py --markdown build/bench-site/results.json   tables for the docs
  KSLAB_PORT_BASE=27000 (default)                                 the lab's first port (3+9N ports)

Counting: requests of user kslab-admin whose user agent is the Python kubernetes client or urllib (the
playbooks' modules). KubeSphere's ks-controller-manager also talks to each member as kslab-admin (the
member kubeconfig in the Cluster object is the lab's admin kubeconfig): its requests (Go user agents) are
the platform's, not the playbook's, and are left out. A write is create/update/patch/delete that is not a
dry run, even when the server stored nothing (kubernetes.core's merge PATCHes an unchanged object)."""

import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests"))

from auditlog import AuditLog  # noqa: E402

KSLAB = os.path.join(REPO, "tests", "lab", "kslab")
PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")
WAYS = {
    "collection": os.path.join(REPO, "playbooks", "site.yml"),
    "plain": os.path.join(HERE, "plain", "site.yml"),
}
PLAYBOOK_AGENTS = ("OpenAPI-Generator/", "Python-urllib/")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)")


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


class Lab:
    def __init__(self, state, port_base):
        self.state = state
        self.env = dict(os.environ, KSLAB_STATE=state, KSLAB_PORT_BASE=str(port_base))

    def down(self):
        subprocess.run([KSLAB, "down"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def up(self, members):
        self.down()
        start = time.time()
        out = subprocess.run([KSLAB, "up", "--members", str(members)], env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if out.returncode:
            sys.exit("kslab up --members %d failed:\n%s" % (members, out.stdout[-3000:]))
        return time.time() - start

    @property
    def inventory(self):
        return os.path.join(self.state, "inventory.yml")

    def audit(self):
        return AuditLog.for_lab(self.state)


def write_vars(lab, members):
    """The project of inventories/lab (shop, workspace retail), placed on every member of this lab."""
    path = os.path.join(lab.state, "bench-vars.json")
    names = ["member%d" % i for i in range(1, members + 1)]
    with open(path, "w") as f:
        json.dump({"kubesphere_projects": [{"name": "shop", "workspace": "retail", "clusters": names}],
                   "kubesphere_projects_wait": True, "kubesphere_projects_wait_timeout": 240}, f)
    return path


def run(lab, way, varsfile, forks, logdir, tag):
    audit = lab.audit()
    mark = audit.mark()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"),
               ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_NOCOLOR="1")
    cmd = [PLAYBOOK, "-i", lab.inventory, "-e", "@" + varsfile, "-f", str(forks), WAYS[way]]
    start = time.time()
    out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
    wall = time.time() - start
    logpath = os.path.join(logdir, "%s.log" % tag)
    with open(logpath, "w") as f:
        f.write(out.stdout)
    time.sleep(1.0)  # the audit log backend is blocking; a margin for the last lines to be flushed
    reqs = [r for r in audit.requests(since=mark, who="collection") if r.user_agent.startswith(PLAYBOOK_AGENTS)]
    by_verb = collections.Counter((r.cluster, r.verb) for r in reqs)
    by_res = collections.Counter((r.cluster, r.verb, r.full_resource) for r in reqs)
    writes = [repr(r) for r in reqs if r.is_write]
    results = changed = failed = 0
    for line in out.stdout.splitlines():
        m = RECAP.match(line)
        if m:
            ok, ch, unr, fl, sk = (int(x) for x in m.groups()[1:])
            results += ok + unr + fl + sk
            changed += ch
            failed += fl + unr
    tasks = sum(1 for line in out.stdout.splitlines() if line.startswith("TASK ["))
    rec = {"way": way, "tag": tag, "forks": forks, "wall": round(wall, 2), "rc": out.returncode,
           "tasks": tasks, "results": results, "changed": changed, "failed": failed,
           "requests": {"%s %s" % k: v for k, v in sorted(by_verb.items())},
           "requests_by_resource": {"%s %s %s" % k: v for k, v in sorted(by_res.items())},
           "writes": writes, "log": logpath}
    log("%-10s %-22s %6.1f s  rc=%d tasks=%d results=%d changed=%d requests=%d writes=%d" % (
        way, tag, wall, out.returncode, tasks, results, changed, len(reqs), len(writes)))
    if out.returncode:
        log("  FAILED, see %s" % logpath)
    return rec


def per_cluster(rec):
    c = collections.Counter()
    for key, n in rec["requests"].items():
        c[key.split()[0]] += n
    return c


def summary(recs, members):
    """One row per way: median wall, tasks, requests on the host, per member (max over members), writes."""
    rows = []
    for way in WAYS:
        mine = [r for r in recs if r["way"] == way]
        if not mine:
            continue
        walls = [r["wall"] for r in mine]
        pcs = [per_cluster(r) for r in mine]
        host = max(pc.get("host", 0) for pc in pcs)
        member = max(max([pc.get("member%d" % i, 0) for i in range(1, members + 1)] or [0]) for pc in pcs)
        rows.append({"way": way, "runs": len(mine), "median": round(statistics.median(walls), 1),
                     "min": round(min(walls), 1), "max": round(max(walls), 1), "tasks": mine[-1]["tasks"],
                     "results": mine[-1]["results"], "host_requests": host, "member_requests": member,
                     "writes": max(len(r["writes"]) for r in mine), "changed": max(r["changed"] for r in mine),
                     "failed": sum(1 for r in mine if r["rc"])})
    return rows


def print_rows(title, rows):
    print("\n%s" % title)
    print("  %-10s %4s %8s %13s %6s %8s %9s %11s %6s %7s" % (
        "way", "runs", "median", "min-max", "tasks", "results", "req host", "req/member", "writes", "failed"))
    for r in rows:
        print("  %-10s %4d %7.1fs %13s %6d %8d %9d %11d %6d %7d" % (
            r["way"], r["runs"], r["median"], "%.1f-%.1f" % (r["min"], r["max"]), r["tasks"], r["results"],
            r["host_requests"], r["member_requests"], r["writes"], r["failed"]))
    sys.stdout.flush()


def verbs_table(recs, members):
    """Requests per cluster kind (host, one member) and verb, median over the runs of each way."""
    out = {}
    for way in WAYS:
        mine = [r for r in recs if r["way"] == way]
        if not mine:
            continue
        verbs = collections.defaultdict(list)
        for r in mine:
            for key, n in r["requests"].items():
                cluster, verb = key.split()
                kind = "host" if cluster == "host" else "member"
                if kind == "member" and cluster != "member%d" % members:
                    continue
                verbs["%s %s" % (kind, verb)].append(n)
        out[way] = {k: statistics.median(v + [0] * (len(mine) - len(v))) for k, v in sorted(verbs.items())}
    return out


def markdown(paths):
    """Markdown tables (docs/performance.md) from one or more results.json files."""
    print("| members | forks | phase | way | runs | median (min-max) | tasks / host-task results | requests: host, "
          "per member (max) | writes | changed |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        for n, res in sorted(data["sizes"].items(), key=lambda kv: int(kv[0])):
            for phase in ("cold", "rerun", "rerun_forks1"):
                recs = res.get(phase) or []
                forks = recs[0]["forks"] if recs else 0
                for r in summary(recs, int(n)):
                    print("| %s | %d | %s | %s | %d | %.1f s (%.1f-%.1f) | %d / %d | %d, %d | %d | %d |" % (
                        n, forks, "no-op rerun" if phase != "cold" else "cold", r["way"], r["runs"], r["median"],
                        r["min"], r["max"], r["tasks"], r["results"], r["host_requests"], r["member_requests"],
                        r["writes"], r["changed"]))
        for n, res in sorted(data["sizes"].items(), key=lambda kv: int(kv[0])):
            for phase in ("cold", "rerun"):
                for way, verbs in (res.get("verbs") or {}).get(phase, {}).items():
                    print("\n- %s members, %s, %s: %s" % (n, phase, way, ", ".join("%s %g" % kv for kv in verbs.items())))


def main():
    if sys.argv[1:2] == ["--markdown"]:
        return markdown(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--members", default="2,4,8", help="fleet sizes, comma-separated (default 2,4,8)")
    ap.add_argument("--cold-repeats", type=int, default=3, help="cold runs per way and size (default 3)")
    ap.add_argument("--repeats", type=int, default=5, help="no-op reruns per way and size (default 5)")
    ap.add_argument("--cold-ways", default="collection,plain",
                    help="ways measured cold (default both; 'collection' alone converges the lab for the reruns)")
    ap.add_argument("--forks", type=int, default=10)
    ap.add_argument("--no-forks1", action="store_true", help="skip the forks-1 reruns at the largest size")
    ap.add_argument("--quick", action="store_true", help="members 2,8; 1 cold and 3 reruns per way")
    ap.add_argument("--state", default=os.path.join(REPO, "build", "bench-site"))
    ap.add_argument("--json", default=None, help="write every run's record here (default <state>/results.json)")
    args = ap.parse_args()
    if args.quick:
        args.members, args.cold_repeats, args.repeats = "2,8", 1, 3
    sizes = [int(x) for x in args.members.split(",")]
    port_base = int(os.environ.get("KSLAB_PORT_BASE", "27000"))
    os.makedirs(args.state, exist_ok=True)
    logdir = os.path.join(args.state, "logs")
    os.makedirs(logdir, exist_ok=True)
    lab = Lab(os.path.join(args.state, "lab"), port_base)
    results = {"command": " ".join([os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:]), "sizes": {}}
    jsonpath = args.json or os.path.join(args.state, "results.json")
    began = time.time()
    try:
        for n in sizes:
            res = results["sizes"][str(n)] = {"lab_up": [], "cold": [], "rerun": [], "rerun_forks1": []}
            # cold: each way on a fresh lab, the order alternating between repeats
            for i in range(args.cold_repeats):
                for way in (("collection", "plain") if i % 2 == 0 else ("plain", "collection")):
                    if way not in args.cold_ways.split(","):
                        continue
                    up = lab.up(n)
                    res["lab_up"].append(round(up, 1))
                    log("lab up --members %d: %.1f s" % (n, up))
                    varsfile = write_vars(lab, n)
                    res["cold"].append(run(lab, way, varsfile, args.forks, logdir, "m%d-cold%d-%s" % (n, i, way)))
            # reruns on the lab the last cold run converged: first one unmeasured run of the other way (it
            # must find nothing to do either), then both ways alternating
            last = res["cold"][-1]["way"]
            other = "plain" if last == "collection" else "collection"
            res["warmup"] = run(lab, other, varsfile, args.forks, logdir, "m%d-warmup-%s" % (n, other))
            for i in range(args.repeats):
                for way in (("collection", "plain") if i % 2 == 0 else ("plain", "collection")):
                    res["rerun"].append(run(lab, way, varsfile, args.forks, logdir, "m%d-rerun%d-%s" % (n, i, way)))
            if n == max(sizes) and not args.no_forks1:
                for way in ("collection", "plain"):
                    res["rerun_forks1"].append(run(lab, way, varsfile, 1, logdir, "m%d-rerun-forks1-%s" % (n, way)))
            res["summary"] = {"cold": summary(res["cold"], n), "rerun": summary(res["rerun"], n),
                              "rerun_forks1": summary(res["rerun_forks1"], n)}
            res["verbs"] = {"cold": verbs_table(res["cold"], n), "rerun": verbs_table(res["rerun"], n)}
            print_rows("members=%d forks=%d  COLD (fresh lab; kslab up took %s s)" % (
                n, args.forks, ", ".join("%.0f" % x for x in res["lab_up"])), res["summary"]["cold"])
            print_rows("members=%d forks=%d  NO-OP RERUN" % (n, args.forks), res["summary"]["rerun"])
            if res["rerun_forks1"]:
                print_rows("members=%d forks=1  NO-OP RERUN" % n, res["summary"]["rerun_forks1"])
            for phase in ("cold", "rerun"):
                for way, verbs in res["verbs"][phase].items():
                    print("  %s %-10s requests (median) %s" % (
                        phase, way, ", ".join("%s=%g" % kv for kv in verbs.items())))
            with open(jsonpath, "w") as f:
                json.dump(results, f, indent=1)
    finally:
        lab.down()
    # how the no-op rerun grows with the fleet and compares with the plain playbook
    print("\nNo-op rerun, median wall time (forks %d)" % args.forks)
    first = None
    for n in sizes:
        rows = {r["way"]: r for r in results["sizes"][str(n)]["summary"]["rerun"]}
        if "collection" not in rows or "plain" not in rows:
            continue
        a, b = rows["collection"]["median"], rows["plain"]["median"]
        first = first or (n, a, b)
        print("  members=%d  collection %.1f s  plain %.1f s  collection/plain %.2f  collection vs %d members %.2fx"
              "  plain vs %d members %.2fx" % (n, a, b, a / b, first[0], a / first[1], first[0], b / first[2]))
    print("\ntotal %.0f s; every run's record: %s" % (time.time() - began, jsonpath))


if __name__ == "__main__":
    main()
