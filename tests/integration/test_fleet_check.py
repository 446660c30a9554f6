"""kubesphere.multicluster.fleet_check on static inventories: the documented layouts pass, and a broken
description fails before anything runs, with one message per problem."""

import os

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = """
- hosts: kubesphere_clusters
  gather_facts: false
  tasks:
    - name: fleet
      kubesphere.multicluster.fleet_check:
        fail_on_problems: "{{ strict | default(true) }}"
      run_once: true
"""


def test_the_lab_inventory_passes(lab_inventory_dir, ansible_run):
    run = ansible_run(CHECK, os.path.join(lab_inventory_dir, "hosts.yml"))
    assert run.rc == 0, run
    (r,) = run.results("fleet").values()
    assert r["problems"] == [] and r["changed"] is False and r["host"] == "host"
    expected = [os.path.join(lab_inventory_dir, "..", "..", ".kslab", n, "kubeconfig") for n in ("host", "member1", "member2")]
    assert [c["kubeconfig"] for c in r["clusters"]] == expected


def test_the_example_inventory_passes(ansible_run):
    run = ansible_run(CHECK, os.path.join(REPO, "inventories", "example", "hosts.yml"))
    assert run.rc == 0, run
    (r,) = run.results("fleet").values()
    assert r["msg"] == "the fleet has a host (host) and 3 members; no problem found"
    assert {c["name"]: c["wave"] for c in r["clusters"]} == {"host": None, "member1": "canary", "member2": "rest",
                                                             "edge-1": "rest"}


def test_a_broken_fleet_fails_with_every_problem(lab, tmp_path, ansible_run):
    kc = lab.kubeconfig(lab.members[0])
    members = {
        "m1": {"kubesphere_kubeconfig": kc, "kubesphere_context": lab.members[0]},
        "m1-again": {"kubesphere_kubeconfig": kc, "kubesphere_context": lab.members[0],
                     "kubesphere_cluster_name": "Bad_Name", "kubesphere_connection_type": "vpn"},
        "m2": {"kubesphere_kubeconfig": kc, "kubesphere_context": "nope", "kubesphere_node_group": "m2_nodes"},
    }
    hosts = {"h1": {"kubesphere_kubeconfig": lab.kubeconfig(lab.host)},
             "h2": {"kubesphere_kubeconfig": str(tmp_path / "missing")}}
    inv = {
        "kubesphere_clusters": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "children": {"kubesphere_host": {"hosts": hosts}, "kubesphere_members": {"hosts": members}}},
        "wave_canary": {"hosts": {"m1": None}},
        "wave_rest": {"hosts": {"m1": None, "m2": None}},
    }
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inv))
    run = ansible_run(CHECK, str(tmp_path / "inventory.yml"))
    assert run.rc != 0
    (r,) = run.results("fleet").values()
    assert r["failed"] is True
    assert sorted(p["code"] for p in r["problems"]) == sorted([
        "two_hosts", "invalid_name", "unknown_connection_type", "kubeconfig_missing", "no_such_context", "same_server",
        "node_group_missing", "two_waves"])
    assert "- [no_such_context] cluster 'm2': kubeconfig %s has no context 'nope' (it has: %s)" % (kc, lab.members[0]) in r["msg"]
    assert "- [same_server] clusters 'm1' and 'm1-again' are the same API server (%s)" % lab.server(lab.members[0]) in r["msg"]
    # report only
    run = ansible_run(CHECK, str(tmp_path / "inventory.yml"), extra_vars={"strict": False})
    assert run.rc == 0, run
    assert len(next(iter(run.results("fleet").values()))["problems"]) == 8


def test_the_old_module_names_redirect(lab, ansible_run, lab_inventory_dir):
    """fleet_info and cluster_role (0.1 names) still run, as fleet_check and multicluster_role."""
    play = """
- hosts: kubesphere_clusters
  gather_facts: false
  tasks:
    - name: old fleet_info
      kubesphere.multicluster.fleet_info:
      run_once: true
    - name: old cluster_role in check mode
      kubesphere.multicluster.cluster_role:
        cluster_name: "{{ kubesphere_cluster_name }}"
        kubeconfig: "{{ kubesphere_kubeconfig }}"
        context: "{{ kubesphere_context }}"
        role: "{{ 'host' if inventory_hostname in groups['kubesphere_host'] else 'member' }}"
        force: true
      check_mode: true
      when: inventory_hostname in groups['kubesphere_host']
"""
    run = ansible_run(play, lab_inventory_dir)
    assert run.rc == 0, run
    (fleet,) = run.results("old fleet_info").values()
    assert fleet["msg"].endswith("no problem found")
    role = run.results("old cluster_role in check mode")[lab.host]
    assert role["role"] == "host" and not role.get("failed")
