# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. The cluster-agent of a proxy member, and the address it dials.

Facts (KubeSphere 3.4.1 `pkg/kapis/cluster/v1alpha1/handler.go`, tower v0.2.1):
- `GET /kapis/cluster.kubesphere.io/v1alpha1/clusters/{name}/agent/deployment` answers the Deployment
  `kubesphere-system/cluster-agent` built by `generateDefaultDeployment`: selector and pod labels
  `app: agent`, `app.kubernetes.io/part-of: tower`; an empty strategy; no replicas; one container `agent`
  with image = the host's rendered `multicluster.agentImage` (code default `kubesphere/tower:v1.0`;
  ks-installer 3.4.1 renders `kubesphere/tower:v0.2.1`), the command `/agent --name=<cluster>
  --token=<spec.connection.token> --proxy-server=<address> --keepalive=10s
  --kubesphere-service=ks-apiserver.kubesphere-system.svc:80
  --kubernetes-service=kubernetes.default.svc:443 --v=0`, resources limits cpu 1 / memory 200M and
  requests cpu 100m / memory 100M, and `serviceAccountName: kubesphere` (the member's own KubeSphere SA:
  without it the pod is never created). The token is empty until tower initialised the Cluster.
- The address: `multicluster.proxyPublishAddress` when set; else the Service named by
  `multicluster.proxyPublishService` (`<name>[.<namespace>...]`, namespace default kubesphere-system):
  `http://<ingress>:<first port>` over its LoadBalancer ingress entries, the LAST entry winning and, inside
  an entry, the IP over the hostname. The API answers 404 when neither gives an address. The collection
  goes one step further, as the seed instructions do for clusters without a load balancer: NodeIP (a
  node's InternalIP) and the tower Service's nodePort -- an address the API itself would not give.
- The agent's token is a secret: `mask` hides it in anything printed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

NAMESPACE = v.KS_NAMESPACE
NAME = "cluster-agent"
SERVICE_ACCOUNT = "kubesphere"
LABELS = {"app": "agent", "app.kubernetes.io/part-of": "tower"}
DEFAULT_AGENT_IMAGE = "kubesphere/tower:v1.0"  # ks-apiserver's default when the config names none
INSTALLER_AGENT_IMAGE = "kubesphere/tower:v0.2.1"  # what ks-installer 3.4.1 renders
DEFAULT_PROXY_SERVICE = "tower"
TOKEN_FLAG = "--token="


def agent_image(host_config):
    """The image ks-apiserver puts in the Deployment: the host's rendered multicluster.agentImage, else
    its code default."""
    return objects.get_path(host_config or {}, "multicluster.agentImage") or DEFAULT_AGENT_IMAGE


def build(cluster, proxy_address, image, service_account=SERVICE_ACCOUNT):
    """The cluster-agent Deployment for the proxy member `cluster` (a Cluster dict), exactly as
    ks-apiserver's agent/deployment API builds it (4.1's tower extension: the same, run as `service_account`).
    Raises ValueError for a direct Cluster or an address that is not http(s)://host:port."""
    name = objects.get_path(cluster, "metadata.name")
    if (objects.get_path(cluster, "spec.connection.type") or "direct") != "proxy":
        raise ValueError("cluster %s is not using proxy connection" % name)
    if not valid_address(proxy_address):
        raise ValueError("invalid proxy address %s, should format like http[s]://1.2.3.4:123" % proxy_address)
    token = objects.get_path(cluster, "spec.connection.token") or ""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {
            "selector": {"matchLabels": dict(LABELS)},
            "strategy": {},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "containers": [{
                        "name": "agent",
                        "command": [
                            "/agent",
                            "--name=%s" % name,
                            TOKEN_FLAG + token,
                            "--proxy-server=%s" % proxy_address,
                            "--keepalive=10s",
                            "--kubesphere-service=ks-apiserver.kubesphere-system.svc:80",
                            "--kubernetes-service=kubernetes.default.svc:443",
                            "--v=0",
                        ],
                        "image": image,
                        "resources": {"limits": {"cpu": "1", "memory": "200M"},
                                      "requests": {"cpu": "100m", "memory": "100M"}},
                    }],
                    "serviceAccountName": service_account,
                },
            },
        },
    }


def as_printed(deployment):
    """The Deployment as ks-apiserver's YAML printer renders it (a Go struct marshalled: the zero
    creationTimestamp as null in both metadata blocks, an empty status), for comparison with the API's
    answer. Not for applying."""
    out = copy.deepcopy(deployment)
    out["metadata"]["creationTimestamp"] = None
    out["spec"]["template"]["metadata"]["creationTimestamp"] = None
    out["status"] = {}
    return out


def flags(deployment):
    """{'name': ..., 'token': ..., 'proxy-server': ..., ...} from the agent container's command."""
    out = {}
    containers = objects.get_path(deployment or {}, "spec.template.spec.containers") or []
    for arg in (containers[0].get("command") or []) if containers else []:
        if arg.startswith("--") and "=" in arg:
            key, value = arg[2:].split("=", 1)
            out[key] = value
    return out


def mask(deployment):
    """A copy with the --token= value masked (safe for results and diffs)."""
    if not deployment:
        return deployment
    out = copy.deepcopy(deployment)
    for container in objects.get_path(out, "spec.template.spec.containers") or []:
        for key in ("command", "args"):
            if container.get(key):
                container[key] = [_mask_arg(a) for a in container[key]]
    return out


def _mask_arg(arg):
    if isinstance(arg, str) and arg.startswith(TOKEN_FLAG) and len(arg) > len(TOKEN_FLAG):
        return TOKEN_FLAG + objects.MASK
    return arg


def diff(before, after):
    """The module's `diff` for the agent Deployment: normalized and masked."""
    return {"before": mask(objects.normalize(before)) if before else {},
            "after": mask(objects.normalize(after)) if after else {}}


def needs_update(live, desired):
    """True when the live Deployment differs from the desired one in what ks-apiserver's builder sets
    (labels, selector, the container's name/image/command/resources, the ServiceAccount)."""
    if not live:
        return True
    return not objects.contains(live, {
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {
            "selector": desired["spec"]["selector"],
            "template": {"metadata": {"labels": desired["spec"]["template"]["metadata"]["labels"]}},
        },
    }) or _pod(live) != _pod(desired)


def _pod(dep):
    spec = objects.get_path(dep, "spec.template.spec") or {}
    containers = spec.get("containers") or []
    keep = [{k: c.get(k) for k in ("name", "image", "command", "resources")} for c in containers]
    return {"serviceAccountName": spec.get("serviceAccountName"), "containers": keep}


# ---------------------------------------------------------------------------------------------------
# the proxy address


def valid_address(address):
    try:
        parts = urlsplit(address or "")
        return parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port is not None
    except ValueError:
        return False


def proxy_service_ref(host_config):
    """(name, namespace) of the tower Service ks-apiserver reads: multicluster.proxyPublishService split
    on dots (name, then namespace when given), namespace default kubesphere-system; None when unset."""
    value = objects.get_path(host_config or {}, "multicluster.proxyPublishService")
    if not value:
        return None
    parts = value.split(".")
    return parts[0], parts[1] if len(parts) > 1 and parts[1] else NAMESPACE


FIX = "set spec.multicluster.proxyPublishAddress in the host's ClusterConfiguration"


def proxy_address(host_config, tower_service=None, nodes=None, allow_node_port=True, fix=FIX):
    """Where the member's agent dials tower, derived as ks-apiserver does, with a NodePort fallback.

    `host_config` is the host's parsed kubesphere.yaml; `tower_service` the Service it names (None when
    absent); `nodes` the host's Node objects (only read for the fallback). Returns {'address', 'source',
    'api_agrees', 'error'}: source is proxyPublishAddress, loadBalancer or nodePort; api_agrees False
    means ks-apiserver's agent/deployment API would answer 404 (the collection's own fallback); address
    None with `error` saying why and what to do."""
    name = objects.get_path(host_config or {}, "multicluster.proxyPublishAddress")
    if name:
        return _address(name, "proxyPublishAddress", True)
    ref = proxy_service_ref(host_config)
    if ref is None:
        return _none("the host's kubesphere-config has neither multicluster.proxyPublishAddress nor "
                     "proxyPublishService (ks-apiserver: \"neither proxy address nor proxy service provided\"): %s" % fix)
    svc_name, svc_ns = ref
    if not tower_service:
        return _none("Service %s/%s (the host's proxyPublishService) does not exist: tower is not installed on "
                     "the host (is its role host and its multicluster status enabled?)" % (svc_ns, svc_name))
    ports = objects.get_path(tower_service, "spec.ports") or []
    if not ports:
        return _none("Service %s/%s has no ports: repair tower's Service on the host, or %s" % (svc_ns, svc_name, fix))
    address = load_balancer_address(tower_service)
    if address:
        return _address(address, "loadBalancer", True)
    node_port = ports[0].get("nodePort")
    node_ip = _node_ip(nodes) if allow_node_port else None
    if node_port and node_ip:
        return _address("http://%s:%s" % (node_ip, node_port), "nodePort", False)
    why = ("it has no nodePort" if not node_port else "no Ready node has an InternalIP") if allow_node_port \
        else "the NodePort fallback is off"
    return _none("Service %s/%s has no LoadBalancer address and %s: %s, an address the members reach (http://IP:port "
                 "of tower)" % (svc_ns, svc_name, why, fix))


def load_balancer_address(tower_service):
    """http://<LoadBalancer IP or hostname>:<port> of tower's Service, None without an ingress (the IP wins
    over the hostname of the same entry, the last entry over the first, as ks-apiserver reads it)."""
    ports = objects.get_path(tower_service or {}, "spec.ports") or []
    if not ports:
        return None
    address = None
    for ingress in objects.get_path(tower_service, "status.loadBalancer.ingress") or []:
        if ingress.get("hostname"):
            address = "http://%s:%s" % (ingress["hostname"], ports[0].get("port"))
        if ingress.get("ip"):
            address = "http://%s:%s" % (ingress["ip"], ports[0].get("port"))
    return address


def _address(address, source, api_agrees):
    if not valid_address(address):
        return _none("%s %r is not http[s]://host:port" % (source, address))
    return {"address": address, "source": source, "api_agrees": api_agrees, "error": None}


def _none(error):
    return {"address": None, "source": None, "api_agrees": False, "error": error}


def _node_ip(nodes):
    """The InternalIP of the first Ready node by name (any node when none says Ready)."""
    def internal_ip(node):
        for addr in objects.get_path(node, "status.addresses") or []:
            if addr.get("type") == "InternalIP" and addr.get("address"):
                return addr["address"]
        return None

    def is_ready(node):
        return any(c.get("type") == "Ready" and c.get("status") == "True"
                   for c in objects.get_path(node, "status.conditions") or [])

    ordered = sorted(nodes or [], key=lambda n: objects.get_path(n, "metadata.name") or "")
    for pool in ([n for n in ordered if is_ready(n)], ordered):
        for node in pool:
            ip = internal_ip(node)
            if ip:
                return ip
    return None


# ---------------------------------------------------------------------------------------------------
# tower's record of the agent's connection (tower v0.2.1 pkg/proxy/proxy.go `Update`): on every agent that
# completes its handshake, tower rewrites the Cluster's AgentAvailable condition (status True, message "Agent has
# connected to proxy successfully.", lastUpdateTime = lastTransitionTime = now, a new kubeconfig issued); when the
# last connection of a cluster closes, the same with status False ("Agent has not connected to proxy."). A
# condition whose times differ from those read before a re-point was therefore written by a connection (or
# disconnection) after it: True then is a fresh connection, never the Ready state left from before.

CONNECTION_CONDITION = "AgentAvailable"


def connection(cluster):
    """{status, time, message} of tower's AgentAvailable condition on the Cluster (time: its lastUpdateTime, else
    lastTransitionTime), None when tower never wrote one. Safe to print."""
    found = None
    for cond in objects.get_path(cluster or {}, "status.conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == CONNECTION_CONDITION:
            found = cond
    if found is None:
        return None
    return {"status": found.get("status"), "time": found.get("lastUpdateTime") or found.get("lastTransitionTime"),
            "message": found.get("message") or ""}


def reconnected(cluster, before):
    """True when tower recorded a connection of the agent after `before` (connection() read before the re-point,
    None when there was none): AgentAvailable True with other times than before's."""
    now = connection(cluster)
    if not now or now.get("status") != "True":
        return False
    return not before or (now.get("time"), now.get("status")) != (before.get("time"), before.get("status"))


def proxy_server(deployment):
    """The address a cluster-agent Deployment dials (its --proxy-server), None without one."""
    return flags(deployment).get("proxy-server") if deployment else None
