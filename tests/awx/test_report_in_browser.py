"""playbooks/status.yml's fleet report against a private lab (host, a direct member that is Ready, a proxy member whose agent
never connects), then the HTML opened in headless Chromium (Debian package `chromium`): the rendered DOM shows
every cluster with its state, and a screenshot is taken.

Set KSLAB_REPORT_SCREENSHOT=<path> to keep the screenshot (docs/images/fleet-report.png was made so)."""

import base64
import json
import os
import shutil
import subprocess
import time

import pytest

from awxkit import REPO, VENV_BIN

pytestmark = pytest.mark.timeout(600)
CLUSTERS = "/apis/cluster.kubesphere.io/v1alpha1/clusters/"
FAST = {"host_wait_sleep": 1, "member_wait_sleep": 1, "host_wait_timeout": 90, "member_wait_timeout": 90}


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
    """site.yml, then member1 joined direct and member2 as proxy (test equipment: the Cluster objects the
    import feature will create; the real controller and tower act on them), then status.yml writing the report into a temporary directory."""
    from kslabkit.lab import embedded_kubeconfig  # noqa: PLC0415

    lab = awx_lab
    playbook("site.yml", lab.inventory, **FAST)
    host = lab.client(lab.host)
    kubeconfig = base64.b64encode(embedded_kubeconfig(lab.kubeconfig("member1")).encode()).decode()
    host.ensure({"apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
                 "metadata": {"name": "member1", "annotations": {"kubesphere.io/way-to-add": "import"}},
                 "spec": {"provider": "kslab", "joinFederation": True,
                          "connection": {"type": "direct", "kubeconfig": kubeconfig}}})
    host.ensure({"apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster", "metadata": {"name": "member2"},
                 "spec": {"provider": "kslab", "joinFederation": True, "connection": {"type": "proxy"}}})
    deadline = time.time() + 300  # the real ks-controller-manager starts after the host render, tower too
    while condition(host, "member1", "Ready").get("status") != "True" or \
            condition(host, "member1", "Ready", KUBEFED_CLUSTERS).get("status") != "True" or \
            condition(host, "member2", "Initialized").get("status") != "True":
        assert time.time() < deadline, (
            "the real cluster controller did not join member1 (Cluster and KubeFedCluster Ready) / tower did not "
            "initialize member2 within 300 s: member1 %s %s, member2 %s" % (
                condition(host, "member1", "Ready"), condition(host, "member1", "Ready", KUBEFED_CLUSTERS),
                condition(host, "member2", "Initialized")))
        time.sleep(0.5)
    out = tmp_path_factory.mktemp("report")
    playbook("status.yml", lab.inventory, kubesphere_report_dir=str(out))
    return out


def test_report_json_has_each_cluster_with_its_state(report):
    with open(report / "fleet.json") as f:
        model = json.load(f)
    rows = {r["name"]: r for r in model["clusters"]}
    assert model["host"] == "host"
    assert {n: r["state"] for n, r in rows.items()} == {"host": "host", "member1": "ready", "member2": "not_ready"}
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
    for name, state in (("host", "host"), ("member1", "ready"), ("member2", "not_ready")):
        assert '<tr data-cluster="%s" data-state="%s">' % (name, state) in html, name
        assert '<g class="node" data-cluster="%s" data-state="%s">' % (name, state) in html, name
    assert "Not ready" in html and "Ready" in html and 'data-connection="proxy"' in html
    shot = tmp_path / "fleet-report.png"
    run = subprocess.run(flags + ["--window-size=1100,700", "--screenshot=%s" % shot, page],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000
    keep = os.environ.get("KSLAB_REPORT_SCREENSHOT")
    if keep:
        shutil.copy(str(shot), keep)
