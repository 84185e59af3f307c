"""Shared fixture for minikafka's real-client end-to-end suites.

Starts the broker named by $MINIKAFKA_BIN on an ephemeral port, reads its start-up banner
("kafka HOST:PORT" as the first stdout line, one per broker), exposes the bootstrap address and
stops it with SIGTERM, asserting a clean exit (exit code 0).

Several brokers (`--brokers N` in the broker's arguments, or MINIKAFKA_BROKERS=N in the
environment, which the broker reads too) print N "kafka HOST:PORT" lines in broker id order;
`Broker.bootstraps` lists them and `Broker.bootstrap` is all of them comma-separated (one
address with one broker, as before).

With --port 0 the broker also binds its HTTP admin API to an ephemeral port and prints
"admin http://HOST:PORT" as the line after the "kafka" lines (in the same flush).
`Broker.admin_url()` returns that URL (None when the broker prints no such line: the anchor, or
a broker started with --admin-port -1); the line is consumed by the fixture and never reaches
the anchor's control-channel replies.

The same suites run against the anchor broker (bench/rdkafka_mock_broker, librdkafka's mock
cluster). It is recognised by its file name (or MINIKAFKA_ANCHOR=1); for it any exit code is
accepted, and `create_topic_for_test` uses its stdin control channel instead of the admin API,
because the mock cluster has no CreateTopics. Tests that are *about* the admin API always use
the client's admin API, so they fail against the anchor by design.

Run the suites with Debian's interpreter (/usr/bin/python3): it has kafka-python and
confluent-kafka.
"""

import ctypes
import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid

BANNER_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 15.0
# A watchdog per test: a hung client call dumps every thread's stack and ends the process
# well before ctest's own timeout, so the log says where it hung.
TEST_WATCHDOG_S = float(os.environ.get("MINIKAFKA_TEST_WATCHDOG_S", "60"))


def wait_until(predicate, timeout=10.0, interval=0.05, message=None):
    """Polls predicate() until it returns a truthy value, which is returned.

    Raises AssertionError (a test failure) with `message` and the last value or exception
    when `timeout` seconds pass first. This is the only way the suites wait for something:
    never a bare sleep.
    """
    deadline = time.monotonic() + timeout
    last = None
    last_exc = None
    while True:
        try:
            last = predicate()
            last_exc = None
            if last:
                return last
        except Exception as exc:  # noqa: BLE001 - report the last failure on timeout
            last_exc = exc
        if time.monotonic() >= deadline:
            detail = f"last exception: {last_exc!r}" if last_exc else f"last value: {last!r}"
            raise AssertionError(
                f"timed out after {timeout:.1f}s waiting for {message or predicate}: {detail}")
        time.sleep(interval)


def unique_name(prefix):
    """A topic name unique to one test (Kafka-legal characters only)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def http_json(base_url, method, path, body=None, timeout=15.0):
    """One call to the broker's HTTP admin API: returns (status, parsed JSON body or None).

    `body` (a dict or list) is sent as JSON. Error statuses are returned, not raised.
    """
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(base_url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw.decode("utf-8")) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def broker_binary():
    path = os.environ.get("MINIKAFKA_BIN")
    if not path:
        raise RuntimeError(
            "MINIKAFKA_BIN is not set (point it at build/broker/minikafka, or at "
            "build/bench/rdkafka_mock_broker for the anchor)")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"MINIKAFKA_BIN={path} is not an executable file")
    return path


def expected_brokers(args, env=None):
    """How many "kafka" banner lines a broker started with `args` (and environment `env`,
    default os.environ) prints: --brokers, else MINIKAFKA_BROKERS, else 1."""
    args = list(args)
    for i, a in enumerate(args):
        if a == "--brokers" and i + 1 < len(args):
            return int(args[i + 1])
        if a.startswith("--brokers="):
            return int(a.split("=", 1)[1])
    return int((os.environ if env is None else env).get("MINIKAFKA_BROKERS", "1") or "1")


def _set_parent_death_signal():
    """Runs in the child before exec: SIGTERM the broker if the test process dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


class Broker:
    """One broker process on 127.0.0.1, ephemeral port."""

    def __init__(self, extra_args=(), binary=None):
        self.binary = binary or broker_binary()
        self.extra_args = list(extra_args)
        self.is_anchor = (os.path.basename(self.binary).startswith("rdkafka_mock_broker")
                          or os.environ.get("MINIKAFKA_ANCHOR") == "1")
        self.proc = None
        self.bootstrap = None
        self.bootstraps = []  # "HOST:PORT" of each broker, in id order
        self.listeners = []
        # The anchor is one broker whatever MINIKAFKA_BROKERS says.
        self.broker_count = 1 if self.is_anchor else expected_brokers(self.extra_args)
        self._lines = queue.Queue()
        self._stderr = None
        self._ctl_lock = threading.Lock()
        # The optional "admin http://HOST:PORT" banner line (the stdout line right after the
        # "kafka" ones); _admin_known is set once it is known whether the broker printed it.
        self._admin_url = None
        self._admin_known = threading.Event()

    # -- lifecycle --------------------------------------------------------------------------
    def start(self):
        args = [self.binary, "--port", "0", "--host", "127.0.0.1", *self.extra_args]
        self._stderr = tempfile.TemporaryFile(prefix="minikafka-stderr-")
        self.proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            preexec_fn=_set_parent_death_signal, bufsize=0)
        threading.Thread(target=self._read_stdout, daemon=True).start()
        try:
            first = self._lines.get(timeout=BANNER_TIMEOUT_S)
        except queue.Empty:
            first = None
        if first is None or not first.startswith("kafka "):
            self._kill()
            raise RuntimeError(
                f"{' '.join(args)} did not print 'kafka HOST:PORT' as its first stdout line "
                f"within {BANNER_TIMEOUT_S:.0f}s (got {first!r}); exit code {self.proc.returncode}; "
                f"stderr:\n{self.stderr_text()}")
        self.bootstraps.append(first.split(None, 1)[1].strip())
        self.listeners.append(first)
        for _ in range(self.broker_count - 1):
            try:
                line = self._lines.get(timeout=BANNER_TIMEOUT_S)
            except queue.Empty:
                line = None
            if line is None or not line.startswith("kafka "):
                self._kill()
                raise RuntimeError(
                    f"{' '.join(args)} printed {line!r} where the 'kafka HOST:PORT' line of broker "
                    f"{len(self.bootstraps) + 1} of {self.broker_count} was expected; stderr:\n"
                    f"{self.stderr_text()}")
            self.bootstraps.append(line.split(None, 1)[1].strip())
            self.listeners.append(line)
        self.bootstrap = ",".join(self.bootstraps)
        return self

    def _read_stdout(self):
        index = 0
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            index += 1
            if index == self.broker_count + 1 and not self._admin_known.is_set():
                if line.startswith("admin "):
                    self._admin_url = line.split(None, 1)[1].strip().rstrip("/")
                    self._admin_known.set()
                    continue
                self._admin_known.set()  # the second line is something else: no admin API
            self._lines.put(line)
        self._admin_known.set()
        self._lines.put(None)  # EOF

    def admin_url(self, timeout=BANNER_TIMEOUT_S):
        """The HTTP admin API's base URL ("http://HOST:PORT") from the banner, or None.

        Waits (up to `timeout`) for the banner's second line only when it has not been read
        yet; the broker prints both lines in one flush, so that is immediate in practice. A
        broker that prints no admin line (and no second line at all) returns None after
        `timeout`.
        """
        self._admin_known.wait(timeout)
        return self._admin_url

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr_text(self, tail=8000):
        if self._stderr is None:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        data = self._stderr.read().decode("utf-8", "replace")
        return data[-tail:]

    def stop(self):
        """SIGTERM, wait, and return the exit code (raises if it does not exit in time)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._kill()
                raise AssertionError(
                    f"broker did not exit within {STOP_TIMEOUT_S:.0f}s of SIGTERM; stderr:\n"
                    f"{self.stderr_text()}")
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        return self.proc.returncode

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    # -- anchor-only helpers ---------------------------------------------------------------
    def anchor_create_topic(self, name, partitions):
        """Creates a topic through the anchor's stdin control channel."""
        assert self.is_anchor, "the control channel exists only on the anchor"
        with self._ctl_lock:
            self.proc.stdin.write(f"topic {name} {partitions}\n".encode())
            self.proc.stdin.flush()
            deadline = time.monotonic() + 10
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"anchor did not confirm topic {name}")
                line = self._lines.get(timeout=left)
                if line is None:
                    raise AssertionError(f"anchor exited; stderr:\n{self.stderr_text()}")
                if line == f"ok topic {name}":
                    return
                if line.startswith(f"err topic {name}"):
                    raise AssertionError(f"anchor could not create {name}: {line}")


class BrokerTestCase(unittest.TestCase):
    """One broker per test class (each suite is one process, so suites run in parallel).

    Every test uses its own uniquely named topics, so tests are independent of each other and
    of their order. tearDownClass stops the broker with SIGTERM and asserts exit code 0 (any
    code for the anchor). setUp fails fast, with the broker's stderr, if a previous test
    crashed the broker.
    """

    broker_args = ()
    broker = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.broker = Broker(cls.broker_args).start()
        cls.bootstrap = cls.broker.bootstrap

    @classmethod
    def tearDownClass(cls):
        broker, cls.broker = cls.broker, None
        if broker is not None:
            code = broker.stop()
            if not broker.is_anchor and code != 0:
                raise AssertionError(
                    f"broker exited with code {code} after SIGTERM (expected 0); stderr:\n"
                    f"{broker.stderr_text()}")
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if not self.broker.alive():
            self.fail(f"broker is not running (exit code {self.broker.proc.returncode}); "
                      f"stderr:\n{self.broker.stderr_text()}")
        if TEST_WATCHDOG_S > 0:
            import faulthandler
            faulthandler.dump_traceback_later(TEST_WATCHDOG_S, exit=True)
            self.addCleanup(faulthandler.cancel_dump_traceback_later)
        self._closers = []

    def tearDown(self):
        # Close clients (newest first) even when the test failed.
        for close in reversed(self._closers):
            try:
                close()
            except Exception:  # noqa: BLE001 - closing must not mask the test's result
                pass
        if not self.broker.alive():
            self.fail(f"broker died during {self.id()} (exit code {self.broker.proc.returncode}); "
                      f"stderr:\n{self.broker.stderr_text()}")
        super().tearDown()

    def closing(self, client, close=None):
        """Registers client.close (or `close`) to run at tearDown; returns the client."""
        self._closers.append(close or client.close)
        return client

    def topic_name(self, prefix=None):
        return unique_name(prefix or self._testMethodName.replace("_", "-")[:40])
