"""status.yml and doctor.yml with a read-only credential on every cluster of the shared lab: a user bound only to
the collection's read-only fleet role (docs/rbac/fleet-reader.yaml, applied as shipped) sees the same fleet as
the admin, is refused nothing, and writes nothing (audit log, filtered by that user); a narrower user (no kubefed
objects, no Secrets) gets `forbidden` notes and findings naming the cluster and the kind, never a failure."""

import base64
import copy
import json
import os

import pytest
import yaml

from auditlog import WRITE_VERBS, AuditLog
from conftest import REPO
from kslabkit.certs import make_client_cert
from kslabkit.rest import ApiError
from test_status_playbook import STATUS, table_of

DOCTOR = os.path.join(REPO, "playbooks", "doctor.yml")
RBAC = os.path.join(REPO, "docs", "rbac", "fleet-reader.yaml")
READER = "kslab-fleet-reader"
READERS_GROUP = "kubesphere.multicluster:fleet-readers"  # the group docs/rbac/fleet-reader.yaml binds
NARROW = "kslab-fleet-reader-narrow"
NARROW_ROLE = "kslab-test-fleet-reader-narrow"
# what the narrow user lacks: kubefed's objects and Secrets
NARROW_DROPS = ("core.kubefed.io", "types.kubefed.io", "secrets")
NO_FAIL = {"doctor_fail_on_errors": False}
# both playbooks in one ansible-playbook run (one start-up per credential)
BOTH = "- import_playbook: %s\n- import_playbook: %s\n" % (STATUS, DOCTOR)


def manifests():
    """The objects of docs/rbac/fleet-reader.yaml (one v1 List)."""
    with open(RBAC) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    return [item for d in docs for item in (d["items"] if d["kind"] == "List" else [d])]


def narrow_role():
    """The shipped rules of both ClusterRoles, without kubefed's groups and Secrets, as one ClusterRole."""
    rules = []
    for doc in manifests():
        if doc["kind"] != "ClusterRole":
            continue
        for rule in doc["rules"]:
            if set(rule["apiGroups"]) & set(NARROW_DROPS):
                continue
            resources = [r for r in rule["resources"] if r not in NARROW_DROPS]
            if resources:
                rules.append(dict(rule, resources=resources))
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": NARROW_ROLE},
            "rules": rules}


def narrow_binding():
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": NARROW_ROLE},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NARROW_ROLE},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": NARROW}]}


def _b64(data):
    return base64.b64encode(data).decode()


def kubeconfig(lab, name, user, group, path):
    """A kubeconfig for `user` (a client certificate signed by the cluster's CA, O=`group`) on a lab cluster."""
    cdir = os.path.dirname(lab.kubeconfig(name))
    cert, key = make_client_cert(cdir, user, org=group)
    with open(os.path.join(cdir, "ca.crt"), "rb") as f:
        ca = f.read()
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": name,
           "clusters": [{"name": name, "cluster": {"server": lab.server(name), "certificate-authority-data": _b64(ca)}}],
           "users": [{"name": user, "user": {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)}}],
           "contexts": [{"name": name, "context": {"cluster": name, "user": user}}]}
    path.write_text(yaml.safe_dump(cfg))
    os.chmod(path, 0o600)
    return str(path)


def inventory_with(lab, tmp_path, user, group):
    """The lab's own inventory, each cluster's kubeconfig replaced by one for `user`."""
    with open(lab.inventory) as f:
        inv = yaml.safe_load(f)
    inv = copy.deepcopy(inv)
    folder = tmp_path / user
    folder.mkdir()
    for group_name in ("kubesphere_host", "kubesphere_members"):
        for name, hv in inv[group_name]["hosts"].items():
            hv["kubesphere_kubeconfig"] = kubeconfig(lab, name, user, group, folder / ("%s.kubeconfig" % name))
    path = folder / "inventory.yml"
    path.write_text(yaml.safe_dump(inv))
    return str(path)


@pytest.fixture(scope="module")
def readers(lab):
    """The shipped read-only role (and the narrow test role) on every cluster; removed at the end."""
    made = []
    for name in lab.names:
        api = lab.client(name)
        for doc in manifests() + [narrow_role(), narrow_binding()]:
            ns = doc["metadata"].get("namespace")
            if ns and api.try_get("/api/v1/namespaces/" + ns) is None:
                continue  # kube-federation-system is the host's only (the YAML says so)
            api.apply(doc)
            made.append((name, api.path_for(doc)))
    yield
    for name, path in reversed(made):
        try:
            lab.client(name).request("DELETE", path)
        except ApiError:
            pass


def requests_of(audit, lab, mark, user):
    audit.sync(lab)
    return audit.requests(since=mark, who=user)


def findings(run):
    (result,) = run.results("Diagnose the fleet").values()
    return result["findings"]


def code_and_cluster(finding):
    return finding["code"], finding["cluster"]


def comparable(rows):
    return {n: {k: v for k, v in r.items() if k != "SKEW"} for n, r in rows.items()}


def test_status_and_doctor_with_the_read_only_role_see_what_the_admin_sees(lab, readers, tmp_path, ansible_run):
    audit = AuditLog.for_lab(lab)
    inv = inventory_with(lab, tmp_path, READER, READERS_GROUP)
    admin = ansible_run(BOTH, lab.inventory, extra_vars=dict(NO_FAIL, kubesphere_report_dir=""))
    assert admin.rc == 0, admin

    mark = audit.mark()
    run = ansible_run(BOTH, inv, extra_vars=dict(NO_FAIL, kubesphere_report_dir=""))
    assert run.rc == 0, run
    rows, notes = table_of(run)
    admin_rows, admin_notes = table_of(admin)
    assert comparable(rows) == comparable(admin_rows)
    assert [n for n in notes if "skew" not in n] == [n for n in admin_notes if "skew" not in n]
    assert "projects not read" not in run.results("Print the projects per member").popitem()[1]["msg"]
    for result in run.results("Read the cluster").values():
        assert result["cluster"]["unreadable"] == [] and result["changed"] is False
    assert sorted(map(code_and_cluster, findings(run))) == sorted(map(code_and_cluster, findings(admin)))

    seen = requests_of(audit, lab, mark, READER)
    assert {r.cluster for r in seen} == set(lab.names)
    assert [r for r in seen if r.verb in WRITE_VERBS] == []
    # the shipped role covers every read status and the doctor make: nothing was refused
    assert [r for r in seen if r.code == 403] == []


def test_a_narrower_credential_is_reported_as_forbidden_not_a_failure(lab, readers, tmp_path, ansible_run):
    audit = AuditLog.for_lab(lab)
    inv = inventory_with(lab, tmp_path, NARROW, None)
    report = tmp_path / "report"
    mark = audit.mark()
    run = ansible_run(BOTH, inv, extra_vars=dict(NO_FAIL, kubesphere_report_dir=str(report)))
    assert run.rc == 0, run
    assert "Traceback" not in run.stdout + run.stderr
    # each cluster's facts (status' and the doctor's reads): read, with the two kinds it may not read listed
    for name, result in run.results("Read the cluster").items():
        facts = result["cluster"]
        assert facts["reachable"] is True and facts["kubernetes_version"], result
        kinds = {(u["code"], u["kind"]) for u in facts["unreadable"]}
        assert kinds == {("forbidden", "KubeFedCluster"), ("forbidden", "Secret")}, (name, facts["unreadable"])
        assert facts["role"] is not None and facts["kubesphere_installed"] is True

    rows, notes = table_of(run)
    assert sorted(rows) == sorted(lab.names)
    for name in lab.names:
        assert rows[name]["ROLE"] != "?" and rows[name]["KUBERNETES"].startswith("v1."), rows
        assert ("%s: forbidden: the credential may not read KubeFedCluster in namespace kube-federation-system "
                "(403 Forbidden): the facts that come from it are unknown" % name) in notes, notes
    page = json.loads((report / "fleet.json").read_text())  # the fleet report is written too
    assert all(name in json.dumps(page) for name in lab.names)
    assert "<html" in (report / "index.html").read_text().lower()
    projects = run.results("Print the projects per member").popitem()[1]["msg"]
    assert "projects not read" in projects and "forbidden" in projects.lower(), projects

    found = {(x["code"], x["cluster"], x["message"].split(" may not read ")[1].split(" (")[0]): x
             for x in findings(run) if x["code"] == "forbidden"}
    for name in lab.names:
        x = found[("forbidden", name, "KubeFedCluster in namespace kube-federation-system")]
        assert x["level"] == "warning" and "docs/rbac/fleet-reader.yaml" in x["fix"]
        assert ("forbidden", name, "Secret in namespace kubesphere-system") in found

    seen = requests_of(audit, lab, mark, NARROW)
    assert {r.cluster for r in seen} == set(lab.names)
    assert [r for r in seen if r.verb in WRITE_VERBS] == []
    refused = {(r.verb, r.full_resource) for r in seen if r.code == 403}
    assert ("list", "kubefedclusters.core.kubefed.io") in refused and ("list", "secrets") in refused
    assert {res.split(".", 1)[-1] if "." in res else res for _v, res in refused} <= {
        "core.kubefed.io", "types.kubefed.io", "secrets"}, refused
