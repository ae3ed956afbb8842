"""reports.merge: report folders of runs made apart (a CI matrix, one engine per job) merged into one report.

The inputs are two real single-engine report folders (tests/self/data/merge/, 2026-12-05): the same three case
files (xhr/empty-body, xhr/timeout-status-0, jsonp/callback: five cases) run on Chromium 156 and, in another run,
on Firefox ESR 153, without expectations (Chromium fails xhr/events/empty-body); each folder keeps its report.json
beside its events.jsonl. No browser here."""
from __future__ import annotations

import json
import pathlib
import shutil
import xml.etree.ElementTree as ET

import pytest

from reports import merge

DATA = pathlib.Path(__file__).resolve().parent / "data" / "merge"
CHROMIUM, FIREFOX = DATA / "chromium", DATA / "firefox"


def results(out) -> dict:
    doc = json.loads((out / "report.json").read_text())
    return doc, {(r["client"], r["test"]): r for r in doc["results"]}


def single(folder) -> dict:
    return {(r["client"], r["test"]): r for r in json.loads((folder / "report.json").read_text())["results"]}


def test_two_engines_merge_into_one_report(tmp_path):
    out = tmp_path / "merged"
    assert merge.main([str(out), str(CHROMIUM), str(FIREFOX)]) == 0
    doc, by = results(out)
    info = doc["run_info"]
    assert info["clients"] == ["chromium", "firefox"] and info["complete"]
    assert set(info["platforms"]) == {"chromium", "firefox"}
    assert info["merged_from"] == [str(CHROMIUM), str(FIREFOX)]
    # every (client, case) of either input, with the status, expected status and checks it had there
    want = {**single(CHROMIUM), **single(FIREFOX)}
    assert set(by) == set(want) and {c for c, _ in by} == {"chromium", "firefox"}
    for k, r in want.items():
        assert (by[k]["status"], by[k]["expected"], by[k]["statuses"]) == (r["status"], r["expected"], r["statuses"])
        assert [s["status"] for s in by[k]["subtests"]] == [s["status"] for s in r["subtests"]]
    assert info["versions"]["chromium"] and info["versions"]["firefox"]
    cases = ET.parse(out / "junit.xml").getroot().iter("testcase")
    assert {c.get("name") for c in cases} >= {f"test_case[{c}:{t}]" for c, t in want}
    html = (out / "index.html").read_text()
    assert "chromium" in html and "firefox" in html
    # the merged stream merges again, and rebuilds the same results
    again = tmp_path / "again"
    assert merge.main([str(again), str(out)]) == 0
    assert {k: r["status"] for k, r in results(again)[1].items()} == {k: r["status"] for k, r in by.items()}


def test_a_report_json_input_keeps_statuses_and_checks(tmp_path):
    out = tmp_path / "merged"
    merge.merge(out, [CHROMIUM, FIREFOX / "report.json"])
    _, by = results(out)
    for k, r in single(FIREFOX).items():
        assert by[k]["status"] == r["status"] and by[k]["message"] == r["message"]
        assert [(s["name"], s["status"]) for s in by[k]["subtests"]] == [(s["name"], s["status"]) for s in r["subtests"]]


def test_the_same_client_twice_is_repetitions(tmp_path):
    out = tmp_path / "merged"
    merge.merge(out, [CHROMIUM, CHROMIUM / "events.jsonl"])
    doc, by = results(out)
    assert doc["run_info"]["repeat"] == 2
    for k, r in single(CHROMIUM).items():
        assert by[k]["statuses"] == r["statuses"] * 2 and not by[k]["flaky"]


def test_mixed_schema_versions_are_refused_and_nothing_written(tmp_path, capsys):
    newer = tmp_path / "newer"
    newer.mkdir()
    lines = (FIREFOX / "events.jsonl").read_text().splitlines()
    (newer / "events.jsonl").write_text("".join(json.dumps(dict(json.loads(x), schema=2)) + "\n" for x in lines))
    out = tmp_path / "merged"
    assert merge.main([str(out), str(CHROMIUM), str(newer)]) == 2
    err = capsys.readouterr().err
    assert "mixed schema versions" in err
    assert f"{CHROMIUM / 'events.jsonl'}: events.jsonl schema 1" in err
    assert f"{newer / 'events.jsonl'}: events.jsonl schema 2" in err
    assert not out.exists()


def test_a_report_json_of_another_schema_version_is_refused(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    doc = json.loads((FIREFOX / "report.json").read_text())
    (old / "report.json").write_text(json.dumps(dict(doc, schema_version=0)))
    with pytest.raises(merge.MergeError, match="report.json schema 0"):
        merge.merge(tmp_path / "merged", [CHROMIUM, old])


@pytest.mark.parametrize("make, message", [
    (lambda d: None, "no events.jsonl or report.json there"),
    (lambda d: (d / "report.json").write_text("{"), "not a JSON report"),
    (lambda d: (d / "report.json").write_text("{}"), "not a report.json"),
])
def test_unreadable_inputs_are_named(tmp_path, make, message):
    bad = tmp_path / "bad"
    bad.mkdir()
    make(bad)
    with pytest.raises(merge.MergeError, match=message):
        merge.merge(tmp_path / "merged", [CHROMIUM, bad])


def test_the_output_may_not_be_an_input(tmp_path):
    mine = tmp_path / "chromium"
    shutil.copytree(CHROMIUM, mine)
    with pytest.raises(merge.MergeError, match="one of the inputs"):
        merge.merge(mine, [mine, FIREFOX])
