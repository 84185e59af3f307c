#!/usr/bin/python3
"""The test control plane (docs/TESTING.md) seen by kafka-python and confluent-kafka, apart
from fault rules (test_faults.py).

Run:  MINIKAFKA_BIN=build/broker/minikafka /usr/bin/python3 tests/clients/python/test_control.py
(or `ctest -R clients.control`). One test:
  ... test_control.py ResetTest.test_reset_leaves_an_empty_broker_that_the_next_test_reuses

  * reset (POST /v1/control/reset): one broker serves a whole session; the next test reuses the
    same topic and group names and sees none of the old records or offsets;
  * await oracles (GET /v1/await/...) answer within a few ms of the condition holding (records
    produced by confluent-kafka, a kafka-python group becoming Stable with two members, its lag
    reaching 0 after it commits) and 408 with the last observed state on timeout;
  * the request trace (GET /v1/trace) shows what kafka-python and confluent-kafka sent: APIs,
    versions, topics and partitions, client ids, librdkafka's software name and version, the
    fault rule that acted and the error it injected; GET /v1/await/requests counts them;
  * Kafka-version emulation (PUT /v1/control/api-versions, --emulate-kafka-version): kafka-python
    infers each emulated release from 0.10.2 to 2.4 (the newest it can tell apart without
    DescribeAcls), and librdkafka negotiates the emulated release's versions down (trace);
  * the manual clock (--clock manual, POST /v1/control/clock/advance) expires a consumer-group
    member (black-holed by a drop rule so that it cannot rejoin meanwhile) and a retention
    window at once, without waiting.
"""

import os
import sys
import threading
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



class AwaitTest(ControlTestCase):
    def await_in_background(self, path):
        """Starts a GET long-poll on a thread; returns a function giving (status, body, t_answer)."""
        out = {}

        def run():
            status, body = http_json(self.admin, "GET", path, timeout=60)
            out.update(status=status, body=body, at=time.monotonic())

        t = threading.Thread(target=run, daemon=True)
        t.start()

        def result(timeout=30):
            t.join(timeout)
            self.assertFalse(t.is_alive(), f"{path} did not answer")
            return out["status"], out["body"], out["at"]
        return result

    def test_await_records_answers_within_milliseconds_of_the_produce(self):
        topic = self.topic_name()
        self.http("POST", "/v1/topics", {"name": topic, "partitions": 3}, expect=201)
        result = self.await_in_background(f"/v1/await/topics/{topic}/records?min=30")
        p = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 0})
        for i in range(30):
            p.produce(topic, value=f"v{i}".encode(), partition=i % 3)
        self.assertEqual(p.flush(10), 0)
        acked = time.monotonic()
        status, body, at = result()
        self.assertEqual(status, 200, body)
        self.assertEqual(body["state"]["records"], 30)
        # The answer left when the last append happened, before the producer saw its ack.
        self.assertLess(at - acked, 0.05, f"answered {1000 * (at - acked):.1f} ms after the ack")

    def test_await_times_out_with_408_and_the_last_state(self):
        topic = self.topic_name()
        self.http("POST", "/v1/topics", {"name": topic, "partitions": 1}, expect=201)
        t0 = time.monotonic()
        status, body = http_json(self.admin, "GET", f"/v1/await/topics/{topic}/records?min=1&timeout_ms=200")
        self.assertGreaterEqual(time.monotonic() - t0, 0.2)
        self.assertEqual(status, 408, body)
        self.assertEqual(body["error"], "timeout")
        self.assertEqual(body["state"]["records"], 0)
        status, body = http_json(self.admin, "GET",
                                 f"/v1/await/groups/{topic}-g?state=Stable&members=2&timeout_ms=50")
        self.assertEqual(status, 408, body)
        self.assertEqual((body["state"]["state"], body["state"]["members"]), ("Dead", 0))

    def test_await_group_stable_with_two_members_then_lag_zero(self):
        topic = self.topic_name()
        group = f"{topic}-g"
        self.http("POST", "/v1/topics", {"name": topic, "partitions": 2}, expect=201)
        stable = self.await_in_background(f"/v1/await/groups/{group}?state=Stable&members=2")
        consumers = [self.closing(KafkaConsumer(
            topic, bootstrap_servers=self.bootstrap, group_id=group, client_id=f"member-{i}",
            session_timeout_ms=10000, heartbeat_interval_ms=200, fetch_max_wait_ms=100,
            auto_offset_reset="earliest", enable_auto_commit=False, **KP)) for i in range(2)]
        got = []
        stop = threading.Event()

        def poll_forever(c):
            while not stop.is_set():
                for records in c.poll(timeout_ms=100).values():
                    got.extend(r.value for r in records)
                    c.commit()
        threads = [threading.Thread(target=poll_forever, args=(c,), daemon=True) for c in consumers]
        for t in threads:
            t.start()
        try:
            status, body, _ = stable()
            self.assertEqual(status, 200, body)
            self.assertEqual(body["state"]["members"], 2)

            producer = KafkaProducer(bootstrap_servers=self.bootstrap, **KP)
            for i in range(20):
                producer.send(topic, f"r{i}".encode(), partition=i % 2)
            producer.flush()
            producer.close()
            status, body = http_json(self.admin, "GET",
                                     f"/v1/await/groups/{group}/lag?topic={topic}&max=0&timeout_ms=20000",
                                     timeout=30)
            self.assertEqual(status, 200, body)
            self.assertEqual(body["state"]["total_lag"], 0)
            self.assertEqual(sorted(got), sorted(f"r{i}".encode() for i in range(20)))
        finally:
            stop.set()
            for t in threads:
                t.join(5)


class TraceTest(ControlTestCase):
    def test_trace_shows_what_kafka_python_sent(self):
        topic = self.topic_name()
        self.http("POST", "/v1/topics", {"name": topic, "partitions": 2}, expect=201)
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, client_id="trace-kp", **KP)
        producer.send(topic, b"one", partition=1).get(timeout=10)
        producer.close()
        entries = self.http("GET", "/v1/trace?client_id=trace-kp")
        apis = [e["api"] for e in entries]
        self.assertIn("ApiVersions", apis)
        self.assertIn("Metadata", apis)
        produce = [e for e in entries if e["api"] == "Produce"]
        self.assertEqual(len(produce), 1, entries)
        self.assertEqual(produce[0]["topics"], [{"name": topic, "partitions": [1]}])
        self.assertEqual(produce[0]["outcome"], "answered")
        self.assertEqual(produce[0]["error_codes"], [])
        self.assertGreaterEqual(produce[0]["version"], 2)
        self.assertEqual(self.http("GET", "/v1/trace?client_id=trace-kp&api=Produce"), produce)

    def test_trace_shows_librdkafka_software_and_injected_faults(self):
        topic = self.topic_name()
        self.http("POST", "/v1/topics", {"name": topic, "partitions": 1}, expect=201)
        rule = self.http("POST", "/v1/control/faults",
                         {"api": "Produce", "topic": topic, "error": "NOT_LEADER_OR_FOLLOWER", "count": 1},
                         expect=201)
        p = Producer({"bootstrap.servers": self.bootstrap, "client.id": "trace-ck", "retry.backoff.ms": 20})
        p.produce(topic, value=b"v", partition=0)
        self.assertEqual(p.flush(10), 0)
        status, seen = http_json(self.admin, "GET",
                                 "/v1/await/requests?api=Produce&client_id=trace-ck&min=2&timeout_ms=5000")
        self.assertEqual(status, 200, seen)
        produce = self.http("GET", "/v1/trace?client_id=trace-ck&api=Produce")
        self.assertEqual([e["outcome"] for e in produce], ["fault_error", "answered"])
        self.assertEqual(produce[0]["fault_rule"], rule["id"])
        self.assertEqual(produce[0]["error_codes"], ["NOT_LEADER_OR_FOLLOWER"])
        software = produce[1].get("client_software", {})
        self.assertTrue(software.get("name"), produce[1])
        # confluent-kafka-python announces itself: "confluent-kafka-python", "1.7.0-rdkafka-2.0.2".
        self.assertEqual(software["name"], "confluent-kafka-python")
        self.assertIn("rdkafka", software["version"])


class VersionEmulationTest(ControlTestCase):
    def tearDown(self):
        http_json(self.admin, "DELETE", "/v1/control/api-versions")
        super().tearDown()

    def test_kafka_python_infers_the_emulated_release(self):
        for version, expected in [("0.10.2", (0, 10, 2)), ("0.11.0", (0, 11, 0)), ("1.0", (1, 0, 0)),
                                  ("1.1", (1, 1, 0)), ("2.0", (2, 0, 0)), ("2.1", (2, 1, 0)),
                                  ("2.2", (2, 2, 0)), ("2.3", (2, 3, 0)), ("2.4", (2, 4, 0))]:
            with self.subTest(version=version):
                self.http("PUT", "/v1/control/api-versions", {"kafka_version": version})
                producer = KafkaProducer(bootstrap_servers=self.bootstrap, **KP)
                try:
                    self.assertEqual(producer.config["api_version"], expected)
                finally:
                    producer.close()

    def test_kafka_python_works_against_emulated_2_0(self):
        topic = self.topic_name()
        self.http("PUT", "/v1/control/api-versions", {"kafka_version": "2.0"})
        self.http("POST", "/v1/topics", {"name": topic, "partitions": 1}, expect=201)
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, client_id="kp-2.0", **KP)
        self.assertEqual(producer.config["api_version"], (2, 0, 0))
        producer.send(topic, b"old-protocol", partition=0).get(timeout=10)
        producer.close()
        consumer = self.closing(KafkaConsumer(topic, bootstrap_servers=self.bootstrap, group_id=f"{topic}-g",
                                              auto_offset_reset="earliest", consumer_timeout_ms=10000, **KP))
        self.assertEqual([m.value for m in consumer][:1], [b"old-protocol"])
        versions = {e["api"]: e["version"] for e in self.http("GET", "/v1/trace?client_id=kp-2.0")}
        self.assertLessEqual(versions["Produce"], 6)

    def test_librdkafka_negotiates_down_to_emulated_2_0(self):
        topic = self.topic_name()
        self.http("POST", "/v1/topics", {"name": topic, "partitions": 1}, expect=201)
        self.http("PUT", "/v1/control/api-versions", {"kafka_version": "2.0"})
        p = Producer({"bootstrap.servers": self.bootstrap, "client.id": "rdk-2.0"})
        p.produce(topic, value=b"v", partition=0)
        self.assertEqual(p.flush(10), 0)
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"{topic}-g", "client.id": "rdk-2.0",
                      "auto.offset.reset": "earliest"})
        self.closing(c)
        c.subscribe([topic])
        wait_until(lambda: (m := c.poll(0.2)) is not None and not m.error(), timeout=20,
                   message="a message through the 2.0 protocol")
        entries = self.http("GET", "/v1/trace?client_id=rdk-2.0")
        top = {}
        for e in entries:
            if e["outcome"] != "refused":
                top[e["api"]] = max(top.get(e["api"], 0), e["version"])
        refused = [(e["api"], e["version"]) for e in entries if e["outcome"] == "refused"]
        self.assertIn(("ApiVersions", 3), refused)  # asked v3 first, told "0-2" (KIP-511)
        self.assertEqual(top["Produce"], 6, top)   # librdkafka 2.0.2 would send v7 to 2.1+
        self.assertEqual(top["Fetch"], 8, top)     # and Fetch v11 to 2.3+
        self.assertLessEqual(top["Metadata"], 6, top)
        self.assertLessEqual(top["ApiVersions"], 2, top)


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
