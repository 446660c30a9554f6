"""The ks-installer stand-in (tests/lab/standins/installer.py): pure parts, then one private lab where the
test drives the installer's step() itself (KSLAB_NO_STANDINS=1: nothing else writes there).

What it must show is what a client can observe of a real ks-installer v3.4.1 run (fidelity audit F6,
section B): no `failed` status, `status.core.enabledTime` rewritten on every run, a failed multicluster task
still rendering kubesphere-config, the complete KubeFedConfig, the CC deleted and re-created when it needs
migrating (no `spec.terminal`), and the crash on a `spec.common` without `es`."""

import base64
import copy
import gzip
import hashlib
import hmac
import json
import os
import time

import pytest
import yaml

from kslabkit.furnish import cluster_configuration
from standins.installer import (CC_BASE, CC_PATH, CONFIG_PATH, KS_CORE_CHART, SECRET_PATH, VWC_PATH,
                                InstallerController, InstallerCrash, helm_upgrade_install, kubefed_config, migrate,
                                read_ks_config, render_config, static_token)

KS = "/apis/apps/v1/namespaces/kubesphere-system/deployments/"
IAM = "/apis/iam.kubesphere.io/v1alpha2/"


def helm_records(rest, release, namespace):
    """{revision: (labels, release JSON)} of a release's records, read as Helm 3 stores them: Secrets of type
    helm.sh/release.v1 named sh.helm.release.v1.<release>.v<N>, data.release = base64 of gzip of the JSON
    (and the API's own base64 around it). Written here from Helm's storage driver, not from the stand-in."""
    items = rest.get("/api/v1/namespaces/%s/secrets?labelSelector=owner%%3Dhelm%%2Cname%%3D%s"
                     % (namespace, release))["items"]
    out = {}
    for secret in items:
        labels = secret["metadata"]["labels"]
        assert secret["type"] == "helm.sh/release.v1"
        assert secret["metadata"]["name"] == "sh.helm.release.v1.%s.v%s" % (release, labels["version"])
        payload = base64.b64decode(base64.b64decode(secret["data"]["release"]))
        assert payload[:3] == b"\x1f\x8b\x08"  # gzip, as Helm compresses it
        body = json.loads(gzip.decompress(payload))
        assert (body["name"], body["namespace"], body["version"]) == (release, namespace, int(labels["version"]))
        assert body["info"]["status"] == labels["status"]
        out[int(labels["version"])] = (labels, body)
    return out


def release_status(rest, release, namespace):
    return {n: (labels["status"], body["info"]["description"])
            for n, (labels, body) in helm_records(rest, release, namespace).items()}


def real_spec():
    """The spec of INST deploy/cluster-configuration.yaml (what a user installs with): needs no migration."""
    from kslabkit.lab import default_crds_dir  # noqa: PLC0415

    try:
        with open(os.path.join(default_crds_dir(), "v3.4", "example-cluster-configuration.yaml")) as f:
            return yaml.safe_load(f)["spec"]
    except OSError:
        spec = cluster_configuration()["spec"]
        spec["common"].update(es={"enabled": False, "elkPrefix": "logstash", "basicAuth": {"enabled": False}},
                              opensearch={"enabled": True, "opensearchPrefix": "whizard"},
                              redis={"enabled": False}, openldap={"enabled": False})
        spec["events"]["ruler"] = {"enabled": True, "replicas": 2}
        spec["servicemesh"]["istio"] = {"components": {}}
        spec["terminal"] = {"timeout": 600}
        return spec


# --- pure -----------------------------------------------------------------------------------------


def test_a_real_cluster_configuration_needs_no_migration():
    reasons, spec = migrate(real_spec(), None)
    assert reasons == []
    reasons, _ = migrate(real_spec(), {"core": {"status": "enabled", "version": "v3.4.1"}})
    assert reasons == []


def test_migration_reasons_and_the_migrated_spec():
    spec = real_spec()
    del spec["terminal"]
    spec["notification"] = {"enabled": True}
    reasons, new = migrate(spec, {"core": {"status": "enabled"}, "clusterId": "abc"})
    assert reasons == ["spec.notification", "spec.terminal missing", "status.core.version missing"]
    assert new["terminal"] == {"timeout": 600} and "notification" not in new
    assert new["common"]["redis"] == {"enabled": False} and new["common"]["es"]["enabled"] is False
    assert new["common"]["opensearch"]["enabled"] is True
    assert spec.get("terminal") is None  # the input is not changed
    _, new = migrate(real_spec(), {"es": {"status": "enabled"}, "redis": {"status": "enabled"}})
    assert new["common"]["es"]["enabled"] is True and new["common"]["opensearch"]["enabled"] is False
    assert new["common"]["redis"] == {"enabled": True}
    old = {"networkpolicy": {"enabled": True}, "openpitrix": {"enabled": True}, "terminal": {"timeout": 600}}
    reasons, new = migrate(old, None)
    assert reasons == ["spec.openpitrix without store", "spec.networkpolicy"]
    assert new["network"]["networkpolicy"] == {"enabled": True} and new["openpitrix"] == {"store": {"enabled": True}}


def test_a_common_section_without_es_crashes_the_real_script():
    spec = real_spec()
    del spec["common"]["es"]
    with pytest.raises(InstallerCrash, match="KeyError: 'es'"):
        migrate(spec, None)
    assert migrate({"terminal": {}}, None) == ([], {"terminal": {}})  # no `common` at all: no crash


def test_render_host_member_none():
    spec = real_spec()
    spec["multicluster"] = {"clusterRole": "host", "proxyPublishAddress": "http://10.0.0.9:8080",
                            "hostClusterName": "sky", "clusterControllerResyncPeriod": ""}
    doc = yaml.safe_load(render_config(spec, "s" * 32))
    assert doc["multicluster"] == {"clusterRole": "host", "enable": True, "agentImage": "kubesphere/tower:v0.2.1",
                                   "proxyPublishService": "tower.kubesphere-system.svc",
                                   "proxyPublishAddress": "http://10.0.0.9:8080", "hostClusterName": "sky"}
    assert doc["authentication"]["jwtSecret"] == "s" * 32
    assert "accessTokenMaxAge" not in doc["authentication"]["oauthOptions"]
    assert doc["monitoring"]["endpoint"] == "http://prometheus-operated.kubesphere-monitoring-system.svc:9090"
    assert doc["terminal"] == {"image": "alpine:3.14", "timeout": 600}
    assert doc["network"] == {"ippoolType": "none"}
    spec["multicluster"] = {"clusterRole": "member"}
    doc = yaml.safe_load(render_config(spec, "m"))
    assert doc["multicluster"] == {"clusterRole": "member", "enable": False}
    assert doc["authentication"]["oauthOptions"]["accessTokenMaxAge"] == 0
    assert list(doc["authentication"]["oauthOptions"]) == ["accessTokenMaxAge", "clients"]
    spec["multicluster"] = {"clusterRole": "none"}
    assert yaml.safe_load(render_config(spec, "n"))["multicluster"] == {"clusterRole": "none"}


def test_static_token_is_an_hs256_jwt_over_the_secret():
    token = static_token("secret-x")
    head, body, sig = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    assert json.loads(base64.urlsafe_b64decode(pad(head))) == {"alg": "HS256", "typ": "JWT"}
    assert json.loads(base64.urlsafe_b64decode(pad(body))) == {
        "email": "admin@kubesphere.io", "username": "admin", "token_type": "static_token"}
    want = hmac.new(b"secret-x", (head + "." + body).encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(pad(sig)) == want


def test_kubefed_config_is_complete():
    spec = kubefed_config()["spec"]
    assert spec["syncController"] == {"maxConcurrentReconciles": 1, "adoptResources": "Enabled"}
    assert spec["statusController"] == {"maxConcurrentReconciles": 1}
    assert spec["clusterHealthCheck"] == {"period": "10s", "failureThreshold": 3, "successThreshold": 1,
                                          "timeout": "3s"}
    assert spec["leaderElect"]["resourceLock"] == "configmaps" and spec["scope"] == "Cluster"
    assert spec["controllerDuration"] == {"availableDelay": "20s", "unavailableDelay": "60s"}


# --- against a private lab --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quiet_lab(make_module_lab):
    """A private lab where nothing runs but the API servers; the test calls the installer's step()."""
    from standins.runtime import Lab  # noqa: PLC0415

    handle = make_module_lab(members=1, extra_env={"KSLAB_NO_STANDINS": "1"})
    return handle, InstallerController(Lab(handle.state_dir, component="ks-installer"), delay=0)


def cc(rest):
    return rest.get(CC_PATH)


def put_spec(rest, spec, annotations=None):
    live = cc(rest)
    live["spec"] = spec
    if annotations is not None:
        live["metadata"].setdefault("annotations", {}).update(annotations)
        live["metadata"]["annotations"] = {k: v for k, v in live["metadata"]["annotations"].items() if v is not None}
    return rest.request("PUT", CC_PATH, live)


def runs(installer, n=1):
    for _ in range(n):
        installer.step()


def result(rest):
    return (cc(rest)["metadata"].get("annotations") or {}).get("kslab.standins/result")


def test_install_recreate_and_enabled_time_on_every_run(quiet_lab):
    lab, installer = quiet_lab
    host = lab.client(lab.host)
    first = cc(host)
    # a CC without spec.terminal (e.g. the collection's before_install_cc) is deleted and re-created
    spec = real_spec()
    del spec["terminal"]
    put_spec(host, spec)
    runs(installer)
    again = cc(host)
    assert again["metadata"]["uid"] != first["metadata"]["uid"]
    assert again["metadata"]["labels"] == {"version": "v3.4.1"}
    assert not again["metadata"].get("annotations")
    assert again["spec"]["terminal"] == {"timeout": 600}
    assert "core" not in (again.get("status") or {})

    # the re-created object is a new run: the install
    runs(installer)
    status = cc(host)["status"]
    assert status["core"]["status"] == "enabled" and status["core"]["version"] == "v3.4.1"
    assert status["core"]["enabledTime"].endswith("UTC")
    assert "multicluster" not in status and result(host) == "successful"
    cfg = read_ks_config(host)
    assert cfg["multicluster"] == {"clusterRole": "none"}
    jwt = base64.b64decode(host.get(SECRET_PATH)["data"]["secret"]).decode()
    assert cfg["authentication"]["jwtSecret"] == jwt and len(jwt) == 32
    assert host.get(KS + "ks-apiserver")["status"]["availableReplicas"] == 1
    vwc = host.get(VWC_PATH)
    hook = vwc["webhooks"][0]
    assert hook["name"] == "validating-cluster.kubesphere.io" and hook["failurePolicy"] == "Fail"
    assert hook["timeoutSeconds"] == 30 and hook["sideEffects"] == "None"
    assert hook["rules"] == [{"apiGroups": ["cluster.kubesphere.io"], "apiVersions": ["v1alpha1"],
                              "operations": ["UPDATE"], "resources": ["clusters"], "scope": "*"}]
    where = hook["clientConfig"].get("url") or hook["clientConfig"]["service"]["path"]
    assert where.endswith("/validate-cluster-kubesphere-io-v1alpha1")
    # ks-core's identity objects ks-apiserver needs (the lab loads the ks-core CRDs for ks-apiserver)
    assert host.get(IAM + "users/admin")["status"]["state"] == "Active"
    assert host.get(IAM + "globalroles/platform-admin")["rules"][0] == {
        "apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
    assert host.get(IAM + "globalrolebindings/admin")["roleRef"]["name"] == "platform-admin"
    # `helm upgrade --install ks-core` with ks-installer v3.4.1's chart: ks-core 0.1.0, appVersion v3.3.2 (INST
    # never updated it); no kubefed release on a cluster that is not a host
    records = helm_records(host, "ks-core", "kubesphere-system")
    assert sorted(records) == [1]
    labels, body = records[1]
    assert (labels["owner"], labels["status"], body["info"]["description"]) == ("helm", "deployed", "Install complete")
    assert {k: body["chart"]["metadata"][k] for k in ("name", "version", "appVersion", "apiVersion")} == {
        "name": "ks-core", "version": "0.1.0", "appVersion": "v3.3.2", "apiVersion": "v2"}
    assert body["config"]["replicaCount"] == 1 and body["info"]["first_deployed"] == body["info"]["last_deployed"]
    assert helm_records(host, "kubefed", "kube-federation-system") == {}

    # another run (spec change): enabledTime is rewritten, the render follows the spec
    before = cc(host)["status"]["core"]["enabledTime"]
    time.sleep(1.1)  # enabledTime has a resolution of one second
    spec = copy.deepcopy(cc(host)["spec"])
    spec["authentication"]["maximumClockSkew"] = "20s"
    put_spec(host, spec)
    runs(installer)
    assert cc(host)["status"]["core"]["enabledTime"] > before
    assert read_ks_config(host)["authentication"]["maximumClockSkew"] == "20s"
    # every run upgrades the release: revision 2 deployed, 1 superseded, first_deployed kept
    records = helm_records(host, "ks-core", "kubesphere-system")
    assert release_status(host, "ks-core", "kubesphere-system") == {
        1: ("superseded", "Install complete"), 2: ("deployed", "Upgrade complete")}
    assert records[2][1]["info"]["first_deployed"] == records[1][1]["info"]["first_deployed"]
    # the same spec again: no run (shell-operator's jqFilter .spec)
    stamp = cc(host)["status"]["core"]["enabledTime"]
    time.sleep(1.1)
    runs(installer)
    assert cc(host)["status"]["core"]["enabledTime"] == stamp
    assert sorted(helm_records(host, "ks-core", "kubesphere-system")) == [1, 2]


def test_a_failed_multicluster_task_still_renders_and_writes_no_failed_status(quiet_lab):
    lab, installer = quiet_lab
    host = lab.client(lab.host)
    spec = copy.deepcopy(cc(host)["spec"])
    spec["multicluster"] = {"clusterRole": "host"}
    put_spec(host, spec, {"kslab.standins/fail": "multicluster"})
    before = cc(host)["status"]["core"]["enabledTime"]
    time.sleep(1.1)
    runs(installer)
    status = cc(host)["status"]
    assert "multicluster" not in status
    assert not any(isinstance(v, dict) and v.get("status") == "failed" for v in status.values())
    assert status["core"]["enabledTime"] > before
    assert read_ks_config(host)["multicluster"]["clusterRole"] == "host"
    assert read_ks_config(host)["multicluster"]["enable"] is True
    assert result(host).startswith("Task 'multicluster' failed: ")
    assert host.try_get(KS + "tower") is None
    assert helm_records(host, "kubefed", "kube-federation-system") == {}

    # the cause removed and the spec changed: the multicluster task runs (real: same gate)
    spec["multicluster"]["proxyPublishAddress"] = "http://127.0.0.1:8080"
    put_spec(host, spec, {"kslab.standins/fail": None})
    runs(installer)
    status = cc(host)["status"]
    assert status["multicluster"]["status"] == "enabled" and status["multicluster"]["enabledTime"].endswith("UTC")
    assert result(host) == "successful"
    svc = host.get("/api/v1/namespaces/kubesphere-system/services/tower")
    assert svc["spec"]["type"] == "LoadBalancer" and svc["spec"]["selector"] == {"app": "tower"}
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [(8080, 8080)]
    ns = host.get("/api/v1/namespaces/kube-federation-system")
    assert ns["metadata"]["labels"]["kubesphere.io/workspace"] == "system-workspace"
    kfc = host.get("/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/kubefedconfigs/kubefed")
    assert kfc["spec"]["syncController"]["maxConcurrentReconciles"] == 1
    assert kfc["spec"]["statusController"] == {"maxConcurrentReconciles": 1}
    ftcs = host.get("/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/federatedtypeconfigs")["items"]
    assert {"namespaces", "configmaps", "deployments.apps"} <= {f["metadata"]["name"] for f in ftcs}
    # the multicluster task's `helm upgrade --install kubefed` (INST's chart kubefed 0.0.3, no appVersion)
    records = helm_records(host, "kubefed", "kube-federation-system")
    assert sorted(records) == [1] and records[1][0]["status"] == "deployed"
    meta = records[1][1]["chart"]["metadata"]
    assert (meta["name"], meta["version"], meta.get("appVersion")) == ("kubefed", "0.0.3", None)
    assert records[1][1]["config"]["controllermanager"]["controller"]["tag"] == "v0.8.1"
    # the multicluster task ran once: another run (spec change) leaves kubefed's release alone, upgrades ks-core
    before = release_status(host, "ks-core", "kubesphere-system")
    spec["multicluster"]["proxyPublishAddress"] = "http://127.0.0.1:8081"
    put_spec(host, spec)
    runs(installer)
    assert sorted(helm_records(host, "kubefed", "kube-federation-system")) == [1]
    after = release_status(host, "ks-core", "kubesphere-system")
    assert len(after) == len(before) + 1 and after[max(after)] == ("deployed", "Upgrade complete")
    assert [s for s, _ in after.values()].count("deployed") == 1


def test_a_pre_install_failure_renders_nothing_and_a_crash_does_nothing(quiet_lab):
    lab, installer = quiet_lab
    member = lab.client(lab.members[0])
    spec = real_spec()
    put_spec(member, spec)
    runs(installer)
    rendered = member.get(CONFIG_PATH)["data"]["kubesphere.yaml"]
    stamp = cc(member)["status"]["core"]["enabledTime"]
    revisions = sorted(helm_records(member, "ks-core", "kubesphere-system"))

    spec["multicluster"] = {"clusterRole": "member"}
    spec["authentication"]["jwtSecret"] = "j" * 32
    put_spec(member, spec, {"kslab.standins/fail": "ks-core"})
    time.sleep(1.1)
    runs(installer)
    assert member.get(CONFIG_PATH)["data"]["kubesphere.yaml"] == rendered
    assert cc(member)["status"]["core"]["enabledTime"] == stamp
    assert "failed" not in json.dumps(cc(member)["status"])
    assert result(member).startswith("Task 'ks-core' failed")
    assert sorted(helm_records(member, "ks-core", "kubesphere-system")) == revisions  # no helm run: no revision

    # spec.common without es: the real script dies; nothing changes, the CC keeps its uid
    uid = cc(member)["metadata"]["uid"]
    del spec["common"]["es"]
    put_spec(member, spec, {"kslab.standins/fail": None})
    runs(installer, 2)
    assert cc(member)["metadata"]["uid"] == uid
    assert member.get(CONFIG_PATH)["data"]["kubesphere.yaml"] == rendered
    assert result(member).startswith("crashed: KeyError: 'es'")

    # fixed: the member role with the given jwtSecret (init-token deletes and re-creates the Secret)
    spec["common"]["es"] = real_spec()["common"]["es"]
    put_spec(member, spec)
    runs(installer)
    cfg = read_ks_config(member)
    assert cfg["multicluster"] == {"clusterRole": "member", "enable": False}
    assert cfg["authentication"]["jwtSecret"] == "j" * 32
    assert cfg["authentication"]["oauthOptions"]["accessTokenMaxAge"] == 0
    assert "multicluster" not in cc(member)["status"]
    assert member.get(VWC_PATH)["webhooks"][0]["failurePolicy"] == "Fail"  # on every cluster


def test_a_cluster_without_cc_is_left_alone_until_one_appears(quiet_lab):
    lab, installer = quiet_lab
    member = lab.client(lab.members[0])
    member.request("DELETE", CC_PATH)
    member.request("DELETE", CONFIG_PATH)
    runs(installer)
    assert member.try_get(CONFIG_PATH) is None
    body = {"apiVersion": "installer.kubesphere.io/v1alpha1", "kind": "ClusterConfiguration",
            "metadata": {"name": "ks-installer", "namespace": "kubesphere-system", "labels": {"version": "v3.4.1"}},
            "spec": real_spec()}
    member.request("POST", CC_BASE, body)
    runs(installer)
    assert read_ks_config(member)["multicluster"] == {"clusterRole": "none"}


def test_helm_keeps_ten_revisions_of_a_release(quiet_lab):
    """`helm upgrade`'s --history-max default: the eleventh revision removes the first (every installer run
    upgrades ks-core, so a long-lived cluster holds the last ten)."""
    lab, _ = quiet_lab
    member = lab.client(lab.members[0])
    for _ in range(11):
        helm_upgrade_install(member, "kslab-history", "default", KS_CORE_CHART, {})
    statuses = release_status(member, "kslab-history", "default")
    assert sorted(statuses) == list(range(2, 12))
    assert statuses[11] == ("deployed", "Upgrade complete")
    assert {s for n, (s, _) in statuses.items() if n < 11} == {"superseded"}
