'use strict';
// End-to-end tests of minikafka with kafkajs 2.2.4.
//
// Run (from the repository root, after `npm install` in tests/clients/node):
//   MINIKAFKA_BIN=build/broker/minikafka node --test tests/clients/node/test_kafkajs.js
// or through ctest (`ctest -L clients`).
//
// kafkajs consumers always join a consumer group, so data written here is checked through the
// admin API (fetchTopicOffsets watermarks); the consumer round trip is a separate test (more
// consumer-group workflows: test_kafkajs_groups.js).

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
const { Kafka, CompressionTypes, Partitioners, logLevel } = kafkajs;

const TEST_TIMEOUT_MS = 30000;

describe('kafkajs against minikafka', () => {
  let broker;
  let kafka;
  let admin;
  const toDisconnect = [];

  before(async () => {
    broker = await new Broker().start();
    kafka = new Kafka({
      clientId: 'test',
      brokers: broker.bootstraps,
      logLevel: process.env.KAFKAJS_LOG === '1' ? logLevel.DEBUG : logLevel.ERROR,
      connectionTimeout: 3000,
      requestTimeout: 10000,
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
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

  async function producer(opts = {}) {
    const p = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      ...opts,
    });
    await p.connect();
    toDisconnect.push(p);
    return p;
  }

  // Creates a topic for a test that is not about the admin API (admin API on minikafka, control
  // channel on the anchor, which has no CreateTopics) and waits until its metadata is complete.
  async function makeTopic(prefix, partitions = 1) {
    const topic = uniqueName(prefix);
    if (broker.isAnchor) {
      await broker.anchorCreateTopic(topic, partitions);
    } else {
      const created = await admin.createTopics({
        topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
        waitForLeaders: true,
        timeout: 10000,
      });
      assert.equal(created, true, `createTopics(${topic}) did not create it`);
    }
    await waitForPartitions(topic, partitions);
    return topic;
  }

  async function waitForPartitions(topic, count) {
    await waitUntil(async () => {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      const t = md.topics.find((x) => x.name === topic);
      return t && t.partitions.length === count &&
        t.partitions.every((p) => p.partitionErrorCode === 0 && p.leader >= 0);
    }, { timeoutMs: 10000, message: `metadata for ${topic} with ${count} partitions` });
  }

  // { partition: { low, high } } with numbers.
  async function watermarks(topic) {
    const offsets = await admin.fetchTopicOffsets(topic);
    const out = {};
    for (const o of offsets) out[o.partition] = { low: Number(o.low), high: Number(o.high) };
    return out;
  }

  // -- admin -----------------------------------------------------------------------------------
  it('admin createTopics creates a 3-partition topic seen by listTopics and fetchTopicMetadata',
    { timeout: TEST_TIMEOUT_MS }, async () => {
      const topic = uniqueName('kjs-create');
      const created = await admin.createTopics({
        topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
        waitForLeaders: true,
        timeout: 10000,
      });
      assert.equal(created, true);
      assert.ok((await admin.listTopics()).includes(topic), 'created topic not in listTopics');
      await waitForPartitions(topic, 3);
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      const parts = md.topics[0].partitions.map((p) => p.partitionId).sort();
      assert.deepEqual(parts, [0, 1, 2]);
    });

  it('admin createTopics of an existing topic resolves false', { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = uniqueName('kjs-dup');
    const spec = { topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], timeout: 10000 };
    assert.equal(await admin.createTopics(spec), true);
    assert.equal(await admin.createTopics(spec), false);
  });

  it('admin deleteTopics removes the topic from listTopics', { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = uniqueName('kjs-delete');
    assert.equal(await admin.createTopics({
      topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true, timeout: 10000,
    }), true);
    assert.ok((await admin.listTopics()).includes(topic));
    await admin.deleteTopics({ topics: [topic], timeout: 10000 });
    await waitUntil(async () => !(await admin.listTopics()).includes(topic),
      { timeoutMs: 10000, message: 'deleted topic gone from listTopics' });
  });

  it('fetchTopicMetadata and fetchTopicOffsets describe a new, empty topic',
    { timeout: TEST_TIMEOUT_MS }, async () => {
      const topic = await makeTopic('kjs-meta', 3);
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      assert.equal(md.topics.length, 1);
      assert.equal(md.topics[0].name, topic);
      for (const p of md.topics[0].partitions) {
        assert.equal(p.partitionErrorCode, 0);
        assert.ok(p.replicas.includes(p.leader), `leader ${p.leader} not among replicas`);
        assert.ok(p.isr.includes(p.leader), `leader ${p.leader} not in isr`);
      }
      assert.deepEqual(await watermarks(topic),
        { 0: { low: 0, high: 0 }, 1: { low: 0, high: 0 }, 2: { low: 0, high: 0 } });
    });

  // -- producing -------------------------------------------------------------------------------
  it('producer.send without keys returns increasing base offsets and moves the high watermark',
    { timeout: TEST_TIMEOUT_MS }, async () => {
      const topic = await makeTopic('kjs-nokey');
      const p = await producer();
      const first = await p.send({ topic, messages: [0, 1, 2, 3, 4].map((i) => ({ value: `v${i}` })) });
      assert.equal(first.length, 1);
      assert.equal(first[0].topicName, topic);
      assert.equal(first[0].partition, 0);
      assert.equal(first[0].errorCode, 0);
      assert.equal(first[0].baseOffset, '0');
      const second = await p.send({ topic, messages: [{ value: 'v5' }] });
      assert.equal(second[0].baseOffset, '5');
      assert.deepEqual(await watermarks(topic), { 0: { low: 0, high: 6 } });
    });

  it('producer.send with keys and headers: same key same partition, counts per partition',
    { timeout: TEST_TIMEOUT_MS }, async () => {
      const topic = await makeTopic('kjs-keys', 3);
      const p = await producer();
      const partitionOf = new Map();
      const perPartition = { 0: 0, 1: 0, 2: 0 };
      for (let round = 0; round < 3; round++) {
        for (let k = 0; k < 10; k++) {
          const key = `key-${k}`;
          const [meta] = await p.send({
            topic,
            messages: [{ key, value: `r${round}`, headers: { round: `${round}`, 'trace-id': Buffer.from([0, 1, 2]) } }],
          });
          assert.equal(meta.errorCode, 0);
          if (!partitionOf.has(key)) partitionOf.set(key, meta.partition);
          assert.equal(meta.partition, partitionOf.get(key), `${key} changed partition`);
          assert.equal(Number(meta.baseOffset), perPartition[meta.partition]);
          perPartition[meta.partition] += 1;
        }
      }
      assert.ok(new Set(partitionOf.values()).size > 1, '10 keys all in one partition');
      const wm = await watermarks(topic);
      for (const part of [0, 1, 2]) assert.deepEqual(wm[part], { low: 0, high: perPartition[part] });
    });

  it('producer.send to an explicit partition lands there', { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = await makeTopic('kjs-explicit', 3);
    const p = await producer();
    const [meta] = await p.send({ topic, messages: [{ key: 'k', value: 'x', partition: 2 }] });
    assert.equal(meta.partition, 2);
    assert.deepEqual(await watermarks(topic),
      { 0: { low: 0, high: 0 }, 1: { low: 0, high: 0 }, 2: { low: 0, high: 1 } });
  });

  it('producer.send with GZIP compression is acknowledged and stored',
    { timeout: TEST_TIMEOUT_MS }, async () => {
      const topic = await makeTopic('kjs-gzip');
      const p = await producer();
      const messages = Array.from({ length: 50 }, (_, i) => ({
        key: `k${i}`, value: `gzip-${i}-${'g'.repeat((i * 41) % 600)}`, headers: { i: `${i}` },
      }));
      const [meta] = await p.send({ topic, compression: CompressionTypes.GZIP, messages });
      assert.equal(meta.errorCode, 0);
      assert.equal(meta.baseOffset, '0');
      const [again] = await p.send({ topic, compression: CompressionTypes.GZIP, messages: [{ value: 'tail' }] });
      assert.equal(again.baseOffset, '50');
      assert.deepEqual(await watermarks(topic), { 0: { low: 0, high: 51 } });
    });

  // -- consuming (needs consumer groups) --------------------------------------------------------
  it('consumer group reads back keys, values and headers from the beginning',
    { timeout: TEST_TIMEOUT_MS }, async () => {
      const topic = await makeTopic('kjs-consume', 2);
      const p = await producer();
      const sent = Array.from({ length: 20 }, (_, i) => ({
        key: i % 3 === 0 ? null : `k${i}`, value: `v${i}`, headers: { n: `${i}` },
      }));
      await p.send({ topic, compression: CompressionTypes.GZIP, messages: sent.slice(0, 10) });
      await p.send({ topic, messages: sent.slice(10) });
      const consumer = kafka.consumer({
        groupId: uniqueName('kjs-group'), sessionTimeout: 6000, heartbeatInterval: 500,
        maxWaitTimeInMs: 100, allowAutoTopicCreation: false,
      });
      await consumer.connect();
      toDisconnect.push(consumer);
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const got = [];
      await consumer.run({
        eachMessage: async ({ message }) => {
          got.push({
            key: message.key === null ? null : message.key.toString(),
            value: message.value.toString(),
            n: message.headers.n.toString(),
          });
        },
      });
      await waitUntil(() => got.length >= sent.length,
        { timeoutMs: 20000, message: `${sent.length} messages (got ${got.length})` });
      await consumer.disconnect();
      const byValue = (a, b) => a.value.localeCompare(b.value);
      assert.deepEqual(got.sort(byValue),
        sent.map((m) => ({ key: m.key, value: m.value, n: m.headers.n })).sort(byValue));
    });
});
