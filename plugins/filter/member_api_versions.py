# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: member_api_versions
short_description: What each member serves, by cluster name, from this run's readings of the members
version_added: 0.2.0
description:
  - For the checks of multi-cluster projects (the C(federated_project) role's C(federated_project_member_api_versions),
    M(kubesphere.multicluster.federated_resource)'s O(kubesphere.multicluster.federated_resource#module:member_api_versions)) -
    each member's served group/versions under its cluster name.
  - Taken from the member's M(kubesphere.multicluster.federation_info) result when one was registered, else from its
    preflight reading (M(kubesphere.multicluster.cluster_info) with O(kubesphere.multicluster.cluster_info#module:api_versions=true)).
    Members with neither are left out.
options:
  info_var:
    description: The variable a member registered its federation_info result in.
    type: str
    default: federate_member_info
  read_var:
    description: The variable a member registered its preflight reading in.
    type: str
    default: preflight_cluster_info
extends_documentation_fragment:
  - kubesphere.multicluster.host_readings
"""

EXAMPLES = r"""
- name: Projects and federated resources on the host
  hosts: kubesphere_host
  gather_facts: false
  vars:
    federated_project_member_api_versions: >-
      {{ groups['kubesphere_members'] | default([]) | kubesphere.multicluster.member_api_versions(hostvars) }}
  roles:
    - role: kubesphere.multicluster.federated_project
"""

RETURN = r"""
_value:
  description: C({cluster name - [group/version, ...]}).
  type: dict
"""


def _served(host_vars, info_var, read_var):
    info = host_vars.get(info_var) or {}
    if info.get("api_versions") is not None and info.get("cluster"):
        return info["cluster"], info["api_versions"]
    cluster = (host_vars.get(read_var) or {}).get("cluster") or {}
    if cluster.get("api_versions") is not None and cluster.get("name"):
        return cluster["name"], cluster["api_versions"]
    return None


def member_api_versions(hosts, hostvars, info_var="federate_member_info", read_var="preflight_cluster_info"):
    out = {}
    for name in hosts or []:
        found = _served(hostvars.get(name) or {}, info_var, read_var)
        if found:
            out[found[0]] = list(found[1])
    return out


class FilterModule(object):
    def filters(self):
        return {"member_api_versions": member_api_versions}
