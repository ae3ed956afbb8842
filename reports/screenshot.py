"""A PNG of a report page in headless Chromium (the harness's drivers, tests/harness/browsers), e.g. for the README:

    /usr/bin/python3 -m reports.screenshot reports/out/index.html docs/report.png --case xhr/events/empty-body

With --case the page opens that case (index.html#case=ID) and scrolls to it; the shot is of the viewport
(--width × --height), or of the whole page with --full-page.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

LOADED = ("new Promise(r => document.readyState === 'complete' ? r(true) "
          ": addEventListener('load', () => r(true)))")
# index.html unpacks an opened case's details asynchronously (reports/html.py): wait until no open case waits.
FILLED = ("new Promise(r => { const w = () => document.querySelector('details.case[open] .case-body[data-lazy]') "
          "? setTimeout(w, 10) : r(true); w(); })")


def browsers():
    from tests.harness import browsers as b  # the harness's browser drivers (a report needs none to be built)
    return b


def open_page(browser, page: Path, case: str | None = None, width=1400, height=1000):
    """Navigate `browser` (a launched Chromium) to the report, sized, loaded, the case opened if given."""
    browser.screenshot(width=width, height=height)          # sets the viewport (about:blank is fine)
    url = Path(page).resolve().as_uri()
    if case:
        from urllib.parse import quote
        url += "#case=" + quote(case, safe="/")
    browser.navigate(url)
    browser.evaluate(LOADED)
    browser.evaluate(FILLED)
    time.sleep(0.2)                                          # one more frame for the scroll to the case


def capture(page: Path, out: Path, case: str | None = None, width=1400, height=1000, full_page=False) -> list:
    """Writes the PNG; returns the page's console errors (there should be none)."""
    b = browsers().launch("chromium")
    try:
        open_page(b, page, case, width, height)
        b.screenshot(str(out), full_page=full_page)
        return b.console_errors()
    finally:
        b.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m reports.screenshot", description=__doc__.split("\n\n")[0])
    ap.add_argument("page", help="index.html (or a diff page)")
    ap.add_argument("out", help="the PNG to write")
    ap.add_argument("--case", help="open this case first")
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--height", type=int, default=1000)
    ap.add_argument("--full-page", action="store_true")
    a = ap.parse_args(argv)
    errors = capture(Path(a.page), Path(a.out), a.case, a.width, a.height, a.full_page)
    print(f"{a.out} ({Path(a.out).stat().st_size:,} bytes)")
    for e in errors:
        print(f"console error: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
