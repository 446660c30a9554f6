"""Labs with KubeSphere's real control plane for the contract tests (test_real_*.py).

- `joined_lab` (session): host, member1, member2, member3. host is a host; member1 is a member whose jwtSecret
  is NOT the host's; member2 keeps role `none`. Both are imported as direct Clusters (member1 with the lab's
  admin kubeconfig, member2 with a ServiceAccount token) and have joined. member3 is never imported (the
  validation API's subject; tests may change its role). Tests must leave it as they found it.
- `breakable_lab` (session): host, member1, member2 for tests that break things (kill member1's
  kube-apiserver, remove the webhook configuration) or add a proxy Cluster (member2). Its host renders
  `clusterControllerResyncPeriod: 15s` so the cluster controller resyncs within a test's patience.

Both are private (own state folder under pytest's tmp; ports: a free block, or KSLAB_TEST_PORT_BASE and
KSLAB_TEST_PORT_BASE+100 when set) and stopped at the end of the session (KSLAB_KEEP=1 keeps them)."""

import json
import os
import shutil
import subprocess

import pytest

from kslabkit.rest import Rest
from ports import free_block

from .realks import (CLUSTERS, admin_kubeconfig, direct_cluster, kubefed_ready, sa_token_kubeconfig, set_role,
                     wait_condition, wait_for, wait_ks_apiserver, wait_rendered)

KSLAB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "kslab")
OTHER_JWT = "kslabOtherJwtSecretXXXXXXXXXXXXX"


class RealLab:
    """A running private lab: state, clients (admin kubeconfig), kubeconfig paths."""

    def __init__(self, env):
        self.env = env
        self.state_dir = env["KSLAB_STATE"]
        with open(os.path.join(self.state_dir, "lab.json")) as f:
            self.state = json.load(f)
        self.names = list(self.state["clusters"])
        self.host, self.members = self.names[0], self.names[1:]
        self._clients = {}

    def kubeconfig(self, name):
        return self.state["clusters"][name]["kubeconfig"]

    def client(self, name):
        if name not in self._clients:
            self._clients[name] = Rest(self.kubeconfig(name))
        return self._clients[name]


def _kslab(env, *args):
    return subprocess.run([KSLAB, *args], env=env, capture_output=True, text=True, timeout=900)


def _start(tmp_path_factory, label, port_base, members=2):
    state = str(tmp_path_factory.mktemp(label))
    env = dict(os.environ, KSLAB_STATE=state, KSLAB_PORT_BASE=str(port_base))
    env.pop("KSLAB_NO_STANDINS", None)
    r = _kslab(env, "up", "--members", str(members))
    if r.returncode != 0:
        _kslab(env, "down")
        pytest.fail("kslab up (%s) failed:\n%s\n%s" % (label, r.stdout[-3000:], r.stderr[-3000:]))
    return RealLab(env)


def _stop(lab):
    if os.environ.get("KSLAB_KEEP") == "1":
        print("\nkept %s (KSLAB_STATE=%s tests/lab/kslab down)" % (lab.names, lab.state_dir))
        return
    _kslab(lab.env, "down")
    shutil.rmtree(lab.state_dir, ignore_errors=True)


def _base(offset, span=60):
    """KSLAB_TEST_PORT_BASE + offset, else a block of `span` ports that are all free on 127.0.0.1 now."""
    if os.environ.get("KSLAB_TEST_PORT_BASE"):
        return int(os.environ["KSLAB_TEST_PORT_BASE"]) + offset
    return free_block(span, 20000, 32000, 10)


@pytest.fixture(scope="session")
def joined_lab(tmp_path_factory):
    lab = _start(tmp_path_factory, "joined", _base(0), members=3)
    try:
        host, m1, m2, m3 = (lab.client(n) for n in lab.names)
        for rest in (host, m1, m2, m3):
            wait_rendered(rest)
        jwt = set_role(host, "host")["authentication"]["jwtSecret"]
        assert jwt != OTHER_JWT
        set_role(m1, "member", jwt=OTHER_JWT)
        lab.jwt = jwt
        wait_condition(host, "host", "Ready", timeout=300)
        host.request("POST", CLUSTERS, direct_cluster("member1", admin_kubeconfig(lab, "member1")))
        host.request("POST", CLUSTERS, direct_cluster("member2", sa_token_kubeconfig(lab, "member2")))
        for name in ("member1", "member2"):
            wait_condition(host, name, "Ready", timeout=300)
        for name in ("host", "member1", "member2"):
            wait_for(lambda name=name: kubefed_ready(host, name), 300, "KubeFedCluster %s Ready" % name)
        lab.ks = wait_ks_apiserver(lab, lab.host, jwt)
        yield lab
    finally:
        _stop(lab)


@pytest.fixture(scope="session")
def breakable_lab(tmp_path_factory):
    lab = _start(tmp_path_factory, "breakable", _base(100))
    try:
        host, m1, m2 = (lab.client(n) for n in lab.names)
        for rest in (host, m1, m2):
            wait_rendered(rest)
        lab.jwt = set_role(host, "host", clusterControllerResyncPeriod="15s")["authentication"]["jwtSecret"]
        set_role(m1, "member", jwt=lab.jwt)
        set_role(m2, "member", jwt=lab.jwt)
        wait_condition(host, "host", "Ready", timeout=300)
        lab.ks = wait_ks_apiserver(lab, lab.host, lab.jwt)
        yield lab
    finally:
        _stop(lab)
