"""Run real ansible-playbook against a lab and read every task's result.

`ansible_run(playbook, inventory, check=False, diff=False, extra_vars=None, verbosity=0)` runs
ansible-playbook in a subprocess (the same way users do) with the json callback, and returns a
PlaybookRun: .rc, .stdout (the raw text, for searching secrets), .results(task_name) -> list of the
per-host results of the task with that name, .stats."""

import json
import os
import subprocess
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.dirname(sys.executable)


class PlaybookRun:
    def __init__(self, proc, text_output=None):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.text_output = text_output
        try:
            start = proc.stdout.index("{")
            self.data = json.loads(proc.stdout[start:])
        except ValueError:
            self.data = {"plays": [], "stats": {}}
        self.stats = self.data.get("stats", {})

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
        failed = "".join("FAILED %s\n" % f for f in self.failures())
        return "PlaybookRun(rc=%s)\n%sSTDOUT:\n%s\nSTDERR:\n%s" % (self.rc, failed, self.stdout[-6000:], self.stderr[-3000:])


def with_lab_inventory(lab, tmp_path_factory, timeout=120):
    """inventories/lab copied next to a `.kslab` link to this lab (the inventory finds its kubeconfigs at
    <inventory>/../../.kslab) as `lab.lab_inventory`, once the ks-installer stand-in rendered kubesphere-config
    on every cluster. Returns the lab."""
    import shutil  # noqa: PLC0415

    from polling import wait_for  # noqa: PLC0415

    tree = tmp_path_factory.mktemp("inv")
    shutil.copytree(os.path.join(REPO, "inventories", "lab"), tree / "inventories" / "lab")
    os.symlink(lab.state_dir, tree / ".kslab")
    lab.lab_inventory = str(tree / "inventories" / "lab")
    wait_for(lambda: all(lab.client(n).try_get("/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config")
                         for n in lab.names), timeout, "the ks-installer stand-in rendering kubesphere-config")
    return lab


def run_playbook(playbook, inventory, check=False, diff=False, extra_vars=None, verbosity=0, callback="ansible.posix.json",
                 env=None, limit=None, timeout=600):
    """Run a playbook file (path) or playbook text (str containing newlines)."""
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
        proc = subprocess.run(cmd, cwd=REPO, env=run_env, capture_output=True, text=True, timeout=timeout, check=False)
    finally:
        if tmp:
            os.unlink(tmp)
    return PlaybookRun(proc)


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
