"""Contract: a proxy (agent) member with tower v0.2.1, ks-apiserver's agent Deployment API and the cluster
controller (fidelity audit F7). Lab: `breakable_lab`, member2 (role member with the host's jwtSecret)."""

import ipaddress
import json
import os
import re

import yaml

from kslabkit.processes import log_tail

from .realks import CLUSTERS, cluster, condition, proxy_cluster, wait_condition, wait_for

AGENT = "/kapis/cluster.kubesphere.io/v1alpha1/clusters/member2/agent/deployment"


def flags(container):
    out = {}
    for arg in container.get("command", []) + container.get("args", []):
        if arg.startswith("--") and "=" in arg:
            k, v = arg[2:].split("=", 1)
            out[k] = v
    return out


def wait_agent_available(lab, name, timeout=180):
    """Cluster `name` AgentAvailable=True; when it does not come, the failure carries the ends of the agent's,
    tower's and the supervisor's logs (a CI run gives nothing else to read)."""
    try:
        return wait_condition(lab.client(lab.host), name, "AgentAvailable", timeout=timeout)
    except AssertionError as e:
        logs = os.path.join(lab.state_dir, "logs")
        parts = [str(e)]
        for label, path, lines in (("cluster-agent", "agent-%s.log" % name, 25),
                                   ("tower", "tower-%s.log" % lab.host, 25), ("supervisor", "supervisor.log", 40)):
            tail = log_tail(os.path.join(logs, path), lines)
            parts.append("--- %s (%s):\n    %s" % (label, path, "\n    ".join(tail) or "(empty or missing)"))
        raise AssertionError("\n".join(parts)) from None


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
    agent = wait_agent_available(lab, "member2")
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


# --- where tower listens for a proxy member (the lab's build-time change to tower: build-binaries.sh) -------------


def connected_proxy_member(lab, name):
    """`name` joined by proxy with its agent connected (what the test above does, here without its checks, so
    that this test needs no other test's leftovers): the Cluster's spec.connection."""
    host, member = lab.client(lab.host), lab.client(name)
    if cluster(host, name) is None:
        host.request("POST", CLUSTERS, proxy_cluster(name))
    wait_condition(host, name, "Initialized", timeout=120)
    if member.try_get("/apis/apps/v1/namespaces/kubesphere-system/deployments/cluster-agent") is None:
        status, text = lab.ks.call("GET", "/kapis/cluster.kubesphere.io/v1alpha1/clusters/%s/agent/deployment" % name)
        assert status == 200, text
        dep = yaml.safe_load(text)
        dep.pop("status", None)
        member.request("POST", "/apis/apps/v1/namespaces/kubesphere-system/deployments", dep)
    wait_agent_available(lab, name)
    return cluster(host, name)["spec"]["connection"]


def _address(hex_addr):
    """/proc/net/tcp{,6} local_address -> (ip text, port)."""
    ip_hex, port_hex = hex_addr.split(":")
    raw = bytes.fromhex(ip_hex)
    words = [raw[i:i + 4][::-1] for i in range(0, len(raw), 4)]  # each 32-bit word is in host (little-endian) order
    return ipaddress.ip_address(b"".join(words)).compressed, int(port_hex, 16)


def listening_sockets():
    """{inode: (ip, port)} of every TCP socket in LISTEN state on this machine (IPv4 and IPv6)."""
    out = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":
                    out[fields[9]] = _address(fields[1])
    return out


def socket_inodes(pid):
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def tower_pid(lab):
    with open(os.path.join(lab.state_dir, "procs", "tower@%s.json" % lab.host)) as f:
        pid = json.load(f)["pid"]
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        assert b"tower-proxy" in f.read()
    return pid


def test_tower_listens_for_a_proxy_member_on_127_0_0_1_only(breakable_lab):
    """Upstream tower v0.2.1 opens a proxy member's two listeners (kubernetesAPIServerPort, drawn from 6000-7000,
    and kubesphereAPIServerPort = that + 10000) on all interfaces; the lab's tower (KSLAB_TOWER_BIND=127.0.0.1)
    on 127.0.0.1 only, and nothing else on the machine listens on those ports on another address."""
    lab = breakable_lab
    conn = connected_proxy_member(lab, "member2")
    ports = (conn["kubernetesAPIServerPort"], conn["kubesphereAPIServerPort"])
    assert 6000 <= ports[0] <= 7000 and ports[1] == ports[0] + 10000
    pid = tower_pid(lab)

    def towers_listeners():
        mine = socket_inodes(pid)
        found = {inode: addr for inode, addr in listening_sockets().items() if addr[1] in ports}
        return found if {addr[1] for inode, addr in found.items() if inode in mine} == set(ports) else None

    found = wait_for(towers_listeners, 60, "tower (pid %d) listening on ports %s" % (pid, ports))
    mine = socket_inodes(pid)
    assert sorted(addr for inode, addr in found.items() if inode in mine) == [("127.0.0.1", p) for p in ports]
    assert sorted(found.values()) == [("127.0.0.1", p) for p in ports], found  # no 0.0.0.0 or :: listener
