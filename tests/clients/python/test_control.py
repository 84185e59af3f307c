#!/usr/bin/python3
"""The test control plane (docs/TESTING.md) seen by kafka-python and confluent-kafka, apart
from fault rules (test_faults.py).

Run:  MINIKAFKA_BIN=build/broker/minikafka /usr/bin/python3 tests/clients/python/test_control.py
(or `ctest -R clients.control`). One test:
  ... test_control.py ResetTest.test_reset_leaves_an_empty_broker_that_the_next_test_reuses

  * reset (POST /v1/control/reset): one broker serves a whole session; the next test reuses the
    same topic and group names and sees none of the old records or offsets.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka import Consumer, Producer  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer  # noqa: E402

from mkfixture import BrokerTestCase, http_json, wait_until  # noqa: E402

KP = dict(api_version_auto_timeout_ms=5000, request_timeout_ms=11000)


class ControlTestCase(BrokerTestCase):
    def setUp(self):
        super().setUp()
        self.admin = self.broker.admin_url()
        self.assertIsNotNone(self.admin)

    def http(self, method, path, body=None, expect=200):
        status, parsed = http_json(self.admin, method, path, body)
        if expect is not None:
            self.assertEqual(status, expect, f"{method} {path}: {parsed}")
        return parsed

    def confluent_consume(self, topic, group, n, timeout=20):
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group,
                             "auto.offset.reset": "earliest", "enable.auto.commit": False})
        self.closing(consumer)
        consumer.subscribe([topic])
        values = []
        deadline = time.monotonic() + timeout
        while len(values) < n and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is not None and not msg.error():
                values.append(msg.value().decode())
        return values


class ResetTest(ControlTestCase):
    def test_reset_leaves_an_empty_broker_that_the_next_test_reuses(self):
        # "Test A": a topic, records, a consumer group with committed offsets, a fault rule.
        self.http("POST", "/v1/topics", {"name": "orders", "partitions": 1}, expect=201)
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, **KP)
        for i in range(5):
            producer.send("orders", f"old-{i}".encode(), partition=0)
        producer.flush()
        producer.close()
        consumer = KafkaConsumer("orders", bootstrap_servers=self.bootstrap, group_id="orders-app",
                                 auto_offset_reset="earliest", enable_auto_commit=False,
                                 consumer_timeout_ms=10000, **KP)
        got = []
        for msg in consumer:
            got.append(msg.value.decode())
            if len(got) == 5:
                break
        consumer.commit()
        consumer.close()
        self.assertEqual(got, [f"old-{i}" for i in range(5)])
        self.http("POST", "/v1/control/faults", {"api": "Fetch", "delay_ms": 1}, expect=201)
        self.assertEqual(self.http("GET", "/v1/groups/orders-app")["offsets"][0]["committed_offset"], 5)

        reset = self.http("POST", "/v1/control/reset")
        self.assertIn("orders", reset["deleted_topics"])
        self.assertEqual(reset["deleted_groups"], ["orders-app"])
        self.assertEqual(reset["deleted_fault_rules"], 1)
        self.assertEqual(self.http("GET", "/v1/topics"), [])
        self.assertEqual(self.http("GET", "/v1/groups"), [])
        self.assertEqual(self.http("GET", "/v1/control/faults"), [])

        # "Test B", same broker, same names, another client: nothing of test A is left.
        self.http("POST", "/v1/topics", {"name": "orders", "partitions": 1}, expect=201)
        p = Producer({"bootstrap.servers": self.bootstrap})
        for i in range(2):
            p.produce("orders", value=f"new-{i}".encode(), partition=0)
        self.assertEqual(p.flush(10), 0)
        self.assertEqual(self.confluent_consume("orders", "orders-app", 2), ["new-0", "new-1"])
        records = self.http("GET", "/v1/topics/orders/partitions/0/records?offset=0")["records"]
        self.assertEqual([r["value"] for r in records], ["new-0", "new-1"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
