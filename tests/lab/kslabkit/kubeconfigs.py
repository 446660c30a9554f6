"""Kubeconfigs and certificates wiring: each cluster's PKI (made by certs.py) and admin kubeconfig, one
client identity per lab component (so the audit log separates them from the collection), the lab CA that
signs the webhook's serving certificate, and the inventory that points the collection at the kubeconfigs."""

import base64
import os

import yaml

from .certs import make_ca, make_client_cert, make_cluster_pki
from .layout import lab_ca_dir

ADMIN_USER = "kslab-admin"  # the collection's (and tests') identity: the admin kubeconfig kslab writes
COMPONENTS = ("up", "supervisor", "ks-installer", "kube-controller-manager", "ks-apiserver",
              "ks-controller-manager", "tower", "kubefed", "cluster-agent")


def component_user(component):
    return "kslab:%s" % component


def component_kubeconfig(cluster_dir, cluster_name, server, component):
    """A kubeconfig with embedded data for one lab component on one cluster (CN kslab:<component>,
    O system:masters), written once."""
    path = os.path.join(cluster_dir, "identities", "%s.kubeconfig" % component)
    if os.path.exists(path):
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cert, key = make_client_cert(cluster_dir, component_user(component))
    with open(os.path.join(cluster_dir, "ca.crt"), "rb") as f:
        ca = f.read()
    user = component_user(component)
    cfg = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": server,
                                                        "certificate-authority-data": base64.b64encode(ca).decode()}}],
        "users": [{"name": user, "user": {"client-certificate-data": base64.b64encode(cert).decode(),
                                          "client-key-data": base64.b64encode(key).decode()}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": cluster_name,
    }
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def _write_kubeconfig(path, name, server, ca, cert, key):
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority": ca}}],
        "users": [{"name": "%s-admin" % name, "user": {"client-certificate": cert, "client-key": key}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": "%s-admin" % name}}],
        "current-context": name,
    }
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    os.chmod(path, 0o600)


def write_cluster_credentials(c, name):
    """A cluster's PKI, its admin kubeconfig (the collection's) and one kubeconfig per lab component."""
    make_cluster_pki(c["dir"], name)
    _write_kubeconfig(c["kubeconfig"], name, c["server"], os.path.join(c["dir"], "ca.crt"),
                      os.path.join(c["dir"], "admin.crt"), os.path.join(c["dir"], "admin.key"))
    for comp in COMPONENTS:
        component_kubeconfig(c["dir"], name, c["server"], comp)


def wire_webhooks(state):
    """Make the lab CA and record, per cluster, where its kube-apiserver reaches ks-controller-manager's
    webhook (served on hosts by the supervisor's ks-controller-manager) and the CA bundle to trust; the
    installer stand-in installs the ValidatingWebhookConfiguration with it, as ks-installer's ks-core chart
    does on every cluster."""
    sd = state["state_dir"]
    make_ca(lab_ca_dir(sd), "kslab-lab-ca")
    with open(os.path.join(lab_ca_dir(sd), "ca.crt"), "rb") as f:
        ca_bundle = base64.b64encode(f.read()).decode()
    for n, c in state["clusters"].items():
        c["webhook"] = {"url": "https://127.0.0.1:%d" % state["ports"]["clusters"][n]["ks_webhook"],
                        "caBundle": ca_bundle}


def write_inventory(state):
    """An inventory in the layout of inventories/lab/, for any number of clusters."""
    names = list(state["clusters"])
    inv = {
        "kubesphere_host": {"hosts": {names[0]: None}},
        "kubesphere_members": {"hosts": {n: None for n in names[1:]}},
        "kubesphere_clusters": {
            "children": {"kubesphere_host": None, "kubesphere_members": None},
            # Every kube-apiserver of the lab is on 127.0.0.1, so the kubeconfig the host stores for a direct
            # member names a loopback address, which the collection's import refuses unless allowed (as
            # inventories/lab allows it): right for a one-machine lab only.
            "vars": {"ansible_connection": "local",
                     "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                     "kubesphere_join_allow_loopback": True},
        },
    }
    for n in names:
        grp = inv["kubesphere_host"] if n == names[0] else inv["kubesphere_members"]
        grp["hosts"][n] = {
            "kubesphere_cluster_name": n,
            "kubesphere_kubeconfig": state["clusters"][n]["kubeconfig"],
            "kubesphere_context": n,
            "kubesphere_connection_type": "direct",
            "kubesphere_cluster_group": "production" if n == names[0] else "lab",
        }
    with open(os.path.join(state["state_dir"], "inventory.yml"), "w") as f:
        f.write("# Written by `tests/lab/kslab up`; same layout as inventories/lab/.\n")
        yaml.safe_dump(inv, f, sort_keys=False, default_flow_style=False)


def embedded_kubeconfig(path):
    """The kubeconfig at `path` as YAML text with certificates and keys inlined (`*-data` fields), as a
    user pastes it into KubeSphere's console or a Cluster object carries it."""
    with open(path) as f:
        cfg = yaml.safe_load(f)
    for section, key, fields in (("clusters", "cluster", ("certificate-authority",)),
                                 ("users", "user", ("client-certificate", "client-key"))):
        for entry in cfg.get(section, []):
            body = entry[key]
            for field in fields:
                if field in body:
                    with open(body.pop(field), "rb") as fh:
                        body[field + "-data"] = base64.b64encode(fh.read()).decode()
    return yaml.safe_dump(cfg, sort_keys=False)
