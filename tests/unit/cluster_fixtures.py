"""Cluster objects, their conditions, KubeFedClusters and kubeconfigs with a real client certificate, as
the unit tests of objects/cluster.py, cluster_health.py, kubeconfig.py, x509.py and checks/ build them."""

import base64
import datetime

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co

KUBECONFIG = """apiVersion: v1
kind: Config
current-context: admin@member1
contexts:
- name: admin@member1
  context: {cluster: member1, user: admin}
- name: token@member1
  context: {cluster: member1, user: robot}
clusters:
- name: member1
  cluster: {server: "https://10.0.0.5:6443", certificate-authority-data: Q0E=}
users:
- name: admin
  user: {client-certificate-data: %s, client-key-data: S0VZ}
- name: robot
  user: {token: abc.def}
"""


def make_cert(not_after, generalized=False):
    """A self-signed certificate (PEM) valid until `not_after`, made with `cryptography`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"kubernetes-admin")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime.datetime(2020, 1, 1))
            .not_valid_after(not_after).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def kubeconfig(not_after=datetime.datetime(2030, 5, 6, 7, 8, 9)):
    return KUBECONFIG % base64.b64encode(make_cert(not_after)).decode()


def cond(kind, status, reason="", message=""):
    return {"type": kind, "status": status, "reason": reason, "message": message}


def cluster(name="member1", ctype="direct", conds=(), uid="u-1", ks="v3.4.1", kubeconfig="a: b", **extra):
    obj = {"apiVersion": co.API_VERSION, "kind": "Cluster",
           "metadata": {"name": name, "finalizers": [co.FINALIZER]},
           "spec": {"joinFederation": True, "provider": "", "connection": {"type": ctype}},
           "status": {"conditions": list(conds), "uid": uid, "kubeSphereVersion": ks}}
    if kubeconfig:
        obj["spec"]["connection"]["kubeconfig"] = co.encode_kubeconfig(kubeconfig)
    obj.update(extra)
    return obj


def kfc(*conds):
    return {"kind": "KubeFedCluster", "metadata": {"name": "member1"}, "status": {"conditions": list(conds)}}


READY = [cond("Federated", "True"), cond("Ready", "True", "Ready", "Cluster is available now")]
