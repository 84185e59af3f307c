"""The package's own tests. When the package is installed (entry point `minikafka` in group
pytest11), pytest loads the plugin by itself; run from the source tree (PYTHONPATH=python) it
is loaded here."""

import importlib.metadata
import time

import pytest


def _plugin_installed() -> bool:
    try:
        return any(ep.name == "minikafka" for ep in importlib.metadata.entry_points(group="pytest11"))
    except Exception:  # noqa: BLE001
        return False


pytest_plugins = [] if _plugin_installed() else ["minikafka.pytest_plugin"]


def wait_until(predicate, timeout=15.0, interval=0.02, message=""):
    """Polls predicate() until it returns a truthy value (returned); fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out waiting for {message or predicate}: last value {last!r}")


@pytest.fixture
def wait():
    return wait_until
