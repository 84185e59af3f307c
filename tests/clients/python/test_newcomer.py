#!/usr/bin/python3
"""What a new user runs into in the first hour (issue 11), through the `minikafka` binary:

* two brokers on one machine (the default admin port is taken by the first one), bind failures
  that name the listener, its address and the flag that moves it;
* logging that never stalls the broker (an unread stderr pipe), --log-file, --log-format json,
  quiet per-request lines by default;
* settings that used to be ignored silently (--data-dir without --storage, unknown config-file
  keys and environment variables), --version, exit codes 1 and 2;
* internal topic names (__consumer_offsets) through real clients.

Run:  MINIKAFKA_BIN=build/broker/minikafka /usr/bin/python3 tests/clients/python/test_newcomer.py
"""

import http.client
import json
import os
import queue
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka import KafkaException  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic as CkNewTopic  # noqa: E402
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402
from kafka.errors import InvalidRequestError  # noqa: E402

from mkfixture import BrokerTestCase, broker_binary, unique_name, wait_until  # noqa: E402

START_TIMEOUT_S = 15
DEFAULT_ADMIN_PORT = 9644
KAFKA_PYTHON = dict(api_version_auto_timeout_ms=5000)


def free_port():
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def occupied_port():
    """A listening socket on an ephemeral port (close it when done) and its port."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s, s.getsockname()[1]


def run(args, env=None, timeout=START_TIMEOUT_S):
    """Runs the binary to completion (for arguments that must make it exit at once)."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([broker_binary(), *args], capture_output=True, text=True, env=full_env,
                          timeout=timeout)


class Process:
    """`minikafka ARGS` with its banner read; stderr goes to a file unless `stderr` is given.

    `start()` returns once the banner ("kafka HOST:PORT" and, when there is one, "admin
    http://HOST:PORT") has been read, or raises with the process's stderr.
    """

    def __init__(self, args, env=None, stderr=None):
        self.args = [broker_binary(), *args]
        self.env = dict(os.environ, **(env or {}))
        self._stderr_file = None if stderr is not None else tempfile.TemporaryFile()
        self._stderr_arg = stderr if stderr is not None else self._stderr_file
        self.proc = None
        self.bootstrap = None
        self.admin = None
        self._lines = queue.Queue()

    def start(self):
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr_arg, env=self.env)
        threading.Thread(target=self._read_stdout, daemon=True).start()
        first = self._line()
        if not first or not first.startswith("kafka "):
            self.kill()
            raise AssertionError(f"{self.args} printed {first!r}, not 'kafka HOST:PORT'; exit code "
                                 f"{self.proc.returncode}; stderr:\n{self.stderr_text()}")
        self.bootstrap = first.split()[1]
        second = self._line()
        while second and second.startswith("kafka "):  # one per broker with MINIKAFKA_BROKERS=N
            second = self._line()  # (any broker answers what these tests ask: the first will do)
        if second and second.startswith("admin "):
            self.admin = second.split()[1]
        return self

    def _read_stdout(self):
        for raw in iter(self.proc.stdout.readline, b""):
            self._lines.put(raw.decode().rstrip("\n"))
        self._lines.put(None)

    def _line(self):
        try:
            return self._lines.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            return None

    def admin_port(self):
        return int(self.admin.rsplit(":", 1)[1])

    def stderr_text(self):
        if self._stderr_file is None:
            return "(stderr is the caller's pipe, or closed)"
        self._stderr_file.seek(0)
        return self._stderr_file.read().decode("utf-8", "replace")

    def stop(self, timeout=15):
        """SIGTERM; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self):
        """Kills the process if it still runs and closes its pipes (always called at the end)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            for f in (self.proc.stdout, self.proc.stderr):
                if f is not None:
                    f.close()
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None


def http_get(admin_url, path, timeout=10):
    host, port = admin_url.replace("http://", "").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def metadata_request(bootstrap, topic, correlation_id, timeout=5):
    """One Kafka Metadata v1 request for `topic` on a new connection; returns the correlation id
    of the answer. A raw request, so that each one is its own connection (and log lines)."""
    host, port = bootstrap.split(",")[0].rsplit(":", 1)  # the first broker of several
    client_id = b"newcomer-test"
    name = topic.encode()
    body = struct.pack(">hhih", 3, 1, correlation_id, len(client_id)) + client_id
    body += struct.pack(">ih", 1, len(name)) + name
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        head = b""
        while len(head) < 8:
            chunk = s.recv(8 - len(head))
            if not chunk:
                raise AssertionError("connection closed before the Metadata answer")
            head += chunk
        size, cid = struct.unpack(">ii", head)
        left = size - 4
        while left > 0:
            chunk = s.recv(min(left, 65536))
            if not chunk:
                raise AssertionError("connection closed in the middle of the Metadata answer")
            left -= len(chunk)
        return cid


class ProcessTestCase(unittest.TestCase):
    def start_broker(self, args, env=None, stderr=None):
        """A started Process, killed and closed when the test ends."""
        b = Process(args, env=env, stderr=stderr)
        self.addCleanup(b.kill)
        return b.start()


# ---------------------------------------------------------------------------------------------
class TwoBrokersTest(ProcessTestCase):
    """Listeners: the default admin port moves when it is taken; explicit ports never do."""

    def test_two_brokers_with_different_ports_both_come_up(self):
        """`minikafka --port A & minikafka --port B`: both serve; the one that did not get 9644
        (both, if something else holds it) says on stderr which admin port it took instead."""
        brokers = [self.start_broker(["--port", str(free_port())]) for _ in range(2)]
        self.assertNotEqual(brokers[0].admin_port(), brokers[1].admin_port())
        self.assertNotEqual(brokers[1].admin_port(), DEFAULT_ADMIN_PORT)  # only the first can have it
        for b in brokers:
            status, _ = http_get(b.admin, "/health")
            self.assertEqual(status, 200)
            consumer = KafkaConsumer(bootstrap_servers=b.bootstrap, **KAFKA_PYTHON)
            try:
                self.assertIsInstance(consumer.topics(), set)
            finally:
                consumer.close()
            if b.admin_port() != DEFAULT_ADMIN_PORT:
                self.assertRegex(b.stderr_text(),
                                 rf"admin API: port {DEFAULT_ADMIN_PORT} on 127\.0\.0\.1 is in use.*"
                                 rf"listens on port {b.admin_port()} instead; --admin-port")
            else:
                self.assertNotIn("is in use", b.stderr_text())
        for b in brokers:
            self.assertEqual(b.stop(), 0, b.stderr_text())

    def test_kafka_port_in_use_names_the_kafka_listener_and_port_flag(self):
        holder, port = occupied_port()
        with holder:
            r = run(["--port", str(port), "--admin-port", "0"])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, "", "no banner when a listener cannot start")
        self.assertIn(f"cannot start the Kafka listener on 127.0.0.1:{port}: Address already in use", r.stderr)
        self.assertIn("--port moves the Kafka listener", r.stderr)

    def test_explicit_admin_port_in_use_is_an_error_naming_the_admin_listener(self):
        """--admin-port, MINIKAFKA_ADMIN_PORT and a config file's admin-port are all explicit:
        no fallback, exit 1, the message names the admin listener and --admin-port."""
        holder, port = occupied_port()
        with holder, tempfile.NamedTemporaryFile("w", suffix=".toml") as conf:
            conf.write(f"admin-port = {port}\n")
            conf.flush()
            for args, env in ((["--admin-port", str(port)], None),
                              ([], {"MINIKAFKA_ADMIN_PORT": str(port)}),
                              (["--config", conf.name], None)):
                with self.subTest(args=args, env=env):
                    r = run(["--port", "0", *args], env=env)
                    self.assertEqual(r.returncode, 1, r.stderr)
                    self.assertEqual(r.stdout, "")
                    self.assertIn(f"cannot start the HTTP admin API listener on 127.0.0.1:{port}: "
                                  "Address already in use", r.stderr)
                    self.assertIn("--admin-port moves the admin API", r.stderr)


# ---------------------------------------------------------------------------------------------
class LoggingTest(ProcessTestCase):
    """Log output never makes the broker wait; --log-file, --log-format json, quiet defaults."""

    ROUNDS = 3000  # each: one topic created over HTTP and one Metadata request on a new connection

    def drive(self, b, rounds, prefix):
        """Topic creation over HTTP (one keep-alive connection) and Kafka Metadata requests, each
        on a new connection; every answer must come within the sockets' 5 s timeout."""
        host, port = b.admin.replace("http://", "").rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        try:
            for i in range(rounds):
                name = f"{prefix}-{i}"
                conn.request("POST", "/v1/topics", body=json.dumps({"name": name, "partitions": 1}),
                             headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                self.assertEqual(r.status, 201, f"round {i}")
                self.assertEqual(metadata_request(b.bootstrap, name, i), i)
        finally:
            conn.close()

    def test_unread_stderr_pipe_does_not_stall_the_broker(self):
        """stderr=PIPE, never read, --log-level debug (lines per connection and per topic): the
        broker keeps answering through thousands of requests, far past the pipe's 64 KB. Once
        the pipe is read, the dropped lines are reported."""
        b = self.start_broker(["--port", "0", "--log-level", "debug"], stderr=subprocess.PIPE)
        self.drive(b, self.ROUNDS, unique_name("pipe"))
        # Now read the pipe: the lines that did not fit are reported as dropped.
        seen = []
        reader = threading.Thread(target=lambda: seen.extend(iter(b.proc.stderr.readline, b"")), daemon=True)
        reader.start()
        wait_until(lambda: any(b"log lines dropped" in line for line in list(seen)), timeout=10,
                   message="a 'N log lines dropped' line once stderr is read")
        self.assertEqual(b.stop(), 0)
        reader.join(timeout=10)
        dropped = [line for line in seen if b"log lines dropped" in line]
        self.assertRegex(dropped[0].decode(), r"\[warning\] \d+ log lines dropped")

    def test_sigterm_while_the_log_pipe_is_blocked_still_exits(self):
        """SIGTERM with every log line stuck behind a full, unread pipe: the broker exits (its
        log worker is given about a second, then left behind) with code 0."""
        b = self.start_broker(["--port", "0", "--log-level", "debug"], stderr=subprocess.PIPE)
        self.drive(b, 1000, unique_name("blocked"))
        self.assertEqual(b.stop(timeout=10), 0)

    def test_log_file_in_json(self):
        """--log-file PATH --log-format json: one JSON object per line (time, level, logger,
        message) in the file; nothing on stderr but errors."""
        d = tempfile.mkdtemp(prefix="minikafka-log-")
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        path = os.path.join(d, "broker.log")
        b = self.start_broker(["--port", "0", "--log-level", "debug", "--log-format", "json", "--log-file", path])
        topic = unique_name("json")
        self.drive(b, 3, topic)
        # A request with an unknown API key is logged (warn) with its client id: here one that is
        # not UTF-8 and holds a newline, which must not break the file's JSON lines.
        client_id = b"bad\xff\xfe\nid"
        frame = struct.pack(">hhih", 999, 0, 1, len(client_id)) + client_id
        host, port = b.bootstrap.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(struct.pack(">i", len(frame)) + frame)
            self.assertEqual(s.recv(1), b"", "the broker closes the connection")
        self.assertEqual(b.stop(), 0)
        self.assertEqual(b.stderr_text(), "")
        with open(path, encoding="utf-8") as f:  # strict: the file is valid UTF-8
            records = [json.loads(line) for line in f]
        for rec in records:
            self.assertEqual(set(rec), {"time", "level", "logger", "message"}, rec)
            self.assertRegex(rec["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(rec["level"], {"trace", "debug", "info", "warn", "error", "critical"})
            self.assertEqual(rec["logger"], "minikafka")
        messages = [(r["level"], r["message"]) for r in records]
        self.assertTrue(any(level == "debug" and m.startswith(f"created topic {topic}-0 ") for level, m in messages),
                        messages)
        self.assertTrue(any(level == "debug" and m.endswith("connection opened") for level, m in messages))
        self.assertTrue(any(m.startswith("node 1 serving Kafka on 127.0.0.1:") for _, m in messages))
        self.assertTrue(any(level == "warn" and m.endswith("from client 'bad\ufffd\ufffd\nid'") for level, m in messages),
                        messages[-5:])

    def test_log_file_errors_also_reach_stderr(self):
        d = tempfile.mkdtemp(prefix="minikafka-log-")
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        path = os.path.join(d, "broker.log")
        holder, port = occupied_port()
        with holder:
            r = run(["--port", str(port), "--admin-port", "-1", "--log-file", path])
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot start the Kafka listener", r.stderr)
        with open(path, encoding="utf-8") as f:
            self.assertIn("cannot start the Kafka listener", f.read())

    def test_unwritable_log_file_is_a_startup_failure(self):
        r = run(["--port", "0", "--log-file", "/nonexistent-dir/broker.log"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot open --log-file /nonexistent-dir/broker.log", r.stderr)

    def test_default_level_has_no_per_request_lines(self):
        b = self.start_broker(["--port", "0"])
        self.drive(b, 20, unique_name("quiet"))
        self.assertEqual(b.stop(), 0)
        err = b.stderr_text()
        self.assertNotIn("created topic", err)
        self.assertNotIn("connection opened", err)
        self.assertIn("serving Kafka on", err)


# ---------------------------------------------------------------------------------------------
class SettingsTest(ProcessTestCase):
    """Settings are applied or refused, never silently ignored; exit codes 0, 1, 2."""

    def test_version(self):
        r = run(["--version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^minikafka \d+\.\d+\.\d+\n$")

    def test_help_documents_exit_codes_and_the_data_dir_rule(self):
        r = run(["--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("Exit codes: 0", r.stdout)
        self.assertIn("implies --storage rocksdb", r.stdout)
        for flag in ("--log-file", "--log-format", "--version"):
            self.assertIn(flag, r.stdout)

    def test_usage_errors_exit_2_with_a_message(self):
        cases = [
            (["--prot", "5"], "unknown option --prot (did you mean --port?)"),
            (["--port", "abc"], "--port"),
            (["--log-format", "xml"], "--log-format"),
            (["topicz"], "did you mean 'topics'?"),
            (["--storage", "memory", "--data-dir", "/tmp/x"], "--data-dir /tmp/x would be ignored"),
            (["--sync"], "--sync applies to --storage rocksdb only"),
            (["--storage", "rocksdb"], "--storage rocksdb needs --data-dir"),
            (["--config", "/nonexistent/minikafka.toml"], "/nonexistent/minikafka.toml"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                r = run(args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(message, r.stderr)
                self.assertIn("minikafka --help", r.stderr)
                self.assertEqual(r.stdout, "")

    def test_unknown_config_keys_are_refused_with_the_nearest_name(self):
        for line, key, nearest in (("prot = 5", "prot", "port"),
                                   ('data_dir = "/tmp/x"', "data_dir", "data-dir"),
                                   ("log-levle = \"debug\"", "log-levle", "log-level")):
            with self.subTest(line=line), tempfile.NamedTemporaryFile("w", suffix=".toml") as conf:
                conf.write("default-partitions = 2\n" + line + "\n")
                conf.flush()
                r = run(["--port", "0", "--config", conf.name])
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(f"unknown key '{key}' in config file {conf.name} (did you mean '{nearest}'?", r.stderr)

    def test_data_dir_alone_means_rocksdb(self):
        d = tempfile.mkdtemp(prefix="minikafka-data-")
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        for args, env in ((["--data-dir", d], None), ([], {"MINIKAFKA_DATA_DIR": d})):
            with self.subTest(args=args, env=env):
                b = self.start_broker(["--port", "0", *args], env=env)
                status, body = http_get(b.admin, "/v1/cluster")
                self.assertEqual(status, 200)
                self.assertEqual(json.loads(body)["storage"], "rocksdb")
                self.assertEqual(b.stop(), 0)
                self.assertIn("storage: rocksdb, because --data-dir is given without --storage", b.stderr_text())

    def test_data_dir_from_the_environment_with_memory_storage_is_reported_not_refused(self):
        """docker/docker-compose.yml sets MINIKAFKA_DATA_DIR and picks the backend with
        MINIKAFKA_STORAGE alone: memory then starts, saying that the data directory is unused."""
        b = self.start_broker(["--port", "0"], env={"MINIKAFKA_STORAGE": "memory", "MINIKAFKA_DATA_DIR": "/nonexistent"})
        status, body = http_get(b.admin, "/v1/cluster")
        self.assertEqual(json.loads(body)["storage"], "memory")
        self.assertEqual(b.stop(), 0)
        self.assertIn("MINIKAFKA_DATA_DIR is set but ignored: it applies to --storage rocksdb only", b.stderr_text())

    def test_unknown_environment_variable_is_warned_about(self):
        b = self.start_broker(["--port", "0"], env={"MINIKAFKA_PROT": "5"})
        self.assertEqual(b.stop(), 0)
        self.assertIn("environment variable MINIKAFKA_PROT is not a minikafka setting and is ignored "
                      "(did you mean MINIKAFKA_PORT?)", b.stderr_text())


# ---------------------------------------------------------------------------------------------
class InternalTopicsTest(BrokerTestCase):
    """__consumer_offsets and __transaction_state are Kafka's internal topics: a client cannot
    create them (INVALID_REQUEST, as Kafka 3.9 answers for its reserved __cluster_metadata), so they
    never show up as ordinary topics in a client's topic list."""

    def test_kafka_python_cannot_create_internal_topics_and_does_not_list_them(self):
        admin = self.closing(KafkaAdminClient(bootstrap_servers=self.bootstrap, **KAFKA_PYTHON))
        for name in ("__consumer_offsets", "__transaction_state", "__cluster_metadata"):
            with self.subTest(name=name):
                with self.assertRaises(InvalidRequestError) as cm:
                    admin.create_topics([NewTopic(name, 1, 1)], timeout_ms=10000)
                self.assertIn(f"error_message='Creation of internal topic {name} is prohibited.'", str(cm.exception))
        # A group commits offsets (the coordinator keeps them, not a topic), and the topic list
        # stays free of internal names, as in Kafka (where kafka-python leaves them out).
        topic = self.topic_name("after-commit")
        producer = self.closing(KafkaProducer(bootstrap_servers=self.bootstrap, **KAFKA_PYTHON))
        producer.send(topic, b"v").get(timeout=10)
        consumer = self.closing(KafkaConsumer(topic, bootstrap_servers=self.bootstrap, group_id=unique_name("g"),
                                              auto_offset_reset="earliest", consumer_timeout_ms=10000,
                                              **KAFKA_PYTHON))
        self.assertEqual(next(consumer).value, b"v")
        consumer.commit()
        topics = consumer.topics()
        self.assertIn(topic, topics)
        self.assertFalse({"__consumer_offsets", "__transaction_state"} & topics, topics)

    def test_confluent_kafka_gets_invalid_request(self):
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        fut = admin.create_topics([CkNewTopic("__consumer_offsets", 1, 1)], operation_timeout=10)["__consumer_offsets"]
        with self.assertRaises(KafkaException) as cm:
            fut.result(timeout=15)
        self.assertEqual(cm.exception.args[0].name(), "INVALID_REQUEST")
        self.assertNotIn("__consumer_offsets", admin.list_topics(timeout=10).topics)

    def test_auto_creation_does_not_create_internal_topics(self):
        """A Metadata request naming __consumer_offsets (auto-creation on) does not make it a
        topic."""
        self.assertEqual(metadata_request(self.bootstrap, "__consumer_offsets", 7), 7)
        status, body = http_get(self.broker.admin_url(), "/v1/topics")
        self.assertEqual(status, 200)
        self.assertNotIn("__consumer_offsets", body.decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
