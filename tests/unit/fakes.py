"""The ONE fake connection of the unit tests: `FakeConnection` has `_k8s.Connection`'s public methods with
the same signatures (test_fakes.py asserts it), answers from a dict of objects, and behaves as the real
one does where the runners depend on it: None for an absent object, `kind_not_served` (or None with
if_served) for a kind it does not serve, server-side dry run writing nothing, merge-patch semantics.
`FakeModule` is what the runners use of an AnsibleModule."""

import copy
import re

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, describe


def _key(api_version, kind, name, namespace):
    return (api_version, kind, namespace, name)


class FakeConnection:
    """A cluster in memory. `objects` is a list of object dicts; `served` the (api_version, kind) pairs the
    'server' serves (by default every pair of `objects` plus core kinds); `raw_answers` {path: (status,
    headers, body)}. Every call is recorded in `calls` as (method, args)."""

    CORE = {("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "Pod")}

    def __init__(self, module=None, label="cluster", prefix="", params=None, timeout=None, objects=(), served=None,
                 raw_answers=None, error=None):
        self.module, self.label, self.timeout = module, label, timeout
        self.store = {}
        for obj in objects:
            self._put(obj)
        self.served = set(served) if served is not None else None
        self.raw_answers = dict(raw_answers or {})
        self.fail_with = error  # a KubeSphereError code: every call raises it (an unreachable cluster)
        self.forbidden = set()  # (api_version, kind) pairs the credential may not read: 403 Forbidden
        self.calls = []
        self.resource_version = 100

    # --- helpers of the fake ---------------------------------------------------------------------

    def _put(self, obj):
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        self.store[_key(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))] = obj

    def _check(self, api_version, kind):
        if self.fail_with:
            raise self.error("the API server is unreachable", code=self.fail_with)
        # a real API server always serves the core kinds
        served = (self.served | self.CORE) if self.served is not None else (
            self.CORE | {(k[0], k[1]) for k in self.store})
        if (api_version, kind) not in served:
            raise self.error("the API server does not serve %s/%s" % (api_version, kind), code="kind_not_served")
        if (api_version, kind) in self.forbidden:
            raise self.error("%s/%s is forbidden (403 Forbidden)" % (api_version, kind), code="forbidden")

    def _bump(self, obj):
        self.resource_version += 1
        obj["metadata"]["resourceVersion"] = str(self.resource_version)
        return obj

    def objects_of(self, kind):
        return [o for k, o in sorted(self.store.items(), key=lambda kv: str(kv[0])) if k[1] == kind]

    # --- Connection's contract ---------------------------------------------------------------------

    def error(self, reason, obj=None, code=None, **result):
        return KubeSphereError(reason, cluster=self.label, obj=obj, code=code, **result)

    def vanished(self, what, doing):
        return self.error("was deleted by someone else while this run was %s (nothing was written to it; "
                          "rerun to act on what is there now)" % doing, obj=what, code="not_found")

    @property
    def client(self):
        raise AssertionError("the fake has no kubernetes client: runners must not use conn.client")

    def resource(self, api_version, kind):
        self._check(api_version, kind)
        return (api_version, kind)

    def get(self, api_version, kind, name, namespace=None, if_served=False):
        self.calls.append(("get", (api_version, kind, name, namespace)))
        try:
            self._check(api_version, kind)
        except KubeSphereError as e:
            if if_served and e.code == "kind_not_served":
                return None
            raise
        found = self.store.get(_key(api_version, kind, name, namespace))
        return copy.deepcopy(found) if found is not None else None

    def list(self, api_version, kind, namespace=None, label_selector=None, if_served=False):
        self.calls.append(("list", (api_version, kind, namespace, label_selector)))
        try:
            self._check(api_version, kind)
        except KubeSphereError as e:
            if if_served and e.code == "kind_not_served":
                return None
            raise
        return [copy.deepcopy(o) for k, o in sorted(self.store.items(), key=lambda kv: str(kv[0]))
                if k[0] == api_version and k[1] == kind and (namespace is None or k[2] == namespace)
                and selects(label_selector, (o.get("metadata") or {}).get("labels") or {})]

    def new_bound(self):
        self.calls.append(("new_bound", ()))

    def raw(self, method, path):
        self.calls.append(("raw", (method, path)))
        if self.fail_with:
            raise self.error("the API server is unreachable", code=self.fail_with)
        return self.raw_answers.get(path, (404, {}, None))

    def create(self, obj, dry_run=False):
        self.calls.append(("create", (obj["kind"], obj["metadata"]["name"], dry_run)))
        meta = obj["metadata"]
        self._check(obj["apiVersion"], obj["kind"])
        if self.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace")) is not None:
            raise self.error("already exists (HTTP 409)", obj=describe(obj["kind"], meta["name"]), code="api_error")
        stored = self._bump(copy.deepcopy(obj))
        if not dry_run:
            self._put(stored)
        return copy.deepcopy(stored)

    def merge_patch(self, api_version, kind, name, patch, namespace=None, dry_run=False, subresource=None):
        self.calls.append(("merge_patch", (kind, name, dry_run)))
        existing = self.get(api_version, kind, name, namespace)
        if existing is None:  # the real one's rule for an absent object (a 404 or 410 Gone): None
            return None
        stored = self._bump(objects.merge(existing, patch))
        if not dry_run:
            self._put(stored)
        return copy.deepcopy(stored)

    def apply(self, obj, field_manager="kubesphere.multicluster", dry_run=False):
        """Server-side apply of an object this manager owns whole: the stored object becomes `obj` (plus the
        metadata the server keeps)."""
        self.calls.append(("apply", (obj["kind"], obj["metadata"]["name"], dry_run)))
        self._check(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        existing = self.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace")) or {}
        stored = copy.deepcopy(obj)
        kept = {k: v for k, v in (existing.get("metadata") or {}).items() if k in objects.SERVER_OWNED_METADATA}
        stored["metadata"] = dict(kept, **stored["metadata"])
        if objects.normalize(stored) != objects.normalize(existing):
            stored = self._bump(stored)
        if not dry_run:
            self._put(stored)
        return copy.deepcopy(stored)

    def delete(self, api_version, kind, name, namespace=None, dry_run=False):
        self.calls.append(("delete", (kind, name, dry_run)))
        found = self.get(api_version, kind, name, namespace)
        if found is not None and not dry_run:
            del self.store[_key(api_version, kind, name, namespace)]
        return found

    def writes(self):
        """The calls that would write (dry runs included), in order."""
        return [c for c in self.calls if c[0] in ("create", "merge_patch", "apply", "delete")]


class FakeModule:
    """What the runners use of an AnsibleModule: params, check_mode, _diff, hide, warn."""

    def __init__(self, check_mode=False, diff=False, **params):
        self.params = params
        self.check_mode, self._diff = check_mode, diff
        self.hidden, self.warnings = set(), []

    def hide(self, *values):
        self.hidden.update(v for v in values if v)

    def warn(self, msg):
        self.warnings.append(msg)


def selects(label_selector, labels):
    """Whether `labels` match a label selector of `key=value`, `key!=value`, `key in (a, b)` and `key`
    (exists) terms: the forms the collection sends."""
    for m in re.finditer(r"\s*([\w./-]+)\s+in\s+\(([^)]*)\)\s*|([^,]+)", label_selector or ""):
        if m.group(1):
            if labels.get(m.group(1)) not in [v.strip() for v in m.group(2).split(",")]:
                return False
            continue
        term = m.group(3).strip()
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" not in term:
            if term not in labels:
                return False
        else:
            key, value = term.split("=", 1)
            if labels.get(key.strip().rstrip("=")) != value.strip().lstrip("="):
                return False
    return True
