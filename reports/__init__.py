"""Report builders over a run's event stream (reports/SCHEMA.md).

    events.py        events.jsonl: its schema, its writer (EventStream, used by the pytest plugin) and reader
    model.py         events.jsonl -> one Run: facts, plan, a Result per (client, case) with its repetitions
    expectations.py  expectations files (EXPECTATIONS.md) and `classify`, the one expected/unexpected decision
    wptreport.py     report.json (wptreport-shaped) and its schema as code (`validate`)
    timeline.py      one verdict as a client/server timeline, the two clocks aligned (or not) and said how
    html.py          index.html (Jinja2, templates/), one offline page
    junit.py         junit.xml from the stream, for runs pytest could not finish
    build.py         all of the above for a report folder: `python3 -m reports.build DIR`
    diff.py          two report.json files compared: `python3 -m reports.diff A B [--html OUT]`
    screenshot.py    a PNG of a report page in headless Chromium
"""
