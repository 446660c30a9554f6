# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Secrets are compared and reported by hash, never in clear."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib


def fingerprint(secret):
    """'sha256:<first 12 hex>' of a secret, or None when there is none. Safe to print and return."""
    if secret in (None, ""):
        return None
    if not isinstance(secret, bytes):
        secret = str(secret).encode("utf-8")
    return "sha256:" + hashlib.sha256(secret).hexdigest()[:12]


def same_secret(a, b):
    """True when both secrets are set and equal (compared by hash, so neither is kept around)."""
    return a not in (None, "") and fingerprint(a) == fingerprint(b)
