"""The harness's pytest plugin and what it drives.

    plugin.py     the hooks: options, collection (tests/conformance and case files), the run's end, reports
    items.py      the conformance items: a case x a client x a repetition, with its markers and location
    run.py        one process's share of a run: case set, expectations, runner, sessions, an item's outcome
    session.py    client sessions: one client working through its cases, restarted after a crash or hang
    clients.py    browsers and adapter processes as session clients; adapters/ the library clients by name
    browsers/     real browsers driven over CDP, WebDriver BiDi or WebDriver, one small interface
    server.py     `runner serve` started or attached to, and its control protocol
    rawhttp.py    a raw-socket HTTP client for the self-tests
"""
