"""checks/roles.py: the checks before a cluster's multi-cluster role changes, over plain facts."""

import yaml

from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import roles
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.vocabulary import HOST_CLUSTER_ANNOTATION as V4_HOST_ANNOTATION


def codes(problems):
    return [p["code"] for p in problems]


def test_no_guard_for_a_plain_change():
    assert roles.guard_problems("m1", "member", "none") == []
    assert roles.guard_problems("h", "host", "none") == []
    assert roles.guard_problems("h", "host", "host", peer_hosts=[]) == []


def test_second_host():
    problems = roles.guard_problems("m1", "host", "none", peer_hosts=["host"])
    assert codes(problems) == ["second_host"]
    assert "'host' already is the host" in problems[0]["message"] and "force: true" in problems[0]["message"]


def test_host_with_members_cannot_become_member_or_none():
    for role in ("member", "none"):
        problems = roles.guard_problems("h", role, "host", members=["m1", "m2"])
        assert codes(problems) == ["host_has_members"]
        assert "(m1, m2)" in problems[0]["message"]
    assert roles.guard_problems("h", "member", "host", members=[]) == []


def test_imported_member_cannot_become_host():
    problems = roles.guard_problems("m1", "host", "member", imported_by=["host 'h' imports it as 'm1'"])
    assert codes(problems) == ["member_imported"]


def test_member_managed_by_another_host():
    problems = roles.guard_problems("m1", "member", "none", managed_by=["host 'other' imports it as 'x'"])
    assert codes(problems) == ["managed_by_other_host"]
    assert "unbind it there first" in problems[0]["message"]


def cluster(name, uid):
    return {"name": name, "uid": uid}


def test_members_of_skips_the_hosts_own_cluster():
    clusters = [cluster("host", "U0"), cluster("m1", "U1"), cluster("renamed-host", "U0"), cluster("m2", None)]
    assert roles.members_of(clusters, "U0", "host") == ["m1", "m2"]
    assert roles.members_of([], "U0", "host") == []


def test_managed_by_annotation_other_name_and_other_host():
    ns = {V4_HOST_ANNOTATION: "elsewhere"}
    found = roles.managed_by("m1", "U1", ns, "h", "host", [cluster("old-name", "U1")],
                             {"h": [cluster("old-name", "U1")], "h2": [cluster("m1", "U1")]})
    assert found == ["kubesphere-system is annotated cluster.kubesphere.io/host-cluster=elsewhere",
                     "host 'h' already imports it as 'old-name'", "host 'h2' imports it as 'm1'"]


def test_managed_by_nothing_when_our_host_knows_it_by_its_name():
    ns = {V4_HOST_ANNOTATION: "host"}
    assert roles.managed_by("m1", "U1", ns, "h", "host", [cluster("m1", "U1")]) == []


def test_imported_evidence():
    cfg = {"multicluster": {"clusterRole": "member", "clusterName": "m1"}}
    found = roles.imported_evidence(cfg, {}, {"h": [cluster("m1", "U1"), cluster("m2", "U2")]}, "U1")
    assert found == ["its kubesphere-config has clusterName 'm1'", "host 'h' imports it as 'm1'"]
    assert roles.imported_evidence({}, {}, {}, "U1") == []


def test_imports_of_ignores_missing_uid():
    assert roles.imports_of("", [cluster("x", "")]) == []


# --- role_problems over states and peer facts ------------------------------------------------------------

def state(name, role, uid="U1", annotations=None, clusters=None, cluster_name=None):
    s = cluster_state.empty(name)
    s["cluster_configuration"] = {"spec": {"multicluster": {"clusterRole": role}}}
    s["config"] = {"multicluster": dict({"clusterRole": role}, **({"clusterName": cluster_name} if cluster_name else {}))}
    s.update(kube_system_uid=uid, ks_namespace_annotations=annotations or {}, clusters=clusters)
    return s


def test_role_problems_second_host_from_peer_facts_only():
    peers = [{"name": "m1", "role": "none", "kube_system_uid": "U1", "clusters": []},
             {"name": "h", "role": "host", "kube_system_uid": "U0", "clusters": [cluster("h", "U0")]}]
    assert codes(roles.role_problems("m1", "host", state("m1", "none"), None, peers)) == ["second_host"]
    # the entry for the cluster itself is skipped: a host re-run is not a second host
    assert roles.role_problems("h", "host", state("h", "host", "U0"), None, peers) == []


def test_role_problems_imported_by_a_peer_host():
    peers = [{"name": "h", "role": "host", "kube_system_uid": "U0", "clusters": [cluster("m1", "U1")]}]
    problems = roles.role_problems("m1", "host", state("m1", "none"), None, peers)
    assert codes(problems) == ["second_host", "member_imported"]
    assert "host 'h' imports it as 'm1'" in problems[1]["message"]


def test_role_problems_host_with_members():
    host = state("h", "host", "U0", clusters=[cluster("h", "U0"), cluster("m1", "U1")])
    assert codes(roles.role_problems("h", "none", host)) == ["host_has_members"]


def test_role_problems_member_managed_elsewhere_by_annotation_and_by_a_peer_host():
    ours = state("host", "host", "U0", clusters=[cluster("host", "U0")])
    ours["config"]["multicluster"]["hostClusterName"] = "host"
    peers = [{"name": "other", "role": "host", "kube_system_uid": "U9", "clusters": [cluster("x", "U1")]}]
    member = state("m1", "none", annotations={V4_HOST_ANNOTATION: "host"})
    problems = roles.role_problems("m1", "member", member, ours, peers)
    assert codes(problems) == ["managed_by_other_host"]
    assert "host 'other' imports it as 'x'" in problems[0]["message"]
    assert roles.role_problems("m1", "member", member, ours, []) == []


def test_every_problem_has_the_one_shape():
    for p in roles.guard_problems("m1", "host", "host", members=["x"], peer_hosts=["h"], imported_by=["y"]):
        assert sorted(p) == ["cluster", "code", "message"] and p["cluster"] == "m1"


def test_config_yaml_is_plain_data():
    assert yaml.safe_load(yaml.safe_dump(state("m1", "none"))) == state("m1", "none")
