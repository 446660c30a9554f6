"""installer.py: role patch, applied predicate, installer activity, before-install content (the checks before a role change: checks/test_roles.py)."""

import pytest
import yaml

from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import installer as inst
from ansible_collections.kubesphere.multicluster.plugins.module_utils.secrets import fingerprint

SECRET = "s3cr3t-jwt-0123456789abcdefghijkl"


def cm(doc):
    return {"data": {"kubesphere.yaml": yaml.safe_dump(doc)}}


def config(role, jwt=None, **mc):
    doc = {"multicluster": dict({"clusterRole": role}, **mc)}
    if jwt:
        doc["authentication"] = {"jwtSecret": jwt}
    return doc


# --- role_patch / desired_cc -----------------------------------------------------------------------

def test_role_patch_host_keeps_only_set_host_options():
    patch = inst.role_patch("host", host_options={"proxyPublishAddress": "http://1.2.3.4:30721",
                                                  "hostClusterName": None, "bogus": "x"})
    assert patch == {"spec": {"multicluster": {"clusterRole": "host", "proxyPublishAddress": "http://1.2.3.4:30721"}}}


def test_role_patch_member_carries_secret_and_components():
    patch = inst.role_patch("member", jwt_secret=SECRET, host_options={"hostClusterName": "h"},
                            components=["devops", "network.networkpolicy"])
    assert patch["spec"]["multicluster"] == {"clusterRole": "member"}  # host options never on a member
    assert patch["spec"]["authentication"] == {"jwtSecret": SECRET}
    assert patch["spec"]["devops"] == {"enabled": True}
    assert patch["spec"]["network"] == {"networkpolicy": {"enabled": True}}


def test_role_patch_rejects_unknown_role():
    with pytest.raises(ValueError, match="clusterRole must be one of"):
        inst.role_patch("boss")


def test_desired_cc_names_the_installer_object():
    cc = inst.desired_cc(inst.role_patch("none"))
    assert cc["kind"] == "ClusterConfiguration"
    assert cc["metadata"] == {"name": "ks-installer", "namespace": "kubesphere-system"}


def test_host_cluster_name_default_and_set():
    assert inst.host_cluster_name({}) == "host"
    assert inst.host_cluster_name(config("host", hostClusterName="hq")) == "hq"
    assert inst.host_cluster_name({"spec": {"multicluster": {"hostClusterName": "hq2"}}}) == "hq2"


# --- applied ----------------------------------------------------------------------------------------

def test_member_applied_when_role_and_secret_rendered():
    assert inst.applied_problems("member", config("member", SECRET), {}, SECRET) == []


def test_member_not_applied_says_what_differs_without_the_secret():
    problems = inst.applied_problems("member", config("none", "other"), {}, SECRET)
    assert "clusterRole 'none' (wanted 'member')" in problems[0]
    assert fingerprint(SECRET) in problems[1] and fingerprint("other") in problems[1]
    assert not any(SECRET in p or "other'" in p for p in problems)


def test_host_needs_multicluster_status_and_options():
    cc = {"status": {"multicluster": {"status": "enabled"}}}
    opts = {"proxyPublishAddress": "http://x:1", "hostClusterName": None}
    assert inst.applied_problems("host", config("host", proxyPublishAddress="http://x:1"), cc, None, opts) == []
    left = inst.applied_problems("host", config("host"), {}, None, opts)
    assert any("status.multicluster.status is unset" in p for p in left)
    assert any("proxyPublishAddress" in p for p in left)


def test_none_applied_when_config_absent():
    assert inst.applied_problems("none", {}, None) == []


# --- installer activity / failures --------------------------------------------------------------------

T0, T1 = "2026-01-01T00:00:00UTC", "2026-01-01T00:05:00UTC"


def core(when, **more):
    return {"status": dict({"core": {"status": "enabled", "enabledTime": when}}, **more)}


def test_installer_activity_says_what_the_last_run_left():
    cc = core(T1, multicluster={"status": "enabled", "enabledTime": T1})
    line = inst.installer_activity(cc, config("host", SECRET), before_cc=core(T0))
    assert "rendered clusterRole host" in line
    assert fingerprint(SECRET) in line and SECRET not in line
    assert "status.core.enabledTime %s (moved since our write" % T1 in line
    assert "status.multicluster enabled since %s" % T1 in line
    assert "(not moved since our write" in inst.installer_activity(core(T0), {}, before_cc=core(T0))
    assert "since our write" not in inst.installer_activity(core(T0), {})


def test_installer_activity_without_config():
    line = inst.installer_activity(None, {})
    assert "(no kubesphere-config yet)" in line and "status.core.enabledTime unset" in line
    assert "status.multicluster unset" in line


def test_multicluster_task_failed_needs_every_piece_of_evidence():
    none, host = config("none"), config("host")
    assert inst.multicluster_task_failed("host", none, core(T0), host, core(T1))
    assert not inst.multicluster_task_failed("member", none, core(T0), config("member"), core(T1))
    assert not inst.multicluster_task_failed("host", host, core(T0), host, core(T1))   # rendered before the write
    assert not inst.multicluster_task_failed("host", none, core(T0), none, core(T1))   # not rendered yet
    assert not inst.multicluster_task_failed("host", none, core(T1), host, core(T1))   # no run since the write
    assert not inst.multicluster_task_failed("host", none, core(T0), host,
                                             core(T1, multicluster={"status": "enabled"}))


def test_failed_components_reads_the_one_status_the_installer_writes_failed():
    assert inst.failed_components({"status": {"servicemesh": {"status": "failed"}, "core": {"status": "enabled"}}}) \
        == ["servicemesh"]


# --- before install -------------------------------------------------------------------------------------

def test_before_install_cc_is_a_full_installable_configuration():
    cc = inst.before_install_cc(inst.role_patch("member", jwt_secret=SECRET))
    assert cc["metadata"] == {"name": "ks-installer", "namespace": "kubesphere-system", "labels": {"version": "v3.4.1"}}
    assert cc["spec"]["multicluster"] == {"clusterRole": "member"}
    assert cc["spec"]["authentication"]["jwtSecret"] == SECRET
    assert cc["spec"]["openpitrix"] == {"store": {"enabled": False}}  # defaults kept
    assert inst.before_install_cc(inst.role_patch("none"))["spec"]["authentication"]["jwtSecret"] == ""
    assert inst.DEFAULT_SPEC["multicluster"] == {"clusterRole": "none"}  # merge never changed the default


def test_before_install_cc_has_the_shape_ks_installer_keeps():
    """Facts of INST v3.4.1 deploy/cluster-configuration.yaml that generate_new_cluster_configuration
    checks: a ClusterConfiguration without them is deleted and re-created by the installer."""
    cc = inst.before_install_cc(inst.role_patch("member", jwt_secret=SECRET, components=["devops"]))
    spec = cc["spec"]
    assert spec["terminal"] == {"timeout": 600}
    for key in ("notification", "networkpolicy", "kubeedge", "console"):
        assert key not in spec
    assert spec["events"]["ruler"] == {"enabled": True, "replicas": 2}
    assert "istio" in spec["servicemesh"]
    assert spec["devops"]["enabled"] is True and {"jenkinsCpuReq", "jenkinsCpuLim"} <= set(spec["devops"])
    assert spec["logging"]["logsidecar"] == {"enabled": True, "replicas": 2} and "logsidecarReplicas" not in spec["logging"]
    assert "store" in spec["openpitrix"]
    assert spec["network"] == {"networkpolicy": {"enabled": False}, "ippool": {"type": "none"},
                               "topology": {"type": "none"}}
    assert isinstance(spec["common"]["es"], dict) and isinstance(spec["common"]["opensearch"], dict)
    assert "edgeruntime" in spec and "status" not in cc


# --- readers still parse what the lab renders -----------------------------------------------------------

def test_parse_config_roundtrip():
    assert inst.config_jwt_secret(inst.parse_config(cm(config("member", SECRET)))) == SECRET


def test_installer_log_summary_keeps_the_last_progress_lines():
    log = "\n".join([
        "2026-11-25 noise",
        "Start installing multicluster",
        "**************************************************",
        "task multicluster status is successful  (3/6)",
        "Task 'openpitrix' failed:",
        '{"event": "runner_on_failed", ...}',
        "Collecting installation results ...",
    ])
    assert inst.installer_log_summary(log) == ("task multicluster status is successful (3/6) | "
                                               "Task 'openpitrix' failed: | Collecting installation results ...")
    assert inst.installer_log_summary("") == ""
