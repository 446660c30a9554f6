"""Contract: what the collection relies on from KubeSphere v4.1.3's tower and kubefed extensions, installed by
KubeSphere's real InstallPlan controller in the lab's v4.1 mode (the extension museum's charts, the lab running
the extensions' real processes: tower v0.2.1, kubefed v0.8.1's controller-manager and webhook, the kubefed
extension's backend; tests/lab/STANDINS.md, "The v4.1.3 mode").

What the collection relies on, each asserted below:
- the host offers ExtensionVersions `tower-1.0.0` and `kubefed-1.0.0` (labelled with their extension), and an
  InstallPlan naming one reaches `Installed`;
- the tower extension runs Service kubesphere-system/tower of type NodePort (port 8080), with no LoadBalancer
  address, and ks-core's chart renders no proxy setting into kubesphere-config: the agent's address is a node's
  InternalIP and that nodePort;
- tower v0.2.1 initialises a proxy Cluster only with spec.joinFederation true (token, ports, kubernetesAPIEndpoint,
  condition Initialized); an agent Deployment built as the extension's backend builds it (ServiceAccount `tower`
  bound to cluster-admin) connects (AgentAvailable True), and the host installs ks-core on the member through the
  tunnel (KSCoreReady True, Ready True);
- the kubefed extension's hook gives the KubeFedConfig its feature gates (through kubefed's real webhook), and its
  backend joins every Cluster into kubefed, direct and proxy alike (KubeFedCluster Ready); it puts no finalizer of
  its own on a Cluster (so it may miss a deletion: the collection's unbind removes the KubeFedCluster itself);
- a FederatedNamespace placed on both members propagates.
Skipped, with the command to run, when the v4.1.3 binaries are not built."""

import time

import pytest
import yaml

from polling import wait_for

from .realks import CLUSTERS, admin_kubeconfig, cluster, direct_cluster, kubefed_ready, proxy_cluster, wait_condition

API = "/apis/kubesphere.io/v1alpha1"
KS_NS = "/api/v1/namespaces/kubesphere-system"
FED = "/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system"


@pytest.fixture(scope="module")
def lab(make_v41_lab):
    return make_v41_lab(members=2)


def install(host, name, timeout=600):
    host.request("POST", API + "/installplans", {"apiVersion": "kubesphere.io/v1alpha1", "kind": "InstallPlan",
                                                 "metadata": {"name": name},
                                                 "spec": {"extension": {"name": name, "version": "1.0.0"},
                                                          "enabled": True, "upgradeStrategy": "Manual"}})
    return wait_for(lambda: ((host.try_get(API + "/installplans/" + name) or {}).get("status") or {}).get("state")
                    in ("Installed", "InstallFailed") and host.get(API + "/installplans/" + name), timeout,
                    "InstallPlan %s done" % name)


def agent_objects(name, token, address):
    """What the tower extension's backend hands out for a proxy member (its handler.go), as plain objects."""
    labels = {"app": "agent", "app.kubernetes.io/part-of": "tower"}
    return [
        ("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubesphere-system"}}),
        (KS_NS + "/serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "tower"}}),
        ("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "tower"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "tower", "namespace": "kubesphere-system"}]}),
        ("/apis/apps/v1/namespaces/kubesphere-system/deployments", {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "cluster-agent"},
            "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {
                "serviceAccountName": "tower", "containers": [{"name": "agent", "image": "kubesphere/tower:v0.2.1",
                                                               "command": ["/agent", "--name=%s" % name, "--token=%s" % token,
                                                                           "--proxy-server=%s" % address, "--keepalive=10s",
                                                                           "--kubesphere-service=ks-apiserver.kubesphere-system.svc:80",
                                                                           "--kubernetes-service=kubernetes.default.svc:443"]}]}}}}),
    ]


def test_the_host_offers_both_extensions(lab):
    host = lab.client(lab.host)
    for name in ("tower", "kubefed"):
        ev = host.get(API + "/extensionversions/%s-1.0.0" % name)
        assert ev["metadata"]["labels"]["kubesphere.io/extension-ref"] == name
        assert ev["spec"]["version"] == "1.0.0" and ev["spec"]["chartDataRef"]["key"] == "%s-1.0.0.tgz" % name


@pytest.fixture(scope="module")
def tower(lab):
    plan = install(lab.client(lab.host), "tower")
    assert plan["status"]["state"] == "Installed", plan["status"]
    return lab


def test_the_tower_service_is_a_node_port_and_the_config_names_no_proxy_address(tower):
    host = tower.client(tower.host)
    svc = wait_for(lambda: host.try_get(KS_NS + "/services/tower"), 60, "Service tower")
    assert svc["spec"]["type"] == "NodePort" and svc["spec"]["ports"][0]["port"] == 8080
    assert svc["spec"]["ports"][0].get("nodePort")
    assert not ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress")
    mc = yaml.safe_load(host.get(KS_NS + "/configmaps/kubesphere-config")["data"]["kubesphere.yaml"])["multicluster"]
    assert not any(k in mc for k in ("proxyPublishAddress", "proxyPublishService", "agentImage")), mc


@pytest.fixture(scope="module")
def proxy_member(tower):
    lab, host = tower, tower.client(tower.host)
    name = lab.members[1]
    # without joinFederation, tower v0.2.1 leaves the Cluster alone
    lone = proxy_cluster(name)
    lone["spec"].pop("joinFederation")
    host.request("POST", CLUSTERS, lone)
    time.sleep(8)
    assert not (cluster(host, name)["spec"]["connection"].get("token")), cluster(host, name)
    host.merge_patch("%s/%s" % (CLUSTERS, name), {"spec": {"joinFederation": True}})
    wait_condition(host, name, "Initialized", timeout=60)
    conn = cluster(host, name)["spec"]["connection"]
    assert conn["token"] and conn["kubernetesAPIEndpoint"].endswith(":6443") and conn["kubernetesAPIServerPort"]
    svc = host.get(KS_NS + "/services/tower")
    node = host.get("/api/v1/nodes")["items"][0]
    ip = [a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"][0]
    member = lab.client(name)
    for path, obj in agent_objects(name, conn["token"], "http://%s:%s" % (ip, svc["spec"]["ports"][0]["nodePort"])):
        if obj["kind"] == "Namespace":
            member.ensure(obj)  # the lab's bare member may have it
        else:
            member.request("POST", path, obj)
    return lab, name


def test_a_proxy_member_connects_and_gets_ks_core_through_the_tunnel(proxy_member):
    lab, name = proxy_member
    host = lab.client(lab.host)
    assert wait_condition(host, name, "AgentAvailable", timeout=120)["status"] == "True"
    assert wait_condition(host, name, "KSCoreReady", timeout=300)["status"] == "True"
    assert wait_condition(host, name, "Ready", timeout=300)["status"] == "True"
    assert cluster(host, name)["status"]["kubeSphereVersion"] == "v4.1.3"


@pytest.fixture(scope="module")
def kubefed(proxy_member):
    lab, proxied = proxy_member
    host = lab.client(lab.host)
    direct = lab.members[0]
    host.request("POST", CLUSTERS, direct_cluster(direct, admin_kubeconfig(lab, direct)))
    wait_condition(host, direct, "Ready", timeout=300)
    plan = install(host, "kubefed")
    assert plan["status"]["state"] == "Installed", plan["status"]
    return lab, direct, proxied


def test_the_kubefed_extension_configures_kubefed_and_joins_every_member(kubefed):
    lab, direct, proxied = kubefed
    host = lab.client(lab.host)
    gates = {g["name"]: g["configuration"] for g in host.get(FED + "/kubefedconfigs/kubefed")["spec"]["featureGates"]}
    assert gates == {"PushReconciler": "Enabled", "RawResourceStatusCollection": "Disabled",
                     "SchedulerPreferences": "Enabled"}
    for name in (lab.host, direct, proxied):
        wait_for(lambda n=name: kubefed_ready(host, n), 240, "KubeFedCluster %s Ready" % name)
    assert host.get("/api/v1/namespaces/kube-federation-system/secrets/%s-secret" % direct)["data"]["token"]
    # the backend adds no finalizer of its own to a Cluster
    assert cluster(host, direct)["metadata"].get("finalizers") == ["finalizer.cluster.kubesphere.io"]


def test_a_federated_namespace_propagates_to_both_members(kubefed):
    lab, direct, proxied = kubefed
    host = lab.client(lab.host)
    host.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": "contract", "labels": {"kubefed.io/managed": "false", "kubesphere.io/kubefed-host-namespace": "true"}}})
    host.request("POST", "/apis/types.kubefed.io/v1beta1/namespaces/contract/federatednamespaces", {
        "apiVersion": "types.kubefed.io/v1beta1", "kind": "FederatedNamespace",
        "metadata": {"name": "contract", "namespace": "contract"},
        "spec": {"template": {"metadata": {"labels": {"team": "contract"}}},
                 "placement": {"clusters": [{"name": direct}, {"name": proxied}]}}})
    for name in (direct, proxied):
        ns = wait_for(lambda n=name: lab.client(n).try_get("/api/v1/namespaces/contract"), 120, "namespace on %s" % name)
        assert ns["metadata"]["labels"]["team"] == "contract"
    # the backend writes the placed clusters on the host namespace
    assert wait_for(lambda: (host.get("/api/v1/namespaces/contract")["metadata"].get("annotations") or {}).get(
        "kubefed.kubesphere.io/clusters"), 60, "the backend's annotation") == ",".join(sorted((direct, proxied)))
