"""Rows of evidence for docs/evidence.md (issue 20), written by the tests that prove them.

record(kind, source, key, **row) adds one row to build/evidence/<kind>/<source>.json (one file per test file,
so stages that run side by side never write the same file); a test records its row as its last statement, so
only a test that passed leaves one. Rows must be deterministic (no ports, temporary paths, uids, timings):
tests/evidence/render.py renders docs/evidence.md from them and `make test` compares it with the committed one."""

import json
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EVIDENCE = os.path.join(REPO, "build", "evidence")


def record(kind, source, key, **row):
    path = os.path.join(EVIDENCE, kind, os.path.splitext(os.path.basename(source))[0] + ".json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = {"source": "tests/integration/" + os.path.basename(source), "rows": {}}
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
    data["rows"][key] = dict(row, key=key)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
    os.replace(tmp, path)
