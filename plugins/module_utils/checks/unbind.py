# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The checks before an unbind writes anything (pure): the typed
confirmation, never the host's own Cluster, a dead member only with force. The plan of an unbind and the
report of what goes and what stays are in plan/unbind.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster_health
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.vocabulary import HOST_LABEL
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import WEBHOOK_NAME


def confirm_problems(name, confirm):
    """The typed confirmation: `confirm` must be the cluster's name, exactly."""
    if confirm == name:
        return []
    given = "is %r, which is not the cluster's name" % confirm if confirm else "is not set"
    return [problem("unbind_not_confirmed", name, "cluster '%s': unbinding removes it from KubeSphere (its Cluster, "
                    "KubeFedCluster and credentials on the host); confirm_unbind %s: set confirm_unbind: %s"
                    % (name, given, name))]


def unbind_problems(name, confirm, cluster, member, kubefed_cluster=None, force=False, dead=None):
    """Every check before an unbind writes anything.

    cluster          the host's Cluster object (None when absent: nothing to unbind on the host)
    member           {reachable: bool, error: text} from reading the member with its own connection
    kubefed_cluster  the host's KubeFedCluster (None when absent)
    force            allow the dead-member path (webhook configuration removed and restored)
    dead             the version's test for that path (versions/: 3.4 this module's `dead`; 4.1 never)
    A member the inventory cannot read but the host's kubefed reaches is not dead: the normal path
    applies (the member-side steps are then skipped and reported as staying)."""
    out = confirm_problems(name, confirm)
    if cluster is not None and co.is_host(cluster):
        out.append(problem("unbind_host", name, "cluster '%s' is the host's own Cluster (label %s): the host cannot "
                           "be unbound; change its role instead" % (name, HOST_LABEL)))
    if (dead or _dead)(cluster, member, kubefed_cluster) and not force:
        kf = cluster_health.kubefed_state(kubefed_cluster)
        out.append(problem("member_unreachable_needs_force", name, "cluster '%s' is unreachable (%s%s): KubeSphere's "
                           "webhook would deny the removal of the Cluster's finalizer and the deletion would hang "
                           "(kubesphere#2306, #6154); set force: true to remove the webhook configuration %s for the "
                           "time it takes and restore it exactly afterwards"
                           % (name, co.error_text((member or {}).get("error")),
                              "; KubeFedCluster Offline" if kf == "offline" else "", WEBHOOK_NAME)))
    return out


def _dead(cluster, member, kubefed_cluster):
    return dead(cluster, member, kubefed_cluster)


def dead(cluster, member, kubefed_cluster):
    """True when the dead-member path applies: a joined Cluster (status.uid set, so the webhook dials the
    member), the member not readable with its own connection, and kubefed not reaching it either."""
    return bool(cluster is not None and co.uid(cluster) and not (member or {}).get("reachable")
                and cluster_health.kubefed_state(kubefed_cluster) != "ready")
