"""Bad input, one table (issue 20): every row is a run that must fail before its first write.

One private lab (host, member1, member2, member3): the roles set and member1/member2 imported once at the
start (test_federation.joined_fleet), member3 left for the import rows. Each row runs ansible-playbook once
(a module in a localhost play, a playbook of playbooks/ with a changed inventory, a role's variables, an AWX
survey's answer) and asserts:
- the run failed (rc != 0 and a failed task, or ansible-playbook's own refusal);
- the message names the cluster (where the row has one), the input and what to do (words of the row);
- the stable `code` (where the module returns one);
- ZERO writes by the collection on every cluster of the lab (the kube-apiservers' audit logs,
  tests/auditlog.py, refused writes included);
- nothing secret printed (the host's jwtSecret, the kubeconfigs' tokens and client keys, the rows' own
  secret values).
Each row's (input, code, message, writes) goes to build/evidence/bad_input.json.

KSLAB_BADINPUT_LAB=<state dir> uses an already running lab (left running) instead of a private one."""

import base64
import copy
import datetime
import json
import os
import re

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from auditlog import AuditLog
from lab_secrets import kubeconfig_secrets
from polling import wait_for
from test_federation import joined_fleet, private_lab_env, run_playbook

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EVIDENCE = os.path.join(REPO, "build", "evidence", "bad_input.json")
CC_PATH = "/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/ks-installer"
KS_CONFIG = "/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config"
OTHER_JWT = "an0therJwtSecretOfAnotherHostxyz"
SECRET_VALUE = "bad-input-secret-value-7f3a"
PLAYBOOKS = os.path.join(REPO, "playbooks")
HOST_CLUSTER_ANNOTATION = "cluster.kubesphere.io/host-cluster"  # KubeSphere v4's mark of the host managing a member
EVIDENCE_ROWS = {}


@pytest.fixture(scope="module")
def fleet(make_module_lab, tmp_path_factory):
    if os.environ.get("KSLAB_BADINPUT_LAB"):
        import importlib.util  # noqa: PLC0415

        spec = importlib.util.spec_from_file_location(
            "_tests_conftest", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "conftest.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        lab = mod.LabHandle(dict(os.environ, KSLAB_STATE=os.environ["KSLAB_BADINPUT_LAB"]))
    else:
        lab = make_module_lab(members=3, extra_env=private_lab_env())
    joined_fleet(lab)
    lab.audit = AuditLog.for_lab(lab)
    lab.tmp = tmp_path_factory.mktemp("badinput")
    lab.secrets = secrets_of(lab)
    yield lab
    os.makedirs(os.path.dirname(EVIDENCE), exist_ok=True)
    rows = [EVIDENCE_ROWS[k] for k in sorted(EVIDENCE_ROWS)]
    with open(EVIDENCE, "w") as f:
        json.dump({"issue": 20, "rows": rows}, f, indent=2, sort_keys=True)


def secrets_of(lab):
    """What must never be printed: the host's jwtSecret, every kubeconfig's token and client key."""
    out = {SECRET_VALUE}
    cfg = yaml.safe_load(lab.client(lab.host).get(KS_CONFIG)["data"]["kubesphere.yaml"])
    out.add(cfg["authentication"]["jwtSecret"])
    out |= kubeconfig_secrets(yaml.safe_load(open(lab.kubeconfig(name))) for name in lab.names)
    return {s for s in out if s and len(s) >= 8}


# --- inputs ------------------------------------------------------------------------------------------------


def inventory(lab, change=None, name="inventory.yml"):
    """The lab's static inventory (kslab's inventory.yml), changed by `change(inv)`, written to a file."""
    with open(lab.inventory) as f:
        inv = yaml.safe_load(f)
    for group in ("kubesphere_host", "kubesphere_members"):
        inv[group]["hosts"] = {h: v for h, v in inv[group]["hosts"].items() if h != "member3"} or None
    if change:
        change(inv)
    path = lab.tmp / ("%d-%s" % (len(os.listdir(lab.tmp)), name))
    path.write_text(yaml.safe_dump(inv, sort_keys=False))
    return str(path)


def hostvars(inv, host):
    for group in ("kubesphere_host", "kubesphere_members"):
        if host in (inv[group].get("hosts") or {}):
            return inv[group]["hosts"][host]
    raise KeyError(host)


def plugin_file(lab, change=None):
    """A `*.kubesphere.yml` compact file for the inventory plugin describing the lab, changed by `change`."""
    doc = {"plugin": "kubesphere.multicluster.clusters",
           "compose": {"kubesphere_join_allow_loopback": "true"},
           "defaults": {"connection_type": "direct", "cluster_group": "lab"},
           "host": {"name": "host", "kubeconfig": lab.kubeconfig("host"), "context": "host"},
           "members": [{"name": m, "kubeconfig": lab.kubeconfig(m), "context": m} for m in ("member1", "member2")]}
    if change:
        change(doc)
    for cluster in doc.get("members") if isinstance(doc.get("members"), list) else []:
        if str(cluster.get("kubeconfig", "")).startswith("@"):  # another cluster's kubeconfig
            cluster["kubeconfig"] = lab.kubeconfig(cluster["kubeconfig"][1:])
    folder = lab.tmp / ("plugin%d" % len(os.listdir(lab.tmp)))
    folder.mkdir()
    path = folder / "fleet.kubesphere.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def kubeconfig_copy(lab, cluster, change):
    kc = yaml.safe_load(open(lab.kubeconfig(cluster)))
    change(kc)
    path = lab.tmp / ("kc%d-%s" % (len(os.listdir(lab.tmp)), cluster))
    path.write_text(yaml.safe_dump(kc))
    os.chmod(path, 0o600)
    return str(path)


def without_ca(kc):
    """Verification on, no CA: the lab's self-signed certificate cannot be verified."""
    for c in kc["clusters"]:
        c["cluster"].pop("certificate-authority-data", None)
        c["cluster"].pop("certificate-authority", None)
        c["cluster"].pop("insecure-skip-tls-verify", None)


def module_play(lab, module, args, host_conn=True):
    """A localhost play running `module` once with `args` (the host's connection unless given)."""
    args = dict(args)
    if host_conn:
        args.setdefault("kubeconfig", lab.kubeconfig(lab.host))
    return yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                            "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                            "tasks": [{"name": "row", "kubesphere.multicluster." + module: args}]}], sort_keys=False)


def deployment(name="web"):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": name, "image": "nginx:1.25"}]}}}}


GOOD_PROJECT = {"name": "bi-good", "workspace": "bi", "clusters": ["member1", "member2"],
                "configmaps": [{"name": "settings", "data": {"LEVEL": "info"}}]}


def projects(*bad):
    """A valid project first (it must not be written either), then the bad ones."""
    return [copy.deepcopy(GOOD_PROJECT)] + [dict({"workspace": "bi", "clusters": ["member1", "member2"]}, **p)
                                            for p in bad]


def workload(**item):
    return {"name": "bi-bad", "workloads": [dict({"definition": deployment()}, **item)]}


# --- the rows ----------------------------------------------------------------------------------------------


class Row:
    """One bad input. `make(lab)` -> dict(playbook=, inventory=, extra_vars=); `code` the expected code (None: a
    failure without a code, ansible's own); `names`: words the message must hold (cluster, input, what to do);
    `fixture`: the name of a fixture that makes the bad state on a cluster before the row (and undoes it)."""

    def __init__(self, rid, surface, what, make, code=None, names=(), xfail=None, fixture=None):
        self.id, self.surface, self.what, self.make, self.code, self.names, self.xfail, self.fixture = (
            rid, surface, what, make, code, tuple(names), xfail, fixture)


def _static(change, playbook="preflight.yml"):
    return lambda lab: {"playbook": os.path.join(PLAYBOOKS, playbook), "inventory": inventory(lab, change)}


def _plugin(change, playbook="preflight.yml"):
    return lambda lab: {"playbook": os.path.join(PLAYBOOKS, playbook), "inventory": plugin_file(lab, change)}


def _module(module, args, host_conn=True):
    def make(lab):
        resolved = args(lab) if callable(args) else args
        return {"playbook": module_play(lab, module, resolved, host_conn), "inventory": "localhost,"}
    return make


def _federate(*bad, **extra):
    def make(lab):
        ev = {"kubesphere_projects": projects(*bad)}
        ev.update(extra)
        return {"playbook": os.path.join(PLAYBOOKS, "federate.yml"), "inventory": inventory(lab), "extra_vars": ev}
    return make


def _playbook(playbook, extra_vars, change=None):
    return lambda lab: {"playbook": os.path.join(PLAYBOOKS, playbook), "inventory": inventory(lab, change),
                        "extra_vars": extra_vars}


def _survey(template, answers):
    """The job template's playbook with the survey answers as AWX passes them (extra vars)."""
    def make(lab):
        with open(os.path.join(REPO, "extensions", "awx", "job_templates", template + ".json")) as f:
            tpl = json.load(f)
        ev = dict(answers)
        if template == "federate":
            ev["kubesphere_projects"] = projects()
        return {"playbook": os.path.join(REPO, tpl["playbook"]), "inventory": inventory(lab), "extra_vars": ev}
    return make


def open_folder(lab):
    """A new folder anyone may open (0777)."""
    path = lab.tmp / ("open%d" % len(os.listdir(lab.tmp)))
    path.mkdir()
    os.chmod(path, 0o777)
    return str(path)


def _set(host, key, value):
    def change(inv):
        hostvars(inv, host)[key] = value
    return change


def _two_hosts(inv):
    inv["kubesphere_host"]["hosts"]["member1"] = inv["kubesphere_members"]["hosts"].pop("member1")


def _no_host(inv):
    inv["kubesphere_host"]["hosts"] = None


def _same_server(inv):
    hostvars(inv, "member2").update(kubesphere_kubeconfig=hostvars(inv, "member1")["kubesphere_kubeconfig"],
                                    kubesphere_context="member1")


def _host_kubeconfig_of(cluster):
    def change(inv):
        hostvars(inv, "host").update(kubesphere_kubeconfig=inv["kubesphere_members"]["hosts"][cluster]
                                     ["kubesphere_kubeconfig"], kubesphere_context=cluster)
    return change


def _plugin_member(index, **values):
    def change(doc):
        doc["members"][index].update(values)
    return change


def _member3(**args):
    def make(lab):
        base = {"name": "member3", "kubeconfig": lab.kubeconfig("member3"), "host_kubeconfig": lab.kubeconfig(lab.host),
                "allow_loopback": True, "wait_timeout": 60}
        for key, value in args.items():
            base[key] = value(lab) if callable(value) else value
        return {"playbook": module_play(lab, "member", base, host_conn=False), "inventory": "localhost,"}
    return make


NO_FILE = "/nonexistent/bad-input/kubeconfig"

ROWS = [
    # the static inventory (preflight.yml: fleet_check)
    Row("inventory-static-two-hosts", "inventory (static)", "member1 also in kubesphere_host", _static(_two_hosts),
        "two_hosts", ("host", "member1")),
    Row("inventory-static-no-host", "inventory (static)", "kubesphere_host empty", _static(_no_host), "no_host",
        ("kubesphere_host",)),
    Row("inventory-static-duplicate-name", "inventory (static)", "member2's kubesphere_cluster_name: member1",
        _static(_set("member2", "kubesphere_cluster_name", "member1")), "duplicate_name", ("member1",)),
    Row("inventory-static-invalid-name", "inventory (static)", "kubesphere_cluster_name: Member_2",
        _static(_set("member2", "kubesphere_cluster_name", "Member_2")), "invalid_name", ("Member_2",)),
    Row("inventory-static-kubeconfig-missing", "inventory (static)", "member1's kubeconfig path does not exist",
        _static(_set("member1", "kubesphere_kubeconfig", NO_FILE)), "kubeconfig_missing", ("member1", NO_FILE)),
    Row("inventory-static-context-missing", "inventory (static)", "member1's context not in its kubeconfig",
        _static(_set("member1", "kubesphere_context", "no-such-context")), "no_such_context",
        ("member1", "no-such-context")),
    Row("inventory-static-same-cluster-two-names", "inventory (static)", "member2 is member1's API server",
        _static(_same_server), "same_server", ("member1", "member2")),
    Row("inventory-static-unknown-connection-type", "inventory (static)", "kubesphere_connection_type: vpn",
        _static(_set("member1", "kubesphere_connection_type", "vpn")), "unknown_connection_type", ("member1", "vpn")),
    Row("inventory-static-connection-type-wrong-type", "inventory (static)", "kubesphere_connection_type: [direct]",
        _static(_set("member1", "kubesphere_connection_type", ["direct"])), "unknown_connection_type", ("member1",)),
    # the inventory plugin (*.kubesphere.yml)
    Row("inventory-plugin-no-host", "inventory (kubesphere.yml)", "no host key",
        _plugin(lambda d: d.pop("host")), "no_host", ("host",)),
    Row("inventory-plugin-member-is-host", "inventory (kubesphere.yml)", "the host listed again as a member",
        _plugin(lambda d: d["members"].append(dict(d["host"]))), "member_as_host", ("host",)),
    Row("inventory-plugin-duplicate-name", "inventory (kubesphere.yml)", "member2 named member1",
        _plugin(_plugin_member(1, name="member1")), "duplicate_name", ("member1",)),
    Row("inventory-plugin-invalid-name", "inventory (kubesphere.yml)", "a member named Member_2",
        _plugin(_plugin_member(1, name="Member_2")), "invalid_name", ("Member_2",)),
    Row("inventory-plugin-kubeconfig-missing", "inventory (kubesphere.yml)", "member1's kubeconfig does not exist",
        _plugin(_plugin_member(0, kubeconfig=NO_FILE)), "kubeconfig_missing", ("member1", NO_FILE)),
    Row("inventory-plugin-context-missing", "inventory (kubesphere.yml)", "member1's context not in the kubeconfig",
        _plugin(_plugin_member(0, context="no-such-context")), "no_such_context", ("member1", "no-such-context")),
    Row("inventory-plugin-same-cluster-two-names", "inventory (kubesphere.yml)", "member2 is member1's API server",
        _plugin(_plugin_member(1, kubeconfig="@member1", context="member1")), "same_server", ("member1", "member2")),
    Row("inventory-plugin-members-wrong-type", "inventory (kubesphere.yml)", "members: a mapping",
        _plugin(lambda d: d.update(members={"member1": {}})), None, ("members",)),
    Row("inventory-plugin-unknown-key", "inventory (kubesphere.yml)", "a member with the key kubeconfg",
        _plugin(_plugin_member(0, kubeconfg="x")), None, ("kubeconfg",)),
    Row("inventory-plugin-unknown-connection-type", "inventory (kubesphere.yml)", "connection_type: vpn",
        _plugin(_plugin_member(0, connection_type="vpn")), "unknown_connection_type", ("member1", "vpn")),
    # the member module (member3, not imported)
    Row("member-invalid-name", "module member", "name: 61 characters",
        _member3(name="x" * 61, connection_type="proxy"), "invalid_name", ("x" * 61,)),
    Row("member-same-cluster-two-names", "module member", "member1's kubeconfig under the name member1-again",
        _member3(name="member1-again", kubeconfig=lambda lab: lab.kubeconfig("member1")), "already_imported",
        ("member1",)),
    Row("member-kubeconfig-missing", "module member", "kubeconfig path does not exist", _member3(kubeconfig=NO_FILE),
        "kubeconfig_missing", ("member3", "kubeconfig")),
    Row("member-context-missing", "module member", "context not in the kubeconfig", _member3(context="no-such-context"),
        "kubeconfig_invalid", ("member3", "no-such-context")),
    Row("member-self-signed-verify-on", "module member", "member3's kubeconfig without its CA (verification on)",
        _member3(kubeconfig=lambda lab: kubeconfig_copy(lab, "member3", without_ca)), "member_unreachable",
        ("member3", "certificate")),
    Row("member-wrong-jwt-secret", "module member", "member3 renders another jwtSecret than the host",
        _member3(), "jwt_mismatch", ("member3", "jwtSecret"), fixture="wrong_jwt"),
    Row("member-client-certificate-expired", "module member", "member3's kubeconfig with a client certificate that "
        "expired", _member3(kubeconfig=lambda lab: expired_kubeconfig(lab, "member3")), "certificate_expired",
        ("member3", "expired on", "renew it")),
    Row("member-of-another-host", "module member", "member3's kubesphere-system says host other-host manages it",
        _member3(), "managed_by_other_host", ("member3", "other-host", "unbind it there first"),
        fixture="managed_by_other_host"),
    Row("member-proxy-address-loopback", "module member",
        "a proxy member; proxy_address: http://127.0.0.1:8080, which its agent cannot reach (loopback)",
        _member3(connection_type="proxy", allow_loopback=False, proxy_address="http://127.0.0.1:8080"),
        "loopback_proxy_address", ("member3", "127.0.0.1:8080", "proxyPublishAddress")),
    Row("member-connection-type-wrong", "module member", "connection_type: vpn", _member3(connection_type="vpn"),
        None, ("connection_type", "vpn")),
    Row("member-wait-timeout-not-a-number", "module member", "wait_timeout: soon", _member3(wait_timeout="soon"),
        None, ("wait_timeout",)),
    # the other modules
    Row("multicluster-role-unknown-role", "module multicluster_role", "role: hots",
        _module("multicluster_role", {"role": "hots", "cluster_name": "host"}), None, ("role", "hots")),
    Row("clock-skew-tracking-invalid", "module clock_skew", "tracking: text that is not chronyc -c tracking's",
        _module("clock_skew", {"node": "node-a", "tracking": "not chrony output"}, host_conn=False),
        "tracking_invalid", ("node-a",)),
    Row("workspace-invalid-name", "module workspace", "name: Bad_WS",
        _module("workspace", {"name": "Bad_WS", "clusters": ["member1"]}), "invalid_name", ("Bad_WS", "lowercase")),
    Row("workspace-unknown-cluster", "module workspace", "clusters: [member9]",
        _module("workspace", {"name": "bi-ws", "clusters": ["member9"]}), "cluster_not_member", ("member9", "bi-ws")),
    Row("cluster-info-context-missing", "module cluster_info", "context not in the kubeconfig",
        _module("cluster_info", {"context": "no-such-context", "cluster_name": "host", "fail_on_unreachable": True}),
        "no_such_context",
        ("host", "no-such-context")),
    Row("cluster-info-self-signed-verify-on", "module cluster_info", "the host's kubeconfig without its CA",
        _module("cluster_info", lambda lab: {"cluster_name": "host",
                                             "kubeconfig": kubeconfig_copy(lab, "host", without_ca),
                                             "fail_on_unreachable": True}),
        "tls_untrusted", ("host", "certificate")),
    Row("federation-info-kubeconfig-missing", "module federation_info", "kubeconfig path does not exist",
        _module("federation_info", {"kubeconfig": NO_FILE, "cluster_name": "member1"}), "kubeconfig_missing",
        ("member1", "kubeconfig")),
    Row("federated-project-not-a-member", "module federated_project", "clusters: [member9]",
        _module("federated_project", {"name": "bi-mod", "workspace": "bi", "clusters": ["member9"]}),
        "cluster_not_member", ("member9", "bi-mod")),
    Row("federated-project-invalid-name", "module federated_project", "name: Bad_Project",
        _module("federated_project", {"name": "Bad_Project", "workspace": "bi", "clusters": ["member1"]}),
        "invalid_name", ("Bad_Project", "lowercase")),
    Row("federated-project-wrong-cluster", "module federated_project", "the host's kubeconfig is member1's",
        _module("federated_project", lambda lab: {"name": "bi-mod", "workspace": "bi", "clusters": ["member1"],
                                                  "kubeconfig": lab.kubeconfig("member1"), "cluster_name": "host"}),
        "not_a_host", ("host", "member", "kubeconfig")),
    Row("federated-resource-no-kind", "module federated_resource", "definition without kind",
        _module("federated_resource", {"definition": {"apiVersion": "v1", "metadata": {"name": "x", "namespace": "bi"}}}),
        "definition_invalid", ("kind",)),
    Row("federated-resource-no-ftc", "module federated_resource", "a kind without FederatedTypeConfig",
        _module("federated_resource", {"definition": {"apiVersion": "example.com/v1", "kind": "Gadget",
                                                      "metadata": {"name": "g", "namespace": "bi"}}}),
        "federated_type_missing", ("Gadget",)),
    Row("federated-resource-replicas-not-a-number", "module federated_resource", "settings.member1.replicas: three",
        _module("federated_resource", {"definition": dict(deployment(), metadata={"name": "w", "namespace": "bi"}),
                                       "clusters": ["member1"], "settings": {"member1": {"replicas": "three"}}}),
        "replicas_invalid", ("member1", "three")),
    # the federated_project role's variables (federate.yml), a valid project first in every run
    Row("role-federate-weight-negative", "role federated_project", "a Deployment with weight -1",
        _federate(workload(replicas_by_weight={"total": 3, "weights": {"member1": -1, "member2": 1}})),
        "weight_invalid", ("member1", "bi-bad/web", "-1")),
    Row("role-federate-weight-not-integer", "role federated_project", "weight 1.5",
        _federate(workload(replicas_by_weight={"total": 3, "weights": {"member1": 1.5, "member2": 1}})),
        "weight_invalid", ("member1", "bi-bad/web", "1.5")),
    Row("role-federate-total-not-a-number", "role federated_project", "total: ten",
        _federate(workload(replicas_by_weight={"total": "ten", "weights": {"member1": 1}})),
        "replicas_total_invalid", ("bi-bad/web", "ten")),
    Row("role-federate-replicas-negative", "role federated_project", "replicas -2 on member2",
        _federate(workload(clusters={"member2": {"replicas": -2}})), "replicas_invalid", ("member2", "-2")),
    Row("role-federate-replicas-not-integer", "role federated_project", "replicas 1.5 on member1",
        _federate(workload(clusters={"member1": {"replicas": 1.5}})), "replicas_invalid", ("member1", "1.5")),
    Row("role-federate-weights-on-configmap", "role federated_project", "replicas_by_weight on a ConfigMap",
        _federate({"name": "bi-bad", "workloads": [{"definition": {"apiVersion": "v1", "kind": "ConfigMap",
                                                                   "metadata": {"name": "cm"}, "data": {"a": "b"}},
                                                    "replicas_by_weight": {"total": 2, "weights": {"member1": 1}}}]}),
        "rsp_kind_unsupported", ("ConfigMap",)),
    Row("role-federate-replicas-on-configmap", "role federated_project", "replicas setting on a ConfigMap",
        _federate({"name": "bi-bad", "configmaps": [{"name": "cm", "data": {"a": "b"},
                                                     "clusters": {"member1": {"replicas": 2}}}]}),
        "setting_not_applicable", ("member1", "ConfigMap")),
    Row("role-federate-override-forbidden-path", "role federated_project", "override of /metadata/name",
        _federate(workload(clusters={"member1": {"overrides": [{"op": "replace", "path": "/metadata/name",
                                                                "value": "x"}]}})),
        "override_path_forbidden", ("member1", "/metadata/name")),
    Row("role-federate-project-not-a-member", "role federated_project", "a project on member9",
        _federate({"name": "bi-bad", "clusters": ["member1", "member9"]}), "cluster_not_member", ("member9", "bi-bad")),
    Row("role-federate-object-outside-project", "role federated_project", "a ConfigMap placed on member2, "
        "the project on member1 only",
        _federate({"name": "bi-bad", "clusters": ["member1"],
                   "configmaps": [{"name": "cm", "data": {"a": "b"}, "placement": ["member1", "member2"]}]}),
        "cluster_not_in_project", ("member2", "bi-bad/cm")),
    Row("role-federate-secret-bad-setting", "role federated_project", "a Secret with replicas (its value never shown)",
        _federate({"name": "bi-bad", "secrets": [{"name": "s", "string_data": {"password": SECRET_VALUE},
                                                  "clusters": {"member1": {"replicas": 1}}}]}),
        "setting_not_applicable", ("member1", "Secret", "bi-bad/s")),
    Row("role-federate-missing-workspace", "role federated_project", "a project without workspace",
        _federate({"name": "bi-bad", "workspace": None}), None, ("bi-bad", "no workspace")),
    Row("role-federate-duplicate-project", "role federated_project", "the project bi-good twice",
        _federate({"name": "bi-good"}), None, ("bi-good", "twice")),
    Row("role-federate-invalid-project-name", "role federated_project", "a project named Bad_Project",
        _federate({"name": "Bad_Project"}), "invalid_name", ("Bad_Project", "lowercase")),
    Row("role-federate-delete-mistyped", "role federated_project", "kubesphere_projects_absent confirm mistyped",
        _federate(kubesphere_projects_absent=[{"name": "bi-old", "confirm": "bi-odl"}]), "confirmation_mismatch",
        ("bi-old", "confirm")),
    Row("role-federate-delete-unconfirmed", "role federated_project", "kubesphere_projects_absent without confirm",
        _federate(kubesphere_projects_absent=[{"name": "bi-old"}]), "confirmation_mismatch", ("bi-old", "confirm")),
    Row("role-progress-interval-not-a-number", "role variables", "kubesphere_progress_interval: soon",
        _federate(kubesphere_progress_interval="soon"), None, ("kubesphere_progress_interval", "soon")),
    # unbind
    Row("role-unbind-unconfirmed", "role unbind", "kubesphere_unbind_cluster without confirmation",
        _playbook("unbind.yml", {"kubesphere_unbind_cluster": "member1"}), "unbind_not_confirmed",
        ("member1", "confirm")),
    Row("role-unbind-mistyped", "role unbind", "kubesphere_unbind_confirm: membr1",
        _playbook("unbind.yml", {"kubesphere_unbind_cluster": "member1", "kubesphere_unbind_confirm": "membr1"}),
        "unbind_not_confirmed", ("member1", "membr1")),
    Row("role-unbind-not-a-member", "role unbind", "kubesphere_unbind_cluster: member9",
        _playbook("unbind.yml", {"kubesphere_unbind_cluster": "member9", "kubesphere_unbind_confirm": "member9"}), None,
        ("member9",)),
    # the other roles' variables, as an inventory or extra vars set them (each role's argument spec or checks)
    Row("role-host-config-proxy-address-no-scheme", "role host_config",
        "kubesphere_proxy_publish_address: tower.example.com:8080 (no scheme)",
        _playbook("host_config.yml", {}, _set("host", "kubesphere_proxy_publish_address", "tower.example.com:8080")),
        "bad_proxy_publish_address", ("host", "tower.example.com:8080", "http://")),
    Row("role-join-wait-timeout-not-a-number", "role join", "kubesphere_join_wait_timeout: 10m",
        _playbook("join.yml", {"kubesphere_join_wait_timeout": "10m"}), None, ("join_wait_timeout", "10m")),
    Row("role-join-allow-insecure-not-a-boolean", "role join", "kubesphere_join_allow_insecure: maybe",
        _playbook("join.yml", {"kubesphere_join_allow_insecure": "maybe"}), None, ("join_allow_insecure", "maybe")),
    Row("role-member-config-wait-timeout-not-a-number", "role member_config", "member_config_wait_timeout: soon",
        _playbook("member_config.yml", {"member_config_wait_timeout": "soon"}), None,
        ("member_config_wait_timeout", "soon")),
    Row("role-unbind-force-not-a-boolean", "role unbind", "kubesphere_unbind_force: maybe",
        _playbook("unbind.yml", {"kubesphere_unbind_cluster": "member1", "kubesphere_unbind_confirm": "member1",
                                 "kubesphere_unbind_force": "maybe"}), None, ("unbind_force", "maybe")),
    Row("role-status-projects-not-a-boolean", "role status", "kubesphere_status_projects: maybe",
        _playbook("status.yml", {"kubesphere_status_projects": "maybe"}), None, ("status_projects", "maybe")),
    Row("role-doctor-cert-expiry-days-not-a-number", "role doctor", "kubesphere_cert_expiry_days: soon",
        _playbook("doctor.yml", {"kubesphere_cert_expiry_days": "soon"}), None, ("doctor_cert_expiry_days", "float")),
    Row("role-time-sync-threshold-zero", "role time_sync", "time_sync_threshold: 0",
        _playbook("time_sync.yml", {"time_sync_threshold": 0}), "bad_threshold", ("threshold", "maximumClockSkew")),
    Row("role-install-config-folder-open", "role install_config",
        "kubesphere_install_config in a folder open to others (mode 0777)",
        lambda lab: _playbook("install_config.yml", {}, _set("host", "kubesphere_install_config",
                                                             open_folder(lab) + "/cluster-configuration.yaml"))(lab),
        None, ("folder_not_private", "chmod 700")),
    Row("federate-wait-timeout-not-a-number", "playbook federate.yml", "kubesphere_projects_wait_timeout: 3m",
        _federate(kubesphere_projects_wait=True, kubesphere_projects_wait_timeout="3m"), None,
        ("kubesphere_projects_wait_timeout", "3m")),
    # AWX surveys (their answers as AWX passes them)
    Row("survey-federate-unknown-project", "AWX survey federate", "kubesphere_federate_projects: [nosuch]",
        _survey("federate", {"kubesphere_federate_projects": ["nosuch"]}), None, ("nosuch",)),
    Row("survey-federate-wrong-type", "AWX survey federate", "kubesphere_federate_projects: {a: 1}",
        _survey("federate", {"kubesphere_federate_projects": {"a": 1}}), None, ("federated_project_names", "list")),
    Row("survey-join-unknown-member", "AWX survey join", "kubesphere_join_members: [member9]",
        _survey("join", {"kubesphere_join_members": ["member9"]}), None, ("member9", "kubesphere_join_members")),
    Row("survey-join-wrong-type", "AWX survey join", "kubesphere_join_members: 5",
        _survey("join", {"kubesphere_join_members": 5}), None, ("kubesphere_join_members", "list")),
    Row("survey-status-strict-wrong-type", "AWX survey status", "kubesphere_status_strict: maybe",
        _survey("status", {"kubesphere_status_strict": "maybe"}), None, ("status_strict", "bool")),
    Row("survey-unbind-wrong-type", "AWX survey unbind", "kubesphere_unbind_cluster: 5",
        _survey("unbind", {"kubesphere_unbind_cluster": 5, "kubesphere_unbind_confirm": 5}), None,
        ("'5'", "kubesphere_unbind_cluster")),
    Row("survey-site-unknown-wave", "AWX survey site", "kubesphere_rollout_waves: [nowave]",
        _survey("site", {"kubesphere_rollout_waves": ["nowave"]}), None, ("nowave",)),
]


# --- the run of one row ------------------------------------------------------------------------------------


def failed_results(run):
    """(task name, result) of every failed result, items of loops one by one (a no_log result, hidden, is
    left out: the role's next task says what it held)."""
    out = []
    if not run.parsed and run.rc != 0:
        return out  # refused before the first play (an inventory that does not parse, a hosts pattern that
        # cannot be rendered): no play ran, and stderr says why
    for task in run.tasks():
        for _host, res in task.get("hosts", {}).items():
            if not (res.get("failed") or res.get("unreachable")) or res.get("censored"):
                continue
            items = [i for i in res.get("results") or [] if i.get("failed")]
            out.extend((task["task"]["name"], i) for i in (items or [res]))
    return out


def collection_writes(lab, mark):
    lab.audit.sync(lab)
    return lab.audit.writes_by_collection_alone(since=mark)


@pytest.fixture
def wrong_jwt(fleet):
    """member3 renders another jwtSecret than the host (its ClusterConfiguration), restored afterwards."""
    rest = fleet.client("member3")

    def jwt():
        return yaml.safe_load(rest.get(KS_CONFIG)["data"]["kubesphere.yaml"])["authentication"]["jwtSecret"]
    host_jwt = yaml.safe_load(fleet.client(fleet.host).get(KS_CONFIG)["data"]["kubesphere.yaml"])[
        "authentication"]["jwtSecret"]
    rest.merge_patch(CC_PATH, {"spec": {"authentication": {"jwtSecret": OTHER_JWT}}})
    wait_for(lambda: jwt() == OTHER_JWT, 180, "member3 rendered another jwtSecret")
    yield
    rest.merge_patch(CC_PATH, {"spec": {"authentication": {"jwtSecret": host_jwt}}})
    wait_for(lambda: jwt() == host_jwt, 180, "member3 rendered the host's jwtSecret again")


@pytest.fixture
def managed_by_other_host(fleet):
    """member3's kubesphere-system carries the annotation a KubeSphere v4 host writes on its members, naming
    another host (other-host); removed afterwards."""
    path = "/api/v1/namespaces/kubesphere-system"
    rest = fleet.client("member3")
    rest.merge_patch(path, {"metadata": {"annotations": {HOST_CLUSTER_ANNOTATION: "other-host"}}})
    yield
    rest.merge_patch(path, {"metadata": {"annotations": {HOST_CLUSTER_ANNOTATION: None}}})


def expired_kubeconfig(lab, cluster):
    """A copy of the cluster's kubeconfig whose client certificate (signed by the cluster's CA, admin rights)
    expired yesterday (the API server refuses it too)."""
    cdir = os.path.dirname(lab.kubeconfig(cluster))
    with open(os.path.join(cdir, "ca.key"), "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), password=None)
    with open(os.path.join(cdir, "ca.crt"), "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "bad-input-expired")])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=30))
            .not_valid_after(now - datetime.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())

    def change(kc):
        for u in kc["users"]:
            u["user"] = {"client-certificate-data": base64.b64encode(cert_pem).decode(),
                         "client-key-data": base64.b64encode(key_pem).decode()}
    path = kubeconfig_copy(lab, cluster, change)
    with open(path) as f:
        lab.secrets |= kubeconfig_secrets([yaml.safe_load(f)])  # its key is a secret the row must not print
    return path


@pytest.mark.parametrize("row", [pytest.param(r, id=r.id, marks=[pytest.mark.xfail(strict=True, reason=r.xfail)]
                                              if r.xfail else []) for r in ROWS])
def test_bad_input_is_refused_and_nothing_is_written(fleet, row, request):
    if row.fixture:
        request.getfixturevalue(row.fixture)
    spec = row.make(fleet)
    mark = fleet.audit.mark()
    run = run_playbook(spec["playbook"], spec["inventory"], extra_vars=spec.get("extra_vars"), timeout=600)
    writes = collection_writes(fleet, mark)
    failures = failed_results(run)
    output = run.stdout + run.stderr
    if failures:
        task, first = failures[0]
        message = first.get("msg") or ""
        # the module's code, else the codes of its problems (fleet_check's list)
        codes = [first.get("code")] + [pr.get("code") for pr in first.get("problems") or []]
    else:
        task, message, codes = None, (run.stderr.strip().splitlines() or [""])[-1], []
        # ansible-playbook's own refusal (an inventory or a variable it could not use) is on stderr
        for line in run.stderr.splitlines():
            if "ERROR" in line or "[ERROR]" in line:
                message = line.strip()
                break
    # and the codes a message lists ("- [code] ..."), as fleet problems and refusals print them
    text = message if failures else run.stderr
    codes = sorted({c for c in codes + re.findall(r"\[([a-z_]+)\]", text) if c})
    code = ",".join(codes) or None
    EVIDENCE_ROWS[row.id] = {
        "id": row.id, "surface": row.surface, "input": row.what, "rc": run.rc, "task": task, "code": code,
        "message": message, "writes": [repr(w) for w in writes],
        "secret_printed": any(s in output for s in fleet.secrets)}
    assert run.rc != 0, run
    assert writes == [], writes
    assert not any(s in output for s in fleet.secrets), "a secret was printed"
    if row.code:
        assert row.code in codes, (codes, message, run)
    missing = [n for n in row.names if n not in text]
    assert not missing, (missing, message, run)
    assert "Traceback" not in output, run


def test_the_table_has_forty_rows_over_every_surface():
    surfaces = {r.surface.split()[0] for r in ROWS}
    assert len(ROWS) >= 40
    assert {"inventory", "module", "role", "AWX"} <= surfaces
    assert len({r.id for r in ROWS}) == len(ROWS)


def test_a_bad_object_in_a_later_project_writes_nothing_on_a_fresh_lab(fleet, ansible_run):
    """The defect of issue 20: a valid project, then one whose Deployment has a weight of -1. The check pass
    refuses the run before the first project's Namespace and FederatedNamespace are written."""
    host = fleet.client(fleet.host)
    existed = {ns: host.try_get("/api/v1/namespaces/" + ns) is not None for ns in ("bi-good", "bi-bad")}
    mark = fleet.audit.mark()
    run = run_playbook(os.path.join(PLAYBOOKS, "federate.yml"), inventory(fleet), extra_vars={
        "kubesphere_projects": projects(workload(replicas_by_weight={"total": 3,
                                                                     "weights": {"member1": -1, "member2": 1}}))})
    assert run.rc != 0, run
    assert collection_writes(fleet, mark) == []
    for ns, was in existed.items():  # no project appeared (on the module's lab no row ever wrote one)
        assert (host.try_get("/api/v1/namespaces/" + ns) is not None) == was, ns
    (task, res), = failed_results(run)
    assert task.endswith("Workloads of bi-bad (check pass)"), task
    assert res["code"] == "weight_invalid" and res["cluster"] == "member1", res
    assert "Deployment bi-bad/web" in res["msg"] and "0 or more" in res["msg"], res["msg"]
