"""tower (the proxy on the host) for Clusters with `connection.type: proxy` and joinFederation (fact sheet §4).

Initialize: ports in [6000,7000] (+10000), a 64-hex token unless set, Service `kubesphere-system/mc-<name>`,
endpoints from its ClusterIP, condition Initialized. Agents: there is no websocket tunnel in the lab; an
agent "connects" when some lab cluster has Deployment `kubesphere-system/cluster-agent` whose command says
`--name=<cluster>`, `--token=<spec token>` and `--proxy-server=<the address the host publishes>`. Then tower
writes a kubeconfig for that cluster into spec.connection.kubeconfig (a ServiceAccount token on the real
member API server, so the cluster controller can reach it) and sets AgentAvailable. Also stands in for a
cloud LoadBalancer controller for Service `kubesphere-system/tower` (KSLAB_TOWER_LB_IP)."""

import logging
import os
import random
import secrets

import yaml

from kslabkit.lab import embedded_kubeconfig

from .conditions import (CLUSTERS, Teller, b64, condition_true, delete, find_condition, patch_cluster_spec,
                         set_condition, upsert, write_cluster_status)
from .installer import KS_NS, host_clusters
from .runtime import ApiError

log = logging.getLogger("standins.tower")

AGENT_PATH = "/apis/apps/v1/namespaces/%s/deployments/cluster-agent" % KS_NS
TOWER_SVC = "/api/v1/namespaces/%s/services/tower" % KS_NS
PROXY_SA = "kslab-tower-proxy"
COMPONENT = "tower"
TOKEN_SECONDS = 10 * 365 * 24 * 3600
MSG_CONNECTED = "Agent has connected to proxy successfully."
MSG_DISCONNECTED = "Agent has not connected to proxy."


def is_proxy(c):
    spec = c.get("spec") or {}
    return (spec.get("connection") or {}).get("type") == "proxy" and spec.get("joinFederation") \
        and not c["metadata"].get("deletionTimestamp")


def agent_flags(dep):
    """--name/--token/--proxy-server of the agent container's command line."""
    flags = {}
    for ctr in dep["spec"]["template"]["spec"].get("containers", []):
        for arg in (ctr.get("command") or []) + (ctr.get("args") or []):
            if arg.startswith("--") and "=" in arg:
                key, value = arg[2:].split("=", 1)
                flags[key] = value
    return flags


class TowerController:
    name = "tower"

    def __init__(self, lab):
        self.lab = lab
        self.lb_ip = os.environ.get("KSLAB_TOWER_LB_IP", "127.0.0.1")
        self.tell = Teller(COMPONENT)

    def step(self):
        agents = None
        for host, rest, cfg in host_clusters(self.lab):
            try:
                self.load_balancer(rest)
                clusters = rest.get(CLUSTERS)["items"]
                proxies = {c["metadata"]["name"]: c for c in clusters if is_proxy(c)}
                self.remove_stale_services(rest, proxies)
                if proxies and agents is None:
                    agents = self.find_agents()
                published = self.proxy_address(rest, cfg)
                for c in proxies.values():
                    self.sync(rest, c, clusters, agents, published)
            except (ApiError, OSError) as e:
                log.warning("%s: %s", host, e)

    # --- host side ------------------------------------------------------------------------------------

    def load_balancer(self, rest):
        """Lab stand-in for a cloud LB controller: give Service tower an ingress IP (unless disabled)."""
        if self.lb_ip in ("", "none"):
            return
        svc = rest.try_get(TOWER_SVC)
        if svc and svc["spec"].get("type") == "LoadBalancer" and \
                not ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
            rest.merge_patch(TOWER_SVC + "/status", {"status": {"loadBalancer": {"ingress": [{"ip": self.lb_ip}]}}})

    @staticmethod
    def proxy_address(rest, cfg):
        """What the host puts in the agent's --proxy-server: proxyPublishAddress, else the tower LB's address."""
        mc = cfg.get("multicluster") or {}
        if mc.get("proxyPublishAddress"):
            return mc["proxyPublishAddress"]
        svc = rest.try_get(TOWER_SVC)
        ingress = (((svc or {}).get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        if not ingress:
            return None
        return "http://%s:%d" % (ingress[0].get("ip") or ingress[0].get("hostname"), svc["spec"]["ports"][0]["port"])

    @staticmethod
    def remove_stale_services(rest, proxies):
        svcs = rest.get("/api/v1/namespaces/%s/services?labelSelector=app.kubernetes.io/name" % KS_NS)["items"]
        for svc in svcs:
            name = svc["metadata"]["name"]
            if name.startswith("mc-") and svc["metadata"]["labels"].get("app") == name and name[3:] not in proxies:
                log.info("deleting Service %s/%s (no proxy Cluster %s)", KS_NS, name, name[3:])
                delete(rest, "/api/v1/namespaces/%s/services/%s" % (KS_NS, name))

    def ensure_service(self, rest, c):
        conn = c["spec"]["connection"]
        name = "mc-%s" % c["metadata"]["name"]
        labels = {"app": name, "app.kubernetes.io/name": name}
        return upsert(rest, {"apiVersion": "v1", "kind": "Service",
                             "metadata": {"name": name, "namespace": KS_NS, "labels": labels},
                             "spec": {"selector": {"app": "tower", "app.kubernetes.io/name": "tower"}, "ports": [
                                 {"name": "kubernetes", "protocol": "TCP", "port": 6443,
                                  "targetPort": conn["kubernetesAPIServerPort"]},
                                 {"name": "kubesphere", "protocol": "TCP", "port": 80,
                                  "targetPort": conn["kubesphereAPIServerPort"]}]}}, COMPONENT)

    def initialize(self, rest, c, clusters):
        conn = dict(c["spec"].get("connection") or {})
        if not conn.get("kubernetesAPIServerPort") or not conn.get("kubesphereAPIServerPort"):
            used = {((o.get("spec") or {}).get("connection") or {}).get("kubernetesAPIServerPort") for o in clusters}
            port = random.choice([p for p in range(6000, 7001) if p not in used])
            conn.update(kubernetesAPIServerPort=port, kubesphereAPIServerPort=port + 10000)
        conn["token"] = conn.get("token") or secrets.token_hex(32)
        c = dict(c, spec=dict(c["spec"], connection=conn))
        ip = self.ensure_service(rest, c)["spec"]["clusterIP"]
        c = patch_cluster_spec(rest, c, {
            "kubernetesAPIServerPort": conn["kubernetesAPIServerPort"],
            "kubesphereAPIServerPort": conn["kubesphereAPIServerPort"], "token": conn["token"],
            "kubernetesAPIEndpoint": "https://%s:6443" % ip, "kubesphereAPIEndpoint": "http://%s:80" % ip})
        conds, _ = set_condition((c.get("status") or {}).get("conditions"), "Initialized", "True", "Initialized",
                                 "Cluster has been initialized")
        write_cluster_status(rest, c, dict(c.get("status") or {}, conditions=conds))
        log.info("initialized proxy cluster %s (port %s, ClusterIP %s)", c["metadata"]["name"],
                 conn["kubernetesAPIServerPort"], ip)

    # --- agents ---------------------------------------------------------------------------------------

    def find_agents(self):
        """{--name: (lab cluster, flags)} for every cluster-agent Deployment in the lab."""
        agents = {}
        for where in self.lab.names:
            try:
                dep = self.lab.rest(where).try_get(AGENT_PATH)
            except (ApiError, OSError):
                continue
            if dep:
                flags = agent_flags(dep)
                if flags.get("name"):
                    agents[flags["name"]] = (where, flags)
        return agents

    def sync(self, rest, c, clusters, agents, published):
        name = c["metadata"]["name"]
        if not condition_true(c, "Initialized"):
            return self.initialize(rest, c, clusters)
        conn = c["spec"]["connection"]
        self.ensure_service(rest, c)
        where, flags = (agents or {}).get(name, (None, {}))
        connected = False
        if where and flags.get("token") != conn.get("token"):
            self.tell(rest, c, "Warning", "AgentRejected", "Unauthorized agent")
        elif where and flags.get("proxy-server") != published:
            self.tell(rest, c, "Warning", "AgentUnreachable", "kslab: the agent's --proxy-server=%s is not the address "
                      "the host publishes (%s); the agent cannot reach tower" % (flags.get("proxy-server"), published))
        elif where:
            connected = True
        if connected and not (condition_true(c, "AgentAvailable") and conn.get("kubeconfig")):
            c = patch_cluster_spec(rest, c, {"kubeconfig": self.issue_kubeconfig(where)})
            self.set_agent(rest, c, "True", MSG_CONNECTED)
            self.tell.forget(name)
            log.info("agent of cluster %s connected (from lab cluster %s)", name, where)
        elif not connected and find_condition(c, "AgentAvailable"):
            self.set_agent(rest, c, "False", MSG_DISCONNECTED)

    def set_agent(self, rest, c, status, message):
        conds, changed = set_condition((c.get("status") or {}).get("conditions"), "AgentAvailable", status, "", message)
        if changed:
            write_cluster_status(rest, c, dict(c.get("status") or {}, conditions=conds))

    def issue_kubeconfig(self, where):
        """Tower signs a kubeconfig for the proxy endpoint with its CA; the lab hands out a cluster-admin
        ServiceAccount token for the member's real API server instead (base64, as the CRD stores bytes)."""
        member = self.lab.rest(where)
        sa = "/api/v1/namespaces/kube-system/serviceaccounts/%s" % PROXY_SA
        member.ensure({"apiVersion": "v1", "kind": "ServiceAccount",
                       "metadata": {"name": PROXY_SA, "namespace": "kube-system"}})
        member.ensure({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                       "metadata": {"name": PROXY_SA},
                       "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                   "name": "cluster-admin"},
                       "subjects": [{"kind": "ServiceAccount", "name": PROXY_SA, "namespace": "kube-system"}]})
        token = member.request("POST", sa + "/token", {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                                       "spec": {"expirationSeconds": TOKEN_SECONDS}})["status"]["token"]
        admin = yaml.safe_load(embedded_kubeconfig(self.lab.kubeconfig(where)))
        cluster = dict(admin["clusters"][0]["cluster"], server=self.lab.server(where))
        return b64(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": where,
            "clusters": [{"name": where, "cluster": cluster}],
            "users": [{"name": "tower", "user": {"token": token}}],
            "contexts": [{"name": where, "context": {"cluster": where, "user": "tower"}}],
        }, sort_keys=False))
