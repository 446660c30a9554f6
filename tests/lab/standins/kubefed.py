"""Stand-in for kubefed v0.8.1's controller manager (as KubeSphere 3.4 ships it), for every lab cluster that
is a kubefed host, i.e. has KubeFedClusters in kube-federation-system.

One `step()` is one polling pass, per host:
1. cluster health: GET /healthz on each member with the KubeFedCluster's caBundle and its Secret's token,
   written to KubeFedCluster status (kubefed's conditions, reasons, messages and failure threshold);
2. ReplicaSchedulingPreferences: plan replicas (planner.py) and write spec.placement.clusters and
   /spec/replicas overrides into the FederatedDeployment (or FederatedReplicaSet) of the same name;
3. sync: every federated object of every FederatedTypeConfig on the host (else of the built-in list in
   tests/lab/crds/federated-types.yaml) is pushed to its placed, Ready clusters with overrides and the
   kubefed.io/managed label, removed where it is no longer placed or when it is deleted (finalizer
   kubefed.io/sync-controller), and its status (Propagation condition, per-cluster status) is written;
4. member Deployments labelled kubefed.io/managed=true get a ready status (there is no kubelet).

Members are reached ONLY through KubeFedCluster + Secret, as kubefed does. What this keeps from kubefed and
what it leaves out is listed in tests/lab/STANDINS.md, section "kubefed (host)"."""

import base64
import contextlib
import copy
import hashlib
import json
import logging
import os
import time

import yaml

from kslabkit.rest import ApiError
from standins.overrides import OverrideError, apply_patch, cluster_overrides, overrides_map
from standins.planner import plan
from standins.runtime import now, rest_from_kubeconfig_bytes

log = logging.getLogger("standins.kubefed")

KUBEFED_NS = "kube-federation-system"
MANAGED = "kubefed.io/managed"
FINALIZER = "kubefed.io/sync-controller"
ORPHAN = "kubefed.io/orphan"
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "default", KUBEFED_NS)
RSP_KINDS = ("FederatedDeployment", "FederatedReplicaSet")
REPLICAS_PATH = "/spec/replicas"
BUILTIN_FTCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "crds", "federated-types.yaml")
PROBE_TIMEOUT = 3  # KubeFedConfig clusterHealthCheck.timeout default
STATUS_REFRESH = 10  # clusterHealthCheck.period default: lastProbeTime is rewritten at most this often
UNSCHEDULABLE_AFTER = 60  # kubefed podanalyzer: a pod pending unschedulable this long lowers the capacity

# kubefed pkg/controller/kubefedcluster/clusterclient.go (v0.8.1)
READY = {"type": "Ready", "status": "True", "reason": "ClusterReady", "message": "/healthz responded with ok"}
NOT_READY = {"type": "Ready", "status": "False", "reason": "ClusterNotReady",
             "message": "/healthz responded without ok"}
REACHABLE = {"type": "Offline", "status": "False", "reason": "ClusterReachable", "message": "cluster is reachable"}
OFFLINE = {"type": "Offline", "status": "True", "reason": "ClusterNotReachable", "message": "cluster is not reachable"}

# kubefed pkg/controller/sync/status/status.go
OK = ""
NAMESPACE_NOT_FEDERATED = "NamespaceNotFederated"
CHECK_CLUSTERS = "CheckClusters"
UNMANAGED_MESSAGE = "Unable to manage the object which has label kubefed.io/managed: false"


def api_base(group, version):
    return "/api/" + version if not group else "/apis/%s/%s" % (group, version)


def labels_of(obj):
    return (obj.get("metadata") or {}).get("labels") or {}


def is_ready(conditions):
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions or [])


def selector_matches(selector, labels):
    """metav1.LabelSelectorAsSelector: nil selects nothing, {} everything."""
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        present = key in labels
        ok = {"In": present and labels.get(key) in values, "NotIn": not present or labels.get(key) not in values,
              "Exists": present, "DoesNotExist": not present}.get(op, False)
        if not ok:
            return False
    return True


def placement(obj, clusters, selector_only=False):
    """kubefed util.ComputePlacement: `clusters` wins when non-nil (even empty), else `clusterSelector`;
    always intersected with the known KubeFedClusters. `clusters` is {name: KubeFedCluster}."""
    spec = (obj.get("spec") or {}).get("placement") or {}
    names = spec.get("clusters")
    if names is None or selector_only:
        return {n for n, kfc in clusters.items() if selector_matches(spec.get("clusterSelector"), labels_of(kfc))}
    return {c.get("name") for c in names} & set(clusters)


class FedType:
    """One FederatedTypeConfig: where the federated objects and their targets live."""

    def __init__(self, spec):
        t, f = spec["targetType"], spec["federatedType"]
        self.target_kind, self.target_plural = t["kind"], t["pluralName"]
        self.target_api_version = "%s/%s" % (t["group"], t["version"]) if t.get("group") else t["version"]
        self.target_base = api_base(t.get("group"), t["version"])
        self.namespaced = t.get("scope") == "Namespaced"
        self.fed_kind, self.fed_plural = f["kind"], f["pluralName"]
        self.fed_base = api_base(f.get("group"), f["version"])
        self.fed_namespaced = f.get("scope", "Namespaced") == "Namespaced"
        self.is_namespace = self.target_kind == "Namespace" and not t.get("group")

    def target_path(self, namespace, name):
        ns = "/namespaces/%s" % namespace if self.namespaced else ""
        return "%s%s/%s/%s" % (self.target_base, ns, self.target_plural, name)

    def fed_path(self, meta, sub=""):
        ns = "/namespaces/%s" % meta["namespace"] if self.fed_namespaced else ""
        return "%s%s/%s/%s%s" % (self.fed_base, ns, self.fed_plural, meta["name"], sub)


def _builtin_types():
    with open(BUILTIN_FTCS) as f:
        return [FedType(d["spec"]) for d in yaml.safe_load_all(f) if d and d.get("kind") == "FederatedTypeConfig"]


def object_version(obj):
    """kubefed util.ObjectVersion: the generation when the kind has one, else the resourceVersion."""
    meta = obj.get("metadata") or {}
    return "gen:%s" % meta["generation"] if meta.get("generation") else "rv:%s" % meta.get("resourceVersion")


def _digest(obj):
    body = copy.deepcopy(obj)
    body.get("metadata", {}).pop("resourceVersion", None)
    return hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()


class KubefedController:
    name = "kubefed"

    def __init__(self, lab):
        self.lab = lab
        self._clients = {}  # (endpoint, ca, token) -> Rest
        self._health = {}  # (host, cluster) -> {"conditions", "run", "written"}
        self._versions = {}  # (host, fed kind, ns, name, cluster) -> (desired digest, member object version)
        self._builtin = None
        self._discovery = {}  # id(client) -> [(api base, plural)] of namespaced kinds

    # ------------------------------------------------------------------ pass

    def step(self):
        for host in self.lab.names:
            rest = self.lab.rest(host)
            try:
                kfcs = rest.get("/apis/core.kubefed.io/v1beta1/namespaces/%s/kubefedclusters" % KUBEFED_NS)["items"]
                if kfcs:
                    _HostPass(self, host, rest, kfcs).run()
            except ApiError as e:
                if e.status != 404:  # 404: no kubefed CRDs here
                    log.warning("%s: %s", host, e)
            except OSError as e:
                log.warning("%s: %s", host, e)
        for name in self.lab.names:
            self._deployment_status(self.lab.rest(name))

    def builtin_types(self):
        if self._builtin is None:
            self._builtin = _builtin_types()
        return self._builtin

    def client_for(self, host_rest, kfc):
        """A client for a member from its KubeFedCluster and Secret (kubefed util.BuildClusterConfig)."""
        spec = kfc.get("spec") or {}
        secret_name = (spec.get("secretRef") or {}).get("name")
        secret = host_rest.try_get("/api/v1/namespaces/%s/secrets/%s" % (KUBEFED_NS, secret_name))
        try:
            token = base64.b64decode(((secret or {}).get("data") or {}).get("token", "")).decode()
        except ValueError:
            token = ""
        if not token:
            return None
        endpoint = spec.get("apiEndpoint", "")
        if "://" not in endpoint:
            endpoint = "https://" + endpoint
        key = (endpoint, spec.get("caBundle", ""), token)
        if key not in self._clients:
            cluster = {"server": endpoint}
            if spec.get("caBundle"):
                cluster["certificate-authority-data"] = spec["caBundle"]
            cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
                   "clusters": [{"name": "c", "cluster": cluster}], "users": [{"name": "u", "user": {"token": token}}],
                   "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}
            self._clients[key] = rest_from_kubeconfig_bytes(yaml.safe_dump(cfg).encode(), timeout=PROBE_TIMEOUT)
        return self._clients[key]

    # ------------------------------------------------------------------ member namespaces (no namespace controller)

    def finalize_namespace(self, client, name):
        """The lab has no namespace controller: a deleted member Namespace would stay Terminating. Do its job:
        delete every namespaced resource in it (deletecollection per discovered kind), then clear
        spec.finalizers through the finalize subresource."""
        ns = client.try_get("/api/v1/namespaces/%s" % name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        for base, plural in self.namespaced_resources(client):
            try:
                client.request("DELETE", "%s/namespaces/%s/%s" % (base, name, plural))
            except ApiError:
                pass
        if (ns.get("spec") or {}).get("finalizers"):
            ns["spec"]["finalizers"] = []
            client.request("PUT", "/api/v1/namespaces/%s/finalize" % name, ns)

    def namespaced_resources(self, client):
        if id(client) not in self._discovery:
            groups = client.get("/apis")["groups"]
            bases = ["/api/v1"] + ["/apis/" + g["preferredVersion"]["groupVersion"] for g in groups]
            self._discovery[id(client)] = [
                (base, r["name"]) for base in bases for r in (client.try_get(base) or {}).get("resources", [])
                if r.get("namespaced") and "/" not in r["name"] and "deletecollection" in r.get("verbs", [])]
        return self._discovery[id(client)]

    # ------------------------------------------------------------------ member Deployment status (no kubelet)

    def _deployment_status(self, rest):
        try:
            items = rest.get("/apis/apps/v1/deployments?labelSelector=%s%%3Dtrue" % MANAGED)["items"]
        except (ApiError, OSError):
            return
        for d in items:
            meta, want = d["metadata"], (d.get("spec") or {}).get("replicas", 1)
            status = d.get("status") or {}
            if status.get("observedGeneration") == meta.get("generation") and status.get("readyReplicas", 0) == want:
                continue
            with contextlib.suppress(ApiError):  # deleted meanwhile
                path = "/apis/apps/v1/namespaces/%s/deployments/%s/status" % (meta["namespace"], meta["name"])
                rest.merge_patch(path, {"status": ready_deployment_status(meta, want)})


def ready_deployment_status(meta, want):
    """What the deployment controller writes once every replica is available."""
    t = now()
    return {"observedGeneration": meta.get("generation"), "replicas": want, "updatedReplicas": want,
            "readyReplicas": want, "availableReplicas": want, "unavailableReplicas": None,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                 "message": "Deployment has minimum availability.", "lastUpdateTime": t, "lastTransitionTime": t},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                 "message": 'ReplicaSet "%s" has successfully progressed.' % meta["name"],
                 "lastUpdateTime": t, "lastTransitionTime": t}]}


class _HostPass:
    """One pass over one kubefed host."""

    def __init__(self, ctl, host, rest, kfcs):
        self.ctl, self.host, self.rest = ctl, host, rest
        self.clusters = {k["metadata"]["name"]: k for k in kfcs}
        self.clients = {}
        self.ready = set()
        config = rest.try_get("/apis/core.kubefed.io/v1beta1/namespaces/%s/kubefedconfigs/kubefed" % KUBEFED_NS) or {}
        self.config = config.get("spec") or {}
        self.adopt = (self.config.get("syncController") or {}).get("adoptResources", "Enabled") != "Disabled"

    def run(self):
        for name in sorted(self.clusters):
            try:
                self.health(name)
            except ApiError as e:
                log.warning("%s: health of %s: %s", self.host, name, e)
        self.types = self.fed_types()
        self.fed_namespaces = self.list_fed_namespaces()
        self.schedule_all()
        for t in sorted(self.types, key=lambda t: not t.is_namespace):  # namespaces before their contents
            for obj in self.list_federated(t):
                try:
                    self.reconcile(t, obj)
                except (ApiError, OSError) as e:
                    log.warning("%s: %s %s/%s: %s", self.host, t.fed_kind, obj["metadata"].get("namespace"),
                                obj["metadata"]["name"], e)

    # ------------------------------------------------------------------ cluster health

    def health(self, name):
        kfc = self.clusters[name]
        client = self.ctl.client_for(self.rest, kfc)
        if client is None:  # kubefed: no client, no status (Secret missing or without token)
            return
        self.clients[name] = client
        key = (self.host, name)
        stored = self.ctl._health.get(key)
        conditions, run = thresholded(probe(client), stored, self.config.get("clusterHealthCheck") or {})
        live = (kfc.get("status") or {}).get("conditions")
        written = stored["written"] if stored else 0
        if _strip(live) != _strip(conditions) or written + STATUS_REFRESH <= time.time():
            self.rest.merge_patch("/apis/core.kubefed.io/v1beta1/namespaces/%s/kubefedclusters/%s/status"
                                  % (KUBEFED_NS, name), {"status": {"conditions": conditions}})
            written = time.time()
        else:
            conditions = live
        self.ctl._health[key] = {"conditions": conditions, "run": run, "written": written}
        if is_ready(conditions):
            self.ready.add(name)

    # ------------------------------------------------------------------ what to sync

    def fed_types(self):
        """FederatedTypeConfigs with propagation Enabled on the host, else the built-in list."""
        try:
            ftcs = self.rest.get("/apis/core.kubefed.io/v1beta1/namespaces/%s/federatedtypeconfigs"
                                 % KUBEFED_NS)["items"]
        except ApiError:
            ftcs = []
        if not ftcs:
            return self.ctl.builtin_types()
        return [FedType(f["spec"]) for f in ftcs if (f.get("spec") or {}).get("propagation", "Enabled") == "Enabled"]

    def list_federated(self, t):
        try:
            return self.rest.get("%s/%s" % (t.fed_base, t.fed_plural))["items"]
        except ApiError as e:
            if e.status not in (404, 429):  # not installed, or just installed (storage initializing)
                log.warning("%s: listing %s: %s", self.host, t.fed_plural, e)
            return []

    def list_fed_namespaces(self):
        t = next((t for t in self.types if t.is_namespace), None)
        items = self.list_federated(t) if t else []
        return {o["metadata"]["name"]: o for o in items if o["metadata"]["name"] == o["metadata"].get("namespace")}

    # ------------------------------------------------------------------ sync controller

    def reconcile(self, t, obj):
        meta = obj["metadata"]
        host_ns = None
        if t.is_namespace:
            if meta["name"] in SYSTEM_NAMESPACES or meta["name"] != meta.get("namespace"):
                return  # kubefed ignores system namespaces and misnamed FederatedNamespaces
            host_ns = self.rest.try_get("/api/v1/namespaces/%s" % meta["name"])
            if host_ns is None:
                return
        target = _Target(self, t, obj, host_ns)
        if meta.get("deletionTimestamp"):
            return target.ensure_deletion()
        if FINALIZER not in (meta.get("finalizers") or []):
            finalizers = (meta.get("finalizers") or []) + [FINALIZER]
            target.obj = patch_finalizers(self.rest, t.fed_path(meta), meta, finalizers)
        target.sync()

    # ------------------------------------------------------------------ ReplicaSchedulingPreferences

    def schedule_all(self):
        try:
            rsps = self.rest.get("/apis/scheduling.kubefed.io/v1alpha1/replicaschedulingpreferences")["items"]
        except ApiError:
            return
        ready = [n for n in sorted(self.clusters) if n in self.ready]
        for rsp in rsps:
            if ready:
                try:
                    self.schedule(rsp, ready)
                except (ApiError, OSError, OverrideError) as e:
                    meta = rsp["metadata"]
                    log.warning("%s: RSP %s/%s: %s", self.host, meta["namespace"], meta["name"], e)

    def schedule(self, rsp, ready):
        """kubefed ReplicaScheduler.Reconcile + Plugin.Reconcile (pkg/schedulingtypes)."""
        meta, spec = rsp["metadata"], rsp.get("spec") or {}
        kind = spec.get("targetKind")
        if kind not in RSP_KINDS:
            return self.reject(rsp, "RSP target kind: %s is incorrect" % kind)
        t = next((t for t in self.types if t.fed_kind == kind), None)
        fed = t and self.rest.try_get(t.fed_path(meta))
        if not fed:
            return
        names = ready
        if spec.get("intersectWithClusterSelector"):
            fed_ns = self.rest.get(self.fed_ns_path(meta["namespace"]))
            ready_kfcs = {n: self.clusters[n] for n in ready}
            names = sorted(placement(fed, ready_kfcs, True) & placement(fed_ns, ready_kfcs, True))
            if not names:
                return
        key = "%s/%s" % (meta["namespace"], meta["name"])
        current, capacity = self.replica_state(t, meta, names)
        prefs = spec.get("clusters") or {"*": {"weight": 1}}
        result, overflow = plan(prefs, spec.get("totalReplicas", 0), names, current, capacity,
                                bool(spec.get("rebalance")), key)
        for c, n in overflow.items():
            result[c] += n
        self.write_schedule(t, fed, result)

    def fed_ns_path(self, namespace):
        t = next(t for t in self.types if t.is_namespace)
        return t.fed_path({"namespace": namespace, "name": namespace})

    def replica_state(self, t, meta, names):
        """Current replicas per cluster (readyReplicas when all are ready, else running and ready pods) and
        the capacity estimated from long-unschedulable pods (kubefed clustersReplicaState)."""
        current, capacity = {}, {}
        for c in names:
            obj = self.managed_object(c, t.target_path(meta["namespace"], meta["name"]))
            if obj is None:
                continue
            replicas = (obj.get("spec") or {}).get("replicas", 0)
            ready = (obj.get("status") or {}).get("readyReplicas", 0)
            if replicas == ready:
                current[c] = ready
                continue
            running, unschedulable = self.analyze_pods(c, meta["namespace"], obj)
            current[c] = running
            if unschedulable:
                capacity[c] = replicas - unschedulable
        return current, capacity

    def analyze_pods(self, cluster, namespace, obj):
        match = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        selector = ",".join("%s%%3D%s" % kv for kv in sorted(match.items()))
        pods = self.clients[cluster].get("/api/v1/namespaces/%s/pods?labelSelector=%s" % (namespace, selector))["items"]
        running = unschedulable = 0
        limit = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - UNSCHEDULABLE_AFTER))
        for pod in pods:
            st = pod.get("status") or {}
            conds = {c.get("type"): c for c in st.get("conditions") or []}
            if st.get("phase") == "Running" and (conds.get("Ready") or {}).get("status") == "True":
                running += 1
            sched = conds.get("PodScheduled") or {}
            if st.get("phase") == "Pending" and sched.get("status") == "False" and \
                    sched.get("reason") == "Unschedulable" and sched.get("lastTransitionTime", "") < limit:
                unschedulable += 1
        return running, unschedulable

    def write_schedule(self, t, fed, result):
        """Placement = every scheduled cluster; one /spec/replicas override per cluster (replace or append,
        other overrides kept); /spec/replicas overrides of clusters outside the result removed."""
        spec = fed.setdefault("spec", {})
        dirty = False
        current = sorted(c.get("name") for c in (spec.get("placement") or {}).get("clusters") or [])
        if current != sorted(result):
            spec.setdefault("placement", {})["clusters"] = [{"name": c} for c in sorted(result)]
            dirty = True
        overrides = overrides_map(fed)  # raises on invalid overrides: kubefed then leaves the object alone
        if replicas_overrides_differ(overrides, result):
            spec["overrides"] = merged_replica_overrides(spec.get("overrides") or [], result)
            dirty = True
        if dirty:
            self.rest.request("PUT", t.fed_path(fed["metadata"]), fed)

    def reject(self, rsp, message):
        """kubefed only logs an RSP with a wrong targetKind; the lab also leaves a Warning Event on it."""
        log.warning("%s: %s/%s: %s", self.host, rsp["metadata"]["namespace"], rsp["metadata"]["name"], message)
        meta = rsp["metadata"]
        event = {"apiVersion": "v1", "kind": "Event",
                 "metadata": {"name": "%s.kslab-targetkind" % meta["name"], "namespace": meta["namespace"]},
                 "involvedObject": {"apiVersion": rsp["apiVersion"], "kind": rsp["kind"], "name": meta["name"],
                                    "namespace": meta["namespace"], "uid": meta["uid"]},
                 "type": "Warning", "reason": "InvalidTargetKind", "message": message,
                 "source": {"component": "kslab-kubefed"}, "firstTimestamp": now(), "lastTimestamp": now(), "count": 1}
        try:
            self.rest.request("POST", "/api/v1/namespaces/%s/events" % meta["namespace"], event)
        except ApiError as e:
            if e.status != 409:
                raise

    def managed_object(self, cluster, path):
        """The member object kubefed's informer would see: it exists and is labelled kubefed.io/managed=true."""
        obj = self.clients[cluster].try_get(path)
        return obj if obj is not None and labels_of(obj).get(MANAGED) == "true" else None


def probe(client):
    """GET /healthz as kubefed's ClusterClient.GetClusterHealthStatus does (any error: Offline)."""
    t = now()
    try:
        body = client.request("GET", "/healthz", raw=True)
    except (ApiError, OSError, ValueError):
        found = [OFFLINE]
    else:
        found = [READY] if body.decode(errors="replace").lower() == "ok" else [NOT_READY, REACHABLE]
    return [dict(c, lastProbeTime=t, lastTransitionTime=t) for c in found]


def thresholded(conditions, stored, check):
    """kubefed thresholdAdjustedClusterStatus. A new readiness shows only once the previous result has been
    seen failureThreshold (default 3) / successThreshold (default 1) times in a row; as in kubefed this counts
    runs of the previous result, so after a long stable run a change shows at once. Returns (conditions, run)."""
    if stored is None:
        return conditions, 1
    before, ready_now = is_ready(stored["conditions"]), is_ready(conditions)
    threshold = check.get("successThreshold", 1) if ready_now else check.get("failureThreshold", 3)
    result = conditions
    if stored["run"] < threshold:
        result = [dict(c, lastProbeTime=conditions[0]["lastProbeTime"]) for c in stored["conditions"]]
    elif ready_now == before:
        ltt = stored["conditions"][0].get("lastTransitionTime")
        result = [dict(c, lastTransitionTime=ltt) for c in conditions]
    return result, stored["run"] + 1 if is_ready(result) == before else 1


def _strip(conditions):
    return [{k: v for k, v in c.items() if k != "lastProbeTime"} for c in conditions or []]


class _Target:
    """One federated object on one host: kubefed's sync controller reconcile, dispatch and status."""

    def __init__(self, host_pass, t, obj, host_ns):
        self.p, self.t, self.obj, self.host_ns = host_pass, t, obj, host_ns
        meta = obj["metadata"]
        self.name, self.namespace = meta["name"], meta.get("namespace", "")
        self.path = t.target_path(self.namespace, self.name)

    # --- placement and the loop over clusters (KubeFedSyncController.syncToClusters)

    def fed_namespace(self):
        return self.p.fed_namespaces.get(self.namespace) if self.t.namespaced else None

    def selected(self):
        chosen = placement(self.obj, self.p.clusters)
        if not self.t.namespaced:
            return chosen
        fed_ns = self.fed_namespace()
        return chosen & placement(fed_ns, self.p.clusters) if fed_ns else set()

    def sync(self):
        selected, statuses = self.selected(), {}
        for c in sorted(self.p.clusters):
            if c not in self.p.ready:
                if c in selected:
                    statuses[c] = "ClusterNotReady"
                continue
            live = self.p.managed_object(c, self.path)
            if c in selected:
                statuses[c] = self.create(c) if live is None else self.update(c, live)
            elif live is not None and (_deleting(live) or not self.in_host(live)):
                self.delete(c, live)
                statuses[c] = "WaitingForRemoval"
            elif live is not None:
                self.remove_label(c, live)  # the host's own namespace is never deleted; no status entry
        self.set_status(statuses)

    def in_host(self, live):
        """kubefed IsNamespaceInHostCluster: the member Namespace IS the host namespace (same UID)."""
        return self.t.is_namespace and self.host_ns is not None and \
            live["metadata"].get("uid") == self.host_ns["metadata"].get("uid")

    # --- the object for a cluster (ObjectForCluster, RetainClusterFields, ApplyOverrides)

    def desired(self, cluster, live=None):
        obj = copy.deepcopy((self.obj.get("spec") or {}).get("template") or {})
        meta = obj.setdefault("metadata", {})
        meta.pop("annotations", None)  # kubefed: "metadata.annotations cannot be set via template"
        meta.pop("finalizers", None)
        meta["name"] = self.name
        if self.t.namespaced:
            meta["namespace"] = self.namespace
        else:
            meta.pop("namespace", None)
        obj["kind"] = self.t.target_kind
        obj.setdefault("apiVersion", self.t.target_api_version)
        if live is not None:
            self.retain(obj, live)
        obj = apply_patch(obj, cluster_overrides(self.obj, cluster))
        obj.setdefault("metadata", {}).setdefault("labels", {})
        obj["metadata"]["labels"] = dict(obj["metadata"]["labels"] or {}, **{MANAGED: "true"})
        return obj

    def retain(self, obj, live):
        meta, live_meta = obj["metadata"], live["metadata"]
        meta["resourceVersion"] = live_meta.get("resourceVersion")
        for field in ("finalizers", "annotations"):
            if live_meta.get(field):
                meta[field] = live_meta[field]
        spec, live_spec = obj.get("spec") or {}, live.get("spec") or {}
        if self.t.target_kind == "Service":
            for field in ("clusterIP", "clusterIPs", "healthCheckNodePort"):
                if live_spec.get(field):
                    spec[field] = live_spec[field]
            for port in spec.get("ports") or []:
                for lp in live_spec.get("ports") or []:
                    if all(port.get(k) == lp.get(k) for k in ("name", "protocol", "port")) and "nodePort" in lp:
                        port["nodePort"] = lp["nodePort"]
        elif self.t.target_kind == "ServiceAccount":
            if not obj.get("secrets") and live.get("secrets"):
                obj["secrets"] = live["secrets"]
        elif (self.obj.get("spec") or {}).get("retainReplicas") and "replicas" in live_spec:
            spec["replicas"] = live_spec["replicas"]
        if spec:
            obj["spec"] = spec

    # --- dispatch (managedDispatcherImpl): each returns the cluster's propagation status

    def create(self, cluster):
        try:
            obj = self.desired(cluster)
        except OverrideError as e:
            return self.failed(cluster, "ApplyOverridesFailed", e)
        client = self.p.clients[cluster]
        try:
            created = client.request("POST", self.path.rsplit("/", 1)[0], obj)
        except ApiError as e:
            exists = e.status == 409 or (self.t.is_namespace and e.status == 504)
            if not exists:
                return self.failed(cluster, "CreationFailed", e)
        else:
            self.record(cluster, obj, created)
            return OK
        live = client.try_get(self.path)
        if live is None:
            return "RetrievalFailed"
        if not self.p.adopt and not self.in_host(live):
            return self.failed(cluster, "AlreadyExists", "Resource pre-exist in cluster")
        return self.update(cluster, live)

    def update(self, cluster, live):
        if labels_of(live).get(MANAGED) == "false":
            return self.failed(cluster, "ManagedLabelFalse", UNMANAGED_MESSAGE)
        try:
            obj = self.desired(cluster, live)
        except OverrideError as e:
            return self.failed(cluster, "ApplyOverridesFailed", e)
        if not self.needs_update(cluster, obj, live):
            return OK
        try:
            updated = self.p.clients[cluster].request("PUT", self.path, obj)
        except ApiError as e:
            return self.failed(cluster, "UpdateFailed", e)
        self.record(cluster, obj, updated)
        return OK

    def failed(self, cluster, status, err):
        log.debug("%s: %s %s/%s in %s: %s: %s", self.p.host, self.t.fed_kind, self.namespace, self.name, cluster,
                  status, err)
        return status

    def version_key(self, cluster):
        return (self.p.host, self.t.fed_kind, self.namespace, self.name, cluster)

    def record(self, cluster, desired, result):
        self.p.ctl._versions[self.version_key(cluster)] = (_digest(desired), object_version(result))

    def needs_update(self, cluster, desired, live):
        """kubefed ObjectNeedsUpdate with the PropagatedVersion kept in memory: the desired object changed, or
        the member object changed since kubefed wrote it, or (versioned by generation) its labels differ."""
        version = object_version(live)
        if self.p.ctl._versions.get(self.version_key(cluster)) != (_digest(desired), version):
            return True
        return version.startswith("gen:") and any(
            desired["metadata"].get(f) != live["metadata"].get(f) for f in ("labels", "annotations"))

    def delete(self, cluster, live):
        client = self.p.clients[cluster]
        if not _deleting(live):
            try:
                client.request("DELETE", self.path)
            except ApiError as e:
                if e.status != 404:
                    raise
        self.p.ctl._versions.pop(self.version_key(cluster), None)
        if self.t.is_namespace and not self.in_host(live):
            self.p.ctl.finalize_namespace(client, self.name)

    def remove_label(self, cluster, live):
        self.p.clients[cluster].merge_patch(self.path, {"metadata": {"labels": {MANAGED: None}}})

    # --- deletion of the federated object (ensureDeletion)

    def ensure_deletion(self):
        meta = self.obj["metadata"]
        if FINALIZER not in (meta.get("finalizers") or []):
            return
        orphan = ((meta.get("annotations") or {}).get(ORPHAN) == "true")
        unready, remaining = False, []
        for c in sorted(self.p.clusters):
            if c not in self.p.ready:
                unready = True
                continue
            live = self.p.managed_object(c, self.path)
            if live is None or (self.in_host(live) and _deleting(live)):
                continue
            if orphan or self.in_host(live):
                if not _deleting(live):
                    self.remove_label(c, live)
                continue
            remaining.append(c)
            self.delete(c, live)
        if (unready and not orphan) or remaining:
            return  # kubefed keeps the finalizer until every cluster is ready and clean
        patch_finalizers(self.p.rest, self.t.fed_path(meta), meta, [f for f in meta["finalizers"] if f != FINALIZER])

    # --- status (pkg/controller/sync/status)

    def set_status(self, statuses):
        status, meta = self.obj.get("status") or {}, self.obj["metadata"]
        reason = OK
        if self.t.namespaced and self.fed_namespace() is None:
            reason = NAMESPACE_NOT_FEDERATED
        elif any(v != OK for v in statuses.values()):
            reason = CHECK_CLUSTERS
        old = {c["name"]: c.get("status", OK) for c in status.get("clusters") or []}
        clusters_changed = old != statuses
        conditions = [dict(c) for c in status.get("conditions") or []]
        cond = next((c for c in conditions if c.get("type") == "Propagation"), None)
        if cond is None:
            cond = {"type": "Propagation"}
            conditions.append(cond)
        new_status = "True" if reason == OK else "False"
        t = now()
        transition = cond.get("status") != new_status or cond.get("reason", OK) != reason
        if transition:
            cond.update(status=new_status, lastTransitionTime=t)
            cond.pop("reason", None)
            if reason:
                cond["reason"] = reason
        if clusters_changed or transition:
            cond["lastUpdateTime"] = t
        if not (clusters_changed or transition or status.get("observedGeneration") != meta.get("generation")):
            return
        clusters = [dict({"name": c}, **({"status": s} if s else {})) for c, s in sorted(statuses.items())]
        self.p.rest.merge_patch(self.t.fed_path(meta, "/status"), {"status": {
            "observedGeneration": meta.get("generation"), "conditions": conditions, "clusters": clusters or None}})


def patch_finalizers(rest, path, meta, finalizers):
    """Set metadata.finalizers, failing with 409 if the object changed since `meta` was read."""
    return rest.merge_patch(path, {"metadata": {"finalizers": finalizers, "resourceVersion": meta["resourceVersion"]}})


def _deleting(obj):
    return bool(obj["metadata"].get("deletionTimestamp"))


def replicas_overrides_differ(overrides, result):
    """kubefed OverrideUpdateNeeded: some /spec/replicas override is missing, extra or different."""
    checked = 0
    for cluster, ops in overrides.items():
        for op in ops:
            if op.get("path") != REPLICAS_PATH:
                continue
            value = op.get("value")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return True
            if cluster not in result or int(value) != result[cluster]:
                return True
            checked += 1
    return checked != len(result)


def merged_replica_overrides(items, result):
    """spec.overrides with one /spec/replicas override per scheduled cluster (replaced in place or appended),
    the /spec/replicas override removed for other clusters, and every other override kept."""
    out, seen = [], set()
    for item in items:
        cluster = item.get("clusterName")
        ops = [dict(o) for o in item.get("clusterOverrides") or []]
        found = next((o for o in ops if o.get("path") == REPLICAS_PATH), None)
        if cluster in result and found is not None:
            found["value"] = result[cluster]
        elif cluster in result:
            ops.append({"path": REPLICAS_PATH, "value": result[cluster]})
        elif found is not None:
            ops.remove(found)
        out.append(dict(item, clusterOverrides=ops))
        seen.add(cluster)
    out += [{"clusterName": c, "clusterOverrides": [{"path": REPLICAS_PATH, "value": result[c]}]}
            for c in sorted(set(result) - seen)]
    return out
