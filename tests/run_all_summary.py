"""The verdict of tests/run-all.sh, from the result files its stages leave in build/test-results/:
<stage>.rc (exit code), <stage>.log (output), <stage>.xml (JUnit XML of a pytest stage).

Every requested stage must report: a stage that never wrote its .rc (its lane died, or never got to it) fails
as "no result". A pytest stage fails when it ran no test or when every test it ran was skipped or xfailed
(pytest exits 0 then). An unknown stage name fails the run. The last lines are the sum of every pytest stage,
"N passed, N failed, N skipped", and, when something failed, "FAILED stages: ..." with each stage's reason.

    python tests/run_all_summary.py RESULTS_DIR [--elapsed SECONDS] [--serial] [STAGE...]
    python tests/run_all_summary.py --check-junit NAME FILE.xml    (one pytest stage's own verdict)

tests/unit/test_run_all_summary.py feeds it made-up result files."""

import argparse
import os
import sys
import xml.etree.ElementTree as ET

# The stages of tests/run-all.sh in the order they report, by lane; `integration` runs as three stages, every
# stage of LABS needs lab-binaries first, and lab-v41 (the lab's KubeSphere v4.1.3 mode, at the checks lane's end)
# builds its own set (lab-v41-binaries) first. tests/unit/test_run_all_summary.py holds this to the script.
CHECKS = ("unit", "sanity", "lint", "changelog", "molecule", "build", "galaxy")
LABS = ("lab", "integration", "awx")
# lab-v41 is in the default set (there its fleet test only; KS_TEST_V41=1 or naming it runs every v4.1 test)
V41 = ("lab-v41",)
PARTS = {"integration": ("integration-1", "integration-2", "integration-3"),
         "lab-v41": ("lab-v41-binaries", "lab-v41")}
PYTEST_STAGES = ("unit", "lab", "integration-1", "integration-2", "integration-3", "awx", "lab-v41")
# after both lanes, in the default run only: docs/evidence.md against what the integration stages' results render
AFTER_DEFAULT = ("evidence",)
EVIDENCE_INPUTS = PARTS["integration"]
LOG_TAIL = 400


def expected_stages(requested):
    """(stages that must report, unknown names) for run-all.sh's arguments (none: every stage)."""
    names = list(requested) or list(CHECKS + V41 + LABS)
    unknown = [n for n in names if n not in CHECKS + V41 + LABS]
    stages = [n for n in CHECKS if n in names]
    for name in V41:
        if name in names:
            stages.extend(PARTS[name])
    if any(n in names for n in LABS):
        stages.append("lab-binaries")
    for name in LABS:
        if name in names:
            stages.extend(PARTS.get(name, (name,)))
    if not requested:
        stages.extend(AFTER_DEFAULT)
    return stages, unknown


def junit_counts(path):
    """(passed, failed, skipped) of a JUnit XML file; xfailed tests are skipped there, xpassed ones passed."""
    tests = failed = skipped = 0
    for suite in ET.parse(path).getroot().iter("testsuite"):
        tests += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return tests - failed - skipped, failed, skipped


def junit_problem(path):
    """Why a pytest stage whose pytest exited 0 still fails, or None."""
    if not os.path.exists(path):
        return "no JUnit result"
    try:
        passed, failed, skipped = junit_counts(path)
    except (ET.ParseError, ValueError) as e:
        return "its JUnit result does not parse (%s)" % e
    if passed + failed + skipped == 0:
        return "no test ran"
    if passed == 0 and failed == 0:
        return "every test was skipped or xfailed (%d)" % skipped
    return None


def stage_problem(results, name):
    """Why stage `name` failed, or None."""
    rc_file = os.path.join(results, name + ".rc")
    if not os.path.exists(rc_file):
        if name in AFTER_DEFAULT and any(stage_problem(results, n) for n in EVIDENCE_INPUTS):
            return "not checked: an integration stage failed, so build/evidence/ is incomplete"
        return "no result: the stage never recorded one (its lane died or never reached it)"
    with open(rc_file) as f:
        rc = f.read().strip()
    if rc != "0":
        return "exit %s" % (rc or "unknown")
    if name in PYTEST_STAGES:
        return junit_problem(os.path.join(results, name + ".xml"))
    return None


def verdict(results, requested):
    """[(stage, reason)] of every failed stage, in the order the stages report."""
    stages, unknown = expected_stages(requested)
    failed = [(n, "unknown stage (known: %s)" % " ".join(CHECKS + V41 + LABS)) for n in unknown]
    for name in stages:
        problem = stage_problem(results, name)
        if problem:
            failed.append((name, problem))
    return failed


def totals(results):
    passed = failed = skipped = 0
    for name in sorted(os.listdir(results)) if os.path.isdir(results) else []:
        if name.endswith(".xml"):
            try:
                p, f, s = junit_counts(os.path.join(results, name))
            except (ET.ParseError, ValueError):
                continue
            passed, failed, skipped = passed + p, failed + f, skipped + s
    return passed, failed, skipped


def summary(results, requested, elapsed=None, serial=False, out=sys.stdout):
    """Prints the end of a run; returns its exit code."""
    failed = verdict(results, requested)
    for name, reason in failed:
        log = os.path.join(results, name + ".log")
        if reason.startswith("no result"):
            print("=== %s: FAILED (%s) ===" % (name, reason), file=out)
        if not serial and os.path.exists(log):
            print("===== log of the failed stage %s (%s) =====" % (name, log), file=out)
            with open(log, errors="replace") as f:
                out.write("".join(f.readlines()[-LOG_TAIL:]))
    if elapsed is not None:
        print("all stages: %s s" % elapsed, file=out)
    print("%d passed, %d failed, %d skipped" % totals(results), file=out)
    if failed:
        print("FAILED stages: %s" % ", ".join("%s (%s)" % f for f in failed), file=out)
        return 1
    return 0


def main(argv):
    if argv[:1] == ["--check-junit"]:
        name, path = argv[1:3]
        problem = junit_problem(path)
        if problem:
            print("(%s: %s: this stage must run tests)" % (name, problem))
            return 1
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("--elapsed")
    parser.add_argument("--serial", action="store_true")
    parser.add_argument("stages", nargs="*")
    args = parser.parse_intermixed_args(argv)
    return summary(args.results, args.stages, args.elapsed, args.serial)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
