"""The extension module against the lab's real KubeSphere v4.1.3 control plane (`kslab up --kubesphere v4.1.3`):
its InstallPlan controller installs, upgrades and uninstalls an extension through helm-executor Jobs, which the
lab's job runner runs with a real helm v3.16.2 (tests/lab/STANDINS.md, "The v4.1.3 mode").

The extension is the test's own, `hello`, a chart of one ConfigMap published to the host as KubeSphere's
repositories publish charts: ExtensionVersions `hello-<version>` whose chartDataRef names a ConfigMap holding the
packaged chart (../shared/docs/kubesphere-v4.1.md section 2). Versions 1.0.0 and 1.1.0 render the ConfigMap
`hello-greeting` with the config's greeting; 2.0.0 requires a value `name` the config does not give, so helm fails in the Job.

One module lab, the tests in order: check mode writes nothing; the install at -vvv (the config's secret never
printed), the ConfigMap rendered by the real helm; a rerun changes and writes nothing; an upgrade; a failing upgrade
fails at once (KubeSphere's words and the Job) and a rerun writes nothing; going back to the deployed version needs a
config change, as KubeSphere compares; bad input writes nothing; the uninstall.
Run in the lab-v41 stage (or directly with pytest)."""

import base64
import io
import os
import tarfile

import pytest
import yaml

from auditlog import AuditLog
from polling import wait_for

DOCTOR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "playbooks",
                      "doctor.yml")
API = "/apis/kubesphere.io/v1alpha1"
PLANS = API + "/installplans"
CHARTS = "/api/v1/namespaces/kubesphere-system/configmaps"
GREETING = "/api/v1/namespaces/extension-hello/configmaps/hello-greeting"
SECRET = "hello-extension-secret-8c1f"
CONFIG = "greeting: hi   \npassword: %s\n" % SECRET  # the trailing blanks KubeSphere's webhook trims
TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: hello-greeting
data:
  greeting: {{ .Values.greeting | default "hello" | quote }}
  version: {{ .Chart.Version | quote }}
%s"""


def chart(version, extra=""):
    """The packaged chart (a .tgz, as `helm package` makes it) of `hello` at `version`."""
    files = {"hello/Chart.yaml": "apiVersion: v2\nname: hello\nversion: %s\n" % version,
             "hello/values.yaml": "greeting: hello\n",
             "hello/templates/greeting.yaml": TEMPLATE % extra}
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


VERSIONS = {"1.0.0": chart("1.0.0"), "1.1.0": chart("1.1.0"),
            "2.0.0": chart("2.0.0", '  name: {{ required "the value name is required" .Values.name | quote }}\n')}


@pytest.fixture(scope="module")
def lab(make_v41_lab):
    lab = make_v41_lab(members=1)
    host = lab.client(lab.host)
    host.request("POST", CHARTS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "hello-charts"},
                                  "binaryData": {"hello-%s.tgz" % v: base64.b64encode(data).decode()
                                                 for v, data in VERSIONS.items()}})
    for version in VERSIONS:
        host.request("POST", API + "/extensionversions", {
            "apiVersion": "kubesphere.io/v1alpha1", "kind": "ExtensionVersion",
            "metadata": {"name": "hello-%s" % version, "labels": {"kubesphere.io/extension-ref": "hello"}},
            "spec": {"version": version, "namespace": "extension-hello", "displayName": {"en": "Hello"},
                     "chartDataRef": {"namespace": "kubesphere-system", "name": "hello-charts",
                                      "key": "hello-%s.tgz" % version}}})
    return lab


@pytest.fixture(scope="module")
def audit(lab):
    return AuditLog.for_lab(lab.env["KSLAB_STATE"])


def play(lab, **args):
    args.setdefault("name", "hello")
    args.update(kubeconfig=lab.kubeconfig(lab.host), cluster_name=lab.host)
    return yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                            "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                            "tasks": [{"name": "extension", "kubesphere.multicluster.extension": args}]}])


def result(run):
    (res,) = run.results("extension").values()
    return res


def plan_of(lab):
    from kslabkit.rest import ApiError  # noqa: PLC0415

    try:
        return lab.client(lab.host).get(PLANS + "/hello")
    except ApiError as e:
        if e.status == 404:
            return None
        raise


def greeting(lab):
    from kslabkit.rest import ApiError  # noqa: PLC0415

    try:
        return lab.client(lab.host).get(GREETING)["data"]
    except ApiError as e:
        if e.status == 404:
            return None
        raise


def nothing_written(lab, audit, mark):
    audit.sync(lab)
    return audit.writes_by_collection_alone(since=mark) == []


def test_check_mode_of_an_install_reports_the_plan_and_writes_nothing(lab, audit, ansible_run):
    mark = audit.mark()
    run = ansible_run(play(lab, version="1.0.0", config=CONFIG), "localhost,", check=True, diff=True)
    assert run.rc == 0, run
    res = result(run)
    assert res["changed"] is True and [(s["id"], s.get("verb")) for s in res["plan"]] == [
        ("installplan", "create"), ("installplan-history", None), ("wait-extension-installed", None)]  # not awaited
    assert res["diff"]["before"] == {} and res["diff"]["after"]["spec"]["config"].startswith("sha256:")
    assert plan_of(lab) is None
    assert nothing_written(lab, audit, mark)


def test_install_runs_helm_through_kubesphere_and_never_prints_the_config(lab, ansible_run):
    run = ansible_run(play(lab, version="1.0.0", config=CONFIG), "localhost,", verbosity=3)
    assert run.rc == 0, run
    assert SECRET not in run.stdout + run.stderr
    res = result(run)
    assert res["changed"] is True and res["extension"]["state"] == "Installed", res
    assert res["extension"]["installed_version"] == "1.0.0" and res["extension"]["target_namespace"] == "extension-hello"
    live = plan_of(lab)
    assert live["spec"]["config"] == "greeting: hi\npassword: %s\n" % SECRET  # trimmed as the webhook stores it
    assert live["status"]["state"] == "Installed" and live["status"]["version"] == "1.0.0"
    # what the real helm rendered from the chart and the config, in the extension's namespace
    assert greeting(lab) == {"greeting": "hi", "version": "1.0.0"}


def test_a_rerun_changes_nothing_and_writes_nothing(lab, audit, ansible_run):
    mark = audit.mark()
    run = ansible_run(play(lab, version="1.0.0", config=CONFIG), "localhost,")
    assert run.rc == 0, run
    res = result(run)
    assert res["changed"] is False and res["plan"] == [], res
    assert nothing_written(lab, audit, mark)


def test_an_upgrade_changes_version_and_config_and_waits_for_kubesphere(lab, ansible_run):
    run = ansible_run(play(lab, version="1.1.0", config="greeting: hey\n"), "localhost,", diff=True)
    assert run.rc == 0, run
    res = result(run)
    assert [(s["id"], s.get("verb")) for s in res["plan"]] == [
        ("installplan", "patch"), ("installplan-history", None), ("wait-extension-installed", None)]
    assert res["diff"]["before"]["spec"]["extension"]["version"] == "1.0.0"
    assert res["diff"]["after"]["spec"]["extension"]["version"] == "1.1.0"
    assert res["extension"]["installed_version"] == "1.1.0"
    live = plan_of(lab)
    assert any(c["type"] == "Upgraded" and c["status"] == "True" for c in live["status"]["conditions"]), live["status"]
    assert greeting(lab) == {"greeting": "hey", "version": "1.1.0"}


def test_a_failing_upgrade_fails_at_once_and_a_rerun_fails_again_writing_nothing(lab, audit, ansible_run):
    """2.0.0 cannot render: helm fails in the Job before it writes a release, so KubeSphere records the Job's
    condition, keeps the deployed 1.1.0 as status.version and retries by itself (seen with v4.1.3)."""
    run = ansible_run(play(lab, version="2.0.0", config="greeting: hey\n"), "localhost,")
    assert run.rc != 0, run
    res = result(run)
    assert res["code"] == "extension_install_failed" and res["cluster"] == lab.host, res
    assert "InstallPlan hello" in res["msg"] and "UpgradeFailed" in res["msg"], res["msg"]
    assert "helm-executor Job extension-hello/helm-upgrade-hello-" in res["msg"], res["msg"]
    assert "keeps trying" in res["msg"], res["msg"]
    assert greeting(lab) == {"greeting": "hey", "version": "1.1.0"}  # the release as it was
    mark = audit.mark()
    again = ansible_run(play(lab, version="2.0.0", config="greeting: hey\n"), "localhost,")
    assert again.rc != 0
    res = result(again)
    assert res["code"] in ("extension_failed", "extension_install_failed"), res
    assert nothing_written(lab, audit, mark)


def test_back_to_the_deployed_version_kubesphere_waits_for_a_config_change(lab, ansible_run, tmp_path):
    """After the failed upgrade, asking for 1.1.0 again (the release's version) with the same config changes
    nothing KubeSphere compares: the plan stays UpgradeFailed, and the task says what makes it try again.
    cluster_info and the doctor report that state."""
    run = ansible_run(play(lab, version="1.1.0", config="greeting: hey\n"), "localhost,")
    assert run.rc != 0, run
    res = result(run)
    assert res["code"] == "extension_install_failed" and "comment line in config" in res["msg"], res
    info = ansible_run(yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                                        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                                        "tasks": [{"name": "extension", "kubesphere.multicluster.cluster_info": {
                                            "kubeconfig": lab.kubeconfig(lab.host), "cluster_name": lab.host}}]}]),
                       "localhost,")
    assert info.rc == 0, info
    (hello,) = [e for e in result(info)["cluster"]["extensions"] if e["name"] == "hello"]
    assert (hello["state"], hello["version"]) == ("UpgradeFailed", "1.1.0") and hello["failure"], hello
    doctor = ansible_run(DOCTOR, lab.inventory, extra_vars={"doctor_report_dir": str(tmp_path / "doctor")})
    assert doctor.rc != 0  # an error-level finding
    (diagnosis,) = doctor.results("Diagnose the fleet").values()
    failed = [f for f in diagnosis["findings"] if f["code"] == "extension_failed"]
    assert len(failed) == 1 and "extension hello is UpgradeFailed" in failed[0]["message"], diagnosis["findings"]
    status = ansible_run(DOCTOR.replace("doctor.yml", "status.yml"), lab.inventory, callback="default",
                         extra_vars={"kubesphere_report_dir": str(tmp_path / "report")})
    assert status.rc == 0, status
    assert "host: extension hello is UpgradeFailed (version 1.1.0)" in status.stdout, status.stdout[-3000:]
    fixed = ansible_run(play(lab, version="1.1.0", config="greeting: hey\n# after the failed 2.0.0\n"), "localhost,")
    assert fixed.rc == 0, fixed
    res = result(fixed)
    assert res["extension"]["state"] == "Installed" and res["extension"]["installed_version"] == "1.1.0", res
    assert greeting(lab) == {"greeting": "hey", "version": "1.1.0"}


@pytest.mark.parametrize("args, code, words", [
    ({"version": "9.9.9"}, "extension_version_not_found", ["hello-9.9.9", "1.0.0, 1.1.0, 2.0.0"]),
    ({"version": "1.1.0", "config": "- a\n- b\n"}, "config_invalid", ["mapping"]),
    ({"state": "absent", "confirm": "helo"}, "confirmation_mismatch", ["'hello'"]),
])
def test_bad_input_is_refused_writing_nothing(lab, audit, ansible_run, args, code, words):
    mark = audit.mark()
    run = ansible_run(play(lab, **args), "localhost,")
    assert run.rc != 0
    res = result(run)
    assert res["code"] == code and all(w in res["msg"] for w in words), res
    assert nothing_written(lab, audit, mark)


def test_uninstall_removes_the_release_and_the_install_plan(lab, audit, ansible_run):
    run = ansible_run(play(lab, state="absent", confirm="hello"), "localhost,")
    assert run.rc == 0, run
    res = result(run)
    assert res["changed"] is True and res["extension"] == {} and res["installplan"] == {}, res
    assert plan_of(lab) is None
    wait_for(lambda: greeting(lab) is None, 60, "helm uninstall removed the ConfigMap")
    mark = audit.mark()
    again = ansible_run(play(lab, state="absent", confirm="hello"), "localhost,")
    assert again.rc == 0 and result(again)["changed"] is False
    assert nothing_written(lab, audit, mark)
