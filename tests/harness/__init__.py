"""Python side of the conformance harness (browser drivers; the pytest plugin lives beside it)."""
