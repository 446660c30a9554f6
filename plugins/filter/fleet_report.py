# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_report
short_description: The fleet report (standalone HTML page or JSON) from each cluster's cluster_info result
version_added: 0.1.0
description:
  - Renders the fleet as a standalone HTML page - an inline SVG topology (the host in the middle, the members
    around it, the edge's dash saying the connection mode, Ready as KubeSphere and as kubefed see it, clock
    skew against the host, the projects placed on each member) and the fleet table - with no scripts or
    external assets; or as machine-readable JSON (the same model), or as the model itself.
  - Tolerant of missing facts (shown as unknown). The logic is C(module_utils.fleet_report), unit-tested on its own.
  - Used by the C(status) role (C(playbooks/status.yml)), which writes it to C(kubesphere_report_dir).
options:
  _input:
    description: Inventory host names of the clusters (e.g. C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  hostvars:
    description: C(hostvars); each host's registered cluster_info result is read from it, and its
      C(kubesphere_cluster_name) and C(kubesphere_connection_type).
    type: raw
    required: true
  host:
    description: Inventory name of the host cluster (e.g. C(groups['kubesphere_host'][0])).
    type: str
  result_var:
    description: Name of the variable each host registered the cluster_info result in.
    type: str
    default: status_cluster_info
  format:
    description: C(html), C(json), or C(data) (the model as a dict).
    type: str
    default: html
    choices: [html, json, data]
  generated:
    description: A time stamp to print in the report (e.g. C(now(utc=true\).isoformat(\))).
    type: str
  projects_var:
    description:
      - Name of the variable each member registered its C(federation_info) result in (with C(list_projects=true)).
      - The multi-cluster projects placed on a member are read from it and shown under that member. A member
        without that variable, or whose read failed, shows no projects.
    type: str
    default: status_projects_info
"""

EXAMPLES = r"""
# Tasks of a play over the fleet (hosts: kubesphere_clusters, gather_facts: false), with the inventory layout
# of inventories/example: each cluster's inventory host sets kubesphere_cluster_name, kubesphere_kubeconfig and
# kubesphere_context; the host cluster is groups['kubesphere_host'][0].
# ks_info: each cluster's cluster_info result (cluster_info's example registers it); status_projects_info:
# each member's federation_info result with list_projects=true (federation_info's example registers it), read
# for the projects placed on each member. report_dir: an existing folder on the controller.

- name: Write the fleet report
  run_once: true
  delegate_to: localhost
  ansible.builtin.copy:
    dest: "{{ report_dir }}/index.html"
    content: "{{ ansible_play_hosts_all | kubesphere.multicluster.fleet_report(hostvars, groups['kubesphere_host'][0], 'ks_info') }}"
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The HTML page, the JSON text, or the model (C(format=data)).
  type: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet import report_page as renderer
from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet.report import facts_of


def _placed_projects(result):
    """The names of the projects in a federation_info result (list_projects=true), or None when not read."""
    if not isinstance(result, dict) or result.get("failed") or not isinstance(result.get("projects"), list):
        return None
    return [p.get("name") if isinstance(p, dict) else p for p in result["projects"]]


def _fleet_report(hosts, hostvars, host=None, result_var="status_cluster_info", format="html", generated=None,
                  projects_var="status_projects_info"):
    if format not in ("html", "json", "data"):
        raise AnsibleFilterError("fleet_report: format must be html, json or data, not %r" % (format,))
    all_facts, connection_types = [], {}
    host_name = None
    for inventory_name in hosts or []:
        hv = hostvars.get(inventory_name) or {}
        name = hv.get("kubesphere_cluster_name") or inventory_name
        result = hv.get(result_var) or {}
        facts = facts_of(result)
        if not isinstance(facts, dict):
            facts = {"name": name, "reachable": False, "reason_code": "no_result",
                     "reason": (result.get("msg") if isinstance(result, dict) else None)
                     or "cluster_info returned no result (the task failed or was skipped)"}
        placed = _placed_projects(hv.get(projects_var)) if projects_var else None
        if placed is not None:
            facts = dict(facts, projects=_merged(facts.get("projects"), placed))
        all_facts.append(facts)
        if hv.get("kubesphere_connection_type"):
            connection_types[facts.get("name") or name] = hv.get("kubesphere_connection_type")
        if inventory_name == host:
            host_name = facts.get("name") or name
    model = renderer.report(all_facts, host_name, connection_types, generated)
    if format == "data":
        return model
    return renderer.to_json(model) if format == "json" else renderer.to_html(model)


def _merged(known, placed):
    out = list(known) if isinstance(known, list) else []
    return out + [p for p in placed if p and p not in out]


class FilterModule(object):
    def filters(self):
        return {"fleet_report": _fleet_report}
