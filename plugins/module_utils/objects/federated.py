# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Pure builders for KubeSphere multi-cluster projects and kubefed
federated objects (kubefed v0.8.1 as KubeSphere 3.4 ships it): the host Namespace, FederatedNamespace,
WorkspaceTemplate, Federated<Kind> and ReplicaSchedulingPreference; FederatedTypeConfigs; their
normalisation and comparison for idempotency; masking of Secrets; what deleting a project removes. No
cluster access here: modules read facts, run checks/federation.py, then write what these functions build.
Placement is in placement.py, overrides from per-cluster settings in overrides.py, kubefed's JSON patch in
jsonpatch.py.

Replicas by weight are not overrides: they are a ReplicaSchedulingPreference (see
`replica_scheduling_preference`). The RSP shape the collection writes, and why:
- same name and namespace as the FederatedDeployment, `targetKind: FederatedDeployment` (or
  FederatedReplicaSet; kubefed schedules nothing else);
- `intersectWithClusterSelector: false`. With true, kubefed's candidates are computed with selectorOnly
  placement of the target AND of the FederatedNamespace (schedulingtypes/plugin.go GetResourceClusters ->
  util.ComputeNamespacedPlacement(..., selectorOnly=true)); a console-style FederatedNamespace has only
  `placement.clusters` and no clusterSelector, which selects nothing, so the RSP would do nothing at all;
- `clusters` lists every weighted cluster by name and no "*" entry, so Ready KubeFedClusters outside the
  project get no preference and therefore 0 replicas. kubefed still writes every Ready KubeFedCluster into
  the FederatedDeployment's spec.placement.clusters (0-replica ones included) and a /spec/replicas override
  for each; the effective placement stays the intersection with the FederatedNamespace, so nothing reaches
  clusters outside the project;
- `rebalance: true` (as the console writes it), so the division does not depend on what runs now and the
  module's preview (planner.preview) is exactly what kubefed writes.
Because the RSP owns spec.placement.clusters and the /spec/replicas overrides of its target, comparisons in
weight mode drop them (`without_rsp_owned`) and updates keep the live values (`keep_rsp_owned`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import overrides as ov
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import replica_planner as planner
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import placement as pl
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

MANAGED_LABEL = v.KUBEFED_MANAGED_LABEL
WORKSPACE_LABEL = v.WORKSPACE_LABEL
HOST_NAMESPACE_LABEL = "kubesphere.io/kubefed-host-namespace"
TYPES_API_VERSION = v.TYPES_API_VERSION
RSP_API_VERSION = v.SCHEDULING_API_VERSION
MASK = "********"
RSP_TARGET_KINDS = ("FederatedDeployment", "FederatedReplicaSet")
# What a template may not carry: the member object's identity and what the server owns.
TEMPLATE_DROPPED_METADATA = ("name", "namespace", "generateName", "resourceVersion", "uid", "generation",
                             "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                             "managedFields", "selfLink", "ownerReferences")


# ---------------------------------------------------------------- FederatedTypeConfig

def _api_version(group, version):
    return "%s/%s" % (group, version) if group else version


def federated_types(ftc):
    """The federated and target types a FederatedTypeConfig declares:
    {"federated": {apiVersion, kind, plural, namespaced}, "target": {apiVersion, kind, plural, namespaced},
     "enabled": spec.propagation == Enabled}."""
    spec = ftc.get("spec") or {}
    out = {"enabled": spec.get("propagation") == "Enabled"}
    name_parts = ((ftc.get("metadata") or {}).get("name") or "").split(".", 1)
    for role, field in (("federated", "federatedType"), ("target", "targetType")):
        api = spec.get(field) or {}
        group = api.get("group") or ""
        if role == "target" and not group and len(name_parts) > 1:
            group = name_parts[1]   # kubefed defaults the target group from the FTC name
        plural = api.get("pluralName") or (name_parts[0] if role == "target" else "")
        out[role] = {"apiVersion": _api_version(group, api.get("version") or ""), "kind": api.get("kind"),
                     "group": group, "version": api.get("version"), "plural": plural,
                     "namespaced": api.get("scope") == "Namespaced"}
    return out


def group_of(api_version):
    """'apps' for 'apps/v1', '' for 'v1'."""
    return api_version.split("/", 1)[0] if "/" in (api_version or "") else ""


def find_ftc(ftcs, api_version, kind):
    """The FederatedTypeConfig (from the host's list) whose target is this kind in this API group, or None.
    The version may differ from the manifest's (the template then keeps its own apiVersion)."""
    group = group_of(api_version)
    for ftc in ftcs or []:
        target = federated_types(ftc)["target"]
        if target["kind"] == kind and target["group"] == group:
            return ftc
    return None


# ---------------------------------------------------------------- builders

def host_namespace(name, workspace, labels=None):
    """The host Namespace of a multi-cluster project, as the console creates it: workspace label,
    kubesphere.io/kubefed-host-namespace, and kubefed.io/managed "false" (kubefed must not manage the host
    copy; a FederatedNamespace placed on the host reports ManagedLabelFalse there)."""
    all_labels = dict(labels or {})
    all_labels.update({WORKSPACE_LABEL: workspace, HOST_NAMESPACE_LABEL: "true", MANAGED_LABEL: "false"})
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": all_labels}}


def federated_namespace(name, workspace, clusters, labels=None, annotations=None, settings=None):
    """The FederatedNamespace the console writes: in the namespace it federates, workspace label on it and
    on the template, placement clusters, and one /metadata/annotations override per cluster when the
    project has annotations (alias, description); `settings[cluster]["overrides"]` adds raw overrides."""
    template_labels = dict(labels or {})
    template_labels[WORKSPACE_LABEL] = workspace
    template = {"metadata": {"labels": template_labels}}
    obj = {
        "apiVersion": TYPES_API_VERSION, "kind": "FederatedNamespace",
        "metadata": {"name": name, "namespace": name, "labels": {WORKSPACE_LABEL: workspace}},
        "spec": {"template": template, "placement": pl.placement(clusters),
                 "overrides": ov.overrides("Namespace", template, clusters, settings, annotations)},
    }
    if annotations:
        obj["metadata"]["annotations"] = dict(annotations)
    return obj


def workspace_template(name, clusters, manager=None, labels=None, annotations=None, api_version=v.TENANT_API_VERSION):
    """A WorkspaceTemplate (tenant.kubesphere.io/v1alpha2, or the version's `api_version`) placed on `clusters`;
    KubeSphere's controller turns it into the FederatedWorkspace on 3.4 (writing that directly is overwritten,
    fidelity-audit F14), the members' Workspaces on 4.1."""
    spec_template = {}
    if labels:
        spec_template["metadata"] = {"labels": dict(labels)}
    if manager:
        spec_template["spec"] = {"manager": manager}
    obj = {"apiVersion": api_version, "kind": "WorkspaceTemplate",
           "metadata": {"name": name}, "spec": {"template": spec_template, "placement": pl.placement(clusters)}}
    if annotations:
        obj["metadata"]["annotations"] = dict(annotations)
    return obj


def with_placement(obj, clusters):
    """A copy of a federated object (or WorkspaceTemplate) with spec.placement.clusters set to `clusters`,
    the rest kept (adding or removing a cluster of a project)."""
    out = copy.deepcopy(obj)
    spec = out.setdefault("spec", {})
    spec["placement"] = dict(spec.get("placement") or {}, **pl.placement(clusters))
    return out


def template_of(manifest, target_api_version=None):
    """spec.template from a plain manifest: without kind, status, identity and server-owned metadata and
    without annotations (kubefed drops template annotations and finalizers; annotations travel as an
    override instead). apiVersion is kept only when it differs from the FTC's target version. A Secret's
    stringData is folded into base64 data, as the API server would (the member never returns stringData)."""
    template = copy.deepcopy(manifest)
    template.pop("kind", None)
    template.pop("status", None)
    if template.get("apiVersion") == target_api_version or target_api_version is None:
        template.pop("apiVersion", None)
    meta = template.get("metadata") or {}
    for key in TEMPLATE_DROPPED_METADATA:
        meta.pop(key, None)
    meta.pop("annotations", None)
    meta.pop("finalizers", None)
    if meta:
        template["metadata"] = meta
    else:
        template.pop("metadata", None)
    if manifest.get("kind") == "Secret" and "stringData" in template:
        data = dict(template.get("data") or {})
        for key, value in (template.pop("stringData") or {}).items():
            data[key] = objects.b64(value)
        template["data"] = data
    return template


def federated_object(manifest, ftc, clusters, settings=None, retain_replicas=None, mirror_annotations=False):
    """The Federated<Kind> for a plain manifest (ConfigMap, Secret, Deployment, StatefulSet, Service or
    any kind with a FederatedTypeConfig): same name and namespace, spec.template, spec.placement.clusters
    (clusters with replicas 0 left out), spec.overrides from the per-cluster settings. Written whole, so a
    setting removed from the inventory disappears from the cluster.

    The manifest's annotations go on the federated object (kubefed drops template annotations). They reach
    the members only with mirror_annotations (a whole /metadata/annotations override per cluster, as the
    console mirrors them): that override replaces every annotation member controllers add (a Deployment's
    deployment.kubernetes.io/revision), so kubefed and that controller would rewrite the object in turn;
    per-key overrides are no way out either, since on create the member object has no annotations and
    /metadata/annotations/<key> misses its parent."""
    types = federated_types(ftc)
    target = types["target"]
    kind = manifest.get("kind")
    template = template_of(manifest, target["apiVersion"])
    meta = manifest.get("metadata") or {}
    placed = pl.placed_clusters(clusters, settings)
    fed_meta = {"name": meta.get("name")}
    if target["namespaced"]:
        fed_meta["namespace"] = meta.get("namespace")
    if meta.get("labels"):
        fed_meta["labels"] = dict(meta["labels"])
    if meta.get("annotations"):
        fed_meta["annotations"] = dict(meta["annotations"])
    spec = {"template": template, "placement": pl.placement(placed),
            "overrides": ov.overrides(kind, template, placed, settings,
                                      meta.get("annotations") if mirror_annotations else None)}
    if retain_replicas is not None:
        spec["retainReplicas"] = bool(retain_replicas)
    return {"apiVersion": types["federated"]["apiVersion"], "kind": types["federated"]["kind"],
            "metadata": fed_meta, "spec": spec}


def replica_scheduling_preference(name, namespace, total, weights, min_replicas=None, max_replicas=None,
                                  target_kind="FederatedDeployment", labels=None):
    """The RSP that divides `total` replicas by `weights` ({cluster: int}); see the module docstring for
    why intersectWithClusterSelector is false and there is no "*" entry."""
    prefs = planner.rsp_preferences(weights, min_replicas, max_replicas)
    obj = {"apiVersion": RSP_API_VERSION, "kind": "ReplicaSchedulingPreference",
           "metadata": {"name": name, "namespace": namespace},
           "spec": {"targetKind": target_kind, "totalReplicas": int(total), "rebalance": True,
                    "intersectWithClusterSelector": False, "clusters": prefs}}
    if labels:
        obj["metadata"]["labels"] = dict(labels)
    return obj


# ---------------------------------------------------------------- normalisation for comparisons


def normalize_federated(obj):
    """A copy of a federated object whose kubefed-ordered lists are sorted: placement clusters, overrides
    (see normalize_overrides) and status.clusters, so a second run reports no change."""
    if not obj:
        return obj
    out = copy.deepcopy(obj)
    spec = out.get("spec")
    if isinstance(spec, dict):
        clusters = (spec.get("placement") or {}).get("clusters")
        if clusters is not None:
            spec["placement"]["clusters"] = sorted(clusters, key=lambda c: str(c.get("name")))
        if "overrides" in spec:
            spec["overrides"] = ov.normalize_overrides(spec["overrides"])
            if not spec["overrides"]:
                spec.pop("overrides")
    status = out.get("status")
    if isinstance(status, dict) and isinstance(status.get("clusters"), list):
        status["clusters"] = sorted(status["clusters"], key=lambda c: str(c.get("name")))
    return out


def without_rsp_owned(obj):
    """A copy without what an RSP writes into its target: spec.placement.clusters and every /spec/replicas
    override (compare weight-mode objects with this, or the RSP's writes look like drift)."""
    out = normalize_federated(obj)
    spec = out.get("spec") or {}
    (spec.get("placement") or {}).pop("clusters", None)
    if "overrides" in spec:
        kept = []
        for entry in spec["overrides"]:
            items = [i for i in entry["clusterOverrides"] if i["path"] != ov.REPLICAS_PATH]
            if items:
                kept.append({"clusterName": entry["clusterName"], "clusterOverrides": items})
        spec["overrides"] = kept
        if not kept:
            spec.pop("overrides")
    return out


def keep_rsp_owned(desired, live):
    """`desired` with the live placement clusters and /spec/replicas overrides put back, so an update in
    weight mode does not undo what the RSP wrote (kubefed would redo it, with a churn of member updates)."""
    out = normalize_federated(desired)
    if not live:
        return out
    live_norm = normalize_federated(live)
    live_clusters = pl.placement_names(live_norm)
    if live_clusters is not None:
        out.setdefault("spec", {}).setdefault("placement", {})["clusters"] = [{"name": n} for n in live_clusters]
    replicas = {}
    for entry in (live_norm.get("spec") or {}).get("overrides") or []:
        for item in entry["clusterOverrides"]:
            if item["path"] == ov.REPLICAS_PATH:
                replicas[entry["clusterName"]] = item
    spec = out.setdefault("spec", {})
    by_cluster = dict((e["clusterName"], [i for i in e["clusterOverrides"] if i["path"] != ov.REPLICAS_PATH])
                      for e in spec.get("overrides") or [])
    for cluster, item in replicas.items():
        by_cluster.setdefault(cluster, []).append(item)
    spec["overrides"] = ov.normalize_overrides([{"clusterName": c, "clusterOverrides": items}
                                                for c, items in by_cluster.items()])
    if not spec["overrides"]:
        spec.pop("overrides")
    return out


KUBEFED_FINALIZER = "kubefed.io/sync-controller"
ORPHAN_ANNOTATION = "kubefed.io/orphan"


def comparable(obj, weight_mode=False):
    """What decides `changed` for a federated object the collection owns whole: apiVersion, kind, name,
    namespace, labels, annotations and the normalized spec; not status, server-owned metadata or kubefed's
    finalizer. In weight mode, without what the RSP owns."""
    if not obj:
        return {}
    norm = without_rsp_owned(obj) if weight_mode else normalize_federated(obj)
    meta = norm.get("metadata") or {}
    kept = dict((k, meta[k]) for k in ("name", "namespace") if meta.get(k))
    for key in ("labels", "annotations"):
        values = dict(meta.get(key) or {})
        if key == "annotations":
            values.pop("kubectl.kubernetes.io/last-applied-configuration", None)
        if values:
            kept[key] = values
    return {"apiVersion": norm.get("apiVersion"), "kind": norm.get("kind"), "metadata": kept,
            "spec": norm.get("spec") or {}}


def _mask_data_values(node):
    if isinstance(node, dict):
        return dict((k, MASK) for k in node)
    return MASK


def mask_secret(obj):
    """A copy of a FederatedSecret (or Secret) fit for results and diffs: every value of data/stringData in
    the template or the object, and every override value under /data or /stringData, masked. Key names stay
    (they say what differs)."""
    if not obj:
        return obj
    out = copy.deepcopy(obj)
    spec = out.get("spec") if isinstance(out.get("spec"), dict) else {}
    for holder in (out, spec.get("template") if isinstance(spec.get("template"), dict) else {}):
        for key in ("data", "stringData"):
            if isinstance(holder.get(key), dict):
                holder[key] = _mask_data_values(holder[key])
    for entry in spec.get("overrides") or []:
        for item in entry.get("clusterOverrides") or []:
            path = item.get("path") or ""
            if path.split("/")[1:2] in (["data"], ["stringData"]) and "value" in item:
                item["value"] = _mask_data_values(item["value"]) if path in ("/data", "/stringData") else MASK
    return out


def project_deletion(namespace, fed_namespace, fed_objects, kubefed_clusters):
    """What deleting a multi-cluster project removes on each member, as the console deletes it (the host
    Namespace; the FederatedNamespace and every federated object in it go with it, and kubefed removes
    their member copies, except from objects annotated kubefed.io/orphan: "true").

    fed_objects: the federated objects in the namespace (any Federated<Kind>); kubefed_clusters:
    [{name, labels}]. Returns {cluster: {"removed": [descriptions], "kept": [descriptions]}}, sorted."""
    out = {}

    def note(cluster, key, text):
        out.setdefault(cluster, {"removed": [], "kept": []})[key].append(text)

    for cluster in pl.effective_clusters(fed_namespace, kubefed_clusters):
        note(cluster, "kept" if _orphaned(fed_namespace) else "removed", "Namespace %s" % namespace)
    for obj in fed_objects or []:
        kind = (obj.get("kind") or "")[len("Federated"):] if (obj.get("kind") or "").startswith("Federated") \
            else obj.get("kind")
        text = "%s %s/%s" % (kind, namespace, (obj.get("metadata") or {}).get("name"))
        for cluster in pl.effective_clusters(obj, kubefed_clusters, fed_namespace):
            note(cluster, "kept" if _orphaned(obj) else "removed", text)
    for value in out.values():
        value["removed"].sort()
        value["kept"].sort()
    return dict(sorted(out.items()))


def _orphaned(obj):
    return ((obj.get("metadata") or {}).get("annotations") or {}).get(ORPHAN_ANNOTATION) == "true"
