"""The role step on KubeSphere 4.1 (versions/v4_1/helm_role.py and operations/role.py's `by_helm`): the role is ks-core's
Helm value, which the collection reports and never writes; what it cannot do is refused before any write with a
stable code naming the cluster; a bare member in a 4.1 fleet takes the host's line. And the 4.1 health the read
model gives each member (read/cluster_state.py's add_health through the seam)."""

import pytest
import yaml
from fakes import FakeConnection, FakeModule
from helm_records import record

from ansible_collections.kubesphere.multicluster.plugins.module_utils import versions
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import Refused
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import role as mr
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import cluster_state
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import v4_1
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v4_1 import helm_role as v41_role

SECRET = "v41-host-jwt-0123456789abcdefghij"
CLUSTER_API = "cluster.kubesphere.io/v1alpha1"
HOST_ANNOTATION = "cluster.kubesphere.io/host-cluster"
WRITES = ("merge_patch", "create", "apply", "delete", "patch", "replace")


def v41_objects(role="host", host_name="host", uid="U0", annotations=None, installed=True, ks_namespace=True,
                config=True, values=None):
    """A cluster as KubeSphere 4.1 leaves it: the ks-core release, the rendered kubesphere-config (v4 layout),
    kube-system and kubesphere-system; a bare cluster (`installed` False) has neither release nor config."""
    out = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "uid": uid}}]
    if ks_namespace:
        out.append({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": "kubesphere-system", "annotations": annotations or {}}})
    if installed:
        doc = {"authentication": {"issuer": {"jwtSecret": SECRET}}, "helmExecutor": {}, "extension": {},
               "multicluster": {"clusterRole": role, "hostClusterName": host_name}}
        if config:
            out.append({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "kubesphere-config", "namespace": "kubesphere-system"},
                        "data": {"kubesphere.yaml": yaml.safe_dump(doc)}})
        out.append(record("v4.1.3", values={"multicluster": {"role": role}} if values is None else values))
    return out


def connections(monkeypatch, target_objects, host_objects=None):
    conns = {}

    def connection(module, label, prefix="", params=None, timeout=None):
        conns[prefix] = FakeConnection(label=label, objects=host_objects if prefix else target_objects,
                                       served={("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Secret"),
                                               (CLUSTER_API, "Cluster")})
        return conns[prefix]

    monkeypatch.setattr(mr, "Connection", connection)
    return conns


def params(**kw):
    base = {"cluster_name": "m1", "role": "member", "jwt_secret": None, "host_cluster_name": None,
            "proxy_publish_address": None, "sync_components": False, "components_include": [],
            "components_exclude": [], "wait_timeout": 0, "wait_sleep": 0, "peers": [], "wait": True,
            "force": False, "create": False, "dest": None}
    base.update(kw)
    return base


def wrote(conns):
    return [c for conn in conns.values() for c in conn.calls if c[0] in WRITES]


def codes(problems):
    return [p["code"] for p in problems]


# --- the operation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("check_mode", [False, True])
def test_host_role_on_a_v41_host_is_reported_and_nothing_is_written(monkeypatch, check_mode):
    conns = connections(monkeypatch, v41_objects("host", annotations={HOST_ANNOTATION: "host"}))
    module = FakeModule(check_mode=check_mode, diff=True, **params(cluster_name="host", role="host",
                                                                   host_cluster_name="host"))
    result = mr.run(module)
    assert (result["changed"], result["applied"], result["kubesphere_line"], result["plan"]) == (False, True, "4.1", [])
    assert result["role_before"] == "host" and "Helm release ks-core" in result["role_source"]
    assert result["result"] == {"multicluster": {"clusterRole": "host", "hostClusterName": "host"},
                                "role_read_from": "kubesphere-config",
                                "release": {"name": "ks-core", "revision": 1, "status": "deployed",
                                            "chart_version": "1.1.4", "app_version": "v4.1.3"}}
    assert result["diff"]["before"] == result["diff"]["after"]
    assert SECRET not in repr(result) and wrote(conns) == []


def test_a_bare_member_of_a_v41_host_takes_the_host_s_line_and_nothing_is_written(monkeypatch):
    conns = connections(monkeypatch, v41_objects(installed=False, ks_namespace=False, uid="U1"),
                        v41_objects("host", uid="U0"))
    module = FakeModule(**params(host_kubeconfig="/h", jwt_secret="given-but-ignored-secret"))
    result = mr.run(module)
    assert (result["changed"], result["applied"], result["kubesphere_line"], result["role_before"]) == \
        (False, True, "4.1", "none")
    assert "nothing to write on the member" in result["note"] and "no jwtSecret is copied" in result["note"]
    assert "jwt_secret_hash" not in result and "given-but-ignored-secret" in module.hidden
    assert any("jwt_secret is ignored on KubeSphere 4.1" in w for w in module.warnings)
    assert wrote(conns) == []


def test_a_bare_member_takes_the_line_from_the_peers_without_the_host_s_connection(monkeypatch):
    connections(monkeypatch, v41_objects(installed=False, uid="U1"))
    peers = [{"name": "host", "role": "host", "kube_system_uid": "U0", "kubesphere_line": "4.1", "clusters": []}]
    result = mr.run(FakeModule(**params(peers=peers, host_cluster_name="host")))
    assert result["kubesphere_line"] == "4.1" and result["applied"] is True


def test_a_bare_member_of_a_3_4_fleet_stays_on_3_4(monkeypatch):
    """No host connection, a 3.4 peer: the 3.4 path (which needs a jwtSecret source) as before."""
    connections(monkeypatch, v41_objects(installed=False, uid="U1"))
    peers = [{"name": "host", "role": "host", "kube_system_uid": "U0", "kubesphere_line": "3.4", "clusters": []}]
    with pytest.raises(Exception) as e:
        mr.run(FakeModule(**params(peers=peers)))
    assert getattr(e.value, "code", None) == "not_installed"  # 3.4: no ClusterConfiguration, no create


def test_an_imported_member_renders_member_and_is_applied(monkeypatch):
    connections(monkeypatch, v41_objects("member", annotations={HOST_ANNOTATION: "host"}, uid="U1"),
                v41_objects("host", uid="U0"))
    result = mr.run(FakeModule(**params(host_kubeconfig="/h")))
    assert result["applied"] and result["role_before"] == "member" and "renders clusterRole member" in result["note"]


def test_a_member_another_host_annotated_is_refused_and_force_warns(monkeypatch):
    conns = connections(monkeypatch, v41_objects(installed=False, annotations={HOST_ANNOTATION: "other"}, uid="U1"),
                        v41_objects("host", uid="U0"))
    with pytest.raises(Refused) as e:
        mr.run(FakeModule(**params(host_kubeconfig="/h")))
    assert codes(e.value.problems) == ["managed_by_other_host"] and e.value.cluster == "m1"
    assert "cluster 'm1'" in e.value.problems[0]["message"] and HOST_ANNOTATION + "=other" in e.value.problems[0]["message"]
    module = FakeModule(**params(host_kubeconfig="/h", force=True))
    result = mr.run(module)
    assert result["changed"] is False and codes(result["problems"]) == ["managed_by_other_host"]
    assert module.warnings[0].startswith("forced: ") and wrote(conns) == []


def test_a_standalone_v41_kubesphere_is_refused_as_a_member(monkeypatch):
    """It annotated itself with its own name (as a standalone KubeSphere does): said once, as what it is."""
    conns = connections(monkeypatch, v41_objects("host", host_name="host", annotations={HOST_ANNOTATION: "host"}, uid="U1"),
                        v41_objects("host", uid="U0"))
    with pytest.raises(Refused) as e:
        mr.run(FakeModule(**params(host_kubeconfig="/h")))
    assert codes(e.value.problems) == ["member_runs_host_ks_core"]
    assert "remove its host-only workloads" in e.value.problems[0]["message"]
    forced = mr.run(FakeModule(**params(host_kubeconfig="/h", force=True)))
    assert forced["applied"] is False and "forced" in forced["note"] and wrote(conns) == []
    # what happens next is said as it is: the import refuses it too
    assert "renders clusterRole host, not member" in forced["note"] and "member_is_host" in forced["note"]
    assert "helm uninstall ks-core -n kubesphere-system" in forced["note"]


@pytest.mark.parametrize("kw, code, words", [
    ({"role": "member", "host_cluster_name": "h"}, None, None),
    ({"role": "host", "host_cluster_name": "other"}, "role_set_by_helm",
     "--reuse-values --set multicluster.role=host --set multicluster.hostClusterName=other"),
    ({"role": "none"}, "role_set_by_helm", "roles host and member only"),
    ({"role": "host", "proxy_publish_address": "http://10.0.0.1:30721"}, "proxy_publish_address_not_in_v41",
     "the next `helm upgrade ks-core` drops"),
    ({"role": "member", "sync_components": True, "force": True}, "components_not_in_v41", "extensions"),
])
def test_what_the_role_step_cannot_do_on_v41_is_refused_naming_the_cluster(monkeypatch, kw, code, words):
    member_side = kw["role"] == "member"
    objs = v41_objects("member" if member_side else "host", annotations={HOST_ANNOTATION: "h"} if member_side else {})
    conns = connections(monkeypatch, objs)
    p = params(cluster_name="c1", **kw)
    if code is None:
        assert mr.run(FakeModule(**p))["applied"] is True
        return
    with pytest.raises(Refused) as e:
        mr.run(FakeModule(**p))
    assert code in codes(e.value.problems) and e.value.cluster == "c1"
    message = [x for x in e.value.problems if x["code"] == code][0]["message"]
    assert message.startswith("cluster 'c1'") and words in message and "nothing was changed" in message or words in message
    assert wrote(conns) == []


def test_a_member_s_ks_core_rendering_member_for_role_host_names_the_helm_upgrade(monkeypatch):
    connections(monkeypatch, v41_objects("member"))
    with pytest.raises(Refused) as e:
        mr.run(FakeModule(**params(cluster_name="c1", role="host")))
    assert codes(e.value.problems) == ["role_set_by_helm"]
    assert "renders clusterRole member (wanted host)" in e.value.problems[0]["message"]
    assert "helm upgrade ks-core <the ks-core chart you installed it with> -n kubesphere-system --reuse-values " \
        "--set multicluster.role=host" in e.value.problems[0]["message"]


def test_dest_and_a_host_without_ks_core_are_refused_with_the_helm_install(monkeypatch):
    host = {"name": "host", "reachable": True, "ks_core_release": {"app_version": "v4.1.3", "revision": 1}}
    guards, problems = v41_role.problems(params(cluster_name="c1", role="host", dest="/tmp/x.yaml"), None, host)
    assert guards == [] and codes(problems) == ["role_set_by_helm"]
    assert "helm upgrade --install ks-core" in problems[0]["message"]
    bare = {"name": "c1", "config": {}, "config_present": False, "ks_core_release": None}
    guards, problems = v41_role.problems(params(cluster_name="c1", role="host"), bare)
    assert codes(problems) == ["not_installed"] and "--create-namespace --set multicluster.role=host" in problems[0]["message"]


def test_a_second_host_is_a_guard_on_v41_too():
    st = {"name": "c1", "config": {"multicluster": {"clusterRole": "host"}}, "config_present": True,
          "ks_core_release": None}
    peers = [{"name": "h", "role": "host", "kubesphere_line": "4.1"}]
    guards, problems = v41_role.problems(params(cluster_name="c1", role="host"), st, None, peers)
    assert codes(guards) == ["second_host"] and problems == []


def test_mixed_lines_are_refused_on_v41_even_with_force(monkeypatch):
    connections(monkeypatch, v41_objects("host"))
    peers = [{"name": "m1", "role": "member", "kubesphere_line": "3.4"}]
    with pytest.raises(Refused) as e:
        mr.run(FakeModule(**params(cluster_name="host", role="host", peers=peers, force=True)))
    assert codes(e.value.problems) == ["mixed_versions"]


# --- the 4.1 health in the read model --------------------------------------------------------------------


def cluster(name, host=False, **conditions):
    return {"metadata": {"name": name, "labels": {"cluster-role.kubesphere.io/host": ""} if host else {}},
            "spec": {"connection": {"type": "direct", "kubeconfig": "eA=="}},
            "status": {"conditions": [{"type": k, "status": v} for k, v in conditions.items()]}}


def test_members_of_a_v41_host_get_the_seam_s_health_without_kubefed_and_the_host_s_cluster_none():
    objs = [cluster("host", host=True, Ready="True"), cluster("m1", Ready="True", KSCoreReady="True"),
            cluster("m2", Ready="True"), cluster("m3", Ready="False", KSCoreReady="True")]
    summaries = cluster_state.cluster_summaries(objs)
    cluster_state.add_health(summaries, objs, None, v4_1)
    by = {s["name"]: s for s in summaries}
    assert "health" not in by["host"]
    assert (by["m1"]["health"], by["m2"]["health"], by["m3"]["health"]) == ("ready", "joining", "not_ready")
    assert "KSCoreReady" in by["m2"]["health_reason"]


def test_the_read_model_adds_v41_health_with_no_kubefed_cluster_kind_served():
    objs = v41_objects("host") + [dict(cluster("host", host=True, Ready="True"), apiVersion=CLUSTER_API, kind="Cluster"),
                                  dict(cluster("m1", Ready="True", KSCoreReady="True"), apiVersion=CLUSTER_API,
                                       kind="Cluster")]
    conn = FakeConnection(label="host", objects=objs, served={("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Secret"),
                                                              (CLUSTER_API, "Cluster"), ("apps/v1", "Deployment"),
                                                              ("v1", "Service"), ("v1", "Node")},
                          raw_answers={"/version": (200, {}, {"gitVersion": "v1.34.3"})})
    state = cluster_state.read(conn)
    assert state["reachable"], state["error"]
    # the tower extension's Service (not installed here): no address an agent could dial
    assert state["proxy_publish"]["address"] is None and "kubesphere-system/tower" in state["proxy_publish"]["error"]
    f = cluster_state.facts(state)
    assert (f["role"], f["kubesphere_line"], f["kubesphere_version"], f["version_managed"]) == ("host", "4.1", "v4.1.3", True)
    assert f["kubefed_clusters"] is None and f["installer"]["present"] is False
    assert {s["name"]: s.get("health") for s in f["clusters"]} == {"host": None, "m1": "ready"}
    assert versions.detect(state)["managed"] is True


# --- the role from the ks-core release's values, when kubesphere-config renders none -------------------------


def test_without_kubesphere_config_the_role_and_host_name_come_from_the_release_values(monkeypatch):
    """ks-core's release (values multicluster.role host, hostClusterName h1) and no kubesphere-config: the role
    step reads the role and the host's name from the values, reports where it read them, and writes nothing; a
    different host name is refused naming what the values say."""
    objs = v41_objects("host", config=False, values={"multicluster": {"role": "host", "hostClusterName": "h1"}})
    conns = connections(monkeypatch, objs)
    result = mr.run(FakeModule(**params(cluster_name="h1", role="host", host_cluster_name="h1")))
    assert (result["applied"], result["role_before"], result["changed"]) == (True, "host", False)
    assert result["result"]["multicluster"] == {"clusterRole": "host", "hostClusterName": "h1"}
    assert result["result"]["role_read_from"] == "Helm values" and "hostClusterName h1" in result["note"]
    assert "has the Helm value multicluster.role host" in result["note"]
    with pytest.raises(Refused) as e:
        mr.run(FakeModule(**params(cluster_name="h1", role="host", host_cluster_name="other")))
    assert codes(e.value.problems) == ["role_set_by_helm"]
    assert "hostClusterName h1 (wanted other)" in e.value.problems[0]["message"]
    assert wrote(conns) == []


def test_a_member_release_without_kubesphere_config_is_a_member_and_role_host_is_refused(monkeypatch):
    objs = v41_objects("member", config=False, annotations={HOST_ANNOTATION: "host"})
    connections(monkeypatch, objs, v41_objects("host", uid="U9"))
    result = mr.run(FakeModule(**params(host_kubeconfig="/h")))
    assert result["applied"] and result["role_before"] == "member"
    assert "has the Helm value multicluster.role member (kubesphere-config renders no role)" in result["note"]
    with pytest.raises(Refused) as e:
        mr.run(FakeModule(**params(cluster_name="m1", role="host")))
    assert "clusterRole member (wanted host)" in e.value.problems[0]["message"]


@pytest.mark.parametrize("st, wanted", [
    # kubesphere-config renders the role: it wins over the values
    ({"config": {"multicluster": {"clusterRole": "member", "hostClusterName": "h"}},
      "ks_core_release": {"multicluster": {"role": "host", "host_cluster_name": "x"}}},
     ({"role": "member", "host_cluster_name": "h", "source": "kubesphere-config"}, "member")),
    ({"config": {}, "ks_core_release": {"multicluster": {"role": "member", "host_cluster_name": None}}},
     ({"role": "member", "host_cluster_name": None, "source": "Helm values"}, "member")),
    # the values leave the role unset: ks-core's default, host
    ({"config": {}, "ks_core_release": {"multicluster": {"role": None, "host_cluster_name": None}}},
     ({"role": None, "host_cluster_name": None, "source": "Helm values"}, "host")),
    # a record decoded before the values were read (no multicluster key)
    ({"config": {}, "ks_core_release": {"app_version": "v4.1.3"}},
     ({"role": None, "host_cluster_name": None, "source": "Helm values"}, "host")),
    ({"config": {}, "ks_core_release": None}, ({"role": None, "host_cluster_name": None, "source": None}, None)),
])
def test_the_v41_role_reads_kubesphere_config_else_the_release_values(st, wanted):
    assert (v41_role.rendered(st), v4_1.role(st)) == wanted


def test_cluster_info_reports_the_release_s_role_when_kubesphere_config_is_forbidden():
    """A read-only credential that may read the release's Secrets but not the ConfigMap (status.yml and the
    doctor tolerate a 403): the role comes from the values, not `none`."""
    objs = v41_objects("member", annotations={HOST_ANNOTATION: "host"})
    conn = FakeConnection(label="m1", objects=objs, served={("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Secret"),
                                                            (CLUSTER_API, "Cluster"), ("apps/v1", "Deployment")},
                          raw_answers={"/version": (200, {}, {"gitVersion": "v1.34.3"})})
    conn.forbidden.add(("v1", "ConfigMap"))
    f = cluster_state.facts(cluster_state.read(conn, tolerate_forbidden=True))
    assert (f["role"], f["kubesphere_line"], f["cluster_role"]["rendered"]) == ("member", "4.1", None)
    assert f["ks_core_release"]["multicluster"] == {"role": "member", "host_cluster_name": None}
    assert SECRET not in repr(f)
