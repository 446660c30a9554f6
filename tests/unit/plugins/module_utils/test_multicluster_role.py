"""The role change (operations/role.py, plan/role.py, checks/roles.py, the `role_*` names of versions/v3_4)
over the one fake connection: checks wired to the states and peer facts, jwtSecret sourcing, the plans and
their converged (empty) case, the wait step's failure and timeout messages. No cluster, no AnsibleModule."""

import os
import stat

import pytest
import yaml
from fakes import FakeConnection, FakeModule

from ansible_collections.kubesphere.multicluster.plugins.module_utils import versions
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import role as mr
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import roles as role_checks
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, Refused
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Context, Executor
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import role as role_plan
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read.role import read_cluster

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
            "components_exclude": [], "wait_timeout": 0, "wait_sleep": 0, "peers": [], "wait": True,
            "force": False, "create": False, "dest": None}
    base.update(kw)
    return base


def state(label, objects, **kw):
    return read_cluster(ChangingConnection(label, objects, **kw))


def codes(problems):
    return [p["code"] for p in problems]


IMPL = versions.implementation("3.4")


def options(p):
    return IMPL.role_options(p["role"], p["proxy_publish_address"], p["host_cluster_name"])


def wait(conn, p, secret=None, before=None, slicer=None):
    """The plan's wait step alone, through the executor (no sleeps), after the state read before it."""
    target = read_cluster(conn)
    step = role_plan.wait_applied(p, IMPL, secret, options(p))
    before = before or dict(IMPL.role_before_facts(target), wrote=False)
    ctx = Context(FakeModule(), {role_plan.SIDE: conn}, slicer=slicer, values={role_plan.BEFORE: before})
    outcome = Executor(ctx, {}, sleep=lambda s: None).run([step])
    if not outcome.ok:
        raise outcome.failed[1]
    return ctx.values[role_plan.APPLIED]


def ids(plan):
    return [s.id for s in plan]


# --- checks ------------------------------------------------------------------------------------------------

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


def test_member_secret_reads_and_hides_the_hosts_secret():
    module = FakeModule()
    host = state("host", cluster_objects("host", SECRET))
    assert role_checks.secret_problems("m1", False, host) == []
    assert mr.member_secret(module, params(), IMPL, host) == SECRET
    assert SECRET in module.hidden and not module.warnings
    assert mr.member_secret(FakeModule(), params(role="host"), IMPL, host) is None


def test_a_host_that_is_not_one_yet_is_refused_except_in_check_mode():
    host = state("host", cluster_objects("none", SECRET))
    found = role_checks.secret_problems("m1", False, host)
    assert codes(found) == ["host_not_ready"] and "set the host role first" in found[0]["message"]
    assert found[0]["cluster"] == "host"
    assert role_checks.secret_problems("m1", False, host, predict=True) == []
    module = FakeModule(check_mode=True)
    assert mr.member_secret(module, params(), IMPL, host) == SECRET and "check mode predicts" in module.warnings[0]
    no_secret = state("host", cluster_objects("host"))
    assert codes(role_checks.secret_problems("m1", False, no_secret, predict=True)) == ["host_not_ready"]


def test_member_needs_a_secret_source():
    assert codes(role_checks.secret_problems("m1", False, None)) == ["no_jwt_secret"]
    assert role_checks.secret_problems("m1", True, None) == []


def test_a_config_that_is_not_yaml_is_refused():
    objs = cluster_objects("none")
    objs[1]["data"]["kubesphere.yaml"] = "a: ["
    with pytest.raises(KubeSphereError) as e:
        state("m1", objs)
    assert e.value.code == "bad_config"


def test_components_for_member_from_host_spec():
    host = state("host", cluster_objects("host", SECRET))
    host["cluster_configuration"]["spec"].update(devops={"enabled": True}, openpitrix={"store": {"enabled": True}})
    assert IMPL.role_components(host, {"cluster_configuration": {"spec": {}}}) == ["devops"]
    assert IMPL.role_components(host, None) == ["devops"]  # before install: the member has nothing yet
    assert role_checks.components_problems("m1", False, None) == []
    assert codes(role_checks.components_problems("m1", True, None)) == ["no_host"]


def test_checks_without_host_connection_still_check_the_annotation():
    member = state("m1", cluster_objects("none", annotations={"cluster.kubesphere.io/host-cluster": "x"}))
    assert codes(role_checks.role_problems("m1", "member", member)) == ["managed_by_other_host"]
    ours = state("m1", cluster_objects("none", annotations={"cluster.kubesphere.io/host-cluster": "host"}))
    assert role_checks.role_problems("m1", "member", ours) == []


# --- the wait step ------------------------------------------------------------------------------------------

T0, T1 = "2026-01-01T00:00:00UTC", "2026-01-01T00:05:00UTC"


def test_wait_fails_early_when_a_host_run_rendered_host_without_enabling_multicluster():
    """What a real failed multicluster task leaves: kubesphere-config rendered host, enabledTime moved,
    status.multicluster unset (no `failed` status anywhere)."""
    before = cluster_objects("none", SECRET, cc_status={"core": {"status": "enabled", "enabledTime": T0}})
    after = cluster_objects("host", SECRET, cc_status={"core": {"status": "enabled", "enabledTime": T1, "version": "v3.4.1"}})
    conn = ChangingConnection("h", before, after=after)
    with pytest.raises(KubeSphereError) as e:
        wait(conn, params(cluster_name="h", role="host", wait_timeout=30))
    assert e.value.code == "installer_failed" and e.value.cluster == "h"
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
        wait(conn, params(cluster_name="h", role="host"))
    assert e.value.code == "timeout" and "status.multicluster.status is unset (wanted enabled)" in e.value.msg


def test_wait_times_out_with_what_the_installer_last_did():
    conn = ChangingConnection("m1", cluster_objects("none", "old-secret"))
    with pytest.raises(KubeSphereError) as e:
        wait(conn, params(), SECRET)
    assert e.value.code == "timeout"
    assert "kubesphere-config shows clusterRole 'none' (wanted 'member')" in e.value.msg
    assert "Last seen: rendered clusterRole none" in e.value.msg and SECRET not in e.value.msg
    assert "status.core.enabledTime unset (not moved since our write" in e.value.msg
    assert "rollout restart deployment ks-installer" in e.value.msg
    # no run finished since the write: a slow installer is not called a failed one
    assert "it may still be running (a run takes minutes), so run this again later or with a longer wait_timeout" \
        in e.value.msg


def test_a_timeout_after_a_run_finished_since_the_write_does_not_say_still_running():
    """enabledTime moved since the write (a run got past ks-core) but the role is still not rendered: no 'may still
    be running' (that run ended); the message says a run got past ks-core since."""
    before = cluster_objects("none", cc_status={"core": {"status": "enabled", "enabledTime": T0}})
    after = cluster_objects("none", cc_status={"core": {"status": "enabled", "enabledTime": T1}})
    conn = ChangingConnection("m1", before, after=after)
    with pytest.raises(KubeSphereError) as e:
        wait(conn, params())
    assert e.value.code == "timeout" and "(moved since our write: a run got past ks-core)" in e.value.msg
    assert "may still be running" not in e.value.msg


def test_wait_returns_once_applied():
    conn = ChangingConnection("m1", cluster_objects("none"), after=cluster_objects("member", SECRET))
    final = wait(conn, params(wait_timeout=30), SECRET)
    assert final["config"]["multicluster"]["clusterRole"] == "member"


def test_wait_fails_at_once_on_a_read_error():
    """As before the port: a cluster that cannot be read during the wait fails the wait (no retry)."""
    conn = ChangingConnection("m1", cluster_objects("none"))
    target = read_cluster(conn)
    conn.fail_with = "unreachable"
    step = role_plan.wait_applied(params(wait_timeout=600), IMPL, SECRET, {})
    ctx = Context(FakeModule(), {role_plan.SIDE: conn}, values={role_plan.BEFORE: IMPL.role_before_facts(target)})
    outcome = Executor(ctx, {}, sleep=lambda s: pytest.fail("slept")).run([step])
    assert outcome.failed[1].code == "unreachable"


def test_timeout_message_quotes_the_installer_log_when_there_is_a_pod():
    objs = cluster_objects("none") + [{"apiVersion": "v1", "kind": "Pod",
                                       "metadata": {"name": "ks-installer-abc", "namespace": "kubesphere-system",
                                                    "labels": {"app": "ks-installer"}}}]
    log = "/api/v1/namespaces/kubesphere-system/pods/ks-installer-abc/log?tailLines=300"
    conn = ChangingConnection("m1", objs, raw_answers={log: (200, {}, "Start installing multicluster\nTask 'multicluster' failed:\n")})
    with pytest.raises(KubeSphereError) as e:
        wait(conn, params(), SECRET)
    assert "Installer log: Start installing multicluster | Task 'multicluster' failed:." in e.value.msg


# --- plans ----------------------------------------------------------------------------------------------------

def patch_for(p, secret=None):
    return IMPL.role_patch(p["role"], secret, options(p), [])


def test_plan_writes_then_waits_and_a_converged_cluster_plans_nothing():
    p = params(role="member")
    target = state("m1", cluster_objects("none"))
    plan = role_plan.plan_change(p, target, IMPL, patch_for(p, SECRET), SECRET, {})
    assert ids(plan) == ["role-before", "role-patch", "role-applied"]
    assert [s.get("verb") for s in map(lambda s: s.public(), plan)] == [None, "patch", None]
    assert plan[1].public()["object"] == "ClusterConfiguration kubesphere-system/ks-installer"
    assert SECRET not in repr([s.public() for s in plan])
    assert ids(role_plan.plan_change(dict(p, wait=False), target, IMPL, patch_for(p, SECRET), SECRET, {})) == \
        ["role-before", "role-patch"]
    # written, not applied yet: the wait alone (what a later slice plans)
    written = state("m1", cluster_objects("member", "old"))
    written["cluster_configuration"]["spec"]["authentication"] = {"jwtSecret": SECRET}
    assert ids(role_plan.plan_change(p, written, IMPL, patch_for(p, SECRET), SECRET, {})) == ["role-before", "role-applied"]
    assert role_plan.plan_change(dict(p, wait=False), written, IMPL, patch_for(p, SECRET), SECRET, {}) == []
    # written and applied: nothing
    done = state("m1", cluster_objects("member", SECRET))
    done["cluster_configuration"]["spec"]["authentication"] = {"jwtSecret": SECRET}
    assert role_plan.plan_change(p, done, IMPL, patch_for(p, SECRET), SECRET, {}) == []


def test_plan_create_makes_the_namespace_first_and_predicts_the_object_behind_it():
    p = params(role="host", create=True)
    obj = IMPL.role_before_install(patch_for(p))
    bare = {"ks_namespace": False}
    plan = role_plan.plan_create(p, bare, obj, IMPL)
    assert ids(plan) == ["role-namespace", "role-create"] and plan[1]["dry_run"] is False
    assert [s.public()["object"] for s in plan] == [
        "Namespace kubesphere-system", "ClusterConfiguration kubesphere-system/ks-installer"]
    plan = role_plan.plan_create(p, {"ks_namespace": True}, obj, IMPL)
    assert ids(plan) == ["role-create"] and plan[0]["dry_run"] is True


def test_plan_file_is_empty_when_the_file_holds_the_object_with_mode_0600():
    p = params(dest="/x/cc.yaml")
    obj = IMPL.role_before_install(patch_for(p, SECRET))
    text = IMPL.role_file_text([obj])
    assert ids(role_plan.plan_file(p, {"text": None, "mode": None}, text, IMPL)) == ["role-file"]
    assert ids(role_plan.plan_file(p, {"text": text, "mode": 0o644}, text, IMPL)) == ["role-file"]
    assert role_plan.plan_file(p, {"text": text, "mode": 0o600}, text, IMPL) == []
    assert role_plan.plan_file(p, {"text": None, "mode": None}, text, IMPL)[0].public()["side"] == "local"


# --- the operation -------------------------------------------------------------------------------------------

def connections(monkeypatch, target_objects, host_objects=None, made=None):
    conns = {}

    def connection(module, label, prefix="", params=None, timeout=None):
        if made is not None:
            made.append((label, prefix))
        conns[prefix] = ChangingConnection(label, host_objects if prefix else target_objects)
        return conns[prefix]

    monkeypatch.setattr(mr, "Connection", connection)
    return conns


def test_the_role_change_reads_its_cluster_and_host_only(monkeypatch):
    """run(): the target and the host are read; peers are facts, never connections; check mode writes nothing
    and returns the plan the real run executes."""
    made = []
    conns = connections(monkeypatch, cluster_objects("none", uid="U1"), cluster_objects("host", SECRET, uid="U0"), made)
    p = params(host_kubeconfig="/h", wait=False,
               peers=[{"name": "m2", "role": "member", "kube_system_uid": "U2", "clusters": []},
                      {"name": "host", "role": "host", "kube_system_uid": "U0", "clusters": []}])
    module = FakeModule(check_mode=True, diff=True, **p)
    result = mr.run(module)
    assert sorted(made) == [("host", "host_"), ("m1", "")]
    assert result["changed"] is True and result["jwt_secret_hash"].startswith("sha256:")
    assert [s["id"] for s in result["plan"]] == ["role-before", "role-patch"]
    assert result["result"]["spec"]["multicluster"]["clusterRole"] == "member"
    assert result["diff"]["after"]["spec"]["authentication"]["jwtSecret"] == "********"
    assert SECRET not in repr(result)
    assert [c for c in conns[""].calls if c[0] == "merge_patch"] == [("merge_patch", ("ClusterConfiguration", "ks-installer", True))]


def test_a_guard_refuses_before_any_write_and_force_warns(monkeypatch):
    conns = connections(monkeypatch, cluster_objects("none", annotations={"cluster.kubesphere.io/host-cluster": "x"}),
                        cluster_objects("host", SECRET))
    p = params(host_kubeconfig="/h", wait=False)
    with pytest.raises(Refused) as e:
        mr.run(FakeModule(**p))
    assert e.value.code == "managed_by_other_host" and codes(e.value.result["problems"]) == ["managed_by_other_host"]
    assert e.value.result["role"] == "member" and e.value.result["changed"] is False
    assert not [c for c in conns[""].calls if c[0] in ("merge_patch", "create", "apply", "delete")]
    module = FakeModule(**dict(p, force=True))
    result = mr.run(module)
    assert result["changed"] and codes(result["problems"]) == ["managed_by_other_host"]
    assert module.warnings and module.warnings[0].startswith("forced: ")


def test_a_fleet_that_mixes_kubesphere_versions_is_refused_even_with_force(monkeypatch):
    conns = connections(monkeypatch, cluster_objects("none", uid="U1"), cluster_objects("host", SECRET, uid="U0"))
    peers = [{"name": "host", "role": "host", "kube_system_uid": "U0", "kubesphere_line": "4.1", "clusters": []},
             {"name": "m1", "role": "none", "kube_system_uid": "U1", "kubesphere_line": None, "clusters": []}]
    for force in (False, True):
        with pytest.raises(Refused) as e:
            mr.run(FakeModule(**params(host_kubeconfig="/h", wait=False, peers=peers, force=force)))
        assert codes(e.value.problems) == ["mixed_versions"] and e.value.cluster == "m1"
        assert "KubeSphere 3.4 on m1; KubeSphere 4.1 on host" in e.value.problems[0]["message"]
    assert not [c for c in conns[""].calls if c[0] in ("merge_patch", "create", "apply", "delete")]


def test_a_member_without_a_secret_source_is_refused_with_every_problem(monkeypatch):
    connections(monkeypatch, cluster_objects("none"))
    with pytest.raises(Refused) as e:
        mr.run(FakeModule(**params(sync_components=True)))
    assert codes(e.value.problems) == ["no_jwt_secret", "no_host"] and e.value.cluster == "m1"


def test_not_installed_without_create_fails_and_create_plans_the_object(monkeypatch):
    bare = [o for o in cluster_objects("none") if o["kind"] == "Namespace" and o["metadata"]["name"] == "kube-system"]
    conns = connections(monkeypatch, bare)
    with pytest.raises(KubeSphereError) as e:
        mr.run(FakeModule(**params(role="host")))
    assert e.value.code == "not_installed" and "create: true" in e.value.msg
    result = mr.run(FakeModule(**params(role="host", create=True)))
    assert [s["id"] for s in result["plan"]] == ["role-namespace", "role-create"] and result["changed"]
    assert conns[""].objects_of("ClusterConfiguration")[0]["spec"]["multicluster"]["clusterRole"] == "host"
    assert result["installer"].startswith("no ClusterConfiguration before")


class FileModule(FakeModule):
    """A module that writes files as AnsibleModule does (atomic move, mode)."""

    def atomic_move(self, src, dest):
        os.rename(src, dest)

    def set_mode_if_different(self, path, mode, changed):
        if stat.S_IMODE(os.stat(path).st_mode) == int(mode, 8):
            return changed
        if not self.check_mode:
            os.chmod(path, int(mode, 8))
        return True


def test_dest_writes_the_file_0600_once_and_check_mode_predicts(tmp_path, monkeypatch):
    import os
    import stat
    connections(monkeypatch, [])
    path = str(tmp_path / "cc.yaml")

    p = params(role="member", jwt_secret=SECRET, dest=path)
    check = mr.run(FileModule(check_mode=True, diff=True, **p))
    assert check["changed"] and not os.path.exists(path) and check["diff"]["after"]["spec"]["authentication"]["jwtSecret"] == "********"
    assert [s["id"] for s in check["plan"]] == ["role-file"]
    done = mr.run(FileModule(**p))
    assert done["changed"] and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert yaml.safe_load(open(path))["spec"]["authentication"]["jwtSecret"] == SECRET
    again = mr.run(FileModule(**p))
    assert not again["changed"] and again["plan"] == []
    os.chmod(path, 0o644)
    assert mr.run(FileModule(**p))["changed"] and stat.S_IMODE(os.stat(path).st_mode) == 0o600


# --- the install file: an existing one patched, the host's jwtSecret -------------------------------------------

KUBEKEY_SAMPLE = """\
# KubeKey's config-sample.yaml: the user's cluster and their KubeSphere settings
apiVersion: kubekey.kubesphere.io/v1alpha2
kind: Cluster
metadata:
  name: sample
spec:
  hosts:
  - {name: node1, address: 172.16.0.2}
---
apiVersion: installer.kubesphere.io/v1alpha1
kind: ClusterConfiguration
metadata:
  name: ks-installer
  namespace: kubesphere-system
spec:
  devops:
    enabled: true
  multicluster:
    clusterRole: none
"""


def test_dest_patches_an_existing_file_keeping_the_users_settings_and_documents(tmp_path, monkeypatch):
    connections(monkeypatch, [])
    path = tmp_path / "config-sample.yaml"
    path.write_text(KUBEKEY_SAMPLE)
    p = params(role="host", jwt_secret=SECRET, dest=str(path), proxy_publish_address="http://10.0.0.5:30721",
               host_cluster_name="east")
    check = mr.run(FileModule(check_mode=True, diff=True, **p))
    assert check["changed"] and path.read_text() == KUBEKEY_SAMPLE
    assert check["diff"]["before"]["spec"]["multicluster"] == {"clusterRole": "none"}
    assert check["diff"]["after"]["spec"]["authentication"]["jwtSecret"] == "********" and SECRET not in repr(check)
    done = mr.run(FileModule(**p))
    assert done["changed"]
    kk, cc = list(yaml.safe_load_all(path.read_text()))
    assert kk["kind"] == "Cluster" and kk["spec"]["hosts"][0]["address"] == "172.16.0.2"
    assert cc["spec"]["devops"] == {"enabled": True} and "terminal" not in cc["spec"]
    assert cc["spec"]["multicluster"] == {"clusterRole": "host", "hostClusterName": "east",
                                          "proxyPublishAddress": "http://10.0.0.5:30721"}
    assert cc["spec"]["authentication"]["jwtSecret"] == SECRET
    assert not mr.run(FileModule(**p))["changed"]
    cleared = mr.run(FileModule(**dict(p, proxy_publish_address="")))
    assert cleared["changed"]
    assert "proxyPublishAddress" not in list(yaml.safe_load_all(path.read_text()))[1]["spec"]["multicluster"]


def test_dest_refuses_a_file_without_a_cluster_configuration_and_writes_nothing(tmp_path, monkeypatch):
    connections(monkeypatch, [])
    path = tmp_path / "notes.yaml"
    path.write_text("just: notes\n")
    with pytest.raises(Refused) as e:
        mr.run(FileModule(**params(role="member", jwt_secret=SECRET, dest=str(path))))
    assert e.value.code == "install_file_invalid" and str(path) in e.value.msg and "no ClusterConfiguration" in e.value.msg
    assert path.read_text() == "just: notes\n"


def test_a_host_jwt_secret_is_written_before_install_only(tmp_path, monkeypatch):
    connections(monkeypatch, [])
    path = tmp_path / "host.yaml"
    mr.run(FileModule(**params(role="host", jwt_secret=SECRET, dest=str(path))))
    assert yaml.safe_load(path.read_text())["spec"]["authentication"]["jwtSecret"] == SECRET
    assert IMPL.role_patch("host", None, {"proxyPublishAddress": ""})["spec"]["multicluster"] == {
        "clusterRole": "host", "proxyPublishAddress": None}
    assert IMPL.role_patch("host", None, {"proxyPublishAddress": None})["spec"]["multicluster"] == {"clusterRole": "host"}


@pytest.mark.parametrize("address", ["10.0.0.5:30721", "tower.example.com:8080", "ftp://a:1", "http://:80",
                                     "http://u:p@a:1", "http://a:99999", "http://a:", "http://a?x=1", "http://a b"])
def test_a_proxy_publish_address_the_agent_cannot_dial_is_refused_before_any_write(monkeypatch, address):
    conns = connections(monkeypatch, cluster_objects("host", SECRET, cc_status={"multicluster": {"status": "enabled"}}))
    with pytest.raises(Refused) as e:
        mr.run(FakeModule(**params(role="host", proxy_publish_address=address, wait=False)))
    assert codes(e.value.problems) == ["bad_proxy_publish_address"] and e.value.cluster == "m1"
    assert repr(address) in e.value.msg and "http://<address>:<port>" in e.value.msg
    assert not [c for c in conns[""].calls if c[0] in ("merge_patch", "create", "apply", "delete")]


@pytest.mark.parametrize("address", ["http://10.0.0.5:30721", "https://tower.example.com", "ws://10.0.0.5:8080",
                                     "wss://t.example.com:443/agent", "http://[fd00::5]:30721", ""])
def test_proxy_publish_addresses_the_agent_dials(address):
    assert role_checks.proxy_address_problems("host", "host", address) == []


def test_an_empty_proxy_publish_address_is_applied_once_the_rendered_config_has_none():
    cc = {"status": {"multicluster": {"status": "enabled"}}}
    rendered = {"multicluster": {"clusterRole": "host", "proxyPublishAddress": "http://old:1"}}
    left = IMPL.role_applied_problems("host", {"config": rendered, "cluster_configuration": cc}, None,
                                      {"proxyPublishAddress": "", "hostClusterName": None})
    assert left == ["kubesphere-config multicluster.proxyPublishAddress is 'http://old:1' (wanted none)"]
    rendered["multicluster"].pop("proxyPublishAddress")
    assert IMPL.role_applied_problems("host", {"config": rendered, "cluster_configuration": cc}, None,
                                      {"proxyPublishAddress": ""}) == []


def test_dest_in_a_folder_open_to_others_is_refused_and_nothing_is_written(tmp_path, monkeypatch):
    connections(monkeypatch, [])
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o755)
    path = folder / "cc.yaml"
    with pytest.raises(Refused) as e:
        mr.run(FileModule(**params(role="member", jwt_secret=SECRET, dest=str(path))))
    assert e.value.code == "folder_not_private" and "chmod 700 %s" % folder in e.value.msg
    assert os.listdir(folder) == [] and stat.S_IMODE(os.stat(folder).st_mode) == 0o755


def test_dest_in_a_folder_that_does_not_exist_creates_it_0700(tmp_path, monkeypatch):
    connections(monkeypatch, [])
    path = tmp_path / "new" / "cc.yaml"
    assert mr.run(FileModule(**params(role="member", jwt_secret=SECRET, dest=str(path))))["changed"]
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700 and stat.S_IMODE(os.stat(path).st_mode) == 0o600
