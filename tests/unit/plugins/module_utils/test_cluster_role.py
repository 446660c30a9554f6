"""module_utils/cluster_role.py with fake connections: guards wired to the facts, jwtSecret sourcing,
the wait loop's failure and timeout messages. No cluster, no AnsibleModule."""

import pytest
import yaml

from ansible_collections.kubesphere.multicluster.plugins.module_utils import cluster_role as cr
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError

SECRET = "host-jwt-0123456789abcdefghijklmn"


class FakeConn:
    """Answers get/list from a dict {(kind, name): object}; `after` replaces it after N reads of the CC."""

    def __init__(self, label, objects, clusters=(), after=None):
        self.label, self.objects, self.clusters, self.after, self.cc_reads = label, objects, list(clusters), after, 0

    def get(self, api_version, kind, name, namespace=None, if_served=False):
        if kind == "ClusterConfiguration":
            self.cc_reads += 1
            if self.after and self.cc_reads > 1:
                self.objects = self.after
        return self.objects.get((kind, name))

    def list(self, api_version, kind, namespace=None, label_selector=None, if_served=False):
        return self.clusters

    def fail(self, reason, obj=None, code=None, **result):
        return KubeSphereError(reason, cluster=self.label, obj=obj, code=code)


class FakeModule:
    def __init__(self, check_mode=False):
        self.check_mode, self.hidden, self.warnings = check_mode, set(), []

    def hide(self, *values):
        self.hidden.update(values)

    def warn(self, msg):
        self.warnings.append(msg)


def cluster_objects(role, jwt=None, cc_status=None, uid="UID-1", annotations=None):
    doc = {"multicluster": {"clusterRole": role}}
    if jwt:
        doc["authentication"] = {"jwtSecret": jwt}
    return {
        ("ClusterConfiguration", "ks-installer"): {
            "spec": {"multicluster": {"clusterRole": role}}, "status": cc_status or {}},
        ("ConfigMap", "kubesphere-config"): {"data": {"kubesphere.yaml": yaml.safe_dump(doc)}},
        ("Namespace", "kube-system"): {"metadata": {"uid": uid}},
        ("Namespace", "kubesphere-system"): {"metadata": {"annotations": annotations or {}}},
    }


def params(**kw):
    base = {"cluster_name": "m1", "role": "member", "jwt_secret": None, "host_cluster_name": None,
            "proxy_publish_address": None, "sync_components": False, "components_include": [],
            "components_exclude": [], "wait_timeout": 0, "wait_sleep": 0}
    base.update(kw)
    return base


def facts(label, objects, clusters=(), after=None):
    return cr.ClusterFacts(FakeConn(label, objects, clusters, after))


def test_guard_host_with_members_and_second_host():
    host = facts("h", cluster_objects("host", uid="U0"), clusters=[
        {"metadata": {"name": "host"}, "status": {"uid": "U0"}}, {"metadata": {"name": "m1"}, "status": {"uid": "U1"}}])
    problems = cr.guard(params(cluster_name="h", role="member"), host, None, [])
    assert [p["code"] for p in problems] == ["host_has_members"]
    other = facts("m1", cluster_objects("none"))
    assert [p["code"] for p in cr.guard(params(role="host"), other, None, [host])] == ["second_host"]


def test_guard_member_managed_by_other_host():
    member = facts("m1", cluster_objects("none", uid="U1", annotations={"cluster.kubesphere.io/host-cluster": "x"}))
    host = facts("host", cluster_objects("host", SECRET, uid="U0"))
    problems = cr.guard(params(), member, host, [])
    assert [p["code"] for p in problems] == ["managed_by_other_host"]


def test_member_inputs_reads_and_hides_the_hosts_secret():
    module = FakeModule()
    host = facts("host", cluster_objects("host", SECRET))
    assert cr.member_inputs(module, params(), host) == SECRET
    assert SECRET in module.hidden


def test_member_inputs_refuses_a_host_that_is_not_one_yet_except_in_check_mode():
    host = facts("host", cluster_objects("none", SECRET))
    with pytest.raises(KubeSphereError) as e:
        cr.member_inputs(FakeModule(), params(), host)
    assert e.value.code == "host_not_ready" and "set the host role first" in e.value.msg
    module = FakeModule(check_mode=True)
    assert cr.member_inputs(module, params(), host) == SECRET and "check mode predicts" in module.warnings[0]


def test_member_inputs_needs_a_secret_source():
    with pytest.raises(KubeSphereError) as e:
        cr.member_inputs(FakeModule(), params(), None)
    assert e.value.code == "no_jwt_secret"


def test_wait_fails_fast_on_a_new_installer_failure():
    failed = cluster_objects("none", cc_status={"core": {"status": "failed"}})
    target = facts("m1", cluster_objects("none"), after=failed)
    with pytest.raises(KubeSphereError) as e:
        cr.wait_applied(FakeModule(), params(wait_timeout=30), target, SECRET)
    assert e.value.code == "installer_failed" and "ks-installer failed (core)" in e.value.msg
    assert SECRET not in e.value.msg


def test_wait_times_out_with_what_the_installer_last_did():
    target = facts("m1", cluster_objects("none", "old-secret"))
    with pytest.raises(KubeSphereError) as e:
        cr.wait_applied(FakeModule(), params(), target, SECRET)
    assert e.value.code == "timeout"
    assert "kubesphere-config shows clusterRole 'none' (wanted 'member')" in e.value.msg
    assert "Last seen: rendered clusterRole none" in e.value.msg and SECRET not in e.value.msg


def test_wait_returns_once_applied():
    target = facts("m1", cluster_objects("none"), after=cluster_objects("member", SECRET))
    cr.wait_applied(FakeModule(), params(wait_timeout=30), target, SECRET)


def test_components_for_member_from_host_spec():
    host = facts("host", cluster_objects("host", SECRET))
    host.cc["spec"].update(devops={"enabled": True}, openpitrix={"store": {"enabled": True}})
    assert cr.components_for(params(sync_components=True), host, {"spec": {}}) == ["devops"]
    assert cr.components_for(params(), host, {}) == []
    with pytest.raises(KubeSphereError):
        cr.components_for(params(sync_components=True), None, {})


def test_guard_without_host_connection_still_checks_the_annotation():
    member = facts("m1", cluster_objects("none", annotations={"cluster.kubesphere.io/host-cluster": "x"}))
    assert [p["code"] for p in cr.guard(params(jwt_secret=SECRET), member, None, [])] == ["managed_by_other_host"]
    ours = facts("m1", cluster_objects("none", annotations={"cluster.kubesphere.io/host-cluster": "host"}))
    assert cr.guard(params(jwt_secret=SECRET), ours, None, []) == []


def test_timeout_message_quotes_the_installer_log_when_there_is_a_pod():
    target = facts("m1", cluster_objects("none"))
    target.conn.list = lambda *a, **k: [{"metadata": {"name": "ks-installer-abc"}}]
    target.conn.raw = lambda method, path: (200, {}, "Start installing multicluster\nTask 'multicluster' failed:\n")
    with pytest.raises(KubeSphereError) as e:
        cr.wait_applied(FakeModule(), params(), target, SECRET)
    assert e.value.msg.endswith("Installer log: Start installing multicluster | Task 'multicluster' failed:")
