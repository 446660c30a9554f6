# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: member_connections
short_description: Each member's connection as the inventory gives it, for a task that reads the members
version_added: 0.2.0
description:
  - C({cluster_name, kubeconfig, context}) per inventory host, from its C(kubesphere_cluster_name) (default the
    inventory host name), C(kubesphere_kubeconfig) and C(kubesphere_context) (null when unset).
  - For M(kubesphere.multicluster.federation_info)'s O(kubesphere.multicluster.federation_info#module:members)
    (the wait of C(playbooks/federate.yml)) and the O(kubesphere.multicluster.federated_project#module:member_connections)
    of M(kubesphere.multicluster.federated_project) and M(kubesphere.multicluster.federated_resource) (the
    C(federated_project) role's C(federated_project_member_connections)). Each member is reached with its own
    connection from the inventory, never another cluster's.
extends_documentation_fragment:
  - kubesphere.multicluster.host_readings
"""

EXAMPLES = r"""
- name: Drift of the shop project on every member, each reached with the inventory's connection for it
  kubesphere.multicluster.federation_info:
    members: "{{ groups['kubesphere_members'] | kubesphere.multicluster.member_connections(hostvars) }}"
    host_kubeconfig: "{{ kubesphere_kubeconfig }}"
    host_context: "{{ kubesphere_context }}"
    host_cluster_name: "{{ kubesphere_cluster_name }}"
    namespace: shop
  register: fleet_shop_drift
  when: inventory_hostname in groups['kubesphere_host']
"""

RETURN = r"""
_value:
  description: C([{cluster_name, kubeconfig, context}]), in the order of the input.
  type: list
  elements: dict
"""


def member_connections(hosts, hostvars):
    out = []
    for name in hosts or []:
        host_vars = hostvars.get(name) or {}
        out.append({"cluster_name": host_vars.get("kubesphere_cluster_name") or name,
                    "kubeconfig": host_vars.get("kubesphere_kubeconfig"),
                    "context": host_vars.get("kubesphere_context")})
    return out


class FilterModule(object):
    def filters(self):
        return {"member_connections": member_connections}
