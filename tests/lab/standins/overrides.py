"""kubefed's per-cluster overrides (kubefed v0.8.1 `pkg/controller/util/overrides.go`), pure functions.

- `cluster_overrides(fed_obj, cluster)` reads and validates `spec.overrides` the way `GetOverrides` does: a
  cluster may appear once, a path once per cluster, and /metadata/namespace, /metadata/name,
  /metadata/generateName and /kind are forbidden. A violation fails the whole object (every cluster gets
  ApplyOverridesFailed), as in kubefed.
- `apply_patch(obj, ops)` applies RFC 6902 add/remove/replace (op defaults to replace) with the semantics of
  the JSON-patch library kubefed v0.8.1 links (evanphx/json-patch v4.11.0). Own small JSON-pointer code: the
  collection uses the `jsonpatch` package, and the two must not share a bug.

evanphx v4.11.0 details kept on purpose (kubefed inherits them):
- `replace` fails when the parent of the target is missing, or for an array index out of range; but a
  `replace` of a missing KEY in an existing object succeeds and adds the key (v4's partialDoc.get never
  fails). The console relies on this: it sends `{path: /metadata/annotations, value: ...}` (no op, so
  replace) for objects whose template has no annotations.
- `remove` of a missing key or index fails; `add` needs the parent; `add` to an array accepts 0..len, "-"
  (append) and negative indices (-1 = append).
- The first segment of the path is ignored (`"spec/replicas"` means `/replicas`) and a path without "/"
  fails; `~1` and `~0` decode to `/` and `~`."""

import copy
import re

FORBIDDEN_PATHS = ("/metadata/namespace", "/metadata/name", "/metadata/generateName", "/kind")
_INDEX = re.compile(r"^[+-]?[0-9]+$")
_ESCAPE = re.compile(r"~[01]")


class OverrideError(Exception):
    """Invalid overrides or a patch that does not apply (kubefed: ApplyOverridesFailed)."""


def overrides_map(fed_obj):
    """{clusterName: [ops]} from a federated object's spec.overrides, validated like kubefed's GetOverrides."""
    result = {}
    for item in (fed_obj.get("spec") or {}).get("overrides") or []:
        cluster = item.get("clusterName", "")
        if cluster in result:
            raise OverrideError('Error reading cluster overrides: cluster "%s" appears more than once' % cluster)
        paths = set()
        ops = item.get("clusterOverrides") or []
        for i, op in enumerate(ops):
            path = op.get("path", "")
            if path in FORBIDDEN_PATHS:
                raise OverrideError('Error reading cluster overrides: override[%d] for cluster "%s" has an '
                                    "invalid path: %s" % (i, cluster, path))
            if path in paths:
                raise OverrideError('Error reading cluster overrides: path "%s" appears more than once for '
                                    'cluster "%s"' % (path, cluster))
            paths.add(path)
        result[cluster] = ops
    return result


def cluster_overrides(fed_obj, cluster):
    return overrides_map(fed_obj).get(cluster, [])


def apply_patch(obj, ops):
    """A patched deep copy of `obj`. Raises OverrideError when an operation does not apply."""
    doc = copy.deepcopy(obj)
    for op in ops:
        kind = op.get("op") or "replace"
        handler = _OPS.get(kind)
        if handler is None:
            raise OverrideError("Unexpected kind: %s" % kind)
        path = op.get("path", "")
        container, key = _find(doc, path)
        if container is None:
            raise OverrideError("%s operation does not apply: doc is missing path: %s" % (kind, path))
        handler(container, key, copy.deepcopy(op.get("value")), path)
    return doc


def _decode(segment):
    return _ESCAPE.sub(lambda m: "/" if m.group(0) == "~1" else "~", segment)


def _find(doc, path):
    """(parent container, last key) like evanphx's findObject; (None, None) when the parent is missing."""
    segments = path.split("/")
    if len(segments) < 2:
        return None, None
    node = doc
    for part in segments[1:-1]:
        node = _child(node, _decode(part))
        if not isinstance(node, (dict, list)):
            return None, None
    return node, _decode(segments[-1])


def _child(node, key):
    if isinstance(node, dict):
        return node.get(key)
    idx = _index(key)
    return node[idx] if idx is not None and 0 <= idx < len(node) else None


def _index(key):
    return int(key) if _INDEX.match(key) else None


def _array_index(arr, key, path, extra=0):
    """A non-negative index into `arr`; negative counts from the end (len + extra), as evanphx v4 does."""
    idx = _index(key)
    size = len(arr) + extra
    if idx is None or idx >= size or idx < -size:
        raise OverrideError("Unable to access invalid index: %s (path %s)" % (key, path))
    return idx + size if idx < 0 else idx


def _add(container, key, value, path):
    if isinstance(container, dict):
        container[key] = value
    elif key == "-":
        container.append(value)
    else:
        container.insert(_array_index(container, key, path, extra=1), value)


def _remove(container, key, value, path):
    if isinstance(container, dict):
        if key not in container:
            raise OverrideError("Unable to remove nonexistent key: %s (path %s)" % (key, path))
        del container[key]
    else:
        del container[_array_index(container, key, path)]


def _replace(container, key, value, path):
    if isinstance(container, dict):
        container[key] = value  # evanphx v4: a missing key in an existing object is not an error
        return
    idx = _index(key)
    if idx is None or not 0 <= idx < len(container):
        raise OverrideError("replace operation does not apply: doc is missing key: %s" % path)
    container[idx] = value


_OPS = {"add": _add, "remove": _remove, "replace": _replace}
