#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: fleet_check
short_description: Check the inventory's description of the KubeSphere fleet before anything runs
version_added: 0.1.0
description:
  - Reads the fleet from the inventory (groups C(kubesphere_host) and C(kubesphere_members), C(wave_*) and
    C(region_*) groups, and each cluster host's C(kubesphere_*) variables, see C(inventories/example/)),
    and reports every problem with one message each and a stable code - no host or two hosts
    (C(no_host), C(two_hosts)), a duplicate cluster name (C(duplicate_name)), a name KubeSphere rejects
    (C(invalid_name)), an unknown connection type (C(unknown_connection_type)), a member listed as host
    (C(member_as_host)), a kubeconfig file that does not exist, cannot be read or has no such context
    (C(kubeconfig_missing), C(kubeconfig_invalid), C(no_such_context)), two clusters that are the same API
    server (C(same_server)), a C(kubesphere_node_group) that is not an inventory group (C(node_group_missing)),
    a cluster in two rollout waves (C(two_waves)).
  - The same checks run in the C(kubesphere.multicluster.clusters) inventory plugin; this module brings them
    to static inventories. Run it once, first, in a play over C(kubesphere_clusters).
  - Runs on the controller (action plugin) and talks to no cluster.
  - Fails when it finds a problem (O(fail_on_problems)). Renamed from C(fleet_info) in 0.2.0 (an C(_info)
    module never fails on what it reads); C(kubesphere.multicluster.fleet_info) still redirects here.
author:
  - kubesphere.multicluster contributors (@kubesphere)
options:
  check_kubeconfigs:
    description: Read the kubeconfig files (or inline content) to check contexts and API server addresses.
    type: bool
    default: true
  fail_on_problems:
    description: Fail the task when there is a problem (the problems are returned either way).
    type: bool
    default: true
extends_documentation_fragment:
  - kubesphere.multicluster.attributes.info
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details: The whole check runs on the controller (it reads the inventory); nothing runs on a target.
"""

EXAMPLES = r"""
# Tasks of a play over the fleet (hosts: kubesphere_clusters, gather_facts: false), with the inventory layout
# of inventories/example: each cluster's inventory host sets kubesphere_cluster_name, kubesphere_kubeconfig and
# kubesphere_context (and members kubesphere_connection_type); the host cluster is groups['kubesphere_host'][0].

- name: Check the fleet before changing anything
  kubesphere.multicluster.fleet_check:
  run_once: true

- name: Only report
  kubesphere.multicluster.fleet_check:
    fail_on_problems: false
  run_once: true
  register: fleet
"""

RETURN = r"""
msg:
  description: The problems, one a line, or a one-line summary.
  returned: always
  type: str
problems:
  description: Every problem found, each with C(code), C(cluster) (the cluster it concerns, or null) and C(message).
  returned: always
  type: list
  elements: dict
  sample: [{code: no_such_context, cluster: member1, msg: "cluster 'member1': kubeconfig /k/m1.yaml has no context 'm1' (it has: admin)"}]
host:
  description: Inventory name of the host cluster (null unless there is exactly one).
  returned: always
  type: str
clusters:
  description: The fleet as read from the inventory; inline kubeconfig content is shown as C((inline content)).
  returned: always
  type: list
  elements: dict
  sample: [{name: member1, role: member, cluster_name: member1, kubeconfig: /k/m1.yaml, context: member1, connection_type: direct, wave: canary}]
"""
