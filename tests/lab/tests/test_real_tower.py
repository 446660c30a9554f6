"""Contract: a proxy (agent) member with tower v0.2.1, ks-apiserver's agent Deployment API and the cluster
controller (fidelity audit F7). Lab: `breakable_lab`, member2 (role member with the host's jwtSecret)."""

import re

import yaml

from .realks import CLUSTERS, cluster, condition, proxy_cluster, wait_condition, wait_for

AGENT = "/kapis/cluster.kubesphere.io/v1alpha1/clusters/member2/agent/deployment"


def flags(container):
    out = {}
    for arg in container.get("command", []) + container.get("args", []):
        if arg.startswith("--") and "=" in arg:
            k, v = arg[2:].split("=", 1)
            out[k] = v
    return out


def test_a_proxy_member_is_initialized_by_tower_and_joins_once_its_agent_runs(breakable_lab):
    lab = breakable_lab
    host, m2 = lab.client(lab.host), lab.client("member2")
    host.request("POST", CLUSTERS, proxy_cluster("member2"))

    init = wait_condition(host, "member2", "Initialized", timeout=120)
    assert init["reason"] == "Initialized" and init["message"] == "Cluster has been initialized"
    conn = cluster(host, "member2")["spec"]["connection"]
    assert re.fullmatch(r"[0-9a-f]{64}", conn["token"])
    assert conn["kubesphereAPIServerPort"] == conn["kubernetesAPIServerPort"] + 10000
    svc = host.get("/api/v1/namespaces/kubesphere-system/services/mc-member2")
    assert conn["kubernetesAPIEndpoint"] == "https://%s:6443" % svc["spec"]["clusterIP"]
    assert condition(cluster(host, "member2"), "Ready") is None  # no kubeconfig yet: the controller skips it

    # the agent Deployment as ks-apiserver hands it out (what the console shows the user)
    status, text = lab.ks.call("GET", AGENT)
    assert status == 200, text
    dep = yaml.safe_load(text)
    assert (dep["kind"], dep["metadata"]["name"], dep["metadata"]["namespace"]) == (
        "Deployment", "cluster-agent", "kubesphere-system")
    pod = dep["spec"]["template"]["spec"]
    ctr = pod["containers"][0]
    assert ctr["image"] == "kubesphere/tower:v0.2.1" and pod["serviceAccountName"] == "kubesphere"
    f = flags(ctr)
    assert f["name"] == "member2" and f["token"] == conn["token"] and f["proxy-server"]
    assert f["kubesphere-service"] == "ks-apiserver.kubesphere-system.svc:80"
    assert f["kubernetes-service"] == "kubernetes.default.svc:443"

    # applied on the member as it came (the lab plays the kubelet and runs tower's agent from it)
    dep.pop("status", None)
    m2.request("POST", "/apis/apps/v1/namespaces/kubesphere-system/deployments", dep)
    agent = wait_condition(host, "member2", "AgentAvailable", timeout=180)
    assert agent["message"] == "Agent has connected to proxy successfully."
    ready = wait_condition(host, "member2", "Ready", timeout=240)
    assert ready["message"] == "Cluster is available now"
    c = cluster(host, "member2")
    assert c["spec"]["connection"]["kubeconfig"]  # issued by tower (server = the mc-member2 endpoint)
    assert c["status"]["uid"] == m2.get("/api/v1/namespaces/kube-system")["metadata"]["uid"]
    assert condition(c, "KubeConfigCertExpiresInSevenDays") is None  # not written for proxy clusters
    kfc = wait_for(lambda: host.try_get("/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/"
                                        "kubefedclusters/member2"), 120, "KubeFedCluster member2")
    assert kfc["spec"]["apiEndpoint"] == conn["kubernetesAPIEndpoint"]
