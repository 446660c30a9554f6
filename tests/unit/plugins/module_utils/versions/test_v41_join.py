"""The pure parts of a KubeSphere 4.1 import and unbind (versions/v4_1/join.py, versions/v4_1/unbind.py)."""

import datetime

import pytest

from helm_records import record
from ansible_collections.kubesphere.multicluster.plugins.module_utils.errors import KubeSphereError
from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import helm_release
from ansible_collections.kubesphere.multicluster.plugins.module_utils.plan import unbind as unbind_plan
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions import v3_4, v4_1
from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v4_1 import join, unbind

NOW = datetime.datetime(2026, 12, 6, tzinfo=datetime.timezone.utc)
HOST_CONFIG = {"multicluster": {"clusterRole": "host", "hostClusterName": "host"},
               "authentication": {"issuer": {"jwtSecret": "s3cret"}}}
HOST = {"name": "host", "config": HOST_CONFIG, "kube_system_uid": "uid-host",
        "clusters": [{"metadata": {"name": "host"}, "spec": {"connection": {"type": "direct"}},
                      "status": {"uid": "uid-host"}}]}
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: m, cluster: {server: "https://10.0.0.2:6443", certificate-authority-data: Zm9v}}]
users: [{name: m, user: {token: abc}}]
contexts: [{name: m, context: {cluster: m, user: m}}]
current-context: m
"""


def bare(**extra):
    out = {"reachable": True, "config": None, "kube_system_uid": "uid-m1", "ks_namespace_annotations": {},
           "clock": 0.0, "ks_core_release": None}
    out.update(extra)
    return out


def codes(problems):
    return sorted(p["code"] for p in problems)


def check(member, host=None, ctype="direct", kubeconfig=KUBECONFIG):
    return v4_1.import_problems("member1", ctype, member, dict(host or HOST), kubeconfig, {"now": NOW})


def test_a_bare_member_needs_no_kubesphere():
    assert check(bare()) == []
    assert v4_1.MEMBER_NEEDS_KUBESPHERE is False and v3_4.MEMBER_NEEDS_KUBESPHERE is True
    # the same bare member is refused on 3.4 (no kubesphere-config): the difference is the version's
    assert "member_config_missing" in codes(v3_4.import_problems("member1", "direct", bare(), dict(HOST), KUBECONFIG,
                                                                 {"now": NOW}))


def test_the_checks_that_stay_the_same_cluster_twice_reachability_loopback_skew():
    twice = dict(HOST, clusters=HOST["clusters"] + [{"metadata": {"name": "old"}, "spec": {"connection": {
        "type": "direct"}}, "status": {"uid": "uid-m1"}}])
    assert codes(check(bare(), host=twice)) == ["already_imported"]
    assert codes(check({"reachable": False, "error": "connection refused"})) == ["member_unreachable"]
    assert codes(check(bare(), kubeconfig=KUBECONFIG.replace("10.0.0.2", "127.0.0.1"))) == ["loopback_server"]
    assert codes(check(bare(clock=60.0), host=dict(HOST, clock=0.0))) == ["clock_skew"]


def test_a_member_of_another_host_is_refused_naming_it_and_the_way_out():
    probs = check(bare(ks_namespace_annotations={"cluster.kubesphere.io/host-cluster": "other",
                                                 "cluster.kubesphere.io/name": "m9"}))
    assert codes(probs) == ["managed_by_other_host"]
    assert "'other'" in probs[0]["message"] and "member1" in probs[0]["message"]
    assert "kubectl annotate namespace kubesphere-system" in probs[0]["message"]
    # annotated by this host (a rerun, or a dead member's unbind on this host): not refused, and 3.4's
    # former-name rule does not apply on 4.1
    mine = {"cluster.kubesphere.io/host-cluster": "host", "cluster.kubesphere.io/name": "old"}
    assert check(bare(ks_namespace_annotations=mine)) == []


def test_a_standalone_kubesphere_is_refused_a_member_install_is_not():
    rel = helm_release.decode(record("v4.1.3", revision=3))
    host_config = {"multicluster": {"clusterRole": "host"}}
    probs = check(bare(config=host_config, ks_core_release=rel))
    assert codes(probs) == ["member_is_host"]
    assert "revision 3" in probs[0]["message"] and "helm uninstall ks-core -n kubesphere-system" in probs[0]["message"]
    assert check(bare(config={"multicluster": {"clusterRole": "member"}}, ks_core_release=rel)) == []


def test_the_host_must_render_role_host_and_a_jwt_secret():
    member_host = dict(HOST, config={"multicluster": {"clusterRole": "member"}})
    assert codes(check(bare(), host=member_host)) == ["host_config_missing", "host_not_host"]


def test_proxy_members_need_the_tower_extension_and_an_address_the_agent_reaches():
    probs = check(bare(), ctype="proxy", kubeconfig=None)
    assert codes(probs) == ["extension_missing"] and "tower extension" in probs[0]["message"]
    with_tower = dict(HOST, tower_service=True)
    probs = check(bare(), host=with_tower, ctype="proxy", kubeconfig=None)
    assert codes(probs) == ["no_proxy_address"], probs
    ok = dict(with_tower, proxy={"address": "http://10.0.0.9:31386", "source": "nodePort", "error": None})
    assert check(bare(), host=ok, ctype="proxy", kubeconfig=None) == []
    loop = dict(with_tower, proxy={"address": "http://127.0.0.1:31386", "source": "nodePort", "error": None})
    assert codes(check(bare(), host=loop, ctype="proxy", kubeconfig=None)) == ["loopback_proxy_address"]
    # a 4.1 member has no KubeSphere ServiceAccount before its import: the agent gets its own, nothing to refuse
    assert check(bare(service_accounts={"kubesphere-system": []}), host=ok, ctype="proxy", kubeconfig=None) == []


class Conn:
    def __init__(self, secrets=None, namespace=None, error=None):
        self.secrets, self.namespace, self.error = secrets or [], namespace, error

    def list(self, api_version, kind, namespace=None, label_selector=None):
        if self.error:
            raise KubeSphereError(self.error, code="forbidden")
        assert (kind, namespace, label_selector) == ("Secret", "kubesphere-system", "owner=helm,name=ks-core,status!=superseded")
        return self.secrets

    def delete(self, api_version, kind, name, namespace=None):
        self.deleted = (kind, name, namespace)
        self.secrets = [x for x in self.secrets if x["metadata"]["name"] != name]

    def get(self, api_version, kind, name, namespace=None):
        if self.error:
            raise KubeSphereError(self.error, code="forbidden")
        return self.namespace


class Ctx:
    def __init__(self, conn):
        self._conn = conn
        self.warnings = []
        self.patched = []

    def merge_patch(self, api_version, kind, name, patch):
        self.patched.append((kind, name, patch))

    def warn(self, text):
        self.warnings.append(text)

    def repaired(self, text):  # the executor's Context warns and reports the run changed
        self.warnings.append(text)

    def conn(self, side):
        return self if side == "host" else self._conn


def test_a_timed_out_wait_says_what_the_members_helm_release_says():
    failed = record("v4.1.3", status="failed")
    err = v4_1.healthy_timeout(Ctx(Conn([failed])), "member1", 600, "cluster 'member1': no KSCoreReady")
    assert err.code == "timeout" and err.cluster == "member1"
    assert "revision 1, status failed" in err.reason and "Install complete" in err.reason
    none = v4_1.healthy_timeout(Ctx(Conn([])), "member1", 600, "x")
    assert "no Helm release ks-core yet" in none.reason
    unread = v4_1.healthy_timeout(Ctx(Conn(error="secrets is forbidden")), "member1", 600, "x")
    assert "could not be read (secrets is forbidden)" in unread.reason
    assert v3_4.healthy_timeout(None, "member1", 600, "x") is None


def test_the_wait_shows_the_release_only_while_ks_core_is_not_ready():
    joining = {"metadata": {"name": "member1"}, "spec": {"connection": {"type": "direct", "kubeconfig": "eA=="}}}
    detail = v4_1.wait_detail(Ctx(Conn([record("v4.1.3", status="pending-install")])), "member1", joining)
    assert "status pending-install" in detail
    ready = dict(joining, status={"conditions": [{"type": "KSCoreReady", "status": "True"}]})
    assert v4_1.wait_detail(Ctx(None), "member1", ready) is None


def pending(revision=1, at=1000, status="pending-install"):
    rec = record("v4.1.3", revision=revision, status=status)
    rec["metadata"]["labels"]["modifiedAt"] = str(at)
    rec["metadata"]["creationTimestamp"] = "1970-01-01T00:10:00Z"  # 600
    return rec


def test_a_first_install_left_pending_by_a_stopped_install_is_cleared_once_helm_cannot_be_running_it():
    joining = {"metadata": {"name": "member1"}, "spec": {"connection": {"type": "direct", "kubeconfig": "eA=="}}}
    assert join.stuck_first_install([pending(at=1000)], 1000 + join.STUCK_AFTER - 1) is None  # may be running
    assert join.stuck_first_install([pending(at=1000)], 1000 + join.STUCK_AFTER) == "sh.helm.release.v1.ks-core.v1"
    # an upgrade, a deployed or failed first install, or a later revision: never touched
    assert join.stuck_first_install([pending(status="failed")], 10 ** 6) is None
    assert join.stuck_first_install([record("v4.1.3"), pending(revision=2, status="pending-upgrade")], 10 ** 6) is None
    conn = Conn([pending(at=1000)])
    ctx = Ctx(conn)
    detail = join.wait_detail(ctx, "member1", joining, now=lambda: 10 ** 6)
    assert conn.deleted == ("Secret", "sh.helm.release.v1.ks-core.v1", "kubesphere-system")
    assert "cleared" in detail and "another operation is in progress" in ctx.warnings[0]
    assert ctx.patched == [("Cluster", "member1", {"metadata": {"annotations": {"kubesphere.io/syncAt": "1000000"}}})]
    fresh = Conn([pending(at=1000)])
    assert "status pending-install" in join.wait_detail(Ctx(fresh), "member1", joining, now=lambda: 1010)
    assert not hasattr(fresh, "deleted")


def test_the_verification_reads_the_namespace_annotations():
    ok = {"metadata": {"name": "member1"}, "spec": {"connection": {"type": "direct", "kubeconfig": "eA=="}},
          "status": {"uid": "u", "kubeSphereVersion": "v4.1.3",
                     "conditions": [{"type": "Ready", "status": "True"}, {"type": "KSCoreReady", "status": "True"}]}}
    good = {"cluster.kubesphere.io/name": "member1", "cluster.kubesphere.io/host-cluster": "host"}
    assert v4_1.usable_problems("member1", ok, None, good, host_name="host") == []
    assert codes(v4_1.usable_problems("member1", ok, None, dict(good, **{"cluster.kubesphere.io/name": "x"}),
                                      host_name="host")) == ["cluster_name_not_written"]
    assert codes(v4_1.usable_problems("member1", ok, None, None, host_name="host")) == ["member_identity_unread"]
    clock = iter([0, 10, 40])
    found = join.read_identity(Conn(namespace={"metadata": {}}), "member1", "host", sleep=lambda s: None,
                               now=lambda: next(clock))
    assert found == {}


READY = {"metadata": {"name": "member1"}, "spec": {"connection": {"type": "direct"}},
         "status": {"uid": "u", "conditions": [{"type": "Ready", "status": "True"}]}}
IDENTITY = {"cluster.kubesphere.io/name": "member1", "cluster.kubesphere.io/host-cluster": "host"}


def test_the_unbind_report_names_ks_core_left_and_the_annotations_of_a_dead_member():
    rel = helm_release.decode(record("v4.1.3"))
    live = unbind.report("member1", READY, {"reachable": True, "annotations": IDENTITY, "ks_core_release": rel})
    assert [i["object"] for i in live["removed_on_host"]] == ["Cluster member1"]
    assert [i["object"] for i in live["removed_on_member"]] == ["Namespace kubesphere-system"]
    assert [i["object"] for i in live["stays_on_member"]] == ["Helm release kubesphere-system/ks-core"]
    assert "helm uninstall ks-core -n kubesphere-system" in live["stays_on_member"][0]["why"]
    dead = unbind.report("member1", READY, {"reachable": False})
    objs = [i["object"] for i in dead["stays_on_member"]]
    assert objs == ["Helm release kubesphere-system/ks-core", "Namespace kubesphere-system"]
    assert "kubectl annotate namespace kubesphere-system cluster.kubesphere.io/host-cluster- " \
           "cluster.kubesphere.io/name-" in dead["stays_on_member"][1]["why"]


def test_an_unbind_on_4_1_never_takes_the_webhook_path():
    dead_member = {"reachable": False, "error": "connection refused"}
    assert v4_1.unbind_dead(READY, dead_member, None) is False and v3_4.unbind_dead(READY, dead_member, None) is True
    facts = {"cluster": READY, "member": dead_member, "kubefed_cluster": None, "webhook": None, "federated": [],
             "webhook_backup": None, "host_label": "host"}
    the_plan = unbind_plan.plan("member1", facts, {"wait": True, "wait_timeout": 60}, io=Io(), impl=v4_1)
    assert the_plan["path"] == "normal" and [s.id for s in the_plan["steps"]] == ["delete-cluster", "cluster-gone"]


def test_what_is_left_after_a_4_1_unbind():
    rel = helm_release.decode(record("v4.1.3"))
    left = unbind.remaining("member1", {"cluster": None, "kubefed_cluster": None},
                            {"reachable": True, "annotations": {}, "ks_core_release": rel})
    assert left == {"host": [], "member": ["Helm release kubesphere-system/ks-core"]}
    left = unbind.remaining("member1", {"cluster": READY}, {"reachable": True, "annotations": IDENTITY})
    assert left["host"][0].startswith("Cluster member1 (present")
    assert left["member"] == ["annotations cluster.kubesphere.io/host-cluster, cluster.kubesphere.io/name of "
                              "Namespace kubesphere-system"]


class Io:
    def cluster_gone(self, name):
        return lambda ctx: (True, "gone", None)

    def gone_failure(self, name, timeout):
        return None


@pytest.mark.parametrize("impl", [v3_4, v4_1])
def test_both_versions_serve_the_names_the_import_and_unbind_ask(impl):
    for attr in ("import_problems", "jwt_secret", "join_failure", "wait_detail", "healthy_timeout",
                 "verification_facts", "usable_problems", "MEMBER_NEEDS_KUBESPHERE", "CLEAN_MEMBER_CHECK",
                 "JOIN_NOTES", "UNBIND_WEBHOOK", "unbind_dead", "unbind_read_member", "unbind_report",
                 "unbind_remaining", "health", "HEALTHY"):
        assert hasattr(impl, attr), attr


def test_the_unbind_removes_the_kubefed_extensions_host_side_and_reports_the_members():
    """The kubefed extension's backend unjoins a Cluster only when it sees it being deleted, or in its 3-minute
    sweep: the unbind deletes the KubeFedCluster and its token Secret itself; the member keeps what the join made
    there unless cleanup_member."""
    cluster = {"metadata": {"name": "m1"}, "spec": {"connection": {"type": "direct"}},
               "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    kfc = {"metadata": {"name": "m1"}, "spec": {"secretRef": {"name": "m1-secret"}}}
    facts = {"cluster": cluster, "kubefed_cluster": kfc, "member": {"reachable": True, "annotations": {}}}
    out = unbind_plan.plan("m1", facts, {"wait": False}, io=None, impl=v4_1)
    assert [s["id"] for s in out["steps"]] == ["delete-cluster", "delete-kubefedcluster", "delete-kubefed-secret"]
    removed_host = [i["object"] for i in out["report"]["removed_on_host"]]
    assert removed_host == ["Cluster m1", "KubeFedCluster kube-federation-system/m1", "Secret kube-federation-system/m1-secret"]
    stays = [i["object"] for i in out["report"]["stays_on_member"]]
    assert "ServiceAccount kube-federation-system/m1-kubesphere" in stays
    assert "ClusterRoleBinding kubefed-controller-manager:m1-kubesphere" in stays
    cleaned = unbind_plan.plan("m1", facts, {"wait": False, "cleanup_member": True}, io=None, impl=v4_1)
    assert "ServiceAccount kube-federation-system/m1-kubesphere" in [i["object"] for i in cleaned["report"]["removed_on_member"]]
    assert {"cleanup-serviceaccount-m1-kubesphere", "cleanup-clusterrolebinding-kubefed-controller-manager:m1-kubesphere"} \
        <= {s["id"] for s in cleaned["steps"]}, [s["id"] for s in cleaned["steps"]]
    # a rerun after the Cluster is gone finishes the job
    rerun = unbind_plan.plan("m1", dict(facts, cluster=None), {"wait": False}, io=None, impl=v4_1)
    assert [s["id"] for s in rerun["steps"]] == ["delete-kubefedcluster", "delete-kubefed-secret"]
    # no KubeFedCluster (the extension not installed, or already unjoined): nothing more
    assert [s["id"] for s in unbind_plan.plan("m1", dict(facts, kubefed_cluster=None), {"wait": False}, io=None,
                                              impl=v4_1)["steps"]] == ["delete-cluster"]
    # 3.4: KubeSphere's controller unjoins
    assert "delete-kubefedcluster" not in [s["id"] for s in unbind_plan.plan("m1", facts, {"wait": False}, io=None,
                                                                             impl=v3_4)["steps"]]
