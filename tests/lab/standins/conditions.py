"""Helpers the KubeSphere stand-ins share: conditions, Events, small object helpers.

Conditions follow KubeSphere's ClusterCondition shape (type, status, lastUpdateTime, lastTransitionTime,
reason, message). Unlike KubeSphere 3.4 (which stamps both times on every sync), lastUpdateTime moves only
when the condition's content changes and lastTransitionTime only when its status flips, so that a polling
stand-in does not rewrite objects every second."""

import base64
import hashlib
import json
import logging

from .runtime import ApiError, now

log = logging.getLogger("standins")


def find_condition(obj, ctype):
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def condition_true(obj, ctype):
    c = find_condition(obj, ctype)
    return bool(c) and c.get("status") == "True"


def set_condition(conditions, ctype, status, reason, message):
    """Return (new list, changed). Keeps the order of the other conditions."""
    ts = now()
    new = {"type": ctype, "status": status, "lastUpdateTime": ts, "lastTransitionTime": ts,
           "reason": reason, "message": message}
    out, found, changed = [], False, True
    for c in conditions or []:
        if c.get("type") != ctype:
            out.append(c)
            continue
        found = True
        if (c.get("status"), c.get("reason", ""), c.get("message", "")) == (status, reason, message):
            out.append(c)
            changed = False
            continue
        if c.get("status") == status:
            new["lastTransitionTime"] = c.get("lastTransitionTime", ts)
        out.append(new)
    if not found:
        out.append(new)
    return out, changed


def drop_condition(conditions, ctype):
    out = [c for c in conditions or [] if c.get("type") != ctype]
    return out, len(out) != len(conditions or [])


def record_event(rest, obj, etype, reason, message, component):
    """A core/v1 Event about `obj` (cluster-scoped objects: namespace default, as client-go's recorder
    does). The same reason+message again bumps `count` instead of making a new Event."""
    meta = obj["metadata"]
    ns = meta.get("namespace") or "default"
    digest = hashlib.sha1(("%s/%s/%s" % (meta.get("uid"), reason, message)).encode()).hexdigest()[:12]
    name = "%s.%s" % (meta["name"], digest)
    ts = now()
    path = "/api/v1/namespaces/%s/events" % ns
    try:
        rest.request("POST", path, {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": ns},
            "involvedObject": {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "name": meta["name"],
                               "namespace": meta.get("namespace", ""), "uid": meta.get("uid")},
            "type": etype, "reason": reason, "message": message, "count": 1,
            "firstTimestamp": ts, "lastTimestamp": ts, "source": {"component": component},
        })
    except ApiError as e:
        if e.status != 409:
            log.warning("could not record event %s on %s: %s", reason, meta["name"], e.reason)
            return
        old = rest.try_get("%s/%s" % (path, name)) or {}
        rest.merge_patch("%s/%s" % (path, name), {"count": old.get("count", 1) + 1, "lastTimestamp": ts})
    log.info("event %s %s on %s: %s", etype, reason, meta["name"], message)


class Teller:
    """Records each distinct Event about an object once (per process), not once per polling pass.
    `forget(name)` lets the same events be told again (e.g. after the object's state changed)."""

    def __init__(self, component):
        self.component = component
        self.told = set()

    def __call__(self, rest, obj, etype, reason, message, again=False):
        key = (obj["metadata"]["name"], etype, reason, message)
        if again or key not in self.told:
            self.told.add(key)
            record_event(rest, obj, etype, reason, message, self.component)

    def forget(self, name):
        self.told = {k for k in self.told if k[0] != name}


def events_for(rest, name, namespace="default"):
    """Events about the object `name` (tests and debugging)."""
    items = rest.get("/api/v1/namespaces/%s/events?fieldSelector=involvedObject.name=%s" % (namespace, name))
    return items.get("items", [])


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def spec_hash(spec):
    return hashlib.sha256(json.dumps(spec or {}, sort_keys=True).encode()).hexdigest()[:16]


def upsert(rest, obj, manager):
    """Server-side apply of a whole object we own (create or converge)."""
    return rest.apply(obj, manager=manager)


def delete(rest, path):
    try:
        rest.request("DELETE", path)
        return True
    except ApiError as e:
        if e.status == 404:
            return False
        raise


def available_deployment(rest, namespace, name, labels, container, service_account="kubesphere", manager="kslab"):
    """A Deployment and a /status that says it is Available (the lab runs no pods)."""
    dep = upsert(rest, {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"serviceAccountName": service_account, "containers": [container]}}},
    }, manager)
    ts = now()
    rest.merge_patch("/apis/apps/v1/namespaces/%s/deployments/%s/status" % (namespace, name), {"status": {
        "observedGeneration": dep["metadata"].get("generation", 1), "replicas": 1, "updatedReplicas": 1,
        "readyReplicas": 1, "availableReplicas": 1,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
             "message": "Deployment has minimum availability.", "lastUpdateTime": ts, "lastTransitionTime": ts},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
             "message": 'ReplicaSet "%s" has successfully progressed.' % name,
             "lastUpdateTime": ts, "lastTransitionTime": ts},
        ]}})


CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters"
_status_subresource = {}


def write_cluster_status(rest, cluster, status):
    """Write a Cluster's status if it changed, guarded by resourceVersion. KubeSphere 3.4's Cluster CRD has no
    status subresource (status goes through the main endpoint); a CRD set that has one gets /status."""
    if status == (cluster.get("status") or {}):
        return cluster
    if rest.server not in _status_subresource:
        crd = rest.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusters.cluster.kubesphere.io")
        version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
        _status_subresource[rest.server] = "status" in (version.get("subresources") or {})
    path = "%s/%s%s" % (CLUSTERS, cluster["metadata"]["name"], "/status" if _status_subresource[rest.server] else "")
    return rest.merge_patch(path, {"metadata": {"resourceVersion": cluster["metadata"]["resourceVersion"]},
                                   "status": status})


def patch_cluster_spec(rest, cluster, connection):
    """Merge `connection` into spec.connection, guarded by resourceVersion. Returns the new object."""
    return rest.merge_patch("%s/%s" % (CLUSTERS, cluster["metadata"]["name"]), {
        "metadata": {"resourceVersion": cluster["metadata"]["resourceVersion"]},
        "spec": {"connection": connection}})
