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
versions/v3_4; it is listed in versions.IMPLEMENTATIONS once every name the operations ask for is here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v4_1 import member_health
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v4_1 import helm_role

VERSION = "4.1"
NAME = "KubeSphere 4.1 (Helm release ks-core)"

# what a healthy member must show (the wait's words)
HEALTHY = member_health.HEALTHY


def health(cluster, kubefed_cluster=None, kubefed_read=True):
    """The health verdict {healthy, verdict, reason, ...}: Ready and KSCoreReady on the Cluster (versions/v4_1/
    member_health.py); the kubefed extension's KubeFedCluster when it exists."""
    return member_health.health(cluster, kubefed_cluster, kubefed_read=kubefed_read)


# --- role, status (versions/v4_1/helm_role.py: the role is the Helm value multicluster.role of ks-core, which the
# collection does not change; the role step checks and reports, and never writes on 4.1)
ROLE_BY_HELM = True  # operations/role.py: no role object to patch, no wait (3.4: False)
ROLE_SOURCE = helm_role.ROLE_SOURCE
HOST_ONLY_COMPONENTS = ()  # no ks-installer components on 4.1 (optional features are extensions)
MEMBER_INSTALLED_BY_HOST = True  # the host installs ks-core on a member when its Cluster is created
HEALTH_NEEDS_KUBEFED = False  # the status reads: a member's health needs no KubeFedCluster (3.4: True)


def role(state):
    """The role the cluster has now: kubesphere-config's rendered clusterRole (None without ks-core)."""
    return helm_role.rendered(state)["role"]


def role_problems(p, target, host=None, peers=()):
    """(guards, problems) before the role step on 4.1 (versions/v4_1/helm_role.py `problems`)."""
    return helm_role.problems(p, target, host, peers)


def role_outcome(p, target, host_label, forced=False):
    """{applied, note}: what the cluster renders and why nothing is written on 4.1."""
    return helm_role.outcome(p, target, host_label, forced)


def role_shown(state):
    """The role as results and diffs show it (the rendered role and host name, the ks-core release; no secret)."""
    return helm_role.shown(state)


# --- import and unbind (versions/v4_1/join.py, versions/v4_1/unbind.py)
