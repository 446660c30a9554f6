# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: rollout_plan
short_description: The members of the fleet in rollout waves, as a play's hosts pattern and serial batches
version_added: 0.1.0
description:
  - Members are put into waves by inventory groups C(wave_<name>). The plan lists the waves in order (the given
    order, else the wave names sorted), then the members in no wave.
  - A play with C(hosts) set to the plan's C(pattern), C(serial) to its C(serial) and C(max_fail_percentage=0)
    changes one wave at a time and stops before the next wave when a member of the current one fails.
  - The logic is C(rollout.plan), unit-tested on its own.
options:
  _input:
    description: Ansible's C(groups).
    type: dict
    required: true
  waves:
    description: Wave names in rollout order, without the C(wave_) prefix. Default, every wave group sorted by name.
    type: list
    elements: str
  members_group:
    description: The group of member clusters.
    type: str
    default: kubesphere_members
"""

EXAMPLES = r"""
- name: Members, wave by wave
  hosts: "{{ (groups | kubesphere.multicluster.rollout_plan).pattern }}"
  serial: "{{ (groups | kubesphere.multicluster.rollout_plan).serial }}"
  max_fail_percentage: 0
  gather_facts: false
  roles:
    - role: kubesphere.multicluster.member
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    pattern:
      description: Host pattern listing the waves in order, then the other members (e.g. C(wave_canary:wave_rest:kubesphere_members:&kubesphere_members)).
      type: str
    serial:
      description: Batch sizes, one per wave (the members in no wave form the last batch).
      type: list
      elements: int
    waves:
      description: Each batch, C({name, hosts}); C(name) is null for the members in no wave.
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet.rollout import RolloutError, plan


def rollout_plan(groups, waves=None, members_group="kubesphere_members"):
    try:
        return plan(groups, waves, members_group)
    except RolloutError as e:
        raise AnsibleFilterError(str(e))


class FilterModule(object):
    def filters(self):
        return {"rollout_plan": rollout_plan}
