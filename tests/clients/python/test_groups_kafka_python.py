#!/usr/bin/python3
"""Consumer-group workflows of minikafka with kafka-python 2.0.2 (Debian's python3-kafka).

Run:  MINIKAFKA_BIN=build/broker/minikafka /usr/bin/python3 tests/clients/python/test_groups_kafka_python.py
(or through ctest: `ctest -L clients -R groups`). One test:
  ... test_groups_kafka_python.py GroupsKafkaPythonTest.test_lag_end_offsets_minus_committed

The flows follow the kafka-python usage notes (shared/usage-notes): KafkaConsumer(topic,
group_id=..., auto_offset_reset='earliest'|'latest'), manual commit with consumer.commit(),
auto commit (enable_auto_commit / auto_commit_interval_ms) and the backlog ("kafka left")
computation sum(end_offsets) - sum(committed).

The broker runs with --group-min-session-timeout-ms 1000 so the session-expiry test can use a
2 s session timeout. kafka-python's poll() blocks while its group rebalances, so members of one
group that must rejoin together each run in their own thread (`Member`), and a member that is
killed (SIGKILL) or paused (SIGSTOP) runs in a subprocess (this file with --member, see
`member_process_main`).
"""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import traceback
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402
from kafka.client_async import KafkaClient  # noqa: E402
from kafka.coordinator.base import Generation  # noqa: E402
from kafka.errors import (CommitFailedError, GroupIdNotFoundError,  # noqa: E402
                          IllegalGenerationError, InvalidSessionTimeoutError, NoError,
                          NonEmptyGroupError, UnknownMemberIdError,
                          UnknownTopicOrPartitionError)
from kafka.protocol.commit import GroupCoordinatorRequest, OffsetCommitRequest  # noqa: E402
from kafka.protocol.group import HeartbeatRequest  # noqa: E402
from kafka.structs import OffsetAndMetadata  # noqa: E402

from mkfixture import (BrokerTestCase, _set_parent_death_signal, unique_name,  # noqa: E402
                       wait_until)

CLIENT_ID = "test"
BROKER_ARGS = ("--group-min-session-timeout-ms", "1000")
COMMON = dict(client_id=CLIENT_ID, api_version_auto_timeout_ms=5000)
# Group consumers: the session timeout bounds how long a dead member holds partitions, the
# rebalance timeout (max_poll_interval_ms) how long a JoinGroup may be held back; a JoinGroup
# must not time out on the client before the broker answers it.
GROUP_CONSUMER = dict(COMMON, session_timeout_ms=6000, heartbeat_interval_ms=300,
                      max_poll_interval_ms=10000, request_timeout_ms=15000,
                      fetch_max_wait_ms=100, auto_offset_reset="earliest",
                      enable_auto_commit=False)
EXPIRY_SESSION_MS = 2000


def tps(topic, partitions):
    return [TopicPartition(topic, p) for p in partitions]


# -- a group member in its own thread ------------------------------------------------------------
class Member:
    """One KafkaConsumer subscribed to `topic`, owned by its own thread.

    The thread polls continuously (so the member rejoins promptly when the group rebalances),
    records every (partition, offset, value) it receives and its current assignment. Other
    threads read snapshots, or run code on the consumer's thread with call().
    """

    def __init__(self, bootstrap, topic, group_id, **overrides):
        self.cfg = dict(GROUP_CONSUMER, bootstrap_servers=bootstrap, group_id=group_id)
        self.cfg.update(overrides)
        self.topic = topic
        self._lock = threading.Lock()
        self._records = []
        self._assignment = frozenset()
        self.assignments = []  # every distinct assignment seen, in order
        self._calls = queue.Queue()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._close_autocommit = True
        self.error = None
        self.consumer = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            self.consumer = KafkaConsumer(self.topic, **self.cfg)
            while not self._stop.is_set():
                self._serve_calls()
                for batch in self.consumer.poll(timeout_ms=100).values():
                    with self._lock:
                        self._records.extend((r.partition, r.offset, r.value) for r in batch)
                assigned = frozenset(tp.partition for tp in self.consumer.assignment())
                if assigned != self._assignment:
                    with self._lock:
                        self._assignment = assigned
                        self.assignments.append(assigned)
            self._serve_calls()
            self.consumer.close(autocommit=self._close_autocommit)
        except Exception:  # noqa: BLE001 - reported to the test through check()
            self.error = traceback.format_exc()
        finally:
            self._done.set()

    def _serve_calls(self):
        while True:
            try:
                fn, box, done = self._calls.get_nowait()
            except queue.Empty:
                return
            try:
                box.append((True, fn(self.consumer)))
            except Exception as exc:  # noqa: BLE001 - re-raised in the caller's thread
                box.append((False, exc))
            done.set()

    def check(self):
        if self.error:
            raise AssertionError(f"member thread failed:\n{self.error}")

    def call(self, fn, timeout=15):
        """Runs fn(consumer) on the member's thread and returns its result (or raises)."""
        box, done = [], threading.Event()
        self._calls.put((fn, box, done))
        if not done.wait(timeout):
            self.check()
            raise AssertionError(f"member did not run the call within {timeout}s")
        ok, value = box[0]
        if not ok:
            raise value
        return value

    @property
    def assignment(self):
        self.check()
        with self._lock:
            return self._assignment

    @property
    def records(self):
        self.check()
        with self._lock:
            return list(self._records)

    def close(self, autocommit=True, timeout=20):
        """Stops polling and closes the consumer (LeaveGroup; commits first if auto commit)."""
        self._close_autocommit = autocommit
        self._stop.set()
        if not self._done.wait(timeout):
            raise AssertionError(f"member did not close within {timeout}s")
        self.check()


# -- a group member in a subprocess (so it can be SIGKILLed or SIGSTOPped) ------------------------
def member_process_main(bootstrap, topic, group_id, session_ms):
    """Runs a subscribed consumer forever; prints one JSON line per assignment change."""
    consumer = KafkaConsumer(topic, **dict(GROUP_CONSUMER, bootstrap_servers=bootstrap,
                                           group_id=group_id, session_timeout_ms=session_ms))
    last = None
    while True:
        consumer.poll(timeout_ms=100)
        assigned = sorted(tp.partition for tp in consumer.assignment())
        if assigned != last:
            last = assigned
            print(json.dumps({"assignment": assigned}), flush=True)


class MemberProcess:
    def __init__(self, bootstrap, topic, group_id, session_ms):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--member", bootstrap, topic, group_id,
             str(session_ms)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=_set_parent_death_signal)
        self._lock = threading.Lock()
        self._assignment = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        with self.proc.stdout:
            self._read_lines()

    def _read_lines(self):
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                self._assignment = frozenset(msg["assignment"])

    @property
    def assignment(self):
        if self.proc.poll() is not None and self._assignment is None:
            raise AssertionError(f"member process exited ({self.proc.returncode}): "
                                 f"{self.proc.stderr.read()}")
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
        self.proc.stderr.close()


class GroupsKafkaPythonTest(BrokerTestCase):
    """kafka-python consumer groups against one broker; each test uses its own topic and group."""

    broker_args = BROKER_ARGS

    # -- helpers ----------------------------------------------------------------------------------
    def admin(self):
        return self.closing(KafkaAdminClient(bootstrap_servers=self.bootstrap,
                                             request_timeout_ms=10000, **COMMON))

    def make_topic(self, partitions):
        """Creates a topic (admin API; on the anchor, whose mock cluster has no CreateTopics,
        its control channel) and waits for its metadata."""
        name = self.topic_name()
        admin = self.admin()
        if self.broker.is_anchor:
            self.broker.anchor_create_topic(name, partitions)
        else:
            admin.create_topics([NewTopic(name, partitions, 1)], timeout_ms=10000)

        def ready():
            meta = admin.describe_topics([name])
            return (meta and meta[0]["error_code"] == 0 and len(meta[0]["partitions"]) == partitions
                    and all(p["leader"] >= 0 for p in meta[0]["partitions"]))
        wait_until(ready, timeout=10, message=f"metadata of {name}")
        return name

    def group_name(self):
        return unique_name("g-" + self._testMethodName.replace("_", "-")[5:30])

    def produce(self, topic, count, partitions, prefix="m"):
        """Sends `count` values round-robin over `partitions`.

        Returns {(partition, offset): value}."""
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=0, **COMMON)
        try:
            futures = [(producer.send(topic, value=f"{prefix}{i}".encode(),
                                      partition=partitions[i % len(partitions)]),
                        f"{prefix}{i}".encode())
                       for i in range(count)]
            producer.flush(timeout=10)
            out = {}
            for future, value in futures:
                meta = future.get(timeout=10)
                out[(meta.partition, meta.offset)] = value
            return out
        finally:
            producer.close(timeout=5)

    def consumer(self, topic, group_id, **overrides):
        cfg = dict(GROUP_CONSUMER, bootstrap_servers=self.bootstrap, group_id=group_id)
        cfg.update(overrides)
        consumer = KafkaConsumer(topic, **cfg)
        return self.closing(consumer, lambda: consumer.close(autocommit=False))

    def member(self, topic, group_id, **overrides):
        m = Member(self.bootstrap, topic, group_id, **overrides)
        self.closing(m, lambda: m.close(autocommit=False))
        return m

    def poll_until(self, consumer, count, timeout=15):
        """Polls until `count` records arrived, then a little longer to catch extra or
        duplicate deliveries. Returns {(partition, offset): value}."""
        got = []

        def enough():
            for batch in consumer.poll(timeout_ms=100).values():
                got.extend((r.partition, r.offset, r.value) for r in batch)
            return len(got) >= count
        wait_until(enough, timeout=timeout, interval=0, message=f"{count} records (got {len(got)})")
        for batch in consumer.poll(timeout_ms=300).values():
            got.extend((r.partition, r.offset, r.value) for r in batch)
        return self.as_map(got)

    def as_map(self, records):
        out = {}
        for p, o, v in records:
            self.assertNotIn((p, o), out, f"offset {o} of partition {p} delivered twice")
            out[(p, o)] = v
        return out

    def wait_assigned(self, consumer, timeout=15):
        """Polls (so the consumer joins) until it has an assignment; returns the records polled."""
        records = []

        def assigned():
            for batch in consumer.poll(timeout_ms=100).values():
                records.extend((r.partition, r.offset, r.value) for r in batch)
            return consumer.assignment()
        wait_until(assigned, timeout=timeout, interval=0, message="a group assignment")
        return records

    def describe(self, admin, group_id):
        (desc,) = admin.describe_consumer_groups([group_id])
        return desc

    # -- 1. usage notes: earliest / latest --------------------------------------------------------
    def test_earliest_group_consumer_reads_everything(self):
        """group_id + auto_offset_reset='earliest': a new group reads every earlier record."""
        topic = self.make_topic(3)
        sent = self.produce(topic, 30, [0, 1, 2])
        consumer = self.consumer(topic, self.group_name(), auto_offset_reset="earliest")
        got = self.poll_until(consumer, len(sent))
        self.assertEqual(got, sent)
        self.assertEqual(consumer.assignment(), set(tps(topic, [0, 1, 2])))

    def test_latest_group_consumer_reads_only_new_records(self):
        """auto_offset_reset='latest': once assigned and positioned, only later records arrive."""
        topic = self.make_topic(2)
        self.produce(topic, 10, [0, 1], prefix="old")
        consumer = self.consumer(topic, self.group_name(), auto_offset_reset="latest")
        early = self.wait_assigned(consumer)
        self.assertEqual(early, [], "records before the consumer was positioned")
        # position() resolves the reset policy: the log end of each partition (5 each).
        self.assertEqual({tp: consumer.position(tp) for tp in tps(topic, [0, 1])},
                         {tp: 5 for tp in tps(topic, [0, 1])})
        new = self.produce(topic, 6, [0, 1], prefix="new")
        self.assertEqual(set(new), {(p, o) for p in (0, 1) for o in (5, 6, 7)})
        got = self.poll_until(consumer, len(new))
        self.assertEqual(got, new)

    # -- 2. manual commit, then a new consumer resumes --------------------------------------------
    def test_manual_commit_then_new_consumer_resumes_after_last_commit(self):
        """enable_auto_commit=False, commit() after each of the first 13 records, close: a new
        consumer of the group gets exactly the other records (no loss, no re-delivery)."""
        topic = self.make_topic(3)
        group = self.group_name()
        sent = self.produce(topic, 30, [0, 1, 2])
        first = self.consumer(topic, group, enable_auto_commit=False, max_poll_records=1)
        consumed = []

        def take():
            for batch in first.poll(timeout_ms=100).values():
                for r in batch:
                    consumed.append((r.partition, r.offset, r.value))
                    first.commit()  # as in the usage notes: commit after each message
            return len(consumed) >= 13
        wait_until(take, timeout=15, interval=0, message="13 records")
        self.assertEqual(len(consumed), 13, "max_poll_records=1 returned more than one record")
        done = self.as_map(consumed)
        # The broker holds, per partition, the offset after the last consumed record (commit()
        # commits every assigned partition's position, so one not read from yet may be at 0).
        expected_committed = {0: 0, 1: 0, 2: 0}
        for p, o, _ in consumed:
            expected_committed[p] = max(expected_committed[p], o + 1)
        committed = self.admin().list_consumer_group_offsets(group)
        self.assertEqual({p: 0 for p in (0, 1, 2)}
                         | {tp.partition: om.offset for tp, om in committed.items()},
                         expected_committed)
        first.close(autocommit=False)

        second = self.consumer(topic, group, enable_auto_commit=False)
        rest = self.poll_until(second, len(sent) - len(done))
        self.assertEqual(set(rest) & set(done), set(), "re-delivered committed records")
        self.assertEqual({**done, **rest}, sent)
        # Each partition resumed exactly at its committed offset.
        for p in (0, 1, 2):
            first_rest = min((o for (q, o) in rest if q == p), default=None)
            if first_rest is not None:
                self.assertEqual(first_rest, expected_committed[p], f"partition {p}")

    # -- 3. auto commit ---------------------------------------------------------------------------
    def test_auto_commit_advances_committed_offsets(self):
        """enable_auto_commit=True, auto_commit_interval_ms=200: committed offsets reach the
        consumed positions while the consumer keeps polling."""
        topic = self.make_topic(2)
        group = self.group_name()
        sent = self.produce(topic, 20, [0, 1])
        consumer = self.consumer(topic, group, enable_auto_commit=True,
                                 auto_commit_interval_ms=200)
        self.poll_until(consumer, len(sent))
        parts = tps(topic, [0, 1])
        self.assertEqual({tp: consumer.position(tp) for tp in parts}, {tp: 10 for tp in parts})
        admin = self.admin()

        def committed_at_positions():
            consumer.poll(timeout_ms=100)  # auto commits are sent from poll()
            stored = admin.list_consumer_group_offsets(group)
            return {tp: om.offset for tp, om in stored.items()} == {tp: 10 for tp in parts}
        wait_until(committed_at_positions, timeout=10, interval=0,
                   message="auto-committed offsets at the positions (10, 10)")
        self.assertEqual({tp: consumer.committed(tp) for tp in parts}, {tp: 10 for tp in parts})

    # -- 4. lag as in the usage notes -------------------------------------------------------------
    def lag(self, topic, group):
        """The usage notes' "kafka left": sum(end_offsets) - sum(committed), by a consumer of
        the group that never polls (so it never joins and never commits)."""
        consumer = KafkaConsumer(topic, bootstrap_servers=self.bootstrap, group_id=group,
                                 enable_auto_commit=False, **COMMON)
        try:
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
            toff = consumer.end_offsets(partitions)
            toff = sorted((key.partition, toff[key]) for key in toff.keys())
            coff = sorted((x.partition, consumer.committed(x)) for x in partitions)
            toff_sum = sum(x[1] for x in toff)
            cur_sum = sum(x[1] for x in coff if x[1] is not None)
            return toff_sum - cur_sum
        finally:
            consumer.close(autocommit=False)

    def test_lag_end_offsets_minus_committed(self):
        """Produce 40, consume+commit 17: lag 23; consume+commit the rest: lag 0."""
        topic = self.make_topic(4)
        group = self.group_name()
        sent = self.produce(topic, 40, [0, 1, 2, 3])
        self.assertEqual(self.lag(topic, group), 40, "nothing committed yet")
        consumer = self.consumer(topic, group, enable_auto_commit=False, max_poll_records=1)
        consumed = []

        def take(n):
            def more():
                for batch in consumer.poll(timeout_ms=100).values():
                    for r in batch:
                        consumed.append((r.partition, r.offset, r.value))
                        consumer.commit()
                return len(consumed) >= n
            return more
        wait_until(take(17), timeout=15, interval=0, message="17 records")
        self.assertEqual(len(consumed), 17)
        self.assertEqual(self.lag(topic, group), 40 - 17)
        wait_until(take(40), timeout=15, interval=0, message="40 records")
        self.assertEqual(self.as_map(consumed), sent)
        self.assertEqual(self.lag(topic, group), 0)
        # New records are backlog again.
        self.produce(topic, 5, [1, 3], prefix="late")
        self.assertEqual(self.lag(topic, group), 5)

    # -- 5. two members split the partitions; one leaves ------------------------------------------
    def test_two_members_split_partitions_then_survivor_takes_all_after_leave(self):
        """Two members on a 4-partition topic: disjoint assignments covering 0-3, every record
        read once. When one closes (LeaveGroup, after its final auto commit) the other gets all
        4 partitions and continues where the leaver stopped: still every record exactly once."""
        topic = self.make_topic(4)
        group = self.group_name()
        a = self.member(topic, group, enable_auto_commit=True, auto_commit_interval_ms=200)
        wait_until(lambda: a.assignment == {0, 1, 2, 3}, timeout=15,
                   message="first member owns all 4 partitions")
        b = self.member(topic, group, enable_auto_commit=True, auto_commit_interval_ms=200)

        def split():
            pa, pb = a.assignment, b.assignment
            return pa and pb and not (pa & pb) and (pa | pb) == {0, 1, 2, 3} and (pa, pb)
        pa, pb = wait_until(split, timeout=15, message="disjoint assignments covering 0-3")
        self.assertEqual((len(pa), len(pb)), (2, 2), "range assignor: 2 partitions each")

        sent = self.produce(topic, 80, [0, 1, 2, 3])
        wait_until(lambda: len(a.records) + len(b.records) >= len(sent), timeout=15,
                   message="all records read by the two members")
        ra, rb = self.as_map(a.records), self.as_map(b.records)
        self.assertEqual({p for p, _ in ra}, set(pa), "member a read outside its assignment")
        self.assertEqual({p for p, _ in rb}, set(pb), "member b read outside its assignment")
        self.assertEqual(set(ra) & set(rb), set(), "a record read by both members")
        self.assertEqual({**ra, **rb}, sent)

        b.close(autocommit=True)  # final commit, then LeaveGroup
        wait_until(lambda: a.assignment == {0, 1, 2, 3}, timeout=15,
                   message="survivor owns all 4 partitions after the other left")
        more = self.produce(topic, 40, [0, 1, 2, 3], prefix="after")
        wait_until(lambda: len(a.records) >= len(ra) + len(more), timeout=15,
                   message="survivor reads the records produced after the leave")
        ra2 = self.as_map(a.records)
        self.assertEqual({**ra2, **rb}, {**sent, **more})
        self.assertEqual(set(ra2) & set(rb), set(), "survivor re-read the leaver's records")
        desc = self.describe(self.admin(), group)
        self.assertEqual((desc.state, len(desc.members)), ("Stable", 1))

    # -- 6. a killed member expires ---------------------------------------------------------------
    def test_killed_member_expires_after_session_timeout(self):
        """A member in a subprocess is SIGKILLed (no LeaveGroup): after its 2 s session timeout
        the survivor gets all 4 partitions (bounded by 3x the session timeout)."""
        self._killed_member_expires(victim_first=False)

    def test_killed_leader_expires_after_session_timeout(self):
        """The same when the killed member joined first (the group leader): the survivor becomes
        leader, assigns itself all 4 partitions."""
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
                       message="victim owns all 4 partitions")
            a = self.member(topic, group, session_timeout_ms=EXPIRY_SESSION_MS)
        else:
            a = self.member(topic, group, session_timeout_ms=EXPIRY_SESSION_MS)
            wait_until(lambda: a.assignment == {0, 1, 2, 3}, timeout=15,
                       message="survivor owns all 4 partitions")
            victim = start_victim()

        def split():
            pa, pv = a.assignment, victim.assignment
            return pa and pv and not (pa & pv) and (pa | pv) == {0, 1, 2, 3}
        wait_until(split, timeout=20, message="survivor and victim split the partitions")
        self.assertEqual(len(self.describe(self.admin(), group).members), 2)

        victim.kill()
        killed_at = time.monotonic()
        wait_until(lambda: a.assignment == {0, 1, 2, 3}, timeout=3 * EXPIRY_SESSION_MS / 1000,
                   interval=0.02, message="survivor owns all 4 partitions after the expiry")
        elapsed = time.monotonic() - killed_at
        # Kafka does not drop a member when its connection closes, only when its session
        # expires (the last heartbeat was at most one heartbeat interval before the kill).
        self.assertGreaterEqual(elapsed, (EXPIRY_SESSION_MS - 2 * 300) / 1000 - 0.2,
                                "member dropped well before its session timeout")
        sent = self.produce(topic, 20, [0, 1, 2, 3])
        wait_until(lambda: len(a.records) >= len(sent), timeout=15,
                   message="survivor reads every partition")
        self.assertEqual(self.as_map(a.records), sent)
        desc = self.describe(self.admin(), group)
        self.assertEqual((desc.state, len(desc.members)), ("Stable", 1))

    def test_paused_member_expires_then_rejoins(self):
        """A member stopped with SIGSTOP (think: a long GC pause) for longer than its session
        timeout is expired and the survivor gets all 4 partitions; resumed with SIGCONT, it
        finds its member id gone (UNKNOWN_MEMBER_ID), rejoins, and the partitions are split
        between the two again."""
        topic = self.make_topic(4)
        group = self.group_name()
        admin = self.admin()
        a = self.member(topic, group, session_timeout_ms=EXPIRY_SESSION_MS)
        wait_until(lambda: a.assignment == {0, 1, 2, 3}, timeout=15,
                   message="survivor owns all 4 partitions")
        paused = MemberProcess(self.bootstrap, topic, group, EXPIRY_SESSION_MS)
        self.closing(paused, paused.kill)

        def split_in_group():
            desc = self.describe(admin, group)
            owned = [frozenset(p for _, ps in m.member_assignment.assignment for p in ps)
                     for m in desc.members if m.member_assignment]
            return (desc.state == "Stable" and len(desc.members) == 2 and len(owned) == 2
                    and not (owned[0] & owned[1]) and (owned[0] | owned[1]) == {0, 1, 2, 3}
                    and len(a.assignment) == 2 and a.assignment in owned)
        wait_until(split_in_group, timeout=20, message="the two members split the partitions")
        member_ids = {m.member_id for m in self.describe(admin, group).members}

        paused.pause()
        wait_until(lambda: a.assignment == {0, 1, 2, 3}, timeout=3 * EXPIRY_SESSION_MS / 1000,
                   interval=0.02, message="survivor owns all 4 partitions after the expiry")
        self.assertEqual(len(self.describe(admin, group).members), 1)
        paused.resume()
        wait_until(split_in_group, timeout=20, message="split again after the member came back")
        new_ids = {m.member_id for m in self.describe(admin, group).members}
        self.assertEqual(len(new_ids & member_ids), 1, "the paused member rejoins with a new id")

    # -- 7. two groups ----------------------------------------------------------------------------
    def test_two_groups_each_read_every_record(self):
        """Consumers of two different groups each read all records (usage notes: different
        group ids see the same messages)."""
        topic = self.make_topic(3)
        sent = self.produce(topic, 24, [0, 1, 2])
        g1, g2 = self.group_name(), self.group_name()
        c1 = self.consumer(topic, g1, enable_auto_commit=True, auto_commit_interval_ms=200)
        c2 = self.consumer(topic, g2, enable_auto_commit=True, auto_commit_interval_ms=200)
        got1, got2 = [], []

        def both():
            for consumer, got in ((c1, got1), (c2, got2)):
                for batch in consumer.poll(timeout_ms=50).values():
                    got.extend((r.partition, r.offset, r.value) for r in batch)
            return len(got1) >= len(sent) and len(got2) >= len(sent)
        wait_until(both, timeout=15, interval=0, message="both groups read everything")
        self.assertEqual(self.as_map(got1), sent)
        self.assertEqual(self.as_map(got2), sent)
        c1.commit()
        c2.commit()
        admin = self.admin()
        for g in (g1, g2):
            stored = admin.list_consumer_group_offsets(g)
            self.assertEqual({tp.partition: om.offset for tp, om in stored.items()},
                             {0: 8, 1: 8, 2: 8}, g)

    # -- 8. admin ---------------------------------------------------------------------------------
    def test_admin_list_describe_offsets_and_delete_groups(self):
        """list_consumer_groups / describe_consumer_groups show a Stable group with its two
        members and their assignments; list_consumer_group_offsets matches the commits;
        delete_consumer_groups fails with NON_EMPTY_GROUP while active, works once empty."""
        topic = self.make_topic(4)
        group = self.group_name()
        admin = self.admin()
        a = self.member(topic, group, client_id="member-a")
        wait_until(lambda: a.assignment == {0, 1, 2, 3}, timeout=15, message="a owns 4")
        b = self.member(topic, group, client_id="member-b")
        wait_until(lambda: a.assignment and b.assignment
                   and (a.assignment | b.assignment) == {0, 1, 2, 3}
                   and not (a.assignment & b.assignment),
                   timeout=15, message="a and b split the partitions")

        self.assertIn((group, "consumer"), admin.list_consumer_groups())
        desc = wait_until(lambda: (lambda d: d.state == "Stable" and len(d.members) == 2 and d)(
            self.describe(admin, group)), timeout=10, message="Stable with 2 members")
        self.assertEqual((desc.error_code, desc.group, desc.protocol_type, desc.protocol),
                         (0, group, "consumer", "range"))
        by_client = {m.client_id: m for m in desc.members}
        self.assertEqual(set(by_client), {"member-a", "member-b"})
        for member, name in ((a, "member-a"), (b, "member-b")):
            info = by_client[name]
            self.assertEqual(info.member_id, member.call(
                lambda c: c._coordinator._generation.member_id))
            self.assertEqual(info.client_host, "/127.0.0.1")
            self.assertEqual(info.member_metadata.subscription, [topic])
            self.assertEqual([(t, sorted(ps)) for t, ps in info.member_assignment.assignment],
                             [(topic, sorted(member.assignment))], name)

        # Commits from each member show up in list_consumer_group_offsets.
        commits = {TopicPartition(topic, p): OffsetAndMetadata(10 + p, f"meta-{p}")
                   for p in range(4)}
        for member in (a, b):
            mine = {tp: om for tp, om in commits.items() if tp.partition in member.assignment}
            member.call(lambda c, mine=mine: c.commit(mine))
        stored = admin.list_consumer_group_offsets(group)
        self.assertEqual(stored, commits)
        self.assertEqual(admin.list_consumer_group_offsets(group, partitions=tps(topic, [2])),
                         {TopicPartition(topic, 2): commits[TopicPartition(topic, 2)]})

        self.assertEqual(admin.delete_consumer_groups([group]), [(group, NonEmptyGroupError)])
        self.assertEqual(admin.list_consumer_group_offsets(group), commits, "offsets kept")

        b.close(autocommit=False)
        a.close(autocommit=False)
        wait_until(lambda: self.describe(admin, group).state == "Empty", timeout=10,
                   message="group Empty after both members left")
        desc = self.describe(admin, group)
        self.assertEqual(desc.members, [])
        self.assertIn((group, "consumer"), admin.list_consumer_groups(),
                      "an Empty group with offsets is still listed")
        self.assertEqual(admin.delete_consumer_groups([group]), [(group, NoError)])
        self.assertNotIn(group, [g for g, _ in admin.list_consumer_groups()])
        self.assertEqual(admin.list_consumer_group_offsets(group), {}, "offsets deleted")
        self.assertEqual(self.describe(admin, group).state, "Dead")
        self.assertEqual(admin.delete_consumer_groups([group]), [(group, GroupIdNotFoundError)],
                         "deleting it again")

    # -- 11. bad input ----------------------------------------------------------------------------
    def coordinator_client(self, group):
        """kafka-python's low-level KafkaClient connected to `group`'s coordinator."""
        client = KafkaClient(bootstrap_servers=self.bootstrap, request_timeout_ms=10000, **COMMON)
        self.closing(client)
        node = wait_until(lambda: client.least_loaded_node(), timeout=10, message="a node")
        response = self.send(client, node, GroupCoordinatorRequest[0](group))
        self.assertEqual(response.error_code, 0)
        return client, response.coordinator_id

    def send(self, client, node, request):
        wait_until(lambda: client.ready(node) or client.poll(timeout_ms=50) and False,
                   timeout=10, message=f"connection to node {node}")
        future = client.send(node, request)
        client.poll(future=future, timeout_ms=10000)
        self.assertTrue(future.succeeded(), future.exception)
        return future.value

    def test_commit_and_heartbeat_with_unknown_member_or_wrong_generation_are_rejected(self):
        """Raw OffsetCommit v2 / Heartbeat v0 to the coordinator of a Stable group: an unknown
        member gets UNKNOWN_MEMBER_ID, the real member with a wrong generation gets
        ILLEGAL_GENERATION, a missing partition UNKNOWN_TOPIC_OR_PARTITION, and none of these
        commits is stored. Through the consumer, a stale generation makes commit() raise
        CommitFailedError."""
        topic = self.make_topic(1)
        group = self.group_name()
        # A long heartbeat interval so no heartbeat interferes between the steps below.
        consumer = self.consumer(topic, group, session_timeout_ms=10000,
                                 heartbeat_interval_ms=3000)
        self.wait_assigned(consumer)
        gen = consumer._coordinator._generation  # the consumer's own (correct) generation
        client, coordinator = self.coordinator_client(group)

        def commit(generation_id, member_id, offset, partition=0):
            request = OffsetCommitRequest[2](group, generation_id, member_id, -1,
                                             [(topic, [(partition, offset, "")])])
            response = self.send(client, coordinator, request)
            ((name, ((got_partition, error_code),)),) = response.topics
            self.assertEqual((name, got_partition), (topic, partition))
            return error_code

        self.assertEqual(commit(gen.generation_id, "no-such-member", 5), UnknownMemberIdError.errno)
        self.assertEqual(commit(gen.generation_id + 1, gen.member_id, 6),
                         IllegalGenerationError.errno)
        self.assertEqual(commit(-1, "", 7), UnknownMemberIdError.errno,
                         "a 'simple' commit (no generation) to a group with members")
        self.assertIsNone(consumer.committed(TopicPartition(topic, 0)))
        hb = self.send(client, coordinator, HeartbeatRequest[0](group, gen.generation_id, "nobody"))
        self.assertEqual(hb.error_code, UnknownMemberIdError.errno)
        hb = self.send(client, coordinator,
                       HeartbeatRequest[0](group, gen.generation_id + 3, gen.member_id))
        self.assertEqual(hb.error_code, IllegalGenerationError.errno)
        # The right member and generation commits fine, but not to a partition that does not
        # exist.
        self.assertEqual(commit(gen.generation_id, gen.member_id, 8), 0)
        self.assertEqual(commit(gen.generation_id, gen.member_id, 1, partition=7),
                         UnknownTopicOrPartitionError.errno)
        stored = self.admin().list_consumer_group_offsets(group)
        self.assertEqual({tp.partition: om.offset for tp, om in stored.items()}, {0: 8})

        # The consumer itself with a stale generation: commit() -> CommitFailedError.
        consumer._coordinator._generation = Generation(gen.generation_id + 5, gen.member_id,
                                                       gen.protocol)
        with self.assertRaises(CommitFailedError):
            consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(9, "")})
        stored = self.admin().list_consumer_group_offsets(group)
        self.assertEqual({tp.partition: om.offset for tp, om in stored.items()}, {0: 8},
                         "a rejected commit was stored")

    def test_session_timeout_below_broker_minimum_is_rejected(self):
        """session_timeout_ms=500 < --group-min-session-timeout-ms 1000: joining raises
        InvalidSessionTimeoutError."""
        topic = self.make_topic(1)
        consumer = KafkaConsumer(topic, **dict(GROUP_CONSUMER, bootstrap_servers=self.bootstrap,
                                               group_id=self.group_name(),
                                               session_timeout_ms=500, heartbeat_interval_ms=100))
        outcome = {}

        def join():
            try:
                consumer.poll(timeout_ms=3000)
                outcome["result"] = f"joined with assignment {consumer.assignment()}"
            except Exception as exc:  # noqa: BLE001 - checked below
                outcome["result"] = exc
        # kafka-python's join loop has no deadline of its own: a broker that accepts the
        # session timeout but never answers must fail this test, not hang the suite.
        joiner = threading.Thread(target=join, daemon=True)
        joiner.start()
        joiner.join(15)
        self.assertFalse(joiner.is_alive(), "JoinGroup neither failed nor completed in 15 s")
        consumer.close(autocommit=False)
        self.assertIsInstance(outcome.get("result"), InvalidSessionTimeoutError, outcome)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--member":
        member_process_main(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        unittest.main(verbosity=2)
