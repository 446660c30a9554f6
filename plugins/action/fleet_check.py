# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin behind kubesphere.multicluster.fleet_check: it runs on the controller because it reads
the inventory itself (groups and every cluster host's variables) and the kubeconfig files named there."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet import model as fleet
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import fleet as fleet_checks
from ansible_collections.kubesphere.multicluster.plugins.plugin_utils import inventory_fleet

ARGUMENT_SPEC = {
    "check_kubeconfigs": {"type": "bool", "default": True},
    "fail_on_problems": {"type": "bool", "default": True},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        clusters, groups = inventory_fleet.clusters_of(task_vars)
        problems = fleet_checks.check(clusters, groups, read_kubeconfigs=args["check_kubeconfigs"])
        host = [c["name"] for c in clusters if c["role"] == "host"]
        result.update(changed=False, problems=problems, clusters=[fleet.public_view(c) for c in clusters],
                      host=host[0] if len(host) == 1 else None)
        if problems:
            result["msg"] = fleet_checks.format_fleet_problems(problems)
            result["failed"] = bool(args["fail_on_problems"])
        else:
            result["msg"] = "the fleet has a host (%s) and %d member%s; no problem found" % (
                host[0], len(clusters) - 1, "" if len(clusters) == 2 else "s")
        return result
