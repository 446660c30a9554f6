#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: federated_project
short_description: A KubeSphere multi-cluster project (host Namespace + FederatedNamespace) and its clusters
version_added: 0.2.0
description:
  - Runs against the KubeSphere host. Creates what the console creates for a multi-cluster project, the host
    Namespace labelled C(kubesphere.io/workspace), C(kubesphere.io/kubefed-host-namespace) and
    C(kubefed.io/managed=false), and the FederatedNamespace (same name, in that namespace) with O(clusters) as
    its placement and the project's annotations mirrored per cluster as overrides.
  - Adding or removing a cluster updates the placement; kubefed then creates or removes the member namespace.
  - Refuses clusters that are not Ready members of this host, judged by the KubeFedCluster (Ready, not
    Offline), not only by the Cluster's Ready condition. Every check runs before the first write.
  - The FederatedNamespace is owned whole (server-side apply); an override removed from the inventory
    disappears. Comparisons sort what kubefed reorders, so a second run reports no change.
  - O(workspace_placement=true) also adds the project's clusters to the WorkspaceTemplate's placement
    (KubeSphere's controller owns the FederatedWorkspace; it is never written directly). Without it, when the
    WorkspaceTemplate exists, clusters outside its placement are refused (code C(cluster_not_in_workspace)), and
    when it does not exist the module warns (manage workspaces with M(kubesphere.multicluster.workspace)).
  - O(state=absent) deletes the host Namespace as the console does; the FederatedNamespace and every federated
    object in it go with it and kubefed removes their member copies (except objects annotated
    C(kubefed.io/orphan=true)). It needs O(confirm) equal to the project's name, and returns per member what
    goes (in check mode too).
author:
  - kubesphere.multicluster contributors (@kubesphere)
options:
  name:
    description: The project (namespace) name.
    type: str
    required: true
  workspace:
    description: The workspace (label C(kubesphere.io/workspace)).
    type: str
    required: true
  clusters:
    description: KubeSphere names of the clusters the project is placed on.
    type: list
    elements: str
    default: []
  alias_name:
    description: Annotation C(kubesphere.io/alias-name), mirrored to every member.
    type: str
  description:
    description: Annotation C(kubesphere.io/description), mirrored to every member.
    type: str
  labels:
    description: More labels on the host namespace and on the namespace template.
    type: dict
    default: {}
  overrides:
    description:
      - Raw kubefed overrides per cluster (a cluster name mapped to a list of op, path, value entries), checked
        against kubefed's rules (forbidden paths, one override per path, the patch must apply) before anything is
        written.
    type: dict
    default: {}
  workspace_placement:
    description: Add the project's clusters to the workspace's WorkspaceTemplate placement (created if absent).
    type: bool
    default: false
  workspace_clusters:
    description:
      - The clusters the project's workspace spans as this run leaves them, when the same run also writes the
        workspace (the federated_project role sets it from C(kubesphere_workspaces), so that its check pass before
        the first write judges the project against the workspace the run makes). Given, it is used instead of the
        WorkspaceTemplate's placement for the check that every cluster of the project is one of its workspace's.
    type: list
    elements: str
  confirm:
    description: With O(state=absent), the project's name typed again.
    type: str
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - kubesphere.multicluster.wait_slice
  - kubesphere.multicluster.federation
  - kubesphere.multicluster.attributes
requirements:
  - kubernetes >= 24.2.0
notes:
  - >-
    The waits that print progress: kubefed propagated the project to the placement.
  - >-
    On a KubeSphere 4.1 host kubefed is the extension C(kubefed) ("KubeSphere Multi-Cluster Projects": kubefed v0.8.1,
    the same federated types, and a backend that joins every Cluster into kubefed); while its InstallPlan is not
    Installed the project is refused before any write (C(extension_missing)); C(playbooks/federate.yml) installs it
    when projects are described (C(kubesphere_projects_install_kubefed)).
"""

EXAMPLES = r"""
# Tasks of a play over the fleet (hosts: kubesphere_clusters, gather_facts: false), with the inventory layout
# of inventories/example: each cluster's inventory host sets kubesphere_cluster_name, kubesphere_kubeconfig and
# kubesphere_context (and members kubesphere_connection_type); the host cluster is groups['kubesphere_host'][0].
# The members are member1 and member2; the tasks run on the host's inventory host.

- name: A project on two members, waiting until kubefed created its namespace on both
  kubesphere.multicluster.federated_project:
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    cluster_name: "{{ kubesphere_cluster_name }}"
    name: shop
    workspace: retail
    clusters: [member1, member2]
    alias_name: Shop
    wait: true
  when: inventory_hostname in groups['kubesphere_host']

- name: Delete it (members lose the namespace and everything in it)
  kubesphere.multicluster.federated_project:
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    cluster_name: "{{ kubesphere_cluster_name }}"
    name: shop
    workspace: retail
    state: absent
    confirm: shop
  when: inventory_hostname in groups['kubesphere_host']
"""

RETURN = r"""
adopted:
  description:
    - The objects that existed on a cluster of the placement without kubefed's managed label and that kubefed
      adopts (overwrites) in this run, C({cluster, kind, namespace, name}); empty when there are none. Only
      with O(adopt=true) (without it such objects refuse the run). Also in check mode.
  returned: state=present
  type: list
  elements: dict
adoption_unchecked:
  description: The clusters of the placement that could not be read for O(adopt), C({cluster, reason}).
  returned: when a cluster could not be read
  type: list
  elements: dict
result:
  description: The FederatedNamespace, normalized (lists sorted).
  returned: state=present
  type: dict
namespace:
  description: The host Namespace.
  returned: always
  type: dict
clusters:
  description: The placement's clusters.
  returned: state=present
  type: list
  elements: str
propagation:
  description: kubefed's propagation status after O(wait).
  returned: with wait
  type: dict
deleted:
  description: With O(state=absent), per member, C({removed, kept}) descriptions of the objects.
  returned: state=absent
  type: dict
plan:
  description:
    - The steps of the run, in order (also in check mode, where the writes are server-side dry runs and the wait
      is not awaited), each C({id, kind, side, cluster, object, why, verb}). A converged object plans nothing.
  returned: always
  type: list
  elements: dict
problems:
  description: The checks' problems ({code, cluster, message}) when the task fails on them.
  returned: failed
  type: list
  elements: dict
"""

from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import (
    KubeSphereModule, auth_argspec, member_connections_argspec)
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import project
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.slicing import wait_argspec


def main():
    spec = dict(
        name=dict(type="str", required=True),
        workspace=dict(type="str", required=True),
        clusters=dict(type="list", elements="str", default=[]),
        alias_name=dict(type="str"),
        description=dict(type="str"),
        labels=dict(type="dict", default={}),
        overrides=dict(type="dict", default={}),
        workspace_placement=dict(type="bool", default=False),
        workspace_clusters=dict(type="list", elements="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        confirm=dict(type="str"),
        cluster_name=dict(type="str", default="host"),
        timeout=dict(type="float"),
        adopt=dict(type="bool", default=False),
        member_connections=dict(type="list", elements="dict", default=[], options=member_connections_argspec()),
    )
    spec.update(wait_argspec(False, 120))
    spec.update(auth_argspec())
    module = KubeSphereModule(argument_spec=spec, supports_check_mode=True)
    module.run_operation(project.run)


if __name__ == "__main__":
    main()
