#!/usr/bin/python3
"""Transactions and exactly-once with confluent-kafka (librdkafka) against the binary.

Run:  MINIKAFKA_BIN=build/broker/minikafka /usr/bin/python3 tests/clients/python/test_transactions.py

Transactional producers commit and abort; read_committed consumers see only committed records,
read_uncommitted ones everything in offset order; offsets sent with send_offsets_to_transaction
become visible on commit only; a second producer with the same transactional.id fences the
first; a transaction left open past its timeout is aborted; a timeout above the broker's maximum
is refused.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaError,  # noqa: E402
                             KafkaException, Producer, TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from mkfixture import BrokerTestCase, unique_name, wait_until  # noqa: E402


class TransactionsTest(BrokerTestCase):
    def conf(self, **extra):
        cfg = {"bootstrap.servers": self.bootstrap, "broker.address.family": "v4",
               "socket.timeout.ms": 10000}
        cfg.update({k.replace("_", "."): v for k, v in extra.items()})
        return cfg

    def topic(self, partitions=1):
        name = unique_name("txn")
        admin = AdminClient(self.conf())
        for f in admin.create_topics([NewTopic(name, partitions, 1)]).values():
            f.result(10)
        return name

    def txn_producer(self, tid=None, **extra):
        p = Producer(self.conf(**{"transactional.id": tid or unique_name("tid"), "linger.ms": 1, **extra}))
        p.init_transactions(10)
        return p

    def read(self, topic, isolation, expect, partitions=1, group=None):
        """Values of `topic` read from the beginning until `expect` arrived (or 10 s)."""
        c = Consumer(self.conf(**{"group.id": group or unique_name("g"), "enable.auto.commit": False,
                                  "isolation.level": isolation, "fetch.wait.max.ms": 50}))
        self.addCleanup(c.close)
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        out = []
        import time
        deadline = time.monotonic() + 10
        while len(out) < expect and time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            out.append(m.value().decode())
        return out

    def committed_high(self, topic, partition=0):
        """The end offset a read_committed consumer sees: the last stable offset."""
        c = Consumer(self.conf(**{"group.id": unique_name("g"), "isolation.level": "read_committed"}))
        try:
            return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=5)[1]
        finally:
            c.close()

    def test_commit_is_visible_to_read_committed_and_abort_is_not(self):
        topic = self.topic()
        p = self.txn_producer()
        p.begin_transaction()
        for i in range(3):
            p.produce(topic, value=f"committed-{i}".encode())
        p.commit_transaction(10)
        p.begin_transaction()
        for i in range(2):
            p.produce(topic, value=f"aborted-{i}".encode())
        p.flush(10)
        p.abort_transaction(10)
        p.begin_transaction()
        p.produce(topic, value=b"committed-3")
        p.commit_transaction(10)

        committed = self.read(topic, "read_committed", expect=4)
        self.assertEqual(committed, ["committed-0", "committed-1", "committed-2", "committed-3"])
        everything = self.read(topic, "read_uncommitted", expect=6)
        self.assertEqual(everything, ["committed-0", "committed-1", "committed-2",
                                      "aborted-0", "aborted-1", "committed-3"])

    def test_open_transaction_holds_back_read_committed_consumers(self):
        topic = self.topic()
        p = self.txn_producer()
        p.begin_transaction()
        p.produce(topic, value=b"pending")
        p.flush(10)
        self.assertEqual(self.committed_high(topic), 0)  # the last stable offset is before it
        self.assertEqual(self.read(topic, "read_uncommitted", expect=1), ["pending"])
        p.commit_transaction(10)
        self.assertEqual(self.committed_high(topic), 2)  # the record and its marker
        self.assertEqual(self.read(topic, "read_committed", expect=1), ["pending"])

    def test_send_offsets_to_transaction_commits_them_atomically(self):
        source, sink = self.topic(), self.topic()
        src = Producer(self.conf())
        for i in range(4):
            src.produce(source, value=f"in-{i}".encode())
        src.flush(10)
        group = unique_name("ctp")
        consumer = Consumer(self.conf(**{"group.id": group, "enable.auto.commit": False,
                                         "auto.offset.reset": "earliest",
                                         "isolation.level": "read_committed"}))
        self.addCleanup(consumer.close)
        consumer.subscribe([source])
        got = []
        wait_until(lambda: (lambda m: got.append(m) if m is not None and not m.error() else None)(
            consumer.poll(0.2)) or len(got) >= 4, timeout=15, message="consumed the input")
        p = self.txn_producer()

        def transform(commit):
            p.begin_transaction()
            for m in got:
                p.produce(sink, value=m.value().upper())
            p.send_offsets_to_transaction(consumer.position(consumer.assignment()),
                                          consumer.consumer_group_metadata(), 10)
            if commit:
                p.commit_transaction(10)
            else:
                p.abort_transaction(10)

        transform(commit=False)
        self.assertEqual(consumer.committed([TopicPartition(source, 0)], timeout=5)[0].offset, -1001)
        transform(commit=True)
        self.assertEqual(consumer.committed([TopicPartition(source, 0)], timeout=5)[0].offset, 4)
        self.assertEqual(self.read(sink, "read_committed", expect=4), ["IN-0", "IN-1", "IN-2", "IN-3"])

    def test_second_producer_with_the_same_id_fences_the_first(self):
        topic = self.topic()
        tid = unique_name("shared")
        first = self.txn_producer(tid)
        first.begin_transaction()
        first.produce(topic, value=b"zombie")
        first.flush(10)
        second = self.txn_producer(tid)  # aborts the first's open transaction
        second.begin_transaction()
        second.produce(topic, value=b"live")
        second.commit_transaction(10)
        with self.assertRaises(KafkaException) as ctx:
            first.commit_transaction(10)
        err = ctx.exception.args[0]
        self.assertTrue(err.fatal() or err.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED,
                                                      KafkaError.INVALID_PRODUCER_EPOCH), err)
        self.assertEqual(self.read(topic, "read_committed", expect=1), ["live"])

    def test_transaction_left_open_past_its_timeout_is_aborted(self):
        topic = self.topic()
        p = self.txn_producer(**{"transaction.timeout.ms": 2000, "socket.timeout.ms": 2000})
        p.begin_transaction()
        p.produce(topic, value=b"forgotten")
        p.flush(10)
        self.assertEqual(self.committed_high(topic), 0)
        # The broker aborts it (record + abort marker): the last stable offset moves past both.
        wait_until(lambda: self.committed_high(topic) == 2, timeout=10, message="transaction aborted")
        self.assertEqual(self.read(topic, "read_committed", expect=1), [])
        with self.assertRaises(KafkaException):
            p.commit_transaction(5)

    def test_timeout_above_the_brokers_maximum_is_refused(self):
        p = Producer(self.conf(**{"transactional.id": unique_name("tid"), "transaction.timeout.ms": 900001}))
        with self.assertRaises(KafkaException) as ctx:
            p.init_transactions(10)
        self.assertIn("INVALID_TRANSACTION_TIMEOUT", str(ctx.exception).upper().replace(" ", "_"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
