# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Drift of federated objects: what each member should hold, whether
it does, and what kubefed says about it. Pure functions over plain dicts, read-only by nature.

What kubefed v0.8.1 writes to a member (pkg/controller/sync/resource.go ObjectForCluster,
dispatch/managed.go Create/Update, dispatch/retain.go RetainClusterFields):
1. spec.template, without annotations and finalizers (kubefed refuses both in a template), with the
   federated object's name, its namespace (not for Namespaces), the target kind, and apiVersion from the
   FederatedTypeConfig unless the template has one;
2. on update only, fields retained from the live member object: finalizers and annotations (whole), for a
   Service healthCheckNodePort, clusterIP(s) and the nodePort of each port matching by name, protocol and
   port, for a ServiceAccount its secrets when the template has none, otherwise spec.replicas when the
   federated object says retainReplicas;
3. the cluster's overrides (JSON patch with evanphx v4 semantics, jsonpatch.apply_patch);
4. the label kubefed.io/managed: "true".

The comparison with the live object ignores what the API server owns (status, resourceVersion, uid, ...),
what it defaults (fields absent from the expected object are not compared, except labels and the data
maps of ConfigMaps and Secrets, compared whole; an expected zero, false or empty value matches an absent
one, as the server omits them) and what KubeSphere adds on members (fidelity-audit F14: the label
kubesphere.io/namespace and the finalizer finalizers.kubesphere.io/namespaces on namespaces) and the label
kubernetes.io/metadata.name the API server puts on every namespace. Fields whose schema type is a resource
quantity (resources requests/limits, emptyDir sizeLimit, ... see quantity.is_quantity_path) are compared by
value, as the member's API server stores them in canonical form ("0.5" or 0.5 becomes "500m", "1024Mi" becomes
"1Gi"); every other field is compared as written.

Per member, a state:
- in_sync: the live object matches;
- drifted: it differs; `fields` lists the JSON pointers that differ (for Secrets only the pointers of the
  keys, never a value: nothing this module returns holds a value of the member object);
- missing: no object on the member;
- not_managed: the object exists without kubefed.io/managed "true" (labelled "false": kubefed reports
  ManagedLabelFalse and never touches it; unlabelled: kubefed has not adopted it yet);
- unknown: the expected object cannot be computed because kubefed cannot apply this cluster's overrides
  (kubefed reports ApplyOverridesFailed and writes nothing there).
The real kubefed reverts hand edits about 10 s later while it is healthy; a drift that persists shows
where it cannot: controller down, cluster Offline, ManagedLabelFalse, an override it rejected.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import jsonpatch
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import overrides as ov
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import placement as pl
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import quantity
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.common import SERVER_OWNED_METADATA

IGNORED_METADATA = tuple(SERVER_OWNED_METADATA) + ("deletionTimestamp", "ownerReferences")
# KubeSphere's member-side namespace controller (fidelity-audit F14), and the kube-apiserver itself, which
# labels every Namespace kubernetes.io/metadata.name=<name> (seen on the lab's real members)
MEMBER_ADDED_LABELS = {"Namespace": ("kubesphere.io/namespace", "kubernetes.io/metadata.name")}
MEMBER_ADDED_FINALIZERS = {"Namespace": ("finalizers.kubesphere.io/namespaces",)}
EXACT_MAPS = ("data", "binaryData")

# kubefed's per-cluster propagation status (pkg/controller/sync/status/status.go), in words.
CLUSTER_STATUS_REASONS = {
    "": "propagated",
    "WaitingForRemoval": "kubefed is removing the object from this cluster",
    "ClusterNotReady": "the cluster is not Ready for kubefed (KubeFedCluster Offline or not Ready)",
    "CachedRetrievalFailed": "kubefed could not read the object from its cache of the cluster",
    "ComputeResourceFailed": "kubefed could not compute the object for this cluster",
    "ApplyOverridesFailed": "kubefed could not apply this cluster's overrides (nothing is written there)",
    "CreationFailed": "kubefed could not create the object",
    "UpdateFailed": "kubefed could not update the object",
    "DeletionFailed": "kubefed could not delete the object",
    "LabelRemovalFailed": "kubefed could not remove its managed label",
    "RetrievalFailed": "kubefed could not read the object",
    "AlreadyExists": "the object already exists and kubefed does not adopt existing objects",
    "FieldRetentionFailed": "kubefed could not retain the member's fields",
    "VersionRetrievalFailed": "kubefed could not read its propagated version",
    "ClientRetrievalFailed": "kubefed has no client for this cluster",
    "ManagedLabelFalse": "the member object is labelled kubefed.io/managed: false, kubefed leaves it alone",
    "CreationTimedOut": "kubefed's creation timed out",
    "UpdateTimedOut": "kubefed's update timed out",
    "DeletionTimedOut": "kubefed's deletion timed out",
    "LabelRemovalTimedOut": "kubefed's label removal timed out",
}
AGGREGATE_REASONS = {
    "": "propagated to every placed cluster",
    "ClusterRetrievalFailed": "kubefed could not list its clusters",
    "ComputePlacementFailed": "kubefed could not compute the placement",
    "CheckClusters": "propagation failed on some clusters (see each cluster)",
    "NamespaceNotFederated": "the namespace has no FederatedNamespace: the object goes nowhere",
}


# ---------------------------------------------------------------- the expected member object

def _int_or_none(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def retain_cluster_fields(target_kind, desired, live, fed_obj):
    """kubefed's RetainClusterFields: `desired` (modified in place and returned) takes from the live
    member object what controllers in the member own."""
    live_meta = live.get("metadata") or {}
    meta = desired.setdefault("metadata", {})
    for field in ("finalizers", "annotations"):
        if live_meta.get(field):
            meta[field] = copy.deepcopy(live_meta[field])
        else:
            meta.pop(field, None)
    live_spec = live.get("spec") or {}
    if target_kind == "Service":
        hc_port = _int_or_none(live_spec.get("healthCheckNodePort"))
        if hc_port and hc_port > 0:
            desired.setdefault("spec", {})["healthCheckNodePort"] = hc_port
        if isinstance(live_spec.get("clusterIP"), str) and live_spec["clusterIP"]:
            desired.setdefault("spec", {})["clusterIP"] = live_spec["clusterIP"]
        if live_spec.get("clusterIPs"):
            desired.setdefault("spec", {})["clusterIPs"] = list(live_spec["clusterIPs"])
        live_ports = live_spec.get("ports")
        if isinstance(live_ports, list):
            spec = desired.setdefault("spec", {})
            ports = spec.get("ports") or []
            for port in ports:
                for live_port in live_ports:
                    if all(port.get(k) == live_port.get(k) for k in ("name", "protocol", "port")) \
                            and "nodePort" in live_port:
                        port["nodePort"] = live_port["nodePort"]
            spec["ports"] = ports
        return desired
    if target_kind == "ServiceAccount":
        if not desired.get("secrets") and live.get("secrets"):
            desired["secrets"] = copy.deepcopy(live["secrets"])
        return desired
    if (fed_obj.get("spec") or {}).get("retainReplicas") is True and "replicas" in live_spec:
        desired.setdefault("spec", {})["replicas"] = live_spec["replicas"]
    return desired


def cluster_overrides_of(fed_obj, cluster):
    """This cluster's clusterOverrides, read as kubefed reads them (ov.overrides_map: raises
    PatchError when any entry of the object is invalid)."""
    return ov.overrides_map(fed_obj).get(cluster) or []


def object_for_cluster(fed_obj, target, cluster, live=None):
    """The object kubefed writes to `cluster` (see the module docstring). `target` is
    federated.federated_types(ftc)["target"]; `live` the member's current object (None: kubefed creates,
    so nothing is retained). Raises jsonpatch.PatchError when the overrides do not apply."""
    fed_meta = fed_obj.get("metadata") or {}
    obj = copy.deepcopy((fed_obj.get("spec") or {}).get("template") or {})
    meta = obj.setdefault("metadata", {})
    meta.pop("annotations", None)
    meta.pop("finalizers", None)
    meta["name"] = fed_meta.get("name")
    if target["kind"] != "Namespace" and fed_meta.get("namespace"):
        meta["namespace"] = fed_meta["namespace"]
    obj["kind"] = target["kind"]
    if not obj.get("apiVersion"):
        obj["apiVersion"] = target["apiVersion"]
    if live is not None:
        retain_cluster_fields(target["kind"], obj, live, fed_obj)
    obj = jsonpatch.apply_patch(obj, cluster_overrides_of(fed_obj, cluster))
    labels = obj.setdefault("metadata", {}).get("labels") or {}
    labels[federated.MANAGED_LABEL] = "true"
    obj["metadata"]["labels"] = labels
    return obj


# ---------------------------------------------------------------- comparison

def _empty(value):
    """Values the API server omits when they are zero (Go omitempty): absent in the live object is the same."""
    return value is None or value is False or value == 0 or value == {} or value == [] or value == ""


def _subset_diff(expected, live, path, out, kind=None):
    """Pointers where `live` does not hold `expected` (dicts as subsets; lists by index, same length;
    quantities of `kind` by value)."""
    if isinstance(expected, dict):
        if not isinstance(live, dict):
            out.append(path or "/")
            return
        for key in sorted(expected):
            sub = path + "/" + jsonpatch.escape_token(key)
            if key not in live:
                if not _empty(expected[key]):
                    out.append(sub)
                continue
            _subset_diff(expected[key], live[key], sub, out, kind)
        return
    if isinstance(expected, list):
        if not isinstance(live, list) or len(live) != len(expected):
            out.append(path or "/")
            return
        for idx, (exp_item, live_item) in enumerate(zip(expected, live)):
            _subset_diff(exp_item, live_item, "%s/%d" % (path, idx), out, kind)
        return
    if expected != live and not (quantity.is_quantity_path(path, kind) and quantity.equal(expected, live)):
        out.append(path or "/")


def _exact_map_diff(expected, live, path, out):
    expected = expected or {}
    live = live or {}
    for key in sorted(set(expected) | set(live)):
        if expected.get(key) != live.get(key) or (key in expected) != (key in live):
            out.append(path + "/" + jsonpatch.escape_token(key))


def differing_fields(expected, live, kind=None):
    """The JSON pointers where the live member object differs from the expected one, sorted; [] = in sync.
    Only pointers: never a value (Secret data stays out of results)."""
    kind = kind or expected.get("kind")
    exp = copy.deepcopy(expected)
    cur = copy.deepcopy(live)
    for obj in (exp, cur):
        obj.pop("status", None)
        meta = obj.get("metadata") or {}
        for key in IGNORED_METADATA:
            meta.pop(key, None)
        labels = meta.get("labels") or {}
        for label in MEMBER_ADDED_LABELS.get(kind, ()):
            labels.pop(label, None)
        meta["finalizers"] = [f for f in meta.get("finalizers") or []
                              if f not in MEMBER_ADDED_FINALIZERS.get(kind, ())]
    out = []
    exp_meta = exp.pop("metadata", {}) or {}
    cur_meta = cur.pop("metadata", {}) or {}
    _exact_map_diff(exp_meta.pop("labels", None), cur_meta.pop("labels", None), "/metadata/labels", out)
    _subset_diff(exp_meta, cur_meta, "/metadata", out)
    if kind in ov.DATA_KINDS:
        for key in EXACT_MAPS:
            _exact_map_diff(exp.pop(key, None), cur.pop(key, None), "/" + key, out)
    _subset_diff(exp, cur, "", out, kind)
    return sorted(set(out))


# ---------------------------------------------------------------- kubefed's status

def propagation(fed_obj):
    """kubefed's propagation status of a federated object: {"status": "True"/"False"/None, "reason",
    "message" (in words), "clusters": {name: status code ("" = OK)}, "stale": True when
    status.observedGeneration is behind metadata.generation (kubefed has not processed the last change:
    controller down or busy)}."""
    status = fed_obj.get("status") or {}
    condition = {}
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Propagation":
            condition = cond
    reason = condition.get("reason") or ""
    clusters = {}
    for entry in status.get("clusters") or []:
        clusters[entry.get("name")] = entry.get("status") or ""
    generation = (fed_obj.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration")
    return {"status": condition.get("status"), "reason": reason,
            "message": AGGREGATE_REASONS.get(reason, reason) if condition else "kubefed has not reported yet",
            "clusters": clusters,
            "stale": bool(generation and condition and (observed or 0) < generation)}


def cluster_reason(code):
    """One cluster's propagation status code, in words (unknown codes are returned as they are)."""
    if code is None:
        return "kubefed reports nothing for this cluster (not placed, or the controller has not synced it)"
    return CLUSTER_STATUS_REASONS.get(code, code)


# ---------------------------------------------------------------- the report

def member_drift(fed_obj, target, cluster, live):
    """{"cluster", "state", "fields", "error"} for one member (see the module docstring)."""
    out = {"cluster": cluster, "state": None, "fields": [], "error": None}
    if live is None:
        out["state"] = "missing"
        return out
    managed = ((live.get("metadata") or {}).get("labels") or {}).get(federated.MANAGED_LABEL)
    if managed != "true":
        out["state"] = "not_managed"
        out["error"] = ("labelled %s: false" % federated.MANAGED_LABEL if managed == "false"
                        else "no %s label" % federated.MANAGED_LABEL)
        return out
    try:
        expected = object_for_cluster(fed_obj, target, cluster, live)
    except jsonpatch.PatchError as exc:
        out["state"] = "unknown"
        out["error"] = "the overrides do not apply: %s" % exc
        return out
    out["fields"] = differing_fields(expected, live, target["kind"])
    out["state"] = "drifted" if out["fields"] else "in_sync"
    return out


def report(fed_obj, ftc, members, clusters=None, cluster_health=None, host=None):
    """Per member, the drift and kubefed's view of one federated object.

    members: {cluster: live member object or None}; clusters: the clusters to report (default: the
    placement's names plus every member given), normally federation's effective placement;
    cluster_health: optional {cluster: {"ready": bool, "offline": bool}} from the KubeFedClusters;
    host: the host cluster's name (its namespace of a FederatedNamespace is not_managed by design).
    Returns a list sorted by cluster of {cluster, state, fields, error, propagation (kubefed's status
    code or None), reason (words)}."""
    target = federated.federated_types(ftc)["target"]
    prop = propagation(fed_obj)
    if clusters is None:
        clusters = set(pl.placement_names(fed_obj) or []) | set(members)
    cluster_health = cluster_health or {}
    out = []
    for cluster in sorted(set(clusters)):
        entry = member_drift(fed_obj, target, cluster, members.get(cluster))
        code = prop["clusters"].get(cluster)
        entry["propagation"] = code
        reasons = [cluster_reason(code)] if (code or entry["state"] != "in_sync") else ["propagated"]
        health = cluster_health.get(cluster) or {}
        if health.get("offline"):
            reasons.append("the KubeFedCluster is Offline: kubefed cannot reach it to correct it")
        elif health and not health.get("ready"):
            reasons.append("the KubeFedCluster is not Ready")
        if cluster == host and fed_obj.get("kind") == "FederatedNamespace" and entry["state"] == "not_managed":
            reasons.append("expected: the host namespace of a multi-cluster project is labelled "
                           "kubefed.io/managed: false, as the console creates it")
        if prop["stale"]:
            reasons.append("kubefed has not processed the last change of the federated object yet "
                           "(controller down or busy)")
        if prop["reason"] == "NamespaceNotFederated":
            reasons.append(AGGREGATE_REASONS["NamespaceNotFederated"])
        entry["reason"] = "; ".join(reasons)
        out.append(entry)
    return out
