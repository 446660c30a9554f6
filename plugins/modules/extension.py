#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: extension
short_description: Install, upgrade, report or uninstall a KubeSphere 4.1 extension (its InstallPlan)
version_added: 0.2.0
description:
  - Runs against the KubeSphere 4.1 host. An extension (kubefed's "Multi-Cluster Projects", tower's "Multi-Cluster
    Agent Connection", or any other) is installed by KubeSphere when its C(InstallPlan) exists. The InstallPlan is
    named as the extension and names the version to install and its config (Helm values). KubeSphere's controller
    then runs C(helm upgrade --install) in a helm-executor Job in the extension's namespace.
  - O(state=present) creates the InstallPlan, or changes its version and config where they differ (an upgrade), and
    with O(wait) waits until KubeSphere installed exactly that version and config. A failed install or upgrade fails
    the task at once with Helm's or the Job's reason.
  - Refused before any write (codes in RV(problems)) when the cluster is not a 4.1 host (C(not_supported_on_version),
    C(not_a_host), C(extensions_not_served)), when the host offers no ExtensionVersion C(<name>-<version>)
    (C(extension_version_not_found), naming the versions it offers), when O(config) is not a YAML mapping
    (C(config_invalid)), while the InstallPlan is being deleted (C(extension_uninstalling)), and when the last install
    or upgrade of exactly this version and config failed (C(extension_failed), with its reason). KubeSphere tries a
    failed install again only when the version or the config changes; a comment line added to O(config) is enough.
    It also waits for such a change after a failed upgrade when the version asked for again is the one deployed.
    An upgrade that fails before Helm records it (a chart that does not render) is retried by KubeSphere by itself
    while the InstallPlan asks for that version; the task fails on the first failure after its write either way
    (code C(extension_install_failed), naming the helm-executor Job whose pod log says why).
  - O(state=absent) deletes the InstallPlan (KubeSphere runs C(helm uninstall) in a Job and removes the InstallPlan
    once the release is gone). It needs O(confirm) equal to the name. An uninstall that fails leaves the InstallPlan
    in state C(UninstallFailed); the task says how to get past it.
  - KubeSphere 3.4 has no extensions (kubefed and tower are built in) and is refused.
author:
  - kubesphere.multicluster contributors (@kubesphere)
options:
  name:
    description: The extension's name (its InstallPlan's name, as KubeSphere requires).
    type: str
    required: true
  version:
    description:
      - The version to install (an ExtensionVersion C(<name>-<version>) must exist on the host, from a repository or
        added by hand). Required with O(state=present).
    type: str
  config:
    description:
      - The extension's config, Helm values as YAML text (C(spec.config)); empty for the chart's defaults.
      - Trailing white space is trimmed from each line, as KubeSphere's webhook does. It may hold secrets, so it is never
        printed; results and diffs show its fingerprint.
    type: str
    default: ""
  state:
    description: C(present) installs or upgrades the extension, C(absent) uninstalls it.
    type: str
    choices: [present, absent]
    default: present
  confirm:
    description: With O(state=absent), the extension's name typed again.
    type: str
  cluster_name:
    description: The host's name in messages.
    type: str
    default: host
  timeout:
    description: Seconds for each request to the API server.
    type: float
  wait:
    description:
      - Wait until KubeSphere installed the version with this config (O(state=present)), or uninstalled the extension
        and removed its InstallPlan (O(state=absent)).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait with O(wait). Helm itself gives up after 10 minutes.
    type: int
    default: 900
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - kubesphere.multicluster.wait_slice
  - kubesphere.multicluster.attributes
requirements:
  - kubernetes >= 24.2.0
notes:
  - >-
    The wait that prints progress: KubeSphere installed the version with this config (the InstallPlan's state, the
    version it attempts and its helm-executor Job), or the uninstall removed the InstallPlan.
"""

EXAMPLES = r"""
# A task of a play over the fleet, on the host's inventory host (inventories/example's layout); a KubeSphere 4.1
# fleet.
- name: The Multi-Cluster Projects extension (kubefed), version 1.0.0
  kubesphere.multicluster.extension:
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    cluster_name: "{{ kubesphere_cluster_name }}"
    name: kubefed
    version: 1.0.0
  when: inventory_hostname in groups['kubesphere_host']

- name: An extension with values (the values may hold secrets; they are never printed)
  kubesphere.multicluster.extension:
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    cluster_name: "{{ kubesphere_cluster_name }}"
    name: tower
    version: 1.0.0
    config: "{{ {'tower': {'service': {'type': 'NodePort'}}} | to_nice_yaml }}"
  when: inventory_hostname in groups['kubesphere_host']

- name: Uninstall it
  kubesphere.multicluster.extension:
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    cluster_name: "{{ kubesphere_cluster_name }}"
    name: tower
    state: absent
    confirm: tower
  when: inventory_hostname in groups['kubesphere_host']
"""

RETURN = r"""
extension:
  description:
    - The extension as KubeSphere reports it after the run, C({version, state, installed, failed, installed_version,
      target_namespace, release_name, job_name, failure, fix, state_history}) (empty once uninstalled). C(state) is the
      InstallPlan's (C(Installed), C(InstallFailed), C(UpgradeFailed), C(Installing), ...); C(failure) the reason of a
      failed state; C(fix) what removes the cause of a known wedge (kubefed's KubeFedConfig without feature gates,
      which its webhook then refuses in every upgrade; the fix is the chart hook's patch of the gates), else null;
      C(state_history) its transitions C({state, time}).
  returned: always
  type: dict
installplan:
  description:
    - The InstallPlan as the module manages it, C({metadata {name}, spec {extension {name, version}, enabled, config}}),
      its config as a fingerprint (empty once uninstalled).
  returned: always
  type: dict
plan:
  description:
    - The steps of the run, in order (also in check mode, where the write is a server-side dry run and the wait is
      not awaited), each C({id, kind, side, cluster, object, why, verb}). A converged extension plans nothing.
  returned: always
  type: list
  elements: dict
problems:
  description: The checks' problems ({code, cluster, message}) when the task fails on them.
  returned: failed
  type: list
  elements: dict
"""

from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import KubeSphereModule, auth_argspec
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import extension
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.slicing import wait_argspec


def main():
    spec = dict(
        name=dict(type="str", required=True),
        version=dict(type="str"),
        config=dict(type="str", default="", no_log=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        confirm=dict(type="str"),
        cluster_name=dict(type="str", default="host"),
        timeout=dict(type="float"),
    )
    spec.update(wait_argspec(True, 900))
    spec.update(auth_argspec())
    module = KubeSphereModule(argument_spec=spec, supports_check_mode=True,
                              required_if=[("state", "present", ("version",))])
    module.run_operation(extension.run)


if __name__ == "__main__":
    main()
