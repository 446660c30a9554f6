"""ks-installer stand-in: one per lab cluster that has a ClusterConfiguration (fact sheet §1, §2, §4).

It reruns "the install" whenever `.spec` of `kubesphere-system/ks-installer` changes (the real one is a
shell-operator hook with jqFilter `.spec`), after KSLAB_INSTALLER_DELAY seconds (default 2), and does the
multicluster-relevant parts of the real run: ks-core objects, init-token (kubesphere-secret), the host-only
multicluster playbook (tower, kubefed), ks-config (kubesphere-config) and the CC status. Which cluster is a
host is read from the CC, never from the lab's cluster names. Lab-only knobs (annotations on the CC):
`kslab.standins/fail: <task>`, `kslab.standins/hang: "true"`; see tests/lab/STANDINS.md."""

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import string
import time

import yaml

from kslabkit.furnish import extra_documents

from .conditions import available_deployment, b64, delete, record_event, spec_hash, upsert
from .runtime import ApiError

log = logging.getLogger("standins.installer")

KS_NS = "kubesphere-system"
FED_NS = "kube-federation-system"
CC_PATH = "/apis/installer.kubesphere.io/v1alpha1/namespaces/%s/clusterconfigurations/ks-installer" % KS_NS
CONFIG_PATH = "/api/v1/namespaces/%s/configmaps/kubesphere-config" % KS_NS
SECRET_PATH = "/api/v1/namespaces/%s/secrets/kubesphere-secret" % KS_NS
KS_VERSION = "v3.4.1"
TOWER_IMAGE = "kubesphere/tower:v0.2.1"
MANAGER = "ks-installer"

HANDLED = "kslab.standins/handled-spec-hash"
RESULT = "kslab.standins/result"
FAIL = "kslab.standins/fail"
HANG = "kslab.standins/hang"


class TaskFailed(Exception):
    def __init__(self, task, detail):
        self.task = task
        super().__init__("Task '%s' failed: %s" % (task, detail))


def read_ks_config(rest):
    """The rendered kubesphere.yaml of a cluster as a dict ({} when there is none)."""
    cm = rest.try_get(CONFIG_PATH)
    if not cm:
        return {}
    return yaml.safe_load((cm.get("data") or {}).get("kubesphere.yaml") or "") or {}


def cluster_role(config):
    return ((config.get("multicluster") or {}).get("clusterRole")) or "none"


def enabled_time():
    # ks-installer writes `date +%Y-%m-%dT%H:%M:%S%Z`
    return time.strftime("%Y-%m-%dT%H:%M:%SUTC", time.gmtime())


def render_config(spec, jwt_secret):
    """kubesphere.yaml as ks-installer's ks-config role renders it (the multicluster-relevant keys, §2)."""
    auth_spec = spec.get("authentication") or {}
    mc_spec = spec.get("multicluster") or {}
    role = mc_spec.get("clusterRole") or "none"
    console = (((spec.get("common") or {}).get("core") or {}).get("console") or {})
    oauth = {"clients": [{"name": "kubesphere", "secret": "kubesphere", "redirectURIs": ["*"]}]}
    if role == "member":
        oauth = {"accessTokenMaxAge": 0, **oauth}
    auth = {
        "authenticateRateLimiterMaxTries": auth_spec.get("authenticateRateLimiterMaxTries", 10),
        "authenticateRateLimiterDuration": auth_spec.get("authenticationRateLimiterDuration", "10m0s"),
        "loginHistoryRetentionPeriod": auth_spec.get("loginHistoryRetentionPeriod", "168h"),
        "maximumClockSkew": auth_spec.get("maximumClockSkew") or "10s",
        "multipleLogin": console.get("enableMultiLogin", True),
        "kubectlImage": "kubesphere/kubectl:v1.22.0",
        "jwtSecret": jwt_secret,
        "oauthOptions": oauth,
    }
    mc = {"clusterRole": role}
    if role == "host":
        mc.update(enable=True, agentImage=TOWER_IMAGE, proxyPublishService="tower.%s.svc" % KS_NS)
        for key in ("proxyPublishAddress", "hostClusterName", "clusterControllerResyncPeriod"):
            if mc_spec.get(key):
                mc[key] = mc_spec[key]
    elif role == "member":
        mc["enable"] = False
    return yaml.safe_dump({"authentication": auth, "multicluster": mc}, sort_keys=False)


def static_token(jwt_secret):
    """The admin static token init-token stores next to the secret (HS256 over the jwtSecret)."""
    def seg(d):
        return b64(json.dumps(d, separators=(",", ":"))).rstrip("=").replace("+", "-").replace("/", "_")

    head = seg({"alg": "HS256", "typ": "JWT"}) + "." + seg({"username": "admin", "token_type": "static_token"})
    sig = hmac.new(jwt_secret.encode(), head.encode(), hashlib.sha256).digest()
    return head + "." + b64(sig).rstrip("=").replace("+", "-").replace("/", "_")


class InstallerController:
    name = "ks-installer"

    def __init__(self, lab, delay=None):
        self.lab = lab
        self.delay = float(os.environ.get("KSLAB_INSTALLER_DELAY", "2") if delay is None else delay)
        self.seen = {}  # cluster -> (spec hash, first time seen)

    def step(self):
        for name in self.lab.names:
            try:
                self.reconcile(name)
            except (ApiError, OSError) as e:
                log.warning("%s: %s", name, e)

    def reconcile(self, name):
        rest = self.lab.rest(name)
        cc = rest.try_get(CC_PATH)
        if not cc:
            return
        ann = cc["metadata"].get("annotations") or {}
        h = spec_hash(cc.get("spec"))
        if ann.get(HANDLED) == h:
            return
        if self.seen.get(name, (None,))[0] != h:
            self.seen[name] = (h, time.time())
            log.info("%s: ClusterConfiguration spec changed (%s); installer run in %.1f s", name, h, self.delay)
        if time.time() - self.seen[name][1] < self.delay:
            return
        if ann.get(HANG) == "true":
            return
        self.run(name, rest, cc, h)

    # --- one installer run --------------------------------------------------------------------------

    def run(self, name, rest, cc, h):
        spec = cc.get("spec") or {}
        status = cc.get("status") or {}
        patch = {"metadata": {"annotations": {HANDLED: h}}, "status": {}}
        try:
            task = (cc["metadata"].get("annotations") or {}).get(FAIL)
            if task:
                raise TaskFailed(task, "injected by the annotation %s (kslab)" % FAIL)
            log.info("%s: Start installing ks-core", name)
            self.ks_core(rest, status, patch)
            jwt = self.init_token(rest, spec)
            if (spec.get("multicluster") or {}).get("clusterRole") == "host" and \
                    (status.get("multicluster") or {}).get("status") != "enabled":
                log.info("%s: Start installing multicluster", name)
                self.multicluster(rest, spec)
                patch["status"]["multicluster"] = {"status": "enabled", "enabledTime": enabled_time()}
            upsert(rest, {"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "kubesphere-config", "namespace": KS_NS},
                          "data": {"kubesphere.yaml": render_config(spec, jwt)}}, MANAGER)
            patch["status"].setdefault("core", {})["version"] = KS_VERSION
            patch["metadata"]["annotations"][RESULT] = "successful"
            log.info("%s: ###              Welcome to KubeSphere!           ###", name)
        except TaskFailed as e:
            key = "core" if e.task == "ks-core" else e.task
            patch = {"metadata": {"annotations": {HANDLED: h, RESULT: str(e)}},
                     "status": {key: {"status": "failed"}}}
            log.error("%s: %s", name, e)
            record_event(rest, cc, "Warning", "TaskFailed", str(e), "ks-installer")
        rest.merge_patch(CC_PATH, patch)

    def ks_core(self, rest, status, patch):
        rest.ensure({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": KS_NS}})
        rest.ensure({"apiVersion": "v1", "kind": "ServiceAccount",
                     "metadata": {"name": "kubesphere", "namespace": KS_NS}})
        for app in ("ks-apiserver", "ks-controller-manager", "ks-console"):
            tier = "frontend" if app == "ks-console" else "backend"
            available_deployment(rest, KS_NS, app, {"app": app, "tier": tier},
                                 {"name": app, "image": "kubesphere/%s:%s" % (app, KS_VERSION)}, manager=MANAGER)
        if (status.get("core") or {}).get("status") != "enabled":
            patch["status"]["core"] = {"status": "enabled", "enabledTime": enabled_time()}

    def init_token(self, rest, spec):
        """kubesphere-secret from spec.authentication.jwtSecret; returns the secret the config gets."""
        wanted = (spec.get("authentication") or {}).get("jwtSecret") or ""
        if wanted:
            delete(rest, SECRET_PATH)
            rest.request("POST", "/api/v1/namespaces/%s/secrets" % KS_NS, self._secret(wanted))
        elif not rest.try_get(SECRET_PATH):
            alphabet = string.ascii_letters + string.digits
            rest.ensure(self._secret("".join(secrets.choice(alphabet) for _ in range(32))))
        return base64.b64decode(rest.get(SECRET_PATH)["data"]["secret"]).decode()

    @staticmethod
    def _secret(jwt):
        return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "kubesphere-secret", "namespace": KS_NS},
                "data": {"secret": b64(jwt), "token": b64(static_token(jwt))}}

    def multicluster(self, rest, spec):
        """Host only: tower, the kubefed release, the federated types (INST roles/ks-multicluster)."""
        labels = {"app": "tower", "app.kubernetes.io/name": "tower"}
        available_deployment(rest, KS_NS, "tower", labels, {
            "name": "tower", "image": TOWER_IMAGE,
            "command": ["/proxy", "--ca-cert=/ca.crt", "--ca-key=/ca.key", "--v=4"],
            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "readinessProbe": {"httpGet": {"path": "/health", "port": 8080}},
        }, manager=MANAGER)
        upsert(rest, {"apiVersion": "v1", "kind": "Service",
                      "metadata": {"name": "tower", "namespace": KS_NS, "labels": labels},
                      "spec": {"type": "LoadBalancer", "selector": {"app": "tower"},
                               "ports": [{"name": "http", "port": 8080, "protocol": "TCP", "targetPort": 8080}]}},
               MANAGER)
        upsert(rest, {"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": FED_NS, "labels": {"kubesphere.io/workspace": "system-workspace"}}}, MANAGER)
        try:
            upsert(rest, kubefed_config(), MANAGER)
            kcm = {"control-plane": "controller-manager", "kubefed-control-plane": "controller-manager"}
            available_deployment(rest, FED_NS, "kubefed-controller-manager", kcm, {
                "name": "controller-manager", "image": "kubesphere/kubefed:v0.8.1",
                "command": ["/hyperfed/controller-manager", "--v=2"]}, service_account="kubefed-controller",
                manager=MANAGER)
            for doc in extra_documents(self.lab.crds_dir):
                doc = dict(doc, metadata=dict(doc.get("metadata") or {}))
                if rest.plural(doc["apiVersion"], doc["kind"])[1]:
                    doc["metadata"].setdefault("namespace", FED_NS)
                upsert(rest, doc, MANAGER)
        except ApiError as e:
            raise TaskFailed("multicluster", e.reason) from None


def kubefed_config():
    """KubeFedConfig of the kubefed helm release as ks-installer installs it (§5)."""
    return {
        "apiVersion": "core.kubefed.io/v1beta1", "kind": "KubeFedConfig",
        "metadata": {"name": "kubefed", "namespace": FED_NS},
        "spec": {
            "scope": "Cluster",
            "controllerDuration": {"availableDelay": "20s", "unavailableDelay": "60s"},
            "leaderElect": {"leaseDuration": "15s", "renewDeadline": "10s", "retryPeriod": "5s",
                            "resourceLock": "configmaps"},
            "clusterHealthCheck": {"period": "10s", "failureThreshold": 3, "successThreshold": 1, "timeout": "3s"},
            "syncController": {"adoptResources": "Enabled"},
            "featureGates": [{"name": "PushReconciler", "configuration": "Enabled"},
                             {"name": "SchedulerPreferences", "configuration": "Enabled"}],
        },
    }


def host_clusters(lab):
    """(name, client, rendered config) of every lab cluster whose rendered kubesphere-config says host.
    Host-side controllers (cluster controller, tower) act only there, as ks-controller-manager does."""
    for name in lab.names:
        rest = lab.rest(name)
        try:
            cfg = read_ks_config(rest)
        except (ApiError, OSError) as e:
            log.warning("%s: %s", name, e)
            continue
        if cluster_role(cfg) == "host":
            yield name, rest, cfg
