"""What a connection talks to and what a module is given, against the lab:

- credentials from the environment (K8S_AUTH_*, as AWX's Kubernetes credential injects them) never
  redirect a cluster the inventory describes: each cluster answers for itself, the run warns that they
  were ignored, and nothing is written to a cluster the inventory does not name;
- inventory variables of other clusters never reach module arguments (a group variable holding a
  password is absent from `-vvv` output and from registered results);
- `module_defaults` for the action group works with modules of the group and beside modules outside it."""

import os

import pytest
import yaml

from test_roles import collection_writes, mark_writes, private_lab

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SITE = os.path.join(REPO, "playbooks", "site.yml")
STATUS = os.path.join(REPO, "playbooks", "status.yml")
FAST = {"host_config_wait_sleep": 1, "member_config_wait_sleep": 1,
        "host_config_wait_timeout": 60, "member_config_wait_timeout": 60}
CONFIG = "/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config"
PASSWORD = "corp-db-Pa55-7f3a91c2"

pytestmark = pytest.mark.timeout(600)


def bearer_token(lab, name):
    """A cluster-admin bearer token of cluster `name` (a ServiceAccount token, as AWX would be given)."""
    rest = lab.client(name)
    rest.ensure({"apiVersion": "v1", "kind": "ServiceAccount",
                 "metadata": {"name": "env-test", "namespace": "default"}})
    rest.ensure({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                 "metadata": {"name": "env-test"},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                 "subjects": [{"kind": "ServiceAccount", "name": "env-test", "namespace": "default"}]})
    out = rest.request("POST", "/api/v1/namespaces/default/serviceaccounts/env-test/token",
                       {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                        "spec": {"expirationSeconds": 3600}})
    return out["status"]["token"]


def env_pointing_at(lab, name):
    """The K8S_AUTH_* variables AWX's bearer-token credential sets, all naming cluster `name`."""
    return {"K8S_AUTH_HOST": lab.server(name), "K8S_AUTH_API_KEY": bearer_token(lab, name),
            "K8S_AUTH_SSL_CA_CERT": os.path.join(os.path.dirname(lab.kubeconfig(name)), "ca.crt"),
            "K8S_AUTH_VERIFY_SSL": "true",
            "K8S_AUTH_KUBECONFIG": lab.kubeconfig(name), "K8S_AUTH_CONTEXT": name}


def uid(lab, name):
    return lab.client(name).get("/api/v1/namespaces/kube-system")["metadata"]["uid"]


def rendered(lab, name):
    cm = lab.client(name).try_get(CONFIG)
    return yaml.safe_load((cm or {}).get("data", {}).get("kubesphere.yaml") or "") or {}


def test_status_gives_each_cluster_its_own_answers_whatever_k8s_auth_says(lab, ansible_run, lab_inventory_dir):
    env = env_pointing_at(lab, lab.host)
    run = ansible_run(STATUS, lab_inventory_dir, env=env)
    assert run.rc == 0, run
    read = run.results("Read the cluster")
    assert sorted(read) == sorted(lab.names)
    for name in lab.names:
        assert read[name]["cluster"]["reachable"] is True, read[name]
        assert read[name]["cluster"]["kube_system_uid"] == uid(lab, name), name
    warnings = [w for r in read.values() for w in r.get("warnings", [])]
    assert any("K8S_AUTH_HOST" in w and "ignored" in w for w in warnings), warnings
    assert env["K8S_AUTH_API_KEY"] not in run.stdout + run.stderr


def test_module_defaults_for_the_group_beside_a_module_outside_it(lab, ansible_run, lab_inventory_dir):
    play = [{
        "hosts": "kubesphere_clusters", "gather_facts": False,
        "module_defaults": {"group/kubesphere.multicluster.kubesphere": {
            "kubeconfig": "{{ kubesphere_kubeconfig }}", "context": "{{ kubesphere_context }}"}},
        "tasks": [
            {"name": "read", "kubesphere.multicluster.cluster_info": {
                "cluster_name": "{{ kubesphere_cluster_name }}", "fail_on_unreachable": True}, "register": "info"},
            {"name": "gate", "run_once": True, "kubesphere.multicluster.clock_skew": {
                "clusters": "{{ ansible_play_hosts | map('extract', hostvars, ['info', 'cluster']) | list }}",
                "threshold": 5}},
        ]}]
    run = ansible_run(yaml.safe_dump(play), lab_inventory_dir)
    assert run.rc == 0, run
    read = run.results("read")
    for name in lab.names:
        assert read[name]["cluster"]["kube_system_uid"] == uid(lab, name)
    (gate,) = run.results("gate").values()
    assert not gate.get("failed"), gate


def fleet_inventory(lab, path, names):
    """The lab's inventory naming only `names`, with a group variable holding a password."""
    inv = yaml.safe_load(open(lab.inventory))
    for group in ("kubesphere_host", "kubesphere_members"):
        inv[group]["hosts"] = {h: v for h, v in inv[group]["hosts"].items() if h in names}
    inv["kubesphere_clusters"]["vars"]["corp_db_password"] = PASSWORD
    path.write_text(yaml.safe_dump(inv))
    return str(path)


def test_site_writes_only_the_named_clusters_and_ships_no_inventory_variables(make_lab, ansible_run, tmp_path):
    """A fresh fleet of three; the inventory names host and member1; K8S_AUTH_* point at member2."""
    lab = private_lab(make_lab)  # every cluster role none, the installer stand-in's first render done
    host, m1, m2 = lab.names
    inventory = fleet_inventory(lab, tmp_path / "inventory.yml", (host, m1))
    env = env_pointing_at(lab, m2)
    before = mark_writes(lab)

    run = ansible_run(SITE, inventory, verbosity=3, extra_vars=FAST, env=env)
    assert run.rc == 0, run
    assert (rendered(lab, host).get("multicluster") or {}).get("clusterRole") == "host"
    assert (rendered(lab, m1).get("multicluster") or {}).get("clusterRole") == "member"
    assert rendered(lab, m1)["authentication"]["jwtSecret"] == rendered(lab, host)["authentication"]["jwtSecret"]
    assert collection_writes(lab, before, cluster=m2) == [], "site.yml wrote to %s, which the inventory does not name" % m2
    assert collection_writes(lab, before, cluster=m1), "the audit log shows no write of site.yml on %s" % m1
    assert PASSWORD not in run.stdout + run.stderr
    assert "K8S_AUTH_HOST" in run.stdout + run.stderr  # the warning

    # a registered result of the member task carries no inventory variable either
    member = run.results("Set the member role with the host's jwtSecret and wait until KubeSphere applied it")
    assert member and PASSWORD not in yaml.safe_dump(member)
    args = member[m1]["invocation"]["module_args"]
    assert all(set(p) <= {"name", "role", "kube_system_uid", "kubesphere_line", "clusters"} for p in args["peers"]), \
        args["peers"]


def test_a_member_kubeconfig_given_inline_never_shows_even_when_the_run_does_not_use_it(lab, ansible_run, tmp_path):
    """member_connections holds each member's connection as the inventory gives it (AWX injects a kubeconfig as
    text). A run reads only the members its placement adds, so member9's inline kubeconfig is never used here:
    its token still never reaches -vvv output or the registered result (hidden from the module's start)."""
    token = "member9-inline-token-" + os.urandom(4).hex()
    inline = yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "c",
                             "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                             "users": [{"name": "u", "user": {"token": token}}],
                             "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]})
    playbook = tmp_path / "inline.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False, "connection": "local",
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "tasks": [{"name": "project", "check_mode": True, "ignore_errors": True, "register": "project_result",
                   "kubesphere.multicluster.federated_project": {
                       "kubeconfig": lab.kubeconfig(lab.host), "name": "vvv-inline", "workspace": "w",
                       "clusters": [lab.members[0]],
                       "member_connections": [{"cluster_name": "member9", "kubeconfig": inline}]}},
                  {"name": "show", "ansible.builtin.debug": {"var": "project_result"}}]}]))
    run = ansible_run(str(playbook), "localhost,", verbosity=3)
    out = run.stdout + run.stderr
    assert "member_connections" in out and "member9" in out, run  # the arguments were printed
    assert token not in out, "the inline kubeconfig's token reached the output"
