"""Fixtures of tests/awx: a private lab, the fleet credential's kubeconfig, and AWX-style jobs (see awxkit.py)."""

import os
import time

import pytest

from awxkit import CONFIG, awx_job, fleet_kubeconfig


@pytest.fixture(scope="module")
def awx_lab(make_module_lab):
    """A private lab (host, member1, member2; every role none at first) for one test module."""
    extra = {"KSLAB_INSTALLER_DELAY": "0.5"}
    if os.environ.get("KSLAB_AWX_PORT_BASE"):
        extra["KSLAB_PORT_BASE"] = os.environ["KSLAB_AWX_PORT_BASE"]
    lab = make_module_lab(members=2, extra_env=extra)
    deadline = time.time() + 90
    while not all(lab.client(n).try_get(CONFIG) for n in lab.names):  # the installer stand-in's first run
        assert time.time() < deadline, "the ks-installer stand-in did not render kubesphere-config"
        time.sleep(0.5)
    return lab


@pytest.fixture(scope="module")
def fleet_credential(awx_lab):
    return fleet_kubeconfig(awx_lab)


@pytest.fixture
def run_job(tmp_path):
    return lambda playbook, **kw: awx_job(tmp_path, playbook, **kw)
