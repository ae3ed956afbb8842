"""The conformance suite: every case of the case set × every client chosen with --client (tests/harness/plugin.py)."""
from tests.harness.run import conformance


def test_case(conformance_case, request):
    conformance(request.config).run_item(request.node)
