"""federated_project, federated_resource and federation_info against the lab's REAL kubefed v0.8.1 (issue 11).

The fixture makes the session lab a joined fleet: site.yml sets the roles, then member1 and member2 are
imported as direct Clusters on the host (embedded admin kubeconfig, joinFederation true), as the console does;
the real ks-controller-manager creates their KubeFedClusters. (The join module is written elsewhere; this
fixture plays the console.) Every wait is a poll with a generous timeout (kubefed: health 10 s x 3, 20 s
availableDelay before objects reach a newly Ready cluster).

Run with a private lab: KSLAB_STATE=<worktree>/build/<name> KSLAB_PORT_BASE=<your range> pytest ..."""

import base64
import os
import signal
import time

from urllib.parse import urlsplit

import pytest
import yaml

from auditlog import AuditLog
from evidence import record
from lab_projects import shop_on
from polling import wait_for
from unbind_lab import sa_token_kubeconfig

_HERE = os.path.dirname(os.path.abspath(__file__))


def run_playbook(*args, **kwargs):
    """tests/integration/conftest.py's run_playbook (loaded by path: conftest modules are not importable)."""
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.spec_from_file_location("_integration_conftest", os.path.join(_HERE, "conftest.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.run_playbook(*args, **kwargs)


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MEMBERS = ["member1", "member2"]
CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters"
KFC = "/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/kubefedclusters"
TYPES = "/apis/types.kubefed.io/v1beta1"


def _cond(obj, kind):
    for c in (obj or {}).get("status", {}).get("conditions") or []:
        if c.get("type") == kind:
            return c.get("status")
    return None


def _uses_sa(cluster_obj):
    text = base64.b64decode(((cluster_obj.get("spec") or {}).get("connection") or {}).get("kubeconfig") or "")
    return b"kubesphere-fed-test" in text


def private_lab_env(offset=0):
    """extra_env for make_module_lab: KSLAB_PRIVATE_PORT_BASE (when set) + `offset` as the private lab's port
    base, so a session whose port range is assigned keeps its labs inside it (default: any free range)."""
    base = os.environ.get("KSLAB_PRIVATE_PORT_BASE")
    return {"KSLAB_PORT_BASE": str(int(base) + offset)} if base else None


def joined_fleet(lab):
    """Makes `lab` a joined fleet (see fed) and returns it."""
    host = lab.client(lab.host)
    wait_for(lambda: all(lab.client(n).try_get("/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config")
                         for n in lab.names), 120, "the installer stand-in's first render")
    if host.try_get("%s/%s" % (KFC, lab.host)) is None:
        # the roles only: this fixture imports the members itself (SA-token kubeconfigs, see above)
        run = run_playbook(os.path.join(REPO, "playbooks", "site.yml"), lab.inventory, timeout=900,
                           extra_vars={"kubesphere_join_members": []})
        assert run.rc == 0, run
        wait_for(lambda: _cond(host.try_get("%s/%s" % (CLUSTERS, lab.host)), "Ready") == "True", 400, "host Ready")
    for m in MEMBERS:
        existing = host.try_get("%s/%s" % (CLUSTERS, m))
        if existing is not None and _uses_sa(existing):
            continue
        kubeconfig = base64.b64encode(sa_token_kubeconfig(lab, m, "kubesphere-fed-test").encode()).decode()
        if existing is None:
            host.request("POST", CLUSTERS, {
                "apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
                "metadata": {"name": m, "labels": {"cluster.kubesphere.io/group": "testing"},
                             "annotations": {"kubesphere.io/creator": "admin"}},
                "spec": {"provider": "", "joinFederation": True, "enable": True,
                         "connection": {"type": "direct", "kubeconfig": kubeconfig}}})
        else:
            host.merge_patch("%s/%s" % (CLUSTERS, m), {"spec": {"connection": {"kubeconfig": kubeconfig}}})
    for m in MEMBERS:
        wait_for(lambda m=m: _cond(host.try_get("%s/%s" % (CLUSTERS, m)), "Ready") == "True", 400,
                 "Cluster %s Ready" % m)
        wait_for(lambda m=m: _cond(host.try_get("%s/%s" % (KFC, m)), "Ready") == "True", 400,
                 "KubeFedCluster %s Ready" % m)
    return lab


def running_lab():
    """The lab KSLAB_FEDERATION_LAB=<state dir> names (an already running lab, left running), else None."""
    state = os.environ.get("KSLAB_FEDERATION_LAB")
    if not state:
        return None
    import importlib.util  # noqa: PLC0415  tests/conftest.py (conftest modules are not importable by name)

    spec = importlib.util.spec_from_file_location("_tests_conftest", os.path.join(os.path.dirname(_HERE), "conftest.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.LabHandle(dict(os.environ, KSLAB_STATE=state))


@pytest.fixture(scope="module")
def fed(make_module_lab):
    """A private lab (the imports would change what later tests of the shared lab see) with roles set
    (site.yml) and member1/member2 imported as direct Clusters with a ServiceAccount token (as the console
    does) and Ready for kubefed. KSLAB_FEDERATION_LAB=<state dir> uses an already running lab instead."""
    return joined_fleet(running_lab() or make_module_lab(members=2, extra_env=private_lab_env()))


def kubeconfig_vars(lab):
    return {"hk": lab.kubeconfig(lab.host)}


def play(tasks, hosts="localhost"):
    return yaml.safe_dump([{"hosts": hosts, "gather_facts": False, "connection": "local",
                            "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                            "tasks": tasks}], sort_keys=False)


def project_tasks(ns, cm_value="info", image2="nginx:1.25-alpine", extra=None):
    secret_def = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": ns},
                  "type": "Opaque", "stringData": {"user": "shop", "password": "s3cr3t-fleet-pw"}}
    dep = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": ns, "labels": {"app": "web"}},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}}
    tasks = [
        {"name": "project", "kubesphere.multicluster.federated_project": {
            "kubeconfig": "{{ hk }}", "name": ns, "workspace": "retail", "clusters": MEMBERS,
            "alias_name": "Shop"}},
        {"name": "configmap", "kubesphere.multicluster.federated_resource": {
            "kubeconfig": "{{ hk }}",
            "definition": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": ns},
                           "data": {"LOG_LEVEL": cm_value, "REGION": "eu-west"}},
            "settings": {"member2": {"data": {"REGION": "ap-east"}}}}},
        {"name": "secret", "no_log": False, "kubesphere.multicluster.federated_resource": {
            "kubeconfig": "{{ hk }}", "definition": secret_def,
            "settings": {"member2": {"data": {"password": "s3cr3t-member2-pw"}}}}},
        {"name": "deployment", "kubesphere.multicluster.federated_resource": {
            "kubeconfig": "{{ hk }}", "definition": dep, "clusters": MEMBERS,
            "replicas_by_weight": {"total": 10, "weights": {"member1": 1, "member2": 3}},
            "settings": {"member2": {"image": {"web": image2}}}}},
    ]
    return tasks + (extra or [])


@pytest.fixture(scope="module")
def shop(fed):
    """A project deployed once by the modules (module scope: the tests below build on it)."""
    ns = "shop-" + os.urandom(3).hex()
    run = run_playbook(play(project_tasks(ns)), "localhost,", extra_vars=kubeconfig_vars(fed), diff=True)
    assert run.rc == 0, run
    yield {"ns": ns, "run": run}
    run_playbook(play([{"kubesphere.multicluster.federated_project": {
        "kubeconfig": "{{ hk }}", "name": ns, "workspace": "retail", "state": "absent", "confirm": ns}}]),
        "localhost,", extra_vars=kubeconfig_vars(fed))


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def member_state(lab, m, ns):
    c = lab.client(m)
    return {"ns": c.try_get("/api/v1/namespaces/" + ns),
            "cm": c.try_get("/api/v1/namespaces/%s/configmaps/cfg" % ns),
            "secret": c.try_get("/api/v1/namespaces/%s/secrets/db" % ns),
            "dep": c.try_get("/apis/apps/v1/namespaces/%s/deployments/web" % ns)}


def as_declared(lab, m, ns, cm_value="info"):
    s = member_state(lab, m, ns)
    if not all(s.values()):
        return None
    want_region = "ap-east" if m == "member2" else "eu-west"
    want_pw = "s3cr3t-member2-pw" if m == "member2" else "s3cr3t-fleet-pw"
    want_image = "nginx:1.25-alpine" if m == "member2" else "nginx:1.25"
    want_replicas = 8 if m == "member2" else 2
    dep = s["dep"]
    ok = (s["cm"]["data"] == {"LOG_LEVEL": cm_value, "REGION": want_region}
          and s["secret"]["data"] == {"user": _b64("shop"), "password": _b64(want_pw)}
          and dep["spec"]["replicas"] == want_replicas
          and dep["spec"]["template"]["spec"]["containers"][0]["image"] == want_image
          and s["ns"]["metadata"]["labels"].get("kubesphere.io/workspace") == "retail")
    return s if ok else None


def test_every_member_holds_the_project_as_declared(fed, shop):
    ns, run = shop["ns"], shop["run"]
    for m in MEMBERS:
        wait_for(lambda m=m: as_declared(fed, m, ns), 240, "%s to hold the project as declared" % m)
    dep = run.results("deployment")["localhost"]
    assert dep["replicas"] == {"member1": 2, "member2": 8}
    # the preview is what the real kubefed's RSP wrote
    host = fed.client(fed.host)

    def written():
        fd = host.get("%s/namespaces/%s/federateddeployments/web" % (TYPES, ns))
        out = dict((o["clusterName"], co["value"]) for o in fd["spec"].get("overrides") or []
                   for co in o["clusterOverrides"] if co["path"] == "/spec/replicas")
        return out if set(out) >= set(MEMBERS) else None
    division = wait_for(written, 120, "RSP division")
    assert dict((m, division[m]) for m in MEMBERS) == dep["replicas"]
    # the host namespace is the console's
    ns_obj = host.get("/api/v1/namespaces/" + ns)
    assert ns_obj["metadata"]["labels"]["kubefed.io/managed"] == "false"
    assert ns_obj["metadata"]["labels"]["kubesphere.io/workspace"] == "retail"
    # no Secret value anywhere in the output
    for value in ("s3cr3t-fleet-pw", "s3cr3t-member2-pw", _b64("s3cr3t-fleet-pw"), _b64("s3cr3t-member2-pw")):
        assert value not in run.stdout


def test_second_run_changes_nothing(fed, shop):
    ns = shop["ns"]
    for m in MEMBERS:
        wait_for(lambda m=m: as_declared(fed, m, ns), 240, "%s settled" % m)
    audit = AuditLog.for_lab(fed)
    mark = audit.mark()
    run = run_playbook(play(project_tasks(ns)), "localhost,", extra_vars=kubeconfig_vars(fed))
    assert run.rc == 0, run
    changed = dict((h, s.get("changed")) for h, s in run.stats_of().items())
    assert changed == {"localhost": 0}, run
    audit.sync(fed)
    assert audit.writes_by_collection(since=mark) == []


def test_check_diff_writes_nothing_and_shows_the_division(fed, shop):
    ns = shop["ns"]
    audit = AuditLog.for_lab(fed)
    mark = audit.mark()
    tasks = project_tasks(ns, cm_value="debug")
    for t in tasks:
        if t["name"] == "deployment":
            weights = t["kubesphere.multicluster.federated_resource"]["replicas_by_weight"]
            weights["weights"] = {"member1": 1, "member2": 1}
    run = run_playbook(play(tasks), "localhost,", extra_vars=kubeconfig_vars(fed), check=True, diff=True)
    assert run.rc == 0, run
    assert run.results("configmap")["localhost"]["changed"] is True
    dep = run.results("deployment")["localhost"]
    assert dep["changed"] is True
    assert dep["replicas"] == {"member1": 5, "member2": 5}
    divisions = [d for d in dep["diff"] if d.get("before_header", "").startswith("replica division")]
    assert divisions and divisions[0]["before"]["replicas"] == {"member1": 2, "member2": 8}
    assert divisions[0]["after"]["replicas"] == {"member1": 5, "member2": 5}
    audit.sync(fed)
    assert audit.writes_by_collection(since=mark) == []
    for m in MEMBERS:
        assert as_declared(fed, m, ns)


def test_changing_the_configmap_updates_every_member(fed, shop):
    ns = shop["ns"]
    run = run_playbook(play(project_tasks(ns, cm_value="debug")), "localhost,", extra_vars=kubeconfig_vars(fed))
    assert run.rc == 0, run
    assert run.results("configmap")["localhost"]["changed"] is True
    for m in MEMBERS:
        wait_for(lambda m=m: as_declared(fed, m, ns, cm_value="debug"), 240, "%s updated" % m)
    run = run_playbook(play(project_tasks(ns, cm_value="info")), "localhost,", extra_vars=kubeconfig_vars(fed))
    assert run.rc == 0, run
    for m in MEMBERS:
        wait_for(lambda m=m: as_declared(fed, m, ns), 240, "%s back" % m)


BAD = [
    ("negative replicas", {"settings": {"member1": {"replicas": -1}}}, "replicas_invalid"),
    ("non-integer replicas", {"settings": {"member1": {"replicas": "two"}}}, "replicas_invalid"),
    ("negative weight", {"replicas_by_weight": {"total": 10, "weights": {"member1": -1, "member2": 3}}},
     "weight_invalid"),
    ("non-integer weight", {"replicas_by_weight": {"total": 10, "weights": {"member1": 1.5, "member2": 3}}},
     "weight_invalid"),
    ("forbidden override path", {"settings": {"member1": {"overrides": [{"path": "/metadata/name", "value": "x"}]}}},
     "override_path_forbidden"),
    ("two overrides of one path", {"settings": {"member1": {"overrides": [
        {"path": "/spec/paused", "value": True}, {"path": "/spec/paused", "value": False}]}}},
     "override_path_duplicate"),
    ("not a member", {"clusters": ["member1", "nosuch"]}, "cluster_not_member"),
]


@pytest.mark.parametrize("label,args,code", BAD, ids=[b[0] for b in BAD])
def test_bad_input_refuses_and_writes_nothing(fed, shop, label, args, code):
    ns = shop["ns"]
    definition = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "bad", "namespace": ns, "labels": {"app": "bad"}},
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "bad"}},
                           "template": {"metadata": {"labels": {"app": "bad"}},
                                        "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    task = dict({"kubeconfig": "{{ hk }}", "definition": definition, "clusters": MEMBERS}, **args)
    audit = AuditLog.for_lab(fed)
    mark = audit.mark()
    run = run_playbook(play([{"name": "bad", "kubesphere.multicluster.federated_resource": task}]), "localhost,",
                       extra_vars=kubeconfig_vars(fed))
    result = run.results("bad")["localhost"]
    assert run.rc != 0 and result.get("failed"), run
    assert code in [p["code"] for p in result["problems"]], result["msg"]
    assert "[%s]" % code in result["msg"]
    audit.sync(fed)
    assert audit.writes_by_collection(since=mark) == []


def test_kind_without_ftc_refuses_and_writes_nothing(fed, shop):
    audit = AuditLog.for_lab(fed)
    mark = audit.mark()
    task = {"kubeconfig": "{{ hk }}", "clusters": MEMBERS,
            "definition": {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                           "metadata": {"name": "pdb", "namespace": shop["ns"]}, "spec": {"maxUnavailable": 1}}}
    run = run_playbook(play([{"name": "bad", "kubesphere.multicluster.federated_resource": task}]), "localhost,",
                       extra_vars=kubeconfig_vars(fed))
    result = run.results("bad")["localhost"]
    assert result.get("failed") and [p["code"] for p in result["problems"]] == ["federated_type_missing"], result
    audit.sync(fed)
    assert audit.writes_by_collection(since=mark) == []


def test_project_refuses_a_cluster_that_is_not_a_member(fed):
    audit = AuditLog.for_lab(fed)
    mark = audit.mark()
    run = run_playbook(play([{"name": "bad", "kubesphere.multicluster.federated_project": {
        "kubeconfig": "{{ hk }}", "name": "never-" + os.urandom(2).hex(), "workspace": "retail",
        "clusters": ["member1", "elsewhere"]}}]), "localhost,", extra_vars=kubeconfig_vars(fed))
    result = run.results("bad")["localhost"]
    assert result.get("failed") and [p["code"] for p in result["problems"]] == ["cluster_not_member"], result
    audit.sync(fed)
    assert audit.writes_by_collection(since=mark) == []


def _kubefed_pid(lab):
    import glob  # noqa: PLC0415
    import json  # noqa: PLC0415

    for path in glob.glob(os.path.join(lab.state_dir, "procs", "kubefed*.json")):
        with open(path) as f:
            rec = json.load(f)
        if rec.get("cluster") == lab.host and not rec.get("exit"):
            return rec["pid"]
    return None


def info(fed, m, ns, names=None):
    task = {"cluster_name": m, "kubeconfig": fed.kubeconfig(m), "host_kubeconfig": "{{ hk }}", "namespace": ns}
    if names:
        task["names"] = names
    run = run_playbook(play([{"name": "info", "kubesphere.multicluster.federation_info": task}]), "localhost,",
                       extra_vars=kubeconfig_vars(fed))
    assert run.rc == 0, run
    return run.results("info")["localhost"]


def _rows(result, kind, name):
    for r in result["resources"]:
        if r["kind"] == kind and r["name"] == name:
            return r["members"]
    return None


def test_drift_with_kubefed_paused_then_converges(fed, shop):
    """The supervisor restarts a process that dies (5 s back-off), so kubefed is paused (SIGSTOP), not killed."""
    ns = shop["ns"]
    for m in MEMBERS:
        wait_for(lambda m=m: as_declared(fed, m, ns), 240, "%s settled" % m)
    first = info(fed, "member1", ns)
    assert _rows(first, "ConfigMap", "cfg")[0]["state"] == "in_sync", first
    assert "s3cr3t" not in str(first)
    pid = _kubefed_pid(fed)
    assert pid, "no kubefed pid in the lab state"
    os.kill(pid, signal.SIGSTOP)
    try:
        fed.client("member1").merge_patch("/api/v1/namespaces/%s/configmaps/cfg" % ns,
                                          {"data": {"LOG_LEVEL": "hand-edited"}})
        time.sleep(0)  # kubefed is stopped: nothing reverts the edit
        drifted = info(fed, "member1", ns, names=["cfg"])
        row = _rows(drifted, "ConfigMap", "cfg")[0]
        assert row["state"] == "drifted" and row["fields"] == ["/data/LOG_LEVEL"], row
        assert "hand-edited" not in str(drifted)
    finally:
        os.kill(pid, signal.SIGCONT)

    def converged():
        rows = _rows(info(fed, "member1", ns, names=["cfg"]), "ConfigMap", "cfg")
        return rows if rows[0]["state"] == "in_sync" else None
    wait_for(converged, 240, "the drift report to converge to in_sync", interval=3)
    record("faults", __file__, "kubefed-paused-drift", fault="kubefed stopped (SIGSTOP) while a member's copy is edited by hand",
           moment="a federated ConfigMap in sync on member1",
           sees="federation_info: state drifted with the field (/data/LOG_LEVEL), the edited value not printed",
           rerun="kubefed resumed (SIGCONT): federation_info reports in_sync again (kubefed reverted the edit)",
           command="ansible-playbook <play: federation_info on member1>")


# --------------------------------------------------------------------------------------------------------
# playbooks/federate.yml with the committed lab inventory (inventories/lab/group_vars/kubesphere_host/)


@pytest.fixture
def no_shop(fed):
    """No project `shop` before and after (the committed lab inventory's project)."""
    host = fed.client(fed.host)

    def remove():
        run_playbook(play([{"kubesphere.multicluster.federated_project": {
            "kubeconfig": "{{ hk }}", "name": "shop", "workspace": "retail", "state": "absent", "confirm": "shop"}}]),
            "localhost,", extra_vars=kubeconfig_vars(fed))
        wait_for(lambda: host.try_get("/api/v1/namespaces/shop") is None, 240, "namespace shop gone from the host")
        for m in MEMBERS:
            wait_for(lambda m=m: fed.client(m).try_get("/api/v1/namespaces/shop") is None, 240, "shop gone from " + m)
    remove()
    yield
    remove()


@pytest.fixture
def lab_inventory_dir(fed, tmp_path):
    """The committed inventories/lab, reading the kubeconfigs of this module's private lab (it finds them at
    <inventory>/../../.kslab: a copy of the folder in a temporary tree whose .kslab links to the lab's state)."""
    import shutil  # noqa: PLC0415

    target = tmp_path / "inventories" / "lab"
    shutil.copytree(os.path.join(REPO, "inventories", "lab"), target)
    os.symlink(fed.state_dir, tmp_path / ".kslab")
    return str(target)


def test_federate_playbook_on_the_lab_inventory(fed, lab_inventory_dir, no_shop):
    playbook = os.path.join(REPO, "playbooks", "federate.yml")
    run = run_playbook(playbook, lab_inventory_dir, timeout=900)
    assert run.rc == 0, run
    for m in MEMBERS:
        assert wait_for(lambda m=m: shop_on(fed, m), 240, "%s holds the shop project as declared" % m)
    assert "lab-shop-password" not in run.stdout

    # a second run changes nothing
    audit = AuditLog.for_lab(fed)
    mark = audit.mark()
    again = run_playbook(playbook, lab_inventory_dir, timeout=900)
    assert again.rc == 0, again
    assert again.changed_hosts() == {}, again.stats
    audit.sync(fed)
    assert audit.writes_by_collection(since=mark) == []

    # change the ConfigMap in the inventory: --check --diff writes nothing and shows it, a run updates every member
    path = os.path.join(lab_inventory_dir, "group_vars", "kubesphere_host", "federation.yml")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("LOG_LEVEL: info", "LOG_LEVEL: debug"))
    mark = audit.mark()
    check = run_playbook(playbook, lab_inventory_dir, check=True, diff=True, timeout=900)
    assert check.rc == 0, check
    cms = check.results("ConfigMaps of shop")["host"]
    assert cms["changed"] is True
    deps = check.results("Workloads of shop")["host"]["results"][0]
    assert deps["replicas"] == {"member1": 2, "member2": 8}
    audit.sync(fed)
    assert audit.writes_by_collection(since=mark) == []
    updated = run_playbook(playbook, lab_inventory_dir, timeout=900)
    assert updated.rc == 0, updated
    for m in MEMBERS:
        assert wait_for(lambda m=m: shop_on(fed, m, "debug"), 240, "%s updated" % m)

    # status.yml lists the project on each member, in sync
    status = run_playbook(os.path.join(REPO, "playbooks", "status.yml"), lab_inventory_dir, timeout=600)
    assert status.rc == 0, status
    table = status.results("Print the projects per member")["host"]["msg"].splitlines()
    rows = [line.split(None, 2) for line in table[1:3]]   # CLUSTER, PROJECTS, "in sync ... not in sync"
    assert [r[0] for r in rows] == MEMBERS
    for row in rows:
        in_sync, not_in_sync = row[2].rsplit(None, 1)
        assert "shop" in [p.strip() for p in in_sync.split(",")] and not_in_sync == "-", table


def test_project_clusters_follow_the_inventory_and_deletion_needs_the_name(fed):
    """Adding and removing a cluster moves the namespace; deletion refuses without the name typed again
    (writing nothing), reports per member what goes (check mode writes nothing), then removes it everywhere."""
    ns = "move-" + os.urandom(3).hex()

    def project(clusters, **more):
        task = dict({"kubeconfig": "{{ hk }}", "name": ns, "workspace": "retail", "clusters": clusters}, **more)
        return play([{"name": "p", "kubesphere.multicluster.federated_project": task}])

    def on(m):
        return fed.client(m).try_get("/api/v1/namespaces/" + ns)

    try:
        run = run_playbook(project(["member1"]), "localhost,", extra_vars=kubeconfig_vars(fed))
        assert run.rc == 0, run
        wait_for(lambda: on("member1"), 240, "namespace on member1")
        assert on("member2") is None
        run = run_playbook(project(["member1", "member2"]), "localhost,", extra_vars=kubeconfig_vars(fed))
        assert run.rc == 0 and run.results("p")["localhost"]["changed"], run
        wait_for(lambda: on("member2"), 240, "namespace on member2")
        run = run_playbook(project(["member2"]), "localhost,", extra_vars=kubeconfig_vars(fed))
        assert run.rc == 0, run
        wait_for(lambda: on("member1") is None or on("member1")["status"].get("phase") == "Terminating", 240,
                 "namespace gone from member1")

        audit = AuditLog.for_lab(fed)
        mark = audit.mark()
        refused = run_playbook(project(["member2"], state="absent"), "localhost,", extra_vars=kubeconfig_vars(fed))
        result = refused.results("p")["localhost"]
        assert result.get("failed") and [p["code"] for p in result["problems"]] == ["confirmation_mismatch"]
        check = run_playbook(project(["member2"], state="absent", confirm=ns), "localhost,",
                             extra_vars=kubeconfig_vars(fed), check=True, diff=True)
        result = check.results("p")["localhost"]
        assert result["changed"] and result["deleted"] == {"member2": {"removed": ["Namespace %s" % ns], "kept": []}}
        audit.sync(fed)
        assert audit.writes_by_collection(since=mark) == []
        assert on("member2") is not None

        gone = run_playbook(project(["member2"], state="absent", confirm=ns), "localhost,",
                            extra_vars=kubeconfig_vars(fed))
        assert gone.rc == 0 and gone.results("p")["localhost"]["changed"], gone
        wait_for(lambda: on("member2") is None or on("member2")["status"].get("phase") == "Terminating", 240,
                 "namespace gone from member2")
    finally:
        run_playbook(project([], state="absent", confirm=ns), "localhost,", extra_vars=kubeconfig_vars(fed))


# --------------------------------------------------------------------------------------------------------
# adoption (issue 19): a namespace and a ConfigMap made directly on a member before federating


def _adopt_tasks(ns, adopt, check=False, what=("project", "configmap")):
    tasks = []
    if "project" in what:
        tasks.append({"name": "project", "check_mode": check, "kubesphere.multicluster.federated_project": {
            "kubeconfig": "{{ hk }}", "name": ns, "workspace": "adoption", "clusters": MEMBERS, "adopt": adopt,
            "wait": True, "wait_timeout": 300}})
    if "configmap" in what:
        tasks.append({"name": "configmap", "check_mode": check, "kubesphere.multicluster.federated_resource": {
            "kubeconfig": "{{ hk }}", "clusters": MEMBERS, "adopt": adopt, "wait": True, "wait_timeout": 300,
            "definition": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": ns},
                           "data": {"LOG_LEVEL": "adopted"}}}})
    return tasks


def _refused(fed, tasks, task_name):
    """Runs `tasks` (the first must refuse); returns its result after asserting nothing was written anywhere."""
    audit = AuditLog.for_lab(fed)
    mark = audit.mark()
    run = run_playbook(play(tasks), "localhost,", extra_vars=kubeconfig_vars(fed))
    result = run.results(task_name)["localhost"]
    assert run.rc != 0 and result.get("failed"), run
    audit.sync(fed)
    assert audit.writes_by_collection_alone(since=mark) == []
    return result


def test_the_adoption_check_reads_a_member_with_its_own_connection_when_given(fed):
    """member_connections (the inventory's connection per member, as the federated_project role passes them): the
    module reads member1 with the kubeconfig given for it, not with the one member1's Cluster stores on the host
    (that Cluster is not even read), and refuses the namespace made there by hand, writing nothing."""
    ns = "adopt-own-" + os.urandom(3).hex()
    m1 = fed.client("member1")
    m1.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    try:
        audit = AuditLog.for_lab(fed)
        mark = audit.mark()
        tasks = _adopt_tasks(ns, False, what=("project",))
        tasks[0]["kubesphere.multicluster.federated_project"]["member_connections"] = [
            {"cluster_name": m, "kubeconfig": fed.kubeconfig(m)} for m in MEMBERS]
        result = _refused(fed, tasks, "project")
        assert [(p["code"], p["cluster"]) for p in result["problems"]] == [("would_adopt", "member1")], result
        audit.sync(fed)
        mine = audit.requests(since=mark, who="collection")
        assert [r for r in mine if r.cluster == "member1" and r.verb == "get"
                and urlsplit(r.uri).path == "/api/v1/namespaces/" + ns], mine
        assert not [r for r in mine if r.cluster == fed.host and "/clusters/member" in r.uri], mine
    finally:
        m1.request("DELETE", "/api/v1/namespaces/" + ns)


def test_objects_made_on_a_member_are_refused_then_adopted(fed):
    ns = "adopt-" + os.urandom(3).hex()
    m1, host = fed.client("member1"), fed.client(fed.host)
    m1.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                              "metadata": {"name": ns, "labels": {"made-by": "hand"}}})
    m1.request("POST", "/api/v1/namespaces/%s/configmaps" % ns, {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": ns},
        "data": {"mine": "1"}})
    try:
        # 1. the project: refused before any write, naming member1 and its Namespace
        result = _refused(fed, _adopt_tasks(ns, False), "project")
        assert [(p["code"], p["cluster"]) for p in result["problems"]] == [("would_adopt", "member1")], result
        assert "Namespace %s" % ns in result["msg"] and "adopt: true" in result["msg"], result["msg"]
        assert host.try_get("/api/v1/namespaces/" + ns) is None
        assert fed.client("member2").try_get("/api/v1/namespaces/" + ns) is None

        # 2. adopt: true in check mode lists it and writes nothing
        audit = AuditLog.for_lab(fed)
        mark = audit.mark()
        run = run_playbook(play(_adopt_tasks(ns, True, check=True, what=("project",))), "localhost,",
                           extra_vars=kubeconfig_vars(fed))
        assert run.rc == 0, run
        want_ns = [{"cluster": "member1", "kind": "Namespace", "namespace": None, "name": ns}]
        assert run.results("project")["localhost"]["adopted"] == want_ns
        audit.sync(fed)
        assert audit.writes_by_collection_alone(since=mark) == []

        # 3. adopt: true for the project; the ConfigMap without adopt is refused (nothing written), then adopted
        run = run_playbook(play(_adopt_tasks(ns, True, what=("project",))), "localhost,",
                           extra_vars=kubeconfig_vars(fed))
        assert run.rc == 0, run
        assert run.results("project")["localhost"]["adopted"] == want_ns
        result = _refused(fed, _adopt_tasks(ns, False, what=("configmap",)), "configmap")
        assert [(p["code"], p["cluster"]) for p in result["problems"]] == [("would_adopt", "member1")], result
        assert "ConfigMap %s/cfg" % ns in result["msg"], result["msg"]
        assert host.try_get("%s/namespaces/%s/federatedconfigmaps/cfg" % (TYPES, ns)) is None
        run = run_playbook(play(_adopt_tasks(ns, True, what=("configmap",))), "localhost,",
                           extra_vars=kubeconfig_vars(fed))
        assert run.rc == 0, run
        assert run.results("configmap")["localhost"]["adopted"] == [
            {"cluster": "member1", "kind": "ConfigMap", "namespace": ns, "name": "cfg"}]

        # 4. kubefed's view converges: both objects are kubefed's on member1, overwritten as declared
        def adopted_on_member1():
            live_ns = m1.try_get("/api/v1/namespaces/" + ns)
            cm = m1.try_get("/api/v1/namespaces/%s/configmaps/cfg" % ns)
            labels_ns = (live_ns or {}).get("metadata", {}).get("labels") or {}
            labels_cm = (cm or {}).get("metadata", {}).get("labels") or {}
            ok = (labels_ns.get("kubefed.io/managed") == "true" and labels_ns.get("kubesphere.io/workspace") == "adoption"
                  and labels_cm.get("kubefed.io/managed") == "true" and cm.get("data") == {"LOG_LEVEL": "adopted"})
            return ok or None
        wait_for(adopted_on_member1, 240, "kubefed to adopt the namespace and the ConfigMap on member1")
        cm2 = wait_for(lambda: fed.client("member2").try_get("/api/v1/namespaces/%s/configmaps/cfg" % ns), 240,
                       "the ConfigMap on member2")
        assert cm2["data"] == {"LOG_LEVEL": "adopted"}

        # 5. a rerun (adopt still true) adopts nothing, changes nothing and writes nothing
        audit = AuditLog.for_lab(fed)
        mark = audit.mark()
        run = run_playbook(play(_adopt_tasks(ns, True)), "localhost,", extra_vars=kubeconfig_vars(fed))
        assert run.rc == 0, run
        assert dict((h, s.get("changed")) for h, s in run.stats_of().items()) == {"localhost": 0}, run
        assert run.results("project")["localhost"]["adopted"] == []
        assert run.results("configmap")["localhost"]["adopted"] == []
        audit.sync(fed)
        assert audit.writes_by_collection_alone(since=mark) == []
    finally:
        run_playbook(play([{"kubesphere.multicluster.federated_project": {
            "kubeconfig": "{{ hk }}", "name": ns, "workspace": "adoption", "state": "absent", "confirm": ns}}]),
            "localhost,", extra_vars=kubeconfig_vars(fed))
        for m in MEMBERS:  # what kubefed did not remove (a failure before the adoption): gone too
            try:
                fed.client(m).request("DELETE", "/api/v1/namespaces/" + ns)
            except Exception:  # noqa: BLE001  already gone or terminating
                pass
