"""cluster_info run in the worker process (plugins/plugin_utils/in_process.py) against run as a module process,
on the lab's real API servers: the same results (facts, failures, argument errors, check mode), module_defaults
of the collection's group applied, -vvv saying which way ran, and no secret in -vvv output either way."""

import copy

import yaml

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
