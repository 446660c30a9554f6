# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. A dedicated, revocable credential for the host to use on a direct
member instead of the user's admin kubeconfig, and the checks for rotating a member's stored kubeconfig.

What KubeSphere 3.4.1's host does on a member with the stored kubeconfig (pkg/controller/cluster):
- join (kubefedctl): GET/CREATE namespace kube-federation-system, ServiceAccount <name>-kubesphere and a
  legacy token Secret, UPDATE the ServiceAccount, GET the Secret; CREATE/UPDATE ClusterRole and
  ClusterRoleBinding kubefed-controller-manager:<name>-kubesphere whose rules are
  `{apiGroups: [*], resources: [*], verbs: [*]}` and `{nonResourceURLs: [*], verbs: [get]}`;
  LIST tenant.kubesphere.io Workspaces;
- sync: GET /version, LIST nodes, GET namespace kube-system, GET services/proxy of
  kubesphere-system/ks-apiserver (/kapis/version, configz), GET/UPDATE ConfigMap
  kubesphere-system/kubesphere-config; on delete with notification cleanup, DELETE notification objects.
- the UPDATE webhook: GET namespace kube-system with the NEW kubeconfig.
Kubernetes RBAC refuses to create a ClusterRole or binding granting rights the creator does not hold
(escalation prevention) unless it has `escalate`/`bind` -- and those verbs let it grant itself anything.
A ClusterRole of `*` on `*` is cluster-admin, so the credential KubeSphere needs is effectively
cluster-admin. It cannot be made least-privilege; what it can be is dedicated and revocable: its own
ServiceAccount, bound to the built-in `cluster-admin` ClusterRole, with a legacy token Secret (3.4 joins a
token kubeconfig Ready; such a token does not expire), revoked by deleting the binding, ServiceAccount
and Secret -- without touching the user's own admin credentials.

Rotation: the webhook refuses (403) a new kubeconfig whose kube-system UID differs from the Cluster's
status.uid, or that cannot read kube-system at all; proxy members' kubeconfigs are tower's to renew and
the host's own Cluster cannot be updated (ks-apiserver refuses both).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii

try:
    import yaml
except ImportError:  # reported by the caller that reads kubeconfigs
    yaml = None

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import kubeconfig as kc
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import common as objects
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import problem

NAMESPACE = "kube-system"
DEFAULT_NAME = "kubesphere-multicluster"
CLUSTER_ROLE = "cluster-admin"
MANAGED_BY = {"app.kubernetes.io/managed-by": "kubesphere.multicluster"}
HOST_ANNOTATION = "kubesphere.multicluster/host"
TOKEN_TYPE = "kubernetes.io/service-account-token"
SA_ANNOTATION = "kubernetes.io/service-account.name"

# The rules kubefedctl's join puts into kubefed-controller-manager:<name>-kubesphere (join.go
# clusterPolicyRules): whoever creates that ClusterRole must hold all of them.
JOIN_CLUSTER_ROLE_RULES = (
    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
    {"nonResourceURLs": ["*"], "verbs": ["get"]},
)
WHY_CLUSTER_ADMIN = ("KubeSphere's join creates ClusterRole kubefed-controller-manager:<name>-kubesphere granting every "
                     "verb on every resource; Kubernetes lets only a holder of those rights (or of escalate/bind, "
                     "which amount to the same) create it, so the host's credential on a member is effectively "
                     "cluster-admin: the collection binds cluster-admin to a dedicated ServiceAccount that can be "
                     "revoked on its own")


def names(name=DEFAULT_NAME, namespace=NAMESPACE):
    return {"service_account": name, "namespace": namespace, "secret": "%s-token" % name,
            "binding": "%s:%s" % (name, CLUSTER_ROLE)}


def build(host_label, name=DEFAULT_NAME, namespace=NAMESPACE):
    """The member-side objects of the dedicated credential, in creation order: the ServiceAccount, its
    legacy token Secret (filled by the member's token controller), the ClusterRoleBinding to
    cluster-admin. `host_label` (the host's name) is recorded so that a reader knows whose it is."""
    n = names(name, namespace)
    meta = {"labels": dict(MANAGED_BY), "annotations": {HOST_ANNOTATION: host_label}}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": dict(meta, name=n["service_account"], namespace=namespace)},
        {"apiVersion": "v1", "kind": "Secret", "type": TOKEN_TYPE,
         "metadata": {"name": n["secret"], "namespace": namespace, "labels": dict(MANAGED_BY),
                      "annotations": {SA_ANNOTATION: n["service_account"], HOST_ANNOTATION: host_label}}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": dict(meta, name=n["binding"]),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": CLUSTER_ROLE},
         "subjects": [{"kind": "ServiceAccount", "name": n["service_account"], "namespace": namespace}]},
    ]


def revoke(name=DEFAULT_NAME, namespace=NAMESPACE):
    """(kind, name, namespace) to delete, in order, to revoke the credential: the binding first (rights
    gone at once), then the Secret (token invalid) and the ServiceAccount."""
    n = names(name, namespace)
    return [("ClusterRoleBinding", n["binding"], None), ("Secret", n["secret"], namespace),
            ("ServiceAccount", n["service_account"], namespace)]


def token_of(secret):
    """The token the member's token controller wrote into the Secret (decoded), or None while empty."""
    value = objects.get_path(secret or {}, "data.token")
    if not value:
        return None
    try:
        return base64.b64decode(value).decode("utf-8") or None
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def kubeconfig(cluster_name, server, token, ca_data=None, insecure=False):
    """A kubeconfig for the dedicated credential: the member's server and CA (base64 PEM, as in
    certificate-authority-data) from the kubeconfig the user gave, and the ServiceAccount token. Text."""
    if not server or not token:
        raise ValueError("a credential kubeconfig needs the member's server and the token")
    cluster = {"server": server}
    if ca_data:
        cluster["certificate-authority-data"] = ca_data
    if insecure:
        cluster["insecure-skip-tls-verify"] = True
    user = "%s-%s" % (cluster_name, DEFAULT_NAME)
    doc = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": cluster_name, "cluster": cluster}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": cluster_name,
    }
    if yaml is None:
        raise ValueError("writing a kubeconfig needs the PyYAML Python package on the controller")
    return yaml.safe_dump(doc, default_flow_style=False, sort_keys=False)


def kubeconfig_from(cluster_name, user_kubeconfig, token):
    """The credential's kubeconfig text: the server, CA and TLS setting of the user's kubeconfig (text) with
    the ServiceAccount token."""
    view = kc.view(user_kubeconfig)
    return kubeconfig(cluster_name, view["server"], token, ca_of(user_kubeconfig), insecure=view["insecure"])


def ca_of(kubeconfig_text, context=None, secret=None):
    """certificate-authority-data for the credential's kubeconfig: the user's kubeconfig's (it verifies
    the server as the user reaches it), else the token Secret's ca.crt (the cluster's root CA)."""
    try:
        ca_data = kc.view(kubeconfig_text, context)["ca_data"]
    except ValueError:
        ca_data = None
    if ca_data:
        return ca_data
    return objects.get_path(secret or {}, ("data", "ca.crt")) or None


def rotation_problems(name, cluster, new_uid, read_error=None):
    """Before replacing the stored kubeconfig of an imported member: what KubeSphere would refuse.

    cluster     the host's live Cluster (None: not imported; nothing to rotate, no problem)
    new_uid     kube-system UID read with the NEW kubeconfig (None when it could not be read)
    read_error  why it could not be read"""
    if cluster is None:
        return []
    if co.is_host(cluster):
        return [problem("rotation_host", name, "cluster '%s' is the host's own Cluster: KubeSphere does not allow "
                        "updating its kubeconfig (the controller manages it)" % name)]
    if co.connection_type(cluster) == "proxy":
        return [problem("rotation_proxy", name, "cluster '%s' uses a proxy connection: tower issues and renews its "
                        "kubeconfig (restart tower on the host to renew it); there is nothing to rotate" % name)]
    old_uid = co.uid(cluster)
    if new_uid is None:
        return [problem("rotation_unreadable", name, "cluster '%s': the new kubeconfig cannot read namespace kube-system "
                        "(%s): KubeSphere's webhook would deny the update with that same error; fix the new "
                        "kubeconfig first" % (name, read_error or "no answer"))]
    if old_uid and new_uid != old_uid:
        return [problem("kubeconfig_other_cluster", name, "cluster '%s': the new kubeconfig reaches a different cluster "
                        "(kube-system UID %s, the imported member's is %s): KubeSphere's webhook would refuse it with "
                        "403 \"this kubeconfig corresponds to a different cluster than the previous one\"; give a "
                        "kubeconfig of the same cluster" % (name, new_uid, old_uid))]
    return []
