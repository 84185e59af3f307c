#!/usr/bin/python3
"""End-to-end tests of minikafka with the kcat command-line client (librdkafka inside).

Run:  MINIKAFKA_BIN=build/broker/minikafka /usr/bin/python3 tests/clients/python/test_kcat.py
(or through ctest: `ctest -L clients`). kcat is driven through subprocess; topics are created
with confluent-kafka's AdminClient (kcat cannot create topics), or through the anchor's control
channel when the broker is the rdkafka mock anchor.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from mkfixture import BrokerTestCase, wait_until  # noqa: E402

KCAT = shutil.which("kcat") or shutil.which("kafkacat")
RUN_TIMEOUT_S = 30


class KcatTest(BrokerTestCase):
    """kcat -L / -P / -C against one broker; each test uses its own topics."""

    @classmethod
    def setUpClass(cls):
        if KCAT is None:
            raise RuntimeError("kcat is not installed (scripts/install-deps.sh installs it)")
        super().setUpClass()
        cls.kcat_json = "JSON" in subprocess.run(
            [KCAT, "-V"], capture_output=True, text=True, timeout=10).stdout

    # -- helpers ---------------------------------------------------------------------------------
    def kcat(self, *args, stdin=None, check=True):
        cmd = [KCAT, "-b", self.bootstrap, "-X", "broker.address.family=v4", *args]
        proc = subprocess.run(cmd, input=stdin, capture_output=True, timeout=RUN_TIMEOUT_S)
        if check and proc.returncode != 0:
            self.fail(f"{' '.join(cmd)} exited {proc.returncode}:\n"
                      f"{proc.stderr.decode(errors='replace')}")
        return proc

    def make_topic(self, name, partitions=1):
        admin = AdminClient({"bootstrap.servers": self.bootstrap, "socket.timeout.ms": 10000})
        if self.broker.is_anchor:
            self.broker.anchor_create_topic(name, partitions)
        else:
            admin.create_topics([NewTopic(name, partitions, 1)], operation_timeout=10,
                                request_timeout=10)[name].result(10)

        def ready():
            t = admin.list_topics(timeout=10).topics.get(name)
            return t is not None and t.error is None and len(t.partitions) == partitions
        wait_until(ready, timeout=10, message=f"metadata for {name}")
        return name

    def produce_lines(self, topic, lines, *extra):
        data = "".join(f"{line}\n" for line in lines).encode()
        self.kcat("-P", "-t", topic, *extra, stdin=data)

    def consume(self, topic, fmt, *extra):
        proc = self.kcat("-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", fmt, *extra)
        return proc.stdout.decode()

    # -- tests -------------------------------------------------------------------------------------
    def test_list_metadata_shows_topic_and_partitions(self):
        """kcat -L lists the topic with its 3 partitions, each with a leader."""
        topic = self.make_topic(self.topic_name("list"), 3)
        out = self.kcat("-L").stdout.decode()
        self.assertIn(f'topic "{topic}" with 3 partitions:', out)
        for address in self.broker.bootstraps:  # one per broker (--brokers N)
            self.assertRegex(out, rf"broker \d+ at {re.escape(address)}")
        section = out.split(f'topic "{topic}"', 1)[1].split("topic ", 1)[0]
        for p in range(3):
            self.assertRegex(section, rf"partition {p}, leader \d+, replicas: \d+")

    def test_list_metadata_json(self):
        """kcat -L -J: JSON metadata with the topic's partitions and their leaders."""
        if not self.kcat_json:
            self.skipTest("this kcat was built without JSON support (-J)")
        topic = self.make_topic(self.topic_name("json"), 3)
        md = json.loads(self.kcat("-L", "-J").stdout)
        broker_ids = {b["id"] for b in md["brokers"]}
        self.assertTrue(broker_ids)
        (entry,) = [t for t in md["topics"] if t["topic"] == topic]
        self.assertNotIn("error", entry)
        self.assertEqual(sorted(p["partition"] for p in entry["partitions"]), [0, 1, 2])
        for p in entry["partitions"]:
            self.assertIn(p["leader"], broker_ids)

    def test_produce_keyed_lines_and_consume_with_format(self):
        """kcat -P -K: then kcat -C -o beginning -e -f '%k=%s\\n' returns the same key=value lines."""
        topic = self.make_topic(self.topic_name("keys"))
        lines = [f"key{i}:value {i} with spaces" for i in range(25)]
        self.produce_lines(topic, lines, "-K:")
        out = self.consume(topic, r"%k=%s\n")
        self.assertEqual(out.splitlines(), [line.replace(":", "=", 1) for line in lines])

    def test_consume_reports_offsets_and_partition(self):
        """kcat -C -f with %p/%o prints partition 0 and offsets 0..N-1 in order."""
        topic = self.make_topic(self.topic_name("offsets"))
        self.produce_lines(topic, [f"m{i}" for i in range(10)])
        out = self.consume(topic, r"%p:%o:%s\n")
        self.assertEqual(out.splitlines(), [f"0:{i}:m{i}" for i in range(10)])

    def test_produce_with_headers_and_consume_them(self):
        """kcat -P -H name=value: headers come back through %h."""
        topic = self.make_topic(self.topic_name("headers"))
        self.produce_lines(topic, ["with-headers"], "-H", "trace=abc", "-H", "n=1")
        out = self.consume(topic, r"%h|%s\n")
        self.assertEqual(out.splitlines(), ["trace=abc,n=1|with-headers"])

    def test_consume_from_offset(self):
        """kcat -C -o 7 starts at offset 7."""
        topic = self.make_topic(self.topic_name("from"))
        self.produce_lines(topic, [f"m{i}" for i in range(10)])
        proc = self.kcat("-C", "-t", topic, "-p", "0", "-o", "7", "-e", "-q", "-f", r"%o=%s\n")
        self.assertEqual(proc.stdout.decode().splitlines(), ["7=m7", "8=m8", "9=m9"])

    def _compression_round_trip(self, codec):
        topic = self.make_topic(self.topic_name(f"codec-{codec}"))
        lines = [f"k{i}:{codec} line {i} " + "z" * (i * 31 % 400) for i in range(200)]
        self.produce_lines(topic, lines, "-K:", "-z", codec, "-X", "linger.ms=50")
        out = self.consume(topic, r"%k=%s\n")
        self.assertEqual(out.splitlines(), [line.replace(":", "=", 1) for line in lines])

    def test_produce_gzip_round_trip(self):
        """kcat -P -z gzip: the records consume back unchanged."""
        self._compression_round_trip("gzip")

    def test_produce_snappy_round_trip(self):
        """kcat -P -z snappy: the records consume back unchanged."""
        self._compression_round_trip("snappy")

    def test_produce_lz4_round_trip(self):
        """kcat -P -z lz4: the records consume back unchanged."""
        self._compression_round_trip("lz4")

    def test_produce_zstd_round_trip(self):
        """kcat -P -z zstd: the records consume back unchanged."""
        self._compression_round_trip("zstd")


if __name__ == "__main__":
    unittest.main(verbosity=2)
