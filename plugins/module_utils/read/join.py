# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. What an import reads, as plain dicts: the host (its rendered
kubesphere-config, Cluster objects, kube-system UID, clock, tower's address for proxy members), the member
as the host will reach it (checks/join.py's `member` facts), the live Cluster and KubeFedCluster, the
dedicated credential's objects on the member and the cluster-agent Deployment. One read per run: the plan
(plan/join.py) is made from it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import credential as cred
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import clock
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state
from ansible_collections.kubesphere.multicluster.plugins.module_utils import versions
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import agent as agent_mod
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import installer

KS_API_PROBE = "/api/v1/namespaces/%s/services/:ks-apiserver:/proxy/kapis/version" % v.KS_NAMESPACE
SA_NAMESPACES = (v.KS_NAMESPACE, v.KUBEFED_NAMESPACE)
READ_PARTS = ("version", "installer", "identity")
TOWER_SERVICE = "tower"  # kubesphere-system/tower: tower (3.4 built in, 4.1 the tower extension)
# what the member's API server answers through its service proxy while ks-apiserver restarts (it restarts its server
# when its kubesphere-config changes, e.g. when the host writes multicluster.clusterName at a join, and its pod is
# replaced after a role change): 502/503 (no endpoint, or the endpoint refused), 504 (it did not answer in time)
PROBE_RESTARTING = (502, 503, 504)


def read_member(conn, probe_kubesphere=True):
    """The member facts checks.join needs, read with `conn` (the stored kubeconfig for direct members).
    `probe_kubesphere` (the version's MEMBER_NEEDS_KUBESPHERE): probe its ks-apiserver and read its
    ServiceAccounts (a 4.1 member needs no KubeSphere before its import: not read)."""
    state = cluster_state.read(conn, parts=READ_PARTS, samples=2)
    out = {"reachable": state["reachable"], "error": state["error"], "config": state["config"] or None,
           "kube_system_uid": state["kube_system_uid"],
           "ks_namespace_annotations": state["ks_namespace_annotations"],
           "clock": clock.combine([clock.sample_offset(*s) for s in state["date_samples"] or []]),
           "kubesphere_api": None, "service_accounts": {}, "ks_core_release": state["ks_core_release"],
           "kubesphere_line": versions.detect(state)["version"] if state["reachable"] else None}
    if not state["reachable"]:
        return out
    if not state["config_present"]:
        out["config"] = None
    if not probe_kubesphere:
        return out
    out["kubesphere_api"] = probe_kubesphere_api(conn)
    for ns in SA_NAMESPACES:
        try:
            items = conn.list("v1", "ServiceAccount", ns)
        except KubeSphereError:
            continue
        if items or conn.get("v1", "Namespace", ns) is not None:
            out["service_accounts"][ns] = sorted(objects.get_path(i, "metadata.name") for i in items or [])
    return out


def probe_kubesphere_api(conn):
    """{reachable, error, version, status} of GET /kapis/version through the member's service proxy."""
    try:
        status, _headers, body = conn.raw("GET", KS_API_PROBE)
    except KubeSphereError as e:
        return {"reachable": False, "error": e.reason, "version": None, "status": e.result.get("status")}
    if 200 <= status < 300:
        return {"reachable": True, "error": None,
                "version": (body or {}).get("gitVersion") if isinstance(body, dict) else None}
    return {"reachable": False, "version": None, "status": status,
            "error": "HTTP %s%s" % (status, (": %s" % str(body)[:200]) if body else "")}


def probe_settled(probe):
    """The probe's answer is final: ks-apiserver answered, or answered in a way a restart does not explain."""
    return probe is None or probe["reachable"] or probe.get("status") not in PROBE_RESTARTING


def read_host(conn, peers, connection_type, allow_node_port=True, label="host"):
    """(host facts checks.join needs, the read model's state of the host). Raises KubeSphereError when the
    host cannot be read (nothing can be decided without it)."""
    state = cluster_state.require(cluster_state.read(conn, parts=READ_PARTS, samples=2))
    config = state["config"] or {}
    clusters = conn.list(v.CLUSTER_API_VERSION, v.CLUSTER_KIND, if_served=True)
    if clusters is None:
        raise conn.error("the host does not serve %s/%s: KubeSphere's multi-cluster CRDs are not installed (is its "
                         "role host?)" % (v.CLUSTER_API_VERSION, v.CLUSTER_KIND), code="kind_not_served")
    host = {"name": installer.host_cluster_name(config), "config": config, "clusters": clusters,
            "kube_system_uid": state["kube_system_uid"],
            "clock": clock.combine([clock.sample_offset(*s) for s in state["date_samples"] or []]),
            "other_hosts": {}}
    for peer in peers or []:
        if peer.get("role") == "host" and peer.get("name") not in (label, host["name"]) and \
                peer.get("kube_system_uid") != host["kube_system_uid"]:
            host["other_hosts"][peer["name"]] = [{"name": c.get("name"), "uid": c.get("uid")}
                                                 for c in peer.get("clusters") or []]
    if connection_type == "proxy":
        impl = versions.for_state(state)
        ref = impl.agent.proxy_service_ref(config)
        service = conn.get("v1", "Service", ref[0], ref[1]) if ref else None
        nodes = conn.list("v1", "Node") if allow_node_port else []
        host["proxy"] = impl.agent.proxy_address(config, service, nodes, allow_node_port=allow_node_port)
        host["tower_service"] = (service is not None if ref == (TOWER_SERVICE, v.KS_NAMESPACE)
                                 else conn.get("v1", "Service", TOWER_SERVICE, v.KS_NAMESPACE) is not None)
    return host, state


def read_pair(host_conn, name):
    """(the host's Cluster `name`, its KubeFedCluster); either None when absent."""
    live = host_conn.get(v.CLUSTER_API_VERSION, v.CLUSTER_KIND, name)
    kubefed = host_conn.get(v.KUBEFED_API_VERSION, v.KUBEFED_CLUSTER_KIND, name, v.KUBEFED_NAMESPACE, if_served=True)
    return live, kubefed


def read_member_objects(member_conn, host_conn, impl):
    """What a clean-member check reads before a first join: the member's Workspaces and Namespaces (read with
    `member_conn`, as the host's controller reaches it) and, for each Workspace the join compares
    (impl.managed_workspaces), the host's FederatedWorkspace of that name (None when absent or not served)."""
    workspaces = member_conn.list(impl.WORKSPACE_API_VERSION, impl.WORKSPACE_KIND, if_served=True) or []
    namespaces = member_conn.list("v1", "Namespace") or []
    federated = {}
    for ws in impl.managed_workspaces(workspaces):
        ws_name = objects.get_path(ws, "metadata.name")
        federated[ws_name] = host_conn.get(v.TYPES_API_VERSION, impl.FEDERATED_WORKSPACE_KIND, ws_name, if_served=True)
    return {"workspaces": workspaces, "namespaces": namespaces, "federated_workspaces": federated}


def read_credential(member_conn, credential_name):
    """The dedicated credential's objects on the member as they are ({kind: object or None}) and its token
    (None while the member's token controller has not filled it)."""
    found = {}
    for obj in cred.build("", credential_name):
        meta = obj["metadata"]
        found[obj["kind"]] = member_conn.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
    return {"objects": found, "token": cred.token_of(found.get("Secret"))}


def read_agent(member_conn):
    """The cluster-agent Deployment on a proxy member (None when absent)."""
    return member_conn.get("apps/v1", "Deployment", agent_mod.NAME, agent_mod.NAMESPACE)


def read_agent_access(member_conn, wanted):
    """Which of the objects the agent needs on the member (impl.agent_access) exist: {"Kind/name": live or None}."""
    return {access_key(obj): member_conn.get(obj["apiVersion"], obj["kind"], obj["metadata"]["name"],
                                             obj["metadata"].get("namespace"))
            for obj in wanted}


def access_key(obj):
    return "%s/%s" % (obj["kind"], obj["metadata"]["name"])


def read_member_config(member_conn):
    """The member's rendered kubesphere-config (None when absent or unreadable): the verification's facts."""
    try:
        cm = member_conn.get("v1", "ConfigMap", installer.CONFIG_MAP, installer.KS_NAMESPACE)
        return installer.parse_config(cm) if cm else None
    except (KubeSphereError, ValueError):
        return None


def probe_uid(conn):
    """(kube-system UID read with `conn`, None) or (None, why not): the rotation check's probe."""
    try:
        return objects.get_path(conn.get("v1", "Namespace", "kube-system") or {}, "metadata.uid"), None
    except KubeSphereError as e:
        return None, e.reason
