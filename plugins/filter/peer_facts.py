# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: peer_facts
short_description: The fleet's clusters as facts for multicluster_role's checks (no credentials)
version_added: 0.2.0
description:
  - From each cluster's registered M(kubesphere.multicluster.cluster_info) result, what the checks of
    M(kubesphere.multicluster.multicluster_role) need (its O(kubesphere.multicluster.multicluster_role#module:peers)
    option) - the cluster's name, role, kube-system UID and, on a host, its C(Cluster) objects' names
    and recorded UIDs. It reads only the named variable of each host, never connection settings.
  - Hosts without that variable (not read) are left out.
options:
  result_var:
    description: The variable each host registered its cluster_info result in.
    type: str
    default: preflight_cluster_info
extends_documentation_fragment:
  - kubesphere.multicluster.host_readings
"""

EXAMPLES = r"""
# Tasks of a play over the fleet (hosts: kubesphere_clusters, gather_facts: false), with the inventory layout
# of inventories/example: each cluster's inventory host sets kubesphere_cluster_name, kubesphere_kubeconfig and
# kubesphere_context; the host cluster is groups['kubesphere_host'][0].

- name: Read each cluster
  kubesphere.multicluster.cluster_info:
    cluster_name: "{{ kubesphere_cluster_name }}"
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
  register: preflight_cluster_info

- name: Set the host role, checked against the rest of the fleet
  kubesphere.multicluster.multicluster_role:
    cluster_name: "{{ kubesphere_cluster_name }}"
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    role: host
    peers: "{{ groups['kubesphere_clusters'] | kubesphere.multicluster.peer_facts(hostvars) }}"
  when: inventory_hostname in groups['kubesphere_host']
"""

RETURN = r"""
_value:
  description: One dict per cluster read - C(name), C(role), C(kube_system_uid), C(clusters) (C(name), C(uid)).
  type: list
  elements: dict
"""

from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet.report import facts_of, peer_facts


def _peer_facts(hosts, hostvars, result_var="preflight_cluster_info"):
    found = []
    for name in hosts or []:
        result = (hostvars.get(name) or {}).get(result_var) or {}
        facts = facts_of(result)
        if facts and facts.get("reachable"):
            found.append(facts)
    return peer_facts(found)


class FilterModule(object):
    def filters(self):
        return {"peer_facts": _peer_facts}
