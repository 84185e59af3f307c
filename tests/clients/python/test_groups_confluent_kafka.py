#!/usr/bin/python3
"""Consumer-group workflows of minikafka with confluent-kafka (librdkafka).

Run:  MINIKAFKA_BIN=build/broker/minikafka /usr/bin/python3 tests/clients/python/test_groups_confluent_kafka.py
(or through ctest: `ctest -L clients -R groups`).

The same flows as test_groups_kafka_python.py (the kafka-python usage notes translated to
librdkafka): earliest/latest, manual and auto commit, the backlog (high watermark - committed),
two members splitting a topic, a member leaving, one being killed (also the leader) and one
paused past its session timeout, two groups, the group admin API, static membership
(group.instance.id, restarting a follower and the leader) and a fenced static member.

Debian 12's python3-confluent-kafka is 1.7.0 (librdkafka 2.0.2): its AdminClient has
list_groups() (ListGroups + DescribeGroups) but no list_consumer_groups/
describe_consumer_groups/list_consumer_group_offsets/delete_consumer_groups, so offsets are read
with Consumer.committed() and DeleteGroups is covered by the kafka-python suite.

librdkafka runs the group protocol in background threads, so several consumers can be polled
from the test thread in turn. A member that is killed (SIGKILL) or paused (SIGSTOP) runs in a
subprocess (this file with --member, see `member_process_main`).
"""

import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from mkfixture import (BrokerTestCase, _set_parent_death_signal, unique_name,  # noqa: E402
                       wait_until)

BROKER_ARGS = ("--group-min-session-timeout-ms", "1000")
EXPIRY_SESSION_MS = 2000
STATIC_SESSION_MS = 4000
HEARTBEAT_MS = 300


def base_conf(bootstrap, **extra):
    cfg = {
        "bootstrap.servers": bootstrap,
        "client.id": "test",
        "socket.timeout.ms": 10000,
        "api.version.request.timeout.ms": 5000,
        "broker.address.family": "v4",
    }
    cfg.update(extra)
    return cfg


def group_conf(bootstrap, group_id, **extra):
    cfg = base_conf(bootstrap, **{
        "group.id": group_id,
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": HEARTBEAT_MS,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "fetch.wait.max.ms": 100,
        "topic.metadata.refresh.interval.ms": 1000,
    })
    cfg.update(extra)
    return cfg


# -- ConsumerProtocol decoding (DescribeGroups member metadata / assignment) ---------------------
class _Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def string(self):
        n = self.take(">h")
        value = self.data[self.pos:self.pos + n].decode()
        self.pos += n
        return value

    def nullable_bytes(self):
        n = self.take(">i")
        if n < 0:
            return None
        value = self.data[self.pos:self.pos + n]
        self.pos += n
        return value


def decode_assignment(data):
    """ConsumerProtocolAssignment: INT16 version, ARRAY of {topic STRING, partitions ARRAY of
    INT32}, user_data NULLABLE_BYTES. Returns {topic: sorted partitions}."""
    r = _Reader(data)
    r.take(">h")
    out = {}
    for _ in range(r.take(">i")):
        topic = r.string()
        out[topic] = sorted(r.take(">i") for _ in range(r.take(">i")))
    r.nullable_bytes()
    return out


def decode_subscription(data):
    """ConsumerProtocolSubscription: INT16 version, topics ARRAY of STRING, ..."""
    r = _Reader(data)
    r.take(">h")
    return [r.string() for _ in range(r.take(">i"))]


# -- a group member polled from the test thread ---------------------------------------------------
class Member:
    """A subscribed librdkafka consumer with its rebalance events, records and EOFs."""

    def __init__(self, conf, topic, name):
        self.name = name
        self.events = []      # ("assign" | "revoke", sorted partitions), in order
        self.assignment = frozenset()
        self.records = []     # (partition, offset, value)
        self.eof = {}         # partition -> offset of the last EOF event
        self.errors = []
        self.consumer = Consumer(dict(conf, **{"enable.partition.eof": True}))
        self.consumer.subscribe([topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        self.closed = False

    def _on_assign(self, consumer, partitions):
        self.assignment = frozenset(p.partition for p in partitions)
        self.events.append(("assign", sorted(self.assignment)))

    def _on_revoke(self, consumer, partitions):
        self.assignment = frozenset()
        self.events.append(("revoke", sorted(p.partition for p in partitions)))

    def poll(self, timeout=0.05):
        if self.closed:
            return
        msg = self.consumer.poll(timeout)
        if msg is None:
            return
        err = msg.error()
        if err is None:
            self.records.append((msg.partition(), msg.offset(), msg.value()))
        elif err.code() == KafkaError._PARTITION_EOF:
            self.eof[msg.partition()] = msg.offset()
        else:
            self.errors.append(err)

    def close(self):
        if not self.closed:
            self.closed = True
            self.consumer.close()


def poll_all(members, rounds=1):
    for _ in range(rounds):
        for m in members:
            m.poll(0.02)


# -- a group member in a subprocess (so it can be SIGKILLed or SIGSTOPped) ------------------------
def member_process_main(bootstrap, topic, group_id, session_ms):
    """Runs a subscribed consumer forever; prints one JSON line per assignment change."""
    def show(partitions):
        print(json.dumps({"assignment": sorted(p.partition for p in partitions)}), flush=True)
    consumer = Consumer(group_conf(bootstrap, group_id, **{"session.timeout.ms": session_ms}))
    consumer.subscribe([topic], on_assign=lambda c, ps: show(ps), on_revoke=lambda c, ps: show([]))
    while True:
        consumer.poll(0.1)


class MemberProcess:
    def __init__(self, bootstrap, topic, group_id, session_ms):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--member", bootstrap, topic, group_id,
             str(session_ms)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            preexec_fn=_set_parent_death_signal)
        self._lock = threading.Lock()
        self._assignment = frozenset()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        with self.proc.stdout:
            for line in self.proc.stdout:
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                with self._lock:
                    self._assignment = frozenset(msg["assignment"])

    @property
    def assignment(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"member process exited ({self.proc.returncode})")
        with self._lock:
            return self._assignment

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


class GroupsConfluentKafkaTest(BrokerTestCase):
    """confluent-kafka consumer groups against one broker; each test has its own topic/group."""

    broker_args = BROKER_ARGS

    # -- helpers ----------------------------------------------------------------------------------
    def admin(self):
        return AdminClient(base_conf(self.bootstrap))

    def make_topic(self, partitions):
        """Creates a topic (admin API; on the anchor, whose mock cluster has no CreateTopics,
        its control channel) and waits for its metadata."""
        name = self.topic_name()
        admin = self.admin()
        if self.broker.is_anchor:
            self.broker.anchor_create_topic(name, partitions)
        else:
            admin.create_topics([NewTopic(name, partitions, 1)], operation_timeout=10,
                                request_timeout=10)[name].result(10)

        def ready():
            t = admin.list_topics(timeout=10).topics.get(name)
            return (t is not None and t.error is None and len(t.partitions) == partitions
                    and all(p.leader >= 0 for p in t.partitions.values()))
        wait_until(ready, timeout=10, message=f"metadata of {name}")
        return name

    def group_name(self):
        return unique_name("g-" + self._testMethodName.replace("_", "-")[5:30])

    def produce(self, topic, count, partitions, prefix="m"):
        """Produces `count` values round-robin over `partitions`.

        Returns {(partition, offset): value}."""
        producer = Producer(base_conf(self.bootstrap, **{"linger.ms": 5,
                                                         "message.timeout.ms": 10000}))
        out, errors = {}, []

        def report(err, msg):
            if err is not None:
                errors.append(err)
            else:
                out[(msg.partition(), msg.offset())] = msg.value()
        for i in range(count):
            producer.produce(topic, value=f"{prefix}{i}".encode(),
                             partition=partitions[i % len(partitions)], on_delivery=report)
        self.assertEqual(producer.flush(10), 0, "messages still queued after flush(10)")
        self.assertEqual(errors, [])
        self.assertEqual(len(out), count)
        return out

    def member(self, topic, group_id, name="m", **extra):
        conf = group_conf(self.bootstrap, group_id, **{"client.id": name, **extra})
        m = Member(conf, topic, name)
        self.closing(m)
        return m

    def plain_consumer(self, group_id):
        """A consumer of the group that never subscribes: committed() asks the broker."""
        consumer = Consumer(group_conf(self.bootstrap, group_id))
        return self.closing(consumer)

    def as_map(self, records):
        out = {}
        for p, o, v in records:
            self.assertNotIn((p, o), out, f"offset {o} of partition {p} delivered twice")
            out[(p, o)] = v
        return out

    def read_all(self, members, count, timeout=15):
        """Polls the members until they hold `count` records together, then a little more to
        catch extra deliveries."""
        def enough():
            poll_all(members)
            for m in members:
                self.assertEqual(m.errors, [], m.name)
            return sum(len(m.records) for m in members) >= count
        wait_until(enough, timeout=timeout, interval=0,
                   message=f"{count} records (got {sum(len(m.records) for m in members)})")
        poll_all(members, rounds=5)

    def wait_assignment(self, members, predicate, message, timeout=15):
        def check():
            poll_all(members)
            for m in members:
                self.assertEqual(m.errors, [], m.name)
            return predicate()
        return wait_until(check, timeout=timeout, interval=0, message=message)

    def committed(self, consumer, topic, partitions):
        result = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        for tp in result:
            self.assertIsNone(tp.error)
        return {tp.partition: tp.offset for tp in result}

    def describe(self, group_id):
        groups = self.admin().list_groups(group_id, timeout=10)
        self.assertEqual(len(groups), 1)
        return groups[0]

    # -- 1. earliest / latest ---------------------------------------------------------------------
    def test_earliest_group_consumer_reads_everything(self):
        """group.id + auto.offset.reset=earliest: a new group reads every earlier message."""
        topic = self.make_topic(3)
        sent = self.produce(topic, 30, [0, 1, 2])
        m = self.member(topic, self.group_name(), **{"auto.offset.reset": "earliest"})
        self.read_all([m], len(sent))
        self.assertEqual(self.as_map(m.records), sent)
        self.assertEqual(m.assignment, {0, 1, 2})

    def test_latest_group_consumer_reads_only_new_messages(self):
        """auto.offset.reset=latest: once assigned and positioned at the end (EOF reported at
        offset 5 of each partition) only later messages arrive."""
        topic = self.make_topic(2)
        self.produce(topic, 10, [0, 1], prefix="old")
        m = self.member(topic, self.group_name(), **{"auto.offset.reset": "latest"})
        self.wait_assignment([m], lambda: m.assignment == {0, 1} and set(m.eof) == {0, 1},
                             "assignment and EOF on both partitions")
        self.assertEqual(m.eof, {0: 5, 1: 5}, "positioned at the log end")
        self.assertEqual(m.records, [])
        new = self.produce(topic, 6, [0, 1], prefix="new")
        self.assertEqual(set(new), {(p, o) for p in (0, 1) for o in (5, 6, 7)})
        self.read_all([m], len(new))
        self.assertEqual(self.as_map(m.records), new)

    # -- 2. manual commit -------------------------------------------------------------------------
    def test_manual_commit_then_new_consumer_resumes_after_last_commit(self):
        """enable.auto.commit=false, commit() after each of the first 13 messages, close: a new
        consumer of the group gets exactly the other messages."""
        topic = self.make_topic(3)
        group = self.group_name()
        sent = self.produce(topic, 30, [0, 1, 2])
        first = self.member(topic, group)

        def take():
            before = len(first.records)
            first.poll(0.05)
            if len(first.records) > before:
                first.consumer.commit(asynchronous=False)
            return len(first.records) >= 13
        wait_until(take, timeout=15, interval=0, message="13 messages")
        done = self.as_map(first.records)
        expected = {0: None, 1: None, 2: None}
        for p, o, _ in first.records:
            expected[p] = max(expected[p] or 0, o + 1)
        checker = self.plain_consumer(group)
        got = self.committed(checker, topic, [0, 1, 2])
        self.assertEqual({p: got[p] for p in expected if expected[p] is not None},
                         {p: o for p, o in expected.items() if o is not None})
        first.close()

        second = self.member(topic, group, "second")
        self.read_all([second], len(sent) - len(done))
        rest = self.as_map(second.records)
        self.assertEqual(set(rest) & set(done), set(), "re-delivered committed messages")
        self.assertEqual({**done, **rest}, sent)
        for p in (0, 1, 2):
            starts = [o for (q, o) in rest if q == p]
            if starts:
                self.assertEqual(min(starts), expected[p] or 0, f"partition {p}")

    # -- 3. auto commit ---------------------------------------------------------------------------
    def test_auto_commit_advances_committed_offsets(self):
        """enable.auto.commit=true, auto.commit.interval.ms=200: committed() reaches the
        consumed positions."""
        topic = self.make_topic(2)
        group = self.group_name()
        sent = self.produce(topic, 20, [0, 1])
        m = self.member(topic, group, **{"enable.auto.commit": True,
                                         "auto.commit.interval.ms": 200})
        self.read_all([m], len(sent))
        positions = {tp.partition: tp.offset
                     for tp in m.consumer.position([TopicPartition(topic, p) for p in (0, 1)])}
        self.assertEqual(positions, {0: 10, 1: 10})
        checker = self.plain_consumer(group)

        def committed_at_positions():
            m.poll(0.05)
            return self.committed(checker, topic, [0, 1]) == positions
        wait_until(committed_at_positions, timeout=10, interval=0,
                   message="committed offsets at the positions (10, 10)")

    # -- 4. lag -----------------------------------------------------------------------------------
    def lag(self, topic, group, partitions):
        """sum(high watermark) - sum(committed), committed = None (OFFSET_INVALID) counts 0."""
        consumer = Consumer(group_conf(self.bootstrap, group))
        try:
            tps = [TopicPartition(topic, p) for p in partitions]
            end = sum(consumer.get_watermark_offsets(tp, timeout=10, cached=False)[1] for tp in tps)
            cur = sum(tp.offset for tp in consumer.committed(tps, timeout=10) if tp.offset >= 0)
            return end - cur
        finally:
            consumer.close()

    def test_lag_end_offsets_minus_committed(self):
        """Produce 40, consume+commit 17: lag 23; consume+commit the rest: lag 0."""
        topic = self.make_topic(4)
        group = self.group_name()
        parts = [0, 1, 2, 3]
        sent = self.produce(topic, 40, parts)
        self.assertEqual(self.lag(topic, group, parts), 40)
        m = self.member(topic, group)

        def take(n):
            def more():
                before = len(m.records)
                m.poll(0.05)
                if len(m.records) > before:
                    m.consumer.commit(asynchronous=False)
                return len(m.records) >= n
            return more
        wait_until(take(17), timeout=15, interval=0, message="17 messages")
        self.assertEqual(len(m.records), 17)
        self.assertEqual(self.lag(topic, group, parts), 40 - 17)
        wait_until(take(40), timeout=15, interval=0, message="40 messages")
        self.assertEqual(self.as_map(m.records), sent)
        self.assertEqual(self.lag(topic, group, parts), 0)
        self.produce(topic, 5, [1, 3], prefix="late")
        self.assertEqual(self.lag(topic, group, parts), 5)

    # -- 5. two members; one leaves ---------------------------------------------------------------
    def test_two_members_split_partitions_then_survivor_takes_all_after_leave(self):
        """Two members on a 4-partition topic: disjoint assignments covering 0-3, each message
        read once; after one closes (final auto commit + LeaveGroup) the other owns all 4 and
        continues where the leaver stopped."""
        topic = self.make_topic(4)
        group = self.group_name()
        auto = {"enable.auto.commit": True, "auto.commit.interval.ms": 200}
        a = self.member(topic, group, "a", **auto)
        self.wait_assignment([a], lambda: a.assignment == {0, 1, 2, 3}, "a owns all 4")
        b = self.member(topic, group, "b", **auto)
        self.wait_assignment(
            [a, b], lambda: (a.assignment and b.assignment and not (a.assignment & b.assignment)
                             and (a.assignment | b.assignment) == {0, 1, 2, 3}),
            "disjoint assignments covering 0-3")
        pa, pb = a.assignment, b.assignment
        self.assertEqual((len(pa), len(pb)), (2, 2))
        sent = self.produce(topic, 80, [0, 1, 2, 3])
        self.read_all([a, b], len(sent))
        ra, rb = self.as_map(a.records), self.as_map(b.records)
        self.assertEqual({p for p, _ in ra}, set(pa))
        self.assertEqual({p for p, _ in rb}, set(pb))
        self.assertEqual(set(ra) & set(rb), set())
        self.assertEqual({**ra, **rb}, sent)

        b.close()
        self.wait_assignment([a], lambda: a.assignment == {0, 1, 2, 3},
                             "survivor owns all 4 after the other left")
        more = self.produce(topic, 40, [0, 1, 2, 3], prefix="after")
        self.read_all([a], len(ra) + len(more))
        ra2 = self.as_map(a.records)
        self.assertEqual(set(ra2) & set(rb), set(), "survivor re-read the leaver's messages")
        self.assertEqual({**ra2, **rb}, {**sent, **more})
        g = self.describe(group)
        self.assertEqual((g.state, len(g.members)), ("Stable", 1))

    # -- 6. killed member -------------------------------------------------------------------------
    def test_killed_member_expires_after_session_timeout(self):
        """A member in a subprocess is SIGKILLed: after its 2 s session timeout the survivor
        owns all 4 partitions (bounded by 3x the session timeout)."""
        self._killed_member_expires(victim_first=False)

    def test_killed_leader_expires_after_session_timeout(self):
        """The same when the killed member joined first (the group leader)."""
        self._killed_member_expires(victim_first=True)

    def _killed_member_expires(self, victim_first):
        topic = self.make_topic(4)
        group = self.group_name()

        def start_victim():
            victim = MemberProcess(self.bootstrap, topic, group, EXPIRY_SESSION_MS)
            self.closing(victim, victim.kill)
            return victim
        if victim_first:
            victim = start_victim()
            wait_until(lambda: victim.assignment == {0, 1, 2, 3}, timeout=15,
                       message="victim owns all 4")
            a = self.member(topic, group, "a", **{"session.timeout.ms": EXPIRY_SESSION_MS})
        else:
            a = self.member(topic, group, "a", **{"session.timeout.ms": EXPIRY_SESSION_MS})
            self.wait_assignment([a], lambda: a.assignment == {0, 1, 2, 3}, "a owns all 4")
            victim = start_victim()
        self.wait_assignment(
            [a], lambda: (a.assignment and victim.assignment
                          and not (a.assignment & victim.assignment)
                          and (a.assignment | victim.assignment) == {0, 1, 2, 3}),
            "survivor and victim split the partitions", timeout=20)
        self.assertEqual(len(self.describe(group).members), 2)

        victim.kill()
        killed_at = time.monotonic()
        self.wait_assignment([a], lambda: a.assignment == {0, 1, 2, 3},
                             "survivor owns all 4 after the expiry",
                             timeout=3 * EXPIRY_SESSION_MS / 1000)
        elapsed = time.monotonic() - killed_at
        self.assertGreaterEqual(elapsed, (EXPIRY_SESSION_MS - 2 * HEARTBEAT_MS) / 1000 - 0.2,
                                "member dropped well before its session timeout")
        sent = self.produce(topic, 20, [0, 1, 2, 3])
        self.read_all([a], len(sent))
        self.assertEqual(self.as_map(a.records), sent)
        g = self.describe(group)
        self.assertEqual((g.state, len(g.members)), ("Stable", 1))

    def test_paused_member_expires_then_rejoins(self):
        """A member stopped with SIGSTOP for longer than its session timeout is expired and the
        survivor gets all 4 partitions; resumed with SIGCONT, it finds its member id gone
        (UNKNOWN_MEMBER_ID), rejoins, and the partitions are split between the two again."""
        topic = self.make_topic(4)
        group = self.group_name()
        a = self.member(topic, group, "a", **{"session.timeout.ms": EXPIRY_SESSION_MS})
        self.wait_assignment([a], lambda: a.assignment == {0, 1, 2, 3}, "a owns all 4")
        paused = MemberProcess(self.bootstrap, topic, group, EXPIRY_SESSION_MS)
        self.closing(paused, paused.kill)

        def split_in_group():
            g = self.describe(group)
            owned = [frozenset(decode_assignment(m.assignment).get(topic, []))
                     for m in g.members if m.assignment]
            return (g.state == "Stable" and len(g.members) == 2 and len(owned) == 2
                    and not (owned[0] & owned[1]) and (owned[0] | owned[1]) == {0, 1, 2, 3}
                    and len(a.assignment) == 2 and a.assignment in owned)
        self.wait_assignment([a], split_in_group, "the two members split the partitions",
                             timeout=20)
        member_ids = {m.id for m in self.describe(group).members}

        paused.pause()
        self.wait_assignment([a], lambda: a.assignment == {0, 1, 2, 3},
                             "survivor owns all 4 after the expiry",
                             timeout=3 * EXPIRY_SESSION_MS / 1000)
        self.assertEqual(len(self.describe(group).members), 1)
        paused.resume()
        self.wait_assignment([a], split_in_group, "split again after the member came back",
                             timeout=20)
        new_ids = {m.id for m in self.describe(group).members}
        self.assertEqual(len(new_ids & member_ids), 1, "the paused member rejoins with a new id")

    # -- 7. two groups ----------------------------------------------------------------------------
    def test_two_groups_each_read_every_message(self):
        """Members of two different groups each read all messages."""
        topic = self.make_topic(3)
        sent = self.produce(topic, 24, [0, 1, 2])
        m1 = self.member(topic, self.group_name(), "one")
        m2 = self.member(topic, self.group_name(), "two")

        def both():
            poll_all([m1, m2])
            return len(m1.records) >= len(sent) and len(m2.records) >= len(sent)
        wait_until(both, timeout=15, interval=0, message="both groups read everything")
        poll_all([m1, m2], rounds=5)
        self.assertEqual(self.as_map(m1.records), sent)
        self.assertEqual(self.as_map(m2.records), sent)

    # -- 8. admin ---------------------------------------------------------------------------------
    def test_admin_list_groups_describes_members_assignments_and_offsets(self):
        """AdminClient.list_groups() lists the group; list_groups(group) shows it Stable with
        protocol range, both members (client id, host, subscription) and their assignments
        (ConsumerProtocolAssignment decoded); committed offsets match the commits; once both
        members left the group is Empty with no members."""
        topic = self.make_topic(4)
        group = self.group_name()
        a = self.member(topic, group, "member-a")
        self.wait_assignment([a], lambda: a.assignment == {0, 1, 2, 3}, "a owns all 4")
        b = self.member(topic, group, "member-b")
        self.wait_assignment(
            [a, b], lambda: (a.assignment and b.assignment and not (a.assignment & b.assignment)
                             and (a.assignment | b.assignment) == {0, 1, 2, 3}),
            "a and b split the partitions")

        listed = {g.id: g for g in self.admin().list_groups(timeout=10)}
        self.assertIn(group, listed)
        self.assertEqual(listed[group].protocol_type, "consumer")
        g = self.describe(group)
        self.assertIsNone(g.error)
        self.assertEqual((g.id, g.state, g.protocol_type, g.protocol),
                         (group, "Stable", "consumer", "range"))
        by_client = {m.client_id: m for m in g.members}
        self.assertEqual(set(by_client), {"member-a", "member-b"})
        for member in (a, b):
            info = by_client[member.name]
            self.assertEqual(info.client_host, "/127.0.0.1")
            self.assertEqual(decode_subscription(info.metadata), [topic])
            self.assertEqual(decode_assignment(info.assignment),
                             {topic: sorted(member.assignment)}, member.name)

        commits = {p: 100 + p for p in range(4)}
        for member in (a, b):
            member.consumer.commit(offsets=[TopicPartition(topic, p, commits[p])
                                            for p in member.assignment], asynchronous=False)
        checker = self.plain_consumer(group)
        self.assertEqual(self.committed(checker, topic, range(4)), commits)

        a.close()
        b.close()
        g = self.describe(group)
        self.assertEqual((g.state, g.members), ("Empty", []))
        self.assertEqual(self.committed(checker, topic, range(4)), commits, "offsets kept")

    def test_admin_delete_consumer_groups(self):
        """AdminClient.delete_consumer_groups: only in confluent-kafka >= 2.0."""
        if not hasattr(AdminClient, "delete_consumer_groups"):
            self.skipTest("confluent-kafka < 2.0 has no AdminClient.delete_consumer_groups "
                          "(DeleteGroups is covered by test_groups_kafka_python.py)")
        self.fail("newer confluent-kafka: write this test against its delete_consumer_groups")

    # -- 9. static membership ---------------------------------------------------------------------
    def test_static_member_restart_keeps_assignment_without_rebalance(self):
        """group.instance.id: a static member closes (librdkafka sends no LeaveGroup for static
        members) and restarts with the same instance id within its session timeout: it gets
        the same partitions back and the other member sees no revoke/assign at all, also after
        the old session would have expired."""
        self._static_member_restart(restart_leader=False)

    def test_static_leader_restart_keeps_assignment_without_rebalance(self):
        """The same when the restarted static member is the group leader (joined first)."""
        self._static_member_restart(restart_leader=True)

    def _static_member_restart(self, restart_leader):
        topic = self.make_topic(4)
        group = self.group_name()

        def static_member(name):
            return self.member(topic, group, name, **{"session.timeout.ms": STATIC_SESSION_MS,
                                                      "group.instance.id": f"static-{name}"})
        leader = static_member("leader")
        self.wait_assignment([leader], lambda: leader.assignment == {0, 1, 2, 3},
                             "leader owns all 4")
        follower = static_member("follower")
        self.wait_assignment(
            [leader, follower],
            lambda: (leader.assignment and follower.assignment
                     and not (leader.assignment & follower.assignment)
                     and (leader.assignment | follower.assignment) == {0, 1, 2, 3}),
            "leader and follower split the partitions")
        restarted, other = (leader, follower) if restart_leader else (follower, leader)
        p_restarted, p_other = restarted.assignment, other.assignment
        other_events = list(other.events)
        members_before = {m.client_id: m.id for m in self.describe(group).members}

        restarted.close()
        closed_at = time.monotonic()
        g = self.describe(group)
        self.assertEqual((g.state, len(g.members)), ("Stable", 2),
                         "a static member's close must not remove it from the group")
        again = static_member(restarted.name)
        self.wait_assignment([again, other], lambda: again.assignment, "restarted member assigned")
        self.assertLess(time.monotonic() - closed_at, STATIC_SESSION_MS / 1000,
                        "restart took longer than the session timeout")
        self.assertEqual(again.assignment, p_restarted,
                         "restarted static member got other partitions")
        self.assertEqual(again.events, [("assign", sorted(p_restarted))])

        # Keep both consuming past the point where the old session would have expired: no
        # rebalance may happen, and messages on every partition reach their owner.
        sent = self.produce(topic, 40, [0, 1, 2, 3])
        deadline = closed_at + STATIC_SESSION_MS / 1000 + 1.0
        wait_until(lambda: poll_all([again, other]) or (
            time.monotonic() >= deadline and len(again.records) + len(other.records) >= 40),
            timeout=STATIC_SESSION_MS / 1000 + 10, interval=0,
            message="both members read the new messages past the old session deadline")
        self.assertEqual(other.events, other_events, "the other member saw a rebalance")
        self.assertEqual(other.assignment, p_other)
        self.assertEqual(again.events, [("assign", sorted(p_restarted))],
                         "restarted member rebalanced")
        self.assertEqual({p for p, _, _ in again.records}, set(p_restarted))
        self.assertEqual({p for p, _, _ in other.records}, set(p_other))
        self.assertEqual(self.as_map(again.records + other.records), sent)
        g = self.describe(group)
        self.assertEqual((g.state, len(g.members)), ("Stable", 2))
        members_after = {m.client_id: m.id for m in g.members}
        self.assertEqual(members_after[other.name], members_before[other.name])
        self.assertNotEqual(members_after[restarted.name], members_before[restarted.name],
                            "the restarted static member has a new member id")
        self.assertEqual(again.errors + other.errors, [])

    # -- 11. bad input: a fenced static member ----------------------------------------------------
    def test_second_consumer_with_same_instance_id_fences_the_first(self):
        """Two consumers with the same group.instance.id: the newcomer takes over the member
        (same assignment, no rebalance) and the old one gets a fatal error for
        FENCED_INSTANCE_ID."""
        topic = self.make_topic(2)
        group = self.group_name()
        conf = {"group.instance.id": "twin", "session.timeout.ms": STATIC_SESSION_MS}
        old = self.member(topic, group, "old", **conf)
        self.wait_assignment([old], lambda: old.assignment == {0, 1}, "old owns both")
        new = self.member(topic, group, "new", **conf)

        def fenced():
            poll_all([old, new])
            return new.assignment == {0, 1} and old.errors
        wait_until(fenced, timeout=15, interval=0, message="new assigned and old fenced")
        err = old.errors[0]
        self.assertEqual(err.code(), KafkaError._FATAL, err)
        self.assertIn("fenced", err.str().lower())
        self.assertEqual(new.errors, [])
        g = self.describe(group)
        self.assertEqual((g.state, [m.client_id for m in g.members]), ("Stable", ["new"]))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--member":
        member_process_main(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        unittest.main(verbosity=2)
