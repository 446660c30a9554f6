# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The cluster-agent of a proxy member of a KubeSphere 4.1 host.

Facts (the tower extension "KubeSphere Multi-Cluster Agent Connection" 1.0.0, kubesphere-extensions/tower
`pkg/apis/v1alpha1/handler.go` and `options.go`; ../shared/docs/kubesphere-v4.1.md 1.6):
- on 4.1 tower is an extension: its chart runs tower v0.2.1's proxy as Deployment kubesphere-system/tower with
  Service kubesphere-system/tower (port 8080; type NodePort in the extension museum's chart), and its backend
  answers `GET /kapis/tower.kubesphere.io/v1alpha1/deployment?cluster=NAME` with four objects for the member:
  Namespace kubesphere-system, ServiceAccount kubesphere-system/tower, ClusterRoleBinding tower (cluster-admin to
  that ServiceAccount) and the Deployment kubesphere-system/cluster-agent, built as 3.4's ks-apiserver builds it
  (versions/v3_4/agent.py) except that it runs as ServiceAccount `tower`: a 4.1 member has no KubeSphere before its
  import (the host installs ks-core on it through the agent's tunnel once it connected);
- the agent image: the host's rendered multicluster.agentImage, else `kubesphere/tower:v0.2.1` (the backend's
  default); the proxy Service: multicluster.proxyPublishService, else `tower.kubesphere-system.svc` (the backend's
  default; ks-core 4.1.3's chart renders neither, nor proxyPublishAddress);
- tower v0.2.1 initialises only a Cluster with spec.joinFederation true (the collection sets it at creation)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import agent as agent_34

SERVICE_ACCOUNT = "tower"
DEFAULT_AGENT_IMAGE = "kubesphere/tower:v0.2.1"
PROXY_SERVICE_REF = ("tower", v.KS_NAMESPACE)  # the backend's default proxyPublishService

# the same Deployment, flags and address rules as 3.4's (what the reads of cluster_state and the join use)
NAMESPACE, NAME = agent_34.NAMESPACE, agent_34.NAME
flags = agent_34.flags
load_balancer_address = agent_34.load_balancer_address
FIX = ("give the member the join's proxy_address (kubesphere_join_proxy_address), or give Service kubesphere-system/tower "
       "a LoadBalancer address (ks-core 4.1's chart renders no multicluster.proxyPublishAddress)")


def proxy_address(host_config, tower_service=None, nodes=None, allow_node_port=True):
    """Where the agent dials tower, as 3.4's rules say (versions/v3_4/agent.py), the Service defaulting to the
    backend's kubesphere-system/tower."""
    config = dict(host_config or {})
    multicluster = dict(config.get("multicluster") or {})
    if not multicluster.get("proxyPublishService"):
        multicluster["proxyPublishService"] = "%s.%s.svc" % PROXY_SERVICE_REF
    config["multicluster"] = multicluster
    return agent_34.proxy_address(config, tower_service, nodes, allow_node_port=allow_node_port, fix=FIX)


def proxy_service_ref(host_config):
    """(name, namespace) of the tower Service: the config's multicluster.proxyPublishService, else the backend's
    default kubesphere-system/tower."""
    return agent_34.proxy_service_ref(host_config) or PROXY_SERVICE_REF


def agent_image(host_config, given=None):
    return given or objects.get_path(host_config or {}, "multicluster.agentImage") or DEFAULT_AGENT_IMAGE


def build(cluster, proxy_address, image):
    """The cluster-agent Deployment as the tower extension's backend builds it."""
    return agent_34.build(cluster, proxy_address, image, service_account=SERVICE_ACCOUNT)


def access():
    """What the agent needs on the member before its Deployment, as the backend hands it out: the namespace, the
    ServiceAccount it runs as, cluster-admin for it (the host reaches the member through it)."""
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": v.KS_NAMESPACE}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": SERVICE_ACCOUNT, "namespace": v.KS_NAMESPACE}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": SERVICE_ACCOUNT},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
         "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": v.KS_NAMESPACE}]},
    ]


def removed_with_agent():
    """What the unbind removes with the agent: what access() makes but the namespace (ks-core lives there)."""
    return [obj for obj in access() if obj["kind"] != "Namespace"]
