"""What a fresh lab cluster gets before any test runs: KubeSphere's CRDs, the namespaces and Nodes a
real cluster has, and, for an "installed" cluster, the ClusterConfiguration ks-installer reads.

CRDs come from a folder: by default KubeSphere 3.4's real files beside the checkout
(../shared/kubesphere-crds: v3.4 and v3.4-ks-core, all of which a real ks-apiserver needs), or
$KSLAB_CRDS_DIR / `kslab up --crds`. Every YAML file below it is read. CustomResourceDefinitions are loaded into every cluster and waited for until
Established. The other documents (FederatedTypeConfigs) are what ks-installer applies when a cluster
becomes the host, so the ks-installer stand-in applies them then (see `extra_documents`), and
the ClusterConfiguration document (ks-installer's deploy/cluster-configuration.yaml) is the spec every
installed cluster starts with: the lab decides which clusters are installed."""

import glob
import json
import os
import time

import yaml

from .rest import ApiError

KUBEFED_NAMESPACE = "kube-federation-system"
KS_NAMESPACE = "kubesphere-system"
KS_INSTALLER_VERSION = "v3.4.1"


def _documents(crds_dir):
    files = sorted(glob.glob(os.path.join(crds_dir, "**", "*.yaml"), recursive=True)
                   + glob.glob(os.path.join(crds_dir, "**", "*.yml"), recursive=True))
    for path in files:
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if isinstance(doc, dict) and doc.get("kind"):
                    yield path, doc


def crd_documents(crds_dir):
    return [d for _, d in _documents(crds_dir) if d["kind"] == "CustomResourceDefinition"]


def extra_documents(crds_dir):
    """Non-CRD documents of the folder that ks-installer applies on the host (FederatedTypeConfigs)."""
    return [d for _, d in _documents(crds_dir) if d["kind"] not in ("CustomResourceDefinition", "ClusterConfiguration")]


def load_crds(rest, crds_dir, timeout=120):
    crds = crd_documents(crds_dir)
    if not crds:
        raise RuntimeError("no CustomResourceDefinition found below %s" % crds_dir)
    for crd in crds:
        rest.apply(crd)
    deadline = time.time() + timeout
    pending = {c["metadata"]["name"] for c in crds}
    while pending and time.time() < deadline:
        for name in sorted(pending):
            live = rest.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/%s" % name)
            conds = {c["type"]: c["status"] for c in (live.get("status") or {}).get("conditions") or []}
            if conds.get("Established") == "True":
                pending.discard(name)
        if pending:
            time.sleep(0.3)
    if pending:
        raise RuntimeError("CRDs not Established after %d s: %s" % (timeout, ", ".join(sorted(pending))))
    return len(crds)


def _node(cluster, i, k8s_version):
    name = "%s-node%d" % (cluster, i)
    return name, {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/control-plane" if i == 1 else "node-role.kubernetes.io/worker": "",
            },
        },
    }, {
        "status": {
            "conditions": [{
                "type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "kubelet is posting ready status (kslab)",
                "lastHeartbeatTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "lastTransitionTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }],
            "addresses": [{"type": "InternalIP", "address": "127.0.%d.%d" % (10, i)},
                          {"type": "Hostname", "address": name}],
            "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
            "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
            "nodeInfo": {
                "machineID": "%032x" % (abs(hash((cluster, i))) % (1 << 128)),
                "systemUUID": "%s-%d" % (cluster, i), "bootID": "%s-boot-%d" % (cluster, i),
                "kernelVersion": "6.1.0", "osImage": "Debian GNU/Linux 12 (kslab)",
                "containerRuntimeVersion": "containerd://1.7.0", "kubeletVersion": k8s_version,
                "kubeProxyVersion": k8s_version, "operatingSystem": "linux", "architecture": "amd64",
            },
        }
    }


def _example_spec(crds_dir):
    """spec of the ClusterConfiguration document in the CRD folder (KubeSphere's own
    deploy/cluster-configuration.yaml, what a user installs with), or None."""
    if not crds_dir or not os.path.isdir(crds_dir):
        return None
    for _, doc in _documents(crds_dir):
        if doc["kind"] == "ClusterConfiguration" and isinstance(doc.get("spec"), dict):
            return doc["spec"]
    return None


def cluster_configuration(role="none", jwt_secret="", crds_dir=None):
    """The ClusterConfiguration an installed KubeSphere 3.4 cluster has: ks-installer's
    deploy/cluster-configuration.yaml when the CRD folder carries it (it needs no migration by the installer),
    else the same keys written out here."""
    spec = _example_spec(crds_dir or os.environ.get("KSLAB_CRDS_DIR") or _default_crds())
    if spec is None:
        spec = {
            "persistence": {"storageClass": ""},
            "authentication": {"jwtSecret": ""},
            "local_registry": "",
            "common": {"core": {"console": {"enableMultiLogin": True, "port": 30880, "type": "NodePort"}},
                       "redis": {"enabled": False, "enableHA": False, "volumeSize": "2Gi"},
                       "openldap": {"enabled": False, "volumeSize": "2Gi"},
                       "minio": {"volumeSize": "20Gi"},
                       "monitoring": {"endpoint": "http://prometheus-operated.kubesphere-monitoring-system.svc:9090",
                                      "GPUMonitoring": {"enabled": False}},
                       "es": {"enabled": False, "logMaxAge": 7, "elkPrefix": "logstash",
                              "basicAuth": {"enabled": False, "username": "", "password": ""},
                              "externalElasticsearchHost": "", "externalElasticsearchPort": ""},
                       "opensearch": {"enabled": True, "logMaxAge": 7, "opensearchPrefix": "whizard",
                                      "basicAuth": {"enabled": True, "username": "admin", "password": "admin"},
                                      "externalOpensearchHost": "", "externalOpensearchPort": "",
                                      "dashboard": {"enabled": False}}},
            "alerting": {"enabled": False},
            "auditing": {"enabled": False},
            "devops": {"enabled": False, "jenkinsCpuReq": 0.5, "jenkinsCpuLim": 1, "jenkinsMemoryReq": "4Gi",
                       "jenkinsMemoryLim": "4Gi", "jenkinsVolumeSize": "16Gi"},
            "events": {"enabled": False, "ruler": {"enabled": True, "replicas": 2}},
            "logging": {"enabled": False, "logsidecar": {"enabled": True, "replicas": 2}},
            "metrics_server": {"enabled": False},
            "monitoring": {"storageClass": "", "node_exporter": {"port": 9100}},
            "multicluster": {"clusterRole": "none"},
            "network": {"networkpolicy": {"enabled": False}, "ippool": {"type": "none"}, "topology": {"type": "none"}},
            "openpitrix": {"store": {"enabled": False}},
            "servicemesh": {"enabled": False, "istio": {"components": {
                "ingressGateways": [{"name": "istio-ingressgateway", "enabled": False}], "cni": {"enabled": False}}}},
            "edgeruntime": {"enabled": False},
            "gatekeeper": {"enabled": False},
            "terminal": {"timeout": 600},
        }
    spec = json.loads(json.dumps(spec))
    spec.setdefault("authentication", {})["jwtSecret"] = jwt_secret
    spec.setdefault("multicluster", {})["clusterRole"] = role
    return {
        "apiVersion": "installer.kubesphere.io/v1alpha1",
        "kind": "ClusterConfiguration",
        "metadata": {"name": "ks-installer", "namespace": KS_NAMESPACE, "labels": {"version": KS_INSTALLER_VERSION}},
        "spec": spec,
    }


def _default_crds():
    from .layout import default_crds_dir  # noqa: PLC0415

    return default_crds_dir()


def furnish(rest, name, cluster, crds_dir, all_names):
    """Load CRDs, namespaces, Nodes and (installed clusters) the ClusterConfiguration. Idempotent."""
    load_crds(rest, crds_dir)
    k8s_version = rest.get("/version")["gitVersion"]
    for i in range(1, 4):
        node_name, node, node_status = _node(name, i, k8s_version)
        rest.ensure(node)
        rest.merge_patch("/api/v1/nodes/%s/status" % node_name, node_status)
    if cluster.get("installed", True):
        rest.ensure({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": KS_NAMESPACE}})
        try:
            rest.ensure(cluster_configuration(crds_dir=crds_dir))
        except ApiError as e:
            raise RuntimeError("cluster %s: could not create the ClusterConfiguration: %s" % (name, e.reason))
