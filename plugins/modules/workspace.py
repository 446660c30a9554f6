#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: workspace
short_description: A KubeSphere workspace across clusters (WorkspaceTemplate), with its manager
version_added: 0.2.0
description:
  - Runs against the KubeSphere host. A workspace is KubeSphere's C(WorkspaceTemplate) on the host, with its
    manager, its labels, its alias and description, and the clusters it spans (its placement, exactly O(clusters)).
  - KubeSphere's workspacetemplate controller makes the C(FederatedWorkspace) of it and kubefed creates the
    C(Workspace) on each placed member; the module never writes those (KubeSphere overwrites a direct edit).
  - Refuses, before any write, clusters that are not Ready members of this host (judged by the KubeFedCluster), a
    manager that is no KubeSphere user on the host, and removing a cluster on which projects of the workspace are
    placed (remove the cluster from the projects first).
  - O(state=absent) deletes the WorkspaceTemplate (KubeSphere's finalizer removes the FederatedWorkspace and kubefed
    the members' Workspaces). It needs O(confirm) equal to the name, and is refused while projects of the workspace
    exist (their namespaces would go with it).
  - KubeSphere 3.4 (kubefed built in). Multi-cluster projects name their workspace (M(kubesphere.multicluster.federated_project));
    create the workspace first.
author:
  - kubesphere.multicluster contributors (@kubesphere)
options:
  name:
    description: The workspace name (an RFC 1123 label of at most 63 characters).
    type: str
    required: true
  clusters:
    description: KubeSphere names of the clusters the workspace spans (the placement, exactly these).
    type: list
    elements: str
    default: []
  manager:
    description:
      - The workspace's manager, a KubeSphere user on the host (C(spec.template.spec.manager)). Omitted, the
        manager is left as it is.
    type: str
  alias_name:
    description: Annotation C(kubesphere.io/alias-name).
    type: str
  description:
    description: Annotation C(kubesphere.io/description).
    type: str
  labels:
    description:
      - Labels of the workspace (C(spec.template.metadata.labels)); labels not named here are kept.
      - KubeSphere 3.4 cannot keep them. Its C(WorkspaceTemplate) schema declares C(spec.template.metadata) with no
        fields, so the API server drops the labels on every write. On 3.4, labels are refused before any write
        (code C(workspace_labels_dropped)).
    type: dict
    default: {}
  state:
    description: C(present) creates or updates the workspace, C(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  confirm:
    description: With O(state=absent), the workspace's name typed again.
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
      - Wait until KubeSphere made the FederatedWorkspace with the workspace's placement and kubefed propagated it
        to every cluster of O(clusters).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait with O(wait).
    type: int
    default: 120
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - kubesphere.multicluster.wait_slice
  - kubesphere.multicluster.attributes
requirements:
  - kubernetes >= 24.2.0
notes:
  - >-
    The wait that prints progress: KubeSphere made the FederatedWorkspace with the workspace's placement and kubefed
    propagated it to every cluster.
  - >-
    On a KubeSphere 4.1 host workspaces are not federated: KubeSphere's ks-controller-manager writes the Workspace on
    each placed Ready member itself and records nothing of it on the host but its finalizer
    C(kubesphere.io/cascading-deletion), so the wait ends when the controller has taken the WorkspaceTemplate, and
    there is no RV(propagation). The WorkspaceTemplate is written in C(tenant.kubesphere.io/v1beta1) there, whose
    schema keeps O(labels) (KubeSphere copies them to each member's Workspace; 3.4's v1alpha2 prunes them, so they
    are refused on 3.4). Multi-cluster projects need the kubefed extension on 4.1 (refused with C(extension_missing)
    before any write while it is not installed).
"""

EXAMPLES = r"""
# A task of a play over the fleet, on the host's inventory host (inventories/example's layout).
- name: The workspace retail on two members, managed by the user admin
  kubesphere.multicluster.workspace:
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    cluster_name: "{{ kubesphere_cluster_name }}"
    name: retail
    clusters: [member1, member2]
    manager: admin
    alias_name: Retail
  when: inventory_hostname in groups['kubesphere_host']

- name: Delete it (refused while projects of the workspace exist)
  kubesphere.multicluster.workspace:
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    cluster_name: "{{ kubesphere_cluster_name }}"
    name: retail
    state: absent
    confirm: retail
  when: inventory_hostname in groups['kubesphere_host']
"""

RETURN = r"""
workspace:
  description:
    - The workspace as the module manages it, C({metadata {name, annotations}, spec {manager, labels, clusters}})
      (after the run; empty after a deletion).
  returned: always
  type: dict
clusters:
  description: The clusters the workspace spans.
  returned: state=present
  type: list
  elements: str
result:
  description: KubeSphere's FederatedWorkspace (KubeSphere 4.1, the WorkspaceTemplate) after O(wait), normalized.
  returned: with wait
  type: dict
propagation:
  description: kubefed's propagation status of the FederatedWorkspace after O(wait).
  returned: with wait, KubeSphere 3.4
  type: dict
plan:
  description:
    - The steps of the run, in order (also in check mode, where the write is a server-side dry run and the wait is
      not awaited), each C({id, kind, side, cluster, object, why, verb}). A converged workspace plans nothing.
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
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import workspace
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.slicing import wait_argspec


def main():
    spec = dict(
        name=dict(type="str", required=True),
        clusters=dict(type="list", elements="str", default=[]),
        manager=dict(type="str"),
        alias_name=dict(type="str"),
        description=dict(type="str"),
        labels=dict(type="dict", default={}),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        confirm=dict(type="str"),
        cluster_name=dict(type="str", default="host"),
        timeout=dict(type="float"),
    )
    spec.update(wait_argspec(False, 120))
    spec.update(auth_argspec())
    module = KubeSphereModule(argument_spec=spec, supports_check_mode=True)
    module.run_operation(workspace.run)


if __name__ == "__main__":
    main()
