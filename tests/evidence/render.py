"""docs/evidence.md from the tests' own results (issue 20): one page a user or reviewer reads.

Inputs, written by the integration tests that prove each row (a test writes its row only when it passed):
  build/evidence/bad_input.json   tests/integration/test_bad_input.py (every bad input refused, zero writes)
  build/evidence/files/*.json     tests/integration/test_files_at_rest.py, test_health_dead_member.py
  build/evidence/faults/*.json    the fault tests (test_health_dead_member.py, test_forced_unbind_dead.py, ...)
The rows of files/ and faults/ are merged into build/evidence/files.json and build/evidence/faults.json.
The page is deterministic: temporary paths, ports, uids and fingerprints are replaced by placeholders.

    python tests/evidence/render.py            write docs/evidence.md (make evidence)
    python tests/evidence/render.py --check    exit 1 and print the diff when docs/evidence.md is not what the
                                               results render (tests/run-all.sh, after the stages)"""

import argparse
import difflib
import glob
import json
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EVIDENCE = os.path.join(REPO, "build", "evidence")
PAGE = os.path.join(REPO, "docs", "evidence.md")
REGENERATE = ("make evidence (renders docs/evidence.md from build/evidence/, which a full `make test` fills; or run "
              "the test files the page names, then make evidence), and commit docs/evidence.md")

# The faults issue 20 asks for, and the rows (keys) of build/evidence/faults that cover them.
WANTED_FAULTS = [
    ("the host's kube-apiserver restarted between two roles of site.yml", ["host-apiserver-restarted-between-site-plays"]),
    ("the host's kube-apiserver restarted during an import's wait", ["host-apiserver-restarted-during-import-wait"]),
    ("ks-controller-manager stopped during a join", ["controller-manager-paused-during-join"]),
    ("kubefed stopped during a federate, and during an unbind",
     ["kubefed-paused-during-federate", "kubefed-paused-during-unbind"]),
    ("tower restarted while a proxy member is connected; the proxy member's kube-apiserver restarted",
     ["tower-restarted-proxy-member-connected", "proxy-member-apiserver-restarted"]),
    ("a writer racing the collection on the same object (409 Conflict on update)", ["racing-writer-on-cluster"]),
    ("an installer slower than the wait timeout", ["installer-slower-than-wait-timeout"]),
    ("the controller's process killed (SIGKILL) mid-import and mid-unbind",
     ["controller-killed-mid-import", "controller-killed-mid-unbind", "controller-killed-mid-forced-unbind"]),
    ("a member's kube-apiserver stopped for good: status and unbind say so, the forced unbind succeeds on the first try",
     ["dead-member-status", "dead-member-inventory", "dead-member-unbind-refused", "dead-member-forced-unbind",
      "forced-unbind-dead-direct", "forced-unbind-dead-proxy"]),
    ("a member's kube-apiserver stopped for good: the doctor says so", ["dead-member-doctor"]),
]

PLACEHOLDERS = [  # what differs from one machine or run to the next: the checkout, the home folder, temp paths
    (re.compile(re.escape(REPO) + r"(?=/|\b)"), "<repo>"),
    (re.compile(re.escape(os.path.expanduser("~")) + r"/[^\s'\",;)]*"), "<home>"),
    (re.compile(r"/tmp/[^\s'\",;)]*"), "<tmp>"),
    (re.compile(r"(127\.0\.0\.1|localhost):\d+"), r"\1:<port>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uid>"),
    (re.compile(r"sha256:[0-9a-f]{12,64}"), "sha256:<fingerprint>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:Z| UTC)?"), "<time>"),  # e.g. a certificate's expiry
    # Ansible prints its set of boolean spellings in the set's order, which differs from one run to the next
    (re.compile(r"(Valid booleans include: ).*?(?=( \||$))"), r"\1<Ansible's list>"),
]
MESSAGE_CHARS = 400


def stable(text):
    text = " ".join(str(text).split())
    for pattern, repl in PLACEHOLDERS:
        text = pattern.sub(repl, text)
    return text


def cell(text, limit=None):
    text = stable(text if text is not None else "-")
    if limit and len(text) > limit:
        text = text[:limit].rstrip() + " ..."
    return text.replace("|", "\\|") or "-"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join([" --- "] * len(header)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def load(path):
    with open(path) as f:
        return json.load(f)


def merged(kind, evidence):
    """{"sources": [...], "rows": [...]} of build/evidence/<kind>/*.json, sorted by key; None when absent."""
    files = sorted(glob.glob(os.path.join(evidence, kind, "*.json")))
    if not files:
        return None
    sources, rows = [], {}
    for path in files:
        data = load(path)
        sources.append(data["source"])
        for key, row in data["rows"].items():
            rows[key] = dict(row, source=data["source"])
    return {"sources": sources, "rows": [rows[k] for k in sorted(rows)]}


def render(evidence):
    """The page's text, or raises FileNotFoundError naming what is missing."""
    bad_path = os.path.join(evidence, "bad_input.json")
    if not os.path.exists(bad_path):
        raise FileNotFoundError(bad_path)
    bad = load(bad_path)
    files, faults = merged("files", evidence), merged("faults", evidence)
    for kind, data in (("files", files), ("faults", faults)):
        if data is None:
            raise FileNotFoundError(os.path.join(evidence, kind, "*.json"))
        with open(os.path.join(evidence, kind + ".json"), "w") as f:
            json.dump(data, f, indent=2, sort_keys=True)
    out = ["# Evidence: bad input, faults, files at rest", "",
           "Generated by `tests/evidence/render.py` (`make evidence`) from the results the integration tests write to",
           "`build/evidence/` when they pass, against the lab's real kube-apiservers, KubeSphere 3.4.1's own",
           "ks-controller-manager, ks-apiserver and tower, and kubefed v0.8.1. Do not edit: `make test` fails when this",
           "page differs from what the latest results render. The checkout, the home folder, temporary paths, ports,",
           "uids, fingerprints and times are shown as `<repo>`, `<home>`, `<tmp>`, `<port>`, `<uid>`, `<fingerprint>` and",
           "`<time>`.", ""]
    out += bad_input_section(bad) + [""] + faults_section(faults) + [""] + files_section(files)
    return "\n".join(out) + "\n"


def bad_input_section(bad):
    rows = sorted(bad["rows"], key=lambda r: r["id"])
    written = sum(len(r["writes"]) for r in rows)
    printed = sum(1 for r in rows if r.get("secret_printed"))
    out = ["## Bad input: refused before the first write", "",
           "Produced by `pytest tests/integration/test_bad_input.py` (`build/evidence/bad_input.json`): each row is one",
           "run of ansible-playbook (a module, a playbook with a changed inventory, a role's variables, an AWX survey's",
           "answer) on a lab whose members are imported. Writes are counted in every cluster's kube-apiserver audit log",
           "(refused writes included); a secret printed is any of the lab's jwtSecret, tokens or client keys in the output.",
           "", "%d inputs, %d writes in all, %d with a secret printed." % (len(rows), written, printed), ""]
    out += table(["input", "surface", "code", "message", "writes", "secret printed"],
                 [[cell(r["input"]), cell(r["surface"]), cell(r["code"]), cell(r["message"], MESSAGE_CHARS),
                   str(len(r["writes"])), "yes" if r.get("secret_printed") else "no"] for r in rows])
    return out


def faults_section(faults):
    rows = faults["rows"]
    out = ["## Faults injected against the real control plane", "",
           "Produced by `pytest %s` (`build/evidence/faults/`, merged into `build/evidence/faults.json`): a row is"
           % " ".join(sorted(faults["sources"])),
           "written only by a test that injected the fault and passed.", ""]
    out += table(["fault", "moment", "what the user sees", "rerun", "command", "test"],
                 [[cell(r["fault"]), cell(r["moment"]), cell(r["sees"]), cell(r["rerun"]), cell("`%s`" % r["command"]),
                   cell(r["source"].rsplit("/", 1)[-1])] for r in rows])
    keys = {r["key"] for r in rows}
    out += ["", "The faults issue 20 lists, and whether a test above injects them:", ""]
    out += table(["fault (issue 20)", "covered by"],
                 [[cell(what), ", ".join(k for k in covers if k in keys) or "not recorded by any test yet"]
                  for what, covers in WANTED_FAULTS])
    return out


def files_section(files):
    rows = files["rows"]
    out = ["## Files at rest", "",
           "Produced by `pytest %s` (`build/evidence/files/`, merged into `build/evidence/files.json`): each file"
           % " ".join(sorted(files["sources"])),
           "made through the real playbooks, its mode and its folder's mode read from disk, its content checked.",
           "The rule: a file that holds a secret, or that the collection reads back, is 0600 in a folder created",
           "0700; an existing folder is never chmod'ed, and one open to its group or others is refused before the",
           "first write (`folder_not_private`). Reports hold no secret and are 0644 (a new folder 0755).", ""]
    out += table(["file", "written by", "where", "mode", "folder", "secret", "holds", "checked", "command"],
                 [[cell(r["file"]), cell(r["written_by"]), cell(r["side"]), cell(r["mode"]), cell(r["dir_mode"]),
                   "yes" if r["holds_secret"] else "no", cell(r["holds"]), cell(r["checked"]),
                   cell("`%s`" % r["command"])] for r in rows])
    return out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed page instead of writing it")
    parser.add_argument("--evidence", default=EVIDENCE)
    parser.add_argument("--page", default=PAGE)
    args = parser.parse_args(argv)
    try:
        text = render(args.evidence)
    except FileNotFoundError as e:
        print("evidence: no result at %s: run the tests that produce it first (a full make test does)" % e.args[0])
        return 2
    if not args.check:
        with open(args.page, "w") as f:
            f.write(text)
        print("wrote %s" % os.path.relpath(args.page, REPO))
        return 0
    committed = open(args.page).read() if os.path.exists(args.page) else ""
    if committed == text:
        print("%s is what the results render" % os.path.relpath(args.page, REPO))
        return 0
    sys.stdout.writelines(difflib.unified_diff(committed.splitlines(True), text.splitlines(True),
                                               "docs/evidence.md (committed)", "docs/evidence.md (rendered)"))
    print("\ndocs/evidence.md is out of date: regenerate it with %s" % REGENERATE)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
