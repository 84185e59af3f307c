// minikafka for Node: starts the minikafka binary on ephemeral ports for a test, waits until it
// serves, and gives its bootstrapServers, adminUrl and the admin API / test control plane over
// HTTP. No native addon, no dependencies (Node >= 20: fetch is built in).
//
//   import { startBroker } from 'minikafka';
//   const broker = await startBroker({ partitions: 3 });
//   const kafka = new Kafka({ brokers: [broker.bootstrapServers] });
//   ...
//   await broker.close();            // also done when the process exits
//
// The broker's public contracts it relies on: `minikafka --port 0` prints `kafka HOST:PORT` and
// then `admin http://HOST:PORT` on stdout, and the HTTP routes of broker/admin/admin_api.h.

import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** An admin route answered with an HTTP status >= 400. */
export class AdminError extends Error {
  constructor(method, target, status, body) {
    const name = body && typeof body === 'object' ? body.error : undefined;
    const message = body && typeof body === 'object' ? body.message : body;
    super(`${method} ${target}: ${status} ${name ?? ''} ${message ?? ''}`.trim());
    this.name = 'AdminError';
    this.status = status;
    this.body = body;
    this.errorName = name;
  }
}

function executable(p) {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The minikafka binary: `explicit`, $MINIKAFKA_BIN, the build tree of the source checkout this
 * package is in (build/broker/minikafka, or $BUILD_DIR/broker/minikafka), then $PATH. Null when
 * none is found.
 */
export function findBinary(explicit) {
  for (const candidate of [explicit, process.env.MINIKAFKA_BIN]) if (candidate) return candidate;
  const root = path.resolve(here, '..');
  if (existsSync(path.join(root, 'include', 'minikafka', 'minikafka.h'))) {
    const dirs = [];
    if (process.env.BUILD_DIR) dirs.push(path.resolve(root, process.env.BUILD_DIR));
    dirs.push(path.join(root, 'build'));
    for (const d of dirs) {
      const p = path.join(d, 'broker', 'minikafka');
      if (executable(p)) return p;
    }
  }
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && executable(path.join(dir, 'minikafka'))) return path.join(dir, 'minikafka');
  }
  return null;
}

// Brokers still running, stopped when the process exits (SIGTERM, synchronously).
const live = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const b of live) {
      try {
        b.proc.kill('SIGTERM');
      } catch {
        // already gone
      }
    }
  });
}

// setpriv --pdeathsig TERM: the broker also dies when node is killed outright (no 'exit' event).
let setprivOk;
function hasSetpriv() {
  if (setprivOk === undefined) {
    try {
      setprivOk = spawnSync('setpriv', ['--pdeathsig', 'TERM', 'true']).status === 0;
    } catch {
      setprivOk = false;
    }
  }
  return setprivOk;
}

function flagName(k) {
  return k.replace(/^--/, '').replace(/_/g, '-').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

const BARE_FLAGS = new Set(['sync', 'strict-replication-factor']);

export class Broker {
  /**
   * @param {object} [options]
   * @param {number} [options.partitions]   partitions of auto-created topics (--default-partitions)
   * @param {string} [options.binary]       the minikafka binary (default: findBinary())
   * @param {object} [options.flags]        other flags by name: { autoCreateTopics: false, 'admin-port': -1 }
   * @param {string} [options.logLevel]     the broker's stderr log level (default "warn")
   * @param {number} [options.startTimeoutMs]
   */
  constructor(options = {}) {
    this.options = options;
    this.binary = findBinary(options.binary);
    this.bootstrapServers = '';
    this.adminUrl = '';
    this.proc = null;
    this.stderr = '';
    this.exit = null;
  }

  /** The command line the broker runs with. */
  args() {
    const flags = { port: 0, host: '127.0.0.1', 'log-level': this.options.logLevel ?? 'warn' };
    if (this.options.partitions !== undefined) flags['default-partitions'] = this.options.partitions;
    for (const [k, v] of Object.entries(this.options.flags ?? {})) flags[flagName(k)] = v;
    const args = [];
    for (const [k, v] of Object.entries(flags)) {
      if (BARE_FLAGS.has(k)) {
        if (v === true || v === 'true') args.push(`--${k}`);
      } else {
        args.push(`--${k}`, String(v));
      }
    }
    return args;
  }

  /** Starts the broker and resolves once it serves (its admin API answers /health). */
  async start() {
    if (this.proc) return this;
    if (!this.binary) throw new Error('the minikafka binary was not found (set MINIKAFKA_BIN or pass { binary })');
    const timeoutMs = this.options.startTimeoutMs ?? 15000;
    const args = this.args();
    const [cmd, argv] = hasSetpriv() ? ['setpriv', ['--pdeathsig', 'TERM', this.binary, ...args]] : [this.binary, args];
    const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        live.delete(this);
        resolve(this.exit);
      });
    });
    proc.on('error', () => {}); // spawn failures surface as an exit without a banner
    proc.stderr.on('data', (d) => {
      this.stderr += d.toString();
      if (this.stderr.length > 64000) this.stderr = this.stderr.slice(-32000);
    });
    const lines = [];
    let wake = null;
    const rl = readline.createInterface({ input: proc.stdout });
    rl.on('line', (l) => {
      lines.push(l);
      if (wake) wake();
    });
    rl.on('close', () => {
      lines.push(null);
      if (wake) wake();
    });
    const deadline = Date.now() + timeoutMs;
    const nextLine = async () => {
      while (lines.length === 0) {
        const left = deadline - Date.now();
        if (left <= 0) return undefined;
        await new Promise((resolve) => {
          const t = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(t);
            wake = null;
            resolve();
          };
        });
      }
      return lines.shift();
    };
    const fail = async (why) => {
      proc.kill('SIGKILL');
      await this.exited;
      this.proc = null;
      throw new Error(`${this.binary} ${args.join(' ')}: ${why}; exit ${JSON.stringify(this.exit)}; stderr:\n${this.stderr}`);
    };
    // One `kafka HOST:PORT` line per broker (--brokers N), then `admin URL` unless it is off.
    const brokers = [];
    let line = await nextLine();
    while (typeof line === 'string' && line.startsWith('kafka ')) {
      brokers.push(line.slice('kafka '.length).trim());
      line = await nextLine();
    }
    if (brokers.length === 0) return fail(`no 'kafka HOST:PORT' banner (got ${JSON.stringify(line)})`);
    this.bootstrapServers = brokers.join(',');
    if (typeof line === 'string' && line.startsWith('admin ')) this.adminUrl = line.slice('admin '.length).trim().replace(/\/$/, '');
    live.add(this);
    installExitHook();
    // Forgotten brokers must not keep the process alive: the exit hook stops them.
    proc.unref();
    proc.stdout.unref?.();
    proc.stderr.unref?.();
    if (this.adminUrl) {
      for (;;) {
        try {
          const r = await fetch(`${this.adminUrl}/health`);
          await r.arrayBuffer();
          if (r.ok) break;
        } catch {
          // not yet
        }
        if (Date.now() > deadline) return fail('the admin API did not answer /health');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    return this;
  }

  /** The Kafka port (of the first broker with --brokers N). */
  get port() {
    return Number(this.bootstrapServers.split(',')[0].split(':').pop());
  }

  /** SIGTERM and wait; resolves to { code, signal }. Idempotent. */
  async close() {
    if (!this.proc) return this.exit;
    if (this.exit === null) {
      this.proc.kill('SIGTERM');
      let timer;
      const r = await Promise.race([
        this.exited,
        new Promise((resolve) => {
          timer = setTimeout(() => resolve('timeout'), 15000);
        }),
      ]);
      clearTimeout(timer);
      if (r === 'timeout') {
        this.proc.kill('SIGKILL');
        await this.exited;
      }
    }
    live.delete(this);
    this.proc = null;
    return this.exit;
  }

  async [Symbol.asyncDispose ?? Symbol.for('Symbol.asyncDispose')]() {
    await this.close();
  }

  // ---- the admin API -----------------------------------------------------------------------------

  /**
   * Calls an admin route: request('GET', '/v1/groups/g1'). `body` is JSON-serialised. Resolves to
   * the parsed answer (text for non-JSON routes); throws AdminError for a status >= 400 unless
   * { check: false }, which resolves to { status, body }.
   */
  async request(method, target, body, { check = true } = {}) {
    if (!this.adminUrl) throw new Error('the admin API is off (admin-port -1) or the broker is not started');
    const init = { method: method.toUpperCase() };
    if (body !== undefined && body !== null) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    const r = await fetch(this.adminUrl + target, init);
    const text = await r.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (/metrics)
    }
    if (!check) return { status: r.status, body: parsed };
    if (r.status >= 400) throw new AdminError(init.method, target, r.status, parsed);
    return parsed;
  }

  /** Whether the broker serves a route (does not answer 404 "not_found"). */
  async hasRoute(method, target, body) {
    const { status, body: b } = await this.request(method, target, body, { check: false });
    return !(status === 404 && b && b.error === 'not_found');
  }

  cluster() {
    return this.request('GET', '/v1/cluster');
  }

  /** Creates a topic; without partitions, the broker's default (partitions option). */
  createTopic(name, { partitions, configs } = {}) {
    const body = { name };
    if (partitions !== undefined) body.partitions = partitions;
    if (configs) body.configs = Object.fromEntries(Object.entries(configs).map(([k, v]) => [k, String(v)]));
    return this.request('POST', '/v1/topics', body);
  }

  deleteTopic(name) {
    return this.request('DELETE', `/v1/topics/${encodeURIComponent(name)}`);
  }

  /** Names of all topics, sorted. */
  async topics() {
    return (await this.request('GET', '/v1/topics')).map((t) => t.name).sort();
  }

  /** { partition: end offset } of a topic. */
  async endOffsets(topic) {
    const t = await this.request('GET', `/v1/topics/${encodeURIComponent(topic)}`);
    return Object.fromEntries(t.partition_details.map((p) => [p.partition, p.end_offset]));
  }

  /** The group's lag on every partition it committed to ([] for an unknown group). */
  async lag(groupId) {
    const { status, body } = await this.request('GET', `/v1/groups/${encodeURIComponent(groupId)}`, undefined, { check: false });
    if (status === 404) return [];
    if (status >= 400) throw new AdminError('GET', `/v1/groups/${groupId}`, status, body);
    return body.offsets.map((o) => ({
      topic: o.topic, partition: o.partition, committed: o.committed_offset, endOffset: o.end_offset, lag: o.lag,
    }));
  }

  async totalLag(groupId) {
    return (await this.lag(groupId)).reduce((sum, p) => sum + p.lag, 0);
  }

  group(groupId) {
    return this.request('GET', `/v1/groups/${encodeURIComponent(groupId)}`);
  }

  /** records: [{ key, value, headers, partition }] */
  produce(topic, records, encoding = 'string') {
    return this.request('POST', `/v1/topics/${encodeURIComponent(topic)}/records`, { records, encoding });
  }

  records(topic, partition = 0, { offset = 0, limit = 100 } = {}) {
    return this.request('GET', `/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/records?offset=${offset}&limit=${limit}`);
  }

  // ---- the test control plane (docs/TESTING.md) ------------------------------------------------

  /** control('POST', 'faults', rule) is POST /v1/control/faults. */
  control(method, p, body) {
    return this.request(method, `/v1/control/${p.replace(/^\//, '')}`, body);
  }

  /** waitFor('group/g1/stable', { timeout_ms: 5000 }) is GET /v1/await/group/g1/stable?timeout_ms=5000. */
  waitFor(what, query = {}) {
    const q = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
    return this.request('GET', `/v1/await/${what.replace(/^\//, '')}${q ? `?${q}` : ''}`);
  }

  addFault(rule) {
    return this.control('POST', 'faults', rule);
  }

  faults() {
    return this.control('GET', 'faults');
  }

  removeFault(id) {
    return this.control('DELETE', `faults/${id}`);
  }

  clearFaults() {
    return this.control('DELETE', 'faults');
  }

  reset(prefix) {
    return this.control('POST', 'reset', prefix ? { prefix } : {});
  }

  clock() {
    return this.control('GET', 'clock');
  }

  advanceClock(ms) {
    return this.control('POST', 'clock/advance', { ms });
  }
}

/** new Broker(options).start() */
export function startBroker(options = {}) {
  return new Broker(options).start();
}

export default { Broker, startBroker, findBinary, AdminError };
