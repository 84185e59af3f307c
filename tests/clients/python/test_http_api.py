#!/usr/bin/python3
"""The HTTP admin API as a contract for tests in other languages (issue 11), through the binary.

* The OpenAPI document (GET /v1/openapi.json) against the routes the server really has: every
  documented path and method is served (not 404 "not_found", not 405), every other method on a
  documented path is 405 with an Allow header naming exactly the documented ones, paths next to
  the documented ones (an extra segment, a prefix) are 404 "not_found". Every JSON response seen
  here is validated against the schema documented for it (openapi_check.py).
* Error names in one style: every "error" is Kafka's name (upper case) or one of the documented
  HTTP-level names, in responses and in the sources (broker/admin/).
* Records: a whole topic (merged, with a cursor) and one partition; encodings text, base64 and
  json for keys, values and header values, per part; headers as a list both ways (the older
  object form accepted on input); bytes that do not fit the asked encoding fail the read with
  422 rather than changing shape; produce to a missing topic auto-creates it, unless
  --auto-create-topics false.

Run:  MINIKAFKA_BIN=build/broker/minikafka /usr/bin/python3 tests/clients/python/test_http_api.py
(or `ctest -R clients.http_api`). Standard library HTTP (urllib), kafka-python for cross-checks.
"""

import base64
import glob
import json
import os
import re
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402

from mkfixture import Broker, BrokerTestCase, unique_name  # noqa: E402
from openapi_check import METHODS, OpenApi, error_names, is_param, kafka_error_name, segments  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
COMMON = dict(client_id="test-http-api", api_version_auto_timeout_ms=5000, request_timeout_ms=11000)
TIMEOUT_S = 15


def b64(b):
    return base64.b64encode(b).decode("ascii")


class Http:
    """urllib against one admin URL; JSON responses are validated against the document."""

    def __init__(self, base):
        self.base = base
        with urllib.request.urlopen(base + "/v1/openapi.json", timeout=TIMEOUT_S) as r:
            self.doc = json.loads(r.read())
        self.openapi = OpenApi(self.doc)

    def call(self, method, path, body=None, raw=None):
        """(status, headers, parsed JSON or text)."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as r:
                status, headers, payload = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, headers, payload = e.code, e.headers, e.read()
        ctype = headers.get("Content-Type", "")
        parsed = json.loads(payload) if ctype.startswith("application/json") and payload else payload
        if ctype.startswith("application/json"):
            self.openapi.check_response(method, path, status, parsed, ctype)
        return status, headers, parsed


class HttpApiTest(BrokerTestCase):
    broker_args = ("--default-partitions", "3")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.http = Http(cls.broker.admin_url())

    # -- helpers ----------------------------------------------------------------------------------
    def ok(self, method, path, body=None, status=200):
        st, _, js = self.http.call(method, path, body)
        self.assertEqual(st, status, f"{method} {path}: {js!r}")
        return js

    def err(self, method, path, body=None, status=400, error=None):
        st, _, js = self.http.call(method, path, body)
        self.assertEqual(st, status, f"{method} {path} {body!r}: {js!r}")
        self.assertEqual(set(js), {"error", "message"}, js)
        if error is not None:
            self.assertEqual(js["error"], error, js)
        return js

    def create(self, partitions=1):
        name = self.topic_name()
        self.ok("POST", "/v1/topics", {"name": name, "partitions": partitions}, 201)
        return name

    def produce(self, topic, records, **extra):
        return self.ok("POST", f"/v1/topics/{topic}/records", dict(records=records, **extra))

    def producer(self, **kw):
        p = KafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=0, **COMMON, **kw)
        return self.closing(p, lambda: p.close(timeout=5))

    # ==== the OpenAPI document against the server ==================================================
    def concrete(self, template, topic):
        values = {"topic": topic, "partition": "0", "group": unique_name("probe-group")}
        return "/" + "/".join(values.get(s[1:-1], "x") if is_param(s) else s for s in segments(template))

    def test_document_is_openapi_3_1_and_complete(self):
        doc = self.http.doc
        self.assertEqual(doc["openapi"], "3.1.0")
        self.assertTrue(doc["info"]["version"])
        self.assertIn("/v1/openapi.json", doc["paths"])
        refs = set()

        def walk(node):
            if isinstance(node, dict):
                if "$ref" in node:
                    refs.add(node["$ref"])
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(doc)
        for ref in refs:
            self.assertTrue(ref.startswith("#/"), ref)
            node = doc
            for part in ref[2:].split("/"):
                self.assertIn(part, node, f"unresolved $ref {ref}")
                node = node[part]
        for template, item in doc["paths"].items():
            names = [s[1:-1] for s in segments(template) if is_param(s)]
            for method, op in item.items():
                what = f"{method.upper()} {template}"
                self.assertIn(method.upper(), METHODS, what)
                self.assertTrue(op.get("summary"), f"{what}: no summary")
                self.assertIn("default", op["responses"], what)
                self.assertTrue(any(s.startswith("2") for s in op["responses"]), f"{what}: no 2xx")
                declared = {self.http.openapi.resolve(p)["name"]
                            for p in op.get("parameters", [])
                            if self.http.openapi.resolve(p)["in"] == "path"}
                self.assertEqual(declared, set(names), f"{what}: path parameters")
                if "requestBody" in op:
                    self.assertIn("schema", op["requestBody"]["content"]["application/json"], what)

    def test_every_documented_route_is_served(self):
        for template, item in self.http.doc["paths"].items():
            for method in item:
                method = method.upper()
                topic = self.create(2)  # fresh each time: a DELETE may remove it
                path = self.concrete(template, topic)
                body = b"{}" if method in ("POST", "PUT", "PATCH") else None
                st, headers, js = self.http.call(method, path, raw=body)
                with self.subTest(route=f"{method} {template}"):
                    self.assertNotEqual(st, 405, f"{method} {path}: {js!r}")
                    if st == 404:
                        self.assertNotEqual(js.get("error"), "not_found", f"{method} {path}: no route")

    def test_undocumented_methods_are_405_with_allow(self):
        for template in self.http.doc["paths"]:
            documented = self.http.openapi.methods(template)
            path = self.concrete(template, self.create())
            for method in set(METHODS) - documented:
                with self.subTest(route=f"{method} {template}"):
                    st, headers, js = self.http.call(method, path, raw=b"{}" if method != "GET" else None)
                    self.assertEqual(st, 405, f"{method} {path}: {js!r}")
                    self.assertEqual(js["error"], "method_not_allowed")
                    allow = {m.strip() for m in headers.get("Allow", "").split(",") if m.strip()}
                    self.assertEqual(allow, documented, f"{method} {path}: Allow {headers.get('Allow')!r}")

    def test_paths_next_to_documented_ones_are_not_found(self):
        topic = self.create()
        documented = set(self.http.doc["paths"])
        candidates = {"/", "/v1", "/v2/topics", "/v1/nope", "/v1/topics/x/y/z/w/v"}
        for template in documented:
            segs = segments(template)
            candidates.add(template + "/extra")
            for n in range(1, len(segs)):
                candidates.add("/" + "/".join(segs[:n]))
        for candidate in sorted(candidates):
            if self.http.openapi.template_for(self.concrete(candidate, topic)) is not None:
                continue  # itself documented
            path = self.concrete(candidate, topic)
            for method in METHODS:
                with self.subTest(path=f"{method} {path}"):
                    st, _, js = self.http.call(method, path, raw=b"{}" if method != "GET" else None)
                    self.assertEqual((st, js.get("error")), (404, "not_found"), f"{method} {path}: {js!r}")

    def test_route_list_in_docs_is_generated_from_the_document(self):
        """docs/HTTP_API.md's route list is what scripts/http_api_doc.py makes of this document
        (regenerate: scripts/http_api_doc.py --binary build/broker/minikafka)."""
        sys.path.insert(0, os.path.join(REPO, "scripts"))
        import http_api_doc  # noqa: E402
        with open(os.path.join(REPO, "docs", "HTTP_API.md"), encoding="utf-8") as f:
            committed = f.read()
        expected = http_api_doc.render(committed, self.http.doc)
        self.assertEqual(committed, expected,
                         "docs/HTTP_API.md is out of date: run scripts/http_api_doc.py "
                         "--binary build/broker/minikafka")

    # ==== error names ==============================================================================
    def test_error_names_in_the_sources_are_documented(self):
        """Every error name written in broker/admin/ is Kafka's (upper case) or a documented
        HTTP-level one, so merged routes cannot add a third style unnoticed."""
        names = error_names(self.http.doc)
        self.assertTrue({"bad_request", "not_found", "method_not_allowed", "payload_too_large",
                         "not_text", "not_json", "internal_error", "not_ready"} <= names, names)
        found = set()
        for src in glob.glob(os.path.join(REPO, "broker", "admin", "*.[ch]*")):
            with open(src, encoding="utf-8") as f:
                text = f.read()
            found |= {(os.path.basename(src), m) for m in
                      re.findall(r'error_response\(\s*\d+,\s*"([^"]+)"', text)}
            found |= {(os.path.basename(src), m) for m in re.findall(r'\{"error":"([^"]+)"', text)}
        self.assertTrue(found)
        for src, name in sorted(found):
            with self.subTest(name=name, file=src):
                self.assertTrue(name in names or kafka_error_name(name),
                                f"{src}: error name {name!r} is neither Kafka's nor documented")

    def test_kafka_errors_carry_kafka_names(self):
        topic = self.create(2)
        cases = [
            ("GET", f"/v1/topics/{unique_name('none')}", None, 404, "UNKNOWN_TOPIC_OR_PARTITION"),
            ("GET", f"/v1/topics/{topic}/partitions/5/records", None, 404, "UNKNOWN_TOPIC_OR_PARTITION"),
            ("GET", f"/v1/topics/{topic}/records?cursor=7:0", None, 404, "UNKNOWN_TOPIC_OR_PARTITION"),
            ("GET", f"/v1/topics/{topic}/partitions/0/records?offset=5", None, 400, "OFFSET_OUT_OF_RANGE"),
            ("GET", f"/v1/topics/{topic}/records?cursor=0:5", None, 400, "OFFSET_OUT_OF_RANGE"),
            ("POST", "/v1/topics", {"name": topic}, 409, "TOPIC_ALREADY_EXISTS"),
            ("POST", "/v1/topics", {"name": "bad name"}, 400, "INVALID_TOPIC_EXCEPTION"),
            ("POST", "/v1/topics/bad name/records", {"records": [{"value": "x"}]}, 400, "INVALID_TOPIC_EXCEPTION"),
            ("POST", "/v1/topics", {"name": "__consumer_offsets"}, 400, "INVALID_REQUEST"),
            ("POST", "/v1/topics/__consumer_offsets/records", {"records": [{"value": "x"}]}, 400, "INVALID_REQUEST"),
            ("POST", f"/v1/topics/{topic}/partitions", {"count": 1}, 400, "INVALID_PARTITIONS"),
            ("GET", f"/v1/groups/{unique_name('g')}", None, 404, "GROUP_ID_NOT_FOUND"),
        ]
        for method, path, body, status, name in cases:
            with self.subTest(request=f"{method} {path}"):
                path = path.replace(" ", "%20")
                self.err(method, path, body, status, name)

    # ==== reading a whole topic =====================================================================
    def test_read_whole_topic_merged_with_cursor(self):
        topic = self.create(3)
        t0 = int(time.time() * 1000) - 60_000
        # Timestamps interleave the partitions; within a partition they are not sorted.
        plan = [(0, 5), (1, 1), (2, 3), (0, 2), (1, 4), (2, 6), (0, 9), (1, 8)]
        self.produce(topic, [{"value": f"p{p}-t{dt}", "partition": p, "timestamp": t0 + dt}
                             for p, dt in plan])
        page = self.ok("GET", f"/v1/topics/{topic}/records")
        recs = page["records"]
        self.assertEqual(len(recs), len(plan))
        self.assertEqual(page["cursor"], "0:3,1:3,2:2")
        self.assertEqual(page["partitions"], [{"partition": 0, "next_offset": 3, "end_offset": 3},
                                              {"partition": 1, "next_offset": 3, "end_offset": 3},
                                              {"partition": 2, "next_offset": 2, "end_offset": 2}])
        # Each partition's records in offset order...
        for p in range(3):
            self.assertEqual([r["offset"] for r in recs if r["partition"] == p],
                             sorted(r["offset"] for r in recs if r["partition"] == p))
        # ...merged by timestamp where the partitions' order allows it: p0's t5 comes before its
        # t2 (offset order wins), and every head taken is the earliest available.
        self.assertEqual([r["value"] for r in recs],
                         ["p1-t1", "p2-t3", "p1-t4", "p0-t5", "p0-t2", "p2-t6", "p1-t8", "p0-t9"])
        # Paging with the cursor visits every record once.
        seen, cursor = [], None
        for _ in range(10):
            q = f"?limit=3" + (f"&cursor={cursor}" if cursor is not None else "")
            page = self.ok("GET", f"/v1/topics/{topic}/records{q}")
            self.assertLessEqual(len(page["records"]), 3)
            if not page["records"]:
                break
            seen += [(r["partition"], r["offset"]) for r in page["records"]]
            cursor = page["cursor"]
        self.assertEqual(sorted(seen), sorted((r["partition"], r["offset"]) for r in recs))
        self.assertEqual(len(seen), len(set(seen)))
        # At the end: nothing more, the same cursor.
        end = self.ok("GET", f"/v1/topics/{topic}/records?cursor={cursor}")
        self.assertEqual((end["records"], end["cursor"]), ([], cursor))
        # New records after the cursor are what the next read returns.
        self.produce(topic, [{"value": "late", "partition": 1}])
        late = self.ok("GET", f"/v1/topics/{topic}/records?cursor={cursor}")
        self.assertEqual([(r["partition"], r["offset"], r["value"]) for r in late["records"]],
                         [(1, 3, "late")])
        # A cursor naming only some partitions: the others start at their log start.
        part = self.ok("GET", f"/v1/topics/{topic}/records?cursor=0:3,1:4")
        self.assertEqual({r["partition"] for r in part["records"]}, {2})
        self.assertEqual(part["cursor"], "0:3,1:4,2:2")
        # Partitions added later appear in the cursor.
        self.ok("POST", f"/v1/topics/{topic}/partitions", {"count": 4})
        self.produce(topic, [{"value": "new", "partition": 3}])
        grown = self.ok("GET", f"/v1/topics/{topic}/records?cursor=0:3,1:4,2:2")
        self.assertEqual([(r["partition"], r["value"]) for r in grown["records"]], [(3, "new")])
        self.assertEqual(grown["cursor"], "0:3,1:4,2:2,3:1")

    def test_read_whole_topic_bad_input(self):
        topic = self.create(2)
        for q in ("cursor=x", "cursor=0", "cursor=0:", "cursor=:1", "cursor=0:1,0:2", "cursor=-1:0",
                  "cursor=0:-1", "cursor=0:1;1:2", "limit=0", "limit=10001", "encoding=hex",
                  "key_encoding=", "value_encoding=utf8"):
            with self.subTest(q=q):
                self.err("GET", f"/v1/topics/{topic}/records?{q}", status=400, error="bad_request")
        self.err("GET", f"/v1/topics/{unique_name('missing')}/records", status=404,
                 error="UNKNOWN_TOPIC_OR_PARTITION")
        empty = self.ok("GET", f"/v1/topics/{topic}/records?cursor=")
        self.assertEqual((empty["records"], empty["cursor"]), ([], "0:0,1:0"))

    def test_whole_topic_and_partition_reads_agree_with_kafka_python(self):
        topic = self.create(3)
        producer = self.producer()
        sent = [producer.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode(),
                              headers=[("n", str(i).encode())]).get(timeout=10) for i in range(20)]
        whole = self.ok("GET", f"/v1/topics/{topic}/records?limit=100")
        self.assertEqual(len(whole["records"]), 20)
        by_pos = {(r["partition"], r["offset"]): r for r in whole["records"]}
        for i, m in enumerate(sent):
            r = by_pos[(m.partition, m.offset)]
            self.assertEqual((r["key"], r["value"], r["headers"]),
                             (f"k{i}", f"v{i}", [{"key": "n", "value": str(i)}]))
            one = self.ok("GET", f"/v1/topics/{topic}/partitions/{m.partition}/records"
                                 f"?offset={m.offset}&limit=1")["records"]
            self.assertEqual(one, [r])

    # ==== waiting for records (wait_ms) ===========================================================
    def parked(self, path, http=None):
        """Starts GET path in a thread; returns a function giving (status, json, seconds)."""
        out = {}

        def run():
            t0 = time.monotonic()
            try:
                st, _, js = (http or self.http).call("GET", path)
                out["r"] = (st, js, time.monotonic() - t0)
            except Exception as exc:  # noqa: BLE001 - reported by result()
                out["r"] = (None, repr(exc), time.monotonic() - t0)

        t = threading.Thread(target=run, daemon=True)
        t.start()

        def result():
            t.join(TIMEOUT_S)
            self.assertFalse(t.is_alive(), f"GET {path} did not answer")
            return out["r"]
        return result

    def test_wait_ms_answers_when_records_arrive(self):
        topic = self.create(2)
        for path in (f"/v1/topics/{topic}/partitions/1/records?wait_ms=20000",
                     f"/v1/topics/{topic}/records?wait_ms=20000&cursor=0:0,1:0"):
            with self.subTest(path=path):
                start = self.ok("GET", f"/v1/topics/{topic}")["partition_details"][1]["end_offset"]
                result = self.parked(path.replace("1:0", f"1:{start}"))
                # Parked or not yet: either way the answer must carry this record, long before
                # the 20 s are up.
                r = self.produce(topic, [{"value": "arrived", "partition": 1}])
                st, js, secs = result()
                self.assertEqual(st, 200, js)
                recs = [x for x in js["records"] if x["offset"] >= start]
                self.assertEqual([(x["partition"], x["value"]) for x in recs], [(1, "arrived")], js)
                self.assertEqual(r["results"][0]["base_offset"], start)
                self.assertLess(secs, 15)

    def test_wait_ms_with_nothing_to_read(self):
        topic = self.create(1)
        t0 = time.monotonic()
        js = self.ok("GET", f"/v1/topics/{topic}/records?wait_ms=300")
        self.assertGreaterEqual(time.monotonic() - t0, 0.29)
        self.assertEqual((js["records"], js["cursor"]), ([], "0:0"))
        # Records already there: no waiting.
        self.produce(topic, [{"value": "x"}])
        self.assertEqual(len(self.ok("GET", f"/v1/topics/{topic}/records?wait_ms=60000")["records"]), 1)
        for bad in ("-1", "x", "60001"):
            self.err("GET", f"/v1/topics/{topic}/records?wait_ms={bad}", status=400, error="bad_request")
            self.err("GET", f"/v1/topics/{topic}/partitions/0/records?wait_ms={bad}", status=400,
                     error="bad_request")

    def test_wait_ms_topic_deleted_meanwhile_and_broker_stopping(self):
        topic = self.create(1)
        result = self.parked(f"/v1/topics/{topic}/records?wait_ms=20000")
        self.ok("DELETE", f"/v1/topics/{topic}")
        st, js, secs = result()
        # Parked when the topic went: woken and 404; not parked yet: 404 at once.
        self.assertEqual((st, js["error"]), (404, "UNKNOWN_TOPIC_OR_PARTITION"), js)
        self.assertLess(secs, 15)
        # SIGTERM with a read parked for 30 s: the broker still stops at once, exit code 0.
        broker = Broker().start()
        try:
            http = Http(broker.admin_url())
            http.call("POST", "/v1/topics", {"name": "parked", "partitions": 1})
            result = self.parked("/v1/topics/parked/records?wait_ms=30000", http)
            t0 = time.monotonic()
        finally:
            code = broker.stop()
        self.assertEqual(code, 0)
        self.assertLess(time.monotonic() - t0, 10)
        result()  # the parked request ends too (its connection closed, or an answer)

    # ==== encodings =================================================================================
    def test_encodings_per_part_both_ways(self):
        topic = self.create(1)
        doc = {"n": 1, "list": [True, None, "x"]}
        # key as text, value as json, header values as base64: one request, three encodings.
        self.produce(topic, [{"key": "user-1", "value": doc,
                              "headers": [{"key": "bin", "value": b64(b"\x00\xff")}]}],
                     key_encoding="text", value_encoding="json", header_encoding="base64")
        # The same request's encodings read it back as it was written.
        r = self.ok("GET", f"/v1/topics/{topic}/partitions/0/records"
                           "?key_encoding=text&value_encoding=json&header_encoding=base64")["records"][0]
        self.assertEqual((r["key"], r["value"], r["headers"]),
                         ("user-1", doc, [{"key": "bin", "value": b64(b"\x00\xff")}]))
        # Everything as base64: the stored bytes.
        r = self.ok("GET", f"/v1/topics/{topic}/records?encoding=base64")["records"][0]
        self.assertEqual(base64.b64decode(r["key"]), b"user-1")
        self.assertEqual(json.loads(base64.b64decode(r["value"])), doc)
        # encoding= sets all three; a part's own setting wins.
        r = self.ok("GET", f"/v1/topics/{topic}/records?encoding=base64&value_encoding=json")["records"][0]
        self.assertEqual((r["key"], r["value"]), (b64(b"user-1"), doc))
        # The header is not text: text (the default) refuses it, naming the record and header.
        e = self.err("GET", f"/v1/topics/{topic}/records", status=422, error="not_text")
        self.assertIn("partition 0 offset 0", e["message"])
        self.assertIn("header 'bin'", e["message"])
        # The key is not JSON.
        e = self.err("GET", f"/v1/topics/{topic}/records?encoding=json&header_encoding=base64",
                     status=422, error="not_json")
        self.assertIn("key", e["message"])
        # Query parameters work for produce too; the query and body may not disagree.
        self.ok("POST", f"/v1/topics/{topic}/records?encoding=base64",
                {"records": [{"value": b64(b"\xfe")}]})
        self.err("POST", f"/v1/topics/{topic}/records?encoding=base64",
                 {"records": [{"value": "x"}], "encoding": "text"}, 400, "bad_request")
        # "string", the old name of text, is still accepted.
        self.ok("POST", f"/v1/topics/{topic}/records", {"records": [{"value": "s"}], "encoding": "string"})
        r = self.ok("GET", f"/v1/topics/{topic}/partitions/0/records?offset=2&encoding=string")
        self.assertEqual(r["records"][0]["value"], "s")

    def test_text_values_are_always_strings_or_null(self):
        """One shape for values: as text, a value is a string or null, whatever it holds (JSON
        text included); as json it is the JSON value; as base64 a base64 string."""
        topic = self.create(1)
        values = ["plain", '{"a": 1}', "[1,2]", "42", "", None, "ключ ✓", '"quoted"']
        self.produce(topic, [{"value": v} for v in values])
        recs = self.ok("GET", f"/v1/topics/{topic}/records")["records"]
        self.assertEqual([r["value"] for r in recs], values)
        recs = self.ok("GET", f"/v1/topics/{topic}/records?encoding=base64")["records"]
        self.assertEqual([r["value"] for r in recs],
                         [None if v is None else b64(v.encode()) for v in values])
        # Invalid UTF-8 in every form the decoder must refuse (overlong, surrogate, > U+10FFFF,
        # truncated): each is 422 not_text as text, and exact as base64.
        for bad in (b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\xff"):
            t = self.create(1)
            self.produce(t, [{"value": b64(bad)}], encoding="base64")
            with self.subTest(bad=bad):
                self.err("GET", f"/v1/topics/{t}/records", status=422, error="not_text")
                r = self.ok("GET", f"/v1/topics/{t}/records?encoding=base64")["records"][0]
                self.assertEqual(base64.b64decode(r["value"]), bad)

    def test_json_encoding_matches_kafka_python_json_serializer(self):
        topic = self.create(1)
        producer = self.producer(key_serializer=str.encode,
                                 value_serializer=lambda v: json.dumps(v).encode())
        values = [{"id": 1, "tags": ["a"]}, [1, 2], "text", 3.5, None, True]
        for v in values:
            producer.send(topic, key="k", value=v, partition=0).get(timeout=10)
        recs = self.ok("GET", f"/v1/topics/{topic}/records?value_encoding=json")["records"]
        self.assertEqual([(r["key"], r["value"]) for r in recs], [("k", v) for v in values])
        # And the reverse: HTTP json values are what json.loads reads from the bytes.
        self.produce(topic, [{"key": "k2", "value": {"x": [1, {"y": None}]}}], value_encoding="json")
        consumer = self.closing(KafkaConsumer(bootstrap_servers=self.bootstrap, **COMMON))
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, len(values))
        got = []
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                got += batch
        self.assertEqual((got[0].key, json.loads(got[0].value)), (b"k2", {"x": [1, {"y": None}]}))

    # ==== headers ===================================================================================
    def test_headers_are_a_list_both_ways(self):
        topic = self.create(1)
        hdrs = [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}, {"key": "z", "value": None},
                {"key": "ü", "value": ""}]
        self.produce(topic, [{"value": "v", "headers": hdrs}])
        # The older object form is still accepted on input and comes back as the list.
        self.produce(topic, [{"value": "w", "headers": {"h1": "x", "h2": None}}])
        recs = self.ok("GET", f"/v1/topics/{topic}/records")["records"]
        self.assertEqual(recs[0]["headers"], hdrs)  # repeated keys and order kept
        self.assertEqual(recs[1]["headers"], [{"key": "h1", "value": "x"}, {"key": "h2", "value": None}])
        # What a read returns can be produced again as it is.
        again = self.create(1)
        self.produce(again, [{k: r[k] for k in ("key", "value", "headers")} for r in recs])
        copy = self.ok("GET", f"/v1/topics/{again}/records")["records"]
        self.assertEqual([(r["key"], r["value"], r["headers"]) for r in copy],
                         [(r["key"], r["value"], r["headers"]) for r in recs])
        # Kafka clients see the same headers.
        consumer = self.closing(KafkaConsumer(bootstrap_servers=self.bootstrap, **COMMON))
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        got = []
        deadline = time.monotonic() + 10
        while len(got) < 2 and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                got += batch
        self.assertEqual(list(got[0].headers), [("a", b"1"), ("a", b"2"), ("z", None), ("ü", b"")])
        for bad in (["h"], [{"value": "x"}], [{"key": 1, "value": "x"}],
                    [{"key": "k", "value": "x", "extra": 1}], "h=x", 5):
            with self.subTest(headers=bad):
                self.err("POST", f"/v1/topics/{topic}/records",
                         {"records": [{"value": "x", "headers": bad}]}, 400, "bad_request")

    def test_produce_refuses_unknown_fields(self):
        """A misspelt field is refused rather than ignored ("vaule" would store a null value)."""
        topic = self.create(1)
        self.err("POST", f"/v1/topics/{topic}/records", {"records": [{"vaule": "x"}]}, 400, "bad_request")
        self.err("POST", f"/v1/topics/{topic}/records", {"records": [{"value": "x"}], "encodng": "json"},
                 400, "bad_request")
        end = self.ok("GET", f"/v1/topics/{topic}")["partition_details"][0]["end_offset"]
        self.assertEqual(end, 0)

    # ==== produce auto-creates ======================================================================
    def test_produce_to_missing_topic_creates_it(self):
        name = unique_name("auto")
        r = self.produce(name, [{"key": "k", "value": "v"}])
        self.assertEqual(r["topic"], name)
        d = self.ok("GET", f"/v1/topics/{name}")
        self.assertEqual(d["partitions"], 3)  # --default-partitions 3, as for Kafka clients
        self.assertEqual(d["config_overrides"], {})
        recs = self.ok("GET", f"/v1/topics/{name}/records")["records"]
        self.assertEqual([(x["key"], x["value"]) for x in recs], [("k", "v")])
        consumer = self.closing(KafkaConsumer(bootstrap_servers=self.bootstrap, **COMMON))
        self.assertEqual(consumer.partitions_for_topic(name), {0, 1, 2})
        # A bad body creates nothing.
        never = unique_name("never")
        self.err("POST", f"/v1/topics/{never}/records", {"records": []}, 400, "bad_request")
        self.err("POST", f"/v1/topics/{never}/records", {"records": [{"value": 1}], "encoding": "base64"},
                 400, "bad_request")
        self.err("GET", f"/v1/topics/{never}", status=404, error="UNKNOWN_TOPIC_OR_PARTITION")
        # Reading does not create (as Kafka's Fetch).
        self.err("GET", f"/v1/topics/{never}/records", status=404, error="UNKNOWN_TOPIC_OR_PARTITION")
        self.err("GET", f"/v1/topics/{never}", status=404, error="UNKNOWN_TOPIC_OR_PARTITION")

    def test_produce_to_missing_topic_without_auto_creation_is_404(self):
        broker = Broker(["--auto-create-topics", "false"]).start()
        try:
            http = Http(broker.admin_url())
            name = unique_name("noauto")
            st, _, js = http.call("POST", f"/v1/topics/{name}/records", {"records": [{"value": "x"}]})
            self.assertEqual((st, js["error"]), (404, "UNKNOWN_TOPIC_OR_PARTITION"), js)
            self.assertIn("--auto-create-topics", js["message"])
            st, _, js = http.call("GET", f"/v1/topics/{name}")
            self.assertEqual(st, 404)
        finally:
            self.assertEqual(broker.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
