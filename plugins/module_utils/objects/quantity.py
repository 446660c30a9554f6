# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity)
read as exact values, so that "0.5", 0.5, "500m" and "5e-1" compare equal, and "1Gi" equals "1024Mi".

The grammar (apimachinery pkg/api/resource/quantity.go, documented there):
    quantity        ::= signedNumber suffix
    signedNumber    ::= number | sign number          sign ::= "+" | "-"
    number          ::= digits | digits "." digits | digits "." | "." digits
    suffix          ::= binarySI | decimalExponent | decimalSI
    binarySI        ::= Ki | Mi | Gi | Ti | Pi | Ei
    decimalSI       ::= n | u | m | "" | k | M | G | T | P | E
    decimalExponent ::= "e" signedNumber | "E" signedNumber   (a whole number)
A JSON/YAML number (int or float) is a quantity too: the API server's decoder takes unquoted numbers.

What the API server does with a quantity it stores is only a change of form (canonicalisation: "0.5" ->
"500m", "1024Mi" -> "1Gi", "1e3" -> "1k"), except that values finer than 1n are rounded up to 1n and that a
value beyond its int64 range is clamped; those extremes are not modelled here. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re
from fractions import Fraction

BINARY_SUFFIXES = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
DECIMAL_SUFFIXES = {"n": Fraction(1, 10 ** 9), "u": Fraction(1, 10 ** 6), "m": Fraction(1, 1000), "": 1,
                    "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18}

_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_QUANTITY = re.compile(r"^(?P<number>%s)(?:(?P<exp>[eE][+-]?[0-9]+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$"
                       % _NUMBER)


class QuantityError(ValueError):
    pass


def parse(value):
    """The exact value (fractions.Fraction) of a quantity given as a string, an int or a float.
    Raises QuantityError when `value` is not a quantity (booleans, empty text, spaces, unknown suffixes)."""
    if isinstance(value, bool) or value is None:
        raise QuantityError("not a quantity: %r" % (value,))
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise QuantityError("not a quantity: %r" % (value,))
        # repr gives the shortest text that reads back as this float: 0.1 is 1/10, not its binary value
        return parse(repr(value))
    if not isinstance(value, str):
        raise QuantityError("not a quantity: %r" % (value,))
    match = _QUANTITY.match(value)
    if not match:
        raise QuantityError("not a quantity: %r" % (value,))
    number = Fraction(match.group("number"))
    if match.group("exp"):
        exponent = int(match.group("exp")[1:])
        return number * (Fraction(10) ** exponent)
    suffix = match.group("suffix") or ""
    if suffix in BINARY_SUFFIXES:
        return number * BINARY_SUFFIXES[suffix]
    return number * DECIMAL_SUFFIXES[suffix]


def try_parse(value):
    """parse(value), or None when it is not a quantity."""
    try:
        return parse(value)
    except QuantityError:
        return None


def equal(a, b):
    """Both are quantities of the same value (False when either is not a quantity)."""
    va, vb = try_parse(a), try_parse(b)
    return va is not None and vb is not None and va == vb


# Where the Kubernetes schema has a resource.Quantity, as a path of object keys ('*' = any key or list index),
# matched against the end of a JSON pointer. Each map entry is a map of quantities (ResourceList).
_RESOURCE_LIST_ENDS = (
    ("resources", "requests", "*"),          # containers, init/ephemeral containers, pod-level resources, PVCs,
    ("resources", "limits", "*"),            # volumeClaimTemplates, generic ephemeral volumes
    ("overhead", "*"),                       # pod spec overhead
    ("hard", "*"),                           # ResourceQuota spec.hard
    ("capacity", "*"),                       # PersistentVolume spec.capacity
)
_SINGLE_ENDS = (
    ("emptyDir", "sizeLimit"),
)
_LIMIT_RANGE_MAPS = ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio")


def _tokens(pointer):
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]] if pointer else []


def _ends_with(tokens, pattern):
    if len(tokens) < len(pattern):
        return False
    return all(p == "*" or p == t for p, t in zip(pattern, tokens[len(tokens) - len(pattern):]))


def is_quantity_path(pointer, kind=None):
    """The JSON pointer (into a whole object of `kind`) is a field whose schema type is resource.Quantity."""
    tokens = _tokens(pointer)
    if any(_ends_with(tokens, p) for p in _RESOURCE_LIST_ENDS + _SINGLE_ENDS):
        if tokens[-2:-1] == ["hard"] and kind not in (None, "ResourceQuota"):
            return False
        if tokens[-2:-1] == ["capacity"] and kind not in (None, "PersistentVolume"):
            return False
        return True
    if kind == "LimitRange" and len(tokens) == 5 and tokens[:2] == ["spec", "limits"] \
            and tokens[3] in _LIMIT_RANGE_MAPS:
        return True
    return False
