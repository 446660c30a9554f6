"""The extension module's operation (operations/extension.py, plan/extension.py, checks/extension.py and the 4.1
vocabulary versions/v4_1/extension.py) against the fake connection: the InstallPlan written, a converged rerun,
an upgrade as one merge patch, check mode, the verdicts of the wait, every refusal before any write, the
uninstall. KubeSphere's own behaviour (its controller installing through helm) is proven against the lab:
tests/integration/test_v41_extension.py."""

import pytest
import yaml
from fakes import FakeConnection, FakeModule
from helm_records import record

from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError, Refused
from ansible_collections.kubesphere.multicluster.plugins.module_utils.operations import extension
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v4_1 import extension as ext

WRITES = ("merge_patch", "create", "apply", "delete", "patch", "replace")
SECRET = "s3cret-value-of-the-extension"


def v41_host(role="host", versions=("1.0.0", "1.1.0"), objects=()):
    doc = {"authentication": {"issuer": {"jwtSecret": "j" * 32}}, "multicluster": {"clusterRole": role}}
    out = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "uid": "U0"}},
           {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubesphere-config", "namespace": "kubesphere-system"},
            "data": {"kubesphere.yaml": yaml.safe_dump(doc)}},
           record("v4.1.3", values={"multicluster": {"role": role}})]
    out += [{"apiVersion": ext.API_VERSION, "kind": ext.EXTENSION_VERSION, "metadata": {
        "name": "hello-%s" % v, "labels": {ext.EXTENSION_REF_LABEL: "hello"}}, "spec": {"version": v}} for v in versions]
    out += list(objects)
    served = {(o["apiVersion"], o["kind"]) for o in out}
    served |= {(ext.API_VERSION, ext.INSTALL_PLAN), (ext.API_VERSION, ext.EXTENSION_VERSION)}
    return FakeConnection(label="host", objects=out, served=served)


def params(**more):
    p = {"name": "hello", "version": "1.0.0", "config": "", "state": "present", "confirm": None, "wait": False,
         "wait_timeout": 60, "_wait_slice": None, "cluster_name": "host", "timeout": None}
    p.update(more)
    return p


def run(conn, check_mode=False, **more):
    return extension.run(FakeModule(check_mode=check_mode, diff=True, **params(**more)), lambda *_a, **_k: conn)


def writes(conn):
    return [c for c in conn.calls if c[0] in WRITES]


def plan_of(conn):
    return conn.get(ext.API_VERSION, ext.INSTALL_PLAN, "hello")


def settle(conn, state="Installed", message=None):
    """What KubeSphere's controller writes once it acted on the plan as it stands."""
    live = plan_of(conn)
    version, config = ext.wanted_spec(live)
    live["status"] = {"state": state, "version": version, "configHash": ext.config_hash(config),
                      "targetNamespace": "extension-hello", "releaseName": "hello", "jobName": "helm-install-hello-x2z4b",
                      "stateHistory": [{"state": "Installing", "lastTransitionTime": "t1"},
                                       {"state": state, "lastTransitionTime": "t2"}]}
    if message:
        live["status"]["conditions"] = [{"type": "Installed", "status": "False", "reason": state, "message": message}]
    conn._put(live)


def test_fnv_hash_is_kubesphere_s_fnv1a_64_and_the_trim_is_the_webhook_s():
    assert ext.config_hash("") == "cbf29ce484222325"
    assert ext.config_hash("a") == "af63dc4c8601ec8c"  # the FNV-1a 64 test vector
    assert ext.trim_config("a: 1  \nb: 2\t\n") == "a: 1\nb: 2\n"


def test_creates_the_install_plan_then_plans_nothing_once_installed():
    conn = v41_host()
    first = run(conn, config="greeting: hi   \n")
    assert [(s["id"], s["verb"]) for s in first["plan"]] == [("installplan", "create")]
    live = plan_of(conn)
    assert live["spec"] == {"extension": {"name": "hello", "version": "1.0.0"}, "enabled": True, "config": "greeting: hi\n"}
    assert first["changed"] is True and first["diff"]["before"] == {}
    assert first["diff"]["after"]["spec"]["config"].startswith("sha256:")
    settle(conn)
    count = len(writes(conn))
    again = run(conn, config="greeting: hi   \n", wait=True)
    assert again["plan"] == [] and again["changed"] is False and len(writes(conn)) == count
    assert again["extension"]["state"] == "Installed" and again["extension"]["installed_version"] == "1.0.0"


def test_an_upgrade_is_one_merge_patch_of_version_and_config():
    conn = v41_host()
    run(conn)
    settle(conn)
    result = run(conn, version="1.1.0", config="a: 1")
    assert [(s["id"], s["verb"]) for s in result["plan"]] == [("installplan", "patch")]
    assert "version and config" in result["plan"][0]["why"]
    assert writes(conn)[-1] == ("merge_patch", (ext.INSTALL_PLAN, "hello", False))
    assert ext.wanted_spec(plan_of(conn)) == ("1.1.0", "a: 1")


def test_check_mode_writes_only_as_dry_run_and_shows_the_plan():
    conn = v41_host()
    result = run(conn, check_mode=True)
    assert [(s["id"], s["verb"]) for s in result["plan"]] == [("installplan", "create")]
    assert writes(conn) == [("create", (ext.INSTALL_PLAN, "hello", True))]  # a server-side dry run only


@pytest.mark.parametrize("status, done, failed", [
    ({"state": "Installed", "version": "1.0.0"}, True, False),
    ({"state": "Installed", "version": "0.9.0"}, False, False),        # left from before the change
    ({"state": "InstallFailed", "version": "1.0.0"}, False, True),
    ({"state": "UpgradeFailed", "version": "0.9.0", "configHash": "abc"}, False, False),  # an older failure
    ({"state": "InstallFailed"}, False, True),                           # failed before its Job: no hash
    ({"state": "Installing", "version": "1.0.0"}, False, False),
    ({}, False, False),
])
def test_the_verdict_is_about_what_the_plan_asks_now(status, done, failed):
    live = {"spec": {"extension": {"name": "hello", "version": "1.0.0"}, "config": "a: 1"}, "status": dict(status)}
    if status.get("version") and "configHash" not in status and status.get("state"):
        live["status"]["configHash"] = ext.config_hash("a: 1")
    judged = ext.verdict(live)
    assert (judged["done"], judged["failed"]) == (done, failed), judged


def test_the_wait_fails_at_once_with_helm_s_reason():
    conn = v41_host()
    run(conn)
    settle(conn, "InstallFailed", 'Release "hello" failed: template: hello/templates/cm.yaml:4: greeting is required')
    with pytest.raises(KubeSphereError) as e:
        run(conn, version="1.1.0", wait=True, wait_timeout=0)
    # the upgrade to 1.1.0 is written; the old failure (of 1.0.0) is no verdict on it: the wait times out
    assert e.value.code == "timeout"
    settle(conn, "UpgradeFailed", 'Upgrade "hello" failed: greeting is required')
    with pytest.raises(Refused) as refused:
        run(conn, version="1.1.0", wait=True, wait_timeout=0)
    assert refused.value.code == "extension_failed" and "greeting is required" in refused.value.msg
    assert "comment line" in refused.value.msg


@pytest.mark.parametrize("conn_args, kw, code, words", [
    ({}, {"version": "2.0.0"}, "extension_version_not_found", ["hello-2.0.0", "1.0.0, 1.1.0"]),
    ({}, {"config": "- a\n- b"}, "config_invalid", ["mapping"]),
    ({}, {"config": "a: [1"}, "config_invalid", ["not YAML"]),
    ({"role": "member"}, {}, "not_a_host", ["member"]),
    ({}, {"name": "Bad_Name"}, "invalid_name", ["Bad_Name"]),
])
def test_refusals_before_any_write(conn_args, kw, code, words):
    conn = v41_host(**conn_args)
    with pytest.raises(Refused) as e:
        run(conn, **kw)
    assert code in [p["code"] for p in e.value.problems], e.value.problems
    assert all(w in e.value.msg for w in words), e.value.msg
    assert writes(conn) == []


def test_kubesphere_34_is_refused():
    doc = {"authentication": {"jwtSecret": "j" * 32}, "multicluster": {"clusterRole": "host"}}
    conn = FakeConnection(label="host", objects=[
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubesphere-config", "namespace": "kubesphere-system"},
         "data": {"kubesphere.yaml": yaml.safe_dump(doc)}},
        {"apiVersion": "installer.kubesphere.io/v1alpha1", "kind": "ClusterConfiguration",
         "metadata": {"name": "ks-installer", "namespace": "kubesphere-system"},
         "spec": {"multicluster": {"clusterRole": "host"}}, "status": {"core": {"version": "v3.4.1"}}}])
    with pytest.raises(Refused) as e:
        run(conn)
    assert e.value.code == "not_supported_on_version" and "3.4" in e.value.msg
    assert writes(conn) == []


def test_the_config_is_never_in_the_result_and_is_hidden():
    conn = v41_host()
    module = FakeModule(check_mode=False, diff=True, **params(config="password: %s\n" % SECRET))
    result = extension.run(module, lambda *_a, **_k: conn)
    assert SECRET not in repr(result)
    assert any(SECRET in v for v in module.hidden)


def test_uninstall_needs_the_name_typed_again_then_deletes_the_plan():
    conn = v41_host()
    run(conn)
    settle(conn)
    with pytest.raises(Refused) as e:
        run(conn, state="absent", confirm="hell")
    assert e.value.code == "confirmation_mismatch" and writes(conn)[-1][0] == "create"  # nothing after the install
    result = run(conn, state="absent", confirm="hello")
    assert [(s["id"], s["verb"]) for s in result["plan"]] == [("delete-installplan", "delete")]
    assert plan_of(conn) is None and result["extension"] == {}
    assert run(conn, state="absent", confirm="hello")["plan"] == []


def test_a_failure_recorded_after_the_write_is_this_attempt_s_while_the_release_keeps_its_version():
    """As KubeSphere v4.1.3 did in the lab: an upgrade to 2.0.0 whose Job fails keeps status.version at the deployed
    1.1.0 and retries by itself (UpgradeFailed, Preparing, Upgrading, ...): a failure after the write is the
    verdict, one from before is not."""
    before = [["t1", "Installing"], ["t2", "Installed"]]
    live = {"spec": {"extension": {"name": "hello", "version": "2.0.0"}, "config": "a: 1"},
            "status": {"state": "UpgradeFailed", "version": "1.1.0", "configHash": ext.config_hash("a: 1"),
                       "stateHistory": [{"lastTransitionTime": t, "state": s} for t, s in before],
                       "conditions": [{"type": "Upgraded", "status": "False",
                                       "message": "Job has reached the specified backoff limit"}]}}
    assert ext.verdict(live, since=before)["failed"] is False  # nothing new since the write
    assert ext.verdict(live)["failed"] is False  # without a baseline: an older failure of another version
    live["status"]["stateHistory"] += [{"lastTransitionTime": "t3", "state": "Upgrading"},
                                       {"lastTransitionTime": "t4", "state": "UpgradeFailed"}]
    judged = ext.verdict(live, since=before)
    assert judged["failed"] is True and judged["retrying"] is True
    assert "backoff limit" in judged["words"]
    live["status"]["version"] = "2.0.0"  # a failure of exactly what is asked: KubeSphere waits for a change
    assert ext.verdict(live, since=before)["retrying"] is False


def test_the_wait_carries_the_transitions_of_the_written_plan():
    conn = v41_host()
    run(conn)
    settle(conn)
    plan = extension.extension_plan.plan(ext, {"plan": plan_of(conn)}, params(version="1.1.0", wait=True), "host", "")
    assert [s.id for s in plan] == ["installplan", "installplan-history", "wait-extension-installed"]
    history = plan[1]
    assert history.get("carry") is True and history.kind == "verify"


def test_the_kubefed_feature_gates_wedge_is_named_with_its_fix():
    """kubefed's webhook refusing the chart's KubeFedConfig without feature gates (after a first install whose hook
    did not run): no change of version or config removes the cause, so the verdict and the summary give the fix."""
    message = ('Release "kubefed" failed: cannot patch "kubefed" with kind KubeFedConfig: admission webhook '
               '"kubefedconfigs.core.kubefed.io" denied the request: spec.featureGates: Required value')
    plan = {"metadata": {"name": "kubefed"}, "spec": {"extension": {"name": "kubefed", "version": "1.0.0"}, "config": ""},
            "status": {"state": "UpgradeFailed", "version": "1.0.0", "configHash": ext.config_hash(""),
                       "conditions": [{"type": "Upgraded", "status": "False", "message": message}]}}
    judged = ext.verdict(plan)
    assert judged["failed"] and "a known wedge" in judged["words"] and "patch kubefedconfig kubefed" in judged["words"]
    assert '"name": "PushReconciler", "configuration": "Enabled"' in ext.summary(plan)["fix"]
    # another extension with the same words, or another failure of kubefed: no wedge
    assert ext.wedge(dict(plan, metadata={"name": "other"})) is None
    other = dict(plan, status=dict(plan["status"], conditions=[{"type": "Upgraded", "status": "False", "message": "x"}]))
    assert ext.wedge(other) is None and ext.summary(other)["fix"] is None and "wedge" not in ext.verdict(other)["words"]
