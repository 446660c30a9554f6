"""The Clusters, member facts, KubeFedClusters and the webhook configuration the unbind unit tests share."""

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co


def cluster(name="member1", ctype="direct", uid="uid-1", labels=None, deleting=False, host=False):
    c = {"apiVersion": co.API_VERSION, "kind": "Cluster",
         "metadata": {"name": name, "finalizers": [co.FINALIZER], "labels": dict(labels or {})},
         "spec": {"joinFederation": True, "connection": {"type": ctype}},
         "status": {"uid": uid, "conditions": [{"type": "Ready", "status": "True"}]}}
    if host:
        c["metadata"]["labels"][co.HOST_LABEL] = ""
    if deleting:
        c["metadata"]["deletionTimestamp"] = "2026-11-26T00:00:00Z"
    return c


OFFLINE = {"metadata": {"name": "member1"}, "spec": {"secretRef": {"name": "member1-secret"}},
           "status": {"conditions": [{"type": "Offline", "status": "True", "reason": "ClusterNotReachable"}]}}
KF_READY = {"metadata": {"name": "member1"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
UP = {"reachable": True}
DOWN = {"reachable": False, "error": "dial tcp 10.0.0.5:6443: connect: connection refused"}

WEBHOOK = {
    "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
    "metadata": {"name": "cluster.kubesphere.io", "uid": "w-1", "resourceVersion": "77", "generation": 1,
                 "creationTimestamp": "2026-11-01T00:00:00Z", "managedFields": [{"manager": "kubectl"}],
                 "labels": {"app": "ks-controller-manager"},
                 "annotations": {"meta.helm.sh/release-name": "ks-core"}},
    "webhooks": [{"name": "validating-cluster.kubesphere.io", "admissionReviewVersions": ["v1"],
                  "clientConfig": {"caBundle": "Q0E=",
                                   "service": {"name": "ks-controller-manager", "namespace": "kubesphere-system",
                                               "path": "/validate-cluster-kubesphere-io-v1alpha1", "port": 443}},
                  "failurePolicy": "Fail", "matchPolicy": "Exact", "sideEffects": "None", "timeoutSeconds": 30,
                  "rules": [{"apiGroups": ["cluster.kubesphere.io"], "apiVersions": ["v1alpha1"],
                             "operations": ["UPDATE"], "resources": ["clusters"], "scope": "*"}]}],
}
