"""The host's proxy address changed (plan/role.py `serving_steps`, versions/v3_4/apiserver.py): after the installer
applied it, ks-apiserver is restarted as the how-to does (its Deployment's pod template annotated) and the run
waits until the rollout is complete; nothing for an unchanged address, another role, no wait; a later slice does not
restart again; a rollout that does not complete fails naming the host and the address the old pods still serve."""

import copy

import yaml
from fakes import FakeConnection, FakeModule

from ansible_collections.kubesphere.multicluster.plugins.module_utils import versions
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute.executor import Context, Executor
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import role as mr
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import role as role_plan
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import apiserver

IMPL = versions.implementation("3.4")
OLD, NEW = "http://10.255.0.1:8080", "http://127.0.0.1:22509"
NOW = "2026-12-06T12:00:00Z"


def params(**kw):
    base = {"cluster_name": "host", "role": "host", "wait": True, "wait_timeout": 5, "wait_sleep": 1}
    base.update(kw)
    return base


def target(address=OLD):
    mc = {"clusterRole": "host"}
    if address:
        mc["proxyPublishAddress"] = address
    return {"config": {"multicluster": mc}}


def deployment(generation=1, observed=1, updated=1, available=1, replicas=1):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "ks-apiserver", "namespace": "kubesphere-system", "generation": generation},
            "spec": {"replicas": 1, "template": {"metadata": {}}},
            "status": {"observedGeneration": observed, "updatedReplicas": updated, "availableReplicas": available,
                       "replicas": replicas}}


def test_the_address_ks_apiserver_serves_changes_only_when_the_option_names_another():
    assert apiserver.serves_changes(OLD, {"proxyPublishAddress": NEW}) is True
    assert apiserver.serves_changes(OLD, {"proxyPublishAddress": OLD}) is False
    assert apiserver.serves_changes(OLD, {"proxyPublishAddress": ""}) is True  # cleared: tower's Service again
    assert apiserver.serves_changes(None, {"proxyPublishAddress": ""}) is False
    assert apiserver.serves_changes(OLD, {"proxyPublishAddress": None}) is False  # not managed


def test_a_rollout_is_complete_when_the_current_generation_is_observed_and_no_old_pod_is_left():
    assert apiserver.rollout(deployment())[0] is True
    assert apiserver.rollout(deployment(generation=2, observed=1))[0] is False
    assert apiserver.rollout(deployment(generation=2, observed=2, updated=1, replicas=2))[0] is False  # an old pod
    assert apiserver.rollout(deployment(generation=2, observed=2, available=0))[0] is False
    done, state = apiserver.rollout(None)
    assert done is True and "no Deployment" in state


def test_the_host_plans_the_restart_and_its_wait_only_when_the_address_changes():
    plan = role_plan.serving_steps(params(), target(), IMPL, {"proxyPublishAddress": NEW}, now=NOW)
    assert [(s.id, s.kind) for s in plan] == [("ks-apiserver-restart", "act"), ("ks-apiserver-rollout", "wait")]
    assert plan[0].public()["verb"] == "patch" and plan[0]["carry"] is True
    assert plan[0].public()["object"] == "Deployment kubesphere-system/ks-apiserver"
    assert role_plan.serving_steps(params(), target(NEW), IMPL, {"proxyPublishAddress": NEW}) == []
    assert role_plan.serving_steps(params(role="member"), target(), IMPL, {"proxyPublishAddress": NEW}) == []
    assert role_plan.serving_steps(params(wait=False), target(), IMPL, {"proxyPublishAddress": NEW}) == []
    # a later slice: the address read before the first slice's write decides, and a restart done is not made again
    before = {"proxy_publish_address": OLD, "wrote": True}
    assert [s.kind for s in role_plan.serving_steps(params(), target(NEW), IMPL, {"proxyPublishAddress": NEW},
                                                    before=before)] == ["act", "wait"]
    done = {"restarted": True, "generation": 2}
    again = role_plan.serving_steps(params(), target(NEW), IMPL, {"proxyPublishAddress": NEW}, carried=done,
                                    before=before)
    assert [s.kind for s in again] == ["verify", "wait"] and again[0]["run"](None) == done


class RollingHost(FakeConnection):
    """A host whose deployment controller observes the new generation after `polls` reads of the Deployment."""

    def __init__(self, dep, polls):
        super(RollingHost, self).__init__(label="host", objects=[dep] if dep else [], served={("apps/v1", "Deployment")})
        self.polls = polls

    def get(self, api_version, kind, name, namespace=None, if_served=False):
        obj = super(RollingHost, self).get(api_version, kind, name, namespace, if_served=if_served)
        if obj and kind == "Deployment" and obj["metadata"].get("generation", 1) > 1:
            self.polls -= 1
            if self.polls < 0:
                key = ("apps/v1", "Deployment", "kubesphere-system", "ks-apiserver")
                self.store[key]["status"]["observedGeneration"] = obj["metadata"]["generation"]
        return obj

    def merge_patch(self, api_version, kind, name, patch, namespace=None, dry_run=False):
        after = super(RollingHost, self).merge_patch(api_version, kind, name, patch, namespace, dry_run=dry_run)
        if not dry_run:
            key = (api_version, kind, namespace, name)
            self.store[key]["metadata"]["generation"] = self.store[key]["metadata"].get("generation", 1) + 1
            after = copy.deepcopy(self.store[key])
        return after


def run(conn, check_mode=False, timeout=5):
    plan = role_plan.serving_steps(params(wait_timeout=timeout), target(), IMPL, {"proxyPublishAddress": NEW}, now=NOW)
    module = FakeModule(check_mode=check_mode, cluster_name="host")
    ctx = Context(module, {role_plan.SIDE: conn})
    clock = {"t": 0.0}
    ctx.slicer.clock = lambda: clock["t"]
    outcome = Executor(ctx, sleep=lambda s: clock.__setitem__("t", clock["t"] + s)).run(plan)
    return outcome, ctx, module


def test_the_restart_annotates_the_pod_template_and_the_wait_ends_when_the_rollout_is_complete():
    conn = RollingHost(deployment(), polls=2)
    outcome, ctx, _module = run(conn)
    assert outcome.ok and outcome.changed
    dep = conn.get("apps/v1", "Deployment", "ks-apiserver", "kubesphere-system")
    assert dep["spec"]["template"]["metadata"]["annotations"] == {"kubectl.kubernetes.io/restartedAt": NOW}
    assert ctx.values["ks-apiserver-restart"] == {"restarted": True, "from": OLD, "to": NEW, "at": NOW, "generation": 2}


def test_check_mode_writes_nothing_and_a_rollout_that_does_not_complete_fails_naming_the_host():
    conn = RollingHost(deployment(), polls=2)
    outcome, _ctx, _module = run(conn, check_mode=True)
    assert outcome.ok and conn.writes() == [] and outcome.predicted == ["ks-apiserver-restart", "ks-apiserver-rollout"]
    outcome, _ctx, _module = run(RollingHost(deployment(), polls=1000), timeout=3)
    step, error = outcome.failures[0]
    assert step.id == "ks-apiserver-rollout" and error.code == "ks_apiserver_not_restarted" and error.cluster == "host"
    assert "cluster 'host'" in error.msg and OLD in error.msg and NEW in error.msg


def test_without_a_deployment_the_run_warns_and_goes_on():
    outcome, ctx, module = run(RollingHost(None, polls=0))
    assert outcome.ok and ctx.values["ks-apiserver-restart"]["restarted"] is False
    assert any("no Deployment kubesphere-system/ks-apiserver" in w for w in module.warnings)


def test_a_cleared_address_restarts_too():
    plan = role_plan.serving_steps(params(), target(), IMPL, {"proxyPublishAddress": ""}, now=NOW)
    assert [s.id for s in plan] == ["ks-apiserver-restart", "ks-apiserver-rollout"]


def test_the_role_operation_plans_the_restart_after_the_role_wait_in_check_mode_writing_nothing(monkeypatch):
    """operations/role.py: a host whose rendered address differs from the option plans role-patch, role-applied,
    then the restart and its wait; check mode runs none of them (dry-run patch only)."""
    cc_api = "installer.kubesphere.io/v1alpha1"
    objs = [{"apiVersion": cc_api, "kind": "ClusterConfiguration",
             "metadata": {"name": "ks-installer", "namespace": "kubesphere-system"},
             "spec": {"multicluster": {"clusterRole": "host", "proxyPublishAddress": OLD}}, "status": {}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubesphere-config", "namespace": "kubesphere-system"},
             "data": {"kubesphere.yaml": yaml.safe_dump({"multicluster": {"clusterRole": "host", "proxyPublishAddress": OLD}})}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "uid": "U0"}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubesphere-system"}}]
    conn = FakeConnection(label="host", objects=objs, served={(cc_api, "ClusterConfiguration"), ("apps/v1", "Deployment")})
    monkeypatch.setattr(mr, "Connection", lambda module, label, prefix="", params=None, timeout=None: conn)
    p = {"cluster_name": "host", "role": "host", "jwt_secret": None, "host_cluster_name": None,
         "proxy_publish_address": NEW, "sync_components": False, "components_include": [], "components_exclude": [],
         "wait_timeout": 5, "wait_sleep": 1, "peers": [], "wait": True, "force": False, "create": False, "dest": None}
    result = mr.run(FakeModule(check_mode=True, **p))
    assert [s["id"] for s in result["plan"]] == ["role-before", "role-patch", "role-applied", "ks-apiserver-restart",
                                                 "ks-apiserver-rollout"]
    assert "ks_apiserver_restart" not in result
    assert conn.writes() == [("merge_patch", ("ClusterConfiguration", "ks-installer", True))]  # a dry run only
