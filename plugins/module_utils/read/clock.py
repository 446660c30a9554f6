# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Clock offsets of API servers, measured from their HTTP `Date`
header, and the skew between clusters that matters for KubeSphere's JWTs (pure functions).

Why it matters: a token the host issues carries iat/exp; a member whose clock differs by more than
`maximumClockSkew` (default 10s) rejects it ("token used before issued").

How honest the measurement is: `Date` has a resolution of one second (it is truncated, not rounded),
and the server stamped it at some unknown instant between the controller sending the request and
receiving the answer. So one sample gives an *interval* for the offset (server clock minus controller
clock), never a point:

    server time at stamping  in [D, D + 1)        (D = the Date header, in seconds)
    controller time then     in [sent, received]
    offset                   in (D - received, D + 1 - sent)

`sample_offset` returns that interval with its midpoint and half-width; `combine` intersects several
samples of the same server (the offset is constant over a few seconds, so the intersection is still
correct and narrower); checks/clock.py compares clusters pairwise and only calls a skew a problem when it
exceeds the threshold for every offset the intervals allow, and flags it as uncertain when it only might."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import re

DEFAULT_MAX_SKEW = 10.0  # KubeSphere's default authentication.maximumClockSkew ("10s")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_date(header):
    """Seconds since the epoch of an HTTP Date header ('Wed, 25 Nov 2026 00:46:13 GMT'); None if unusable."""
    if not header:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.timestamp() if parsed is not None else None


def sample_offset(date_header, sent, received):
    """The offset interval of one request: {offset, uncertainty, low, high} in seconds (server minus
    controller; positive = the server is ahead). `sent`/`received` are the controller's clock (time.time())
    just before the request and just after the answer. None when the server sent no usable Date."""
    server = parse_date(date_header)
    if server is None or received < sent:
        return None
    return interval(server - received, server + 1.0 - sent)


def interval(low, high):
    return {"low": round(low, 3), "high": round(high, 3), "offset": round((low + high) / 2.0, 3),
            "uncertainty": round((high - low) / 2.0, 3)}


def combine(samples):
    """The intersection of several samples of one server (tighter than any one). When they do not
    intersect (the server's clock jumped between samples) the widest honest answer is their union."""
    samples = [s for s in samples if s]
    if not samples:
        return None
    low, high = max(s["low"] for s in samples), min(s["high"] for s in samples)
    if low > high:
        low, high = min(s["low"] for s in samples), max(s["high"] for s in samples)
    return interval(low, high)


def parse_duration(value, default=DEFAULT_MAX_SKEW):
    """Seconds of a Go duration ('10s', '1m30s', '500ms') or a number; `default` when unset or unreadable."""
    if value is None or value == "":
        return default
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text.lstrip("+"):
        return default
    return sum(float(n) * _UNIT[u] for n, u in parts)
