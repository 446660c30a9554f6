"""A converged 3.4 member proven by this run's preflight facts (versions/v3_4/settled.py, versions.role_settled,
operations/role.py's shortcut): the facts are what cluster_info returns, built here by the real reader and
summariser (read/cluster_state.py) from fake clusters; every fact that differs means "read again"."""

import copy

import pytest
import yaml
from fakes import FakeConnection, FakeModule

from ansible_collections.kubesphere.multicluster.plugins.module_utils import versions
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import role as role_op
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state
from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint

SECRET = "host-jwt-0123456789abcdefghijklmn"
CC_API = "installer.kubesphere.io/v1alpha1"
CLUSTER_API = "cluster.kubesphere.io/v1alpha1"
SERVED = {("v1", "Namespace"), ("v1", "ConfigMap"), (CC_API, "ClusterConfiguration"), (CLUSTER_API, "Cluster")}


def objects(role, rendered_jwt, spec_jwt=None, uid="UID-M", clusters=(), core="successful", annotations=None):
    doc = {"multicluster": {"clusterRole": role}, "authentication": {"jwtSecret": rendered_jwt}}
    spec = {"multicluster": {"clusterRole": role}}
    if spec_jwt:
        spec["authentication"] = {"jwtSecret": spec_jwt}
    out = [{"apiVersion": CC_API, "kind": "ClusterConfiguration",
            "metadata": {"name": "ks-installer", "namespace": "kubesphere-system"},
            "spec": spec, "status": {"core": {"status": core}}},
           {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kubesphere-config", "namespace": "kubesphere-system"},
            "data": {"kubesphere.yaml": yaml.safe_dump(doc)}},
           {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "uid": uid}},
           {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "kubesphere-system", "annotations": annotations or {}}}]
    out += [{"apiVersion": CLUSTER_API, "kind": "Cluster", "metadata": {"name": n}, "status": {"uid": u}}
            for n, u in clusters]
    return out


def facts(label, objs):
    conn = FakeConnection(label=label, objects=objs, served=SERVED)
    return cluster_state.facts(cluster_state.read(conn, parts=("installer", "identity", "clusters")))


def fleet(**member):
    host = facts("host", objects("host", SECRET, uid="UID-H", clusters=[("host", "UID-H"), ("member1", "UID-M")]))
    kw = dict(role="member", rendered_jwt=SECRET, spec_jwt=SECRET)
    kw.update(member)
    return facts("member1", objects(**kw)), host


def params(**kw):
    p = {"role": "member", "cluster_name": "member1", "host_cluster_name": "host", "jwt_secret": None,
         "sync_components": False, "proxy_publish_address": None, "dest": None}
    p.update(kw)
    return p


def test_a_converged_member_is_settled_by_the_facts():
    member, host = fleet()
    assert member["kubesphere_line"] == "3.4" and member["spec_jwt_secret_hash"] == fingerprint(SECRET)
    why = versions.role_settled(params(), member, host)
    assert why and fingerprint(SECRET) in why and SECRET not in why


@pytest.mark.parametrize("change, p", [
    ({"spec_jwt": None}, {}),                          # the ClusterConfiguration lacks the jwtSecret: a patch is due
    ({"spec_jwt": "other-secret-0123456789abcdef"}, {}),
    ({"rendered_jwt": "other-secret-0123456789abcdef"}, {}),  # the installer has not rendered it yet
    ({"role": "none"}, {}),
    ({"core": "failed"}, {}),
    ({"annotations": {"cluster.kubesphere.io/host-cluster": "elsewhere"}}, {}),  # a guard the full run raises
    ({}, {"sync_components": True}),                   # more than the role is asked for
    ({}, {"jwt_secret": "given-secret-0123456789abcdef"}),
    ({}, {"role": "host"}),
    ({}, {"dest": "/tmp/x.yaml"}),
])
def test_anything_that_differs_means_read_again(change, p):
    member, host = fleet(**change)
    assert versions.role_settled(params(**p), member, host) is None


def test_an_unreadable_or_missing_fact_means_read_again():
    member, host = fleet()
    for broken in ({}, None, dict(member, reachable=False), dict(member, unreadable=[{"kind": "ConfigMap"}]),
                   dict(member, kubesphere_line="4.1")):
        assert versions.role_settled(params(), broken, host) is None
    assert versions.role_settled(params(), member, dict(host, role="member")) is None
    assert versions.role_settled(params(), member, dict(host, jwt_secret_hash=None)) is None


def test_the_host_importing_the_member_under_another_name_means_read_again():
    member, host = fleet()
    other = copy.deepcopy(host)
    other["clusters"] = [dict(c, name="renamed") if c["name"] == "member1" else c for c in other["clusters"]]
    assert versions.role_settled(params(), member, other) is None


def test_a_second_host_or_mixed_lines_among_the_peers_means_read_again():
    member, host = fleet()
    peers = [{"name": "host", "role": "host", "kubesphere_line": "3.4"},
             {"name": "member1", "role": "member", "kubesphere_line": "3.4"}]
    assert versions.role_settled(params(), member, host, peers)
    assert versions.role_settled(params(), member, host, peers + [{"name": "h2", "role": "host"}]) is None
    assert versions.role_settled(params(), member, host, peers + [{"name": "m2", "kubesphere_line": "4.1"}]) is None


def test_the_module_reads_nothing_when_settled_and_says_why():
    member, host = fleet()
    module = FakeModule(diff=True, **dict(params(), peers=[], preflight_facts={"cluster": member, "host": host},
                                          force=False, create=False))
    # no connection is made: a kubeconfig that would fail to load proves nothing is read
    result = role_op.run(module)
    assert result["changed"] is False and result["applied"] is True and result["plan"] == []
    assert result["jwt_secret_hash"] == fingerprint(SECRET)
    assert "member1" in result["settled"] and "preflight" in result["settled"]
    assert result["diff"]["before"] == result["diff"]["after"]


def test_a_41_fleet_has_no_shortcut():
    member, host = fleet()
    assert versions.role_settled(params(), dict(member, kubesphere_line="4.1"), dict(host, kubesphere_line="4.1")) is None
