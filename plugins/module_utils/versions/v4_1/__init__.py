# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. KubeSphere 4.1 (v4.1.3, the last open-source release): KubeSphere is the
Helm release `ks-core` in kubesphere-system; the role is its value `multicluster.role` (unset: host), rendered
into kubesphere-config; a member needs nothing prepared (the host's controller installs ks-core on it with the
host's jwtSecret when its Cluster is created: condition KSCoreReady); a member is healthy when its Cluster is
Ready AND KSCoreReady (a dead member goes Ready False: no webhook freezes it); kubefed and tower are
extensions. Facts: ../shared/docs/kubesphere-v4.1.md.

This package is the 4.1 implementation of the version seam (versions/__init__.py), with the same names as
versions/v3_4, listed in versions.IMPLEMENTATIONS. Where a name only hands over to a module of this package, it is
that module's function itself."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import v3_4
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import installer
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v4_1 import agent, extension, federation, helm_role, join, member_health, unbind

VERSION = "4.1"
NAME = "KubeSphere 4.1 (Helm release ks-core)"

# what a healthy member must show (the wait's words)
HEALTHY = member_health.HEALTHY


# the health verdict: Ready and KSCoreReady on the Cluster; the kubefed extension's KubeFedCluster when it exists
health = member_health.health


# --- role, status (versions/v4_1/helm_role.py: the role is the Helm value multicluster.role of ks-core, which the
# collection does not change; the role step checks and reports, and never writes on 4.1)
role_settled = None  # the 4.1 role step reads and writes nothing already; no shortcut
import_settled = None  # not built for 4.1: every import reads both clusters
ROLE_BY_HELM = True  # operations/role.py: no role object to patch, no wait (3.4: False)
ROLE_SOURCE = helm_role.ROLE_SOURCE
HOST_ONLY_COMPONENTS = ()  # no ks-installer components on 4.1 (optional features are extensions)
MEMBER_INSTALLED_BY_HOST = True  # the host installs ks-core on a member when its Cluster is created
HEALTH_NEEDS_KUBEFED = False  # the status reads: a member's health needs no KubeFedCluster (3.4: True)


def role(state):
    """The role the cluster has now: kubesphere-config's rendered clusterRole; when that ConfigMap renders none
    (absent or unreadable) the ks-core release's value multicluster.role, `host` when the release leaves it unset
    (ks-core's default); None without ks-core."""
    now = helm_role.rendered(state)
    if now["source"] == helm_role.VALUES_SOURCE:
        return now["role"] or "host"
    return now["role"]


role_problems = helm_role.problems  # (guards, problems) before the role step
role_outcome = helm_role.outcome  # {applied, note}: what the cluster renders, why nothing is written
role_shown = helm_role.shown  # the rendered role and host name, the ks-core release (no secret)


# --- import and unbind (versions/v4_1/join.py, versions/v4_1/unbind.py)
# The import: checks, the health wait's words and timeout, the verification (versions/v4_1/join.py). A member
# needs no KubeSphere before its import (no role, jwtSecret or ks-apiserver to check on it); KubeSphere 4.1 joins
# no kubefed, so there is no workspace conflict and no permanent join failure to read.
MEMBER_NEEDS_KUBESPHERE = False
CLEAN_MEMBER_CHECK = False
JOIN_NOTES = (join.CREDENTIAL_NOTE,)


import_problems = join.import_problems


def jwt_secret(config):
    """The jwtSecret of a rendered kubesphere-config (authentication.issuer.jwtSecret; a secret: the caller
    hides it)."""
    return installer.config_jwt_secret(config or {})


def join_failure(cluster):
    """None: a 4.1 join has no permanent failure on the Cluster (a failed ks-core install writes no condition)."""
    return None


wait_detail = join.wait_detail
healthy_timeout = join.healthy_timeout
verification_facts = join.read_identity  # the member's kubesphere-system annotations, written after a sync
usable_problems = join.usable_problems


# --- a proxy member (the tower extension: tower v0.2.1 initialises the Cluster and the agent connects, as on 3.4;
# the agent runs as its own ServiceAccount, created with it: versions/v4_1/agent.py)
INITIALIZED = v3_4.INITIALIZED
AGENT_CONNECTED = v3_4.AGENT_CONNECTED
AGENT_OBJECT = v3_4.AGENT_OBJECT
AGENT_RECONNECTED = v3_4.AGENT_RECONNECTED
initialized = v3_4.initialized
agent_connected = v3_4.agent_connected
agent_image = agent.agent_image
agent_deployment = agent.build
agent_access = agent.access
agent_removed_with = agent.removed_with_agent
agent_needs_update = v3_4.agent_needs_update
agent_shown = v3_4.agent_shown
agent_proxy_server = v3_4.agent_proxy_server
agent_connection = v3_4.agent_connection
agent_reconnected = v3_4.agent_reconnected


# The unbind (versions/v4_1/unbind.py): no Cluster webhook in v4.1.3's chart, so no dead-member path; ks-core
# stays on the member; a dead member keeps its kubesphere-system annotations.
UNBIND_WEBHOOK = False
# the kubefed extension's backend unjoins a Cluster only when it sees it being deleted (it has no finalizer of its
# own, so KubeSphere's finalizer may be gone first) or in its 3-minute sweep: the unbind removes the host side itself
UNBIND_UNJOINS_KUBEFED = True
UNBIND_UNJOIN_WHY = unbind.UNJOIN_WHY


def unbind_dead(cluster, member, kubefed_cluster):
    """False: without a Cluster webhook the controller removes its finalizer even when the member is dead."""
    return False


unbind_read_member = unbind.read_member


def unbind_report(name, cluster, member=None, federated=None, remove_agent=True, cleanup_member=False,
                  remove_from_placements=False, kubefed_cluster=None):
    return unbind.report(name, cluster, member, federated, remove_agent=remove_agent, cleanup_member=cleanup_member,
                         remove_from_placements=remove_from_placements, kubefed_cluster=kubefed_cluster)


unbind_remaining = unbind.remaining


# --- federation (versions/v4_1/federation.py): the kubefed extension ("KubeSphere Multi-Cluster Projects": kubefed
# v0.8.1, the same federated types; its backend joins every Cluster into kubefed); workspaces are synced to members by
# ks-controller-manager itself
FEDERATION_UNSUPPORTED = None
FEDERATION_EXTENSION = federation.EXTENSION
NAMESPACE_TARGET = v3_4.NAMESPACE_TARGET
NAMESPACE_FTC = v3_4.NAMESPACE_FTC
project_host_namespace = v3_4.project_host_namespace
project_federated_namespace = v3_4.project_federated_namespace
WORKSPACE_TEMPLATE_API_VERSION = federation.WORKSPACE_TEMPLATE_API_VERSION
workspace_template = federation.workspace_template
WORKSPACE_TEMPLATE_KEEPS_LABELS = True  # v1beta1's schema declares spec.template.metadata.labels
WORKSPACE_SYNC = federation.WORKSPACE_SYNC
FEDERATED_WORKSPACE_KIND = v3_4.FEDERATED_WORKSPACE_KIND  # no FederatedWorkspace on 4.1: read as absent

# extensions (Extension, ExtensionVersion, InstallPlan; the extension module): the InstallPlan's vocabulary and
# verdicts (versions/v4_1/extension.py)
EXTENSIONS = extension
EXTENSIONS_UNSUPPORTED = None
