"""The AWX files users import (extensions/awx/): credential types, job templates, surveys and the workflow
template. Each is validated against a JSON schema written from AWX's own API rules
(extensions/awx/schemas/), plus the cross-field rules a schema cannot say; every playbook a template names
must exist, except the three whose playbooks are still to come (listed here, so a rename cannot pass by
accident)."""

import glob
import json
import os
import re

import jsonschema
import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWX = os.path.join(REPO, "extensions", "awx")
# Templates whose playbooks do not exist yet (issue 12: join, unbind, federate come with their features).
PENDING_PLAYBOOKS = set()


def load(path):
    with open(path) as f:
        return json.load(f)


def schema(name):
    s = load(os.path.join(AWX, "schemas", name + ".schema.json"))
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s)


def files(folder):
    found = sorted(glob.glob(os.path.join(AWX, folder, "*.json")))
    assert found, "no files in extensions/awx/%s" % folder
    return found


def ids(paths):
    return [os.path.relpath(p, AWX) for p in paths]


def errors(validator, data):
    return ["%s: %s" % ("/".join(map(str, e.absolute_path)), e.message) for e in validator.iter_errors(data)]


def test_the_schemas_catch_what_awx_refuses():
    """The survey schema is not a rubber stamp: each rule AWX enforces rejects a broken question."""
    v = schema("survey_spec")
    good = {"question_name": "Q", "variable": "kubesphere_x", "type": "text", "required": True, "default": ""}
    assert not errors(v, {"name": "n", "description": "", "spec": [good]})
    broken = [
        {"name": "n", "description": "", "spec": []},                              # no questions
        {"name": "n", "spec": [good]},                                              # no description
        {"name": "n", "description": "", "spec": [dict(good, type="date")]},        # unknown type
        {"name": "n", "description": "", "spec": [dict(good, variable="1st")]},     # invalid variable
        {"name": "n", "description": "", "spec": [dict(good, variable="a-b")]},
        {"name": "n", "description": "", "spec": [dict(good, required="yes")]},     # required not a bool
        {"name": "n", "description": "", "spec": [dict(good, type="multiselect")]},  # no choices
        {"name": "n", "description": "", "spec": [dict(good, type="password", default="hunter2")]},
        {"name": "n", "description": "", "spec": [dict(good, type="integer", default="3")]},
        {"name": "n", "description": "", "spec": [dict(good, min="1")]},
    ]
    for data in broken:
        assert errors(v, data), data


@pytest.mark.parametrize("path", files("surveys"), ids=ids(files("surveys")))
def test_survey_spec(path):
    spec = load(path)
    assert not errors(schema("survey_spec"), spec)
    variables = [q["variable"] for q in spec["spec"]]
    assert len(variables) == len(set(variables)), "a variable is asked twice"
    for q in spec["spec"]:
        if q["type"] in ("multiplechoice", "multiselect"):
            choices = q["choices"] if isinstance(q["choices"], list) else q["choices"].splitlines()
            defaults = [d for d in (q.get("default") or "").splitlines() if d.strip()]
            assert all(d in choices for d in defaults), "%s: default not among the choices" % q["variable"]
            if q["type"] == "multiplechoice":
                assert len(defaults) <= 1, "%s: one default at most" % q["variable"]
        if q.get("min") is not None and q.get("max") is not None:
            assert q["min"] <= q["max"]
        assert q["variable"].startswith("kubesphere_"), "survey variables are the collection's documented ones"


@pytest.mark.parametrize("path", files("job_templates"), ids=ids(files("job_templates")))
def test_job_template(path):
    jt = load(path)
    assert not errors(schema("job_template"), jt)
    stem = os.path.splitext(os.path.basename(path))[0]
    survey = os.path.join(AWX, "surveys", stem + ".json")
    assert jt["survey_enabled"] == os.path.exists(survey), \
        "survey_enabled must match the presence of surveys/%s.json" % stem
    if jt["survey_enabled"]:
        assert load(survey)["name"] == jt["name"]
    if jt["playbook"] in PENDING_PLAYBOOKS:
        if os.path.exists(os.path.join(REPO, jt["playbook"])):
            pytest.fail("%s exists now: remove it from PENDING_PLAYBOOKS" % jt["playbook"])
        pytest.skip("%s is pending: its playbook comes with its feature (issue 12)" % jt["playbook"])
    assert os.path.isfile(os.path.join(REPO, jt["playbook"])), "%s names a missing playbook" % jt["playbook"]


def test_every_pending_playbook_has_a_template():
    named = {load(p)["playbook"] for p in files("job_templates")}
    assert PENDING_PLAYBOOKS <= named


def test_the_doctor_is_read_only():
    jt = next(load(p) for p in files("job_templates") if load(p)["playbook"] == "playbooks/preflight.yml")
    assert jt["job_type"] == "check" and not jt.get("ask_job_type_on_launch")


def test_template_names_are_unique():
    names = [load(p)["name"] for p in files("job_templates")]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("path", files("workflow_templates"), ids=ids(files("workflow_templates")))
def test_workflow_template(path):
    wf = load(path)
    assert not errors(schema("workflow_job_template"), wf)
    templates = {load(p)["name"]: load(p) for p in files("job_templates")}
    nodes = {n["identifier"]: n for n in wf["workflow_nodes"]}
    assert len(nodes) == len(wf["workflow_nodes"]), "duplicate node identifiers"
    for node in wf["workflow_nodes"]:
        assert node["unified_job_template"]["name"] in templates, node["unified_job_template"]["name"]
        for kind in ("success_nodes", "failure_nodes", "always_nodes"):
            for target in (node.get("related") or {}).get(kind, []):
                assert target["identifier"] in nodes


def test_rollout_workflow_is_preflight_site_status():
    wf = load(os.path.join(AWX, "workflow_templates", "rollout.json"))
    templates = {load(p)["name"]: load(p)["playbook"] for p in files("job_templates")}
    nodes = {n["identifier"]: n for n in wf["workflow_nodes"]}
    playbook = {i: templates[n["unified_job_template"]["name"]] for i, n in nodes.items()}
    targeted = {t["identifier"] for n in nodes.values() for ts in (n.get("related") or {}).values() for t in ts}
    (root,) = set(nodes) - targeted
    assert playbook[root] == "playbooks/preflight.yml"
    (site,) = [t["identifier"] for t in nodes[root]["related"]["success_nodes"]]
    assert playbook[site] == "playbooks/site.yml"
    after = [t["identifier"] for k in ("success_nodes", "always_nodes") for t in nodes[site]["related"][k]]
    assert [playbook[a] for a in after] == ["playbooks/status.yml"]


def test_sliced_rollout_is_host_then_sliced_members_then_status():
    """The sliced rollout: the host job (unsliced) first, the members as a sliced job on its success, then status
    whatever the members did; the members' survey names the host's context, which a slice without the host needs."""
    wf = load(os.path.join(AWX, "workflow_templates", "sliced_rollout.json"))
    templates = {load(p)["name"]: load(p) for p in files("job_templates")}
    nodes = {n["identifier"]: n for n in wf["workflow_nodes"]}
    jt = {i: templates[n["unified_job_template"]["name"]] for i, n in nodes.items()}
    targeted = {t["identifier"] for n in nodes.values() for ts in (n.get("related") or {}).values() for t in ts}
    (root,) = set(nodes) - targeted
    assert jt[root]["playbook"] == "playbooks/host.yml" and jt[root].get("job_slice_count", 1) == 1
    (members,) = [t["identifier"] for t in nodes[root]["related"]["success_nodes"]]
    assert jt[members]["playbook"] == "playbooks/members.yml" and jt[members]["job_slice_count"] > 1
    after = [t["identifier"] for k in ("success_nodes", "always_nodes") for t in nodes[members]["related"][k]]
    assert [jt[a]["playbook"] for a in after] == ["playbooks/status.yml"]
    survey = load(os.path.join(AWX, "surveys", "members.json"))
    asked = {q["variable"]: q for q in survey["spec"]}
    assert asked["kubesphere_host_context"]["required"]
    assert all(t.get("job_slice_count", 1) == 1 for t in templates.values() if t["playbook"] != "playbooks/members.yml"), \
        "only the members template may be sliced: every other playbook needs the whole fleet in one job"


TEMPLATE_NAMES = re.compile(r"{{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*}}")


def credential_type(path):
    text = open(path).read()
    if "CLUSTER" in os.path.basename(path).upper() and ".template." in path:
        text = text.replace("CLUSTER", "member_1")  # the per-cluster template, filled in as README says
    return json.loads(text)


@pytest.mark.parametrize("path", files("credential_types"), ids=ids(files("credential_types")))
def test_credential_type(path):
    ct = credential_type(path)
    assert not errors(schema("credential_type"), ct)
    fields = {f["id"] for f in ct["inputs"]["fields"]}
    assert set(ct["inputs"].get("required", [])) <= fields
    files_ = {k.split(".", 1)[1] if "." in k else "" for k in ct["injectors"].get("file", {})}
    for section in ("file", "env", "extra_vars"):
        for value in ct["injectors"].get(section, {}).values():
            for name in TEMPLATE_NAMES.findall(value):
                if name.startswith(("tower.filename", "awx.filename")):
                    assert name.split(".")[2:] and name.split(".")[2] in files_, name
                else:
                    assert name in fields, "%s names no input field" % name
    for field in ct["inputs"]["fields"]:
        if field["id"] == "kubeconfig":
            assert field.get("secret") and field.get("multiline")
    assert "KUBECONFIG" not in ct["injectors"].get("env", {}), \
        "a KUBECONFIG variable would be every connection's fallback, whatever the inventory says"


def test_fleet_credential_feeds_the_inventory_convention():
    ct = load(os.path.join(AWX, "credential_types", "kubesphere_fleet_kubeconfig.json"))
    assert "kubesphere_fleet_kubeconfig" in ct["injectors"]["extra_vars"]
    with open(os.path.join(AWX, "inventory", "group_vars", "kubesphere_clusters.yml")) as f:
        group = yaml.safe_load(f)
    assert group["kubesphere_kubeconfig"] == "{{ kubesphere_fleet_kubeconfig }}"
    with open(os.path.join(AWX, "inventory", "hosts.yml")) as f:
        hosts = yaml.safe_load(f)
    for group_name in ("kubesphere_host", "kubesphere_members"):
        for name, hv in hosts[group_name]["hosts"].items():
            assert hv.get("kubesphere_context"), "%s has no kubesphere_context" % name
            assert "kubesphere_kubeconfig" not in hv, "%s: the kubeconfig is the group's (the fleet credential)" % name


def test_per_cluster_inventory_matches_the_template_credential():
    with open(os.path.join(AWX, "credential_types", "kubesphere_cluster_kubeconfig.template.json")) as f:
        template = f.read()
    with open(os.path.join(AWX, "inventory_per_cluster", "hosts.yml")) as f:
        hosts = yaml.safe_load(f)
    for group_name in ("kubesphere_host", "kubesphere_members"):
        for name, hv in hosts[group_name]["hosts"].items():
            (var,) = json.loads(template.replace("CLUSTER", name.replace("-", "_")))["injectors"]["extra_vars"]
            assert hv["kubesphere_kubeconfig"] == "{{ %s }}" % var, name
