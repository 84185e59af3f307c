#!/usr/bin/python3
"""End-to-end tests of minikafka with confluent-kafka (librdkafka).

Run:  MINIKAFKA_BIN=build/broker/minikafka /usr/bin/python3 tests/clients/python/test_confluent_kafka.py
(or through ctest: `ctest -L clients`).

Consumers are given a group.id (librdkafka's Consumer requires one) but never subscribe or
commit: partitions are assign()ed with explicit start offsets and enable.auto.commit is off.
"""

import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaError,  # noqa: E402
                             KafkaException, Producer, TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from mkfixture import BrokerTestCase, unique_name, wait_until  # noqa: E402

CODECS = ("gzip", "snappy", "lz4", "zstd")


class ConfluentKafkaTest(BrokerTestCase):
    """confluent-kafka against one broker; each test uses its own topics."""

    # -- client factories ------------------------------------------------------------------
    def conf(self, **extra):
        cfg = {
            "bootstrap.servers": self.bootstrap,
            "client.id": "test",
            "socket.timeout.ms": 10000,
            "api.version.request.timeout.ms": 5000,
            "broker.address.family": "v4",
        }
        cfg.update({k.replace("_", "."): v for k, v in extra.items()})
        return cfg

    def admin(self):
        return AdminClient(self.conf())

    def producer(self, **extra):
        producer = Producer(self.conf(**{"message.timeout.ms": 10000, "linger.ms": 5, **extra}))
        return self.closing(producer, lambda: producer.flush(5))

    def consumer(self, **extra):
        consumer = Consumer(self.conf(**{
            "group.id": unique_name("unused-group"),
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "fetch.wait.max.ms": 100,
            **extra}))
        return self.closing(consumer)

    # -- helpers -----------------------------------------------------------------------------
    def all_topics(self, admin):
        # All-topics metadata: never asks the broker to auto-create anything.
        return admin.list_topics(timeout=10).topics

    def make_topic(self, name, partitions=1):
        """Creates a topic for a test that is not about the admin API (admin API on minikafka,
        control channel on the anchor) and waits for its metadata."""
        admin = self.admin()
        if self.broker.is_anchor:
            self.broker.anchor_create_topic(name, partitions)
        else:
            admin.create_topics([NewTopic(name, partitions, 1)],
                                operation_timeout=10, request_timeout=10)[name].result(10)
        self.wait_for_partitions(admin, name, partitions)
        return name

    def wait_for_partitions(self, admin, name, count):
        def ready():
            t = self.all_topics(admin).get(name)
            return (t is not None and t.error is None and len(t.partitions) == count
                    and all(p.leader >= 0 for p in t.partitions.values()))
        wait_until(ready, timeout=10, message=f"metadata for {name} with {count} partitions")

    def produce_and_wait(self, producer, topic, messages):
        """Produces (kwargs dicts); flushes; returns delivery reports (err, partition, offset)."""
        reports = [None] * len(messages)

        def on_delivery(i):
            def cb(err, msg):
                reports[i] = (err, msg.partition(), msg.offset())
            return cb
        for i, kwargs in enumerate(messages):
            producer.produce(topic, on_delivery=on_delivery(i), **kwargs)
        self.assertEqual(producer.flush(10), 0, "messages still queued after flush(10)")
        self.assertNotIn(None, reports, "a delivery callback never ran")
        return reports

    def consume_n(self, consumer, n, timeout=15):
        got = []

        def enough():
            for msg in consumer.consume(num_messages=max(1, n - len(got)), timeout=0.2):
                if msg.error() is not None:
                    raise AssertionError(f"consume error: {msg.error()}")
                got.append(msg)
            return len(got) >= n
        wait_until(enough, timeout=timeout, interval=0, message=f"{n} messages (got {len(got)})")
        extra = [m for m in consumer.consume(num_messages=10, timeout=0.3) if m.error() is None]
        self.assertEqual(extra, [], "more messages than were produced")
        return got

    # -- admin & metadata -------------------------------------------------------------------------
    def test_admin_create_topics_three_partitions_then_metadata(self):
        """AdminClient.create_topics(3 partitions): metadata shows 3 partitions with a leader."""
        admin = self.admin()
        topic = self.topic_name("create")
        futures = admin.create_topics([NewTopic(topic, 3, 1)], operation_timeout=10,
                                      request_timeout=10)
        self.assertIsNone(futures[topic].result(10))
        self.wait_for_partitions(admin, topic, 3)
        md = admin.list_topics(timeout=10)
        self.assertEqual(sorted(md.topics[topic].partitions), [0, 1, 2])
        for p in md.topics[topic].partitions.values():
            self.assertIn(p.leader, md.brokers)

    def test_list_topics_metadata_shows_partitions_and_leader(self):
        """list_topics(): a 3-partition topic, each partition led by a listed broker, no error."""
        topic = self.make_topic(self.topic_name("meta"), 3)
        md = self.admin().list_topics(timeout=10)
        self.assertTrue(md.brokers, "no brokers in metadata")
        # Every broker the banner printed (one, or N with --brokers N), each at its address.
        self.assertEqual(sorted(f"{b.host}:{b.port}" for b in md.brokers.values()),
                         sorted(self.broker.bootstraps))
        tmd = md.topics[topic]
        self.assertIsNone(tmd.error)
        self.assertEqual(sorted(tmd.partitions), [0, 1, 2])
        for pid, p in tmd.partitions.items():
            self.assertEqual(p.id, pid)
            self.assertIsNone(p.error)
            self.assertIn(p.leader, md.brokers)
            self.assertIn(p.leader, p.replicas)
            self.assertIn(p.leader, p.isrs)

    def test_admin_delete_topics_then_gone(self):
        """AdminClient.delete_topics removes the topic from metadata."""
        admin = self.admin()
        topic = self.topic_name("delete")
        admin.create_topics([NewTopic(topic, 2, 1)], operation_timeout=10,
                            request_timeout=10)[topic].result(10)
        self.wait_for_partitions(admin, topic, 2)
        self.assertIsNone(admin.delete_topics([topic], operation_timeout=10,
                                              request_timeout=10)[topic].result(10))
        wait_until(lambda: topic not in self.all_topics(admin), timeout=10,
                   message="deleted topic gone from metadata")

    # -- producing -------------------------------------------------------------------------------
    def _compression_round_trip(self, codec):
        topic = self.make_topic(self.topic_name(f"codec-{codec}"))
        producer = self.producer(**{"compression.type": codec, "linger.ms": 50})
        values = [(f"{codec}-{i}-" + "y" * (i * 53 % 700)).encode() for i in range(100)]
        reports = self.produce_and_wait(producer, topic,
                                        [dict(key=str(i).encode(), value=v)
                                         for i, v in enumerate(values)])
        self.assertEqual([r[0] for r in reports], [None] * 100)
        self.assertEqual([(r[1], r[2]) for r in reports], [(0, i) for i in range(100)])
        consumer = self.consumer()
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        msgs = self.consume_n(consumer, 100)
        self.assertEqual([(m.offset(), m.key(), m.value()) for m in msgs],
                         [(i, str(i).encode(), v) for i, v in enumerate(values)])

    def test_producer_gzip_delivery_reports_offsets_and_round_trip(self):
        """compression.type=gzip: flush(), delivery reports carry offsets 0..99, data reads back."""
        self._compression_round_trip("gzip")

    def test_producer_snappy_delivery_reports_offsets_and_round_trip(self):
        """compression.type=snappy: flush(), delivery reports carry offsets, data reads back."""
        self._compression_round_trip("snappy")

    def test_producer_lz4_delivery_reports_offsets_and_round_trip(self):
        """compression.type=lz4: flush(), delivery reports carry offsets, data reads back."""
        self._compression_round_trip("lz4")

    def test_producer_zstd_delivery_reports_offsets_and_round_trip(self):
        """compression.type=zstd: flush(), delivery reports carry offsets, data reads back."""
        self._compression_round_trip("zstd")

    def test_produce_to_nonexistent_partition_fails_in_delivery_report(self):
        """Producing to partition 5 of a 1-partition topic reports UNKNOWN_PARTITION."""
        topic = self.make_topic(self.topic_name("nopart"))
        producer = self.producer()
        reports = []
        try:
            producer.produce(topic, value=b"lost", partition=5,
                             on_delivery=lambda err, msg: reports.append(err))
        except KafkaException as exc:
            # librdkafka rejects at once instead when it already knows the partition count.
            reports.append(exc.args[0])
        producer.flush(10)
        self.assertEqual(len(reports), 1, reports)
        self.assertIsNotNone(reports[0], "delivery to a missing partition succeeded")
        self.assertIn(reports[0].code(),
                      (KafkaError._UNKNOWN_PARTITION, KafkaError.UNKNOWN_TOPIC_OR_PART), reports[0])
        # And the topic's only partition is untouched.
        consumer = self.consumer()
        self.assertEqual(consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10),
                         (0, 0))

    # -- consuming -------------------------------------------------------------------------------
    def test_consumer_assign_from_beginning_reads_headers_and_null_key(self):
        """assign(OFFSET_BEGINNING) with no group membership reads all messages, headers, null key."""
        topic = self.make_topic(self.topic_name("assign"), 2)
        producer = self.producer()
        sent = [
            dict(key=None, value=b"no-key", partition=1),
            dict(key=b"k1", value=b"v1", partition=1, headers=[("h", b"1"), ("h", b"2")]),
            dict(key=b"k2", value=None, partition=1),
            dict(key=None, value=b"hdr", partition=1, headers=[("empty", b""), ("x", b"\x00\xff")]),
        ]
        reports = self.produce_and_wait(producer, topic, sent)
        self.assertEqual(reports, [(None, 1, i) for i in range(4)])
        consumer = self.consumer()
        consumer.assign([TopicPartition(topic, 1, OFFSET_BEGINNING)])
        msgs = self.consume_n(consumer, 4)
        self.assertEqual([(m.partition(), m.offset(), m.key(), m.value(), m.headers())
                          for m in msgs],
                         [(1, i, s["key"], s["value"], s.get("headers")) for i, s in enumerate(sent)])
        wm = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        self.assertEqual(wm, (0, 0), "partition 0 received messages meant for partition 1")

    def test_get_watermark_offsets(self):
        """get_watermark_offsets is (0, N) after N messages, and (0, 0) on an empty partition."""
        topic = self.make_topic(self.topic_name("watermarks"), 2)
        producer = self.producer()
        self.produce_and_wait(producer, topic,
                              [dict(value=f"w{i}".encode(), partition=0) for i in range(7)])
        consumer = self.consumer()
        self.assertEqual(consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10,
                                                        cached=False), (0, 7))
        self.assertEqual(consumer.get_watermark_offsets(TopicPartition(topic, 1), timeout=10,
                                                        cached=False), (0, 0))

    def test_offsets_for_times_finds_first_offset_at_or_after_timestamp(self):
        """Messages with explicit timestamps: offsets_for_times maps a timestamp to its offset."""
        topic = self.make_topic(self.topic_name("times"))
        producer = self.producer()
        base = int(time.time() * 1000) - 600_000
        self.produce_and_wait(producer, topic,
                              [dict(value=f"t{i}".encode(), timestamp=base + i * 1000)
                               for i in range(10)])
        consumer = self.consumer()

        def lookup(ts):
            (tp,) = consumer.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=10)
            self.assertIsNone(tp.error)
            return tp.offset
        self.assertEqual(lookup(base + 5000), 5, "exact timestamp of offset 5")
        self.assertEqual(lookup(base + 4500), 5, "between offsets 4 and 5")
        self.assertEqual(lookup(base - 100_000), 0, "before the first message")
        self.assertEqual(lookup(base + 60_000), -1, "after the last message")
        # The stored timestamps are the ones produced.
        consumer.assign([TopicPartition(topic, 0, 5)])
        (msg,) = self.consume_n(consumer, 5)[:1]
        self.assertEqual(msg.timestamp()[1], base + 5000)


if __name__ == "__main__":
    unittest.main(verbosity=2)
