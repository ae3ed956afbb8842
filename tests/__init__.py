"""The harness's Python side beside its tests: `tests.harness` is the pytest plugin (tests/harness/plugin.py)
and what it drives (the runner, client sessions, browsers, library adapters); `tests.conformance` is the
conformance suite, `tests.self` the harness's own tests. The report builders are the `reports` package."""
