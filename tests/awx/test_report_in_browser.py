"""playbooks/status.yml's fleet report against a private lab (host, member1 imported direct, member2 imported by proxy
through real tower and the cluster-agent, both by site.yml), then the HTML opened in headless Chromium (Debian package `chromium`): the rendered DOM shows
every cluster with its state, and a screenshot is taken.

Set KSLAB_REPORT_SCREENSHOT=<path> to keep the screenshot (docs/images/fleet-report.png was made so)."""

import json
import os
import shutil
import subprocess
import time

import pytest
import yaml

from awxkit import REPO, VENV_BIN

pytestmark = pytest.mark.timeout(600)
CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters/"
FAST = {"host_config_wait_sleep": 1, "member_config_wait_sleep": 1, "host_config_wait_timeout": 90, "member_config_wait_timeout": 90}


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def playbook(name, inventory, **extra_vars):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"), ANSIBLE_NOCOLOR="1",
               PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory,
                           os.path.join(REPO, "playbooks", name), "-e", json.dumps(extra_vars)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=500, check=False)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return proc.stdout


KUBEFED_CLUSTERS = "/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/kubefedclusters/"


def condition(rest, name, ctype, path=CLUSTERS):
    obj = rest.try_get(path + name) or {}
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == ctype), {})


@pytest.fixture(scope="module")
def report(awx_lab, tmp_path_factory):
    """site.yml on the lab's fleet with member2 imported by proxy (the collection imports member1 direct and
    member2 through real tower and the cluster-agent), then status.yml writing the report into a temporary
    directory."""
    lab = awx_lab
    with open(lab.inventory) as f:
        inv = yaml.safe_load(f)
    inv["kubesphere_members"]["hosts"]["member2"]["kubesphere_connection_type"] = "proxy"
    inventory = tmp_path_factory.mktemp("inventory") / "hosts.yml"
    inventory.write_text(yaml.safe_dump(inv))
    playbook("site.yml", str(inventory), **FAST)
    host = lab.client(lab.host)
    deadline = time.time() + 300  # site.yml waited for health already; kubefed's view can lag a tick
    while not all(condition(host, m, "Ready", path).get("status") == "True"
                  for m in ("member1", "member2") for path in (CLUSTERS, KUBEFED_CLUSTERS)):
        assert time.time() < deadline, "member1/member2 not Ready (Cluster and KubeFedCluster) 300 s after site.yml"
        time.sleep(0.5)
    out = tmp_path_factory.mktemp("report")
    playbook("status.yml", str(inventory), kubesphere_report_dir=str(out))
    return out


def test_report_json_has_each_cluster_with_its_state(report):
    with open(report / "fleet.json") as f:
        model = json.load(f)
    rows = {r["name"]: r for r in model["clusters"]}
    assert model["host"] == "host"
    assert {n: r["state"] for n, r in rows.items()} == {"host": "host", "member1": "ready", "member2": "ready"}
    assert rows["member1"]["connection_type"] == "direct" and rows["member2"]["connection_type"] == "proxy"
    assert rows["member1"]["jwt_matches_host"] is True
    assert rows["member1"]["kubefed"]["source"] in ("kubefedcluster", "federated-condition")
    assert rows["member1"]["clock_skew"] is not None


def test_report_renders_in_chromium(report, tmp_path):
    browser = chromium()
    if not browser:
        pytest.skip("no chromium binary on PATH (Debian: apt-get install chromium); the report was written but not rendered")
    page = "file://%s" % (report / "index.html")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--user-data-dir=%s" % (tmp_path / "profile")]
    dom = subprocess.run(flags + ["--dump-dom", page], capture_output=True, text=True, timeout=120, check=False)
    assert dom.returncode == 0, dom.stderr[-3000:]
    html = dom.stdout
    for name, state in (("host", "host"), ("member1", "ready"), ("member2", "ready")):
        assert '<tr data-cluster="%s" data-state="%s">' % (name, state) in html, name
        assert '<g class="node" data-cluster="%s" data-state="%s">' % (name, state) in html, name
    assert "Ready" in html and 'data-connection="proxy"' in html
    shot = tmp_path / "fleet-report.png"
    run = subprocess.run(flags + ["--window-size=1100,700", "--screenshot=%s" % shot, page],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000
    keep = os.environ.get("KSLAB_REPORT_SCREENSHOT")
    if keep:
        shutil.copy(str(shot), keep)
