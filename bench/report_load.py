"""How soon a report page is usable in headless Chromium: prints figures, asserts nothing.

    /usr/bin/python3 bench/report_load.py [--rounds 5] [--case ID] PAGE.html...

Per page and round (a fresh navigation from about:blank to file://PAGE): the page's own Navigation Timing
(`dom_interactive_ms`, `load_ms` = loadEventEnd; the page's script has bound every row by then, so that is when
a row can be opened), the wall time from the navigation command to the load event seen over CDP
(`wall_load_ms`), and the time from opening a case (its row's summary clicked) until its details are in the
DOM (`open_case_ms`; the first failing case unless --case). One JSON line per page with the medians, run from
the repository's root. Wrap it in the shared lock (README, "Speed").
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reports.screenshot import LOADED  # noqa: E402
from tests.harness import browsers  # noqa: E402

TIMING = """(() => { const n = performance.getEntriesByType('navigation')[0];
  return {dom_interactive_ms: n.domInteractive, load_ms: n.loadEventEnd}; })()"""

# Click the case's row and wait until its body is in (the slot loses data-lazy then; the pages before bodies
# were compressed filled it on the toggle event, these when its part is unpacked).
OPEN = """(async () => {
  const want = %s;
  const cases = Array.from(document.querySelectorAll('details.case'));
  const d = want ? cases.find(x => x.dataset.id === want)
                 : cases.find(x => / (FAIL|TIMEOUT|ERROR|CRASH)/.test(' ' + x.dataset.st.replace(/\\S+=/g, ' '))) || cases[0];
  const t0 = performance.now();
  d.querySelector('summary').click();
  await new Promise(r => { const w = () => d.querySelector('.case-body[data-lazy]') ? setTimeout(w, 1) : r(); w(); });
  return {case: d.dataset.id, open_case_ms: performance.now() - t0,
          filled_chars: d.querySelector('.case-body').innerHTML.length};
})()"""


def measure(b, page: Path, case: str | None) -> dict:
    b.navigate("about:blank")
    t0 = time.monotonic()
    b.navigate(page.resolve().as_uri())
    b.evaluate(LOADED, timeout=120)
    wall = (time.monotonic() - t0) * 1000
    out = b.evaluate(TIMING)
    out["wall_load_ms"] = wall
    out.update(b.evaluate(OPEN % json.dumps(case), timeout=120))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pages", nargs="+", type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--case")
    a = ap.parse_args(argv)
    b = browsers.launch("chromium")
    try:
        for page in a.pages:
            rounds = [measure(b, page, a.case) for _ in range(a.rounds)]
            row = {"page": str(page), "bytes": page.stat().st_size, "rounds": a.rounds, "case": rounds[0]["case"]}
            for k in ("dom_interactive_ms", "load_ms", "wall_load_ms", "open_case_ms"):
                row[k] = round(statistics.median(r[k] for r in rounds), 1)
            row["filled_chars"] = rounds[0]["filled_chars"]
            print(json.dumps(row), flush=True)
        errors = b.console_errors()
    finally:
        b.close()
    for e in errors:
        print(f"console error: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
