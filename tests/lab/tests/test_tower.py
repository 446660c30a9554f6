"""The tower stand-in (tests/lab/standins/tower.py): proxy-connected members (§4)."""

import re

from standins.conditions import events_for, find_condition
from standins.installer import CC_PATH, read_ks_config

from .test_cluster_controller import CLUSTERS, FED, cond, hosted_lab, wait_cond
from .test_installer import make_host, make_member, wait_for, wait_installed

AGENT = "/apis/apps/v1/namespaces/kubesphere-system/deployments"


def agent_deployment(name, token, proxy):
    """The agent Deployment exactly as the host's agent API returns it (§4)."""
    labels = {"app": "agent", "app.kubernetes.io/part-of": "tower"}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "cluster-agent", "namespace": "kubesphere-system"},
            "spec": {"selector": {"matchLabels": labels}, "strategy": {},
                     "template": {"metadata": {"labels": labels}, "spec": {
                         "serviceAccountName": "kubesphere",
                         "containers": [{"name": "agent", "image": "kubesphere/tower:v0.2.1", "command": [
                             "/agent", "--name=%s" % name, "--token=%s" % token, "--proxy-server=%s" % proxy,
                             "--keepalive=10s", "--kubesphere-service=ks-apiserver.kubesphere-system.svc:80",
                             "--kubernetes-service=kubernetes.default.svc:443", "--v=0"],
                             "resources": {"limits": {"cpu": "1", "memory": "200M"},
                                           "requests": {"cpu": "100m", "memory": "100M"}}}]}}}}


def test_proxy_member_initialized_agent_connects_and_disconnects(make_lab):
    lab, host, m1, _, _ = hosted_lab(make_lab)
    host.request("POST", CLUSTERS, {
        "apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
        "metadata": {"name": "member1", "labels": {"cluster.kubesphere.io/group": "lab"}},
        "spec": {"provider": "kslab", "joinFederation": True, "connection": {"type": "proxy"}}})

    # tower initializes the cluster
    init = wait_cond(host, "member1", "Initialized", "True")
    assert (init["reason"], init["message"]) == ("Initialized", "Cluster has been initialized")
    conn = host.get(CLUSTERS + "/member1")["spec"]["connection"]
    assert 6000 <= conn["kubernetesAPIServerPort"] <= 7000
    assert conn["kubesphereAPIServerPort"] == conn["kubernetesAPIServerPort"] + 10000
    assert re.fullmatch("[0-9a-f]{64}", conn["token"])
    svc = host.get("/api/v1/namespaces/kubesphere-system/services/mc-member1")
    assert svc["metadata"]["labels"] == {"app": "mc-member1", "app.kubernetes.io/name": "mc-member1"}
    assert [(p["name"], p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [
        ("kubernetes", 6443, conn["kubernetesAPIServerPort"]), ("kubesphere", 80, conn["kubesphereAPIServerPort"])]
    ip = svc["spec"]["clusterIP"]
    assert conn["kubernetesAPIEndpoint"] == "https://%s:6443" % ip
    assert conn["kubesphereAPIEndpoint"] == "http://%s:80" % ip
    assert not conn.get("kubeconfig") and cond(host, "member1", "Ready") == {}

    # the tower Service got an LB address (lab default), which is what the agent must dial
    proxy = wait_for(lambda: host.get("/api/v1/namespaces/kubesphere-system/services/tower")["status"]
                     ["loadBalancer"]["ingress"][0]["ip"], what="tower LB ingress")
    proxy = "http://%s:8080" % proxy

    # an agent with the wrong token is refused and the cluster never gets Ready
    m1.request("POST", AGENT, agent_deployment("member1", "0" * 64, proxy))
    wait_for(lambda: any(e["message"] == "Unauthorized agent" for e in events_for(host, "member1")),
             what="Unauthorized agent")
    c = host.get(CLUSTERS + "/member1")
    assert find_condition(c, "Ready") is None and not c["spec"]["connection"].get("kubeconfig")
    assert not (find_condition(c, "AgentAvailable") or {}).get("status") == "True"

    # the right token: AgentAvailable, a kubeconfig, then the cluster controller takes it to Ready
    m1.request("PUT", AGENT + "/cluster-agent", agent_deployment("member1", conn["token"], proxy))
    agent = wait_cond(host, "member1", "AgentAvailable", "True")
    assert agent["message"] == "Agent has connected to proxy successfully."
    wait_cond(host, "member1", "Ready", "True")
    assert cond(host, "member1", "Federated")["status"] == "True"
    c = host.get(CLUSTERS + "/member1")
    assert c["spec"]["connection"]["kubeconfig"]
    assert c["status"]["uid"] == m1.get("/api/v1/namespaces/kube-system")["metadata"]["uid"]
    assert find_condition(c, "KubeConfigCertExpiresInSevenDays") is None  # not for proxy members
    assert host.get(FED + "member1")["spec"]["secretRef"] == {"name": "member1-secret"}

    # agent gone: AgentAvailable False and the cluster is no longer Ready
    m1.request("DELETE", AGENT + "/cluster-agent")
    agent = wait_cond(host, "member1", "AgentAvailable", "False")
    assert agent["message"] == "Agent has not connected to proxy."
    wait_cond(host, "member1", "Ready", "False")

    # deleting the Cluster removes its proxy Service
    host.request("DELETE", CLUSTERS + "/member1")
    wait_for(lambda: host.try_get(CLUSTERS + "/member1") is None, what="Cluster gone")
    wait_for(lambda: host.try_get("/api/v1/namespaces/kubesphere-system/services/mc-member1") is None,
             what="mc-member1 gone")


def test_without_a_load_balancer_only_proxy_publish_address_works(make_lab):
    lab = make_lab(extra_env={"KSLAB_INSTALLER_DELAY": "0.5", "KSLAB_TOWER_LB_IP": "none"})
    host, m1 = lab.client("host"), lab.client("member1")
    wait_installed(host, m1)
    jwt = make_host(host)["authentication"]["jwtSecret"]
    make_member(m1, jwt)
    host.request("POST", CLUSTERS, {
        "apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster", "metadata": {"name": "member1"},
        "spec": {"joinFederation": True, "connection": {"type": "proxy"}}})
    wait_cond(host, "member1", "Initialized", "True")
    token = host.get(CLUSTERS + "/member1")["spec"]["connection"]["token"]
    svc = host.get("/api/v1/namespaces/kubesphere-system/services/tower")
    assert not (svc.get("status") or {}).get("loadBalancer", {}).get("ingress")  # no public address

    # an agent dialling a made-up address does not reach tower
    m1.request("POST", AGENT, agent_deployment("member1", token, "http://127.0.0.1:8080"))
    wait_for(lambda: any(e["reason"] == "AgentUnreachable" for e in events_for(host, "member1")), what="event")
    assert cond(host, "member1", "AgentAvailable") == {}

    # the documented fix: proxyPublishAddress in the host's ClusterConfiguration, and an agent using it
    address = "http://192.0.2.10:30721"
    host.merge_patch(CC_PATH, {"spec": {"multicluster": {"proxyPublishAddress": address}}})
    wait_for(lambda: read_ks_config(host)["multicluster"].get("proxyPublishAddress") == address, what="config")
    m1.request("PUT", AGENT + "/cluster-agent", agent_deployment("member1", token, address))
    wait_cond(host, "member1", "AgentAvailable", "True")
    wait_cond(host, "member1", "Ready", "True")
