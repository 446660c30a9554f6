"""Helpers for tests/awx (imported by its conftest and tests; a unique module name, unlike conftest).

Run the collection's playbooks the way AWX runs a job: through ansible-runner, in a private data dir.

`awx_lab` is a private lab for this folder's modules (own state and ports; `KSLAB_AWX_PORT_BASE` pins the
ports). `fleet_kubeconfig(lab)` builds what a user pastes into the "KubeSphere fleet kubeconfig"
credential: one kubeconfig, a context per cluster, every certificate and key embedded. `awx_job(...)`
lays out the private data dir as AWX does -

    project/            the project checkout (here: the collection's playbooks/)
    inventory/          the job's inventory (extensions/awx/inventory: hosts + group_vars)
    env/extravars       the survey answers and the credentials' extra vars
    env/envvars         the credentials' environment variables
    env/tmpXXXX         each credential file, written as the credential type's file injector would

- calls ansible_runner.run() and returns an AwxJob with the artifacts read back (status, rc, stdout,
events)."""

import base64
import json
import os
import shutil
import sys
import tempfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWX = os.path.join(REPO, "extensions", "awx")
VENV_BIN = os.path.dirname(sys.executable)
CONFIG = "/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config"


def _b64_file(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def fleet_kubeconfig(lab):
    """One kubeconfig for the whole lab: context <cluster> -> cluster <cluster>, user <cluster>-admin,
    with the CA, client certificate and key embedded (the credential's file has no neighbours)."""
    out = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": [],
           "current-context": lab.host}
    for name in lab.names:
        with open(lab.kubeconfig(name)) as f:
            kc = yaml.safe_load(f)
        cluster = kc["clusters"][0]["cluster"]
        user = kc["users"][0]["user"]
        out["clusters"].append({"name": name, "cluster": {
            "server": cluster["server"], "certificate-authority-data": _b64_file(cluster["certificate-authority"])}})
        out["users"].append({"name": name + "-admin", "user": {
            "client-certificate-data": _b64_file(user["client-certificate"]),
            "client-key-data": _b64_file(user["client-key"])}})
        out["contexts"].append({"name": name, "context": {"cluster": name, "user": name + "-admin"}})
    return yaml.safe_dump(out, sort_keys=False)


def cluster_kubeconfig(lab, name):
    """One cluster's kubeconfig with everything embedded (what a per-cluster credential holds)."""
    kc = yaml.safe_load(fleet_kubeconfig(lab))
    keep = {"clusters": name, "users": name + "-admin", "contexts": name}
    out = {k: [i for i in kc[k] if i["name"] == v] for k, v in keep.items()}
    return yaml.safe_dump(dict(out, apiVersion="v1", kind="Config", **{"current-context": name}), sort_keys=False)


def secrets_of(lab, kubeconfig_text):
    """Strings that must never show in a job's stdout or events: every private key (as embedded and as
    PEM body lines), and each cluster's rendered jwtSecret."""
    found = []
    for user in yaml.safe_load(kubeconfig_text)["users"]:
        data = user["user"]["client-key-data"]
        found.append(data)
        pem = base64.b64decode(data).decode()
        found += [line for line in pem.splitlines() if len(line) > 40 and "PRIVATE KEY" not in line]
    for name in lab.names:
        cm = lab.client(name).try_get(CONFIG) or {}
        rendered = yaml.safe_load((cm.get("data") or {}).get("kubesphere.yaml") or "") or {}
        secret = (rendered.get("authentication") or {}).get("jwtSecret")
        if secret:
            found.append(secret)
    return found


class AwxJob:
    def __init__(self, runner, pdd):
        self.runner = runner
        self.pdd = pdd
        self.status = runner.status
        self.rc = runner.rc
        with open(runner.stdout.name) as f:
            self.stdout = f.read()
        self.events = list(runner.events)
        self.events_text = "\n".join(json.dumps(e, default=str) for e in self.events)

    def results(self, task_name):
        """{host: res} of the runner_on_ok/failed events of the task with that name (role prefix ignored)."""
        out = {}
        for e in self.events:
            data = e.get("event_data") or {}
            task = data.get("task") or ""
            if e.get("event") in ("runner_on_ok", "runner_on_failed") and \
                    (task == task_name or task.endswith(" : " + task_name)):
                out[data["host"]] = data.get("res") or {}
        return out

    def __repr__(self):
        return "AwxJob(status=%s, rc=%s)\n%s" % (self.status, self.rc, self.stdout[-8000:])


def awx_job(tmp_path, playbook, survey=None, fleet_kubeconfig_text=None, credentials_env=None, job_type="run",
            extra_files=None, cluster_kubeconfigs=None, inventory="inventory", timeout=600):
    """Run `playbook` (project-relative, e.g. playbooks/status.yml) as an AWX job.

    survey: the survey answers (extra vars); fleet_kubeconfig_text: the fleet credential's input (injected as
    its injectors say); credentials_env: more environment variables credentials inject (e.g. the Kubernetes
    bearer-token credential's K8S_AUTH_*); extra_files: {name: text} credential files to write into env/,
    whose paths replace '{file:name}' in credentials_env values; cluster_kubeconfigs: {cluster: kubeconfig text}
    for the per-cluster credentials (one credential type per cluster, from the template); inventory: the
    folder of extensions/awx to use as the job's inventory, or an absolute path to one (an AWX slice's
    inventory, see sliced_inventories)."""
    pdd = tempfile.mkdtemp(prefix="awx_job_", dir=str(tmp_path))
    shutil.copytree(os.path.join(REPO, "playbooks"), os.path.join(pdd, "project", "playbooks"),
                    ignore=shutil.ignore_patterns(".test-*"))
    shutil.copytree(os.path.join(AWX, inventory) if not os.path.isabs(inventory) else inventory,
                    os.path.join(pdd, "inventory"))
    env_dir = os.path.join(pdd, "env")
    os.makedirs(env_dir)

    def credential_file(text):
        fd, path = tempfile.mkstemp(dir=env_dir)  # AWX: a private temp file per injected file
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path

    extravars = dict(survey or {})
    envvars = {"ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, "build", "collections"),
               "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
               "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", "")}
    if fleet_kubeconfig_text is not None:
        with open(os.path.join(AWX, "credential_types", "kubesphere_fleet_kubeconfig.json")) as f:
            injectors = json.load(f)["injectors"]
        path = credential_file(fleet_kubeconfig_text)
        # the injectors' only template is {{ tower.filename.kubeconfig }}: the file's path
        extravars.update({k: path for k in injectors["extra_vars"]})
        envvars.update({k: path for k in injectors["env"]})
    if cluster_kubeconfigs:
        with open(os.path.join(AWX, "credential_types", "kubesphere_cluster_kubeconfig.template.json")) as f:
            template = f.read()
        for cluster, text in cluster_kubeconfigs.items():
            injectors = json.loads(template.replace("CLUSTER", cluster.replace("-", "_")))["injectors"]
            path = credential_file(text)
            extravars.update({k: path for k in injectors["extra_vars"]})
    files = {name: credential_file(text) for name, text in (extra_files or {}).items()}
    for key, value in (credentials_env or {}).items():
        for name, path in files.items():
            value = value.replace("{file:%s}" % name, path)
        envvars[key] = value
    with open(os.path.join(env_dir, "extravars"), "w") as f:
        yaml.safe_dump(extravars, f)
    with open(os.path.join(env_dir, "envvars"), "w") as f:
        yaml.safe_dump(envvars, f)

    import ansible_runner  # noqa: PLC0415

    runner = ansible_runner.run(private_data_dir=pdd, playbook=playbook, inventory=os.path.join(pdd, "inventory"),
                                quiet=True,
                                cmdline="--check" if job_type == "check" else None,
                                timeout=timeout, json_mode=False)
    return AwxJob(runner, pdd)


def fleet_inventory(lab):
    """The extensions/awx/inventory layout for every cluster of `lab` (host and all members): {group: {hosts:
    {name: vars}}}, as AWX imports it (the group_vars folder comes from extensions/awx/inventory)."""
    def entry(name):
        return {"kubesphere_context": name, "kubesphere_connection_type": "direct"}
    return {"kubesphere_host": {"hosts": {lab.host: entry(lab.host)}},
            "kubesphere_members": {"hosts": {m: entry(m) for m in lab.members}},
            "kubesphere_clusters": {"children": {"kubesphere_host": {}, "kubesphere_members": {}}}}


def awx_slices(hosts, count):
    """AWX's job slicing (Inventory.get_script_data): the inventory's enabled hosts ordered by name, slice i
    (1-based) of n takes hosts i, i+n, i+2n, ..."""
    ordered = sorted(hosts)
    return [ordered[i::count] for i in range(count)]


def write_inventory(folder, groups, keep=None):
    """An inventory folder: hosts.yml with `groups` (only the hosts in `keep`, when given; every group stays,
    as AWX keeps a slice's empty groups) and extensions/awx/inventory's group_vars. Returns the folder."""
    out = {}
    for group, body in groups.items():
        body = dict(body)
        if "hosts" in body:
            body["hosts"] = {h: v for h, v in body["hosts"].items() if keep is None or h in keep} or None
        out[group] = body
    os.makedirs(folder)
    shutil.copytree(os.path.join(AWX, "inventory", "group_vars"), os.path.join(folder, "group_vars"))
    with open(os.path.join(folder, "hosts.yml"), "w") as f:
        yaml.safe_dump(out, f, sort_keys=False)
    return folder
