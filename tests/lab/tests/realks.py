"""Helpers for the contract tests against KubeSphere's real binaries in a kslab (test_real_*.py).

Only what a client of KubeSphere does: patch the ClusterConfiguration (the installer stand-in renders,
the lab's supervisor then runs ks-apiserver / ks-controller-manager / tower / kubefed as rendered), create
Cluster objects as the console does, call ks-apiserver's API with a static token. Waits are polls."""

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.request

import yaml

from kslabkit.lab import embedded_kubeconfig
from polling import wait_for
from standins.installer import CC_PATH, read_ks_config

CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters"
KFC = "/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/kubefedclusters"
TYPES = "/apis/types.kubefed.io/v1beta1"
VWC = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/cluster.kubesphere.io"


# --- roles through the ClusterConfiguration -------------------------------------------------------


def wait_rendered(rest, timeout=180):
    return wait_for(lambda: read_ks_config(rest).get("multicluster"), timeout, "kubesphere-config rendered")


def set_role(rest, role, jwt=None, **multicluster):
    spec = {"multicluster": dict(multicluster, clusterRole=role)}
    if jwt is not None:
        spec["authentication"] = {"jwtSecret": jwt}
    rest.merge_patch(CC_PATH, {"spec": spec})

    def applied():
        cfg = read_ks_config(rest)
        if (cfg.get("multicluster") or {}).get("clusterRole") != role:
            return None
        if jwt is not None and cfg["authentication"]["jwtSecret"] != jwt:
            return None
        if role == "host" and ((rest.get(CC_PATH).get("status") or {}).get("multicluster") or {}).get(
                "status") != "enabled":
            return None
        return cfg
    return wait_for(applied, 180, "role %s rendered" % role)


def jwt_secret(rest):
    return read_ks_config(rest)["authentication"]["jwtSecret"]


# --- Cluster objects ------------------------------------------------------------------------------


def b64(text):
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def admin_kubeconfig(lab, name):
    """The lab's admin kubeconfig of a cluster, data embedded (what a user pastes into the console)."""
    return embedded_kubeconfig(lab.kubeconfig(name))


def sa_token_kubeconfig(lab, name, sa="kubesphere-import", seconds=365 * 24 * 3600):
    """A ServiceAccount-token kubeconfig (cluster-admin), the way users make one for an import."""
    rest = lab.client(name)
    rest.ensure({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": "kube-system"}})
    rest.ensure({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                 "metadata": {"name": sa},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                 "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": "kube-system"}]})
    token = rest.request("POST", "/api/v1/namespaces/kube-system/serviceaccounts/%s/token" % sa,
                         {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                          "spec": {"expirationSeconds": seconds}})["status"]["token"]
    cluster = yaml.safe_load(admin_kubeconfig(lab, name))["clusters"][0]["cluster"]
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": name,
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": sa, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": sa}}]})


def direct_cluster(name, kubeconfig, labels=None):
    """A Cluster as the console imports a direct one."""
    return {"apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
            "metadata": {"name": name, "labels": dict(labels or {}, **{"cluster.kubesphere.io/group": "testing"}),
                         "annotations": {"kubesphere.io/creator": "admin", "kubesphere.io/description": ""}},
            "spec": {"provider": "", "joinFederation": True, "enable": True,
                     "connection": {"type": "direct", "kubeconfig": b64(kubeconfig)}}}


def proxy_cluster(name):
    """A Cluster as the console imports a proxy (agent) one: no kubeconfig."""
    return {"apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
            "metadata": {"name": name, "labels": {"cluster.kubesphere.io/group": "testing"},
                         "annotations": {"kubesphere.io/creator": "admin"}},
            "spec": {"provider": "", "joinFederation": True, "enable": True, "connection": {"type": "proxy"}}}


def cluster(host, name):
    return host.get("%s/%s" % (CLUSTERS, name))


def condition(obj, ctype):
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def wait_condition(host, name, ctype, status="True", timeout=180):
    return wait_for(lambda: (condition(cluster(host, name), ctype) or {}).get("status") == status
                    and condition(cluster(host, name), ctype), timeout, "Cluster %s %s=%s" % (name, ctype, status))


def kubefed_cluster(host, name):
    return host.try_get("%s/%s" % (KFC, name))


def kubefed_ready(host, name):
    return (condition(kubefed_cluster(host, name) or {}, "Ready") or {}).get("status") == "True"


# --- ks-apiserver ---------------------------------------------------------------------------------


def static_token(jwt):
    """An admin static token: HS256 JWT {"username": "admin", "token_type": "static_token"} over the jwtSecret."""
    def seg(data):
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")

    head = seg({"alg": "HS256", "typ": "JWT"}) + "." + seg({"username": "admin", "token_type": "static_token"})
    sig = hmac.new(jwt.encode(), head.encode(), hashlib.sha256).digest()
    return head + "." + base64.urlsafe_b64encode(sig).decode().rstrip("=")


class KsApi:
    """ks-apiserver of one lab cluster, on its loopback port (plain HTTP, as --insecure-port serves it)."""

    def __init__(self, lab, name, jwt=None):
        self.base = "http://127.0.0.1:%d" % lab.state["clusters"][name]["ports"]["ks_apiserver"]
        self.token = static_token(jwt) if jwt else None

    def call(self, method, path, body=None):
        """(status, text) of a request; never raises on an HTTP status."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def ready(self):
        try:
            return self.call("GET", "/kapis/version")[0] == 200
        except OSError:
            return False


def wait_ks_apiserver(lab, name, jwt=None, timeout=240):
    api = KsApi(lab, name, jwt)
    wait_for(api.ready, timeout, "ks-apiserver of %s answering /kapis/version" % name)
    return api
