#!/usr/bin/python3
"""Fault rules (POST /v1/control/faults, docs/TESTING.md) seen by real clients.

Run:  MINIKAFKA_BIN=build/broker/minikafka /usr/bin/python3 tests/clients/python/test_faults.py
(or `ctest -R clients.faults`).

For kafka-python 2.0.2 and confluent-kafka (librdkafka):
  * a producer retries through three injected NOT_LEADER_OR_FOLLOWER and every record is
    stored exactly once;
  * an injected delay shows in the client's produce latency within +-20 %;
  * a dropped Produce makes the client time out and retry, and the record is stored once;
  * a closed connection is survived (reconnect and retry), the record stored once;
  * "the broker is down" (every request closes its connection): a consumer gets nothing, then
    everything once the broker is "back", and its group survives.
Records are read back over the admin API (GET /v1/topics/T/partitions/0/records).
"""

import os
import statistics
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka import Consumer, Producer  # noqa: E402
from kafka import KafkaProducer  # noqa: E402

from mkfixture import BrokerTestCase, http_json, wait_until  # noqa: E402

DELAY_MS = 300


class FaultsTest(BrokerTestCase):
    def setUp(self):
        super().setUp()
        self.admin = self.broker.admin_url()
        self.assertIsNotNone(self.admin)
        status, body = http_json(self.admin, "DELETE", "/v1/control/faults")
        self.assertEqual(status, 200, body)

    # -- helpers ------------------------------------------------------------------------
    def new_topic(self):
        name = self.topic_name()
        status, body = http_json(self.admin, "POST", "/v1/topics", {"name": name, "partitions": 1})
        self.assertEqual(status, 201, body)
        return name

    def add_rule(self, rule):
        status, body = http_json(self.admin, "POST", "/v1/control/faults", rule)
        self.assertEqual(status, 201, body)
        return body["id"]

    def rule(self, rule_id):
        status, body = http_json(self.admin, "GET", f"/v1/control/faults/{rule_id}")
        self.assertEqual(status, 200, body)
        return body

    def stored_values(self, topic):
        status, body = http_json(self.admin, "GET",
                                 f"/v1/topics/{topic}/partitions/0/records?offset=0&limit=1000")
        self.assertEqual(status, 200, body)
        return [r["value"] for r in body["records"]]

    def kafka_python_producer(self, **extra):
        conf = dict(bootstrap_servers=self.bootstrap, client_id="faults-kp", retries=5,
                    retry_backoff_ms=20, max_in_flight_requests_per_connection=1,
                    api_version_auto_timeout_ms=5000, request_timeout_ms=10000, linger_ms=0)
        conf.update(extra)
        return self.closing(KafkaProducer(**conf))

    def confluent_producer(self, **extra):
        conf = {"bootstrap.servers": self.bootstrap, "client.id": "faults-ck",
                "retry.backoff.ms": 20, "linger.ms": 0, "max.in.flight": 1}
        conf.update(extra)
        p = Producer(conf)
        self.closing(p, lambda: p.flush(5))
        return p

    def confluent_send(self, producer, topic, value, timeout=20):
        """Produces one record and waits for its delivery report; returns the report error."""
        result = {}
        producer.produce(topic, value=value, partition=0,
                         on_delivery=lambda err, msg: result.setdefault("err", err))
        deadline = time.monotonic() + timeout
        while "err" not in result and time.monotonic() < deadline:
            producer.poll(0.05)
        self.assertIn("err", result, "no delivery report")
        return result["err"]

    # -- retry through NOT_LEADER_OR_FOLLOWER ---------------------------------------------
    def test_kafka_python_retries_through_three_not_leader_errors(self):
        topic = self.new_topic()
        producer = self.kafka_python_producer()
        producer.send(topic, b"warm-up", partition=0).get(timeout=10)  # metadata is known
        rule = self.add_rule({"api": "Produce", "topic": topic,
                              "error": "NOT_LEADER_OR_FOLLOWER", "count": 3})
        values = [f"v{i}".encode() for i in range(10)]
        for v in values:
            producer.send(topic, v, partition=0).get(timeout=20)
        self.assertEqual(self.rule(rule)["fired"], 3)
        self.assertEqual(self.stored_values(topic), ["warm-up"] + [v.decode() for v in values])

    def test_confluent_kafka_retries_through_three_not_leader_errors(self):
        topic = self.new_topic()
        producer = self.confluent_producer()
        self.assertIsNone(self.confluent_send(producer, topic, b"warm-up"))
        rule = self.add_rule({"api": "Produce", "topic": topic,
                              "error": "NOT_LEADER_OR_FOLLOWER", "count": 3})
        values = [f"v{i}".encode() for i in range(10)]
        for v in values:
            self.assertIsNone(self.confluent_send(producer, topic, v))
        self.assertEqual(self.rule(rule)["fired"], 3)
        self.assertEqual(self.stored_values(topic), ["warm-up"] + [v.decode() for v in values])

    def test_kafka_python_retries_one_failing_partition_while_the_others_go_through(self):
        # kafka-python puts every ready partition for a broker into one Produce request
        # (librdkafka 2.0.2 sends one partition per request): only partition 1 fails in it.
        topic = self.topic_name()
        status, body = http_json(self.admin, "POST", "/v1/topics", {"name": topic, "partitions": 3})
        self.assertEqual(status, 201, body)
        producer = self.kafka_python_producer(linger_ms=50)
        producer.send(topic, b"warm-up", partition=0).get(timeout=10)
        rule = self.add_rule({"api": "Produce", "topic": topic, "partition": 1,
                              "error": "NOT_LEADER_OR_FOLLOWER", "count": 3})
        futures = [producer.send(topic, f"v{i}".encode(), partition=i % 3) for i in range(30)]
        for f in futures:
            f.get(timeout=20)
        self.assertEqual(self.rule(rule)["fired"], 3)
        for p in range(3):
            status, body = http_json(self.admin, "GET",
                                     f"/v1/topics/{topic}/partitions/{p}/records?offset=0&limit=100")
            expected = (["warm-up"] if p == 0 else []) + [f"v{i}" for i in range(p, 30, 3)]
            self.assertEqual([r["value"] for r in body["records"]], expected)
        mixed = [e for e in self.http_trace(topic)
                 if "NOT_LEADER_OR_FOLLOWER" in e["error_codes"] and len(e["topics"][0]["partitions"]) > 1]
        self.assertTrue(mixed, "a Produce for several partitions with only partition 1 failing")

    def http_trace(self, topic):
        status, body = http_json(self.admin, "GET", f"/v1/trace?api=Produce&topic={topic}")
        self.assertEqual(status, 200, body)
        return body

    # -- delay ---------------------------------------------------------------------------
    def assert_added_latency(self, send, topic):
        def median_latency(n=3):
            samples = []
            for i in range(n):
                t0 = time.monotonic()
                send(f"d{i}".encode())
                samples.append(time.monotonic() - t0)
            return statistics.median(samples)

        send(b"warm-up")
        base = median_latency()
        rule = self.add_rule({"api": "Produce", "topic": topic, "delay_ms": DELAY_MS})
        delayed = median_latency()
        added_ms = (delayed - base) * 1000
        self.assertGreaterEqual(added_ms, DELAY_MS * 0.8, f"base {base:.4f}s delayed {delayed:.4f}s")
        self.assertLessEqual(added_ms, DELAY_MS * 1.2, f"base {base:.4f}s delayed {delayed:.4f}s")
        self.assertEqual(self.rule(rule)["fired"], 3)

    def test_kafka_python_sees_the_injected_delay(self):
        topic = self.new_topic()
        producer = self.kafka_python_producer()
        self.assert_added_latency(lambda v: producer.send(topic, v, partition=0).get(timeout=10), topic)

    def test_confluent_kafka_sees_the_injected_delay(self):
        topic = self.new_topic()
        producer = self.confluent_producer()
        self.assert_added_latency(lambda v: self.assertIsNone(self.confluent_send(producer, topic, v)),
                                  topic)

    # -- drop: the client times out and retries ---------------------------------------------
    def test_kafka_python_times_out_on_a_dropped_produce_and_retries(self):
        topic = self.new_topic()
        producer = self.kafka_python_producer(request_timeout_ms=1000)
        producer.send(topic, b"warm-up", partition=0).get(timeout=10)
        rule = self.add_rule({"api": "Produce", "topic": topic, "action": "drop", "count": 1})
        t0 = time.monotonic()
        producer.send(topic, b"after-drop", partition=0).get(timeout=20)
        self.assertGreaterEqual(time.monotonic() - t0, 0.9, "the client waited for its request timeout")
        self.assertEqual(self.rule(rule)["fired"], 1)
        self.assertEqual(self.stored_values(topic), ["warm-up", "after-drop"])

    def test_confluent_kafka_times_out_on_a_dropped_produce_and_retries(self):
        topic = self.new_topic()
        producer = self.confluent_producer(**{"socket.timeout.ms": 1000})
        self.assertIsNone(self.confluent_send(producer, topic, b"warm-up"))
        rule = self.add_rule({"api": "Produce", "topic": topic, "action": "drop", "count": 1})
        t0 = time.monotonic()
        self.assertIsNone(self.confluent_send(producer, topic, b"after-drop"))
        self.assertGreaterEqual(time.monotonic() - t0, 0.9, "the client waited for its request timeout")
        self.assertEqual(self.rule(rule)["fired"], 1)
        self.assertEqual(self.stored_values(topic), ["warm-up", "after-drop"])

    # -- close: the client reconnects ---------------------------------------------------------
    def test_kafka_python_survives_a_closed_connection(self):
        topic = self.new_topic()
        producer = self.kafka_python_producer()
        producer.send(topic, b"warm-up", partition=0).get(timeout=10)
        rule = self.add_rule({"api": "Produce", "topic": topic, "action": "close", "count": 1})
        producer.send(topic, b"after-close", partition=0).get(timeout=20)
        self.assertEqual(self.rule(rule)["fired"], 1)
        self.assertEqual(self.stored_values(topic), ["warm-up", "after-close"])

    def test_confluent_kafka_survives_a_closed_connection(self):
        topic = self.new_topic()
        producer = self.confluent_producer()
        self.assertIsNone(self.confluent_send(producer, topic, b"warm-up"))
        rule = self.add_rule({"api": "Produce", "topic": topic, "action": "close", "count": 1})
        self.assertIsNone(self.confluent_send(producer, topic, b"after-close"))
        self.assertEqual(self.rule(rule)["fired"], 1)
        self.assertEqual(self.stored_values(topic), ["warm-up", "after-close"])


    # -- the broker is down, then back ---------------------------------------------------------
    def test_consumer_when_the_broker_is_down(self):
        topic = self.new_topic()
        group = f"{topic}-g"
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group,
                             "client.id": "down-consumer", "auto.offset.reset": "earliest",
                             "reconnect.backoff.max.ms": 200, "session.timeout.ms": 30000})
        self.closing(consumer)
        consumer.subscribe([topic])
        got = []

        def poll(seconds):
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                msg = consumer.poll(0.1)
                if msg is not None and not msg.error():
                    got.append(msg.value().decode())

        self.http_records(topic, ["before"])
        wait_until(lambda: poll(0.2) or got == ["before"], timeout=20, message="the first record")
        # "Down": every Kafka request closes its connection (the admin API still works).
        rule = self.add_rule({"action": "close"})
        # A fetch already parked when the rule came is answered as usual (with whatever arrives
        # meanwhile); the consumer's next Fetch finds the broker "down".
        _, seen = http_json(self.admin, "GET", "/v1/await/requests?api=Fetch&client_id=down-consumer&min=0")
        fetches = seen["state"]["count"]
        done = []
        waiter = threading.Thread(target=lambda: done.append(http_json(
            self.admin, "GET", f"/v1/await/requests?api=Fetch&client_id=down-consumer&min={fetches + 1}")))
        waiter.start()
        while waiter.is_alive():
            poll(0.1)
        self.assertEqual(done[0][0], 200, done)
        self.http_records(topic, ["while-down-1", "while-down-2"])
        poll(1.5)
        self.assertEqual(got, ["before"], "nothing arrives while the broker is down")
        self.assertGreater(self.rule(rule)["fired"], 0)
        # "Back up".
        status, _ = http_json(self.admin, "DELETE", f"/v1/control/faults/{rule}")
        self.assertEqual(status, 200)
        wait_until(lambda: poll(0.2) or len(got) == 3, timeout=30, message="the records written while down")
        self.assertEqual(got, ["before", "while-down-1", "while-down-2"])
        status, body = http_json(self.admin, "GET", f"/v1/await/groups/{group}?state=Stable&members=1")
        self.assertEqual(status, 200, body)

    def http_records(self, topic, values):
        status, body = http_json(self.admin, "POST", f"/v1/topics/{topic}/records",
                                 {"records": [{"value": v, "partition": 0} for v in values]})
        self.assertEqual(status, 200, body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
