#!/usr/bin/python3
"""The test control plane (docs/TESTING.md) seen by kafka-python and confluent-kafka, apart
from fault rules (test_faults.py).

Run:  MINIKAFKA_BIN=build/broker/minikafka /usr/bin/python3 tests/clients/python/test_control.py
(or `ctest -R clients.control`). One test:
  ... test_control.py ResetTest.test_reset_leaves_an_empty_broker_that_the_next_test_reuses

  * reset (POST /v1/control/reset): one broker serves a whole session; the next test reuses the
    same topic and group names and sees none of the old records or offsets;
  * the manual clock (--clock manual, POST /v1/control/clock/advance) expires a consumer-group
    member (black-holed by a drop rule so that it cannot rejoin meanwhile) and a retention
    window at once, without waiting.
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



class ManualClockTest(ControlTestCase):
    broker_args = ("--clock", "manual")

    def advance(self, ms):
        return self.http("POST", "/v1/control/clock/advance", {"ms": ms})

    def test_manual_clock_expires_a_group_member(self):
        topic = self.topic_name()
        self.http("POST", "/v1/topics", {"name": topic, "partitions": 2}, expect=201)
        consumer = self.closing(KafkaConsumer(
            topic, bootstrap_servers=self.bootstrap, group_id=f"{topic}-g", client_id="victim",
            session_timeout_ms=10000, heartbeat_interval_ms=1000, fetch_max_wait_ms=100,
            auto_offset_reset="earliest", **KP))
        wait_until(lambda: consumer.poll(timeout_ms=100) is not None and consumer.assignment(),
                   timeout=20, message="the consumer is assigned its partitions")
        group = self.http("GET", f"/v1/groups/{topic}-g")
        self.assertEqual((group["state"], len(group["members"])), ("Stable", 1))
        # Black-hole the client, so it can neither heartbeat nor rejoin, then let 11 s "pass".
        rule = self.http("POST", "/v1/control/faults", {"client_id": "victim", "action": "drop"},
                         expect=201)
        before = self.http("GET", "/v1/control/clock")
        t0 = time.monotonic()
        after = self.advance(11000)
        self.assertLess(time.monotonic() - t0, 2.0, "no real waiting")
        self.assertEqual(after["wall_ms"] - before["wall_ms"], 11000)
        group = self.http("GET", f"/v1/groups/{topic}-g")
        self.assertEqual(group["members"], [], group)
        self.assertEqual(group["state"], "Empty")
        # Let the client talk again: it finds its member gone and joins again.
        self.http("DELETE", f"/v1/control/faults/{rule['id']}")
        wait_until(lambda: (consumer.poll(timeout_ms=100) is not None
                            and len(self.http("GET", f"/v1/groups/{topic}-g")["members"]) == 1),
                   timeout=40, message="the consumer rejoins")

    def test_manual_clock_passes_a_retention_window(self):
        topic = self.topic_name()
        self.http("POST", "/v1/topics", {"name": topic, "partitions": 1,
                                         "configs": {"retention.ms": "3600000"}}, expect=201)
        now = self.http("GET", "/v1/control/clock")["wall_ms"]
        p = Producer({"bootstrap.servers": self.bootstrap})
        for i in range(3):
            p.produce(topic, value=f"v{i}".encode(), partition=0, timestamp=now)
        self.assertEqual(p.flush(10), 0)

        def offsets():
            d = self.http("GET", f"/v1/topics/{topic}")["partition_details"][0]
            return d["start_offset"], d["end_offset"]

        self.advance(1800000)
        self.assertEqual(offsets(), (0, 3), "half an hour later: still inside the window")
        self.advance(1800001)
        self.assertEqual(offsets(), (3, 3), "one hour later: gone")
        self.assertEqual(self.confluent_consume(topic, f"{topic}-g", 1, timeout=2), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
