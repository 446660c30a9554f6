"""Run real ansible-playbook against a lab and read every task's result.

`ansible_run(playbook, inventory, check=False, diff=False, extra_vars=None, verbosity=0)` runs
ansible-playbook in a subprocess (the same way users do) with the json callback, and returns a
PlaybookRun: .rc, .stdout (the raw text, for searching secrets), .results(task_name) -> list of the
per-host results of the task with that name, .stats, .changed_hosts().

Output that does not parse as the json callback's document fails the test as soon as it is read (.data,
.stats, .results): it never reads as a run of no play. .changed_hosts() (and .stats_of()) first assert the
recap names every host of the inventory (or the hosts given), so "nothing changed" is never said of a run
where a host did not play."""

import glob
import json
import os
import subprocess
import sys
import tempfile

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.dirname(sys.executable)


def inventory_hosts(inventory):
    """Every host a static inventory names: "a,b," host lists, a YAML file, or a folder of YAML files (the
    inventory plugin's `*.kubesphere.yml` and `group_vars`/`host_vars` are not static hosts)."""
    if not os.path.exists(inventory):
        return {h.strip() for h in inventory.split(",") if h.strip()}
    if os.path.isdir(inventory):
        files = sorted(f for f in glob.glob(os.path.join(inventory, "*.y*ml")) if ".kubesphere." not in os.path.basename(f))
    else:
        files = [inventory]
    hosts = set()

    def walk(group):
        if isinstance(group, dict):
            hosts.update((group.get("hosts") or {}).keys())
            for child in (group.get("children") or {}).values():
                walk(child)

    for path in files:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
        if "plugin" in data:
            continue
        for group in data.values():
            walk(group)
    return hosts


class PlaybookRun:
    def __init__(self, proc, text_output=None, callback="ansible.posix.json", inventory=None, limit=None):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.text_output = text_output
        self.callback = callback
        self.inventory = inventory
        self.limit = limit
        self._data = None
        self._parse_error = None
        if not callback.endswith(".json") and callback != "json":
            self._parse_error = "this run used the %r callback, not the json one" % callback
            return
        try:
            start = proc.stdout.index("{")
            data, end = json.JSONDecoder().raw_decode(proc.stdout, start)
            if proc.stdout[end:].strip():
                raise ValueError("text after the JSON document: %r" % proc.stdout[end:end + 200])
            if not isinstance(data, dict) or "plays" not in data or "stats" not in data:
                raise ValueError("the JSON document has no plays and stats")
            self._data = data
        except ValueError as e:
            self._parse_error = "the output of ansible-playbook does not parse as the json callback's: %s" % e

    @property
    def parsed(self):
        """Whether the run printed the json callback's document (a run that failed before its first play,
        e.g. on an inventory that does not parse, prints none: its rc and stderr say what happened)."""
        return self._parse_error is None

    @property
    def data(self):
        assert self._parse_error is None, "%s\n%r" % (self._parse_error, self)
        return self._data

    @property
    def stats(self):
        return self.data["stats"]

    def stats_of(self, hosts=None):
        """The recap, once it names every host of `hosts` (default: every host of the inventory; a run with
        --limit must say which hosts)."""
        if hosts is None:
            assert self.inventory is not None and self.limit is None, "say which hosts this run's recap must name"
            hosts = inventory_hosts(self.inventory)
        hosts = set(hosts)
        assert hosts, "no host to look for in the recap (inventory %r)" % self.inventory
        missing = hosts - set(self.stats)
        assert not missing, "the recap names no result for %s: %r" % (sorted(missing), self)
        return self.stats

    def changed_hosts(self, hosts=None):
        """{host: number of changed tasks} of every host that changed something, after stats_of(hosts)."""
        return {h: s.get("changed", 0) for h, s in self.stats_of(hosts).items() if s.get("changed")}

    def tasks(self):
        for play in self.data.get("plays", []):
            yield from play.get("tasks", [])

    def results(self, task_name):
        """{host: result} of every task whose name is (or ends with) task_name."""
        out = {}
        for task in self.tasks():
            name = task["task"]["name"]
            if name == task_name or name.endswith(" : " + task_name):
                out.update(task["hosts"])
        return out

    def failures(self):
        """'task [host]: msg' of every failed or unreachable result (what a failed run's report shows first)."""
        out = []
        for task in self.tasks():
            for host, res in task.get("hosts", {}).items():
                if res.get("failed") or res.get("unreachable"):
                    out.append("%s [%s]: %s%s" % (task["task"]["name"], host, res.get("msg"),
                                                  " (code %s)" % res["code"] if res.get("code") else ""))
        return out

    def __repr__(self):
        failed = "".join("FAILED %s\n" % f for f in self.failures()) if self._parse_error is None else ""
        return "PlaybookRun(rc=%s)\n%sSTDOUT:\n%s\nSTDERR:\n%s" % (self.rc, failed, self.stdout[-6000:], self.stderr[-3000:])


def with_lab_inventory(lab, tmp_path_factory, timeout=120, rendered=True):
    """inventories/lab copied next to a `.kslab` link to this lab (the inventory finds its kubeconfigs at
    <inventory>/../../.kslab) as `lab.lab_inventory`, once the ks-installer stand-in rendered kubesphere-config
    on every cluster (`rendered`; a v4.1 lab's bare members have none). Returns the lab."""
    import shutil  # noqa: PLC0415

    from polling import wait_for  # noqa: PLC0415

    tree = tmp_path_factory.mktemp("inv")
    shutil.copytree(os.path.join(REPO, "inventories", "lab"), tree / "inventories" / "lab")
    os.symlink(lab.state_dir, tree / ".kslab")
    lab.lab_inventory = str(tree / "inventories" / "lab")
    if not rendered:
        return lab
    wait_for(lambda: all(lab.client(n).try_get("/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config")
                         for n in lab.names), timeout, "the ks-installer stand-in rendering kubesphere-config")
    return lab


def run_playbook(playbook, inventory, check=False, diff=False, extra_vars=None, verbosity=0, callback="ansible.posix.json",
                 env=None, limit=None, timeout=600, stdout_path=None):
    """Run a playbook file (path) or playbook text (str containing newlines). `stdout_path`: the run's standard
    output goes to that file as it is printed (a test may read it while the run goes on), and is read back."""
    tmp = None
    if "\n" in playbook:
        fd, tmp = tempfile.mkstemp(suffix=".yml", prefix="kubesphere-test-")  # never in the source tree
        with os.fdopen(fd, "w") as f:
            f.write(playbook)
        playbook = tmp
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory, playbook]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if limit:
        cmd += ["--limit", limit]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    run_env = dict(os.environ,
                   ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"),
                   ANSIBLE_STDOUT_CALLBACK=callback,
                   ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                   PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
    run_env.update(env or {})
    try:
        if stdout_path:
            with open(stdout_path, "w") as out:
                proc = subprocess.run(cmd, cwd=REPO, env=run_env, stdout=out, stderr=subprocess.PIPE, text=True,
                                      timeout=timeout, check=False)
            with open(stdout_path) as out:
                proc.stdout = out.read()
        else:
            proc = subprocess.run(cmd, cwd=REPO, env=run_env, capture_output=True, text=True, timeout=timeout, check=False)
    finally:
        if tmp:
            os.unlink(tmp)
    return PlaybookRun(proc, callback=callback, inventory=inventory, limit=limit)


@pytest.fixture
def ansible_run():
    return run_playbook


@pytest.fixture
def lab_inventory_dir(lab, tmp_path):
    """The committed inventories/lab, reading the kubeconfigs of the session's lab wherever it lives.

    inventories/lab finds kubeconfigs at <inventory>/../../.kslab (where `make demo` keeps its lab). A test
    lab elsewhere gets a copy of the folder in a temporary tree whose .kslab links to the lab's state."""
    import shutil  # noqa: PLC0415

    source = os.path.join(REPO, "inventories", "lab")
    if os.path.realpath(lab.state_dir) == os.path.realpath(os.path.join(REPO, ".kslab")):
        return source
    target = tmp_path / "inventories" / "lab"
    shutil.copytree(source, target)
    os.symlink(lab.state_dir, tmp_path / ".kslab")
    return str(target)
