# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. ks-apiserver serving the host's new proxy address (KubeSphere 3.4.1).

Facts:
- `pkg/kapis/cluster/v1alpha1/handler.go`: the agent/deployment API's handler takes `proxyPublishAddress` when
  it is built (else it reads tower's Service once and keeps the answer): the address is fixed for the life of
  the server that built it.
- `cmd/ks-apiserver/app/server.go` `Run` and `pkg/apiserver/config` `watchConfig`: ks-apiserver watches its
  kubesphere.yaml (viper, fsnotify) and rebuilds its whole server from a changed file. In a pod that file is the
  kubesphere-config ConfigMap volume, which the kubelet refreshes only on its next sync (about a minute, plus
  its cache); the how-to restarts ks-apiserver instead (`kubectl -n kubesphere-system rollout restart deployment
  ks-apiserver`): a new pod reads the current ConfigMap at start.
- What the running server serves cannot be read with a Kubernetes credential: the agent/deployment API needs a
  KubeSphere identity, and kube-apiserver's service proxy drops the Authorization header once it authenticated
  the caller (checked on the lab: a KubeSphere token sent through the service proxy arrives as
  system:anonymous, 403). So the collection does what the how-to does, a rollout restart, and waits until the
  Deployment's rollout is complete: every ks-apiserver pod then started after the change and serves the new
  address."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.common import get_path
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

DEPLOYMENT = {"api_version": "apps/v1", "kind": "Deployment", "name": "ks-apiserver", "namespace": v.KS_NAMESPACE}
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"  # what `kubectl rollout restart` sets on the pod template


def served_address(config):
    """The rendered multicluster.proxyPublishAddress (None: ks-apiserver takes tower's Service address)."""
    return get_path(config or {}, "multicluster.proxyPublishAddress") or None


def serves_changes(served, options):
    """True when the host's options change the proxy address ks-apiserver serves: `options` (role_options) name
    proxyPublishAddress (an address, or "" to clear it) and `served` (served_address before the write) differs."""
    wanted = (options or {}).get("proxyPublishAddress")
    if wanted is None:
        return False
    return (served or "") != wanted


def restart_patch(now):
    """The merge patch of a rollout restart at `now` (RFC 3339 text)."""
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}}


def rollout(deployment):
    """(done, state): the Deployment's rollout is complete (its controller observed the current generation, every
    replica is updated and available, no old one is left), and a sentence saying where it is."""
    if not deployment:
        return True, "no Deployment %s/%s" % (DEPLOYMENT["namespace"], DEPLOYMENT["name"])
    generation = get_path(deployment, "metadata.generation") or 0
    status = deployment.get("status") or {}
    want = get_path(deployment, "spec.replicas")
    want = 1 if want is None else want
    observed = status.get("observedGeneration") or 0
    updated, available, total = (status.get(k) or 0 for k in ("updatedReplicas", "availableReplicas", "replicas"))
    done = observed >= generation and updated >= want and available >= want and total <= updated
    return done, ("generation %s observed %s; %s of %s replicas updated, %s available, %s in all"
                  % (generation, observed, updated, want, available, total))
