# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Checks for multi-cluster projects and federated resources, run before
anything is written. Each returns a list of checks.problem(code, cluster, message) dicts.

Facts they take (plain dicts; the module reads them from the host):
- members: [{"name", "ready", "kubefed_ready", "offline"}], one per KubeSphere Cluster on the host:
  ready = the Cluster's Ready condition is True; kubefed_ready = the KubeFedCluster
  kube-federation-system/<name> has Ready True (False when it is missing); offline = that KubeFedCluster has
  Offline True. kubefed propagates only to Ready KubeFedClusters, so the Cluster's Ready alone is not enough.
- ftcs: the host's FederatedTypeConfig objects, as read.
- served: {cluster: ["v1", "apps/v1", ...]}, the group/versions each member serves (its discovery);
  a cluster without an entry is not judged.
- subject: how the message names the object, errors.describe(kind, name, namespace).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import drift
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import jsonpatch
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import overrides as ov
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem

WHERE = "cluster %r: %s: "
# Kubernetes' name rules (apimachinery validation): a Namespace (a project) and a Service are RFC 1123 labels,
# most other objects RFC 1123 subdomains.
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_KINDS = ("Namespace", "Service", "WorkspaceTemplate")


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _count_problem(code, cluster, subject, what, value, allow_zero=True):
    """A problem when `value` is not a non-negative integer, else None."""
    if not _is_count(value):
        return problem(code, cluster, (WHERE % (cluster, subject) if cluster else subject + ": ")
                       + "%s must be a whole number, got %r" % (what, value))
    if value < 0 or (value == 0 and not allow_zero):
        return problem(code, cluster, (WHERE % (cluster, subject) if cluster else subject + ": ")
                       + "%s must be %s, got %d" % (what, "0 or more" if allow_zero else "1 or more", value))
    return None


def replicas(subject, settings):
    """Per-cluster replicas by count: whole numbers, 0 or more (0 removes the cluster)."""
    out = []
    for cluster in sorted(settings or {}):
        value = (settings[cluster] or {}).get("replicas")
        if value is not None:
            found = _count_problem("replicas_invalid", cluster, subject, "replicas", value)
            if found:
                out.append(found)
    return out


def weights(subject, total, weight_map, min_replicas=None, max_replicas=None):
    """Replicas by weight (a ReplicaSchedulingPreference): a whole total, whole non-negative weights not
    all zero, min and max whole and min <= max per cluster."""
    out = []
    found = _count_problem("replicas_total_invalid", None, subject, "the total of replicas", total)
    if found:
        out.append(found)
    if not weight_map:
        out.append(problem("weights_missing", None, "%s: replicas by weight need at least one cluster with a "
                                                    "weight" % subject))
        return out
    valid = True
    for cluster in sorted(weight_map):
        found = _count_problem("weight_invalid", cluster, subject, "the weight", weight_map[cluster])
        if found:
            out.append(found)
            valid = False
    if valid and all(v == 0 for v in weight_map.values()):
        out.append(problem("weights_all_zero", None, "%s: every weight is 0, kubefed would place no replica "
                                                     "beyond the minimums; give one cluster a weight" % subject))
    min_replicas = min_replicas or {}
    max_replicas = max_replicas or {}
    for cluster in sorted(set(min_replicas) | set(max_replicas)):
        low, high = min_replicas.get(cluster), max_replicas.get(cluster)
        for what, value in (("minReplicas", low), ("maxReplicas", high)):
            if value is not None:
                found = _count_problem("replicas_bound_invalid", cluster, subject, what, value)
                if found:
                    out.append(found)
        if _is_count(low) and _is_count(high) and low > high:
            out.append(problem("replicas_min_above_max", cluster, WHERE % (cluster, subject)
                               + "minReplicas %d is above maxReplicas %d" % (low, high)))
        if cluster not in weight_map:
            out.append(problem("replicas_bound_without_weight", cluster, WHERE % (cluster, subject)
                               + "minReplicas/maxReplicas given for a cluster without a weight"))
    return out


def rsp_kinds():
    """The kinds whose replicas kubefed divides by weight: the targets of objects/federated.RSP_TARGET_KINDS."""
    return tuple(k[len("Federated"):] for k in federated.RSP_TARGET_KINDS)


def weight_mode(subject, kind, clusters, weight_map, settings):
    """Replicas by weight only for what kubefed schedules, on placed clusters, and not mixed with counts."""
    out = []
    if kind not in rsp_kinds():
        out.append(problem("rsp_kind_unsupported", None, "%s: replicas by weight need %s (kubefed schedules %s "
                                                         "only); give replicas by count"
                           % (subject, " or ".join("a " + k for k in rsp_kinds()),
                              " and ".join(federated.RSP_TARGET_KINDS))))
    for cluster in sorted(set(weight_map or {}) - set(clusters or [])):
        out.append(problem("weight_cluster_not_placed", cluster, WHERE % (cluster, subject)
                           + "has a weight but is not one of the resource's clusters"))
    for cluster in sorted(settings or {}):
        if (settings[cluster] or {}).get("replicas") is not None:
            out.append(problem("replicas_count_and_weight", cluster, WHERE % (cluster, subject)
                               + "replicas are given both by count and by weight; choose one"))
    return out


def _override_subject(cluster, subject, index, path):
    return WHERE % (cluster, subject) + "override[%d] %s: " % (index, path)


def overrides(subject, fed_obj, target):
    """kubefed's rules for spec.overrides, checked on the federated object about to be written:
    one entry per cluster; op add, remove or replace; a JSON-pointer path; no forbidden path; one override
    per path and cluster, none nested in another; and the patch must apply (evanphx v4 semantics) to the
    object kubefed creates from the template (the strictest case: on create nothing is retained, so e.g.
    /metadata/annotations/<key> has no parent). `target` is federated.federated_types(ftc)["target"]."""
    out = []
    seen_clusters = set()
    entries = (fed_obj.get("spec") or {}).get("overrides") or []
    for entry in entries:
        cluster = entry.get("clusterName")
        if cluster in seen_clusters:
            out.append(problem("override_cluster_duplicate", cluster, WHERE % (cluster, subject)
                               + "the cluster appears twice in spec.overrides; kubefed refuses the whole object"))
            continue
        seen_clusters.add(cluster)
        out.extend(_structure(subject, cluster, entry.get("clusterOverrides") or []))
    if out:
        # kubefed cannot even read the overrides (util.GetOverrides): no cluster gets any
        return out
    for entry in entries:
        cluster = entry.get("clusterName")
        try:
            drift.object_for_cluster(fed_obj, target, cluster)
        except jsonpatch.PatchError as exc:
            out.append(problem("override_does_not_apply", cluster,
                               _override_subject(cluster, subject, exc.index, exc.path)
                               + "%s; kubefed would report ApplyOverridesFailed and write nothing to this "
                                 "cluster (use op add for a key whose parent is missing)" % exc.reason))
    return out


def _structure(subject, cluster, items):
    """The rules on one cluster's overrides that do not depend on the object."""
    out = []
    paths = []
    for index, item in enumerate(items):
        path = item.get("path")
        op = item.get("op") or "replace"
        where = _override_subject(cluster, subject, index, path)
        if op not in jsonpatch.OPS:
            out.append(problem("override_op_invalid", cluster, where + "op %r is not one of add, remove, "
                               "replace" % op))
        if not jsonpatch.is_pointer(path):
            out.append(problem("override_path_invalid", cluster, where + "the path must be a JSON pointer "
                               "starting with '/'"))
            continue
        if path in ov.FORBIDDEN_PATHS:
            out.append(problem("override_path_forbidden", cluster, where + "kubefed refuses overrides of %s "
                               "(name, namespace, generateName and kind tie the member object to its "
                               "federated object)" % path))
        if path in paths:
            out.append(problem("override_path_duplicate", cluster, where + "the path is overridden twice "
                               "for this cluster"))
            continue
        for other in paths:
            if path.startswith(other + "/") or other.startswith(path + "/"):
                out.append(problem("override_path_nested", cluster, where + "overlaps the override of "
                                   "%s for this cluster; merge them into one" % other))
        paths.append(path)
    return out


def settings(subject, kind, template, clusters, settings_map):
    """Per-cluster settings in user terms: known keys, for placed clusters, that fit the kind and the
    template (containers by name)."""
    out = []
    for cluster in sorted(settings_map or {}):
        values = settings_map[cluster] or {}
        where = WHERE % (cluster, subject)
        if cluster not in (clusters or []):
            out.append(problem("setting_cluster_not_placed", cluster, where + "has settings but is not one of "
                               "the resource's clusters"))
        for key in sorted(set(values) - set(ov.SETTING_KEYS)):
            out.append(problem("setting_unknown", cluster, where + "unknown setting %r (known: %s)"
                               % (key, ", ".join(ov.SETTING_KEYS))))
        if values.get("replicas") is not None and kind not in ov.REPLICA_KINDS:
            out.append(problem("setting_not_applicable", cluster, where + "a %s has no replicas" % kind))
        if values.get("data") is not None and kind not in ov.DATA_KINDS:
            out.append(problem("setting_not_applicable", cluster, where + "a %s has no data keys" % kind))
        if values.get("data") is not None and not isinstance(values["data"], dict):
            out.append(problem("setting_invalid", cluster, where + "data must be a mapping of keys to values"))
        for field in ov.CONTAINER_SETTINGS:
            per_container = values.get(field)
            if per_container is None or (field == "ports" and kind == "Service"):
                if field == "ports" and kind == "Service" and not isinstance(per_container, (list, type(None))):
                    out.append(problem("setting_invalid", cluster, where + "ports of a Service must be a list"))
                continue
            if ov.pod_spec_tokens(kind) is None:
                out.append(problem("setting_not_applicable", cluster, where + "a %s has no containers for the %s "
                                   "setting" % (kind, field)))
                continue
            if not isinstance(per_container, dict):
                out.append(problem("setting_invalid", cluster, where + "%s must be a mapping of container names"
                                   % field))
                continue
            for name in sorted(per_container):
                if ov.find_container(template, kind, name) is None:
                    out.append(problem("setting_unknown_container", cluster, where + "the %s setting names "
                                       "container %r, which the template does not have" % (field, name)))
                elif field == "env" and not isinstance(per_container[name] or {}, dict):
                    out.append(problem("setting_invalid", cluster, where + "env of container %r must be a "
                                       "mapping of variable names to values" % name))
        for index, raw in enumerate(values.get("overrides") or []):
            if not isinstance(raw, dict) or "path" not in raw:
                out.append(problem("setting_invalid", cluster, where + "overrides[%d] needs a path" % index))
    return out


def clusters(subject, names, members):
    """Every cluster must be a member of this host, Ready, and Ready for kubefed (KubeFedCluster Ready, not
    Offline). `members` as documented in the module docstring."""
    out = []
    by_name = dict((m.get("name"), m) for m in members or [])
    for cluster in sorted(set(names or [])):
        member = by_name.get(cluster)
        where = WHERE % (cluster, subject)
        if member is None:
            out.append(problem("cluster_not_member", cluster, where + "no such cluster on this host (members: %s)"
                               % (", ".join(sorted(by_name)) or "none")))
        elif member.get("offline"):
            out.append(problem("cluster_offline", cluster, where + "its KubeFedCluster is Offline: kubefed cannot "
                               "reach it; bring it back or leave it out"))
        elif not member.get("kubefed_ready"):
            out.append(problem("cluster_kubefed_not_ready", cluster, where + "its KubeFedCluster is not Ready, so "
                               "kubefed would not propagate to it"))
        elif not member.get("ready"):
            out.append(problem("cluster_not_ready", cluster, where + "the Cluster is not Ready"))
    return out


def project_clusters(subject, names, project_names):
    """A namespaced federated resource reaches only the clusters of its FederatedNamespace."""
    return [problem("cluster_not_in_project", cluster, WHERE % (cluster, subject)
                    + "the project's FederatedNamespace is not placed on this cluster, so kubefed would not "
                      "propagate there; add the cluster to the project first")
            for cluster in sorted(set(names or []) - set(project_names or []))]


def federated_type(subject, api_version, kind, ftcs):
    """The host must have an enabled FederatedTypeConfig for the kind."""
    ftc = federated.find_ftc(ftcs, api_version, kind)
    if ftc is None:
        group = federated.group_of(api_version)
        shown = "%s (group %s)" % (kind, group) if group else kind
        return [problem("federated_type_missing", None, "%s: the host has no FederatedTypeConfig for %s, so kubefed "
                        "cannot federate it" % (subject, shown))]
    if not federated.federated_types(ftc)["enabled"]:
        return [problem("federated_type_disabled", None, "%s: the FederatedTypeConfig %s has propagation "
                                                         "Disabled" % (subject, ftc["metadata"]["name"]))]
    return []


def served(subject, api_version, names, served_map, ready_members=None):
    """Each cluster of the resource must serve the target's group/version, and so must every other member
    that is Ready for kubefed (`ready_members`): kubefed v0.8.1's sync controller of a type reconciles
    nothing until its informer of the target kind has synced on EVERY Ready KubeFedCluster (sync
    controller isSynced: GetTargetStore().ClustersSynced(ready clusters)), and on a cluster that does not
    serve the kind that list fails for ever. Seen on the lab's real kubefed: a kind served by the host and
    member1 only, placed on member1 only, never reached member1 while member2 was Ready ("Failed to watch
    ... the server could not find the requested resource", every few seconds). A cluster without an entry in
    `served_map` is not judged."""
    out = []
    placed = set(names or [])
    for cluster in sorted(placed):
        versions = (served_map or {}).get(cluster)
        if versions is not None and api_version not in versions:
            out.append(problem("api_not_served", cluster, WHERE % (cluster, subject)
                               + "the cluster does not serve %s" % api_version))
    for cluster in sorted(set(ready_members or []) - placed):
        versions = (served_map or {}).get(cluster)
        if versions is not None and api_version not in versions:
            out.append(problem("api_not_served_by_member", cluster, WHERE % (cluster, subject)
                               + "the cluster does not serve %s; it is not one of the resource's clusters, but "
                                 "kubefed propagates a kind only when every Ready member serves it (its sync "
                                 "controller waits for all of them), so the object would reach no cluster; "
                                 "install the API there too, or unjoin the member" % api_version))
    return out


def template(subject, manifest):
    """What kubefed refuses in a template: finalizers (annotations are moved to an override instead)."""
    if ((manifest.get("metadata") or {}).get("finalizers")):
        return [problem("template_finalizers", None, "%s: kubefed refuses finalizers in a template (members' "
                                                     "controllers own them); remove them" % subject)]
    return []


def workspace_clusters(subject, names, workspace_names):
    """A project's clusters should be clusters of its workspace (the console offers only those; kubefed does not
    enforce it). `workspace_names`: the WorkspaceTemplate's placement clusters."""
    return [problem("cluster_not_in_workspace", cluster, WHERE % (cluster, subject)
                    + "the workspace is not placed on this cluster; add it to the workspace first "
                      "(workspace_placement) or leave the cluster out")
            for cluster in sorted(set(names or []) - set(workspace_names or []))]


def deletion_confirmed(subject, name, confirm):
    """Deleting a project removes it from every member: the name must be typed again."""
    if confirm != name:
        return [problem("confirmation_mismatch", None, "%s: deleting removes it and everything in it from every "
                        "member; set confirm to %r to go on" % (subject, name))]
    return []


def name(subject, kind, value):
    """The name Kubernetes accepts for the kind: a project (Namespace) or Service an RFC 1123 label of at most
    63 characters, anything else an RFC 1123 subdomain of at most 253 (checked here, so a bad name refuses the
    run before its first write instead of failing at the API server after earlier writes)."""
    label = kind in LABEL_KINDS
    limit = 63 if label else 253
    text = value if isinstance(value, str) else ""
    if text and len(text) <= limit and (_LABEL if label else _SUBDOMAIN).match(text):
        return []
    return [problem("invalid_name", None, "%s: the name %r is not valid for a %s: use at most %d lowercase letters, "
                    "digits and '-'%s, starting and ending with a letter or digit"
                    % (subject, value, kind, limit, "" if label else " or '.'"))]


def definition(manifest):
    """A resource's definition names what it is: apiVersion, kind and metadata.name."""
    meta = manifest.get("metadata") or {}
    if not manifest.get("kind") or not manifest.get("apiVersion") or not meta.get("name"):
        return [problem("definition_invalid", None, "definition needs apiVersion, kind and metadata.name")]
    return []


def definition_namespace(subject, target, kind, namespace):
    """A namespaced kind needs the project it goes to. `target` is federated.federated_types(ftc)["target"]."""
    if target["namespaced"] and not namespace:
        return [problem("definition_invalid", None, "%s: a %s is namespaced: give metadata.namespace (the project)"
                        % (subject, kind))]
    return []


def namespace_federated(subject, namespace, fed_namespace):
    """A namespaced federated resource needs its project's FederatedNamespace (the caller skips this in check
    mode, where the project may be created by an earlier task of the same check run)."""
    if fed_namespace is not None:
        return []
    return [problem("namespace_not_federated", None, "%s: the namespace %s has no FederatedNamespace (not a "
                    "multi-cluster project): kubefed would propagate the object nowhere; create the project first "
                    "(federated_project)" % (subject, namespace))]


def namespace_not_deleted(subject, namespace):
    """The project's host Namespace (None when absent) is not being deleted: a project written into it now would go
    with it (its deletion removes the FederatedNamespace and every federated object in it)."""
    meta = (namespace or {}).get("metadata") or {}
    if not meta.get("deletionTimestamp"):
        return []
    return [problem("project_being_deleted", None, "%s: its host Namespace %s is being deleted (since %s): wait until "
                    "it is gone, then run again" % (subject, meta.get("name"), meta["deletionTimestamp"]))]


def project_settings(subject, clusters, settings_map):
    """A project's per-cluster overrides: for clusters of the project, each with a path.
    `settings_map`: {cluster: {"overrides": [...]}}."""
    out = []
    for cluster in sorted(set(settings_map or {}) - set(clusters or [])):
        out.append(problem("setting_cluster_not_placed", cluster, WHERE % (cluster, subject)
                           + "has overrides but is not one of the project's clusters"))
    for cluster, values in (settings_map or {}).items():
        for index, raw in enumerate((values or {}).get("overrides") or []):
            if not isinstance(raw, dict) or "path" not in raw:
                out.append(problem("setting_invalid", cluster, WHERE % (cluster, subject)
                                   + "overrides[%d] needs a path" % index))
    return out
