"""The host's inventory variable kubesphere_proxy_publish_address through playbooks/host_config.yml on a lab:
set (the ClusterConfiguration and ks-installer's rendered kubesphere-config have it), a second run changes
nothing, an empty string clears it (the address then comes from tower's Service), a form tower's agent cannot
dial is refused naming the cluster, with nothing written (the audit log)."""

import os
import time

import pytest
import yaml
from auditlog import AuditLog

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOST_CONFIG = os.path.join(REPO, "playbooks", "host_config.yml")
FAST = {"host_config_wait_sleep": 1, "host_config_wait_timeout": 120}
CC = "/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/ks-installer"
CONFIG = "/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config"
TASK = "Set the host role and wait until ks-installer applied it"
ADDRESS = "http://192.0.2.10:30721"

pytestmark = pytest.mark.timeout(600)


def rendered_mc(lab, name):
    cm = lab.client(name).try_get(CONFIG)
    return (yaml.safe_load((cm or {}).get("data", {}).get("kubesphere.yaml") or "") or {}).get("multicluster") or {}


def spec_mc(lab, name):
    return lab.client(name).get(CC)["spec"]["multicluster"]


def changed_hosts(run):
    return {h: s.get("changed", 0) for h, s in run.stats.items() if s.get("changed")}


def inventory_with(lab, tmp_path, address):
    with open(lab.inventory) as f:
        inv = yaml.safe_load(f)
    hv = inv["kubesphere_host"]["hosts"][lab.host]
    if address is None:
        hv.pop("kubesphere_proxy_publish_address", None)
    else:
        hv["kubesphere_proxy_publish_address"] = address
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(inv))
    return str(path)


def test_the_proxy_address_is_set_kept_cleared_and_a_bad_one_refused(make_lab, ansible_run, tmp_path):
    lab = make_lab(members=1, extra_env={"KSLAB_INSTALLER_DELAY": "0.5"})
    host = lab.host
    deadline = time.time() + 60
    while not rendered_mc(lab, host):
        assert time.time() < deadline, "the ks-installer stand-in did not render kubesphere-config"
        time.sleep(0.5)

    # set: the host role with the address, applied (rendered) by the installer
    run = ansible_run(HOST_CONFIG, inventory_with(lab, tmp_path, ADDRESS), extra_vars=FAST)
    assert run.rc == 0, run
    assert spec_mc(lab, host)["proxyPublishAddress"] == ADDRESS
    assert rendered_mc(lab, host)["proxyPublishAddress"] == ADDRESS
    assert run.results(TASK)[host]["applied"] is True

    # the same again, and the variable left undefined: nothing changes, the address stays
    again = ansible_run(HOST_CONFIG, inventory_with(lab, tmp_path, ADDRESS), extra_vars=FAST)
    assert again.rc == 0 and changed_hosts(again) == {}, again
    unset = ansible_run(HOST_CONFIG, inventory_with(lab, tmp_path, None), extra_vars=FAST)
    assert unset.rc == 0 and changed_hosts(unset) == {}, unset
    assert spec_mc(lab, host)["proxyPublishAddress"] == ADDRESS

    # a form the agent cannot dial: refused before any write, naming the cluster and the variable
    audit = AuditLog.for_lab(lab)
    mark = audit.mark()
    bad = ansible_run(HOST_CONFIG, inventory_with(lab, tmp_path, "192.0.2.10:30721"), extra_vars=FAST)
    assert bad.rc != 0
    res = bad.results(TASK)[host]
    assert res["code"] == "bad_proxy_publish_address" and res["cluster"] == host, res
    assert "cluster '%s'" % host in res["msg"] and "kubesphere_proxy_publish_address" in res["msg"]
    assert "http://<address>:<port>" in res["msg"]
    audit.sync(lab)
    assert audit.writes_by_collection(since=mark) == []
    assert spec_mc(lab, host)["proxyPublishAddress"] == ADDRESS

    # cleared: gone from the ClusterConfiguration and from what the installer renders; a second run changes nothing
    clear = ansible_run(HOST_CONFIG, inventory_with(lab, tmp_path, ""), extra_vars=FAST)
    assert clear.rc == 0 and changed_hosts(clear) == {host: 1}, clear
    assert "proxyPublishAddress" not in spec_mc(lab, host)
    assert "proxyPublishAddress" not in rendered_mc(lab, host)
    assert rendered_mc(lab, host)["clusterRole"] == "host" and clear.results(TASK)[host]["applied"] is True
    again = ansible_run(HOST_CONFIG, inventory_with(lab, tmp_path, ""), extra_vars=FAST)
    assert again.rc == 0 and changed_hosts(again) == {}, again
