"""Every module's EXAMPLES, run as written against a private lab.

Each module's EXAMPLES (the string ansible-doc shows, read from the module file) is a list of tasks for a
play over the fleet (hosts: kubesphere_clusters) with the inventory layout of inventories/example; the
examples say so at their top. The test runs them as plays, in the order a fleet lives: roles set, members
imported, the fleet read and checked, a multi-cluster project and its resources, the drift read, then what
the examples delete (state=absent), resources before their project, the member unbind last. Every example
task must have run on at least one cluster and succeeded wherever it ran; the lab must then show it."""

import ast
import os
import re

import yaml
from conftest import run_playbook
from test_roles import private_lab

import polling

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = os.path.join(REPO, "plugins")
MODULES = os.path.join(PLUGINS, "modules")
CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters"

# The order of the fleet's life: (module, or filter/<name>, which of its examples). "present" is every example
# without state=absent, "absent" those with it.
LIFE = [
    ("multicluster_role", "present"),
    ("filter/peer_facts", "present"),
    ("member", "present"),
    ("cluster_info", "present"),
    ("clock_skew", "present"),
    ("fleet_check", "present"),
    ("fleet_doctor", "present"),
    ("workspace", "present"),
    ("federated_project", "present"),
    ("federated_resource", "present"),
    ("federation_info", "present"),
    ("filter/member_connections", "present"),
    ("filter/proxy_members", "present"),
    ("filter/fleet_table", "present"),
    ("filter/projects_table", "present"),
    ("filter/fleet_report", "present"),
    ("federated_resource", "absent"),
    ("federated_project", "absent"),
    ("workspace", "absent"),
    ("member", "absent"),
]
# Plugins whose EXAMPLES are not tasks of such a play, each with its reason. Keep this list short.
NOT_RUN = {
    "filter/rollout_plan": "its example is a whole play (hosts and serial from the filter), the join playbook's",
    "filter/unread_clusters": "its example is a whole play (hosts from the filter), the fallback read of "
                              "host_config.yml, member_config.yml and join.yml (test_join runs them inside site.yml)",
    "filter/member_api_versions": "its example is a whole play (a play variable for the federated_project role), "
                                  "federate.yml's (test_federation runs it)",
}

# Modules of KubeSphere 4.1 only (this test's lab is 3.4), each with where it is run against the v4.1 lab instead.
V41_ONLY = {
    "extension": "its examples install the real extensions kubefed and tower, which the v4.1 lab publishes (this "
                 "test's lab is 3.4): test_v41_playbooks installs both through join.yml and federate.yml, "
                 "test_v41_extension runs the module on an extension of its own through KubeSphere's InstallPlan "
                 "controller and a real helm",
}


def examples(module):
    """The EXAMPLES tasks of plugins/modules/<module>.py or plugins/filter/<name>.py for filter/<name> (read
    as text: the file is not imported)."""
    path = os.path.join(PLUGINS, module + ".py") if "/" in module else os.path.join(MODULES, module + ".py")
    tree = ast.parse(open(path).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "EXAMPLES":
            return yaml.safe_load(node.value.value)
    raise AssertionError("%s has no EXAMPLES" % module)


def _is_absent(task):
    args = [v for k, v in task.items() if k.startswith("kubesphere.multicluster.")]
    return any(isinstance(a, dict) and a.get("state") == "absent" for a in args)


def test_every_module_has_examples_in_the_life():
    modules = sorted(f[:-3] for f in os.listdir(MODULES) if f.endswith(".py") and not f.startswith("_"))
    filters = sorted("filter/" + f[:-3] for f in os.listdir(os.path.join(PLUGINS, "filter")) if f.endswith(".py"))
    assert sorted({e[0] for e in LIFE if "/" not in e[0]} | set(V41_ONLY)) == modules
    assert sorted({e[0] for e in LIFE if "/" in e[0]} | set(NOT_RUN)) == filters
    for module in modules:
        tasks = examples(module)
        assert tasks and all(t.get("name") for t in tasks), module
        assert any(("kubesphere.multicluster.%s" % module) in t for t in tasks), module
    for plugin in sorted({e[0] for e in LIFE if "/" in e[0]}):
        tasks = examples(plugin)
        assert tasks and all(t.get("name") for t in tasks), plugin
        assert "kubesphere.multicluster.%s(" % plugin.split("/")[1] in yaml.safe_dump(tasks, width=1000), plugin
        if any(_is_absent(t) for t in tasks):
            assert (module, "absent") in LIFE, module


def playbook(install_dir):
    """(playbook text, [(module, task name as it will run)])."""
    plays, expected = [], []
    for module, phase in LIFE:
        tasks = []
        for task in examples(module):
            if _is_absent(task) != (phase == "absent"):
                continue
            task = dict(task, name="%s: %s" % (module, task["name"]))
            tasks.append(task)
            expected.append((module, task["name"]))
        if tasks:
            plays.append({"name": "%s (%s examples)" % (module, phase), "hosts": "kubesphere_clusters",
                          "gather_facts": False, "vars": {"install_dir": install_dir, "report_dir": install_dir},
                          "tasks": tasks})
    return yaml.safe_dump(plays, sort_keys=False) + "\n", expected


def test_the_examples_run_against_the_lab(make_lab, tmp_path):
    lab = private_lab(make_lab)
    inv = yaml.safe_load(open(lab.inventory))
    member1, member2 = lab.members  # the examples name member1 and member2, as the lab does
    assert (member1, member2) == ("member1", "member2")
    inv["kubesphere_members"]["hosts"][member2]["kubesphere_connection_type"] = "proxy"
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump(inv))
    text, expected = playbook(str(tmp_path))

    run = run_playbook(text, str(inventory), timeout=1500)

    ran = {}
    for module, name in expected:
        results = run.results(name)
        done = {h: r for h, r in results.items() if not r.get("skipped")}
        assert done, "%s: the example %r ran on no cluster\n%r" % (module, name, run)
        failed = {h: r.get("msg") for h, r in done.items() if r.get("failed")}
        assert not failed, "%s: the example %r failed: %s" % (module, name, failed)
        ran[name] = done
    assert run.rc == 0, run

    # what the examples did, as the lab shows it
    assert (tmp_path / "member3-cluster-configuration.yaml").is_file()
    html = (tmp_path / "index.html").read_text()
    for m in lab.members:  # Ready then, with the project federation_info's example read on it
        row = re.search(r'<tr data-cluster="%s" data-state="ready">((?:(?!</tr>).)*)</tr>' % m, html)
        assert row and row.group(1).endswith("<td>shop</td>"), m
    (table,) = ran["filter/projects_table: Print the projects per member"].values()
    assert [line.split()[:3] for line in table["msg"].splitlines()[1:3]] == [[m, "1", "shop"] for m in lab.members]
    host = lab.client(lab.host)
    assert host.try_get("%s/%s" % (CLUSTERS, member1)) is not None  # imported, kept
    assert host.try_get("%s/%s" % (CLUSTERS, member2)) is None  # imported by proxy, then unbound
    # the workspace made (its manager KubeSphere's admin user), then deleted after its project
    made = ran["workspace: The workspace retail on two members, managed by the user admin"]
    assert [r["workspace"]["spec"]["clusters"] for r in made.values() if r.get("changed")] == [lab.members], made
    assert host.try_get("/apis/tenant.kubesphere.io/v1alpha2/workspacetemplates/retail") is None
    # the project made, then deleted (the namespace controller finishes a namespace's deletion after the call)
    polling.wait_for(lambda: host.try_get("/api/v1/namespaces/shop") is None, 180, "namespace shop gone from the host")
    drift = ran["federation_info: Drift of the shop project on each member, and the multi-cluster projects placed there"]
    assert sorted(drift) == [member1, member2]
    assert all([p["name"] for p in r["projects"]] == ["shop"] for r in drift.values()), drift
    (together,) = ran["federation_info: Drift of the shop project on every member, from one read of the host "
                      "(as federate.yml's wait)"].values()
    assert together["clusters"] == [member1, member2], together
    assert [(r["kind"], [m["cluster"] for m in r["members"]]) for r in together["resources"]] == [
        ("Namespace", [member1, member2])], together
    (filtered,) = ran["filter/member_connections: Drift of the shop project on every member, each reached with the "
                      "inventory's connection for it"].values()
    assert filtered["clusters"] == [member1, member2] and filtered["resources"], filtered
