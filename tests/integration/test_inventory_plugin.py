"""The kubesphere.multicluster.clusters inventory plugin against the lab: the shipped lab compact file
validates for real (kubeconfig files and contexts exist), and discovery reads the host's Cluster objects
through kubernetes.core's client without ever putting a kubeconfig or token in the inventory."""

import json
import os
import subprocess
import sys

import yaml

from test_cluster_info import probe_cluster

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def ansible_inventory(source):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"),
               ANSIBLE_INVENTORY_UNPARSED_FAILED="true")
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", source, "--list"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)


def plain(hostvars):
    """Values as a play sees them (ansible-inventory marks strings that must never be templated)."""
    return {k: v["__ansible_unsafe"] if isinstance(v, dict) and "__ansible_unsafe" in v else v for k, v in hostvars.items()}


def compact(lab, tmp_path, **extra):
    doc = dict({"plugin": "kubesphere.multicluster.clusters",
                "host": {"name": lab.host, "kubeconfig": lab.kubeconfig(lab.host), "context": lab.host},
                "members": [{"name": m, "kubeconfig": lab.kubeconfig(m), "context": m} for m in lab.members]}, **extra)
    path = tmp_path / "lab.kubesphere.yml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_lab_compact_file_validates_against_real_kubeconfigs(lab, tmp_path):
    proc = ansible_inventory(compact(lab, tmp_path))
    assert proc.returncode == 0, proc.stderr
    hostvars = json.loads(proc.stdout)["_meta"]["hostvars"]
    assert sorted(hostvars) == sorted(lab.names)
    assert plain(hostvars[lab.members[0]])["kubesphere_kubeconfig"] == lab.kubeconfig(lab.members[0])


def test_two_clusters_with_the_same_server_are_refused(lab, tmp_path):
    path = compact(lab, tmp_path)
    doc = yaml.safe_load(open(path))
    doc["members"].append({"name": "again", "kubeconfig": lab.kubeconfig(lab.members[0]), "context": lab.members[0]})
    (tmp_path / "lab.kubesphere.yml").write_text(yaml.safe_dump(doc))
    proc = ansible_inventory(path)
    assert proc.returncode != 0
    assert "[same_server] clusters '%s' and 'again' are the same API server (%s)" % (
        lab.members[0], lab.server(lab.members[0])) in " ".join(proc.stderr.split())


def test_discovery_shows_the_hosts_clusters(lab, kube, tmp_path, unique):
    with probe_cluster(kube, lab.host, unique, ready="True") as (name, secrets):
        proc = ansible_inventory(compact(lab, tmp_path, discover=True))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["kubesphere_discovered"]["hosts"] == [name]
    assert name not in data["kubesphere_members"]["hosts"]
    probe = plain(data["_meta"]["hostvars"][name])
    assert (probe["kubesphere_discovered"], probe["kubesphere_joined"], probe["kubesphere_ready"]) == (True, True, True)
    assert (probe["kubesphere_connection_type"], probe["kubesphere_cluster_group"]) == ("proxy", "probe")
    assert probe["kubesphere_kubesphere_version"] == "v3.4.1" and "kubesphere_kubeconfig" not in probe
    listed = plain(data["_meta"]["hostvars"][lab.members[0]])
    assert (listed["kubesphere_discovered"], listed["kubesphere_joined"]) == (False, False)
    assert all(s not in proc.stdout + proc.stderr for s in secrets)
