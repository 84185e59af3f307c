"""pytest plugin (entry point `pytest11`, name `minikafka`): Kafka brokers as fixtures.

Fixtures:
    kafka_broker        a clean broker for each test. One broker serves the whole session (per
                        xdist worker) and is reset between tests (POST /v1/control/reset: topics,
                        groups, offsets and fault rules deleted) where the broker has that route;
                        where it does not, each test gets a fresh broker, as below.
    fresh_kafka_broker  a new broker for this test only, stopped after it.
    make_kafka_broker   a factory: make_kafka_broker(partitions=3, auto_create_topics=False)
                        starts a broker with those options, stopped after the test.
    minikafka_options   override it (session scope) to give every broker above flags:
                        @pytest.fixture(scope="session")
                        def minikafka_options(): return {"default-partitions": 3}

Options:
    --minikafka-lib PATH      libminikafka.so.1 to load (default: minikafka.find_library())
    --minikafka-binary PATH   the minikafka binary; given alone, brokers run as subprocesses
    --minikafka-mode MODE     auto (default: the library if found, else the binary), library
                              or process

Safe under pytest-xdist: every worker process has its own brokers on ephemeral ports.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, Optional

import pytest

from . import Broker, find_binary, find_library


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("minikafka", "minikafka Kafka broker fixtures")
    group.addoption("--minikafka-lib", default=None, metavar="PATH",
                    help="libminikafka.so.1 to run brokers in-process (default: found automatically)")
    group.addoption("--minikafka-binary", default=None, metavar="PATH",
                    help="minikafka binary; given without --minikafka-lib, brokers run as subprocesses")
    group.addoption("--minikafka-mode", default=None, choices=("auto", "library", "process"),
                    help="auto (library if found, else binary), library or process")


def _settings(config: pytest.Config) -> Dict[str, Any]:
    lib = config.getoption("--minikafka-lib")
    binary = config.getoption("--minikafka-binary")
    mode = config.getoption("--minikafka-mode") or ("process" if binary and not lib else "auto")
    return {"lib": lib, "binary": binary, "mode": mode}


def pytest_report_header(config: pytest.Config) -> str:
    s = _settings(config)
    lib = find_library(s["lib"]) if s["mode"] != "process" else None
    where = f"in-process ({lib})" if lib else f"binary ({find_binary(s['binary'])})"
    return f"minikafka: brokers {where}"


@pytest.fixture(scope="session")
def minikafka_options() -> Dict[str, Any]:
    """Flags given to every broker the fixtures start (override in your conftest.py)."""
    return {}


@pytest.fixture(scope="session")
def make_kafka_broker_session(pytestconfig: pytest.Config, minikafka_options: Dict[str, Any]) -> Callable[..., Broker]:
    """Starts brokers with the session's settings (not stopped: the caller owns them)."""
    settings = _settings(pytestconfig)

    def make(**options: Any) -> Broker:
        return Broker(**settings, options={**minikafka_options, **options}).start()

    return make


@pytest.fixture
def make_kafka_broker(make_kafka_broker_session: Callable[..., Broker]) -> Iterator[Callable[..., Broker]]:
    """A factory of brokers stopped after the test: make_kafka_broker(partitions=3)."""
    started = []

    def make(partitions: Optional[int] = None, **options: Any) -> Broker:
        if partitions is not None:
            options["default-partitions"] = partitions
        b = make_kafka_broker_session(**options)
        started.append(b)
        return b

    yield make
    for b in reversed(started):
        b.stop()


@pytest.fixture(scope="session")
def _minikafka_session_broker(make_kafka_broker_session: Callable[..., Broker]) -> Iterator[Optional[Broker]]:
    """The session's broker when it can be reset between tests, else None."""
    b = make_kafka_broker_session()
    status, _ = b.request("POST", "/v1/control/reset", {}, check=False)
    if status >= 400:
        # No reset on this broker: kafka_broker falls back to a fresh broker per test.
        b.stop()
        yield None
        return
    yield b
    b.stop()


@pytest.fixture
def fresh_kafka_broker(make_kafka_broker_session: Callable[..., Broker]) -> Iterator[Broker]:
    """A broker of this test's own, stopped after it."""
    b = make_kafka_broker_session()
    yield b
    b.stop()


@pytest.fixture
def kafka_broker(_minikafka_session_broker: Optional[Broker],
                 make_kafka_broker_session: Callable[..., Broker]) -> Iterator[Broker]:
    """A clean broker: the session's, reset before the test, or a fresh one."""
    b = _minikafka_session_broker
    if b is not None:
        b.reset()
        yield b
        return
    b = make_kafka_broker_session()
    yield b
    b.stop()
