# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. JSON pointers (RFC 6901) and JSON patch exactly as kubefed v0.8.1
applies overrides with evanphx/json-patch v4.11, including what that library refuses. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

OPS = ("add", "remove", "replace")   # the federated CRDs' pattern ^(add|remove|replace)?$; "" means replace


def escape_token(token):
    """One JSON-pointer reference token (RFC 6901: ~ -> ~0, / -> ~1)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(*tokens):
    """'/a/b~1c' from ('a', 'b/c')."""
    return "".join("/" + escape_token(t) for t in tokens)


def is_pointer(path):
    """A JSON pointer kubefed can apply: a string starting with '/'. ('' would target the whole document,
    which evanphx v4 refuses.)"""
    return isinstance(path, str) and path.startswith("/")


def pointer_tokens(path):
    """The decoded tokens of `path`, the way evanphx v4 splits it: on '/', the first piece ignored
    (so 'a/b' acts on '/b'; checks refuse such paths), '~1' then '~0' decoded."""
    return [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]


class PatchError(Exception):
    """An override evanphx/json-patch v4.11 (kubefed's patch library) refuses: kubefed reports the whole
    cluster as ApplyOverridesFailed and writes nothing there."""

    def __init__(self, index, path, reason):
        self.index = index
        self.path = path
        self.reason = reason
        super(PatchError, self).__init__("override[%d] %s: %s" % (index, path, reason))


_MISSING = object()
_GO_ATOI = re.compile(r"[+-]?[0-9]+")


def _array_index(container, token, allow_end, allow_negative):
    """The integer index of `token` in list `container`, or None when evanphx v4 refuses it."""
    if token == "-" and allow_end:
        return len(container)
    if not _GO_ATOI.fullmatch(token):   # Go's strconv.Atoi: optional sign, ASCII digits, nothing else
        return None
    idx = int(token)
    size = len(container) + (1 if allow_end else 0)
    if idx >= size:
        return None
    if idx < 0:
        if not allow_negative or idx < -size:
            return None
        idx += size
    return idx


def _parent(doc, tokens):
    """The container that holds the last token, or _MISSING when a step is missing or not a container."""
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict):
            node = node.get(token, _MISSING)
        elif isinstance(node, list):
            idx = _array_index(node, token, allow_end=False, allow_negative=False)
            node = _MISSING if idx is None else node[idx]
        else:
            return _MISSING
        if node is _MISSING or not isinstance(node, (dict, list)):
            return _MISSING
    return node


def apply_patch(doc, operations):
    """`doc` with kubefed overrides applied, exactly as kubefed v0.8.1 applies them (evanphx/json-patch
    v4.11): an empty op means replace; `add` sets a key (or inserts at an index, '-' appends);
    `replace` of a missing KEY in an existing object succeeds (it adds it) but a missing PARENT fails;
    `remove` of a missing key fails; an array index out of range fails; negative indices count from the
    end for add and remove only (evanphx panics on a negative index anywhere else: refused here). All or
    nothing: the first failure raises PatchError, `doc` is never modified. A missing value is JSON null
    (kubefed drops a null value when it marshals the override)."""
    out = copy.deepcopy(doc)
    for index, operation in enumerate(operations or []):
        op = operation.get("op") or "replace"
        path = operation.get("path")
        if op not in OPS:
            raise PatchError(index, path, "unsupported op %r (kubefed applies add, remove, replace)" % op)
        if not isinstance(path, str) or not path.split("/")[1:]:
            raise PatchError(index, path, "the path is not a JSON pointer")
        tokens = pointer_tokens(path)
        parent = _parent(out, tokens)
        if parent is _MISSING:
            raise PatchError(index, path, "%s does not apply: the document is missing the parent of %s"
                             % (op, path))
        key = tokens[-1]
        value = copy.deepcopy(operation.get("value"))
        if isinstance(parent, dict):
            if op == "remove":
                if key not in parent:
                    raise PatchError(index, path, "remove does not apply: there is no key %r" % key)
                del parent[key]
            else:
                parent[key] = value
            continue
        if op == "add":
            idx = _array_index(parent, key, allow_end=True, allow_negative=True)
            if idx is None:
                raise PatchError(index, path, "add does not apply: invalid array index %r" % key)
            parent.insert(idx, value)
        elif op == "remove":
            idx = _array_index(parent, key, allow_end=False, allow_negative=True)
            if idx is None:
                raise PatchError(index, path, "remove does not apply: invalid array index %r" % key)
            del parent[idx]
        else:
            idx = _array_index(parent, key, allow_end=False, allow_negative=False)
            if idx is None:
                raise PatchError(index, path, "replace does not apply: invalid array index %r" % key)
            parent[idx] = value
    return out
