'use strict';
// The test control plane (docs/TESTING.md) seen by kafkajs 2.2.4: fault rules, reset, await
// oracles, the request trace, Kafka-version emulation, the manual clock.
//
// Run (from the repository root, after `npm install` in tests/clients/node):
//   MINIKAFKA_BIN=build/broker/minikafka node --test tests/clients/node/test_kafkajs_control.js
// or through ctest (`ctest -R clients.kafkajs_control`).

const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { Broker, uniqueName } = require('./fixture');

const { Kafka, Partitioners, logLevel } = require('kafkajs');

const TEST_TIMEOUT_MS = 30000;
const DELAY_MS = 300;

describe('kafkajs and the control plane', () => {
  let broker;
  let kafka;
  const toDisconnect = [];

  before(async () => {
    broker = await new Broker().start();
    assert.ok(await broker.adminUrl(), 'the broker prints its admin URL');
    kafka = new Kafka({
      clientId: 'control-js',
      brokers: [broker.bootstrap],
      logLevel: process.env.KAFKAJS_LOG === '1' ? logLevel.DEBUG : logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 10000,
      retry: { retries: 6, initialRetryTime: 20, maxRetryTime: 200 },
    });
  });

  after(async () => {
    for (const client of toDisconnect.reverse()) await client.disconnect().catch(() => {});
    if (broker) await broker.stopClean();
  });

  beforeEach(async () => {
    const r = await broker.http('DELETE', '/v1/control/faults');
    assert.equal(r.status, 200);
  });

  async function newTopic(prefix) {
    const name = uniqueName(prefix);
    const r = await broker.http('POST', '/v1/topics', { name, partitions: 1 });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return name;
  }

  async function producer() {
    const p = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    await p.connect();
    toDisconnect.push(p);
    return p;
  }

  async function addRule(rule) {
    const r = await broker.http('POST', '/v1/control/faults', rule);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id;
  }

  async function storedValues(topic) {
    const r = await broker.http('GET', `/v1/topics/${topic}/partitions/0/records?offset=0&limit=1000`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.records.map((x) => x.value);
  }

  it('retries a produce through three injected NOT_LEADER_OR_FOLLOWER, storing each record once', { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = await newTopic('js-notleader');
    const p = await producer();
    await p.send({ topic, messages: [{ value: 'warm-up', partition: 0 }] });
    const id = await addRule({ api: 'Produce', topic, error: 'NOT_LEADER_OR_FOLLOWER', count: 3 });
    const values = Array.from({ length: 10 }, (_, i) => `v${i}`);
    for (const value of values) await p.send({ topic, messages: [{ value, partition: 0 }] });
    const rule = await broker.http('GET', `/v1/control/faults/${id}`);
    assert.equal(rule.body.fired, 3);
    assert.deepEqual(await storedValues(topic), ['warm-up', ...values]);
  });

  it('shows an injected delay in the produce latency within 20 %', { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = await newTopic('js-delay');
    const p = await producer();
    const median = async () => {
      const samples = [];
      for (let i = 0; i < 3; i++) {
        const t0 = process.hrtime.bigint();
        await p.send({ topic, messages: [{ value: `d${i}`, partition: 0 }] });
        samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      samples.sort((a, b) => a - b);
      return samples[1];
    };
    await p.send({ topic, messages: [{ value: 'warm-up', partition: 0 }] });
    const base = await median();
    await addRule({ api: 'Produce', topic, delay_ms: DELAY_MS });
    const added = (await median()) - base;
    assert.ok(added >= DELAY_MS * 0.8 && added <= DELAY_MS * 1.2, `added ${added} ms (base ${base} ms)`);
  });

  it('a consumer gets nothing while the broker is down and everything once it is back', { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = await newTopic('js-down');
    const got = [];
    // kafkajs restarts a consumer whose retries ran out and rejoins under a new member id: the
    // join then waits for the old member's session to expire (as on Kafka), so keep it short.
    const consumer = kafka.consumer({
      groupId: `${topic}-g`, maxWaitTimeInMs: 100, sessionTimeout: 6000, rebalanceTimeout: 6000,
      retry: { retries: 100, initialRetryTime: 50, maxRetryTime: 200 },
    });
    toDisconnect.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => { got.push(message.value.toString()); } });
    const write = async (values) => {
      const r = await broker.http('POST', `/v1/topics/${topic}/records`, { records: values.map((value) => ({ value, partition: 0 })) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    };
    const until = async (cond, what) => {
      const deadline = Date.now() + 20000;
      while (!(await cond())) {
        assert.ok(Date.now() < deadline, what);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await write(['before']);
    await until(() => got.length === 1, 'the first record');
    const id = await addRule({ action: 'close' });  // the broker is "down" for every Kafka request
    // A fetch parked before the rule still answers; the next Fetch finds the broker down.
    const seen = (await broker.http('GET', '/v1/await/requests?api=Fetch&client_id=control-js&min=0')).body.state.count;
    const next = await broker.http('GET', `/v1/await/requests?api=Fetch&client_id=control-js&min=${seen + 1}`);
    assert.equal(next.status, 200);
    await write(['while-down']);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(got, ['before'], 'nothing arrives while the broker is down');
    await broker.http('DELETE', `/v1/control/faults/${id}`);  // "back up"
    await until(() => got.length === 2, 'the record written while down');
    assert.deepEqual(got, ['before', 'while-down']);
  });

  it('reset leaves an empty broker that the next test reuses', { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = 'js-reset-orders';
    assert.equal((await broker.http('POST', '/v1/topics', { name: topic, partitions: 1 })).status, 201);
    const p = await producer();
    await p.send({ topic, messages: [{ value: 'old', partition: 0 }] });
    await addRule({ api: 'Fetch', delay_ms: 1 });
    const r = await broker.http('POST', '/v1/control/reset', { prefix: 'js-reset-' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.deleted_topics, [topic]);
    assert.equal(r.body.deleted_fault_rules, 0, 'the rule names no js-reset- topic');
    assert.equal((await broker.http('POST', '/v1/topics', { name: topic, partitions: 1 })).status, 201);
    await p.send({ topic, messages: [{ value: 'new', partition: 0 }] });
    assert.deepEqual(await storedValues(topic), ['new']);
  });

  it('awaits a Stable group and then lag 0 without polling', { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = await newTopic('js-await');
    const groupId = `${topic}-g`;
    const stable = broker.http('GET', `/v1/await/groups/${groupId}?state=Stable&members=1`);
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, heartbeatInterval: 500 });
    toDisconnect.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = [];
    await consumer.run({ eachMessage: async ({ message }) => { seen.push(message.value.toString()); } });
    const s = await stable;
    assert.equal(s.status, 200, JSON.stringify(s.body));
    const p = await producer();
    await p.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `m${i}`, partition: 0 })) });
    const lag = await broker.http('GET', `/v1/await/groups/${groupId}/lag?topic=${topic}&max=0&timeout_ms=20000`);
    assert.equal(lag.status, 200, JSON.stringify(lag.body));
    assert.equal(lag.body.state.total_lag, 0);
    assert.equal(seen.length, 10);
    const timeout = await broker.http('GET', `/v1/await/topics/${topic}/records?min=11&timeout_ms=100`);
    assert.equal(timeout.status, 408);
    assert.equal(timeout.body.state.records, 10);
  });

  it('the trace shows what kafkajs sent', { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = await newTopic('js-trace');
    const p = await producer();
    await p.send({ topic, messages: [{ value: 'traced', partition: 0 }] });
    const r = await broker.http('GET', `/v1/trace?client_id=control-js&api=Produce&topic=${topic}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 1, JSON.stringify(r.body));
    assert.deepEqual(r.body[0].topics, [{ name: topic, partitions: [0] }]);
    assert.equal(r.body[0].outcome, 'answered');
    const nd = await fetch(`${await broker.adminUrl()}/v1/trace?client_id=control-js&format=ndjson&limit=2`);
    const lines = (await nd.text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    assert.ok(lines[0].seq < lines[1].seq);
  });

  it('negotiates down to an emulated Kafka 0.11', { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = await newTopic('js-emulated');
    const r = await broker.http('PUT', '/v1/control/api-versions', { kafka_version: '0.11.0' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    try {
      const old = new Kafka({ clientId: 'js-0.11', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
      const p = old.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
      await p.connect();
      await p.send({ topic, messages: [{ value: 'v', partition: 0 }] });
      await p.disconnect();
      const trace = await broker.http('GET', '/v1/trace?client_id=js-0.11&api=Produce');
      assert.equal(trace.body.length, 1);
      assert.equal(trace.body[0].version, 3, 'Kafka 0.11 served Produce v0-3');
    } finally {
      await broker.http('DELETE', '/v1/control/api-versions');
    }
    assert.deepEqual(await storedValues(topic), ['v']);
  });
});

describe('kafkajs and a manual clock', () => {
  let broker;
  let kafka;
  const toDisconnect = [];

  before(async () => {
    broker = await new Broker(['--clock', 'manual']).start();
    kafka = new Kafka({
      clientId: 'clock-js',
      brokers: [broker.bootstrap],
      logLevel: process.env.KAFKAJS_LOG === '1' ? logLevel.DEBUG : logLevel.NOTHING,
      requestTimeout: 5000,
      retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 200 },
    });
  });

  after(async () => {
    await broker.http('DELETE', '/v1/control/faults');
    for (const client of toDisconnect.reverse()) await client.disconnect().catch(() => {});
    if (broker) await broker.stopClean();
  });

  it('expires a group member once its session timeout has passed on the clock', { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = uniqueName('js-clock');
    assert.equal((await broker.http('POST', '/v1/topics', { name: topic, partitions: 1 })).status, 201);
    const groupId = `${topic}-g`;
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
    toDisconnect.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    const deadline = Date.now() + 20000;
    let group;
    for (;;) {
      group = (await broker.http('GET', `/v1/groups/${groupId}`)).body;
      if (group && group.state === 'Stable' && group.members.length === 1) break;
      assert.ok(Date.now() < deadline, `the consumer joins: ${JSON.stringify(group)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await broker.http('POST', '/v1/control/faults', { client_id: 'clock-js', action: 'drop' })).status, 201);
    const t0 = Date.now();
    const adv = await broker.http('POST', '/v1/control/clock/advance', { ms: 11000 });
    assert.equal(adv.status, 200);
    assert.ok(Date.now() - t0 < 2000, 'no real waiting');
    group = (await broker.http('GET', `/v1/groups/${groupId}`)).body;
    assert.deepEqual([group.state, group.members.length], ['Empty', 0]);
  });
});
