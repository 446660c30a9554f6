# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. What `Ready` does not prove, checked after an import (pure): the
member's health verdict, its identity, its KubeSphere version and the clusterName the host writes there."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster_health
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem


def synced_problems(name, cluster, verdict, unreachable):
    """What every version checks after an import: the health `verdict` is 'ready', the Cluster's status.uid and
    kubeSphereVersion are set (`unreachable`: why the host may not have read the version, in the version's words)."""
    out = []
    if not verdict["healthy"]:
        out.append(problem("health_" + verdict["verdict"], name, verdict["reason"]))
    if cluster and not co.uid(cluster):
        out.append(problem("no_uid", name, "cluster '%s': the Cluster has no status.uid yet: KubeSphere has not "
                           "completed a sync of it" % name))
    if cluster and not co.kubesphere_version(cluster):
        out.append(problem("kubesphere_version_unknown", name, "cluster '%s': the host has not read the member's "
                           "KubeSphere version (status.kubeSphereVersion %s): %s"
                           % (name, objects.get_path(cluster, "status.kubeSphereVersion") or "unset", unreachable)))
    return out


def usable_problems(name, cluster, kubefed_cluster, member_config, kubefed_read=True):
    """What `Ready` does not prove, checked after an import: [] when the member is usable.

    - the health verdict (Cluster conditions and the KubeFedCluster) is 'ready';
    - the member's rendered kubesphere-config (`member_config`, the parsed kubesphere.yaml; None when it
      could not be read) names this cluster in multicluster.clusterName (the host's controller writes it
      after a successful sync);
    - the member's KubeSphere version is known (the host reached the member's ks-apiserver);
    - status.uid is set."""
    out = synced_problems(name, cluster, cluster_health.health(cluster, kubefed_cluster, kubefed_read=kubefed_read),
                          "its ks-apiserver is not reachable through the member's service proxy "
                          "(kubesphere-system/ks-apiserver); check it runs")
    if member_config is None:
        out.append(problem("member_config_unread", name, "cluster '%s': its kubesphere-config could not be read, "
                           "so the clusterName the host writes there is unverified" % name))
    else:
        written = objects.get_path(member_config, "multicluster.clusterName")
        if written != name:
            out.append(problem("cluster_name_not_written", name, "cluster '%s': its kubesphere-config shows "
                               "multicluster.clusterName %s, not '%s': the host's controller has not completed a "
                               "sync of this member yet (it writes the name after joining; wait, or check "
                               "ks-controller-manager's log on the host)" % (name, repr(written) if written else "unset", name)))
    return out
