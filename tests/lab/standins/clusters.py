"""ks-controller-manager's cluster controller (fact sheet §3), for every lab cluster whose rendered
kubesphere-config says `clusterRole: host`.

Per pass: make the host Cluster when none carries the host label; then for each Cluster: finalizer,
deletion (host-side unjoin only), and for joinFederation clusters with a kubeconfig: connect to the member
WITH THE KUBECONFIG FROM THE OBJECT, join the federation (member SA/RBAC/token, host Secret and
KubeFedCluster), fill status, set Federated/Ready/KubeConfigCertExpiresInSevenDays, and write
`multicluster.clusterName` into the member's kubesphere-config. Lab additions, all visible as a
`KslabValidation` condition and/or Events: refusal of a second Cluster for the same kube-system UID,
member role and jwtSecret checks, and the UPDATE webhook's kubeconfig check emulated after the fact."""

import base64
import hashlib
import logging
import os
import ssl
import urllib.error
from datetime import datetime, timedelta, timezone

import yaml
from cryptography import x509

from kslabkit.lab import embedded_kubeconfig

from .conditions import (CLUSTERS, Teller, b64, condition_true, delete, patch_cluster_spec, set_condition, upsert,
                         write_cluster_status)
from .installer import CC_PATH, CONFIG_PATH, FED_NS, KS_NS, cluster_role, host_clusters, read_ks_config
from .runtime import ApiError, rest_from_kubeconfig_bytes

log = logging.getLogger("standins.clusters")

HOST_LABEL = "cluster-role.kubesphere.io/host"
MANAGED_LABEL = "kubesphere.io/managed"
FINALIZER = "finalizer.cluster.kubesphere.io"
KUBEFED_CLUSTERS = "/apis/core.kubefed.io/v1beta1/namespaces/%s/kubefedclusters" % FED_NS
HOST_DESCRIPTION = ("The description was created by KubeSphere automatically. It is recommended that you use the "
                    "Host Cluster to manage clusters only and deploy workloads on Member Clusters.")
COMPONENT = "cluster-controller"
TOKEN_SECONDS = 10 * 365 * 24 * 3600

MSG_FEDERATED = "Cluster has joined federation control plane successfully"
MSG_NOT_FEDERATED = "Cluster can not join federation control plane"
MSG_READY = "Cluster is available now"
MSG_SAME_CLUSTER = "cluster %s already exists (%s), MUST not import the same cluster twice"
MSG_NOT_MEMBER = ("failed to validate member cluster configuration, err: the clusterRole of the member cluster "
                  "must be 'member'")
MSG_JWT_VALIDATION = ("failed to validate member cluster configuration, err: hostcluster Jwt is not equal to member "
                      "cluster jwt, please edit the member cluster cluster config")
MSG_JWT_RUNTIME = "jwt: failed to parse token: signature is invalid"
MSG_NO_KS = ('unable validate kubesphere endpoint, invalid response: services "ks-apiserver" not found , please make '
             "sure ks-apiserver.kubesphere-system.svc of member cluster is up and running")
MSG_OTHER_CLUSTER = ("this kubeconfig corresponds to a different cluster than the previous one, you need to make sure "
                     "that kubeconfig is not from another cluster")
WEBHOOK_DENIED = 'admission webhook "validating-cluster.kubesphere.io" denied the request: %s'


class JoinError(Exception):
    pass


def parse_kubeconfig(data):
    """(cluster, user) sections of the current context of a base64 kubeconfig."""
    cfg = yaml.safe_load(base64.b64decode(data))
    ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == cfg.get("current-context"))
    cluster = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
    user = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
    return cluster, user


def go_error(err, server):
    """A connection error worded the way client-go reports it (what KubeSphere puts in `reason`)."""
    url = '%s/api/v1/namespaces/kube-system' % server
    hostport = server.split("://", 1)[-1]
    reason = getattr(err, "reason", err)
    if isinstance(err, ApiError):
        return "Unauthorized" if err.status == 401 else str(err.reason)
    if isinstance(reason, ConnectionRefusedError):
        return 'Get "%s": dial tcp %s: connect: connection refused' % (url, hostport)
    if isinstance(reason, ssl.SSLCertVerificationError):
        return 'Get "%s": x509: certificate signed by unknown authority' % url
    if isinstance(reason, (TimeoutError, OSError)) or isinstance(err, urllib.error.URLError):
        return 'Get "%s": dial tcp %s: %s' % (url, hostport, reason)
    return str(err)


def same_cluster(clusters, name, uid):
    """Name of another (not deleting) Cluster that already has this kube-system UID."""
    return next((o["metadata"]["name"] for o in clusters if o["metadata"]["name"] != name
                 and (o.get("status") or {}).get("uid") == uid and not o["metadata"].get("deletionTimestamp")), None)


def expiry_condition(conds, kubeconfig):
    """KubeConfigCertExpiresInSevenDays from the client certificate (ValueError "empty CertData" without one)."""
    _, user = parse_kubeconfig(kubeconfig)
    if not user.get("client-certificate-data"):
        raise ValueError("empty CertData")
    not_after = x509.load_pem_x509_certificate(base64.b64decode(user["client-certificate-data"])).not_valid_after_utc
    soon = "True" if not_after < datetime.now(timezone.utc) + timedelta(days=7) else "False"
    conds, _ = set_condition(conds, "KubeConfigCertExpiresInSevenDays", soon, "KubeConfigCertExpiresInSevenDays",
                             not_after.strftime("%Y-%m-%d %H:%M:%S +0000 UTC"))  # Go's time.String()
    return conds


class ClusterController:
    name = "cluster-controller"

    def __init__(self, lab):
        self.lab = lab
        self._members = {}        # kubeconfig sha -> Rest (clients keep temp cert files: build each once)
        self._accepted_dir = os.path.join(lab.state_dir, "standins", "accepted-kubeconfigs")
        self.tell = Teller(COMPONENT)

    # --- entry ---------------------------------------------------------------------------------------

    def step(self):
        for host, rest, cfg in host_clusters(self.lab):
            try:
                self.reconcile_host_cluster(host, rest, cfg)
                clusters = rest.get(CLUSTERS)["items"]
            except (ApiError, OSError) as e:
                log.warning("%s: %s", host, e)
                continue
            for c in clusters:
                try:
                    self.sync(host, rest, cfg, c, clusters)
                except (ApiError, OSError) as e:
                    log.warning("%s: cluster %s: %s", host, c["metadata"]["name"], e)

    def reconcile_host_cluster(self, host, rest, cfg):
        kubeconfig = b64(embedded_kubeconfig(self.lab.kubeconfig(host)))
        hosts = rest.get(CLUSTERS + "?labelSelector=" + HOST_LABEL)["items"]
        if len(hosts) > 1:
            log.error("%s: Error create host cluster, error there MUST not be more than one host clusters, while "
                      "there are %d", host, len(hosts))
            return
        if not hosts:
            name = (cfg.get("multicluster") or {}).get("hostClusterName") or "host"
            log.info("%s: creating the host Cluster %s", host, name)
            rest.request("POST", CLUSTERS, {
                "apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
                "metadata": {"name": name, "labels": {HOST_LABEL: "", MANAGED_LABEL: "true"},
                             "annotations": {"kubesphere.io/description": HOST_DESCRIPTION}},
                "spec": {"joinFederation": True, "enable": True, "provider": "kubesphere",
                         "connection": {"type": "direct", "kubeconfig": kubeconfig}},
            })
            return
        c = hosts[0]
        if (c["metadata"].get("labels") or {}).get(MANAGED_LABEL) == "true" and \
                ((c.get("spec") or {}).get("connection") or {}).get("kubeconfig") != kubeconfig:
            patch_cluster_spec(rest, c, {"kubeconfig": kubeconfig})

    # --- one Cluster ---------------------------------------------------------------------------------

    def sync(self, host, rest, cfg, c, clusters):
        name = c["metadata"]["name"]
        path = "%s/%s" % (CLUSTERS, name)
        finalizers = c["metadata"].get("finalizers") or []
        if c["metadata"].get("deletionTimestamp"):
            if FINALIZER in finalizers:
                self.unjoin(rest, name)
                self._forget(host, name)
                self.tell.forget(name)
                rest.merge_patch(path, {"metadata": {"resourceVersion": c["metadata"]["resourceVersion"],
                                                     "finalizers": [f for f in finalizers if f != FINALIZER]}})
            return
        if FINALIZER not in finalizers:
            c = rest.merge_patch(path, {"metadata": {"resourceVersion": c["metadata"]["resourceVersion"],
                                                     "finalizers": finalizers + [FINALIZER]}})
        spec = c.get("spec") or {}
        kubeconfig = (spec.get("connection") or {}).get("kubeconfig")
        if spec.get("joinFederation") and kubeconfig and self.admit(host, rest, c, kubeconfig):
            self.sync_joined(host, rest, cfg, c, clusters, kubeconfig)

    def sync_joined(self, host, rest, cfg, c, clusters, kubeconfig):
        """What syncCluster does once there is a kubeconfig: connect, join, status, conditions."""
        name = c["metadata"]["name"]
        conn = c["spec"]["connection"]
        status = dict(c.get("status") or {})
        conds = list(status.get("conditions") or [])
        try:
            cluster_cfg, _ = parse_kubeconfig(kubeconfig)
            server = cluster_cfg["server"].rstrip("/")
        except Exception as e:  # noqa: BLE001  anything a broken kubeconfig can raise
            return self.join_failed(rest, c, conds, "failed to create cluster config for %s: %s" % (name, e))
        if conn.get("type") == "proxy" and not condition_true(c, "AgentAvailable"):
            refused = urllib.error.URLError(ConnectionRefusedError())  # the tunnel is down
            return self.join_failed(rest, c, conds, go_error(refused, conn.get("kubernetesAPIEndpoint") or server))
        try:
            member = self.member(kubeconfig)
            version = member.get("/version")["gitVersion"]
            uid = member.get("/api/v1/namespaces/kube-system")["metadata"]["uid"]
        except Exception as e:  # noqa: BLE001
            return self.join_failed(rest, c, conds, go_error(e, server))
        owner = same_cluster(clusters, name, uid)
        if owner and status.get("uid") != uid:
            msg = MSG_SAME_CLUSTER % (name, owner)
            conds, changed = set_condition(conds, "KslabValidation", "False", "AlreadyExists", msg)
            return self.write_status(rest, c, dict(status, conditions=conds), ("Warning", "Validation", msg), changed)
        try:
            self.join(rest, member, c, cluster_cfg, server)
        except (ApiError, OSError, JoinError) as e:
            return self.join_failed(rest, c, conds, go_error(e, server))
        conds, _ = set_condition(conds, "Federated", "True", "", MSG_FEDERATED)
        status.update(kubernetesVersion=version, nodeCount=len(member.get("/api/v1/nodes")["items"]), uid=uid)
        status.update(self.kubesphere_facts(member))
        is_host = HOST_LABEL in (c["metadata"].get("labels") or {})
        conds, event = self.readiness(conds, None if is_host else self.member_problem(member, cfg))
        if not is_host and conn.get("type") != "proxy":
            try:
                conds = expiry_condition(conds, kubeconfig)
            except ValueError as e:  # KubeSphere 3.4 returns here: the status is NOT written
                msg = ("sync KubeConfig expiration date for cluster %s failed: parseKubeConfigExpirationDate for "
                       "cluster %s failed: %s" % (name, name, e))
                log.error("%s", msg)
                return self.tell(rest, c, "Warning", "KubeConfigExpiration", msg)
        if not conn.get("kubernetesAPIEndpoint"):
            c = patch_cluster_spec(rest, c, {"kubernetesAPIEndpoint": server})
        self.write_status(rest, c, dict(status, conditions=conds), *event)
        self._accept(host, name, kubeconfig)
        self.set_cluster_name(member, name)
        return None

    @staticmethod
    def readiness(conds, problem):
        """Ready (and the lab's KslabValidation) from the member checks; returns (conditions, (event, new))."""
        if not problem:
            conds, _ = set_condition(conds, "KslabValidation", "True", "Passed", "")
            conds, _ = set_condition(conds, "Ready", "True", "Ready", MSG_READY)
            return conds, (None, False)
        code, validation_msg, ready_reason, ready_msg = problem
        conds, changed = set_condition(conds, "KslabValidation", "False", code, validation_msg)
        conds, _ = set_condition(conds, "Ready", "False", ready_reason, ready_msg)
        return conds, (("Warning", "Validation", ready_msg), changed)

    # --- pieces --------------------------------------------------------------------------------------

    def member(self, kubeconfig):
        key = hashlib.sha256(kubeconfig.encode()).hexdigest()
        if key not in self._members:
            self._members[key] = rest_from_kubeconfig_bytes(kubeconfig, timeout=5)
        return self._members[key]

    def join_failed(self, rest, c, conds, error):
        conds, changed = set_condition(conds, "Federated", "False", error, MSG_NOT_FEDERATED)
        conds, _ = set_condition(conds, "Ready", "False", "Cluster join federation control plane failed",
                                 "Cluster is Not Ready now")
        status = dict(c.get("status") or {}, conditions=conds)
        self.write_status(rest, c, status, ("Warning", "JoinFederation", error), changed)

    def write_status(self, rest, c, status, event=None, new=True):
        """Status write; `event` (type, reason, message) is recorded when new or not told yet."""
        write_cluster_status(rest, c, status)
        if event:
            self.tell(rest, c, *event, again=new)

    def join(self, host_rest, member, c, cluster_cfg, server):
        """kubefedctl join as KubeSphere calls it (host cluster name `kubesphere`, cluster scope)."""
        name = c["metadata"]["name"]
        sa = "%s-kubesphere" % name
        sa_path = "/api/v1/namespaces/%s/serviceaccounts/%s" % (FED_NS, sa)
        secret_path = "/api/v1/namespaces/%s/secrets/%s-secret" % (FED_NS, name)
        fresh = member.try_get(sa_path) is None
        if fresh:
            member.ensure({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": FED_NS}})
            member.ensure({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": FED_NS}})
            role = "kubefed-controller-manager:%s" % sa
            member.ensure({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                           "metadata": {"name": role},
                           "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                                     {"nonResourceURLs": ["*"], "verbs": ["get"]}]})
            member.ensure({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                           "metadata": {"name": role},
                           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                           "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": FED_NS}]})
        if fresh or host_rest.try_get(secret_path) is None:
            token = member.request("POST", sa_path + "/token", {
                "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                "spec": {"expirationSeconds": TOKEN_SECONDS}})["status"]["token"]
            host_rest.ensure({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": FED_NS}})
            upsert(host_rest, {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                               "metadata": {"name": "%s-secret" % name, "namespace": FED_NS},
                               "data": {"token": b64(token)}}, COMPONENT)
        spec = {"apiEndpoint": server, "secretRef": {"name": "%s-secret" % name}}
        if cluster_cfg.get("certificate-authority-data"):
            spec["caBundle"] = cluster_cfg["certificate-authority-data"]
        if cluster_cfg.get("insecure-skip-tls-verify"):
            spec["disabledTLSValidations"] = ["*"]
        try:
            upsert(host_rest, {"apiVersion": "core.kubefed.io/v1beta1", "kind": "KubeFedCluster",
                               "metadata": {"name": name, "namespace": FED_NS,
                                            "labels": dict(c["metadata"].get("labels") or {})},
                               "spec": spec}, COMPONENT)
        except ApiError as e:
            raise JoinError("failed to create KubeFedCluster %s: %s" % (name, e.reason)) from None

    def unjoin(self, rest, name):
        """unJoinFederation(nil, name): only the host side goes; member leftovers stay (§3)."""
        try:
            delete(rest, "%s/%s" % (KUBEFED_CLUSTERS, name))
        except ApiError as e:
            if e.status != 404:  # no KubeFedCluster kind at all: nothing to remove
                raise
        delete(rest, "/api/v1/namespaces/%s/secrets/%s-secret" % (FED_NS, name))

    def kubesphere_facts(self, member):
        """kubeSphereVersion and configz. The real controller asks the member's ks-apiserver (/kapis/version,
        /kapis/config.kubesphere.io/v1alpha2/configs/configz) through the service proxy; the lab reads the
        member's ClusterConfiguration status instead. Nothing when the member has no ks-apiserver."""
        if not member.try_get("/apis/apps/v1/namespaces/%s/deployments/ks-apiserver" % KS_NS):
            return {}
        cc = member.try_get(CC_PATH) or {}
        st, spec = cc.get("status") or {}, cc.get("spec") or {}
        configz = {k: bool(v.get("enabled")) for k, v in spec.items() if isinstance(v, dict) and "enabled" in v}
        configz.update({k: v.get("status") == "enabled" for k, v in st.items()
                        if isinstance(v, dict) and "status" in v})
        configz["multicluster"] = cluster_role(read_ks_config(member)) == "host"
        return {"kubeSphereVersion": (st.get("core") or {}).get("version") or "unknown", "configz": configz}

    def member_problem(self, member, host_cfg):
        """(code, validation message, Ready reason, Ready message) or None."""
        if not member.try_get("/apis/apps/v1/namespaces/%s/deployments/ks-apiserver" % KS_NS):
            return ("KubeSphereUnavailable", MSG_NO_KS, "KubeSphereUnavailable", MSG_NO_KS)
        mcfg = read_ks_config(member)
        if cluster_role(mcfg) != "member":
            return ("NotMember", MSG_NOT_MEMBER, "NotMember", MSG_NOT_MEMBER)
        host_jwt = (host_cfg.get("authentication") or {}).get("jwtSecret")
        if (mcfg.get("authentication") or {}).get("jwtSecret") != host_jwt:
            return ("JWTMismatch", MSG_JWT_VALIDATION, "Unauthorized", MSG_JWT_RUNTIME)
        return None

    @staticmethod
    def set_cluster_name(member, name):
        cm = member.try_get(CONFIG_PATH)
        if not cm:
            return
        cfg = yaml.safe_load((cm.get("data") or {}).get("kubesphere.yaml") or "") or {}
        mc = cfg.setdefault("multicluster", {}) or {}
        if mc.get("clusterName") == name:
            return
        mc["clusterName"] = name
        cfg["multicluster"] = mc
        cm["data"]["kubesphere.yaml"] = yaml.safe_dump(cfg, sort_keys=False)
        member.request("PUT", CONFIG_PATH, cm)

    # --- the UPDATE webhook, emulated after the fact -----------------------------------------------

    def admit(self, host, rest, c, kubeconfig):
        """False when the kubeconfig was put back (the webhook would have denied the change)."""
        name = c["metadata"]["name"]
        uid = (c.get("status") or {}).get("uid")
        accepted = self._accepted(host, name)
        if not uid or not accepted or accepted == kubeconfig:
            return True
        try:
            new_uid = self.member(kubeconfig).get("/api/v1/namespaces/kube-system")["metadata"]["uid"]
            denial = None if new_uid == uid else MSG_OTHER_CLUSTER
        except Exception as e:  # noqa: BLE001
            denial = go_error(e, parse_kubeconfig(kubeconfig)[0].get("server", "?"))
        if denial is None:
            return True
        msg = WEBHOOK_DENIED % denial
        log.warning("%s: cluster %s: %s (kubeconfig put back)", host, name, msg)
        c = patch_cluster_spec(rest, c, {"kubeconfig": accepted})
        self.tell(rest, c, "Warning", "AdmissionDenied", msg, again=True)
        return False

    def _accepted_path(self, host, name):
        return os.path.join(self._accepted_dir, host, name)

    def _accepted(self, host, name):
        try:
            with open(self._accepted_path(host, name)) as f:
                return f.read()
        except OSError:
            return None

    def _accept(self, host, name, kubeconfig):
        if self._accepted(host, name) != kubeconfig:
            os.makedirs(os.path.dirname(self._accepted_path(host, name)), exist_ok=True)
            with open(self._accepted_path(host, name), "w") as f:
                f.write(kubeconfig)

    def _forget(self, host, name):
        try:
            os.unlink(self._accepted_path(host, name))
        except OSError:
            pass

