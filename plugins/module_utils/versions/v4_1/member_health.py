# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. A KubeSphere 4.1 member's health from its Cluster's conditions. Pure.

Facts (KubeSphere v4.1.3, pkg/controller/cluster/cluster_controller.go; ../shared/docs/kubesphere-v4.1.md 1.3):
- the host's controller installs ks-core on the member (Helm, --wait, 5 min) and then sets `KSCoreReady True`
  ("KS Core is available now"); a failed install writes no condition at all (only the controller's log says
  why), so a member without KSCoreReady is still joining or stuck in that install;
- `Ready` is honest: the controller sets `Ready False` with the error when the member's kube-system cannot be
  read or its ks-apiserver's /version fails through the member's service proxy; v4.1.3's chart registers no
  Cluster webhook, so nothing freezes a dead member's status at Ready True (3.4's trap);
- kubefed is the "Multi-Cluster Projects" extension: its KubeFedCluster exists only when it is installed, so
  it is used when present (Offline is then believed) and never required."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster_health as ch
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

HEALTHY = "healthy (Ready True and KSCoreReady True)"
KS_CORE_READY = "KSCoreReady"


def ks_core_ready(cluster):
    return ch.is_true(cluster, KS_CORE_READY)


def health(cluster, kubefed_cluster=None, kubefed_read=True):
    """{verdict, healthy, reason, cluster_ready, ks_core_ready, kubefed} of a member of a 4.1 host (verdicts as
    objects/cluster_health.py's: absent, terminating, offline, joining, agent_not_connected, not_ready,
    ready)."""
    name = co.name_of(cluster)
    kf = ch.kubefed_state(kubefed_cluster) if kubefed_read else "unread"
    out = {"cluster_ready": ch.status_of(cluster, "Ready"), "ks_core_ready": ch.status_of(cluster, KS_CORE_READY),
           "kubefed": kf}

    def verdict(v, reason):
        return ch.judged(out, name, v, reason)

    early = ch.lifecycle(cluster) or ch.proxy_connection(cluster)
    if early:
        return verdict(*early)
    if not objects.get_path(cluster, co.KUBECONFIG_PATH):
        return verdict("joining", "the Cluster has no kubeconfig yet%s" % (
            " (tower writes it when the agent connects)" if co.connection_type(cluster) == "proxy" else ""))
    if ch.status_of(cluster, "Ready") == "False":
        return verdict("not_ready", "Ready %s" % ch._why(ch.condition(cluster, "Ready")).strip())
    if kf == "offline":
        return verdict("offline", "KubeFedCluster %s/%s (the kubefed extension) reports Offline %s"
                       % (co.KUBEFED_NAMESPACE, name, ch._why(ch.condition(kubefed_cluster, "Offline")).strip()))
    if not ks_core_ready(cluster):
        return verdict("joining", "the host has not installed ks-core on the member yet (no KSCoreReady True: a "
                       "failed install writes no condition; the member's Helm release ks-core in %s says why)"
                       % v.KS_NAMESPACE)
    if ch.status_of(cluster, "Ready") != "True":
        return verdict("joining", "KubeSphere has not set Ready yet (it probes the member's ks-apiserver /version)")
    return verdict("ready", "Ready True and KSCoreReady True")
