'use strict';
// Consumer-group workflows of minikafka with kafkajs 2.2.4.
//
// Run (from the repository root, after `npm install` in tests/clients/node):
//   MINIKAFKA_BIN=build/broker/minikafka node --test tests/clients/node/test_kafkajs_groups.js
// or through ctest (`ctest -L clients -R groups`).
//
// Two consumers with one groupId split a 4-partition topic (their GROUP_JOIN events carry the
// memberAssignment), read every message exactly once between them, and auto-commit; the admin
// API (describeGroups, fetchOffsets, listGroups) shows the group, its members' assignments and
// the committed offsets. When one member disconnects (LeaveGroup) the other takes over all
// partitions and continues from the committed offsets.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Broker, waitUntil, uniqueName } = require('./fixture');

let kafkajs;
try {
  kafkajs = require('kafkajs');
} catch (err) {
  throw new Error('kafkajs is not installed: run `npm install` in tests/clients/node ' +
    '(scripts/install-deps.sh does it)');
}
const { Kafka, Partitioners, AssignerProtocol, logLevel } = kafkajs;

const TEST_TIMEOUT_MS = 45000;
const PARTITIONS = [0, 1, 2, 3];

describe('kafkajs consumer groups against minikafka', () => {
  let broker;
  let kafka;
  let admin;
  const toDisconnect = [];

  before(async () => {
    broker = await new Broker(['--group-min-session-timeout-ms', '1000']).start();
    kafka = new Kafka({
      clientId: 'test',
      brokers: broker.bootstraps,
      logLevel: process.env.KAFKAJS_LOG === '1' ? logLevel.DEBUG : logLevel.ERROR,
      connectionTimeout: 3000,
      requestTimeout: 15000,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    admin = kafka.admin();
    await admin.connect();
  });

  after(async () => {
    for (const client of toDisconnect.reverse()) {
      await client.disconnect().catch(() => {});
    }
    if (admin) await admin.disconnect().catch(() => {});
    if (broker) await broker.stopClean();
  });

  async function makeTopic(prefix, partitions) {
    const topic = uniqueName(prefix);
    if (broker.isAnchor) {
      await broker.anchorCreateTopic(topic, partitions);
    } else {
      assert.equal(await admin.createTopics({
        topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
        waitForLeaders: true,
        timeout: 10000,
      }), true);
    }
    await waitUntil(async () => {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      const t = md.topics.find((x) => x.name === topic);
      return t && t.partitions.length === partitions &&
        t.partitions.every((p) => p.partitionErrorCode === 0 && p.leader >= 0);
    }, { timeoutMs: 10000, message: `metadata for ${topic}` });
    return topic;
  }

  // Sends `count` messages round-robin over PARTITIONS; returns Map "partition:offset" -> value.
  async function produce(topic, count, prefix) {
    const p = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    await p.connect();
    try {
      const sent = new Map();
      for (const partition of PARTITIONS) {
        const values = [];
        for (let i = partition; i < count; i += PARTITIONS.length) values.push(`${prefix}${i}`);
        if (values.length === 0) continue;
        const [meta] = await p.send({ topic, messages: values.map((value) => ({ value, partition })) });
        assert.equal(meta.errorCode, 0);
        values.forEach((value, i) => sent.set(`${partition}:${Number(meta.baseOffset) + i}`, value));
      }
      return sent;
    } finally {
      await p.disconnect();
    }
  }

  // A group member: its GROUP_JOIN payloads and every message it received.
  async function member(topic, groupId, name) {
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: 6000,
      rebalanceTimeout: 10000,
      heartbeatInterval: 300,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    const m = { name, consumer, joins: [], received: [], assignment: null, memberId: null };
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      m.joins.push(payload);
      m.memberId = payload.memberId;
      m.assignment = [...(payload.memberAssignment[topic] || [])].sort();
    });
    await consumer.connect();
    toDisconnect.push(consumer);
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        m.received.push({ key: `${partition}:${message.offset}`, value: message.value.toString() });
      },
    });
    return m;
  }

  // Map "partition:offset" -> value, failing on any duplicate delivery.
  function asMap(...members) {
    const out = new Map();
    for (const m of members) {
      for (const r of m.received) {
        assert.ok(!out.has(r.key), `${r.key} delivered twice (second time to ${m.name})`);
        out.set(r.key, r.value);
      }
    }
    return out;
  }

  function splits(a, b) {
    if (!a.assignment || !b.assignment || a.assignment.length === 0 || b.assignment.length === 0) return false;
    const all = [...a.assignment, ...b.assignment].sort();
    return JSON.stringify(all) === JSON.stringify(PARTITIONS);
  }

  async function committed(groupId, topic) {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.equal(t.topic, topic);
    const out = {};
    for (const p of t.partitions) out[p.partition] = Number(p.offset);
    return out;
  }

  it('two consumers with one groupId split 4 partitions, read every message once; describeGroups and fetchOffsets show them',
    { timeout: TEST_TIMEOUT_MS }, async () => {
      const topic = await makeTopic('kjs-split', 4);
      const groupId = uniqueName('kjs-split-group');
      const a = await member(topic, groupId, 'a');
      await waitUntil(() => a.assignment && a.assignment.length === 4,
        { timeoutMs: 15000, message: 'a joined with all 4 partitions' });
      const b = await member(topic, groupId, 'b');
      await waitUntil(() => splits(a, b),
        { timeoutMs: 20000, message: `a and b split the partitions (a ${a.assignment}, b ${b.assignment})` });
      assert.equal(a.assignment.length, 2, 'round robin: 2 partitions each');
      assert.equal(b.assignment.length, 2, 'round robin: 2 partitions each');
      const lastA = a.joins[a.joins.length - 1];
      const lastB = b.joins[b.joins.length - 1];
      assert.equal(lastA.leaderId, lastB.leaderId, 'both members agree on the leader');
      assert.equal([lastA, lastB].filter((j) => j.isLeader).length, 1, 'exactly one leader');

      const sent = await produce(topic, 80, 'm');
      await waitUntil(() => a.received.length + b.received.length >= sent.size,
        { timeoutMs: 15000, message: `${sent.size} messages (got ${a.received.length + b.received.length})` });
      const got = asMap(a, b);
      assert.deepEqual(got, sent);
      for (const m of [a, b]) {
        const parts = new Set(m.received.map((r) => Number(r.key.split(':')[0])));
        assert.deepEqual([...parts].sort(), m.assignment, `${m.name} read outside its assignment`);
      }

      // Auto commit (after each batch): every partition committed at its high watermark (20).
      await waitUntil(async () => JSON.stringify(await committed(groupId, topic)) ===
        JSON.stringify({ 0: 20, 1: 20, 2: 20, 3: 20 }),
      { timeoutMs: 10000, message: 'committed offsets at 20 on every partition' });

      const { groups: listed } = await admin.listGroups();
      assert.ok(listed.some((g) => g.groupId === groupId && g.protocolType === 'consumer'),
        'group in listGroups');
      const { groups } = await admin.describeGroups([groupId]);
      assert.equal(groups.length, 1);
      const [g] = groups;
      assert.equal(g.errorCode, 0);
      assert.equal(g.groupId, groupId);
      assert.equal(g.state, 'Stable');
      assert.equal(g.protocolType, 'consumer');
      assert.equal(g.protocol, 'RoundRobinAssigner');
      const described = new Map(g.members.map((m) => [m.memberId, m]));
      assert.deepEqual([...described.keys()].sort(), [a.memberId, b.memberId].sort());
      for (const m of [a, b]) {
        const d = described.get(m.memberId);
        assert.equal(d.clientId, 'test');
        assert.equal(d.clientHost, '/127.0.0.1');
        assert.deepEqual(AssignerProtocol.MemberMetadata.decode(d.memberMetadata).topics, [topic]);
        const { assignment } = AssignerProtocol.MemberAssignment.decode(d.memberAssignment);
        assert.deepEqual(Object.keys(assignment), [topic]);
        assert.deepEqual([...assignment[topic]].sort(), m.assignment, `${m.name}'s assignment`);
      }
    });

  it('when one consumer disconnects the other takes all 4 partitions and continues from the commits',
    { timeout: TEST_TIMEOUT_MS }, async () => {
      const topic = await makeTopic('kjs-leave', 4);
      const groupId = uniqueName('kjs-leave-group');
      const a = await member(topic, groupId, 'a');
      await waitUntil(() => a.assignment && a.assignment.length === 4,
        { timeoutMs: 15000, message: 'a joined with all 4 partitions' });
      const b = await member(topic, groupId, 'b');
      await waitUntil(() => splits(a, b), { timeoutMs: 20000, message: 'a and b split the partitions' });
      const sent = await produce(topic, 40, 'm');
      await waitUntil(() => a.received.length + b.received.length >= sent.size,
        { timeoutMs: 15000, message: `${sent.size} messages` });
      await waitUntil(async () => JSON.stringify(await committed(groupId, topic)) ===
        JSON.stringify({ 0: 10, 1: 10, 2: 10, 3: 10 }),
      { timeoutMs: 10000, message: 'committed offsets at 10 on every partition' });
      const joinsBefore = a.joins.length;

      await b.consumer.disconnect(); // LeaveGroup
      await waitUntil(() => a.joins.length > joinsBefore && a.assignment.length === 4,
        { timeoutMs: 15000, message: 'a rejoined with all 4 partitions' });
      const more = await produce(topic, 40, 'after');
      await waitUntil(() => a.received.length + b.received.length >= sent.size + more.size,
        { timeoutMs: 15000, message: 'survivor reads the new messages' });
      assert.deepEqual(asMap(a, b), new Map([...sent, ...more]));
      const { groups: [g] } = await admin.describeGroups([groupId]);
      assert.equal(g.state, 'Stable');
      assert.deepEqual(g.members.map((m) => m.memberId), [a.memberId]);
    });
});
