// The package itself: start, serve, admin API and control-plane helpers, close, exit hook.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import minikafka, { AdminError, Broker, findBinary, startBroker } from '../index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('Broker', () => {
  let broker;
  before(async () => {
    broker = await startBroker({ partitions: 2 });
  });
  after(async () => {
    await broker.close();
  });

  test('serves Kafka and the admin API on ephemeral ports', async () => {
    assert.match(broker.bootstrapServers, /^127\.0\.0\.1:\d+$/);
    assert.match(broker.adminUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    await new Promise((resolve, reject) => {
      const s = net.connect(broker.port, '127.0.0.1', () => {
        s.end();
        resolve();
      });
      s.on('error', reject);
    });
    const cluster = await broker.cluster();
    assert.equal(cluster.listeners[0].port, broker.port);
  });

  test('topics, end offsets and records over the admin API', async () => {
    await broker.createTopic('orders', { partitions: 3, configs: { 'retention.ms': 60000 } });
    await broker.createTopic('events');
    assert.deepEqual(await broker.topics(), ['events', 'orders']);
    assert.deepEqual(await broker.endOffsets('events'), { 0: 0, 1: 0 }); // partitions: 2
    await broker.produce('orders', [{ key: 'k', value: 'v', partition: 1 }]);
    assert.deepEqual(await broker.endOffsets('orders'), { 0: 0, 1: 1, 2: 0 });
    const r = await broker.records('orders', 1);
    assert.equal(r.records[0].value, 'v');
    await assert.rejects(broker.createTopic('orders'), (e) => e instanceof AdminError && e.status === 409 &&
      e.errorName === 'TOPIC_ALREADY_EXISTS');
    await broker.deleteTopic('orders');
    assert.deepEqual(await broker.topics(), ['events']);
  });

  test('generic requests, route probes, lag of an unknown group', async () => {
    const { status, body } = await broker.request('GET', '/v1/nope', undefined, { check: false });
    assert.equal(status, 404);
    assert.equal(body.error, 'not_found');
    assert.equal(await broker.hasRoute('GET', '/v1/topics'), true);
    assert.equal(await broker.hasRoute('GET', '/v1/nope'), false);
    assert.deepEqual(await broker.lag('nobody'), []);
    assert.equal(await broker.totalLag('nobody'), 0);
    assert.match(await broker.request('GET', '/metrics'), /minikafka/);
  });

  test('control-plane helpers reach /v1/control (whatever this broker serves)', async () => {
    const { status } = await broker.request('GET', '/v1/control/faults', undefined, { check: false });
    if (status === 404) {
      await assert.rejects(broker.faults(), (e) => e instanceof AdminError && e.status === 404);
    } else {
      assert.ok(Array.isArray(await broker.faults()));
    }
  });
});

test('flags by name, close is idempotent, default export', async () => {
  const b = new minikafka.Broker({ flags: { autoCreateTopics: false, 'group-initial-rebalance-delay-ms': 0 } });
  assert.ok(b.args().includes('--auto-create-topics'));
  await b.start();
  assert.deepEqual(await b.topics(), []);
  const exit = await b.close();
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.deepEqual(await b.close(), exit);
  assert.equal(findBinary(), b.binary);
});

test('brokers: 3 lists every broker in bootstrapServers and keeps the admin API', async () => {
  const b = new Broker({ flags: { brokers: 3 } });
  await b.start();
  try {
    const addrs = b.bootstrapServers.split(',');
    assert.equal(addrs.length, 3);
    assert.equal(b.port, Number(addrs[0].split(':').pop()));
    const cluster = await b.request('GET', '/v1/cluster');
    assert.deepEqual(cluster.brokers.map((x) => `${x.host}:${x.port}`), addrs);
  } finally {
    await b.close();
  }
});

test('a bad flag fails start() with the broker stderr', async () => {
  await assert.rejects(new Broker({ flags: { 'no-such-flag': 1 } }).start(), /no-such-flag/);
});

test('a broker left running is stopped when the process exits', () => {
  const script = `
    import { startBroker } from ${JSON.stringify(path.join(here, '..', 'index.js'))};
    const b = await startBroker();
    console.log(b.proc.pid);
  `; // no close(): the process ends on its own, and the exit hook stops the broker
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  const pid = Number(r.stdout.trim());
  assert.ok(pid > 0);
  const deadline = Date.now() + 10000;
  for (;;) {
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) break;
    assert.ok(Date.now() < deadline, `broker ${pid} still running after its parent exited`);
    spawnSync('sleep', ['0.05']);
  }
});
