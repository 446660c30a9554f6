# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The work of the federation_info module (runs on a member; reads the host
through the host_* options): what the member serves, the multi-cluster projects placed on it (list_projects),
and for one namespace every federated object with its drift on this member (objects/drift.py). With `members`
(the wait of playbooks/federate.yml) the drift on every member given, from one read of the host's objects:
the host's requests do not grow with the fleet. Read only: no plan, nothing written."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils import versions
from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import Connection
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import drift
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import placement
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import federation as read
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v


def run(module, connect=Connection):
    p = module.params
    if p.get("members"):
        return run_members(module, p, connect)
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
        result["resources"] = resources(p, host, {member_name: member}, read.ftcs(host), kfcs)
    return result


def run_members(module, p, connect):
    """`members` given: the namespace's federated objects, the FTCs and the KubeFedClusters read once on the
    host, then on each member its live object of each object placed there. `clusters`: the members' names."""
    host = connect(module, p.get("host_cluster_name") or "host", prefix="host_", timeout=p.get("timeout"))
    members = {}
    for m in p["members"]:
        if m["cluster_name"] in members:
            raise KubeSphereError("is named twice in members (give each member once)", cluster=m["cluster_name"],
                                  code="invalid_input")
        members[m["cluster_name"]] = connect(module, m["cluster_name"], params=m, timeout=p.get("timeout"))
    kfcs = read.kubefed_clusters(read.host(host, parts=("kubefed",)))
    return {"changed": False, "clusters": sorted(members),
            "resources": resources(p, host, members, read.ftcs(host), kfcs) if p.get("namespace") else []}


def _health(kfcs):
    return {c["name"]: {"ready": c["ready"], "offline": c["offline"]} for c in kfcs}


def resources(p, host, members, ftc_list, kfcs):
    """One row per federated object of the namespace (filtered by kinds and names), with its drift on each of
    `members` ({name: connection}) it is placed on."""
    namespace = p["namespace"]
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
            out.append(resource_row(p, members, obj, ftc, types, fed_ns, kfcs))
    return out


def resource_row(p, members, obj, ftc, types, fed_ns, kfcs):
    """`placed`: whether the object is placed on any of `members`; `members`: the drift row of each of them
    it is placed on."""
    fed, target = types["federated"], types["target"]
    namespace, obj_name = p["namespace"], obj["metadata"]["name"]
    effective = placement.effective_clusters(obj, kfcs, fed_ns, namespaced=target["namespaced"])
    placed = sorted(name for name in members if name in effective)
    rows = []
    if placed:
        scope = namespace if target["namespaced"] else None
        live = {name: members[name].get(target["apiVersion"], target["kind"], obj_name, scope) for name in placed}
        rows = drift.report(obj, ftc, live, clusters=placed, cluster_health=_health(kfcs),
                            host=p.get("host_cluster_name"))
    prop = drift.propagation(obj)
    return {"kind": target["kind"], "federated_kind": fed["kind"], "name": obj_name, "namespace": namespace,
            "placed": bool(placed),
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
