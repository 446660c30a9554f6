"""Which KubeSphere a cluster runs: detected from what the read model read, never assumed."""

import pytest

from helm_records import record
from ansible_collections.kubesphere.multicluster.plugins.module_utils import versions
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import helm_release
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import detection, v3_4, v4_1

V4_CONFIG = {"authentication": {"issuer": {"jwtSecret": "x" * 32}}, "multicluster": {"clusterRole": "host",
             "hostClusterName": "host"}, "helmExecutor": {"timeout": "10m"}, "extension": {"imageRegistry": ""},
             "composedApp": {"appSelector": ""}}
V3_CONFIG = {"authentication": {"jwtSecret": "y" * 32}, "multicluster": {"clusterRole": "member"}}
CC = {"metadata": {"name": "ks-installer", "labels": {"version": "v3.4.1"}}, "status": {"core": {"version": "v3.4.1"}}}
# what ks-installer v3.4.1 leaves: `helm upgrade --install ks-core` with its chart (INST
# roles/ks-core/ks-core/files/ks-core/Chart.yaml: version 0.1.0, appVersion "v3.3.2")
INSTALLER_RELEASE = helm_release.decode(record("v3.3.2", chart_version="0.1.0"))


def state(**kw):
    base = {"name": "c1", "cluster_configuration": None, "ks_core_release": None, "config": {},
            "config_present": False}
    base.update(kw)
    return base


def test_the_release_record_decodes_to_its_chart_metadata_only():
    secret = record("v4.1.3", revision=3, values={"authentication": {"issuer": {"jwtSecret": "s3cr3t-value"}}})
    found = helm_release.decode(secret)
    assert found == {"name": "ks-core", "namespace": "kubesphere-system", "revision": 3, "status": "deployed",
                     "chart": "ks-core", "chart_version": "1.1.4", "app_version": "v4.1.3",
                     "description": "Install complete", "multicluster": {"role": None, "host_cluster_name": None}}
    assert "s3cr3t-value" not in repr(found)
    assert helm_release.decode(record("v4.1.3", compress=False))["app_version"] == "v4.1.3"


@pytest.mark.parametrize("values,chart_values,wanted", [
    ({"multicluster": {"role": "member", "hostClusterName": "h1"}}, {}, {"role": "member", "host_cluster_name": "h1"}),
    # the user's value over the chart's default; the chart's default where the user set none
    ({"multicluster": {"role": "member"}}, {"multicluster": {"role": "", "hostClusterName": "dflt"}},
     {"role": "member", "host_cluster_name": "dflt"}),
    # a user's "" wins over a default (Helm's merge) and is unset
    ({"multicluster": {"role": ""}}, {"multicluster": {"role": "host"}}, {"role": None, "host_cluster_name": None}),
    ({}, {"multicluster": {"role": "", "hostClusterName": ""}}, {"role": None, "host_cluster_name": None}),
    ({"multicluster": "not a map"}, {}, {"role": None, "host_cluster_name": None}),
    ({"multicluster": {"role": 3}}, {}, {"role": None, "host_cluster_name": None}),
])
def test_the_release_gives_its_multicluster_role_and_host_name_values_and_no_other_value(values, chart_values, wanted):
    values = dict(values, authentication={"issuer": {"jwtSecret": "s3cr3t-value"}})
    found = helm_release.decode(record("v4.1.3", values=values, chart_values=chart_values))
    assert found["multicluster"] == wanted
    assert "s3cr3t-value" not in repr(found)


def test_unreadable_records_are_no_release_and_the_latest_revision_is_current():
    assert helm_release.decode({"type": "Opaque", "data": {"release": "eA=="}}) is None
    assert helm_release.decode({"data": {"release": "not base64 !"}}) is None
    assert helm_release.decode({"data": {}}) is None
    current = helm_release.current([record("v4.1.3", 1), record("v4.1.3", 4, status="failed"), {"data": {}}])
    assert (current["revision"], current["status"]) == (4, "failed")
    assert helm_release.current([]) is None
    assert helm_release.selector("ks-core") == "owner=helm,name=ks-core,status!=superseded"


@pytest.mark.parametrize("st,line,version,evidence", [
    (state(ks_core_release=helm_release.decode(record("v4.1.3"))), "4.1", "v4.1.3", "appVersion v4.1.3"),
    # ks-installer v3.4.1 makes a ks-core release too, with its own chart ks-core 0.1.0 whose appVersion says
    # v3.3.2 (never kept up): KubeSphere 3, and the ClusterConfiguration says which
    (state(ks_core_release=INSTALLER_RELEASE, cluster_configuration=CC), "3.4", "v3.4.1",
     "ks-installer's ClusterConfiguration kubesphere-system/ks-installer (version v3.4.1); Helm release ks-core "
     "revision 1 (deployed, chart ks-core 0.1.0, appVersion v3.3.2): ks-installer's chart"),
    (state(ks_core_release=INSTALLER_RELEASE, config=V3_CONFIG, config_present=True), "3.4", None,
     "appVersion v3.3.2), no ClusterConfiguration readable to say which 3.x: taken as 3.4"),
    (state(cluster_configuration=CC), "3.4", "v3.4.1", "ClusterConfiguration"),
    (state(cluster_configuration={"metadata": {"name": "ks-installer"}}), "3.4", None, "no version stamped yet"),
    (state(config=V4_CONFIG, config_present=True), "4.1", None, "helmExecutor, extension, composedApp"),
    (state(config=V3_CONFIG, config_present=True), "3.4", None, "KubeSphere 3's layout"),
    (state(), None, None, "no KubeSphere found"),
    (state(ks_core_release={"app_version": None, "revision": 1}), None, None, "no KubeSphere found"),
])
def test_detection_names_the_line_the_version_and_what_showed_it(st, line, version, evidence):
    found = detection.detect(st)
    assert (found["line"], found["version"]) == (line, version)
    assert evidence in found["evidence"]


def test_a_3_3_cluster_is_told_by_its_cluster_configuration_not_by_ks_installer_s_chart():
    # ks-installer v3.3.x's chart says appVersion v3.1.0; the stamped v3.3.2 decides, and 3.3 is not managed
    cc = {"metadata": {"name": "ks-installer", "labels": {"version": "v3.3.2"}},
          "status": {"core": {"version": "v3.3.2"}}}
    st = state(name="old", ks_core_release=helm_release.decode(record("v3.1.0", chart_version="0.1.0")),
               cluster_configuration=cc)
    found = versions.detect(st)
    assert (found["version"], found["kubesphere_version"], found["managed"]) == ("3.3", "v3.3.2", False)
    with pytest.raises(KubeSphereError) as e:
        versions.for_state(st)
    assert e.value.code == "unsupported_version" and "KubeSphere 3.3 found" in e.value.reason


def test_a_v4_kubesphere_config_is_not_taken_for_ks_installer_s():
    # v4.1 renders multicluster.clusterRole too; before this seam looked only at that key
    assert versions.detect(state(config=V4_CONFIG, config_present=True))["version"] == "4.1"


def test_for_state_refuses_a_version_it_does_not_manage_naming_the_cluster_and_the_evidence():
    st = state(name="member2", ks_core_release=helm_release.decode(record("v4.2.0")))
    assert versions.detect(st)["managed"] is False
    with pytest.raises(KubeSphereError) as e:
        versions.for_state(st)
    assert e.value.code == "unsupported_version" and e.value.cluster == "member2"
    assert "KubeSphere 4.2 found (Helm release ks-core revision 1" in e.value.reason
    assert "manages KubeSphere 3.4, 4.1 only, so nothing was changed" in e.value.reason
    assert versions.for_state(state(ks_core_release=helm_release.decode(record("v4.1.3")))) is v4_1
    assert versions.for_state(state(cluster_configuration=CC)) is v3_4
    assert versions.for_state(state()) is v3_4  # nothing installed yet, no fleet line: the 3.4 default


def test_4_1_is_served():
    st = state(name="host", ks_core_release=helm_release.decode(record("v4.1.3")))
    assert versions.detect(st)["managed"] is True
    assert versions.for_state(st) is v4_1
    assert versions.SUPPORTED == ("3.4", "4.1")


def test_a_bare_cluster_takes_its_fleet_s_line_never_the_3_4_default():
    host = state(name="host", ks_core_release=helm_release.decode(record("v4.1.3")))
    bare = state(name="member1")
    line = versions.fleet_line(host, ())
    assert line == "4.1" and versions.for_state(bare, default=line) is v4_1
    # without the host's connection: the peers' facts, the host's entry first
    peers = [{"name": "host", "role": "host", "kubesphere_line": "4.1"}, {"name": "member2", "role": "none"}]
    assert versions.fleet_line(None, peers) == "4.1"
    assert versions.fleet_line(None, [{"name": "m", "role": "member", "kubesphere_line": "4.1"}]) == "4.1"
    # a host without KubeSphere says nothing; its peers then do
    assert versions.fleet_line(bare, peers) == "4.1"
    # nothing tells, or the peers disagree (checks/versions.py refuses a mixed fleet): the 3.4 default
    assert versions.fleet_line(None, ()) is None
    assert versions.fleet_line(None, [{"name": "a", "kubesphere_line": "3.4"}, {"name": "b", "kubesphere_line": "4.1"}]) is None
    assert versions.for_state(bare, default=None) is v3_4
    # an unreachable host tells nothing
    assert versions.fleet_line(dict(host, reachable=False), ()) is None
    # a 3.4 host keeps its members on 3.4
    assert versions.fleet_line(state(cluster_configuration=CC), ()) == "3.4"


def test_member_needs_no_install_only_on_4_1():
    assert versions.member_needs_no_install("4.1") is True
    assert versions.member_needs_no_install("3.4") is False
    assert versions.member_needs_no_install(None) is False


def test_lines_of_versions():
    assert [detection.line(v) for v in ("v4.1.3", "3.4.1", "v3.4", "v10.2.0-rc.1", "", None, "main")] == \
        ["4.1", "3.4", "3.4", "10.2", None, None, None]
