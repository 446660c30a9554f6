"""The import's plan (plan/join.py, pure) and its run by the executor (operations/join.py) against fake clusters:
what is written, what is waited for, a converged member's empty plan, and a dedicated-credential import that
spans two slices still returning `credential` (the defect: it was set only by the slice that made it)."""

import base64
import copy

import pytest
import yaml
from fakes import FakeConnection, FakeModule

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, Refused
from ansible_collections.kubesphere.multicluster.plugins.module_utils.execute import slicing
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import cluster as co
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import credential as cred
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import join as join_op
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import join as join_plan
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import steps
from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import join as read_join
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects.kubeconfig import flatten as flatten_kubeconfig
from ansible_collections.kubesphere.multicluster.plugins.plugin_utils.sliced import merge

JWT = "host-jwt-secret-32-characters-xx"
USER_KUBECONFIG = yaml.safe_dump({
    "apiVersion": "v1", "kind": "Config", "current-context": "c",
    "contexts": [{"name": "c", "context": {"cluster": "m", "user": "u"}}],
    "clusters": [{"name": "m", "cluster": {"server": "https://10.0.0.5:6443", "certificate-authority-data": "Q0E="}}],
    "users": [{"name": "u", "user": {"token": "the-admin-token-of-the-user"}}]})
STORED = flatten_kubeconfig(USER_KUBECONFIG)  # what the host stores of it
PARAMS = dict(name="member1", connection_type="direct", host_label="host", stored_kubeconfig=None, group="lab",
              provider=None, description=None, alias=None, labels=None, creator="admin", allow_loopback=True,
              allow_insecure=False, cert_expiry_margin_days=30, max_clock_skew=None, dedicated_credential=False,
              credential_name="kubesphere-multicluster", proxy_address=None, allow_node_port=True, agent_image=None,
              verify_strict=False, peers=[], wait=True, wait_timeout=600, wait_sleep=5, timeout=30,
              kubeconfig=USER_KUBECONFIG, context=None)
HOST_CONFIG = {"multicluster": {"clusterRole": "host", "proxyPublishAddress": "http://203.0.113.7:30721"},
               "authentication": {"jwtSecret": JWT}}


def params(**over):
    return dict(PARAMS, **over)


def ready_conditions(*kinds):
    return [{"type": k, "status": "True"} for k in kinds]


def live_cluster(name="member1", ctype="direct", kubeconfig=STORED, ready=True, **status):
    c = co.build(name, ctype, kubeconfig=kubeconfig if ctype == "direct" else None, group="lab", creator="admin")
    c["status"] = dict({"uid": "uid-" + name, "kubeSphereVersion": "v3.4.1"}, **status)
    if ready:
        c["status"]["conditions"] = ready_conditions("Ready", *(("Initialized", "AgentAvailable") if ctype == "proxy" else ()))
    return c


def kubefed(name="member1", ready=True):
    return {"apiVersion": co.KUBEFED_API_VERSION, "kind": co.KUBEFED_KIND,
            "metadata": {"name": name, "namespace": co.KUBEFED_NAMESPACE},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def facts(live=None, kf=None, **over):
    out = {"host": {"name": "host", "config": HOST_CONFIG, "clusters": [],
                    "proxy": {"address": "http://203.0.113.7:30721", "source": "proxyPublishAddress"}},
           "live": live, "kubefed": kf, "kubeconfig": STORED, "host_label": "host"}
    out.update(over)
    return out


def ids(plan):
    return [s.id for s in plan]


# --- the plan (pure) -----------------------------------------------------------------------------------


def test_a_direct_import_creates_then_waits_for_real_health_and_verifies():
    plan = join_plan.plan(facts(), params())
    assert ids(plan) == ["cluster", "healthy", "verify-usable"]
    assert plan[0].kind == "create" and plan[0]["body"] == join_plan.desired_cluster("member1", "direct", STORED, PARAMS)
    assert plan[0]["changes"] == ["(create)"]
    assert plan[1]["what"] == "healthy (Ready True and its KubeFedCluster Ready True)"
    assert ids(join_plan.plan(facts(), params(wait=False))) == ["cluster"]


def test_a_converged_member_plans_no_write_and_no_wait():
    plan = join_plan.plan(facts(live_cluster(), kubefed()), params())
    assert ids(plan) == ["verify-usable"] and steps.writes(plan) == []
    assert join_plan.plan(facts(live_cluster(), kubefed()), params(wait=False)) == []


def test_an_imported_but_unhealthy_member_is_only_waited_for():
    assert ids(join_plan.plan(facts(live_cluster(), kubefed(ready=False)), params())) == ["healthy", "verify-usable"]


def test_a_new_kubeconfig_is_checked_before_it_replaces_the_stored_one():
    other = STORED.replace("the-admin-token-of-the-user", "another-token")
    plan = join_plan.plan(facts(live_cluster(), kubefed(), kubeconfig=other), params())
    assert ids(plan) == ["rotation-check", "cluster", "healthy", "verify-usable"]
    assert plan[1].kind == "patch" and plan[1]["changes"] == ["spec.connection.kubeconfig"]


def test_a_proxy_import_waits_for_tower_before_the_agent():
    plan = join_plan.plan(facts(kubeconfig=None), params(connection_type="proxy", name="member2"))
    assert [(s.id, s.kind, s["side"]) for s in plan] == [
        ("cluster", "create", "host"), ("initialized", "wait", "host"), ("agent", "act", "member"),
        ("agent-available", "wait", "host"), ("healthy", "wait", "host"), ("verify-usable", "verify", "member")]
    agent = [s.public() for s in plan if s.id == "agent"][0]
    assert agent["verb"] == "apply" and agent["object"] == "Deployment kubesphere-system/cluster-agent"


def test_an_initialised_proxy_member_gets_its_agent_applied_and_a_converged_one_nothing():
    live = live_cluster("member2", "proxy", spec_token=None)
    live["spec"]["connection"]["token"] = "tower-token"
    p = params(connection_type="proxy", name="member2")
    plan = join_plan.plan(facts(live, kubefed("member2"), kubeconfig=None), p)
    assert ids(plan) == ["agent", "agent-available", "healthy", "verify-usable"] and plan[0].kind == "apply"
    assert "--token=tower-token" in plan[0]["body"]["spec"]["template"]["spec"]["containers"][0]["command"]
    converged = join_plan.plan(facts(live, kubefed("member2"), kubeconfig=None, agent=plan[0]["body"]), p)
    assert ids(converged) == ["verify-usable"]


def test_a_connection_type_change_or_invalid_input_is_no_plan():
    with pytest.raises(KubeSphereError) as e:
        join_plan.plan(facts(live_cluster("member2", "proxy"), kubeconfig=STORED), params(name="member2"))
    assert e.value.code == "connection_type_change"
    with pytest.raises(KubeSphereError) as e:
        join_plan.plan(facts(), params(labels={co.HOST_LABEL: "x"}))
    assert e.value.code == "invalid_input"


def test_a_dedicated_credential_is_made_then_its_token_awaited_and_the_cluster_body_deferred():
    found = {"objects": {"ServiceAccount": None, "Secret": None, "ClusterRoleBinding": None}, "token": None}
    plan = join_plan.plan(facts(live_cluster(), kubefed(), credential=found), params(dedicated_credential=True))
    assert ids(plan) == ["credential-serviceaccount", "credential-secret", "credential-binding", "credential-token",
                         "rotation-check", "cluster", "healthy", "verify-usable"]
    public = {s["id"]: s for s in steps.public(plan)}
    assert public["cluster"]["deferred"] and public["cluster"]["verb"] == "patch"
    assert public["credential-secret"]["verb"] == "create" and public["credential-secret"]["side"] == "member"
    # check mode skips the token wait: the Cluster is then shown with the kubeconfig given
    assert plan[5]["patch"]({}) == {}
    made = cred.kubeconfig_from("member1", STORED, "sa-token")
    assert plan[5]["patch"]({"credential-token": made}) == {"spec": {"connection": {"kubeconfig": co.encode_kubeconfig(made)}}}


# --- the run against fake clusters ------------------------------------------------------------------------


class Member(FakeConnection):
    """A member whose token controller fills a legacy token Secret when it is created."""

    def create(self, obj, dry_run=False):
        obj = copy.deepcopy(obj)
        if obj["kind"] == "Secret" and obj.get("type") == cred.TOKEN_TYPE:
            obj["data"] = {"token": base64.b64encode(b"sa-token-xyz").decode()}
        return super(Member, self).create(obj, dry_run=dry_run)


def world(monkeypatch, live=None, kf=None, member_objects=(), member_line="3.4", host_objects=()):
    host = FakeConnection(label="host", objects=[o for o in (live, kf) if o] + list(host_objects),
                          served={(co.API_VERSION, co.KIND), (co.KUBEFED_API_VERSION, co.KUBEFED_KIND),
                                  ("types.kubefed.io/v1beta1", "FederatedWorkspace")})
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "uid": "uid-member1"}}
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubesphere-config", "namespace": "kubesphere-system"},
              "data": {"kubesphere.yaml": yaml.safe_dump({"multicluster": {"clusterRole": "member", "clusterName": "member1"},
                                                          "authentication": {"jwtSecret": JWT}})}}
    served = FakeConnection.CORE | {("v1", "ServiceAccount"), ("apps/v1", "Deployment"),
                                    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
                                    ("tenant.kubesphere.io/v1alpha1", "Workspace")}
    member = Member(label="member1", objects=[ns, config] + list(member_objects), served=served)
    monkeypatch.setattr(read_join, "read_host", lambda *a, **k: (
        {"name": "host", "config": HOST_CONFIG, "clusters": [o for o in (live,) if o], "kube_system_uid": "uid-host",
         "clock": 0.0, "other_hosts": {}}, {"config": HOST_CONFIG, "config_present": True}))
    monkeypatch.setattr(read_join, "read_member", lambda conn, probe_kubesphere=True: {
        "reachable": True, "error": None, "config": {"multicluster": {"clusterRole": "member"},
                                                     "authentication": {"jwtSecret": JWT}},
        "kube_system_uid": "uid-member1", "ks_namespace_annotations": {}, "clock": 0.0,
        "kubesphere_api": {"reachable": True, "error": None, "version": "v3.4.1"},
        "service_accounts": {"kubesphere-system": ["kubesphere"], "kube-federation-system": []},
        "kubesphere_line": member_line})

    def connect(module, label, prefix="", params=None, timeout=None):
        return host if prefix == "host_" else member
    return host, member, connect


def test_a_new_direct_import_writes_the_cluster_and_returns_its_plan(monkeypatch):
    host, _member, connect = world(monkeypatch)
    module = FakeModule(diff=True, **params(wait=False))
    result = join_op.run(module, connect)
    assert result["changed"] and result["changes"] == ["(create)"]
    assert [s["id"] for s in result["plan"]] == ["cluster"] and result["plan"][0]["verb"] == "create"
    assert [c[0] for c in host.writes()] == ["create"]
    assert result["diff"]["after"]["spec"]["connection"]["kubeconfig"].startswith("********")
    assert result["cluster"]["spec"]["connection"]["kubeconfig"].startswith("********")
    assert STORED in module.hidden and co.encode_kubeconfig(STORED) in module.hidden
    assert JWT in module.hidden


def test_a_refusal_writes_nothing_and_names_the_cluster(monkeypatch):
    host, member, connect = world(monkeypatch, live=live_cluster("member1", "proxy"))
    with pytest.raises(Refused) as e:
        join_op.run(FakeModule(**params()), connect)
    assert e.value.cluster == "member1" and "connection_type_change" in [p["code"] for p in e.value.problems]
    assert host.writes() == [] and member.writes() == []


def test_a_member_on_another_kubesphere_line_is_refused_before_any_write(monkeypatch):
    host, member, connect = world(monkeypatch, member_line="4.1")
    with pytest.raises(Refused) as e:
        join_op.run(FakeModule(**params()), connect)
    assert e.value.cluster == "member1" and [p["code"] for p in e.value.problems] == ["mixed_versions"]
    assert "KubeSphere 3.4 on host; KubeSphere 4.1 on member1" in e.value.problems[0]["message"]
    assert host.writes() == [] and member.writes() == []


def _workspace(name, labels):
    return {"apiVersion": "tenant.kubesphere.io/v1alpha1", "kind": "Workspace", "metadata": {"name": name, "labels": labels}}


def _federated_workspace(name, clusters):
    return {"apiVersion": "types.kubefed.io/v1beta1", "kind": "FederatedWorkspace", "metadata": {"name": name},
            "spec": {"placement": {"clusters": [{"name": c} for c in clusters]}}}


def test_a_workspace_conflict_is_refused_before_any_write(monkeypatch):
    """KubeSphere's checkWorkspaces: a kubefed.io/managed Workspace on the member whose FederatedWorkspace on the
    host does not place it; the refusal carries the member's user objects too."""
    shop = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    host, member, connect = world(monkeypatch, member_objects=[_workspace("wsx", {"kubefed.io/managed": "true"}), shop],
                                  host_objects=[_federated_workspace("wsx", ["host"])])
    module = FakeModule(**params())
    with pytest.raises(Refused) as e:
        join_op.run(module, connect)
    assert [p["code"] for p in e.value.problems] == ["workspace_conflict"] and e.value.cluster == "member1"
    assert "Workspace wsx" in e.value.msg and "kubectl label workspace wsx kubefed.io/managed-" in e.value.msg
    assert e.value.result["member_objects"] == {"namespaces": ["shop"], "workspaces": ["wsx"]}
    assert [f["code"] for f in e.value.result["findings"]] == ["member_not_clean"]
    assert host.writes() == [] and member.writes() == []


def test_a_member_with_user_objects_is_imported_with_a_warning(monkeypatch):
    shop = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    host, _member, connect = world(monkeypatch, member_objects=[_workspace("team", {}), shop],
                                   host_objects=[_federated_workspace("team", ["host"])])  # unlabelled: no conflict
    module = FakeModule(**params(wait=False))
    result = join_op.run(module, connect)
    assert result["changed"] and [c[0] for c in host.writes()] == ["create"]
    assert result["member_objects"] == {"namespaces": ["shop"], "workspaces": ["team"]}
    assert [f["code"] for f in result["findings"]] == ["member_not_clean"]
    assert any("namespaces shop and workspaces team" in w for w in module.warnings)


def test_a_rerun_on_a_healthy_member_writes_nothing_and_verifies(monkeypatch):
    host, member, connect = world(monkeypatch, live=live_cluster(), kf=kubefed())
    module = FakeModule(**params())
    result = join_op.run(module, connect)
    assert result["changed"] is False and result["changes"] == [] and result["verification"] == []
    assert result["health"]["verdict"] == "ready" and host.writes() == [] and member.writes() == []


def run_slices(module_params, connect, between=lambda: None, seconds=0.01):
    """The module run as the action plugin runs it: slices until no `pending`; (results, the merged result)."""
    results, resume = [], {}
    for _slice in range(5):
        module = FakeModule(**dict(module_params, **{slicing.OPTION: {"seconds": seconds, "resume": resume}}))
        try:
            results.append(join_op.run(module, connect))
        except slicing.WaitPending as e:
            results.append(slicing.pending_result(e.result, e))
            resume = e.pending["resume"]
            between()
            continue
        break
    return results, merge(results, ("diff", "diff_agent", "changes", "credential_changes"))


def test_a_dedicated_credential_import_over_two_slices_returns_the_credential_from_both(monkeypatch):
    """Slice 1 makes the credential, replaces the stored kubeconfig and stops in the health wait; slice 2 finds
    nothing to write and ends the wait. Both return `credential`; the merged result has it."""
    host, member, connect = world(monkeypatch, live=live_cluster(), kf=kubefed(ready=False))
    results, final = run_slices(params(dedicated_credential=True), connect,
                                between=lambda: host._put(kubefed(ready=True)))
    assert [bool(r.get("pending")) for r in results] == [True, False]
    first, second = results
    assert [s["id"] for s in first["plan"]] == ["credential-serviceaccount", "credential-secret", "credential-binding",
                                                "credential-token", "rotation-check", "cluster", "healthy",
                                                "verify-usable"]
    assert first["pending"]["resume"]["key"] == "healthy"
    assert [s["id"] for s in second["plan"]] == ["verify-usable"]  # healthy when it re-read: nothing to wait for
    for r in (first, second, final):
        assert r["credential"]["cluster_role"] == "cluster-admin", r
    assert final["changed"] is True and final["health"]["verdict"] == "ready"
    assert final["credential_changes"] == ["ServiceAccount kubesphere-multicluster", "Secret kubesphere-multicluster-token",
                                           "ClusterRoleBinding kubesphere-multicluster:cluster-admin"]
    stored = yaml.safe_load(base64.b64decode(host.get(co.API_VERSION, co.KIND, "member1")["spec"]["connection"]["kubeconfig"]))
    assert stored["users"][0]["user"] == {"token": "sa-token-xyz"}


def test_the_token_is_awaited_when_the_secret_is_still_empty_and_hidden(monkeypatch):
    secret = {"apiVersion": "v1", "kind": "Secret", "type": cred.TOKEN_TYPE,
              "metadata": {"name": "kubesphere-multicluster-token", "namespace": "kube-system"}}
    host, member, connect = world(monkeypatch, member_objects=[secret])
    polls = []
    original = member.get

    def get(api_version, kind, name, namespace=None, if_served=False):
        found = original(api_version, kind, name, namespace, if_served)
        if kind == "Secret":
            polls.append(name)
            if len(polls) >= 3:  # the member's token controller filled it meanwhile
                found = dict(found, data={"token": base64.b64encode(b"late-token").decode()})
        return found
    member.get = get
    module = FakeModule(**params(dedicated_credential=True, wait=False))
    monkeypatch.setattr("time.sleep", lambda s: None)
    result = join_op.run(module, connect)
    assert "credential-token" in [s["id"] for s in result["plan"]] and result["credential"]["namespace"] == "kube-system"
    assert "late-token" in module.hidden
    text = [h for h in module.hidden if isinstance(h, str) and "late-token" in h and "apiVersion" in h]
    assert text and co.encode_kubeconfig(text[0]) in module.hidden
    stored = yaml.safe_load(base64.b64decode(host.get(co.API_VERSION, co.KIND, "member1")["spec"]["connection"]["kubeconfig"]))
    assert stored["users"][0]["user"] == {"token": "late-token"}


def test_check_mode_of_a_dedicated_credential_import_writes_nothing_and_says_why(monkeypatch):
    host, member, connect = world(monkeypatch)
    result = join_op.run(FakeModule(check_mode=True, **params(dedicated_credential=True)), connect)
    assert result["changed"] and result["credential"]["cluster_role"] == "cluster-admin"
    assert all(c[1][-1] is True for c in host.writes() + member.writes())  # dry runs only
    assert "check mode shows the Cluster with the kubeconfig given" in result["notes"][0]
    assert result["health"] is None and "verification" not in result
