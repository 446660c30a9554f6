# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The kubeconfig the host stores for a direct member: the user's
kubeconfig (a path, a dict or text) flattened to one self-contained context, the files it names read and
embedded."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os

try:
    import yaml
except ImportError:  # reported by the module (kubernetes needs PyYAML too)
    yaml = None


def flatten_kubeconfig(value, context=None):
    """One-context, self-contained kubeconfig text (`kubectl config view --raw --minify --flatten`) of a
    kubeconfig given as a path, a dict or text. Files named by the kubeconfig are embedded (relative
    paths from the kubeconfig's folder). Raises ValueError with a sentence."""
    doc, base_dir = _load(value)
    ctx_name = context or doc.get("current-context")
    ctx = next((c for c in doc.get("contexts") or [] if c.get("name") == ctx_name), None)
    if ctx is None:
        raise ValueError("the kubeconfig has no context %r" % ctx_name)
    body = dict(ctx.get("context") or {})
    cluster = next((c for c in doc.get("clusters") or [] if c.get("name") == body.get("cluster")), None)
    user = next((u for u in doc.get("users") or [] if u.get("name") == body.get("user")), None)
    if cluster is None:
        raise ValueError("context %r names cluster %r, which the kubeconfig does not define" % (ctx_name, body.get("cluster")))
    flat = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": cluster["name"],
                      "cluster": _embed(cluster.get("cluster"), ("certificate-authority",), base_dir)}],
        "users": [{"name": body.get("user") or "user",
                   "user": _embed((user or {}).get("user"), ("client-certificate", "client-key"), base_dir)}],
        "contexts": [{"name": ctx_name, "context": {k: v for k, v in body.items() if k in ("cluster", "user", "namespace")}}],
        "current-context": ctx_name,
    }
    return yaml.safe_dump(flat, sort_keys=False, default_flow_style=False)


def _load(value):
    """(the kubeconfig as a dict, the folder its relative paths are read from or None)."""
    if isinstance(value, dict):
        return value, None
    base_dir = None
    text = str(value)
    inline = "\n" in text.strip() or text.strip().startswith("{")
    if not inline:
        path = os.path.expanduser(text)
        if not os.path.exists(path):
            raise ValueError("kubeconfig file %s does not exist" % text)
        base_dir = os.path.dirname(os.path.abspath(path))
        with open(path) as f:
            text = f.read()
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ValueError("the kubeconfig is not YAML: %s" % str(e).splitlines()[0])
    if not isinstance(doc, dict):
        raise ValueError("the kubeconfig is not a YAML mapping")
    return doc, base_dir


def _embed(section, fields, base_dir):
    """A kubeconfig section with the files it names read into its *-data fields (and tokenFile into token)."""
    out = dict(section or {})
    for field in fields:
        if out.get(field):
            path = out.pop(field)
            if base_dir and not os.path.isabs(path):
                path = os.path.join(base_dir, path)
            try:
                with open(os.path.expanduser(path), "rb") as fh:
                    out[field + "-data"] = base64.b64encode(fh.read()).decode("ascii")
            except (IOError, OSError) as e:
                raise ValueError("the kubeconfig's %s %s cannot be read: %s" % (field, path, e))
    if out.get("tokenFile"):
        path = out.pop("tokenFile")
        with open(os.path.expanduser(path)) as fh:
            out["token"] = fh.read().strip()
    return out
