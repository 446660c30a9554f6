"""module_utils/multicluster_role.py over the one fake connection: checks wired to the states and peer
facts, jwtSecret sourcing, the wait loop's failure and timeout messages. No cluster, no AnsibleModule."""

import pytest
import yaml
from fakes import FakeConnection, FakeModule

from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import role as mr
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import roles as role_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError

SECRET = "host-jwt-0123456789abcdefghijklmn"
CC_API = "installer.kubesphere.io/v1alpha1"
CLUSTER_API = "cluster.kubesphere.io/v1alpha1"


def cluster_objects(role, jwt=None, cc_status=None, uid="UID-1", annotations=None, clusters=()):
    doc = {"multicluster": {"clusterRole": role}}
    if jwt:
        doc["authentication"] = {"jwtSecret": jwt}
    out = [
        {"apiVersion": CC_API, "kind": "ClusterConfiguration",
         "metadata": {"name": "ks-installer", "namespace": "kubesphere-system"},
         "spec": {"multicluster": {"clusterRole": role}}, "status": cc_status or {}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubesphere-config", "namespace": "kubesphere-system"},
         "data": {"kubesphere.yaml": yaml.safe_dump(doc)}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "uid": uid}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubesphere-system", "annotations": annotations or {}}},
    ]
    out += [{"apiVersion": CLUSTER_API, "kind": "Cluster", "metadata": {"name": n}, "status": {"uid": u}} for n, u in clusters]
    return out


class ChangingConnection(FakeConnection):
    """A cluster whose objects become `after` once the ClusterConfiguration has been read `reads` times."""

    def __init__(self, label, objects, after=None, reads=1, **kw):
        super().__init__(label=label, objects=objects, served={("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Pod"),
                                                               (CC_API, "ClusterConfiguration"), (CLUSTER_API, "Cluster")}, **kw)
        self.after, self.reads, self.cc_reads = after, reads, 0

    def get(self, api_version, kind, name, namespace=None, if_served=False):
        if kind == "ClusterConfiguration":
            self.cc_reads += 1
            if self.after and self.cc_reads > self.reads:
                self.store = {}
                for obj in self.after:
                    self._put(obj)
                self.after = None
        return super().get(api_version, kind, name, namespace, if_served)


def params(**kw):
    base = {"cluster_name": "m1", "role": "member", "jwt_secret": None, "host_cluster_name": None,
            "proxy_publish_address": None, "sync_components": False, "components_include": [],
            "components_exclude": [], "wait_timeout": 0, "wait_sleep": 0, "peers": []}
    base.update(kw)
    return base


def state(label, objects, **kw):
    return mr.read(ChangingConnection(label, objects, **kw))


def codes(problems):
    return [p["code"] for p in problems]


def test_checks_host_with_members_and_second_host_from_peer_facts():
    host = state("h", cluster_objects("host", uid="U0", clusters=[("host", "U0"), ("m1", "U1")]))
    assert codes(role_checks.role_problems("h", "member", host)) == ["host_has_members"]
    other = state("m1", cluster_objects("none"))
    peers = [{"name": "h", "role": "host", "kube_system_uid": "U0", "clusters": []}]
    assert codes(role_checks.role_problems("m1", "host", other, None, peers)) == ["second_host"]


def test_checks_member_managed_by_other_host():
    member = state("m1", cluster_objects("none", uid="U1", annotations={"cluster.kubesphere.io/host-cluster": "x"}))
    host = state("host", cluster_objects("host", SECRET, uid="U0"))
    assert codes(role_checks.role_problems("m1", "member", member, host)) == ["managed_by_other_host"]


def test_member_inputs_reads_and_hides_the_hosts_secret():
    module = FakeModule()
    host = state("host", cluster_objects("host", SECRET))
    assert mr.member_inputs(module, params(), host) == SECRET
    assert SECRET in module.hidden


def test_member_inputs_refuses_a_host_that_is_not_one_yet_except_in_check_mode():
    host = state("host", cluster_objects("none", SECRET))
    with pytest.raises(KubeSphereError) as e:
        mr.member_inputs(FakeModule(), params(), host)
    assert e.value.code == "host_not_ready" and "set the host role first" in e.value.msg
    module = FakeModule(check_mode=True)
    assert mr.member_inputs(module, params(), host) == SECRET and "check mode predicts" in module.warnings[0]


def test_member_inputs_needs_a_secret_source():
    with pytest.raises(KubeSphereError) as e:
        mr.member_inputs(FakeModule(), params(), None)
    assert e.value.code == "no_jwt_secret"


def test_a_config_that_is_not_yaml_is_refused():
    objs = cluster_objects("none")
    objs[1]["data"]["kubesphere.yaml"] = "a: ["
    with pytest.raises(KubeSphereError) as e:
        state("m1", objs)
    assert e.value.code == "bad_config"


T0, T1 = "2026-01-01T00:00:00UTC", "2026-01-01T00:05:00UTC"


def test_wait_fails_early_when_a_host_run_rendered_host_without_enabling_multicluster():
    """What a real failed multicluster task leaves: kubesphere-config rendered host, enabledTime moved,
    status.multicluster unset (no `failed` status anywhere)."""
    before = cluster_objects("none", SECRET, cc_status={"core": {"status": "enabled", "enabledTime": T0}})
    after = cluster_objects("host", SECRET, cc_status={"core": {"status": "enabled", "enabledTime": T1, "version": "v3.4.1"}})
    conn = ChangingConnection("h", before, after=after)
    with pytest.raises(KubeSphereError) as e:
        mr.wait_applied(FakeModule(), params(cluster_name="h", role="host", wait_timeout=30), conn, mr.read(conn), None)
    assert e.value.code == "installer_failed"
    assert "multicluster task failed" in e.value.msg and "rendered clusterRole host" in e.value.msg
    assert "status.multicluster unset" in e.value.msg and "moved since our write" in e.value.msg
    assert "ks-installer pod's log" in e.value.msg and "rollout restart deployment ks-installer" in e.value.msg
    assert SECRET not in e.value.msg


@pytest.mark.parametrize("before_role,before_time", [("host", T0), ("none", T1)])
def test_no_early_failure_without_evidence_of_a_run_since_the_write(before_role, before_time):
    """Host already rendered before the write (a run may be under way), or enabledTime did not move: wait."""
    before = cluster_objects(before_role, cc_status={"core": {"status": "enabled", "enabledTime": before_time}})
    after = cluster_objects("host", cc_status={"core": {"status": "enabled", "enabledTime": T1}})
    conn = ChangingConnection("h", before, after=after)
    with pytest.raises(KubeSphereError) as e:
        mr.wait_applied(FakeModule(), params(cluster_name="h", role="host"), conn, mr.read(conn), None)
    assert e.value.code == "timeout" and "status.multicluster.status is unset (wanted enabled)" in e.value.msg


def test_wait_times_out_with_what_the_installer_last_did():
    conn = ChangingConnection("m1", cluster_objects("none", "old-secret"))
    with pytest.raises(KubeSphereError) as e:
        mr.wait_applied(FakeModule(), params(), conn, mr.read(conn), SECRET)
    assert e.value.code == "timeout"
    assert "kubesphere-config shows clusterRole 'none' (wanted 'member')" in e.value.msg
    assert "Last seen: rendered clusterRole none" in e.value.msg and SECRET not in e.value.msg
    assert "status.core.enabledTime unset (not moved since our write" in e.value.msg
    assert "rollout restart deployment ks-installer" in e.value.msg


def test_wait_returns_once_applied():
    conn = ChangingConnection("m1", cluster_objects("none"), after=cluster_objects("member", SECRET))
    final = mr.wait_applied(FakeModule(), params(wait_timeout=30), conn, mr.read(conn), SECRET)
    assert final["config"]["multicluster"]["clusterRole"] == "member"


def test_components_for_member_from_host_spec():
    host = state("host", cluster_objects("host", SECRET))
    host["cluster_configuration"]["spec"].update(devops={"enabled": True}, openpitrix={"store": {"enabled": True}})
    assert mr.components_for(params(sync_components=True), host, {"spec": {}}) == ["devops"]
    assert mr.components_for(params(), host, {}) == []
    with pytest.raises(KubeSphereError):
        mr.components_for(params(sync_components=True), None, {})


def test_checks_without_host_connection_still_check_the_annotation():
    member = state("m1", cluster_objects("none", annotations={"cluster.kubesphere.io/host-cluster": "x"}))
    assert codes(role_checks.role_problems("m1", "member", member)) == ["managed_by_other_host"]
    ours = state("m1", cluster_objects("none", annotations={"cluster.kubesphere.io/host-cluster": "host"}))
    assert role_checks.role_problems("m1", "member", ours) == []


def test_timeout_message_quotes_the_installer_log_when_there_is_a_pod():
    objs = cluster_objects("none") + [{"apiVersion": "v1", "kind": "Pod",
                                       "metadata": {"name": "ks-installer-abc", "namespace": "kubesphere-system"}}]
    log = "/api/v1/namespaces/kubesphere-system/pods/ks-installer-abc/log?tailLines=300"
    conn = ChangingConnection("m1", objs, raw_answers={log: (200, {}, "Start installing multicluster\nTask 'multicluster' failed:\n")})
    with pytest.raises(KubeSphereError) as e:
        mr.wait_applied(FakeModule(), params(), conn, mr.read(conn), SECRET)
    assert "Installer log: Start installing multicluster | Task 'multicluster' failed:." in e.value.msg


def test_the_role_change_reads_its_cluster_and_host_only(monkeypatch):
    """change(): the target and the host are read; peers are facts, never connections; check mode writes nothing."""
    made = []

    def connection(module, label, prefix="", params=None, timeout=None):
        made.append((label, prefix))
        objs = cluster_objects("host", SECRET, uid="U0") if prefix else cluster_objects("none", uid="U1")
        return ChangingConnection(label, objs)

    monkeypatch.setattr(mr, "Connection", connection)
    p = params(host_kubeconfig="/h", wait=False, force=False, create=False, dest=None,
               peers=[{"name": "m2", "role": "member", "kube_system_uid": "U2", "clusters": []},
                      {"name": "host", "role": "host", "kube_system_uid": "U0", "clusters": []}])
    module = FakeModule(check_mode=True, **p)
    result = mr.change(module, p, {"changed": False})
    assert sorted(made) == [("host", "host_"), ("m1", "")]
    assert result["changed"] is True and result["jwt_secret_hash"].startswith("sha256:")
    assert SECRET not in repr(result)
