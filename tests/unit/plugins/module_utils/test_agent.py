import pytest
import yaml

from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import agent

TOKEN = "0123456789abcdef" * 4


def proxy_cluster(name="member2", token=TOKEN, ctype="proxy"):
    conn = {"type": ctype}
    if token is not None:
        conn["token"] = token
    return {"apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster", "metadata": {"name": name},
            "spec": {"joinFederation": True, "connection": conn}}


# What ks-apiserver v3.4.1 answers for GET .../clusters/member2/agent/deployment with proxyPublishAddress
# http://139.198.120.120:30721 and the installer's agentImage: generateDefaultDeployment's struct, printed by
# the YAML printer (field order is irrelevant once parsed).
API_ANSWER = """
apiVersion: apps/v1
kind: Deployment
metadata:
  creationTimestamp: null
  name: cluster-agent
  namespace: kubesphere-system
spec:
  selector:
    matchLabels:
      app: agent
      app.kubernetes.io/part-of: tower
  strategy: {}
  template:
    metadata:
      creationTimestamp: null
      labels:
        app: agent
        app.kubernetes.io/part-of: tower
    spec:
      containers:
      - command:
        - /agent
        - --name=member2
        - --token=%s
        - --proxy-server=http://139.198.120.120:30721
        - --keepalive=10s
        - --kubesphere-service=ks-apiserver.kubesphere-system.svc:80
        - --kubernetes-service=kubernetes.default.svc:443
        - --v=0
        image: kubesphere/tower:v0.2.1
        name: agent
        resources:
          limits:
            cpu: "1"
            memory: 200M
          requests:
            cpu: 100m
            memory: 100M
      serviceAccountName: kubesphere
status: {}
""" % TOKEN


def test_the_deployment_is_what_the_agent_deployment_api_prints():
    dep = agent.build(proxy_cluster(), "http://139.198.120.120:30721", agent.INSTALLER_AGENT_IMAGE)
    assert agent.as_printed(dep) == yaml.safe_load(API_ANSWER)
    assert "replicas" not in dep["spec"] and "status" not in dep
    assert agent.flags(dep) == {"name": "member2", "token": TOKEN, "proxy-server": "http://139.198.120.120:30721",
                                "keepalive": "10s", "kubesphere-service": "ks-apiserver.kubesphere-system.svc:80",
                                "kubernetes-service": "kubernetes.default.svc:443", "v": "0"}


def test_the_token_is_empty_until_tower_initialised_the_cluster():
    dep = agent.build(proxy_cluster(token=None), "http://1.2.3.4:8080", "img")
    assert agent.flags(dep)["token"] == ""
    assert agent.mask(dep) == dep  # nothing to hide


def test_agent_image_from_the_hosts_rendered_config_or_the_code_default():
    assert agent.agent_image({"multicluster": {"agentImage": "reg.local/tower:v0.2.1"}}) == "reg.local/tower:v0.2.1"
    assert agent.agent_image({"multicluster": {}}) == "kubesphere/tower:v1.0"
    assert agent.agent_image(None) == "kubesphere/tower:v1.0"


@pytest.mark.parametrize("cluster, address, msg", [
    (proxy_cluster(ctype="direct"), "http://1.2.3.4:8080", "is not using proxy connection"),
    (proxy_cluster(), "1.2.3.4:8080", "invalid proxy address"),
    (proxy_cluster(), "http://1.2.3.4", "invalid proxy address"),
    (proxy_cluster(), None, "invalid proxy address"),
])
def test_build_refuses_what_the_api_refuses(cluster, address, msg):
    with pytest.raises(ValueError, match=msg):
        agent.build(cluster, address, "img")


def test_mask_hides_the_token_everywhere_it_is_printed():
    dep = agent.build(proxy_cluster(), "http://1.2.3.4:8080", "img")
    masked = agent.mask(dep)
    assert TOKEN not in yaml.safe_dump(masked)
    assert "--token=********" in masked["spec"]["template"]["spec"]["containers"][0]["command"]
    assert TOKEN in dep["spec"]["template"]["spec"]["containers"][0]["command"][2]  # input untouched
    live = dict(dep, metadata=dict(dep["metadata"], resourceVersion="5", uid="u"), status={"replicas": 1})
    d = agent.diff(live, None)
    assert TOKEN not in yaml.safe_dump(d) and d["after"] == {} and "status" not in d["before"]


def test_needs_update_compares_what_the_builder_sets():
    desired = agent.build(proxy_cluster(), "http://1.2.3.4:8080", "img")
    live = yaml.safe_load(yaml.safe_dump(desired))
    live["spec"]["replicas"] = 1
    live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"  # API defaults
    live["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "1"}
    assert not agent.needs_update(live, desired)
    other = agent.build(proxy_cluster(token="f" * 64), "http://1.2.3.4:8080", "img")
    assert agent.needs_update(live, other)
    assert agent.needs_update(live, agent.build(proxy_cluster(), "http://1.2.3.4:8080", "img2"))
    assert agent.needs_update(None, desired)
    live["spec"]["template"]["spec"]["serviceAccountName"] = "default"
    assert agent.needs_update(live, desired)


# --- the proxy address ---------------------------------------------------------------------------------

HOST_CONFIG = {"multicluster": {"clusterRole": "host", "proxyPublishService": "tower.kubesphere-system.svc",
                                "agentImage": "kubesphere/tower:v0.2.1"}}


def tower(ingress=(), node_port=31234, ports=True):
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "tower", "namespace": "kubesphere-system"},
           "spec": {"type": "LoadBalancer", "ports": [{"name": "proxy", "port": 8080, "targetPort": 8080,
                                                       "protocol": "TCP", "nodePort": node_port}] if ports else []},
           "status": {"loadBalancer": {"ingress": list(ingress)}}}
    if node_port is None and ports:
        del svc["spec"]["ports"][0]["nodePort"]
    return svc


def node(name, ip, ready=True):
    return {"metadata": {"name": name},
            "status": {"addresses": [{"type": "Hostname", "address": name}, {"type": "InternalIP", "address": ip}],
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_proxy_publish_address_wins():
    config = {"multicluster": dict(HOST_CONFIG["multicluster"], proxyPublishAddress="http://139.198.120.120:30721")}
    got = agent.proxy_address(config, tower(ingress=[{"ip": "9.9.9.9"}]))
    assert got == {"address": "http://139.198.120.120:30721", "source": "proxyPublishAddress", "api_agrees": True,
                   "error": None}


def test_the_last_load_balancer_ingress_wins_and_ip_beats_hostname_inside_an_entry():
    got = agent.proxy_address(HOST_CONFIG, tower(ingress=[{"ip": "1.1.1.1"}, {"hostname": "lb.example.com"}]))
    assert got["address"] == "http://lb.example.com:8080" and got["source"] == "loadBalancer"
    got = agent.proxy_address(HOST_CONFIG, tower(ingress=[{"hostname": "lb.example.com", "ip": "2.2.2.2"}]))
    assert got["address"] == "http://2.2.2.2:8080" and got["api_agrees"]


def test_node_port_fallback_takes_the_first_ready_nodes_internal_ip():
    nodes = [node("b", "10.0.0.2"), node("a", "10.0.0.1", ready=False), node("c", "10.0.0.3")]
    got = agent.proxy_address(HOST_CONFIG, tower(), nodes)
    assert got == {"address": "http://10.0.0.2:31234", "source": "nodePort", "api_agrees": False, "error": None}
    assert agent.proxy_address(HOST_CONFIG, tower(), [node("a", "10.0.0.1", ready=False)])["address"] == \
        "http://10.0.0.1:31234"


@pytest.mark.parametrize("config, svc, nodes, allow, text", [
    ({"multicluster": {"clusterRole": "host"}}, None, [], True, "neither proxy address nor proxy service"),
    (HOST_CONFIG, None, [], True, "kubesphere-system/tower (the host's proxyPublishService) does not exist"),
    (HOST_CONFIG, tower(ports=False), [], True, "has no ports"),
    (HOST_CONFIG, tower(node_port=None), [node("a", "10.0.0.1")], True, "it has no nodePort"),
    (HOST_CONFIG, tower(), [], True, "no Ready node has an InternalIP"),
    (HOST_CONFIG, tower(), [node("a", "10.0.0.1")], False, "the NodePort fallback is off"),
    ({"multicluster": {"proxyPublishAddress": "tower:8080"}}, None, [], True, "is not http[s]://host:port"),
])
def test_no_address_says_why_and_what_to_do(config, svc, nodes, allow, text):
    got = agent.proxy_address(config, svc, nodes, allow_node_port=allow)
    assert got["address"] is None and text in got["error"]
    if svc is not None:
        assert "proxyPublishAddress" in got["error"]


def test_proxy_service_reference_parsing():
    assert agent.proxy_service_ref({"multicluster": {"proxyPublishService": "tower"}}) == ("tower", "kubesphere-system")
    assert agent.proxy_service_ref({"multicluster": {"proxyPublishService": "t.ns.svc"}}) == ("t", "ns")
    assert agent.proxy_service_ref({}) is None
