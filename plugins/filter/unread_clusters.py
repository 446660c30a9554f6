# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: unread_clusters
short_description: The inventory hosts of clusters that no task of this run has read yet
version_added: 0.2.0
description:
  - The names in the input whose host has no registered reading (by default C(preflight_cluster_info), the
    preflight's M(kubesphere.multicluster.cluster_info) result), in the input's order.
  - The playbooks that can run alone (C(host_config.yml), C(member_config.yml), C(join.yml)) start with a play over
    these hosts that reads them. Inside C(site.yml) the preflight has read every cluster, so that play matches no
    host and costs nothing per cluster.
options:
  result_var:
    description: The variable a host registers its reading in.
    type: str
    default: preflight_cluster_info
  fact:
    description:
      - Also the hosts whose reading lacks this fact (its C(cluster.<fact>) is null), e.g. C(api_versions), which the
        preflight reads only when the host describes projects.
    type: str
extends_documentation_fragment:
  - kubesphere.multicluster.host_readings
"""

EXAMPLES = r"""
# hostvars is undefined while a run's first play is set up: nothing is read yet, so every cluster
- name: Read every cluster (unless the preflight did in this run)
  hosts: "{{ groups['kubesphere_clusters'] | default([]) | kubesphere.multicluster.unread_clusters(hostvars | default({})) }}"
  gather_facts: false
  tasks:
    - name: Read the cluster
      ansible.builtin.include_role:
        name: kubesphere.multicluster.preflight
        tasks_from: read
"""

RETURN = r"""
_value:
  description: The host names without that variable.
  type: list
  elements: str
"""


def _read(host_vars, result_var, fact):
    result = host_vars.get(result_var)
    if result is None:
        return False
    return fact is None or ((result or {}).get("cluster") or {}).get(fact) is not None


def unread_clusters(hosts, hostvars, result_var="preflight_cluster_info", fact=None):
    return [name for name in hosts or [] if not _read(hostvars.get(name) or {}, result_var, fact)]


class FilterModule(object):
    def filters(self):
        return {"unread_clusters": unread_clusters}
