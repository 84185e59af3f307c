#!/usr/bin/python3
"""End-to-end tests of minikafka's HTTP admin API (broker/admin/admin_api.h).

Every JSON response these tests receive is validated against the schema /v1/openapi.json
documents for it (openapi_check.py, python3-jsonschema).

Run:  MINIKAFKA_BIN=build/broker/minikafka /usr/bin/python3 tests/clients/python/test_admin_http.py
(or through ctest: `ctest -R clients.admin_http`). One test:
  ... test_admin_http.py AdminHttpTest.test_keep_alive_several_requests_on_one_connection

The HTTP client is the standard library's http.client (a real HTTP/1.1 client; raw sockets only
where http.client hides what is being tested: pipelining, HTTP/1.0, an oversized body). The
broker is started with --port 0, so its admin API binds an ephemeral port too and the banner's
second line is "admin http://HOST:PORT" (mkfixture.Broker.admin_url()).

Every route is checked against kafka-python 2.0.2 (Debian's python3-kafka) on the same broker:
topics created over HTTP are in the next Metadata response and the reverse, records cross over
in both directions with the same offsets/keys/values/headers/timestamps, keyed records land
where kafka-python's DefaultPartitioner (murmur2) puts them, and group lag is the usage notes'
"kafka left" computation (shared/usage-notes: end_offsets(partitions) minus committed(tp)).
/metrics is parsed with prometheus_client.parser (Debian's python3-prometheus-client).

No test sleeps to synchronise: waiting is mkfixture.wait_until (polling a condition).
"""

import base64
import http.client
import json
import os
import socket
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request
from urllib.parse import quote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic  # noqa: E402
from kafka.partitioner.default import DefaultPartitioner  # noqa: E402
from kafka.structs import OffsetAndMetadata  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from mkfixture import BrokerTestCase, unique_name, wait_until  # noqa: E402
from openapi_check import OpenApi  # noqa: E402

CLIENT_ID = "test"
COMMON = dict(client_id=CLIENT_ID, api_version_auto_timeout_ms=5000, request_timeout_ms=11000)
GROUP_CONSUMER = dict(COMMON, session_timeout_ms=6000, heartbeat_interval_ms=300,
                      max_poll_interval_ms=10000, request_timeout_ms=15000,
                      fetch_max_wait_ms=100, auto_offset_reset="earliest",
                      enable_auto_commit=False)
MAX_BODY = 8 * 1024 * 1024  # the admin API's request body limit (broker/admin/http_server.cc)
HTTP_TIMEOUT_S = 15


class Response:
    """One HTTP response: status, headers, raw body, and the body parsed as JSON (or None)."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.json = None
        if (headers.get("Content-Type") or "").startswith("application/json") and body:
            self.json = json.loads(body.decode("utf-8"))

    def __repr__(self):
        return f"<{self.status} {self.reason} {self.body[:300]!r}>"


def encode_body(body):
    if body is None:
        return None
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


def expected_bytes_json(b):
    """How the admin API renders key/value/header bytes read with encoding=base64: a base64
    string, None as null. (With the default encoding, text, bytes that are not UTF-8 make the
    read fail with 422 "not_text" instead of changing the field's shape.)"""
    if b is None:
        return None
    return base64.b64encode(b).decode("ascii")


def b64(b):
    return base64.b64encode(b).decode("ascii")


def recent_ms(ago_ms=60_000):
    """A record timestamp a little in the past. (Timestamps older than retention.ms, 7 days by
    default, are deleted by the broker's retention check within a second: test records must not
    carry fixed dates.)"""
    return int(time.time() * 1000) - ago_ms


def split_responses(raw):
    """[(status, headers dict (lower-case names), body)] of HTTP/1.1 responses written back to
    back on one connection (each framed by Content-Length)."""
    out = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError(f"truncated response: {raw[:300]!r}")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:n]))
        raw = rest[n:]
    return out


def kafka_python_partition(key_bytes, partitions):
    """The partition kafka-python's DefaultPartitioner picks for a keyed record."""
    all_parts = list(range(partitions))
    return DefaultPartitioner()(key_bytes, all_parts, all_parts)


def parse_metrics(text):
    """{(sample name, frozenset(labels)): value} and {family name: type} of a /metrics text."""
    samples = {}
    types = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples, types


def sample(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


class AdminHttpTest(BrokerTestCase):
    """The admin API and kafka-python against one broker; each test uses its own topics and
    groups."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        url = cls.broker.admin_url()
        if not url:
            raise AssertionError(
                "the broker printed no 'admin http://HOST:PORT' line after 'kafka HOST:PORT' "
                f"(started with --port 0); stderr:\n{cls.broker.stderr_text()}")
        parts = urlsplit(url)
        cls.admin_base = url
        cls.admin_host = parts.hostname
        cls.admin_port = parts.port
        # Every JSON response below is also checked against the broker's own OpenAPI document.
        with urllib.request.urlopen(url + "/v1/openapi.json", timeout=HTTP_TIMEOUT_S) as r:
            cls.openapi = OpenApi(json.loads(r.read()))

    # -- HTTP helpers -------------------------------------------------------------------------
    def connection(self):
        conn = http.client.HTTPConnection(self.admin_host, self.admin_port, timeout=HTTP_TIMEOUT_S)
        self._closers.append(conn.close)
        return conn

    def request(self, method, path, body=None, headers=None, conn=None):
        own = conn is None
        if own:
            conn = http.client.HTTPConnection(self.admin_host, self.admin_port,
                                              timeout=HTTP_TIMEOUT_S)
        try:
            data = encode_body(body)
            hdrs = dict(headers or {})
            if data is not None and "Content-Type" not in hdrs:
                hdrs["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=hdrs)
            r = conn.getresponse()
            payload = r.read()
            resp = Response(r.status, r.reason, r.headers, payload)
            if resp.json is not None:
                self.openapi.check_response(method, path, resp.status, resp.json,
                                            resp.headers.get("Content-Type", ""))
            return resp
        finally:
            if own:
                conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def ok(self, resp, status=200):
        """Asserts a successful JSON response with `status`; returns its JSON."""
        self.assertEqual(resp.status, status, f"expected {status}, got {resp!r}")
        self.assertTrue(resp.headers.get("Content-Type", "").startswith("application/json"),
                        f"Content-Type {resp.headers.get('Content-Type')!r}")
        self.assertIsNotNone(resp.json, resp)
        return resp.json

    def assert_error(self, resp, status, error=None, what=""):
        """Asserts the documented error shape {"error": code, "message": text} with `status`."""
        label = f"{what}: " if what else ""
        self.assertEqual(resp.status, status, f"{label}expected {status}, got {resp!r}")
        self.assertTrue(resp.headers.get("Content-Type", "").startswith("application/json"),
                        f"{label}error Content-Type {resp.headers.get('Content-Type')!r}")
        self.assertIsInstance(resp.json, dict, f"{label}{resp!r}")
        self.assertEqual(set(resp.json), {"error", "message"}, f"{label}{resp!r}")
        self.assertIsInstance(resp.json["error"], str, f"{label}{resp!r}")
        self.assertTrue(resp.json["error"], f"{label}{resp!r}")
        self.assertIsInstance(resp.json["message"], str, f"{label}{resp!r}")
        self.assertTrue(resp.json["message"], f"{label}{resp!r}")
        if error is not None:
            self.assertEqual(resp.json["error"], error, f"{label}{resp!r}")
        return resp.json

    def create_topic(self, name=None, partitions=1, configs=None):
        name = name or self.topic_name()
        body = {"name": name, "partitions": partitions}
        if configs is not None:
            body["configs"] = configs
        detail = self.ok(self.post("/v1/topics", body), 201)
        self.assertEqual(detail["name"], name)
        return name

    def produce(self, topic, records, encoding=None):
        body = {"records": records}
        if encoding is not None:
            body["encoding"] = encoding
        return self.ok(self.post(f"/v1/topics/{topic}/records", body))

    def read(self, topic, partition, offset=None, limit=None, **params):
        q = []
        if offset is not None:
            q.append(f"offset={offset}")
        if limit is not None:
            q.append(f"limit={limit}")
        q += [f"{k}={v}" for k, v in params.items()]
        path = f"/v1/topics/{topic}/partitions/{partition}/records" + ("?" + "&".join(q) if q else "")
        return self.ok(self.get(path))

    def describe(self, topic):
        return self.ok(self.get(f"/v1/topics/{topic}"))

    def group(self, group_id):
        return self.ok(self.get(f"/v1/groups/{group_id}"))

    def metrics(self):
        r = self.get("/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers.get("Content-Type", "").startswith("text/plain"), r.headers)
        return parse_metrics(r.body.decode("utf-8"))

    # -- Kafka client factories ------------------------------------------------------------------
    def kadmin(self):
        return self.closing(KafkaAdminClient(bootstrap_servers=self.bootstrap, **COMMON))

    def producer(self, **overrides):
        cfg = dict(COMMON, max_block_ms=10000, linger_ms=0)
        cfg.update(overrides)
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, **cfg)
        return self.closing(producer, lambda: producer.close(timeout=5))

    def consumer(self, *topics, **overrides):
        cfg = dict(COMMON, group_id=None, enable_auto_commit=False,
                   auto_offset_reset="earliest", fetch_max_wait_ms=100)
        cfg.update(overrides)
        return self.closing(KafkaConsumer(*topics, bootstrap_servers=self.bootstrap, **cfg))

    def consume_all(self, topic, partitions, count):
        """Every record of `partitions` (assigned, from the beginning) once `count` arrived."""
        consumer = self.consumer()
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        got = []

        def enough():
            for recs in consumer.poll(timeout_ms=200).values():
                got.extend(recs)
            return len(got) >= count

        wait_until(enough, timeout=20, message=f"{count} records from {topic}")
        return sorted(got, key=lambda r: (r.partition, r.offset))

    # ==== endpoints ==============================================================================
    def test_health(self):
        self.assertEqual(self.ok(self.get("/health")), {"status": "ok"})

    def test_health_with_urllib(self):
        """urllib.request (the other stdlib client) against the same server: /health and an
        error status (HTTPError carries the JSON error body)."""
        with urllib.request.urlopen(self.admin_base + "/health", timeout=HTTP_TIMEOUT_S) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(json.loads(r.read()), {"status": "ok"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(self.admin_base + "/v1/topics/" + unique_name("nope"),
                                   timeout=HTTP_TIMEOUT_S)
        self.assertEqual(cm.exception.code, 404)
        body = json.loads(cm.exception.read())
        self.assertEqual(set(body), {"error", "message"})

    def test_cluster(self):
        c = self.ok(self.get("/v1/cluster"))
        self.assertEqual(c["broker_id"], 1)  # default --node-id
        self.assertIsInstance(c["cluster_id"], str)
        self.assertTrue(c["cluster_id"])
        self.assertIsInstance(c["version"], str)
        self.assertTrue(c["version"])
        self.assertEqual(c["storage"], "memory")
        # One Kafka listener per broker (--brokers N), in id order from broker_id.
        kafka = [l for l in c["listeners"] if l["name"] == "kafka"]
        self.assertEqual(len(kafka), len(self.broker.bootstraps), c["listeners"])
        for i, (listener, address) in enumerate(zip(kafka, self.broker.bootstraps)):
            host, port = address.rsplit(":", 1)
            self.assertEqual(listener["port"], int(port))
            self.assertEqual(listener["host"], host)
            self.assertEqual(listener["node_id"], c["broker_id"] + i)
        self.assertEqual([b["id"] for b in c["brokers"]], [l["node_id"] for l in kafka])
        self.assertTrue(all(b["up"] for b in c["brokers"]), c["brokers"])
        self.assertEqual(c["controller_id"], c["broker_id"])
        admin = [l for l in c["listeners"] if l["name"] == "admin"]
        self.assertEqual(len(admin), 1, c["listeners"])
        self.assertEqual(admin[0]["port"], self.admin_port)
        # uptime_ms is a non-negative integer that grows.
        first = c["uptime_ms"]
        self.assertIsInstance(first, int)
        self.assertGreaterEqual(first, 0)
        wait_until(lambda: self.ok(self.get("/v1/cluster"))["uptime_ms"] > first, timeout=5,
                   message="uptime_ms to grow")
        # The topic count matches the topic list.
        self.create_topic()
        c2 = self.ok(self.get("/v1/cluster"))
        self.assertEqual(c2["topics"], len(self.ok(self.get("/v1/topics"))))

    def test_topic_create_list_describe_delete(self):
        name = self.topic_name()
        overrides = {"retention.ms": "3600000", "max.message.bytes": 2000000}
        created = self.ok(self.post("/v1/topics", {"name": name, "partitions": 3,
                                                   "replication_factor": 1,
                                                   "configs": overrides}), 201)
        self.assertEqual(created["name"], name)
        self.assertEqual(created["partitions"], 3)
        self.assertEqual(created["replication_factor"], 1)
        self.assertIsInstance(created["id"], str)
        self.assertTrue(created["id"])
        # Overrides (a JSON number is taken as its text) and defaults for the rest.
        self.assertEqual(created["config_overrides"],
                         {"retention.ms": "3600000", "max.message.bytes": "2000000"})
        self.assertEqual(created["configs"]["retention.ms"], "3600000")
        self.assertEqual(created["configs"]["max.message.bytes"], "2000000")
        self.assertEqual(created["configs"]["cleanup.policy"], "delete")
        self.assertEqual(created["configs"]["retention.bytes"], "-1")
        self.assertEqual([p["partition"] for p in created["partition_details"]], [0, 1, 2])
        for p in created["partition_details"]:
            self.assertEqual((p["start_offset"], p["end_offset"], p["size_bytes"]), (0, 0, 0), p)
            self.assertEqual(p["replicas"], [p["leader"]], p)  # broker 1, or any with --brokers N
            self.assertEqual(p["isr"], [p["leader"]], p)

        described = self.describe(name)
        self.assertEqual(described, created)

        listed = {t["name"]: t for t in self.ok(self.get("/v1/topics"))}
        self.assertIn(name, listed)
        self.assertEqual(listed[name], {"name": name, "id": created["id"], "partitions": 3,
                                        "replication_factor": 1})

        # Defaults: one partition (num.partitions) and no overrides.
        plain = self.topic_name("plain")
        d = self.ok(self.post("/v1/topics", {"name": plain}), 201)
        self.assertEqual(d["partitions"], 1)
        self.assertEqual(d["config_overrides"], {})
        self.assertNotEqual(d["id"], created["id"])

        self.assertEqual(self.ok(self.delete(f"/v1/topics/{name}")), {"deleted": name})
        self.assert_error(self.get(f"/v1/topics/{name}"), 404, "UNKNOWN_TOPIC_OR_PARTITION")
        self.assertNotIn(name, {t["name"] for t in self.ok(self.get("/v1/topics"))})
        self.assert_error(self.delete(f"/v1/topics/{name}"), 404)
        # The name can be reused; the new topic has a new id.
        again = self.ok(self.post("/v1/topics", {"name": name, "partitions": 1}), 201)
        self.assertNotEqual(again["id"], created["id"])

    def test_describe_offsets_and_sizes(self):
        name = self.create_topic(partitions=2)
        self.produce(name, [{"value": f"p0-{i}", "partition": 0} for i in range(3)])
        self.produce(name, [{"value": "p1-0", "partition": 1}])
        d = self.describe(name)
        p0, p1 = d["partition_details"]
        self.assertEqual((p0["start_offset"], p0["end_offset"]), (0, 3))
        self.assertEqual((p1["start_offset"], p1["end_offset"]), (0, 1))
        self.assertGreater(p0["size_bytes"], 0)
        self.assertGreater(p1["size_bytes"], 0)
        size1 = p1["size_bytes"]
        # kafka-python traffic moves the same numbers.
        producer = self.producer()
        for i in range(4):
            producer.send(name, value=b"kp-%d" % i, partition=1).get(timeout=10)
        d = self.describe(name)
        self.assertEqual(d["partition_details"][1]["end_offset"], 5)
        self.assertGreater(d["partition_details"][1]["size_bytes"], size1)
        consumer = self.consumer()
        tps = [TopicPartition(name, 0), TopicPartition(name, 1)]
        ends = consumer.end_offsets(tps)
        begins = consumer.beginning_offsets(tps)
        for p in d["partition_details"]:
            tp = TopicPartition(name, p["partition"])
            self.assertEqual(p["end_offset"], ends[tp])
            self.assertEqual(p["start_offset"], begins[tp])

    def test_grow_partitions(self):
        name = self.create_topic(partitions=2)
        d = self.ok(self.post(f"/v1/topics/{name}/partitions", {"count": 5}))
        self.assertEqual(d["partitions"], 5)
        self.assertEqual([p["partition"] for p in d["partition_details"]], [0, 1, 2, 3, 4])
        self.assertEqual(self.describe(name)["partitions"], 5)
        # Kafka clients see the new partitions at once.
        self.assertEqual(self.consumer().partitions_for_topic(name), {0, 1, 2, 3, 4})
        r = self.produce(name, [{"value": "x", "partition": 4}])
        self.assertEqual(r["results"], [{"partition": 4, "base_offset": 0}])
        # Shrinking, or "growing" to the same count, is refused.
        self.assert_error(self.post(f"/v1/topics/{name}/partitions", {"count": 3}), 400)
        self.assert_error(self.post(f"/v1/topics/{name}/partitions", {"count": 5}), 400)
        self.assert_error(self.post(f"/v1/topics/{name}/partitions", {"count": "6"}), 400)
        self.assert_error(self.post(f"/v1/topics/{name}/partitions", {}), 400)
        self.assert_error(self.post(f"/v1/topics/{name}/partitions", "[6]"), 400)
        self.assertEqual(self.describe(name)["partitions"], 5)
        self.assert_error(self.post(f"/v1/topics/{unique_name('nope')}/partitions", {"count": 9}),
                          404, "UNKNOWN_TOPIC_OR_PARTITION")

    # ---- producing and reading records ---------------------------------------------------------
    def test_produce_string_encoding(self):
        name = self.create_topic()
        r = self.produce(name, [
            {"key": "k1", "value": "v1", "headers": {"h1": "a", "h2": None}},
            {"value": "v2"},
            {"key": None, "value": None},
            {"key": "ключ", "value": "значение ✓"},
            {"value": 42},
            {"value": {"a": [1, 2]}},
        ])
        self.assertEqual(r, {"topic": name, "results": [{"partition": 0, "base_offset": 0}]})
        got = self.read(name, 0)
        self.assertEqual(got["end_offset"], 6)
        self.assertEqual(got["next_offset"], 6)
        recs = got["records"]
        self.assertEqual([x["offset"] for x in recs], list(range(6)))
        self.assertEqual([x["partition"] for x in recs], [0] * 6)
        self.assertEqual([(x["key"], x["value"]) for x in recs],
                         [("k1", "v1"), (None, "v2"), (None, None), ("ключ", "значение ✓"),
                          (None, "42"), (None, '{"a":[1,2]}')])
        self.assertEqual(recs[0]["headers"], [{"key": "h1", "value": "a"},
                                              {"key": "h2", "value": None}])
        self.assertEqual(recs[1]["headers"], [])
        # kafka-python reads the same bytes.
        kp = self.consume_all(name, [0], 6)
        self.assertEqual([(m.offset, m.key, m.value) for m in kp],
                         [(0, b"k1", b"v1"), (1, None, b"v2"), (2, None, None),
                          (3, "ключ".encode(), "значение ✓".encode()), (4, None, b"42"),
                          (5, None, b'{"a":[1,2]}')])
        self.assertEqual(list(kp[0].headers), [("h1", b"a"), ("h2", None)])

    def test_produce_base64_encoding(self):
        name = self.create_topic()
        value = bytes(range(256))
        key = b"\xff\xfe\x00key"
        hdr = b"\x80\x81"
        r = self.produce(name, [
            {"key": b64(key), "value": b64(value), "headers": {"bin": b64(hdr), "txt": b64(b"ok")}},
            {"value": b64(b"plain text")},
            {"value": base64.urlsafe_b64encode(b"\xfb\xff\xfe").decode()},  # URL-safe alphabet
        ], encoding="base64")
        self.assertEqual(r["results"], [{"partition": 0, "base_offset": 0}])
        # Read back in the same encoding: every field is a base64 string (or null).
        recs = self.read(name, 0, encoding="base64")["records"]
        self.assertEqual(recs[0]["key"], b64(key))
        self.assertEqual(recs[0]["value"], b64(value))
        self.assertEqual(recs[0]["headers"], [{"key": "bin", "value": b64(hdr)},
                                              {"key": "txt", "value": b64(b"ok")}])
        self.assertEqual(recs[1]["value"], b64(b"plain text"))
        self.assertEqual(recs[2]["value"], b64(b"\xfb\xff\xfe"))
        # As text (the default), UTF-8 comes back as a string; other bytes fail the read, naming
        # the record and the field, rather than coming back in another shape.
        self.assertEqual(self.read(name, 0, offset=1, limit=1)["records"][0]["value"], "plain text")
        err = self.assert_error(self.get(f"/v1/topics/{name}/partitions/0/records"), 422, "not_text")
        self.assertIn("offset 0", err["message"])
        kp = self.consume_all(name, [0], 3)
        self.assertEqual((kp[0].key, kp[0].value), (key, value))
        self.assertEqual(list(kp[0].headers), [("bin", hdr), ("txt", b"ok")])
        self.assertEqual(kp[1].value, b"plain text")
        self.assertEqual(kp[2].value, b"\xfb\xff\xfe")
        # Not base64, or not a string: 400, and nothing is appended.
        self.assert_error(self.post(f"/v1/topics/{name}/records",
                                    {"encoding": "base64", "records": [{"value": "!!not base64!!"}]}),
                          400)
        self.assert_error(self.post(f"/v1/topics/{name}/records",
                                    {"encoding": "base64", "records": [{"value": 12}]}), 400)
        self.assert_error(self.post(f"/v1/topics/{name}/records",
                                    {"encoding": "base64",
                                     "records": [{"value": "b2s=", "headers": {"h": "%%"}}]}), 400)
        self.assertEqual(self.describe(name)["partition_details"][0]["end_offset"], 3)

    def test_produce_json_encoding(self):
        name = self.create_topic()
        value = {"a": 1, "b": [True, None, "x"], "c": {"d": 1.5}}
        self.produce(name, [
            {"key": "user-1", "value": value, "headers": {"h": {"x": 1}}},
            {"key": 7, "value": "text"},
        ], encoding="json")
        kp = self.consume_all(name, [0], 2)
        # "json" serialises every value, as kafka-python's json.dumps value_serializer does.
        self.assertEqual(json.loads(kp[0].key), "user-1")
        self.assertEqual(json.loads(kp[0].value), value)
        self.assertEqual(json.loads(dict(kp[0].headers)["h"]), {"x": 1})
        self.assertEqual(kp[1].key, b"7")
        self.assertEqual(kp[1].value, b'"text"')
        recs = self.read(name, 0)["records"]
        self.assertEqual(recs[0]["key"], '"user-1"')
        self.assertEqual(json.loads(recs[0]["value"]), value)
        self.assertEqual(recs[1]["value"], '"text"')

    def test_produce_explicit_partition_and_timestamp(self):
        name = self.create_topic(partitions=3)
        ts = recent_ms()
        r = self.produce(name, [
            {"value": "a", "partition": 2, "timestamp": ts},
            {"value": "b", "partition": 0, "timestamp": ts + 1},
            {"value": "c", "partition": 2, "timestamp": ts + 2},
            {"key": "k", "value": "d", "partition": 1},  # explicit wins over the key
        ])
        self.assertEqual(sorted(r["results"], key=lambda x: x["partition"]),
                         [{"partition": 0, "base_offset": 0}, {"partition": 1, "base_offset": 0},
                          {"partition": 2, "base_offset": 0}])
        p2 = self.read(name, 2)["records"]
        self.assertEqual([(x["offset"], x["value"], x["timestamp"]) for x in p2],
                         [(0, "a", ts), (1, "c", ts + 2)])
        self.assertEqual([(x["value"], x["timestamp"]) for x in self.read(name, 0)["records"]],
                         [("b", ts + 1)])
        self.assertEqual([(x["key"], x["value"]) for x in self.read(name, 1)["records"]],
                         [("k", "d")])
        r2 = self.produce(name, [{"value": "e", "partition": 2}])
        self.assertEqual(r2["results"], [{"partition": 2, "base_offset": 2}])
        for bad, status in (({"value": "x", "partition": 3}, 404),
                            ({"value": "x", "partition": -1}, 404),
                            ({"value": "x", "partition": "1"}, 400)):
            self.assert_error(self.post(f"/v1/topics/{name}/records", {"records": [bad]}),
                              status, what=repr(bad))

    def test_key_partitioning_matches_kafka_python(self):
        partitions = 7
        name = self.create_topic(partitions=partitions)
        text_keys = ["", "a", "ab", "abc", "abcd", "abcde", "key-0", "key-1", "key-42",
                     "user:1234567", "ключ", "日本語のキー", "x" * 101]
        text_keys += [f"order-{i}" for i in range(40)]
        # Binary keys, including bytes >= 0x80 in the 4-byte body and in each tail length.
        bin_keys = [bytes(range(200, 200 + n)) for n in range(1, 10)] + [b"\xff" * 4, b"\x80\x00"]
        self.produce(name, [{"key": k, "value": f"t{i}"} for i, k in enumerate(text_keys)])
        self.produce(name, [{"key": b64(k), "value": b64(b"b%d" % i)} for i, k in enumerate(bin_keys)],
                     encoding="base64")
        where = {}
        for p in range(partitions):
            for rec in self.read(name, p, limit=1000, key_encoding="base64")["records"]:
                where[base64.b64decode(rec["key"])] = p
        all_keys = [k.encode() for k in text_keys] + bin_keys
        self.assertEqual(len(where), len(all_keys))
        expected = {k: kafka_python_partition(k, partitions) for k in all_keys}
        self.assertEqual(where, expected)
        self.assertGreater(len(set(where.values())), 1)  # the keys do spread
        # kafka-python's producer puts the same keys on the same partitions.
        producer = self.producer()
        futures = [(k, producer.send(name, key=k, value=b"kp")) for k in all_keys]
        for k, f in futures:
            self.assertEqual(f.get(timeout=10).partition, where[k], k)

    def test_read_records_offset_limit(self):
        name = self.create_topic()
        # Three requests: three batches, so reads start in the middle of a batch.
        self.produce(name, [{"value": f"v{i}"} for i in range(0, 4)])
        self.produce(name, [{"value": f"v{i}"} for i in range(4, 7)])
        self.produce(name, [{"value": f"v{i}"} for i in range(7, 10)])
        got = self.read(name, 0, offset=3, limit=4)
        self.assertEqual([(x["offset"], x["value"]) for x in got["records"]],
                         [(3, "v3"), (4, "v4"), (5, "v5"), (6, "v6")])
        self.assertEqual((got["next_offset"], got["end_offset"]), (7, 10))
        self.assertEqual((got["topic"], got["partition"]), (name, 0))
        everything = self.read(name, 0)
        self.assertEqual([x["value"] for x in everything["records"]], [f"v{i}" for i in range(10)])
        self.assertEqual(everything["next_offset"], 10)
        at_end = self.read(name, 0, offset=10)
        self.assertEqual((at_end["records"], at_end["next_offset"]), ([], 10))
        # Paging with next_offset visits every record once, in order.
        seen, offset = [], 0
        while offset < 10:
            page = self.read(name, 0, offset=offset, limit=3)
            self.assertLessEqual(len(page["records"]), 3)
            self.assertTrue(page["records"])
            seen += [x["offset"] for x in page["records"]]
            offset = page["next_offset"]
        self.assertEqual(seen, list(range(10)))
        base = f"/v1/topics/{name}/partitions/0/records"
        for q in ("offset=11", "offset=-1", "offset=abc", "limit=0", "limit=-3", "limit=abc",
                  "limit=10001"):
            self.assert_error(self.get(f"{base}?{q}"), 400, what=q)
        self.assert_error(self.get(f"/v1/topics/{name}/partitions/1/records"), 404,
                          "UNKNOWN_TOPIC_OR_PARTITION")
        self.assert_error(self.get(f"/v1/topics/{name}/partitions/x/records"), 400)

    # ---- consistency with kafka-python -------------------------------------------------------
    def kafka_topic_configs(self, admin, name):
        """{config: value} of a topic through kafka-python's describe_configs."""
        entries = {}
        for response in admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)]):
            for resource in response.resources:
                error_code, _msg, _type, rname, configs = resource[:5]
                self.assertEqual((error_code, rname), (0, name))
                for entry in configs:
                    entries[entry[0]] = entry[1]
        return entries

    def test_topic_created_over_http_is_visible_to_kafka_python(self):
        name = self.create_topic(partitions=4, configs={"retention.ms": "3600000"})
        # "immediately": the HTTP answer comes after the topic exists; no waiting here.
        consumer = self.consumer()
        self.assertIn(name, consumer.topics())
        self.assertEqual(consumer.partitions_for_topic(name), {0, 1, 2, 3})
        admin = self.kadmin()
        described = admin.describe_topics([name])
        self.assertEqual(described[0]["error_code"], 0)
        self.assertEqual(len(described[0]["partitions"]), 4)
        self.assertEqual(self.kafka_topic_configs(admin, name).get("retention.ms"), "3600000")
        self.ok(self.post(f"/v1/topics/{name}/partitions", {"count": 6}))
        self.assertEqual(self.consumer().partitions_for_topic(name), {0, 1, 2, 3, 4, 5})
        self.ok(self.delete(f"/v1/topics/{name}"))
        self.assertNotIn(name, self.consumer().topics())

    def test_topic_created_with_kafka_python_is_visible_over_http(self):
        name = self.topic_name()
        admin = self.kadmin()
        admin.create_topics([NewTopic(name, 3, 1, topic_configs={"retention.ms": "60000"})])
        d = self.describe(name)
        self.assertEqual(d["partitions"], 3)
        self.assertEqual(d["config_overrides"], {"retention.ms": "60000"})
        self.assertEqual(d["configs"]["retention.ms"], "60000")
        self.assertIn(name, {t["name"] for t in self.ok(self.get("/v1/topics"))})
        admin.create_partitions({name: NewPartitions(5)})
        self.assertEqual(self.describe(name)["partitions"], 5)
        # Creating it again over HTTP is a conflict.
        self.assert_error(self.post("/v1/topics", {"name": name, "partitions": 1}), 409,
                          "TOPIC_ALREADY_EXISTS")
        admin.delete_topics([name])
        self.assert_error(self.get(f"/v1/topics/{name}"), 404)

    def test_records_produced_by_kafka_python_are_readable_over_http(self):
        name = self.create_topic(partitions=2)
        producer = self.producer()
        base = recent_ms()
        sent = [
            dict(key=b"k-0", value=b"hello", headers=[("h", b"v"), ("bin", b"\xff\x00")],
                 partition=0, timestamp_ms=base),
            dict(key=None, value=b"\x00\x01\x02\xfe", headers=[], partition=1,
                 timestamp_ms=base + 1),
            dict(key=b"tomb", value=None, headers=[("empty", b"")], partition=0,
                 timestamp_ms=base + 2),
            dict(key="ключ".encode(), value="значение".encode(), headers=[("u", "ü".encode())],
                 partition=1, timestamp_ms=base + 3),
        ]
        metas = [producer.send(name, **s).get(timeout=10) for s in sent]
        for s, m in zip(sent, metas):
            self.assertEqual(m.partition, s["partition"])
            recs = self.read(name, m.partition, offset=m.offset, limit=1,
                             encoding="base64")["records"]
            self.assertEqual(len(recs), 1)
            rec = recs[0]
            self.assertEqual(rec["offset"], m.offset)
            self.assertEqual(rec["partition"], m.partition)
            self.assertEqual(rec["key"], expected_bytes_json(s["key"]))
            self.assertEqual(rec["value"], expected_bytes_json(s["value"]))
            self.assertEqual(rec["headers"], [{"key": k, "value": expected_bytes_json(v)}
                                              for k, v in s["headers"]])
            self.assertEqual(rec["timestamp"], s["timestamp_ms"])
        # Offsets are dense per partition, as kafka-python reported them.
        for p in (0, 1):
            self.assertEqual([x["offset"] for x in self.read(name, p, encoding="base64")["records"]],
                             [0, 1])

    def test_records_produced_over_http_are_consumed_by_kafka_python(self):
        name = self.create_topic(partitions=2)
        ts = recent_ms()
        first = self.produce(name, [
            {"key": "a", "value": "1", "partition": 0, "headers": {"trace": "t-1"},
             "timestamp": ts},
            {"key": "b", "value": "2", "partition": 1, "timestamp": ts + 1},
            {"key": None, "value": "3", "partition": 0, "timestamp": ts + 2},
        ])
        second = self.produce(name, [{"key": b64(b"\xff"), "value": b64(b"\xfe\x00"),
                                      "partition": 1, "timestamp": ts + 3}],
                              encoding="base64")
        bases = {x["partition"]: x["base_offset"] for x in first["results"]}
        self.assertEqual(bases, {0: 0, 1: 0})
        self.assertEqual(second["results"], [{"partition": 1, "base_offset": 1}])
        got = self.consume_all(name, [0, 1], 4)
        self.assertEqual([(m.partition, m.offset, m.key, m.value, m.timestamp) for m in got],
                         [(0, 0, b"a", b"1", ts),
                          (0, 1, None, b"3", ts + 2),
                          (1, 0, b"b", b"2", ts + 1),
                          (1, 1, b"\xff", b"\xfe\x00", ts + 3)])
        self.assertEqual(list(got[0].headers), [("trace", b"t-1")])
        self.assertEqual(list(got[1].headers), [])

    # ---- groups ------------------------------------------------------------------------------
    def usage_notes_lag(self, consumer, topic):
        """The usage notes' "kafka left": end_offsets(partitions) minus committed(tp), per
        partition and in total (partitions without a commit count as committed None)."""
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        toff = consumer.end_offsets(partitions)
        coff = {tp: consumer.committed(tp) for tp in partitions}
        toff_sum = sum(toff.values())
        cur_sum = sum(c for c in coff.values() if c is not None)
        per = {tp.partition: toff[tp] - coff[tp] for tp in partitions if coff[tp] is not None}
        committed = {tp.partition: coff[tp] for tp in partitions}
        ends = {tp.partition: toff[tp] for tp in partitions}
        return toff_sum - cur_sum, per, committed, ends

    def assert_group_lag_matches(self, group_id, topic, checker):
        left, per, committed, ends = self.usage_notes_lag(checker, topic)
        g = self.group(group_id)
        offsets = {o["partition"]: o for o in g["offsets"] if o["topic"] == topic}
        self.assertEqual(g["total_lag"], left, g)
        self.assertEqual({p: o["lag"] for p, o in offsets.items()}, per, g)
        self.assertEqual({p: o["committed_offset"] for p, o in offsets.items()},
                         {p: c for p, c in committed.items() if c is not None}, g)
        self.assertEqual({p: o["end_offset"] for p, o in offsets.items()},
                         {p: ends[p] for p in offsets}, g)
        return g

    def test_group_lag_describe_delete_and_reset(self):
        topic = self.create_topic(partitions=3)
        self.produce(topic, [{"value": f"p{p}-{i}", "partition": p}
                             for p in range(3) for i in range(10)])
        group_id = unique_name("lag-group")
        consumer = self.closing(KafkaConsumer(topic, bootstrap_servers=self.bootstrap,
                                              group_id=group_id, max_poll_records=4,
                                              **GROUP_CONSUMER))
        consumed = []

        def consumed_some():
            for recs in consumer.poll(timeout_ms=200).values():
                consumed.extend(recs)
            return len(consumed) >= 12

        wait_until(consumed_some, timeout=30, message="the group consumer to get 12 records")
        consumer.commit()  # commits the positions: part of the data
        # A separate, group-less-joining client computes the usage notes' lag.
        checker = self.consumer(group_id=group_id)
        left = self.usage_notes_lag(checker, topic)[0]
        self.assertGreater(left, 0)
        self.assertLessEqual(left, 30 - 12)

        # While the member is active.
        listed = {g["group_id"]: g for g in self.ok(self.get("/v1/groups"))}
        self.assertIn(group_id, listed)
        self.assertEqual(listed[group_id]["state"], "Stable")
        self.assertEqual(listed[group_id]["members"], 1)
        self.assertEqual(listed[group_id]["protocol_type"], "consumer")
        self.assertIn((group_id, "consumer"), self.kadmin().list_consumer_groups())
        g = self.assert_group_lag_matches(group_id, topic, checker)
        self.assertEqual(g["group_id"], group_id)
        self.assertEqual(g["state"], "Stable")
        self.assertEqual(len(g["members"]), 1)
        member = g["members"][0]
        self.assertEqual(member["client_id"], CLIENT_ID)
        self.assertEqual(member["member_id"], g["leader"])
        self.assertEqual(member["assignment"], [{"topic": topic, "partitions": [0, 1, 2]}])
        self.assertGreaterEqual(g["generation_id"], 1)
        self.assertEqual(g["protocol_type"], "consumer")
        samples, _ = self.metrics()
        self.assertEqual(sample(samples, "minikafka_group_lag", group=group_id), g["total_lag"])
        self.assertGreaterEqual(sample(samples, "minikafka_groups", state="Stable"), 1)

        # 409 while a consumer is active: delete and every kind of reset.
        self.assert_error(self.delete(f"/v1/groups/{group_id}"), 409, "NON_EMPTY_GROUP")
        for to in ({"to": "earliest"}, {"to": "latest"}, {"to": "offset", "offset": 0},
                   {"to": "timestamp", "timestamp": 0}):
            self.assert_error(self.post(f"/v1/groups/{group_id}/offsets", dict(to, topic=topic)),
                              409, "NON_EMPTY_GROUP", what=repr(to))
        self.assertEqual(self.group(group_id)["state"], "Stable")

        # More data: the lag grows by exactly that much, still equal to the usage notes.
        producer = self.producer()
        for i in range(5):
            producer.send(topic, value=b"more-%d" % i, partition=i % 3).get(timeout=10)
        g2 = self.assert_group_lag_matches(group_id, topic, checker)
        self.assertEqual(g2["total_lag"], g["total_lag"] + 5)

        # The member leaves: the group is Empty, and resets are allowed.
        consumer.close()
        wait_until(lambda: self.group(group_id)["state"] == "Empty", timeout=15,
                   message="the group to become Empty after the consumer closed")
        self.assertEqual(self.group(group_id)["members"], [])

        ends = {p: self.describe(topic)["partition_details"][p]["end_offset"] for p in range(3)}
        g = self.ok(self.post(f"/v1/groups/{group_id}/offsets", {"topic": topic, "to": "earliest"}))
        self.assertEqual({o["partition"]: o["committed_offset"] for o in g["offsets"]},
                         {0: 0, 1: 0, 2: 0})
        self.assertEqual(g["total_lag"], sum(ends.values()))
        self.assert_group_lag_matches(group_id, topic, checker)

        g = self.ok(self.post(f"/v1/groups/{group_id}/offsets", {"topic": topic, "to": "latest"}))
        self.assertEqual({o["partition"]: o["committed_offset"] for o in g["offsets"]}, ends)
        self.assertEqual(g["total_lag"], 0)
        self.assert_group_lag_matches(group_id, topic, checker)

        g = self.ok(self.post(f"/v1/groups/{group_id}/offsets",
                              {"topic": topic, "partitions": [1], "to": "offset", "offset": 3}))
        self.assertEqual({o["partition"]: o["committed_offset"] for o in g["offsets"]},
                         {0: ends[0], 1: 3, 2: ends[2]})
        self.assertEqual(g["total_lag"], ends[1] - 3)
        self.assert_group_lag_matches(group_id, topic, checker)
        # The reset is what a Kafka client sees as the committed offset.
        self.assertEqual(checker.committed(TopicPartition(topic, 1)), 3)
        # An offset past the end is clamped to the end.
        g = self.ok(self.post(f"/v1/groups/{group_id}/offsets",
                              {"topic": topic, "partitions": [1], "to": "offset", "offset": 10_000}))
        self.assertEqual({o["partition"]: o["committed_offset"] for o in g["offsets"]}[1], ends[1])

        samples, _ = self.metrics()
        self.assertEqual(sample(samples, "minikafka_group_lag", group=group_id),
                         self.group(group_id)["total_lag"])

        # Delete the (empty) group.
        self.assertEqual(self.ok(self.delete(f"/v1/groups/{group_id}")), {"deleted": group_id})
        self.assert_error(self.get(f"/v1/groups/{group_id}"), 404, "GROUP_ID_NOT_FOUND")
        self.assertNotIn(group_id, {g["group_id"] for g in self.ok(self.get("/v1/groups"))})
        self.assertNotIn(group_id, {g for g, _ in self.kadmin().list_consumer_groups()})
        self.assertIsNone(checker.committed(TopicPartition(topic, 1)))
        self.assert_error(self.delete(f"/v1/groups/{group_id}"), 404)

    def test_group_offset_reset_to_timestamp(self):
        topic = self.create_topic()
        t0 = recent_ms(10 * 60_000)
        self.produce(topic, [{"value": f"v{i}", "timestamp": t0 + i * 1_000} for i in range(4)])
        group_id = unique_name("ts-group")
        # A group with a commit and no members (kafka-python commits without joining).
        tp = TopicPartition(topic, 0)
        committer = self.consumer(group_id=group_id)
        committer.assign([tp])
        committer.commit({tp: OffsetAndMetadata(1, "")})
        # committed() of an assigned partition is kafka-python's cache: ask a fresh client.
        checker = self.consumer(group_id=group_id)
        wait_until(lambda: group_id in {g["group_id"] for g in self.ok(self.get("/v1/groups"))},
                   timeout=5, message="the committed group to be listed")
        self.assertEqual(self.group(group_id)["state"], "Empty")
        path = f"/v1/groups/{group_id}/offsets"
        for delta, want in ((-t0, 0), (0, 0), (500, 1), (1_500, 2), (3_000, 3), (3_001, 4),
                            (60_000, 4)):
            ts = t0 + delta
            g = self.ok(self.post(path, {"topic": topic, "to": "timestamp", "timestamp": ts}))
            got = g["offsets"][0]["committed_offset"]
            found = checker.offsets_for_times({tp: ts})[tp]
            expected = found.offset if found is not None else 4  # none that late: the end
            self.assertEqual(expected, want, f"kafka-python offsets_for_times at +{delta}")
            self.assertEqual(got, expected, f"timestamp +{delta}")
            self.assertEqual(checker.committed(tp), expected, f"timestamp +{delta}")
            self.assertEqual(g["total_lag"], 4 - expected)
        g = self.ok(self.post(path, {"topic": topic, "to": "offset", "offset": 2}))
        self.assertEqual(g["offsets"][0]["committed_offset"], 2)
        # Bad input: 400; unknown topic or partition: 404.
        for body, status in (({"topic": topic, "to": "sideways"}, 400),
                             ({"topic": topic}, 400),
                             ({"topic": topic, "to": "offset"}, 400),
                             ({"topic": topic, "to": "offset", "offset": "3"}, 400),
                             ({"topic": topic, "to": "timestamp"}, 400),
                             ({"to": "earliest"}, 400),
                             ({"topic": 5, "to": "earliest"}, 400),
                             ({"topic": topic, "partitions": "0", "to": "earliest"}, 400),
                             ({"topic": unique_name("nope"), "to": "earliest"}, 404),
                             ({"topic": topic, "partitions": [7], "to": "earliest"}, 404)):
            self.assert_error(self.post(path, body), status, what=repr(body))
        self.assert_error(self.post(path, "{bad json"), 400)
        self.assert_error(self.post(path, "[]"), 400)
        self.assertEqual(self.group(group_id)["offsets"][0]["committed_offset"], 2)

    # ---- /metrics ----------------------------------------------------------------------------
    def test_metrics(self):
        r = self.get("/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"),
                        r.headers["Content-Type"])
        before, _ = self.metrics()

        topic = self.create_topic(partitions=2)
        producer = self.producer()
        for i in range(6):
            producer.send(topic, value=b"m-%d" % i, partition=i % 2).get(timeout=10)
        got = self.consume_all(topic, [0, 1], 6)
        self.assertEqual(len(got), 6)
        self.kadmin().list_topics()
        after, _ = self.metrics()

        def requests(samples, api):
            return sum(v for (n, labels), v in samples.items()
                       if n == "minikafka_requests_total" and dict(labels).get("api") == api)

        for api, at_least in (("Produce", 6), ("Fetch", 1), ("Metadata", 1),
                              ("ApiVersions", 1)):
            self.assertGreaterEqual(requests(after, api) - requests(before, api), at_least, api)
        key = ("minikafka_requests_total", frozenset({("api", "Produce"), ("api_key", "0")}))
        self.assertIn(key, after)
        self.assertIsNotNone(sample(after, "minikafka_request_errors_total", api="Produce"))
        self.assertGreater(sample(after, "minikafka_bytes_in_total"),
                           sample(before, "minikafka_bytes_in_total"))
        self.assertGreater(sample(after, "minikafka_bytes_out_total"),
                           sample(before, "minikafka_bytes_out_total"))
        self.assertGreater(sample(after, "minikafka_connections_opened_total"),
                           sample(before, "minikafka_connections_opened_total"))
        self.assertGreaterEqual(sample(after, "minikafka_connections"), 1)  # the producer's

        # Histograms: per API, buckets are cumulative and end with +Inf == _count.
        apis = {dict(l)["api"] for (n, l) in after if n == "minikafka_request_duration_seconds_count"}
        self.assertIn("Produce", apis)
        self.assertIn("Fetch", apis)
        for api in apis:
            buckets = sorted(((float(dict(l)["le"]), v) for (n, l), v in after.items()
                              if n == "minikafka_request_duration_seconds_bucket"
                              and dict(l)["api"] == api), key=lambda b: b[0])
            self.assertGreaterEqual(len(buckets), 2, api)
            values = [v for _, v in buckets]
            self.assertEqual(values, sorted(values), f"{api} buckets not cumulative: {buckets}")
            self.assertEqual(buckets[-1][0], float("inf"), api)
            count = sample(after, "minikafka_request_duration_seconds_count", api=api)
            self.assertEqual(buckets[-1][1], count, api)
            self.assertGreater(count, 0, api)
            self.assertGreaterEqual(sample(after, "minikafka_request_duration_seconds_sum", api=api),
                                    0, api)
        produce_count = sample(after, "minikafka_request_duration_seconds_count", api="Produce")
        self.assertGreaterEqual(produce_count, 6)

        # Topic and partition gauges match the topic API.
        topics = self.ok(self.get("/v1/topics"))
        fresh, _ = self.metrics()
        self.assertEqual(sample(fresh, "minikafka_topics"), len(topics))
        self.assertEqual(sample(fresh, "minikafka_partitions"), sum(t["partitions"] for t in topics))
        d = self.describe(topic)
        for p in d["partition_details"]:
            labels = dict(topic=topic, partition=str(p["partition"]))
            self.assertEqual(sample(fresh, "minikafka_partition_end_offset", **labels),
                             p["end_offset"], labels)
            self.assertEqual(sample(fresh, "minikafka_partition_messages", **labels),
                             p["end_offset"] - p["start_offset"], labels)
            self.assertEqual(sample(fresh, "minikafka_partition_size_bytes", **labels),
                             p["size_bytes"], labels)
            self.assertEqual(p["end_offset"], 3)

    def test_metrics_exposition_is_well_formed(self):
        """Every family is typed as documented, and (Prometheus text format 0.0.4) all samples
        of one metric form a single group after its # HELP / # TYPE lines."""
        topic = self.create_topic(partitions=2)
        self.produce(topic, [{"value": "x", "partition": p} for p in (0, 1)])
        self.producer().send(topic, value=b"y", partition=0).get(timeout=10)
        r = self.get("/metrics")
        text = r.body.decode("utf-8")
        _, types = parse_metrics(text)
        expected = {"minikafka_requests": "counter", "minikafka_request_errors": "counter",
                    "minikafka_request_duration_seconds": "histogram",
                    "minikafka_bytes_in": "counter", "minikafka_bytes_out": "counter",
                    "minikafka_connections": "gauge", "minikafka_connections_opened": "counter",
                    "minikafka_connections_rejected": "counter", "minikafka_topics": "gauge",
                    "minikafka_partitions": "gauge", "minikafka_partition_messages": "gauge",
                    "minikafka_partition_end_offset": "gauge",
                    "minikafka_partition_size_bytes": "gauge", "minikafka_groups": "gauge",
                    "minikafka_group_lag": "gauge"}
        for fam, typ in expected.items():
            with self.subTest(family=fam):
                self.assertEqual(types.get(fam), typ)
        untyped = sorted(f for f, t in types.items() if t == "unknown")
        self.assertEqual(untyped, [], "families parsed without a # TYPE (samples out of their group)")
        # The raw text: once a metric's group has ended, its samples do not come back.
        declared, finished, current = None, set(), None
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                declared = line.split()[2]
                continue
            if not line or line.startswith("#"):
                continue
            name = line.split("{", 1)[0].split(" ", 1)[0]
            for suffix in ("_bucket", "_sum", "_count"):
                if name.endswith(suffix) and name[: -len(suffix)] == declared:
                    name = declared
            if name != current:
                self.assertNotIn(name, finished, f"samples of {name} are split into several groups")
                if current is not None:
                    finished.add(current)
                current = name
            self.assertEqual(name, declared, f"sample {line!r} is not under its own # TYPE line")

    def test_metrics_group_lag_and_states(self):
        topic = self.create_topic(partitions=2)
        self.produce(topic, [{"value": f"x{i}", "partition": i % 2} for i in range(9)])
        group_id = unique_name("metrics-group")
        c = self.consumer(group_id=group_id)
        tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
        c.assign(tps)
        c.commit({tps[0]: OffsetAndMetadata(2, ""), tps[1]: OffsetAndMetadata(1, "")})
        left = self.usage_notes_lag(c, topic)[0]
        self.assertEqual(left, (5 - 2) + (4 - 1))
        self.assertEqual(self.group(group_id)["total_lag"], left)
        samples, _ = self.metrics()
        self.assertEqual(sample(samples, "minikafka_group_lag", group=group_id), left)
        # Label values are escaped: a group id with a quote, a backslash and a space.
        weird = unique_name('we"ird\\ grp')
        w = self.consumer(group_id=weird)
        w.assign(tps)
        w.commit({tps[0]: OffsetAndMetadata(4, "")})
        samples, _ = self.metrics()
        self.assertEqual(sample(samples, "minikafka_group_lag", group=weird), 1)
        self.assertEqual(sample(samples, "minikafka_group_lag", group=group_id), left)
        self.assertEqual(self.group(quote(weird, safe=""))["total_lag"], 1)
        groups = self.ok(self.get("/v1/groups"))
        self.assertIn(weird, {g["group_id"] for g in groups})
        by_state = {}
        for g in groups:
            by_state[g["state"]] = by_state.get(g["state"], 0) + 1
        for state, n in by_state.items():
            self.assertEqual(sample(samples, "minikafka_groups", state=state), n, state)

    # ==== error statuses =========================================================================
    def test_400_bad_input(self):
        topic = self.create_topic()
        name = self.topic_name("never")
        cases = [
            ("POST", "/v1/topics", "{not json"),
            ("POST", "/v1/topics", ""),
            ("POST", "/v1/topics", "[1, 2]"),
            ("POST", "/v1/topics", '"a string"'),
            ("POST", "/v1/topics", "42"),
            ("POST", "/v1/topics", {}),
            ("POST", "/v1/topics", {"partitions": 1}),
            ("POST", "/v1/topics", {"name": 5}),
            ("POST", "/v1/topics", {"name": None}),
            ("POST", "/v1/topics", {"name": name, "partitions": 0}),
            ("POST", "/v1/topics", {"name": name, "partitions": -5}),
            ("POST", "/v1/topics", {"name": name, "partitions": "three"}),
            ("POST", "/v1/topics", {"name": name, "replication_factor": "x"}),
            ("POST", "/v1/topics", {"name": name, "configs": ["retention.ms", "1"]}),
            ("POST", "/v1/topics", {"name": name, "configs": {"no.such.config": "1"}}),
            ("POST", "/v1/topics", {"name": name, "configs": {"retention.ms": "soon"}}),
            ("POST", "/v1/topics", {"name": ""}),
            ("POST", "/v1/topics", {"name": "."}),
            ("POST", "/v1/topics", {"name": ".."}),
            ("POST", "/v1/topics", {"name": "has space"}),
            ("POST", "/v1/topics", {"name": "slash/name"}),
            ("POST", "/v1/topics", {"name": "ünïcode"}),
            ("POST", "/v1/topics", {"name": "x" * 250}),
            ("POST", f"/v1/topics/{topic}/records", "{not json"),
            ("POST", f"/v1/topics/{topic}/records", "[]"),
            ("POST", f"/v1/topics/{topic}/records", {}),
            ("POST", f"/v1/topics/{topic}/records", {"records": []}),
            ("POST", f"/v1/topics/{topic}/records", {"records": {"value": "x"}}),
            ("POST", f"/v1/topics/{topic}/records", {"records": ["x"]}),
            ("POST", f"/v1/topics/{topic}/records", {"records": [{"value": "x"}], "encoding": "hex"}),
            ("POST", f"/v1/topics/{topic}/records", {"records": [{"value": "x", "headers": ["h"]}]}),
            ("POST", f"/v1/topics/{topic}/records", {"records": [{"value": "x", "partition": 0.5}]}),
            ("POST", f"/v1/topics/{topic}/partitions", "{not json"),
        ]
        for method, path, body in cases:
            with self.subTest(request=f"{method} {path} {body!r}"[:200]):
                self.assert_error(self.request(method, path, body=body), 400)
        for n in ["", ".", "..", "has space", "slash/name", "ünïcode", "x" * 250]:
            with self.subTest(name=n[:20]):
                self.assert_error(self.post("/v1/topics", {"name": n}), 400,
                                  "INVALID_TOPIC_EXCEPTION")
        # Nothing was created and nothing was appended.
        names = {t["name"] for t in self.ok(self.get("/v1/topics"))}
        self.assertNotIn(name, names)
        self.assertEqual(self.describe(topic)["partition_details"][0]["end_offset"], 0)
        self.assertEqual(self.ok(self.get("/health")), {"status": "ok"})

    def test_400_wrong_json_types(self):
        """A field of the wrong JSON type is bad input (400), not an internal error (500)."""
        topic = self.create_topic()
        group_id = unique_name("types")
        cases = [
            (f"/v1/topics/{topic}/records", {"records": [{"value": "x"}], "encoding": 1}),
            (f"/v1/topics/{topic}/records", {"records": [{"value": "x"}], "encoding": None}),
            (f"/v1/topics/{topic}/records", {"records": [{"value": "x", "timestamp": "now"}]}),
            (f"/v1/groups/{group_id}/offsets", {"topic": topic, "to": 5}),
        ]
        for path, body in cases:
            with self.subTest(body=body):
                self.assert_error(self.post(path, body), 400)
        self.assertEqual(self.describe(topic)["partition_details"][0]["end_offset"], 0)

    def test_400_numbers_must_be_integers_in_range(self):
        """Counts, partitions and timestamps are integers in their Kafka type's range: a
        fraction, a boolean or a value past INT32 is refused, not truncated or wrapped."""
        topic = self.create_topic(partitions=2)
        for bad in (1.5, True, 2 ** 32 + 1):
            with self.subTest(create_partitions=bad):
                name = self.topic_name("count")
                self.assert_error(self.post("/v1/topics", {"name": name, "partitions": bad}), 400)
                self.assert_error(self.get(f"/v1/topics/{name}"), 404)
        for bad in (2.5, True, 2 ** 32 + 3):
            with self.subTest(grow_count=bad):
                grow = self.create_topic(self.topic_name("grow"), partitions=2)
                self.assert_error(self.post(f"/v1/topics/{grow}/partitions", {"count": bad}), 400)
                self.assertEqual(self.describe(grow)["partitions"], 2)
        with self.subTest(record_partition=2 ** 32):
            r = self.post(f"/v1/topics/{topic}/records",
                          {"records": [{"value": "x", "partition": 2 ** 32}]})
            self.assertIn(r.status, (400, 404), r)
        with self.subTest(record_timestamp=1.5):
            r = self.post(f"/v1/topics/{topic}/records",
                          {"records": [{"value": "x", "partition": 1, "timestamp": 1.5}]})
            self.assert_error(r, 400)
        with self.subTest(read_partition=2 ** 32):
            r = self.get(f"/v1/topics/{topic}/partitions/{2 ** 32}/records")
            self.assertIn(r.status, (400, 404), r)
        with self.subTest(reset_partition=2 ** 32):
            group_id = unique_name("range")
            r = self.post(f"/v1/groups/{group_id}/offsets",
                          {"topic": topic, "partitions": [2 ** 32], "to": "earliest"})
            self.assertIn(r.status, (400, 404), r)
        self.assertEqual([p["end_offset"] for p in self.describe(topic)["partition_details"]],
                         [0, 0], "a refused record was appended")

    def test_404_unknown(self):
        topic = self.create_topic()
        missing = unique_name("missing")
        cases = [
            ("GET", "/"), ("GET", "/nope"), ("GET", "/v1"), ("GET", "/v1/nope"),
            ("GET", "/v2/topics"), ("GET", "/health/extra"), ("GET", "/v1/cluster/extra"),
            ("GET", f"/v1/topics/{missing}"), ("DELETE", f"/v1/topics/{missing}"),
            ("POST", f"/v1/topics/{missing}/partitions"),
            # (POST /v1/topics/{missing}/records creates the topic, as Kafka's Produce does:
            # test_http_api.py checks it, and the 404 with --auto-create-topics false.)
            ("GET", f"/v1/topics/{missing}/partitions/0/records"),
            ("GET", f"/v1/topics/{missing}/records"),
            ("GET", f"/v1/topics/{topic}/bogus"),
            ("GET", f"/v1/topics/{topic}/partitions/0"),
            ("GET", f"/v1/topics/{topic}/partitions/0/records/extra"),
            ("GET", f"/v1/topics/{topic}/partitions/1/records"),
            ("GET", f"/v1/topics/{topic}/partitions/99/records"),
            ("GET", f"/v1/groups/{missing}"), ("DELETE", f"/v1/groups/{missing}"),
            ("GET", f"/v1/groups/{missing}/bogus"),
        ]
        for method, path in cases:
            body = {"count": 2, "records": [{"value": "x"}]} if method == "POST" else None
            self.assert_error(self.request(method, path, body=body), 404, what=f"{method} {path}")
        self.assert_error(self.post(f"/v1/topics/{topic}/records",
                                    {"records": [{"value": "x", "partition": 1}]}),
                          404, "UNKNOWN_TOPIC_OR_PARTITION")
        self.assert_error(self.get(f"/v1/topics/{missing}"), 404, "UNKNOWN_TOPIC_OR_PARTITION")
        self.assert_error(self.get(f"/v1/groups/{missing}"), 404, "GROUP_ID_NOT_FOUND")
        self.assert_error(self.delete(f"/v1/groups/{missing}"), 404, "GROUP_ID_NOT_FOUND")

    def wrong_methods(self):
        topic = self.create_topic()
        group_id = unique_name("g405")
        tp = TopicPartition(topic, 0)
        c = self.consumer(group_id=group_id)
        c.assign([tp])
        c.commit({tp: OffsetAndMetadata(0, "")})
        return [
            ("/health", ["POST", "PUT", "DELETE", "PATCH"]),
            ("/metrics", ["POST", "PUT", "DELETE"]),
            ("/v1/cluster", ["POST", "PUT", "DELETE", "PATCH"]),
            ("/v1/topics", ["PUT", "DELETE", "PATCH"]),
            (f"/v1/topics/{topic}", ["POST", "PUT", "PATCH"]),
            (f"/v1/topics/{topic}/partitions", ["GET", "PUT", "DELETE"]),
            (f"/v1/topics/{topic}/records", ["PUT", "DELETE", "PATCH"]),
            (f"/v1/topics/{topic}/partitions/0/records", ["POST", "PUT", "DELETE"]),
            ("/v1/groups", ["POST", "PUT", "DELETE"]),
            (f"/v1/groups/{group_id}", ["POST", "PUT", "PATCH"]),
            (f"/v1/groups/{group_id}/offsets", ["GET", "PUT", "DELETE"]),
        ], topic, group_id

    def test_405_wrong_method_on_each_route(self):
        routes, topic, group_id = self.wrong_methods()
        for path, methods in routes:
            for method in methods:
                body = "{}" if method in ("POST", "PUT", "PATCH") else None
                self.assert_error(self.request(method, path, body=body), 405,
                                  what=f"{method} {path}")
        # Nothing changed.
        self.assertEqual(self.describe(topic)["partitions"], 1)
        self.assertEqual(self.group(group_id)["offsets"][0]["committed_offset"], 0)

    def test_405_responses_carry_allow(self):
        """RFC 9110 15.5.6: a 405 response MUST carry an Allow header listing the methods the
        route supports."""
        routes, _, _ = self.wrong_methods()
        for path, methods in routes:
            r = self.request(methods[0], path, body="{}" if methods[0] != "GET" else None)
            self.assertEqual(r.status, 405, f"{methods[0]} {path}: {r!r}")
            allow = r.headers.get("Allow")
            self.assertIsNotNone(allow, f"{methods[0]} {path}: 405 without an Allow header")
            allowed = {m.strip() for m in allow.split(",")}
            self.assertTrue(allowed, path)
            self.assertFalse(allowed & set(methods), f"{path}: Allow {allow!r}")

    def test_409_conflicts(self):
        name = self.create_topic(partitions=2)
        self.assert_error(self.post("/v1/topics", {"name": name, "partitions": 2}), 409,
                          "TOPIC_ALREADY_EXISTS")
        self.assert_error(self.post("/v1/topics", {"name": name, "partitions": 7}), 409,
                          "TOPIC_ALREADY_EXISTS")
        self.assertEqual(self.describe(name)["partitions"], 2)
        # A non-empty group: delete and reset are refused while a member is active.
        group_id = unique_name("busy")
        consumer = self.closing(KafkaConsumer(name, bootstrap_servers=self.bootstrap,
                                              group_id=group_id, **GROUP_CONSUMER))

        def joined():
            consumer.poll(timeout_ms=100)
            return consumer.assignment()

        wait_until(joined, timeout=30, message="the consumer to join its group")
        self.assert_error(self.delete(f"/v1/groups/{group_id}"), 409, "NON_EMPTY_GROUP")
        self.assert_error(self.post(f"/v1/groups/{group_id}/offsets",
                                    {"topic": name, "to": "earliest"}), 409, "NON_EMPTY_GROUP")
        self.assertEqual(self.group(group_id)["state"], "Stable")

    def raw_exchange(self, payload, send_in_thread=False):
        """Sends raw bytes; returns every byte the server sent until it closed the connection.
        With send_in_thread the payload is written concurrently with reading, so a server that
        answers before reading the whole request is observed, not deadlocked."""
        s = socket.create_connection((self.admin_host, self.admin_port), timeout=HTTP_TIMEOUT_S)
        self._closers.append(s.close)
        send_error = []

        def send():
            try:
                s.sendall(payload)
            except OSError as exc:
                send_error.append(exc)

        if send_in_thread:
            t = threading.Thread(target=send, daemon=True)
            t.start()
        else:
            send()
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
        if send_in_thread:
            t.join(HTTP_TIMEOUT_S)
        return b"".join(chunks)

    def test_413_body_over_8_mib(self):
        # Exactly the limit is read (and is then bad JSON): 400, not 413.
        r = self.post("/v1/topics", b" " * (MAX_BODY - 1) + b"x")
        self.assert_error(r, 400)
        # One byte over: 413 with the JSON error shape, for every body-taking route.
        topic = self.create_topic()
        for path in ("/v1/topics", f"/v1/topics/{topic}/records"):
            body = b'{"records": [{"value": "' + b"a" * MAX_BODY + b'"}]}'
            head = (f"POST {path} HTTP/1.1\r\nHost: {self.admin_host}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
            raw = self.raw_exchange(head.encode() + body, send_in_thread=True)
            status_line, _, rest = raw.partition(b"\r\n")
            self.assertTrue(status_line.startswith(b"HTTP/1.1 413"), f"{path}: {raw[:300]!r}")
            headers, _, payload = rest.partition(b"\r\n\r\n")
            self.assertIn(b"application/json", headers.lower())
            err = json.loads(payload)
            self.assertEqual(set(err), {"error", "message"})
            self.assertEqual(err["error"], "payload_too_large")
        # A chunked body over the limit is refused too.
        chunk = b"a" * (1024 * 1024)
        chunked = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(9)) + b"0\r\n\r\n"
        head = (f"POST /v1/topics HTTP/1.1\r\nHost: {self.admin_host}\r\n"
                "Transfer-Encoding: chunked\r\n\r\n")
        raw = self.raw_exchange(head.encode() + chunked, send_in_thread=True)
        self.assertTrue(raw.startswith(b"HTTP/1.1 413"), raw[:300])
        self.assertEqual(self.describe(topic)["partition_details"][0]["end_offset"], 0)
        self.assertEqual(self.ok(self.get("/health")), {"status": "ok"})

    def test_413_with_http_client(self):
        """The same through http.client: the 413 must reach the client even though the server
        answers before the client has sent the whole body."""
        conn = self.connection()
        body = b"{" + b" " * MAX_BODY + b"}"
        try:
            conn.request("POST", "/v1/topics", body=body,
                         headers={"Content-Type": "application/json"})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading; the response may still be there
        r = conn.getresponse()
        payload = r.read()
        self.assertEqual(r.status, 413, payload[:300])
        self.assertEqual(json.loads(payload)["error"], "payload_too_large")

    # ==== HTTP behaviour ==========================================================================
    def test_keep_alive_several_requests_on_one_connection(self):
        conn = self.connection()
        name = self.topic_name()
        steps = [
            ("GET", "/health", None, 200),
            ("POST", "/v1/topics", {"name": name, "partitions": 2}, 201),
            ("GET", f"/v1/topics/{name}", None, 200),
            ("POST", f"/v1/topics/{name}/records", {"records": [{"value": "ka", "partition": 1}]}, 200),
            ("GET", f"/v1/topics/{name}/partitions/1/records", None, 200),
            ("GET", "/v1/topics/" + unique_name("nope"), None, 404),  # errors keep it open too
            ("POST", "/v1/topics", "{broken", 400),
            ("PUT", "/v1/topics", "{}", 405),
            ("GET", "/metrics", None, 200),
            ("GET", "/v1/cluster", None, 200),
            ("DELETE", f"/v1/topics/{name}", None, 200),
        ]
        sock = None
        for method, path, body, status in steps:
            r = self.request(method, path, body=body, conn=conn)
            self.assertEqual(r.status, status, f"{method} {path}: {r!r}")
            self.assertNotEqual((r.headers.get("Connection") or "").lower(), "close",
                                f"{method} {path} closed the connection")
            if sock is None:
                sock = conn.sock
            self.assertIsNotNone(conn.sock, f"connection closed after {method} {path}")
            self.assertIs(conn.sock, sock, f"http.client reconnected before {method} {path}")
        r = self.request("GET", f"/v1/topics/{name}", conn=conn)
        self.assertEqual(r.status, 404)
        self.assertIs(conn.sock, sock)

    def test_pipelined_requests(self):
        """Two requests written at once on one connection get two responses, in order."""
        req = (f"GET /health HTTP/1.1\r\nHost: {self.admin_host}\r\n\r\n"
               f"GET /v1/nope HTTP/1.1\r\nHost: {self.admin_host}\r\n\r\n"
               f"GET /health HTTP/1.1\r\nHost: {self.admin_host}\r\nConnection: close\r\n\r\n")
        raw = self.raw_exchange(req.encode())  # returns when the server closes (3rd request)
        responses = split_responses(raw)
        self.assertEqual([st for st, _, _ in responses], [200, 404, 200], raw[:1000])
        self.assertEqual(json.loads(responses[0][2]), {"status": "ok"})
        self.assertEqual(json.loads(responses[1][2])["error"], "not_found")
        self.assertEqual(responses[2][1].get("connection"), "close")

    def test_http_1_0_and_connection_close(self):
        raw = self.raw_exchange(b"GET /health HTTP/1.0\r\n\r\n")  # returns once the server closes
        self.assertTrue(raw.startswith(b"HTTP/1.0 200"), raw[:200])
        self.assertTrue(raw.endswith(b'{"status":"ok"}'), raw[-200:])
        conn = self.connection()
        r = self.request("GET", "/health", headers={"Connection": "close"}, conn=conn)
        self.assertEqual(r.status, 200)
        self.assertEqual((r.headers.get("Connection") or "").lower(), "close")

    def test_expect_100_continue(self):
        """A client that sends "Expect: 100-continue" (curl does for bodies over 1 MiB) gets
        "100 Continue" before it sends the body, instead of stalling until its own timeout
        (curl: 1 s per request)."""
        name = self.topic_name()
        body = json.dumps({"name": name, "partitions": 1}).encode()
        s = socket.create_connection((self.admin_host, self.admin_port), timeout=5)
        self._closers.append(s.close)
        s.sendall((f"POST /v1/topics HTTP/1.1\r\nHost: {self.admin_host}\r\n"
                   f"Content-Type: application/json\r\nExpect: 100-continue\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode())
        try:
            interim = s.recv(4096)
        except socket.timeout:
            interim = b""
        self.assertTrue(interim.startswith(b"HTTP/1.1 100"),
                        f"no '100 Continue' within 5 s of the headers (got {interim[:200]!r})")
        s.sendall(body)
        rest = interim.partition(b"\r\n\r\n")[2]
        while b"\r\n\r\n" not in rest:
            rest += s.recv(65536)
        self.assertTrue(rest.startswith(b"HTTP/1.1 201"), rest[:200])

    def test_malformed_http_gets_400(self):
        raw = self.raw_exchange(b"THIS IS NOT HTTP\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 400"), raw[:200])
        self.assertEqual(self.ok(self.get("/health")), {"status": "ok"})

    def test_percent_encoded_path_and_query(self):
        name = self.create_topic()
        self.produce(name, [{"value": f"v{i}"} for i in range(3)])
        quoted = "".join(f"%{ord(c):02X}" for c in name)
        self.assertEqual(self.ok(self.get(f"/v1/topics/{quoted}"))["name"], name)
        got = self.ok(self.get(f"/v1/topics/{name}/partitions/0/records?offset=%31&limit=1"))
        self.assertEqual([x["offset"] for x in got["records"]], [1])


if __name__ == "__main__":
    unittest.main(verbosity=2)
