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


# --- import (member state present) --------------------------------------------------------------------
# tower initialises a proxy member's Cluster (Initialized, its token), the cluster-agent is the Deployment
# ks-apiserver's /agent/deployment API hands out (versions/v3_4/agent.py), it connects (AgentAvailable).

INITIALIZED = "Initialized by tower"
AGENT_CONNECTED = "connected to its cluster-agent (AgentAvailable)"
AGENT_OBJECT = "Deployment kubesphere-system/cluster-agent"


def initialized(cluster):
    return bool(cluster) and cluster_object.initialized(cluster)


def agent_connected(cluster):
    return bool(cluster) and (cluster_object.agent_available(cluster) or cluster_object.ready(cluster))


def agent_image(host_config, given=None):
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import agent  # noqa: PLC0415

    return given or agent.agent_image(host_config)


def agent_deployment(cluster, proxy_address, image):
    """The cluster-agent Deployment built from the Cluster's token (as ks-apiserver builds it)."""
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import agent  # noqa: PLC0415

    return agent.build(cluster, proxy_address, image)


def agent_needs_update(live, desired):
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import agent  # noqa: PLC0415

    return agent.needs_update(live, desired)


def agent_shown(deployment):
    """The agent Deployment as results and diffs show it: normalized, its token masked."""
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common  # noqa: PLC0415
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import agent  # noqa: PLC0415

    return agent.mask(common.normalize(deployment)) if deployment else deployment


def jwt_secret(config):
    """The jwtSecret of a rendered kubesphere-config (a secret: the caller hides it)."""
    return installer.config_jwt_secret(config or {})


def usable_problems(name, cluster, kubefed_cluster, member_config):
    """What Ready does not prove, checked after an import ([] when the member is usable)."""
    return cluster_object.usable_problems(name, cluster, kubefed_cluster, member_config)
