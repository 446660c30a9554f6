"""Adoption by kubefed (checks/adoption.py, read/adoption.py and the two operations): an object made outside
federation on a cluster of the placement refuses the run (would_adopt) before any write unless adopt is true;
with adopt it is listed in `adopted`; kubefed's own objects (managed=true) are quiet; managed=false is always
refused; a proxy member is not checked (listed, warned)."""

import base64

import pytest
from fakes import FakeConnection, FakeModule
from federation_fixtures import ftc

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import adoption, codes
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import Refused
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import project, resource
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

SERVED = {("v1", "Namespace"), ("v1", "ConfigMap"), (v.CLUSTER_API_VERSION, v.CLUSTER_KIND),
          (v.KUBEFED_API_VERSION, v.KUBEFED_CLUSTER_KIND), (v.KUBEFED_API_VERSION, v.FEDERATED_TYPE_CONFIG_KIND),
          (v.TYPES_API_VERSION, "FederatedNamespace"), (v.TYPES_API_VERSION, "FederatedConfigMap"),
          (v.TENANT_API_VERSION, v.WORKSPACE_TEMPLATE_KIND), (v.SCHEDULING_API_VERSION, v.RSP_KIND)}
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: member-token-123}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
"""
CM_FTC = ftc("ConfigMap", "configmaps")


def fact(cluster, state, kind="Namespace", name="shop", namespace=None):
    return {"cluster": cluster, "kind": kind, "name": name, "namespace": namespace, "state": state}


# --------------------------------------------------------------------------------------------- the check

def test_unmanaged_object_refuses_without_adopt_and_names_cluster_object_and_way_out():
    problems = adoption.would_adopt("project shop", [fact("member1", "unmanaged"), fact("member2", "absent")], False)
    assert codes(problems) == ["would_adopt"]
    assert problems[0]["cluster"] == "member1"
    msg = problems[0]["message"]
    assert "Namespace shop" in msg and "'member1'" in msg and "adopt: true" in msg and "delete or rename" in msg


def test_adopt_accepts_and_lists_what_is_adopted():
    facts = [fact("member2", "unmanaged", "ConfigMap", "cfg", "shop"), fact("member1", "unmanaged"),
             fact("member1", "managed", "ConfigMap", "cfg", "shop")]
    assert adoption.would_adopt("s", facts, True) == []
    assert adoption.adopted(facts) == [
        {"cluster": "member1", "kind": "Namespace", "namespace": None, "name": "shop"},
        {"cluster": "member2", "kind": "ConfigMap", "namespace": "shop", "name": "cfg"}]


def test_kubefeds_own_objects_and_absent_ones_are_quiet():
    facts = [fact("member1", "managed"), fact("member2", "absent")]
    assert adoption.would_adopt("s", facts, False) == [] and adoption.adopted(facts) == []


@pytest.mark.parametrize("adopt", [False, True])
def test_managed_label_false_is_always_refused(adopt):
    problems = adoption.would_adopt("s", [fact("member1", "unmanaged_false")], adopt)
    assert codes(problems) == ["managed_label_false"] and "ManagedLabelFalse" in problems[0]["message"]


@pytest.mark.parametrize("labels,state", [(None, "unmanaged"), ({"a": "b"}, "unmanaged"),
                                          ({v.KUBEFED_MANAGED_LABEL: "true"}, "managed"),
                                          ({v.KUBEFED_MANAGED_LABEL: "false"}, "unmanaged_false")])
def test_state_of(labels, state):
    assert adoption.state_of({"metadata": {"name": "x", "labels": labels}}) == state
    assert adoption.state_of(None) == "absent"


# --------------------------------------------------------------------------------------------- the operations

def cluster(name, kubeconfig=KUBECONFIG, proxy=False, host=False):
    spec = {"connection": {"type": "proxy" if proxy else "direct"}}
    if kubeconfig:
        spec["connection"]["kubeconfig"] = base64.b64encode(kubeconfig.encode()).decode()
    labels = {v.HOST_LABEL: ""} if host else {}
    return {"apiVersion": v.CLUSTER_API_VERSION, "kind": v.CLUSTER_KIND, "metadata": {"name": name, "labels": labels},
            "spec": spec, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


def kfc(name):
    return {"apiVersion": v.KUBEFED_API_VERSION, "kind": v.KUBEFED_CLUSTER_KIND,
            "metadata": {"name": name, "namespace": v.KUBEFED_NAMESPACE},
            "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Offline", "status": "False"}]}}


def fleet(member_objects, proxy=()):
    """The host, and per member a fake reached through its Cluster's kubeconfig; `connect` records who was
    reached with which kubeconfig."""
    names = ["member1", "member2"]
    host = FakeConnection(label="host", served=SERVED, objects=[cluster(m, proxy=m in proxy) for m in names]
                          + [cluster("host", kubeconfig=None, host=True)] + [kfc(m) for m in names + ["host"]]
                          + [CM_FTC])
    members = {m: FakeConnection(label=m, served=SERVED, objects=member_objects.get(m, [])) for m in names}
    reached = []

    def connect(module, name, params=None, **_kw):
        if params is None:
            return host
        reached.append((name, "member-token-123" in params["kubeconfig"]))
        return members[name]
    return host, members, connect, reached


def namespace(name, labels=None):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}


def configmap(name, ns, labels=None):
    meta = {"name": name, "namespace": ns, "labels": labels or {}}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"a": "1"}}


def project_params(**more):
    p = {"name": "shop", "workspace": "retail", "clusters": ["member1", "member2"], "alias_name": None,
         "description": None, "labels": {}, "overrides": {}, "workspace_placement": False, "state": "present",
         "confirm": None, "wait": False, "wait_timeout": 120, "_wait_slice": None, "cluster_name": "host",
         "timeout": None, "adopt": False}
    p.update(more)
    return p


def all_writes(host, members):
    return (len(host.writes()) if host else 0) + sum(len(m.writes()) for m in members.values())


@pytest.mark.parametrize("check_mode", [False, True])
def test_project_refuses_a_namespace_made_on_a_member_and_writes_nothing(check_mode):
    host, members, connect, reached = fleet({"member1": [namespace("shop")]})
    with pytest.raises(Refused) as e:
        project.run(FakeModule(check_mode=check_mode, **project_params()), connect)
    assert codes(e.value.problems) == ["would_adopt"] and e.value.problems[0]["cluster"] == "member1"
    assert all_writes(host, members) == 0
    assert sorted(reached) == [("member1", True), ("member2", True)]


def test_project_with_adopt_lists_the_adopted_namespace_in_check_mode_and_for_real():
    host, members, connect, _reached = fleet({"member1": [namespace("shop", {"team": "x"})]})
    want = [{"cluster": "member1", "kind": "Namespace", "namespace": None, "name": "shop"}]
    checked = project.run(FakeModule(check_mode=True, **project_params(adopt=True)), connect)
    assert checked["adopted"] == want and all_writes(None, members) == 0
    assert all(c[1][-1] is True for c in host.writes())  # dry runs only
    result = project.run(FakeModule(**project_params(adopt=True)), connect)
    assert result["adopted"] == want and result["changed"] is True
    assert all_writes({}, members) == 0  # kubefed adopts, the module writes only on the host


def test_project_namespace_kubefed_manages_is_not_an_adoption_and_the_host_is_skipped():
    host, members, connect, reached = fleet({"member1": [namespace("shop", {v.KUBEFED_MANAGED_LABEL: "true"})]})
    module = FakeModule(**project_params(clusters=["member1", "host"]))
    result = project.run(module, connect)
    assert result["adopted"] == [] and "adoption_unchecked" not in result and not [w for w in module.warnings if "adopt" in w or "not checked" in w]
    assert reached == [("member1", True)]


def test_proxy_member_is_unchecked_listed_and_warned():
    host, members, connect, reached = fleet({"member2": [namespace("shop")]}, proxy=("member2",))
    module = FakeModule(**project_params())
    result = project.run(module, connect)
    assert [r["cluster"] for r in result["adoption_unchecked"]] == ["member2"]
    assert "proxy" in result["adoption_unchecked"][0]["reason"]
    assert any("member2" in w and "not checked" in w for w in module.warnings)
    assert reached == [("member1", True)]


def test_a_member_with_its_own_connection_is_read_with_it_proxy_members_too():
    """member_connections (the inventory's kubeconfig and context per member, as the federated_project role passes
    them): a proxy member is checked and refused like a direct one, neither Cluster is read for its stored
    kubeconfig, and nothing is written."""
    host, members, connect, reached = fleet({"member2": [namespace("shop")]}, proxy=("member2",))
    given = [{"cluster_name": m, "kubeconfig": "/inventory/%s.kubeconfig" % m, "context": m} for m in members]
    with pytest.raises(Refused) as e:
        project.run(FakeModule(**project_params(member_connections=given)), connect)
    assert [(p["code"], p["cluster"]) for p in e.value.problems] == [("would_adopt", "member2")]
    assert reached == [("member1", False), ("member2", False)]  # the given kubeconfigs, not the stored token
    assert not [c for c in host.calls if c[0] == "get" and c[1][1] == v.CLUSTER_KIND and c[1][2] in members]
    assert all_writes(host, members) == 0


def resource_params(**more):
    p = {"definition": configmap("cfg", "shop"), "clusters": ["member1", "member2"], "project_clusters": None,
         "settings": {}, "replicas_by_weight": None, "retain_replicas": None, "mirror_annotations": False,
         "member_api_versions": None, "state": "present", "wait": False, "wait_timeout": 120,
         "_wait_slice": None, "cluster_name": "host", "timeout": None, "adopt": False}
    p.update(more)
    return p


def federated_namespace(clusters):
    return {"apiVersion": v.TYPES_API_VERSION, "kind": "FederatedNamespace",
            "metadata": {"name": "shop", "namespace": "shop"},
            "spec": {"placement": {"clusters": [{"name": c} for c in clusters]}}}


def test_resource_refuses_a_configmap_made_on_a_member_unless_adopt():
    managed = {v.KUBEFED_MANAGED_LABEL: "true"}
    objs = {"member2": [configmap("cfg", "shop")], "member1": [configmap("cfg", "shop", managed)]}
    host, members, connect, _reached = fleet(objs)
    for obj in (namespace("shop"), federated_namespace(["member1", "member2"])):
        host.create(obj)
    base = len(host.writes())
    with pytest.raises(Refused) as e:
        resource.run(FakeModule(**resource_params()), connect)
    assert codes(e.value.problems) == ["would_adopt"] and "ConfigMap shop/cfg" in e.value.problems[0]["message"]
    assert len(host.writes()) == base and all_writes(None, members) == 0
    result = resource.run(FakeModule(**resource_params(adopt=True)), connect)
    assert result["adopted"] == [{"cluster": "member2", "kind": "ConfigMap", "namespace": "shop", "name": "cfg"}]


def test_resource_reads_only_the_clusters_its_project_places():
    host, members, connect, reached = fleet({"member2": [configmap("cfg", "shop")]})
    for obj in (namespace("shop"), federated_namespace(["member1"])):
        host.create(obj)
    result = resource.run(FakeModule(**resource_params(clusters=["member1"])), connect)
    assert result["adopted"] == [] and reached == [("member1", True)]


def test_a_rerun_reads_only_the_clusters_the_federated_object_does_not_place_yet():
    host, members, connect, reached = fleet({"member1": [namespace("shop", {v.KUBEFED_MANAGED_LABEL: "true"})]})
    project.run(FakeModule(**project_params(clusters=["member1"])), connect)
    assert reached == [("member1", True)]
    result = project.run(FakeModule(**project_params(clusters=["member1", "member2"])), connect)
    assert reached == [("member1", True), ("member2", True)] and result["adopted"] == []
    result = project.run(FakeModule(**project_params(clusters=["member1", "member2"])), connect)
    assert len(reached) == 2 and result["adopted"] == [] and result["changed"] is False
