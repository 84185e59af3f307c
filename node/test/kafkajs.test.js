// kafkajs through the package: produce, a consumer group, lag seen by the broker.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startBroker } from '../index.js';

let Kafka;
let logLevel;
try {
  ({ Kafka, logLevel } = (await import('kafkajs')).default);
} catch {
  // kafkajs not installed (npm install in node/): the tests below are skipped
}

let broker;
before(async () => {
  broker = await startBroker({ partitions: 3 });
});
after(async () => {
  await broker?.close();
});

test('kafkajs produces and a group consumes; lag comes from the broker', { skip: !Kafka && 'kafkajs not installed' }, async () => {
  const kafka = new Kafka({ clientId: 'node-test', brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING });
  await broker.createTopic('orders'); // 3 partitions: the broker's default here
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'orders', messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 6}`, value: `v${i}` })) });
  await producer.disconnect();
  const ends = await broker.endOffsets('orders');
  assert.equal(Object.values(ends).reduce((a, b) => a + b, 0), 30);

  const consumer = kafka.consumer({ groupId: 'billing', maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'orders', fromBeginning: true });
  const seen = new Set();
  await new Promise((resolve, reject) => {
    consumer.run({
      eachMessage: async ({ message }) => {
        seen.add(message.value.toString());
        if (seen.size === 30) resolve();
      },
    }).catch(reject);
  });
  await consumer.disconnect(); // commits what was consumed
  assert.equal(seen.size, 30);
  assert.equal(await broker.totalLag('billing'), 0);

  const p2 = kafka.producer();
  await p2.connect();
  await p2.send({ topic: 'orders', messages: [{ key: 'k0', value: 'late' }] });
  await p2.disconnect();
  assert.equal(await broker.totalLag('billing'), 1);
});
