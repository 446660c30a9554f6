"""cluster_info run in the worker process (plugins/plugin_utils/in_process.py) against run as a module process,
on the lab's real API servers: the same results (facts, failures, argument errors, check mode), module_defaults
of the collection's group applied, -vvv saying which way ran, and no secret in -vvv output either way."""

import copy

import yaml

from auditlog import KUBESPHERE_AGENTS, AuditLog
from test_cluster_info import inventory

PLAY = """
- hosts: kubesphere_clusters
  gather_facts: false
  module_defaults:
    group/kubesphere.multicluster.kubesphere:
      kubeconfig: "{{ kubesphere_kubeconfig }}"
  tasks:
    - name: info
      kubesphere.multicluster.cluster_info:
        cluster_name: "{{ kubesphere_cluster_name }}"
        context: "{{ kubesphere_context }}"
    - name: strict
      kubesphere.multicluster.cluster_info:
        cluster_name: "{{ kubesphere_cluster_name }}"
        context: no-such-context
        fail_on_unreachable: true
      ignore_errors: true
    - name: bad argument
      kubesphere.multicluster.cluster_info:
        cluster_name: "{{ kubesphere_cluster_name }}"
        clock_samples: many
      ignore_errors: true
"""

# what differs between two reads of the same cluster, whichever way: the clock measurement
VOLATILE = ("clock",)


def comparable(result):
    out = copy.deepcopy(result)
    for key in VOLATILE:
        if isinstance(out.get("cluster"), dict):
            out["cluster"].pop(key, None)
        if isinstance(out.get("facts"), dict):
            out["facts"].pop(key, None)
    out.pop("exception", None)  # a traceback object, present in neither way at the default verbosity
    return out


def test_both_ways_give_the_same_results(lab, tmp_path, ansible_run):
    inv = inventory(tmp_path, {n: (lab.kubeconfig(n), n) for n in lab.names})
    runs = {way: ansible_run(PLAY, inv, check=True, extra_vars={"kubesphere_in_process": way})
            for way in (True, False)}
    for way, run in runs.items():
        assert run.rc == 0, run  # the two failing tasks are ignored (their results still say failed)
        info = run.results("info")
        assert set(info) == set(lab.names)
        for name in lab.names:
            assert info[name]["cluster"]["reachable"] is True, (way, info[name])
            assert info[name]["invocation"]["module_args"]["kubeconfig"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
        strict = run.results("strict")[lab.host]
        assert strict["failed"] is True and strict["code"] == "no_such_context" and strict["cluster"] == lab.host
        bad = run.results("bad argument")[lab.host]
        assert bad["failed"] is True and "clock_samples" in bad["msg"]
    for task in ("info", "strict", "bad argument"):
        inside, outside = runs[True].results(task), runs[False].results(task)
        for name in lab.names:
            assert comparable(inside[name]) == comparable(outside[name]), (task, name)


def test_vvv_says_which_way_ran_and_shows_no_secret(lab, tmp_path, ansible_run):
    """The kubeconfig inline (as AWX injects it) and the module_defaults path: neither way prints a key."""
    from kslabkit.lab import embedded_kubeconfig

    member = lab.members[0]
    content = embedded_kubeconfig(lab.kubeconfig(member))
    key_data = yaml.safe_load(content)["users"][0]["user"]["client-key-data"]
    inv = inventory(tmp_path, {lab.host: (lab.kubeconfig(lab.host), lab.host), member: (content, member)})
    inside = ansible_run(PLAY, inv, verbosity=3, callback="default")
    outside = ansible_run(PLAY, inv, verbosity=3, callback="default", extra_vars={"kubesphere_in_process": False})
    assert "kubesphere.multicluster.cluster_info runs in the worker process (connection local)" in inside.stdout
    assert "AnsiballZ_cluster_info" not in inside.stdout
    assert "runs as a module process: kubesphere_in_process is false" in outside.stdout
    assert "AnsiballZ_cluster_info" in outside.stdout
    for run in (inside, outside):
        assert "cluster 'member1': Kubernetes v1." in run.stdout or "cluster '%s'" % member in run.stdout, run
        for text in (run.stdout, run.stderr):
            assert key_data not in text and key_data[:40] not in text


# Every other module of the collection, in check mode (nothing may be written whatever the lab's state): the
# waiting ones through their sliced action plugins, the one-run ones through in_process.ModuleAction.
EVERY_MODULE_PLAY = """
- hosts: kubesphere_clusters
  gather_facts: false
  module_defaults:
    group/kubesphere.multicluster.kubesphere:
      kubeconfig: "{{ kubesphere_kubeconfig }}"
      context: "{{ kubesphere_context }}"
  vars:
    host: "{{ groups['kubesphere_host'][0] }}"
  tasks:
    - name: clock
      kubesphere.multicluster.cluster_info:
        cluster_name: "{{ kubesphere_cluster_name }}"
      register: clock_info
    - name: role
      when: inventory_hostname in groups['kubesphere_members']
      kubesphere.multicluster.multicluster_role:
        cluster_name: "{{ kubesphere_cluster_name }}"
        role: member
        host_kubeconfig: "{{ hostvars[host].kubesphere_kubeconfig }}"
        host_context: "{{ hostvars[host].kubesphere_context }}"
      ignore_errors: true
    - name: import
      when: inventory_hostname in groups['kubesphere_members']
      kubesphere.multicluster.member:
        name: "{{ kubesphere_cluster_name }}"
        host_kubeconfig: "{{ hostvars[host].kubesphere_kubeconfig }}"
        host_context: "{{ hostvars[host].kubesphere_context }}"
        allow_loopback: true
      ignore_errors: true
    - name: served
      when: inventory_hostname in groups['kubesphere_members']
      kubesphere.multicluster.federation_info:
        cluster_name: "{{ kubesphere_cluster_name }}"
    - name: project
      when: inventory_hostname == host
      kubesphere.multicluster.federated_project:
        cluster_name: "{{ kubesphere_cluster_name }}"
        name: inprocess-shop
        workspace: retail
        clusters: "{{ groups['kubesphere_members'] }}"
      ignore_errors: true
    - name: resource
      when: inventory_hostname == host
      kubesphere.multicluster.federated_resource:
        cluster_name: "{{ kubesphere_cluster_name }}"
        definition: {apiVersion: v1, kind: ConfigMap, metadata: {name: web, namespace: inprocess-shop}, data: {a: "1"}}
        clusters: "{{ groups['kubesphere_members'] }}"
      ignore_errors: true
    - name: skew
      kubesphere.multicluster.clock_skew:
        clusters: "{{ ansible_play_hosts | map('extract', hostvars, ['clock_info', 'cluster']) | list }}"
        threshold: 5
      run_once: true
"""
MODULES = ("multicluster_role", "member", "federation_info", "federated_project", "federated_resource", "clock_skew")
SAME = ("failed", "changed", "code", "cluster", "problems", "msg", "plan", "api_versions")


def test_every_module_runs_in_the_worker_with_the_same_results_and_no_secret(lab, tmp_path, ansible_run):
    """Check mode on the session lab: each way gives the same outcome per task and host (refusals with their
    code, cluster and message included), nothing is written either way; at -vvv the worker way ships no
    module (no AnsiballZ file) and says so per module, the module way ships each; no key in either output."""
    from kslabkit.lab import embedded_kubeconfig

    member = lab.members[0]
    content = embedded_kubeconfig(lab.kubeconfig(member))
    key_data = yaml.safe_load(content)["users"][0]["user"]["client-key-data"]
    clusters = {n: (lab.kubeconfig(n), n) for n in lab.names}
    clusters[member] = (content, member)
    inv = inventory(tmp_path, clusters)
    audit = AuditLog.for_lab(lab)
    audit.sync(lab)
    mark = audit.mark()
    runs = {way: ansible_run(EVERY_MODULE_PLAY, inv, check=True, diff=True, extra_vars={"kubesphere_in_process": way})
            for way in (True, False)}
    for task in ("role", "import", "served", "project", "resource", "skew"):
        inside, outside = runs[True].results(task), runs[False].results(task)
        assert inside and set(inside) == set(outside), (task, runs[True])
        for name in inside:
            assert {k: inside[name].get(k) for k in SAME} == {k: outside[name].get(k) for k in SAME}, (task, name)
    assert runs[True].results("served")[member]["api_versions"], runs[True]
    skew = runs[True].results("skew")[lab.host]
    assert not skew.get("failed") and skew["problems"] == [], skew
    audit.sync(lab)
    writes = [r for r in audit.writes_by_collection(since=mark) if not r.user_agent.startswith(KUBESPHERE_AGENTS)]
    assert writes == []

    inside = ansible_run(EVERY_MODULE_PLAY, inv, check=True, verbosity=3, callback="default")
    outside = ansible_run(EVERY_MODULE_PLAY, inv, check=True, verbosity=3, callback="default",
                          extra_vars={"kubesphere_in_process": False})
    # the worker way never uses the connection (the module way does, to ship each module)
    assert "ESTABLISH LOCAL CONNECTION" not in inside.stdout and "ESTABLISH LOCAL CONNECTION" in outside.stdout
    assert "AnsiballZ_" not in inside.stdout + inside.stderr
    for module in MODULES:
        assert "kubesphere.multicluster.%s runs in the worker process (connection local)" % module in inside.stdout
        assert "AnsiballZ_%s.py" % module in outside.stdout, module
    for run in (inside, outside):
        for text in (run.stdout, run.stderr):
            assert key_data not in text and key_data[:40] not in text
