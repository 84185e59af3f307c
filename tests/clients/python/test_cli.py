#!/usr/bin/python3
"""End-to-end tests of minikafka's command-line tools (`minikafka topics`, `console-producer`,
`console-consumer`, `consumer-groups`) against a running broker.

Run:  MINIKAFKA_BIN=build/broker/minikafka /usr/bin/python3 tests/clients/python/test_cli.py
(or through ctest: `ctest -L clients -R clients.cli`). The broker binary is also the CLI: the
tools are its subcommands. MINIKAFKA_CLI, when set, names the CLI binary separately (e.g. to
drive another broker given as MINIKAFKA_BIN). Results the tools print are cross-checked with confluent-kafka where
that makes the check independent of the tools themselves.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402

from mkfixture import BrokerTestCase, broker_binary, unique_name, wait_until  # noqa: E402

RUN_TIMEOUT_S = 40


def cli_binary():
    """The minikafka binary whose subcommands are under test ($MINIKAFKA_CLI, else the broker)."""
    return os.environ.get("MINIKAFKA_CLI") or broker_binary()


def closed_port():
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_table(stdout, header_first="GROUP"):
    """Rows of a consumer-groups table as dicts keyed by the header's column names."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        cols = line.split()
        if cols and cols[0] == header_first:
            return [dict(zip(cols, row.split())) for row in lines[i + 1:]
                    if row.split() and row.split()[0] != header_first]
    return []


class CliTest(BrokerTestCase):
    """The four tools against one broker; every test uses its own topics and groups."""

    # -- helpers ---------------------------------------------------------------------------------
    def cli(self, *args, stdin=None, expect=0, bootstrap=True, timeout=RUN_TIMEOUT_S):
        """Runs `minikafka <args>`; asserts the exit code (unless expect is None)."""
        cmd = [cli_binary(), *args]
        if bootstrap:
            cmd += ["--bootstrap-server", self.bootstrap]
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
        if expect is not None and proc.returncode != expect:
            self.fail(f"{' '.join(cmd)} exited {proc.returncode} (expected {expect})\n"
                      f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def create_topic(self, name, partitions=1, *extra):
        out = self.cli("topics", "--create", "--topic", name, "--partitions", str(partitions), *extra)
        self.assertEqual(out.stdout.strip(), f"Created topic {name}.")
        return name

    def produce(self, topic, lines, *extra):
        data = "".join(f"{line}\n" for line in lines)
        return self.cli("console-producer", "--topic", topic, *extra, stdin=data)

    def consume(self, topic, *extra, max_messages=None, timeout_ms=8000, expect=0):
        args = ["console-consumer", "--topic", topic, "--timeout-ms", str(timeout_ms), *extra]
        if max_messages is not None:
            args += ["--max-messages", str(max_messages)]
        return self.cli(*args, expect=expect)

    def describe_group(self, group, *extra, expect=0):
        out = self.cli("consumer-groups", "--describe", "--group", group, *extra, expect=expect)
        return out, parse_table(out.stdout)

    def admin(self):
        return AdminClient({"bootstrap.servers": self.bootstrap})

    # -- topics ----------------------------------------------------------------------------------
    def test_topics_create_list_describe_alter_delete(self):
        """The whole kafka-topics workflow, with Kafka's output formats."""
        topic = self.topic_name("lifecycle")
        self.create_topic(topic, 3, "--replication-factor", "1", "--config", "retention.ms=123456",
                          "--config", "cleanup.policy=compact")
        # Independent check: the topic exists with 3 partitions.
        md = self.admin().list_topics(topic, timeout=10)
        self.assertEqual(len(md.topics[topic].partitions), 3)

        dup = self.cli("topics", "--create", "--topic", topic, expect=1)
        self.assertIn("already exists", dup.stderr)
        self.cli("topics", "--create", "--topic", topic, "--if-not-exists")

        listed = self.cli("topics", "--list").stdout.splitlines()
        self.assertIn(topic, listed)
        self.assertEqual(listed, sorted(listed))

        out = self.cli("topics", "--describe", "--topic", topic).stdout.splitlines()
        self.assertEqual(len(out), 4, out)
        m = re.fullmatch(rf"Topic: {re.escape(topic)}\tTopicId: ([A-Za-z0-9_-]{{22}})\tPartitionCount: 3"
                         r"\tReplicationFactor: 1\tConfigs: (.*)", out[0])
        self.assertIsNotNone(m, out[0])
        configs = dict(kv.split("=", 1) for kv in m.group(2).split(","))
        self.assertEqual(configs.get("retention.ms"), "123456")
        self.assertEqual(configs.get("cleanup.policy"), "compact")
        self.assertNotIn("segment.ms", configs)  # defaults are left out
        for p in range(3):
            self.assertRegex(out[1 + p], rf"^\tTopic: {re.escape(topic)}\tPartition: {p}\tLeader: \d+"
                                         r"\tReplicas: \d+\tIsr: \d+$")

        self.cli("topics", "--alter", "--topic", topic, "--partitions", "5")
        wait_until(lambda: len(self.admin().list_topics(topic, timeout=10).topics[topic].partitions) == 5,
                   message="5 partitions after --alter")
        out = self.cli("topics", "--describe", "--topic", topic).stdout
        self.assertIn("\tPartitionCount: 5\t", out)
        shrink = self.cli("topics", "--alter", "--topic", topic, "--partitions", "2", expect=1)
        self.assertIn("Error while executing topic command", shrink.stderr)

        self.cli("topics", "--delete", "--topic", topic)
        wait_until(lambda: topic not in self.cli("topics", "--list").stdout.splitlines(),
                   message="topic gone after --delete")
        missing = self.cli("topics", "--describe", "--topic", topic, expect=1)
        self.assertIn(f"Topic '{topic}' does not exist as expected", missing.stderr)
        self.cli("topics", "--describe", "--topic", topic, "--if-exists")
        self.cli("topics", "--delete", "--topic", topic, expect=1)
        self.cli("topics", "--delete", "--topic", topic, "--if-exists")

    def test_topics_regex_describe_and_overrides(self):
        """--topic is a regular expression for --list/--describe; --topics-with-overrides filters."""
        prefix = unique_name("rx")
        plain = self.create_topic(f"{prefix}-plain", 1)
        tuned = self.create_topic(f"{prefix}-tuned", 2, "--config", "retention.ms=1000")
        listed = self.cli("topics", "--list", "--topic", f"{prefix}-.*").stdout.splitlines()
        self.assertEqual(listed, [plain, tuned])
        out = self.cli("topics", "--describe", "--topic", f"{prefix}-.*").stdout
        self.assertIn(f"Topic: {plain}\t", out)
        self.assertIn(f"Topic: {tuned}\t", out)
        self.assertRegex(out, rf"Topic: {re.escape(plain)}\t.*\tConfigs: \n")
        overrides = self.cli("topics", "--describe", "--topic", f"{prefix}-.*",
                             "--topics-with-overrides").stdout.splitlines()
        self.assertEqual(len(overrides), 1, overrides)
        self.assertTrue(overrides[0].startswith(f"Topic: {tuned}\t"))
        self.assertIn("retention.ms=1000", overrides[0])
        # Kafka's script name works as an alias of the subcommand.
        self.assertIn(plain, self.cli("kafka-topics.sh", "--list").stdout.splitlines())

    # -- producer / consumer ---------------------------------------------------------------------
    def test_producer_consumer_round_trip_with_keys(self):
        """Keyed lines go in with parse.key and come out with print.key, in order per key."""
        topic = self.create_topic(self.topic_name("keys"), 3)
        lines = [f"key{i % 4}:value {i}" for i in range(40)]
        self.produce(topic, lines, "--property", "parse.key=true", "--property", "key.separator=:")

        out = self.consume(topic, "--from-beginning", "--property", "print.key=true",
                           "--property", "key.separator=:", max_messages=40)
        got = out.stdout.splitlines()
        self.assertEqual(sorted(got), sorted(lines))
        self.assertIn("Processed a total of 40 messages", out.stderr)
        for k in range(4):  # one key lives in one partition, so its records keep their order
            self.assertEqual([line for line in got if line.startswith(f"key{k}:")],
                             [line for line in lines if line.startswith(f"key{k}:")])

        # Independent check with confluent-kafka: keys and values are stored as sent, and every
        # key maps to exactly one partition.
        c = self.closing(Consumer({"bootstrap.servers": self.bootstrap, "group.id": unique_name("chk"),
                                   "auto.offset.reset": "earliest", "enable.auto.commit": False}))
        c.subscribe([topic])
        seen = []
        deadline = time.monotonic() + 20
        while len(seen) < 40 and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                seen.append((m.key().decode(), m.value().decode(), m.partition()))
        self.assertEqual(sorted(f"{k}:{v}" for k, v, _ in seen), sorted(lines))
        for k in range(4):
            self.assertEqual(len({p for key, _, p in seen if key == f"key{k}"}), 1)

    def test_compression_codecs_headers_and_formatter(self):
        """Every codec round-trips; headers and the formatter's print.* properties work."""
        topic = self.create_topic(self.topic_name("codecs"), 1)
        for codec in ("gzip", "snappy", "lz4", "zstd", "none"):
            self.produce(topic, [f"{codec}-{i}" for i in range(5)], "--compression-codec", codec)
        out = self.consume(topic, "--from-beginning", max_messages=25).stdout.splitlines()
        self.assertEqual(out, [f"{c}-{i}" for c in ("gzip", "snappy", "lz4", "zstd", "none")
                               for i in range(5)])

        htopic = self.create_topic(self.topic_name("headers"), 1)
        self.produce(htopic, ["h1:a,h2:b\tk1\tv1", "\tk2\tv2"], "--property", "parse.headers=true",
                     "--property", "parse.key=true")
        out = self.consume(htopic, "--from-beginning", "--property", "print.headers=true",
                           "--property", "print.key=true", "--property", "print.offset=true",
                           "--property", "print.partition=true", "--property", "print.timestamp=true",
                           max_messages=2).stdout.splitlines()
        self.assertEqual(len(out), 2, out)
        self.assertRegex(out[0], r"^CreateTime:\d+\tPartition:0\tOffset:0\th1:a,h2:b\tk1\tv1$")
        self.assertRegex(out[1], r"^CreateTime:\d+\tPartition:0\tOffset:1\tNO_HEADERS\tk2\tv2$")

    def test_consumer_partition_and_offset(self):
        """--partition with --offset N / earliest; --timeout-ms ends an idle consumer with exit 0."""
        topic = self.create_topic(self.topic_name("assign"), 2)
        p = self.closing(Producer({"bootstrap.servers": self.bootstrap}), lambda: None)
        for i in range(6):
            p.produce(topic, value=f"p1-{i}".encode(), partition=1)
        self.assertEqual(p.flush(10), 0)
        out = self.consume(topic, "--partition", "1", "--offset", "2", max_messages=10, timeout_ms=1500)
        self.assertEqual(out.stdout.splitlines(), [f"p1-{i}" for i in range(2, 6)])
        self.assertIn("Processed a total of 4 messages", out.stderr)
        out = self.consume(topic, "--partition", "1", "--offset", "earliest", max_messages=2)
        self.assertEqual(out.stdout.splitlines(), ["p1-0", "p1-1"])
        start = time.monotonic()
        out = self.consume(topic, "--partition", "0", "--from-beginning", timeout_ms=1000)
        self.assertLess(time.monotonic() - start, 15)
        self.assertEqual(out.stdout, "")
        self.assertIn("Processed a total of 0 messages", out.stderr)
        bad = self.consume(topic, "--partition", "7", expect=1)
        self.assertIn("does not exist", bad.stderr)

    def test_producer_reports_delivery_failures(self):
        """A record the broker rejects makes the producer exit non-zero with the reason."""
        topic = self.create_topic(self.topic_name("toolarge"), 1, "--config", "max.message.bytes=200")
        out = self.produce_expect(topic, ["small", "x" * 2000], expect=1)
        self.assertRegex(out.stderr, r"(?i)too large|size")
        bad_line = self.cli("console-producer", "--topic", topic, "--property", "parse.key=true",
                            stdin="no separator here\n", expect=1)
        self.assertIn("No key separator found on line number 1", bad_line.stderr)

    def produce_expect(self, topic, lines, expect):
        data = "".join(f"{line}\n" for line in lines)
        return self.cli("console-producer", "--topic", topic, stdin=data, expect=expect)

    # -- consumer groups -------------------------------------------------------------------------
    def test_consumer_groups_lag_after_console_consumer(self):
        """A console consumer with --group consumes 6 of 10 and commits; describe shows the lag."""
        topic = self.create_topic(self.topic_name("lag"), 1)
        group = unique_name("grp-lag")
        self.produce(topic, [f"m{i}" for i in range(10)])
        out = self.consume(topic, "--group", group, "--from-beginning", max_messages=6)
        self.assertEqual(out.stdout.splitlines(), [f"m{i}" for i in range(6)])

        self.assertIn(group, self.cli("consumer-groups", "--list").stdout.splitlines())
        desc, rows = self.describe_group(group)
        self.assertIn(f"Consumer group '{group}' has no active members.", desc.stderr)
        self.assertEqual(len(rows), 1, desc.stdout)
        self.assertEqual(rows[0], {"GROUP": group, "TOPIC": topic, "PARTITION": "0", "CURRENT-OFFSET": "6",
                                   "LOG-END-OFFSET": "10", "LAG": "4", "CONSUMER-ID": "-", "HOST": "-",
                                   "CLIENT-ID": "-"})
        header = [line for line in desc.stdout.splitlines() if line.startswith("GROUP")][0]
        self.assertEqual(header.split(), ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET",
                                          "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"])

        # The same group continues where it left off.
        out = self.consume(topic, "--group", group, max_messages=4)
        self.assertEqual(out.stdout.splitlines(), [f"m{i}" for i in range(6, 10)])
        _, rows = self.describe_group(group)
        self.assertEqual((rows[0]["CURRENT-OFFSET"], rows[0]["LAG"]), ("10", "0"))

        state = self.cli("consumer-groups", "--describe", "--group", group, "--state").stdout
        self.assertRegex(state, rf"\n{re.escape(group)}\s+\S+:\d+\s+\(\d+\)\s+\S+\s+Empty\s+0\n")
        listed = self.cli("consumer-groups", "--list", "--state", "empty").stdout.splitlines()
        self.assertEqual(listed[0].split(), ["GROUP", "STATE"])
        self.assertIn([group, "Empty"], [line.split() for line in listed[1:]])

    def test_consumer_groups_active_member_and_reset(self):
        """An active member shows in describe; reset needs an inactive group; reset variants."""
        topic = self.create_topic(self.topic_name("reset"), 2)
        group = unique_name("grp-reset")
        p = self.closing(Producer({"bootstrap.servers": self.bootstrap}), lambda: None)
        for part in (0, 1):
            for i in range(5):
                p.produce(topic, value=f"p{part}-{i}".encode(), partition=part)
        self.assertEqual(p.flush(10), 0)

        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group, "client.id": "cli-test-member",
                      "enable.auto.commit": False, "auto.offset.reset": "earliest"})
        closed = []

        def close_consumer():
            if not closed:
                closed.append(True)
                c.close()
        self.closing(c, close_consumer)
        c.subscribe([topic])

        def assigned():
            c.poll(0.1)
            return len(c.assignment()) == 2
        wait_until(assigned, timeout=20, message="assignment of both partitions")
        c.commit(offsets=[TopicPartition(topic, 0, 3), TopicPartition(topic, 1, 1)], asynchronous=False)

        def stable_rows():
            out, rows = self.describe_group(group)
            return rows if len(rows) == 2 and all(r["CONSUMER-ID"] != "-" for r in rows) else None
        rows = wait_until(stable_rows, timeout=20, message="describe shows the active member")
        by_part = {r["PARTITION"]: r for r in rows}
        self.assertEqual((by_part["0"]["CURRENT-OFFSET"], by_part["0"]["LOG-END-OFFSET"], by_part["0"]["LAG"]),
                         ("3", "5", "2"))
        self.assertEqual((by_part["1"]["CURRENT-OFFSET"], by_part["1"]["LOG-END-OFFSET"], by_part["1"]["LAG"]),
                         ("1", "5", "4"))
        self.assertEqual({r["CLIENT-ID"] for r in rows}, {"cli-test-member"})
        members = self.cli("consumer-groups", "--describe", "--group", group, "--members", "--verbose").stdout
        self.assertRegex(members, rf"{re.escape(group)}\s+\S+\s+\S+\s+cli-test-member\s+2\s+"
                                  rf"{re.escape(topic)}\(0,1\)")

        active = self.cli("consumer-groups", "--reset-offsets", "--group", group, "--topic", topic,
                          "--to-earliest", "--execute", expect=1)
        self.assertIn(f"Assignments can only be reset if the group '{group}' is inactive, but the current "
                      "state is Stable.", active.stderr)
        busy = self.cli("consumer-groups", "--delete", "--group", group, expect=1)
        self.assertIn("could not be deleted", busy.stderr)

        close_consumer()
        wait_until(lambda: "has no active members" in self.describe_group(group)[0].stderr, timeout=20,
                   message="group empty after the member left")

        def offsets():
            return {r["PARTITION"]: r["CURRENT-OFFSET"] for r in self.describe_group(group)[1]}

        out = self.cli("consumer-groups", "--reset-offsets", "--group", group, "--topic", topic,
                       "--to-earliest", "--execute")
        self.assertEqual({(r["PARTITION"], r["NEW-OFFSET"]) for r in parse_table(out.stdout)},
                         {("0", "0"), ("1", "0")})
        self.assertEqual(offsets(), {"0": "0", "1": "0"})

        out = self.cli("consumer-groups", "--reset-offsets", "--group", group, "--topic", f"{topic}:1",
                       "--to-offset", "4", "--execute")
        self.assertEqual([(r["PARTITION"], r["NEW-OFFSET"]) for r in parse_table(out.stdout)], [("1", "4")])
        self.assertEqual(offsets(), {"0": "0", "1": "4"})

        dry = self.cli("consumer-groups", "--reset-offsets", "--group", group, "--all-topics", "--to-latest")
        self.assertIn("No action will be performed", dry.stderr)
        self.assertEqual({(r["PARTITION"], r["NEW-OFFSET"]) for r in parse_table(dry.stdout)},
                         {("0", "5"), ("1", "5")})
        self.assertEqual(offsets(), {"0": "0", "1": "4"})  # dry run: nothing changed

        self.cli("consumer-groups", "--reset-offsets", "--group", group, "--all-topics", "--shift-by", "-2",
                 "--execute")
        self.assertEqual(offsets(), {"0": "0", "1": "2"})  # clamped at the log start
        out = self.cli("consumer-groups", "--reset-offsets", "--group", group, "--topic", topic,
                       "--to-offset", "99", "--execute")
        self.assertEqual(offsets(), {"0": "5", "1": "5"})  # clamped at the log end

        self.cli("consumer-groups", "--reset-offsets", "--group", group, "--topic", f"{topic}:0",
                 "--to-offset", "3", "--execute")
        # Independent check: the committed offsets as confluent-kafka sees them, and a consumer of
        # the group resumes there.
        checker = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group})
        try:
            committed = checker.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=10)
        finally:
            checker.close()
        self.assertEqual(sorted((tp.partition, tp.offset) for tp in committed), [(0, 3), (1, 5)])
        out = self.consume(topic, "--group", group, max_messages=2)
        self.assertEqual(out.stdout.splitlines(), ["p0-3", "p0-4"])

        deleted = self.cli("consumer-groups", "--delete", "--group", group)
        self.assertEqual(deleted.stdout.strip(), f"Deletion of requested consumer groups ('{group}') was successful.")
        self.assertNotIn(group, self.cli("consumer-groups", "--list").stdout.splitlines())
        gone = self.cli("consumer-groups", "--describe", "--group", group, expect=1)
        self.assertIn(f"Consumer group '{group}' does not exist.", gone.stderr)
        self.cli("consumer-groups", "--delete", "--group", group, expect=1)

    # -- failures --------------------------------------------------------------------------------
    def test_unreachable_broker_fails_in_bounded_time(self):
        """Every tool gives up on a dead address with an error and exit 1."""
        dead = f"127.0.0.1:{closed_port()}"
        cases = [
            ["topics", "--list", "--timeout-ms", "2000"],
            ["topics", "--create", "--topic", "t", "--timeout-ms", "2000"],
            ["console-producer", "--topic", "t", "--connect-timeout-ms", "2000"],
            ["console-consumer", "--topic", "t", "--connect-timeout-ms", "2000"],
            ["consumer-groups", "--list", "--timeout", "2000"],
            ["consumer-groups", "--describe", "--group", "g", "--timeout-ms", "2000"],
        ]
        for args in cases:
            with self.subTest(args=args):
                start = time.monotonic()
                proc = self.cli(*args, "--bootstrap-server", dead, bootstrap=False, stdin="x\n", expect=1)
                self.assertLess(time.monotonic() - start, 12)
                self.assertRegex(proc.stderr, r"Could not reach a Kafka broker at 127\.0\.0\.1:\d+: connection refused")
        # The default bound (10 s) applies without any timeout option.
        start = time.monotonic()
        proc = self.cli("topics", "--list", "--bootstrap-server", dead, bootstrap=False, expect=1)
        self.assertLess(time.monotonic() - start, 25)
        self.assertIn("Could not reach a Kafka broker", proc.stderr)

    TOOL_CASES = [
        ["topics", "--list"],
        ["topics", "--create", "--topic", "t"],
        ["console-producer", "--topic", "t"],
        ["console-consumer", "--topic", "t"],
        ["consumer-groups", "--list"],
        ["consumer-groups", "--describe", "--group", "g"],
    ]

    def test_refused_connection_fails_at_once(self):
        """Nothing listens on the port: every tool says so at once (not after its 10 s default
        timeout), with exit 1."""
        dead = f"127.0.0.1:{closed_port()}"
        for args in self.TOOL_CASES:
            with self.subTest(args=args):
                start = time.monotonic()
                proc = self.cli(*args, "--bootstrap-server", dead, bootstrap=False, stdin="x\n", expect=1)
                self.assertLess(time.monotonic() - start, 5, "must not wait for the 10 s timeout")
                self.assertIn(f"Could not reach a Kafka broker at {dead}: connection refused (nothing listens there",
                              proc.stderr)

    def test_admin_http_port_is_recognised(self):
        """--bootstrap-server pointing at the HTTP admin port: the tools name the Kafka listener
        instead of librdkafka's 'Invalid response size 1213486160'."""
        admin = self.broker.admin_url().replace("http://", "")
        for args in self.TOOL_CASES:
            with self.subTest(args=args):
                start = time.monotonic()
                proc = self.cli(*args, "--bootstrap-server", admin, bootstrap=False, stdin="x\n", expect=1)
                self.assertLess(time.monotonic() - start, 5)
                listeners = "listeners are" if "," in self.bootstrap else "listener is"  # --brokers N
                self.assertIn(f"{admin} speaks HTTP, not the Kafka protocol (is it minikafka's admin API?); "
                              f"the Kafka {listeners} {self.bootstrap}: use --bootstrap-server {self.bootstrap}",
                              proc.stderr)
                self.assertNotIn("Invalid response size", proc.stderr)

    def test_zookeeper_is_refused_with_a_hint(self):
        for tool in ("topics", "console-producer", "console-consumer", "consumer-groups"):
            for form in (["--zookeeper", "localhost:2181"], ["--zookeeper=localhost:2181"]):
                with self.subTest(tool=tool, form=form):
                    proc = self.cli(tool, *form, "--list", bootstrap=False, expect=2, timeout=10)
                    self.assertIn("--zookeeper is not supported", proc.stderr)
                    self.assertIn("Use --bootstrap-server HOST:PORT", proc.stderr)

    def test_formatter_names_from_kafka_docs(self):
        """--formatter accepts DefaultMessageFormatter by Kafka's old and new class names (and
        NoOpMessageFormatter), with --property or --formatter-config; others are refused with
        the --property settings that do the same."""
        topic = self.create_topic(self.topic_name("formatter"), 1)
        self.produce(topic, ["k1:v1", "k2:v2"], "--property", "parse.key=true", "--property", "key.separator=:")
        old = self.consume(topic, "--from-beginning", "--formatter", "kafka.tools.DefaultMessageFormatter",
                           "--property", "print.key=true", "--property", "key.separator=:", max_messages=2)
        self.assertEqual(old.stdout.splitlines(), ["k1:v1", "k2:v2"])
        new = self.consume(topic, "--from-beginning", "--formatter",
                           "org.apache.kafka.tools.consumer.DefaultMessageFormatter", "--property", "print.offset=true",
                           "--property", "print.value=false", max_messages=2)
        self.assertEqual(new.stdout.splitlines(), ["Offset:0", "Offset:1"])
        with tempfile.NamedTemporaryFile("w", suffix=".properties") as conf:
            conf.write("print.partition=true\nprint.key=true\n")
            conf.flush()
            from_file = self.consume(topic, "--from-beginning", "--formatter-config", conf.name, max_messages=2)
        self.assertEqual(from_file.stdout.splitlines(), ["Partition:0\tk1\tv1", "Partition:0\tk2\tv2"])
        noop = self.consume(topic, "--from-beginning", "--formatter", "org.apache.kafka.tools.consumer.NoOpMessageFormatter",
                            max_messages=2)
        self.assertEqual(noop.stdout, "")
        self.assertIn("Processed a total of 2 messages", noop.stderr)

        for name, hint in (("kafka.tools.LoggingMessageFormatter", "--property print.key=true"),
                           ("io.confluent.kafka.formatter.AvroMessageFormatter", "--property print.key=true"),
                           ("org.apache.kafka.tools.consumer.OffsetsMessageFormatter", "consumer-groups --describe")):
            with self.subTest(formatter=name):
                proc = self.cli("console-consumer", "--topic", topic, "--formatter", name, expect=2, timeout=10)
                self.assertIn(name, proc.stderr)
                self.assertIn(hint, proc.stderr)

    def test_internal_topic_cannot_be_created(self):
        proc = self.cli("topics", "--create", "--topic", "__consumer_offsets", expect=1)
        self.assertIn("Creation of internal topic __consumer_offsets is prohibited.", proc.stderr)

    def test_bad_arguments_exit_2(self):
        """Usage errors exit 2 with a message, before any broker is contacted."""
        dead = f"127.0.0.1:{closed_port()}"
        cases = [
            ["topics"],
            ["topics", "--list", "--create", "--topic", "t"],
            ["topics", "--create"],
            ["topics", "--create", "--topic", "t", "--partitions", "0"],
            ["topics", "--create", "--topic", "t", "--config", "novalue"],
            ["topics", "--alter", "--topic", "t"],
            ["topics", "--list", "--bogus-option"],
            ["topics", "--describe", "--partitions", "x"],
            ["console-producer"],
            ["console-producer", "--topic", "t", "--compression-codec", "brotli"],
            ["console-consumer"],
            ["console-consumer", "--topic", "t", "--offset", "5"],
            ["console-consumer", "--topic", "t", "--partition", "0", "--offset", "-3"],
            ["console-consumer", "--topic", "t", "--partition", "0", "--group", "g"],
            ["consumer-groups", "--describe"],
            ["consumer-groups", "--list", "--describe", "--group", "g"],
            ["consumer-groups", "--reset-offsets", "--group", "g", "--topic", "t"],
            ["consumer-groups", "--reset-offsets", "--group", "g", "--to-earliest"],
            ["consumer-groups", "--reset-offsets", "--group", "g", "--topic", "t", "--to-datetime", "yesterday"],
            ["consumer-groups", "--delete-offsets", "--group", "g"],
        ]
        for args in cases:
            with self.subTest(args=args):
                start = time.monotonic()
                proc = self.cli(*args, "--bootstrap-server", dead, bootstrap=False, expect=2, timeout=10)
                self.assertLess(time.monotonic() - start, 5)
                self.assertTrue(proc.stderr.strip(), "a usage error must say what is wrong")

    def test_help(self):
        for tool in ("topics", "console-producer", "console-consumer", "consumer-groups"):
            with self.subTest(tool=tool):
                proc = self.cli(tool, "--help", bootstrap=False)
                self.assertIn("--bootstrap-server", proc.stdout)

    def test_help_documents_exit_codes(self):
        for tool in ("topics", "console-producer", "console-consumer", "consumer-groups"):
            with self.subTest(tool=tool):
                proc = self.cli(tool, "--help", bootstrap=False)
                self.assertIn("Exit codes (the same as the broker's): 0 success, 1 runtime failure", proc.stdout)

    def test_consumer_stops_on_sigterm(self):
        """A console consumer without limits leaves cleanly on SIGTERM and commits its group."""
        topic = self.create_topic(self.topic_name("sigterm"), 1)
        group = unique_name("grp-sig")
        self.produce(topic, ["a", "b", "c"])
        proc = subprocess.Popen([cli_binary(), "console-consumer", "--bootstrap-server", self.bootstrap,
                                 "--topic", topic, "--group", group, "--from-beginning"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.closing(proc, lambda: proc.kill() if proc.poll() is None else None)
        got = []
        while len(got) < 3:
            line = proc.stdout.readline()
            if not line:
                break
            got.append(line.rstrip("\n"))
        self.assertEqual(got, ["a", "b", "c"])
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("Processed a total of 3 messages", err)
        _, rows = self.describe_group(group)
        self.assertEqual((rows[0]["CURRENT-OFFSET"], rows[0]["LAG"]), ("3", "0"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
