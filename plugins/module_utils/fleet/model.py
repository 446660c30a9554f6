# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The fleet model: which clusters exist, which one is the host, how
each is reached, and everything that is wrong with that description -- checked before anything runs.

A *cluster* is a plain dict with the keys of `CLUSTER_KEYS` (the inventory variables without their
`kubesphere_` prefix) plus `name` (the inventory host) and `role` (host|member). It comes from a compact
file (`parse_compact`), from an Ansible inventory (`from_inventory`), or from the host's Cluster objects
(`discovered_clusters`). The checks of a fleet description live in checks/fleet.py; kubeconfigs are read by
objects/kubeconfig.py; KubeSphere's rule for a cluster name is objects/cluster.py's `valid_name`.

The inventory layout it produces (`inventory_groups`, `inventory_hostvars`) is the collection's
documented layout: groups kubesphere_host / kubesphere_members (children of kubesphere_clusters),
wave_<name>, region_<name>, and per-cluster node host groups for time sync."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import kubeconfig
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary

HOST_GROUP = "kubesphere_host"
MEMBERS_GROUP = "kubesphere_members"
CLUSTERS_GROUP = "kubesphere_clusters"
# Members the host manages that the fleet description does not list: shown, never acted on (they have
# no kubeconfig here), so the group is NOT a child of kubesphere_clusters.
DISCOVERED_GROUP = "kubesphere_discovered"
WAVE_PREFIX = "wave_"
REGION_PREFIX = "region_"
VAR_PREFIX = "kubesphere_"
CONNECTION_TYPES = ("direct", "proxy")
GROUP_LABEL = vocabulary.GROUP_LABEL
HOST_LABEL = vocabulary.HOST_LABEL

# Per-cluster settings, each the inventory variable kubesphere_<key>.
CLUSTER_KEYS = ("cluster_name", "kubeconfig", "context", "connection_type", "provider", "cluster_group",
                "node_group", "proxy_publish_address", "install_config")
# Keys a compact-file entry may carry besides CLUSTER_KEYS: its inventory name, rollout wave, region,
# and the node hosts (real SSH hosts) that make up its node group.
ENTRY_KEYS = ("name", "wave", "region", "nodes")
SETTINGS = CLUSTER_KEYS + ENTRY_KEYS[1:]  # what a cluster dict carries besides name and role
# Group variables every cluster host gets: modules run on the controller with the playbook's Python.
CLUSTER_GROUP_VARS = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}

_GROUP_CHARS = re.compile(r"[^A-Za-z0-9_]")


def group_name(prefix, value):
    """An Ansible-safe group name: wave 'canary-1' -> 'wave_canary_1'."""
    return prefix + _GROUP_CHARS.sub("_", str(value))


# ---------------------------------------------------------------------------------------------------
# building the model


def cluster(name, role, **settings):
    """A cluster dict with every key present (None when unset) and the documented defaults applied."""
    out = {"name": name, "role": role}
    for key in SETTINGS:
        out[key] = settings.get(key)
    out["cluster_name"] = out["cluster_name"] or name
    out["connection_type"] = out["connection_type"] or "direct"
    out["nodes"] = list(out["nodes"] or [])
    if out["nodes"] and not out["node_group"]:
        out["node_group"] = group_name("", "%s_nodes" % name)
    return out


def parse_compact(doc, base_dir=None):
    """Clusters and problems from a compact file's data:

        host: {name: host, kubeconfig: ..., context: ...}
        members: [{name: member1, wave: canary, region: eu, connection_type: proxy, ...}]
        defaults: {provider: kubesphere, ...}        # optional, applied where an entry sets nothing

    Relative kubeconfig paths are taken relative to `base_dir` (the file's folder). Returns
    (clusters, problems); problems here are about the file's shape (unknown keys, missing names)."""
    problems = []
    defaults = doc.get("defaults") or {}
    host = doc.get("host")
    hosts = host if isinstance(host, list) else [host] if host else []
    entries = [("host", i, e) for i, e in enumerate(hosts)] + [("member", i, e) for i, e in enumerate(doc.get("members") or [])]
    clusters = []
    for role, i, entry in entries:
        if not isinstance(entry, dict) or not entry.get("name"):
            problems.append(problem("missing_name", None, "%s entry #%d has no `name`: every cluster needs one"
                                    % ("host" if role == "host" else "member", i + 1)))
            continue
        name = str(entry["name"])
        if any(c["name"] == name and c["role"] == role for c in clusters):  # the inventory would keep one, silently
            problems.append(problem("duplicate_name", name, "cluster '%s': the name is given to more than one entry "
                                    "of the file: KubeSphere cluster names must be unique; rename one" % name))
            continue
        unknown = sorted(set(entry) - set(CLUSTER_KEYS + ENTRY_KEYS))
        if unknown:
            problems.append(problem("unknown_key", name, "cluster '%s': unknown setting%s %s (known: %s)" % (
                name, "s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(sorted(CLUSTER_KEYS + ENTRY_KEYS)))))
        settings = dict(defaults, **{k: v for k, v in entry.items() if v is not None})
        settings["kubeconfig"] = resolve_path(settings.get("kubeconfig"), base_dir)
        settings["install_config"] = resolve_path(settings.get("install_config"), base_dir)
        clusters.append(cluster(name, role, **{k: settings.get(k) for k in SETTINGS}))
    unknown = sorted(set(defaults) - set(CLUSTER_KEYS))
    if unknown:
        problems.append(problem("unknown_key", None, "defaults: unknown setting%s %s (known: %s)" % (
            "s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(CLUSTER_KEYS))))
    return clusters, problems


def from_inventory(hostvars, groups):
    """Clusters from an Ansible inventory: `groups` as in the `groups` magic variable, `hostvars` maps each
    host to its (rendered) variables. A host in both host and member groups appears twice, once per role,
    so that `validate` reports it."""
    out = []
    for role, group in (("host", HOST_GROUP), ("member", MEMBERS_GROUP)):
        for name in groups.get(group) or []:
            hv = hostvars.get(name) or {}
            settings = {k: hv.get(VAR_PREFIX + k) for k in CLUSTER_KEYS}
            settings["wave"] = _prefixed_group(name, groups, WAVE_PREFIX)
            settings["region"] = _prefixed_group(name, groups, REGION_PREFIX)
            out.append(cluster(name, role, **settings))
    return out


def _prefixed_group(host, groups, prefix):
    for group, members in sorted(groups.items()):
        if group.startswith(prefix) and host in (members or []):
            return group[len(prefix):]
    return None


# ---------------------------------------------------------------------------------------------------
# kubeconfig paths


def is_inline(value):
    """Kubeconfig *content* (a dict, or YAML/JSON text as AWX injects it) rather than a path."""
    return kubeconfig.is_inline(value)


def resolve_path(value, base_dir):
    if not value or is_inline(value) or not isinstance(value, str):
        return value
    value = os.path.expanduser(value)
    if base_dir and not os.path.isabs(value):
        value = os.path.normpath(os.path.join(base_dir, value))
    return value


def server_of(c, view):
    """The normalized API server URL a cluster is reached at, when its kubeconfig tells."""
    if not view or not view["exists"] or view["error"]:
        return None
    return normalize_server(view["contexts"].get(c["context"] or view["current"]))


def normalize_server(url):
    """A server URL in one spelling: lowercase scheme and host, explicit default port, no trailing '/'.
    'https://API.example.com/' and 'https://api.example.com:443' are the same server."""
    if not url:
        return None
    m = re.match(r"^(?:([A-Za-z][A-Za-z0-9+.-]*)://)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?(/.*)?$", url.strip())
    if not m:
        return url.strip()
    scheme = (m.group(1) or "https").lower()
    port = m.group(3) or {"https": "443", "http": "80"}.get(scheme, "")
    path = (m.group(4) or "").rstrip("/")
    return "%s://%s%s%s" % (scheme, m.group(2).lower(), ":" + port if port else "", path)


# ---------------------------------------------------------------------------------------------------
# the inventory layout


def inventory_groups(c):
    """The groups a cluster host belongs to (its role group first)."""
    if (c.get("facts") or {}).get("discovered"):
        return [DISCOVERED_GROUP]
    groups = [HOST_GROUP if c["role"] == "host" else MEMBERS_GROUP]
    if c.get("wave"):
        groups.append(group_name(WAVE_PREFIX, c["wave"]))
    if c.get("region"):
        groups.append(group_name(REGION_PREFIX, c["region"]))
    return groups


def inventory_hostvars(c):
    """kubesphere_<key> for every setting that is set, plus whatever discovery learned (`facts`)."""
    out = {VAR_PREFIX + k: c[k] for k in CLUSTER_KEYS if c.get(k) is not None}
    out.update({VAR_PREFIX + k: v for k, v in sorted((c.get("facts") or {}).items())})
    return out


# ---------------------------------------------------------------------------------------------------
# discovery from the host's Cluster objects


# health verdicts (cluster_health.health) in which kubefed says a Cluster that claims Ready is not usable
NOT_READY_VERDICTS = ("offline", "unhealthy", "terminating")


def discovered_clusters(items, kubefed=None):
    """What the host's Cluster objects say about each cluster (no kubeconfig, no token), as
    cluster_state.cluster_summary reads them, sorted by name. With the host's KubeFedClusters (`kubefed`,
    as read; None when not read or not served) each summary also carries cluster_state's health verdict
    (`health`, `health_reason`), and `ready` is False where kubefed contradicts the Cluster's Ready: a
    member that died after joining keeps Ready True on its Cluster, only kubefed says Offline."""
    found = cluster_state.cluster_summaries(items)
    if kubefed is not None:
        cluster_state.add_health(found, items, kubefed)
        for x in found:
            if x["ready"] and x["health"] in NOT_READY_VERDICTS:
                x["ready"], x["ready_reason"] = False, x["health_reason"]
    return found


def merge_discovered(clusters, discovered):
    """The listed clusters with what the host knows about them under `facts` (joined, ready, versions,
    labels), plus members the host knows but the file does not list (facts.discovered = True). Those carry
    no kubeconfig, so they go to DISCOVERED_GROUP: a module run on them would otherwise fall back to
    ~/.kube/config and talk to whatever cluster that names."""
    known = {c["cluster_name"]: c for c in clusters}
    out = []
    for c in clusters:
        d = dict(c)
        seen = next((x for x in discovered if x["name"] == c["cluster_name"]), None)
        d["facts"] = dict(c.get("facts") or {}, joined=seen is not None, discovered=False)
        if seen:
            d["facts"].update(_facts_of(seen))
        out.append(d)
    for x in discovered:
        if x["name"] in known or x["role"] == "host" or not x["name"]:
            continue
        d = cluster(x["name"], "member", connection_type=x["connection_type"], provider=x["provider"],
                    cluster_group=x["cluster_group"])
        d["facts"] = dict(_facts_of(x), joined=True, discovered=True)
        out.append(d)
    return out


def _facts_of(x):
    out = {"ready": x["ready"], "ready_reason": x["ready_reason"], "labels": x["labels"],
           "kubernetes_version": x["kubernetes_version"], "kubesphere_version": x["kubesphere_version"]}
    if "health" in x:
        out.update(health=x["health"], health_reason=x["health_reason"])
    return out


def public_view(c):
    """A cluster as it may be returned or printed: kubeconfig content is replaced by a note."""
    out = {k: v for k, v in c.items() if k != "facts"}
    if is_inline(out.get("kubeconfig")):
        out["kubeconfig"] = "(inline content)"
    return out
