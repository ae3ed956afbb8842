"""Self-tests: the markers used here."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser(name): the test drives browser engine `name` "
        "(chromium, firefox, webkit, webdriver); select with -k NAME")
