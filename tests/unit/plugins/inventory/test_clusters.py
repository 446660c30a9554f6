"""The kubesphere.multicluster.clusters inventory plugin: compact file -> groups and variables, every
validation message, constructed options, discovery (with its cache), and ansible-inventory on the
example and lab inventories (subprocess, as users run it)."""

import json
import os
import subprocess
import sys

import pytest
import yaml
from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible import constants as C
from ansible.plugins.loader import fragment_loader
from ansible.utils.plugin_docs import get_docstring

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
BIN = os.path.dirname(sys.executable)
PLUGIN = "kubesphere.multicluster.clusters"


@pytest.fixture(scope="module")
def plugin_class():
    """A factory of the plugin, with its documented options registered the way the plugin loader does.
    (Built from the module directly: the collection loader cannot be installed once other tests have
    imported the collection as a plain package.)"""
    from ansible_collections.kubesphere.multicluster.plugins.inventory import clusters

    doc = get_docstring(clusters.__file__, fragment_loader, is_module=False, collection_name="kubesphere.multicluster",
                        plugin_type="inventory")[0]
    C.config.initialize_plugin_configuration_definitions("inventory", PLUGIN, doc["options"])

    def make():
        plugin = clusters.InventoryModule()
        plugin._load_name = PLUGIN
        return plugin

    return make


def write_kubeconfig(path, server, context):
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": context, "cluster": {"server": server}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": "u"}}],
        "users": [{"name": "u", "user": {}}]}))
    return str(path)


@pytest.fixture
def kubeconfigs(tmp_path):
    for i, name in enumerate(("host", "member1", "member2")):
        write_kubeconfig(tmp_path / ("%s.yaml" % name), "https://10.0.0.%d:6443" % (i + 1), name)
    return tmp_path


def parse(plugin_class, tmp_path, doc, name="fleet.kubesphere.yml", cache=False):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(dict({"plugin": PLUGIN}, **doc)))
    inv = InventoryData()
    plugin = plugin_class()
    plugin.parse(inv, DataLoader(), str(path), cache=cache)
    if getattr(plugin, "_cache", None) is not None:  # what InventoryManager does after parse
        plugin.update_cache_if_changed()
    return inv, plugin


def good(**member1):
    return {"host": {"name": "host", "kubeconfig": "host.yaml", "context": "host", "nodes": ["n1.example.com"]},
            "members": [dict({"name": "member1", "kubeconfig": "member1.yaml", "wave": "canary", "region": "eu-west"},
                             **member1),
                        {"name": "member2", "kubeconfig": "member2.yaml", "connection_type": "proxy", "wave": "rest"}]}


def members_of(inv, group):
    return sorted(h.name for h in inv.groups[group].get_hosts())


def test_verify_file_requires_the_documented_suffix(plugin_class, tmp_path):
    plugin = plugin_class()
    for name, expected in (("fleet.kubesphere.yml", True), ("kubesphere.yaml", True), ("fleet.yml", False),
                           ("hosts.kubesphere.json", False)):
        (tmp_path / name).write_text("plugin: %s\n" % PLUGIN)
        assert plugin.verify_file(str(tmp_path / name)) is expected, name


def test_groups_and_variables(plugin_class, kubeconfigs):
    inv = parse(plugin_class, kubeconfigs, good())[0]
    assert members_of(inv, "kubesphere_host") == ["host"]
    assert members_of(inv, "kubesphere_members") == ["member1", "member2"]
    assert sorted(g.name for g in inv.groups["kubesphere_clusters"].child_groups) == ["kubesphere_host", "kubesphere_members"]
    assert members_of(inv, "wave_canary") == ["member1"] and members_of(inv, "wave_rest") == ["member2"]
    assert members_of(inv, "region_eu_west") == ["member1"]
    assert members_of(inv, "host_nodes") == ["n1.example.com"]
    assert "n1.example.com" not in members_of(inv, "kubesphere_clusters")
    assert inv.groups["kubesphere_clusters"].vars == {"ansible_connection": "local",
                                                      "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    m2 = inv.get_host("member2").vars
    assert m2["kubesphere_kubeconfig"] == str(kubeconfigs / "member2.yaml")
    assert (m2["kubesphere_cluster_name"], m2["kubesphere_connection_type"]) == ("member2", "proxy")
    assert inv.get_host("host").vars["kubesphere_node_group"] == "host_nodes"


def test_constructed_options(plugin_class, kubeconfigs):
    doc = dict(good(cluster_group="prod"), compose={"kubesphere_is_proxy": "kubesphere_connection_type == 'proxy'"},
               groups={"proxied": "kubesphere_connection_type == 'proxy'"},
               keyed_groups=[{"key": "kubesphere_cluster_group", "prefix": "group"}])
    inv = parse(plugin_class, kubeconfigs, doc)[0]
    assert members_of(inv, "proxied") == ["member2"]
    assert members_of(inv, "group_prod") == ["member1"]
    assert inv.get_host("member2").vars["kubesphere_is_proxy"] is True


def test_strict_constructed_fails_on_an_undefined_variable(plugin_class, kubeconfigs):
    with pytest.raises(AnsibleError, match="no_such_var"):
        parse(plugin_class, kubeconfigs, dict(good(), strict=True, compose={"x": "no_such_var + 1"}))


# --- every validation message, through the plugin -------------------------------------------------


def bad(plugin_class, tmp_path, doc):
    with pytest.raises(AnsibleParserError) as e:
        parse(plugin_class, tmp_path, doc)
    return str(e.value)


def test_no_host(plugin_class, kubeconfigs):
    doc = good()
    del doc["host"]
    msg = bad(plugin_class, kubeconfigs, doc)
    assert "the fleet description has 1 problem:" in msg
    assert "- [no_host] the fleet has no host cluster: put exactly one cluster in group kubesphere_host" in msg


def test_two_hosts(plugin_class, kubeconfigs):
    doc = good()
    doc["host"] = [doc["host"], {"name": "host2", "kubeconfig": "member2.yaml", "context": "member2"}]
    msg = bad(plugin_class, kubeconfigs, doc)
    assert "[two_hosts] the fleet has 2 host clusters (host, host2): KubeSphere has exactly one host" in msg


def test_duplicate_name(plugin_class, kubeconfigs):
    msg = bad(plugin_class, kubeconfigs, good(cluster_name="member2"))
    assert "[duplicate_name] cluster 'member2': the name is used by 2 inventory hosts (member1, member2)" in msg


def test_invalid_name(plugin_class, kubeconfigs):
    msg = bad(plugin_class, kubeconfigs, good(cluster_name="Member_1"))
    assert ("[invalid_name] cluster 'Member_1': KubeSphere rejects this name: use lowercase letters, digits and "
            "'-', starting and ending with a letter or digit, at most 63 characters") in msg


def test_unknown_connection_type(plugin_class, kubeconfigs):
    msg = bad(plugin_class, kubeconfigs, good(connection_type="tunnel"))
    assert "[unknown_connection_type] cluster 'member1': connection type 'tunnel' is unknown: use 'direct' or 'proxy'" in msg


def test_member_listed_as_host(plugin_class, kubeconfigs):
    doc = good()
    doc["members"].append({"name": "host", "kubeconfig": "host.yaml", "context": "host"})
    msg = bad(plugin_class, kubeconfigs, doc)
    assert "[member_as_host] cluster 'host' is listed both as the host and as a member" in msg


def test_kubeconfig_missing(plugin_class, kubeconfigs):
    msg = bad(plugin_class, kubeconfigs, good(kubeconfig="gone.yaml"))
    assert "[kubeconfig_missing] cluster 'member1': kubeconfig file %s does not exist" % (kubeconfigs / "gone.yaml") in msg


def test_no_such_context(plugin_class, kubeconfigs):
    msg = bad(plugin_class, kubeconfigs, good(context="prod"))
    assert "[no_such_context] cluster 'member1': kubeconfig %s has no context 'prod' (it has: member1)" % (
        kubeconfigs / "member1.yaml") in msg


def test_same_api_server(plugin_class, kubeconfigs):
    write_kubeconfig(kubeconfigs / "alias.yaml", "https://10.0.0.2:6443/", "alias")
    doc = good()
    doc["members"].append({"name": "member3", "kubeconfig": "alias.yaml"})
    msg = bad(plugin_class, kubeconfigs, doc)
    assert "[same_server] clusters 'member1' and 'member3' are the same API server (https://10.0.0.2:6443)" in msg


def test_unknown_setting(plugin_class, kubeconfigs):
    msg = bad(plugin_class, kubeconfigs, good(kubconfig="typo.yaml"))
    assert "[unknown_key] cluster 'member1': unknown setting kubconfig" in msg


def test_all_problems_are_reported_together(plugin_class, kubeconfigs):
    msg = bad(plugin_class, kubeconfigs, good(cluster_name="Bad_Name", connection_type="x", context="nope"))
    assert "has 3 problems" in msg
    assert msg.index("[invalid_name]") < msg.index("[unknown_connection_type]") < msg.index("[no_such_context]")


def test_kubeconfig_checks_can_be_turned_off(plugin_class, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBESPHERE_INVENTORY_CHECK_KUBECONFIGS", "false")
    inv = parse(plugin_class, tmp_path, good())[0]  # no kubeconfig file exists in tmp_path
    assert members_of(inv, "kubesphere_members") == ["member1", "member2"]


# --- discovery --------------------------------------------------------------------------------------


class FakeConnection:
    calls = []

    def __init__(self, module, label, prefix="", params=None):
        self.label, self.params = label, params

    def list(self, api_version, kind, namespace=None, label_selector=None, if_served=False):
        FakeConnection.calls.append((self.label, self.params["context"], kind))

        def obj(name, ready, labels=None):
            return {"metadata": {"name": name, "labels": labels or {}},
                    "spec": {"connection": {"type": "proxy", "token": "tok", "kubeconfig": "c2VjcmV0"},
                             "joinFederation": True},
                    "status": {"conditions": [{"type": "Ready", "status": ready}], "kubeSphereVersion": "v3.4.1"}}

        if kind == "KubeFedCluster":
            assert (api_version, namespace, if_served) == ("core.kubefed.io/v1beta1", "kube-federation-system", True)
            return [kfc(n, s) for n, s in FakeConnection.kubefed.items()]
        return [obj("host", "True", {"cluster-role.kubesphere.io/host": ""}), obj("member1", "True"),
                obj("edge-9", "False", {"cluster.kubesphere.io/group": "edge"})]


FakeConnection.kubefed = {"host": "Ready", "member1": "Ready"}


def kfc(name, state):
    """A KubeFedCluster as kubefed writes it: Ready True, or (a member that stopped answering) Offline True."""
    conds = [{"type": "Ready", "status": "True", "reason": "ClusterReady"}] if state == "Ready" else [
        {"type": "Offline", "status": "True", "reason": "ClusterNotReachable", "message": "cluster is not reachable"}]
    return {"metadata": {"name": name, "namespace": "kube-federation-system"}, "status": {"conditions": conds}}


def test_discovery_adds_what_the_host_knows(plugin_class, kubeconfigs, monkeypatch):
    from ansible_collections.kubesphere.multicluster.plugins.module_utils import _k8s

    monkeypatch.setattr(_k8s, "Connection", FakeConnection)
    FakeConnection.calls = []
    monkeypatch.setattr(FakeConnection, "kubefed", {"host": "Ready", "member1": "Ready"})
    inv = parse(plugin_class, kubeconfigs, dict(good(), discover=True))[0]
    assert FakeConnection.calls == [("host", "host", "Cluster"), ("host", "host", "KubeFedCluster")]
    m1, m2, edge = (inv.get_host(n).vars for n in ("member1", "member2", "edge-9"))
    assert (m1["kubesphere_joined"], m1["kubesphere_ready"], m1["kubesphere_kubesphere_version"]) == (True, True, "v3.4.1")
    assert m1["kubesphere_health"] == "ready" and inv.get_host("host").vars["kubesphere_health"] == "ready"
    assert "kubesphere_health" not in m2  # not joined: nothing the host knows
    assert (m2["kubesphere_joined"], m2["kubesphere_discovered"]) == (False, False)
    assert (edge["kubesphere_discovered"], edge["kubesphere_ready"], edge["kubesphere_connection_type"],
            edge["kubesphere_cluster_group"]) == (True, False, "proxy", "edge")
    assert "kubesphere_kubeconfig" not in edge
    assert members_of(inv, "kubesphere_discovered") == ["edge-9"]
    assert "edge-9" not in members_of(inv, "kubesphere_clusters")
    assert "c2VjcmV0" not in repr({h: inv.get_host(h).vars for h in inv.hosts}) and "tok" not in repr(edge)


def test_a_member_kubefed_says_offline_is_not_ready_although_its_cluster_says_ready(
        plugin_class, kubeconfigs, monkeypatch):
    """The verdict cluster_info and status give (cluster_health.health): the Cluster of a member that died
    after joining keeps Ready True (KubeSphere's webhook denies the update), its KubeFedCluster says Offline."""
    from ansible_collections.kubesphere.multicluster.plugins.module_utils import _k8s

    monkeypatch.setattr(_k8s, "Connection", FakeConnection)
    monkeypatch.setattr(FakeConnection, "kubefed", {"host": "Ready", "member1": "Offline"})
    inv = parse(plugin_class, kubeconfigs, dict(good(), discover=True))[0]
    m1 = inv.get_host("member1").vars
    assert (m1["kubesphere_joined"], m1["kubesphere_ready"], m1["kubesphere_health"]) == (True, False, "offline")
    assert "KubeFedCluster kube-federation-system/member1 reports Offline" in m1["kubesphere_ready_reason"]
    assert m1["kubesphere_health_reason"] == m1["kubesphere_ready_reason"]
    assert inv.get_host("host").vars["kubesphere_ready"] is True


def test_discovery_without_kubefed_keeps_the_clusters_ready(plugin_class, kubeconfigs, monkeypatch):
    """A host that does not serve KubeFedCluster (list(if_served=True) -> None): Ready as the Cluster says."""
    from ansible_collections.kubesphere.multicluster.plugins.module_utils import _k8s

    class NoKubefed(FakeConnection):
        def list(self, api_version, kind, namespace=None, label_selector=None, if_served=False):
            return None if kind == "KubeFedCluster" else FakeConnection.list(self, api_version, kind, namespace)

    monkeypatch.setattr(_k8s, "Connection", NoKubefed)
    m1 = parse(plugin_class, kubeconfigs, dict(good(), discover=True))[0].get_host("member1").vars
    assert m1["kubesphere_ready"] is True and "kubesphere_health" not in m1


def test_discovery_uses_the_cache(plugin_class, kubeconfigs, monkeypatch):
    from ansible_collections.kubesphere.multicluster.plugins.module_utils import _k8s

    monkeypatch.setattr(_k8s, "Connection", FakeConnection)
    FakeConnection.calls = []
    doc = dict(good(), discover=True, cache=True, cache_plugin="jsonfile",
               cache_connection=str(kubeconfigs / "cache"))
    parse(plugin_class, kubeconfigs, doc, cache=False)   # refresh: reads the host and fills the cache
    inv = parse(plugin_class, kubeconfigs, doc, cache=True)[0]  # served from the cache
    assert len(FakeConnection.calls) == 2  # Clusters and KubeFedClusters, once
    assert inv.get_host("edge-9").vars["kubesphere_discovered"] is True


def test_discovery_failure_names_the_host(plugin_class, kubeconfigs):
    # member1's kubeconfig points at 10.0.0.2, where nothing answers quickly: use a closed local port instead
    write_kubeconfig(kubeconfigs / "host.yaml", "https://127.0.0.1:1", "host")
    msg = bad(plugin_class, kubeconfigs, dict(good(), discover=True))
    assert "cannot discover the fleet from the host: cluster 'host':" in msg
    assert "unreachable" in msg


# --- ansible-inventory on the shipped inventories --------------------------------------------------------


def ansible_inventory(*args, env=None):
    run_env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"),
                   ANSIBLE_INVENTORY_UNPARSED_FAILED="true", ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="true",
                   **(env or {}))
    proc = subprocess.run([os.path.join(BIN, "ansible-inventory")] + list(args), cwd=REPO, env=run_env, check=False,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr
    return proc.stdout


def layout(source, env=None):
    """{groups: {group: sorted hosts}, vars: {host: kubesphere_* vars}} of an inventory source, with
    kubeconfig paths resolved as a play would see them."""
    data = json.loads(ansible_inventory("-i", source, "--list", env=env))
    groups = {g: sorted(v.get("hosts", [])) for g, v in data.items() if g != "_meta" and v.get("hosts")}
    out = {}
    for host, hv in data["_meta"]["hostvars"].items():
        hv = {k: (v.get("__ansible_unsafe") if isinstance(v, dict) and "__ansible_unsafe" in v else v) for k, v in hv.items()}
        kv = {k: v for k, v in hv.items() if k.startswith("kubesphere_") or k.startswith("ansible_")}
        if "kubesphere_kubeconfig" in kv:
            path = kv["kubesphere_kubeconfig"].replace("{{ inventory_dir }}", os.path.dirname(os.path.join(REPO, source))
                                                       if source.endswith(".yml") else os.path.join(REPO, source))
            kv["kubesphere_kubeconfig"] = os.path.normpath(path)
        out[host] = kv
    return {"groups": groups, "vars": out}


@pytest.mark.parametrize("inventory", ["inventories/example", "inventories/lab"])
def test_graph_of_the_shipped_inventories(inventory):
    env = {"KUBESPHERE_INVENTORY_CHECK_KUBECONFIGS": "false"} if inventory.endswith("lab") else None
    graph = ansible_inventory("-i", inventory, "--graph", env=env)
    assert "|--@kubesphere_clusters:\n  |  |--@kubesphere_host:\n  |  |  |--host\n  |  |--@kubesphere_members:" in graph
    assert "@wave_canary:\n  |  |--member1" in graph


@pytest.mark.parametrize("inventory,compact", [
    ("inventories/example/hosts.yml", "inventories/example/example.kubesphere.yml"),
    ("inventories/lab/hosts.yml", "inventories/lab/lab.kubesphere.yml"),
])
def test_the_compact_file_gives_the_same_inventory_as_the_static_layout(inventory, compact):
    env = {"KUBESPHERE_INVENTORY_CHECK_KUBECONFIGS": "false"}
    static, plugin = layout(inventory, env), layout(compact, env)
    assert plugin["groups"] == static["groups"]
    assert plugin["vars"] == static["vars"]
    assert plugin["vars"]["member1"]["ansible_connection"] == "local"
    assert plugin["vars"]["member1"]["kubesphere_kubeconfig"].startswith(REPO + os.sep)


def test_the_example_is_valid_with_kubeconfig_checks_on():
    out = ansible_inventory("-i", "inventories/example", "--list")
    hv = json.loads(out)["_meta"]["hostvars"]
    assert hv["edge-1"]["kubesphere_connection_type"] == "proxy"


def test_ansible_inventory_shows_a_validation_problem(tmp_path):
    (tmp_path / "bad.kubesphere.yml").write_text(yaml.safe_dump({
        "plugin": PLUGIN, "check_kubeconfigs": False,
        "host": {"name": "host"}, "members": [{"name": "Member_1"}, {"name": "m2", "connection_type": "vpn"}]}))
    proc = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(tmp_path / "bad.kubesphere.yml"), "--graph"], check=False,
                          cwd=REPO, env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg")),
                          capture_output=True, text=True, timeout=120)
    text = " ".join(proc.stderr.split())
    assert "[invalid_name] cluster 'Member_1': KubeSphere rejects this name" in text
    assert "[unknown_connection_type] cluster 'm2': connection type 'vpn' is unknown" in text


def test_the_hosts_proxy_address_and_install_paths_become_variables(plugin_class, kubeconfigs):
    doc = good(install_config="install/member1.yaml")
    doc["host"].update(proxy_publish_address="http://192.0.2.10:30721", install_config="/srv/ks/host.yaml")
    inv = parse(plugin_class, kubeconfigs, doc)[0]
    h, m1 = inv.get_host("host").vars, inv.get_host("member1").vars
    assert h["kubesphere_proxy_publish_address"] == "http://192.0.2.10:30721"
    assert h["kubesphere_install_config"] == "/srv/ks/host.yaml"
    assert m1["kubesphere_install_config"] == str(kubeconfigs / "install" / "member1.yaml")
    assert "kubesphere_proxy_publish_address" not in m1


def test_a_proxy_address_the_agent_cannot_dial_is_refused(plugin_class, kubeconfigs):
    doc = good()
    doc["host"]["proxy_publish_address"] = "192.0.2.10:30721"
    msg = bad(plugin_class, kubeconfigs, doc)
    assert "- [bad_proxy_publish_address] cluster 'host': proxy_publish_address" in msg
