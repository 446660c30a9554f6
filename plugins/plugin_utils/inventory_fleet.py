# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster: the fleet the inventory describes, read by an action plugin on the
controller (fleet_check, fleet_doctor)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet import model as fleet


def clusters_of(task_vars):
    """(clusters as fleet.model describes them, the inventory's groups). Only the kubesphere_* variables of the
    hosts of kubesphere_host and kubesphere_members are read; hostvars renders each with that host's own
    variables (so "{{ inventory_dir }}/..." is the folder of the inventory that defines the host)."""
    groups = task_vars.get("groups") or {}
    names = set(groups.get(fleet.HOST_GROUP) or []) | set(groups.get(fleet.MEMBERS_GROUP) or [])
    hostvars = task_vars["hostvars"]
    settings = {n: {fleet.VAR_PREFIX + key: hostvars[n].get(fleet.VAR_PREFIX + key) for key in fleet.CLUSTER_KEYS}
                for n in sorted(names)}
    return fleet.from_inventory(settings, groups), groups
