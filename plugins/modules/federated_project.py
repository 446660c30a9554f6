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
    WorkspaceTemplate exists, clusters outside its placement are refused.
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
  state:
    description: C(present) or C(absent).
    type: str
    choices: [present, absent]
    default: present
  confirm:
    description: With O(state=absent), the project's name typed again.
    type: str
  wait:
    description: Wait until kubefed reports the namespace propagated to every cluster of the placement.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait with O(wait).
    type: int
    default: 120
  cluster_name:
    description: The host's KubeSphere name, used in messages.
    type: str
    default: host
  timeout:
    description: Seconds for each call to the host.
    type: float
  _wait_slice:
    description:
      - Internal, set by the module's action plugin; do not set it. Its waits stop after this slice and the
        module returns C(pending), so the plugin can print progress and run it again (see the notes).
    type: dict
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - kubesphere.multicluster.attributes
requirements:
  - kubernetes >= 24.2.0
notes:
  - >-
    Long waits print progress. The module's action plugin runs it in slices of C(kubesphere_progress_interval)
    seconds (a variable, 20 by default; 0 turns slicing off) and, after each slice whose wait is not over,
    prints at the default verbosity one line per host with the cluster, what it waits for (kubefed propagated
    the project to the placement), what it sees now and the seconds waited of O(wait_timeout). The result is
    the one a single run gives (C(changed) and the diff from the slice that wrote). Run without the action
    plugin, the module waits in one go. Check mode never waits.
"""

EXAMPLES = r"""
- name: A project on two members
  kubesphere.multicluster.federated_project:
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    name: shop
    workspace: retail
    clusters: [member1, member2]
    alias_name: Shop

- name: Delete it (members lose the namespace and everything in it)
  kubesphere.multicluster.federated_project:
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    name: shop
    workspace: retail
    state: absent
    confirm: shop
"""

RETURN = r"""
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
problems:
  description: The checks' problems ({code, cluster, message}) when the task fails on them.
  returned: failed
  type: list
  elements: dict
"""

from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import KubeSphereModule, auth_argspec
from ansible_collections.kubesphere.multicluster.plugins.module_utils.federation_runner import run_project


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
        state=dict(type="str", choices=["present", "absent"], default="present"),
        confirm=dict(type="str"),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=120),
        _wait_slice=dict(type="dict"),
        cluster_name=dict(type="str", default="host"),
        timeout=dict(type="float"),
    )
    spec.update(auth_argspec())
    module = KubeSphereModule(argument_spec=spec, supports_check_mode=True)
    run_project(module)


if __name__ == "__main__":
    main()
