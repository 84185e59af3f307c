#!/usr/bin/python3
"""The simulated multi-broker cluster (`minikafka --brokers 3`) through real clients.

Run:  MINIKAFKA_BIN=build/broker/minikafka /usr/bin/python3 tests/clients/python/test_cluster.py
(or through ctest: `ctest -R clients.cluster`).

One process, three brokers (ids 1-3, three "kafka HOST:PORT" banner lines). The tests drive the
cluster through the admin API's control routes, the public contract for tests in any language:

  POST /v1/control/brokers/{id}/down | /up
  POST /v1/control/topics/{topic}/partitions/{p}/leader   {"broker": id}
  POST /v1/control/groups/{group}/coordinator             {"broker": id}

and check with kafka-python and confluent-kafka (librdkafka) that:
  * a topic with replication factor 3 shows 3 replicas and 3 in-sync replicas (Metadata, the
    admin clients, the CLI's `topics --describe`, the admin API), and a down broker leaves the ISR;
  * a producer keeps producing while the leader of its partition moves, and while a broker is
    taken down and brought back, and every acknowledged record is read back exactly once, in
    order (records whose acknowledgement was lost may also be there: that is what
    at-least-once means, which is why kafka-python, without idempotence, is not held to more);
  * a consumer group keeps consuming through a coordinator move and the loss of the coordinating
    broker, and commits its offsets to wherever the coordinator went.
"""

import json
import os
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402

from mkfixture import BrokerTestCase, broker_binary, wait_until  # noqa: E402

BROKERS = 3
# How many more records must be acknowledged (or consumed) after each cluster event, to show
# that the client kept going through it.
PROGRESS = 30
STEP_TIMEOUT_S = 40


def other(broker_id, n=BROKERS):
    return broker_id % n + 1


class ClusterTest(BrokerTestCase):
    broker_args = ("--brokers", str(BROKERS), "--group-min-session-timeout-ms", "1000")

    # -- the admin API ---------------------------------------------------------------------
    def http(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.broker.admin_url() + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def ok(self, method, path, body=None):
        status, j = self.http(method, path, body)
        self.assertEqual(status, 200 if method != "POST" or "/control/" in path else 201, (path, j))
        return j

    def create_topic(self, name, partitions, rf):
        status, j = self.http("POST", "/v1/topics", {"name": name, "partitions": partitions,
                                                      "replication_factor": rf})
        self.assertEqual(status, 201, j)
        return j

    def partition(self, topic, p):
        return self.ok("GET", f"/v1/topics/{topic}")["partition_details"][p]

    def move_leader(self, topic, p, broker):
        j = self.ok("POST", f"/v1/control/topics/{topic}/partitions/{p}/leader", {"broker": broker})
        self.assertEqual(j["leader"], broker)
        return j

    def down(self, broker):
        self.assertFalse(self.ok("POST", f"/v1/control/brokers/{broker}/down")["up"])

    def up(self, broker):
        self.assertTrue(self.ok("POST", f"/v1/control/brokers/{broker}/up")["up"])

    def coordinator(self, group):
        return self.ok("GET", f"/v1/groups/{group}")["coordinator"]

    def setUp(self):
        super().setUp()
        # Every test starts with all brokers up, whatever the previous one left behind.
        self.addCleanup(lambda: [self.http("POST", f"/v1/control/brokers/{b}/up")
                                 for b in range(1, BROKERS + 1)])

    def progress(self, count, after, what):
        """Waits until count() reaches after + PROGRESS."""
        wait_until(lambda: count() >= after + PROGRESS, timeout=STEP_TIMEOUT_S,
                   message=f"{PROGRESS} more {what} after {after}")

    # -- cluster chaos while a producer runs --------------------------------------------------
    def chaos_while_producing(self, topic, acked):
        """Moves the leader of partition 0, takes the leader's broker down and back up, then
        moves leadership back to the preferred replica, waiting for producer progress after
        each step."""
        count = lambda: len(acked)  # noqa: E731
        self.progress(count, 0, "acknowledged records")
        first = self.partition(topic, 0)["leader"]
        moved = self.move_leader(topic, 0, other(first))
        self.assertEqual(moved["leader_epoch"], 1)
        self.progress(count, count(), "acknowledged records after a leader move")
        victim = moved["leader"]
        self.down(victim)
        after_down = self.partition(topic, 0)
        self.assertNotEqual(after_down["leader"], victim)
        self.assertNotIn(victim, after_down["isr"])
        self.progress(count, count(), "acknowledged records with a broker down")
        self.up(victim)
        self.assertIn(victim, self.partition(topic, 0)["isr"])
        self.progress(count, count(), "acknowledged records after the broker came back")
        preferred = self.partition(topic, 0)["replicas"][0]
        if self.partition(topic, 0)["leader"] != preferred:
            self.move_leader(topic, 0, preferred)
        self.progress(count, count(), "acknowledged records after the last move")

    def read_back(self, topic, end):
        """Every (value, offset) of partition 0 up to `end`, read with kafka-python."""
        consumer = self.closing(KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                                              enable_auto_commit=False, consumer_timeout_ms=2000,
                                              fetch_max_wait_ms=100, request_timeout_ms=11000,
                                              api_version_auto_timeout_ms=5000))
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        out = []
        deadline = time.monotonic() + 30
        while (not out or out[-1][1] < end - 1) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                out.extend((r.value, r.offset) for r in records)
        return out

    def assert_acked_once_in_order(self, acked, read):
        acked_values = [v for v, _ in acked]
        self.assertEqual(len(set(acked_values)), len(acked_values))
        wanted = set(acked_values)
        seen = [v for v, _ in read if v in wanted]
        self.assertEqual(seen, acked_values, "acknowledged records read back exactly once, in order")
        offsets = {v: o for v, o in read}
        for v, o in acked:
            self.assertEqual(offsets[v], o, f"{v!r} was acknowledged at offset {o}")

    # -- tests ---------------------------------------------------------------------------------
    def test_three_brokers_and_replication_factor_three_everywhere(self):
        topic = self.topic_name()
        self.create_topic(topic, 3, 3)
        # The admin API.
        c = self.ok("GET", "/v1/cluster")
        self.assertEqual([b["id"] for b in c["brokers"]], [1, 2, 3])
        self.assertEqual(len(self.broker.bootstraps), 3)
        for p in self.ok("GET", f"/v1/topics/{topic}")["partition_details"]:
            self.assertEqual(sorted(p["replicas"]), [1, 2, 3])
            self.assertEqual(p["isr"], p["replicas"])
        # kafka-python's admin client.
        admin = self.closing(KafkaAdminClient(bootstrap_servers=self.bootstrap,
                                              api_version_auto_timeout_ms=5000))
        described = admin.describe_topics([topic])[0]
        self.assertEqual(len(described["partitions"]), 3)
        for p in described["partitions"]:
            self.assertEqual(sorted(p["replicas"]), [1, 2, 3])
            self.assertEqual(sorted(p["isr"]), [1, 2, 3])
        leaders = {p["leader"] for p in described["partitions"]}
        self.assertEqual(leaders, {1, 2, 3})  # one partition led by each broker
        # librdkafka's metadata.
        md = AdminClient({"bootstrap.servers": self.bootstrap}).list_topics(timeout=10)
        self.assertEqual(sorted(md.brokers), [1, 2, 3])
        for p in md.topics[topic].partitions.values():
            self.assertEqual(sorted(p.replicas), [1, 2, 3])
            self.assertEqual(sorted(p.isrs), [1, 2, 3])
        # The CLI's describe: ReplicationFactor 3, leaders, replicas and ISR per partition.
        out = subprocess.run([broker_binary(), "topics", "--describe", "--topic", topic,
                              "--bootstrap-server", self.bootstrap],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("ReplicationFactor: 3", out.stdout)
        self.assertEqual(out.stdout.count("Replicas: "), 3, out.stdout)
        # A broker taken down leaves every ISR and the broker list; metadata shows it.
        self.down(2)
        md = AdminClient({"bootstrap.servers": self.bootstrap}).list_topics(timeout=10)
        self.assertEqual(sorted(md.brokers), [1, 3])
        for p in md.topics[topic].partitions.values():
            self.assertNotIn(2, p.isrs)
            self.assertIn(p.leader, (1, 3))
        self.up(2)

    def test_kafka_python_producer_keeps_producing_through_leader_moves_and_a_broker_loss(self):
        topic = self.topic_name("kp-produce")
        self.create_topic(topic, 1, 3)
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", retries=100,
                                 retry_backoff_ms=50, reconnect_backoff_ms=50,
                                 reconnect_backoff_max_ms=500,
                                 max_in_flight_requests_per_connection=1, linger_ms=0,
                                 request_timeout_ms=5000, metadata_max_age_ms=5000,
                                 api_version_auto_timeout_ms=5000, max_block_ms=20000)
        self.closing(producer, lambda: producer.close(timeout=5))
        acked, failed = [], []
        stop = threading.Event()

        def produce():
            i = 0
            while not stop.is_set():
                value = f"kp-{i}".encode()
                try:
                    md = producer.send(topic, value=value, partition=0).get(timeout=60)
                    acked.append((value, md.offset))
                except Exception as exc:  # noqa: BLE001 - counted and reported below
                    failed.append((value, repr(exc)))
                i += 1

        worker = threading.Thread(target=produce, daemon=True)
        worker.start()
        try:
            self.chaos_while_producing(topic, acked)
        finally:
            stop.set()
            worker.join(timeout=70)
        self.assertFalse(worker.is_alive())
        self.assertEqual(failed, [], "every send is acknowledged in the end (retries)")
        end = self.partition(topic, 0)["end_offset"]
        self.assert_acked_once_in_order(acked, self.read_back(topic, end))

    def test_confluent_idempotent_producer_keeps_producing_through_leader_moves_and_a_broker_loss(self):
        topic = self.topic_name("ck-produce")
        self.create_topic(topic, 1, 3)
        producer = Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True,
                             "acks": "all", "linger.ms": 1, "retry.backoff.ms": 50,
                             "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 500,
                             "topic.metadata.refresh.interval.ms": 1000,
                             "message.timeout.ms": 60000, "broker.address.family": "v4"})
        acked, failed = [], []
        lock = threading.Lock()

        def report(err, msg):
            with lock:
                (failed if err else acked).append((msg.value(), err or msg.offset()))

        stop = threading.Event()

        def produce():
            i = 0
            while not stop.is_set():
                try:
                    producer.produce(topic, value=f"ck-{i}".encode(), partition=0, on_delivery=report)
                    i += 1
                except BufferError:
                    pass
                producer.poll(0.001)
            producer.flush(60)

        worker = threading.Thread(target=produce, daemon=True)
        worker.start()
        try:
            self.chaos_while_producing(topic, acked)
        finally:
            stop.set()
            worker.join(timeout=70)
        self.assertFalse(worker.is_alive())
        self.assertEqual(failed, [])
        end = self.partition(topic, 0)["end_offset"]
        read = self.read_back(topic, end)
        self.assert_acked_once_in_order(acked, read)
        # Idempotence: nothing at all is duplicated, acknowledged or not.
        values = [v for v, _ in read]
        self.assertEqual(len(values), len(set(values)))

    def chaos_while_consuming(self, group, consumed, produce_more):
        """Moves the group's coordinator, then takes the coordinating broker down and back up,
        waiting after each step for the consumer to go on consuming what is produced."""
        count = lambda: len(consumed)  # noqa: E731
        wait_until(lambda: self.http("GET", f"/v1/groups/{group}")[1].get("state") == "Stable",
                   timeout=STEP_TIMEOUT_S, message="the group to be Stable")
        self.progress(count, 0, "consumed records")
        generation = self.ok("GET", f"/v1/groups/{group}")["generation_id"]
        first = self.coordinator(group)
        target = other(first)
        moved = self.ok("POST", f"/v1/control/groups/{group}/coordinator", {"broker": target})
        self.assertEqual(moved["coordinator"], target)
        at = count()
        produce_more()
        self.progress(count, at, "consumed records after a coordinator move")
        self.down(target)
        self.assertNotEqual(self.coordinator(group), target)
        at = count()
        produce_more()
        self.progress(count, at, "consumed records with the coordinator's broker down")
        self.up(target)
        at = count()
        produce_more()
        self.progress(count, at, "consumed records after the broker came back")
        # The member carried on through all of it: no rebalance, the same generation.
        g = self.ok("GET", f"/v1/groups/{group}")
        self.assertEqual((g["state"], g["generation_id"], len(g["members"])), ("Stable", generation, 1), g)

    def produce_values(self, topic, values):
        producer = Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True,
                             "linger.ms": 1, "broker.address.family": "v4",
                             "message.timeout.ms": 30000})
        for v in values:
            producer.produce(topic, value=v)
            producer.poll(0)
        self.assertEqual(producer.flush(30), 0)

    def test_confluent_consumer_group_keeps_consuming_through_a_coordinator_move_and_a_broker_loss(self):
        topic = self.topic_name("ck-group")
        group = self.topic_name("ck-group-g")
        self.create_topic(topic, 3, 3)
        produced = []

        def produce_more():
            batch = [f"g-{len(produced) + i}".encode() for i in range(200)]
            self.produce_values(topic, batch)
            produced.extend(batch)

        produce_more()
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group,
                             "auto.offset.reset": "earliest", "enable.auto.commit": True,
                             "auto.commit.interval.ms": 200, "session.timeout.ms": 6000,
                             "heartbeat.interval.ms": 300, "fetch.wait.max.ms": 100,
                             "topic.metadata.refresh.interval.ms": 1000,
                             "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 500,
                             "broker.address.family": "v4"})
        consumed = []
        stop = threading.Event()

        def consume():
            consumer.subscribe([topic])
            while not stop.is_set():
                msg = consumer.poll(0.1)
                if msg is not None and not msg.error():
                    consumed.append(msg.value())
                    time.sleep(0.002)  # slow enough that the cluster events happen mid-stream

        worker = threading.Thread(target=consume, daemon=True)
        worker.start()
        try:
            self.chaos_while_consuming(group, consumed, produce_more)
            wait_until(lambda: set(consumed) >= set(produced), timeout=STEP_TIMEOUT_S,
                       message="every produced record consumed")
        finally:
            stop.set()
            worker.join(timeout=20)
        try:
            consumer.commit(asynchronous=False)
        except KafkaException as exc:  # the auto-commit already committed everything
            self.assertEqual(exc.args[0].code(), KafkaError._NO_OFFSET, exc)
        consumer.close()
        # The commits reached the coordinator wherever it was: nothing is left to consume.
        g = self.ok("GET", f"/v1/groups/{group}")
        self.assertEqual(g["total_lag"], 0, g)

    def test_kafka_python_consumer_group_keeps_consuming_through_a_coordinator_move_and_a_broker_loss(self):
        topic = self.topic_name("kp-group")
        group = self.topic_name("kp-group-g")
        self.create_topic(topic, 3, 3)
        produced = []

        def produce_more():
            batch = [f"p-{len(produced) + i}".encode() for i in range(200)]
            self.produce_values(topic, batch)
            produced.extend(batch)

        produce_more()
        consumer = KafkaConsumer(topic, bootstrap_servers=self.bootstrap, group_id=group,
                                 auto_offset_reset="earliest", enable_auto_commit=True,
                                 auto_commit_interval_ms=200, session_timeout_ms=6000,
                                 heartbeat_interval_ms=300, fetch_max_wait_ms=100,
                                 request_timeout_ms=11000, retry_backoff_ms=50,
                                 reconnect_backoff_ms=50, reconnect_backoff_max_ms=500,
                                 metadata_max_age_ms=1000, max_poll_records=20,
                                 api_version_auto_timeout_ms=5000)
        consumed = []
        stop = threading.Event()

        def consume():
            while not stop.is_set():
                for records in consumer.poll(timeout_ms=100).values():
                    consumed.extend(r.value for r in records)

        worker = threading.Thread(target=consume, daemon=True)
        worker.start()
        try:
            self.chaos_while_consuming(group, consumed, produce_more)
            wait_until(lambda: set(consumed) >= set(produced), timeout=STEP_TIMEOUT_S,
                       message="every produced record consumed")
        finally:
            stop.set()
            worker.join(timeout=20)
        consumer.commit()
        consumer.close()
        g = self.ok("GET", f"/v1/groups/{group}")
        self.assertEqual(g["total_lag"], 0, g)

    def test_requests_to_a_down_broker_are_refused_and_metadata_leaves_it_out(self):
        topic = self.topic_name()
        self.create_topic(topic, 1, 1)
        leader = self.partition(topic, 0)["leader"]
        self.down(leader)
        host, port = self.broker.bootstraps[leader - 1].rsplit(":", 1)
        import socket
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection((host, int(port)), timeout=5).close()
        p = self.partition(topic, 0)
        self.assertEqual(p["leader"], -1)  # replication factor 1: nobody else has it
        md = AdminClient({"bootstrap.servers": self.bootstrap}).list_topics(topic, timeout=10)
        self.assertNotIn(leader, md.brokers)
        self.assertEqual(md.topics[topic].partitions[0].leader, -1)
        self.up(leader)
        self.assertEqual(self.partition(topic, 0)["leader"], leader)
        socket.create_connection((host, int(port)), timeout=5).close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
