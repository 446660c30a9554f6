"""ks-installer stand-in: one per lab cluster that has a ClusterConfiguration.

The real ks-installer v3.4.1 (INST) is shell-operator + Ansible in a pod; the lab cannot run it, so this
re-implements what a client of the cluster can observe of one run (INST controller/installRunner.py and
the playbooks it runs). Which cluster is a host is read from the CC, never from the lab's names.

One run, in INST's order:
1. `generate_new_cluster_configuration`: when the CC needs migrating (no `spec.terminal`, `spec.notification`,
   top-level `spec.networkpolicy`, `status.core` without `version`, ...), DELETE the CC and CREATE it again
   (metadata name/namespace/labels.version only, migrated spec, status reduced to `clusterId`) and end the
   run; the re-created object triggers the next one. A CC whose `spec.common` has no `es` makes the real
   script crash with `KeyError: 'es'` (nothing happens, for ever, until the spec changes).
2. Pre-install tasks preinstall, metrics-server, common, ks-core (a failure there ends the run: nothing
   rendered). ks-core = init-token (kubesphere-secret), the ks-core chart (Deployments, the admission
   webhook configurations, User admin), `status.core: {status: enabled, enabledTime: <now>}` on EVERY run,
   and on a first install the role templates (GlobalRole platform-admin, GlobalRoleBindings).
3. The parallel tasks: `multicluster` only on a host whose `status.multicluster.status` is not `enabled`
   (tower, the kubefed release, the federated types, then `status.multicluster`). A failed parallel task
   writes no status: it shows only in the installer's log ("Task 'multicluster' failed:").
4. ks-config and result-info (always, failed parallel task or not): kubesphere-config rendered from the
   template, `status.core.version`.

Runs are triggered by a change of `.spec` (shell-operator's jqFilter) or by a new CC object, after
KSLAB_INSTALLER_DELAY seconds (default 2). Lab-only knobs and marks (annotations on the CC, see
tests/lab/STANDINS.md): `kslab.standins/fail: <task>`, `kslab.standins/hang: "true"`,
`kslab.standins/handled-spec-hash`, `kslab.standins/result`."""

import base64
import copy
import gzip
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

from .runtime import ApiError

log = logging.getLogger("standins.installer")

KS_NS = "kubesphere-system"
FED_NS = "kube-federation-system"
CC_BASE = "/apis/installer.kubesphere.io/v1alpha1/namespaces/%s/clusterconfigurations" % KS_NS
CC_PATH = CC_BASE + "/ks-installer"
CONFIG_PATH = "/api/v1/namespaces/%s/configmaps/kubesphere-config" % KS_NS
SECRET_PATH = "/api/v1/namespaces/%s/secrets/kubesphere-secret" % KS_NS
VWC_PATH = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/cluster.kubesphere.io"
KS_VERSION = "v3.4.1"
TOWER_IMAGE = "kubesphere/tower:v0.2.1"
KUBECTL_IMAGE = "kubesphere/kubectl:v1.22.0"
MANAGER = "ks-installer"
WEBHOOK_PATH = "/validate-cluster-kubesphere-io-v1alpha1"

HANDLED = "kslab.standins/handled-spec-hash"
RESULT = "kslab.standins/result"
FAIL = "kslab.standins/fail"
HANG = "kslab.standins/hang"

PRE_INSTALL = ("preinstall", "metrics-server", "common", "ks-core")
PARALLEL = ("monitoring", "multicluster", "openpitrix", "network")


class TaskFailed(Exception):
    def __init__(self, task, detail):
        self.task = task
        super().__init__("Task '%s' failed: %s" % (task, detail))


# --- reading ---------------------------------------------------------------------------------------


def read_ks_config(rest):
    """The rendered kubesphere.yaml of a cluster as a dict ({} when there is none)."""
    cm = rest.try_get(CONFIG_PATH)
    if not cm:
        return {}
    return yaml.safe_load((cm.get("data") or {}).get("kubesphere.yaml") or "") or {}


def cluster_role(config):
    return ((config.get("multicluster") or {}).get("clusterRole")) or "none"


def enabled_time():
    """ks-installer's `date +%Y-%m-%dT%H:%M:%S%Z` in a UTC pod."""
    return time.strftime("%Y-%m-%dT%H:%M:%SUTC", time.gmtime())


def spec_hash(spec):
    return hashlib.sha256(json.dumps(spec or {}, sort_keys=True).encode()).hexdigest()[:16]


def b64(data):
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def _get(d, *keys):
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


# --- step 1: generate_new_cluster_configuration ----------------------------------------------------


class InstallerCrash(Exception):
    """The real script dies with a Python exception (shell-operator retries the hook, it dies again)."""


def migrate(spec, status):
    """(reasons, new spec) as INST generate_new_cluster_configuration decides; reasons == [] means the CC is
    left alone. Raises InstallerCrash where the real script raises (spec.common without `es`)."""
    spec = copy.deepcopy(spec or {})
    status = status if isinstance(status, dict) else None
    reasons = []

    def enabled_in_status(component):
        return status is not None and _get(status, component, "status") == "enabled"

    common = spec.get("common")
    if isinstance(common, dict):
        for key in ("mysqlVolumeSize", "etcdVolumeSize"):
            common.pop(key, None)
        common["redis"] = {"enabled": enabled_in_status("redis")}
        common["openldap"] = {"enabled": enabled_in_status("openldap")}
        if "redisVolumSize" in common:
            common["redis"]["volumeSize"] = common.pop("redisVolumSize")
        if "openldapVolumeSize" in common:
            common["openldap"]["volumeSize"] = common.pop("openldapVolumeSize")
        if "minioVolumeSize" in common:
            common.setdefault("minio", {})["volumeSize"] = common.pop("minioVolumeSize")
        if not isinstance(common.get("es"), dict):
            raise InstallerCrash("KeyError: 'es' (spec.common has no `es`; installRunner.py "
                                 "generate_new_cluster_configuration sets common.es.enabled)")
        es_on = enabled_in_status("es")
        common["es"]["enabled"] = es_on
        common.setdefault("opensearch", {})["enabled"] = not es_on
        es = common["es"]
        es.setdefault("master", {"volumeSize": "4Gi"})
        es.setdefault("data", {"volumeSize": "20Gi"})
        if "externalElasticsearchUrl" in es and "externalElasticsearchHost" not in es:
            es["externalElasticsearchHost"] = es["externalElasticsearchUrl"]
        osd = common["opensearch"]
        osd.setdefault("master", {"volumeSize": "4Gi"})
        osd.setdefault("data", {"volumeSize": "20Gi"})
        osd.setdefault("opensearchPrefix", "whizard")
        osd.setdefault("logMaxAge", "7")
        osd.setdefault("basicAuth", {"enabled": True, "username": "admin", "password": "admin"})
        if "console" in spec:
            common.setdefault("core", {})["console"] = spec.pop("console")

    logging_ = spec.get("logging")
    if isinstance(logging_, dict) and "logsidecarReplicas" in logging_:
        reasons.append("spec.logging.logsidecarReplicas")
        on = bool(logging_.get("enabled"))
        spec["logging"] = {"enabled": on, "logsidecar": {"enabled": on, "replicas": 2}}
    if isinstance(spec.get("events"), dict) and "ruler" not in spec["events"]:
        reasons.append("spec.events without ruler")
        spec["events"]["ruler"] = {"enabled": True, "replicas": 2}
    if "notification" in spec:
        reasons.append("spec.notification")
        del spec["notification"]
    if isinstance(spec.get("openpitrix"), dict) and "store" not in spec["openpitrix"]:
        reasons.append("spec.openpitrix without store")
        spec["openpitrix"] = {"store": {"enabled": bool(spec["openpitrix"].get("enabled"))}}
    if "networkpolicy" in spec:
        reasons.append("spec.networkpolicy")
        on = bool(_get(spec, "networkpolicy", "enabled"))
        spec["network"] = {"networkpolicy": {"enabled": on}, "ippool": {"type": "none"},
                           "topology": {"type": "none"}}
        del spec["networkpolicy"]
    if "terminal" not in spec:
        reasons.append("spec.terminal missing")
        spec["terminal"] = {"timeout": 600}
    if isinstance(spec.get("servicemesh"), dict) and "istio" not in spec["servicemesh"]:
        reasons.append("spec.servicemesh without istio")
        spec["servicemesh"]["istio"] = {"components": {
            "ingressGateways": [{"name": "istio-ingressgateway", "enabled": False}], "cni": {"enabled": False}}}
    if "kubeedge" in spec:
        reasons.append("spec.kubeedge")
        kubeedge = spec.pop("kubeedge")
        if isinstance(kubeedge, dict) and "enabled" in kubeedge:
            kubeedge = dict(kubeedge, **{"iptables-manager": {"enabled": True, "mode": "external"}})
            kubeedge.pop("edgeWatcher", None)
            spec["edgeruntime"] = {"enabled": kubeedge["enabled"], "kubeedge": kubeedge}
    devops = spec.get("devops")
    if isinstance(devops, dict) and devops.get("enabled"):
        for key, default in (("jenkinsCpuReq", 0.5), ("jenkinsCpuLim", 4)):
            if key not in devops:
                reasons.append("spec.devops without %s" % key)
                devops[key] = default
    core = _get(status, "core")
    if isinstance(core, dict) and core.get("version") != KS_VERSION:
        reasons.append("status.core.version %s" % (core.get("version") or "missing"))
    return reasons, spec


# --- kubesphere-config (INST roles/ks-core/config/templates/kubesphere-config.yaml.j2) ---------------


def render_config(spec, jwt_secret):
    """kubesphere.yaml as ks-installer's ks-config role renders it. Rendered: authentication, ldap, cache,
    network, servicemesh, openpitrix (store), multicluster, monitoring, notification, alerting, terminal,
    gateway; not rendered: devops, s3, logging, events, auditing, edgeruntime, gpu (the lab enables none)."""
    auth_spec = spec.get("authentication") or {}
    common = spec.get("common") or {}
    mc_spec = spec.get("multicluster") or {}
    role = mc_spec.get("clusterRole")
    oauth = dict(auth_spec.get("oauthOptions") or {})
    if role == "member":
        oauth["accessTokenMaxAge"] = 0
    oauth["clients"] = [{"name": "kubesphere", "secret": "kubesphere", "redirectURIs": ["*"]}]
    doc = {"authentication": {
        "authenticateRateLimiterMaxTries": auth_spec.get("authenticateRateLimiterMaxTries", 10),
        "authenticateRateLimiterDuration": auth_spec.get("authenticationRateLimiterDuration", "10m0s"),
        "loginHistoryRetentionPeriod": auth_spec.get("loginHistoryRetentionPeriod", "168h"),
        "maximumClockSkew": auth_spec.get("maximumClockSkew", "10s"),
        "multipleLogin": _get(common, "core", "console", "enableMultiLogin")
        if _get(common, "core", "console", "enableMultiLogin") is not None else True,
        "kubectlImage": KUBECTL_IMAGE,
        "jwtSecret": jwt_secret,
        "oauthOptions": oauth,
    }}
    if _get(common, "openldap", "enabled") or _get(spec, "devops", "enabled"):
        doc["ldap"] = {"host": "openldap.kubesphere-system.svc:389", "managerDN": "cn=admin,dc=kubesphere,dc=io",
                       "managerPassword": "admin", "userSearchBase": "ou=Users,dc=kubesphere,dc=io",
                       "groupSearchBase": "ou=Groups,dc=kubesphere,dc=io"}
    if _get(common, "redis", "enabled"):  # (or enableHA: more than one `master` node; lab nodes are control-plane)
        doc["cache"] = {"type": "redis", "options": {"host": "redis.kubesphere-system.svc", "port": 6379,
                                                     "password": "KUBESPHERE_CACHE_OPTIONS_PASSWORD", "db": 0}}
    if "network" in spec or "networkpolicy" in spec:
        net = {}
        if _get(spec, "networkpolicy", "enabled") or _get(spec, "network", "networkpolicy", "enabled"):
            net["enableNetworkPolicy"] = True
        if _get(spec, "network", "ippool", "type") is not None:
            net["ippoolType"] = _get(spec, "network", "ippool", "type")
        if _get(spec, "network", "topology", "type") == "weave-scope":
            net["weaveScopeHost"] = "weave-scope-app.weave"
        doc["network"] = net or None
    if _get(spec, "servicemesh", "enabled") is True:
        doc["servicemesh"] = {"istioPilotHost": "http://istiod.istio-system.svc:8080/version",
                              "jaegerQueryHost": "http://jaeger-query.istio-system.svc:16686",
                              "servicemeshPrometheusHost": "http://prometheus-k8s.kubesphere-monitoring-system.svc:9090",
                              "kialiQueryHost": "http://kiali.istio-system:20001"}
    if _get(spec, "openpitrix", "store", "enabled"):
        doc["openpitrix"] = {"s3": {"endpoint": "http://minio.kubesphere-system.svc:9000", "region": "us-east-1",
                                    "disableSSL": True, "forcePathStyle": True,
                                    "accessKeyID": "openpitrixminioaccesskey",
                                    "secretAccessKey": "openpitrixminiosecretkey", "bucket": "app-store"}}
    mc = {"clusterRole": role}
    if role == "member":
        mc["enable"] = False
    if role == "host":
        mc.update(enable=True, agentImage=TOWER_IMAGE, proxyPublishService="tower.%s.svc" % KS_NS)
        for key in ("proxyPublishAddress", "clusterControllerResyncPeriod", "hostClusterName"):
            if mc_spec.get(key):
                mc[key] = mc_spec[key]
    doc["multicluster"] = mc
    prometheus = _get(common, "monitoring", "endpoint") or \
        "http://prometheus-operated.kubesphere-monitoring-system.svc:9090"
    doc["monitoring"] = {"endpoint": prometheus,
                         "enableGPUMonitoring": _get(common, "monitoring", "GPUMonitoring", "enabled") is True}
    doc["notification"] = {"endpoint": _get(common, "notification", "endpoint")
                           or "http://notification-manager-svc.kubesphere-monitoring-system.svc:19093"}
    if _get(spec, "alerting", "enabled") is True:
        doc["alerting"] = {"prometheusEndpoint": prometheus,
                           "thanosRulerEndpoint": "http://thanos-ruler-operated.kubesphere-monitoring-system.svc:10902",
                           "thanosRuleResourceLabels": "thanos-ruler=kubesphere,role=alert-rules"}
    if "terminal" in spec:
        term = {"image": _get(spec, "terminal", "image") or "alpine:3.14"}
        if _get(spec, "terminal", "timeout") is not None:
            term["timeout"] = _get(spec, "terminal", "timeout")
        doc["terminal"] = term
    doc["gateway"] = {"watchesPath": "/var/helm-charts/watches.yaml",
                      "repository": "kubesphere/nginx-ingress-controller", "tag": "v1.3.1",
                      "namespace": _get(spec, "gateway", "namespace") or "kubesphere-controls-system"}
    return yaml.safe_dump(doc, sort_keys=False)


def static_token(jwt_secret):
    """The admin token init-token stores next to the secret: INST jwt.sh, HS256 over the jwtSecret, claims
    {"email": "admin@kubesphere.io", "username": "admin", "token_type": "static_token"}."""
    def seg(d):
        return base64.urlsafe_b64encode(json.dumps(d, separators=(",", ":")).encode()).decode().rstrip("=")

    head = seg({"alg": "HS256", "typ": "JWT"}) + "." + seg(
        {"email": "admin@kubesphere.io", "username": "admin", "token_type": "static_token"})
    sig = hmac.new(jwt_secret.encode(), head.encode(), hashlib.sha256).digest()
    return head + "." + base64.urlsafe_b64encode(sig).decode().rstrip("=")


# --- objects --------------------------------------------------------------------------------------


def webhook_configuration(client_config):
    """ValidatingWebhookConfiguration cluster.kubesphere.io as the ks-core chart installs it (INST
    roles/ks-core/ks-core/files/ks-core/templates/webhook.yaml), on every cluster."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "cluster.kubesphere.io", "labels": {"app.kubernetes.io/managed-by": "Helm"},
                     "annotations": {"meta.helm.sh/release-name": "ks-core",
                                     "meta.helm.sh/release-namespace": KS_NS}},
        "webhooks": [{
            "name": "validating-cluster.kubesphere.io",
            "admissionReviewVersions": ["v1beta1"],
            "clientConfig": client_config,
            "failurePolicy": "Fail",
            "matchPolicy": "Exact",
            "namespaceSelector": {"matchExpressions": [{"key": "control-plane", "operator": "DoesNotExist"}]},
            "objectSelector": {},
            "rules": [{"apiGroups": ["cluster.kubesphere.io"], "apiVersions": ["v1alpha1"],
                       "operations": ["UPDATE"], "resources": ["clusters"], "scope": "*"}],
            "sideEffects": "None",
            "timeoutSeconds": 30,
        }],
    }


def kubefed_config():
    """KubeFedConfig of the kubefed chart ks-installer installs (INST .../templates/kubefedconfig.yaml with
    KubeSphere's values): complete, since kubefed v0.8.1 defaults nothing and exits on a missing field."""
    return {
        "apiVersion": "core.kubefed.io/v1beta1", "kind": "KubeFedConfig",
        "metadata": {"name": "kubefed", "namespace": FED_NS},
        "spec": {
            "scope": "Cluster",
            "controllerDuration": {"availableDelay": "20s", "unavailableDelay": "60s"},
            "leaderElect": {"leaseDuration": "15s", "renewDeadline": "10s", "retryPeriod": "5s",
                            "resourceLock": "configmaps"},
            "clusterHealthCheck": {"period": "10s", "failureThreshold": 3, "successThreshold": 1, "timeout": "3s"},
            "syncController": {"maxConcurrentReconciles": 1, "adoptResources": "Enabled"},
            "statusController": {"maxConcurrentReconciles": 1},
            "featureGates": [{"name": "PushReconciler", "configuration": "Enabled"},
                             {"name": "SchedulerPreferences", "configuration": "Enabled"}],
        },
    }


def iam_objects():
    """ks-core's User admin (chart, only when missing) and the role templates' GlobalRole platform-admin and
    GlobalRoleBindings (INST roles/ks-core/prepare/files/ks-init/role-templates.yaml, first install only)."""
    api = "iam.kubesphere.io/v1alpha2"
    user = {"apiVersion": api, "kind": "User",
            "metadata": {"name": "admin", "annotations": {"iam.kubesphere.io/uninitialized": "true",
                                                          "helm.sh/resource-policy": "keep"}},
            "spec": {"email": "admin@kubesphere.io",
                     # the chart's default: bcrypt of P@88w0rd (getOrDefaultPass)
                     "password": "$2a$10$zcHepmzfKPoxCVCYZr5K7ORPZZ/ySe9p/7IUb/8u./xHrnSX2LOCO"},
            "status": {"state": "Active"}}
    role = {"apiVersion": api, "kind": "GlobalRole",
            "metadata": {"name": "platform-admin", "annotations": {"kubesphere.io/creator": "admin"}},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                      {"nonResourceURLs": ["*"], "verbs": ["*"]}]}
    bindings = [{"apiVersion": api, "kind": "GlobalRoleBinding", "metadata": {"name": name},
                 "roleRef": {"apiGroup": api, "kind": "GlobalRole", "name": ref},
                 "subjects": [{"apiGroup": api, "kind": kind, "name": subject}]}
                for name, ref, kind, subject in (("admin", "platform-admin", "User", "admin"),
                                                 ("anonymous", "anonymous", "Group", "system:unauthenticated"),
                                                 ("authenticated", "authenticated", "Group",
                                                  "system:authenticated"))]
    return user, role, bindings


# --- Helm release records (what `helm upgrade --install` leaves) -------------------------------------
# ks-installer v3.4.1 installs ks-core (every cluster: INST roles/ks-core/ks-core/tasks/main.yaml "Creating
# ks-core": `helm upgrade --install ks-core <dir>/ks-core/ -f custom-values-ks-core.yaml --namespace
# kubesphere-system`, after annotating the objects that already exist so that Helm adopts them) and kubefed (a
# host's multicluster task, INST roles/ks-multicluster/tasks/main.yml: `helm upgrade --install kubefed ...
# --namespace kube-federation-system --wait --timeout 1800s`). Helm 3 (helm.sh/helm/v3 pkg/storage/driver/
# secrets.go, pkg/action/upgrade.go) stores each revision as a Secret `sh.helm.release.v1.<release>.v<N>` of type
# helm.sh/release.v1, labels owner=helm, name, status, version and modifiedAt (createdAt is set on the create and
# lost on the update that follows it: Helm keeps only the labels that are not its own system labels), data.release
# = base64 of gzip of the release JSON. An upgrade writes revision N+1 (deployed, "Upgrade complete") and marks N
# superseded; this writes the records' end state (Helm passes through pending-install/pending-upgrade first);
# `helm upgrade` keeps 10 revisions (--history-max default). The charts' metadata is INST v3.4.1's own Chart.yaml
# files; note the ks-core chart's appVersion: INST never updated it (v3.4.0 and v3.4.1 ship "v3.3.2", v3.3.x
# shipped "v3.1.0"), so on a real 3.4.1 cluster the release says v3.3.2. **lab**: the record holds the chart's
# metadata and the values the stand-in passes, not the chart's templates and rendered manifest (INST's chart
# files are not in the lab; the objects are the stand-in's own, see ks_core and multicluster).
KS_CORE_CHART = {"apiVersion": "v2", "name": "ks-core", "description": "A Helm chart for KubeSphere Core components",
                 "type": "application", "version": "0.1.0", "appVersion": "v3.3.2"}
KUBEFED_CHART = {"apiVersion": "v2", "name": "kubefed", "description": "KubeFed helm chart", "version": "0.0.3",
                 "kubeVersion": ">= 1.16.0-0",
                 "dependencies": [{"name": "controllermanager", "version": "0.0.3", "repository": "https://localhost/",
                                   "condition": "controllermanager.enabled"}]}
HELM_HISTORY_MAX = 10
RELEASE_TYPE = "helm.sh/release.v1"
HELM_SYSTEM_LABELS = ("name", "owner", "status", "version", "createdAt", "modifiedAt")


def helm_time():
    """A Helm release timestamp (Go's time.Time in JSON: RFC 3339 with nanoseconds)."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%09dZ" % int((t % 1) * 1e9)


def release_body(release, namespace, revision, status, chart, values, description, first_deployed, last_deployed):
    """A release as Helm 3 marshals it (helm.sh/helm/v3 pkg/release: empty fields omitted)."""
    return {"name": release, "namespace": namespace, "version": revision,
            "info": {"first_deployed": first_deployed, "last_deployed": last_deployed, "deleted": "",
                     "description": description, "status": status},
            "chart": {"metadata": chart, "lock": None, "templates": [], "values": {}, "schema": None, "files": []},
            "config": values, "manifest": ""}


def release_secret(body, labels):
    """The Secret Helm 3 stores for one revision of a release."""
    encoded = base64.b64encode(gzip.compress(json.dumps(body).encode())).decode()
    return {"apiVersion": "v1", "kind": "Secret", "type": RELEASE_TYPE,
            "metadata": {"name": "sh.helm.release.v1.%s.v%d" % (body["name"], body["version"]),
                         "namespace": body["namespace"],
                         "labels": dict(labels, owner="helm", name=body["name"], status=body["info"]["status"],
                                        version=str(body["version"]))},
            "data": {"release": b64(encoded)}}


def decode_release(secret):
    """The release JSON of a record this file (or Helm) wrote."""
    return json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"]))))


def helm_upgrade_install(rest, release, namespace, chart, values):
    """What `helm upgrade --install` leaves in the release's records (install: revision 1; upgrade: N+1 deployed,
    the deployed one before it superseded, at most HELM_HISTORY_MAX revisions kept). Returns the new revision."""
    base = "/api/v1/namespaces/%s/secrets" % namespace
    records = rest.get(base + "?labelSelector=owner%%3Dhelm%%2Cname%%3D%s" % release).get("items") or []
    records.sort(key=lambda s: int(s["metadata"]["labels"]["version"]))
    now = helm_time()
    unix = str(int(time.time()))
    revision = int(records[-1]["metadata"]["labels"]["version"]) + 1 if records else 1
    first = decode_release(records[-1])["info"].get("first_deployed") or now if records else now
    for old in records:
        if old["metadata"]["labels"].get("status") != "deployed":
            continue
        body = decode_release(old)
        body["info"]["status"] = "superseded"
        labels = {k: v for k, v in old["metadata"]["labels"].items() if k not in HELM_SYSTEM_LABELS}
        replaced = release_secret(body, dict(labels, modifiedAt=unix))
        replaced["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        rest.request("PUT", "%s/%s" % (base, old["metadata"]["name"]), replaced)
    rest.request("POST", base, release_secret(release_body(
        release, namespace, revision, "deployed", chart, values, "Upgrade complete" if records else "Install complete",
        first, now), {"modifiedAt": unix}))
    for old in records[:max(0, len(records) + 1 - HELM_HISTORY_MAX)]:
        rest.request("DELETE", "%s/%s" % (base, old["metadata"]["name"]))
    return revision


def ks_core_values(rest):
    """The values INST's custom-values-ks-core.yaml.j2 renders that do not depend on the images or the
    ClusterConfiguration's optional sections (one lab node: replicaCount 1)."""
    version = (rest.try_get("/version") or {}).get("gitVersion", "")
    return {"replicaCount": 1, "config": {"create": False}, "adminPassword": "",
            "console": {"type": "NodePort", "port": 30880}, "kube_version": version}


# --- the controller -------------------------------------------------------------------------------


class InstallerController:
    name = "ks-installer"

    def __init__(self, lab, delay=None):
        self.lab = lab
        self.delay = float(os.environ.get("KSLAB_INSTALLER_DELAY", "2") if delay is None else delay)
        self.seen = {}  # cluster -> (uid + spec hash, first time seen)

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
        key = (cc["metadata"]["uid"], h)
        if self.seen.get(name, (None,))[0] != key:
            self.seen[name] = (key, time.time())
            log.info("%s: ClusterConfiguration spec changed (%s); installer run in %.1f s", name, h, self.delay)
        if time.time() - self.seen[name][1] < self.delay or ann.get(HANG) == "true":
            return
        self.run(name, rest, cc, h)

    def _mark(self, rest, h, result):
        rest.merge_patch(CC_PATH, {"metadata": {"annotations": {HANDLED: h, RESULT: result}}})

    # --- one installer run ------------------------------------------------------------------------

    def run(self, name, rest, cc, h):
        spec = cc.get("spec") or {}
        status = cc.get("status") or {}
        inject = (cc["metadata"].get("annotations") or {}).get(FAIL)
        try:
            reasons, new_spec = migrate(spec, cc.get("status"))
        except InstallerCrash as e:
            log.error("%s: Traceback (most recent call last): ... %s", name, e)
            self._mark(rest, h, "crashed: %s" % e)
            return
        if reasons:
            self.recreate(name, rest, cc, new_spec, reasons)
            return
        first_install = _get(status, "core", "status") != "enabled"
        for task in PRE_INSTALL:
            log.info("%s: Start installing %s", name, task)
            if inject == task:
                log.error("%s: fatal: [localhost]: FAILED! => task %s (injected by the annotation %s, kslab)",
                          name, task, FAIL)
                self._mark(rest, h, "Task '%s' failed: injected (kslab); nothing rendered" % task)
                return
        jwt = self.init_token(rest, spec)
        self.ks_core(name, rest, first_install)
        failed = []
        for task in PARALLEL:
            if task == "multicluster" and (spec.get("multicluster") or {}).get("clusterRole") == "host" and \
                    _get(status, "multicluster", "status") != "enabled":
                log.info("%s: Start installing multicluster", name)
                try:
                    if inject == task:
                        raise TaskFailed(task, "injected by the annotation %s (kslab)" % FAIL)
                    self.multicluster(rest)
                    rest.merge_patch(CC_PATH, {"status": {"multicluster": {
                        "status": "enabled", "enabledTime": enabled_time()}}})
                except TaskFailed as e:
                    failed.append(e)
            elif inject == task:
                failed.append(TaskFailed(task, "injected by the annotation %s (kslab)" % FAIL))
        # ks-config and result-info run whatever the parallel tasks did
        rest.apply({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "kubesphere-config", "namespace": KS_NS},
                    "data": {"kubesphere.yaml": render_config(spec, jwt)}}, manager=MANAGER)
        rest.merge_patch(CC_PATH, {"status": {"core": {"version": KS_VERSION}}})
        for e in failed:
            log.error("%s: %s", name, e)
        if not failed:
            log.info("%s: ###              Welcome to KubeSphere!           ###", name)
        self._mark(rest, h, "; ".join(str(e) for e in failed) or "successful")

    def recreate(self, name, rest, cc, new_spec, reasons):
        log.info("%s: migrating the ClusterConfiguration (%s)", name, ", ".join(reasons))
        body = {"apiVersion": "installer.kubesphere.io/v1alpha1", "kind": "ClusterConfiguration",
                "metadata": {"name": "ks-installer", "namespace": KS_NS, "labels": {"version": KS_VERSION}},
                "spec": new_spec}
        cluster_id = _get(cc, "status", "clusterId")
        if cluster_id:
            body["status"] = {"clusterId": cluster_id}
        rest.request("DELETE", CC_PATH)
        log.info("%s: Delete old cluster configuration successfully", name)
        rest.request("POST", CC_BASE, body)
        log.info("%s: Create cluster configuration successfully", name)

    def init_token(self, rest, spec):
        """kubesphere-secret from spec.authentication.jwtSecret (delete + create when set), or a random
        32-character one when it is empty and the Secret does not exist; returns the secret rendered."""
        wanted = (spec.get("authentication") or {}).get("jwtSecret") or ""
        if wanted:
            try:
                rest.request("DELETE", SECRET_PATH)
            except ApiError as e:
                if e.status != 404:
                    raise
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

    def webhook_client_config(self, name):
        """Where this lab's kube-apiserver reaches ks-controller-manager's webhook: lab.json
        clusters.<name>.webhook {url, caBundle} (written by kslab); else the chart's Service reference."""
        hook = ((getattr(self.lab, "state", None) or {}).get("clusters", {}).get(name) or {}).get("webhook")
        if hook and hook.get("url"):
            cfg = {"url": hook["url"].rstrip("/") + WEBHOOK_PATH}
            if hook.get("caBundle"):
                cfg["caBundle"] = hook["caBundle"]
            return cfg
        return {"service": {"name": "ks-controller-manager", "namespace": KS_NS, "path": WEBHOOK_PATH, "port": 443}}

    def ks_core(self, name, rest, first_install):
        rest.ensure({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": KS_NS}})
        rest.ensure({"apiVersion": "v1", "kind": "ServiceAccount",
                     "metadata": {"name": "kubesphere", "namespace": KS_NS}})
        for app in ("ks-apiserver", "ks-controller-manager", "ks-console"):
            tier = "frontend" if app == "ks-console" else "backend"
            available_deployment(rest, KS_NS, app, {"app": app, "tier": tier},
                                 {"name": app, "image": "kubesphere/%s:%s" % (app, KS_VERSION)})
        rest.apply(webhook_configuration(self.webhook_client_config(name)), manager=MANAGER)
        user, role, bindings = iam_objects()
        if self._served(rest, user):
            rest.ensure(user)
        # INST "Creating ks-core": helm upgrade --install ks-core, on every run
        helm_upgrade_install(rest, "ks-core", KS_NS, KS_CORE_CHART, ks_core_values(rest))
        rest.merge_patch(CC_PATH, {"status": {"core": {"status": "enabled", "enabledTime": enabled_time()}}})
        if first_install:
            for obj in [role] + bindings:
                if self._served(rest, obj):
                    rest.apply(obj, manager=MANAGER)

    @staticmethod
    def _served(rest, obj):
        try:
            rest.plural(obj["apiVersion"], obj["kind"])
            return True
        except ApiError:
            log.warning("kind %s/%s is not served here (the ks-core CRDs are not loaded): skipped",
                        obj["apiVersion"], obj["kind"])
            return False

    def multicluster(self, rest):
        """Host only (INST roles/ks-multicluster): tower, the kubefed release, its namespace label, the
        federated types (applied with ignore_errors: a kind the cluster does not serve is skipped)."""
        labels = {"app": "tower", "app.kubernetes.io/name": "tower"}
        available_deployment(rest, KS_NS, "tower", labels, {
            "name": "tower", "image": TOWER_IMAGE,
            "command": ["/proxy", "--ca-cert=/ca.crt", "--ca-key=/ca.key", "--v=4"],
            "readinessProbe": {"httpGet": {"path": "/health", "port": 8080}},
        })
        rest.apply({"apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": "tower", "namespace": KS_NS, "labels": {"app": "tower"}},
                    "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Cluster", "selector": {"app": "tower"},
                             "sessionAffinity": "None",
                             "ports": [{"port": 8080, "protocol": "TCP", "targetPort": 8080}]}}, manager=MANAGER)
        try:
            rest.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": FED_NS}}, manager=MANAGER)
            rest.apply(kubefed_config(), manager=MANAGER)
            kcm = {"control-plane": "controller-manager", "kubefed-control-plane": "controller-manager"}
            available_deployment(rest, FED_NS, "kubefed-controller-manager", kcm, {
                "name": "controller-manager", "image": "kubesphere/kubefed:v0.8.1",
                "command": ["/hyperfed/controller-manager", "--v=2"]}, service_account="kubefed-controller")
            helm_upgrade_install(rest, "kubefed", FED_NS, KUBEFED_CHART, {"controllermanager": {
                "commonAffinity": {}, "commonNodeSelector": {}, "commonTolerations": [],
                "controller": {"annotations": {}, "replicaCount": 1, "repository": "kubesphere", "image": "kubefed",
                               "tag": "v0.8.1"}}})
            rest.merge_patch("/api/v1/namespaces/%s" % FED_NS,
                             {"metadata": {"labels": {"kubesphere.io/workspace": "system-workspace"}}})
        except ApiError as e:  # helm upgrade --install kubefed failing (10 retries) fails the task
            raise TaskFailed("multicluster", e.reason) from None
        for doc in extra_documents(self.lab.crds_dir):
            doc = dict(doc, metadata=dict(doc.get("metadata") or {}))
            try:
                if rest.plural(doc["apiVersion"], doc["kind"])[1]:
                    doc["metadata"].setdefault("namespace", FED_NS)
                rest.apply(doc, manager=MANAGER)
            except ApiError as e:
                log.warning("kubectl apply %s %s: %s (ignore_errors)", doc["kind"], doc["metadata"].get("name"),
                            e.reason)


def available_deployment(rest, namespace, name, labels, container, service_account="kubesphere"):
    """A Deployment and a /status that says it is Available: **lab**, the lab plays the kubelet and the
    deployment controller (the real KubeSphere processes, where the lab runs them, run outside pods)."""
    dep = rest.apply({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"serviceAccountName": service_account, "containers": [container]}}},
    }, manager=MANAGER)
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if _get(dep, "status", "availableReplicas") == 1 and \
            _get(dep, "status", "observedGeneration") == dep["metadata"].get("generation"):
        return
    rest.merge_patch("/apis/apps/v1/namespaces/%s/deployments/%s/status" % (namespace, name), {"status": {
        "observedGeneration": dep["metadata"].get("generation", 1), "replicas": 1, "updatedReplicas": 1,
        "readyReplicas": 1, "availableReplicas": 1,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
             "message": "Deployment has minimum availability.", "lastUpdateTime": ts, "lastTransitionTime": ts},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
             "message": 'ReplicaSet "%s" has successfully progressed.' % name,
             "lastUpdateTime": ts, "lastTransitionTime": ts},
        ]}})


def host_clusters(lab):
    """(name, client, rendered config) of every lab cluster whose rendered kubesphere-config says host."""
    for name in lab.names:
        rest = lab.rest(name)
        try:
            cfg = read_ks_config(rest)
        except (ApiError, OSError) as e:
            log.warning("%s: %s", name, e)
            continue
        if cluster_role(cfg) == "host":
            yield name, rest, cfg
