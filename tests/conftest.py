# The harness's pytest plugin (options, case items, client sessions, the event stream).
pytest_plugins = ["harness.plugin"]
