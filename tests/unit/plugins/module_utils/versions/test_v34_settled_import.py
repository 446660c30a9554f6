"""A converged 3.4 import proven by this run's preflight facts (versions/v3_4/settled.py `member_import`,
versions.import_settled, operations/join.py's shortcut): the facts are what cluster_info returns, built by the real
reader and summariser (read/cluster_state.py) from fake clusters; every fact that differs means "read again", and a
settled run makes no connection at all."""

import datetime
import email.utils

import pytest
import yaml
from cluster_fixtures import READY, cond, kubeconfig as make_kubeconfig
from fakes import FakeConnection, FakeModule

from ansible_collections.kubesphere.multicluster.plugins.module_utils import versions
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.kubeconfig import flatten
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import join as join_op
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary as v

SECRET = "host-jwt-0123456789abcdefghijklmn"
CC_API = "installer.kubesphere.io/v1alpha1"
SERVED = {("v1", "Namespace"), ("v1", "ConfigMap"), (CC_API, "ClusterConfiguration"),
          (v.CLUSTER_API_VERSION, v.CLUSTER_KIND), (v.KUBEFED_API_VERSION, v.KUBEFED_CLUSTER_KIND),
          ("apps/v1", "Deployment"), ("v1", "Service"), ("v1", "Node")}
T = 1765070000.0
STORED = flatten(make_kubeconfig(), "admin@member1")


def installer_objects(role, uid, cluster_name=None, jwt=SECRET, skew="10s"):
    doc = {"multicluster": {"clusterRole": role}, "authentication": {"jwtSecret": jwt, "maximumClockSkew": skew}}
    if cluster_name:
        doc["multicluster"]["clusterName"] = cluster_name
    return [{"apiVersion": CC_API, "kind": "ClusterConfiguration",
             "metadata": {"name": "ks-installer", "namespace": "kubesphere-system"},
             "spec": {"multicluster": {"clusterRole": role}, "authentication": {"jwtSecret": jwt}},
             "status": {"core": {"status": "enabled"}, "devops": {"status": "failed"}}},
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "kubesphere-config", "namespace": "kubesphere-system"},
             "data": {"kubesphere.yaml": yaml.safe_dump(doc)}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "uid": uid}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubesphere-system"}}]


def member_cluster(stored=STORED, uid="UID-M", conds=READY, labels=None, annotations=None, ks="v3.4.1"):
    meta = {"name": "member1", "finalizers": [co.FINALIZER],
            "labels": {v.GROUP_LABEL: "lab"} if labels is None else labels,
            "annotations": {co.WAY_TO_ADD: "import", co.CREATOR: "admin"} if annotations is None else annotations}
    return {"apiVersion": v.CLUSTER_API_VERSION, "kind": v.CLUSTER_KIND, "metadata": meta,
            "spec": {"joinFederation": True, "provider": "",
                     "connection": {"type": "direct", "kubeconfig": co.encode_kubeconfig(stored)}},
            "status": {"conditions": list(conds), "uid": uid, "kubeSphereVersion": ks}}


def kubefed(ready=True):
    return {"apiVersion": v.KUBEFED_API_VERSION, "kind": v.KUBEFED_CLUSTER_KIND,
            "metadata": {"name": "member1", "namespace": v.KUBEFED_NAMESPACE},
            "status": {"conditions": [cond("Ready", "True" if ready else "False")]}}


def facts(label, objs, offset=0.0):
    """cluster_info's facts of one fake cluster, its clock `offset` seconds ahead of the controller's."""
    conn = FakeConnection(label=label, objects=objs, served=SERVED, raw_answers={
        "/version": (200, {"Date": email.utils.formatdate(T + offset, usegmt=True)}, {"gitVersion": "v1.34.3"})})
    ticks = iter([T + 0.1, T + 0.2])
    return cluster_state.facts(cluster_state.read(conn, now=lambda: next(ticks)))


def fleet(host_objects=None, member_offset=0.0, **member):
    kw = dict(role="member", uid="UID-M", cluster_name="member1")
    kw.update(member)
    host = facts("host", installer_objects("host", "UID-H") + (
        host_objects if host_objects is not None else [member_cluster(), kubefed()]))
    return facts("member1", installer_objects(**kw), member_offset), host


def params(**kw):
    p = {"name": "member1", "connection_type": "direct", "dedicated_credential": False, "group": "lab",
         "provider": None, "description": None, "alias": None, "labels": None, "creator": "admin",
         "allow_loopback": False, "allow_insecure": False, "cert_expiry_margin_days": 30, "max_clock_skew": None}
    p.update(kw)
    return p


def settled(p=None, member=None, host=None, stored=STORED, peers=()):
    m, h = fleet()
    return versions.import_settled(p or params(), member or m, host or h, stored, peers)


def test_a_converged_import_is_settled_by_the_facts():
    member, host = fleet()
    summary = next(c for c in host["clusters"] if c["name"] == "member1")
    assert summary["health"] == "ready" and summary["kubeconfig_fingerprint"] == co.kubeconfig_fingerprint(
        member_cluster())
    assert summary["annotations"] == {co.WAY_TO_ADD: "import", co.CREATOR: "admin"} and summary["join_federation"]
    assert member["rendered_cluster_name"] == "member1"
    why = settled(member=member, host=host)
    assert why and "UID-M" in why and summary["kubeconfig_fingerprint"] in why and STORED not in why


@pytest.mark.parametrize("host_objects", [
    [member_cluster(stored=STORED.replace("10.0.0.5", "10.0.0.6")), kubefed()],  # another kubeconfig: a patch is due
    [member_cluster(labels={}), kubefed()],                                       # the group label lost
    [member_cluster(labels={v.GROUP_LABEL: "other"}), kubefed()],
    [member_cluster(), kubefed(ready=False)],                                     # kubefed says not ready
    [member_cluster()],                                                           # no KubeFedCluster
    [member_cluster(conds=[cond("Ready", "False")]), kubefed()],
    [member_cluster(ks=""), kubefed()],                                           # the host never reached ks-apiserver
    [member_cluster(uid="UID-X"), kubefed()],                                     # the name holds another cluster
    [kubefed()],                                                                  # not imported yet
    [member_cluster(), kubefed(),
     dict(member_cluster(), metadata={"name": "again", "labels": {}, "annotations": {}})],  # imported twice
])
def test_a_host_cluster_that_differs_means_read_again(host_objects):
    member, host = fleet(host_objects=host_objects)
    assert versions.import_settled(params(), member, host, STORED, ()) is None


def test_what_the_run_does_not_set_is_left_alone_as_the_full_run_leaves_it():
    """The full run merge-patches only what it owns: a description made on the console stays, and so does a
    creator or way-to-add written at creation; the run asking for a description makes it a change."""
    member, host = fleet(host_objects=[member_cluster(annotations={co.DESCRIPTION: "made on the console",
                                                                   co.CREATOR: "alice"}), kubefed()])
    assert versions.import_settled(params(), member, host, STORED, ())
    assert versions.import_settled(params(description="ours"), member, host, STORED, ()) is None


@pytest.mark.parametrize("change", [
    {"role": "none"}, {"jwt": "other-secret-0123456789abcdefghij"}, {"cluster_name": None},
    {"cluster_name": "renamed"}, {"uid": "UID-H"},
])
def test_a_member_that_differs_means_read_again(change):
    member, host = fleet(**change)
    assert versions.import_settled(params(), member, host, STORED, ()) is None


@pytest.mark.parametrize("p", [
    {"connection_type": "proxy"}, {"dedicated_credential": True}, {"group": "other"}, {"provider": "aws"},
    {"description": "new"}, {"alias": "m1"}, {"labels": {"tier": "gold"}},
    {"cert_expiry_margin_days": 36500},     # the certificate expires in 2030: within this margin
    {"max_clock_skew": 0.0},                # the measured bounds allow more than no skew at all
    {"name": "Member_1"},                   # a name KubeSphere rejects
])
def test_what_this_run_asks_for_differently_means_read_again(p):
    assert settled(params(**p)) is None


def test_a_kubeconfig_the_checks_refuse_means_read_again():
    assert settled(stored=None) is None
    insecure = STORED.replace("certificate-authority-data: Q0E=", "insecure-skip-tls-verify: true")
    member, host = fleet(host_objects=[member_cluster(stored=insecure), kubefed()])
    assert versions.import_settled(params(), member, host, insecure, ()) is None
    assert versions.import_settled(params(allow_insecure=True), member, host, insecure, ())


def test_clock_skew_measured_by_the_preflight_decides():
    member, host = fleet(member_offset=30.0)
    assert versions.import_settled(params(), member, host, STORED, ()) is None
    assert versions.import_settled(params(max_clock_skew=60.0), member, host, STORED, ())
    member, host = fleet()
    assert versions.import_settled(params(), dict(member, clock=None), host, STORED, ()) is None


def test_unreadable_facts_other_hosts_and_other_lines_mean_read_again():
    member, host = fleet()
    for broken in ({}, None, dict(member, reachable=False), dict(member, unreadable=[{"kind": "ConfigMap"}]),
                   dict(member, kubesphere_line="4.1")):
        assert versions.import_settled(params(), broken, host, STORED, ()) is None
    assert versions.import_settled(params(), member, dict(host, role="member"), STORED, ()) is None
    annotated = dict(member, host_annotations={v.HOST_CLUSTER_ANNOTATION: "elsewhere"})
    assert versions.import_settled(params(), annotated, host, STORED, ()) is None
    peers = [{"name": "host", "role": "host", "kubesphere_line": "3.4"},
             {"name": "member1", "role": "member", "kubesphere_line": "3.4"}]
    assert versions.import_settled(params(), member, host, STORED, peers)
    assert versions.import_settled(params(), member, host, STORED, peers + [{"name": "h2", "role": "host"}]) is None
    assert versions.import_settled(params(), member, host, STORED,
                                   peers + [{"name": "m2", "kubesphere_line": "4.1"}]) is None


def test_the_module_makes_no_connection_when_settled_and_says_why(tmp_path):
    member, other = fleet()  # `other`: the host's Cluster holds STORED, not the kubeconfig of this file
    path = tmp_path / "member1.kubeconfig"
    path.write_text(make_kubeconfig())
    stored = flatten(str(path), "admin@member1")
    host = facts("host", installer_objects("host", "UID-H") + [member_cluster(stored=stored), kubefed()])
    module = FakeModule(diff=True, check_mode=False, **dict(
        params(), state="present", kubeconfig=str(path), context="admin@member1", stored_kubeconfig=None, peers=[],
        preflight_facts={"cluster": member, "host": host}, timeout=30))

    def no_connection(*_args, **_kwargs):
        raise AssertionError("a settled import makes no connection")

    result = join_op.run(module, connection_class=no_connection)
    assert result["changed"] is False and result["plan"] == [] and result["changes"] == []
    assert result["health"]["verdict"] == "ready" and result["health"]["healthy"] is True
    assert "member1" in result["settled"] and "preflight" in result["settled"]
    assert "cluster" not in result and "diff" not in result
    assert stored in module.hidden  # the stored kubeconfig is hidden as soon as it is built

    # the same facts with a host Cluster holding another kubeconfig: the module reads (here: connects)
    module.params["preflight_facts"] = {"cluster": member, "host": other}
    with pytest.raises(AssertionError, match="no connection"):
        join_op.run(module, connection_class=no_connection)


def test_a_41_fleet_has_no_shortcut():
    member, host = fleet()
    assert versions.import_settled(params(), dict(member, kubesphere_line="4.1"),
                                   dict(host, kubesphere_line="4.1"), STORED, ()) is None


def test_the_certificate_date_is_what_the_margin_is_counted_from():
    soon = flatten(make_kubeconfig(datetime.datetime.now() + datetime.timedelta(days=10)), "admin@member1")
    member, host = fleet(host_objects=[member_cluster(stored=soon), kubefed()])
    assert versions.import_settled(params(), member, host, soon, ()) is None
    assert versions.import_settled(params(cert_expiry_margin_days=5), member, host, soon, ())
