# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster: the ONLY module that imports kubernetes.core (and the kubernetes
client). Everything else in the collection talks to clusters through `Connection` and writes through
`ensure_object` / `delete_object`, so auth options, check mode, diff and secret masking are decided
once, here.

A module that talks to two clusters takes the second cluster's auth options with a prefix
(`host_kubeconfig`, `host_context`, ...): see `auth_argspec(prefix)` and `Connection(module, prefix=)`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import email.utils
import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, describe
from ansible_collections.kubesphere.multicluster.plugins.module_utils import objects

IMPORT_ERROR = None
try:
    import yaml
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
    from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError, ResourceNotFoundError
except ImportError:  # reported by KubeSphereModule, with what to install
    IMPORT_ERROR = traceback.format_exc()
    AUTH_ARG_SPEC = {
        "kubeconfig": {"type": "raw", "no_log": True}, "context": {}, "host": {}, "api_key": {"no_log": True},
        "username": {}, "password": {"no_log": True}, "validate_certs": {"type": "bool", "aliases": ["verify_ssl"]},
        "ca_cert": {"type": "path", "aliases": ["ssl_ca_cert"]}, "client_cert": {"type": "path", "aliases": ["cert_file"]},
        "client_key": {"type": "path", "aliases": ["key_file"]}, "proxy": {"type": "str"}, "no_proxy": {"type": "str"},
        "proxy_headers": {"type": "dict"}, "persist_config": {"type": "bool"}, "impersonate_user": {},
        "impersonate_groups": {"type": "list", "elements": "str"},
    }

    class CoreException(Exception):
        """Placeholder: kubernetes.core is missing (the module fails before using it)."""

    class DynamicApiError(Exception):
        """Placeholder: the kubernetes client is missing."""

    class NotFoundError(DynamicApiError):
        """Placeholder: the kubernetes client is missing."""

    class ResourceNotFoundError(Exception):
        """Placeholder: the kubernetes client is missing."""

KUBECONFIG_SECRET_FIELDS = ("token", "client-key-data", "client-certificate-data", "password")


# ---------------------------------------------------------------------------------------------------
# options


def auth_argspec(prefix=""):
    """kubernetes.core's auth options (same names, types, no_log), optionally prefixed (`host_`)."""
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    if not prefix:
        return spec
    out = {}
    for name, option in spec.items():
        if "aliases" in option:
            option["aliases"] = [prefix + a for a in option["aliases"]]
        out[prefix + name] = option
    return out


def auth_params(params, prefix=""):
    """The auth options of one cluster, in kubernetes.core's names, None values left out."""
    return {name: params.get(prefix + name) for name in AUTH_ARG_SPEC if params.get(prefix + name) is not None}


def resolve_kubeconfig(value, label):
    """A kubeconfig option may be a path, a dict, or kubeconfig YAML text (as AWX injects it).
    Returns (value for kubernetes.core, list of secret strings to hide)."""
    if value is None or isinstance(value, dict):
        return value, _kubeconfig_secrets(value)
    if isinstance(value, str) and "\n" in value and ("clusters:" in value or "apiVersion:" in value):
        try:
            data = yaml.safe_load(value)
        except yaml.YAMLError as e:
            raise KubeSphereError("the inline kubeconfig is not valid YAML: %s" % getattr(e, "problem", e), cluster=label)
        if not isinstance(data, dict):
            raise KubeSphereError("the inline kubeconfig is not a mapping", cluster=label)
        return data, _kubeconfig_secrets(data) + [value]
    paths = value if isinstance(value, list) else str(value).split(os.pathsep)
    for path in paths:
        if not os.path.exists(os.path.expanduser(path)):
            raise KubeSphereError("kubeconfig file %s does not exist" % path, cluster=label)
    return value, []


def _kubeconfig_secrets(data):
    found = []
    for user in (data or {}).get("users") or []:
        for field in KUBECONFIG_SECRET_FIELDS:
            secret = (user.get("user") or {}).get(field)
            if isinstance(secret, str) and secret:
                found.append(secret)
    return found


# ---------------------------------------------------------------------------------------------------
# module


class KubeSphereModule(AnsibleModule):
    """AnsibleModule that checks the kubernetes client and kubernetes.core are importable, and fails
    with the collection's message format."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("supports_check_mode", True)
        super(KubeSphereModule, self).__init__(*args, **kwargs)
        if IMPORT_ERROR:
            self.fail_json(
                msg=missing_required_lib("kubernetes and the kubernetes.core collection",
                                         reason="to talk to KubeSphere clusters"),
                exception=IMPORT_ERROR)

    def hide(self, *secrets):
        """Never print these values, in any result, diff or log line."""
        for s in secrets:
            if s:
                self.no_log_values.add(s if isinstance(s, str) else str(s))

    def fail_from(self, error, **result):
        result.update(getattr(error, "result", {}) or {})
        if getattr(error, "code", None):
            result.setdefault("code", error.code)
        self.fail_json(msg=getattr(error, "msg", str(error)), **result)


# ---------------------------------------------------------------------------------------------------
# connection


def api_error_reason(error):
    """One readable line for an error raised by the kubernetes client."""
    status = getattr(error, "status", None)
    summary = getattr(error, "summary", None)
    if callable(summary):
        try:
            return "%s (HTTP %s)" % (summary(), status) if status else summary()
        except Exception:  # noqa: BLE001
            pass
    text = str(error)
    for marker in ("Max retries exceeded", "NewConnectionError", "Connection refused", "CERTIFICATE_VERIFY_FAILED"):
        if marker in text:
            return _connection_reason(text)
    return text.splitlines()[0] if text else error.__class__.__name__


def _connection_reason(text):
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSLError" in text:
        detail = text[text.find("certificate verify failed"):].split(" (_ssl")[0]
        return "the API server's certificate is not trusted (%s)" % detail
    if "Connection refused" in text:
        return "connection refused: the API server is unreachable"
    if "timed out" in text or "Timeout" in text:
        return "the API server did not answer in time"
    return "the API server is unreachable"


class Connection:
    """One cluster, reached with kubernetes.core's client and auth options.

    `label` names the cluster in every message. Reads return plain dicts (None when absent)."""

    def __init__(self, module, label, prefix="", params=None):
        self.module = module
        self.label = label
        params = params if params is not None else module.params
        self.auth = auth_params(params, prefix)
        if "kubeconfig" in self.auth:
            self.auth["kubeconfig"], secrets = resolve_kubeconfig(self.auth["kubeconfig"], label)
            if module is not None and hasattr(module, "hide"):
                module.hide(*secrets)
        self._client = None

    # --- plumbing ---------------------------------------------------------------------------------

    @property
    def client(self):
        if self._client is None:
            try:
                self._client = get_api_client(module=None, **self.auth)
            except CoreException as e:
                raise KubeSphereError("cannot build a client: %s" % e, cluster=self.label, code="connection")
            except Exception as e:  # noqa: BLE001  kubeconfig parsing errors of every kind
                raise KubeSphereError("cannot build a client: %s" % api_error_reason(e), cluster=self.label,
                                      code="connection")
        return self._client

    def fail(self, reason, obj=None, code=None, **result):
        return KubeSphereError(reason, cluster=self.label, obj=obj, code=code, **result)

    def resource(self, api_version, kind):
        try:
            return self.client.resource(kind, api_version)
        except ResourceNotFoundError:
            raise self.fail("the API server does not serve %s/%s (is KubeSphere's CRD installed?)" % (api_version, kind),
                            code="kind_not_served")
        except KubeSphereError:
            raise
        except Exception as e:  # noqa: BLE001
            raise self.fail(api_error_reason(e), code="unreachable")

    def _call(self, what, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except NotFoundError:
            return None
        except DynamicApiError as e:
            raise self.fail(api_error_reason(e), obj=what, code="api_error", status=getattr(e, "status", None))
        except KubeSphereError:
            raise
        except Exception as e:  # noqa: BLE001  transport errors (unreachable, TLS)
            raise self.fail(api_error_reason(e), obj=what, code="unreachable")

    # --- reads ------------------------------------------------------------------------------------

    def _resource_if(self, api_version, kind, if_served):
        """The resource, or None when `if_served` and the server does not serve the kind (for example a
        cluster without KubeSphere has no ClusterConfiguration CRD)."""
        try:
            return self.resource(api_version, kind)
        except KubeSphereError as e:
            if if_served and e.code == "kind_not_served":
                return None
            raise

    def get(self, api_version, kind, name, namespace=None, if_served=False):
        """The object as a dict, None when absent (or, with if_served, when the kind is not served)."""
        res = self._resource_if(api_version, kind, if_served)
        if res is None:
            return None
        found = self._call(describe(kind, name, namespace), self.client.get, res, name=name, namespace=namespace)
        return found.to_dict() if found is not None else None

    def list(self, api_version, kind, namespace=None, label_selector=None, if_served=False):
        """The objects as dicts; None with if_served when the kind is not served (so callers can tell
        "no such objects" from "no such kind")."""
        res = self._resource_if(api_version, kind, if_served)
        if res is None:
            return None
        params = {"namespace": namespace}
        if label_selector:
            params["label_selector"] = label_selector
        found = self._call("%s list" % kind, self.client.get, res, **params)
        return list(found.to_dict().get("items") or []) if found is not None else []

    def raw(self, method, path):
        """(status, headers, parsed JSON or text) of a request to an API path, e.g. '/version'."""
        dynamic = self.client.client  # kubernetes.dynamic.DynamicClient

        def call():
            return dynamic.request(method, path, serialize=False, _preload_content=False)

        resp = self._call(path, call)
        if resp is None:
            return 404, {}, None
        data = resp.data if hasattr(resp, "data") else resp.read()
        body = data.decode("utf-8", "replace") if data else ""
        try:
            import json  # noqa: PLC0415

            body = json.loads(body)
        except ValueError:
            pass
        return resp.status, dict(resp.getheaders() if hasattr(resp, "getheaders") else resp.headers), body

    def version(self):
        """The API server's /version (gitVersion, major, minor, ...)."""
        return self.raw("GET", "/version")[2]

    def server_time(self):
        """Seconds since the epoch, from the API server's Date header (None when it sends none)."""
        headers = self.raw("GET", "/version")[1]
        date = headers.get("Date") or headers.get("date")
        return email.utils.parsedate_to_datetime(date).timestamp() if date else None

    # --- writes (check mode = server-side dry run) ---------------------------------------------------

    def create(self, obj, dry_run=False):
        meta = obj["metadata"]
        res = self.resource(obj["apiVersion"], obj["kind"])
        params = {"namespace": meta.get("namespace")}
        if dry_run:
            params["dry_run"] = "All"
        return self._call(describe(obj["kind"], meta["name"], meta.get("namespace")),
                          self.client.create, res, obj, **params).to_dict()

    def merge_patch(self, api_version, kind, name, patch, namespace=None, dry_run=False, subresource=None):
        res = self.resource(api_version, kind)
        if subresource:
            res = res.subresources[subresource]
        params = {"name": name, "namespace": namespace, "content_type": "application/merge-patch+json"}
        if dry_run:
            params["dry_run"] = "All"
        body = dict(patch, metadata=dict(patch.get("metadata") or {}, name=name))
        return self._call(describe(kind, name, namespace), self.client.patch, res, body, **params).to_dict()

    def delete(self, api_version, kind, name, namespace=None, dry_run=False):
        res = self.resource(api_version, kind)
        params = {"name": name, "namespace": namespace}
        if dry_run:
            params["dry_run"] = "All"
        found = self._call(describe(kind, name, namespace), self.client.delete, res, **params)
        return found.to_dict() if found is not None else None


def ensure_object(conn, desired, check_mode=False, secret_paths=()):
    """Make `desired` true on the cluster: create it, or merge-patch the fields that differ.

    Returns {'changed', 'method' (create|patch|none), 'before', 'after', 'diff'}; before/after/diff are
    normalized and masked at `secret_paths`. In check mode the write is a server-side dry run, so the
    diff shows what the server would store, and nothing is written."""
    meta = desired["metadata"]
    existing = conn.get(desired["apiVersion"], desired["kind"], meta["name"], meta.get("namespace"))
    if existing is None:
        after = conn.create(desired, dry_run=check_mode)
        method = "create"
    elif objects.contains(existing, _comparable(desired)):
        after, method = existing, "none"
    else:
        after = conn.merge_patch(desired["apiVersion"], desired["kind"], meta["name"], _comparable(desired),
                                 namespace=meta.get("namespace"), dry_run=check_mode)
        method = "patch"
    changed = method == "create" or objects.normalize(after) != objects.normalize(existing)
    return {
        "changed": changed,
        "method": method if changed else "none",
        "before": objects.mask(objects.normalize(existing), secret_paths) if existing else {},
        "after": objects.mask(objects.normalize(after), secret_paths),
        "diff": objects.diff(existing or {}, after, secret_paths),
    }


def _comparable(desired):
    out = dict(desired)
    out.pop("apiVersion", None)
    out.pop("kind", None)
    out["metadata"] = {k: v for k, v in desired["metadata"].items() if k not in ("name", "namespace")}
    if not out["metadata"]:
        out.pop("metadata")
    return out


def delete_object(conn, api_version, kind, name, namespace=None, check_mode=False, secret_paths=()):
    """Delete an object if it exists. Returns {'changed', 'before', 'diff'}."""
    existing = conn.get(api_version, kind, name, namespace)
    if existing is None:
        return {"changed": False, "before": {}, "diff": {"before": {}, "after": {}}}
    conn.delete(api_version, kind, name, namespace, dry_run=check_mode)
    return {"changed": True, "before": objects.mask(objects.normalize(existing), secret_paths),
            "diff": objects.diff(existing, {}, secret_paths)}
