'use strict';
// Broker fixture for the kafkajs suite (the JS twin of tests/clients/python/mkfixture.py).
//
// Starts $MINIKAFKA_BIN --port 0 --host 127.0.0.1, reads the first stdout line, which must be
// "kafka HOST:PORT" (one such line per broker with `--brokers N` or MINIKAFKA_BROKERS=N:
// `bootstraps` lists them, `bootstrap` joins them with commas; the admin line follows them and is
// read by `adminUrl()`), and stops the broker with SIGTERM, expecting exit code 0 (any code for the
// anchor, bench/rdkafka_mock_broker, recognised by its file name or MINIKAFKA_ANCHOR=1).
// The anchor also has a stdin control channel ("topic NAME PARTITIONS") used by
// createTopicForTest, since librdkafka's mock cluster has no CreateTopics.

const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
const crypto = require('node:crypto');

const BANNER_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 15000;

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls `predicate` (sync or async) until it returns a truthy value, which is returned.
// Throws after `timeoutMs` with `message` and the last value or error. The suites never use a
// bare sleep to wait for something.
async function waitUntil(predicate, { timeoutMs = 10000, intervalMs = 50, message } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  let lastErr;
  for (;;) {
    try {
      last = await predicate();
      lastErr = undefined;
      if (last) return last;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastErr ? `last error: ${lastErr.stack || lastErr}` : `last value: ${JSON.stringify(last)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message || predicate}: ${detail}`);
    }
    await sleep(intervalMs);
  }
}

function uniqueName(prefix) {
  return `${prefix}-${crypto.randomBytes(5).toString('hex')}`;
}

// setpriv --pdeathsig TERM makes the broker die with the test process even if node is killed.
let setprivOk;
function hasSetpriv() {
  if (setprivOk === undefined) {
    const r = spawnSync('setpriv', ['--pdeathsig', 'TERM', 'true']);
    setprivOk = r.status === 0;
  }
  return setprivOk;
}

// How many "kafka" banner lines a broker started with `args` prints.
function expectedBrokers(args) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--brokers' && i + 1 < args.length) return Number(args[i + 1]);
    if (args[i].startsWith('--brokers=')) return Number(args[i].slice('--brokers='.length));
  }
  return Number(process.env.MINIKAFKA_BROKERS || '1');
}

class Broker {
  constructor(extraArgs = []) {
    this.binary = process.env.MINIKAFKA_BIN;
    if (!this.binary) throw new Error('MINIKAFKA_BIN is not set (path of the minikafka binary)');
    this.extraArgs = extraArgs;
    this.isAnchor = path.basename(this.binary).startsWith('rdkafka_mock_broker') ||
      process.env.MINIKAFKA_ANCHOR === '1';
    this.proc = null;
    this.bootstrap = null;
    this.bootstraps = []; // "HOST:PORT" of each broker, in id order
    this.admin = undefined; // "http://HOST:PORT", null when not printed, undefined until known
    this.brokerCount = this.isAnchor ? 1 : expectedBrokers(extraArgs);
    this.stderr = '';
    this.exit = null; // { code, signal } once exited
    this._waiters = []; // pending stdout line consumers
    this._lines = [];
  }

  async start() {
    const args = ['--port', '0', '--host', '127.0.0.1', ...this.extraArgs];
    const [cmd, argv] = hasSetpriv()
      ? ['setpriv', ['--pdeathsig', 'TERM', this.binary, ...args]]
      : [this.binary, args];
    this.proc = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    this.proc.stderr.on('data', (d) => {
      this.stderr += d.toString();
      if (this.stderr.length > 64000) this.stderr = this.stderr.slice(-32000);
    });
    this.proc.stdin.on('error', () => {});
    const rl = readline.createInterface({ input: this.proc.stdout });
    rl.on('line', (line) => {
      this._lines.push(line);
      this._wake();
    });
    rl.on('close', () => {
      this._lines.push(null);
      this._wake();
    });
    const first = await this._nextLine(BANNER_TIMEOUT_MS);
    if (typeof first !== 'string' || !first.startsWith('kafka ')) {
      this.proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`${this.binary} did not print 'kafka HOST:PORT' first (got ${JSON.stringify(first)}); ` +
        `exit ${JSON.stringify(this.exit)}; stderr:\n${this.stderr}`);
    }
    this.bootstraps.push(first.slice('kafka '.length).trim());
    for (let i = 1; i < this.brokerCount; i++) {
      const line = await this._nextLine(BANNER_TIMEOUT_MS);
      if (typeof line !== 'string' || !line.startsWith('kafka ')) {
        this.proc.kill('SIGKILL');
        await this.exited;
        throw new Error(`expected the 'kafka HOST:PORT' line of broker ${i + 1} of ${this.brokerCount}, got ` +
          `${JSON.stringify(line)}; stderr:\n${this.stderr}`);
      }
      this.bootstraps.push(line.slice('kafka '.length).trim());
    }
    this.bootstrap = this.bootstraps.join(',');
    return this;
  }

  // The admin API's base URL from the banner line after the "kafka" lines, or null when the
  // broker printed none (the anchor). Consumes that line.
  async adminUrl() {
    if (this.admin !== undefined) return this.admin;
    if (this.isAnchor) {
      this.admin = null;
      return null;
    }
    const line = await this._nextLine(BANNER_TIMEOUT_MS);
    if (typeof line === 'string' && line.startsWith('admin ')) {
      this.admin = line.slice('admin '.length).trim().replace(/\/$/, '');
    } else {
      if (typeof line === 'string') this._lines.unshift(line);
      this.admin = null;
    }
    return this.admin;
  }

  // One admin API call: resolves to { status, body } (body parsed as JSON when it is JSON).
  async http(method, path, body) {
    const base = await this.adminUrl();
    if (!base) throw new Error('this broker has no admin API');
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch (err) {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  }

  _wake() {
    const waiters = this._waiters;
    this._waiters = [];
    for (const w of waiters) w();
  }

  async _nextLine(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (this._lines.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this._waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    return this._lines.shift();
  }

  alive() {
    return this.proc !== null && this.exit === null;
  }

  // SIGTERM and wait; resolves to { code, signal }. Throws if it does not exit in time.
  async stop() {
    if (!this.proc) return null;
    if (this.exit === null) {
      this.proc.kill('SIGTERM');
      let handle;
      const timer = new Promise((resolve) => { handle = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS); });
      const r = await Promise.race([this.exited, timer]);
      clearTimeout(handle);
      if (r === 'timeout') {
        this.proc.kill('SIGKILL');
        await this.exited;
        throw new Error(`broker did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM; stderr:\n${this.stderr}`);
      }
    }
    this.proc.stdin.destroy();
    return this.exit;
  }

  // Stops and asserts a clean exit (exit code 0), except for the anchor.
  async stopClean() {
    const exit = await this.stop();
    if (!this.isAnchor && !(exit && exit.code === 0)) {
      throw new Error(`broker exit after SIGTERM was ${JSON.stringify(exit)}, expected code 0; stderr:\n${this.stderr}`);
    }
    return exit;
  }

  async anchorCreateTopic(name, partitions) {
    if (!this.isAnchor) throw new Error('the control channel exists only on the anchor');
    this.proc.stdin.write(`topic ${name} ${partitions}\n`);
    const deadline = Date.now() + 10000;
    for (;;) {
      const line = await this._nextLine(deadline - Date.now());
      if (line === undefined) throw new Error(`anchor did not confirm topic ${name}`);
      if (line === null) throw new Error(`anchor exited; stderr:\n${this.stderr}`);
      if (line === `ok topic ${name}`) return;
      if (line.startsWith(`err topic ${name}`)) throw new Error(`anchor could not create ${name}: ${line}`);
    }
  }
}

module.exports = { Broker, waitUntil, uniqueName, sleep };
