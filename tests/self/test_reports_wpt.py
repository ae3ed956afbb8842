"""index.html's "WPT topics exercised" table (reports/wpt_topics.py): per family, the web-platform-tests topics
the run's cases name in their `wpt` lines, with those cases' results. Built from the recorded stream
tests/self/data/reports/events.jsonl (four xhr cases on Chromium and Firefox, Chromium failing
xhr/events/empty-body), its case metadata given `wpt` arrays here as the runner writes them (tests/harness/run.py
_case_meta). No browser: the table is read back from the HTML with the standard library's parser."""
from __future__ import annotations

import json
import pathlib
from html.parser import HTMLParser

import pytest

from reports import html, model, wpt_topics, wptreport
from tests.harness import run as harness_run

STREAM = pathlib.Path(__file__).resolve().parent / "data" / "reports" / "events.jsonl"
TOPICS = {  # a topic list as cases/wpt/topics.json holds it
    "topics": [
        {"id": "X07", "folder": "xhr/", "title": "Events of a request", "files": ["xhr/a.htm", "xhr/b.htm"]},
        {"id": "X31", "folder": "xhr/", "title": "Timeouts", "files": ["xhr/timeout.htm"]},
        {"id": "E01", "folder": "eventsource/", "title": "never named", "files": ["eventsource/x.htm"]},
    ]}
WPT = {  # case -> its wpt array
    "xhr/events/empty-body": ["xhr/a.htm", "xhr/b.htm"],   # two files of one topic: the case counts once
    "xhr/error/reset-mid-body": ["xhr/b.htm"],
    "xhr/timeout/status-0": ["xhr/timeout.htm", "xhr/gone.htm"],
}


def stream_with_wpt(wpt: dict) -> list:
    evs = [json.loads(line) for line in STREAM.read_text().splitlines()]
    for e in evs:
        if e["event"] == "worker-start":
            for meta in e["cases"]:
                if meta["id"] in wpt:
                    meta["wpt"] = wpt[meta["id"]]
    return evs


class Rows(HTMLParser):
    """The rows of <section id="wpt">'s table as lists of cell texts, and the ids of its paragraphs."""

    def __init__(self):
        super().__init__()
        self.rows, self.ids, self.inside, self.cell = [], set(), False, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.inside = a.get("id") == "wpt"
        if not self.inside:
            return
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "tr" and "data-topic" in a:
            self.rows.append([a["data-family"], a["data-topic"]])
        elif tag in ("td", "th") and self.rows and self.cell is None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "section":
            self.inside = False
        if self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join(self.cell.split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def rendered(tmp_path, monkeypatch, wpt: dict) -> Rows:
    path = tmp_path / "topics.json"
    path.write_text(json.dumps(TOPICS))
    monkeypatch.setattr(wpt_topics, "TOPICS", path)
    run = model.from_events(stream_with_wpt(wpt))
    p = Rows()
    p.feed(html.render(run, wptreport.build(run, [])))
    return p


def test_topics_per_family_with_their_results(tmp_path, monkeypatch):
    p = rendered(tmp_path, monkeypatch, WPT)
    # [family, topic, family cell (first row only), id, folder + title, cases, results]
    assert p.rows == [
        ["xhr", "X07", "xhr", "X07", "xhr/ Events of a request", "2", "3/4 pass 1 FAIL"],
        ["xhr", "X31", "", "X31", "xhr/ Timeouts", "1", "2/2 pass"],
    ]
    assert "wpt-unknown" in p.ids and "wpt-none" not in p.ids   # xhr/gone.htm is in no topic


def test_the_view_model_counts_cases_once_and_results_by_status(tmp_path):
    path = tmp_path / "topics.json"
    path.write_text(json.dumps(TOPICS))
    run = model.from_events(stream_with_wpt(WPT))
    v = wpt_topics.exercised(run, wpt_topics.load_topics(path))
    (fam,) = v["families"]
    x07 = fam["topics"][0]
    assert (fam["name"], x07["id"], x07["cases"], x07["results"], x07["pass"]) == ("xhr", "X07", 2, 4, 3)
    assert x07["counts"] == [("PASS", 3), ("FAIL", 1)]
    assert v["unknown"] == ["xhr/gone.htm"] and v["n_topics"] == 2 and v["n_cases"] == 3


def test_a_run_whose_cases_name_no_wpt_file_says_so(tmp_path, monkeypatch):
    p = rendered(tmp_path, monkeypatch, {})
    assert p.rows == [] and "wpt-none" in p.ids


def test_no_topic_list_means_no_topics():
    assert wpt_topics.load_topics(pathlib.Path("/nonexistent/topics.json")) == {}


@pytest.mark.parametrize("wpt", [["xhr/send-accept.htm"], []])
def test_the_runner_s_case_metadata_carries_the_wpt_files(wpt):
    meta = harness_run._case_meta({"id": "xhr/x", "title": "t", "wpt": wpt, "client": {"objects": []}})
    assert meta["wpt"] == wpt


def test_the_committed_topic_list_loads():
    files = wpt_topics.load_topics()
    assert files["eventsource/eventsource-url.any.js"]["id"].startswith("E")
