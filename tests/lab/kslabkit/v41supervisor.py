"""The lab's supervisor in the v4.1 mode (`kslab up --kubesphere v4.1.3`): a kubelet and a process runner for
KubeSphere v4.1.3's real binaries. Run by `python -m standins --state DIR --kubesphere v4.1.3`.

Every pass, per cluster:
- the pod player (podplayer.py) binds, plays and reaps the cluster's pods and runs its Job pods;
- a cluster with running pods whose image is ks-apiserver (host Deployment `ks-apiserver`, member Deployment
  `ks-agent`) and a rendered `kubesphere-system/kubesphere-config` gets the real ks-apiserver v4.1.3 on
  127.0.0.1:<its ks_apiserver port> (working folder with that `kubesphere.yaml`, `kubernetes.kubeconfig` naming
  the lab identity kslab:ks-apiserver); the CONNECT proxy maps every such pod's IP:9090 to it;
- a cluster whose config says `multicluster.clusterRole: host`, with a running ks-controller-manager pod and the
  Secret `ks-controller-manager-webhook-cert`, gets the real ks-controller-manager v4.1.3 (`--controllers=*`,
  webhook on 127.0.0.1:<ks_webhook>, that Secret's certificate; build-time listen-address change, see
  build-binaries.sh); the CONNECT proxy maps the Service `ks-controller-manager` ClusterIP:443 to the webhook.
  When it exits (v4.1.3's nil-pointer crash when the first member turns Ready) it is started again after 5 s,
  as a kubelet restarts a container;
- a host's config gets `multicluster.chartPath` = the ks-core chart of the v4.1.3 source in the lab's cache
  (the only edit of KubeSphere's own objects: a real host has the chart inside its image), again after any
  Helm upgrade rewrote the ConfigMap.
KubeSphere's processes get HTTP_PROXY/HTTPS_PROXY = the lab's CONNECT proxy, which refuses every address it
does not map, so in-cluster names (extensions-museum...) never leave 127.0.0.1."""

import base64
import logging
import os

import yaml

from . import jobrunner
from .layout import cache_dir
from .podplayer import PodPlayer, images
from .supervisor import FED_NS, KS_NS, KS_POD_PORT, Supervisor, _hash, node_ip

log = logging.getLogger("kslab.supervisor41")

KS_VERSION = "v4.1.3"
HELM_VERSION = "v3.16.2"


def v41_binary(name):
    from .layout import K8S_VERSION  # noqa: PLC0415

    return {
        "ks-controller-manager": os.path.join(cache_dir(), "kubesphere-" + KS_VERSION, "bin", "ks-controller-manager"),
        "ks-apiserver": os.path.join(cache_dir(), "kubesphere-" + KS_VERSION, "bin", "ks-apiserver"),
        "helm": os.path.join(cache_dir(), "helm-" + HELM_VERSION, "bin", "helm"),
        "kubectl": os.path.join(cache_dir(), K8S_VERSION, "bin", "kubectl"),
        "kustomize": os.path.join(cache_dir(), K8S_VERSION, "bin", "kustomize"),
        "hyperfed": os.path.join(cache_dir(), "kubefed-v0.8.1", "bin", "hyperfed"),
        "kubefed-extension": os.path.join(cache_dir(), "kubefed-extension-v1.0.0", "bin", "kubefed-extension"),
    }[name]


def chart_path():
    """The ks-core chart of the v4.1.3 source build-binaries.sh unpacked."""
    return os.path.join(cache_dir(), "kubesphere-" + KS_VERSION, "src", "config", "ks-core")


def tool_dirs():
    return sorted({os.path.dirname(v41_binary(n)) for n in ("helm", "kubectl", "kustomize")})


def _command(pod):
    return [str(w) for ct in pod["spec"].get("containers") or [] for w in (ct.get("command") or []) + (ct.get("args") or [])]


def _running(pod):
    st = pod.get("status") or {}
    return st.get("phase") == "Running" and st.get("podIP") and not pod["metadata"].get("deletionTimestamp")


class Supervisor41(Supervisor):
    name = "supervisor-v4.1"

    def __init__(self, state_dir):
        super().__init__(state_dir)
        proxy = self.ports["connect"]
        logs = os.path.join(self.sd, "logs", "jobs")
        self.players = {n: PodPlayer(n, self.clusters[n], self.rest(n), self.kubeconfig(n, "jobs"), tool_dirs(),
                                     proxy, logs) for n in self.names}
        self.proxy_env = {"HTTP_PROXY": "http://127.0.0.1:%d" % proxy, "HTTPS_PROXY": "http://127.0.0.1:%d" % proxy,
                          "NO_PROXY": "127.0.0.1,localhost"}

    def stop_all(self):
        jobrunner.stop_all()
        super().stop_all()

    def step(self):
        wanted = {}
        https = {}
        agents_map = {}  # (ip, port) an agent may dial -> tower's port
        for n in self.names:
            egress = {}
            try:
                found = self.look41(n, egress, https, agents_map)
                self.egress[n].set(egress)
            except (OSError, ValueError, yaml.YAMLError, KeyError) as e:
                log.warning("%s: could not read the cluster (%s); keeping its processes as they are", n, e)
                found = self.last_seen.get(n, {})
            except Exception as e:  # noqa: BLE001  ApiError and the like: same
                log.warning("%s: could not read the cluster (%s); keeping its processes as they are", n, e)
                found = self.last_seen.get(n, {})
            self.last_seen[n] = found
            wanted.update(found)
        for n in self.names:
            try:
                found = self.look_agent(n, agents_map)
            except Exception as e:  # noqa: BLE001  ApiError, OSError: keep the agent as it is
                log.warning("%s: could not read the cluster-agent Deployment (%s)", n, e)
                found = self.last_seen.get(n + "/agent", {})
            self.last_seen[n + "/agent"] = found
            wanted.update(found)
        self.https_proxy.set(https)
        self.reconcile(wanted)

    def look41(self, n, egress, https, agents_map):
        rest = self.rest(n)
        pods = self.players[n].step()
        cm = rest.try_get("/api/v1/namespaces/%s/configmaps/kubesphere-config" % KS_NS)
        text = ((cm or {}).get("data") or {}).get("kubesphere.yaml")
        if not text:
            return {}
        cfg = yaml.safe_load(text) or {}
        mc = cfg.get("multicluster") or {}
        host = mc.get("clusterRole") == "host"
        if host and mc.get("chartPath") != chart_path():
            mc["chartPath"] = chart_path()
            cfg["multicluster"] = mc
            rest.merge_patch("/api/v1/namespaces/%s/configmaps/kubesphere-config" % KS_NS,
                             {"data": {"kubesphere.yaml": yaml.safe_dump(cfg, sort_keys=False)}})
            log.info("%s: multicluster.chartPath set to %s in kubesphere-config", n, chart_path())
        out = {}
        p = self.clusters[n]["ports"]
        ks_pods = [x for x in pods if _running(x) and any("ks-apiserver" in i for i in images(x))]
        if ks_pods:
            out.update(self._want_ks_apiserver41(n, cfg))
            for x in ks_pods:
                egress[(x["status"]["podIP"], KS_POD_PORT)] = p["ks_apiserver"]
        kcm_pods = [x for x in pods if _running(x) and x["metadata"]["namespace"] == KS_NS
                    and any("ks-controller-manager" in i for i in images(x))]
        if host and kcm_pods:
            found = self._want_ks_controller_manager41(n, cfg, rest)
            if found:
                out.update(found)
                svc = rest.try_get("/api/v1/namespaces/%s/services/ks-controller-manager" % KS_NS)
                ip = ((svc or {}).get("spec") or {}).get("clusterIP")
                if ip and ip != "None":
                    egress[(ip, 443)] = p["ks_webhook"]
        tower_pods = [x for x in pods if _running(x) and x["metadata"]["namespace"] == KS_NS and any(
            "kubesphere/tower:" in i for i in images(x)) and "/proxy" in _command(x)]
        if host and tower_pods:
            out.update(self._want_tower41(n, rest, https, agents_map))
        if host:
            out.update(self._want_kubefed_extension(n, rest, pods, egress))
        return out

    def _want_kubefed_extension(self, n, rest, pods, egress):
        """The kubefed extension's processes on the host, for its running pods in kube-federation-system: kubefed
        v0.8.1's controller-manager (image kubesphere/kubefed, /hyperfed/controller-manager: the lab's
        kubefed-controller-manager, the same code, as in the 3.4 mode; restarted when its pods are replaced, as the
        chart's hook does with `kubectl rollout restart` after patching the KubeFedConfig), its admission webhook
        (/hyperfed/webhook: the real `hyperfed webhook` with the certificate of Secret
        kubefed-admission-webhook-serving-cert, which every chart render replaces, so a new one restarts it; the
        CONNECT proxy maps the Service kubefed-admission-webhook's ClusterIP:443 to it), and the extension's backend
        (image kubesphere/kubefed-extension: the real one, which joins every Cluster into kubefed)."""
        fed = [x for x in pods if _running(x) and x["metadata"]["namespace"] == FED_NS]
        kubefed = [x for x in fed if any("kubesphere/kubefed:" in i for i in images(x))]
        out = {}
        managers = [x for x in kubefed if any(w.endswith("controller-manager") for w in _command(x))]
        if managers:
            entry = self._want_kubefed(n, rest)
            for spec in entry.values():
                spec["key"] = _hash(spec["key"], sorted(x["metadata"]["uid"] for x in managers))
            out.update(entry)
        if any(any(w.endswith("/webhook") for w in _command(x)) for x in kubefed):
            found = self._want_kubefed_webhook(n, rest)
            if found:
                out.update(found)
                svc = rest.try_get("/api/v1/namespaces/%s/services/kubefed-admission-webhook" % FED_NS)
                ip = ((svc or {}).get("spec") or {}).get("clusterIP")
                if ip and ip != "None":
                    egress[(ip, 443)] = self.clusters[n]["ports"]["kubefed_webhook"]
        if any(any("kubefed-extension" in i for i in images(x)) for x in pods if _running(x)):
            out.update(self._want_kubefed_backend(n))
        return out

    def _serving_cert(self, n, rest, namespace, secret, what, folder):
        """(working folder, certificate folder, the Secret's data) with the Secret's tls.crt and tls.key written into
        <working folder of `what`>/<folder> (a kubelet's Secret volume, kept equal to the Secret); None while the
        Secret holds no certificate."""
        data = (rest.try_get("/api/v1/namespaces/%s/secrets/%s" % (namespace, secret)) or {}).get("data") or {}
        if not (data.get("tls.crt") and data.get("tls.key")):
            return None
        wd = self._workdir(n, what)
        certs = os.path.join(wd, folder)
        os.makedirs(certs, exist_ok=True)
        for k in ("tls.crt", "tls.key"):
            self._write_if_changed(os.path.join(certs, k), base64.b64decode(data[k]).decode())
        return wd, certs, data

    def _want_kubefed_webhook(self, n, rest):
        found = self._serving_cert(n, rest, FED_NS, "kubefed-admission-webhook-serving-cert", "kubefed-webhook",
                                   "serving-cert")
        if not found:
            return {}
        wd, certs, data = found
        p = self.clusters[n]["ports"]
        argv = [v41_binary("hyperfed"), "webhook", "--kubeconfig=%s" % self.kubeconfig(n, "kubefed-webhook"),
                "--secure-port=%d" % p["kubefed_webhook"], "--cert-dir=%s" % certs, "--v=2"]
        # build-time change five (build-binaries.sh): 127.0.0.1 only, no metrics server
        env = {"KUBEFED_WEBHOOK_HOST": "127.0.0.1", "KUBEFED_WEBHOOK_METRICS_ADDR": "0"}
        return {"kubefed-webhook@" + n: {
            "kind": "kubefed-webhook", "cluster": n, "argv": argv, "cwd": wd, "env": env,
            "key": _hash(argv, env, data.get("tls.crt")), "address": "127.0.0.1:%d" % p["kubefed_webhook"],
            "health": {"tcp": p["kubefed_webhook"]}}}

    def _want_kubefed_backend(self, n):
        p = self.clusters[n]["ports"]
        argv = [v41_binary("kubefed-extension"), "--kubeconfig=%s" % self.kubeconfig(n, "kubefed-extension"), "-v=2"]
        # build-time change six: its health probe on 127.0.0.1, no metrics server; members through the CONNECT proxy
        env = dict(self.proxy_env, METRICS_BIND_ADDRESS="0", HEALTH_PROBE_BIND_ADDRESS="127.0.0.1:%d" % p["kubefed_backend"])
        return {"kubefed-extension@" + n: {
            "kind": "kubefed-extension", "cluster": n, "argv": argv, "cwd": self._workdir(n, "kubefed-extension"),
            "env": env, "key": _hash(argv, env), "address": "127.0.0.1:%d" % p["kubefed_backend"],
            "health": {"http": "http://127.0.0.1:%d/healthz" % p["kubefed_backend"], "what": "healthz"},
            "before_start": self.clear_backend_lease}}

    def clear_backend_lease(self, n):
        """The backend's leader election would wait for its own old lease after a restart."""
        try:
            self.rest(n).request("DELETE", "/apis/coordination.k8s.io/v1/namespaces/%s/leases/"
                                 "kubesphere-kubefed-controller-manager-leader-election" % FED_NS)
        except Exception:  # noqa: BLE001  absent: nothing to clear
            pass

    def _want_tower41(self, n, rest, https, agents_map):
        """The tower extension's proxy (Deployment kubesphere-system/tower, image kubesphere/tower) on the host: the
        real tower v0.2.1 as in the 3.4 mode. Its Service is a NodePort one in the extension museum's chart, so an
        agent dials <a node's InternalIP>:<nodePort> (the Node has a made-up IP, node_ip) or the Service's ClusterIP;
        both map to tower's port. tower's mc-<member> Services map to its per-member listeners for the host's
        KubeSphere (HTTPS_PROXY), which installs ks-core on the member through them."""
        c = self.clusters[n]
        svc = rest.try_get("/api/v1/namespaces/%s/services/tower" % KS_NS)
        spec = (svc or {}).get("spec") or {}
        for port in spec.get("ports") or []:
            if spec.get("clusterIP") and spec["clusterIP"] != "None":
                agents_map[(spec["clusterIP"], port.get("port"))] = c["ports"]["tower"]
                https[(spec["clusterIP"], port.get("port"))] = c["ports"]["tower"]
            if port.get("nodePort"):
                agents_map[(node_ip(c["index"]), port["nodePort"])] = c["ports"]["tower"]
        self._map_proxy_clusters(rest, https)
        return self.tower_process(n)

    def _config_for(self, n, cfg, component):
        kube = dict(cfg.get("kubernetes") or {})
        kube["kubeconfig"] = self.kubeconfig(n, component)
        return yaml.safe_dump(dict(cfg, kubernetes=kube), sort_keys=False)

    def _want_ks_apiserver41(self, n, cfg):
        p = self.clusters[n]["ports"]
        kcfg = self.kubeconfig(n, "ks-apiserver")
        text = self._config_for(n, cfg, "ks-apiserver")
        argv = [v41_binary("ks-apiserver"), "--kubeconfig=%s" % kcfg, "--bind-address=127.0.0.1",
                "--insecure-port=%d" % p["ks_apiserver"], "--secure-port=0", "--v=2"]
        env = dict(self.proxy_env, KUBECONFIG=kcfg)
        return {"ks-apiserver@" + n: {
            "kind": "ks-apiserver", "cluster": n, "argv": argv, "cwd": self._workdir(n, "ks-apiserver"), "env": env,
            "files": {"kubesphere.yaml": text}, "key": _hash(argv, text),
            "address": "127.0.0.1:%d" % p["ks_apiserver"],
            "health": {"http": "http://127.0.0.1:%d/version" % p["ks_apiserver"], "expect": KS_VERSION,
                       "what": "/version"},
        }}

    def _want_ks_controller_manager41(self, n, cfg, rest):
        found = self._serving_cert(n, rest, KS_NS, "ks-controller-manager-webhook-cert", "ks-controller-manager",
                                   "webhook-certs")
        if not found:
            return {}
        wd, certs, data = found
        p = self.clusters[n]["ports"]
        kcfg = self.kubeconfig(n, "ks-controller-manager")
        text = self._config_for(n, cfg, "ks-controller-manager")
        argv = [v41_binary("ks-controller-manager"), "--kubeconfig=%s" % kcfg, "--controllers=*",
                "--leader-elect=false", "--webhook-cert-dir=%s" % certs, "--v=2"]
        env = dict(self.proxy_env, KUBECONFIG=kcfg, KSLAB_KS_WEBHOOK_PORT=str(p["ks_webhook"]),
                   KSLAB_KS_METRICS_ADDR="127.0.0.1:%d" % p["ks_metrics"])
        return {"ks-controller-manager@" + n: {
            "kind": "ks-controller-manager", "cluster": n, "argv": argv, "cwd": wd, "env": env,
            "files": {"kubesphere.yaml": text}, "key": _hash(argv, env, text, data.get("tls.crt")),
            "address": "127.0.0.1:%d" % p["ks_webhook"],
            "health": {"http": "http://127.0.0.1:%d/metrics" % p["ks_metrics"], "what": "metrics"},
        }}
