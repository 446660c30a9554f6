"""Files at rest (issue 20): every file the collection writes on the controller, produced through the real
playbooks on the session's shared lab, with its mode, its folder's mode and what it holds.

- playbooks/install_config.yml: each cluster's cluster-configuration.yaml and the fleet's jwt-secret file hold
  the jwtSecret: 0600 in a folder the run creates 0700; an existing folder open to others is refused
  (folder_not_private), nothing written, its mode unchanged; the secret is never printed.
- playbooks/status.yml and playbooks/doctor.yml: the fleet report (index.html, fleet.json) and the doctor's
  findings (doctor.json, doctor.txt) hold no secret of the lab (the jwtSecret, every kubeconfig's token and
  client key, the kubeconfigs the host's Cluster objects store): 0644, a new folder 0755, an existing folder
  keeps its mode.
- the inventory plugin's discovery cache (Ansible's jsonfile cache): no secret in it.
- every place in plugins/ and roles/ that writes a file is one of the writers listed here (a new writer fails
  test_every_writer_is_known until it is added to this evidence).
The webhook configuration's backup of a forced unbind is observed at rest by test_health_dead_member.py (it
needs a dead member: build/evidence/files-webhook-backup.json).

Each file's row goes to build/evidence/files/ (tests/evidence/render.py merges the rows into
build/evidence/files.json and makes docs/evidence.md of them)."""

import base64
import json
import os
import re
import stat
import subprocess
import sys

import pytest
import uuid

import yaml
from evidence import record
from lab_secrets import kubeconfig_secrets
from test_cluster_info import probe_cluster

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(REPO, "playbooks")
KS_CONFIG = "/api/v1/namespaces/kubesphere-system/configmaps/kubesphere-config"
CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters"
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def mode(path):
    return "%04o" % stat.S_IMODE(os.stat(path).st_mode)


def secrets_of(lab):
    """What no report may hold: the host's and members' jwtSecrets, every kubeconfig's token and client key
    (the lab's and those the host's Cluster objects store)."""
    out = set()
    for name in lab.names:
        cm = lab.client(name).try_get(KS_CONFIG)
        if cm:
            jwt = (yaml.safe_load(cm["data"]["kubesphere.yaml"]).get("authentication") or {}).get("jwtSecret")
            out.add(jwt)
    kubeconfigs = [yaml.safe_load(open(lab.kubeconfig(n))) for n in lab.names]
    for c in lab.client(lab.host).get(CLUSTERS)["items"]:
        connection = (c.get("spec") or {}).get("connection") or {}
        out.update(connection.get(k) for k in ("kubeconfig", "token"))
        if connection.get("kubeconfig"):
            kubeconfigs.append(yaml.safe_load(base64.b64decode(connection["kubeconfig"])))
    out |= kubeconfig_secrets(kubeconfigs)
    return {s for s in out if s and len(s) >= 8}


def assert_no_secret(text, secrets, where):
    leaked = [s[:6] + "..." for s in secrets if s in text]
    assert not leaked, "%s holds secrets of the lab: %s" % (where, leaked)
    assert not PRIVATE_KEY.search(text), "%s holds a private key" % where


def row(key, **fields):
    record("files", __file__, key, **fields)


@pytest.fixture(scope="module")
def files_lab(lab, tmp_path_factory):
    """The shared lab with a probe Cluster on the host for the module's length (a stored kubeconfig and token
    that no report and no cache may hold, tests/integration/test_cluster_info.py's probe_cluster)."""
    lab.files_tmp = tmp_path_factory.mktemp("files")
    with probe_cluster(lab.client, lab.host, uuid.uuid4().hex[:6], ready="True") as (name, secrets):
        lab.probe = name
        lab.files_secrets = secrets_of(lab) | set(secrets)
        yield lab


def inventory_with(lab, path, **per_host):
    """The lab's static inventory with `per_host` {var: {host: value}} set, written to `path`."""
    with open(lab.inventory) as f:
        inv = yaml.safe_load(f)
    for group in ("kubesphere_host", "kubesphere_members"):
        for host, hv in (inv[group].get("hosts") or {}).items():
            for var, values in per_host.items():
                if host in values:
                    hv[var] = values[host]
    path.write_text(yaml.safe_dump(inv, sort_keys=False))
    return str(path)


# --- the install-time files: the jwtSecret, 0600 in 0700 ---------------------------------------------------


def test_install_files_are_0600_in_a_new_0700_folder_and_the_secret_is_never_printed(files_lab, ansible_run):
    lab = files_lab
    folder = lab.files_tmp / "install"
    paths = {n: str(folder / ("%s.yaml" % n)) for n in lab.names}
    inv = inventory_with(lab, lab.files_tmp / "install-inventory.yml", kubesphere_install_config=paths)
    run = ansible_run(os.path.join(PLAYBOOKS, "install_config.yml"), inv)
    assert run.rc == 0, run
    assert mode(folder) == "0700"
    secret_file = folder / "jwt-secret"
    assert mode(secret_file) == "0600"
    secret = secret_file.read_text().strip()
    assert re.fullmatch(r"[A-Za-z0-9]{32}", secret)
    assert secret not in run.stdout and secret not in run.stderr  # never printed (no_log, masked diffs)
    for name, path in paths.items():
        assert mode(path) == "0600", path
        cc = yaml.safe_load(open(path))
        assert cc["spec"]["authentication"]["jwtSecret"] == secret
        assert cc["spec"]["multicluster"]["clusterRole"] == ("host" if name == lab.host else "member")
    command = "ansible-playbook -i <inventory with kubesphere_install_config> playbooks/install_config.yml"
    row("install-cluster-configuration", file="<kubesphere_install_config> (each cluster's cluster-configuration.yaml)",
        written_by="multicluster_role (dest), role install_config", side="controller", mode="0600", dir_mode="0700",
        holds_secret=True, holds="the fleet's jwtSecret, the cluster's role (ks-installer's ClusterConfiguration)",
        checked="mode 0600, folder created 0700, jwtSecret the fleet's, not printed", command=command)
    row("install-jwt-secret", file="<folder of the host's kubesphere_install_config>/jwt-secret",
        written_by="role install_config (install_config_secret_file)", side="controller", mode="0600", dir_mode="0700",
        holds_secret=True, holds="the fleet's generated jwtSecret (32 letters and digits)",
        checked="mode 0600, folder 0700, not printed", command=command)


def test_an_install_folder_open_to_others_is_refused_and_left_as_it_is(files_lab, ansible_run):
    lab = files_lab
    folder = lab.files_tmp / "open"
    folder.mkdir()
    os.chmod(folder, 0o755)
    inv = inventory_with(lab, lab.files_tmp / "open-inventory.yml",
                         kubesphere_install_config={n: str(folder / ("%s.yaml" % n)) for n in lab.names})
    run = ansible_run(os.path.join(PLAYBOOKS, "install_config.yml"), inv)
    assert run.rc != 0, run
    assert any("(code folder_not_private)" in f and "chmod 700 %s" % folder in f for f in run.failures()), run.failures()
    assert os.listdir(folder) == [] and mode(folder) == "0755"
    row("install-folder-open", file="<kubesphere_install_config> in an existing folder open to group or others",
        written_by="role install_config; multicluster_role (dest) refuses the same way", side="controller",
        mode="-", dir_mode="0755 (left as it is)", holds_secret=False,
        holds="nothing: refused (code folder_not_private), nothing written, the folder not chmod'ed",
        checked="failed task with chmod 700 <folder>, folder empty, mode unchanged",
        command="ansible-playbook -i <inventory, kubesphere_install_config in a 0755 folder> playbooks/install_config.yml")


# --- the reports: no secret ------------------------------------------------------------------------------


def test_the_fleet_report_holds_no_secret_in_a_new_folder(files_lab, ansible_run):
    lab = files_lab
    folder = lab.files_tmp / "report"
    run = ansible_run(os.path.join(PLAYBOOKS, "status.yml"), lab.inventory,
                      extra_vars={"kubesphere_report_dir": str(folder)})
    assert run.rc == 0, run
    assert mode(folder) == "0755"
    report = (folder / "fleet.json").read_text()
    assert all(json.dumps(n) in report for n in lab.names + [lab.probe])  # the probe Cluster is reported
    for name in ("index.html", "fleet.json"):
        path = folder / name
        assert mode(path) == "0644"
        assert_no_secret(path.read_text(), lab.files_secrets, name)
    command = "ansible-playbook -i <inventory> playbooks/status.yml -e kubesphere_report_dir=<folder>"
    for name, what in (("index.html", "the fleet report page: clusters, roles, versions, health, problems"),
                       ("fleet.json", "the same facts as JSON (for AWX and scripts)")):
        row("report-" + name, file="<kubesphere_report_dir>/" + name, written_by="role status", side="controller",
            mode="0644", dir_mode="0755 when created; an existing folder keeps its mode", holds_secret=False,
            holds=what, checked="mode 0644, no jwtSecret, token, client key or private key of the lab in it",
            command=command)


def test_the_doctors_findings_hold_no_secret_and_an_existing_folder_keeps_its_mode(files_lab, ansible_run):
    lab = files_lab
    folder = lab.files_tmp / "mine"
    folder.mkdir()
    os.chmod(folder, 0o700)
    run = ansible_run(os.path.join(PLAYBOOKS, "doctor.yml"), lab.inventory,
                      extra_vars={"kubesphere_report_dir": str(folder), "doctor_fail_on_errors": False})
    assert run.rc == 0, run
    assert mode(folder) == "0700"  # the user's folder: not chmod'ed to the report's 0755
    found = json.loads((folder / "doctor.json").read_text())
    assert set(found) == {"counts", "findings"}
    for name in ("doctor.json", "doctor.txt"):
        path = folder / name
        assert mode(path) == "0644"
        assert_no_secret(path.read_text(), lab.files_secrets, name)
    command = "ansible-playbook -i <inventory> playbooks/doctor.yml -e kubesphere_report_dir=<existing 0700 folder>"
    for name, what in (("doctor.json", "the doctor's findings (code, cluster, level, message, fix) and counts"),
                       ("doctor.txt", "the same findings for people")):
        row("doctor-" + name, file="<kubesphere_report_dir>/" + name, written_by="role doctor", side="controller",
            mode="0644", dir_mode="an existing folder keeps its mode (0700 here); 0755 when created",
            holds_secret=False, holds=what,
            checked="mode 0644, folder mode unchanged, no jwtSecret, token, client key or private key of the lab",
            command=command)


def test_the_inventory_plugins_discovery_cache_holds_no_secret(files_lab, tmp_path):
    lab = files_lab
    cache = tmp_path / "cache"
    doc = {"plugin": "kubesphere.multicluster.clusters", "discover": True, "cache": True,
           "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(cache),
           "host": {"name": lab.host, "kubeconfig": lab.kubeconfig(lab.host), "context": lab.host},
           "members": [{"name": m, "kubeconfig": lab.kubeconfig(m), "context": m} for m in lab.members]}
    source = tmp_path / "lab.kubesphere.yml"
    source.write_text(yaml.safe_dump(doc))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"), ANSIBLE_INVENTORY_UNPARSED_FAILED="true")
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", str(source), "--list"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    written = sorted(os.listdir(cache))
    assert written, "the discovery was not cached"
    for name in written:
        text = (cache / name).read_text()
        assert lab.probe in text  # the host's probe Cluster, as discovered
        assert_no_secret(text, lab.files_secrets, "the cache file")
    row("inventory-cache", file="<cache_connection>/<cache key> (only with cache: true and a file cache plugin)",
        written_by="Ansible's cache plugin, for the inventory plugin kubesphere.multicluster.clusters (discover: true)",
        side="controller", mode="the cache plugin's (Ansible's)", dir_mode="the cache plugin's (Ansible's)",
        holds_secret=False, holds="the host's Cluster objects as discovered: names, roles, readiness, versions, labels",
        checked="no jwtSecret, token, client key or private key of the lab in it",
        command="ansible-inventory -i <lab.kubesphere.yml with discover, cache: true, cache_plugin: jsonfile> --list")


# --- every writer is known -------------------------------------------------------------------------------

# (file, what writes) of every write primitive in plugins/ and roles/; the evidence row each one makes.
PY_WRITES = [("open-w", r"\bopen\([^)]*,\s*[\"'][wax]"), ("fdopen", r"\bfdopen\("), ("mkstemp", r"\bmkstemp\("),
             ("makedirs", r"\bmakedirs\("), ("atomic_move", r"\batomic_move\("), ("os.rename", r"\bos\.rename\("),
             ("os.replace", r"\bos\.replace\("), ("shutil", r"\bshutil\.(copy|move)"), ("json.dump", r"\bjson\.dump\("),
             ("os.chmod", r"\bos\.chmod\(")]
YAML_WRITES = re.compile(r"^\s*(?:ansible\.builtin\.)?(copy|template|file|lineinfile|blockinfile|get_url|fetch|"
                         r"unarchive|tempfile|assemble|ini_file):\s*$", re.M)
KNOWN = {
    ("plugins/module_utils/execute/files.py", "makedirs"): "install-cluster-configuration",
    ("plugins/module_utils/execute/files.py", "os.chmod"): "install-cluster-configuration",
    ("plugins/module_utils/execute/files.py", "mkstemp"): "install-cluster-configuration",
    ("plugins/module_utils/execute/files.py", "fdopen"): "install-cluster-configuration",
    ("plugins/module_utils/execute/files.py", "atomic_move"): "install-cluster-configuration",
    ("plugins/module_utils/operations/unbind.py", "mkstemp"): "webhook-backup",
    ("plugins/module_utils/operations/unbind.py", "fdopen"): "webhook-backup",
    ("plugins/module_utils/operations/unbind.py", "json.dump"): "webhook-backup",
    ("plugins/module_utils/operations/unbind.py", "os.rename"): "webhook-backup",
    ("roles/install_config/tasks/main.yml", "copy"): "install-jwt-secret",
    ("roles/install_config/tasks/main.yml", "file"): "install-jwt-secret",
    ("roles/install_config/tasks/private_folder.yml", "file"): "install-cluster-configuration",
    ("roles/status/tasks/main.yml", "file"): "report-index.html",
    ("roles/status/tasks/main.yml", "copy"): "report-index.html",
    ("roles/doctor/tasks/main.yml", "file"): "doctor-doctor.json",
    ("roles/doctor/tasks/main.yml", "copy"): "doctor-doctor.json",
    ("roles/time_sync/tasks/main.yml", "file"): "time-sync-chrony",
    ("roles/time_sync/tasks/main.yml", "template"): "time-sync-chrony",
}


def writers():
    found = set()
    for top in ("plugins", "roles"):
        for folder, _dirs, names in os.walk(os.path.join(REPO, top)):
            for name in names:
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, REPO)
                if not name.endswith((".py", ".yml", ".yaml")):
                    continue
                with open(path) as f:
                    text = f.read()
                if name.endswith(".py"):
                    code = re.sub(r'"""[\s\S]*?"""', "", text)  # docstrings name writes, they do not make them
                    found.update((rel, word) for word, pattern in PY_WRITES if re.search(pattern, code))
                elif name.endswith((".yml", ".yaml")) and ("/tasks/" in rel or "/handlers/" in rel):
                    found.update((rel, m.group(1)) for m in YAML_WRITES.finditer(text))
    return found


def test_every_writer_is_known(files_lab):
    found = writers()
    unknown = sorted(found - set(KNOWN))
    assert not unknown, ("a new place writes a file: add it to tests/integration/test_files_at_rest.py (a row "
                         "that produces it and checks its mode and content): %s" % unknown)
    gone = sorted(set(KNOWN) - found)
    assert not gone, "KNOWN lists writers that are no longer there: %s" % gone
    row("time-sync-chrony", file="<time_sync_root>/etc/chrony/chrony.conf (on each node host, not the controller)",
        written_by="role time_sync", side="node hosts", mode="0644", dir_mode="0755 (the system's /etc/chrony)",
        holds_secret=False, holds="the fleet's NTP server names",
        checked="by tests/integration/test_roles.py::test_time_sync_playbook_configures_node_hosts (content)",
        command="ansible-playbook -i <inventory with node hosts> playbooks/time_sync.yml")
    row("dedicated-credential", file="none: the dedicated credential's kubeconfig is never a file",
        written_by="member (dedicated_credential: true)", side="host cluster",
        mode="-", dir_mode="-", holds_secret=True,
        holds="built in memory from the ServiceAccount's token and stored only in the host's Cluster "
              "(spec.connection.kubeconfig, where the console stores it); masked in results and diffs",
        checked="no write primitive in plugins/ or roles/ but the ones listed here (this test)",
        command="pytest tests/integration/test_files_at_rest.py::test_every_writer_is_known")
