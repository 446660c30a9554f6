"""The read model (cluster_state.read over the one fake connection), the cluster_info facts built from a
state, why a cluster is unreachable, and the fleet table (report.py)."""

import email.utils

import pytest
import yaml

from fakes import FakeConnection
from helm_records import record

from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state as cs
from ansible_collections.kubesphere.multicluster.plugins.module_utils.fleet import report
from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import vocabulary
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import installer
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.common import get_path

CC_API = "installer.kubesphere.io/v1alpha1"

T = 1764031573.0
JWT = "host-jwt-secret-value-0123456789"


def cc(role="member", status=None, spec=None):
    return {"metadata": {"name": "ks-installer", "namespace": "kubesphere-system", "labels": {"version": "v3.4.1"}},
            "spec": dict({"multicluster": {"clusterRole": role}, "devops": {"enabled": True},
                          "logging": {"enabled": False}, "network": {"topology": {"enabled": True}}}, **(spec or {})),
            "status": status or {"core": {"status": "enabled", "version": "v3.4.1"},
                                 "devops": {"status": "failed"}, "multicluster": {"status": "enabled"}}}


def configmap(role="member", jwt=JWT, skew="20s", text=None):
    doc = {"authentication": {"jwtSecret": jwt, "maximumClockSkew": skew}, "multicluster": {"clusterRole": role}}
    return {"data": {"kubesphere.yaml": text if text is not None else yaml.safe_dump(doc)}}


def cluster_obj(name, ready):
    return {"metadata": {"name": name, "labels": {}},
            "spec": {"connection": {"type": "direct", "kubeconfig": "c2VjcmV0LWt1YmVjb25maWc="}},
            "status": {"uid": "uid-" + name, "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                                            "reason": "r", "message": "m", "lastUpdateTime": "x"}],
                       "kubernetesVersion": "v1.34.3"}}


def objects_of(over):
    """The cluster's objects as a FakeConnection serves them; `over` replaces cc/configmap/clusters/
    kube_system/ks_namespace (None = absent)."""
    parts = {"cc": cc(), "configmap": configmap(), "clusters": None, "releases": [],
             "kube_system": {"metadata": {"name": "kube-system", "uid": "uid-1"}},
             "ks_namespace": {"metadata": {"annotations": {"cluster.kubesphere.io/name": "member1",
                                                           "cluster.kubesphere.io/host-cluster": "host", "other": "x"}}}}
    parts.update(over)
    out = []
    if parts["cc"]:
        out.append(dict(parts["cc"], apiVersion=CC_API, kind="ClusterConfiguration"))
    if parts["configmap"]:
        out.append(dict(parts["configmap"], apiVersion="v1", kind="ConfigMap",
                        metadata={"name": "kubesphere-config", "namespace": "kubesphere-system"}))
    if parts["kube_system"]:
        out.append(dict(parts["kube_system"], apiVersion="v1", kind="Namespace"))
    if parts["ks_namespace"]:
        ns = dict(parts["ks_namespace"], apiVersion="v1", kind="Namespace")
        ns["metadata"] = dict(ns["metadata"], name="kubesphere-system")
        out.append(ns)
    for c in parts["clusters"] or []:
        out.append(dict(c, apiVersion=vocabulary.CLUSTER_API_VERSION, kind="Cluster"))
    out.extend(parts["releases"])
    out.extend(parts.get("extra") or [])
    served = {("v1", "Namespace"), ("v1", "ConfigMap"), (CC_API, "ClusterConfiguration"), ("apps/v1", "Deployment"),
              ("v1", "Service"), ("v1", "Node")}
    if parts["clusters"] is not None:
        served.add((vocabulary.CLUSTER_API_VERSION, "Cluster"))
    return out, served


def conn(name="member1", **over):
    objs, served = objects_of(over)
    return FakeConnection(label=name, objects=objs, served=served,
                          raw_answers={"/version": (200, {"Date": email.utils.formatdate(T, usegmt=True)},
                                                    {"gitVersion": "v1.34.3"})})


def state(name="member1", **over):
    ticks = iter([T + 0.2, T + 0.3])
    return cs.read(conn(name, **over), now=lambda: next(ticks))


def facts(name="member1", **over):
    return cs.facts(state(name, **over))


# --- facts ----------------------------------------------------------------------------------------


def test_facts_of_an_installed_member():
    f = facts()
    assert f["reachable"] is True and f["kubernetes_version"] == "v1.34.3"
    assert f["kubesphere_installed"] is True and f["kubesphere_version"] == "v3.4.1"
    assert f["cluster_role"] == {"spec": "member", "rendered": "member"} and f["role"] == "member"
    assert f["jwt_secret_hash"] == fingerprint(JWT)
    assert f["maximum_clock_skew"] == "20s" and f["maximum_clock_skew_seconds"] == 20.0
    assert f["installer"] == {"present": True, "core_status": "enabled", "enabled_components": ["core", "multicluster"],
                              "failed_components": ["devops"]}
    assert f["components"] == ["devops", "network.topology"]
    assert f["kube_system_uid"] == "uid-1"
    assert f["host_annotations"] == {"cluster.kubesphere.io/name": "member1", "cluster.kubesphere.io/host-cluster": "host"}
    assert (f["clock"]["low"], f["clock"]["high"]) == (-0.3, 0.8)
    assert JWT not in repr(f)


def test_facts_before_the_installer_rendered_its_config():
    f = facts(configmap=None, cc=cc(role="none", status={}))
    assert f["kubesphere_installed"] is True and f["config_rendered"] is False
    assert f["cluster_role"] == {"spec": "none", "rendered": None} and f["role"] == "none"
    assert f["jwt_secret_hash"] is None and f["maximum_clock_skew"] is None and f["maximum_clock_skew_seconds"] == 10.0
    assert f["kubesphere_version"] == "v3.4.1"  # from the CC's version label


def test_facts_of_a_plain_kubernetes_cluster():
    f = facts("bare", cc=None, configmap=None, ks_namespace=None)
    assert f["kubesphere_installed"] is False and f["kubesphere_version"] is None and f["role"] == "none"
    assert f["installer"]["present"] is False and f["host_annotations"] == {}


def test_facts_say_the_line_and_its_evidence_and_a_v4_release_wins_over_the_config():
    f = facts()
    assert (f["kubesphere_line"], f["version_managed"]) == ("3.4", True)
    assert "ks-installer's ClusterConfiguration" in f["version_evidence"] and f["ks_core_release"] is None
    v4 = {"authentication": {"issuer": {"jwtSecret": JWT}}, "multicluster": {"clusterRole": "host"},
          "helmExecutor": {}}
    f = facts("host", cc=None, configmap={"data": {"kubesphere.yaml": yaml.safe_dump(v4)}},
              releases=[record("v4.1.3", 1, status="superseded"), record("v4.1.3", 2, values=v4)])
    assert (f["kubesphere_line"], f["kubesphere_version"], f["version_managed"]) == ("4.1", "v4.1.3", True)
    assert f["ks_core_release"]["revision"] == 2 and f["kubesphere_installed"] is True
    assert "Helm release ks-core revision 2 (deployed, chart ks-core 1.1.4, appVersion v4.1.3)" == f["version_evidence"]
    assert JWT not in repr(f)


def test_a_credential_that_may_not_read_secrets_gets_a_warning_and_the_version_from_the_installer():
    class NoSecrets(FakeConnection):
        def list(self, api_version, kind, namespace=None, label_selector=None, if_served=False):
            if kind == "Secret":
                raise self.error("secrets is forbidden: User cannot list resource", code="forbidden")
            return super().list(api_version, kind, namespace, label_selector, if_served)

    objs, served = objects_of({})
    conn = NoSecrets(label="m", objects=objs, served=served, raw_answers={"/version": (200, {}, {})})
    f = cs.facts(cs.read(conn))
    assert f["reachable"] is True and f["kubesphere_line"] == "3.4" and f["ks_core_release"] is None
    assert f["warnings"] == ["the ks-core Helm release could not be read (secrets is forbidden: User cannot list "
                             "resource); the version comes from the ClusterConfiguration"]


def test_facts_of_a_host_list_its_clusters_without_secrets():
    f = facts("host", cc=cc("host"), configmap=configmap("host"),
              clusters=[cluster_obj("member2", False), cluster_obj("member1", True)])
    assert [(c["name"], c["ready"]) for c in f["clusters"]] == [("member1", True), ("member2", False)]
    assert f["clusters"][0]["conditions"] == [{"type": "Ready", "status": "True", "reason": "r", "message": "m"}]
    assert "c2VjcmV0" not in repr(f)


def test_a_config_that_is_not_yaml_is_a_warning_not_a_crash():
    f = facts("m", configmap=configmap(text="a: ["))
    assert f["reachable"] is True and f["jwt_secret_hash"] is None
    assert "kubesphere-config key kubesphere.yaml is not valid YAML" in f["warnings"][0]


# --- read -----------------------------------------------------------------------------------------


def test_read_reads_every_part_and_times_each_sample():
    ticks = iter([T + 0.1, T + 0.2, T + 0.6, T + 0.7])
    slept = []
    c = conn()
    got = cs.read(c, samples=2, now=lambda: next(ticks), sleep=slept.append)
    assert [x for x in c.calls if x[0] == "raw"] == [("raw", ("GET", "/version"))] * 2 and slept == [0.55]
    assert [s[1:] for s in got["date_samples"]] == [[T + 0.1, T + 0.2], [T + 0.6, T + 0.7]]
    assert got["cluster_configuration"]["metadata"]["name"] == "ks-installer" and got["config_present"]
    assert got["config"]["multicluster"]["clusterRole"] == "member" and got["config_error"] is None
    assert got["kube_system_uid"] == "uid-1" and got["ks_namespace"] is True
    assert got["ks_namespace_annotations"] == {"cluster.kubesphere.io/name": "member1",
                                               "cluster.kubesphere.io/host-cluster": "host"}
    assert got["clusters"] is None and got["kubefed_clusters"] is None  # kinds not served
    assert got["reachable"] is True and got["error"] is None
    assert c.writes() == []


def _labelled(name, uid=None, annotations=None):
    meta = {"name": name, "labels": {cs.NAME_LABEL: name}}
    if uid:
        meta["uid"] = uid
    if annotations:
        meta["annotations"] = annotations
    return {"metadata": meta}


def test_identity_is_one_list_by_the_name_label_and_gets_on_a_cluster_without_it():
    """The API server labels every Namespace with its name (Kubernetes 1.21+): kube-system and kubesphere-system
    come in one list. Without the label (an older cluster) or without list rights, one GET each, same facts."""
    labelled = conn(kube_system=_labelled("kube-system", uid="uid-1"),
                    ks_namespace=_labelled("kubesphere-system", annotations={"cluster.kubesphere.io/name": "m1"}))
    older = conn(ks_namespace={"metadata": {"annotations": {"cluster.kubesphere.io/name": "m1"}}})
    got = {}
    for name, c in (("labelled", labelled), ("older", older)):
        got[name] = cs.read(c, parts=("identity",))
        assert got[name]["kube_system_uid"] == "uid-1" and got[name]["ks_namespace"] is True
        assert got[name]["ks_namespace_annotations"] == {"cluster.kubesphere.io/name": "m1"}
    assert [x[0] for x in labelled.calls] == ["list"]
    assert [x[0] for x in older.calls] == ["list", "get", "get"]
    # a credential that may get Namespaces but not list them: the two GETs, no unreadable entry
    no_list = conn(kube_system=_labelled("kube-system", uid="uid-1"))

    def forbidden_list(*_a, **_kw):
        raise no_list.error("namespaces is forbidden (403 Forbidden)", code="forbidden")
    no_list.list = forbidden_list
    got = cs.read(no_list, parts=("identity",))
    assert got["kube_system_uid"] == "uid-1" and got["ks_namespace"] is True and got["unreadable"] == []
    assert [x[0] for x in no_list.calls] == ["get", "get"]
    without_ks = conn(kube_system=_labelled("kube-system", uid="uid-1"), ks_namespace=None)
    assert cs.read(without_ks, parts=("identity",))["ks_namespace"] is False
    assert [x[0] for x in without_ks.calls] == ["list"]


def test_read_is_plain_data():
    got = state("host", cc=cc("host"), configmap=configmap("host"), clusters=[cluster_obj("member1", True)])
    assert yaml.safe_load(yaml.safe_dump(got)) == got
    assert got["clusters"][0]["uid"] == "uid-member1" and "c2VjcmV0" not in repr(got)


def test_read_of_an_unreachable_cluster_gives_the_connection_code():
    got = cs.read(FakeConnection(label="m9", error="tls_untrusted"))
    assert (got["reachable"], got["error"]["code"]) == (False, "tls_untrusted")
    f = cs.facts(got)
    assert (f["reachable"], f["reason_code"]) == (False, "tls_untrusted")


def test_read_turns_401_into_unauthorized():
    c = FakeConnection(label="m1", raw_answers={"/version": (401, {}, "Unauthorized")})
    got = cs.read(c, now=lambda: T)
    assert got["error"]["code"] == "unauthorized"


def test_read_kubefed_clusters_when_served():
    fed = {"apiVersion": vocabulary.KUBEFED_API_VERSION, "kind": vocabulary.KUBEFED_CLUSTER_KIND,
           "metadata": {"name": "member1", "namespace": vocabulary.KUBEFED_NAMESPACE},
           "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Offline", "status": "False"}]}}
    got = cs.read(FakeConnection(label="host", objects=[fed]), parts=("kubefed",))
    assert got["kubefed_clusters"] == [{"name": "member1", "labels": {}, "ready": True, "offline": False, "reason": None}]


def kubefed_obj(name, offline):
    conds = ([{"type": "Offline", "status": "True", "reason": "ClusterNotReachable",
               "message": "cluster is not reachable"}] if offline else
             [{"type": "Ready", "status": "True", "reason": "ClusterReady"}])
    return {"apiVersion": vocabulary.KUBEFED_API_VERSION, "kind": vocabulary.KUBEFED_CLUSTER_KIND,
            "metadata": {"name": name, "namespace": vocabulary.KUBEFED_NAMESPACE}, "status": {"conditions": conds}}


def dead_member_host():
    """A host whose member1 died after joining: its Cluster still says Ready True, kubefed says Offline."""
    joined = [dict(cluster_obj(n, True), apiVersion=vocabulary.CLUSTER_API_VERSION, kind="Cluster") for n in
              ("member1", "member2", "member3")]
    for c in joined:
        c["spec"]["joinFederation"] = True
    return FakeConnection(label="host", objects=joined + [kubefed_obj("member1", True), kubefed_obj("member2", False)])


def test_a_member_that_died_after_joining_is_offline_although_its_cluster_says_ready():
    got = cs.read(dead_member_host(), parts=("clusters", "kubefed"))
    by_name = {c["name"]: c for c in got["clusters"]}
    m1 = by_name["member1"]
    assert (m1["ready"], m1["kubefed"], m1["health"]) == (True, "offline", "offline")
    assert "reports Offline True (ClusterNotReachable: cluster is not reachable)" in m1["health_reason"]
    assert "its Cluster still says Ready True" in m1["health_reason"]
    assert (by_name["member2"]["kubefed"], by_name["member2"]["health"]) == ("ready", "ready")
    # Ready True without a KubeFedCluster proves nothing
    assert (by_name["member3"]["kubefed"], by_name["member3"]["health"]) == ("absent", "unknown")
    assert {k["name"]: k["reason"] for k in got["kubefed_clusters"]} == {"member1": "ClusterNotReachable",
                                                                         "member2": "ClusterReady"}


def test_without_kubefed_read_the_summaries_carry_no_verdict():
    got = cs.read(dead_member_host(), parts=("clusters",))
    assert all("health" not in c for c in got["clusters"])


# --- why a cluster is unreachable --------------------------------------------------------------------


def test_unreachable_names_the_context():
    f = cs.unreachable("m1", "no_such_context", "the kubeconfig has no such context (...)", context="nope")
    assert (f["reachable"], f["reason_code"], f["reason"]) == (False, "no_such_context", "the kubeconfig has no context 'nope'")
    assert cs.summary(f) == "cluster 'm1': not reachable: the kubeconfig has no context 'nope'"


def test_summary_of_a_reachable_cluster():
    assert cs.summary(facts("m1")) == "cluster 'm1': Kubernetes v1.34.3, KubeSphere v3.4.1, role member"
    assert cs.summary(facts("b", cc=None, configmap=None)).endswith("KubeSphere not installed, role none")


# --- the fleet table ------------------------------------------------------------------------------


def fleet(m2_jwt="other", m1_offset=0.0):
    host = facts("host", cc=cc("host"), configmap=configmap("host", skew="10s"), clusters=[cluster_obj("member1", True)])
    m1 = facts("member1")
    m1["clock"] = {"offset": host["clock"]["offset"] + m1_offset, "uncertainty": 0.5,
                   "low": host["clock"]["offset"] + m1_offset - 0.5, "high": host["clock"]["offset"] + m1_offset + 0.5}
    m2 = facts("member2", configmap=configmap(jwt=m2_jwt))
    down = cs.unreachable("member3", "unreachable", "the API server is unreachable (connection refused)")
    return [host, m1, m2, down]


def test_fleet_rows():
    rows, notes = report.fleet_rows(fleet(m1_offset=3.0), host="host")
    assert [r["CLUSTER"] for r in rows] == ["host", "member1", "member2", "member3"]
    host, m1, m2, down = rows
    assert (host["ROLE"], host["READY"], host["JWT=HOST"], host["SKEW"]) == ("host", "-", "yes", "~+0.0s")
    assert (m1["READY"], m1["JWT=HOST"], m1["SKEW"]) == ("yes", "yes", "+3.0s")
    assert (m2["READY"], m2["JWT=HOST"]) == ("not joined", "NO")
    assert (down["ROLE"], down["KUBERNETES"]) == ("?", "-")
    assert notes == ["member3: UNREACHABLE [unreachable] the API server is unreachable (connection refused)"]


def test_fleet_rows_show_members_the_host_manages_but_the_play_did_not_read():
    facts = fleet()
    edge = globals()["facts"]("h", cc=cc("host"), configmap=configmap("host"), clusters=[cluster_obj("edge-7", False)])
    facts[0]["clusters"].append(dict(edge["clusters"][0], kubesphere_version="v3.4.1"))
    rows, notes = report.fleet_rows(facts, host="host")
    assert rows[-1] == {"CLUSTER": "edge-7", "ROLE": "member", "KUBERNETES": "v1.34.3", "KUBESPHERE": "v3.4.1",
                        "READY": "no", "JWT=HOST": "-", "SKEW": "-"}
    assert "edge-7: joined to the host but not in the inventory (no kubeconfig): shown as the host sees it" in notes


def test_fleet_rows_say_offline_for_a_member_kubefed_cannot_reach():
    facts = fleet()
    facts[0]["clusters"] = cs.read(dead_member_host(), parts=("clusters", "kubefed"))["clusters"]
    facts[3] = cs.unreachable("member1", "unreachable", "the API server is unreachable (connection refused)")
    del facts[1]
    rows, notes = report.fleet_rows(facts, host="host")
    ready = {r["CLUSTER"]: r["READY"] for r in rows}
    assert ready == {"host": "-", "member2": "yes", "member1": "OFFLINE", "member3": "yes (unknown)"}
    assert any(n.startswith("member1: cluster 'member1': KubeFedCluster kube-federation-system/member1 reports "
                            "Offline") for n in notes)
    assert any(n.startswith("member3: cluster 'member3': the Cluster says Ready True but KubeFedCluster") for n in notes)
    assert not any(n.startswith("member2: cluster") for n in notes)


def test_fleet_rows_report_clock_skew_beyond_the_host_threshold():
    notes = report.fleet_rows(fleet(m1_offset=25.0), host="host")[1]
    assert any(n.startswith("clusters 'host' and 'member1': clocks differ by") for n in notes)


def test_fleet_rows_without_a_reachable_host():
    facts = fleet()[1:]
    rows = report.fleet_rows(facts, host=None)[0]
    assert {r["JWT=HOST"] for r in rows} == {"?", "-"}


def test_fleet_table_is_aligned_text():
    text = report.fleet_table(fleet(), host="host")
    lines = text.splitlines()
    assert lines[0].split() == list(report.COLUMNS)
    starts = [lines[0].index(c) for c in report.COLUMNS]
    rows = report.fleet_rows(fleet(), host="host")[0]
    for line, row in zip(lines[1:5], rows):  # every value starts under its column's header
        assert [line[s:].split("  ")[0].strip() for s in starts] == [str(row[c]) for c in report.COLUMNS]
    assert lines[5] == "" and lines[6].startswith("member3: UNREACHABLE [unreachable]")


def test_no_result_row():
    f = report.no_result("member9", "boom")
    assert (f["reachable"], f["reason_code"], f["reason"]) == (False, "no_result", "boom")


def test_the_filter_reads_each_hosts_registered_result():
    from ansible_collections.kubesphere.multicluster.plugins.filter.fleet_table import FilterModule

    facts = fleet()
    hostvars = {"h": {"ks_info": {"cluster": facts[0]}}, "m1": {"ks_info": {"cluster": facts[1]}},
                "gone": {}}
    text = FilterModule().filters()["fleet_table"](["h", "m1", "gone"], hostvars, "h", "ks_info")
    lines = text.splitlines()
    assert [line.split()[0] for line in lines[1:4]] == ["host", "member1", "gone"]
    assert lines[2].split()[5] == "yes"  # member1's jwtSecret compared with the host's (found by inventory name)
    assert lines[-1] == "gone: UNREACHABLE [no_result] cluster_info returned no result (the task failed or was skipped)"


def test_skew_column_never_shows_negative_zero():
    facts = fleet(m1_offset=-0.01)
    assert report.fleet_rows(facts, host="host")[0][1]["SKEW"] == "~+0.0s"


def test_peer_facts_carry_facts_only():
    from ansible_collections.kubesphere.multicluster.plugins.filter.peer_facts import FilterModule

    facts = fleet()
    hostvars = {"h": {"preflight_cluster_info": {"cluster": facts[0]}, "kubesphere_kubeconfig": "/secret/path",
                      "corp_db_password": "pw"},
                "m1": {"preflight_cluster_info": {"cluster": facts[1]}}, "down": {"preflight_cluster_info": {
                    "cluster": facts[3]}}, "unread": {}}
    peers = FilterModule().filters()["peer_facts"](["h", "m1", "down", "unread"], hostvars)
    assert peers == [{"name": "host", "role": "host", "kube_system_uid": "uid-1", "kubesphere_line": "3.4",
                      "clusters": [{"name": "member1", "uid": "uid-member1"}]},
                     {"name": "member1", "role": "member", "kube_system_uid": "uid-1", "kubesphere_line": "3.4",
                      "clusters": []}]
    assert "/secret/path" not in repr(peers) and "pw" not in repr(peers)


def test_a_cluster_summary_carries_its_stored_certificate_s_expiry_and_nothing_of_the_kubeconfig():
    import datetime
    import cluster_fixtures as cf

    text = cf.kubeconfig(datetime.datetime(2030, 5, 6, 7, 8, 9))
    summary = cs.cluster_summary(cf.cluster("member1", kubeconfig=text))
    assert summary["client_cert_not_after"] == "2030-05-06T07:08:09Z"
    assert "BEGIN" not in repr(summary) and "client-certificate" not in repr(summary)
    assert cs.cluster_summary(cf.cluster("member2", "proxy", kubeconfig=None))["client_cert_not_after"] is None
    assert cs.cluster_summary(cf.cluster("member3", kubeconfig="a: b"))["client_cert_not_after"] is None


# --- the proxy addresses ---------------------------------------------------------------------------


def agent_deployment(address):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "cluster-agent", "namespace": "kubesphere-system"},
            "spec": {"template": {"spec": {"containers": [{"name": "agent", "command": [
                "/agent", "--name=member1", "--token=secret-agent-token", "--proxy-server=%s" % address,
                "--keepalive=10s"]}]}}}}


def host_configmap(publish=None):
    doc = {"authentication": {"jwtSecret": JWT},
           "multicluster": {"clusterRole": "host", "proxyPublishService": "tower"}}
    if publish:
        doc["multicluster"]["proxyPublishAddress"] = publish
    return {"data": {"kubesphere.yaml": yaml.safe_dump(doc)}}


def tower(lb_ip=None):
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "tower", "namespace": "kubesphere-system"},
           "spec": {"ports": [{"port": 8080, "nodePort": 30080}]}}
    if lb_ip:
        svc["status"] = {"loadBalancer": {"ingress": [{"ip": lb_ip}]}}
    return svc


NODE = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
        "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.11"}],
                   "conditions": [{"type": "Ready", "status": "True"}]}}


def test_a_proxy_member_reports_the_address_its_agent_dials_and_never_its_token():
    f = facts(extra=[agent_deployment("http://10.0.0.11:30080")])
    assert f["agent_proxy_server"] == "http://10.0.0.11:30080" and f["proxy_publish"] is None
    assert "secret-agent-token" not in repr(f)
    assert facts()["agent_proxy_server"] is None


def test_a_host_reports_where_tower_is_published_reading_nodes_only_for_the_nodeport_fallback():
    host = {"cc": cc("host"), "configmap": host_configmap()}
    lb = conn("host", extra=[tower("192.0.2.7")], **host)
    f = cs.facts(cs.read(lb, now=iter([T, T]).__next__))
    assert f["proxy_publish"]["address"] == "http://192.0.2.7:8080" and f["proxy_publish"]["source"] == "loadBalancer"
    assert not [c for c in lb.calls if c[1][1] == "Node"]
    np = conn("host", extra=[tower(), NODE], **host)
    f = cs.facts(cs.read(np, now=iter([T, T]).__next__))
    assert f["proxy_publish"] == {"address": "http://10.0.0.11:30080", "source": "nodePort", "api_agrees": False,
                                  "error": None}
    pinned = conn("host", extra=[tower("192.0.2.7")], cc=cc("host"), configmap=host_configmap("http://203.0.113.5:80"))
    f = cs.facts(cs.read(pinned, now=iter([T, T]).__next__))
    assert f["proxy_publish"]["address"] == "http://203.0.113.5:80"
    assert not [c for c in pinned.calls if c[1][1] in ("Service", "Node")]


def test_a_credential_that_may_not_read_the_agent_gets_a_warning_not_an_unreachable_cluster():
    c = conn(extra=[agent_deployment("http://10.0.0.11:30080")])
    c.forbidden = {("apps/v1", "Deployment")}
    f = cs.facts(cs.read(c, now=iter([T, T]).__next__))
    assert f["reachable"] is True and f["agent_proxy_server"] is None
    assert [u["kind"] for u in f["unreadable"]] == ["Deployment"]


def test_the_fleet_table_notes_a_proxy_agent_that_dials_a_stale_address():
    host_f = dict(facts("host", cc=cc("host"), configmap=host_configmap("http://10.0.0.99:30080")), role="host")
    seen = cs.cluster_summary(dict(cluster_obj("member1", True), spec={"connection": {"type": "proxy"}}))
    host_f["clusters"] = [seen]
    stale = facts(extra=[agent_deployment("http://10.0.0.11:30080")])
    rows, notes = report.fleet_rows([host_f, stale])
    assert "member1: proxy agent dials http://10.0.0.11:30080; the host publishes http://10.0.0.99:30080 " \
           "(STALE: run join.yml)" in notes
    fresh = facts(extra=[agent_deployment("http://10.0.0.99:30080")])
    assert not [n for n in report.fleet_rows([host_f, fresh])[1] if "STALE" in n]


class Denied(FakeConnection):
    """A credential that may read everything but `denied` kinds (403)."""

    denied = ()

    def get(self, api_version, kind, name, namespace=None, if_served=False):
        if kind in self.denied:
            raise self.error("%s is forbidden" % kind, code="forbidden")
        return super().get(api_version, kind, name, namespace, if_served)

    def list(self, api_version, kind, namespace=None, label_selector=None, if_served=False):
        if kind in self.denied:
            raise self.error("%s is forbidden" % kind, code="forbidden")
        return super().list(api_version, kind, namespace, label_selector, if_served)


def denied_conn(*kinds):
    objs, served = objects_of({"cc": cc("host"), "configmap": configmap("host")})  # a host: its Clusters are read
    conn = Denied(label="m", objects=objs, served=served, raw_answers={"/version": (200, {}, {})})
    conn.denied = kinds
    return conn


def test_a_report_records_each_forbidden_read_and_reads_the_rest():
    state = cs.read(denied_conn("KubeFedCluster", "Cluster"), tolerate_forbidden=True)
    assert state["reachable"] is True and state["clusters"] is None and state["kubefed_clusters"] is None
    assert [(u["code"], u["kind"], u["namespace"]) for u in state["unreadable"]] == [
        ("forbidden", "Cluster", None), ("forbidden", "KubeFedCluster", "kube-federation-system")]
    f = cs.facts(state)
    assert f["kubesphere_line"] == "3.4" and f["role"] is not None and f["kubesphere_installed"] is True
    assert [u["kind"] for u in f["unreadable"]] == ["Cluster", "KubeFedCluster"]
    assert "forbidden: the credential may not read Cluster (403 Forbidden): the facts that come from it are " \
           "unknown" in f["warnings"]


def test_unreadable_installer_objects_leave_role_and_installation_unknown_not_none():
    state = cs.read(denied_conn("ClusterConfiguration", "ConfigMap", "Secret"), tolerate_forbidden=True)
    f = cs.facts(state)
    assert f["reachable"] is True and f["role"] is None and f["kubesphere_installed"] is None
    assert "KubeSphere unknown (not readable)" in cs.summary(f)


def test_a_writer_still_gets_the_forbidden_read_as_the_cluster_error():
    state = cs.read(denied_conn("Cluster"))
    assert state["reachable"] is False and state["error"]["code"] == "forbidden"
    # the ks-core release's Secrets stay optional for everyone
    state = cs.read(denied_conn("Secret"))
    assert state["reachable"] is True and [u["kind"] for u in state["unreadable"]] == ["Secret"]


def test_local_objects_are_the_users_namespaces_and_workspaces_kubefed_does_not_manage():
    managed = {"kubefed.io/managed": "true"}
    extra = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": labels}}
             for n, labels in (("team-dev", {}), ("fed-proj", managed), ("kube-public", {}), ("default", {}))]
    extra += [{"apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace", "metadata": {"name": n, "labels": labels}}
              for n, labels in (("team", {}), ("fed-ws", managed), ("system-workspace", {}))]
    c = conn(extra=extra)
    c.served = c.served | {("tenant.kubesphere.io/v1alpha1", "Workspace")}
    assert cs.facts(cs.read(c, now=iter([T, T]).__next__))["made_locally"] is None  # not asked for
    f = cs.facts(cs.read(c, parts=cs.PARTS + ("local_objects",), now=iter([T, T]).__next__))
    assert f["made_locally"] == {"namespaces": ["team-dev"], "workspaces": ["team"]}


# --- a ks-installer run that finishes between two reads -------------------------------------------


class _InstallerFinishesAfterFirstRead(FakeConnection):
    """A host whose ks-installer run, past ks-core, finishes right after the read model's first read of its two
    installer objects: the run writes status.multicluster (enabled), then renders kubesphere-config (clusterRole host),
    as ks-installer does (its multicluster task, then ks-config)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.finished = False

    def get(self, api_version, kind, name, namespace=None, if_served=False):
        found = super().get(api_version, kind, name, namespace, if_served)
        if kind in ("ConfigMap", "ClusterConfiguration") and not self.finished:
            self.finished = True
            self._put(dict(cc(role="host", status={"core": {"status": "enabled", "enabledTime": "2026-12-07 01:00:05"},
                                                   "multicluster": {"status": "enabled"}}),
                           apiVersion=CC_API, kind="ClusterConfiguration"))
            self._put(dict(configmap(role="host"), apiVersion="v1", kind="ConfigMap",
                           metadata={"name": "kubesphere-config", "namespace": "kubesphere-system"}))
        return found


def test_a_run_finishing_between_the_reads_is_never_a_failed_multicluster_task():
    """Read the other way round (ClusterConfiguration first), the host looked rendered as host with the status
    of the run before: installer.multicluster_task_failed said the multicluster task had failed (a CI failure)."""
    before_cc = {"status": {"core": {"status": "enabled", "enabledTime": "2026-12-07 01:00:00"}}}
    # the run got past ks-core (enabledTime moved) and is in its multicluster task
    running = {"core": {"status": "enabled", "enabledTime": "2026-12-07 01:00:03"}}
    objs, served = objects_of({"cc": cc(role="host", status=running), "configmap": configmap(role="none")})
    c = _InstallerFinishesAfterFirstRead(label="host", objects=objs, served=served,
                                         raw_answers={"/version": (200, {}, {"gitVersion": "v1.34.3"})})
    s = cs.read(c)
    assert c.finished
    assert not installer.multicluster_task_failed("host", configmap_role_none(), before_cc, s["config"],
                                                  s["cluster_configuration"])
    # the next read sees the finished run whole
    s = cs.read(c)
    assert installer.config_role(s["config"]) == "host"
    assert get_path(s["cluster_configuration"], "status.multicluster.status") == "enabled"


def configmap_role_none():
    return {"multicluster": {"clusterRole": "none"}}


def listed_kinds(c):
    return {call[1][1] for call in c.calls if call[0] == "list"}


@pytest.mark.parametrize("spec, rendered, read", [
    ("member", "member", False),  # a member by every source: no host's objects to read
    ("host", "member", True),     # being made a host: its Clusters are read
    ("member", "host", True),     # a host being made a member: its members are read
    ("member", None, True),       # nothing rendered yet: unknown, read
    ("host", "host", True),
])
def test_clusters_and_kubefed_clusters_are_read_unless_every_role_source_says_member(spec, rendered, read):
    c = conn("c", cc=cc(spec), configmap=configmap(rendered) if rendered else None, clusters=[cluster_obj("m", True)])
    got = cs.read(c)
    assert ({"Cluster", "KubeFedCluster"} & listed_kinds(c)) == ({"Cluster", "KubeFedCluster"} if read else set())
    assert [x["name"] for x in cs.facts(got)["clusters"]] == (["m"] if read else [])


def test_the_api_versions_part_reads_what_the_cluster_serves_and_facts_return_it():
    c = conn("member1")
    c.raw_answers.update({"/api": (200, {}, {"versions": ["v1"]}),
                          "/apis": (200, {}, {"groups": [{"versions": [{"groupVersion": "apps/v1"},
                                                                       {"groupVersion": "apps/v1beta1"}]}]})})
    assert cs.facts(cs.read(c, parts=cs.PARTS + ("api_versions",)))["api_versions"] == ["apps/v1", "apps/v1beta1", "v1"]
    assert cs.facts(cs.read(c))["api_versions"] is None  # not asked: not read
