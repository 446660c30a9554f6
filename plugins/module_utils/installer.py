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

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import get_path, merge
from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint, same_secret

KS_NAMESPACE = "kubesphere-system"
CC_API_VERSION = "installer.kubesphere.io/v1alpha1"
CC_KIND = "ClusterConfiguration"
CC_NAME = "ks-installer"
CONFIG_MAP = "kubesphere-config"
CONFIG_KEY = "kubesphere.yaml"
ROLES = ("host", "member", "none")
# Components whose CC status the installer writes as status.<name>.status.
COMPONENT_STATUS_KEYS = ("core", "monitoring", "multicluster", "openpitrix", "network", "devops", "logging",
                         "events", "auditing", "alerting", "servicemesh", "gatekeeper", "edgeruntime",
                         "metricsServer", "fluentbit", "opensearch", "es", "minio", "openldap", "redis")


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
DEFAULT_HOST_CLUSTER_NAME = "host"


def role_patch(role, jwt_secret=None, host_options=None, components=None):
    """The merge patch of the ClusterConfiguration's spec for a role:
    clusterRole, the host's options (only for `host`, empty ones left out), the member's jwtSecret
    (only when given) and components to enable (dotted names, see components.py)."""
    if role not in ROLES:
        raise ValueError("clusterRole must be one of %s, not %r" % (", ".join(ROLES), role))
    multicluster = {"clusterRole": role}
    if role == "host":
        multicluster.update((k, v) for k, v in sorted((host_options or {}).items()) if k in HOST_OPTIONS and v)
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
    return problems


def installer_activity(cc, config):
    """One line on what the installer last did, for timeout and failure messages: the rendered role,
    the jwtSecret fingerprint, failed components, and the status times it wrote."""
    parts = ["rendered clusterRole %s" % (config_role(config) or "(no kubesphere-config yet)")]
    if config_jwt_secret(config):
        parts.append("rendered jwtSecret %s" % fingerprint(config_jwt_secret(config)))
    failed = failed_components(cc)
    parts.append("failed components: %s" % (", ".join(failed) if failed else "none"))
    for key in ("core", "multicluster"):
        status = get_path(cc or {}, ("status", key)) or {}
        if status:
            since = " since %s" % status["enabledTime"] if status.get("enabledTime") else ""
            parts.append("status.%s %s%s" % (key, status.get("status", "?"), since))
    return "; ".join(parts)


def new_failures(before_cc, cc):
    """Components that failed since `before_cc` was read (the installer ran and a task failed)."""
    return sorted(set(failed_components(cc)) - set(failed_components(before_cc)))


# ---------------------------------------------------------------------------------------------------
# before install


def before_install_cc(patch, version="v3.4.1"):
    """The cluster-configuration.yaml a user installs KubeSphere with (INST deploy/cluster-configuration.yaml,
    multi-cluster keys), with the role patch applied: the installer then comes up in that role."""
    base = {
        "apiVersion": CC_API_VERSION, "kind": CC_KIND,
        "metadata": {"name": CC_NAME, "namespace": KS_NAMESPACE, "labels": {"version": version}},
        "spec": {
            "persistence": {"storageClass": ""},
            "authentication": {"jwtSecret": ""},
            "local_registry": "",
            "etcd": {"monitoring": False, "endpointIps": "localhost", "port": 2379, "tlsEnable": True},
            "common": {"core": {"console": {"enableMultiLogin": True, "port": 30880, "type": "NodePort"}}},
            "alerting": {"enabled": False}, "auditing": {"enabled": False}, "devops": {"enabled": False},
            "events": {"enabled": False}, "logging": {"enabled": False},
            "metrics_server": {"enabled": False}, "monitoring": {"storageClass": ""},
            "multicluster": {"clusterRole": "none"},
            "network": {"networkpolicy": {"enabled": False}, "ippool": {"type": "none"},
                        "topology": {"type": "none"}},
            "openpitrix": {"store": {"enabled": False}},
            "servicemesh": {"enabled": False},
        },
    }
    return merge(base, patch)


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
