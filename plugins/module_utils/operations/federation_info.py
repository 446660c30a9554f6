# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The work of the federation_info module (runs on a member; reads the host
through the host_* options): what the member serves, the multi-cluster projects placed on it (list_projects),
and for one namespace every federated object with its drift on this member (objects/drift.py). Read only:
no plan, nothing written."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils import versions
from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import Connection
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import drift
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import placement
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import federation as read
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v


def run(module, connect=Connection):
    p = module.params
    member_name = p["cluster_name"]
    member = connect(module, member_name, timeout=p.get("timeout"))
    result = {"changed": False, "cluster": member_name, "resources": []}
    if p.get("api_versions", True):
        result["api_versions"] = cluster_state.served_versions(member)
    if not p.get("list_projects") and not p.get("namespace"):
        return result
    host = connect(module, p.get("host_cluster_name") or "host", prefix="host_", timeout=p.get("timeout"))
    host_state = read.host(host, parts=("kubefed",))
    impl = versions.for_state(host_state)
    kfcs = read.kubefed_clusters(host_state)
    if p.get("list_projects"):
        result["projects"] = member_projects(impl, host, member, member_name, p.get("host_cluster_name"), kfcs)
    if p.get("namespace"):
        result["resources"] = resources(p, host, member, read.ftcs(host), kfcs)
    return result


def _health(kfcs):
    return {c["name"]: {"ready": c["ready"], "offline": c["offline"]} for c in kfcs}


def resources(p, host, member, ftc_list, kfcs):
    """One row per federated object of the namespace (filtered by kinds and names), with its drift here."""
    namespace, member_name = p["namespace"], p["cluster_name"]
    fed_ns = read.federated_namespace(host, namespace)
    wanted_kinds, wanted_names = set(p.get("kinds") or []), set(p.get("names") or [])
    out = []
    for ftc in ftc_list:
        types = federated.federated_types(ftc)
        fed, target = types["federated"], types["target"]
        if not fed["kind"] or not target["namespaced"] and fed["kind"] != "FederatedNamespace":
            continue
        if wanted_kinds and fed["kind"] not in wanted_kinds and target["kind"] not in wanted_kinds:
            continue
        if fed["kind"] == "FederatedNamespace":
            items = [fed_ns] if fed_ns else []
        else:
            items = host.list(fed["apiVersion"], fed["kind"], namespace, if_served=True) or []
        for obj in sorted(items, key=lambda o: o["metadata"]["name"]):
            if wanted_names and obj["metadata"]["name"] not in wanted_names:
                continue
            out.append(resource_row(p, member, obj, ftc, types, fed_ns, kfcs))
    return out


def resource_row(p, member, obj, ftc, types, fed_ns, kfcs):
    fed, target = types["federated"], types["target"]
    namespace, member_name, obj_name = p["namespace"], p["cluster_name"], obj["metadata"]["name"]
    effective = placement.effective_clusters(obj, kfcs, fed_ns, namespaced=target["namespaced"])
    rows = []
    if member_name in effective:
        live = member.get(target["apiVersion"], target["kind"], obj_name, namespace if target["namespaced"] else None)
        rows = drift.report(obj, ftc, {member_name: live}, clusters=[member_name], cluster_health=_health(kfcs),
                            host=p.get("host_cluster_name"))
    prop = drift.propagation(obj)
    return {"kind": target["kind"], "federated_kind": fed["kind"], "name": obj_name, "namespace": namespace,
            "placed": member_name in effective,
            "propagation": {"status": prop["status"], "reason": prop["reason"], "message": prop["message"],
                            "stale": prop["stale"]},
            "members": rows}


def member_projects(impl, host, member, member_name, host_name, kfcs):
    """The multi-cluster projects (FederatedNamespaces on the host) placed on this member, each with the drift
    state of its namespace here: [{name, workspace, state, fields, reason}], sorted by name."""
    out = []
    for fed_ns in read.federated_namespaces(host):
        if member_name not in placement.effective_clusters(fed_ns, kfcs, namespaced=False):
            continue
        name = fed_ns["metadata"]["name"]
        live = member.get("v1", "Namespace", name)
        row = drift.report(fed_ns, impl.NAMESPACE_FTC, {member_name: live}, clusters=[member_name],
                           cluster_health=_health(kfcs), host=host_name)[0]
        out.append({"name": name, "workspace": (fed_ns["metadata"].get("labels") or {}).get(v.WORKSPACE_LABEL),
                    "state": row["state"], "fields": row["fields"], "reason": row["reason"]})
    return sorted(out, key=lambda r: r["name"])
