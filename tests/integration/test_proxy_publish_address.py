"""The host's inventory variable kubesphere_proxy_publish_address through playbooks/host_config.yml on a lab:
set (the ClusterConfiguration and ks-installer's rendered kubesphere-config have it), a second run changes
nothing, an empty string clears it (the address then comes from tower's Service), a form tower's agent cannot
dial is refused naming the cluster, with nothing written (the audit log).

Then, on the same lab with member1 imported by proxy (real tower and cluster-agent), the address over its life
(site.yml): a changed address restarts the host's ks-apiserver and waits for its rollout before member1's agent is
re-pointed, and the run proves the agent's fresh connection (tower's AgentAvailable written after the re-point);
a rerun changes nothing; check mode reports the plan and writes nothing; a wrong address (nothing listens there)
fails naming member1 and the address, and a rerun with the right address converges."""

import os
import time
import urllib.request

import pytest
import yaml
from auditlog import AuditLog
from standins.installer import read_ks_config, static_token

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOST_CONFIG = os.path.join(REPO, "playbooks", "host_config.yml")
FAST = {"host_config_wait_sleep": 1, "host_config_wait_timeout": 120}
CC = "/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/ks-installer"
CONFIG = "/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config"
TASK = "Set the host role and wait until KubeSphere applied it"
ADDRESS = "http://192.0.2.10:30721"

pytestmark = pytest.mark.timeout(600)


def rendered_mc(lab, name):
    cm = lab.client(name).try_get(CONFIG)
    return (yaml.safe_load((cm or {}).get("data", {}).get("kubesphere.yaml") or "") or {}).get("multicluster") or {}


def spec_mc(lab, name):
    return lab.client(name).get(CC)["spec"]["multicluster"]


def changed_hosts(run):
    return {h: s.get("changed", 0) for h, s in run.stats.items() if s.get("changed")}


def inventory_with(lab, tmp_path, address, proxy_member=None):
    with open(lab.inventory) as f:
        inv = yaml.safe_load(f)
    hv = inv["kubesphere_host"]["hosts"][lab.host]
    if address is None:
        hv.pop("kubesphere_proxy_publish_address", None)
    else:
        hv["kubesphere_proxy_publish_address"] = address
    if proxy_member:
        inv["kubesphere_members"]["hosts"][proxy_member]["kubesphere_connection_type"] = "proxy"
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(inv))
    return str(path)


@pytest.fixture(scope="module")
def proxy_lab(make_module_lab):
    return make_module_lab(members=1, extra_env={"KSLAB_INSTALLER_DELAY": "0.5"})


def test_the_proxy_address_is_set_kept_cleared_and_a_bad_one_refused(proxy_lab, ansible_run, tmp_path):
    lab = proxy_lab
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


# --- the address over its life: ks-apiserver restarted, the proxy member's agent re-pointed, a fresh connection ------

SITE = os.path.join(REPO, "playbooks", "site.yml")
JOIN_TASK = "Import the member (checks first, then the Cluster, the agent for proxy members, health and verification)"
AGENT = "/apis/apps/v1/namespaces/kubesphere-system/deployments/cluster-agent"
KS_APISERVER = "/apis/apps/v1/namespaces/kubesphere-system/deployments/ks-apiserver"
CLUSTER = "/apis/cluster.kubesphere.io/v1alpha1/clusters/member1"
SITE_FAST = dict(FAST, kubesphere_join_wait_sleep=1, kubesphere_join_wait_timeout=240)
WRONG = "http://127.0.0.1:9"  # loopback, the discard port: no tower listens there (the lab runs no agent for it)


def dials(lab):
    command = lab.client("member1").get(AGENT)["spec"]["template"]["spec"]["containers"][0]["command"]
    return next(a.split("=", 1)[1] for a in command if a.startswith("--proxy-server="))


def agent_available(lab):
    conditions = lab.client(lab.host).get(CLUSTER)["status"]["conditions"]
    return next(c for c in conditions if c["type"] == "AgentAvailable")


def served_by_ks_apiserver(lab):
    """The --proxy-server of the agent Deployment the host's real ks-apiserver hands out (the console's view)."""
    jwt = read_ks_config(lab.client(lab.host))["authentication"]["jwtSecret"]
    url = "http://127.0.0.1:%d/kapis/cluster.kubesphere.io/v1alpha1/clusters/member1/agent/deployment" % (
        lab.state["clusters"][lab.host]["ports"]["ks_apiserver"])
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + static_token(jwt)})
    with urllib.request.urlopen(req, timeout=30) as resp:
        dep = yaml.safe_load(resp.read().decode())
    command = dep["spec"]["template"]["spec"]["containers"][0]["command"]
    return next(a.split("=", 1)[1] for a in command if a.startswith("--proxy-server="))


def test_a_changed_address_restarts_ks_apiserver_then_re_points_the_agent_and_proves_a_fresh_connection(
        proxy_lab, ansible_run, tmp_path):
    lab = proxy_lab
    host = lab.host
    tower = "http://127.0.0.1:%d" % lab.state["clusters"][host]["ports"]["tower"]  # where tower listens, as is
    audit = AuditLog.for_lab(lab)

    # member1 imported by proxy, the address from tower's Service (the lab's load balancer)
    first = ansible_run(SITE, inventory_with(lab, tmp_path, "", proxy_member="member1"), extra_vars=SITE_FAST,
                        timeout=900)
    assert first.rc == 0, first
    old = dials(lab)
    assert old.startswith("http://10.255.") and old != tower
    before = agent_available(lab)
    assert before["status"] == "True"

    # the new address: ks-apiserver restarted and rolled out, then the agent re-pointed and connected afresh
    mark = audit.mark()
    run = ansible_run(SITE, inventory_with(lab, tmp_path, tower, proxy_member="member1"), extra_vars=SITE_FAST,
                      timeout=900)
    assert run.rc == 0, (run, run.results(JOIN_TASK))
    restart = run.results(TASK)[host]["ks_apiserver_restart"]
    assert restart["restarted"] is True and restart["from"] == "tower's Service address" and restart["to"] == tower
    dep = lab.client(host).get(KS_APISERVER)
    assert dep["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] == restart["at"]
    assert dep["status"]["observedGeneration"] == dep["metadata"]["generation"] == restart["generation"]
    joined = run.results(JOIN_TASK)["member1"]
    assert joined["changed"] is True and dials(lab) == tower
    reconnect = joined["agent_reconnect"]
    assert (reconnect["from"], reconnect["to"]) == (old, tower)
    assert reconnect["connection"]["time"] == before["lastUpdateTime"]
    now = agent_available(lab)
    assert reconnect["after"]["status"] == now["status"] == "True" and reconnect["after"]["time"] == now["lastUpdateTime"]
    assert now["lastUpdateTime"] > before["lastUpdateTime"] and now["lastUpdateTime"] >= restart["at"]
    # the order, from the audit log: ks-apiserver's restart on the host before the agent's re-point on member1
    audit.sync(lab)
    writes = audit.writes_by_collection(since=mark, succeeded_only=True)
    restarted = [w for w in writes if w.cluster == host and w.resource == "deployments" and w.name == "ks-apiserver"]
    repointed = [w for w in writes if w.cluster == "member1" and w.resource == "deployments" and w.name == "cluster-agent"]
    assert len(restarted) == 1 and len(repointed) == 1 and restarted[0].time < repointed[0].time, writes
    assert served_by_ks_apiserver(lab) == tower  # what the console hands out now

    again = ansible_run(SITE, inventory_with(lab, tmp_path, tower, proxy_member="member1"), extra_vars=SITE_FAST,
                        timeout=900)
    assert again.rc == 0 and changed_hosts(again) == {}, again

    # check mode with another address: the plan, nothing written
    mark = audit.mark()
    check = ansible_run(SITE, inventory_with(lab, tmp_path, WRONG, proxy_member="member1"), extra_vars=SITE_FAST,
                        check=True, timeout=900)
    assert check.rc == 0, check
    plan = [s["id"] for s in check.results(TASK)[host]["plan"]]
    assert plan == ["role-before", "role-patch", "role-applied", "ks-apiserver-restart", "ks-apiserver-rollout"], plan
    audit.sync(lab)
    assert audit.writes_by_collection(since=mark) == []

    # a wrong address: ks-apiserver follows, the agent cannot connect: the run fails naming member1 and the address
    wrong = ansible_run(SITE, inventory_with(lab, tmp_path, WRONG, proxy_member="member1"),
                        extra_vars=dict(SITE_FAST, kubesphere_join_wait_timeout=45), timeout=900)
    assert wrong.rc != 0
    failed = wrong.results(JOIN_TASK)["member1"]
    assert failed["code"] == "agent_not_connected" and failed["cluster"] == "member1", failed
    assert "cluster 'member1'" in failed["msg"] and WRONG in failed["msg"] and failed["proxy_address"] == WRONG
    # (the Cluster may still say AgentAvailable True from before: tower's update to False is an UPDATE of a Cluster
    # whose member is unreachable, which KubeSphere's webhook denies; hence the proof is a record after the re-point)
    assert dials(lab) == WRONG

    # the right address again: converges, a fresh connection again, then nothing to do
    right = ansible_run(SITE, inventory_with(lab, tmp_path, tower, proxy_member="member1"), extra_vars=SITE_FAST,
                        timeout=900)
    assert right.rc == 0, right
    reconnect = right.results(JOIN_TASK)["member1"]["agent_reconnect"]
    assert reconnect["from"] == WRONG and reconnect["to"] == tower and reconnect["after"]["status"] == "True"
    assert dials(lab) == tower and agent_available(lab)["status"] == "True"
    again = ansible_run(SITE, inventory_with(lab, tmp_path, tower, proxy_member="member1"), extra_vars=SITE_FAST,
                        timeout=900)
    assert again.rc == 0 and changed_hosts(again) == {}, again
