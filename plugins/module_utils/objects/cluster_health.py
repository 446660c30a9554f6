# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. A member's health read from its `Cluster` object's conditions and
kubefed's KubeFedCluster, without trusting `Ready` alone. Pure functions over plain dicts.

Facts these functions rest on (KubeSphere 3.4.1, tower v0.2.1, kubefed v0.8.1):
- A member that dies after joining stays `Ready True`: once `status.uid` is set, the UPDATE webhook dials
  the member and denies every write, the controller's own status write included. Only kubefed's
  KubeFedCluster (`Offline True ClusterNotReachable`) tells the truth, so `health` reads both.
- A token kubeconfig (no client certificate) joins Ready in 3.4 with `KubeConfigCertExpiresInSevenDays`
  False and an empty message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co


def conditions(cluster):
    """{type: condition dict} of a Cluster (or KubeFedCluster); the last one wins when a type repeats
    (KubeSphere removes and appends conditions on every sync, so order carries no meaning)."""
    out = {}
    found = objects.get_path(cluster or {}, "status.conditions")
    if found is None and isinstance((cluster or {}).get("conditions"), list):
        found = cluster["conditions"]
    for cond in found or []:
        if isinstance(cond, dict) and cond.get("type"):
            out[cond["type"]] = cond
    return out


def condition(cluster, kind):
    return conditions(cluster).get(kind)


def is_true(cluster, kind):
    return (condition(cluster, kind) or {}).get("status") == "True"


def status_of(cluster, kind):
    """'True', 'False', 'Unknown' or None (no such condition)."""
    return (condition(cluster, kind) or {}).get("status")


def ready(cluster):
    return is_true(cluster, "Ready")


def federated(cluster):
    return is_true(cluster, "Federated")


def initialized(cluster):
    return is_true(cluster, "Initialized")


def agent_available(cluster):
    return is_true(cluster, "AgentAvailable")


def cert_expiry(cluster):
    """The KubeConfigCertExpiresInSevenDays condition read as {'expires_in_seven_days': bool|None,
    'not_after': text|None}. 3.4 writes False with an empty message for token kubeconfigs (never expire);
    proxy and host Clusters get no such condition (None)."""
    cond = condition(cluster, "KubeConfigCertExpiresInSevenDays")
    if not cond:
        return {"expires_in_seven_days": None, "not_after": None}
    return {"expires_in_seven_days": cond.get("status") == "True", "not_after": cond.get("message") or None}


VERDICTS = ("ready", "offline", "unhealthy", "joining", "agent_not_connected", "not_federated", "not_ready",
            "terminating", "absent", "unknown")


def kubefed_state(kubefed_cluster):
    """What kubefed's health check says of a KubeFedCluster: 'offline' (Offline True, e.g.
    ClusterNotReachable), 'ready' (Ready True), 'not_ready' (Ready False: /healthz without ok),
    'pending' (no condition yet) or 'absent'."""
    if not kubefed_cluster:
        return "absent"
    if "status" not in kubefed_cluster and ("ready" in kubefed_cluster or "offline" in kubefed_cluster):
        # the read model's summary {name, ready, offline}
        if kubefed_cluster.get("offline"):
            return "offline"
        return "ready" if kubefed_cluster.get("ready") else "not_ready"
    if is_true(kubefed_cluster, "Offline"):
        return "offline"
    state = status_of(kubefed_cluster, "Ready")
    if state == "True":
        return "ready"
    if state in ("False", "Unknown"):
        return "not_ready"
    return "pending"


def _why(cond):
    if not cond:
        return "no condition"
    parts = [p for p in (cond.get("reason"), cond.get("message")) if p]
    return "%s %s" % (cond.get("status"), "(%s)" % ": ".join(parts) if parts else "")


def judged(out, name, verdict, reason):
    """`out` with the verdict, `healthy` and the reason naming the cluster (every version's health uses it)."""
    out.update(verdict=verdict, healthy=(verdict == "ready"),
               reason="cluster '%s': %s" % (name, reason) if name else reason)
    return out


def lifecycle(cluster):
    """(verdict, reason) of a Cluster that is absent or being deleted, else None."""
    if not cluster:
        return "absent", "no Cluster object"
    if co.deleting(cluster):
        return "terminating", "the Cluster is being deleted (finalizers: %s)" % (", ".join(co.finalizers(cluster)) or "none")
    return None


def proxy_connection(cluster):
    """(verdict, reason) of a proxy member whose tower connection is not up (and that is not Ready), else None."""
    if co.connection_type(cluster) != "proxy" or ready(cluster):
        return None
    if not initialized(cluster):
        return "joining", "tower has not initialised the proxy connection yet (Initialized %s)" % _why(
            condition(cluster, "Initialized")).strip()
    if not agent_available(cluster):
        return "agent_not_connected", "the cluster-agent on the member has not connected to tower (AgentAvailable %s)" \
            % _why(condition(cluster, "AgentAvailable")).strip()
    return None


def health(cluster, kubefed_cluster=None, kubefed_read=True):
    """A verdict on a member that does not trust `Ready` alone.

    `kubefed_cluster` is the host's KubeFedCluster kube-federation-system/<name> (None when absent);
    `kubefed_read` False means it was not read at all (the verdict is then at best 'unknown' for a
    Cluster that says Ready). Returns {verdict, healthy, reason, cluster_ready, kubefed}."""
    name = co.name_of(cluster)
    kf = kubefed_state(kubefed_cluster) if kubefed_read else "unread"
    out = {"cluster_ready": status_of(cluster, "Ready"), "kubefed": kf}

    def verdict(v, reason):
        return judged(out, name, v, reason)

    early = lifecycle(cluster)
    if early:
        return verdict(*early)
    if kf == "offline":
        kf_cond = condition(kubefed_cluster, "Offline")
        detail = " " + _why(kf_cond).strip() if kf_cond else ""
        text = "KubeFedCluster %s/%s reports Offline%s" % (co.KUBEFED_NAMESPACE, name, detail)
        if ready(cluster):
            text += ("; its Cluster still says Ready True because KubeSphere's webhook denies every update of "
                     "a Cluster whose member it cannot reach: the member is down or unreachable from the host")
        return verdict("offline", text)
    if not objects.get_path(cluster, "spec.joinFederation"):
        return verdict("not_federated", "spec.joinFederation is not true: KubeSphere does not join it")
    if status_of(cluster, "Federated") == "False":
        return verdict("not_federated", "Federated %s" % _why(condition(cluster, "Federated")).strip())
    proxy = proxy_connection(cluster)
    if proxy:
        return verdict(*proxy)
    state = status_of(cluster, "Ready")
    if state == "False":
        return verdict("not_ready", "Ready %s" % _why(condition(cluster, "Ready")).strip())
    if state != "True":
        if not objects.get_path(cluster, co.KUBECONFIG_PATH):
            return verdict("joining", "the Cluster has no kubeconfig yet%s" % (
                " (tower writes it when the agent connects)" if co.connection_type(cluster) == "proxy" else ""))
        return verdict("joining", "KubeSphere has not set Ready yet")
    if kf == "ready":
        return verdict("ready", "Ready True and KubeFedCluster Ready True")
    if kf == "unread":
        return verdict("unknown", "the Cluster says Ready True, but its KubeFedCluster was not read: Ready alone "
                       "does not prove the member is reachable")
    if kf == "absent":
        return verdict("unknown", "the Cluster says Ready True but KubeFedCluster %s/%s does not exist"
                       % (co.KUBEFED_NAMESPACE, name))
    if kf == "pending":
        return verdict("joining", "KubeFedCluster %s/%s has no health condition yet (kubefed probes every 10 s)"
                       % (co.KUBEFED_NAMESPACE, name))
    return verdict("unhealthy", "KubeFedCluster %s/%s reports Ready %s although the Cluster says Ready True"
                   % (co.KUBEFED_NAMESPACE, name, _why(condition(kubefed_cluster, "Ready")).strip()))
