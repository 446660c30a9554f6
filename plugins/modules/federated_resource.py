#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: federated_resource
short_description: A federated ConfigMap, Secret, workload, Service or any kind with a FederatedTypeConfig
version_added: 0.2.0
description:
  - Runs against the KubeSphere host. Turns a plain manifest into its Federated<Kind> (kind and apiVersion from
    the host's FederatedTypeConfig) with C(spec.template), C(spec.placement.clusters) and C(spec.overrides), and
    writes it whole (server-side apply), so a setting removed from the inventory disappears from the clusters.
  - Per-cluster settings in user terms (O(settings)) become kubefed overrides; kubefed's rules are checked
    first, against the object kubefed would create, with a message per bad override. Refuses a kind without a
    FederatedTypeConfig, a cluster that is not a Ready member (by its KubeFedCluster) or not in the project,
    and a member that does not serve the API version (O(member_api_versions)), one of the resource's clusters
    or any other member Ready for kubefed, as kubefed propagates a kind to no cluster while one Ready member
    does not serve it. Nothing is written when a check fails.
  - Replicas by count (O(settings).<cluster>.replicas; 0 removes the cluster from the placement, as the
    console does) or by weight (O(replicas_by_weight), a ReplicaSchedulingPreference). The division kubefed
    will make is computed first (kubefed's planner) and returned in RV(replicas) and in the diff, before
    anything is written.
  - Comparisons sort what kubefed reorders (placement, overrides), so a second run reports no change; in weight
    mode what the ReplicaSchedulingPreference writes into the object is kept.
  - Secret values never appear in results, diffs or messages (no_log values and masks; keys are kept).
author:
  - kubesphere.multicluster contributors (@kubesphere)
options:
  definition:
    description: The plain manifest (apiVersion, kind, metadata.name and metadata.namespace, ...).
    type: dict
    required: true
  clusters:
    description: Where to place it. Default, the project's clusters (the FederatedNamespace's placement).
    type: list
    elements: str
  project_clusters:
    description:
      - The clusters of the object's project as this run leaves them, checked instead of the placement of the
        project's FederatedNamespace on the host (an object must be placed on clusters of its project).
      - The federated_project role passes it when it checks every project and object (in check mode) before
        the first write of a run, when the project's FederatedNamespace is not written yet.
      - Default, the FederatedNamespace's placement (no check when the namespace has none yet).
    type: list
    elements: str
  settings:
    description:
      - Per cluster, any of C(replicas), C(image) {container, image}, C(env) {container, {VAR, value}},
        C(ports), C(resources), C(data) (ConfigMap/Secret; Secret values in clear), C(overrides) [{op, path, value}].
    type: dict
    default: {}
  replicas_by_weight:
    description: Deployment/ReplicaSet only; kubefed divides O(replicas_by_weight.total) by the weights.
    type: dict
    suboptions:
      total:
        description: totalReplicas.
        type: raw
        required: true
      weights:
        description: C({cluster, weight}).
        type: dict
        required: true
      min_replicas:
        description: C({cluster, minReplicas}).
        type: dict
        default: {}
      max_replicas:
        description: C({cluster, maxReplicas}).
        type: dict
        default: {}
  retain_replicas:
    description: spec.retainReplicas (members keep their replicas, for an HPA).
    type: bool
  mirror_annotations:
    description: Also put the manifest's annotations on the members (a whole /metadata/annotations override).
    type: bool
    default: false
  member_api_versions:
    description:
      - Facts, C({cluster, [group/version, ...]}), what each member serves (federation_info's C(api_versions)).
      - Every member given that is Ready for kubefed must serve the resource's API version, placed or not
        (kubefed v0.8.1 waits for its watch of the kind on every Ready member before it propagates anything
        of that kind).
    type: dict
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - kubesphere.multicluster.wait_slice
  - kubesphere.multicluster.federation
  - kubesphere.multicluster.attributes
requirements:
  - kubernetes >= 24.2.0
notes:
  - >-
    The waits that print progress: kubefed propagated the object to the placement.
"""

EXAMPLES = r"""
# Tasks of a play over the fleet (hosts: kubesphere_clusters, gather_facts: false), with the inventory layout
# of inventories/example: each cluster's inventory host sets kubesphere_cluster_name, kubesphere_kubeconfig and
# kubesphere_context (and members kubesphere_connection_type); the host cluster is groups['kubesphere_host'][0].
# The members are member1 and member2, the project shop is placed on both (federated_project's example);
# the tasks run on the host's inventory host.

- name: A Deployment split 1:3 by weight, another image on member2
  kubesphere.multicluster.federated_resource:
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    cluster_name: "{{ kubesphere_cluster_name }}"
    definition:
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web, namespace: shop, labels: {app: web}}
      spec:
        replicas: 1
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec: {containers: [{name: web, image: "nginx:1.25"}]}
    clusters: [member1, member2]
    replicas_by_weight: {total: 10, weights: {member1: 1, member2: 3}}
    settings:
      member2: {image: {web: "nginx:1.25-alpine"}}
  when: inventory_hostname in groups['kubesphere_host']

- name: A ConfigMap on every cluster of the project, one value other on member2
  kubesphere.multicluster.federated_resource:
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    cluster_name: "{{ kubesphere_cluster_name }}"
    definition:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: shop-config, namespace: shop}
      data: {LOG_LEVEL: info, REGION: eu-west}
    settings:
      member2: {data: {REGION: ap-east}}
    wait: true
  when: inventory_hostname in groups['kubesphere_host']

- name: Remove the Deployment from every member
  kubesphere.multicluster.federated_resource:
    kubeconfig: "{{ kubesphere_kubeconfig }}"
    context: "{{ kubesphere_context }}"
    cluster_name: "{{ kubesphere_cluster_name }}"
    state: absent
    definition: {apiVersion: apps/v1, kind: Deployment, metadata: {name: web, namespace: shop}}
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
  description: The Federated<Kind>, normalized, Secret values masked.
  returned: always
  type: dict
rsp:
  description: The ReplicaSchedulingPreference (weight mode).
  returned: always
  type: dict
replicas:
  description: C({cluster, replicas}), the planner's division (weight mode) or the counts.
  returned: always
  type: dict
placement:
  description: The clusters written into the placement.
  returned: always
  type: list
  elements: str
propagation:
  description: kubefed's propagation status after O(wait).
  returned: with wait
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
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import resource
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.slicing import wait_argspec


def main():
    spec = dict(
        definition=dict(type="dict", required=True),
        clusters=dict(type="list", elements="str"),
        project_clusters=dict(type="list", elements="str"),
        settings=dict(type="dict", default={}),
        replicas_by_weight=dict(type="dict", options=dict(
            total=dict(type="raw", required=True),
            weights=dict(type="dict", required=True),
            min_replicas=dict(type="dict", default={}),
            max_replicas=dict(type="dict", default={}),
        )),
        retain_replicas=dict(type="bool"),
        mirror_annotations=dict(type="bool", default=False),
        member_api_versions=dict(type="dict"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        cluster_name=dict(type="str", default="host"),
        timeout=dict(type="float"),
        adopt=dict(type="bool", default=False),
        member_connections=dict(type="list", elements="dict", default=[], options=member_connections_argspec()),
    )
    spec.update(wait_argspec(False, 120))
    spec.update(auth_argspec())
    module = KubeSphereModule(argument_spec=spec, supports_check_mode=True)
    module.run_operation(resource.run)


if __name__ == "__main__":
    main()
