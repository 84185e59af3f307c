// Type-checked by `tsc -p test/tsconfig.json` (ctest clients.node_types): index.d.ts as a
// TypeScript user sees it. Not run.
import minikafka, { AdminError, Broker, PartitionLag, startBroker } from '../index.js';

async function example(): Promise<number> {
  const broker: Broker = await startBroker({ partitions: 3, flags: { autoCreateTopics: false } });
  const servers: string = broker.bootstrapServers;
  const admin: string = broker.adminUrl;
  await broker.createTopic('orders', { partitions: 3, configs: { 'retention.ms': 60000 } });
  const ends: Record<number, number> = await broker.endOffsets('orders');
  const lag: PartitionLag[] = await broker.lag('g1');
  const rule = await broker.addFault({ api: 'Produce', error: 'NOT_LEADER_OR_FOLLOWER', count: 3 });
  const id: number = rule.id;
  const r = await broker.request('GET', '/v1/topics', undefined, { check: false });
  const status: number = r.status;
  try {
    await broker.deleteTopic('missing');
  } catch (e) {
    if (e instanceof AdminError) console.log(e.status, e.errorName);
  }
  await using scoped = await new minikafka.Broker().start();
  console.log(servers, admin, ends[0], lag.length, id, status, scoped.port);
  await broker.close();
  return (await broker.totalLag('g1')) + (await broker.topics()).length;
}
void example;
