"""playbooks/install_config.yml against a lab whose clusters have no KubeSphere yet: each cluster's
cluster-configuration.yaml written (or patched) on the controller with its role and the fleet's jwtSecret,
check mode and --diff writing nothing, a second run changing nothing, the secret never printed; then the files
fed to the lab's ks-installer stand-in (what `kubectl apply -f` does) bring each cluster up in its role, and
site.yml joins the member."""

import os
import stat
import time

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INSTALL = os.path.join(REPO, "playbooks", "install_config.yml")
SITE = os.path.join(REPO, "playbooks", "site.yml")
FAST = {"host_config_wait_sleep": 1, "member_config_wait_sleep": 1, "host_config_wait_timeout": 120,
        "member_config_wait_timeout": 120}
CC = "/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/ks-installer"
CONFIG = "/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config"
CLUSTER = "/apis/cluster.kubesphere.io/v1alpha1/clusters/%s"

pytestmark = pytest.mark.timeout(900)


def rendered(lab, name):
    cm = lab.client(name).try_get(CONFIG)
    return yaml.safe_load((cm or {}).get("data", {}).get("kubesphere.yaml") or "") or {}


def changed_hosts(run):
    return {h: s.get("changed", 0) for h, s in run.stats.items() if s.get("changed")}


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def wait_until(what, test, timeout=120):
    deadline = time.time() + timeout
    while True:
        value = test()
        if value:
            return value
        assert time.time() < deadline, what
        time.sleep(0.5)


def install(lab, name, path):
    """What `kubectl apply -f <path>` does on a cluster without KubeSphere: the namespace, then the object."""
    with open(path) as f:
        doc = yaml.safe_load(f)
    rest = lab.client(name)
    if rest.try_get("/api/v1/namespaces/kubesphere-system") is None:
        rest.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                    "metadata": {"name": "kubesphere-system"}})
    rest.request("POST", CC.rsplit("/", 1)[0], doc)


def test_a_fleet_not_installed_comes_up_in_its_roles_and_site_joins_the_member(make_lab, ansible_run, tmp_path):
    from kslabkit.furnish import cluster_configuration  # the installer's own file (the user's starting point)

    lab = make_lab(members=1, not_installed=("host", "member1"), extra_env={"KSLAB_INSTALLER_DELAY": "0.5"})
    host, member = lab.host, lab.members[0]
    assert lab.client(host).try_get(CC) is None and lab.client(member).try_get(CC) is None

    folder = tmp_path / "install"
    paths = {host: str(folder / "host" / "cluster-configuration.yaml"),
             member: str(folder / "member1" / "cluster-configuration.yaml")}
    secret_file = str(folder / "host" / "jwt-secret")
    # member1's file exists already, with a setting of the user's: it is patched, the setting kept
    os.makedirs(os.path.dirname(paths[member]), mode=0o700)
    users = cluster_configuration()
    users["spec"]["common"]["core"]["console"]["port"] = 30881
    with open(paths[member], "w") as f:
        f.write("# the user's file\n" + yaml.safe_dump(users))
    users_text = open(paths[member]).read()

    with open(lab.inventory) as f:
        inv = yaml.safe_load(f)
    for group in ("kubesphere_host", "kubesphere_members"):
        for name, hv in inv[group]["hosts"].items():
            hv["kubesphere_install_config"] = paths[name]
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump(inv))

    # check mode and --diff: nothing written, the role shown, the secret masked
    check = ansible_run(INSTALL, str(inventory), check=True, diff=True, callback="default")
    assert check.rc == 0, check
    assert not os.path.exists(paths[host]) and not os.path.exists(secret_file)
    assert open(paths[member]).read() == users_text
    assert "clusterRole: host" in check.stdout and "clusterRole: member" in check.stdout and "********" in check.stdout

    # the real run: host and member files, 0600 in 0700 folders, the same generated jwtSecret, never printed
    run = ansible_run(INSTALL, str(inventory), diff=True, verbosity=3)
    assert run.rc == 0, run
    assert mode(secret_file) == 0o600 and mode(os.path.dirname(secret_file)) == 0o700
    secret = open(secret_file).read().strip()
    assert len(secret) == 32 and secret not in run.stdout + run.stderr
    docs = {}
    for name, path in paths.items():
        assert mode(path) == 0o600 and mode(os.path.dirname(path)) == 0o700
        with open(path) as f:
            docs[name] = yaml.safe_load(f)
        assert docs[name]["spec"]["authentication"]["jwtSecret"] == secret
    assert docs[host]["spec"]["multicluster"] == {"clusterRole": "host", "hostClusterName": host}
    assert docs[member]["spec"]["multicluster"] == {"clusterRole": "member"}
    assert docs[member]["spec"]["common"]["core"]["console"]["port"] == 30881   # the user's setting kept

    # a second run, and a check run now, change nothing
    again = ansible_run(INSTALL, str(inventory))
    assert again.rc == 0 and changed_hosts(again) == {}, again
    check = ansible_run(INSTALL, str(inventory), check=True, diff=True)
    assert check.rc == 0 and changed_hosts(check) == {}, check
    assert open(secret_file).read().strip() == secret

    # the install: the stand-in runs on each file and brings the cluster up in its role, with the fleet's secret
    for name in (host, member):
        install(lab, name, paths[name])
    for name, wanted in ((host, "host"), (member, "member")):
        wait_until("%s rendered role %s" % (name, wanted),
                   lambda n=name, w=wanted: (rendered(lab, n).get("multicluster") or {}).get("clusterRole") == w)
        assert rendered(lab, name)["authentication"]["jwtSecret"] == secret
    wait_until("the host's multicluster enabled",
               lambda: (lab.client(host).get(CC).get("status") or {}).get("multicluster", {}).get("status") == "enabled")

    # site.yml then finds each cluster in its role (nothing to change there) and joins the member
    site = ansible_run(SITE, str(inventory), extra_vars=FAST)
    assert site.rc == 0, site
    assert secret not in site.stdout + site.stderr
    assert lab.client(host).get(CC)["spec"]["multicluster"]["clusterRole"] == "host"
    cluster = lab.client(host).get(CLUSTER % member)
    ready = [c for c in cluster["status"]["conditions"] if c["type"] == "Ready"]
    assert ready and ready[0]["status"] == "True", cluster["status"]
