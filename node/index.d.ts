// Types of the minikafka Node package (index.js).

export interface BrokerOptions {
  /** Partitions of auto-created topics and of createTopic without partitions (--default-partitions). */
  partitions?: number;
  /** The minikafka binary (default: findBinary()). */
  binary?: string;
  /** Other flags of the binary by name: { autoCreateTopics: false, 'admin-port': -1, clock: 'manual' }. */
  flags?: Record<string, string | number | boolean>;
  /** The broker's stderr log level (default "warn"). */
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical' | 'off';
  /** How long start() waits for the broker to serve (default 15000). */
  startTimeoutMs?: number;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** -1 when nothing is committed */
  committed: number;
  endOffset: number;
  lag: number;
}

export interface ProducedRecord {
  key?: string | null;
  value?: string | null;
  headers?: Record<string, string>;
  partition?: number;
}

export interface BrokerExit {
  code: number | null;
  signal: string | null;
}

/** A fault rule of the control plane (docs/TESTING.md): match, act, how often. */
export interface FaultRule {
  api?: string | number;
  versions?: [number, number];
  topic?: string;
  partition?: number;
  broker?: number;
  client_id?: string;
  group_id?: string;
  transactional_id?: string;
  error?: string | number;
  delay_ms?: number;
  action?: 'drop' | 'close';
  count?: number;
  after?: number;
  probability?: number;
  seed?: number;
  [field: string]: unknown;
}

export class AdminError extends Error {
  status: number;
  body: unknown;
  /** The answer's "error" field ("UNKNOWN_TOPIC_OR_PARTITION", "not_found", ...). */
  errorName?: string;
}

export class Broker {
  constructor(options?: BrokerOptions);
  readonly options: BrokerOptions;
  readonly binary: string | null;
  /** "127.0.0.1:PORT" for the clients' brokers / bootstrap.servers ("HOST:PORT,HOST:PORT,..." with `flags: { brokers: N }`). */
  bootstrapServers: string;
  /** "http://127.0.0.1:PORT" of the admin API ("" when it is off). */
  adminUrl: string;
  readonly port: number;
  /** The broker's stderr (its log), last 32-64 kB. */
  stderr: string;
  exit: BrokerExit | null;

  args(): string[];
  /** Starts the broker; resolves once it serves. */
  start(): Promise<this>;
  /** SIGTERM and wait. Idempotent; also done when the process exits. */
  close(): Promise<BrokerExit | null>;
  [Symbol.asyncDispose](): Promise<void>;

  request<T = any>(method: string, target: string, body?: unknown): Promise<T>;
  request<T = any>(method: string, target: string, body: unknown, options: { check: false }): Promise<{ status: number; body: T }>;
  hasRoute(method: string, target: string, body?: unknown): Promise<boolean>;
  cluster(): Promise<any>;
  createTopic(name: string, options?: { partitions?: number; configs?: Record<string, string | number> }): Promise<any>;
  deleteTopic(name: string): Promise<any>;
  topics(): Promise<string[]>;
  endOffsets(topic: string): Promise<Record<number, number>>;
  lag(groupId: string): Promise<PartitionLag[]>;
  totalLag(groupId: string): Promise<number>;
  group(groupId: string): Promise<any>;
  produce(topic: string, records: ProducedRecord[], encoding?: 'string' | 'base64' | 'json'): Promise<any>;
  records(topic: string, partition?: number, options?: { offset?: number; limit?: number }): Promise<any>;

  control<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  waitFor<T = any>(what: string, query?: Record<string, string | number | boolean>): Promise<T>;
  addFault(rule: FaultRule): Promise<FaultRule & { id: number; matched: number; fired: number; exhausted: boolean }>;
  faults(): Promise<Array<FaultRule & { id: number; matched: number; fired: number; exhausted: boolean }>>;
  removeFault(id: number): Promise<any>;
  clearFaults(): Promise<any>;
  reset(prefix?: string): Promise<any>;
  clock(): Promise<any>;
  advanceClock(ms: number): Promise<any>;
}

/** new Broker(options).start() */
export function startBroker(options?: BrokerOptions): Promise<Broker>;
/** The minikafka binary: explicit, $MINIKAFKA_BIN, the source checkout's build tree, $PATH; or null. */
export function findBinary(explicit?: string): string | null;

declare const _default: {
  Broker: typeof Broker;
  startBroker: typeof startBroker;
  findBinary: typeof findBinary;
  AdminError: typeof AdminError;
};
export default _default;
