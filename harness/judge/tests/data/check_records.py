#!/usr/bin/python3
"""Runs `runner judge` over records.jsonl and checks each verdict against the record's expect_status.

usage: check_records.py [RUNNER]   (default build/runner; run from the repository root)
Exit 0 when every verdict has its expected status, 1 otherwise."""
import json
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
runner = sys.argv[1] if len(sys.argv) > 1 else "build/runner"
records = os.path.join(here, "records.jsonl")
want = {}
with open(records) as f:
    for line in f:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        want[rec["token"]] = rec["expect_status"]
run = subprocess.run([runner, "judge", "--cases", here, records], capture_output=True, text=True)
got = {}
for line in run.stdout.splitlines():
    v = json.loads(line)
    got[v.get("token")] = v
bad = 0
for token, status in want.items():
    v = got.get(token, {})
    ok = v.get("status") == status
    bad += not ok
    print("%-4s %-7s %-10s %s" % ("ok" if ok else "BAD", token, v.get("status"), v.get("message", "(no verdict)")))
if run.returncode != 1 or "not a JSON object" not in run.stderr:
    print("BAD  the truncated last line should be reported on stderr with exit status 1; got %d: %s"
          % (run.returncode, run.stderr.strip()))
    bad += 1
sys.exit(1 if bad else 0)
