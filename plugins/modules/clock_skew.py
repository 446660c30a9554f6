#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: clock_skew
short_description: Fail before any join when cluster or node clocks differ more than KubeSphere tolerates
version_added: 0.1.0
description:
  - KubeSphere rejects tokens issued by a cluster whose clock differs by more than C(maximumClockSkew)
    (default 10s) with C(token used before issued). This module is the gate that trips first, at a
    lower O(threshold).
  - O(clusters) are the C(cluster) results of M(kubesphere.multicluster.cluster_info) (each API
    server's offset against the controller, from its C(Date) header). They are compared pairwise and
    the module fails when two clusters certainly differ by more than O(threshold); a skew that only
    might exceed it (the C(Date) header has a 1 s resolution) is a warning.
  - O(tracking) is the output of C(chronyc -c tracking) on one node. The module fails when chrony is not
    synchronised or the node is more than O(threshold)/2 off NTP time (so any two nodes are within
    O(threshold) of each other).
  - The module only decides; it contacts nothing.
author:
  - kubesphere.multicluster contributors (@kubesphere)
extends_documentation_fragment:
  - kubesphere.multicluster.attributes.info
options:
  clusters:
    description: C(cluster) results of M(kubesphere.multicluster.cluster_info), one per cluster.
    type: list
    elements: dict
    default: []
  node:
    description: The node's name, for messages (with O(tracking)).
    type: str
  tracking:
    description: Output of C(chronyc -c tracking) on O(node).
    type: str
  threshold:
    description: Seconds; must be lower than every cluster's C(maximumClockSkew).
    type: float
    default: 5.0
"""

EXAMPLES = r"""
# Tasks of a play over the fleet (hosts: kubesphere_clusters, gather_facts: false), with the inventory layout
# of inventories/example: each cluster's inventory host sets kubesphere_cluster_name, kubesphere_kubeconfig and
# kubesphere_context (and members kubesphere_connection_type); the host cluster is groups['kubesphere_host'][0].

- name: Measure every cluster's clock
  kubesphere.multicluster.cluster_info:
    cluster_name: "{{ kubesphere_cluster_name }}"
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    clock_samples: 3
  register: clock_info

- name: Fail when two clusters' clocks differ by more than 5 s
  kubesphere.multicluster.clock_skew:
    clusters: "{{ ansible_play_hosts | map('extract', hostvars, ['clock_info', 'cluster']) | list }}"
    threshold: 5
  run_once: true
"""

RETURN = r"""
max_skew:
  description: Largest measured skew between two clusters, seconds (midpoints of the offset intervals).
  returned: with O(clusters)
  type: float
  sample: 0.5
max_skew_pair:
  description: The two clusters of RV(max_skew).
  returned: with O(clusters)
  type: list
  elements: str
node_offset:
  description: The node's offset from NTP time, seconds.
  returned: with O(tracking)
  type: float
problems:
  description: What failed the check (each C(code), C(cluster) and C(message)).
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.exits import run_operation
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import clock_skew


def main():
    module = AnsibleModule(argument_spec=dict(
        clusters=dict(type="list", elements="dict", default=[]),
        node=dict(type="str"),
        tracking=dict(type="str"),
        threshold=dict(type="float", default=5.0),
    ), supports_check_mode=True, required_by={"tracking": "node"})
    run_operation(module, clock_skew.run)


if __name__ == "__main__":
    main()
