"""The fleet model: parsing the compact file and an inventory, and every validation problem (code + message)."""

import pytest
import yaml

from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet import model as fleet
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.kubeconfig import summary as kubeconfig_summary
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import fleet as fleet_checks


def kubeconfig(contexts, current=None):
    """A kubeconfig dict: contexts maps context name -> server URL."""
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": current,
        "clusters": [{"name": "c-" + n, "cluster": {"server": s}} for n, s in contexts.items()],
        "contexts": [{"name": n, "context": {"cluster": "c-" + n, "user": "u"}} for n in contexts],
        "users": [{"name": "u", "user": {"token": "secret-token"}}],
    }


def fleet_of(*members, host="host", **host_settings):
    out = [fleet.cluster(host, "host", **host_settings)] if host else []
    return out + [fleet.cluster(m, "member") if isinstance(m, str) else fleet.cluster(m[0], "member", **m[1]) for m in members]


def codes(problems):
    return [p["code"] for p in problems]


# --- the model ----------------------------------------------------------------------------------


def test_cluster_defaults():
    c = fleet.cluster("member1", "member")
    assert c["cluster_name"] == "member1" and c["connection_type"] == "direct"
    assert c["node_group"] is None and c["nodes"] == []
    assert fleet.cluster("m-1", "member", nodes=["n1"])["node_group"] == "m_1_nodes"


def test_parse_compact_applies_defaults_and_resolves_paths(tmp_path):
    doc = yaml.safe_load("""
defaults: {provider: kubesphere, cluster_group: prod}
host: {name: host, kubeconfig: kc/host.yaml, context: h}
members:
  - {name: member1, kubeconfig: /abs/m1.yaml, wave: canary, region: eu-west, cluster_group: lab}
  - {name: edge, connection_type: proxy, kubeconfig: "~/edge.yaml"}
""")
    clusters, problems = fleet.parse_compact(doc, base_dir=str(tmp_path))
    assert problems == []
    host, m1, edge = clusters
    assert host["role"] == "host" and host["kubeconfig"] == str(tmp_path / "kc" / "host.yaml")
    assert host["provider"] == "kubesphere" and host["cluster_group"] == "prod"
    assert m1["kubeconfig"] == "/abs/m1.yaml" and m1["cluster_group"] == "lab" and m1["wave"] == "canary"
    assert edge["connection_type"] == "proxy" and not edge["kubeconfig"].startswith("~")


def test_parse_compact_keeps_inline_kubeconfig_content():
    content = yaml.safe_dump(kubeconfig({"h": "https://h:6443"}, "h"))
    clusters = fleet.parse_compact({"host": {"name": "host", "kubeconfig": content}}, base_dir="/x")[0]
    assert clusters[0]["kubeconfig"] == content


def test_parse_compact_shape_problems():
    doc = {"host": {"name": "host", "kubconfig": "typo"}, "members": [{"context": "x"}],
           "defaults": {"wave": "w"}}
    problems = fleet.parse_compact(doc)[1]
    assert codes(problems) == ["unknown_key", "missing_name", "unknown_key"]
    assert "cluster 'host': unknown setting kubconfig" in problems[0]["message"]
    assert problems[1]["message"] == "member entry #1 has no `name`: every cluster needs one"
    assert problems[2]["message"].startswith("defaults: unknown setting wave")


def test_from_inventory_reads_groups_and_variables():
    groups = {"kubesphere_host": ["h"], "kubesphere_members": ["m1", "m2"], "wave_canary": ["m1"],
              "region_eu": ["h", "m1"], "all": ["h", "m1", "m2"]}
    hostvars = {"h": {"kubesphere_kubeconfig": "/k/h", "kubesphere_context": "h"},
                "m1": {"kubesphere_cluster_name": "member-one", "kubesphere_connection_type": "proxy"}}
    h, m1, m2 = fleet.from_inventory(hostvars, groups)
    assert (h["role"], h["kubeconfig"], h["region"], h["wave"]) == ("host", "/k/h", "eu", None)
    assert (m1["cluster_name"], m1["connection_type"], m1["wave"]) == ("member-one", "proxy", "canary")
    assert m2["cluster_name"] == "m2" and m2["connection_type"] == "direct"


# --- validation: one test per problem -------------------------------------------------------------


def test_a_good_fleet_has_no_problem():
    assert fleet_checks.validate(fleet_of("member1", "member2")) == []


def test_no_host():
    problems = fleet_checks.validate(fleet_of("member1", host=None))
    assert codes(problems) == ["no_host"]
    assert problems[0]["message"] == ("the fleet has no host cluster: put exactly one cluster in group kubesphere_host "
                                      "(in a compact file: `host:`); in an AWX slice whose share lacks the host, "
                                      "run playbooks/members.yml with kubesphere_host_context")


def test_two_hosts():
    clusters = fleet_of("member1") + [fleet.cluster("host2", "host")]
    problems = fleet_checks.validate(clusters)
    assert codes(problems) == ["two_hosts"]
    assert problems[0]["message"] == ("the fleet has 2 host clusters (host, host2): KubeSphere has exactly one host; "
                                      "keep one in kubesphere_host and make the others members")


def test_two_hosts_from_a_compact_file_list():
    clusters = fleet.parse_compact({"host": [{"name": "a"}, {"name": "b"}]})[0]
    assert codes(fleet_checks.validate(clusters)) == ["two_hosts"]


def test_duplicate_cluster_name():
    problems = fleet_checks.validate(fleet_of(("m1", {"cluster_name": "prod"}), ("m2", {"cluster_name": "prod"})))
    assert codes(problems) == ["duplicate_name"]
    assert problems[0]["cluster"] == "prod"
    assert problems[0]["message"] == ("cluster 'prod': the name is used by 2 inventory hosts (m1, m2): "
                                      "KubeSphere cluster names must be unique")


@pytest.mark.parametrize("name, ctype", [
    ("Member1", "direct"), ("member_1", "direct"), ("-member", "direct"), ("member-", "direct"), ("mem ber", "direct"),
    (".m", "direct"), ("eu.prod-2", "direct"), ("a" * 64, "direct"), ("a" * 61, "proxy"),
])
def test_invalid_name(name, ctype):
    """KubeSphere's Cluster name rule, the one the import applies: a DNS-1123 label of at most 63 characters,
    60 for a proxy member (tower's Service mc-<name>)."""
    problems = fleet_checks.validate(fleet_of(("m", {"cluster_name": name, "connection_type": ctype})))
    assert codes(problems) == ["invalid_name"]
    assert problems[0]["message"] == (
        "cluster '%s': KubeSphere rejects this name: use lowercase letters, digits and '-', starting and ending "
        "with a letter or digit, at most 63 characters (60 for proxy members: tower names a Service mc-<name>)" % name)


@pytest.mark.parametrize("name, ctype", [("m", "direct"), ("member-1", "direct"), ("1a", "direct"), ("a" * 63, "direct"),
                                         ("a" * 60, "proxy")])
def test_valid_names(name, ctype):
    assert fleet_checks.validate(fleet_of(("m", {"cluster_name": name, "connection_type": ctype}))) == []


def test_unknown_connection_type():
    problems = fleet_checks.validate(fleet_of(("edge", {"connection_type": "vpn"})))
    assert codes(problems) == ["unknown_connection_type"]
    assert problems[0]["message"] == "cluster 'edge': connection type 'vpn' is unknown: use 'direct' or 'proxy'"


def test_member_listed_as_host():
    problems = fleet_checks.validate(fleet_of("member1", "host"))
    assert codes(problems) == ["member_as_host"]
    assert problems[0]["message"] == ("cluster 'host' is listed both as the host and as a member: "
                                      "a cluster is either the host or a member")


def test_member_listed_as_host_in_an_inventory():
    clusters = fleet.from_inventory({}, {"kubesphere_host": ["h"], "kubesphere_members": ["h", "m"]})
    assert codes(fleet_checks.validate(clusters)) == ["member_as_host"]


def test_kubeconfig_file_missing(tmp_path):
    clusters = fleet_of(("m1", {"kubeconfig": str(tmp_path / "nope.yaml")}))
    views = {c["name"]: kubeconfig_summary(c["kubeconfig"]) for c in clusters}
    problems = fleet_checks.validate(clusters, views)
    assert codes(problems) == ["kubeconfig_missing"]
    assert problems[0]["message"] == "cluster 'm1': kubeconfig file %s does not exist" % (tmp_path / "nope.yaml")


def test_kubeconfig_has_no_such_context(tmp_path):
    path = tmp_path / "m1.yaml"
    path.write_text(yaml.safe_dump(kubeconfig({"a": "https://a:6443", "b": "https://b:6443"}, "a")))
    clusters = fleet_of(("m1", {"kubeconfig": str(path), "context": "m1"}))
    problems = fleet_checks.validate(clusters, {"m1": kubeconfig_summary(str(path))})
    assert codes(problems) == ["no_such_context"]
    assert problems[0]["message"] == "cluster 'm1': kubeconfig %s has no context 'm1' (it has: a, b)" % path


def test_kubeconfig_without_context_uses_current_context(tmp_path):
    path = tmp_path / "m1.yaml"
    path.write_text(yaml.safe_dump(kubeconfig({"a": "https://a:6443"}, current=None)))
    problems = fleet_checks.validate(fleet_of(("m1", {"kubeconfig": str(path)})), {"m1": kubeconfig_summary(str(path))})
    assert codes(problems) == ["no_such_context"]
    assert "has no context 'None' (it has: a)" in problems[0]["message"]


def test_kubeconfig_not_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("clusters: [\n")
    problems = fleet_checks.validate(fleet_of(("m1", {"kubeconfig": str(path)})), {"m1": kubeconfig_summary(str(path))})
    assert codes(problems) == ["kubeconfig_invalid"]
    assert problems[0]["message"].startswith("cluster 'm1': kubeconfig %s is not valid YAML" % path)


def test_inline_kubeconfig_is_checked_too():
    content = yaml.safe_dump(kubeconfig({"a": "https://a:6443"}, "a"))
    clusters = fleet_of(("m1", {"kubeconfig": content, "context": "zzz"}))
    problems = fleet_checks.validate(clusters, {"m1": kubeconfig_summary(content)})
    assert codes(problems) == ["no_such_context"]
    assert "kubeconfig inline content has no context 'zzz'" in problems[0]["message"]
    assert "secret-token" not in problems[0]["message"]


def test_same_api_server():
    views = {"host": kubeconfig_summary(kubeconfig({"h": "https://API.example.com:443/"}, "h")),
             "m1": kubeconfig_summary(kubeconfig({"m": "https://api.example.com"}, "m")),
             "m2": kubeconfig_summary(kubeconfig({"m": "https://api.example.com:6443"}, "m"))}
    problems = fleet_checks.validate(fleet_of("m1", "m2", kubeconfig="x"), views)
    assert codes(problems) == ["same_server"]
    assert problems[0]["cluster"] == "m1"
    assert problems[0]["message"] == ("clusters 'host' and 'm1' are the same API server (https://api.example.com:443): "
                                      "list each cluster once")


def test_kubeconfig_checks_are_skipped_without_views():
    assert fleet_checks.validate(fleet_of(("m1", {"kubeconfig": "/does/not/exist"}))) == []


def test_every_problem_at_once_in_a_stable_order():
    clusters = fleet_of(("Bad_Name", {"connection_type": "vpn"}), "host", host="host") + [fleet.cluster("h2", "host")]
    assert codes(fleet_checks.validate(clusters)) == ["two_hosts", "member_as_host", "invalid_name", "unknown_connection_type"]
    text = fleet_checks.format_fleet_problems(fleet_checks.check(clusters, read_kubeconfigs=False))
    assert text.startswith("the fleet description has 4 problems:\n- [two_hosts] the fleet has 2 host")


# --- helpers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url,expected", [
    ("https://API.Example.com/", "https://api.example.com:443"),
    ("https://10.0.0.1:6443", "https://10.0.0.1:6443"),
    ("http://a", "http://a:80"),
    ("api.example.com:6443", "https://api.example.com:6443"),
    ("https://rancher.example.com/k8s/clusters/c-1/", "https://rancher.example.com:443/k8s/clusters/c-1"),
    ("https://[::1]:6443", "https://[::1]:6443"),
    (None, None),
])
def test_normalize_server(url, expected):
    assert fleet.normalize_server(url) == expected


def test_the_kubeconfig_summary_never_holds_secrets():
    view = kubeconfig_summary(kubeconfig({"a": "https://a:6443"}, "a"))
    assert view == {"source": "inline content", "exists": True, "error": None,
                    "contexts": {"a": "https://a:6443"}, "current": "a"}
    assert kubeconfig_summary(None) is None


def test_inventory_groups_and_hostvars():
    c = fleet.cluster("m-1", "member", wave="canary-1", region="eu.west", cluster_group="g", kubeconfig="/k")
    assert fleet.inventory_groups(c) == ["kubesphere_members", "wave_canary_1", "region_eu_west"]
    assert fleet.inventory_hostvars(c) == {"kubesphere_cluster_name": "m-1", "kubesphere_kubeconfig": "/k",
                                           "kubesphere_connection_type": "direct", "kubesphere_cluster_group": "g"}


def cluster_object(name, ready=None, host=False, ctype="direct", group=None):
    labels = {}
    if host:
        labels[fleet.HOST_LABEL] = ""
    if group:
        labels[fleet.GROUP_LABEL] = group
    conds = [] if ready is None else [{"type": "Ready", "status": "True" if ready else "False",
                                       "message": "Cluster is available now" if ready else "Cluster is Not Ready now"}]
    return {"metadata": {"name": name, "labels": labels},
            "spec": {"connection": {"type": ctype, "kubeconfig": "c2VjcmV0", "token": "tok"}, "provider": "p"},
            "status": {"conditions": conds, "kubernetesVersion": "v1.34.3", "kubeSphereVersion": "v3.4.1"}}


def test_discovered_clusters_read_the_cluster_objects_without_secrets():
    found = fleet.discovered_clusters([cluster_object("m2", ready=False, ctype="proxy", group="edge"),
                                       cluster_object("host", ready=True, host=True), cluster_object("m3")])
    assert [d["name"] for d in found] == ["host", "m2", "m3"]
    host, m2, m3 = found
    assert host["role"] == "host" and host["ready"] is True
    assert (m2["role"], m2["connection_type"], m2["ready"], m2["cluster_group"]) == ("member", "proxy", False, "edge")
    assert m2["ready_reason"] == "Cluster is Not Ready now"
    assert m3["ready"] is False and m3["ready_reason"] == "the host has not set the Ready condition yet"
    assert "c2VjcmV0" not in repr(found) and "tok" not in repr(found)


def test_merge_discovered_marks_joined_and_adds_unlisted_members():
    clusters = fleet_of("m1", "m9")
    found = fleet.discovered_clusters([cluster_object("host", True, host=True), cluster_object("m1", True),
                                       cluster_object("m2", False, ctype="proxy")])
    merged = {c["name"]: c for c in fleet.merge_discovered(clusters, found)}
    assert merged["m1"]["facts"]["joined"] is True and merged["m1"]["facts"]["ready"] is True
    assert merged["m9"]["facts"] == {"joined": False, "discovered": False}
    assert merged["m2"]["role"] == "member" and merged["m2"]["kubeconfig"] is None
    assert merged["m2"]["facts"]["discovered"] is True and merged["m2"]["connection_type"] == "proxy"
    assert fleet.inventory_hostvars(merged["m2"])["kubesphere_ready"] is False
    assert fleet.inventory_groups(merged["m2"]) == ["kubesphere_discovered"]
    assert fleet.inventory_groups(merged["m1"]) == ["kubesphere_members"]


def test_public_view_never_shows_inline_kubeconfig_content():
    content = yaml.safe_dump(kubeconfig({"a": "https://a:6443"}, "a"))
    c = dict(fleet.cluster("m1", "member", kubeconfig=content), facts={"ready": True})
    view = fleet.public_view(c)
    assert view["kubeconfig"] == "(inline content)" and "facts" not in view
    assert fleet.public_view(fleet.cluster("m1", "member", kubeconfig="/k"))["kubeconfig"] == "/k"


def test_node_group_must_be_an_inventory_group():
    clusters = fleet_of(("m1", {"node_group": "m1_nodes"}), ("m2", {"node_group": "m2_nodes"}))
    problems = fleet_checks.inventory_problems(clusters, {"m1_nodes": ["n1"], "all": []})
    assert codes(problems) == ["node_group_missing"]
    assert problems[0]["message"] == ("cluster 'm2': node group 'm2_nodes' (kubesphere_node_group) is not an inventory "
                                      "group: add the group of its node hosts or remove the variable")


def test_a_cluster_in_two_waves():
    groups = {"kubesphere_host": ["h"], "kubesphere_members": ["m1", "m2"], "wave_canary": ["m1"],
              "wave_rest": ["m1", "m2"]}
    problems = fleet_checks.inventory_problems(fleet.from_inventory({}, groups), groups)
    assert codes(problems) == ["two_waves"]
    assert problems[0]["message"] == ("cluster 'm1' is in 2 rollout waves (wave_canary, wave_rest): put each cluster in "
                                      "one wave_* group")


def test_a_multi_line_json_kubeconfig_is_content_for_the_checks_and_the_connection():
    """AWX may inject a kubeconfig as JSON text: the fleet checks and the connection read it the same way."""
    import json

    from ansible_collections.kubesphere.multicluster.plugins.module_utils import _k8s

    text = json.dumps(kubeconfig({"m1": "https://m1.example.com:6443"}, current="m1"), indent=2)
    assert fleet.is_inline(text)
    view = kubeconfig_summary(text)
    assert view["exists"] and view["error"] is None and view["contexts"] == {"m1": "https://m1.example.com:6443"}
    assert fleet_checks.validate(fleet_of(("m1", {"kubeconfig": text, "context": "m1"})), {"m1": view}) == []
    value, secrets = _k8s.resolve_kubeconfig(text, "m1")
    assert isinstance(value, dict) and value["current-context"] == "m1"
    assert "secret-token" in secrets and text in secrets


def test_the_hosts_proxy_address_is_checked_and_members_ignore_it():
    assert fleet_checks.validate(fleet_of("member1", proxy_publish_address="http://192.0.2.10:30721")) == []
    assert fleet_checks.validate(fleet_of("member1", proxy_publish_address="")) == []
    problems = fleet_checks.validate(fleet_of("member1", proxy_publish_address="tower:8080"))
    assert codes(problems) == ["bad_proxy_publish_address"] and problems[0]["cluster"] == "host"
    # an AWX survey answer reaches every inventory host: only the host's counts
    assert fleet_checks.validate(fleet_of(("member1", {"proxy_publish_address": "tower:8080"}))) == []


def test_from_inventory_reads_the_proxy_address_and_install_path():
    groups = {"kubesphere_host": ["h"], "kubesphere_members": []}
    hostvars = {"h": {"kubesphere_proxy_publish_address": "", "kubesphere_install_config": "/x/h.yaml"}}
    (h,) = fleet.from_inventory(hostvars, groups)
    assert (h["proxy_publish_address"], h["install_config"]) == ("", "/x/h.yaml")


def test_a_compact_file_naming_two_members_alike_is_refused():
    from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet import model  # noqa: PLC0415

    clusters, problems = model.parse_compact({"host": {"name": "host"},
                                              "members": [{"name": "member1", "context": "member1"},
                                                          {"name": "member1", "context": "member2"}]})
    assert [c["name"] for c in clusters] == ["host", "member1"]
    assert [(p["code"], p["cluster"]) for p in problems] == [("duplicate_name", "member1")]
