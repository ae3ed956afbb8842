# The harness's pytest plugin, for every run in this checkout: tests/conformance, case files anywhere under
# cases/ (`pytest cases/sse`), the self-tests. pytest puts this folder on sys.path for this file, so the
# `tests` and `reports` packages import from here; an installed package registers the same module through its
# pytest11 entry point (pyproject.toml), under the same name, so it is not registered twice.
pytest_plugins = ["tests.harness.plugin"]
