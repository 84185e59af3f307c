'use strict';
// Transactions with kafkajs 2.2.4 against minikafka: a transactional producer's commit is read
// by a read_committed consumer and its abort is not; sendOffsets commits a consumer group's
// offsets with the transaction; an idempotent producer's records are stored once.
//
// Run: MINIKAFKA_BIN=build/broker/minikafka node --test tests/clients/node/test_kafkajs_transactions.js

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Broker, waitUntil, uniqueName } = require('./fixture');
const { Kafka, logLevel } = require('kafkajs');

const TEST_TIMEOUT_MS = 30000;

describe('kafkajs transactions against minikafka', () => {
  let broker;
  let kafka;
  let admin;
  const toDisconnect = [];

  before(async () => {
    broker = await new Broker().start();
    kafka = new Kafka({ clientId: 'txn-test', brokers: broker.bootstraps, logLevel: logLevel.NOTHING,
      connectionTimeout: 3000, requestTimeout: 10000 });
    admin = kafka.admin();
    await admin.connect();
  });

  after(async () => {
    for (const c of toDisconnect.reverse()) await c.disconnect().catch(() => {});
    await admin.disconnect();
    await broker.stop();
  });

  async function topic() {
    const name = uniqueName('txn');
    await admin.createTopics({ topics: [{ topic: name, numPartitions: 1 }], waitForLeaders: true });
    return name;
  }

  async function readAll(name, isolation, expect) {
    const readUncommitted = isolation === 'read_uncommitted';
    const consumer = kafka.consumer({ groupId: uniqueName('reader'), readUncommitted, maxWaitTimeInMs: 100 });
    toDisconnect.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: name, fromBeginning: true });
    const seen = [];
    await consumer.run({ eachMessage: async ({ message }) => { seen.push(message.value.toString()); } });
    // The aborted record sits between committed ones, so an extra record shows up in the order.
    await waitUntil(() => seen.length >= expect, { message: `${expect} record(s) read ${isolation}` });
    await consumer.disconnect();
    return seen;
  }

  it('commit is visible to read_committed consumers and abort is not', { timeout: TEST_TIMEOUT_MS }, async () => {
    const name = await topic();
    const producer = kafka.producer({ transactionalId: uniqueName('tid'), maxInFlightRequests: 1, idempotent: true });
    toDisconnect.push(producer);
    await producer.connect();
    let txn = await producer.transaction();
    await txn.send({ topic: name, messages: [{ value: 'c1' }, { value: 'c2' }] });
    await txn.commit();
    txn = await producer.transaction();
    await txn.send({ topic: name, messages: [{ value: 'a1' }] });
    await txn.abort();
    txn = await producer.transaction();
    await txn.send({ topic: name, messages: [{ value: 'c3' }] });
    await txn.commit();
    assert.deepEqual(await readAll(name, 'read_committed', 3), ['c1', 'c2', 'c3']);
    assert.deepEqual(await readAll(name, 'read_uncommitted', 4), ['c1', 'c2', 'a1', 'c3']);
  });

  it('sendOffsets commits the group offsets with the transaction', { timeout: TEST_TIMEOUT_MS }, async () => {
    const name = await topic();
    const groupId = uniqueName('ctp');
    const producer = kafka.producer({ transactionalId: uniqueName('tid'), maxInFlightRequests: 1, idempotent: true });
    toDisconnect.push(producer);
    await producer.connect();
    const offsets = (topicName, offset) => ({ consumerGroupId: groupId,
      topics: [{ topic: topicName, partitions: [{ partition: 0, offset: String(offset) }] }] });
    let txn = await producer.transaction();
    await txn.sendOffsets(offsets(name, 5));
    await txn.abort();
    let fetched = await admin.fetchOffsets({ groupId, topics: [name] });
    assert.equal(fetched[0].partitions[0].offset, '-1');
    txn = await producer.transaction();
    await txn.send({ topic: name, messages: [{ value: 'x' }] });
    await txn.sendOffsets(offsets(name, 7));
    await txn.commit();
    fetched = await admin.fetchOffsets({ groupId, topics: [name] });
    assert.equal(fetched[0].partitions[0].offset, '7');
  });

  it('an idempotent producer stores each record once', { timeout: TEST_TIMEOUT_MS }, async () => {
    const name = await topic();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    toDisconnect.push(producer);
    await producer.connect();
    for (let i = 0; i < 5; i++) await producer.send({ topic: name, messages: [{ value: `m${i}` }] });
    const [p0] = await admin.fetchTopicOffsets(name);
    assert.equal(p0.high, '5');
  });
});
