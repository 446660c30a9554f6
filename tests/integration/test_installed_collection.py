"""The demo from the built collection, as a user who installed the tarball runs it.

`ansible-galaxy collection build` makes the tarball, `ansible-galaxy collection install` puts it in a clean
collections path (nothing else there: kubernetes.core comes from the venv's `ansible` package, as it does for
users of that package), and playbooks/site.yml and playbooks/status.yml are run FROM THE INSTALLED COPY
(not the checkout), with an ansible.cfg outside the checkout, against one private lab whose inventory
declares the shop project the way inventories/lab does (the installed copy's group_vars). Then: the members
are imported (Cluster Ready on the host, a KubeFedCluster each), the shop namespace is on both members, and
the fleet report (fleet.json and index.html) shows both members Ready with shop placed on each."""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import yaml
from conftest import run_playbook
from test_roles import private_lab

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters"
KFC = "/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/kubefedclusters"


def _galaxy(*args, env):
    run = subprocess.run([os.path.join(BIN, "ansible-galaxy"), *args], capture_output=True, text=True, env=env,
                         timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout


def install_tarball(tmp_path):
    """(collections path, installed collection root, env) with only the built tarball installed there."""
    dist, colls = tmp_path / "dist", tmp_path / "collections"
    cfg = tmp_path / "ansible.cfg"  # not the checkout's (its collections_path is the checkout's link)
    cfg.write_text("[defaults]\ncollections_path = %s\ninterpreter_python = auto_silent\n"
                   "retry_files_enabled = false\n" % colls)
    env = dict(os.environ, ANSIBLE_CONFIG=str(cfg), ANSIBLE_COLLECTIONS_PATH=str(colls),
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(dist),
                    REPO], capture_output=True, text=True, env=env, timeout=300, check=True)
    (tarball,) = dist.glob("kubesphere-multicluster-*.tar.gz")
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert "playbooks/site.yml" in names and not any(n.startswith(("tests/lab/", "build/")) for n in names)
    _galaxy("collection", "install", "--offline", "--force", str(tarball), "-p", str(colls), env=env)
    assert sorted(os.listdir(colls / "ansible_collections")) == ["kubesphere"], os.listdir(colls / "ansible_collections")
    root = colls / "ansible_collections" / "kubesphere" / "multicluster"
    # the collection Ansible resolves is the installed copy, and only it (not the checkout's build/collections link)
    listed = _galaxy("collection", "list", "kubesphere.multicluster", "--format", "json", env=env)
    assert list(json.loads(listed)) == [str(colls / "ansible_collections")], listed
    assert "kubernetes.core" in _galaxy("collection", "list", "kubernetes.core", env=env)
    return root, env


def lab_inventory(lab, root, folder):
    """The lab's inventory (member2 by proxy, as in inventories/lab) beside the installed copy's group_vars
    of inventories/lab (the shop project on member1 and member2)."""
    inv = yaml.safe_load(open(lab.inventory))
    inv["kubesphere_members"]["hosts"][lab.members[1]]["kubesphere_connection_type"] = "proxy"
    folder.mkdir()
    (folder / "hosts.yml").write_text(yaml.safe_dump(inv))
    shutil.copytree(root / "inventories" / "lab" / "group_vars", folder / "group_vars")
    return str(folder)


def _condition(obj, ctype):
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c.get("status")
    return None


def test_site_and_status_from_the_installed_tarball(make_lab, tmp_path):
    root, env = install_tarball(tmp_path)
    lab = private_lab(make_lab)
    inventory = lab_inventory(lab, root, tmp_path / "inventory")
    report = tmp_path / "report"
    env = dict(env, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")

    site = run_playbook(str(root / "playbooks" / "site.yml"), inventory, env=env, timeout=900)
    assert site.rc == 0, site
    # the tasks that ran are the installed copy's (their paths are under the clean collections path)
    paths = [t["task"].get("path", "") for t in site.tasks() if "kubesphere.multicluster" in t["task"]["name"]]
    assert paths and all(p.startswith(str(root)) for p in paths), paths[:5]

    host = lab.client(lab.host)
    for member in lab.members:
        assert _condition(host.get("%s/%s" % (CLUSTERS, member)), "Ready") == "True", member
        assert host.try_get("%s/%s" % (KFC, member)) is not None, member
        assert lab.client(member).try_get("/api/v1/namespaces/shop") is not None, member

    status = run_playbook(str(root / "playbooks" / "status.yml"), inventory, env=env,
                          extra_vars={"kubesphere_report_dir": str(report)})
    assert status.rc == 0, status
    rows = {c["name"]: c for c in json.loads((report / "fleet.json").read_text())["clusters"]}
    assert rows[lab.host]["state"] == "host"
    assert {m: (rows[m]["state"], rows[m]["joined"], rows[m]["projects"]) for m in lab.members} == {
        m: ("ready", True, ["shop"]) for m in lab.members}
    assert rows[lab.members[1]]["connection_type"] == "proxy"
    html = (report / "index.html").read_text()
    for m in lab.members:
        row = re.search(r'<tr data-cluster="%s" data-state="ready">(.*?)</tr>' % m, html)
        assert row and row.group(1).endswith("<td>shop</td>"), m
