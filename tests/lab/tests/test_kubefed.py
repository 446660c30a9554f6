"""The kubefed stand-in (tests/lab/standins/kubefed.py) against real kube-apiservers.

The module starts its own private lab (host, member1, member2) without the background stand-ins, builds a
KubefedController and drives it with step() while it waits, so every test sees the code under test and
nothing else writes the objects it checks. Members are joined the way KubeSphere's cluster controller does
it (helper `join`): ServiceAccount + cluster-admin binding + token on the member, Secret and KubeFedCluster
on the host. The FederatedTypeConfigs come from the lab's CRD folder (tests/lab/crds, or $KSLAB_CRDS_DIR such
as /work/shared/kubesphere-crds/v3.4) and are applied into kube-federation-system as ks-installer does."""

import base64
import contextlib
import os
import time
import uuid

import pytest

from kslabkit.furnish import extra_documents
from kslabkit.rest import ApiError
from standins.kubefed import KubefedController, _builtin_types
from standins.planner import plan
from standins.runtime import Lab

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FED_NS = "kube-federation-system"
KFC = "/apis/core.kubefed.io/v1beta1/namespaces/%s/kubefedclusters" % FED_NS
TYPES = "/apis/types.kubefed.io/v1beta1"
MANAGED = "kubefed.io/managed"
MEMBERS = ("member1", "member2")
LABELS = {"member1": {"env": "prod"}, "member2": {"env": "dev"}}


def b64(text):
    return base64.b64encode(text.encode()).decode()


# ---------------------------------------------------------------------------------------------- the lab


class Kubefed:
    """The private lab, the controller under test and helpers to wait on it."""

    def __init__(self, state_dir):
        self.lab = Lab(state_dir)
        self.host = self.lab.rest("host")
        self.ctl = KubefedController(self.lab)

    def kube(self, name):
        return self.lab.rest(name)

    def wait(self, predicate, timeout=30, what="condition"):
        """Run controller passes until predicate() returns something truthy; return it."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            self.ctl.step()
            try:
                last = predicate()
            except ApiError as e:
                last = e
                if e.status != 404:
                    raise
            if last and not isinstance(last, ApiError):
                return last
            time.sleep(0.2)
        pytest.fail("timed out after %d s waiting for %s (last: %r)" % (timeout, what, last))

    def fed(self, plural, ns, name):
        return self.host.try_get("%s/namespaces/%s/%s/%s" % (TYPES, ns, plural, name))

    def propagated(self, plural, ns, name):
        """The federated object once its status reflects its current generation."""
        obj = self.fed(plural, ns, name)
        status = (obj or {}).get("status") or {}
        if obj and status.get("observedGeneration") == obj["metadata"]["generation"] and status.get("conditions"):
            return obj
        return None

    def gone(self, rest, path):
        return rest.try_get(path) is None


@pytest.fixture(scope="module")
def kf(make_module_lab):
    private = make_module_lab(members=2, extra_env={"KSLAB_NO_STANDINS": "1"})
    k = Kubefed(private.state_dir)
    k.host.ensure({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": FED_NS}})
    for doc in extra_documents(k.lab.crds_dir):
        if doc["kind"] == "FederatedTypeConfig":
            doc["metadata"]["namespace"] = FED_NS
            k.host.apply(doc)
    for m in MEMBERS:
        join(k, m, LABELS[m])
    k.wait(lambda: all(ready(k, m) for m in MEMBERS), what="members Ready")
    return k


def join(k, member, labels, endpoint=None, name=None):
    """Join `member` as KubeSphere does: SA with full rights on the member, Secret + KubeFedCluster on the host."""
    name = name or member
    rest = k.kube(member)
    sa = "%s-kubesphere" % name
    rest.ensure({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": FED_NS}})
    rest.ensure({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": FED_NS}})
    rest.ensure({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                 "metadata": {"name": "kubefed-%s" % sa},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                 "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": FED_NS}]})
    token = rest.request("POST", "/api/v1/namespaces/%s/serviceaccounts/%s/token" % (FED_NS, sa),
                         {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                          "spec": {"expirationSeconds": 86400}})["status"]["token"]
    with open(os.path.join(k.lab.state_dir, member, "ca.crt"), "rb") as f:
        ca = base64.b64encode(f.read()).decode()
    k.host.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "%s-secret" % name, "namespace": FED_NS},
                  "data": {"token": b64(token)}})
    k.host.apply({"apiVersion": "core.kubefed.io/v1beta1", "kind": "KubeFedCluster",
                  "metadata": {"name": name, "namespace": FED_NS, "labels": labels},
                  "spec": {"apiEndpoint": endpoint or k.lab.server(member), "caBundle": ca,
                           "secretRef": {"name": "%s-secret" % name}}})


def unjoin(k, name):
    for path in ("%s/%s" % (KFC, name), "/api/v1/namespaces/%s/secrets/%s-secret" % (FED_NS, name)):
        with contextlib.suppress(ApiError):
            k.host.request("DELETE", path)


def conditions(k, name):
    kfc = k.host.try_get("%s/%s" % (KFC, name)) or {}
    return {c["type"]: c for c in (kfc.get("status") or {}).get("conditions") or []}


def ready(k, name):
    return conditions(k, name).get("Ready", {}).get("status") == "True"


# ---------------------------------------------------------------------------------------------- federated objects


def placement(clusters=None, selector=None):
    p = {}
    if clusters is not None:
        p["clusters"] = [{"name": c} for c in clusters]
    if selector is not None:
        p["clusterSelector"] = selector
    return p


def federated(kind, ns, name, template, place, overrides=None):
    spec = {"template": template, "placement": place}
    if overrides is not None:
        spec["overrides"] = overrides
    return {"apiVersion": "types.kubefed.io/v1beta1", "kind": kind,
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def create(k, obj):
    plural = obj["kind"].lower() + "s"
    return k.host.request("POST", "%s/namespaces/%s/%s" % (TYPES, obj["metadata"]["namespace"], plural), obj)


def cm(name, data=None):
    return federated("FederatedConfigMap", None, name, {"data": data or {"k": "v"}}, {})


def cluster_statuses(obj):
    return {c["name"]: c.get("status", "") for c in (obj.get("status") or {}).get("clusters") or []}


def propagation(obj):
    return next(c for c in obj["status"]["conditions"] if c["type"] == "Propagation")


@contextlib.contextmanager
def project(k, clusters=MEMBERS, federate=True, selector=None, labels=None):
    """A host namespace (and its FederatedNamespace placed on `clusters`); removed with everything in it."""
    ns = "kf-" + uuid.uuid4().hex[:6]
    k.host.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                  "metadata": {"name": ns, "labels": labels or {}}})
    if federate:
        create(k, federated("FederatedNamespace", ns, ns, {"metadata": {"labels": {"kubesphere.io/workspace": "ws"}}},
                            placement(clusters, selector)))
    try:
        yield ns
    finally:
        cleanup(k, ns)


FED_PLURALS = ("federatedconfigmaps", "federatedsecrets", "federateddeployments", "federatedservices",
               "federatednamespaces")


def cleanup(k, ns):
    for plural in FED_PLURALS:
        for obj in k.host.get("%s/namespaces/%s/%s" % (TYPES, ns, plural))["items"]:
            k.host.request("DELETE", "%s/namespaces/%s/%s/%s" % (TYPES, ns, plural, obj["metadata"]["name"]))
        k.wait(lambda: not k.host.get("%s/namespaces/%s/%s" % (TYPES, ns, plural))["items"],
               what="%s in %s removed" % (plural, ns))
    k.host.request("DELETE", "/api/v1/namespaces/%s" % ns)
    k.ctl.finalize_namespace(k.host, ns)  # the host has no namespace controller either


# ---------------------------------------------------------------------------------------------- cluster health


def test_reachable_member_is_ready(kf):
    cond = conditions(kf, "member1")
    assert set(cond) == {"Ready"}
    assert {k: cond["Ready"][k] for k in ("status", "reason", "message")} == {
        "status": "True", "reason": "ClusterReady", "message": "/healthz responded with ok"}
    assert cond["Ready"]["lastProbeTime"] and cond["Ready"]["lastTransitionTime"]


def test_unreachable_cluster_is_offline_and_blocks_propagation_and_deletion(kf, free_port):
    join(kf, "member2", {"env": "gone"}, endpoint="https://127.0.0.1:%d" % free_port(), name="gone")
    try:
        offline = kf.wait(lambda: conditions(kf, "gone").get("Offline"), what="gone Offline")
        assert {k: offline[k] for k in ("status", "reason", "message")} == {
            "status": "True", "reason": "ClusterNotReachable", "message": "cluster is not reachable"}
        assert "Ready" not in conditions(kf, "gone")  # kubefed v0.8.1 writes only the Offline condition
        with project(kf, clusters=("member1", "gone")) as ns:
            obj = cm("cfg")
            obj["metadata"]["namespace"] = ns
            obj["spec"]["placement"] = placement(["member1", "gone"])
            create(kf, obj)
            fed = kf.wait(lambda: kf.propagated("federatedconfigmaps", ns, "cfg"), what="status")
            assert cluster_statuses(fed) == {"member1": "", "gone": "ClusterNotReady"}
            assert propagation(fed)["status"] == "False" and propagation(fed)["reason"] == "CheckClusters"
            # deletion removes what it can but keeps the finalizer while a cluster is not ready
            kf.host.request("DELETE", "%s/namespaces/%s/federatedconfigmaps/cfg" % (TYPES, ns))
            path = "/api/v1/namespaces/%s/configmaps/cfg" % ns
            kf.wait(lambda: kf.gone(kf.kube("member1"), path), what="member1 copy removed")
            for _ in range(3):
                kf.ctl.step()
            assert kf.fed("federatedconfigmaps", ns, "cfg")["metadata"]["finalizers"] == ["kubefed.io/sync-controller"]
            unjoin(kf, "gone")
            kf.wait(lambda: kf.fed("federatedconfigmaps", ns, "cfg") is None, what="finalizer removed")
    finally:
        unjoin(kf, "gone")


# ---------------------------------------------------------------------------------------------- each kind lands

KINDS = {
    "FederatedConfigMap": ("/api/v1/namespaces/{ns}/configmaps/{name}", {"data": {"k": "v"}},
                           {"path": "/data/k", "value": "v2"}, lambda o: o["data"]["k"], ("v", "v2")),
    "FederatedSecret": ("/api/v1/namespaces/{ns}/secrets/{name}", {"type": "Opaque", "data": {"k": b64("v")}},
                        {"path": "/data/k", "value": b64("v2")}, lambda o: o["data"]["k"], (b64("v"), b64("v2"))),
    "FederatedDeployment": (
        "/apis/apps/v1/namespaces/{ns}/deployments/{name}",
        {"metadata": {"labels": {"app": "web"}},
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                  "template": {"metadata": {"labels": {"app": "web"}},
                               "spec": {"containers": [{"name": "web", "image": "nginx:1"}]}}}},
        {"path": "/spec/template/spec/containers/0/image", "value": "nginx:2"},
        lambda o: o["spec"]["template"]["spec"]["containers"][0]["image"], ("nginx:1", "nginx:2")),
    "FederatedService": (
        "/api/v1/namespaces/{ns}/services/{name}",
        {"spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}},
        {"path": "/spec/ports/0/port", "value": 8080}, lambda o: o["spec"]["ports"][0]["port"], (80, 8080)),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_kind_lands_with_managed_label_and_overrides(kf, kind):
    path, template, override, read, (plain, overridden) = KINDS[kind]
    with project(kf) as ns:
        create(kf, federated(kind, ns, "obj", template, placement(MEMBERS),
                             [{"clusterName": "member2", "clusterOverrides": [override]}]))
        target = path.format(ns=ns, name="obj")
        objs = kf.wait(lambda: [kf.kube(m).try_get(target) for m in MEMBERS] if all(
            kf.kube(m).try_get(target) for m in MEMBERS) else None, what="%s in both members" % kind)
        assert [o["metadata"]["labels"][MANAGED] for o in objs] == ["true", "true"]
        assert [read(o) for o in objs] == [plain, overridden]
        fed = kf.wait(lambda: kf.propagated(kind.lower() + "s", ns, "obj"), what="status")
        assert propagation(fed)["status"] == "True" and "reason" not in propagation(fed)
        assert cluster_statuses(fed) == {"member1": "", "member2": ""}
        assert fed["metadata"]["finalizers"] == ["kubefed.io/sync-controller"]
        if kind == "FederatedDeployment":
            dep = kf.wait(lambda: (kf.kube("member2").get(target).get("status") or {}).get("readyReplicas") and
                          kf.kube("member2").get(target), what="member Deployment status")
            st = dep["status"]
            assert st["replicas"] == st["readyReplicas"] == st["availableReplicas"] == st["updatedReplicas"] == 1
            assert st["observedGeneration"] == dep["metadata"]["generation"]
            assert {c["type"]: c["status"] for c in st["conditions"]}["Available"] == "True"


def test_federated_namespace_creates_member_namespaces(kf):
    with project(kf) as ns:
        fns = kf.fed("federatednamespaces", ns, ns)
        fns["spec"]["overrides"] = [{"clusterName": "member2", "clusterOverrides": [
            {"path": "/metadata/annotations", "value": {"kubesphere.io/creator": "admin"}}]}]
        kf.host.request("PUT", "%s/namespaces/%s/federatednamespaces/%s" % (TYPES, ns, ns), fns)
        got = kf.wait(lambda: [kf.kube(m).try_get("/api/v1/namespaces/" + ns) for m in MEMBERS] if all(
            kf.kube(m).try_get("/api/v1/namespaces/" + ns) for m in MEMBERS) else None, what="member namespaces")
        for obj in got:
            assert obj["metadata"]["labels"]["kubesphere.io/workspace"] == "ws"
            assert obj["metadata"]["labels"][MANAGED] == "true"
        # a replace of the missing annotations key applies (the console's override); see overrides.py
        kf.wait(lambda: (kf.kube("member2").get("/api/v1/namespaces/" + ns)["metadata"].get("annotations") or {})
                .get("kubesphere.io/creator") == "admin", what="annotation override")
        assert not (kf.kube("member1").get("/api/v1/namespaces/" + ns)["metadata"].get("annotations") or {}).get(
            "kubesphere.io/creator")
    # the project is gone: the member namespaces were deleted and finalized
    for m in MEMBERS:
        assert kf.kube(m).try_get("/api/v1/namespaces/" + ns) is None


def test_host_in_placement_reports_managed_label_false(kf):
    """The console labels the host namespace kubefed.io/managed=false; with the host joined as a KubeFedCluster
    and placed, kubefed reports ManagedLabelFalse for it (fact sheet §5, inferred from kubefed)."""
    join(kf, "host", {}, name="host")
    try:
        kf.wait(lambda: ready(kf, "host"), what="host Ready")
        with project(kf, clusters=("host", "member1"), labels={MANAGED: "false"}) as ns:
            fns = kf.wait(lambda: kf.propagated("federatednamespaces", ns, ns), what="status")
            assert cluster_statuses(fns) == {"host": "ManagedLabelFalse", "member1": ""}
            assert kf.host.get("/api/v1/namespaces/" + ns)["metadata"]["labels"][MANAGED] == "false"
    finally:
        unjoin(kf, "host")


# ---------------------------------------------------------------------------------------------- placement


def _cm_in(kf, ns, name, place):
    obj = cm(name)
    obj["metadata"]["namespace"] = ns
    obj["spec"]["placement"] = place
    create(kf, obj)
    fed = kf.wait(lambda: kf.propagated("federatedconfigmaps", ns, name), what="status of %s" % name)
    where = {m for m in MEMBERS if kf.kube(m).try_get("/api/v1/namespaces/%s/configmaps/%s" % (ns, name))}
    return fed, where


def test_placement_is_intersected_with_the_namespace_placement(kf):
    with project(kf, clusters=("member1",)) as ns:
        fed, where = _cm_in(kf, ns, "both", placement(MEMBERS))
        assert where == {"member1"}
        assert cluster_statuses(fed) == {"member1": ""}


@pytest.mark.parametrize("place,expected", [
    (placement(selector={"matchLabels": {"env": "dev"}}), {"member2"}),
    (placement(selector={"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}]}),
     {"member1", "member2"}),
    (placement(selector={}), {"member1", "member2"}),
    (placement(), set()),
    (placement(clusters=[], selector={}), set()),
    (placement(clusters=["member1", "nope"]), {"member1"}),
], ids=["matchLabels", "matchExpressions", "empty-selector-all", "no-placement-none", "empty-list-wins", "unknown"])
def test_cluster_selector_and_lists(kf, place, expected):
    with project(kf, clusters=None, selector={}) as ns:  # the namespace goes to every cluster
        _, where = _cm_in(kf, ns, "cfg", place)
        assert where == expected


def test_namespace_not_federated(kf):
    with project(kf, federate=False) as ns:
        fed, where = _cm_in(kf, ns, "cfg", placement(MEMBERS))
        assert where == set()
        assert propagation(fed)["status"] == "False"
        assert propagation(fed)["reason"] == "NamespaceNotFederated"


# ---------------------------------------------------------------------------------------------- existing objects


def _precreate(kf, member, ns, name, labels):
    kf.kube(member).request("POST", "/api/v1/namespaces/%s/configmaps" % ns, {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, "labels": labels},
        "data": {"k": "theirs"}})


def test_managed_label_false_is_left_alone_and_unlabelled_is_adopted(kf):
    with project(kf) as ns:
        kf.wait(lambda: all(kf.kube(m).try_get("/api/v1/namespaces/" + ns) for m in MEMBERS), what="namespaces")
        _precreate(kf, "member1", ns, "cfg", {MANAGED: "false"})
        _precreate(kf, "member2", ns, "cfg", {})
        fed, _ = _cm_in(kf, ns, "cfg", placement(MEMBERS))
        assert cluster_statuses(fed) == {"member1": "ManagedLabelFalse", "member2": ""}
        assert propagation(fed)["reason"] == "CheckClusters"
        mine = kf.kube("member1").get("/api/v1/namespaces/%s/configmaps/cfg" % ns)
        assert mine["data"] == {"k": "theirs"} and mine["metadata"]["labels"][MANAGED] == "false"
        adopted = kf.kube("member2").get("/api/v1/namespaces/%s/configmaps/cfg" % ns)
        assert adopted["data"] == {"k": "v"} and adopted["metadata"]["labels"][MANAGED] == "true"


def test_already_exists_when_adoption_is_disabled(kf):
    kf.host.apply({"apiVersion": "core.kubefed.io/v1beta1", "kind": "KubeFedConfig",
                   "metadata": {"name": "kubefed", "namespace": FED_NS},
                   "spec": {"scope": "Cluster", "syncController": {"adoptResources": "Disabled"}}})
    try:
        with project(kf) as ns:
            kf.wait(lambda: all(kf.kube(m).try_get("/api/v1/namespaces/" + ns) for m in MEMBERS), what="namespaces")
            _precreate(kf, "member2", ns, "cfg", {})
            fed, _ = _cm_in(kf, ns, "cfg", placement(MEMBERS))
            assert cluster_statuses(fed) == {"member1": "", "member2": "AlreadyExists"}
            assert kf.kube("member2").get("/api/v1/namespaces/%s/configmaps/cfg" % ns)["data"] == {"k": "theirs"}
    finally:
        kf.host.request("DELETE", "/apis/core.kubefed.io/v1beta1/namespaces/%s/kubefedconfigs/kubefed" % FED_NS)


# ---------------------------------------------------------------------------------------------- overrides


@pytest.mark.parametrize("overrides,expected", [
    ([{"clusterName": "member2", "clusterOverrides": [{"op": "replace", "path": "/data/nested/key", "value": "x"}]}],
     {"member1": "", "member2": "ApplyOverridesFailed"}),
    ([{"clusterName": "member2", "clusterOverrides": [{"op": "remove", "path": "/data/missing"}]}],
     {"member1": "", "member2": "ApplyOverridesFailed"}),
    ([{"clusterName": "member1", "clusterOverrides": [{"path": "/metadata/name", "value": "x"}]}],
     {"member1": "ApplyOverridesFailed", "member2": "ApplyOverridesFailed"}),
    ([{"clusterName": "member1"}, {"clusterName": "member1"}],
     {"member1": "ApplyOverridesFailed", "member2": "ApplyOverridesFailed"}),
], ids=["replace-missing-parent", "remove-missing", "forbidden-path", "cluster-twice"])
def test_apply_overrides_failed(kf, overrides, expected):
    with project(kf) as ns:
        obj = cm("cfg")
        obj["metadata"]["namespace"] = ns
        obj["spec"].update(placement=placement(MEMBERS), overrides=overrides)
        create(kf, obj)
        fed = kf.wait(lambda: kf.propagated("federatedconfigmaps", ns, "cfg"), what="status")
        assert cluster_statuses(fed) == expected
        assert propagation(fed)["reason"] == "CheckClusters"
        for m, status in expected.items():
            present = kf.kube(m).try_get("/api/v1/namespaces/%s/configmaps/cfg" % ns) is not None
            assert present == (status == "")


# ---------------------------------------------------------------------------------------------- update and removal


def test_update_placement_change_and_delete(kf):
    with project(kf) as ns:
        _cm_in(kf, ns, "cfg", placement(MEMBERS))
        path = "%s/namespaces/%s/federatedconfigmaps/cfg" % (TYPES, ns)
        member_path = "/api/v1/namespaces/%s/configmaps/cfg" % ns
        # template and override changes are pushed
        kf.host.merge_patch(path, {"spec": {"template": {"data": {"k": "new"}}, "overrides": [
            {"clusterName": "member1", "clusterOverrides": [{"op": "add", "path": "/data/extra", "value": "1"}]}]}})
        kf.wait(lambda: kf.kube("member1").get(member_path)["data"] == {"k": "new", "extra": "1"}
                and kf.kube("member2").get(member_path)["data"] == {"k": "new"}, what="update")
        # a cluster leaving the placement loses its copy
        kf.host.merge_patch(path, {"spec": {"placement": {"clusters": [{"name": "member1"}]}}})
        kf.wait(lambda: kf.gone(kf.kube("member2"), member_path), what="removal from member2")
        fed = kf.wait(lambda: cluster_statuses(kf.fed("federatedconfigmaps", ns, "cfg")) == {"member1": ""}
                      and kf.fed("federatedconfigmaps", ns, "cfg"), what="status after removal")
        assert kf.kube("member1").try_get(member_path) is not None
        # deleting the federated object removes the member copies, then the finalizer
        kf.host.request("DELETE", path)
        kf.wait(lambda: kf.gone(kf.host, path), what="federated object gone")
        assert kf.kube("member1").try_get(member_path) is None
        assert fed["metadata"]["finalizers"] == ["kubefed.io/sync-controller"]


def test_unmanaged_member_object_is_not_removed(kf):
    """kubefed only sees member objects labelled kubefed.io/managed=true; others are never deleted."""
    with project(kf, clusters=("member1",)) as ns:
        kf.wait(lambda: kf.kube("member1").try_get("/api/v1/namespaces/" + ns), what="namespace")
        kf.kube("member2").request("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
        _precreate(kf, "member2", ns, "cfg", {})
        _, where = _cm_in(kf, ns, "cfg", placement(MEMBERS))
        assert where == {"member1", "member2"}  # member2's own copy stays: not placed, not managed
        theirs = kf.kube("member2").get("/api/v1/namespaces/%s/configmaps/cfg" % ns)
        assert theirs["data"] == {"k": "theirs"} and MANAGED not in (theirs["metadata"].get("labels") or {})
    kf.kube("member2").request("DELETE", "/api/v1/namespaces/" + ns)
    kf.ctl.finalize_namespace(kf.kube("member2"), ns)


# ---------------------------------------------------------------------------------------------- RSP


def _deployment(ns, name):
    fd = federated("FederatedDeployment", ns, name, KINDS["FederatedDeployment"][1], placement(["member1"]), [
        {"clusterName": "member1", "clusterOverrides": [{"path": "/spec/template/spec/containers/0/image",
                                                          "value": "nginx:2"}]},
        {"clusterName": "old", "clusterOverrides": [{"path": "/spec/replicas", "value": 5},
                                                    {"path": "/metadata/labels", "value": {"x": "y"}}]}])
    return fd


def rsp(ns, name, spec):
    return {"apiVersion": "scheduling.kubefed.io/v1alpha1", "kind": "ReplicaSchedulingPreference",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def test_rsp_writes_placement_and_replicas_from_the_planner(kf):
    with project(kf) as ns:
        create(kf, _deployment(ns, "web"))
        prefs = {"member1": {"weight": 2}, "member2": {"weight": 3}}
        kf.host.request("POST", "/apis/scheduling.kubefed.io/v1alpha1/namespaces/%s/replicaschedulingpreferences" % ns,
                        rsp(ns, "web", {"targetKind": "FederatedDeployment", "totalReplicas": 10, "rebalance": True,
                                        "clusters": prefs}))
        expected, _ = plan(prefs, 10, sorted(MEMBERS), key="%s/web" % ns)
        assert expected == {"member1": 4, "member2": 6}

        def scheduled():
            fd = kf.fed("federateddeployments", ns, "web")
            return fd if len(fd["spec"]["placement"]["clusters"]) == 2 else None

        fd = kf.wait(scheduled, what="RSP result")
        assert sorted(c["name"] for c in fd["spec"]["placement"]["clusters"]) == sorted(MEMBERS)
        ops = {o["clusterName"]: o["clusterOverrides"] for o in fd["spec"]["overrides"]}
        assert ops["member1"] == [{"path": "/spec/template/spec/containers/0/image", "value": "nginx:2"},
                                  {"path": "/spec/replicas", "value": 4}]
        assert ops["member2"] == [{"path": "/spec/replicas", "value": 6}]
        assert ops["old"] == [{"path": "/metadata/labels", "value": {"x": "y"}}]  # replicas override removed
        target = "/apis/apps/v1/namespaces/%s/deployments/web" % ns
        deps = kf.wait(lambda: [kf.kube(m).try_get(target) for m in MEMBERS] if all(
            (kf.kube(m).try_get(target) or {}).get("status", {}).get("readyReplicas") for m in MEMBERS) else None,
            what="member Deployments ready")
        assert {m: d["spec"]["replicas"] for m, d in zip(MEMBERS, deps)} == expected
        assert {m: d["status"]["readyReplicas"] for m, d in zip(MEMBERS, deps)} == expected
        assert deps[0]["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"


def test_rsp_with_intersect_uses_the_selector(kf):
    with project(kf, clusters=None, selector={}) as ns:
        fd = _deployment(ns, "web")
        fd["spec"]["placement"] = placement(selector={"matchLabels": {"env": "dev"}})
        create(kf, fd)
        kf.host.request("POST", "/apis/scheduling.kubefed.io/v1alpha1/namespaces/%s/replicaschedulingpreferences" % ns,
                        rsp(ns, "web", {"targetKind": "FederatedDeployment", "totalReplicas": 3,
                                        "intersectWithClusterSelector": True}))
        fd = kf.wait(lambda: kf.fed("federateddeployments", ns, "web")["spec"]["placement"].get("clusters")
                     and kf.fed("federateddeployments", ns, "web"), what="RSP result")
        assert fd["spec"]["placement"]["clusters"] == [{"name": "member2"}]
        assert {o["clusterName"]: o["clusterOverrides"] for o in fd["spec"]["overrides"]}["member2"] == [
            {"path": "/spec/replicas", "value": 3}]


def test_rsp_with_wrong_target_kind_is_rejected(kf):
    with project(kf) as ns:
        create(kf, _deployment(ns, "web"))
        before = kf.fed("federateddeployments", ns, "web")["spec"]
        kf.host.request("POST", "/apis/scheduling.kubefed.io/v1alpha1/namespaces/%s/replicaschedulingpreferences" % ns,
                        rsp(ns, "web", {"targetKind": "FederatedStatefulSet", "totalReplicas": 3}))
        event = kf.wait(lambda: kf.host.try_get("/api/v1/namespaces/%s/events/web.kslab-targetkind" % ns),
                        what="Warning event")
        assert event["type"] == "Warning" and event["reason"] == "InvalidTargetKind"
        assert event["message"] == "RSP target kind: FederatedStatefulSet is incorrect"
        assert kf.fed("federateddeployments", ns, "web")["spec"] == before


def test_builtin_types_are_the_ftcs_of_the_lab_crds():
    """Without FederatedTypeConfigs on the host the stand-in syncs the five kinds of crds/federated-types.yaml."""
    got = {(t.fed_kind, t.target_kind, t.target_api_version, t.namespaced) for t in _builtin_types()}
    assert got == {("FederatedNamespace", "Namespace", "v1", False), ("FederatedConfigMap", "ConfigMap", "v1", True),
                   ("FederatedSecret", "Secret", "v1", True), ("FederatedDeployment", "Deployment", "apps/v1", True),
                   ("FederatedService", "Service", "v1", True)}
