# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. KubeSphere 3.4: ks-installer's ClusterConfiguration sets the role and
renders kubesphere-config; a member needs the host's jwtSecret and role member before its import; kubefed and
tower are built in; a member is healthy when its Cluster is Ready AND its KubeFedCluster is Ready (a member
that died after joining keeps Ready True on its Cluster: KubeSphere's webhook denies the controller's own
status update); unbinding a dead member needs the webhook configuration out of the way.

This package is the 3.4 implementation of the version seam (versions/__init__.py). Its modules:
installer.py (ClusterConfiguration and kubesphere-config), agent.py (the cluster-agent as ks-apiserver builds
it), components.py (ClusterConfiguration components); the checks it uses are checks/join.py, checks/roles.py,
checks/unbind.py, and the health predicate objects/cluster.py's `health`."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as cluster_object
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federation
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import installer

VERSION = "3.4"
NAME = "KubeSphere 3.4 (ks-installer)"
# ks-installer's objects: the role lives in the ClusterConfiguration and the rendered kubesphere-config
ROLE_SOURCE = "%s %s/%s" % (installer.CC_KIND, installer.KS_NAMESPACE, installer.CC_NAME)
# what a healthy member must show (the wait's words)
HEALTHY = "healthy (Ready True and its KubeFedCluster Ready True)"


def evidence(state):
    """Why the state is KubeSphere 3.4 (a sentence), or None: ks-installer's ClusterConfiguration, or a
    kubesphere-config rendered by it (KubeSphere v4 has neither)."""
    if state.get("cluster_configuration") is not None:
        return "ClusterConfiguration %s/%s exists (ks-installer)" % (installer.KS_NAMESPACE, installer.CC_NAME)
    config = state.get("config") or {}
    if state.get("config_present") and installer.config_role(config):
        return "kubesphere-config renders multicluster.clusterRole (ks-installer)"
    return None


def role(state):
    """The role the cluster has now: kubesphere-config's rendered clusterRole (what KubeSphere runs with)."""
    return installer.config_role(state.get("config") or {})


def health(cluster, kubefed_cluster=None, kubefed_read=True):
    """The health verdict {healthy, verdict, reason}: Ready on the Cluster and kubefed's view of it."""
    return cluster_object.health(cluster, kubefed_cluster, kubefed_read=kubefed_read)


# --- federation (federated_project, federated_resource, federation_info)
# KubeSphere 3.4 federates with kubefed v0.8.1; a multi-cluster project is a host Namespace labelled as the
# console labels it plus a FederatedNamespace, and a workspace's placement is its WorkspaceTemplate's (KubeSphere's
# workspacetemplate controller makes the FederatedWorkspace of it).

# the Namespace target, as federation's FederatedTypeConfig `namespaces` declares it
NAMESPACE_TARGET = {"apiVersion": "v1", "kind": "Namespace", "group": "", "version": "v1", "plural": "namespaces",
                    "namespaced": False}
NAMESPACE_FTC = {"metadata": {"name": "namespaces"},
                 "spec": {"propagation": "Enabled",
                          "targetType": {"kind": "Namespace", "version": "v1", "pluralName": "namespaces",
                                         "scope": "Cluster"},
                          "federatedType": {"group": "types.kubefed.io", "version": "v1beta1",
                                            "kind": "FederatedNamespace", "pluralName": "federatednamespaces",
                                            "scope": "Namespaced"}}}


def project_host_namespace(name, workspace, labels=None):
    """The host Namespace of a multi-cluster project, as the 3.4 console creates it."""
    return federation.host_namespace(name, workspace, labels)


def project_federated_namespace(name, workspace, clusters, labels=None, annotations=None, settings=None):
    return federation.federated_namespace(name, workspace, clusters, labels=labels, annotations=annotations,
                                          settings=settings)


def workspace_template(name, clusters):
    """A workspace placed on `clusters`: its WorkspaceTemplate (the controller writes the FederatedWorkspace)."""
    return federation.workspace_template(name, clusters)
