"""index.html (and the diff page) in a real headless Chromium: the matrix and a failing case's detail are in
the DOM, the filters work, nothing is fetched, no console errors. Built from the recorded stream
tests/self/data/reports/events.jsonl (Chromium fails xhr/events/empty-body there)."""
from __future__ import annotations

import json
import pathlib
import shutil

import pytest

from reports import build, diff, screenshot
from tests.harness import browsers

STREAM = pathlib.Path(__file__).resolve().parent / "data" / "reports" / "events.jsonl"

pytestmark = pytest.mark.browser("chromium")

DOM = r"""(() => {
  const $$ = (s, r) => Array.from((r || document).querySelectorAll(s));
  const text = el => el ? el.textContent.replace(/\s+/g, ' ').trim() : null;
  const bad = document.querySelector('details.case[data-id="xhr/events/empty-body"]');
  const run = bad && bad.querySelector('section.run.notpass[data-client="chromium"]');
  return {
    title: document.title,
    matrixHead: $$('table.matrix thead th').map(text),
    matrixRows: $$('table.matrix tbody tr').map(tr => $$('th, td', tr).map(text)),
    cases: $$('details.case').map(d => d.dataset.id),
    badOpen: bad ? bad.open : null,
    badStatuses: bad ? $$('summary .cstat', bad).map(text) : null,
    firstBadRow: bad && text(bad.querySelector('table.checks td.first-bad[data-client="chromium"]').closest('tr')),
    firstBad: bad && text(bad.querySelector('table.checks td.first-bad[data-client="chromium"]')),
    firefoxSameRow: bad && text(bad.querySelector('table.checks td.first-bad').parentElement.querySelector('td[data-client="firefox"]')),
    checkHead: bad && $$('table.checks thead th', bad).map(text),
    highlighted: run && $$('table.tl tr.hl', run).map(text),
    alignNote: run && text(run.querySelector('.align-note')),
    serverRows: run ? $$('table.tl tr.server', run).length : 0,
    clientRows: run ? $$('table.tl tr.client', run).length : 0,
    verdict: text(document.getElementById('verdict')),
    resources: performance.getEntriesByType('resource').length,
    shown: text(document.getElementById('shown')),
  };
})()"""

FILTER = r"""(async () => {
  const set = (sel, v) => { const el = document.querySelector(sel); el.value = v; el.dispatchEvent(new Event('change')); };
  const shown = () => Number(document.getElementById('shown').textContent);
  const visible = () => Array.from(document.querySelectorAll('details.case')).filter(d => !d.hidden).map(d => d.dataset.id);
  const out = {all: shown()};
  document.getElementById('f-unexpected').click();
  out.unexpected = visible();
  document.getElementById('f-unexpected').click();
  set('#f-client', 'firefox');
  out.firefoxColumns = Array.from(document.querySelectorAll('.case-head [data-client]')).filter(e => !e.hidden).map(e => e.dataset.client);
  document.querySelector('.f-status[value="PASS"]').click();
  out.firefoxNotPass = shown();
  set('#f-client', '');
  out.anyNotPass = visible();
  document.querySelector('.f-status[value="PASS"]').click();
  const t = document.getElementById('f-text'); t.value = 'TIMES OUT'; t.dispatchEvent(new Event('input'));
  out.text = visible();
  t.value = ''; t.dispatchEvent(new Event('input'));
  document.querySelector('a.mcell[data-pick-client="chromium"]').click();
  out.matrixClick = [document.getElementById('f-family').value, document.getElementById('f-client').value, shown()];
  return out;
})()"""


@pytest.fixture(scope="module")
def chromium():
    reason = browsers.available("chromium")
    if reason:
        pytest.skip(reason)
    b = browsers.launch("chromium")
    yield b
    b.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    shutil.copy(STREAM, out / "events.jsonl")
    build.build(out)
    return out


def test_index_html_renders_matrix_and_failing_detail(chromium, report, tmp_path):
    screenshot.open_page(chromium, report / "index.html", case="xhr/events/empty-body")
    dom = chromium.evaluate(DOM)
    assert dom["title"].startswith("Conformance report")
    assert dom["matrixHead"][0] == "family"
    assert dom["matrixHead"][1].startswith("chromium156.") and dom["matrixHead"][2].startswith("firefox153.")
    assert len(dom["matrixRows"]) == 1 and dom["matrixRows"][0][0] == "xhr"
    assert dom["matrixRows"][0][1].startswith("3/4 pass") and "1 unexpected" in dom["matrixRows"][0][1]
    assert dom["matrixRows"][0][2].startswith("4/4 pass")
    assert sorted(dom["cases"]) == ["xhr/abort/state/unsent", "xhr/error/reset-mid-body", "xhr/events/empty-body",
                                    "xhr/timeout/status-0"]
    assert dom["badOpen"] is True and dom["badStatuses"] == ["FAIL", "PASS"]
    assert dom["checkHead"] == ["line", "check", "rule", "expected", "chromium", "firefox"]
    assert dom["firstBadRow"].startswith("24 events no body bytes")
    assert dom["firstBad"].startswith("FAIL readystatechange(1) loadstart readystatechange(2) readystatechange(4)")
    assert "First difference: at event 4 (t=" in dom["firstBad"]
    assert dom["firefoxSameRow"] == "PASS"
    assert len(dom["highlighted"]) == 1 and "xhr.readystatechange(4)" in dom["highlighted"][0]
    assert "first difference: expected progress(loaded=0" in dom["highlighted"][0]
    assert dom["alignNote"].startswith("Clocks aligned. Server time; client times (grey, c …) shifted by +")
    assert "first request the server received (GET /empty at" in dom["alignNote"]
    assert dom["serverRows"] >= 3 and dom["clientRows"] >= 6
    assert dom["verdict"].startswith("✘ 1 unexpected failure")
    assert dom["resources"] == 0                         # nothing fetched: one offline file
    assert chromium.console_errors() == []
    png = chromium.screenshot(str(tmp_path / "index.png"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000


def test_index_html_filters(chromium, report):
    screenshot.open_page(chromium, report / "index.html")
    got = chromium.evaluate(FILTER)
    assert got["all"] == 4
    assert got["unexpected"] == ["xhr/events/empty-body"]
    assert got["firefoxColumns"] == ["firefox"]
    assert got["firefoxNotPass"] == 0                       # firefox passed everything
    assert got["anyNotPass"] == ["xhr/events/empty-body"]
    assert got["text"] == ["xhr/timeout/status-0"]          # matched on the title, case-insensitively
    assert got["matrixClick"] == ["xhr", "chromium", 4]
    assert chromium.console_errors() == []


def test_diff_page_renders(chromium, report, tmp_path):
    doc = json.loads((report / "report.json").read_text())
    changed = json.loads(json.dumps(doc))
    for r in changed["results"]:
        if r["client"] == "chromium" and r["test"] == "xhr/events/empty-body":
            r.update(expected="FAIL", unexpected=False)
    page = tmp_path / "diff.html"
    page.write_text(diff.html(diff.diff(doc, changed, "a.json", "b.json")))
    screenshot.open_page(chromium, page)
    got = chromium.evaluate("""(() => ({verdict: document.getElementById('verdict').textContent.trim(),
        rows: Array.from(document.querySelectorAll('section[data-client="chromium"] table.changed tbody tr'))
              .map(tr => tr.textContent.replace(/\\s+/g, ' ').trim()),
        resources: performance.getEntriesByType('resource').length}))()""")
    assert got["verdict"] == "1 difference"
    assert len(got["rows"]) == 1
    assert got["rows"][0].startswith("expectation xhr/events/empty-body FAIL→FAIL PASS→FAIL now as expected")
    assert got["resources"] == 0 and chromium.console_errors() == []


OPEN_EVERY_PART = r"""(async () => {
  const cases = Array.from(document.querySelectorAll('details.case'));
  const firsts = {};                                   // the first case of each part, and the last case
  cases.forEach(d => { if (!(d.dataset.part in firsts)) firsts[d.dataset.part] = d; });
  const pick = Object.values(firsts).concat([cases[cases.length - 1]]);
  pick.forEach(d => d.querySelector('summary').click());
  await new Promise(r => { const w = () => document.querySelector('details.case[open] .case-body[data-lazy]') ? setTimeout(w, 10) : r(); w(); });
  return {parts: Object.keys(firsts).length, opened: pick.map(d => ({
    id: d.dataset.id, checks: d.querySelectorAll('table.checks tbody tr').length,
    runs: d.querySelectorAll('section.run').length, timelines: d.querySelectorAll('table.tl').length}))};
})()"""


def test_cases_of_every_part_open(chromium, tmp_path):
    """A run of 204 cases ships its details in several gzipped parts; a case of each opens onto its checks,
    both clients' runs and their timelines."""
    from tests.self.test_reports_bodies import scaled_stream
    scaled_stream(tmp_path / "events.jsonl", 50)
    build.build(tmp_path)
    screenshot.open_page(chromium, tmp_path / "index.html")
    got = chromium.evaluate(OPEN_EVERY_PART)
    assert got["parts"] == 13                            # 204 cases, 16 a part
    for x in got["opened"]:
        assert x["checks"] >= 3 and x["runs"] == 2 and x["timelines"] >= 2, x
    assert chromium.console_errors() == []
