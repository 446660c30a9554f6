"""The fleet doctor: findings from facts and the inventory, each with a code, a cluster, a level and a fix."""

import datetime

from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import doctor

NOW = datetime.datetime(2026, 12, 6, tzinfo=datetime.timezone.utc)
CLOCK = {"offset": 0.0, "low": -0.5, "high": 0.5, "uncertainty": 0.5}


def facts(name, role, jwt="sha256:aaa", **kw):
    out = {"name": name, "reachable": True, "reason": None, "kubesphere_installed": True, "kubesphere_line": "3.4",
           "version_managed": True, "version_evidence": "ks-installer's ClusterConfiguration", "role": role,
           "jwt_secret_hash": jwt, "components": [], "clusters": [], "clock": dict(CLOCK),
           "maximum_clock_skew_seconds": 10.0}
    out.update(kw)
    return out


def placed(name, health="ready", group=None, provider=None, not_after=None):
    return {"name": name, "role": "member", "health": health, "health_reason": "kubefed says Offline",
            "cluster_group": group, "provider": provider, "client_cert_not_after": not_after}


def inventory(*members, **groups):
    out = [{"name": "host", "role": "host", "cluster_group": None, "provider": None}]
    out += [{"name": m, "role": "member", "cluster_group": groups.get(m), "provider": None} for m in members]
    return out


def healthy_fleet():
    return {"host": facts("host", "host", clusters=[placed("m1", group="prod"), placed("m2")]),
            "m1": facts("m1", "member"), "m2": facts("m2", "member")}


def diagnose(f, inv, **opts):
    return doctor.diagnose(f, inv, dict({"now": NOW}, **opts))


def codes(findings):
    return [(x["level"], x["code"], x["cluster"]) for x in findings]


def test_a_healthy_fleet_has_no_finding():
    assert diagnose(healthy_fleet(), inventory("m1", "m2", m1="prod")) == []
    assert doctor.text([]) == "the doctor found nothing wrong"


def test_every_finding_has_the_shape_and_errors_come_first():
    f = healthy_fleet()
    f["host"]["clusters"] = [placed("m1", health="offline", group="dev"), placed("m2"), placed("m9")]
    f["m2"] = facts("m2", "member", jwt="sha256:bbb")
    f["m4"] = facts("m4", "member")
    found = diagnose(f, inventory("m1", "m2", "m3", "m4", m1="prod"))
    assert codes(found) == [
        ("error", "member_unhealthy", "m1"), ("error", "jwt_secret_differs", "m2"),
        ("error", "unreachable", "m3"), ("warning", "group_differs", "m1"), ("warning", "not_imported", "m3"),
        ("warning", "not_imported", "m4"),
        ("warning", "not_in_inventory", "m9")]
    for x in found:
        assert set(x) == {"code", "cluster", "level", "message", "fix"} and x["fix"] and x["cluster"] in x["message"]
    assert doctor.counts(found) == {"error": 3, "warning": 4}
    text = doctor.text(found)
    assert text.startswith("the doctor found 3 errors and 4 warnings:")
    assert "- ERROR [jwt_secret_differs] cluster 'm2'" in text


def test_group_labels_say_how_to_set_or_remove_them():
    f = healthy_fleet()
    f["host"]["clusters"] = [placed("m1", group="old"), placed("m2", group="stray")]
    found = {x["cluster"]: x for x in diagnose(f, inventory("m1", "m2", m1="prod"))}
    assert "its group on the host is 'old', the inventory's is 'prod'" in found["m1"]["message"]
    assert found["m1"]["fix"] == "run join.yml (it sets label cluster.kubesphere.io/group=prod)"
    assert found["m2"]["fix"] == "remove the label: kubectl --context <host> label cluster m2 cluster.kubesphere.io/group-"


def test_certificates_expiring_within_the_margin_warn_and_expired_ones_are_errors():
    f = healthy_fleet()
    f["host"]["clusters"] = [placed("m1", group="prod", not_after="2026-12-20T00:00:00Z"),
                             placed("m2", not_after="2026-12-01T00:00:00Z")]
    assert codes(diagnose(f, inventory("m1", "m2", m1="prod"))) == [
        ("error", "certificate_expired", "m2"), ("warning", "certificate_expiring", "m1")]
    assert codes(diagnose(f, inventory("m1", "m2", m1="prod"), cert_expiry_days=7)) == [
        ("error", "certificate_expired", "m2")]


def test_versions_roles_components_and_clocks():
    f = healthy_fleet()
    f["m1"] = facts("m1", "none", kubesphere_line="4.1", version_managed=False, version_evidence="Helm release")
    f["host"]["components"] = ["devops", "openpitrix.store", "logging"]
    skewed = {"offset": 30.0, "low": 29.5, "high": 30.5, "uncertainty": 0.5}
    f["m2"] = facts("m2", "member", components=["logging"], clock=skewed)
    found = codes(diagnose(f, inventory("m1", "m2", m1="prod")))
    assert ("error", "unsupported_version", "m1") in found and ("error", "mixed_versions", None) in found
    assert ("error", "role_differs", "m1") in found and ("error", "clock_skew", "m2") in found
    assert ("warning", "components_missing", "m2") in found
    missing = next(x for x in diagnose(f, inventory("m1", "m2", m1="prod")) if x["code"] == "components_missing")
    assert "devops" in missing["message"] and "openpitrix.store" not in missing["message"]


def test_a_cluster_without_kubesphere_is_a_warning_not_a_role_error():
    f = healthy_fleet()
    f["m2"] = facts("m2", "none", kubesphere_installed=False, kubesphere_line=None)
    assert ("warning", "not_installed", "m2") in codes(diagnose(f, inventory("m1", "m2", m1="prod")))
    assert ("error", "role_differs", "m2") not in codes(diagnose(f, inventory("m1", "m2", m1="prod")))


def test_a_proxy_agent_that_dials_another_address_than_the_host_publishes_is_an_error():
    f = healthy_fleet()
    f["host"]["proxy_publish"] = {"address": "http://10.0.0.99:30080", "source": "proxyPublishAddress"}
    f["host"]["clusters"][1]["connection_type"] = "proxy"
    f["m2"]["agent_proxy_server"] = "http://10.0.0.11:30080"
    found = diagnose(f, inventory("m1", "m2", m1="prod"))
    assert codes(found) == [("error", "stale_proxy_address", "m2")]
    assert "http://10.0.0.11:30080" in found[0]["message"] and "join.yml" in found[0]["fix"]
    f["m2"]["agent_proxy_server"] = "http://10.0.0.99:30080/"
    assert diagnose(f, inventory("m1", "m2", m1="prod")) == []


def forbidden(kind, namespace=None):
    return {"code": "forbidden", "kind": kind, "namespace": namespace, "message": "%s is forbidden" % kind}


def test_a_kind_the_credential_may_not_read_is_a_forbidden_warning_and_its_checks_are_skipped():
    f = healthy_fleet()
    # the host may not list Clusters: its empty list must not read as "no member imported"
    f["host"].update(clusters=[], unreadable=[forbidden("Cluster")])
    # a member whose ClusterConfiguration and kubesphere-config are both unreadable: no role verdict
    f["m2"].update(role=None, kubesphere_installed=None,
                   unreadable=[forbidden("ClusterConfiguration", "kubesphere-system"),
                               forbidden("ConfigMap", "kubesphere-system")])
    found = diagnose(f, inventory("m1", "m2", m1="prod"))
    assert codes(found) == [("warning", "forbidden", "host"), ("warning", "forbidden", "m2"), ("warning", "forbidden", "m2")]
    assert all(x["level"] == "warning" for x in found)
    host = found[0]
    assert host["message"].startswith("cluster 'host': the credential may not read Cluster (Cluster is forbidden)")
    assert "get/list/watch on Cluster" in host["fix"] and "docs/rbac/fleet-reader.yaml" in host["fix"]
    assert "ClusterConfiguration in namespace kubesphere-system" in found[1]["message"]


def test_namespaces_and_workspaces_made_on_a_member_itself_are_a_warning():
    f = healthy_fleet()
    f["m1"]["made_locally"] = {"namespaces": ["team-dev"], "workspaces": ["team"]}
    f["m2"]["made_locally"] = {"namespaces": [], "workspaces": []}
    found = diagnose(f, inventory("m1", "m2", m1="prod"))
    assert codes(found) == [("warning", "made_on_member", "m1")]
    assert "namespaces team-dev and workspaces team" in found[0]["message"] and "adopt" in found[0]["fix"]


def v41_fleet():
    v41 = {"kubesphere_line": "4.1", "version_evidence": "Helm release ks-core revision 1"}
    return {"host": facts("host", "host", clusters=[placed("m1", group="prod")], **v41),
            "m1": facts("m1", "member", **v41),
            "m2": facts("m2", "none", kubesphere_installed=False, kubesphere_line=None, jwt=None)}


def test_a_member_of_a_v41_fleet_without_kubesphere_before_its_import_is_only_not_imported():
    found = codes(diagnose(v41_fleet(), inventory("m1", "m2", m1="prod")))
    assert found == [("warning", "not_imported", "m2")]
    # on a 3.4 fleet the same member is not installed, as before
    f = v41_fleet()
    for x in f.values():
        x["kubesphere_line"] = "3.4" if x["kubesphere_line"] else None
    assert ("warning", "not_installed", "m2") in codes(diagnose(f, inventory("m1", "m2", m1="prod")))


def test_v41_fixes_name_ks_core_and_spec_config_not_the_3_4_mechanism():
    f = v41_fleet()
    f["host"]["clusters"] = [placed("m1", health="joining", group="prod")]
    f["m1"]["jwt_secret_hash"] = "sha256:bbb"
    found = {x["code"]: x for x in diagnose(f, inventory("m1", "m2", m1="prod"))}
    assert "KSCoreReady" in found["member_unhealthy"]["fix"] and "stays Ready" not in found["member_unhealthy"]["fix"]
    assert "spec.config" in found["jwt_secret_differs"]["fix"] and "member_config" not in found["jwt_secret_differs"]["fix"]


def test_a_failed_extension_on_a_v41_host_is_an_error_with_its_reason_and_job():
    f = v41_fleet()
    f["host"]["extensions"] = [
        {"name": "kubefed", "version": "1.0.0", "state": "Installed", "installed": True, "failed": False,
         "installed_version": "1.0.0", "failure": None},
        {"name": "tower", "version": "1.1.0", "state": "UpgradeFailed", "installed": False, "failed": True,
         "installed_version": None,
         "failure": "Job has reached the specified backoff limit", "target_namespace": "kubesphere-system",
         "job_name": "helm-upgrade-tower-x2z4b"}]
    found = diagnose(f, inventory("m1", "m2", m1="prod"))
    failed = [x for x in found if x["code"] == "extension_failed"]
    assert [(x["level"], x["cluster"]) for x in failed] == [("error", "host")]
    assert "tower is UpgradeFailed" in failed[0]["message"] and "backoff limit" in failed[0]["message"]
    assert "kubesphere-system/helm-upgrade-tower-x2z4b" in failed[0]["fix"]


def test_a_known_extension_wedge_gets_its_fix():
    f = v41_fleet()
    f["host"]["extensions"] = [
        {"name": "kubefed", "version": "1.0.0", "state": "UpgradeFailed", "installed": False, "failed": True,
         "failure": "spec.featureGates: Required value", "fix": "give the KubeFedConfig the hook's feature gates (...)",
         "target_namespace": "kube-federation-system", "job_name": "helm-upgrade-kubefed-a1"}]
    failed = [x for x in diagnose(f, inventory("m1", "m2", m1="prod")) if x["code"] == "extension_failed"]
    assert len(failed) == 1 and failed[0]["fix"] == "a known wedge: give the KubeFedConfig the hook's feature gates (...)"
