# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_table
short_description: The fleet as one text table, from each cluster's cluster_info result
version_added: 0.1.0
description:
  - Renders one line per cluster - cluster, role, Kubernetes and KubeSphere versions, Ready as the host's
    C(Cluster) object says, whether the jwtSecret matches the host's, and the clock skew against the host -
    followed by notes - every unreachable cluster with its reason, warnings, and clock-skew problems.
  - Used by the C(status) role (C(playbooks/status.yml)).
options:
  _input:
    description: Inventory host names (e.g. C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  hostvars:
    description: C(hostvars); each host's registered cluster_info result is read from it.
    type: raw
    required: true
  host:
    description: Inventory name of the host cluster (e.g. C(groups['kubesphere_host'][0])).
    type: str
  result_var:
    description: Name of the variable each host registered the cluster_info result in.
    type: str
    default: kubesphere_status
"""

EXAMPLES = r"""
# Tasks of a play over the fleet (hosts: kubesphere_clusters, gather_facts: false), with the inventory layout
# of inventories/example: each cluster's inventory host sets kubesphere_cluster_name, kubesphere_kubeconfig and
# kubesphere_context; the host cluster is groups['kubesphere_host'][0].
# ks_info: each cluster's cluster_info result (cluster_info's example registers it).

- name: Print the fleet
  run_once: true
  ansible.builtin.debug:
    msg: "{{ ansible_play_hosts_all | kubesphere.multicluster.fleet_table(hostvars, groups['kubesphere_host'][0], 'ks_info') }}"
"""

RETURN = r"""
_value:
  description: The table, one line per cluster, then the notes.
  type: str
"""

from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet.report import facts_of, fleet_table, no_result


def _fleet_table(hosts, hostvars, host=None, result_var="kubesphere_status"):
    all_facts = []
    host_name = None
    for name in hosts:
        result = (hostvars.get(name) or {}).get(result_var) or {}
        facts = facts_of(result) or no_result(name, result.get("msg"))
        all_facts.append(facts)
        if name == host:
            host_name = facts["name"]
    return fleet_table(all_facts, host_name)


class FilterModule(object):
    def filters(self):
        return {"fleet_table": _fleet_table}
