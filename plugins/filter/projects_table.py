# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: projects_table
short_description: Multi-cluster projects per member as one text table, from federation_info results
version_added: 0.2.0
description:
  - One line per member - how many multi-cluster projects are placed on it, those whose namespace is in sync,
    and those that are not (with their state and fields) - then a note for each member that could not be read.
  - Used by the C(status) role (C(playbooks/status.yml)), from kubesphere.multicluster.federation_info with
    C(list_projects=true).
options:
  _input:
    description: Inventory host names of the members.
    type: list
    elements: str
    required: true
  hostvars:
    description: C(hostvars); each member's registered federation_info result is read from it.
    type: raw
    required: true
  result_var:
    description: Name of the variable each member registered the federation_info result in.
    type: str
    default: status_projects_info
"""

EXAMPLES = r"""
# Tasks of a play over the fleet (hosts: kubesphere_clusters, gather_facts: false), with the inventory layout
# of inventories/example: each cluster's inventory host sets kubesphere_cluster_name, kubesphere_kubeconfig and
# kubesphere_context; the host cluster is groups['kubesphere_host'][0].
# status_projects_info: each member's federation_info result with list_projects=true (federation_info's
# example registers it).

- name: Print the projects per member
  run_once: true
  ansible.builtin.debug:
    msg: "{{ groups['kubesphere_members'] | kubesphere.multicluster.projects_table(hostvars, 'status_projects_info') }}"
"""

RETURN = r"""
_value:
  description: The table, one line per member, then the notes.
  type: str
"""

from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet.report import projects_table


def _projects_table(hosts, hostvars, result_var="status_projects_info"):
    rows = []
    for name in sorted(hosts):
        variables = hostvars.get(name) or {}
        result = variables.get(result_var)
        rows.append((variables.get("kubesphere_cluster_name") or name, result if isinstance(result, dict) else None))
    return projects_table(rows)


class FilterModule(object):
    def filters(self):
        return {"projects_table": _projects_table}
