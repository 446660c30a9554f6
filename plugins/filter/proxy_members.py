# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: proxy_members
short_description: The inventory hosts among the given ones that are imported by proxy
version_added: 0.2.0
description:
  - The names of the inventory hosts whose connection type is C(proxy), read as the C(join) role reads it
    (C(kubesphere_join_connection_type), else C(kubesphere_connection_type), else C(direct)), in the order given.
  - For the C(join) role's C(tower_extension) entry point, which installs KubeSphere 4.1's tower extension only when
    a member to import needs it.
options:
  _input:
    description: Inventory host names.
    type: list
    elements: str
    required: true
  hostvars:
    description: C(hostvars).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Members that connect by proxy
  ansible.builtin.debug:
    msg: "{{ groups['kubesphere_members'] | kubesphere.multicluster.proxy_members(hostvars) }}"
"""

RETURN = r"""
_value:
  description: The inventory host names imported by proxy.
  type: list
  elements: str
"""


def proxy_members(hosts, hostvars):
    out = []
    for name in hosts or []:
        host_vars = hostvars.get(name) or {}
        kind = host_vars.get("kubesphere_join_connection_type") or host_vars.get("kubesphere_connection_type") or "direct"
        if kind == "proxy":
            out.append(name)
    return out


class FilterModule(object):
    def filters(self):
        return {"proxy_members": proxy_members}
