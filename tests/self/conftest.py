"""Self-tests: make tests/ importable (the ``harness`` package) and register the markers used here."""

import pathlib
import sys

_TESTS = str(pathlib.Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser(name): the test drives browser engine `name` "
        "(chromium, firefox, webkit, webdriver); select with -k NAME")
