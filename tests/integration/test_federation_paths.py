"""Federation paths test_federation.py does not cover, against the lab's REAL kubefed v0.8.1 and member
kube-apiservers: quantities the member's API server canonicalises (no drift, no change on a rerun), a
FederatedService (what the member allocates is not drift), a StatefulSet with per-cluster replicas by count,
and the refusal when a member does not serve the API version a resource needs (member_api_versions).

A private lab joined as test_federation.py's `fed` (KSLAB_PRIVATE_PORT_BASE sets its port base; it uses
base+100.. so that it never meets test_federation.py's lab). KSLAB_FEDERATION_LAB=<state dir> uses an already
running lab instead (joined if needed, left running): for working on these tests."""

import copy
import os

import pytest
import yaml

from auditlog import AuditLog
from test_federation import (MEMBERS, TYPES, info, joined_fleet, kubeconfig_vars, play, private_lab_env, run_playbook,
                             wait_for)


@pytest.fixture(scope="module")
def fleet(make_module_lab):
    state = os.environ.get("KSLAB_FEDERATION_LAB")
    if state:
        import importlib.util  # noqa: PLC0415  tests/conftest.py (conftest modules are not importable by name)

        spec = importlib.util.spec_from_file_location(
            "_tests_conftest", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "conftest.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return joined_fleet(mod.LabHandle(dict(os.environ, KSLAB_STATE=state)))
    return joined_fleet(make_module_lab(members=2, extra_env=private_lab_env(100)))


def _project(ns, state="present"):
    args = {"kubeconfig": "{{ hk }}", "name": ns, "workspace": "paths", "clusters": MEMBERS, "state": state}
    if state == "absent":
        args["confirm"] = ns
    else:
        args["wait"] = True
        args["wait_timeout"] = 300
    return {"name": "project", "kubesphere.multicluster.federated_project": args}


@pytest.fixture(scope="module")
def project(fleet):
    ns = "paths-" + os.urandom(3).hex()
    run = run_playbook(play([_project(ns)]), "localhost,", extra_vars=kubeconfig_vars(fleet))
    assert run.rc == 0, run
    yield ns
    run_playbook(play([_project(ns, "absent")]), "localhost,", extra_vars=kubeconfig_vars(fleet))


def resource_task(definition, name="resource", **args):
    task = dict({"kubeconfig": "{{ hk }}", "definition": definition, "clusters": MEMBERS, "wait": True,
                 "wait_timeout": 300}, **args)
    return {"name": name, "kubesphere.multicluster.federated_resource": task}


def apply_twice(fleet, tasks):
    """Runs `tasks`, then again: the second run must change nothing and write nothing (audit log)."""
    first = run_playbook(play(tasks), "localhost,", extra_vars=kubeconfig_vars(fleet), diff=True)
    assert first.rc == 0, first
    audit = AuditLog.for_lab(fleet)
    mark = audit.mark()
    second = run_playbook(play(tasks), "localhost,", extra_vars=kubeconfig_vars(fleet))
    assert second.rc == 0, second
    assert dict((h, s.get("changed")) for h, s in second.stats_of().items()) == {"localhost": 0}, second
    audit.sync(fleet)
    assert audit.writes_by_collection(since=mark) == []
    return first


def member_rows(fleet, m, ns, kind, name):
    """federation_info's rows for one object on member m."""
    result = info(fleet, m, ns, names=[name])
    for r in result["resources"]:
        if r["kind"] == kind and r["name"] == name:
            return r["members"]
    raise AssertionError("federation_info on %s does not report %s %s: %r" % (m, kind, name, result))


def in_sync_on(fleet, m, ns, kind, name):
    rows = member_rows(fleet, m, ns, kind, name)
    return rows if rows and rows[0]["state"] == "in_sync" else None


# --------------------------------------------------------------------------------------------- quantities

def test_quantities_canonicalised_by_the_member_are_not_drift(fleet, project):
    ns = project
    pod = {"containers": [{"name": "app", "image": "nginx:1.25",
                           "resources": {"requests": {"cpu": 0.5, "memory": "1024Mi"},
                                         "limits": {"cpu": "1000m", "memory": "1.5Gi"}}}],
           "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "0.5Gi"}}]}
    dep = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "qty", "namespace": ns, "labels": {"app": "qty"}},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "qty"}},
                    "template": {"metadata": {"labels": {"app": "qty"}}, "spec": pod}}}
    apply_twice(fleet, [resource_task(dep)])
    path = "/apis/apps/v1/namespaces/%s/deployments/qty" % ns
    for m in MEMBERS:
        live = wait_for(lambda m=m: fleet.client(m).try_get(path), 240, "the Deployment on %s" % m)
        pod = live["spec"]["template"]["spec"]
        # the member's API server stored the canonical forms: the comparison has something to do
        assert pod["containers"][0]["resources"] == {"requests": {"cpu": "500m", "memory": "1Gi"},
                                                     "limits": {"cpu": "1", "memory": "1536Mi"}}, pod
        assert pod["volumes"][0]["emptyDir"]["sizeLimit"] == "512Mi"
        rows = wait_for(lambda m=m: in_sync_on(fleet, m, ns, "Deployment", "qty"), 240,
                        "federation_info in_sync on %s" % m)
        assert rows[0]["fields"] == []
    # a real difference of value is still drift (kubefed reverts a hand edit ~10 s later: read at once)
    fleet.client("member1").request("PATCH", path, [{"op": "replace", "value": "600m",
                                                     "path": "/spec/template/spec/containers/0/resources/requests/cpu"}],
                                    content_type="application/json-patch+json")
    rows = member_rows(fleet, "member1", ns, "Deployment", "qty")
    if rows[0]["state"] == "drifted":   # not yet reverted by kubefed
        assert rows[0]["fields"] == ["/spec/template/spec/containers/0/resources/requests/cpu"], rows
    wait_for(lambda: in_sync_on(fleet, "member1", ns, "Deployment", "qty"), 240, "kubefed to revert the edit")


# --------------------------------------------------------------------------------------------- Service

def test_federated_service_allocations_on_members_are_not_drift(fleet, project):
    ns = project
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": ns, "labels": {"app": "web"}},
           "spec": {"type": "NodePort", "selector": {"app": "web"},
                    "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
                              {"name": "metrics", "protocol": "TCP", "port": 9100, "targetPort": "metrics"}]}}
    first = apply_twice(fleet, [resource_task(svc, settings={"member2": {"overrides": [
        {"path": "/spec/type", "value": "ClusterIP"}]}})])
    assert first.results("resource")["localhost"]["placement"] == MEMBERS
    path = "/api/v1/namespaces/%s/services/web" % ns
    for m in MEMBERS:
        live = wait_for(lambda m=m: fleet.client(m).try_get(path), 240, "the Service on %s" % m)
        spec = live["spec"]
        assert spec["clusterIP"] and spec["clusterIPs"] == [spec["clusterIP"]], spec
        assert [p["targetPort"] for p in spec["ports"]] == [8080, "metrics"]
        if m == "member1":
            assert spec["type"] == "NodePort" and all(p.get("nodePort") for p in spec["ports"]), spec
        else:
            assert spec["type"] == "ClusterIP" and not any(p.get("nodePort") for p in spec["ports"]), spec
        wait_for(lambda m=m: in_sync_on(fleet, m, ns, "Service", "web"), 240, "the Service in_sync on %s" % m)
    # the two members allocated on their own: what is retained per member differs, and neither is drift
    ips = [fleet.client(m).get(path)["spec"]["clusterIP"] for m in MEMBERS]
    assert all(ips)
    # a changed port (a real change) reaches the members and keeps member1's node port of the other one
    before = fleet.client("member1").get(path)["spec"]["ports"][1]["nodePort"]
    svc2 = copy.deepcopy(svc)
    svc2["spec"]["ports"][0]["port"] = 81
    run = run_playbook(play([resource_task(svc2, settings={"member2": {"overrides": [
        {"path": "/spec/type", "value": "ClusterIP"}]}})]), "localhost,", extra_vars=kubeconfig_vars(fleet))
    assert run.rc == 0 and run.results("resource")["localhost"]["changed"] is True, run

    def updated():
        ports = fleet.client("member1").get(path)["spec"]["ports"]
        return ports if ports[0]["port"] == 81 else None
    ports = wait_for(updated, 240, "the port change on member1")
    assert ports[1]["nodePort"] == before
    wait_for(lambda: in_sync_on(fleet, "member1", ns, "Service", "web"), 240, "in_sync after the change")


# --------------------------------------------------------------------------------------------- StatefulSet

def test_statefulset_with_replicas_by_count(fleet, project):
    ns = project
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet",
           "metadata": {"name": "db", "namespace": ns, "labels": {"app": "db"}},
           "spec": {"replicas": 1, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                    "template": {"metadata": {"labels": {"app": "db"}},
                                 "spec": {"containers": [{"name": "db", "image": "postgres:16",
                                                          "resources": {"requests": {"memory": "0.25Gi"}}}]}},
                    "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                              "spec": {"accessModes": ["ReadWriteOnce"],
                                                       "resources": {"requests": {"storage": "0.5Gi"}}}}]}}
    settings = {"member1": {"replicas": 3}, "member2": {"replicas": 1}}
    first = apply_twice(fleet, [resource_task(sts, settings=settings)])
    result = first.results("resource")["localhost"]
    assert result["replicas"] == {"member1": 3, "member2": 1}, result
    assert result["rsp"] is None
    host = fleet.client(fleet.host)
    fss = host.get("%s/namespaces/%s/federatedstatefulsets/db" % (TYPES, ns))
    written = dict((o["clusterName"], co["value"]) for o in fss["spec"].get("overrides") or []
                   for co in o["clusterOverrides"] if co["path"] == "/spec/replicas")
    assert written == {"member1": 3, "member2": 1}
    path = "/apis/apps/v1/namespaces/%s/statefulsets/db" % ns
    for m, want in (("member1", 3), ("member2", 1)):
        live = wait_for(lambda m=m: fleet.client(m).try_get(path), 240, "the StatefulSet on %s" % m)
        assert live["spec"]["replicas"] == want
        assert live["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "512Mi"
        wait_for(lambda m=m: in_sync_on(fleet, m, ns, "StatefulSet", "db"), 240, "in_sync on %s" % m)
    # 0 replicas removes the cluster from the placement (as the console does): kubefed deletes it there
    settings = {"member1": {"replicas": 2}, "member2": {"replicas": 0}}
    run = run_playbook(play([resource_task(sts, settings=settings)]), "localhost,", extra_vars=kubeconfig_vars(fleet))
    assert run.rc == 0, run
    result = run.results("resource")["localhost"]
    assert result["replicas"] == {"member1": 2, "member2": 0} and result["placement"] == ["member1"], result
    wait_for(lambda: (fleet.client("member1").try_get(path) or {}).get("spec", {}).get("replicas") == 2, 240,
             "2 replicas on member1")
    wait_for(lambda: fleet.client("member2").try_get(path) is None, 240, "the StatefulSet removed from member2")
    rows = member_rows(fleet, "member2", ns, "StatefulSet", "db")
    assert rows == [], rows   # not placed on member2 any more: nothing to compare there


# --------------------------------------------------------------------------------------------- API versions

WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.paths.example.com"},
    "spec": {"group": "paths.example.com", "scope": "Namespaced",
             "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object",
                                                          "x-kubernetes-preserve-unknown-fields": True}}}]}}


def _federated_widget_crd():
    crd = copy.deepcopy(WIDGET_CRD)
    crd["metadata"]["name"] = "federatedwidgets.types.kubefed.io"
    crd["spec"]["group"] = "types.kubefed.io"
    crd["spec"]["names"] = {"kind": "FederatedWidget", "plural": "federatedwidgets", "singular": "federatedwidget",
                            "listKind": "FederatedWidgetList"}
    version = crd["spec"]["versions"][0]
    version["name"] = "v1beta1"
    version["subresources"] = {"status": {}}
    return crd


WIDGET_FTC = {
    "apiVersion": "core.kubefed.io/v1beta1", "kind": "FederatedTypeConfig",
    "metadata": {"name": "widgets.paths.example.com", "namespace": "kube-federation-system"},
    "spec": {"propagation": "Enabled",
             "targetType": {"group": "paths.example.com", "version": "v1", "kind": "Widget", "pluralName": "widgets",
                            "scope": "Namespaced"},
             "federatedType": {"group": "types.kubefed.io", "version": "v1beta1", "kind": "FederatedWidget",
                               "pluralName": "federatedwidgets", "scope": "Namespaced"}}}


def _served(fleet, ns, want):
    """{member: api_versions} from federation_info, once `want(member, versions)` holds for each."""
    out = {}
    for m in MEMBERS:
        def served(m=m):
            versions = info(fleet, m, ns)["api_versions"]
            return versions if want(m, versions) else None
        out[m] = wait_for(served, 120, "discovery of %s" % m)
    return out


def test_a_member_that_does_not_serve_the_api_version_is_refused(fleet, project):
    """Widget (paths.example.com/v1) is served by the host and member1, not by member2; the host federates it
    (FederatedTypeConfig + FederatedWidget CRD). federation_info reads what each member serves and
    federated_resource refuses before any write: member2 when it is placed, and also when the Widget goes to
    member1 only, because kubefed v0.8.1 propagates a kind only once its watch of it synced on every Ready
    member (seen on this lab: nothing reached member1 while member2 did not serve the kind). With the CRD on
    member2 too, the same task passes and the real kubefed propagates the Widget."""
    ns = project
    group_version = "paths.example.com/v1"
    for name in (fleet.host, "member1"):
        fleet.client(name).ensure(copy.deepcopy(WIDGET_CRD))
    host = fleet.client(fleet.host)
    host.ensure(_federated_widget_crd())
    wait_for(lambda: host.try_get("/apis/types.kubefed.io/v1beta1/namespaces/%s/federatedwidgets" % ns) is not None,
             120, "FederatedWidget served on the host")
    host.ensure(copy.deepcopy(WIDGET_FTC))
    served = _served(fleet, ns, lambda m, v: m == "member2" or group_version in v)
    assert group_version in served["member1"] and group_version not in served["member2"]
    assert "apps/v1" in served["member2"]
    widget = {"apiVersion": group_version, "kind": "Widget", "metadata": {"name": "w", "namespace": ns},
              "spec": {"size": "small"}}
    fw_path = "/apis/types.kubefed.io/v1beta1/namespaces/%s/federatedwidgets/w" % ns
    audit = AuditLog.for_lab(fleet)
    for clusters, code in ((MEMBERS, "api_not_served"), (["member1"], "api_not_served_by_member")):
        mark = audit.mark()
        run = run_playbook(play([resource_task(widget, name="bad", clusters=clusters, member_api_versions=served)]),
                           "localhost,", extra_vars=kubeconfig_vars(fleet))
        result = run.results("bad")["localhost"]
        assert run.rc != 0 and result.get("failed"), run
        assert [(p["code"], p["cluster"]) for p in result["problems"]] == [(code, "member2")], result
        assert "member2" in result["msg"] and group_version in result["msg"]
        audit.sync(fleet)
        assert audit.writes_by_collection(since=mark) == []
        assert host.try_get(fw_path) is None
    # the API on member2 too: the facts change, the check passes and kubefed propagates to both members
    fleet.client("member2").ensure(copy.deepcopy(WIDGET_CRD))
    served = _served(fleet, ns, lambda m, v: group_version in v)
    run = run_playbook(play([resource_task(widget, member_api_versions=served,
                                           settings={"member2": {"overrides": [
                                               {"path": "/spec/size", "value": "large"}]}})]),
                       "localhost,", extra_vars=kubeconfig_vars(fleet))
    assert run.rc == 0, run
    for m, size in (("member1", "small"), ("member2", "large")):
        live = wait_for(lambda m=m: fleet.client(m).try_get("/apis/%s/namespaces/%s/widgets/w" % (group_version, ns)),
                        240, "the Widget on %s" % m)
        assert live["spec"] == {"size": size}
        assert live["metadata"]["labels"]["kubefed.io/managed"] == "true"


# --------------------------------------------------------------------------------------------- workspace placement

WT_PATH = "/apis/tenant.kubesphere.io/v1alpha2/workspacetemplates/"
FWS_PATH = "/apis/types.kubefed.io/v1beta1/federatedworkspaces/"
WS_PATH = "/apis/tenant.kubesphere.io/v1alpha1/workspaces/"


@pytest.fixture
def workspacetemplate_controller(fleet, tmp_path):
    """KubeSphere 3.4.1's real workspacetemplate controller on the lab's host. The lab's ks-controller-manager
    runs the cluster controller only (--controllers=cluster), so this starts the same binary a second time
    with --controllers=workspacetemplate, the host's ks-controller-manager identity, config and webhook
    certificate, on the two spare ports of the host's block (ks_webhook+5 and +6); stopped after the test."""
    import json  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    from kslabkit import lab as kslab  # noqa: PLC0415

    state = fleet.state_dir
    with open(os.path.join(state, "lab.json")) as f:
        ports = json.load(f)["clusters"][fleet.host]["ports"]
    kcm_dir = os.path.join(state, fleet.host, "ks-controller-manager")
    with open(os.path.join(kcm_dir, "kubesphere.yaml")) as src, open(str(tmp_path / "kubesphere.yaml"), "w") as dst:
        dst.write(src.read())
    env = dict(os.environ, KSLAB_KS_WEBHOOK_PORT=str(ports["ks_webhook"] + 5),
               KSLAB_KS_METRICS_ADDR="127.0.0.1:%d" % (ports["ks_webhook"] + 6), NO_PROXY="127.0.0.1,localhost")
    env.pop("KUBECONFIG", None)
    log_path = tmp_path / "ks-controller-manager.log"
    argv = [kslab.binary("ks-controller-manager"), "--controllers=workspacetemplate",
            "--kubeconfig=%s" % os.path.join(state, fleet.host, "identities", "ks-controller-manager.kubeconfig"),
            "--webhook-cert-dir=%s" % os.path.join(kcm_dir, "webhook-certs"), "--leader-elect=false", "--v=2"]
    running = {}

    def started():
        """Started, or (re)started when the machine had no inotify instance left (its certificate watcher
        needs one; fs.inotify.max_user_instances is shared by every lab on the machine)."""
        proc = running.get("proc")
        if proc is None or proc.poll() is not None:
            text = log_path.read_text() if log_path.exists() else ""
            assert proc is None or "too many open files" in text, "ks-controller-manager exited: %s" % text
            with open(str(log_path), "w") as log:
                running["proc"] = subprocess.Popen(argv, cwd=str(tmp_path), env=env, stdout=log,
                                                   stderr=subprocess.STDOUT)
            return False
        return '"Starting workers" controller="workspacetemplate-controller"' in log_path.read_text()
    try:
        wait_for(started, 300, "the workspacetemplate controller to start", interval=3)
        yield running["proc"]
    finally:
        proc = running.get("proc")
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_workspace_placement_reaches_the_members_through_kubesphere_and_kubefed(fleet, workspacetemplate_controller):
    """federated_project with workspace_placement writes only the WorkspaceTemplate (placement = the project's
    clusters). KubeSphere's workspacetemplate controller (ks-controller-manager on the host, multi-cluster
    mode) labels it kubefed.io/managed "false", adds its finalizer and creates the FederatedWorkspace with the
    same spec; kubefed (FederatedTypeConfig workspaces.tenant.kubesphere.io) creates the Workspace on each
    placed member. Nothing of that is written by the collection. Not covered: the member side of KubeSphere
    (its workspace controller's finalizer on the Workspace; member namespaces, kubefed-managed, are never
    bound to it); the lab runs no ks-controller-manager on members (docs/drafts/federation-modules.md)."""
    ws, ns = "wsp-" + os.urandom(3).hex(), "wsproj-" + os.urandom(3).hex()
    host = fleet.client(fleet.host)
    audit = AuditLog.for_lab(fleet)
    mark = audit.mark()
    task = {"name": "project", "kubesphere.multicluster.federated_project": {
        "kubeconfig": "{{ hk }}", "name": ns, "workspace": ws, "clusters": MEMBERS, "workspace_placement": True,
        "wait": True, "wait_timeout": 300}}
    try:
        run = run_playbook(play([task]), "localhost,", extra_vars=kubeconfig_vars(fleet), diff=True)
        assert run.rc == 0, run
        wt = host.get(WT_PATH + ws)
        assert sorted(c["name"] for c in wt["spec"]["placement"]["clusters"]) == MEMBERS

        def federated_workspace():
            fws = host.try_get(FWS_PATH + ws)
            wt_now = host.get(WT_PATH + ws)
            # the same spec, read back through KubeSphere's Go types (an empty template gains
            # metadata.creationTimestamp: null there): compare what matters, placement and overrides
            same = fws and all((fws.get("spec") or {}).get(k) == (wt_now.get("spec") or {}).get(k)
                               for k in ("placement", "overrides"))
            return (fws, wt_now) if same else None
        fws, wt = wait_for(federated_workspace, 240, "KubeSphere's FederatedWorkspace %s" % ws)
        assert wt["metadata"]["labels"].get("kubefed.io/managed") == "false", wt["metadata"]
        assert "finalizers.workspacetemplate.kubesphere.io" in (wt["metadata"].get("finalizers") or []), wt["metadata"]
        for m in MEMBERS:
            live = wait_for(lambda m=m: fleet.client(m).try_get(WS_PATH + ws), 240, "Workspace %s on %s" % (ws, m))
            assert live["metadata"]["labels"].get("kubefed.io/managed") == "true", live["metadata"]
        # the host is not in the placement: kubefed puts no Workspace there
        assert host.try_get(WS_PATH + ws) is None
        audit.sync(fleet)
        writes = audit.writes_by_collection(since=mark)
        assert not [r for r in writes if r.resource in ("federatedworkspaces", "workspaces")], writes
        fws_writers = set(r.user for r in audit.requests(since=mark, verbs=("create", "update", "patch"))
                          if r.resource == "federatedworkspaces" and r.succeeded)
        assert fws_writers and "kslab-admin" not in fws_writers, fws_writers
        # a rerun (KubeSphere added a label and a finalizer to the WorkspaceTemplate) changes nothing
        mark = audit.mark()
        run = run_playbook(play([task]), "localhost,", extra_vars=kubeconfig_vars(fleet))
        assert run.rc == 0 and run.results("project")["localhost"]["changed"] is False, run
        audit.sync(fleet)
        assert audit.writes_by_collection(since=mark) == []
    finally:
        run_playbook(play([{"kubesphere.multicluster.federated_project": {
            "kubeconfig": "{{ hk }}", "name": ns, "workspace": ws, "state": "absent", "confirm": ns}}]),
            "localhost,", extra_vars=kubeconfig_vars(fleet))
        if host.try_get(WT_PATH + ws) is not None:
            host.request("DELETE", WT_PATH + ws)


def test_a_workspace_is_managed_across_clusters_through_kubesphere_and_kubefed(fleet, workspacetemplate_controller):
    """The workspace module writes only the WorkspaceTemplate (manager, alias, the clusters exactly); KubeSphere's
    real workspacetemplate controller makes the FederatedWorkspace and kubefed the Workspace on each member. A rerun
    writes nothing; a check-mode change writes nothing; removing a cluster a project of the workspace uses, and
    deleting a workspace that holds a project, are refused writing nothing; removing an unused cluster takes the
    Workspace off that member; the deletion (name typed again) removes the WorkspaceTemplate."""
    ws, ns = "wsm-" + os.urandom(3).hex(), "wsmproj-" + os.urandom(3).hex()
    host = fleet.client(fleet.host)
    audit = AuditLog.for_lab(fleet)

    def ws_task(name="workspace", ignore_errors=False, **args):
        task = dict({"kubeconfig": "{{ hk }}", "name": ws, "clusters": MEMBERS, "manager": "admin",
                     "alias_name": "Retail", "wait": True, "wait_timeout": 300}, **args)
        return {"name": name, "kubesphere.multicluster.workspace": task, "ignore_errors": ignore_errors}

    def project_task(clusters, state="present"):
        args = {"kubeconfig": "{{ hk }}", "name": ns, "workspace": ws, "clusters": clusters, "state": state,
                "wait": state == "present", "wait_timeout": 300}
        if state == "absent":
            args["confirm"] = ns
        return {"name": "project", "kubesphere.multicluster.federated_project": args}

    def run(tasks, **kw):
        return run_playbook(play(tasks), "localhost,", extra_vars=kubeconfig_vars(fleet), **kw)

    try:
        first = run([ws_task()], diff=True)
        assert first.rc == 0, first
        result = first.results("workspace")["localhost"]
        assert result["changed"] is True, result
        assert [(s["kind"], s.get("verb")) for s in result["plan"]] == [("create", "create"), ("wait", None)], result
        assert not result.get("warnings"), result  # the manager is a User of the host (KubeSphere's admin)
        wt = host.get(WT_PATH + ws)
        assert wt["spec"]["template"]["spec"]["manager"] == "admin"
        assert sorted(c["name"] for c in wt["spec"]["placement"]["clusters"]) == MEMBERS
        fws = host.get(FWS_PATH + ws)  # the wait ended when KubeSphere made it and kubefed propagated it
        assert sorted(c["name"] for c in fws["spec"]["placement"]["clusters"]) == MEMBERS
        for m in MEMBERS:
            assert fleet.client(m).try_get(WS_PATH + ws) is not None, m

        mark = audit.mark()
        again = run([ws_task()])
        assert again.rc == 0 and again.results("workspace")["localhost"]["changed"] is False, again
        checked = run([ws_task(clusters=["member1"])], check=True, diff=True)
        shown = checked.results("workspace")["localhost"]
        assert checked.rc == 0 and shown["changed"] is True and shown["plan"][0]["verb"] == "patch", checked
        audit.sync(fleet)
        assert audit.writes_by_collection(since=mark) == []

        # a project of the workspace on member1: member1 cannot leave the workspace, the workspace cannot go
        assert run([project_task(["member1"])]).rc == 0
        mark = audit.mark()
        refused = run([ws_task(clusters=["member2"], ignore_errors=True),
                       ws_task("delete", state="absent", confirm=ws, clusters=[], ignore_errors=True),
                       ws_task("nobody", manager="nobody-" + ws, ignore_errors=True)])
        kept = refused.results("workspace")["localhost"]
        assert kept["failed"] and [p["code"] for p in kept["problems"]] == ["workspace_in_use"], kept
        assert kept["problems"][0]["cluster"] == "member1" and ns in kept["problems"][0]["message"]
        gone = refused.results("delete")["localhost"]
        assert gone["failed"] and [p["code"] for p in gone["problems"]] == ["workspace_not_empty"], gone
        nobody = refused.results("nobody")["localhost"]
        assert nobody["failed"] and [p["code"] for p in nobody["problems"]] == ["manager_not_found"], nobody
        audit.sync(fleet)
        assert audit.writes_by_collection(since=mark) == []

        # member2 holds no project of it: it leaves the workspace, kubefed removes its Workspace
        shrink = run([ws_task(clusters=["member1"])])
        assert shrink.rc == 0 and shrink.results("workspace")["localhost"]["changed"] is True, shrink
        wait_for(lambda: fleet.client("member2").try_get(WS_PATH + ws) is None, 240, "Workspace %s off member2" % ws)
        assert fleet.client("member1").try_get(WS_PATH + ws) is not None

        assert run([project_task([], "absent")]).rc == 0
        deleted = run([ws_task("delete", state="absent", confirm=ws, clusters=[])])
        assert deleted.rc == 0 and deleted.results("delete")["localhost"]["changed"] is True, deleted
        wait_for(lambda: host.try_get(WT_PATH + ws) is None, 240, "WorkspaceTemplate %s deleted" % ws)
        # the project's name is used again below: its host Namespace must be gone, not still terminating (the
        # module refuses a project whose Namespace is being deleted; on a loaded machine that takes a while)
        wait_for(lambda: host.try_get("/api/v1/namespaces/" + ns) is None, 240, "Namespace %s deleted" % ns)

        # the role: a new workspace and a project in it in one run (the project's check pass, before the first
        # write, judges it against the workspace the run makes), then both deleted in one run
        fleet_vars = {"kubesphere_kubeconfig": fleet.kubeconfig(fleet.host), "kubesphere_cluster_name": fleet.host}
        role_play = yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "connection": "local",
                                     "vars": dict(fleet_vars, ansible_python_interpreter="{{ ansible_playbook_python }}"),
                                     "roles": ["kubesphere.multicluster.federated_project"]}])
        made = run_playbook(role_play, "localhost,", extra_vars={
            "kubesphere_workspaces": [{"name": ws, "clusters": ["member1"], "alias_name": "Retail"}],
            "kubesphere_projects": [{"name": ns, "workspace": ws, "clusters": ["member1"]}]})
        assert made.rc == 0, made
        assert sorted(c["name"] for c in host.get(WT_PATH + ws)["spec"]["placement"]["clusters"]) == ["member1"]
        assert host.get("/api/v1/namespaces/" + ns)["metadata"]["labels"]["kubesphere.io/workspace"] == ws
        removed = run_playbook(role_play, "localhost,", extra_vars={
            "kubesphere_projects_absent": [{"name": ns, "confirm": ns}],
            "kubesphere_workspaces_absent": [{"name": ws, "confirm": ws}]})
        assert removed.rc == 0, removed
        wait_for(lambda: host.try_get(WT_PATH + ws) is None, 240, "WorkspaceTemplate %s deleted by the role" % ws)
    finally:
        run([project_task([], "absent")])
        if host.try_get(WT_PATH + ws) is not None:
            host.request("DELETE", WT_PATH + ws)
