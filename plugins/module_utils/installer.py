# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# Apache License 2.0 (see LICENSE)
"""PRIVATE to kubesphere.multicluster. ks-installer's ClusterConfiguration and the kubesphere-config it
renders (KubeSphere 3.x; v4 keys where they differ): pure readers over plain dicts.

Facts: ../shared/docs/kubesphere-api.md sections 1 and 2 (the project's fact sheet)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import yaml
except ImportError:  # reported by the module that uses it
    yaml = None

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import get_path

KS_NAMESPACE = "kubesphere-system"
CC_API_VERSION = "installer.kubesphere.io/v1alpha1"
CC_KIND = "ClusterConfiguration"
CC_NAME = "ks-installer"
CONFIG_MAP = "kubesphere-config"
CONFIG_KEY = "kubesphere.yaml"
ROLES = ("host", "member", "none")
# Components whose CC status the installer writes as status.<name>.status (fact sheet section 1).
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
