"""tests/run-all.sh's verdict (tests/run_all_summary.py) on made-up result files: every requested stage must
report, a stage that never recorded a result fails as such, and a pytest stage whose tests were all skipped
or xfailed fails like one that collected none."""

import io
import os
import re
import subprocess
import sys

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TESTS)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

import run_all_summary as ras  # noqa: E402  pylint: disable=wrong-import-position

V41_PARTS = ["lab-v41-binaries", "lab-v41"]
ALL = ["unit", "sanity", "lint", "changelog", "molecule", "build", "galaxy"] + V41_PARTS + [
    "lab-binaries", "lab", "integration-1", "integration-2", "integration-3", "awx", "evidence"]


def junit(passed=0, failed=0, skipped=0, xfailed=0):
    """A JUnit XML file as pytest writes it (an xfail is a <skipped type="pytest.xfail">)."""
    cases = ['<testcase classname="t" name="p%d"/>' % i for i in range(passed)]
    cases += ['<testcase classname="t" name="f%d"><failure message="x"/></testcase>' % i for i in range(failed)]
    cases += ['<testcase classname="t" name="s%d"><skipped type="pytest.skip" message="s"/></testcase>' % i
              for i in range(skipped)]
    cases += ['<testcase classname="t" name="x%d"><skipped type="pytest.xfail" message="x"/></testcase>' % i
              for i in range(xfailed)]
    return ('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="%d" '
            'skipped="%d" tests="%d">%s</testsuite></testsuites>'
            % (failed, skipped + xfailed, passed + failed + skipped + xfailed, "".join(cases)))


def results(tmp_path, stages):
    """A results folder: stages maps name -> (rc or None for no .rc, junit text or None)."""
    for name, (rc, xml) in stages.items():
        if rc is not None:
            (tmp_path / (name + ".rc")).write_text("%s\n" % rc)
        (tmp_path / (name + ".log")).write_text("log of %s\nlast line of %s\n" % (name, name))
        if xml is not None:
            (tmp_path / (name + ".xml")).write_text(xml)
    return str(tmp_path)


def all_green():
    out = {n: (0, None) for n in ALL}
    for n in ras.PYTEST_STAGES:
        if n in ALL:
            out[n] = (0, junit(passed=3, skipped=1))
    return out


def run_summary(path, requested, serial=False):
    out = io.StringIO()
    rc = ras.summary(path, requested, elapsed=5, serial=serial, out=out)
    return rc, out.getvalue()


def test_every_stage_green_passes_and_sums_the_pytest_stages(tmp_path):
    rc, text = run_summary(results(tmp_path, all_green()), [])
    assert rc == 0, text
    assert text.splitlines()[-1] == "21 passed, 0 failed, 7 skipped"
    assert "FAILED" not in text


@pytest.mark.parametrize("missing", ["integration-2", "galaxy", "lab-binaries", "unit"])
def test_a_stage_that_never_recorded_a_result_fails_as_such(tmp_path, missing):
    stages = all_green()
    stages[missing] = (None, None)  # its lane died before `stage` wrote the .rc
    rc, text = run_summary(results(tmp_path, stages), [])
    assert rc == 1
    assert "=== %s: FAILED (no result: the stage never recorded one" % missing in text
    assert re.search(r"^FAILED stages: %s \(no result: " % missing, text, re.M), text
    assert ras.verdict(str(tmp_path), [])[0][0] == missing


def test_a_requested_stage_without_result_fails_and_unrequested_ones_are_not_expected(tmp_path):
    path = results(tmp_path, {"sanity": (0, None), "lint": (0, None)})
    assert run_summary(path, ["sanity", "lint"])[0] == 0
    rc, text = run_summary(path, ["sanity", "lint", "unit"])
    assert rc == 1 and text.splitlines()[-1].startswith("FAILED stages: unit (no result"), text
    # integration means its three parts and the lab's binaries
    assert ras.expected_stages(["integration"]) == (["lab-binaries", "integration-1", "integration-2", "integration-3"], [])
    assert ras.expected_stages([]) == (ALL, [])
    # lab-v41 builds its own set (Kubernetes' binaries among them): it needs no lab-binaries
    assert ras.expected_stages(["lab-v41"]) == (V41_PARTS, [])


def test_lab_v41_is_in_the_default_set_and_must_report(tmp_path):
    assert ras.expected_stages([]) == (ALL, [])
    stages = all_green()
    stages["lab-v41"] = (None, None)
    rc, text = run_summary(results(tmp_path, stages), [])
    assert rc == 1 and "FAILED stages: lab-v41 (no result: " in text  # it must report when it is in the set
    stages["lab-v41"] = (0, junit(passed=2))
    assert run_summary(results(tmp_path, stages), [])[0] == 0


@pytest.mark.parametrize("counts, reason", [
    (dict(skipped=4), "every test was skipped or xfailed (4)"),
    (dict(xfailed=2), "every test was skipped or xfailed (2)"),
    (dict(skipped=1, xfailed=1), "every test was skipped or xfailed (2)"),
    ({}, "no test ran"),
])
def test_a_pytest_stage_whose_tests_all_skip_or_xfail_fails(tmp_path, counts, reason):
    stages = all_green()
    stages["awx"] = (0, junit(**counts))  # pytest itself exited 0
    rc, text = run_summary(results(tmp_path, stages), [])
    assert rc == 1
    assert text.splitlines()[-1] == "FAILED stages: awx (%s)" % reason
    assert "===== log of the failed stage awx" in text and "last line of awx" in text


def test_one_passed_test_among_skips_is_enough(tmp_path):
    stages = all_green()
    stages["lab"] = (0, junit(passed=1, skipped=9, xfailed=2))
    assert run_summary(results(tmp_path, stages), [])[0] == 0


def test_a_pytest_stage_without_junit_result_or_with_a_broken_one_fails(tmp_path):
    stages = all_green()
    stages["unit"] = (0, None)
    stages["integration-1"] = (0, "<testsuites><testsuite")
    failed = dict(ras.verdict(results(tmp_path, stages), []))
    assert failed["unit"] == "no JUnit result"
    assert failed["integration-1"].startswith("its JUnit result does not parse")


def test_an_out_of_date_evidence_page_fails_the_default_run(tmp_path):
    stages = all_green()
    stages["evidence"] = (1, None)  # render.py --check found docs/evidence.md out of date
    rc, text = run_summary(results(tmp_path, stages), [])
    assert rc == 1 and text.splitlines()[-1] == "FAILED stages: evidence (exit 1)"
    assert "===== log of the failed stage evidence" in text
    # not expected when stages are named (their results are not the whole page's)
    assert "evidence" not in ras.expected_stages(["integration"])[0]


def test_an_evidence_check_skipped_after_a_failed_integration_stage_says_why(tmp_path):
    stages = all_green()
    stages["integration-2"] = (1, junit(passed=1, failed=1))
    stages["evidence"] = (None, None)
    failed = dict(ras.verdict(results(tmp_path, stages), []))
    assert failed["integration-2"] == "exit 1"
    assert failed["evidence"].startswith("not checked: an integration stage failed")


def test_failed_stages_keep_their_exit_code_and_log(tmp_path):
    stages = all_green()
    stages["sanity"] = (1, None)
    stages["integration-3"] = (5, None)  # no tests collected
    rc, text = run_summary(results(tmp_path, stages), [])
    assert rc == 1
    assert text.splitlines()[-1] == "FAILED stages: sanity (exit 1), integration-3 (exit 5)"
    assert "===== log of the failed stage sanity" in text and "last line of sanity" in text
    rc, text = run_summary(results(tmp_path, stages), [], serial=True)  # serial: the output was on the terminal
    assert rc == 1 and "===== log of" not in text


def test_an_unknown_stage_name_fails(tmp_path):
    rc, text = run_summary(results(tmp_path, {"sanity": (0, None)}), ["sanity", "santiy"])
    assert rc == 1 and "FAILED stages: santiy (unknown stage" in text


def test_check_junit_is_the_pytest_stages_own_verdict(tmp_path, capsys):
    (tmp_path / "ok.xml").write_text(junit(passed=1, xfailed=1))
    (tmp_path / "skipped.xml").write_text(junit(skipped=2))
    assert ras.main(["--check-junit", "unit", str(tmp_path / "ok.xml")]) == 0
    assert ras.main(["--check-junit", "unit", str(tmp_path / "skipped.xml")]) == 1
    assert "(unit: every test was skipped or xfailed (2): this stage must run tests)" in capsys.readouterr().out


def test_the_stage_names_are_run_all_shs():
    """Every `stage NAME` of run-all.sh is a stage the summary expects, and the reverse."""
    with open(os.path.join(TESTS, "run-all.sh")) as f:
        script = f.read()
    called = set(re.findall(r"(?:&& |run |^[ \t]*|=\S+ )stage ([a-z][\w-]*) ", script, re.M))
    assert called == set(ALL), called
    assert set(re.findall(r"\bwant ([a-z][a-z0-9-]*)", script)) == set(ras.CHECKS + ras.V41 + ras.LABS)


def test_run_all_sh_reports_a_requested_stage_that_does_not_exist(tmp_path):
    """The script end to end, with no stage to run: an unknown name fails the run and says so."""
    env = dict(os.environ, KS_TEST_RESULTS=str(tmp_path / "results"))
    proc = subprocess.run(["bash", os.path.join(TESTS, "run-all.sh"), "no-such-stage"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1, proc
    assert proc.stdout.splitlines()[-1].startswith("FAILED stages: no-such-stage (unknown stage"), proc.stdout
