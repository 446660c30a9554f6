"""Helpers of the unbind and health tests (test_unbind*.py, test_health*.py): a private lab with KubeSphere's
real control plane whose members are joined, as the console imports them (a direct Cluster with the
member's embedded admin kubeconfig, joinFederation true) -- the way tests/lab/tests/test_real_*.py do --
and a member killed the way test_real_dead_member.py kills one.

Ports: KSLAB_PRIVATE_PORT_BASE from the environment when it is set (each test module adds its own offset), else a
free range. Roles are set by the collection's own playbooks (host_config.yml, member_config.yml)."""

import base64
import os
import signal
import subprocess
import sys

import yaml

from kslabkit.lab import embedded_kubeconfig
from polling import wait_for

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KSLAB = os.path.join(REPO, "tests", "lab", "kslab")
CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters"
KFC = "/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/kubefedclusters"
VWC = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/cluster.kubesphere.io"
SERVER_OWNED = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields")


def port_base(offset):
    base = os.environ.get("KSLAB_PRIVATE_PORT_BASE")  # never KSLAB_PORT_BASE: that is the stage's shared lab
    return int(base) + offset if base else None


def start_lab(make_module_lab, offset, members=2):
    """A private lab (the shared fixture), on KSLAB_PRIVATE_PORT_BASE + offset when it is set (else free ports)."""
    base = port_base(offset)
    return make_module_lab(members=members, extra_env={"KSLAB_PORT_BASE": str(base)} if base else None)


def set_roles(lab):
    """host_config.yml then member_config.yml on the lab's inventory: the host renders role host, every member
    role member with the host's jwtSecret (the collection's own way)."""
    venv_bin = os.path.dirname(sys.executable)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"))
    for playbook in ("host_config.yml", "member_config.yml"):
        r = subprocess.run([os.path.join(venv_bin, "ansible-playbook"), "-i", lab.inventory,
                            os.path.join(REPO, "playbooks", playbook)], cwd=REPO, env=env, capture_output=True,
                           text=True, timeout=900, check=False)
        assert r.returncode == 0, r.stdout[-5000:] + r.stderr[-3000:]
    wait_for(lambda: condition(cluster(lab.client(lab.host), "host"), "Ready", "True"), 300, "Cluster host Ready")


def direct_cluster(name, kubeconfig_text):
    """A Cluster as the console imports a direct member."""
    return {"apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
            "metadata": {"name": name, "labels": {"cluster.kubesphere.io/group": "testing"},
                         "annotations": {"kubesphere.io/creator": "admin", "kubesphere.io/description": ""}},
            "spec": {"provider": "", "joinFederation": True, "enable": True,
                     "connection": {"type": "direct",
                                    "kubeconfig": base64.b64encode(kubeconfig_text.encode()).decode()}}}


def sa_token_kubeconfig(lab, member, sa="kubesphere-import"):
    """A cluster-admin ServiceAccount-token kubeconfig of a lab member, the way users make one for an import.
    KubeSphere's controller then writes to the member as that ServiceAccount, not as the admin user the
    collection uses, so the audit log tells the collection's writes from the controller's."""
    rest = lab.client(member)
    rest.ensure({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": "kube-system"}})
    rest.ensure({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": sa},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                 "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": "kube-system"}]})
    token = rest.request("POST", "/api/v1/namespaces/kube-system/serviceaccounts/%s/token" % sa,
                         {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                          "spec": {"expirationSeconds": 24 * 3600}})["status"]["token"]
    server = yaml.safe_load(embedded_kubeconfig(lab.kubeconfig(member)))["clusters"][0]["cluster"]
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": member,
                           "clusters": [{"name": member, "cluster": server}],
                           "users": [{"name": sa, "user": {"token": token}}],
                           "contexts": [{"name": member, "context": {"cluster": member, "user": sa}}]})


def import_direct(lab, member, name=None):
    """Create the Cluster `name` (default: the member's name) of lab member `member` on the host, as the
    console does, with a ServiceAccount-token kubeconfig. Returns the API's answer (raises ApiError when
    refused)."""
    host = lab.client(lab.host)
    return host.request("POST", CLUSTERS, direct_cluster(name or member, sa_token_kubeconfig(lab, member)))


def wait_joined(lab, name, timeout=400):
    host = lab.client(lab.host)
    wait_for(lambda: condition(cluster(host, name), "Ready", "True"), timeout, "Cluster %s Ready" % name)
    wait_for(lambda: condition(host.try_get("%s/%s" % (KFC, name)), "Ready", "True"), timeout,
             "KubeFedCluster %s Ready" % name)


def cluster(host, name):
    return host.try_get("%s/%s" % (CLUSTERS, name))


def condition(obj, ctype, status=None):
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c if status is None or c.get("status") == status else None
    return None


def kill_apiserver(lab, name, sig=signal.SIGTERM):
    """Stop a lab cluster's kube-apiserver for good (SIGTERM, or `sig`, then wait until the process is gone)."""
    pid = lab.state["clusters"][name]["pid"]
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        assert b"kube-apiserver" in f.read()  # the lab's own process, started for this test module
    os.kill(pid, sig)

    def gone():
        if not os.path.exists("/proc/%d" % pid):
            return True
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] == "Z"
    wait_for(gone, 240, "%s's kube-apiserver to stop" % name)


def restart_apiserver(lab, name):
    """Start a lab cluster's kube-apiserver again (after kill_apiserver), with the lab's own argv and the same
    etcd, certificates and port; lab.state gets its new pid. Returns once it answers."""
    from kslabkit import lab as kslab  # noqa: PLC0415
    from kslabkit.rest import Rest  # noqa: PLC0415

    old = os.environ.get("KSLAB_STATE")
    os.environ["KSLAB_STATE"] = lab.state_dir
    try:
        state = kslab.load_state()
        c = state["clusters"][name]
        etcd_url = "http://127.0.0.1:%d" % state["etcd"]["port"]
        c["pid"] = kslab._spawn(kslab._apiserver_argv(name, c, etcd_url), c["log"],
                                os.path.join(c["dir"], "apiserver.pid"))
        kslab.save_state(state)
    finally:
        if old is None:
            os.environ.pop("KSLAB_STATE", None)
        else:
            os.environ["KSLAB_STATE"] = old
    lab.state = state
    try:
        wait_for(lambda: Rest(lab.kubeconfig(name)).get("/api/v1/namespaces/kube-system"), 240, "%s back" % name)
    except AssertionError as e:
        raise AssertionError("%s (kube-apiserver pid %d %s); the end of its log %s:\n%s" % (
            e, c["pid"], "running" if os.path.exists("/proc/%d" % c["pid"]) else "gone", c["log"],
            _tail(c["log"]))) from None


def _tail(path, lines=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(unreadable: %s)" % e


def restorable(obj):
    out = dict(obj)
    out["metadata"] = {k: v for k, v in obj["metadata"].items() if k not in SERVER_OWNED}
    out.pop("status", None)
    return out


def kslab(env, *args):
    return subprocess.run([KSLAB, *args], env=env, capture_output=True, text=True, timeout=600, check=False)
