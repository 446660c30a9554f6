# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Multi-cluster projects and workspaces on a KubeSphere 4.1 host.

Facts (KubeSphere v4.1.3 and the kubefed extension 1.0.0; ../shared/docs/kubesphere-v4.1.md 2 and 6 items 19-21):
- kubefed is the extension "kubefed" ("KubeSphere Multi-Cluster Projects"): kubefed v0.8.1's controller-manager and
  webhook, the same types.kubefed.io/v1beta1 types (FederatedNamespace, overrides, placement: the 3.4 payloads), and
  a backend that joins every Cluster into kubefed (KubeFedCluster <name>); nothing federates before its InstallPlan
  is Installed;
- the project's host Namespace carries kubesphere.io/kubefed-host-namespace=true as on 3.4 (the backend now reads it
  and writes kubefed.kubesphere.io/clusters on it);
- workspaces are not federated: ks-controller-manager's workspacetemplate controller writes the Workspace on each
  Ready cluster of the WorkspaceTemplate's placement itself (pkg/controller/workspacetemplate) and records nothing
  of it on the host but its finalizer kubesphere.io/cascading-deletion (added in its first reconcile, before the
  sync); tenant.kubesphere.io/v1alpha2 is still served beside v1beta1 (the storage version), whose schema alone keeps
  spec.template.metadata (labels, annotations): the collection reads and writes v1beta1."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import federated
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

EXTENSION = "kubefed"
# the storage version: its schema keeps spec.template.metadata.labels and annotations, which v1alpha2's (still served)
# prunes; the controller copies them to each member's Workspace
WORKSPACE_TEMPLATE_API_VERSION = "tenant.kubesphere.io/v1beta1"
SYNC_FINALIZER = "kubesphere.io/cascading-deletion"


def workspace_state(template, clusters):
    """(done, what it shows) of a 4.1 WorkspaceTemplate: KubeSphere's controller has taken it (its finalizer), and
    from then on writes the Workspace on each placed Ready member itself."""
    if template is None:
        return False, "the WorkspaceTemplate is not there"
    if SYNC_FINALIZER not in (objects.get_path(template, "metadata.finalizers") or []):
        return False, "KubeSphere's workspacetemplate controller has not taken it yet (no finalizer %s)" % SYNC_FINALIZER
    return True, "taken by KubeSphere's controller, which writes the Workspace on %s" % (", ".join(clusters) or "no cluster")


def workspace_template(name, clusters, manager=None, labels=None, annotations=None):
    """A workspace placed on `clusters`: its WorkspaceTemplate, in v1beta1."""
    return federated.workspace_template(name, clusters, manager=manager, labels=labels, annotations=annotations,
                                        api_version=WORKSPACE_TEMPLATE_API_VERSION)


WORKSPACE_SYNC = {"api_version": WORKSPACE_TEMPLATE_API_VERSION, "kind": v.WORKSPACE_TEMPLATE_KIND,
                  "fact": "workspace_template", "state": workspace_state, "propagated": False,
                  "what": "taken by KubeSphere's workspacetemplate controller, which writes the Workspace on %s",
                  "how": "KubeSphere's ks-controller-manager writes the Workspace on each placed Ready member itself"}
