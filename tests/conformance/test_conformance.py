"""The conformance suite: every case × every client chosen with --client (see tests/harness/plugin.py)."""


def test_case(conformance_case, conformance_sessions, conformance_events):
    from harness.plugin import run_case
    run_case(conformance_case, conformance_sessions, conformance_events)
