# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The clock_skew module: the gate of checks/clock.py over the clusters'
clock readings (made by cluster_info) and a node's chrony tracking; refuses on a problem. It writes nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import clock as gate
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import Refused


def run(module):
    p = module.params
    try:
        tracking = gate.parse_tracking(p["tracking"]) if p["tracking"] is not None else None
    except ValueError as e:
        raise Refused([problem("tracking_invalid", None, "node '%s': %s" % (p["node"], e))],
                      "the clock gate")
    verdict = gate.gate(p["clusters"], p["node"], tracking, p["threshold"])
    result = {"changed": False}
    for w in verdict["warnings"]:
        module.warn(w)
    if verdict["report"]:
        result.update(max_skew=verdict["report"]["max_skew"], max_skew_pair=verdict["report"]["max_skew_pair"])
    if tracking is not None:
        result["node_offset"] = tracking["offset"]
    if verdict["problems"]:
        raise Refused(verdict["problems"], "the clock gate", **result)
    result["problems"] = []
    return result
