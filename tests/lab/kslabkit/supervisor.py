"""The lab's supervisor: runs KubeSphere's real binaries as what the ks-installer stand-in RENDERS says
(kubesphere-system/kubesphere-config of each cluster), never from the lab's cluster names.

- every cluster with a rendered config: its ks-apiserver (working folder with that `kubesphere.yaml`, its
  in-cluster endpoints such as `monitoring.endpoint` replaced by a loopback port nothing serves, and
  `kubernetes.kubeconfig` naming its own identity), reachable through the cluster's kube-apiserver
  service proxy: Service kubesphere-system/ks-apiserver (port 80, no selector), a Pod whose status.podIPs
  holds a made-up IP, Endpoints to it; the CONNECT proxy maps that IP to the ks-apiserver's loopback port;
- a host (rendered `multicluster.enable: true`, `clusterRole: host`): ks-controller-manager (cluster
  controller and its UPDATE webhook on 127.0.0.1, certificate from the lab CA; the installer stand-in
  installs the ValidatingWebhookConfiguration from lab.json `clusters.<name>.webhook`),
  tower's proxy (the lab plays tower's load balancer with a made-up IP) and the kubefed controller-manager
  (once the installer created the KubeFedConfig);
- any cluster holding Deployment kubesphere-system/cluster-agent: the lab plays the kubelet and runs
  tower's agent with that Deployment's own --name, --token and --proxy-server;
- Deployment kubesphere-system/ks-apiserver (the installer stand-in's): the lab plays its deployment controller
  and kubelet: a change of its pod template (`kubectl rollout restart` sets an annotation) restarts the
  ks-apiserver process, and once that process answers /kapis/version the Deployment's status says the rollout is
  complete (observedGeneration = generation); scaled to 0 replicas, it has no process and no endpoint (the
  service proxy answers 503) until it is scaled up again.
Each process stops when what it follows goes away, and restarts when it changes. A process that dies is
reported by name with the tail of its log, and started again after a back-off. Every process the
supervisor starts is recorded in <state>/procs/<name>.json so `kslab down` stops it by pid, even after the
supervisor itself crashed."""

import hashlib
import json
import logging
import os
import subprocess
import time
import urllib.parse
import urllib.request

import yaml

from . import connect
from .certs import make_ca, make_serving_cert
from .kubeconfigs import component_kubeconfig
from .layout import binary, egress_socket, lab_ca_dir, ports_needed, procs_dir, read_procs
from .processes import GO_ENV, _stop, log_tail
from .rest import ApiError, Rest

log = logging.getLogger("kslab.supervisor")

KS_NS = "kubesphere-system"
KS_APISERVER_DEPLOYMENT = "/apis/apps/v1/namespaces/%s/deployments/ks-apiserver" % KS_NS
KS_ENDPOINTS_PATH = "/api/v1/namespaces/%s/endpoints/ks-apiserver" % KS_NS
KS_POD_PATH = "/api/v1/namespaces/%s/pods/ks-apiserver-kslab" % KS_NS
FED_NS = "kube-federation-system"
CONFIG_PATH = "/api/v1/namespaces/%s/configmaps/kubesphere-config" % KS_NS
KS_POD_PORT = 9090  # ks-apiserver's container port in KubeSphere's chart
TOWER_SERVICE_PORT = 8080
MANAGER = "kslab-supervisor"
RESTART_BACKOFF = 5.0
# What the binaries get instead of the rendered in-cluster endpoints (Prometheus, notification manager...):
# loopback, discard port, nothing listens. So no lab process resolves or dials a cluster-internal name.
NOWHERE = "http://127.0.0.1:9"


def pod_ip(index):
    """The made-up Pod IP of a cluster's ks-apiserver (only the CONNECT proxy knows where it goes)."""
    return "10.244.%d.10" % index


def tower_ip(index):
    """The made-up load-balancer IP of a host's tower Service."""
    return "10.255.%d.1" % index


def node_ip(index):
    """The made-up InternalIP of a v4.1 lab cluster's Node (where a NodePort Service answers)."""
    return "10.253.%d.1" % index


def _hash(*parts):
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def child_env(extra=None):
    """The environment of a lab process: no proxy settings from outside (safety), GO_ENV (one P)."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "no_proxy", "all_proxy")}
    env.update(GO_ENV)
    env.update(extra or {})
    return env


def _flags(container):
    """--key=value flags of a container's command and args."""
    out = {}
    words = list(container.get("command") or []) + list(container.get("args") or [])
    i = 0
    while i < len(words):
        w = str(words[i])
        if w.startswith("--"):
            if "=" in w:
                k, v = w[2:].split("=", 1)
            elif i + 1 < len(words) and not str(words[i + 1]).startswith("--"):
                k, v = w[2:], str(words[i + 1])
                i += 1
            else:
                k, v = w[2:], "true"
            out[k] = v
        i += 1
    return out


def _rollout_unreported(r):
    """Whether a running ks-apiserver's Deployment generation is not reported complete yet (report_rollouts)."""
    spec = r["spec"]
    return spec["kind"] == "ks-apiserver" and bool(spec.get("generation")) and r.get("reported") != spec["generation"]


class Supervisor:
    name = "supervisor"

    def __init__(self, state_dir):
        self.sd = os.path.abspath(state_dir)
        with open(os.path.join(self.sd, "lab.json")) as f:
            self.state = json.load(f)
        self.names = list(self.state["clusters"])
        self.clusters = self.state["clusters"]
        self.ports = self.state["ports"]
        self._rest = {}
        self.running = {}  # name -> {"proc": Popen, "key": str, "spec": dict, "record": dict}
        self.backoff = {}  # name -> earliest restart time
        self.refused_agents = set()
        lab_ports = set(range(self.state["port_base"], self.state["port_base"] + ports_needed(len(self.names))))
        self.egress = {n: connect.Table("egress-" + n, lab_ports) for n in self.names}
        self.https_proxy = connect.Table("https-proxy", ())
        self.lab_ca = lab_ca_dir(self.sd)
        make_ca(self.lab_ca, "kslab-lab-ca")
        os.makedirs(procs_dir(self.sd), exist_ok=True)
        for rec in read_procs(self.sd):  # left by a supervisor that crashed: stop them, start afresh
            if _stop(rec.get("pid"), rec.get("needle", "kslab"), timeout=5):
                log.info("%s: stopped the process (pid %s) an earlier supervisor left running", rec["name"], rec["pid"])
            try:
                os.unlink(self._record_path(rec["name"]))
            except FileNotFoundError:
                pass
        self._listeners = []
        for n in self.names:
            self._listeners.append(connect.serve_unix(egress_socket(self.clusters[n]), self.egress[n]))
        self._listeners.append(connect.serve_tcp(self.ports["connect"], self.https_proxy))
        self.last_seen = {}  # cluster -> wanted entries of the last successful look (kept when a look fails)

    # --- helpers --------------------------------------------------------------------------------------

    def rest(self, name):
        if name not in self._rest:
            c = self.clusters[name]
            self._rest[name] = Rest(component_kubeconfig(c["dir"], name, c["server"], "supervisor"), timeout=10)
        return self._rest[name]

    def kubeconfig(self, cluster, component):
        c = self.clusters[cluster]
        return component_kubeconfig(c["dir"], cluster, c["server"], component)

    def _workdir(self, cluster, what):
        d = os.path.join(self.clusters[cluster]["dir"], what)
        os.makedirs(d, exist_ok=True)
        return d

    @staticmethod
    def _write_if_changed(path, text):
        try:
            with open(path) as f:
                if f.read() == text:
                    return False
        except OSError:
            pass
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
        return True

    # --- the loop -------------------------------------------------------------------------------------

    def step(self):
        wanted = {}
        egress = {n: {} for n in self.names}
        https = {}
        agents_map = {}  # (ip, port) -> tower port
        hosts = []
        for n in self.names:
            try:
                found = self.look(n, egress[n], https, agents_map, hosts)
            except (ApiError, OSError, ValueError, yaml.YAMLError) as e:
                log.warning("%s: could not read the cluster (%s); keeping its processes as they are", n, e)
                found = self.last_seen.get(n, {})
            self.last_seen[n] = found
            wanted.update(found)
        for n in self.names:
            try:
                found = self.look_agent(n, agents_map)
            except (ApiError, OSError) as e:
                log.warning("%s: could not read the cluster-agent Deployment (%s)", n, e)
                found = {k: v for k, v in self.last_seen.get(n + "/agent", {}).items()}
            self.last_seen[n + "/agent"] = found
            wanted.update(found)
        for n in self.names:
            self.egress[n].set(egress[n])
        self.https_proxy.set(https)
        self.reconcile(wanted)
        self.report_rollouts()

    def needs_pass(self):
        """True while a pass has something to do that no watched object announces: a process it runs has
        exited, or a ks-apiserver rollout waits for its process to answer (standins.runtime.run_forever)."""
        return any(r["proc"].poll() is not None or _rollout_unreported(r) for r in self.running.values())

    # the collections whose changes the supervisor acts on (standins.runtime.Wakeup), on every cluster
    WATCHED = (
        "/api/v1/namespaces/%s/configmaps?fieldSelector=metadata.name%%3Dkubesphere-config" % KS_NS,
        "/apis/apps/v1/namespaces/%s/deployments" % KS_NS,
        "/api/v1/namespaces/%s/endpoints?fieldSelector=metadata.name%%3Dks-apiserver" % KS_NS,
        "/api/v1/namespaces/%s/services" % KS_NS,
        "/apis/cluster.kubesphere.io/v1alpha1/clusters",
        "/apis/core.kubefed.io/v1beta1/namespaces/%s/kubefedconfigs" % FED_NS,
    )

    def report_rollouts(self):
        """The deployment controller's part for ks-apiserver: once the process of the Deployment's current
        generation answers /kapis/version, its status says the rollout is complete."""
        for name, r in list(self.running.items()):
            spec = r["spec"]
            if not _rollout_unreported(r):
                continue
            try:
                with urllib.request.urlopen(spec["health"]["http"], timeout=2) as resp:
                    if resp.status != 200:
                        continue
                rest = self.rest(spec["cluster"])
                dep = rest.try_get(KS_APISERVER_DEPLOYMENT)
                if not dep or dep["metadata"].get("generation") != spec["generation"]:
                    continue
                rest.merge_patch(KS_APISERVER_DEPLOYMENT + "/status", {"status": {
                    "observedGeneration": spec["generation"], "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1,
                    "availableReplicas": 1}})
                r["reported"] = spec["generation"]
            except (ApiError, OSError, ValueError):
                continue

    def look(self, n, egress, https, agents_map, hosts):
        """What cluster `n` asks for, from its rendered kubesphere-config."""
        rest = self.rest(n)
        cfg = self._rendered_config(rest)
        if cfg is None:
            self.unfurnish_ks_apiserver(n)
            return {}
        out = self._want_ks_apiserver(n, cfg, egress)
        mc = cfg.get("multicluster") or {}
        if not (mc.get("enable") is True and mc.get("clusterRole") == "host"):
            return out
        hosts.append(n)
        out.update(self._want_ks_controller_manager(n, cfg))
        out.update(self._want_tower(n, agents_map))
        self._map_proxy_clusters(rest, https)
        out.update(self._want_kubefed(n, rest))
        return out

    @staticmethod
    def _rendered_config(rest):
        """The cluster's rendered kubesphere.yaml with its in-cluster endpoints replaced by NOWHERE; None
        when the installer has rendered none."""
        cm = rest.try_get(CONFIG_PATH)
        text = ((cm or {}).get("data") or {}).get("kubesphere.yaml")
        if not text:
            return None
        cfg = yaml.safe_load(text) or {}
        cfg["monitoring"] = dict(cfg.get("monitoring") or {}, endpoint=NOWHERE)  # must be non-empty
        for section in cfg.values():  # every other in-cluster endpoint (notification, ...): loopback too
            if isinstance(section, dict) and isinstance(section.get("endpoint"), str):
                host = urllib.parse.urlsplit(section["endpoint"]).hostname
                if host not in ("127.0.0.1", "localhost"):
                    section["endpoint"] = NOWHERE
        return cfg

    def _rendered_for(self, n, cfg, component):
        # In a pod, KubeSphere's binaries use the in-cluster config; here the file names the component's
        # kubeconfig (the binaries reload this file when it changes, and then need it there, not in a flag).
        kube = dict(cfg.get("kubernetes") or {})
        kube["kubeconfig"] = self.kubeconfig(n, component)
        return yaml.safe_dump(dict(cfg, kubernetes=kube), sort_keys=False)

    def _want_ks_apiserver(self, n, cfg, egress):
        """ks-apiserver, on every cluster with a rendered config, and the service proxy path to it."""
        c = self.clusters[n]
        p = c["ports"]
        rendered = self._rendered_for(n, cfg, "ks-apiserver")
        wd = self._workdir(n, "ks-apiserver")
        argv = [binary("ks-apiserver"), "--kubeconfig=%s" % self.kubeconfig(n, "ks-apiserver"),
                "--bind-address=127.0.0.1", "--insecure-port=%d" % p["ks_apiserver"], "--secure-port=0", "--v=2"]
        # its Deployment's pod template (a rollout restart changes its annotations): a new template, a new process
        dep = self.rest(n).try_get(KS_APISERVER_DEPLOYMENT) or {}
        if (dep.get("spec") or {}).get("replicas") == 0:
            self.scaled_to_zero(n, dep)
            return {}
        template = (((dep.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("annotations") or {}
        out = {"ks-apiserver@" + n: {
            "kind": "ks-apiserver", "cluster": n, "argv": argv, "cwd": wd, "files": {"kubesphere.yaml": rendered},
            "key": _hash(argv, rendered, template), "address": "127.0.0.1:%d" % p["ks_apiserver"],
            "generation": (dep.get("metadata") or {}).get("generation"),
            "health": {"http": "http://127.0.0.1:%d/kapis/version" % p["ks_apiserver"], "expect": "v3.4.1",
                       "what": "/kapis/version"},
        }}
        self.furnish_ks_apiserver(n)
        egress[(pod_ip(c["index"]), KS_POD_PORT)] = p["ks_apiserver"]
        return out

    def _want_ks_controller_manager(self, n, cfg):
        """A host's ks-controller-manager: cluster controller and its webhook."""
        p = self.clusters[n]["ports"]
        wd = self._workdir(n, "ks-controller-manager")
        certs = os.path.join(wd, "webhook-certs")
        make_serving_cert(self.lab_ca, certs, "ks-controller-manager.kslab")
        self._write_if_changed(os.path.join(wd, "kubesphere.yaml"), self._rendered_for(n, cfg, "ks-controller-manager"))
        argv = [binary("ks-controller-manager"), "--controllers=cluster",
                "--kubeconfig=%s" % self.kubeconfig(n, "ks-controller-manager"), "--webhook-cert-dir=%s" % certs,
                "--leader-elect=false", "--v=2"]
        env = {"KSLAB_KS_WEBHOOK_PORT": str(p["ks_webhook"]), "KSLAB_KS_METRICS_ADDR": "127.0.0.1:%d" % p["ks_metrics"],
               "HTTPS_PROXY": "http://127.0.0.1:%d" % self.ports["connect"], "NO_PROXY": "127.0.0.1,localhost"}
        return {"ks-controller-manager@" + n: {
            "kind": "ks-controller-manager", "cluster": n, "argv": argv, "cwd": wd, "env": env,
            "key": _hash(argv, env), "address": "127.0.0.1:%d" % p["ks_webhook"],
            "health": {"http": "http://127.0.0.1:%d/metrics" % p["ks_metrics"], "what": "metrics"},
        }}

    def _want_tower(self, n, agents_map):
        """A host's tower proxy; the lab plays its load balancer."""
        c = self.clusters[n]
        out = self.tower_process(n)
        self.play_tower_load_balancer(n)
        agents_map[(tower_ip(c["index"]), TOWER_SERVICE_PORT)] = c["ports"]["tower"]
        return out

    def tower_process(self, n):
        """tower's proxy on host `n`: the lab CA signs what it issues, its agent port and per-member listeners on
        127.0.0.1."""
        p = self.clusters[n]["ports"]
        argv = [binary("tower-proxy"), "--kubeconfig=%s" % self.kubeconfig(n, "tower"),
                "--ca-cert=%s/ca.crt" % self.lab_ca, "--ca-key=%s/ca.key" % self.lab_ca,
                "--host=127.0.0.1", "--port=%d" % p["tower"], "--v=2"]
        # its per-member listeners (6000-7000 and +10000) on 127.0.0.1 only, on ports no other tower holds: the
        # lab's build-time change to tower (build-binaries.sh); upstream listens on all interfaces
        env = {"KSLAB_TOWER_BIND": "127.0.0.1"}
        return {"tower@" + n: {"kind": "tower", "cluster": n, "argv": argv, "cwd": self._workdir(n, "tower"), "env": env,
                               "key": _hash(argv, env), "address": "127.0.0.1:%d" % p["tower"],
                               "health": {"tcp": p["tower"]}, "stop_timeout": 2}}

    @staticmethod
    def _map_proxy_clusters(rest, https):
        """tower's mc-<name> Services of proxy clusters: reachable from the host's binaries via HTTPS_PROXY."""
        for cl in (rest.try_get("/apis/cluster.kubesphere.io/v1alpha1/clusters") or {}).get("items", []):
            conn = (cl.get("spec") or {}).get("connection") or {}
            if conn.get("type") != "proxy" or not conn.get("kubernetesAPIServerPort"):
                continue
            svc = rest.try_get("/api/v1/namespaces/%s/services/mc-%s" % (KS_NS, cl["metadata"]["name"]))
            ip = ((svc or {}).get("spec") or {}).get("clusterIP")
            if ip and ip != "None":
                https[(ip, 6443)] = int(conn["kubernetesAPIServerPort"])
                if conn.get("kubesphereAPIServerPort"):
                    https[(ip, 80)] = int(conn["kubesphereAPIServerPort"])

    def _want_kubefed(self, n, rest):
        """A host's kubefed controller-manager, once the installer has created its KubeFedConfig."""
        if not rest.try_get("/apis/core.kubefed.io/v1beta1/namespaces/%s/kubefedconfigs/kubefed" % FED_NS):
            return {}
        p = self.clusters[n]["ports"]
        argv = [binary("kubefed-controller-manager"), "--kubeconfig=%s" % self.kubeconfig(n, "kubefed"),
                "--kubefed-namespace=%s" % FED_NS, "--v=2", "--rest-config-qps=50", "--rest-config-burst=100",
                "--healthz-addr=127.0.0.1:%d" % p["kubefed_healthz"],
                "--metrics-addr=127.0.0.1:%d" % p["kubefed_metrics"]]
        env = {"HTTPS_PROXY": "http://127.0.0.1:%d" % self.ports["connect"], "NO_PROXY": "127.0.0.1,localhost"}
        return {"kubefed@" + n: {
            "kind": "kubefed", "cluster": n, "argv": argv, "cwd": self._workdir(n, "kubefed"), "env": env,
            "key": _hash(argv, env), "address": "127.0.0.1:%d" % p["kubefed_healthz"],
            "health": {"http": "http://127.0.0.1:%d/healthz" % p["kubefed_healthz"], "what": "healthz"},
            "before_start": self.clear_kubefed_lock,
        }}

    def look_agent(self, n, agents_map):
        """The lab plays the kubelet for kubesphere-system/cluster-agent."""
        dep = self.rest(n).try_get("/apis/apps/v1/namespaces/%s/deployments/cluster-agent" % KS_NS)
        if not dep:
            return {}
        containers = ((((dep.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or [])
        flags = {}
        for ct in containers:
            flags.update(_flags(ct))
        server = flags.get("proxy-server", "")
        u = urllib.parse.urlsplit(server)
        try:
            port = u.port or (443 if u.scheme == "https" else 80)
        except ValueError:
            port = None
        local = None
        if u.hostname in ("127.0.0.1", "localhost") and port in self.egress[n].local_ports:
            local = port
        elif (u.hostname, port) in agents_map:
            local = agents_map[(u.hostname, port)]
        if local is None:
            if (n, server) not in self.refused_agents:
                self.refused_agents.add((n, server))
                log.warning("%s: not running cluster-agent: its --proxy-server %r is no tower of this lab", n, server)
            return {}
        c = self.clusters[n]
        argv = [binary("tower-agent"), "--name=%s" % flags.get("name", ""), "--token=%s" % flags.get("token", ""),
                "--proxy-server=http://127.0.0.1:%d" % local, "--kubeconfig=%s" % self.kubeconfig(n, "cluster-agent"),
                "--kubernetes-service=127.0.0.1:%d" % c["port"],
                "--kubesphere-service=127.0.0.1:%d" % c["ports"]["ks_apiserver"], "--v=2"]
        return {"agent@" + n: {"kind": "cluster-agent", "cluster": n, "argv": argv, "cwd": self._workdir(n, "agent"),
                               # a new pod template, a new pod (as a rollout: even when the new --proxy-server
                               # reaches the same tower port as the old one)
                               "key": _hash(argv, dep["metadata"].get("uid"), (dep.get("spec") or {}).get("template")),
                               "address": "-", "health": {}}}

    # --- objects the lab keeps for the processes -----------------------------------------------------

    def furnish_ks_apiserver(self, n):
        """Service (no selector), Pod with a made-up IP, Endpoints to it: the service proxy path to ks-apiserver."""
        rest = self.rest(n)
        c = self.clusters[n]
        ip = pod_ip(c["index"])
        ep_path = KS_ENDPOINTS_PATH
        ep = rest.try_get(ep_path)
        if ep and any(a.get("ip") == ip for s in ep.get("subsets") or [] for a in s.get("addresses") or []):
            return
        pod_name = "ks-apiserver-kslab"
        rest.apply({"apiVersion": "v1", "kind": "Service", "metadata": {
            "name": "ks-apiserver", "namespace": KS_NS, "labels": {"app": "ks-apiserver", "tier": "backend"}},
            "spec": {"ports": [{"port": 80, "protocol": "TCP", "targetPort": KS_POD_PORT}]}}, MANAGER)
        rest.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {
            "name": pod_name, "namespace": KS_NS, "labels": {"app": "ks-apiserver", "tier": "backend"}},
            "spec": {"nodeName": "%s-node1" % n, "containers": [
                {"name": "ks-apiserver", "image": "kubesphere/ks-apiserver:v3.4.1",
                 "ports": [{"containerPort": KS_POD_PORT, "protocol": "TCP"}]}]}}, MANAGER)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        rest.request("PATCH", "/api/v1/namespaces/%s/pods/%s/status" % (KS_NS, pod_name), {"status": {
            "phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": "127.0.0.1",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now}]}},
            content_type="application/merge-patch+json")
        pod = rest.get("/api/v1/namespaces/%s/pods/%s" % (KS_NS, pod_name))
        rest.apply({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "ks-apiserver", "namespace": KS_NS},
                    "subsets": [{"addresses": [{"ip": ip, "targetRef": {
                        "kind": "Pod", "name": pod_name, "namespace": KS_NS, "uid": pod["metadata"]["uid"]}}],
                        "ports": [{"port": KS_POD_PORT, "protocol": "TCP"}]}]}, MANAGER)
        log.info("%s: ks-apiserver reachable through the service proxy (made-up Pod IP %s)", n, ip)

    def scaled_to_zero(self, n, dep):
        """ks-apiserver's Deployment scaled to 0 replicas: no pod, so no process and no endpoint (the service
        proxy answers 503, no endpoints available: the endpoints controller keeps the Endpoints, without
        addresses), and the status a deployment controller writes."""
        rest = self.rest(n)
        _delete_if_present(rest, KS_POD_PATH)
        if (rest.try_get(KS_ENDPOINTS_PATH) or {}).get("subsets"):
            rest.merge_patch(KS_ENDPOINTS_PATH, {"subsets": None})
        status = dep.get("status") or {}
        generation = dep["metadata"].get("generation")
        if status.get("observedGeneration") != generation or status.get("replicas"):
            rest.merge_patch(KS_APISERVER_DEPLOYMENT + "/status", {"status": {
                "observedGeneration": generation, "replicas": 0, "updatedReplicas": 0, "readyReplicas": 0,
                "availableReplicas": 0}})

    def unfurnish_ks_apiserver(self, n):
        rest = self.rest(n)
        for path in (KS_ENDPOINTS_PATH, KS_POD_PATH):
            _delete_if_present(rest, path)

    def play_tower_load_balancer(self, n):
        rest = self.rest(n)
        svc = rest.try_get("/api/v1/namespaces/%s/services/tower" % KS_NS)
        if not svc:
            return
        ip = tower_ip(self.clusters[n]["index"])
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        if ingress and ingress[-1].get("ip") == ip:
            return
        rest.request("PATCH", "/api/v1/namespaces/%s/services/tower/status" % KS_NS,
                     {"status": {"loadBalancer": {"ingress": [{"ip": ip}]}}},
                     content_type="application/merge-patch+json")
        log.info("%s: tower's load balancer answers at %s:%d (made up; mapped to 127.0.0.1:%d)", n, ip,
                 TOWER_SERVICE_PORT, self.clusters[n]["ports"]["tower"])

    def clear_kubefed_lock(self, n):
        """kubefed cannot switch leader election off; a restart would wait ~21 s for its own old lock."""
        for kind in ("configmaps", "leases"):
            try:
                self.rest(n).request("DELETE", "/api/v1/namespaces/%s/%s/kubefed-controller-manager" % (FED_NS, kind)
                                     if kind == "configmaps" else
                                     "/apis/coordination.k8s.io/v1/namespaces/%s/leases/kubefed-controller-manager" % FED_NS)
            except (ApiError, OSError):
                pass

    # --- processes ------------------------------------------------------------------------------------

    def _record_path(self, name):
        return os.path.join(procs_dir(self.sd), name.replace("/", "_") + ".json")

    def _write_record(self, name, record):
        tmp = self._record_path(name) + ".tmp"
        with open(tmp, "w") as f:
            json.dump(record, f, indent=1)
        os.replace(tmp, self._record_path(name))

    def start(self, name, spec):
        for fname, text in (spec.get("files") or {}).items():
            self._write_if_changed(os.path.join(spec["cwd"], fname), text)
        if spec.get("before_start"):
            spec["before_start"](spec["cluster"])
        logf = os.path.join(self.sd, "logs", "%s.log" % name.replace("@", "-"))
        with open(logf, "ab") as lf:
            lf.write(("\n---- kslab supervisor starts %s at %s\n" % (name, time.strftime("%H:%M:%S"))).encode())
            lf.flush()
            try:
                proc = subprocess.Popen(spec["argv"], stdout=lf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        cwd=spec["cwd"], env=child_env(spec.get("env")), start_new_session=True)
            except OSError as e:
                log.error("%s: could not start %s: %s (run tests/lab/build-binaries.sh)", name, spec["argv"][0], e)
                self.backoff[name] = time.time() + 30
                return
        record = {"name": name, "kind": spec["kind"], "cluster": spec["cluster"], "pid": proc.pid,
                  "needle": os.path.basename(spec["argv"][0]), "log": logf, "address": spec.get("address", "-"),
                  "health": spec.get("health") or {}, "started": time.time(), "exit": None}
        self._write_record(name, record)
        self.running[name] = {"proc": proc, "key": spec["key"], "spec": spec, "record": record}
        log.info("%s: started (pid %d, log %s)", name, proc.pid, logf)

    def stop(self, name, why):
        r = self.running.pop(name, None)
        if not r:
            return
        proc = r["proc"]
        if proc.poll() is None:
            _stop(proc.pid, r["record"]["needle"], timeout=r["spec"].get("stop_timeout", 10))
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.unlink(self._record_path(name))
        except FileNotFoundError:
            pass
        log.info("%s: stopped (%s)", name, why)

    def reconcile(self, wanted):
        for name in list(self.running):
            if name not in wanted:
                self.stop(name, "what it follows is gone")
            elif self.running[name]["key"] != wanted[name]["key"]:
                self.stop(name, "what it follows changed")
        now = time.time()
        for name, spec in wanted.items():
            r = self.running.get(name)
            if r:
                code = r["proc"].poll()
                if code is None:
                    continue
                tail = log_tail(r["record"]["log"], 10)
                log.error("%s DIED (exit %s); last lines of %s:\n    %s", name, code, r["record"]["log"],
                          "\n    ".join(tail) or "(empty)")
                r["record"]["exit"] = code
                self._write_record(name, r["record"])
                del self.running[name]
                self.backoff[name] = now + RESTART_BACKOFF
                continue
            if self.backoff.get(name, 0) > now:
                continue
            self.start(name, spec)

    def stop_all(self):
        """Stop every process at once (TERM, then KILL after 5 s), close the listeners."""
        import signal  # noqa: PLC0415

        for r in self.running.values():
            if r["proc"].poll() is None:
                try:
                    os.killpg(r["proc"].pid, signal.SIGTERM)
                except OSError:
                    pass
        deadline = time.time() + 5
        while time.time() < deadline and any(r["proc"].poll() is None for r in self.running.values()):
            time.sleep(0.1)
        for name, r in list(self.running.items()):
            if r["proc"].poll() is None:
                try:
                    os.killpg(r["proc"].pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                os.unlink(self._record_path(name))
            except FileNotFoundError:
                pass
        self.running.clear()
        for s in self._listeners:
            try:
                s.close()
            except OSError:
                pass
        for n in self.names:
            try:
                os.unlink(egress_socket(self.clusters[n]))
            except OSError:
                pass


def _delete_if_present(rest, path):
    try:
        rest.request("DELETE", path)
    except ApiError as e:
        if e.status != 404:
            raise
