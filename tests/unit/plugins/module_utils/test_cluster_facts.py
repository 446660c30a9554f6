"""cluster_info's logic: what is read, the facts built from it, why a cluster is unreachable, the fleet table."""

import email.utils
import threading
import time

import pytest
import yaml

from ansible_collections.kubesphere.multicluster.plugins.module_utils import cluster_facts as cf
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint

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
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False", "reason": "r",
                                       "message": "m", "lastUpdateTime": "x"}], "kubernetesVersion": "v1.34.3"}}


def raw(**over):
    out = {"version": {"gitVersion": "v1.34.3"}, "date_samples": [(email.utils.formatdate(T, usegmt=True), T + 0.2, T + 0.3)],
           "cc": cc(), "configmap": configmap(), "clusters": None,
           "kube_system": {"metadata": {"name": "kube-system", "uid": "uid-1"}},
           "ks_namespace": {"metadata": {"annotations": {"cluster.kubesphere.io/name": "member1",
                                                         "cluster.kubesphere.io/host-cluster": "host", "other": "x"}}}}
    out.update(over)
    return out


# --- facts ----------------------------------------------------------------------------------------


def test_facts_of_an_installed_member():
    f = cf.facts("member1", raw())
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
    f = cf.facts("member1", raw(configmap=None, cc=cc(role="none", status={})))
    assert f["kubesphere_installed"] is True and f["config_rendered"] is False
    assert f["cluster_role"] == {"spec": "none", "rendered": None} and f["role"] == "none"
    assert f["jwt_secret_hash"] is None and f["maximum_clock_skew"] is None and f["maximum_clock_skew_seconds"] == 10.0
    assert f["kubesphere_version"] == "v3.4.1"  # from the CC's version label


def test_facts_of_a_plain_kubernetes_cluster():
    f = cf.facts("bare", raw(cc=None, configmap=None, ks_namespace=None))
    assert f["kubesphere_installed"] is False and f["kubesphere_version"] is None and f["role"] == "none"
    assert f["installer"]["present"] is False and f["host_annotations"] == {}


def test_facts_of_a_host_list_its_clusters_without_secrets():
    f = cf.facts("host", raw(clusters=[cluster_obj("member2", False), cluster_obj("member1", True)]))
    assert [(c["name"], c["ready"]) for c in f["clusters"]] == [("member1", True), ("member2", False)]
    assert f["clusters"][0]["conditions"] == [{"type": "Ready", "status": "True", "reason": "r", "message": "m"}]
    assert "c2VjcmV0" not in repr(f)


def test_a_config_that_is_not_yaml_is_a_warning_not_a_crash():
    f = cf.facts("m", raw(configmap=configmap(text="a: [")))
    assert f["reachable"] is True and f["jwt_secret_hash"] is None
    assert "kubesphere-config key kubesphere.yaml is not valid YAML" in f["warnings"][0]


# --- gather ---------------------------------------------------------------------------------------


class FakeConn:
    label = "member1"

    def __init__(self, objects, status=200, missing_kinds=()):
        self.objects, self.status, self.missing_kinds, self.calls = objects, status, missing_kinds, []

    def raw(self, method, path):
        self.calls.append((method, path))
        return self.status, {"Date": email.utils.formatdate(T, usegmt=True)}, {"gitVersion": "v1.34.3"}

    def get(self, api_version, kind, name, namespace=None, if_served=False):
        return self.objects.get((kind, name))

    def list(self, api_version, kind, if_served=False):
        if kind in self.missing_kinds:  # Connection's contract: None with if_served, else kind_not_served
            if if_served:
                return None
            raise KubeSphereError("not served", cluster=self.label, code="kind_not_served")
        return self.objects.get((kind, None), [])


def test_gather_reads_every_object_and_times_each_sample():
    ticks = iter([T + 0.1, T + 0.2, T + 0.6, T + 0.7])
    slept = []
    conn = FakeConn({("ClusterConfiguration", "ks-installer"): cc(), ("ConfigMap", "kubesphere-config"): configmap()})
    got = cf.gather(conn, samples=2, now=lambda: next(ticks), sleep=slept.append)
    assert conn.calls == [("GET", "/version")] * 2 and slept == [0.55]
    assert [s[1:] for s in got["date_samples"]] == [(T + 0.1, T + 0.2), (T + 0.6, T + 0.7)]
    assert got["cc"]["metadata"]["name"] == "ks-installer" and got["configmap"] == configmap()
    assert got["kube_system"] is None and got["clusters"] == []


def test_gather_without_the_cluster_crd():
    got = cf.gather(FakeConn({}, missing_kinds=("Cluster",)), now=lambda: T)
    assert got["clusters"] is None


def test_gather_raises_on_401():
    with pytest.raises(KubeSphereError) as e:
        cf.gather(FakeConn({}, status=401), now=lambda: T)
    assert e.value.code == "unauthorized"


# --- why a cluster is unreachable (messages as _k8s words them) ------------------------------------------


@pytest.mark.parametrize("reason,code,text", [
    ("cannot build a client: connection refused: the API server is unreachable", "unreachable",
     "the API server is unreachable (connection refused)"),
    ("the API server's certificate is not trusted (certificate verify failed: unable to get local issuer "
     "certificate)", "bad_certificate",
     "the API server's TLS certificate is not trusted by the kubeconfig's CA (certificate verify failed: "
     "unable to get local issuer certificate)"),
    ("cannot build a client: Could not create API client: Invalid kube-config file. Expected object with name nope "
     "in /k/contexts list", "no_such_context", "the kubeconfig has no such context"),
    ("kubeconfig file /x does not exist", "kubeconfig_missing", "its kubeconfig file does not exist"),
    ("cannot build a client: the API server did not answer in time", "unreachable",
     "the API server is unreachable (the API server did not answer in time)"),
    ("Unauthorized (HTTP 401)", "unauthorized", "the API server rejected the credentials (401 Unauthorized)"),
    ("something else entirely", "error", "something else entirely"),
])
def test_classify(reason, code, text):
    assert cf.classify(KubeSphereError(reason, cluster="m1", code="connection")) == (code, text)


def test_unreachable_names_the_context():
    error = KubeSphereError("Invalid kube-config file. Expected object with name nope in x", cluster="m1")
    f = cf.unreachable("m1", error, context="nope")
    assert (f["reachable"], f["reason_code"], f["reason"]) == (False, "no_such_context", "the kubeconfig has no context 'nope'")
    assert cf.summary(f) == "cluster 'm1': not reachable: the kubeconfig has no context 'nope'"


def test_summary_of_a_reachable_cluster():
    assert cf.summary(cf.facts("m1", raw())) == "cluster 'm1': Kubernetes v1.34.3, KubeSphere v3.4.1, role member"
    assert cf.summary(cf.facts("b", raw(cc=None, configmap=None))).endswith("KubeSphere not installed, role none")


# --- the fleet table ------------------------------------------------------------------------------


def fleet(m2_jwt="other", m1_offset=0.0):
    host = cf.facts("host", raw(cc=cc("host"), configmap=configmap("host", skew="10s"), clusters=[cluster_obj("member1", True)]))
    m1 = cf.facts("member1", raw())
    m1["clock"] = {"offset": host["clock"]["offset"] + m1_offset, "uncertainty": 0.5,
                   "low": host["clock"]["offset"] + m1_offset - 0.5, "high": host["clock"]["offset"] + m1_offset + 0.5}
    m2 = cf.facts("member2", raw(configmap=configmap(jwt=m2_jwt)))
    down = cf.unreachable("member3", KubeSphereError("cannot build a client: connection refused: the API server is "
                                                     "unreachable", cluster="member3"))
    return [host, m1, m2, down]


def test_fleet_rows():
    rows, notes = cf.fleet_rows(fleet(m1_offset=3.0), host="host")
    assert [r["CLUSTER"] for r in rows] == ["host", "member1", "member2", "member3"]
    host, m1, m2, down = rows
    assert (host["ROLE"], host["READY"], host["JWT=HOST"], host["SKEW"]) == ("host", "-", "yes", "~+0.0s")
    assert (m1["READY"], m1["JWT=HOST"], m1["SKEW"]) == ("yes", "yes", "+3.0s")
    assert (m2["READY"], m2["JWT=HOST"]) == ("not joined", "NO")
    assert (down["ROLE"], down["KUBERNETES"]) == ("?", "-")
    assert notes == ["member3: UNREACHABLE [unreachable] the API server is unreachable (connection refused)"]


def test_fleet_rows_show_members_the_host_manages_but_the_play_did_not_read():
    facts = fleet()
    facts[0]["clusters"].append(dict(cf.facts("h", raw(clusters=[cluster_obj("edge-7", False)]))["clusters"][0],
                                     kubesphere_version="v3.4.1"))
    rows, notes = cf.fleet_rows(facts, host="host")
    assert rows[-1] == {"CLUSTER": "edge-7", "ROLE": "member", "KUBERNETES": "v1.34.3", "KUBESPHERE": "v3.4.1",
                        "READY": "no", "JWT=HOST": "-", "SKEW": "-"}
    assert "edge-7: joined to the host but not in the inventory (no kubeconfig): shown as the host sees it" in notes


def test_fleet_rows_report_clock_skew_beyond_the_host_threshold():
    notes = cf.fleet_rows(fleet(m1_offset=25.0), host="host")[1]
    assert any(n.startswith("clusters 'host' and 'member1': clocks differ by") for n in notes)


def test_fleet_rows_without_a_reachable_host():
    facts = fleet()[1:]
    rows = cf.fleet_rows(facts, host=None)[0]
    assert {r["JWT=HOST"] for r in rows} == {"?", "-"}


def test_fleet_table_is_aligned_text():
    text = cf.fleet_table(fleet(), host="host")
    lines = text.splitlines()
    assert lines[0].split() == list(cf.COLUMNS)
    starts = [lines[0].index(c) for c in cf.COLUMNS]
    rows = cf.fleet_rows(fleet(), host="host")[0]
    for line, row in zip(lines[1:5], rows):  # every value starts under its column's header
        assert [line[s:].split("  ")[0].strip() for s in starts] == [str(row[c]) for c in cf.COLUMNS]
    assert lines[5] == "" and lines[6].startswith("member3: UNREACHABLE [unreachable]")


def test_no_result_row():
    f = cf.no_result("member9", "boom")
    assert (f["reachable"], f["reason_code"], f["reason"]) == (False, "no_result", "boom")


def test_the_filter_reads_each_hosts_registered_result():
    from ansible_collections.kubesphere.multicluster.plugins.filter.fleet_table import FilterModule

    facts = fleet()
    hostvars = {"h": {"kubesphere_status": {"cluster": facts[0]}}, "m1": {"kubesphere_status": {"cluster": facts[1]}},
                "gone": {}}
    text = FilterModule().filters()["fleet_table"](["h", "m1", "gone"], hostvars, "h")
    lines = text.splitlines()
    assert [line.split()[0] for line in lines[1:4]] == ["host", "member1", "gone"]
    assert lines[2].split()[5] == "yes"  # member1's jwtSecret compared with the host's (found by inventory name)
    assert lines[-1] == "gone: UNREACHABLE [no_result] cluster_info returned no result (the task failed or was skipped)"


def test_within_returns_raises_or_gives_up():
    def boom():
        raise KubeSphereError("boom", cluster="m1", code="api_error")

    assert cf.within(5, "m1", lambda a, b: a + b, 1, 2) == 3
    with pytest.raises(KubeSphereError, match="boom") as raised:
        cf.within(5, "m1", boom)
    assert raised.value.code == "api_error"
    release = threading.Event()
    started = time.monotonic()
    with pytest.raises(KubeSphereError) as e:
        cf.within(0.2, "m1", release.wait, 30)
    release.set()
    assert time.monotonic() - started < 5
    assert (e.value.code, e.value.msg) == ("unreachable", "cluster 'm1': the API server did not answer within 0.2 s")
    assert cf.classify(e.value) == ("unreachable", "the API server is unreachable (the API server did not answer within 0.2 s)")


def test_skew_column_never_shows_negative_zero():
    facts = fleet(m1_offset=-0.01)
    assert cf.fleet_rows(facts, host="host")[0][1]["SKEW"] == "~+0.0s"
