# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. kubefed spec.overrides: built from the per-cluster settings of the
inventory, normalised for comparisons, and read as kubefed reads them (util.GetOverrides). Pure.

Per-cluster settings in the inventory (user terms)
--------------------------------------------------
A federated resource takes `clusters` (the names it is placed on) and optional `settings`, a dict keyed by
cluster name; each value may hold these keys (all optional):

    settings:
      member1:
        replicas: 2                      # workloads with spec.replicas: override /spec/replicas;
                                         # 0 removes the cluster from the placement (as the console does)
        image: {app: "nginx:1.25"}       # container name -> image
        env: {app: {LOG_LEVEL: debug}}   # container name -> {VAR: value}; adds the var or replaces it by
                                         # name, other vars of the template stay; a dict value is the var's
                                         # body without `name` (e.g. {valueFrom: {...}})
        ports:                           # workloads: container name -> the container's whole ports list
          app: [{name: http, containerPort: 8080}]
                                         # Service: the whole spec.ports list instead (no container name)
        resources: {app: {limits: {cpu: 500m}}}   # container name -> the container's whole resources
        data: {key: value}               # ConfigMap/Secret data keys; Secret values are given in clear
                                         # and base64-encoded here (never shown in results or diffs)
        overrides:                       # raw kubefed overrides for everything else
          - {path: /spec/template/spec/nodeSelector, op: add, value: {disk: ssd}}

Containers are found by name in the pod template (containers, then initContainers) of Deployment,
StatefulSet, ReplicaSet, DaemonSet, Job (spec.template.spec), CronJob (spec.jobTemplate.spec.template.spec)
and Pod (spec). The overrides are emitted per cluster sorted by path (checks refuse nested paths for one
cluster, so the order cannot matter) and the entries sorted by cluster name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import jsonpatch

REPLICAS_PATH = "/spec/replicas"
# kubefed util/overrides.go: name and namespace tie a federated object to its member copies; kind comes from
# the FederatedTypeConfig. apiVersion is deliberately allowed (Ingress moved between groups).
FORBIDDEN_PATHS = ("/metadata/namespace", "/metadata/name", "/metadata/generateName", "/kind")
SETTING_KEYS = ("replicas", "image", "env", "ports", "resources", "data", "overrides")
CONTAINER_SETTINGS = ("image", "env", "ports", "resources")
REPLICA_KINDS = ("Deployment", "StatefulSet", "ReplicaSet")
DATA_KINDS = ("ConfigMap", "Secret")
# Where the pod spec is, per target kind (as JSON-pointer tokens).
POD_SPEC_PATHS = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}


class FederationError(ValueError):
    """Input a builder cannot turn into an object (checks/federation.py reports these before building)."""


def pod_spec_tokens(kind):
    return POD_SPEC_PATHS.get(kind)


def find_container(template, kind, name):
    """(list key, index, container) of the container called `name` in the template's pod spec
    ('containers' first, then 'initContainers'), or None."""
    tokens = pod_spec_tokens(kind)
    if tokens is None:
        return None
    node = template
    for token in tokens:
        node = node.get(token) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return None
    for list_key in ("containers", "initContainers"):
        for idx, container in enumerate(node.get(list_key) or []):
            if container.get("name") == name:
                return list_key, idx, container
    return None


def _container_pointer(kind, list_key, idx, field):
    return jsonpatch.pointer(*(pod_spec_tokens(kind) + (list_key, idx, field)))


def _env_list(current, updates):
    """The container's env with `updates` ({VAR: value or body}) applied by name, new vars appended in
    name order."""
    env = copy.deepcopy(current or [])
    for var in sorted(updates):
        value = updates[var]
        if isinstance(value, dict):
            entry = dict(value)
            entry["name"] = var
        else:
            entry = {"name": var, "value": _env_text(value)}
        for idx, existing in enumerate(env):
            if existing.get("name") == var:
                env[idx] = entry
                break
        else:
            env.append(entry)
    return env


def _env_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def cluster_overrides(kind, template, settings):
    """The clusterOverrides list ({op, path, value}, sorted by path) for one cluster's settings.
    `template` is the federated spec.template (to find containers and existing data/env); `kind` the
    target kind. Raises FederationError on settings that do not fit the template (checks report them
    first, with the cluster's name)."""
    settings = settings or {}
    found = []

    def put(path, value, op="replace"):
        found.append({"op": op, "path": path, "value": value})

    if settings.get("replicas") is not None:
        put(REPLICAS_PATH, int(settings["replicas"]))
    for field in CONTAINER_SETTINGS:
        per_container = settings.get(field)
        if per_container is None:
            continue
        if field == "ports" and kind == "Service":
            put("/spec/ports", copy.deepcopy(per_container))
            continue
        for name in sorted(per_container):
            located = find_container(template, kind, name)
            if located is None:
                raise FederationError("%s has no container %r for the %s setting" % (kind, name, field))
            list_key, idx, container = located
            if field == "env":
                value = _env_list(container.get("env"), per_container[name] or {})
            else:
                value = copy.deepcopy(per_container[name])
            put(_container_pointer(kind, list_key, idx, field), value)
    data = settings.get("data")
    if data is not None:
        if kind not in DATA_KINDS:
            raise FederationError("%s has no data keys to set" % kind)
        encode = objects.b64 if kind == "Secret" else (lambda v: v if isinstance(v, str) else str(v))
        if isinstance(template.get("data"), dict):
            for key in sorted(data):
                put(jsonpatch.pointer("data", key), encode(data[key]))
        else:
            # no data object in the template: a per-key replace would miss its parent, so set the object
            put("/data", dict((k, encode(v)) for k, v in data.items()))
    for raw in settings.get("overrides") or []:
        entry = {"path": raw.get("path"), "op": raw.get("op") or "replace"}
        if entry["op"] != "remove":
            entry["value"] = copy.deepcopy(raw.get("value"))
        found.append(entry)
    # a raw override of a path a setting also writes stays twice: checks.overrides reports it
    return sorted(found, key=lambda e: str(e["path"]))


def overrides(kind, template, clusters, settings=None, annotations=None):
    """spec.overrides for `clusters`: one entry per cluster that has something to override, sorted by
    cluster name. `annotations` (the template's, which kubefed refuses in a template) become a
    /metadata/annotations override on every cluster, as the console mirrors them."""
    settings = settings or {}
    out = []
    for cluster in sorted(set(clusters)):
        entries = cluster_overrides(kind, template, settings.get(cluster))
        if annotations:
            entries = sorted(entries + [{"op": "replace", "path": "/metadata/annotations",
                                         "value": dict(annotations)}], key=lambda e: str(e["path"]))
        if entries:
            out.append({"clusterName": cluster, "clusterOverrides": entries})
    return out


def normalize_overrides(entries):
    """spec.overrides in one canonical form: entries sorted by cluster name, each cluster's overrides
    sorted by path with op defaulted to replace (and no value for remove), entries without overrides
    dropped (kubefed treats them as absent). kubefed rewrites this list in Go-map order (F11)."""
    out = []
    for entry in entries or []:
        items = []
        for item in entry.get("clusterOverrides") or []:
            norm = {"op": item.get("op") or "replace", "path": item.get("path")}
            if norm["op"] != "remove":
                norm["value"] = item.get("value")
            items.append(norm)
        if items:
            out.append({"clusterName": entry.get("clusterName"),
                        "clusterOverrides": sorted(items, key=lambda i: str(i["path"]))})
    return sorted(out, key=lambda e: str(e["clusterName"]))


def overrides_map(fed_obj):
    """{cluster: clusterOverrides} as kubefed reads spec.overrides (util.GetOverrides): a cluster listed twice,
    or a forbidden or repeated path for any cluster, makes the WHOLE object's overrides unreadable, so every
    cluster gets ApplyOverridesFailed. Raises PatchError (index of the override within its cluster)."""
    out = {}
    for entry in (fed_obj.get("spec") or {}).get("overrides") or []:
        cluster = entry.get("clusterName")
        if cluster in out:
            raise jsonpatch.PatchError(0, "", "cluster %r appears more than once in spec.overrides" % cluster)
        seen = set()
        items = entry.get("clusterOverrides") or []
        for index, item in enumerate(items):
            path = item.get("path")
            if path in FORBIDDEN_PATHS:
                raise jsonpatch.PatchError(index, path, "cluster %r: %s may not be overridden" % (cluster, path))
            if path in seen:
                raise jsonpatch.PatchError(index, path, "cluster %r: the path appears more than once" % cluster)
            seen.add(path)
        out[cluster] = items
    return out
