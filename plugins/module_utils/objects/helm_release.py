# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Helm 3's release records, read as plain facts. Pure.

Helm 3 stores each revision of a release as a Secret of type `helm.sh/release.v1` in the release's namespace,
named `sh.helm.release.v1.<release>.v<revision>`, labelled `owner=helm`, `name=<release>`,
`status=<deployed|failed|superseded|pending-install|...>` and `version=<revision>`. Its `data.release` is
(after the Secret's own base64) the release as JSON, gzip-compressed and base64-encoded once more.

KubeSphere v4.1 is the Helm release `ks-core` (chart appVersion v4.1.x); ks-installer v3.4.1 also installs a
`ks-core` release (the 3.4 chart, appVersion v3.x). So a release tells the version by its chart's appVersion,
never by its existence. A release holds the user's values and the rendered manifests (the jwtSecret among
them): nothing but the chart's metadata, the release's own fields and two named values leaves this file:
`multicluster.role` and `multicluster.hostClusterName` (KubeSphere 4.1's role and host name, the user's value
over the chart's default; an empty value is unset, None)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import gzip
import json

RELEASE_SECRET_TYPE = "helm.sh/release.v1"
GZIP_MAGIC = b"\x1f\x8b\x08"


def selector(release):
    """The label selector of a release's records that are not superseded (the current one, and any failed
    or pending one after it)."""
    return "owner=helm,name=%s,status!=superseded" % release


def decode(secret):
    """The release record of one Secret as {name, namespace, revision, status, chart, chart_version,
    app_version, description}; None when the Secret is not a readable Helm 3 release record."""
    if not isinstance(secret, dict) or secret.get("type") not in (None, RELEASE_SECRET_TYPE):
        return None
    encoded = (secret.get("data") or {}).get("release")
    if not encoded:
        return None
    try:
        payload = base64.b64decode(base64.b64decode(encoded))
        if payload[:3] == GZIP_MAGIC:
            payload = gzip.decompress(payload)
        release = json.loads(payload.decode("utf-8"))
    except (binascii.Error, ValueError, OSError, EOFError, UnicodeDecodeError):
        return None
    if not isinstance(release, dict):
        return None
    labels = (secret.get("metadata") or {}).get("labels") or {}
    metadata = (release.get("chart") or {}).get("metadata") or {}
    info = release.get("info") or {}
    return {
        "name": release.get("name") or labels.get("name"),
        "namespace": release.get("namespace") or (secret.get("metadata") or {}).get("namespace"),
        "revision": _int(release.get("version"), labels.get("version")),
        "status": info.get("status") or labels.get("status"),
        "chart": metadata.get("name"),
        "chart_version": metadata.get("version"),
        "app_version": metadata.get("appVersion"),
        "description": info.get("description"),
        "multicluster": multicluster_values(release),
    }


# the only values read from a release: (key under `multicluster`, field of the result)
MULTICLUSTER_VALUES = (("role", "role"), ("hostClusterName", "host_cluster_name"))


def multicluster_values(release):
    """{"role", "host_cluster_name"}: the release's values multicluster.role and multicluster.hostClusterName,
    the user-supplied value (`config`, what `helm get values` shows) over the chart's default (`chart.values`);
    None where neither sets one (ks-core's chart defaults both to "", which its templates resolve from the
    ConfigMap kubesphere-config, else to `host`). Nothing else of the values is read."""
    sources = [(release.get("config") or {}), ((release.get("chart") or {}).get("values") or {})]
    out = {}
    for key, field in MULTICLUSTER_VALUES:
        out[field] = None
        for values in sources:
            section = values.get("multicluster") if isinstance(values, dict) else None
            if isinstance(section, dict) and key in section:  # the user's value wins, "" included (Helm's merge)
                value = section[key]
                out[field] = value if isinstance(value, str) and value else None
                break
    return out


def current(secrets):
    """The latest revision among a release's records (what `helm status` shows), None without any."""
    records = [r for r in (decode(s) for s in secrets or []) if r is not None]
    if not records:
        return None
    return max(records, key=lambda r: r["revision"] or 0)


def _int(*values):
    for value in values:
        try:
            return int(value)
        except (TypeError, ValueError):
            continue
    return None
