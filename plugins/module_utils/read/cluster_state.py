# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The ONE read model of a cluster: `read(conn)` makes the read-only
calls every module needs and returns plain data; everything else here is pure.

A state is a dict:
- name, reachable, error ({code, message} when the cluster could not be read, else None)
- version (the API server's /version), date_samples ((Date header, sent, received) per request)
- cluster_configuration (ks-installer's ClusterConfiguration, None when absent or not served)
- ks_core_release (the `ks-core` Helm release's latest record: objects/helm_release.py's `decode`, None
  without one), release_error (why it could not be read, e.g. a credential that may not read Secrets)
- config (the rendered kubesphere-config as a dict, {} when absent), config_present, config_error
- kube_system_uid (KubeSphere's cluster identity)
- ks_namespace (whether kubesphere-system exists) and ks_namespace_annotations (v4 host annotations there)
- clusters: on a host, its Cluster objects as summaries (`cluster_summary`), None when the kind is not served
  or not read: with the installer part, a cluster whose every role source says member (`only_a_member`) has
  its Clusters and KubeFedClusters left unread;
  when the KubeFedClusters were read too, each summary carries `kubefed` (kubefed's state of it: ready,
  offline, not_ready, pending, absent) and `health` / `health_reason` (`cluster_health.health`): a member
  that died after joining keeps Ready True on its Cluster (KubeSphere's webhook denies the controller's own
  status update), only its KubeFedCluster says Offline
- kubefed_clusters: its KubeFedClusters {name, labels, ready, offline, reason}, None when the kind is not served
- agent_proxy_server: the address this cluster's cluster-agent dials (a proxy member; None without an agent);
  proxy_publish: on a host, where tower is published for the agents ({address, source, api_agrees, error} as
  the version's agent module derives it as ks-apiserver does), None elsewhere; a credential that may not read
  them leaves them None with an `unreadable` entry, never an unreadable cluster
- api_versions: with the part `api_versions` (not read by default), the group/versions the cluster serves
  (`served_versions`: one request), else None
- made_locally: with the part `local_objects` (not read by default), {namespaces, workspaces} a user made on
  this cluster that kubefed does not manage (on a joined member: made on its own console), else None
- extensions: on a host of a version with extensions (4.1), each InstallPlan's extension {name, version, state,
  installed, failed, installed_version, target_namespace, release_name, job_name, failure, state_history} (one list), else None
- unreadable: the reads the credential may not make ({code: forbidden, kind, namespace, message}); with
  `tolerate_forbidden` (cluster_info: status.yml and the doctor with a read-only credential) a 403 on one read
  is recorded here and its fact stays unknown (None) instead of making the whole cluster unreadable; the
  ks-core release's Secrets are always optional

`facts(state)` turns a state into what the cluster_info module returns (operations/cluster_info.py runs
that module). No kubeconfig, token or jwtSecret ever leaves this file: the jwtSecret stays in
`config` (modules that return a state mask it) and facts carry only its fingerprint."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import clock
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as cluster_object
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster_health
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import kubeconfig
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import x509
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import helm_release
from ansible_collections.kubesphere.multicluster.plugins.module_utils import versions
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import components
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import installer
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.common import get_path
from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

# The annotations KubeSphere v4 puts on a member's kubesphere-system namespace.
V4_HOST_ANNOTATIONS = (v.CLUSTER_NAME_ANNOTATION, v.HOST_CLUSTER_ANNOTATION)
PARTS = ("version", "installer", "identity", "clusters", "kubefed", "proxy", "extensions")
KS_CORE = "ks-core"  # the Helm release KubeSphere v4.1 is (ks-installer v3.4.1 makes one too)


# ---------------------------------------------------------------------------------------------------
# reading (the only calls to a cluster)


def read(conn, parts=PARTS, samples=1, now=time.time, sleep=time.sleep, tolerate_forbidden=False):
    """What the collection needs of one cluster, as plain data (see the module docstring). A cluster that
    cannot be read gives reachable False and error {code, message}; it never raises KubeSphereError.
    `parts` limits the reads (version, installer, identity, clusters, kubefed, proxy, extensions). With `tolerate_forbidden`, a
    read the credential may not make (403) goes to `unreadable` and the others go on (only for reports:
    modules that write keep the default, a 403 makes the state unreadable and `require` raises it)."""
    state = empty(conn.label)
    try:
        _read_into(state, conn, parts, samples, now, sleep, _Guard(state, tolerate_forbidden))
    except KubeSphereError as e:
        state.update(reachable=False, error={"code": e.code or "api_error", "message": e.reason})
    return state


def empty(name):
    """The state of a cluster nothing was read of yet."""
    return {"name": name, "reachable": True, "error": None, "version": None, "date_samples": [],
            "cluster_configuration": None, "ks_core_release": None, "release_error": None, "config": {}, "config_present": False, "config_error": None,
            "kube_system_uid": None, "ks_namespace": False, "ks_namespace_annotations": {},
            "clusters": None, "kubefed_clusters": None, "unreadable": [], "agent_proxy_server": None,
            "proxy_publish": None, "made_locally": None, "api_versions": None, "extensions": None}


class _Guard:
    """Runs one read; with `tolerate`, a 403 is recorded in state["unreadable"] (kind, namespace, message) and
    the read's value is `default` (unknown), else the KubeSphereError goes on."""

    def __init__(self, state, tolerate):
        self.state = state
        self.tolerate = tolerate

    def __call__(self, kind, namespace, fn, default=None, always=False):
        try:
            return fn()
        except KubeSphereError as e:
            if e.code != "forbidden" or not (self.tolerate or always):
                raise
            self.state["unreadable"].append({"code": "forbidden", "kind": kind, "namespace": namespace,
                                             "message": e.reason})
            return default


def _read_into(state, conn, parts, samples, now, sleep, guard):
    if "version" in parts:
        for i in range(max(1, samples)):
            if i:
                sleep(1.0 / samples + 0.05)  # spread the samples across a second boundary: tighter bounds
            sent = now()
            status, headers, body = conn.raw("GET", "/version")
            received = now()
            if status >= 400:
                raise KubeSphereError("GET /version answered HTTP %s" % status, cluster=conn.label,
                                      code={401: "unauthorized", 403: "forbidden"}.get(status, "api_error"))
            state["version"] = body if isinstance(body, dict) else {}
            state["date_samples"].append([headers.get("Date") or headers.get("date"), sent, received])
    if "installer" in parts:
        # kubesphere-config before the ClusterConfiguration: ks-installer writes status.multicluster and then
        # renders kubesphere-config, so reading them in the reverse order never sees a rendered host role
        # with the status of the run before (read the other way round, a run finishing between the two reads
        # looked like a failed multicluster task: installer.multicluster_task_failed)
        missing = object()
        cm = guard("ConfigMap", installer.KS_NAMESPACE, lambda: conn.get(
            "v1", "ConfigMap", installer.CONFIG_MAP, installer.KS_NAMESPACE), default=missing)
        if cm is not missing:
            state["config_present"] = cm is not None
            try:
                state["config"] = installer.parse_config(cm)
            except ValueError as e:
                state["config_error"] = str(e)
        state["cluster_configuration"] = guard(installer.CC_KIND, installer.KS_NAMESPACE, lambda: conn.get(
            installer.CC_API_VERSION, installer.CC_KIND, installer.CC_NAME, installer.KS_NAMESPACE, if_served=True))
        _read_release(state, conn, guard)
    if "identity" in parts:
        missing = object()
        kube_system, ns = _identity_namespaces(conn, guard, missing)
        state["kube_system_uid"] = get_path(kube_system or {}, "metadata.uid")
        if ns is not missing:
            state["ks_namespace"] = ns is not None
            annotations = get_path(ns or {}, "metadata.annotations") or {}
            state["ks_namespace_annotations"] = {k: annotations[k] for k in V4_HOST_ANNOTATIONS if k in annotations}
    clusters = kubefed = None
    # the version seam's implementation for what was read so far (clusters and kubefed do not change it), once;
    # a cluster whose every role source says member holds no host's objects worth a request (issue 21)
    impl = _managed_implementation(state)
    host_objects = "installer" not in parts or not only_a_member(state, impl)
    if "clusters" in parts and host_objects:
        clusters = guard(v.CLUSTER_KIND, None, lambda: conn.list(v.CLUSTER_API_VERSION, v.CLUSTER_KIND, if_served=True))
        state["clusters"] = None if clusters is None else cluster_summaries(clusters)
    if "kubefed" in parts and host_objects:
        kubefed = guard(v.KUBEFED_CLUSTER_KIND, v.KUBEFED_NAMESPACE, lambda: conn.list(
            v.KUBEFED_API_VERSION, v.KUBEFED_CLUSTER_KIND, v.KUBEFED_NAMESPACE, if_served=True))
        state["kubefed_clusters"] = None if kubefed is None else kubefed_summaries(kubefed)
    # 3.4's verdict needs the KubeFedClusters; 4.1's is Ready and KSCoreReady (kubefed is an extension there)
    if clusters and (kubefed is not None or (impl is not None and not impl.HEALTH_NEEDS_KUBEFED)):
        add_health(state["clusters"], clusters, kubefed, impl)
    # the version's reads: a version without a 3.4-style cluster-agent or kubefed-managed objects skips them
    if impl and "proxy" in parts and getattr(impl, "agent", None) is not None:
        _read_proxy(state, conn, guard, impl)
    if impl and "local_objects" in parts and getattr(impl, "made_locally", None) is not None:
        _read_local_objects(state, conn, guard, impl)
    # the version's extensions (4.1: one list of InstallPlans on a host; 3.4 has none and reads nothing)
    if impl and "extensions" in parts and host_objects and impl.EXTENSIONS is not None:
        _read_extensions(state, conn, guard, impl.EXTENSIONS)
    if "api_versions" in parts:
        state["api_versions"] = served_versions(conn)


def _read_extensions(state, conn, guard, ext):
    """state["extensions"]: each InstallPlan's extension summary (versions/v4_1/extension.py), by name; None when
    InstallPlans are not served (or may not be listed)."""
    plans = guard(ext.INSTALL_PLAN, None, lambda: conn.list(ext.API_VERSION, ext.INSTALL_PLAN, if_served=True))
    if plans is not None:
        state["extensions"] = sorted((dict(ext.summary(p), name=get_path(p, "metadata.name")) for p in plans),
                                     key=lambda e: e["name"] or "")


def served_versions(conn):
    """The group/versions a cluster serves (its discovery, GET /apis): ["v1", "apps/v1", ...]. The core group's
    one version, v1, is served by every Kubernetes API server (GET /api has never answered anything else), so
    it is not asked for."""
    out = ["v1"]
    status, _h, body = conn.raw("GET", "/apis")
    if status < 400 and isinstance(body, dict):
        for group in body.get("groups") or []:
            out += [g.get("groupVersion") for g in group.get("versions") or []]
    return sorted(set(out))


def only_a_member(state, impl):
    """Whether every source of the cluster's role, as read so far (the installer part), says member: the
    role it runs with (3.4: kubesphere-config's clusterRole; 4.1: that or the ks-core release's value) and, on
    3.4, the ClusterConfiguration's. Such a cluster's Cluster objects and KubeFedClusters (a host's) are not read:
    no check looks at a member's, and a cluster being made a host, or a host being demoted, still has them
    read (one source says host). `impl`: `_managed_implementation(state)`."""
    if impl is None:
        return False
    roles = {impl.role(state)}
    if state["cluster_configuration"] is not None:
        roles.add(installer.spec_role(state["cluster_configuration"]))
    return roles == {"member"}


def _managed_implementation(state):
    """The version seam's implementation for what was read, None for a line the collection does not manage
    (its proxy and local-object reads are then left out)."""
    found = versions.detect(state)
    return versions.implementation(found["version"]) if found["managed"] else None


def _read_local_objects(state, conn, guard, impl):
    """The namespaces and workspaces a user made here that kubefed does not manage (two lists)."""
    missing = object()
    namespaces = guard("Namespace", None, lambda: conn.list("v1", "Namespace"), default=missing, always=True)
    workspaces = guard(impl.WORKSPACE_KIND, None, lambda: conn.list(impl.WORKSPACE_API_VERSION, impl.WORKSPACE_KIND,
                                                                    if_served=True), default=missing, always=True)
    if namespaces is not missing and workspaces is not missing:
        state["made_locally"] = impl.made_locally(namespaces, workspaces)


def _read_proxy(state, conn, guard, impl):
    """The address the cluster-agent dials, and on a host where tower is published (one request on a member,
    one or two on a host: tower's Service, and its Nodes only for the NodePort fallback). A forbidden read is
    an `unreadable` entry, not a failure."""
    agent = impl.agent
    dep = guard("Deployment", agent.NAMESPACE, lambda: conn.get("apps/v1", "Deployment", agent.NAME, agent.NAMESPACE),
                always=True)
    state["agent_proxy_server"] = agent.flags(dep).get("proxy-server") if dep else None
    config = state["config"]
    if impl.role(state) != "host":
        return
    ref = agent.proxy_service_ref(config)
    service = None
    if ref and not get_path(config, "multicluster.proxyPublishAddress"):
        missing = object()
        service = guard("Service", ref[1], lambda: conn.get("v1", "Service", ref[0], ref[1]), default=missing,
                        always=True)
        if service is missing:
            return
    nodes = []
    if service and not agent.load_balancer_address(service):
        nodes = guard("Node", None, lambda: conn.list("v1", "Node"), always=True) or []
    state["proxy_publish"] = agent.proxy_address(config, service, nodes)


# the label the API server puts on every Namespace, its name (Kubernetes 1.21 and later)
NAME_LABEL = "kubernetes.io/metadata.name"


def _identity_namespaces(conn, guard, missing):
    """kube-system and kubesphere-system (None when absent; kubesphere-system `missing` when unreadable), with
    one list selecting both by NAME_LABEL. A cluster whose list finds no kube-system (before Kubernetes 1.21 no
    Namespace has the label) or that may not list Namespaces gets one GET each."""
    try:
        listed = conn.list("v1", "Namespace", label_selector="%s in (kube-system,%s)" % (
            NAME_LABEL, installer.KS_NAMESPACE))
    except KubeSphereError as e:
        if e.code != "forbidden":
            raise
        listed = None
    by_name = {get_path(ns, "metadata.name"): ns for ns in listed or []}
    if "kube-system" in by_name:
        return by_name["kube-system"], by_name.get(installer.KS_NAMESPACE)
    kube_system = guard("Namespace", None, lambda: conn.get("v1", "Namespace", "kube-system"))
    return kube_system, guard("Namespace", None, lambda: conn.get("v1", "Namespace", installer.KS_NAMESPACE),
                              default=missing)


def _read_release(state, conn, guard):
    """The ks-core release's records that are not superseded (one request; the decoded record keeps only the
    chart's metadata). A credential that may not read Secrets there gets `release_error` (and an `unreadable`
    entry), not a failure: the version then comes from the ClusterConfiguration or the kubesphere-config."""
    missing = object()
    records = guard("Secret", installer.KS_NAMESPACE, lambda: conn.list(
        "v1", "Secret", installer.KS_NAMESPACE, label_selector=helm_release.selector(KS_CORE)),
        default=missing, always=True)
    if records is missing:
        state["release_error"] = state["unreadable"][-1]["message"]
        return
    state["ks_core_release"] = helm_release.current(records)


def add_health(summaries, clusters, kubefed, impl=None):
    """Each member's summary gets kubefed's view and the health verdict of the version seam (`impl`; 3.4's
    when None). On 3.4 the host's own Cluster too (it joins kubefed like a member); on 4.1 (no KubeFedCluster
    needed, kubefed None when its extension is not installed) members only: the host's Cluster gets no
    KSCoreReady (its controller installs ks-core on members only). Pure: `clusters` and `kubefed` are the
    objects as read."""
    by_name = {get_path(o, "metadata.name"): o for o in kubefed or []}
    objs = {get_path(o, "metadata.name"): o for o in clusters or []}
    needs_kubefed = impl is None or impl.HEALTH_NEEDS_KUBEFED
    health = impl.health if impl is not None else cluster_health.health
    for summary in summaries:
        if not needs_kubefed and summary["role"] == "host":
            continue
        obj, kfc = objs.get(summary["name"]), by_name.get(summary["name"])
        verdict = health(obj, kfc, kubefed_read=kubefed is not None)
        summary.update(kubefed=cluster_health.kubefed_state(kfc), health=verdict["verdict"],
                       health_reason=verdict["reason"])


def require(state):
    """The state, or the KubeSphereError of a cluster that could not be read (for modules that write)."""
    if not state["reachable"]:
        raise KubeSphereError(state["error"]["message"], cluster=state["name"], code=state["error"]["code"])
    return state


# ---------------------------------------------------------------------------------------------------
# pure readers of a state


def condition(obj, kind):
    """The condition of type `kind` of an object's status (None when absent)."""
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def _conditions(obj):
    keep = ("type", "status", "reason", "message", "lastTransitionTime")
    return [{k: c.get(k) for k in keep if k in c} for c in (obj.get("status") or {}).get("conditions") or []]


def cluster_summary(obj):
    """A Cluster object as plain facts (no kubeconfig, no token): name, uid (the member's kube-system UID
    the host recorded), role (host label), connection_type, provider, labels, cluster_group, ready,
    ready_reason, versions, conditions, client_cert_not_after (the stored kubeconfig's client
    certificate's expiry date), annotations (only those an import sets: way-to-add, description, alias,
    creator), join_federation and kubeconfig_fingerprint (of the stored kubeconfig: a hash prefix, never
    the kubeconfig)."""
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    ready = condition(obj, "Ready")
    status = obj.get("status") or {}
    return {
        "name": meta.get("name"),
        "uid": status.get("uid"),
        "role": "host" if v.HOST_LABEL in labels else "member",
        "connection_type": ((obj.get("spec") or {}).get("connection") or {}).get("type") or "direct",
        "provider": (obj.get("spec") or {}).get("provider"),
        "labels": labels,
        "cluster_group": labels.get(v.GROUP_LABEL),
        "ready": bool(ready) and ready.get("status") == "True",
        "ready_reason": (ready or {}).get("message") or (ready or {}).get("reason")
        or "the host has not set the Ready condition yet",
        "kubernetes_version": status.get("kubernetesVersion"),
        "kubesphere_version": status.get("kubeSphereVersion"),
        "conditions": _conditions(obj),
        "client_cert_not_after": client_cert_not_after(obj),
        # what an import compares (objects/cluster.py `compare`), so that a converged one can be told from facts
        "annotations": {k: v for k, v in (meta.get("annotations") or {}).items() if k in cluster_object.OWNED_ANNOTATIONS},
        "join_federation": bool((obj.get("spec") or {}).get("joinFederation")),
        "kubeconfig_fingerprint": cluster_object.kubeconfig_fingerprint(obj),
    }


def client_cert_not_after(obj):
    """When the client certificate of the kubeconfig stored in a Cluster expires (UTC, ISO 8601), None when
    it holds no certificate (a token, a proxy or host Cluster) or cannot be read. Only the date leaves here."""
    try:
        text = cluster_object.kubeconfig_text(obj)
        if not text:
            return None
        pem = kubeconfig.view(text)["client_certificate_data"]
        return x509.certificate_not_after(pem).strftime("%Y-%m-%dT%H:%M:%SZ") if pem else None
    except ValueError:
        return None


def cluster_summaries(items):
    return sorted((cluster_summary(o) for o in items or []), key=lambda d: d["name"] or "")


def kubefed_summaries(items):
    """The KubeFedClusters as {name, labels, ready, offline, reason} (labels: what a federated object's
    clusterSelector matches), sorted by name: the one summary of them (cluster_info shows them without labels)."""
    out = []
    for obj in items or []:
        ready, offline = condition(obj, "Ready"), condition(obj, "Offline")
        is_offline = bool(offline) and offline.get("status") == "True"
        shown = offline if is_offline else ready
        out.append({"name": get_path(obj, "metadata.name"),
                    "labels": get_path(obj, "metadata.labels") or {},
                    "ready": bool(ready) and ready.get("status") == "True",
                    "offline": is_offline,
                    "reason": (shown or {}).get("reason")})
    return sorted(out, key=lambda d: d["name"] or "")


def spec_role(state):
    """The role in the ClusterConfiguration's spec ('none' without one)."""
    cc = state["cluster_configuration"]
    return installer.spec_role(cc) if cc else "none"


def role(state):
    """The effective role: rendered, else spec, else none."""
    cc = state["cluster_configuration"]
    return installer.config_role(state["config"]) or (installer.spec_role(cc) if cc else None) or "none"


# ---------------------------------------------------------------------------------------------------
# cluster_info


def facts(state):
    """The cluster_info result of a state (see the module's RETURN)."""
    if not state["reachable"]:
        return unreachable(state["name"], state["error"]["code"], state["error"]["message"])
    cc = state["cluster_configuration"]
    config = state["config"]
    spec = installer.spec_role(cc) if cc else None
    rendered = installer.config_role(config)
    skew = installer.config_max_clock_skew(config)
    found = versions.detect(state)
    release = state.get("ks_core_release")
    unread = unreadable_kinds(state)
    # neither the ClusterConfiguration nor the kubesphere-config could be read: whether KubeSphere is there and
    # in which role is unknown (None), not "not installed"
    unknown = installer.CC_KIND in unread and "ConfigMap" in unread and not release
    return {
        "name": state["name"],
        "reachable": True,
        "reason_code": None,
        "reason": None,
        "kubernetes_version": (state["version"] or {}).get("gitVersion"),
        "kubesphere_installed": None if unknown else bool(cc or state["config_present"] or release),
        "kubesphere_version": found["kubesphere_version"],
        "kubesphere_line": found["version"],
        "version_evidence": found["evidence"],
        "version_managed": found["managed"],
        "ks_core_release": dict(release) if release else None,
        "installer": {
            "present": cc is not None,
            "core_status": get_path(cc or {}, "status.core.status"),
            "enabled_components": installer.enabled_components(cc),
            "failed_components": installer.failed_components(cc),
        },
        "components": components.spec_components((cc or {}).get("spec")),
        "cluster_role": {"spec": spec, "rendered": rendered},
        "role": None if unknown else rendered or spec or _version_role(state, found) or "none",
        "config_rendered": bool(config),
        "jwt_secret_hash": fingerprint(installer.config_jwt_secret(config)),
        # KubeSphere 3.4: the name the host's controller wrote into the member's kubesphere-config at its join
        "rendered_cluster_name": get_path(config or {}, "multicluster.clusterName"),
        "spec_jwt_secret_hash": fingerprint(get_path(cc or {}, "spec.authentication.jwtSecret")),
        "maximum_clock_skew": skew,
        "maximum_clock_skew_seconds": clock.parse_duration(skew),
        "kube_system_uid": state["kube_system_uid"],
        "host_annotations": dict(state["ks_namespace_annotations"]),
        "clock": clock.combine([clock.sample_offset(*s) for s in state["date_samples"] or []]),
        "clusters": list(state["clusters"] or []),
        "kubefed_clusters": None if state["kubefed_clusters"] is None else
        [{k: c[k] for k in c if k != "labels"} for c in state["kubefed_clusters"]],
        "agent_proxy_server": state["agent_proxy_server"],
        "proxy_publish": dict(state["proxy_publish"]) if state["proxy_publish"] else None,
        "made_locally": dict(state["made_locally"]) if state.get("made_locally") else None,
        "api_versions": list(state["api_versions"]) if state.get("api_versions") is not None else None,
        "extensions": [dict(e) for e in state["extensions"]] if state.get("extensions") is not None else None,
        "unreadable": [dict(u) for u in state.get("unreadable") or []],
        "warnings": [w for w in [state["config_error"], _release_warning(state)] + _unreadable_warnings(state) if w],
    }


def _version_role(state, found):
    """The role as the cluster's version tells it where kubesphere-config renders none (on 4.1: the ks-core
    release's value multicluster.role when that ConfigMap is absent or unreadable); None when it cannot tell."""
    if not found["managed"]:
        return None
    return versions.implementation(found["version"]).role(state)


def unreadable_kinds(state):
    """The kinds the credential could not read (403), as a set."""
    return {u["kind"] for u in state.get("unreadable") or []}


def _unreadable_warnings(state):
    """One warning per kind that could not be read (the Secrets of the ks-core release have their own)."""
    return ["%s: the credential may not read %s%s (403 Forbidden): the facts that come from it are unknown" % (
        u["code"], u["kind"], " in namespace %s" % u["namespace"] if u.get("namespace") else "")
        for u in state.get("unreadable") or [] if u["kind"] != "Secret"]


def agent_agreement(member_facts, host_facts):
    """Whether a proxy member's agent dials where the host publishes tower: {dials, published, matches}
    (matches None when either is unknown). From two clusters' cluster_info facts."""
    dials = (member_facts or {}).get("agent_proxy_server")
    published = ((host_facts or {}).get("proxy_publish") or {}).get("address")
    return {"dials": dials, "published": published,
            "matches": None if not dials or not published else dials.rstrip("/") == published.rstrip("/")}


def _release_warning(state):
    if state.get("release_error"):
        return "the ks-core Helm release could not be read (%s); the version comes from %s" % (
            state["release_error"], "the ClusterConfiguration" if state["cluster_configuration"] is not None
            else "the kubesphere-config")
    return None


REASONS = {
    "kubeconfig_missing": "its kubeconfig file does not exist",
    "no_such_context": "the kubeconfig has no such context",
    "tls_untrusted": "the API server's TLS certificate is not trusted by the kubeconfig's CA",
    "unauthorized": "the API server rejected the credentials (401 Unauthorized)",
    "forbidden": "the credentials may not read the cluster (403 Forbidden)",
}


def unreachable(name, code, message, context=None):
    """The cluster_info result for a cluster that could not be read."""
    text = message
    if code == "no_such_context" and context:
        text = "the kubeconfig has no context '%s'" % context
    elif code == "kubeconfig_missing":
        text = REASONS[code]
    out = {k: None for k in ("kubernetes_version", "kubesphere_version", "jwt_secret_hash", "spec_jwt_secret_hash",
                             "maximum_clock_skew", "kube_system_uid", "clock", "kubefed_clusters", "kubesphere_line",
                             "version_evidence", "version_managed", "ks_core_release", "agent_proxy_server",
                             "proxy_publish", "made_locally", "api_versions")}
    out.update(name=name, reachable=False, reason_code=code, reason=text, kubesphere_installed=None, role=None,
               cluster_role={"spec": None, "rendered": None}, clusters=[], host_annotations={}, warnings=[],
               unreadable=[])
    return out


def summary(f):
    """One line about a cluster, for `msg`."""
    if not f["reachable"]:
        return "cluster '%s': not reachable: %s" % (f["name"], f["reason"])
    ks = ("KubeSphere %s" % (f["kubesphere_version"] or "(version unknown)")) if f["kubesphere_installed"] \
        else "KubeSphere unknown (not readable)" if f["kubesphere_installed"] is None else "KubeSphere not installed"
    return "cluster '%s': Kubernetes %s, %s, role %s" % (f["name"], f["kubernetes_version"], ks, f["role"])
