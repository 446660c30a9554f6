#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: fleet_doctor
short_description: Diagnose a running KubeSphere fleet from what each cluster read of itself
version_added: 0.2.0
description:
  - Reports, per cluster, what is wrong with a running fleet, each finding with a stable C(code), the cluster, a
    C(level) (C(error) or C(warning)), a message and a C(fix). Read-only; talks to no cluster (action plugin).
  - Its input is the inventory (groups C(kubesphere_host) and C(kubesphere_members), each cluster host's
    C(kubesphere_*) variables) and the M(kubesphere.multicluster.cluster_info) result each cluster host
    registered under O(result_var) in an earlier task (the C(doctor) role reads them).
  - Errors - a cluster that cannot be read (C(unreachable)); a KubeSphere version this collection does not
    manage (C(unsupported_version)) or a fleet that mixes versions (C(mixed_versions)); a cluster whose role
    differs from its inventory group (C(role_differs)); a member whose jwtSecret differs from the host's
    (C(jwt_secret_differs), although KubeSphere still calls it Ready); a member the host does not see healthy, from
    kubefed's view too (C(member_unhealthy)); a stored client certificate that has expired
    (C(certificate_expired)); clocks further apart than KubeSphere's maximumClockSkew (C(clock_skew)); a proxy
    member whose cluster-agent dials another address than the one the host publishes tower at now
    (C(stale_proxy_address)); on a KubeSphere 4.1 host, an extension whose last install, upgrade or uninstall
    failed (C(extension_failed), with KubeSphere's reason and its helm-executor Job).
  - Warnings - KubeSphere not installed (C(not_installed)); an inventory member without a Cluster on the host
    (C(not_imported)) and a Cluster the inventory does not list (C(not_in_inventory)); a group label or provider
    that differs from the inventory (C(group_differs), C(provider_differs); the fix says how to remove a
    label); a stored client certificate that expires within O(cert_expiry_days) (C(certificate_expiring));
    components enabled on the host but not on a member (C(components_missing)); clocks that may be too far
    apart (C(clock_skew_possible)); namespaces and workspaces made on a member itself, which kubefed does not
    manage and the host never shows (C(made_on_member); from M(kubesphere.multicluster.cluster_info)'s
    O(kubesphere.multicluster.cluster_info#module:local_objects)).
author:
  - kubesphere.multicluster contributors (@kubesphere)
options:
  result_var:
    description: The variable each cluster host registered its M(kubesphere.multicluster.cluster_info) result in.
    type: str
    default: doctor_cluster_info
  cert_expiry_days:
    description: Warn about a stored client certificate that expires within this many days.
    type: float
    default: 30
  fail_on_errors:
    description: Fail the task when there is an error-level finding (the findings are returned either way).
    type: bool
    default: true
extends_documentation_fragment:
  - kubesphere.multicluster.attributes.info
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details: The whole diagnosis runs on the controller from registered facts; nothing runs on a target.
"""

EXAMPLES = r"""
# In a play over kubesphere_clusters (gather_facts: false), after each cluster read itself:
- name: Read the cluster
  kubesphere.multicluster.cluster_info:
    cluster_name: "{{ kubesphere_cluster_name | default(inventory_hostname) }}"
    kubeconfig: "{{ kubesphere_kubeconfig | default(omit) }}"
    context: "{{ kubesphere_context | default(omit) }}"
  register: doctor_cluster_info

- name: Diagnose the fleet
  kubesphere.multicluster.fleet_doctor:
    cert_expiry_days: 45
  run_once: true
  register: doctor
"""

RETURN = r"""
msg:
  description: The findings as text, one a line with its level, code, message and fix; or "the doctor found nothing wrong".
  returned: always
  type: str
findings:
  description: Every finding, errors first, each with C(code), C(cluster), C(level), C(message) and C(fix).
  returned: always
  type: list
  elements: dict
  sample: [{code: jwt_secret_differs, cluster: member1, level: error,
            message: "cluster 'member1': its jwtSecret differs from host 'host''s (...)",
            fix: "run site.yml (member_config copies the host's jwtSecret to the member)"}]
counts:
  description: How many findings of each level.
  returned: always
  type: dict
  sample: {error: 1, warning: 2}
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(result_var=dict(type="str", default="doctor_cluster_info"),
                                              cert_expiry_days=dict(type="float", default=30),
                                              fail_on_errors=dict(type="bool", default=True)),
                           supports_check_mode=True)
    module.fail_json(msg="kubesphere.multicluster.fleet_doctor runs on the controller through its action plugin; "
                         "it cannot run as a module on a target")


if __name__ == "__main__":
    main()
