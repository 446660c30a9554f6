"""Fixtures shared by every test tier.

- The checkout is importable as `ansible_collections.kubesphere.multicluster` (through build/collections,
  made by `make link`), so unit tests import the collection's code by its real name.
- `lab` starts the lab once per test session (or reuses one that runs), and stops it at the end if it
  started it. Tests get admin clients per cluster from `kube`. Tests isolate themselves by names
  (namespaces, Cluster objects) and remove what they create (`cleanup` does it for them).
- `make_lab` starts a separate, private lab (own state folder and ports) for tests that need clusters
  in a known first state (for example every cluster with role `none`)."""

import os
import shutil
import subprocess
import sys
import uuid

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB_DIR = os.path.join(REPO, "tests", "lab")
COLLECTIONS = os.path.join(REPO, "build", "collections")
KSLAB = os.path.join(LAB_DIR, "kslab")

for p in (COLLECTIONS, LAB_DIR):
    if p not in sys.path:
        sys.path.insert(0, p)

_link = os.path.join(COLLECTIONS, "ansible_collections", "kubesphere", "multicluster")
if not os.path.exists(_link):
    os.makedirs(os.path.dirname(_link), exist_ok=True)
    os.symlink("../../../..", _link)


class LabHandle:
    """A running lab: its state folder, its clusters and clients for them."""

    def __init__(self, env):
        self.env = env
        from kslabkit import lab as kslab  # noqa: PLC0415

        old = os.environ.get("KSLAB_STATE")
        os.environ["KSLAB_STATE"] = env["KSLAB_STATE"]
        try:
            self.state = kslab.load_state()
        finally:
            if old is None:
                os.environ.pop("KSLAB_STATE", None)
            else:
                os.environ["KSLAB_STATE"] = old
        self.state_dir = env["KSLAB_STATE"]
        self.names = list(self.state["clusters"])
        self.host = self.names[0]
        self.members = self.names[1:]
        self.inventory = os.path.join(self.state_dir, "inventory.yml")
        self._clients = {}

    def kubeconfig(self, name):
        return self.state["clusters"][name]["kubeconfig"]

    def server(self, name):
        return self.state["clusters"][name]["server"]

    def client(self, name):
        from kslabkit.rest import Rest  # noqa: PLC0415

        if name not in self._clients:
            self._clients[name] = Rest(self.kubeconfig(name))
        return self._clients[name]


def _wait_first_install(handle, timeout=90):
    """Block until the ks-installer stand-in has rendered kubesphere-config on every installed cluster, so
    tests start from a settled KubeSphere (a real installed cluster has it before anyone can use it)."""
    import time  # noqa: PLC0415

    if handle.env.get("KSLAB_NO_STANDINS") == "1":
        return
    path = "/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config"
    installed = [n for n, c in handle.state["clusters"].items() if c.get("installed", True)]
    deadline = time.time() + timeout
    while not all(handle.client(n).try_get(path) for n in installed):
        if time.time() > deadline:
            pytest.fail("the ks-installer stand-in did not render kubesphere-config within %d s" % timeout)
        time.sleep(0.5)


def _kslab(env, *args, check=True):
    return subprocess.run([KSLAB, *args], env=env, check=check, capture_output=True, text=True, timeout=600)


def _start(env, *args):
    r = _kslab(env, "up", *args, check=False)
    if r.returncode != 0:
        pytest.fail("kslab up failed:\n%s\n%s" % (r.stdout, r.stderr))


@pytest.fixture(scope="session")
def lab():
    """The session's shared lab (host, member1, member2), stand-ins running."""
    env = dict(os.environ)
    env.setdefault("KSLAB_STATE", os.path.join(REPO, ".kslab"))
    was_running = os.path.exists(os.path.join(env["KSLAB_STATE"], "lab.json"))
    _start(env)
    handle = LabHandle(env)
    _wait_first_install(handle)
    yield handle
    if not was_running and os.environ.get("KSLAB_KEEP") != "1":
        _kslab(env, "down", check=False)


@pytest.fixture
def kube(lab):
    """kube(name) -> admin REST client (tests/lab/kslabkit/rest.py) for a cluster of the shared lab."""
    return lab.client


@pytest.fixture
def unique():
    """A short unique suffix for names a test creates."""
    return uuid.uuid4().hex[:6]


@pytest.fixture
def free_port():
    """free_port() -> a TCP port on 127.0.0.1 that nothing listens on now (for 'unreachable' endpoints)."""
    import socket  # noqa: PLC0415

    def pick():
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    return pick


def _free_port_base(span=20):
    """A port base whose `span` ports on 127.0.0.1 are all free (so concurrent sessions do not collide)."""
    from ports import free_block  # noqa: PLC0415 (tests/ is on sys.path once this conftest is loaded)

    return free_block(span, 27000, 32000, span)


class _PrivateLabs:
    """Starts private labs (own state folder and free ports) and stops them all at close()."""

    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory
        self.started = []

    def __call__(self, members=2, not_installed=(), extra_env=None):
        state = str(self.tmp.mktemp("kslab"))
        from kslabkit.lab import ports_needed  # noqa: PLC0415

        env = dict(os.environ, KSLAB_STATE=state, KSLAB_PORT_BASE=str(_free_port_base(ports_needed(members + 1))))
        env.update(extra_env or {})
        args = ["--members", str(members)]
        if not_installed:
            args += ["--not-installed", ",".join(not_installed)]
        self.started.append(env)
        _start(env, *args)
        return LabHandle(env)

    def close(self):
        for env in self.started:
            _kslab(env, "down", check=False)
            shutil.rmtree(env["KSLAB_STATE"], ignore_errors=True)


@pytest.fixture
def make_lab(tmp_path_factory):
    """make_lab(members=2, not_installed=(), extra_env=None) -> LabHandle of a private lab, stopped after the test."""
    labs = _PrivateLabs(tmp_path_factory)
    yield labs
    labs.close()


@pytest.fixture(scope="module")
def make_module_lab(tmp_path_factory):
    """Like make_lab, but the lab lives until the end of the test module."""
    labs = _PrivateLabs(tmp_path_factory)
    yield labs
    labs.close()


def v41_missing():
    """None when the KubeSphere v4.1.3 lab's binaries are built, else what is missing (with the command)."""
    from kslabkit import v41  # noqa: PLC0415
    from kslabkit.layout import LabError  # noqa: PLC0415

    try:
        v41.check_binaries()
    except LabError as e:
        return str(e)
    return None


class _V41Labs:
    """Starts private KubeSphere v4.1.3 labs (`kslab up --kubesphere v4.1.3`: ks-core helm-installed on the
    host, bare members) and stops them at close()."""

    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory
        self.started = []

    def __call__(self, members=2):
        missing = v41_missing()
        if missing:
            pytest.skip("KubeSphere v4.1.3 binaries not built (%s)" % missing)
        from kslabkit.lab import ports_needed  # noqa: PLC0415

        state = str(self.tmp.mktemp("v41"))
        env = dict(os.environ, KSLAB_STATE=state, KSLAB_PORT_BASE=str(_free_port_base(ports_needed(members + 1))))
        env.pop("KSLAB_NO_STANDINS", None)
        self.started.append(env)
        r = _kslab(env, "up", "--kubesphere", "v4.1.3", "--members", str(members), "--timeout", "300", check=False)
        if r.returncode != 0:
            pytest.fail("kslab up --kubesphere v4.1.3 failed:\n%s\n%s" % (r.stdout[-3000:], r.stderr[-3000:]))
        return LabHandle(env)

    def close(self):
        for env in self.started:
            if os.environ.get("KSLAB_KEEP") == "1":
                print("\nkept the v4.1 lab (KSLAB_STATE=%s tests/lab/kslab down)" % env["KSLAB_STATE"])
                continue
            _kslab(env, "down", check=False)
            shutil.rmtree(env["KSLAB_STATE"], ignore_errors=True)


@pytest.fixture(scope="module")
def make_v41_lab(tmp_path_factory):
    """make_v41_lab(members=2) -> LabHandle of a private KubeSphere v4.1.3 lab, stopped after the test module;
    the test is skipped when the v4.1.3 binaries are not built (`tests/lab/build-binaries.sh --kubesphere
    v4.1.3`; the `lab-v41` stage of tests/run-all.sh builds them and runs these tests)."""
    labs = _V41Labs(tmp_path_factory)
    yield labs
    labs.close()


@pytest.fixture
def cleanup(lab):
    """cleanup(cluster, api_path): delete that object after the test (errors ignored), newest first.
    For objects a test creates on the shared lab."""
    paths = []
    yield lambda cluster, path: paths.append((cluster, path))
    from kslabkit.rest import ApiError  # noqa: PLC0415

    for cluster, path in reversed(paths):
        try:
            lab.client(cluster).request("DELETE", path)
        except (ApiError, OSError):
            pass
