# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster: the ONLY module that imports kubernetes.core (and the kubernetes
client). Everything else in the collection talks to clusters through `Connection` and writes through
`ensure_object` / `delete_object`, so auth options, check mode, diff and secret masking are decided
once, here.

A module that talks to two clusters takes the second cluster's auth options with a prefix
(`host_kubeconfig`, `host_context`, ...): see `auth_argspec(prefix)` and `Connection(module, prefix=)`.

Policy: a connection reaches exactly the cluster its options name. kubernetes.core would complete unset
options from K8S_AUTH_* environment variables (and a host plus token from there would win over the
kubeconfig, sending every cluster's requests to one API server); here they are invisible while a client
is built, and the module warns once that they were set and ignored.

Failures are KubeSphereError with a precise `code` (ERROR_CODES) decided from the exception's type.

Absent objects, one rule for every call of `Connection` (`is_absent` decides it from the HTTP answer: 404
Not Found, or 410 Gone unless the Status says a resourceVersion or continue token Expired):
  get, merge_patch, delete  -> None (the object is not there, or vanished during the call: a caller that
                               needs it says so, none crashes on it);
  list                      -> [] (the kind is served, no such objects);
  create, apply             -> a KubeSphereError with code `not_found` naming the missing namespace: both
                               make an absent object, so their 404 means its namespace is not there (None
                               would read as "nothing there", which is not what happened).
No call raises the client's NotFoundError/GoneError.

The transport timeout is the connection's (`Connection(timeout=)`); `wait_for` waits on one object with
kubernetes.core's Waiter; `ensure_object` is the one write path (merge-patch, or server-side apply for
objects the collection owns whole).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy
import json
import os
import ssl
import threading
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, describe
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute import exits
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import kubeconfig
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.waiter import Waiter, clock

IMPORT_ERROR = None
try:
    import urllib3
    from kubernetes.config import ConfigException
    from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError
except ImportError:  # reported by KubeSphereModule, with what to install
    IMPORT_ERROR = traceback.format_exc()
    urllib3 = None

    class ConfigException(Exception):
        """Placeholder: the kubernetes client is missing (the module fails before using it)."""

    class DynamicApiError(Exception):
        """Placeholder: the kubernetes client is missing."""

    class ResourceNotFoundError(Exception):
        """Placeholder: the kubernetes client is missing."""

# Why a connection failed: the codes a KubeSphereError from this module carries.
ERROR_CODES = ("unreachable", "timeout", "tls_untrusted", "unauthorized", "forbidden", "no_such_context",
               "kubeconfig_missing", "kubeconfig_invalid", "kind_not_served", "not_found", "api_error")

# kubernetes.core fills every auth option a caller leaves unset from these environment variables. A
# connection of this collection names its cluster completely (kubeconfig, context, ...) and must never be
# redirected by them, so they are switched off while its client is built (see `Connection.client`).
AUTH_ENV_PREFIX = "K8S_AUTH_"
IGNORED_ENV_WARNING = ("%s set in the environment and ignored: kubesphere.multicluster reaches every cluster "
                       "only with the connection options the inventory gives it")
_ENV_LOCK = threading.Lock()
# The field manager of server-side apply for objects this collection owns whole.
FIELD_MANAGER = "kubesphere.multicluster"


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


def member_connections_argspec():
    """The element options of a list of member connections (federation_info's `members`, the federation
    modules' `member_connections`): each member's KubeSphere name and the inventory's kubeconfig and context."""
    return dict(cluster_name=dict(type="str", required=True), kubeconfig=dict(type="raw"), context=dict(type="str"))


# the options that hold other clusters' connections (member_connections_argspec)
MEMBER_CONNECTION_OPTIONS = ("members", "member_connections")


def hide_member_kubeconfigs(module):
    """The secrets of every member kubeconfig given inline (text, as AWX injects it, or a dict) in the options
    of MEMBER_CONNECTION_OPTIONS are never printed, from the module's start: a run connects only to some of the
    members it is given (the adoption check reads the members a placement adds), and a Connection hides its own
    kubeconfig only when it is made. A path holds nothing to hide; text that is no kubeconfig is hidden whole."""
    for option in MEMBER_CONNECTION_OPTIONS:
        for entry in module.params.get(option) or []:
            value = entry.get("kubeconfig")
            try:
                module.hide(*resolve_kubeconfig(value, entry.get("cluster_name"))[1])
            except KubeSphereError as e:
                if e.code == "kubeconfig_invalid":
                    module.hide(value if isinstance(value, str) else str(value))


def auth_params(params, prefix=""):
    """The auth options of one cluster, in kubernetes.core's names, None values left out."""
    return {name: params.get(prefix + name) for name in AUTH_ARG_SPEC if params.get(prefix + name) is not None}


def auth_env(environ=None):
    """The names of the K8S_AUTH_* variables set in `environ` (os.environ by default), sorted."""
    environ = os.environ if environ is None else environ
    return sorted(k for k, v in environ.items() if k.startswith(AUTH_ENV_PREFIX) and v != "")


@contextlib.contextmanager
def _without_auth_env():
    """No K8S_AUTH_* variable is visible while the block runs (restored afterwards)."""
    with _ENV_LOCK:
        saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith(AUTH_ENV_PREFIX)}
        try:
            yield
        finally:
            os.environ.update(saved)


def resolve_kubeconfig(value, label):
    """A kubeconfig option may be a path, a dict, or kubeconfig YAML/JSON text (as AWX injects it).
    Returns (value for kubernetes.core, list of secret strings to hide)."""
    if value is None or isinstance(value, dict):
        return value, kubeconfig.secrets(value)
    try:
        data = kubeconfig.parse_text(value)
    except ValueError as e:
        raise KubeSphereError(str(e), cluster=label, code="kubeconfig_invalid")
    if data is not None:
        return data, kubeconfig.secrets(data) + [value]
    paths = value if isinstance(value, list) else str(value).split(os.pathsep)
    for path in paths:
        if not os.path.exists(os.path.expanduser(path)):
            raise KubeSphereError("kubeconfig file %s does not exist" % path, cluster=label, code="kubeconfig_missing")
    return value, []


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
        hide_member_kubeconfigs(self)

    def hide(self, *secrets):
        """Never print these values, in any result, diff or log line."""
        for s in secrets:
            if s:
                self.no_log_values.add(s if isinstance(s, str) else str(s))

    def fail_from(self, error, **result):
        exits.fail_from(self, error, **result)

    def run_operation(self, operation, *args, **kwargs):
        """The one exit path (execute/exits.py)."""
        exits.run_operation(self, operation, *args, **kwargs)


# ---------------------------------------------------------------------------------------------------
# connection


def _status_body(error):
    """The Status object of an API error's body (a dict; {} when the body is not JSON)."""
    body = getattr(error, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def is_absent(error):
    """True when an API error says the object is not there: 404 Not Found, or 410 Gone where it means the
    object is gone (a 410 whose Status reason is Expired is about a too old resourceVersion or continue
    token of a list or watch, not about an object)."""
    if not isinstance(error, DynamicApiError):
        return False
    status = getattr(error, "status", None)
    if status == 404:
        return True
    return status == 410 and _status_body(error).get("reason") != "Expired"


def missing_namespace(error, namespace):
    """The namespace a create's 404 names (its Status details say `namespaces "x" not found`), else the
    object's own namespace."""
    details = _status_body(error).get("details") or {}
    if details.get("kind") == "namespaces" and details.get("name"):
        return details["name"]
    return namespace


def _chain(error):
    """The error and every exception it wraps: its cause and context, a urllib3 MaxRetryError's `reason`,
    and exceptions passed as arguments (urllib3's SSLError wraps the ssl error that way)."""
    seen, todo = [], [error]
    while todo:
        e = todo.pop(0)
        if e is None or any(e is x for x in seen):
            continue
        seen.append(e)
        todo += [getattr(e, "reason", None) if isinstance(getattr(e, "reason", None), BaseException) else None,
                 e.__cause__, e.__context__]
        todo += [a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]
    return seen


def error_code(error):
    """(code, reason) for an exception raised while talking to a cluster, decided by its type: a client
    that cannot be built (ConfigException), an HTTP status (DynamicApiError), a transport failure
    (urllib3, ssl, socket). `reason` is one readable line."""
    chain = _chain(error)
    for e in chain:
        if isinstance(e, ResourceNotFoundError):
            return "kind_not_served", str(e).splitlines()[0] if str(e) else "the kind is not served"
        if isinstance(e, DynamicApiError):
            status = getattr(e, "status", None)
            summary = e.summary() if callable(getattr(e, "summary", None)) else str(e)
            text = "%s (HTTP %s)" % (summary, status) if status else summary
            code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 410: "not_found"}.get(status, "api_error")
            if status == 410 and not is_absent(e):
                code = "api_error"
            if code == "unauthorized":
                text = "the API server rejected the credentials (401 Unauthorized)"
            return code, text
        if isinstance(e, ConfigException):
            text = str(e)
            if "Expected object with name" in text:
                return "no_such_context", "the kubeconfig has no such context (%s)" % text
            return "kubeconfig_invalid", "the kubeconfig cannot be used: %s" % text
        if isinstance(e, ssl.SSLCertVerificationError) or (
                isinstance(e, ssl.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(e)):
            detail = "certificate verify failed: %s" % e.verify_message if getattr(e, "verify_message", None) else str(e)
            return "tls_untrusted", "the API server's TLS certificate is not trusted by the kubeconfig's CA (%s)" % detail
        if isinstance(e, ConnectionRefusedError):
            return "unreachable", "the API server is unreachable (connection refused)"
        if isinstance(e, TimeoutError):
            return "timeout", "the API server did not answer in time"
        if urllib3 is not None and isinstance(e, urllib3.exceptions.NewConnectionError):
            refused = any(isinstance(x, ConnectionRefusedError) for x in chain) or "refused" in str(e).lower()
            return "unreachable", "the API server is unreachable (%s)" % ("connection refused" if refused else str(e))
    for e in chain:
        if urllib3 is not None and isinstance(e, (urllib3.exceptions.ConnectTimeoutError,
                                                  urllib3.exceptions.ReadTimeoutError)):
            return "timeout", "the API server did not answer in time"
    for e in chain:
        if isinstance(e, CoreException):
            return "kubeconfig_invalid", str(e)
        if isinstance(e, OSError) or (urllib3 is not None and isinstance(e, urllib3.exceptions.HTTPError)):
            return "unreachable", "the API server is unreachable (%s)" % (str(e).splitlines()[0] if str(e) else e.__class__.__name__)
    text = str(error)
    return "api_error", text.splitlines()[0] if text else error.__class__.__name__


class Connection:
    """One cluster, reached with kubernetes.core's client and exactly the auth options given.

    `label` names the cluster in every message. Reads return plain dicts; an absent object is None (the
    module doc says the one rule for every call: create and apply say its namespace is missing). Every
    failure is a KubeSphereError whose `code` is one of ERROR_CODES. `timeout` (seconds) bounds all the
    calls of this connection together: the kubernetes client sets no timeout of its own (discovery
    included), so a silently dropping address would otherwise hold a module for minutes.

    Options left unset are NOT filled from K8S_AUTH_* environment variables (kubernetes.core would);
    `module.warn` says once that such variables are set and ignored."""

    def __init__(self, module, label, prefix="", params=None, timeout=None):
        self.module = module
        self.label = label
        params = params if params is not None else module.params
        self.auth = auth_params(params, prefix)
        if "kubeconfig" in self.auth:
            self.auth["kubeconfig"], secrets = resolve_kubeconfig(self.auth["kubeconfig"], label)
            if module is not None and hasattr(module, "hide"):
                module.hide(*secrets)
        self.timeout = timeout
        self._deadline = None
        self._client = None
        ignored = auth_env()
        if ignored and module is not None and hasattr(module, "warn"):
            module.warn(IGNORED_ENV_WARNING % ", ".join(ignored))

    # --- plumbing ---------------------------------------------------------------------------------

    def error(self, reason, obj=None, code=None, **result):
        """The KubeSphereError naming this cluster (to raise)."""
        return KubeSphereError(reason, cluster=self.label, obj=obj, code=code, **result)

    def vanished(self, what, doing):
        """The error (to raise) for an object read a moment ago and absent when this run wrote it: someone
        deleted it meanwhile. `doing` says what the run was doing ('patching its placement')."""
        return self.error("was deleted by someone else while this run was %s (nothing was written to it; "
                          "rerun to act on what is there now)" % doing, obj=what, code="not_found")

    def new_bound(self):
        """The next calls get the whole `timeout` again (each poll of a wait, each retried read)."""
        self._deadline = None

    def _bounded(self, fn, *args, **kwargs):
        """fn(...) within what is left of `timeout` (the call runs in a daemon thread that is abandoned
        when time is up; the module process ends soon after)."""
        if self.timeout is None:
            return fn(*args, **kwargs)
        if self._deadline is None:
            self._deadline = time.monotonic() + self.timeout
        left = self._deadline - time.monotonic()
        outcome = {}

        def call():
            try:
                outcome["value"] = fn(*args, **kwargs)
            except BaseException as e:  # noqa: BLE001  handed to the caller as is
                outcome["error"] = e

        worker = threading.Thread(target=call, name="kubesphere-%s" % self.label)
        worker.daemon = True
        worker.start()
        worker.join(max(left, 0))
        if worker.is_alive():
            raise self.error("the API server did not answer within %g s" % self.timeout, code="timeout")
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    @property
    def client(self):
        if self._client is None:
            def build():
                with _without_auth_env():
                    return get_api_client(module=None, **self.auth)
            try:
                self._client = self._bounded(build)
            except KubeSphereError:
                raise
            except Exception as e:  # noqa: BLE001  kubeconfig and transport errors of every kind
                code, reason = error_code(e)
                raise self.error(reason, code=code)
        return self._client

    def resource(self, api_version, kind):
        try:
            return self._bounded(self.client.resource, kind, api_version)
        except ResourceNotFoundError:
            raise self.error("the API server does not serve %s/%s (is KubeSphere's CRD installed?)" % (api_version, kind),
                             code="kind_not_served")
        except KubeSphereError:
            raise
        except Exception as e:  # noqa: BLE001
            code, reason = error_code(e)
            raise self.error(reason, code=code)

    def _call(self, what, fn, *args, **kwargs):
        """fn(...) within the timeout. Returns None when the API server answers that the object is absent
        (`is_absent`: the module's rule); every other failure is a KubeSphereError with its code."""
        return self._answer(what, fn, *args, **kwargs)[0]

    def _answer(self, what, fn, *args, **kwargs):
        """(value, None), or (None, the client's error) when the object is absent (`is_absent`)."""
        try:
            return self._bounded(fn, *args, **kwargs), None
        except KubeSphereError:
            raise
        except Exception as e:  # noqa: BLE001  HTTP and transport errors (unreachable, TLS, timeout)
            if is_absent(e):
                return None, e
            code, reason = error_code(e)
            raise self.error(reason, obj=what, code=code, status=getattr(e, "status", None))

    def _made(self, obj, fn, *args, **kwargs):
        """The answer of a call that makes `obj` (create, server-side apply) as a dict. Such a call meets an
        absent object by making it, so an absent answer means its namespace is missing: a KubeSphereError
        with code not_found that names the namespace (None would say "nothing there")."""
        meta = obj["metadata"]
        what = describe(obj["kind"], meta["name"], meta.get("namespace"))
        made, absent = self._answer(what, fn, *args, **kwargs)
        if absent is None:
            return made.to_dict()
        namespace = missing_namespace(absent, meta.get("namespace"))
        if namespace:
            reason = "cannot be written: its namespace %s does not exist (HTTP %s)" % (namespace, absent.status)
        else:
            reason = "cannot be written: the API server answered HTTP %s (%s)" % (
                absent.status, absent.summary() if callable(getattr(absent, "summary", None)) else absent)
        raise self.error(reason, obj=what, code="not_found", status=absent.status,
                         missing_namespace=namespace)

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

        resp, absent = self._answer(path, call)
        if absent is not None:
            return absent.status, {}, None
        data = resp.data if hasattr(resp, "data") else resp.read()
        body = data.decode("utf-8", "replace") if data else ""
        try:
            body = json.loads(body)
        except ValueError:
            pass
        return resp.status, dict(resp.getheaders() if hasattr(resp, "getheaders") else resp.headers), body

    # --- writes (check mode = server-side dry run) ---------------------------------------------------

    def create(self, obj, dry_run=False):
        """The created object. Its namespace missing: KubeSphereError not_found naming it (see the module's
        doc: absent objects)."""
        meta = obj["metadata"]
        res = self.resource(obj["apiVersion"], obj["kind"])
        params = {"namespace": meta.get("namespace")}
        if dry_run:
            params["dry_run"] = "All"
        return self._made(obj, self.client.create, res, obj, **params)

    def merge_patch(self, api_version, kind, name, patch, namespace=None, dry_run=False, subresource=None):
        """The patched object, None when it is absent (it may have vanished since it was read: the caller
        says what that means)."""
        res = self.resource(api_version, kind)
        if subresource:
            res = res.subresources[subresource]
        params = {"name": name, "namespace": namespace, "content_type": "application/merge-patch+json"}
        if dry_run:
            params["dry_run"] = "All"
        body = dict(patch, metadata=dict(patch.get("metadata") or {}, name=name))
        found = self._call(describe(kind, name, namespace), self.client.patch, res, body, **params)
        return found.to_dict() if found is not None else None

    def apply(self, obj, field_manager=FIELD_MANAGER, dry_run=False):
        """Server-side apply of a whole object (force: this collection owns it): fields the object no longer
        sets are removed when this field manager set them before. An absent object is made, so its namespace
        missing is a KubeSphereError not_found naming it, as for `create`."""
        meta = obj["metadata"]
        res = self.resource(obj["apiVersion"], obj["kind"])
        params = {"name": meta["name"], "namespace": meta.get("namespace"), "field_manager": field_manager,
                  "force_conflicts": True}
        if dry_run:
            params["dry_run"] = "All"
        return self._made(obj, self.client.client.server_side_apply, res, body=obj, **params)

    def delete(self, api_version, kind, name, namespace=None, dry_run=False):
        """The API server's answer as a dict; None when the object is absent (deleted already)."""
        res = self.resource(api_version, kind)
        params = {"name": name, "namespace": namespace}
        if dry_run:
            params["dry_run"] = "All"
        found = self._call(describe(kind, name, namespace), self.client.delete, res, **params)
        return found.to_dict() if found is not None else None


# ---------------------------------------------------------------------------------------------------
# waiting


class _AbsentAsNone:
    """The client kubernetes.core's Waiter polls: an absent object reads as None, by the module's rule
    (`is_absent`: the Waiter itself only knows 404, a 410 Gone would end the wait with an error)."""

    def __init__(self, client):
        self.client = client

    def get(self, resource, **params):
        try:
            return self.client.get(resource, **params)
        except DynamicApiError as e:
            if is_absent(e):
                return None
            raise


def poll(timeout, sleep):
    """kubernetes.core's clock: yields the seconds elapsed, sleeping `sleep` between, until `timeout`."""
    return clock(timeout, sleep)


def wait_for(conn, api_version, kind, name, predicate, namespace=None, timeout=120, sleep=5, check_mode=False):
    """Wait until predicate(object as a dict, or None when absent) is true, with kubernetes.core's Waiter.
    Returns (satisfied, object, elapsed seconds). In check mode nothing is awaited: the object is read
    once and judged as it is."""
    if check_mode:
        obj = conn.get(api_version, kind, name, namespace)
        return bool(predicate(obj)), obj, 0
    res = conn.resource(api_version, kind)

    def judge(instance):
        return bool(predicate(instance.to_dict() if instance is not None else None))

    waiter = Waiter(_AbsentAsNone(conn.client), res, judge)
    satisfied, obj, elapsed = conn._call(describe(kind, name, namespace), waiter.wait, timeout, sleep,
                                         name=name, namespace=namespace)
    return satisfied, obj or None, elapsed


# ---------------------------------------------------------------------------------------------------
# the one write path


def ensure_object(conn, desired, check_mode=False, secret_paths=(), owned=False):
    """Make `desired` true on the cluster: the one write path of the collection.

    - absent: create it;
    - present and already holding every field of `desired`: nothing;
    - present and different: merge-patch the fields that differ (objects shared with others, such as
      ks-installer's ClusterConfiguration: fields `desired` does not name are left alone);
    - `owned=True` (objects the collection owns whole): server-side apply instead of the patch, so fields
      an earlier run set and `desired` no longer names are removed; unchanged when a dry-run apply would
      store what is there already.

    Returns {'changed', 'method' (create|patch|apply|none), 'before', 'after', 'diff'}; before/after/diff
    are normalized and masked at `secret_paths`. In check mode the write is a server-side dry run, so the
    diff shows what the server would store, and nothing is written."""
    meta = desired["metadata"]
    existing = conn.get(desired["apiVersion"], desired["kind"], meta["name"], meta.get("namespace"))
    if existing is None:
        after = conn.create(desired, dry_run=check_mode)
        method = "create"
    elif owned:
        after = conn.apply(desired, dry_run=True)
        method = "apply"
        if objects.normalize(after) == objects.normalize(existing):
            after = existing
        elif not check_mode:
            after = conn.apply(desired)
    elif objects.contains(existing, objects.fields_to_hold(desired)):
        after, method = existing, "none"
    else:
        after = conn.merge_patch(desired["apiVersion"], desired["kind"], meta["name"], objects.fields_to_hold(desired),
                                 namespace=meta.get("namespace"), dry_run=check_mode)
        if after is None:
            raise conn.vanished(describe(desired["kind"], meta["name"], meta.get("namespace")), "patching it")
        method = "patch"
    changed = method == "create" or objects.normalize(after) != objects.normalize(existing)
    return {
        "changed": changed,
        "method": method if changed else "none",
        "before": objects.mask(objects.normalize(existing), secret_paths) if existing else {},
        "after": objects.mask(objects.normalize(after), secret_paths),
        "diff": objects.diff(existing or {}, after, secret_paths),
    }


def delete_object(conn, api_version, kind, name, namespace=None, check_mode=False, secret_paths=()):
    """Delete an object if it exists. Returns {'changed', 'before', 'diff'}."""
    existing = conn.get(api_version, kind, name, namespace)
    if existing is None:
        return {"changed": False, "before": {}, "diff": {"before": {}, "after": {}}}
    conn.delete(api_version, kind, name, namespace, dry_run=check_mode)
    return {"changed": True, "before": objects.mask(objects.normalize(existing), secret_paths),
            "diff": objects.diff(existing, {}, secret_paths)}
