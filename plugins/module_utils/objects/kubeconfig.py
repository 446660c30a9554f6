# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Kubeconfigs: the ONE parser of kubeconfigs in the collection (pure but
for reading the files a kubeconfig path names; needs only PyYAML).

- `parse_text`, `is_inline`: kubeconfig content given inline (YAML, or JSON as some credential stores inject
  it) rather than a path; what the connection hands to kubernetes.core;
- `load`, `select`: content as a mapping, and the context client-go's clientcmd picks, with its cluster and
  user;
- `view`: what that context says (server, TLS, CA, the kind of credential), for the import checks and the
  dedicated credential;
- `summary`: the contexts of a kubeconfig path or content and their servers, never its secrets, for the
  fleet checks;
- `flatten`: one self-contained context, as `kubectl config view --raw --minify --flatten` writes it (the
  kubeconfig the host stores in a Cluster);
- `secrets`: every secret a kubeconfig holds;
- `server_host`, `is_loopback`: an API server URL."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import ipaddress
import os

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover  Python 2 is not supported by ansible-core 2.16+
    from urlparse import urlsplit

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
# Fields that name files instead of embedding data (a kubeconfig stored in a Cluster cannot use them).
CLUSTER_FILE_FIELDS = ("certificate-authority",)
USER_FILE_FIELDS = ("client-certificate", "client-key")


# ---------------------------------------------------------------------------------------------------
# content or path


def _content_shape(text):
    """Text shaped like content rather than a path: several lines, or a JSON object."""
    text = text.strip()
    return bool(text) and ("\n" in text or text.startswith("{"))


def parse_text(value):
    """Kubeconfig *content* given as text (YAML, or JSON as some credential stores inject it) as a dict;
    None when `value` is not kubeconfig text (a path, a list of paths, a dict, None).
    Raises ValueError, saying why, for text that looks like a kubeconfig but cannot be read."""
    if not isinstance(value, str) or not _content_shape(value):
        return None
    text = value.strip()
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


def load(value):
    """A kubeconfig given as content (text, bytes, or a dict already parsed) as a dict.
    Raises ValueError with a sentence when it is not a YAML mapping."""
    if isinstance(value, (str, bytes)):
        if yaml is None:
            raise ValueError("reading a kubeconfig needs the PyYAML Python package on the controller")
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError as e:
            raise ValueError("the kubeconfig is not YAML: %s" % str(e).splitlines()[0])
    if not isinstance(value, dict):
        raise ValueError("the kubeconfig is not a YAML mapping")
    return value


def read(value):
    """(dict, folder) of a kubeconfig given as a path, as content (several lines or a JSON object) or as a
    dict; `folder` is the file's folder, against which the relative file names in it are resolved (None for
    content). Raises ValueError with a sentence (IOError/OSError when the file cannot be opened)."""
    if isinstance(value, dict):
        return value, None
    text = str(value)
    if _content_shape(text):
        return load(text), None
    path = os.path.expanduser(text)
    if not os.path.exists(path):
        raise ValueError("kubeconfig file %s does not exist" % text)
    with open(path) as f:
        content = f.read()
    return load(content), os.path.dirname(os.path.abspath(path))


# ---------------------------------------------------------------------------------------------------
# one context


def _named(doc, section, name, key):
    for entry in doc.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry.get(key) or {}
    return None


def select(doc, context=None):
    """The context client-go's clientcmd picks in a kubeconfig dict (`context`, or the current one):
    {context, context_body, cluster_name, cluster, user_name, user} where cluster and user are the entries'
    bodies (user {} when the context names no known user). Raises ValueError with a sentence."""
    ctx_name = context or doc.get("current-context")
    if not ctx_name:
        raise ValueError("the kubeconfig has no current-context and none was given")
    ctx = _named(doc, "contexts", ctx_name, "context")
    if ctx is None:
        raise ValueError("the kubeconfig has no context %r" % ctx_name)
    cluster = _named(doc, "clusters", ctx.get("cluster"), "cluster")
    if cluster is None:
        raise ValueError("context %r names cluster %r, which the kubeconfig does not define" % (ctx_name, ctx.get("cluster")))
    return {"context": ctx_name, "context_body": ctx, "cluster_name": ctx.get("cluster"), "cluster": cluster,
            "user_name": ctx.get("user"), "user": _named(doc, "users", ctx.get("user"), "user") or {}}


def view(value, context=None):
    """What a kubeconfig (content: text or dict) says, as client-go's clientcmd would pick it: the context
    (`context` or the current one), its cluster's server and TLS settings, its user's kind of credential.

    Returns {context, cluster, user, server, insecure, has_ca, ca_data, auth, client_certificate_data, token,
    files} where auth is one of certificate, token, exec, auth-provider, basic, none; ca_data is the
    cluster's certificate-authority-data (base64 text) or None; client_certificate_data is the PEM bytes
    (None when the certificate is a file or absent); files lists the fields that name files instead of
    embedding data (certificate-authority, client-certificate, client-key, tokenFile), which a kubeconfig
    stored in a Cluster cannot use.
    Raises ValueError with a sentence when the content is not a usable kubeconfig."""
    picked = select(load(value), context)
    cluster, user = picked["cluster"], picked["user"]
    cert_data = None
    if user.get("client-certificate-data"):
        try:
            cert_data = base64.b64decode(user["client-certificate-data"])
        except (binascii.Error, ValueError):
            raise ValueError("user %r: client-certificate-data is not base64" % picked["user_name"])
    if user.get("client-certificate-data") or user.get("client-certificate"):
        auth = "certificate"
    elif user.get("token") or user.get("tokenFile"):
        auth = "token"
    elif user.get("exec"):
        auth = "exec"
    elif user.get("auth-provider"):
        auth = "auth-provider"
    elif user.get("username"):
        auth = "basic"
    else:
        auth = "none"
    return {
        "context": picked["context"],
        "cluster": picked["cluster_name"],
        "user": picked["user_name"],
        "server": cluster.get("server"),
        "insecure": bool(cluster.get("insecure-skip-tls-verify")),
        "has_ca": bool(cluster.get("certificate-authority-data") or cluster.get("certificate-authority")),
        "ca_data": cluster.get("certificate-authority-data") or None,
        "auth": auth,
        "client_certificate_data": cert_data,
        "token": bool(user.get("token") or user.get("tokenFile")),
        "files": [k for k in CLUSTER_FILE_FIELDS if cluster.get(k)]
        + [k for k in USER_FILE_FIELDS + ("tokenFile",) if user.get(k)],
    }


def flatten(value, context=None):
    """One-context, self-contained kubeconfig text (`kubectl config view --raw --minify --flatten`) of a
    kubeconfig given as a path, a dict or text. Files named by the kubeconfig are embedded (relative
    paths from the kubeconfig's folder). Raises ValueError with a sentence."""
    doc, base_dir = read(value)
    picked = select(doc, context)
    body = picked["context_body"]

    def embed(section, fields):
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

    flat = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": picked["cluster_name"], "cluster": embed(picked["cluster"], CLUSTER_FILE_FIELDS)}],
        "users": [{"name": picked["user_name"] or "user", "user": embed(picked["user"], USER_FILE_FIELDS)}],
        "contexts": [{"name": picked["context"],
                      "context": {k: v for k, v in body.items() if k in ("cluster", "user", "namespace")}}],
        "current-context": picked["context"],
    }
    return yaml.safe_dump(flat, sort_keys=False, default_flow_style=False)


# ---------------------------------------------------------------------------------------------------
# every context, for the fleet checks


def summary(value):
    """What the fleet checks need to know about a kubeconfig (path or content), never its secrets:
    {source, exists, error, contexts: {context: server URL}, current}. None when `value` is unset."""
    if not value:
        return None
    out = {"source": "inline content" if is_inline(value) else str(value), "exists": True, "error": None,
           "contexts": {}, "current": None}
    data = value
    if isinstance(value, str):
        if not is_inline(value):
            if not os.path.isfile(value):
                out["exists"] = False
                return out
            try:
                with open(value) as f:
                    value = f.read()
            except (IOError, OSError) as e:
                out["error"] = "cannot be read (%s)" % e
                return out
        try:
            data = parse_text(value) if is_inline(value) else yaml.safe_load(value)
        except (ValueError, yaml.YAMLError) as e:
            out["error"] = "is not valid YAML (%s)" % getattr(e, "problem", e)
            return out
    if not isinstance(data, dict):
        out["error"] = "is not a kubeconfig (not a mapping)"
        return out
    servers = {c.get("name"): (c.get("cluster") or {}).get("server") for c in data.get("clusters") or []
               if isinstance(c, dict)}
    for ctx in data.get("contexts") or []:
        if isinstance(ctx, dict) and ctx.get("name"):
            out["contexts"][ctx["name"]] = servers.get((ctx.get("context") or {}).get("cluster"))
    out["current"] = data.get("current-context")
    return out


# ---------------------------------------------------------------------------------------------------
# secrets and servers


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


def server_host(server):
    """The host part of an API server URL ('https://10.0.0.1:6443' -> '10.0.0.1'), lower-cased."""
    try:
        return (urlsplit(server or "").hostname or "").lower() or None
    except ValueError:
        return None


def is_loopback(server):
    """True when the API server URL points at this machine (127.0.0.0/8, ::1, localhost): inside the
    host's ks-controller-manager pod that address is the pod itself, never the member."""
    host = server_host(server)
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
