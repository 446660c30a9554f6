# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. ks-installer's ClusterConfiguration and the kubesphere-config it
renders (KubeSphere 3.x; v4 keys where they differ): pure readers over plain dicts, the desired
ClusterConfiguration, and what "applied" means. The checks before a role change are in checks/roles.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import yaml
except ImportError:  # reported by the module that uses it
    yaml = None

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.common import get_path, merge
from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint, same_secret
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.vocabulary import (
    DEFAULT_HOST_CLUSTER_NAME, KS_NAMESPACE)

CC_API_VERSION = "installer.kubesphere.io/v1alpha1"
CC_KIND = "ClusterConfiguration"
CC_NAME = "ks-installer"
CONFIG_MAP = "kubesphere-config"
CONFIG_KEY = "kubesphere.yaml"
ROLES = ("host", "member", "none")


def parse_config(configmap):
    """The kubesphere.yaml document of a kubesphere-config ConfigMap as a dict ({} when absent).
    Raises ValueError when it is not YAML (the message says so)."""
    text = get_path(configmap or {}, ("data", CONFIG_KEY))
    if not text:
        return {}
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ValueError("%s/%s key %s is not valid YAML: %s" % (KS_NAMESPACE, CONFIG_MAP, CONFIG_KEY, e))
    return doc if isinstance(doc, dict) else {}


def config_role(config):
    """multicluster.clusterRole as rendered (None when the config has none)."""
    return get_path(config, "multicluster.clusterRole")


def config_jwt_secret(config):
    """The rendered jwtSecret: authentication.jwtSecret (3.x) or authentication.issuer.jwtSecret (v4)."""
    return get_path(config, "authentication.jwtSecret") or get_path(config, "authentication.issuer.jwtSecret")


def config_max_clock_skew(config):
    return get_path(config, "authentication.maximumClockSkew") or get_path(config, "authentication.issuer.maximumClockSkew")


def spec_role(cc):
    return get_path(cc or {}, "spec.multicluster.clusterRole") or "none"


def enabled_components(cc):
    """Components the installer reports enabled, from status.<component>.status == 'enabled'."""
    status = (cc or {}).get("status") or {}
    out = []
    for key, value in sorted(status.items()):
        if isinstance(value, dict) and value.get("status") == "enabled":
            out.append(key)
        elif key == "network" and isinstance(value, dict):  # status.network.topology.status
            out.extend("network.%s" % k for k, v in sorted(value.items())
                       if isinstance(v, dict) and v.get("status") == "enabled")
    return out


def failed_components(cc):
    """Components whose CC status says `failed`. Real ks-installer v3.4.1 writes that for ONE task only,
    servicemesh (INST roles/ks-istio/tasks/main.yaml); every other failed task shows only in the installer
    pod's log, so this is a reading for cluster_info, never the evidence that a run failed."""
    status = (cc or {}).get("status") or {}
    return sorted(k for k, v in status.items() if isinstance(v, dict) and v.get("status") == "failed")


def installer_version(cc):
    """status.core.version, else the CC's `version` label (what ks-installer stamps)."""
    return get_path(cc or {}, "status.core.version") or get_path(cc or {}, ("metadata", "labels", "version"))


# ---------------------------------------------------------------------------------------------------
# desired state (what multicluster_role writes)

JWT_PATHS = (("spec", "authentication", "jwtSecret"),)
# Where a jwtSecret can sit in the objects a module reads or writes; results and diffs mask these.
SECRET_PATHS = JWT_PATHS + (("data", CONFIG_KEY), ("data", "secret"), ("data", "token"))
HOST_OPTIONS = ("proxyPublishAddress", "hostClusterName")
# Host options an empty string removes (the merge patch's null): without proxyPublishAddress, ks-apiserver takes
# the address from tower's LoadBalancer Service (KS pkg/kapis/cluster/v1alpha1/handler.go populateProxyAddress).
CLEARABLE_HOST_OPTIONS = ("proxyPublishAddress",)


def role_patch(role, jwt_secret=None, host_options=None, components=None):
    """The merge patch of the ClusterConfiguration's spec for a role:
    clusterRole, the host's options (only for `host`; None ones left out; an empty proxyPublishAddress
    is None in the patch, which removes it, so the address comes from tower's Service again), the jwtSecret
    (only when given) and components to enable (dotted names, see components.py)."""
    if role not in ROLES:
        raise ValueError("clusterRole must be one of %s, not %r" % (", ".join(ROLES), role))
    multicluster = {"clusterRole": role}
    if role == "host":
        for key, value in sorted((host_options or {}).items()):
            if key in HOST_OPTIONS and value:
                multicluster[key] = value
            elif key in CLEARABLE_HOST_OPTIONS and value == "":
                multicluster[key] = None
    spec = {"multicluster": multicluster}
    if jwt_secret:
        spec["authentication"] = {"jwtSecret": jwt_secret}
    for name in components or ():
        node = spec
        for key in name.split("."):
            node = node.setdefault(key, {})
        node["enabled"] = True
    return {"spec": spec}


def desired_cc(patch):
    """The ClusterConfiguration object that ensure_object() makes true (only the patched fields)."""
    return dict({"apiVersion": CC_API_VERSION, "kind": CC_KIND,
                 "metadata": {"name": CC_NAME, "namespace": KS_NAMESPACE}}, **patch)


def host_cluster_name(config_or_cc):
    """The name of the host's own Cluster object: multicluster.hostClusterName (rendered config or CC
    spec), else KubeSphere's default `host`."""
    return (get_path(config_or_cc or {}, "multicluster.hostClusterName")
            or get_path(config_or_cc or {}, "spec.multicluster.hostClusterName") or DEFAULT_HOST_CLUSTER_NAME)


# ---------------------------------------------------------------------------------------------------
# applied? (what the wait loop polls)


def applied_problems(role, config, cc, jwt_secret=None, host_options=None):
    """What still differs between the wanted role and what the installer rendered; [] once applied.

    The rendered kubesphere-config must show the role and (when one is wanted) the jwtSecret, compared
    by fingerprint; the host also needs `status.multicluster.status: enabled` and its options rendered.
    Each item is safe to print (secrets appear only as fingerprints)."""
    problems = []
    rendered = config_role(config) or "none"
    if rendered != role:
        problems.append("kubesphere-config shows clusterRole '%s' (wanted '%s')" % (rendered, role))
    if jwt_secret and not same_secret(config_jwt_secret(config), jwt_secret):
        problems.append("kubesphere-config jwtSecret is %s (wanted %s)"
                        % (fingerprint(config_jwt_secret(config)) or "empty", fingerprint(jwt_secret)))
    if role == "host":
        status = get_path(cc or {}, "status.multicluster.status")
        if status != "enabled":
            problems.append("status.multicluster.status is %s (wanted enabled)" % (status or "unset"))
        for key, value in sorted((host_options or {}).items()):
            if value and get_path(config, ("multicluster", key)) != value:
                problems.append("kubesphere-config multicluster.%s is %r (wanted %r)"
                                % (key, get_path(config, ("multicluster", key)), value))
            elif value == "" and key in CLEARABLE_HOST_OPTIONS and get_path(config, ("multicluster", key)):
                problems.append("kubesphere-config multicluster.%s is %r (wanted none)"
                                % (key, get_path(config, ("multicluster", key))))
    return problems


def core_enabled_time(cc):
    """status.core.enabledTime: ks-installer's ks-core tasks rewrite it on EVERY run (INST
    roles/ks-core/ks-core/tasks/main.yaml, no `when`), so it moving means a run got past ks-core."""
    return get_path(cc or {}, "status.core.enabledTime")


def run_since(before_cc, cc):
    """Whether a ks-installer run got past ks-core since `before_cc` was read (enabledTime moved)."""
    return bool(core_enabled_time(cc)) and core_enabled_time(cc) != core_enabled_time(before_cc)


def multicluster_task_failed(role, before_config, before_cc, config, cc):
    """The evidence, without any `failed` status, that the installer's run since our write ended with a
    failed multicluster task: for a host, the kubesphere-config rendered before our write did not show
    clusterRole host and now does (ks-config renders at the very end of a run, failed parallel task or
    not), status.core.enabledTime moved since then (that run passed ks-core), and status.multicluster is
    still not `enabled` (the task writes it only when it succeeds, before ks-config runs)."""
    return (role == "host" and (config_role(before_config) or "none") != "host" and config_role(config) == "host"
            and run_since(before_cc, cc) and get_path(cc or {}, "status.multicluster.status") != "enabled")


def before_objects(before):
    """Minimal ClusterConfiguration and kubesphere-config carrying just the facts read before our write
    ({config_role, enabled_time}), for multicluster_task_failed and installer_activity."""
    before = before or {}
    cc = {"status": {"core": {"enabledTime": before["enabled_time"]}}} if before.get("enabled_time") else {}
    config = {"multicluster": {"clusterRole": before["config_role"]}} if before.get("config_role") else {}
    return cc, config


def installer_activity(cc, config, before_cc=None):
    """One line on what the installer last did, for results, timeout and failure messages: the rendered
    role, the jwtSecret fingerprint, status.core.enabledTime (and, given the CC read before our write,
    whether it moved since) and status.multicluster. Safe to print."""
    parts = ["rendered clusterRole %s" % (config_role(config) or "(no kubesphere-config yet)")]
    if config_jwt_secret(config):
        parts.append("rendered jwtSecret %s" % fingerprint(config_jwt_secret(config)))
    when = core_enabled_time(cc)
    core = "status.core.enabledTime %s" % (when or "unset")
    if before_cc is not None:
        core += (" (moved since our write: a run got past ks-core)" if run_since(before_cc, cc)
                 else " (not moved since our write: no run got past ks-core since)")
    parts.append(core)
    mc = get_path(cc or {}, ("status", "multicluster")) or {}
    parts.append("status.multicluster %s" % (
        "%s since %s" % (mc.get("status", "?"), mc["enabledTime"]) if mc.get("enabledTime") else mc.get("status", "unset")))
    return "; ".join(parts)


RERUN_HINT = ("ks-installer runs again only when the ClusterConfiguration's spec changes: once the cause is fixed, "
              "restart it (kubectl -n %s rollout restart deployment ks-installer) and run this again" % KS_NAMESPACE)


# ---------------------------------------------------------------------------------------------------
# before install

# The spec of ks-installer v3.4.1's own deploy/cluster-configuration.yaml (its keys and defaults, without
# the commented-out ones). ks-installer's first step (INST controller/installRunner.py
# generate_new_cluster_configuration) deletes and re-creates a ClusterConfiguration that lacks what this
# shape has (spec.terminal, events.ruler, servicemesh.istio, the devops jenkins keys, common.es ...), so the
# collection writes this shape: the object it creates is the one the installer keeps.
DEFAULT_SPEC = {
    "persistence": {"storageClass": ""},
    "authentication": {"jwtSecret": ""},
    "local_registry": "",
    "etcd": {"monitoring": False, "endpointIps": "localhost", "port": 2379, "tlsEnable": True},
    "common": {
        "core": {"console": {"enableMultiLogin": True, "port": 30880, "type": "NodePort"}},
        "redis": {"enabled": False, "enableHA": False, "volumeSize": "2Gi"},
        "openldap": {"enabled": False, "volumeSize": "2Gi"},
        "minio": {"volumeSize": "20Gi"},
        "monitoring": {"endpoint": "http://prometheus-operated.kubesphere-monitoring-system.svc:9090",
                       "GPUMonitoring": {"enabled": False}},
        "gpu": {"kinds": [{"resourceName": "nvidia.com/gpu", "resourceType": "GPU", "default": True}]},
        "es": {"enabled": False, "logMaxAge": 7, "elkPrefix": "logstash",
               "basicAuth": {"enabled": False, "username": "", "password": ""},
               "externalElasticsearchHost": "", "externalElasticsearchPort": ""},
        "opensearch": {"enabled": True, "logMaxAge": 7, "opensearchPrefix": "whizard",
                       "basicAuth": {"enabled": True, "username": "admin", "password": "admin"},
                       "externalOpensearchHost": "", "externalOpensearchPort": "", "dashboard": {"enabled": False}},
    },
    "alerting": {"enabled": False},
    "auditing": {"enabled": False},
    "devops": {"enabled": False, "jenkinsCpuReq": 0.5, "jenkinsCpuLim": 1, "jenkinsMemoryReq": "4Gi",
               "jenkinsMemoryLim": "4Gi", "jenkinsVolumeSize": "16Gi"},
    "events": {"enabled": False, "ruler": {"enabled": True, "replicas": 2}},
    "logging": {"enabled": False, "logsidecar": {"enabled": True, "replicas": 2}},
    "metrics_server": {"enabled": False},
    "monitoring": {"storageClass": "", "node_exporter": {"port": 9100},
                   "gpu": {"nvidia_dcgm_exporter": {"enabled": False}}},
    "multicluster": {"clusterRole": "none"},
    "network": {"networkpolicy": {"enabled": False}, "ippool": {"type": "none"}, "topology": {"type": "none"}},
    "openpitrix": {"store": {"enabled": False}},
    "servicemesh": {"enabled": False, "istio": {"components": {
        "ingressGateways": [{"name": "istio-ingressgateway", "enabled": False}], "cni": {"enabled": False}}}},
    "edgeruntime": {"enabled": False, "kubeedge": {
        "enabled": False,
        "cloudCore": {"cloudHub": {"advertiseAddress": [""]},
                      "service": {"cloudhubNodePort": "30000", "cloudhubQuicNodePort": "30001",
                                  "cloudhubHttpsNodePort": "30002", "cloudstreamNodePort": "30003",
                                  "tunnelNodePort": "30004"}},
        "iptables-manager": {"enabled": True, "mode": "external"}}},
    "gatekeeper": {"enabled": False},
    "terminal": {"timeout": 600},
}


def before_install_cc(patch, version="v3.4.1"):
    """The cluster-configuration.yaml a user installs KubeSphere with (DEFAULT_SPEC, the shape of INST
    deploy/cluster-configuration.yaml), with the role patch applied: the installer then comes up in
    that role, on the object as written."""
    base = {"apiVersion": CC_API_VERSION, "kind": CC_KIND,
            "metadata": {"name": CC_NAME, "namespace": KS_NAMESPACE, "labels": {"version": version}},
            "spec": DEFAULT_SPEC}
    return merge(base, patch)  # merge copies: DEFAULT_SPEC is never changed


def install_file_documents(text):
    """The YAML documents of an existing cluster-configuration.yaml (a file of ks-installer's or KubeKey's
    config-sample.yaml, whose ClusterConfiguration sits beside a KubeKey Cluster) and the index of the
    ClusterConfiguration among them. Raises ValueError (safe to print: no values quoted) when the text is not
    YAML or holds no ClusterConfiguration, or more than one."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ValueError("is not valid YAML%s" % (" (line %d)" % (mark.line + 1) if mark else ""))
    found = [i for i, d in enumerate(docs) if isinstance(d, dict) and d.get("kind") == CC_KIND
             and str(d.get("apiVersion", "")).startswith(CC_API_VERSION.split("/", 1)[0] + "/")]
    if len(found) != 1:
        raise ValueError("holds %s ClusterConfiguration (%s) document" % ("no" if not found else "more than one", CC_API_VERSION))
    return docs, found[0]


def install_file_text(docs):
    """The text of the install file's documents (one document: as ks-installer's own file, several: ---)."""
    if len(docs) == 1:
        return yaml.safe_dump(docs[0], sort_keys=False, default_flow_style=False)
    return yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False, explicit_start=True)


# ---------------------------------------------------------------------------------------------------
# the installer pod's log (the real ks-installer writes few failures into the CC status)

INSTALLER_POD_SELECTOR = "app in (ks-install, ks-installer)"
_LOG_MARKERS = ("Start installing", "status is", "failed:", "Welcome to KubeSphere", "Collecting installation results")


def installer_log_summary(text, lines=3):
    """The last few progress lines of a ks-installer pod log ("Start installing multicluster",
    "task multicluster status is successful  (3/6)", "Task 'openpitrix' failed:", the welcome banner),
    joined with ' | '; '' when there is none. Source: INST controller/installRunner.py."""
    found = [" ".join(line.split()) for line in (text or "").splitlines() if any(m in line for m in _LOG_MARKERS)]
    return " | ".join(found[-lines:])


def installer_log(conn):
    """The progress lines of the ks-installer pod's log ('' when there is no such pod or log)."""
    try:
        pods = conn.list("v1", "Pod", KS_NAMESPACE, label_selector=INSTALLER_POD_SELECTOR)
        if not pods:
            return ""
        name = get_path(pods[-1], "metadata.name")
        status, _headers, body = conn.raw("GET", "/api/v1/namespaces/%s/pods/%s/log?tailLines=300" % (KS_NAMESPACE, name))
    except KubeSphereError:
        return ""
    return installer_log_summary(body if isinstance(body, str) and status < 400 else "")
