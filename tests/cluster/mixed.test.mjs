// A mixed cluster: heliograph-server and an ASP.NET Core node (aspnetcore-node/, hub
// ClusterPeer.Hubs.NotificationHub) on one Redis, in ASP.NET Core's backplane format, seen through
// Microsoft's official JavaScript client (@microsoft/signalr + signalr-protocol-msgpack, pinned by
// tests/conformance/package-lock.json), JSON and MessagePack.
//
//   HELIOGRAPH_SERVER=.../heliograph-server HELIOGRAPH_CLUSTER_PEER_DLL=.../ClusterPeer.dll \
//     node --test --test-force-exit mixed.test.mjs
//
// HELIOGRAPH_DOTNET (default `dotnet`) and HELIOGRAPH_REDIS_SERVER (default `redis-server`) name the
// other two programs; a missing one fails the test. HELIOGRAPH_VERBOSE=1 echoes the processes' logs.
// Every process's output, and every message published on Redis (a `PSUBSCRIBE *` recorder, hex),
// goes to a fresh folder under the temporary directory, printed at the start.
//
// Users: tenant `acme` with alice on heliograph-server (a minted token) and bob on the ASP.NET Core
// node (`?user=bob&tenant=acme`); carol, tenant `globex`, on heliograph-server. "Exactly once":
// after a message, a marker goes the same way (same Redis channel, which keeps order); once the
// marker arrived, the message's count must be 1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { appendFileSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as signalR from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { encode } from '@msgpack/msgpack';

const SERVER = process.env.HELIOGRAPH_SERVER;
const PEER_DLL = process.env.HELIOGRAPH_CLUSTER_PEER_DLL;
const DOTNET = process.env.HELIOGRAPH_DOTNET || 'dotnet';
const REDIS_SERVER = process.env.HELIOGRAPH_REDIS_SERVER || 'redis-server';
const VERBOSE = !!process.env.HELIOGRAPH_VERBOSE;
assert.ok(SERVER, 'set HELIOGRAPH_SERVER to the heliograph-server binary');
assert.ok(PEER_DLL, 'set HELIOGRAPH_CLUSTER_PEER_DLL to ClusterPeer.dll');

const HUB = 'ClusterPeer.Hubs.NotificationHub'; // the backplane's channel prefix on both nodes
const NODE_NAME = 'heliograph-test-1';
const SECRET = randomBytes(32).toString('hex');
const PROTOCOLS = ['json', 'messagepack'];
const LOG_DIR = mkdtempSync(join(tmpdir(), 'hg-cluster-'));
console.log(`# logs and the Redis traffic: ${LOG_DIR}`);

// --- processes --------------------------------------------------------------------------------

const children = new Set();
// Whatever happens to the test process, its children go with it.
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

const alive = (p) => p.child.exitCode === null && p.child.signalCode === null && !p.spawnError;

/** Starts a program; its stdout and stderr are kept (and written to LOG_DIR/<name>.log). */
function launch(name, command, args, env = {}) {
  const logFile = join(LOG_DIR, `${name}.log`);
  appendFileSync(logFile, `$ ${command} ${args.join(' ')}\n`);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: LOG_DIR, env: { ...process.env, ...env } });
  const p = { name, child, stdout: '', stderr: '', end: null, spawnError: null, events: new EventEmitter() };
  children.add(child);
  const record = (stream) => (d) => {
    const s = String(d);
    if (stream === 'stdout') p.stdout += s;
    else p.stderr = (p.stderr + s).slice(-64 * 1024);
    appendFileSync(logFile, s);
    if (VERBOSE) process.stderr.write(`[${name}] ${s}`);
    p.events.emit('output');
  };
  child.stdout.on('data', record('stdout'));
  child.stderr.on('data', record('stderr'));
  child.on('error', (e) => { p.spawnError = e; children.delete(child); p.events.emit('gone'); });
  child.on('exit', (code, signal) => {
    p.end = code ?? signal;
    children.delete(child);
    appendFileSync(logFile, `\n[exited: ${p.end}]\n`);
    p.events.emit('gone');
  });
  return p;
}

const logTail = (p) => `${p.stdout.slice(-2000)}${p.stderr.slice(-3000)}`;

/** Resolves with the match of `regex` in the process's stdout; fails if it ends or times out. */
function waitForOutput(p, regex, what, timeoutMs) {
  return new Promise((resolve, reject) => {
    const finish = (f) => { clearTimeout(timer); p.events.off('output', check); p.events.off('gone', gone); f(); };
    const check = () => {
      const m = regex.exec(p.stdout);
      if (m) finish(() => resolve(m));
    };
    const gone = () => finish(() => reject(new Error(
      `${p.name} ended (${p.spawnError ? p.spawnError.message : `exit ${p.end}`}) before ${what}; it wrote:\n${logTail(p)}`)));
    const timer = setTimeout(() => finish(() => reject(new Error(
      `${p.name}: no ${what} within ${timeoutMs} ms; it wrote:\n${logTail(p)}`))), timeoutMs);
    p.events.on('output', check);
    p.events.on('gone', gone);
    check();
    if (!alive(p)) gone();
  });
}

/** SIGTERM, then SIGKILL after 10 s; resolves once it is gone. */
function stop(p) {
  if (!p || !alive(p)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 10000);
    p.events.once('gone', () => { clearTimeout(timer); resolve(); });
    p.child.kill('SIGTERM');
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function startRedis() {
  // redis-server cannot pick a port itself: take a free one; another process may grab it first.
  for (let attempt = 1; ; ++attempt) {
    const port = await freePort();
    const p = launch(`redis-${attempt}`, REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    try {
      await waitForOutput(p, /Ready to accept connections/, '"Ready to accept connections"', 15000);
      p.port = port;
      return p;
    } catch (e) {
      await stop(p);
      if (attempt === 3 || p.spawnError) throw e;
    }
  }
}

async function startPeer(name, redisPort) {
  const p = launch(name, DOTNET, [PEER_DLL, '--urls', 'http://127.0.0.1:0', '--redis', `127.0.0.1:${redisPort}`],
    { DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' });
  p.url = (await waitForOutput(p, /^listening on (http:\/\/127\.0\.0\.1:\d+)\n/, 'its "listening on" line', 60000))[1];
  return p;
}

async function startHeliograph(redisPort) {
  // Note: the server's HS256 setting is `--jwt-secret` (`serve --secret` is not a setting).
  const p = launch('heliograph-server', SERVER, ['serve', '--listen', '127.0.0.1:0', '--memory',
    '--threads', '2', '--jwt-secret', SECRET, '--redis', `redis://127.0.0.1:${redisPort}`,
    '--node-name', NODE_NAME, '--backplane-hub-name', `notifications=${HUB}`]);
  p.url = `http://127.0.0.1:${(await waitForOutput(p, /listening on port (\d+)/, '"listening on port N"', 30000))[1]}`;
  return p;
}

function token(user, tenant, roles = ['Editor']) {
  const args = ['token', '--user', user, '--tenant', tenant, '--secret', SECRET, '--name', user.toUpperCase()];
  for (const r of roles) args.push('--role', r);
  return execFileSync(SERVER, args).toString().trim();
}

// --- Redis (RESP2, just enough) ---------------------------------------------------------------

function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) || a instanceof Uint8Array ? Buffer.from(a) : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** One RESP2 reply at `i`: [value, next offset], or null if `buf` does not hold all of it yet. */
function parseReply(buf, i = 0) {
  const eol = buf.indexOf('\r\n', i);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[i]);
  const line = buf.toString('utf8', i + 1, eol);
  let next = eol + 2;
  switch (type) {
  case '+': return [line, next];
  case '-': return [new Error(line), next];
  case ':': return [Number(line), next];
  case '$': {
    const n = Number(line);
    if (n < 0) return [null, next];
    if (buf.length < next + n + 2) return null;
    return [buf.subarray(next, next + n), next + n + 2];
  }
  case '*': {
    const n = Number(line);
    if (n < 0) return [null, next];
    const items = [];
    for (let k = 0; k < n; ++k) {
      const r = parseReply(buf, next);
      if (!r) return null;
      items.push(r[0]);
      next = r[1];
    }
    return [items, next];
  }
  default: throw new Error(`not RESP: ${JSON.stringify(buf.toString('latin1', i, i + 20))}`);
  }
}

let redisPort;

/** One command on a connection of its own; resolves with the reply. */
function redis(args, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(redisPort, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`redis ${args[0]}: no reply within ${timeoutMs} ms`)); }, timeoutMs);
    sock.on('connect', () => sock.write(encodeCommand(args)));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const r = parseReply(buf);
      if (!r) return;
      clearTimeout(timer);
      sock.end();
      if (r[0] instanceof Error) reject(r[0]); else resolve(r[0]);
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

const numsub = async (channel) => Number((await redis(['PUBSUB', 'NUMSUB', channel]))[1]);
const channels = async (pattern) => (await redis(['PUBSUB', 'CHANNELS', pattern])).map(String).sort();

/** Polls `probe` (every 50 ms) until it returns something truthy; fails after `timeoutMs`. */
async function until(probe, what, timeoutMs = 10000) {
  const deadline = performance.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until `channel` has at least `n` subscribers (PUBSUB NUMSUB; patterns do not count). */
async function subscribed(channel, n, timeoutMs = 10000) {
  let seen = 0;
  try {
    await until(async () => (seen = await numsub(channel)) >= n, `${n} subscriber(s) of ${channel}`, timeoutMs);
  } catch (e) {
    throw new Error(`${e.message} (it has ${seen})`);
  }
}

/** Writes every message published on Redis to LOG_DIR/redis-traffic.log (for the report). */
function startRecorder() {
  const file = join(LOG_DIR, 'redis-traffic.log');
  const sock = net.connect(redisPort, '127.0.0.1');
  let buf = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    sock.on('error', reject);
    sock.on('connect', () => sock.write(encodeCommand(['PSUBSCRIBE', '*'])));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (let r; (r = parseReply(buf));) {
        buf = buf.subarray(r[1]);
        const [kind, , channel, payload] = r[0];
        if (String(kind) === 'psubscribe') resolve(sock);
        if (String(kind) !== 'pmessage') continue;
        const ascii = payload.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
        appendFileSync(file, `${new Date().toISOString()} ${channel} (${payload.length} bytes)\n  ${payload.toString('hex').replace(/(..)/g, '$1 ').trim()}\n  ${ascii}\n`);
      }
    });
  });
}

// --- HTTP -------------------------------------------------------------------------------------

/** POSTs to the ASP.NET Core node; resolves with the status, the text and how long it took. */
async function post(node, path, params) {
  const t0 = performance.now();
  const res = await fetch(`${node.url}${path}?${new URLSearchParams(params)}`,
    { method: 'POST', signal: AbortSignal.timeout(45000) });
  const text = await res.text();
  return { status: res.status, text, ms: Math.round(performance.now() - t0) };
}

async function postOk(node, path, params) {
  const r = await post(node, path, params);
  assert.equal(r.status, 200, `${path} ${JSON.stringify(params)} answered ${r.status}: ${r.text.slice(0, 1500)}`);
  return r;
}

async function pushApi(path, body) {
  const res = await fetch(`${ours.url}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token('pusher', 'ops', ['Service'])}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15000),
  });
  return { status: res.status, text: await res.text() };
}

// --- clients ----------------------------------------------------------------------------------

// What every client records: target -> how an invocation's arguments become its key.
const TRACKED = {
  FromPeer: (a) => a,
  Marker: (a) => a,
  ConnectionAcknowledged: () => 'ack',
  ReceiveNotification: (n) => n?.title,
  ReceiveSystemAlert: (a) => a?.message,
  UserJoined: (userId) => userId,
  UserLeft: (userId) => userId,
};

const openClients = new Set();

/** A started HubConnection that counts what it receives, by target and key. */
class Client {
  constructor(name, conn) {
    this.name = name;
    this.conn = conn;
    this.counts = new Map();
    this.log = []; // `target|key`, in arrival order
    this.changed = new EventEmitter();
    for (const [target, key] of Object.entries(TRACKED)) {
      conn.on(target, (...args) => {
        const k = `${target}|${key(...args)}`;
        this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
        this.log.push(k);
        this.changed.emit('message');
      });
    }
    // A client result: the answer the ASP.NET Core node's /invoke returns.
    conn.on('GetValue', (q) => `answer:${q}`);
    conn.onclose((error) => { this.closeError = error ?? null; this.changed.emit('message'); });
  }

  get id() { return this.conn.connectionId; }

  count(target, key) { return this.counts.get(`${target}|${key}`) ?? 0; }

  /** Resolves once `target` with `key` has arrived at least once. */
  waitFor(target, key, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      const finish = (f) => { clearTimeout(timer); this.changed.off('message', check); f(); };
      const check = () => { if (this.count(target, key) > 0) finish(resolve); };
      const timer = setTimeout(() => finish(() => reject(new Error(
        `${this.name}: no ${target}(${key}) within ${timeoutMs} ms; it got [${this.log.join(', ')}]`
        + `${this.closeError !== undefined ? `; its connection closed (${this.closeError})` : ''}`))), timeoutMs);
      this.changed.on('message', check);
      check();
    });
  }

  async stop() {
    openClients.delete(this);
    await this.conn.stop();
  }
}

async function connect(name, url, protocol, accessToken) {
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(url, { transport: signalR.HttpTransportType.WebSockets, ...(accessToken ? { accessTokenFactory: () => accessToken } : {}) })
    .configureLogging(VERBOSE ? signalR.LogLevel.Warning : signalR.LogLevel.None);
  if (protocol === 'messagepack') builder.withHubProtocol(new MessagePackHubProtocol());
  const c = new Client(name, builder.build());
  await c.conn.start();
  openClients.add(c);
  return c;
}

/** A client of heliograph-server (a token minted with the shared secret). */
const onOurs = (user, tenant, protocol) =>
  connect(`${user}@heliograph/${protocol}`, `${ours.url}/hubs/notifications`, protocol, token(user, tenant));

/** A client of an ASP.NET Core node (it takes the user and tenant from the query string). */
const onPeer = (node, user, tenant, protocol) =>
  connect(`${user}@${node.name}/${protocol}`,
    `${node.url}/hubs/notifications?${new URLSearchParams({ user, tenant })}`, protocol);

// --- malformed backplane payloads ------------------------------------------------------------

const json = (o) => Buffer.from(`${JSON.stringify(o)}\x1e`);
const messagepack = (message) => { // VarInt length prefix (bodies here are < 128 bytes)
  const body = Buffer.from(encode(message));
  assert.ok(body.length < 128);
  return Buffer.concat([Buffer.from([body.length]), body]);
};
const bin = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
// Rejected by ASP.NET Core's reader too, so the ASP.NET Core node drops them as well.
const envelopeErrors = [
  ['empty', bin([])],
  ['not MessagePack (c1)', bin([0xc1])],
  ['an integer, not an array', bin([0x05])],
  ['an array of 1 (insufficient items)', bin([0x91, 0x90])],
  ['an array of 2 holding 1 item', bin([0x92, 0x90])],
  ['excluded ids a string', bin([0x92, 0xa3], 'abc', [0x80])],
  ['protocol map a string', bin([0x92, 0x90, 0xa3], 'abc')],
  ['bin8 of 64 bytes holding 3', bin([0x92, 0x90, 0x81, 0xa4], 'json', [0xc4, 0x40], 'abc')],
  ['array32 claiming 4294967295 items', bin([0xdd, 0xff, 0xff, 0xff, 0xff])],
  ['bin32 claiming 4 GiB', bin([0x92, 0x90, 0x81, 0xa4], 'json', [0xc6, 0xff, 0xff, 0xff, 0xff])],
  ['map32 claiming 4294967295 entries', bin([0x92, 0x90, 0xdf, 0xff, 0xff, 0xff, 0xff])],
];
// Group commands: truncated, and of the wrong types.
const groupCommandErrors = [
  bin([0x95, 0x01]),
  bin([0x95, 0xa1], 'x', [0xa1], 'y', [0x01, 0xa1], 'g', [0xa1], 'c'),
  Buffer.from(encode([1, 'nobody', 1, 'g', 7])),
];

// --- the cluster ------------------------------------------------------------------------------

let redisProcess;
let recorder;
let peer; // the ASP.NET Core node, for the whole file
let ours; // heliograph-server, from the mixed-cluster part on

before(async () => {
  redisProcess = await startRedis();
  redisPort = redisProcess.port;
  recorder = await startRecorder();
  peer = await startPeer('aspnetcore-peer', redisPort);
});

after(async () => {
  for (const c of [...openClients]) await c.stop().catch(() => {});
  recorder?.destroy();
  await Promise.all([stop(ours), stop(peer)]);
  await stop(redisProcess);
  for (const c of children) c.kill('SIGKILL');
});

describe('the ASP.NET Core node alone (harness)', () => {
  test('it subscribes its start-up channels under the hub\'s full name', async () => {
    assert.equal(await numsub(`${HUB}:all`), 1);
    assert.equal(await numsub(`${HUB}:internal:groups`), 1);
    assert.equal((await channels(`${HUB}:internal:ack:*`)).length, 1);
    assert.equal((await channels(`${HUB}:internal:return:*`)).length, 1);
  });

  for (const protocol of PROTOCOLS) {
    test(`a client on it gets every kind of send exactly once, Echo answers (${protocol})`, async () => {
      const bob = await onPeer(peer, 'bob', 'acme', protocol);
      try {
        await subscribed(`${HUB}:connection:${bob.id}`, 1);
        assert.equal(await bob.conn.invoke('Echo', 'hello'), 'hello');
        const routes = [
          ['/send/all', {}],
          ['/send/group', { group: 'tenant:acme' }],
          ['/send/group', { group: 'user:acme/bob' }],
          ['/send/user', { user: 'bob' }],
          ['/send/connection', { id: bob.id }],
        ];
        for (const [path, params] of routes) {
          const arg = `${path}-${JSON.stringify(params)}-${protocol}`;
          await postOk(peer, path, { ...params, target: 'FromPeer', arg });
          await postOk(peer, path, { ...params, target: 'Marker', arg });
          await bob.waitFor('Marker', arg);
          assert.equal(bob.count('FromPeer', arg), 1, `${path} ${JSON.stringify(params)}`);
        }
        assert.equal((await postOk(peer, '/invoke', { id: bob.id, target: 'GetValue', arg: 'local' })).text, 'answer:local');
      } finally {
        await bob.stop();
      }
    });
  }

  test('it drops the malformed payloads the mixed cluster publishes, and keeps serving', async () => {
    const bob = await onPeer(peer, 'bob', 'acme', 'messagepack');
    try {
      await subscribed(`${HUB}:connection:${bob.id}`, 1);
      for (const channel of [`${HUB}:all`, `${HUB}:connection:${bob.id}`]) {
        for (const [, payload] of envelopeErrors) await redis(['PUBLISH', channel, payload]);
      }
      for (const payload of groupCommandErrors) await redis(['PUBLISH', `${HUB}:internal:groups`, payload]);
      await postOk(peer, '/send/all', { target: 'Marker', arg: 'peer-after-malformed' });
      await bob.waitFor('Marker', 'peer-after-malformed');
      assert.equal(bob.conn.state, signalR.HubConnectionState.Connected);
      assert.equal(await bob.conn.invoke('Echo', 'still'), 'still');
    } finally {
      await bob.stop();
    }
  });
});

describe('two ASP.NET Core nodes (harness check of the cross-node requests)', () => {
  let peer2;
  before(async () => { peer2 = await startPeer('aspnetcore-peer-2', redisPort); });
  after(async () => { await stop(peer2); });

  for (const protocol of PROTOCOLS) {
    test(`sends, group add/remove and a client result reach a client on the other node (${protocol})`, async () => {
      const bob = await onPeer(peer, 'bob', 'acme', protocol);
      try {
        await subscribed(`${HUB}:connection:${bob.id}`, 1);
        for (const [path, params] of [['/send/all', {}], ['/send/group', { group: 'tenant:acme' }],
          ['/send/user', { user: 'bob' }], ['/send/connection', { id: bob.id }]]) {
          const arg = `2nodes${path}-${protocol}`;
          await postOk(peer2, path, { ...params, target: 'FromPeer', arg });
          await postOk(peer2, path, { ...params, target: 'Marker', arg });
          await bob.waitFor('Marker', arg);
          assert.equal(bob.count('FromPeer', arg), 1, path);
        }
        const g = `g2nodes-${protocol}`;
        const add = await postOk(peer2, '/groups/add', { id: bob.id, group: g });
        assert.ok(add.ms < 5000, `the add took ${add.ms} ms`);
        await postOk(peer2, '/send/group', { group: g, target: 'FromPeer', arg: `${g}-in` });
        await bob.waitFor('FromPeer', `${g}-in`);
        const remove = await postOk(peer2, '/groups/remove', { id: bob.id, group: g });
        assert.ok(remove.ms < 5000, `the remove took ${remove.ms} ms`);
        await postOk(peer2, '/send/group', { group: g, target: 'FromPeer', arg: `${g}-out` });
        await postOk(peer2, '/send/connection', { id: bob.id, target: 'Marker', arg: `${g}-out` });
        await bob.waitFor('Marker', `${g}-out`);
        assert.equal(bob.count('FromPeer', `${g}-out`), 0);
        assert.equal((await postOk(peer2, '/invoke', { id: bob.id, target: 'GetValue', arg: 'q' })).text, 'answer:q');
      } finally {
        await bob.stop();
      }
    });
  }
});

describe('mixed cluster: heliograph-server and ASP.NET Core', () => {
  let peerChannels; // the ASP.NET Core node's ack and return channels

  before(async () => {
    peerChannels = [...await channels(`${HUB}:internal:ack:*`), ...await channels(`${HUB}:internal:return:*`)];
    ours = await startHeliograph(redisPort);
  });

  test('heliograph-server subscribes the start-up channels (all, internal:groups, its ack and return channels)', async () => {
    await subscribed(`${HUB}:all`, 2);
    await subscribed(`${HUB}:internal:groups`, 2);
    const mine = async () => [...await channels(`${HUB}:internal:ack:*`), ...await channels(`${HUB}:internal:return:*`)]
      .filter((c) => !peerChannels.includes(c));
    const found = await until(async () => { const m = await mine(); return m.length === 2 ? m : null; },
      'one new internal:ack and one new internal:return channel');
    console.log(`# heliograph-server's own channels: ${found.join(', ')}`);
  });

  for (const protocol of PROTOCOLS) {
    describe(protocol, () => {
      let alice; // acme, on heliograph-server
      let carol; // globex, on heliograph-server
      let bob; // acme, on the ASP.NET Core node

      before(async () => {
        bob = await onPeer(peer, 'bob', 'acme', protocol);
        await subscribed(`${HUB}:connection:${bob.id}`, 1);
        alice = await onOurs('alice', 'acme', protocol);
        carol = await onOurs('carol', 'globex', protocol);
      });

      after(async () => {
        for (const c of [alice, carol, bob]) await c?.stop().catch(() => {});
      });

      test('heliograph-server subscribes alice\'s connection, user and group channels', async () => {
        await alice.waitFor('ConnectionAcknowledged', 'ack');
        await subscribed(`${HUB}:connection:${alice.id}`, 1);
        await subscribed(`${HUB}:user:alice`, 1);
        await subscribed(`${HUB}:group:tenant:acme`, 2); // bob's node and alice's
        await subscribed(`${HUB}:group:user:acme/alice`, 1);
      });

      test('alice connecting makes bob (on the ASP.NET Core node) receive UserJoined(alice), once', async () => {
        await bob.waitFor('UserJoined', 'alice');
        // The alert goes through the same group channel, after UserJoined.
        const r = await pushApi('/api/tenants/acme/alerts', { level: 'info', message: `marker-joined-${protocol}` });
        assert.equal(r.status, 202, r.text);
        await bob.waitFor('ReceiveSystemAlert', `marker-joined-${protocol}`);
        assert.equal(bob.count('UserJoined', 'alice'), 1);
      });

      const fromPeer = [
        ['all', '/send/all', () => ({})],
        ['group tenant:acme', '/send/group', () => ({ group: 'tenant:acme' })],
        ['user alice', '/send/user', () => ({ user: 'alice' })],
        ['connection', '/send/connection', () => ({ id: alice.id })],
      ];
      for (const [label, path, params] of fromPeer) {
        test(`ASP.NET Core ${path} (${label}) reaches alice on heliograph-server exactly once`, async () => {
          const arg = `${label}-${protocol}`;
          await postOk(peer, path, { ...params(), target: 'FromPeer', arg });
          await postOk(peer, path, { ...params(), target: 'Marker', arg });
          await alice.waitFor('Marker', arg);
          assert.equal(alice.count('FromPeer', arg), 1);
        });
      }

      test('carol (tenant globex, on heliograph-server) got only the `all` send', async () => {
        const arg = `final-${protocol}`;
        await postOk(peer, '/send/all', { target: 'Marker', arg });
        await carol.waitFor('Marker', arg);
        await alice.waitFor('Marker', arg);
        const got = carol.log.filter((k) => k.startsWith('FromPeer|'));
        assert.deepEqual(got, [`FromPeer|all-${protocol}`]);
      });

      test('a push-API notification to acme/bob reaches bob on the ASP.NET Core node as ReceiveNotification, once', async () => {
        const first = `n1-${protocol}`;
        const second = `n2-${protocol}`;
        let r = await pushApi('/api/tenants/acme/users/bob/notifications', { title: first, body: 'b', type: 'info' });
        assert.equal(r.status, 202, r.text);
        await bob.waitFor('ReceiveNotification', first);
        r = await pushApi('/api/tenants/acme/users/bob/notifications', { title: second, body: 'b', type: 'info' });
        assert.equal(r.status, 202, r.text);
        await bob.waitFor('ReceiveNotification', second);
        assert.equal(bob.count('ReceiveNotification', first), 1);
        assert.equal(alice.count('ReceiveNotification', first), 0);
      });

      test('group add across nodes: acked within seconds, then the group reaches alice once', async () => {
        const g = `g1-${protocol}`;
        const add = await postOk(peer, '/groups/add', { id: alice.id, group: g });
        assert.ok(add.ms < 5000, `the add took ${add.ms} ms`);
        await postOk(peer, '/send/group', { group: g, target: 'FromPeer', arg: `${g}-in` });
        await postOk(peer, '/send/group', { group: g, target: 'Marker', arg: `${g}-in` });
        await alice.waitFor('Marker', `${g}-in`);
        assert.equal(alice.count('FromPeer', `${g}-in`), 1);
      });

      test('group remove across nodes: acked within seconds, then the group no longer reaches alice', async () => {
        const g = `g1-${protocol}`;
        const remove = await postOk(peer, '/groups/remove', { id: alice.id, group: g });
        assert.ok(remove.ms < 5000, `the remove took ${remove.ms} ms`);
        await postOk(peer, '/send/group', { group: g, target: 'FromPeer', arg: `${g}-out` });
        await postOk(peer, '/send/all', { target: 'Marker', arg: `${g}-out` });
        await alice.waitFor('Marker', `${g}-out`);
        assert.equal(alice.count('FromPeer', `${g}-out`), 0);
      });

      test('a client result across nodes: /invoke GetValue on alice returns answer:q', async () => {
        const r = await post(peer, '/invoke', { id: alice.id, target: 'GetValue', arg: 'q' });
        assert.equal(r.status, 200, `answered ${r.status} after ${r.ms} ms: ${r.text.slice(0, 1500)}`);
        assert.equal(r.text, 'answer:q');
      });

      test('alice leaving makes bob receive UserLeft(alice)', async () => {
        await alice.stop();
        await bob.waitFor('UserLeft', 'alice');
      });
    });
  }

  describe('malformed payloads on the backplane', () => {
    let alice;
    let dave;
    before(async () => {
      alice = await onOurs('alice', 'acme', 'json');
      dave = await onOurs('dave', 'acme', 'messagepack');
      await alice.waitFor('ConnectionAcknowledged', 'ack');
      await dave.waitFor('ConnectionAcknowledged', 'ack');
    });
    after(async () => { for (const c of [alice, dave]) await c?.stop().catch(() => {}); });

    async function stillServing(label) {
      await postOk(peer, '/send/all', { target: 'Marker', arg: label });
      await alice.waitFor('Marker', label);
      await dave.waitFor('Marker', label);
      assert.equal(alice.count('Marker', label), 1);
      assert.equal(dave.count('Marker', label), 1);
      assert.ok(alive(ours), `heliograph-server ended (${ours.end}):\n${logTail(ours)}`);
      assert.equal(alice.conn.state, signalR.HubConnectionState.Connected);
      assert.equal(dave.conn.state, signalR.HubConnectionState.Connected);
      const online = await alice.conn.invoke('GetOnlineUsers');
      assert.ok(Array.isArray(online));
      const fresh = await onOurs('erin', 'acme', 'json');
      await fresh.waitFor('ConnectionAcknowledged', 'ack');
      await fresh.stop();
      assert.deepEqual([...alice.log, ...dave.log].filter((k) => k.startsWith('FromPeer|')), [],
        'nothing malformed was delivered (FromPeer|bad-call: a client-result call with a non-string invocation id or return channel)');
    }

    test(`malformed payloads on ${HUB}:all are dropped; heliograph-server keeps serving`, async () => {
      for (const [, payload] of envelopeErrors) await redis(['PUBLISH', `${HUB}:all`, payload]);
      await stillServing('after-malformed-all');
    });

    test('malformed payloads on the group, user, connection and internal:groups channels are dropped too', async () => {
      const tenantChannel = `${HUB}:group:tenant:acme`;
      for (const channel of [tenantChannel, `${HUB}:user:alice`, `${HUB}:connection:${alice.id}`, `${HUB}:connection:${dave.id}`]) {
        for (const [, payload] of envelopeErrors) await redis(['PUBLISH', channel, payload]);
      }
      // Client-result calls whose invocation id or return channel is not a string.
      const map = new Map([
        ['json', json({ type: 1, invocationId: 'x1', target: 'FromPeer', arguments: ['bad-call'] })],
        ['messagepack', messagepack([1, {}, 'x1', 'FromPeer', ['bad-call'], []])],
      ]);
      const badCalls = [encode([[], map, 5, `${HUB}:internal:return:nobody`]), encode([[], map, 'x1', 7])];
      for (const payload of badCalls) await redis(['PUBLISH', `${HUB}:connection:${alice.id}`, Buffer.from(payload)]);
      for (const payload of groupCommandErrors) await redis(['PUBLISH', `${HUB}:internal:groups`, payload]);
      await stillServing('after-malformed-others');
    });
  });
});
