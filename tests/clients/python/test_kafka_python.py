#!/usr/bin/python3
"""End-to-end tests of minikafka with kafka-python (Debian's python3-kafka, 2.0.2).

Run:  MINIKAFKA_BIN=build/broker/minikafka /usr/bin/python3 tests/clients/python/test_kafka_python.py
(or through ctest: `ctest -L clients`). Usage follows the kafka-python notes in
shared/usage-notes: KafkaConsumer(bootstrap_servers=..., client_id="test").topics(),
KafkaProducer with JSON key/value serializers and future.get(timeout=10), same key -> same
partition, beginning/end offsets per partition.

Consumers here never join a group (group_id=None) and are assigned partitions explicitly: group
membership is tested elsewhere.
"""

import hashlib
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka import codec as kafka_codec  # noqa: E402
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic  # noqa: E402
from kafka.errors import InvalidTopicError, TopicAlreadyExistsError  # noqa: E402

from mkfixture import BrokerTestCase, wait_until  # noqa: E402

CLIENT_ID = "test"
# Short timeouts: a working broker answers in milliseconds, and a broken one should fail fast.
COMMON = dict(client_id=CLIENT_ID, api_version_auto_timeout_ms=5000, request_timeout_ms=10000)
ONE_MB = 1_000_000  # "~1 MB": fits the standard 1 MiB (1048588-byte) message.max.bytes limit


def json_bytes(obj):
    return json.dumps(obj).encode()


class KafkaPythonTest(BrokerTestCase):
    """kafka-python against one broker; each test uses its own topics."""

    # -- client factories ------------------------------------------------------------------
    def admin(self):
        return self.closing(KafkaAdminClient(bootstrap_servers=self.bootstrap, **COMMON))

    def producer(self, **overrides):
        cfg = dict(COMMON, max_block_ms=10000, linger_ms=0)
        cfg.update(overrides)
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, **cfg)
        return self.closing(producer, lambda: producer.close(timeout=5))

    def consumer(self, *topics, **overrides):
        cfg = dict(COMMON, group_id=None, enable_auto_commit=False,
                   auto_offset_reset="earliest", request_timeout_ms=11000,
                   fetch_max_wait_ms=100)
        cfg.update(overrides)
        return self.closing(KafkaConsumer(*topics, bootstrap_servers=self.bootstrap, **cfg))

    # -- helpers -----------------------------------------------------------------------------
    def make_topic(self, name, partitions=1):
        """Creates a topic for a test that is not about the admin API, and waits until
        metadata shows all its partitions. (Admin API on minikafka; control channel on the
        anchor, whose mock cluster has no CreateTopics.)"""
        if self.broker.is_anchor:
            self.broker.anchor_create_topic(name, partitions)
        else:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, **COMMON)
            try:
                admin.create_topics([NewTopic(name, partitions, 1)])
            finally:
                admin.close()
        self.wait_for_partitions(name, partitions)
        return name

    def wait_for_partitions(self, topic, count):
        admin = self.admin()

        def ready():
            meta = admin.describe_topics([topic])
            return (len(meta) == 1 and meta[0]["error_code"] == 0
                    and len(meta[0]["partitions"]) == count
                    and all(p["error_code"] == 0 and p["leader"] >= 0
                            for p in meta[0]["partitions"]))
        wait_until(ready, timeout=10, message=f"metadata for {topic} with {count} partitions")

    def poll_records(self, consumer, count, timeout=15):
        """Polls until `count` records arrived (more is an error); returns them in order."""
        records = []

        def enough():
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
            return len(records) >= count
        wait_until(enough, timeout=timeout, interval=0,
                   message=f"{count} records (got {len(records)})")
        # Nothing more should be there.
        for batch in consumer.poll(timeout_ms=300).values():
            records.extend(batch)
        self.assertEqual(len(records), count, [r.value for r in records])
        return records

    # -- metadata ------------------------------------------------------------------------------
    def test_consumer_topics_lists_created_topic(self):
        """KafkaConsumer(bootstrap_servers, client_id="test").topics() is a set with the topic."""
        topic = self.make_topic(self.topic_name("listed"))
        consumer = self.closing(KafkaConsumer(
            bootstrap_servers=self.bootstrap, client_id=CLIENT_ID,
            api_version_auto_timeout_ms=5000))
        topics = consumer.topics()
        self.assertIsInstance(topics, set)
        self.assertIn(topic, topics)

    def test_partitions_for_topic_and_beginning_end_offsets(self):
        """partitions_for_topic, beginning_offsets and end_offsets after producing per partition."""
        topic = self.make_topic(self.topic_name("offsets"), 3)
        producer = self.producer()
        counts = {0: 4, 1: 2, 2: 0}
        for partition, n in counts.items():
            for i in range(n):
                producer.send(topic, value=f"p{partition}-{i}".encode(),
                              partition=partition).get(timeout=10)
        consumer = self.consumer()
        self.assertEqual(consumer.partitions_for_topic(topic), {0, 1, 2})
        tps = [TopicPartition(topic, p) for p in range(3)]
        self.assertEqual(consumer.beginning_offsets(tps), {tp: 0 for tp in tps})
        self.assertEqual(consumer.end_offsets(tps),
                         {TopicPartition(topic, p): n for p, n in counts.items()})

    # -- producing -------------------------------------------------------------------------------
    def test_producer_json_serializers_future_get_returns_increasing_offsets(self):
        """send() with JSON serializers; future.get(timeout=10) gives RecordMetadata, offsets 0.."""
        topic = self.make_topic(self.topic_name("json"))
        producer = self.producer(key_serializer=json_bytes, value_serializer=json_bytes)
        metas = [producer.send(topic, key="count_num", value=str(i)).get(timeout=10)
                 for i in range(5)]
        for i, meta in enumerate(metas):
            self.assertEqual(meta.topic, topic)
            self.assertEqual(meta.partition, 0)
            self.assertEqual(meta.offset, i)
        consumer = self.consumer(key_deserializer=lambda b: json.loads(b.decode()),
                                 value_deserializer=lambda b: json.loads(b.decode()))
        consumer.assign([TopicPartition(topic, 0)])
        records = self.poll_records(consumer, 5)
        self.assertEqual([(r.key, r.value, r.offset) for r in records],
                         [("count_num", str(i), i) for i in range(5)])

    def test_same_key_goes_to_same_partition(self):
        """On a 3-partition topic every send with the same key lands in the same partition."""
        topic = self.make_topic(self.topic_name("keyed"), 3)
        producer = self.producer(key_serializer=json_bytes, value_serializer=json_bytes)
        keys = [f"key-{k}" for k in range(12)]
        partition_of = {}
        per_partition = {0: [], 1: [], 2: []}
        for round_ in range(3):
            for key in keys:
                meta = producer.send(topic, key=key, value=round_).get(timeout=10)
                self.assertEqual(partition_of.setdefault(key, meta.partition), meta.partition,
                                 f"key {key} moved partition")
                per_partition[meta.partition].append((key, round_))
        self.assertGreater(len(set(partition_of.values())), 1,
                           "12 keys all hashed to one partition: the topic has 1 partition?")
        # What the broker stored agrees with what it acknowledged.
        consumer = self.consumer(key_deserializer=lambda b: json.loads(b.decode()),
                                 value_deserializer=lambda b: json.loads(b.decode()))
        for partition, expected in per_partition.items():
            tp = TopicPartition(topic, partition)
            consumer.assign([tp])
            consumer.seek_to_beginning(tp)
            got = self.poll_records(consumer, len(expected)) if expected else []
            self.assertEqual([(r.key, r.value) for r in got], expected, f"partition {partition}")

    def test_explicit_partition_send_lands_in_that_partition(self):
        """send(partition=2) is acknowledged for partition 2 and stored there only."""
        topic = self.make_topic(self.topic_name("explicit"), 3)
        producer = self.producer()
        meta = producer.send(topic, key=b"k", value=b"to-two", partition=2).get(timeout=10)
        self.assertEqual((meta.partition, meta.offset), (2, 0))
        consumer = self.consumer()
        tps = [TopicPartition(topic, p) for p in range(3)]
        self.assertEqual(consumer.end_offsets(tps), {tps[0]: 0, tps[1]: 0, tps[2]: 1})
        consumer.assign([tps[2]])
        (record,) = self.poll_records(consumer, 1)
        self.assertEqual((record.partition, record.key, record.value), (2, b"k", b"to-two"))

    # -- consuming without a group ------------------------------------------------------------
    def test_consumer_without_group_earliest_reads_everything(self):
        """group_id=None, auto_offset_reset='earliest' reads every record produced before."""
        topic = self.make_topic(self.topic_name("earliest"))
        producer = self.producer()
        for i in range(20):
            producer.send(topic, value=f"m{i}".encode())
        producer.flush(timeout=10)
        consumer = self.consumer(auto_offset_reset="earliest")
        consumer.assign([TopicPartition(topic, 0)])
        records = self.poll_records(consumer, 20)
        self.assertEqual([r.value for r in records], [f"m{i}".encode() for i in range(20)])
        self.assertEqual([r.offset for r in records], list(range(20)))

    def test_consumer_without_group_latest_reads_only_new_messages(self):
        """group_id=None, auto_offset_reset='latest': only records produced after positioning."""
        topic = self.make_topic(self.topic_name("latest"))
        producer = self.producer()
        for i in range(3):
            producer.send(topic, value=f"old{i}".encode()).get(timeout=10)
        consumer = self.consumer(auto_offset_reset="latest")
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        # position() resolves the reset policy (ListOffsets latest): the consumer is at the end.
        self.assertEqual(consumer.position(tp), 3)
        self.assertEqual(consumer.poll(timeout_ms=300), {})
        for i in range(2):
            producer.send(topic, value=f"new{i}".encode()).get(timeout=10)
        records = self.poll_records(consumer, 2)
        self.assertEqual([(r.offset, r.value) for r in records], [(3, b"new0"), (4, b"new1")])

    def test_consumer_seek_to_end_then_reads_only_new_messages(self):
        """assign + seek_to_end positions at the log end; later records are read from there."""
        topic = self.make_topic(self.topic_name("seekend"))
        producer = self.producer()
        for i in range(4):
            producer.send(topic, value=f"old{i}".encode()).get(timeout=10)
        consumer = self.consumer(auto_offset_reset="earliest")
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_end(tp)
        self.assertEqual(consumer.position(tp), 4)
        producer.send(topic, value=b"new").get(timeout=10)
        (record,) = self.poll_records(consumer, 1)
        self.assertEqual((record.offset, record.value), (4, b"new"))

    def test_assign_and_seek_reads_from_that_offset(self):
        """assign + seek(tp, 6) on a 10-record partition returns offsets 6..9."""
        topic = self.make_topic(self.topic_name("seek"))
        producer = self.producer()
        for i in range(10):
            producer.send(topic, value=f"v{i}".encode())
        producer.flush(timeout=10)
        consumer = self.consumer()
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, 6)
        records = self.poll_records(consumer, 4)
        self.assertEqual([(r.offset, r.value) for r in records],
                         [(i, f"v{i}".encode()) for i in range(6, 10)])

    # -- record contents -----------------------------------------------------------------------
    def test_null_key_null_value_and_headers_round_trip(self):
        """A null key, a null value (tombstone) and headers come back exactly."""
        topic = self.make_topic(self.topic_name("nulls"))
        producer = self.producer()
        sent = [
            (None, b"no-key", []),
            (b"tombstone", None, []),
            (b"k", b"with-headers", [("h1", b"one"), ("empty", b""), ("h1", b"dup")]),
            (None, b"", [("only", b"headers")]),
        ]
        for key, value, headers in sent:
            producer.send(topic, key=key, value=value, headers=headers).get(timeout=10)
        consumer = self.consumer()
        consumer.assign([TopicPartition(topic, 0)])
        records = self.poll_records(consumer, len(sent))
        self.assertEqual([(r.key, r.value, list(r.headers)) for r in records],
                         [(k, v, h) for k, v, h in sent])

    def test_one_megabyte_value_round_trip(self):
        """A ~1 MB value (raised max_request_size / fetch sizes) is stored and read back intact."""
        topic = self.make_topic(self.topic_name("big"))
        value = os.urandom(ONE_MB)
        producer = self.producer(max_request_size=2 * 1024 * 1024, buffer_memory=8 * 1024 * 1024)
        meta = producer.send(topic, key=b"big", value=value).get(timeout=15)
        self.assertEqual(meta.offset, 0)
        producer.send(topic, value=b"after").get(timeout=10)
        consumer = self.consumer(max_partition_fetch_bytes=2 * 1024 * 1024,
                                 fetch_max_bytes=4 * 1024 * 1024)
        consumer.assign([TopicPartition(topic, 0)])
        big, after = self.poll_records(consumer, 2)
        self.assertEqual(len(big.value), ONE_MB)
        self.assertEqual(hashlib.sha256(big.value).hexdigest(), hashlib.sha256(value).hexdigest())
        self.assertEqual((big.key, after.value, after.offset), (b"big", b"after", 1))

    def _compression_round_trip(self, codec, available):
        if not available():
            self.skipTest(f"kafka-python has no {codec} codec here (install python3-"
                          f"{ {'snappy': 'snappy', 'lz4': 'lz4', 'zstd': 'zstandard'}[codec]})")
        topic = self.make_topic(self.topic_name(f"codec-{codec}"))
        # zstd needs a broker that kafka-python infers as >= 2.1 (Fetch v10 in ApiVersions).
        producer = self.producer(compression_type=codec, linger_ms=50, batch_size=256 * 1024)
        values = [(f"{codec}-{i}-" + "x" * (i * 37 % 500)).encode() for i in range(50)]
        futures = [producer.send(topic, key=str(i).encode(), value=v) for i, v in enumerate(values)]
        producer.flush(timeout=10)
        self.assertEqual([f.get(timeout=10).offset for f in futures], list(range(50)))
        consumer = self.consumer()
        consumer.assign([TopicPartition(topic, 0)])
        records = self.poll_records(consumer, 50)
        self.assertEqual([(r.key, r.value) for r in records],
                         [(str(i).encode(), v) for i, v in enumerate(values)])

    def test_compression_gzip_round_trip(self):
        """Producer compression_type='gzip': records decompress to what was sent."""
        self._compression_round_trip("gzip", kafka_codec.has_gzip)

    def test_compression_snappy_round_trip(self):
        """Producer compression_type='snappy': records decompress to what was sent."""
        self._compression_round_trip("snappy", kafka_codec.has_snappy)

    def test_compression_lz4_round_trip(self):
        """Producer compression_type='lz4': records decompress to what was sent."""
        self._compression_round_trip("lz4", kafka_codec.has_lz4)

    def test_compression_zstd_round_trip(self):
        """Producer compression_type='zstd': records decompress to what was sent."""
        self._compression_round_trip("zstd", kafka_codec.has_zstd)

    # -- admin ------------------------------------------------------------------------------------
    def test_admin_create_topic_with_partitions_and_config(self):
        """create_topics(NewTopic(name, 4, 1, retention.ms)) creates a 4-partition topic."""
        topic = self.topic_name("admin-create")
        admin = self.admin()
        response = admin.create_topics(
            [NewTopic(topic, 4, 1, topic_configs={"retention.ms": "3600000"})], timeout_ms=10000)
        self.assertEqual([tuple(e[:2]) for e in response.topic_errors], [(topic, 0)])
        self.wait_for_partitions(topic, 4)
        consumer = self.consumer()
        wait_until(lambda: consumer.partitions_for_topic(topic) == {0, 1, 2, 3}, timeout=10,
                   message="consumer metadata with 4 partitions")

    def test_admin_list_topics_contains_created_topics(self):
        """list_topics() returns every created topic."""
        names = [self.topic_name("admin-list") for _ in range(3)]
        admin = self.admin()
        admin.create_topics([NewTopic(n, 1, 1) for n in names], timeout_ms=10000)
        listed = wait_until(lambda: set(names) <= set(admin.list_topics()) and admin.list_topics(),
                            timeout=10, message="created topics in list_topics()")
        self.assertTrue(set(names) <= set(listed))

    def test_admin_describe_configs_returns_topic_config(self):
        """describe_configs on a topic created with retention.ms reports that value."""
        topic = self.topic_name("admin-config")
        admin = self.admin()
        admin.create_topics(
            [NewTopic(topic, 1, 1, topic_configs={"retention.ms": "3600000"})], timeout_ms=10000)
        responses = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)])
        entries = {}
        for response in responses:
            for resource in response.resources:
                error_code, _msg, _type, name, configs = resource[:5]
                self.assertEqual((error_code, name), (0, topic))
                for entry in configs:
                    entries[entry[0]] = entry[1]
        self.assertEqual(entries.get("retention.ms"), "3600000", entries)

    def test_admin_delete_topic_disappears(self):
        """delete_topics removes the topic from list_topics()."""
        topic = self.topic_name("admin-delete")
        admin = self.admin()
        admin.create_topics([NewTopic(topic, 2, 1)], timeout_ms=10000)
        wait_until(lambda: topic in admin.list_topics(), timeout=10, message="topic listed")
        response = admin.delete_topics([topic], timeout_ms=10000)
        self.assertEqual([tuple(e[:2]) for e in response.topic_error_codes], [(topic, 0)])
        wait_until(lambda: topic not in admin.list_topics(), timeout=10,
                   message="deleted topic gone from list_topics()")

    def test_admin_create_existing_topic_raises_topic_already_exists(self):
        """Creating a topic twice raises TopicAlreadyExistsError."""
        topic = self.topic_name("admin-dup")
        admin = self.admin()
        admin.create_topics([NewTopic(topic, 1, 1)], timeout_ms=10000)
        with self.assertRaises(TopicAlreadyExistsError):
            admin.create_topics([NewTopic(topic, 1, 1)], timeout_ms=10000)

    def test_admin_illegal_topic_name_raises_invalid_topic(self):
        """Creating 'bad/name' raises InvalidTopicError and creates nothing."""
        admin = self.admin()
        with self.assertRaises(InvalidTopicError):
            admin.create_topics([NewTopic("bad/name", 1, 1)], timeout_ms=10000)
        self.assertNotIn("bad/name", admin.list_topics())


if __name__ == "__main__":
    unittest.main(verbosity=2)
