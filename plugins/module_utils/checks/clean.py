# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. A clean member before its import (pure): the workspace conflict
KubeSphere's join refuses (a refusal, before any write), and what a member already holds (a warning).

What counts as a conflict is the version's (versions/v3_4/clean.py `workspace_conflicts`: exactly what
KubeSphere 3.4.1's checkWorkspaces compares); these functions turn its findings into problems."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v


def _placed(placement):
    if not placement:
        return "places no cluster (spec.placement.clusters is empty)"
    return "places only %s" % ", ".join(placement)


def way_out(name, workspace):
    """The three ways out of a workspace conflict, in one sentence."""
    return ("remove the label %s from Workspace %s on '%s' (kubectl label workspace %s %s-), delete that Workspace "
            "there, or place '%s' in the host's FederatedWorkspace %s (its workspace's clusters) before importing"
            % (v.KUBEFED_MANAGED_LABEL, workspace, name, workspace, v.KUBEFED_MANAGED_LABEL, name, workspace))


def workspace_conflict_problems(name, conflicts):
    """One `workspace_conflict` problem per conflicting workspace ({workspace, placement})."""
    return [problem("workspace_conflict", name, "cluster '%s': it holds Workspace %s labelled %s=true, and the "
                    "host's FederatedWorkspace %s %s: KubeSphere's join refuses such a member (\"The workspace %s is "
                    "found in the target member cluster %s, which is conflict with the workspace on host\") and "
                    "kubefed would delete that Workspace there; %s"
                    % (name, c["workspace"], v.KUBEFED_MANAGED_LABEL, c["workspace"], _placed(c["placement"]),
                       c["workspace"], name, way_out(name, c["workspace"])))
            for c in conflicts or []]


def member_not_clean(name, namespaces, workspaces):
    """A warning (not a refusal) when the member already holds user namespaces or workspaces: [] or one
    `member_not_clean` finding."""
    if not namespaces and not workspaces:
        return []
    parts = []
    if namespaces:
        parts.append("namespaces %s" % ", ".join(namespaces))
    if workspaces:
        parts.append("workspaces %s" % ", ".join(workspaces))
    return [problem("member_not_clean", name, "cluster '%s' is not clean: it already holds %s. KubeSphere's "
                    "how-to imports clean members: what was made on a member's own console never reaches the host, "
                    "and a multi-cluster project or workspace of the same name placed on '%s' is taken over by "
                    "kubefed (adopted and overwritten)" % (name, " and ".join(parts), name))]
