# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin behind kubesphere.multicluster.fleet_doctor: it runs on the controller because it reads the
inventory (groups, each cluster host's variables) and the facts every cluster read of itself (a registered
cluster_info result per host); it talks to no cluster."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import doctor
from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet.report import facts_of
from ansible_collections.kubesphere.multicluster.plugins.plugin_utils import inventory_fleet

ARGUMENT_SPEC = {
    "result_var": {"type": "str", "default": "doctor_cluster_info"},
    "cert_expiry_days": {"type": "float", "default": 30},
    "fail_on_errors": {"type": "bool", "default": True},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        clusters = inventory_fleet.clusters_of(task_vars)[0]
        hostvars = task_vars["hostvars"]
        # the doctor speaks of clusters by their KubeSphere names (what the host's Cluster objects are called)
        facts = {c["cluster_name"]: facts_of(hostvars[c["name"]].get(args["result_var"])) for c in clusters}
        described = [dict(c, name=c["cluster_name"]) for c in clusters]
        findings = doctor.diagnose(facts, described, {"cert_expiry_days": args["cert_expiry_days"]})
        n = doctor.counts(findings)
        result.update(changed=False, findings=findings, counts=n, msg=doctor.text(findings))
        if n["error"] and args["fail_on_errors"]:
            result["failed"] = True
        return result
