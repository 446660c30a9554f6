# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. KubeSphere's and kubefed's names that every supported version shares,
declared once: API groups and kinds, namespaces, labels and annotations. A name one version alone uses lives
in that version's package (versions/v3_4/)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# namespaces
KS_NAMESPACE = "kubesphere-system"
KUBEFED_NAMESPACE = "kube-federation-system"

# KubeSphere's Cluster (on the host)
CLUSTER_API_VERSION = "cluster.kubesphere.io/v1alpha1"
CLUSTER_KIND = "Cluster"
CLUSTER_FINALIZER = "finalizer.cluster.kubesphere.io"
HOST_LABEL = "cluster-role.kubesphere.io/host"
GROUP_LABEL = "cluster.kubesphere.io/group"
MANAGED_LABEL = "kubesphere.io/managed"
DESCRIPTION_ANNOTATION = "kubesphere.io/description"
ALIAS_ANNOTATION = "kubesphere.io/alias-name"
WAY_TO_ADD_ANNOTATION = "kubesphere.io/way-to-add"
CREATOR_ANNOTATION = "kubesphere.io/creator"
# the name of the host's own Cluster object unless hostClusterName says otherwise
DEFAULT_HOST_CLUSTER_NAME = "host"
# the annotations KubeSphere v4 puts on a member's kubesphere-system namespace
CLUSTER_NAME_ANNOTATION = "cluster.kubesphere.io/name"
HOST_CLUSTER_ANNOTATION = "cluster.kubesphere.io/host-cluster"

# workspaces
TENANT_API_VERSION = "tenant.kubesphere.io/v1alpha2"
WORKSPACE_TEMPLATE_KIND = "WorkspaceTemplate"
WORKSPACE_LABEL = "kubesphere.io/workspace"
KUBEFED_HOST_NAMESPACE_LABEL = "kubesphere.io/kubefed-host-namespace"

# kubefed
KUBEFED_API_VERSION = "core.kubefed.io/v1beta1"
KUBEFED_CLUSTER_KIND = "KubeFedCluster"
FEDERATED_TYPE_CONFIG_KIND = "FederatedTypeConfig"
TYPES_API_VERSION = "types.kubefed.io/v1beta1"
SCHEDULING_API_VERSION = "scheduling.kubefed.io/v1alpha1"
RSP_KIND = "ReplicaSchedulingPreference"
KUBEFED_MANAGED_LABEL = "kubefed.io/managed"
KUBEFED_FINALIZER = "kubefed.io/sync-controller"
ORPHAN_ANNOTATION = "kubefed.io/orphan"

# Kubernetes
RBAC_API_VERSION = "rbac.authorization.k8s.io/v1"
WEBHOOK_API_VERSION = "admissionregistration.k8s.io/v1"
VALIDATING_WEBHOOK_KIND = "ValidatingWebhookConfiguration"
