# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. What one cluster looks like to KubeSphere multi-cluster
management (the facts behind the cluster_info module), and the fleet table built from them.

`gather(conn)` makes the read-only calls (through `_k8s.Connection` or anything with the same `raw`,
`get` and `list`); `facts(name, raw)` turns what was read into the returned dict; `unreachable(name,
error)` says why a cluster could not be read, with a stable code; `fleet_table` renders many clusters'
facts as one text table. All but `gather` are pure and unit-tested with plain dicts.

No kubeconfig, token or jwtSecret ever leaves this module: the jwtSecret is reported as a fingerprint."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import threading
import time

from ansible_collections.kubesphere.multicluster.plugins.module_utils import clock, components, fleet, installer
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint

CLUSTER_API = "cluster.kubesphere.io/v1alpha1"
# The annotations KubeSphere v4 puts on a member's kubesphere-system namespace (fact sheet section 7).
V4_HOST_ANNOTATIONS = ("cluster.kubesphere.io/name", "cluster.kubesphere.io/host-cluster")

# Why a cluster cannot be read: (code, what to tell the user), matched in order on the error text.
FAILURES = (
    ("kubeconfig_missing", ("does not exist",),
     "its kubeconfig file does not exist"),
    ("no_such_context", ("Expected object with name",),
     "the kubeconfig has no such context"),
    ("bad_certificate", ("certificate is not trusted", "CERTIFICATE_VERIFY_FAILED", "certificate verify failed"),
     "the API server's TLS certificate is not trusted by the kubeconfig's CA"),
    ("unauthorized", ("HTTP 401", "Unauthorized"),
     "the API server rejected the credentials (401 Unauthorized)"),
    ("unreachable", ("connection refused", "unreachable", "did not answer", "Name or service not known", "timed out"),
     "the API server is unreachable"),
)


def gather(conn, samples=1, now=time.time, sleep=time.sleep):
    """Read everything `facts` needs. Raises KubeSphereError when the cluster cannot be read at all;
    objects that are absent (or not served, e.g. no Cluster CRD) come back as None."""
    raw = {"date_samples": []}
    for i in range(max(1, samples)):
        if i:
            sleep(1.0 / samples + 0.05)  # spread the samples across a second boundary: tighter bounds
        sent = now()
        status, headers, body = conn.raw("GET", "/version")
        received = now()
        if status >= 400:
            raise KubeSphereError("GET /version answered HTTP %s" % status, cluster=conn.label,
                                  code="unauthorized" if status == 401 else "api_error")
        raw["version"] = body if isinstance(body, dict) else {}
        raw["date_samples"].append((headers.get("Date") or headers.get("date"), sent, received))
    raw["cc"] = conn.get(installer.CC_API_VERSION, installer.CC_KIND, installer.CC_NAME, installer.KS_NAMESPACE,
                         if_served=True)
    raw["configmap"] = conn.get("v1", "ConfigMap", installer.CONFIG_MAP, installer.KS_NAMESPACE)
    raw["kube_system"] = conn.get("v1", "Namespace", "kube-system")
    raw["ks_namespace"] = conn.get("v1", "Namespace", installer.KS_NAMESPACE)
    raw["clusters"] = conn.list(CLUSTER_API, "Cluster", if_served=True)
    return raw


def within(seconds, label, fn, *args):
    """fn(*args), or KubeSphereError(code='unreachable') when it has not returned after `seconds`.
    The call runs in a daemon thread that is abandoned on timeout (the module process ends soon after):
    the kubernetes client's requests carry no timeout, and discovery runs before we could pass one."""
    outcome = {}

    def call():
        try:
            outcome["value"] = fn(*args)
        except BaseException as e:  # noqa: BLE001  handed to the caller as is
            outcome["error"] = e

    worker = threading.Thread(target=call, name="kubesphere-read-%s" % label)
    worker.daemon = True
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise KubeSphereError("the API server did not answer within %g s" % seconds, cluster=label, code="unreachable")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def facts(name, raw):
    """The cluster_info result for a cluster that answered (see the module's RETURN)."""
    cc = raw.get("cc")
    warnings = []
    try:
        config = installer.parse_config(raw.get("configmap"))
    except ValueError as e:
        config = {}
        warnings.append(str(e))
    spec = installer.spec_role(cc) if cc else None
    rendered = installer.config_role(config)
    skew = installer.config_max_clock_skew(config)
    annotations = ((raw.get("ks_namespace") or {}).get("metadata") or {}).get("annotations") or {}
    return {
        "name": name,
        "reachable": True,
        "reason_code": None,
        "reason": None,
        "kubernetes_version": (raw.get("version") or {}).get("gitVersion"),
        "kubesphere_installed": bool(cc or raw.get("configmap")),
        "kubesphere_version": installer.installer_version(cc) if cc else None,
        "installer": {
            "present": cc is not None,
            "core_status": (((cc or {}).get("status") or {}).get("core") or {}).get("status"),
            "enabled_components": installer.enabled_components(cc),
            "failed_components": installer.failed_components(cc),
        },
        "components": components.spec_components((cc or {}).get("spec")),
        "cluster_role": {"spec": spec, "rendered": rendered},
        "role": rendered or spec or "none",
        "config_rendered": bool(config),
        "jwt_secret_hash": fingerprint(installer.config_jwt_secret(config)),
        "maximum_clock_skew": skew,
        "maximum_clock_skew_seconds": clock.parse_duration(skew),
        "kube_system_uid": ((raw.get("kube_system") or {}).get("metadata") or {}).get("uid"),
        "host_annotations": {k: annotations[k] for k in V4_HOST_ANNOTATIONS if k in annotations},
        "clock": clock.combine([clock.sample_offset(*s) for s in raw.get("date_samples") or []]),
        "clusters": _clusters(raw.get("clusters")),
        "warnings": warnings,
    }


def _clusters(items):
    """The Cluster objects as fleet.discovered_clusters reads them, each with its conditions."""
    items = sorted(items or [], key=lambda o: (o.get("metadata") or {}).get("name") or "")
    return [dict(d, conditions=_conditions(o)) for d, o in zip(fleet.discovered_clusters(items), items)]


def _conditions(obj):
    keep = ("type", "status", "reason", "message", "lastTransitionTime")
    return [{k: c.get(k) for k in keep if k in c} for c in (obj.get("status") or {}).get("conditions") or []]


def classify(error):
    """(code, text) for an error that kept us from reading a cluster: the words a user acts on, then the
    underlying detail when it adds something."""
    reason = getattr(error, "reason", None) or str(error)
    code, words = "error", None
    if getattr(error, "code", None) == "unauthorized":
        code, words = FAILURES[3][0], FAILURES[3][2]
    else:
        for candidate, markers, text in FAILURES:
            if any(m.lower() in reason.lower() for m in markers):
                code, words = candidate, text
                break
    detail = reason
    for pattern, replacement in _NOISE:
        detail = re.sub(pattern, replacement, detail)
    if not words:
        return code, detail
    if code in ("no_such_context", "kubeconfig_missing") or detail.lower() in words.lower():
        return code, words
    return code, "%s (%s)" % (words, detail)


# Wording of _k8s/kubernetes.core that would repeat what `classify` already says.
_NOISE = ((r"cannot build a client: ", ""), (r"Could not create API client: ", ""),
          (r"connection refused: the API server is unreachable", "connection refused"),
          (r"the API server's certificate is not trusted \((.*)\)$", r"\1"),
          (r"^Unauthorized \(HTTP 401\)$", ""))


def unreachable(name, error, context=None):
    """The cluster_info result for a cluster that could not be read."""
    code, text = classify(error)
    if code == "no_such_context" and context:
        text = "the kubeconfig has no context '%s'" % context
    out = {k: None for k in ("kubernetes_version", "kubesphere_version", "jwt_secret_hash", "maximum_clock_skew",
                             "kube_system_uid", "clock")}
    out.update(name=name, reachable=False, reason_code=code, reason=text, kubesphere_installed=None, role=None,
               cluster_role={"spec": None, "rendered": None}, clusters=[], host_annotations={}, warnings=[])
    return out


def summary(f):
    """One line about a cluster, for `msg`."""
    if not f["reachable"]:
        return "cluster '%s': not reachable: %s" % (f["name"], f["reason"])
    ks = ("KubeSphere %s" % (f["kubesphere_version"] or "(version unknown)")) if f["kubesphere_installed"] \
        else "KubeSphere not installed"
    return "cluster '%s': Kubernetes %s, %s, role %s" % (f["name"], f["kubernetes_version"], ks, f["role"])


# ---------------------------------------------------------------------------------------------------
# the fleet table


COLUMNS = ("CLUSTER", "ROLE", "KUBERNETES", "KUBESPHERE", "READY", "JWT=HOST", "SKEW")


def fleet_rows(all_facts, host=None):
    """One row per cluster (dicts keyed by COLUMNS) plus notes, from each cluster's cluster_info facts.

    READY is what the host's Cluster objects say (yes / no / not joined); clusters the host manages that
    are not among `all_facts` get a row as the host sees them, and a note. JWT=HOST compares the jwtSecret
    fingerprint with the host's; SKEW is the clock offset against the host (the controller when the host
    could not be measured), '~' marking a value within the 1 s resolution of the Date header."""
    by_name = {f["name"]: f for f in all_facts}
    host_f = by_name.get(host) if host else next((f for f in all_facts if f.get("role") == "host"), None)
    host_view = {c["name"]: c for c in (host_f or {}).get("clusters") or []}
    ref = (host_f or {}).get("clock")
    rows, notes = [], []
    for f in all_facts:
        if not f["reachable"]:
            rows.append(dict(zip(COLUMNS, (f["name"], "?", "-", "-", _ready(host_view.get(f["name"])), "-", "-"))))
            notes.append("%s: UNREACHABLE [%s] %s" % (f["name"], f["reason_code"], f["reason"]))
            continue
        ks = f["kubesphere_version"] or ("installed" if f["kubesphere_installed"] else "not installed")
        ready = _ready(host_view.get(f["name"])) if f is not host_f or f["name"] in host_view else "-"
        rows.append(dict(zip(COLUMNS, (f["name"], f["role"], f["kubernetes_version"] or "-", ks, ready,
                                       _jwt(f, host_f), _skew(f["clock"], ref)))))
        notes += ["%s: %s" % (f["name"], w) for w in f.get("warnings") or []]
    for name, seen in sorted(host_view.items()):
        if name not in by_name and seen["role"] != "host":
            rows.append(dict(zip(COLUMNS, (name, "member", seen["kubernetes_version"] or "-",
                                           seen["kubesphere_version"] or "-", _ready(seen), "-", "-"))))
            notes.append("%s: joined to the host but not in the inventory (no kubeconfig): shown as the host sees it"
                         % name)
    offsets = {f["name"]: f.get("clock") for f in all_facts if f["reachable"]}
    threshold = (host_f or {}).get("maximum_clock_skew_seconds") or clock.DEFAULT_MAX_SKEW
    notes += [p["msg"] for p in clock.skew_report(offsets, threshold)["problems"]]
    return rows, notes


def _ready(seen):
    if seen is None:
        return "not joined"
    return "yes" if seen["ready"] else "no"


def _jwt(f, host_f):
    if host_f is None or not host_f.get("reachable"):
        return "?"
    if not f["jwt_secret_hash"] or not host_f.get("jwt_secret_hash"):
        return "-"
    return "yes" if f["jwt_secret_hash"] == host_f["jwt_secret_hash"] else "NO"


def _skew(off, ref):
    if not off:
        return "-"
    base = ref["offset"] if ref else 0.0
    value = round(off["offset"] - base, 1) or 0.0  # no "-0.0"
    unc = off["uncertainty"] + (ref["uncertainty"] if ref else 0.0)
    return "%s%+.1fs" % ("~" if abs(value) <= unc else "", value)


def fleet_table(all_facts, host=None):
    """The fleet as aligned text: a header, one line per cluster, then notes (unreachable clusters with
    their reason, warnings, clock-skew problems)."""
    rows, notes = fleet_rows(all_facts, host)
    widths = [max([len(c)] + [len(str(r[c])) for r in rows]) for c in COLUMNS]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths)).rstrip()]
    lines += ["  ".join(str(r[c]).ljust(w) for c, w in zip(COLUMNS, widths)).rstrip() for r in rows]
    return "\n".join(lines + ([""] + notes if notes else []))


def no_result(name, msg=None):
    """Facts for an inventory host whose cluster_info task did not run or failed."""
    error = KubeSphereError(msg or "cluster_info returned no result (the task failed or was skipped)")
    out = unreachable(name, error)
    out["reason_code"] = "no_result"
    return out
