"""Importing members (kubesphere.multicluster.member state present, role join, playbooks/join.yml in site.yml)
against a PRIVATE lab with KubeSphere's REAL control plane (ks-apiserver, ks-controller-manager, tower,
kubefed, the real cluster-agent).

One lab for the module (host, member1, member2, member3; ports from KSLAB_PRIVATE_PORT_BASE, else free ones):
site.yml from a fleet where nothing is set up imports member1 (direct) and member2 (proxy) as
inventories/lab says; member3 is never in the inventory: the refusal, oracle and interruption tests
import it with the module directly. "Writes nothing" is read from the kube-apiservers' audit logs
(tests/auditlog.py): no write by the collection's user on any cluster. The tests run in file order."""

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
import yaml

from auditlog import KUBESPHERE_AGENTS, AuditLog
from evidence import record
from conftest import with_lab_inventory
from kslabkit.rest import USER_AGENT as LAB_CLIENT
from polling import wait_for
from unbind_lab import condition, restart_apiserver

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from standins.installer import CC_PATH, read_ks_config, static_token  # noqa: E402

from ansible_collections.kubesphere.multicluster.plugins.module_utils.versions.v3_4 import agent  # noqa: E402
from ansible_collections.kubesphere.multicluster.plugins.module_utils.checks import join as join_checks  # noqa: E402

SITE = os.path.join(REPO, "playbooks", "site.yml")
JOIN = os.path.join(REPO, "playbooks", "join.yml")
CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters"
KFC = "/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/kubefedclusters"
AGENT_PATH = "/apis/apps/v1/namespaces/kubesphere-system/deployments/cluster-agent"
VALIDATION = "/kapis/cluster.kubesphere.io/v1alpha1/clusters/validation"
OTHER_JWT = "joinTestOtherJwtSecretXXXXXXXXXXXX"
FAST = {"kubesphere_join_wait_sleep": 2, "kubesphere_join_wait_timeout": 420,
        "member_config_wait_sleep": 1, "host_config_wait_sleep": 1}
GROUP = "cluster.kubesphere.io/group"
IMPORT_TASK = "Import the member (checks first, then the Cluster, the agent for proxy members, health and verification)"

pytestmark = pytest.mark.timeout(1500)


# --- the lab -----------------------------------------------------------------------------------------


class _RunningLab:
    """A lab started outside pytest (KSLAB_JOIN_STATE: its state folder; it must be FRESH, `kslab up --members 3`
    a moment ago: the first test runs site.yml on a fleet where nothing is set up)."""

    def __init__(self, state_dir):
        from kslabkit.rest import Rest  # noqa: PLC0415

        self.state_dir = state_dir
        with open(os.path.join(state_dir, "lab.json")) as f:
            self.state = json.load(f)
        self.names = list(self.state["clusters"])
        self.host, self.members = self.names[0], self.names[1:]
        self._rest = Rest
        self._clients = {}

    def kubeconfig(self, name):
        return self.state["clusters"][name]["kubeconfig"]

    def client(self, name):
        if name not in self._clients:
            self._clients[name] = self._rest(self.kubeconfig(name))
        return self._clients[name]


@pytest.fixture(scope="module")
def fleet(make_module_lab, tmp_path_factory):
    if os.environ.get("KSLAB_JOIN_STATE"):
        lab = _RunningLab(os.environ["KSLAB_JOIN_STATE"])
    else:
        base = os.environ.get("KSLAB_PRIVATE_PORT_BASE")  # never KSLAB_PORT_BASE (the stage's shared lab)
        lab = make_module_lab(members=3, extra_env={"KSLAB_PORT_BASE": base} if base else None)
    with_lab_inventory(lab, tmp_path_factory)
    lab.audit = AuditLog.for_lab(lab)
    return lab


# member1 is imported with the lab's admin kubeconfig, so KubeSphere's own controllers act on member1 as the
# same user as the collection (kslab-admin); the audit log tells them apart by their user agent.


def collection_writes(lab, mark):
    lab.audit.sync(lab)
    return lab.audit.writes_by_collection_alone(since=mark)


def clusters_of(lab):
    return lab.client(lab.host).get(CLUSTERS)["items"]


def cluster(lab, name):
    return lab.client(lab.host).try_get("%s/%s" % (CLUSTERS, name))


def uid_of(lab, name):
    return lab.client(name).get("/api/v1/namespaces/kube-system")["metadata"]["uid"]


def set_member3(lab, role="member", jwt=None):
    """Set member3's role (and jwtSecret) in its ClusterConfiguration and wait until it is rendered."""
    rest = lab.client("member3")
    host_jwt = read_ks_config(lab.client(lab.host))["authentication"]["jwtSecret"]
    jwt = jwt or host_jwt
    rest.merge_patch(CC_PATH, {"spec": {"multicluster": {"clusterRole": role}, "authentication": {"jwtSecret": jwt}}})
    wait_for(lambda: (read_ks_config(rest).get("multicluster") or {}).get("clusterRole") == role
             and read_ks_config(rest)["authentication"]["jwtSecret"] == jwt, 180, "member3 rendered %s" % role)


def ks_api(lab, path, method="GET", body=None):
    """(status, text) of a call to the host's real ks-apiserver with an admin static token."""
    jwt = read_ks_config(lab.client(lab.host))["authentication"]["jwtSecret"]
    url = "http://127.0.0.1:%d%s" % (lab.state["clusters"][lab.host]["ports"]["ks_apiserver"], path)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": "Bearer " + static_token(jwt), "Content-Type": "application/json",
        "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def import_play(lab, name="member3", kubeconfig_of="member3", play_vars=None, **args):
    """A playbook text running the member module once on localhost for `name` with explicit connections."""
    task = {"name": "import", "kubesphere.multicluster.member": dict({
        "name": name, "kubeconfig": lab.kubeconfig(kubeconfig_of), "host_kubeconfig": lab.kubeconfig(lab.host),
        "allow_loopback": True, "wait_sleep": 2, "wait_timeout": 300}, **args)}
    return yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                            "vars": dict({"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                                         **(play_vars or {})),
                            "tasks": [task]}], sort_keys=False)


def ensure_host(lab, ansible_run):
    """The host renders role host and its own Cluster is Ready: site.yml's tests above make it so; a test run
    without them (-k) gets it from host_config.yml here."""
    if (read_ks_config(lab.client(lab.host)).get("multicluster") or {}).get("clusterRole") != "host":
        run = ansible_run(os.path.join(REPO, "playbooks", "host_config.yml"), lab.lab_inventory, extra_vars=FAST,
                          timeout=900)
        assert run.rc == 0, run
    wait_for(lambda: (condition(cluster(lab, lab.host), "Ready") or {}).get("status") == "True", 300,
             "Cluster %s Ready" % lab.host)


def ensure_member3_imported(lab, ansible_run):
    """member3 imported direct with the lab's admin kubeconfig and healthy (the interrupted-import test leaves it
    so; a test run without it gets it here)."""
    ensure_host(lab, ansible_run)
    set_member3(lab, "member")
    run = ansible_run(import_play(lab), "localhost,", timeout=900)
    res = only_result(run)
    assert run.rc == 0 and res["health"]["verdict"] == "ready", (res.get("msg"), run)
    return res


def only_result(run):
    results = run.results("import")
    assert list(results) == ["localhost"], run
    return results["localhost"]


def assert_refused_writing_nothing(lab, ansible_run, code, **args):
    """Run the module on member3 with `args`; it must refuse with `code` and no cluster saw a write."""
    mark = lab.audit.mark()
    before = {c["metadata"]["name"] for c in clusters_of(lab)}
    run = ansible_run(import_play(lab, **args), "localhost,")
    res = only_result(run)
    assert run.rc != 0 and res.get("failed"), run
    codes = [p["code"] for p in res.get("problems") or []]
    assert code in codes, (codes, res.get("msg"))
    assert all(p["cluster"] == args.get("name", "member3") for p in res["problems"])
    assert collection_writes(lab, mark) == []
    assert {c["metadata"]["name"] for c in clusters_of(lab)} == before
    return res


# --- site.yml from a fresh fleet -------------------------------------------------------------------------


def test_check_mode_of_site_on_a_fresh_fleet_writes_nothing(fleet, ansible_run):
    """Before anything is set up: site.yml --check --diff succeeds and no cluster receives a write; the join
    says that the import is not checked while the member role is still to be set."""
    lab = fleet
    mark = lab.audit.mark()
    run = ansible_run(SITE, lab.lab_inventory, check=True, diff=True, extra_vars=FAST, timeout=900)
    assert run.rc == 0, run
    pending = run.results("Check mode, role change pending")
    assert set(pending) == {"member1", "member2"}, run
    assert collection_writes(lab, mark) == []
    assert clusters_of(lab) == []


def test_site_from_a_fresh_fleet_imports_member1_direct_and_member2_proxy(fleet, ansible_run):
    lab = fleet
    run = ansible_run(SITE, lab.lab_inventory, extra_vars=FAST, timeout=1200)
    assert run.rc == 0, run
    results = run.results(IMPORT_TASK)
    assert set(results) == {"member1", "member2"}, run
    for name, ctype in (("member1", "direct"), ("member2", "proxy")):
        res = results[name]
        assert res["changed"] and res["health"]["verdict"] == "ready", res
        assert res["verification"] == [], res
        c = cluster(lab, name)
        assert c["spec"]["connection"]["type"] == ctype
        assert condition(c, "Ready")["status"] == "True"
        assert condition(lab.client(lab.host).get("%s/%s" % (KFC, name)), "Ready")["status"] == "True"
        assert c["status"]["uid"] == uid_of(lab, name)
        assert c["metadata"]["annotations"]["kubesphere.io/way-to-add"] == "import"
        assert c["metadata"]["labels"]["cluster.kubesphere.io/group"] == "lab"
        # what Ready does not prove, seen on the member itself
        assert read_ks_config(lab.client(name))["multicluster"]["clusterName"] == name
        assert c["status"]["kubeSphereVersion"] not in (None, "", "unknown")
    # exactly one Cluster per member (by the member's identity)
    # (KubeSphere's controller writes the host's own Cluster's status.uid on its own schedule: wait for every uid)

    def every_uid():
        found = [c.get("status", {}).get("uid") for c in clusters_of(lab)]
        return found if all(found) else None
    uids = wait_for(every_uid, timeout=60, what="every Cluster's status.uid")
    assert sorted(uids) == sorted({uid_of(lab, n) for n in (lab.host, "member1", "member2")})
    # the project shop's adoption check read both members with the inventory's connections: member2, a proxy
    # member whose stored kubeconfig points inside the host cluster, was checked too (issue 19)
    shop = run.results("The project (host Namespace + FederatedNamespace): shop")[lab.host]
    assert shop["changed"] and shop["adopted"] == [] and "adoption_unchecked" not in shop, shop
    assert not [w for w in shop.get("warnings") or [] if "not checked" in w], shop
    # proxy: tower initialised it, the real agent connected
    c2 = cluster(lab, "member2")
    assert condition(c2, "Initialized")["status"] == "True" and condition(c2, "AgentAvailable")["status"] == "True"
    dep = lab.client("member2").get(AGENT_PATH)
    assert dep["spec"]["template"]["spec"]["serviceAccountName"] == "kubesphere"
    assert results["member2"]["proxy"]["address"].startswith("http")
    assert "--token=********" in results["member2"]["agent"]["spec"]["template"]["spec"]["containers"][0]["command"]


def test_a_second_run_changes_nothing_and_check_mode_writes_nothing(fleet, ansible_run):
    lab = fleet
    mark = lab.audit.mark()
    run = ansible_run(SITE, lab.lab_inventory, extra_vars=FAST, timeout=900)
    assert run.rc == 0, run
    assert run.changed_hosts() == {}, run.stats
    results = run.results(IMPORT_TASK)
    for res in results.values():
        assert res["changed"] is False and res["changes"] == [] and res["health"]["verdict"] == "ready"
    assert collection_writes(lab, mark) == []
    # member1 (direct) is settled by this run's preflight facts: its import read nothing more, so it never probed
    # member1's ks-apiserver; member2 (proxy: no shortcut) was read and checked in full (issue 21)
    assert "preflight read shows it imported" in results["member1"].get("settled", ""), results["member1"]
    assert "settled" not in results["member2"] and results["member2"]["plan"], results["member2"]
    assert probes(lab, mark, "member1") == []
    assert probes(lab, mark, "member2") != []
    # the preflight reads of a member what a member's checks use: one clock sample, no Clusters or KubeFedClusters
    # (a host's), and no cluster-agent on member1, which the inventory connects directly (issue 21)
    member1 = [urlsplit(r.uri).path for r in lab.audit.requests(cluster="member1", since=mark, who="collection")
               if not r.user_agent.startswith(KUBESPHERE_AGENTS)]
    assert member1.count("/version") == 1, member1
    assert not [x for x in member1 if x.endswith(("/clusters", "/kubefedclusters", "/cluster-agent"))], member1
    # kube-system and kubesphere-system come in one list (the API server's name label), the core group's v1 is not
    # asked for (GET /api), and the project's wait read the host once for both members
    assert not {"/api", "/api/v1/namespaces/kube-system", "/api/v1/namespaces/kubesphere-system"} & set(member1), member1
    assert member1.count("/api/v1/namespaces") == 1, member1
    waits = run.results("Read the drift of each project on the members until it is in sync")
    assert len(waits) == 1 and [r["clusters"] for r in next(iter(waits.values()))["results"]] == [
        ["member1", "member2"]], waits
    # the lab inventory describes the project shop: the preflight read the members' API versions, so federate.yml's
    # play that would read them matches no host
    reads = run.results("Read the cluster (the facts the fleet-level checks use)")
    assert all("apps/v1" in reads[m]["cluster"]["api_versions"] for m in ("member1", "member2")), reads
    assert reads[lab.host]["cluster"]["api_versions"] is None
    assert run.results("Read the member's API group/versions") == {}

    # a Cluster that drifted (its group label changed on the console) is not settled: the run reads, checks and
    # puts the label back, and the run after that is settled again
    lab.client(lab.host).merge_patch("%s/member1" % CLUSTERS, {"metadata": {"labels": {GROUP: "elsewhere"}}})
    mended = ansible_run(SITE, lab.lab_inventory, extra_vars=FAST, timeout=900)
    assert mended.rc == 0, mended
    res = mended.results(IMPORT_TASK)["member1"]
    assert res["changed"] and "settled" not in res and res["changes"] == ["metadata.labels.%s" % GROUP], res
    assert cluster(lab, "member1")["metadata"]["labels"][GROUP] == "lab"
    again = ansible_run(SITE, lab.lab_inventory, extra_vars=FAST, timeout=900)
    assert again.rc == 0 and again.changed_hosts() == {}, again
    assert "settled" in again.results(IMPORT_TASK)["member1"]

    mark = lab.audit.mark()
    run = ansible_run(SITE, lab.lab_inventory, check=True, diff=True, extra_vars=FAST, timeout=900)
    assert run.rc == 0, run
    assert collection_writes(lab, mark) == []


def test_a_proxy_agent_left_on_an_old_address_is_diagnosed_and_site_re_points_it(fleet, ansible_run):
    """cluster_info reports the address member2's agent dials and where the host publishes tower; they agree
    after the import. An agent left dialling another address (as when the host's address changed and the agent
    was not re-pointed) is the doctor's stale_proxy_address error, naming member2 and the fix; the fix, site.yml,
    re-points the agent and the doctor then finds nothing stale."""
    lab = fleet
    doctor = os.path.join(REPO, "playbooks", "doctor.yml")

    def diagnose():
        run = ansible_run(doctor, lab.lab_inventory)
        infos = {name: res["cluster"] for name, res in run.results(
            "Read the cluster (read-only; a cluster that cannot be read is a finding, not a failure)").items()}
        found = next(iter(run.results("Diagnose the fleet").values()))
        return infos, {(x["code"], x["cluster"]): x for x in found["findings"]}

    infos, found = diagnose()
    published = infos[lab.host]["proxy_publish"]["address"]
    assert published and infos["member2"]["agent_proxy_server"] == published, infos["member2"]
    assert infos["member1"]["agent_proxy_server"] is None
    assert ("stale_proxy_address", "member2") not in found

    dep = lab.client("member2").get(AGENT_PATH)
    command = dep["spec"]["template"]["spec"]["containers"][0]["command"]
    stale = "http://192.0.2.250:30999"  # a made-up address no tower of the lab answers: the lab runs no agent for it
    lab.client("member2").merge_patch(AGENT_PATH, {"spec": {"template": {"spec": {"containers": [
        dict(dep["spec"]["template"]["spec"]["containers"][0],
             command=[a if not a.startswith("--proxy-server=") else "--proxy-server=" + stale for a in command])]}}}})
    infos, found = diagnose()
    assert infos["member2"]["agent_proxy_server"] == stale
    finding = found[("stale_proxy_address", "member2")]
    assert finding["level"] == "error" and stale in finding["message"] and published in finding["message"]
    assert "join.yml" in finding["fix"]

    run = ansible_run(SITE, lab.lab_inventory, extra_vars=FAST, timeout=900)
    assert run.rc == 0, run
    assert run.results(IMPORT_TASK)["member2"]["changed"] is True
    # re-pointed, and proven by a connection tower recorded after it (not the AgentAvailable left from before)
    reconnect = run.results(IMPORT_TASK)["member2"]["agent_reconnect"]
    assert (reconnect["from"], reconnect["to"]) == (stale, published) and reconnect["after"]["status"] == "True"
    assert reconnect["after"]["time"] != (reconnect["connection"] or {}).get("time"), reconnect
    assert "--proxy-server=%s" % published in lab.client("member2").get(AGENT_PATH)["spec"]["template"]["spec"][
        "containers"][0]["command"]
    infos, found = diagnose()
    assert infos["member2"]["agent_proxy_server"] == published
    assert ("stale_proxy_address", "member2") not in found


def test_check_mode_and_diff_of_a_new_import_mask_the_kubeconfig(fleet, ansible_run):
    lab = fleet
    set_member3(lab, "member")
    mark = lab.audit.mark()
    run = ansible_run(import_play(lab), "localhost,", check=True, diff=True)
    res = only_result(run)
    assert run.rc == 0 and res["changed"] is True, (res.get("msg"), res.get("problems"))
    after = res["diff"]["after"]
    assert res["diff"]["before"] == {}
    assert after["metadata"]["name"] == "member3" and after["spec"]["connection"]["type"] == "direct"
    assert after["spec"]["connection"]["kubeconfig"].startswith("******** (sha256:")
    assert collection_writes(lab, mark) == []
    dry = [r for r in lab.audit.requests(since=mark, who="collection") if r.dry_run]
    assert any(r.resource == "clusters" and r.verb == "create" for r in dry)  # the server-side dry run
    assert cluster(lab, "member3") is None


KS_APISERVER_DEPLOYMENT = "/apis/apps/v1/namespaces/kubesphere-system/deployments/ks-apiserver"


def probes(lab, since, member="member3"):
    """The collection's /kapis/version probes through a member's service proxy since `since` (the audit log), with
    the code each was answered with (only the import's checks make them; KubeSphere's own processes, which reach
    member1 as the same user, are left out by their user agent)."""
    lab.audit.sync(lab, clusters=[member])
    return [r for r in lab.audit.requests(cluster=member, since=since, who="collection", verbs=("get",))
            if r.resource == "services" and r.subresource == "proxy" and not r.user_agent.startswith(KUBESPHERE_AGENTS)]


def scaled_down(dep):
    """The deployment controller's status of a Deployment scaled to 0 (a status count of 0 is left out)."""
    status = dep.get("status") or {}
    return status.get("observedGeneration") == dep["metadata"]["generation"] and not status.get("replicas")


def test_the_checks_wait_for_a_ks_apiserver_that_is_scaled_down_then_up(fleet, ansible_run):
    """member3's ks-apiserver Deployment scaled to 0 (no pod: its service proxy answers 503) when a check-mode
    import starts: the checks probe it again (settle_timeout) instead of refusing; once a probe was answered 503
    (audit log), it is scaled up again; the import then passes its checks and writes nothing."""
    lab = fleet
    set_member3(lab, "member")
    rest = lab.client("member3")
    rest.merge_patch(KS_APISERVER_DEPLOYMENT, {"spec": {"replicas": 0}})
    outcome = {}
    try:
        wait_for(lambda: scaled_down(rest.get(KS_APISERVER_DEPLOYMENT)), 120, "ks-apiserver scaled to 0")
        mark = lab.audit.mark()
        play = import_play(lab, settle_timeout=300, wait_sleep=2)
        runner = threading.Thread(target=lambda: outcome.update(run=ansible_run(play, "localhost,", check=True)))
        runner.start()
        refused = wait_for(lambda: [r for r in probes(lab, mark) if r.code == 503], 240,
                           "a probe of member3's ks-apiserver answered 503", interval=0.5)
    finally:
        rest.merge_patch(KS_APISERVER_DEPLOYMENT, {"spec": {"replicas": 1}})
    runner.join(600)
    run = outcome["run"]
    res = only_result(run)
    assert run.rc == 0 and res["changed"] is True, (res.get("msg"), res.get("problems"))
    seen = probes(lab, mark)
    ids = [r.audit_id for r in seen]
    assert seen[-1].code == 200 and ids.index(refused[0].audit_id) < len(seen) - 1, seen
    # nothing written but the test's own scaling (its REST client, the same user)
    assert [r for r in collection_writes(lab, mark) if LAB_CLIENT not in r.user_agent] == []
    assert cluster(lab, "member3") is None
    record("faults", __file__, "member-ks-apiserver-scaled-down-during-checks",
           fault="a member's ks-apiserver with no pod (its Deployment scaled to 0: its API server's service proxy "
                 "answers 503, as while ks-apiserver restarts)",
           moment="when the import's checks probe it (check mode, a new member)",
           sees="nothing: the checks probe it again every wait_sleep (settle_timeout) instead of refusing with "
                "kubesphere_unreachable; once it is scaled up they pass (the audit log: a probe answered 503, the "
                "last one 200) and nothing is written",
           rerun="not needed: the run succeeded",
           command="ansible-playbook --check -i localhost, <play: member import of member3, settle_timeout: 300>")


def test_secrets_never_appear_in_vvv_output(fleet, ansible_run):
    lab = fleet
    run = ansible_run(JOIN, lab.lab_inventory, extra_vars=FAST, verbosity=3, callback="default", timeout=900)
    assert run.rc == 0, run
    text = run.stdout + run.stderr
    # it is the -vvv output, and the import ran in the worker process (no module process: no AnsiballZ file)
    assert "member1" in text and "kubesphere.multicluster.member runs in the worker process (connection local)" in text
    assert "AnsiballZ_member" not in text
    secrets = {"host jwtSecret": read_ks_config(lab.client(lab.host))["authentication"]["jwtSecret"],
               "agent token": cluster(lab, "member2")["spec"]["connection"]["token"],
               "stored kubeconfig (base64)": cluster(lab, "member1")["spec"]["connection"]["kubeconfig"]}
    stored = yaml.safe_load(base64.b64decode(secrets["stored kubeconfig (base64)"]))
    key = stored["users"][0]["user"]["client-key-data"]
    secrets["member1 client key (base64)"] = key
    secrets["member1 client key (PEM body)"] = base64.b64decode(key).decode().splitlines()[1]
    for what, value in secrets.items():
        assert value and value not in text, "%s appears in the -vvv output" % what


def test_the_agent_deployment_is_what_ks_apiserver_hands_out(fleet):
    lab = fleet
    status, text = ks_api(lab, "/kapis/cluster.kubesphere.io/v1alpha1/clusters/member2/agent/deployment")
    assert status == 200, text
    api = yaml.safe_load(text)
    mine = lab.client("member2").get(AGENT_PATH)
    for path in (("metadata", "name"), ("metadata", "namespace"), ("spec", "selector"),
                 ("spec", "template", "metadata", "labels"), ("spec", "template", "spec", "serviceAccountName")):
        a, m = api, mine
        for k in path:
            a, m = a[k], m[k]
        assert m == a, path
    api_c, my_c = api["spec"]["template"]["spec"]["containers"][0], mine["spec"]["template"]["spec"]["containers"][0]
    for key in ("name", "image", "command", "resources"):
        assert my_c[key] == api_c[key], key
    # and the pure builder gives the API's answer exactly, as its YAML printer renders it
    address = agent.flags(api)["proxy-server"]
    built = agent.as_printed(agent.build(cluster(lab, "member2"), address, api_c["image"]))
    assert built == api


def test_a_failing_member_stops_its_wave_and_later_waves_are_untouched(fleet, ansible_run):
    """member1 (wave canary) is refused (a certificate margin it cannot meet, for member1 only): the run
    fails, member2 (wave rest) is never imported or even checked, and nothing is written anywhere."""
    lab = fleet
    mark = lab.audit.mark()
    margin = "{{ 100000 if inventory_hostname == 'member1' else 30 }}"
    run = ansible_run(JOIN, lab.lab_inventory, extra_vars=dict(FAST, join_cert_expiry_margin_days=margin))
    assert run.rc != 0, run
    results = run.results(IMPORT_TASK)
    assert set(results) == {"member1"}, results
    assert "certificate_expiring" in [p["code"] for p in results["member1"]["problems"]]
    assert collection_writes(lab, mark) == []


# --- refusals: one test per check, each writing nothing on any cluster -------------------------------------


def test_loopback_server_is_refused_by_default(fleet, ansible_run):
    set_member3(fleet, "member")
    assert_refused_writing_nothing(fleet, ansible_run, "loopback_server", allow_loopback=False)


def test_jwt_mismatch_is_refused(fleet, ansible_run):
    set_member3(fleet, "member", jwt=OTHER_JWT)
    try:
        assert_refused_writing_nothing(fleet, ansible_run, "jwt_mismatch")
    finally:
        set_member3(fleet, "member")


def test_role_not_member_is_refused(fleet, ansible_run):
    set_member3(fleet, "none")
    try:
        assert_refused_writing_nothing(fleet, ansible_run, "member_role_not_member")
    finally:
        set_member3(fleet, "member")


def test_the_same_cluster_under_a_second_name_is_refused(fleet, ansible_run):
    assert_refused_writing_nothing(fleet, ansible_run, "already_imported", name="member1-again",
                                   kubeconfig_of="member1")


def test_an_unreachable_server_is_refused(fleet, ansible_run, free_port, tmp_path):
    cfg = yaml.safe_load(open(fleet.kubeconfig("member3")))
    cfg["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:%d" % free_port()
    path = tmp_path / "dead.kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    assert_refused_writing_nothing(fleet, ansible_run, "member_unreachable", stored_kubeconfig=str(path))


def test_a_proxy_member_with_a_loopback_tower_address_is_refused(fleet, ansible_run):
    # the lab's tower publishes a LoadBalancer address (10.255.0.1, the lab's CONNECT proxy maps it), so the
    # loopback address is given as the override an operator might try
    assert_refused_writing_nothing(fleet, ansible_run, "loopback_proxy_address", connection_type="proxy",
                                   allow_loopback=False, proxy_address="http://127.0.0.1:8080")


def test_an_expiring_client_certificate_is_refused(fleet, ansible_run):
    res = assert_refused_writing_nothing(fleet, ansible_run, "certificate_expiring", cert_expiry_margin_days=100000)
    assert "member3" in res["msg"]


def test_clock_skew_beyond_the_limit_is_refused(fleet, ansible_run):
    # the lab's clocks are one machine's: a limit below the measurement's 1 s resolution must refuse
    res = assert_refused_writing_nothing(fleet, ansible_run, "clock_skew_possible", max_clock_skew=0.0)
    assert "maximumClockSkew" in res["msg"]


def test_a_member_another_host_imported_is_refused(fleet, ansible_run):
    uid = uid_of(fleet, "member3")
    peers = [{"name": "other-host", "role": "host", "kube_system_uid": "another-uid",
              "clusters": [{"name": "edge", "uid": uid}]}]
    assert_refused_writing_nothing(fleet, ansible_run, "managed_by_other_host", peers=peers)


def test_an_invalid_name_is_refused(fleet, ansible_run):
    assert_refused_writing_nothing(fleet, ansible_run, "invalid_name", name="x" * 61, connection_type="proxy")


# --- the console's validation API as an oracle ---------------------------------------------------------------


def test_the_console_validation_refuses_what_the_collection_refuses_earlier(fleet, ansible_run, free_port):
    """For each case the console's validation API can judge (direct members), the real ks-apiserver refuses
    it, and the collection refuses the same member with the code checks.join.console_code maps the API's
    message to -- before any write (assert_refused_writing_nothing)."""
    lab = fleet
    from kslabkit.lab import embedded_kubeconfig  # noqa: PLC0415

    def validate(kubeconfig_text, name="member3"):
        """The API's answer once member3's ks-apiserver answers again (the lab restarts it when its config
        changes: until then the API says it cannot validate the KubeSphere endpoint)."""
        deadline = time.time() + 120
        while True:
            status, text = validate_once(kubeconfig_text, name)
            if join_checks.console_code(text) != "kubesphere_unreachable" or time.time() > deadline:
                return status, text
            time.sleep(3)

    def validate_once(kubeconfig_text, name="member3"):
        body = {"apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster", "metadata": {"name": name},
                "spec": {"provider": "", "joinFederation": True, "connection": {
                    "type": "direct", "kubeconfig": base64.b64encode(kubeconfig_text.encode()).decode()}}}
        return ks_api(lab, VALIDATION, "POST", body)

    m3 = embedded_kubeconfig(lab.kubeconfig("member3"))
    dead = yaml.safe_load(m3)
    dead["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:%d" % free_port()
    dead_text = yaml.safe_dump(dead)
    cases = []

    set_member3(lab, "member", jwt=OTHER_JWT)
    try:
        cases.append(("jwt", validate(m3), {}))
        seen = assert_refused_writing_nothing(lab, ansible_run, join_checks.console_code(cases[-1][1][1]))
    finally:
        set_member3(lab, "member")
    set_member3(lab, "none")
    try:
        cases.append(("role", validate(m3), {}))
        assert_refused_writing_nothing(lab, ansible_run, join_checks.console_code(cases[-1][1][1]))
    finally:
        set_member3(lab, "member")
    cases.append(("twice", validate(embedded_kubeconfig(lab.kubeconfig("member1")), "member1-again"), {}))
    assert_refused_writing_nothing(lab, ansible_run, join_checks.console_code(cases[-1][1][1]),
                                   name="member1-again", kubeconfig_of="member1")
    cases.append(("unreachable", validate(dead_text), {}))
    assert_refused_writing_nothing(lab, ansible_run, join_checks.console_code(cases[-1][1][1]),
                                   stored_kubeconfig=dead_text)
    codes = {case[0]: join_checks.console_code(case[1][1]) for case in cases}
    assert all(case[1][0] >= 400 for case in cases), cases
    assert codes == {"jwt": "jwt_mismatch", "role": "member_role_not_member", "twice": "already_imported",
                     "unreachable": "member_unreachable"}, cases
    assert seen["problems"]
    # the console accepts member3 as it is now; the collection accepts it too (check mode: nothing written)
    status, text = validate(m3)
    assert status == 200, text


# --- an import interrupted by a dead member kube-apiserver, then finished by a rerun ---------------------------


def test_a_member_apiserver_stopped_mid_import_fails_clearly_and_a_rerun_finishes_with_one_cluster(fleet, ansible_run):
    lab = fleet
    ensure_host(lab, ansible_run)
    set_member3(lab, "member")
    play = import_play(lab, wait_timeout=90)
    fd_path = os.path.join(lab.state_dir, "interrupted.yml")
    with open(fd_path, "w") as f:
        f.write(play)
    venv_bin = os.path.dirname(sys.executable)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"),
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1")
    proc = subprocess.Popen([os.path.join(venv_bin, "ansible-playbook"), "-i", "localhost,", fd_path], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # the Cluster is created (after every check): stop member3's kube-apiserver at once. KubeSphere may
        # already have set Ready (it can within the same second), but kubefed has not probed it yet: the
        # import waits for both, so it cannot finish
        wait_for(lambda: cluster(lab, "member3"), 240, "Cluster member3 created", interval=0.1)
        kfc = lab.client(lab.host).try_get("%s/member3" % KFC)
        assert (condition(kfc, "Ready") or {}).get("status") != "True", kfc
        pid = lab.state["clusters"]["member3"]["pid"]
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            assert b"kube-apiserver" in f.read()
        os.kill(pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0, out[-3000:]
    data = json.loads(out[out.index("{"):])
    res = data["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert res.get("failed") and "cluster 'member3'" in res["msg"] and "Cluster member3" in res["msg"], res["msg"]
    assert "not healthy" in res["msg"] or "not reachable" in res["msg"] or "unreachable" in res["msg"], res["msg"]

    restart_apiserver(lab, "member3")
    run = ansible_run(import_play(lab), "localhost,", timeout=900)
    res = only_result(run)
    assert run.rc == 0 and res["health"]["verdict"] == "ready", run
    member3_uid = uid_of(lab, "member3")
    assert [c["metadata"]["name"] for c in clusters_of(lab) if c["status"].get("uid") == member3_uid] == ["member3"]
    run = ansible_run(import_play(lab), "localhost,", timeout=900)
    assert run.rc == 0 and only_result(run)["changed"] is False, run
    record("faults", __file__, "member-apiserver-stopped-mid-import",
           fault="a member's kube-apiserver stopped (SIGTERM) during an import",
           moment="right after the Cluster was created, before kubefed probed the member",
           sees="the import fails naming cluster 'member3' and Cluster member3: not healthy / not reachable",
           rerun="kube-apiserver started again: the rerun finishes (health ready) with exactly one Cluster for the "
                 "member's uid; a third run changes nothing",
           command="ansible-playbook -i localhost, <play: member import of member3, wait_timeout: 90>")


# Slices of 1 s (the action plugin's kubesphere_progress_interval): the import then spans slices, as it did in
# loaded full runs, where the dedicated credential's result was lost (only the slice that made it returned it).
SLICED = {"kubesphere_progress_interval": 1}


def ensure_dedicated_credential(lab, ansible_run):
    if cluster(lab, "member3") is None:  # the test above imports it; run on its own (-k), this one does
        ensure_member3_imported(lab, ansible_run)


def test_a_dedicated_credential_replaces_the_stored_kubeconfig(fleet, ansible_run):
    """member3 is imported (with the lab's admin kubeconfig) by the test above: dedicated_credential makes a
    ServiceAccount bound to cluster-admin on it and stores that token's kubeconfig instead (the webhook accepts
    it: same cluster); the member stays healthy; the result names the credential even when the import spans
    slices; a rerun changes nothing."""
    lab = fleet
    ensure_dedicated_credential(lab, ansible_run)
    run = ansible_run(import_play(lab, play_vars=SLICED, dedicated_credential=True), "localhost,", timeout=900)
    res = only_result(run)
    print("progress lines (slices) of the dedicated-credential import: %r"
          % [x for x in run.stdout.splitlines() if "waiting until" in x])
    assert run.rc == 0, (res.get("msg"), res.get("code"), res.get("problems"), run)
    assert res["changed"] is True and res["health"]["verdict"] == "ready", run
    assert res["credential"]["cluster_role"] == "cluster-admin", res
    stored = yaml.safe_load(base64.b64decode(cluster(lab, "member3")["spec"]["connection"]["kubeconfig"]))
    assert list(stored["users"][0]["user"]) == ["token"]
    m3 = lab.client("member3")
    secret = m3.get("/api/v1/namespaces/kube-system/secrets/kubesphere-multicluster-token")
    token = base64.b64decode(secret["data"]["token"]).decode()
    assert stored["users"][0]["user"]["token"] == token
    binding = m3.get("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubesphere-multicluster:cluster-admin")
    assert binding["roleRef"]["name"] == "cluster-admin"
    # KubeSphere uses it: its controller's requests on member3 now come as that ServiceAccount
    assert condition(cluster(lab, "member3"), "Ready")["status"] == "True"

    run = ansible_run(import_play(lab, play_vars=SLICED, dedicated_credential=True), "localhost,", timeout=900)
    res = only_result(run)
    assert run.rc == 0 and res["changed"] is False and res["credential"]["cluster_role"] == "cluster-admin", run


def test_the_dedicated_credentials_token_is_never_printed(fleet, ansible_run):
    """The import with dedicated_credential at -vvv (it makes the credential when the test above did not): the
    token the member's token controller wrote appears nowhere in the output, whatever the run's outcome."""
    lab = fleet
    ensure_dedicated_credential(lab, ansible_run)
    run = ansible_run(import_play(lab, dedicated_credential=True), "localhost,", verbosity=3, callback="default",
                      timeout=900)
    secret = lab.client("member3").try_get("/api/v1/namespaces/kube-system/secrets/kubesphere-multicluster-token")
    token = base64.b64decode(((secret or {}).get("data") or {}).get("token") or "").decode()
    assert token, ("no token was made", run)
    assert "kubesphere.multicluster.member runs in the worker process" in run.stdout  # it is the -vvv output
    assert token not in run.stdout + run.stderr
    assert run.rc == 0, run
