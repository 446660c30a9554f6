"""conftest.PlaybookRun, the reader of every integration test's playbook runs, on made-up output (no lab):
output that is not the json callback's fails the test that reads it, and the recap must name every host of
the inventory before a run is said to have changed nothing."""

import json
import subprocess

import pytest
import yaml

from conftest import PlaybookRun, inventory_hosts


def proc(stdout, rc=0, stderr=""):
    return subprocess.CompletedProcess(["ansible-playbook"], rc, stdout, stderr)


def output(stats, tasks=()):
    return json.dumps({"plays": [{"play": {"name": "p"}, "tasks": list(tasks)}], "stats": stats})


def stat(changed=0):
    return {"ok": 1, "changed": changed, "failures": 0, "unreachable": 0, "skipped": 0}


@pytest.fixture
def inv(tmp_path):
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump({"kubesphere_clusters": {"vars": {"ansible_connection": "local"}, "children": {
        "kubesphere_host": {"hosts": {"host": None}},
        "kubesphere_members": {"hosts": {"member1": {"kubesphere_cluster_name": "member1"}, "member2": None}}}}}))
    return str(path)


@pytest.mark.parametrize("stdout", ["", "ERROR! the playbook could not be parsed\n", "{\"plays\": [",
                                    output({}) + "\ntrailing text", "[1, 2]", "{\"plays\": []}"])
def test_output_that_is_not_the_json_callbacks_fails_when_read(stdout, inv):
    run = PlaybookRun(proc(stdout, rc=4), inventory=inv)
    assert run.rc == 4 and run.stdout == stdout  # what did not parse is still there to search
    for read in (lambda: run.stats, lambda: run.results("t"), run.changed_hosts, lambda: list(run.tasks())):
        with pytest.raises(AssertionError, match="does not parse"):
            read()
    assert "PlaybookRun(rc=4)" in repr(run)


def test_a_text_callback_run_has_no_results_to_read(inv):
    run = PlaybookRun(proc("PLAY RECAP\nhost : ok=1 changed=0\n"), callback="default", inventory=inv)
    with pytest.raises(AssertionError, match="'default' callback"):
        run.changed_hosts()


def test_the_recap_must_name_every_host_of_the_inventory(inv):
    assert inventory_hosts(inv) == {"host", "member1", "member2"}
    whole = PlaybookRun(proc(output({"host": stat(), "member1": stat(2), "member2": stat()})), inventory=inv)
    assert whole.changed_hosts() == {"member1": 2}
    nothing = PlaybookRun(proc(output({"host": stat(), "member1": stat()})), inventory=inv)  # member2 never played
    with pytest.raises(AssertionError, match=r"no result for \['member2'\]"):
        nothing.changed_hosts()
    assert nothing.changed_hosts(hosts=["host", "member1"]) == {}  # a run that says which hosts it played on
    empty = PlaybookRun(proc(output({})), inventory=inv)
    with pytest.raises(AssertionError, match="no result for"):
        empty.changed_hosts()
    limited = PlaybookRun(proc(output({"member1": stat()})), inventory=inv, limit="member1")
    with pytest.raises(AssertionError, match="say which hosts"):
        limited.stats_of()


def test_host_lists_folders_and_plugin_files(tmp_path):
    assert inventory_hosts("localhost,") == {"localhost"}
    assert inventory_hosts("a, b,") == {"a", "b"}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"g": {"hosts": {"x": None}, "children": {"h": {"hosts": {"y": None}}}}}))
    (tmp_path / "fleet.kubesphere.yml").write_text(yaml.safe_dump({"plugin": "kubesphere.multicluster.clusters"}))
    (tmp_path / "other.yml").write_text(yaml.safe_dump({"plugin": "some.other.plugin"}))
    assert inventory_hosts(str(tmp_path)) == {"x", "y"}


def test_results_of_a_parsed_run(inv):
    task = {"task": {"name": "role : info"}, "hosts": {"host": {"changed": False, "msg": "ok"}}}
    run = PlaybookRun(proc(output({"host": stat(), "member1": stat(), "member2": stat()}, [task])), inventory=inv)
    assert run.results("info") == {"host": {"changed": False, "msg": "ok"}}
    assert run.failures() == []
