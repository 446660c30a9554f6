#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: federation_info
short_description: Drift and kubefed propagation status of federated objects on one member (read-only)
version_added: 0.2.0
description:
  - Runs against a member cluster and reads the federated objects from its host (O(host_kubeconfig),
    O(host_context)). For every federated object of O(namespace) whose effective placement (its placement among
    the KubeFedClusters, intersected with the FederatedNamespace's) holds this member, reports kubefed's
    propagation status and reason and whether the member's live object is what kubefed would write - C(in_sync),
    C(drifted) (JSON pointers of the differing fields), C(missing), C(not_managed) or C(unknown).
  - The real kubefed reverts hand edits about 10 s later while it is healthy; drift shows where it cannot
    (controller down, cluster Offline, ManagedLabelFalse, an override it rejected).
  - Returns RV(api_versions), the group/versions the member serves (facts for federated_resource's
    O(kubesphere.multicluster.federated_resource#module:member_api_versions)), unless O(api_versions=false);
    without O(namespace) nothing else is read.
  - Secret drift names the keys only; no value of any member object is returned.
author:
  - kubesphere.multicluster contributors (@kubesphere)
options:
  cluster_name:
    description:
      - This member's KubeSphere name (its KubeFedCluster's name). Required unless O(members) is given.
    type: str
  members:
    description:
      - The drift of O(namespace) on every member listed, from one read of the host's objects, instead of on
        the one member the connection options name (which are then not used). The host's requests do not grow
        with the number of members; each member gets one read per object placed on it. C(playbooks/federate.yml)
        waits this way.
      - With O(members), RV(api_versions) is not read and O(list_projects) cannot be used; RV(clusters) names
        the members read.
    type: list
    elements: dict
    suboptions:
      cluster_name:
        description: The member's KubeSphere name (its KubeFedCluster's name).
        type: str
        required: true
      kubeconfig:
        description: The member's kubeconfig (as O(kubeconfig)).
        type: raw
      context:
        description: The context of the member's kubeconfig (as O(context)).
        type: str
  host_cluster_name:
    description: The host's KubeSphere name.
    type: str
    default: host
  namespace:
    description: The project; every federated object in it (filtered by O(kinds) and O(names)).
    type: str
  kinds:
    description: Kinds to read, target (C(ConfigMap)) or federated (C(FederatedConfigMap)); default every FTC's.
    type: list
    elements: str
    default: []
  names:
    description: Names to read; default all.
    type: list
    elements: str
    default: []
  api_versions:
    description:
      - Read the member's discovery (one request, C(/apis)) and return RV(api_versions). C(false) when only the drift is
        wanted, as the wait of C(playbooks/federate.yml) polls it.
    type: bool
    default: true
  list_projects:
    description:
      - Also return RV(projects), every multi-cluster project (FederatedNamespace on the host) placed on this
        member, with the drift state of its namespace here (C(playbooks/status.yml) prints them per member).
    type: bool
    default: false
  timeout:
    description: Seconds for each cluster's calls.
    type: float
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - kubesphere.multicluster.host_auth_options
  - kubesphere.multicluster.attributes.info
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
# Tasks of a play over the fleet (hosts: kubesphere_clusters, gather_facts: false), with the inventory layout
# of inventories/example: each cluster's inventory host sets kubesphere_cluster_name, kubesphere_kubeconfig and
# kubesphere_context (and members kubesphere_connection_type); the host cluster is groups['kubesphere_host'][0].

- name: Drift of the shop project on each member, and the multi-cluster projects placed there
  kubesphere.multicluster.federation_info:
    cluster_name: "{{ kubesphere_cluster_name }}"
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    host_kubeconfig: "{{ hostvars[groups['kubesphere_host'][0]].kubesphere_kubeconfig }}"
    host_context: "{{ hostvars[groups['kubesphere_host'][0]].kubesphere_context }}"
    host_cluster_name: "{{ hostvars[groups['kubesphere_host'][0]].kubesphere_cluster_name }}"
    namespace: shop
    list_projects: true
  register: status_projects_info
  when: inventory_hostname in groups['kubesphere_members']

- name: Drift of the shop project on every member, from one read of the host (as federate.yml's wait)
  kubesphere.multicluster.federation_info:
    members:
      - cluster_name: "{{ hostvars['member1'].kubesphere_cluster_name }}"
        kubeconfig: "{{ hostvars['member1'].kubesphere_kubeconfig }}"
        context: "{{ hostvars['member1'].kubesphere_context }}"
      - cluster_name: "{{ hostvars['member2'].kubesphere_cluster_name }}"
        kubeconfig: "{{ hostvars['member2'].kubesphere_kubeconfig }}"
        context: "{{ hostvars['member2'].kubesphere_context }}"
    host_kubeconfig: "{{ kubesphere_kubeconfig }}"
    host_context: "{{ kubesphere_context }}"
    host_cluster_name: "{{ kubesphere_cluster_name }}"
    namespace: shop
    kinds: [Namespace]
  register: fleet_shop_drift
  when: inventory_hostname in groups['kubesphere_host']
"""

RETURN = r"""
api_versions:
  description: The group/versions this member serves.
  returned: unless api_versions is false or members is given
  type: list
  elements: str
clusters:
  description: With O(members), the members read, sorted.
  returned: with members
  type: list
  elements: str
projects:
  description: With O(list_projects), C([{name, workspace, state, fields, reason}]) of the projects placed here.
  returned: with list_projects
  type: list
  elements: dict
resources:
  description:
    - One per federated object, C({kind, federated_kind, name, namespace, placed, propagation {status, reason,
      message, stale}, members [{cluster, state, fields, error, propagation, reason}]}).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import (
    KubeSphereModule, auth_argspec, member_connections_argspec)
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import federation_info


def main():
    spec = dict(
        cluster_name=dict(type="str"),
        members=dict(type="list", elements="dict", options=member_connections_argspec()),
        host_cluster_name=dict(type="str", default="host"),
        namespace=dict(type="str"),
        kinds=dict(type="list", elements="str", default=[]),
        names=dict(type="list", elements="str", default=[]),
        list_projects=dict(type="bool", default=False),
        api_versions=dict(type="bool", default=True),
        timeout=dict(type="float"),
    )
    spec.update(auth_argspec())
    spec.update(auth_argspec("host_"))
    module = KubeSphereModule(argument_spec=spec, supports_check_mode=True, required_one_of=[("cluster_name", "members")],
                              mutually_exclusive=[("cluster_name", "members"), ("members", "list_projects")])
    module.run_operation(federation_info.run)


if __name__ == "__main__":
    main()
