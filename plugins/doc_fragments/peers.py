# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster: the `peers` option (the fleet's clusters as facts) of the modules whose
checks look at the rest of the fleet (multicluster_role, member). Its argument spec is in each module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  peers:
    description:
      - The clusters of the fleet, for the checks that look beyond this cluster (a second host, a cluster
        imported or managed by another host), as FACTS read before (the preflight role reads them with
        M(kubesphere.multicluster.cluster_info) and the P(kubesphere.multicluster.peer_facts#filter) filter
        shapes them).
      - No connection options; the module never connects to a peer. The entry named like this cluster is skipped.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The cluster's KubeSphere name.
        type: str
        required: true
      role:
        description: Its effective role (C(host), C(member), C(none)); null when it could not be read.
        type: str
      kube_system_uid:
        description: UID of its kube-system namespace.
        type: str
      kubesphere_line:
        description:
          - The KubeSphere line it runs (C(3.4), C(4.1)), as M(kubesphere.multicluster.cluster_info) detected it;
            null without KubeSphere. A fleet whose clusters run different lines is refused (C(mixed_versions)).
        type: str
      clusters:
        description: On a host, its Cluster objects (name, and the member's kube-system UID the host recorded).
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: The Cluster object's name.
            type: str
            required: true
          uid:
            description: C(status.uid) of the Cluster object.
            type: str
"""
