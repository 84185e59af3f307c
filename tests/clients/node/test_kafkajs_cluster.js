'use strict';
// The simulated multi-broker cluster (`minikafka --brokers 3`) with kafkajs 2.2.4.
//
// Run (from the repository root, after `npm install` in tests/clients/node):
//   MINIKAFKA_BIN=build/broker/minikafka node --test tests/clients/node/test_kafkajs_cluster.js
// or through ctest (`ctest -R clients.kafkajs_cluster`).
//
// The cluster is driven through the admin API's control routes (POST /v1/control/brokers/{id}/
// down|up, /v1/control/topics/{t}/partitions/{p}/leader, /v1/control/groups/{g}/coordinator):
//  * a topic with replication factor 3 shows 3 replicas and 3 in-sync replicas in kafkajs'
//    metadata, and a broker taken down leaves the broker list and the ISRs;
//  * an idempotent producer keeps producing while its partition's leader moves and while the
//    leader's broker goes down and comes back: every acknowledged record is read back exactly
//    once, in order;
//  * a consumer group keeps consuming through a coordinator move and the loss of the
//    coordinating broker, without a rebalance, and its commits reach the new coordinator.

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
const { Kafka, logLevel } = kafkajs;

const TEST_TIMEOUT_MS = 90000;
const PROGRESS = 30; // records acknowledged or consumed after each cluster event
const STEP_TIMEOUT_MS = 40000;
const other = (id) => (id % 3) + 1;

describe('kafkajs against a 3-broker minikafka', () => {
  let broker;
  let adminUrl;
  let kafka;
  let admin;
  const toDisconnect = [];

  before(async () => {
    broker = await new Broker(['--brokers', '3', '--group-min-session-timeout-ms', '1000']).start();
    adminUrl = await broker.adminUrl();
    assert.ok(adminUrl, 'the broker prints its admin API address');
    kafka = new Kafka({
      clientId: 'test',
      brokers: broker.bootstraps,
      logLevel: process.env.KAFKAJS_LOG === '1' ? logLevel.DEBUG : logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 10000,
      retry: { retries: 20, initialRetryTime: 50, maxRetryTime: 1000 },
    });
    admin = kafka.admin();
    await admin.connect();
  });

  after(async () => {
    for (const client of toDisconnect.reverse()) await client.disconnect().catch(() => {});
    if (admin) await admin.disconnect().catch(() => {});
    if (broker) await broker.stopClean();
  });

  async function http(method, path, body) {
    const res = await fetch(adminUrl + path, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }
  async function ok(method, path, body) {
    const r = await http(method, path, body);
    assert.ok(r.status === 200 || r.status === 201, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
  const partition = async (topic, p) => (await ok('GET', `/v1/topics/${topic}`)).partition_details[p];
  const down = (id) => ok('POST', `/v1/control/brokers/${id}/down`);
  const up = (id) => ok('POST', `/v1/control/brokers/${id}/up`);
  const moveLeader = (topic, p, id) => ok('POST', `/v1/control/topics/${topic}/partitions/${p}/leader`, { broker: id });
  async function allUp() {
    for (const id of [1, 2, 3]) await up(id);
  }

  async function makeTopic(prefix, partitions, replicationFactor) {
    const topic = uniqueName(prefix);
    await ok('POST', '/v1/topics', { name: topic, partitions, replication_factor: replicationFactor });
    return topic;
  }

  async function progress(count, after, what) {
    await waitUntil(() => count() >= after + PROGRESS, { timeoutMs: STEP_TIMEOUT_MS, message: `${PROGRESS} more ${what}` });
  }

  it('shows three brokers and replication factor 3 as Kafka does', { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = await makeTopic('rf3', 3, 3);
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    const t = md.topics.find((x) => x.name === topic);
    assert.equal(t.partitions.length, 3);
    for (const p of t.partitions) {
      assert.deepEqual([...p.replicas].sort(), [1, 2, 3]);
      assert.deepEqual([...p.isr].sort(), [1, 2, 3]);
    }
    assert.deepEqual(new Set(t.partitions.map((p) => p.leader)), new Set([1, 2, 3]));
    const cluster = await admin.describeCluster();
    assert.deepEqual(cluster.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
    assert.equal(cluster.controller, 1);
    await down(1);
    try {
      await waitUntil(async () => {
        const c = await admin.describeCluster();
        return c.controller === 2 && c.brokers.length === 2;
      }, { timeoutMs: 10000, message: 'broker 1 to leave the cluster description' });
      const after = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0];
      for (const p of after.partitions) {
        assert.ok(!p.isr.includes(1), JSON.stringify(p));
        assert.notEqual(p.leader, 1);
      }
    } finally {
      await up(1);
    }
  });

  it('an idempotent producer keeps producing through leader moves and a broker loss', { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = await makeTopic('produce', 1, 3);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    toDisconnect.push(producer);
    await producer.connect();
    const acked = [];
    const failed = [];
    let stop = false;
    const loop = (async () => {
      for (let i = 0; !stop; i++) {
        const value = `kjs-${i}`;
        try {
          const [r] = await producer.send({ topic, acks: -1, messages: [{ value, partition: 0 }] });
          acked.push([value, Number(r.baseOffset)]);
        } catch (err) {
          failed.push([value, String(err)]);
        }
      }
    })();
    try {
      const count = () => acked.length;
      await progress(count, 0, 'acknowledged records');
      const first = (await partition(topic, 0)).leader;
      const moved = await moveLeader(topic, 0, other(first));
      assert.equal(moved.leader_epoch, 1);
      await progress(count, count(), 'acknowledged records after a leader move');
      await down(moved.leader);
      assert.notEqual((await partition(topic, 0)).leader, moved.leader);
      await progress(count, count(), 'acknowledged records with a broker down');
      await up(moved.leader);
      await progress(count, count(), 'acknowledged records after the broker came back');
    } finally {
      stop = true;
      await loop;
      await allUp();
    }
    assert.deepEqual(failed, []);
    // Read everything back from the start.
    const consumer = kafka.consumer({ groupId: uniqueName('readback'), maxWaitTimeInMs: 100 });
    toDisconnect.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const end = (await partition(topic, 0)).end_offset;
    const read = [];
    await consumer.run({ eachMessage: async ({ message }) => { read.push([message.value.toString(), Number(message.offset)]); } });
    await waitUntil(() => read.length > 0 && read[read.length - 1][1] >= end - 1, { timeoutMs: 30000, message: 'read back to the end' });
    await consumer.disconnect();
    const values = read.map(([v]) => v);
    assert.equal(new Set(values).size, values.length, 'idempotence: nothing duplicated');
    const wanted = new Set(acked.map(([v]) => v));
    assert.deepEqual(values.filter((v) => wanted.has(v)), acked.map(([v]) => v), 'acknowledged records once, in order');
    const offsets = new Map(read);
    for (const [v, o] of acked) assert.equal(offsets.get(v), o, `${v} acknowledged at ${o}`);
  });

  it('a consumer group keeps consuming through a coordinator move and a broker loss', { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = await makeTopic('group', 3, 3);
    const group = uniqueName('group-g');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    toDisconnect.push(producer);
    await producer.connect();
    const produced = [];
    // One send per partition: when one broker of a multi-broker send() fails (here: the one
    // taken down), kafkajs 2.2.4 retries only towards brokers that have not answered yet, keyed
    // by broker, after recomputing leaders; a partition whose new leader already answered for
    // another partition is never sent again, although send() resolves (and keyless messages
    // are re-partitioned on retry). That loses acknowledged messages against Kafka too; a
    // send() that goes to one broker is retried whole.
    async function produceMore() {
      const values = [];
      for (let i = 0; i < 200; i++) values.push(`g-${produced.length + i}`);
      for (const partition of [0, 1, 2]) {
        const messages = values.filter((_, i) => i % 3 === partition).map((value) => ({ value, partition }));
        await producer.send({ topic, acks: -1, messages });
      }
      produced.push(...values);
    }
    await produceMore();
    const consumer = kafka.consumer({ groupId: group, sessionTimeout: 6000, heartbeatInterval: 300, maxWaitTimeInMs: 100 });
    toDisconnect.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const consumed = [];
    await consumer.run({ autoCommitInterval: 200, eachMessage: async ({ message }) => { consumed.push(message.value.toString()); } });
    const count = () => consumed.length;
    try {
      await waitUntil(async () => (await http('GET', `/v1/groups/${group}`)).body.state === 'Stable',
        { timeoutMs: STEP_TIMEOUT_MS, message: 'the group to be Stable' });
      await progress(count, 0, 'consumed records');
      const before = await ok('GET', `/v1/groups/${group}`);
      const target = other(before.coordinator);
      assert.equal((await ok('POST', `/v1/control/groups/${group}/coordinator`, { broker: target })).coordinator, target);
      let at = count();
      await produceMore();
      await progress(count, at, 'consumed records after a coordinator move');
      await down(target);
      assert.notEqual((await ok('GET', `/v1/groups/${group}`)).coordinator, target);
      at = count();
      await produceMore();
      await progress(count, at, 'consumed records with the coordinator\'s broker down');
      await up(target);
      at = count();
      await produceMore();
      await progress(count, at, 'consumed records after the broker came back');
      await waitUntil(() => { const s = new Set(consumed); return produced.every((v) => s.has(v)); },
        { timeoutMs: STEP_TIMEOUT_MS, message: 'every produced record consumed' });
      // kafkajs rejoins the group when its coordinator changes (a rebalance of one member);
      // librdkafka and kafka-python carry on in the same generation (test_cluster.py).
      const g = await ok('GET', `/v1/groups/${group}`);
      assert.deepEqual([g.state, g.members.length], ['Stable', 1], JSON.stringify(g));
      assert.ok(g.generation_id >= before.generation_id);
      await waitUntil(async () => (await ok('GET', `/v1/groups/${group}`)).total_lag === 0,
        { timeoutMs: 10000, message: 'the commits to reach the coordinator' });
    } finally {
      await consumer.disconnect();
      await allUp();
    }
  });
});
