# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Kubeconfig content, as options and inventories give it (pure; needs
only PyYAML): the ONE parser of inline kubeconfig text (YAML, or JSON as some credential stores inject
it), used by the fleet checks and by the connection, and the secrets a kubeconfig holds."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import yaml
except ImportError:  # reported by the module or plugin that needs it
    yaml = None

# Every field of a kubeconfig that holds a secret, wherever it sits (users[].user, auth-provider config,
# exec plugin env): what kubernetes.core 7 redacts, and the OIDC fields besides.
SECRET_FIELDS = frozenset((
    "token", "password", "secret", "client-key-data", "client-certificate-data", "certificate-authority-data",
    "api_key", "access-token", "refresh-token", "id-token", "client-secret",
))


def parse_text(value):
    """Kubeconfig *content* given as text (YAML, or JSON as some credential stores inject it) as a dict;
    None when `value` is not kubeconfig text (a path, a list of paths, a dict, None).
    Raises ValueError, saying why, for text that looks like a kubeconfig but cannot be read."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or ("\n" not in text and not text.startswith("{")):
        return None
    if not (text.startswith("{") or "clusters" in text or "apiVersion" in text or "contexts" in text):
        return None
    try:
        data = yaml.safe_load(text)  # JSON is YAML
    except yaml.YAMLError as e:
        raise ValueError("the inline kubeconfig is neither YAML nor JSON: %s" % getattr(e, "problem", e))
    if not isinstance(data, dict):
        raise ValueError("the inline kubeconfig is not a mapping")
    return data


def is_inline(value):
    """Kubeconfig content (a dict, or YAML/JSON text) rather than a path."""
    if isinstance(value, dict):
        return True
    try:
        return parse_text(value) is not None
    except ValueError:
        return True


def secrets(data):
    """Every secret string in a kubeconfig dict: the values of SECRET_FIELDS at any depth, and
    the values of an exec plugin's environment."""
    found = []

    def walk(node, key=None):
        if isinstance(node, dict):
            if key == "exec":
                for item in node.get("env") or []:
                    if isinstance(item, dict) and isinstance(item.get("value"), str) and item["value"]:
                        found.append(item["value"])
            for k, v in node.items():
                if k in SECRET_FIELDS and isinstance(v, str) and v:
                    found.append(v)
                else:
                    walk(v, k)
        elif isinstance(node, list):
            for item in node:
                walk(item, key)

    walk(data or {})
    return found
