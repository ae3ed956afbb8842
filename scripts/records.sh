#!/usr/bin/env bash
# make records: runs the conformance suite on each client and keeps its judged runs as records for mutation
# testing (README, "Mutation testing"): records/CLIENT.jsonl.xz, one record per case whose checks ran
# (harness/mutate/mutate.h). A client's file is replaced only when its run left verdicts; the records of cases
# the run did not run are kept, so a few changed cases are re-recorded with RECORD_ARGS="--cases FILE...".
#
#   scripts/records.sh RUNNER PYTHON CLIENT...      (from the repository's root; make records passes them)
#   RECORD_ARGS: more arguments for pytest (e.g. --cases cases/xhr/abort-in-state.case)
#
# The run's exit status is not this script's: engines fail cases, and a record of a failing run is as good
# as any. Each record carries the digest of its case's program as it was at this moment, so the records are
# made right after each client's run, from the same case files.
set -euo pipefail
cd "$(dirname "$0")/.."
runner=$1 py=$2
shift 2
mkdir -p records build/records-run
for client in "$@"; do
  name=${client//[:\/]/-}
  report=build/records-run/$name
  rm -rf "$report"
  echo "records: $client (report in $report)"
  # shellcheck disable=SC2086 # RECORD_ARGS is a list of arguments
  RUNNER=$runner "$py" -m pytest -p no:cacheprovider tests/conformance -q --client "$client" --report "$report" \
    ${RECORD_ARGS:-} >"$report.log" 2>&1 || true
  tail -n 1 "$report.log"
  if ! grep -q '"event":"verdict"' "$report/events.jsonl" 2>/dev/null; then
    echo "records: $client left no verdict (see $report.log); records/$name.jsonl.xz kept as it was" >&2
    exit 1
  fi
  keep=()
  if [[ -f records/$name.jsonl.xz ]]; then
    xz -dc "records/$name.jsonl.xz" >"$report.old.jsonl"
    keep=(--keep "$report.old.jsonl")
  fi
  # A run killed mid-write leaves a truncated last line: runner record says so and goes on.
  { "$runner" record --cases cases "${keep[@]}" "$report/events.jsonl" || true; } | xz -9e -T1 >"records/$name.jsonl.xz.tmp"
  mv "records/$name.jsonl.xz.tmp" "records/$name.jsonl.xz"
  ls -l "records/$name.jsonl.xz"
done
