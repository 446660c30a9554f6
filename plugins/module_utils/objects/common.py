# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Pure functions over plain dicts: normalize, compare, mask.

Every module decides `changed` and builds `diff` with these, so the rules live in one place."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy

SERVER_OWNED_METADATA = ("resourceVersion", "generation", "uid", "creationTimestamp", "managedFields",
                         "selfLink", "deletionGracePeriodSeconds")
MASK = "********"


def normalize(obj):
    """A copy without what the server owns (status, resourceVersion, uid, managedFields, ...)."""
    if not obj:
        return {}
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata") or {}
    for key in SERVER_OWNED_METADATA:
        meta.pop(key, None)
    annotations = meta.get("annotations") or {}
    annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    if "annotations" in meta and not annotations:
        meta.pop("annotations")
    return out


def contains(existing, desired):
    """True when every field of `desired` has the same value in `existing` (dicts compared as subsets,
    lists and scalars exactly). None in `desired` means "absent in existing" (merge-patch semantics)."""
    if isinstance(desired, dict):
        if not isinstance(existing, dict):
            return False
        for key, value in desired.items():
            if value is None:
                if existing.get(key) is not None:
                    return False
            elif key not in existing or not contains(existing[key], value):
                return False
        return True
    return existing == desired


def merge(base, patch):
    """RFC 7386 JSON merge patch applied to a copy of `base` (None removes a key)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(base) if isinstance(base, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


def get_path(obj, path, default=None):
    """obj['a']['b'] for path 'a.b' (or a tuple of keys); `default` when any step is missing."""
    keys = path.split(".") if isinstance(path, str) else path
    for key in keys:
        if not isinstance(obj, dict) or key not in obj:
            return default
        obj = obj[key]
    return obj


def mask(obj, paths):
    """A copy of `obj` with the values at `paths` (tuples of keys; '*' matches any key) replaced by a
    mask, so secrets never reach a result or a diff. Missing paths are ignored."""
    if not obj:
        return obj
    out = copy.deepcopy(obj)
    for path in paths:
        _mask(out, tuple(path))
    return out


def _mask(node, path):
    if not path or not isinstance(node, dict):
        return
    head, rest = path[0], path[1:]
    keys = list(node) if head == "*" else [head] if head in node else []
    for key in keys:
        if rest:
            _mask(node[key], rest)
        elif node[key] not in (None, ""):
            node[key] = MASK


def diff(before, after, secret_paths=()):
    """The `diff` return value: {'before': ..., 'after': ...}, normalized and masked."""
    return {"before": mask(normalize(before), secret_paths), "after": mask(normalize(after), secret_paths)}


def b64(value):
    """base64 text of a str (UTF-8) or bytes value (Secret data, a Cluster's kubeconfig: Go []byte in JSON)."""
    raw = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


def fields_to_hold(desired):
    """What of `desired` an existing object must hold for nothing to be written: everything but its name,
    namespace, apiVersion and kind (an object holding all of it is left alone, else these fields are merge-patched)."""
    out = dict(desired)
    out.pop("apiVersion", None)
    out.pop("kind", None)
    out["metadata"] = {k: v for k, v in desired["metadata"].items() if k not in ("name", "namespace")}
    if not out["metadata"]:
        out.pop("metadata")
    return out
