"""The ks-installer stand-in (tests/lab/standins/installer.py) against the lab's real API servers.

Also holds the small helpers the other stand-in tests import (wait_for, make_host, make_member)."""

import base64
import time

import yaml

from kslabkit.furnish import cluster_configuration
from kslabkit.rest import ApiError
from standins.conditions import events_for
from standins.installer import CC_PATH, CONFIG_PATH, SECRET_PATH, read_ks_config

FAST = {"KSLAB_INSTALLER_DELAY": "0.5"}
KS = "/apis/apps/v1/namespaces/kubesphere-system/deployments/"


def wait_for(check, timeout=30, what="condition"):
    """Poll check() until it returns something truthy; fail with the last value or error after timeout."""
    deadline, last = time.time() + timeout, None
    while time.time() < deadline:
        try:
            last = check()
            if last:
                return last
        except (ApiError, OSError, KeyError, TypeError, StopIteration) as e:
            last = e
        time.sleep(0.3)
    raise AssertionError("timed out after %ss waiting for %s; last: %r" % (timeout, what, last))


def wait_installed(*rests):
    """Wait for the first installer run of a fresh lab (role none everywhere)."""
    for rest in rests:
        wait_for(lambda rest=rest: read_ks_config(rest).get("multicluster"), what="first installer run")


def cc(rest):
    return rest.get(CC_PATH)


def patch_spec(rest, spec):
    return rest.merge_patch(CC_PATH, {"spec": spec})


def make_host(rest, **multicluster):
    patch_spec(rest, {"multicluster": dict(multicluster, clusterRole="host")})
    wait_for(lambda: (cc(rest).get("status") or {}).get("multicluster", {}).get("status") == "enabled",
             what="status.multicluster.status enabled")
    return wait_for(lambda: read_ks_config(rest)["multicluster"]["clusterRole"] == "host" and read_ks_config(rest),
                    what="host kubesphere-config")


def make_member(rest, jwt):
    patch_spec(rest, {"multicluster": {"clusterRole": "member"}, "authentication": {"jwtSecret": jwt}})
    return wait_for(lambda: (read_ks_config(rest)["multicluster"]["clusterRole"] == "member"
                             and read_ks_config(rest)["authentication"]["jwtSecret"] == jwt and read_ks_config(rest)),
                    what="member kubesphere-config")


def secret_value(rest):
    return base64.b64decode(rest.get(SECRET_PATH)["data"]["secret"]).decode()


def annotations(rest):
    return cc(rest)["metadata"].get("annotations") or {}


# ---------------------------------------------------------------------------------------------------


def test_installed_clusters_are_rendered_with_role_none(lab):
    for name in lab.names:
        rest = lab.client(name)
        cfg = wait_for(lambda rest=rest: read_ks_config(rest), what="kubesphere-config of %s" % name)
        assert cfg["multicluster"] == {"clusterRole": "none"}
        auth = cfg["authentication"]
        assert auth["jwtSecret"] == secret_value(rest) and len(auth["jwtSecret"]) == 32
        assert auth["maximumClockSkew"] == "10s" and auth["multipleLogin"] is True
        assert "accessTokenMaxAge" not in auth["oauthOptions"]
        status = cc(rest)["status"]
        assert status["core"]["status"] == "enabled" and status["core"]["version"] == "v3.4.1"
        assert "multicluster" not in status
        for app in ("ks-apiserver", "ks-controller-manager", "ks-console"):
            dep = rest.get(KS + app)
            assert dep["status"]["availableReplicas"] == 1
            assert {"type": "Available", "status": "True"}.items() <= dep["status"]["conditions"][0].items()
        assert rest.get("/api/v1/namespaces/kubesphere-system/serviceaccounts/kubesphere")
        assert rest.try_get(KS + "tower") is None


def test_roles_render_config_and_the_host_gets_tower_and_kubefed(make_lab):
    lab = make_lab(extra_env=FAST)
    host, member, other = (lab.client(n) for n in lab.names)
    wait_installed(host, member, other)
    cfg = make_host(host, proxyPublishAddress="http://10.0.0.9:30721", hostClusterName="sky",
                    clusterControllerResyncPeriod="60s")
    mc = cfg["multicluster"]
    assert {k: mc[k] for k in ("clusterRole", "enable", "agentImage", "proxyPublishService", "proxyPublishAddress",
                               "hostClusterName", "clusterControllerResyncPeriod")} == {
        "clusterRole": "host", "enable": True, "agentImage": "kubesphere/tower:v0.2.1",
        "proxyPublishService": "tower.kubesphere-system.svc", "proxyPublishAddress": "http://10.0.0.9:30721",
        "hostClusterName": "sky", "clusterControllerResyncPeriod": "60s"}
    assert "accessTokenMaxAge" not in cfg["authentication"]["oauthOptions"]
    status = cc(host)["status"]
    assert status["multicluster"]["status"] == "enabled" and status["multicluster"]["enabledTime"].endswith("UTC")

    # host-only objects of the multicluster playbook (§1, §4, §5)
    tower = host.get(KS + "tower")
    ctr = tower["spec"]["template"]["spec"]["containers"][0]
    assert ctr["image"] == "kubesphere/tower:v0.2.1"
    assert ctr["command"] == ["/proxy", "--ca-cert=/ca.crt", "--ca-key=/ca.key", "--v=4"]
    assert tower["spec"]["template"]["spec"]["serviceAccountName"] == "kubesphere"
    assert tower["metadata"]["labels"] == {"app": "tower", "app.kubernetes.io/name": "tower"}
    assert tower["status"]["availableReplicas"] == 1
    svc = host.get("/api/v1/namespaces/kubesphere-system/services/tower")
    assert svc["spec"]["type"] == "LoadBalancer" and svc["spec"]["selector"] == {"app": "tower"}
    assert [(p["port"], p["targetPort"], p["protocol"]) for p in svc["spec"]["ports"]] == [(8080, 8080, "TCP")]
    ns = host.get("/api/v1/namespaces/kube-federation-system")
    assert ns["metadata"]["labels"]["kubesphere.io/workspace"] == "system-workspace"
    kfc = host.get("/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/kubefedconfigs/kubefed")
    assert kfc["spec"]["scope"] == "Cluster"
    assert {g["name"]: g["configuration"] for g in kfc["spec"]["featureGates"]} == {
        "PushReconciler": "Enabled", "SchedulerPreferences": "Enabled"}
    ftcs = host.get("/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/federatedtypeconfigs")["items"]
    assert {"namespaces", "deployments.apps", "configmaps"} <= {f["metadata"]["name"] for f in ftcs}
    for c in (member, other):  # nothing of that on clusters that are not hosts
        assert c.try_get(KS + "tower") is None

    # member: role, jwtSecret via kubesphere-secret, accessTokenMaxAge 0, enable false
    jwt = cfg["authentication"]["jwtSecret"]
    patch_spec(member, {"authentication": {"maximumClockSkew": "20s"}})
    mcfg = make_member(member, jwt)
    assert mcfg["multicluster"] == {"clusterRole": "member", "enable": False}
    assert mcfg["authentication"]["oauthOptions"]["accessTokenMaxAge"] == 0
    assert mcfg["authentication"]["maximumClockSkew"] == "20s"
    assert secret_value(member) == jwt
    assert "multicluster" not in cc(member)["status"]

    # an empty jwtSecret keeps the existing Secret (init-token only creates a missing one)
    before = secret_value(other)
    patch_spec(other, {"authentication": {"maximumClockSkew": "15s"}})
    wait_for(lambda: read_ks_config(other)["authentication"]["maximumClockSkew"] == "15s", what="rerun")
    assert secret_value(other) == before == read_ks_config(other)["authentication"]["jwtSecret"]


def test_failure_injection_hang_and_a_cluster_installed_later(make_lab):
    lab = make_lab(extra_env=FAST, not_installed=("member2",))
    host, late = lab.client("host"), lab.client("member2")
    wait_installed(host)

    # a failing task: recorded as the installer's log would say it, nothing applied
    host.merge_patch(CC_PATH, {"metadata": {"annotations": {"kslab.standins/fail": "multicluster"}},
                               "spec": {"multicluster": {"clusterRole": "host"}}})
    result = wait_for(lambda: annotations(host).get("kslab.standins/result", "").startswith("Task "),
                      what="failed run") and annotations(host)["kslab.standins/result"]
    assert result.startswith("Task 'multicluster' failed: ")
    assert cc(host)["status"]["multicluster"]["status"] == "failed"
    assert read_ks_config(host)["multicluster"]["clusterRole"] == "none"
    assert host.try_get(KS + "tower") is None
    events = events_for(host, "ks-installer", "kubesphere-system")
    assert any(e["reason"] == "TaskFailed" and e["message"] == result for e in events)

    # hang: the next change is not applied while the annotation is there
    hang = {"kslab.standins/fail": None, "kslab.standins/hang": "true"}
    host.merge_patch(CC_PATH, {"metadata": {"annotations": hang},
                               "spec": {"multicluster": {"proxyPublishAddress": "http://10.1.1.1:8080"}}})
    time.sleep(2.5)  # five times the installer delay: a run would have happened by now
    assert read_ks_config(host)["multicluster"]["clusterRole"] == "none"
    host.merge_patch(CC_PATH, {"metadata": {"annotations": {"kslab.standins/hang": None}}})
    cfg = wait_for(lambda: read_ks_config(host)["multicluster"]["clusterRole"] == "host" and read_ks_config(host),
                   what="run after the hang")
    assert cfg["multicluster"]["proxyPublishAddress"] == "http://10.1.1.1:8080"
    assert cc(host)["status"]["multicluster"]["status"] == "enabled"
    assert annotations(host)["kslab.standins/result"] == "successful"

    # a cluster without KubeSphere: nothing until a ClusterConfiguration appears, then a fresh install
    assert late.try_get(CONFIG_PATH) is None and late.try_get(KS + "ks-apiserver") is None
    late.ensure({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubesphere-system"}})
    late.request("POST", CC_PATH.rsplit("/", 1)[0], cluster_configuration(role="member", jwt_secret="x" * 32))
    cfg = wait_for(lambda: read_ks_config(late), what="kubesphere-config after install")
    assert cfg["multicluster"] == {"clusterRole": "member", "enable": False}
    assert cfg["authentication"]["jwtSecret"] == "x" * 32 == secret_value(late)
    status = wait_for(lambda: cc(late)["status"].get("core", {}).get("version") and cc(late)["status"], what="status")
    assert status["core"]["status"] == "enabled"
    assert late.get(KS + "ks-apiserver")["status"]["availableReplicas"] == 1


def test_rendered_config_is_yaml_with_the_fact_sheet_layout(lab):
    raw = lab.client(lab.host).get(CONFIG_PATH)["data"]["kubesphere.yaml"]
    doc = yaml.safe_load(raw)
    assert list(doc) == ["authentication", "multicluster"]
    assert doc["authentication"]["oauthOptions"]["clients"] == [
        {"name": "kubesphere", "secret": "kubesphere", "redirectURIs": ["*"]}]
