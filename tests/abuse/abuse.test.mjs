// Abuse resistance of heliograph-server, black box: misbehaving raw TCP / HTTP / WebSocket clients
// are cut off by a limit or a timeout while a well-behaved official client (@microsoft/signalr,
// pinned by tests/conformance/package-lock.json) connected at the same time keeps being served.
// Run: HELIOGRAPH_SERVER=/path/to/heliograph-server node --test abuse.test.mjs
// (HELIOGRAPH_VERBOSE=1 echoes the server's log.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as signalR from '@microsoft/signalr';

const SERVER = process.env.HELIOGRAPH_SERVER;
assert.ok(SERVER, 'set HELIOGRAPH_SERVER to the heliograph-server binary');
const SECRET = randomBytes(32).toString('hex');

// The limits the server runs with (seconds / bytes).
const REQUEST_TIMEOUT_S = 2;
const HANDSHAKE_TIMEOUT_S = 2;
const MAX_QUEUED_OUTPUT = 262144;
// Timeouts are checked against a generous window. Early by at most EARLY_SLACK_MS: Qt's coarse
// timers may fire 5 % early, and a socket's connect is timestamped when node gets to it. Late by
// at most LATE_SLACK_MS: the handshake timeout is checked by a 1 s heartbeat, and the machine may
// be loaded.
const EARLY_SLACK_MS = 300;
const LATE_SLACK_MS = 4000;

let server; // { child, port, log, dataDir }
let base;
let watcher; // the well-behaved official client, connected for the whole suite
const openSockets = new Set(); // every raw socket, destroyed in after()
const watcherNotifications = []; // sequences the watcher received, in arrival order
let pushed = 0;
const pushedTitles = [];

// --- server process ---------------------------------------------------------------------------

function startServer(extraArgs = []) {
  const dataDir = mkdtempSync(join(tmpdir(), 'hg-abuse-'));
  return new Promise((resolve, reject) => {
    const child = spawn(SERVER, ['serve', '--listen', '127.0.0.1:0', '--memory', '--threads', '2',
      '--jwt-secret', SECRET, '--data', dataDir,
      '--request-timeout', String(REQUEST_TIMEOUT_S), '--handshake-timeout', String(HANDSHAKE_TIMEOUT_S),
      '--max-queued-output', String(MAX_QUEUED_OUTPUT), ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = [];
    log.events = new EventEmitter();
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on port (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), log, dataDir });
    });
    let partial = '';
    child.stderr.on('data', (d) => {
      if (process.env.HELIOGRAPH_VERBOSE) process.stderr.write(d);
      const lines = (partial + d).split('\n');
      partial = lines.pop();
      log.push(...lines);
      for (const line of lines) log.events.emit('line', line);
    });
    child.on('exit', (code, signal) => reject(new Error(`server exited early with ${code ?? signal}`)));
  });
}

function stopServer(child, timeoutMs = 15000) {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    // A server that does not drain in time is killed, and reported as such.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal }); });
    child.kill('SIGTERM');
  });
}

/** Resolves once a server log line matches `re` (the log is only evidence of why: the tests
 * themselves observe the cut on the wire). */
function logLine(re, timeoutMs = 10000) {
  const seen = server.log.find((l) => re.test(l));
  if (seen) return Promise.resolve(seen);
  const { events } = server.log;
  let onLine;
  return withTimeout(new Promise((resolve) => {
    onLine = (l) => { if (re.test(l)) resolve(l); };
    events.on('line', onLine);
  }), timeoutMs, `a server log line matching ${re}`).finally(() => events.off('line', onLine));
}

// --- helpers ----------------------------------------------------------------------------------

const tokens = new Map();
function token(user, tenant, roles = []) {
  const key = JSON.stringify([user, tenant, roles]);
  if (!tokens.has(key)) {
    const args = ['token', '--user', user, '--tenant', tenant, '--secret', SECRET, '--name', user.toUpperCase()];
    for (const r of roles) args.push('--role', r);
    tokens.set(key, execFileSync(SERVER, args).toString().trim());
  }
  return tokens.get(key);
}

const clients = new Set(); // official clients, stopped in after()
function connection({ user = 'alice', tenant = 't1', roles = ['Editor'] } = {}) {
  const tok = token(user, tenant, roles);
  const c = new signalR.HubConnectionBuilder()
    .withUrl(`${base}/hubs/notifications`, { transport: signalR.HttpTransportType.WebSockets, accessTokenFactory: () => tok })
    .configureLogging(signalR.LogLevel.None)
    .build();
  clients.add(c);
  return c;
}

/** Resolves with the arguments of the next `method` invocation on `conn` that `accept`s them. */
function next(conn, method, accept = () => true, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const handler = (...args) => {
      if (!accept(...args)) return;
      clearTimeout(timer);
      conn.off(method, handler);
      resolve(args);
    };
    const timer = setTimeout(() => { conn.off(method, handler); reject(new Error(`no ${method} within ${timeoutMs} ms`)); }, timeoutMs);
    conn.on(method, handler);
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); }),
  ]);
}

/**
 * One HTTP request on a connection of its own (Connection: close). Not fetch(): its connection
 * pool may reuse a connection in the very moment the server closes it for idling longer than
 * --request-timeout (2 s here), and a POST is not retried.
 */
function api(method, path, { token: tok, body, raw } = {}) {
  return new Promise((resolve, reject) => {
    const headers = { Connection: 'close' };
    if (tok) headers.Authorization = `Bearer ${tok}`;
    const data = raw !== undefined ? Buffer.from(raw) : body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (data) {
      headers['Content-Type'] = raw !== undefined ? 'text/plain;charset=UTF-8' : 'application/json';
      headers['Content-Length'] = data.length;
    }
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, json, text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error(`${method} ${path}: no response within 10 s`)));
    req.end(data);
  });
}

/**
 * Proves the official client is being served right now: a hub invocation round-trips, and a
 * notification pushed through the push API reaches it. Returns the time it took (ms).
 */
async function served(tag) {
  const t0 = performance.now();
  const online = await withTimeout(watcher.invoke('GetOnlineUsers'), 10000, `GetOnlineUsers (${tag})`);
  assert.ok(online.some((u) => u.userId === 'watcher'), `${tag}: the watcher is online`);
  const title = `${tag} #${pushedTitles.length + 1}`;
  pushedTitles.push(title);
  const got = next(watcher, 'ReceiveNotification', (n) => n.title === title);
  got.catch(() => {}); // awaited below; never an unhandled rejection if the push fails first
  const r = await api('POST', '/api/tenants/t1/users/watcher/notifications',
    { token: token('pusher', 'ops', ['Service']), body: { title } });
  assert.equal(r.status, 202, `${tag}: push accepted`);
  pushed += 1; // stored: the watcher must receive it
  const [n] = await got;
  assert.equal(Number(n.sequence), r.json.sequence, `${tag}: the pushed notification arrived`);
  assert.equal(watcher.state, signalR.HubConnectionState.Connected);
  return performance.now() - t0;
}

/** A raw TCP connection to the server; every socket is tracked and destroyed in after(). */
function rawConnect() {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: server.port });
    openSockets.add(s);
    s.on('close', () => openSockets.delete(s));
    s.once('connect', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}

/** Records what a raw socket receives, and when it closes. */
function track(s) {
  const st = { chunks: [], error: null, closedAt: null, endedByPeer: false };
  s.on('data', (d) => st.chunks.push(d));
  s.on('end', () => { st.endedByPeer = true; });
  s.on('error', (e) => { st.error = e; });
  st.closed = new Promise((resolve) => s.on('close', () => { st.closedAt = performance.now(); resolve(st); }));
  Object.defineProperty(st, 'text', { get: () => Buffer.concat(st.chunks).toString('latin1') });
  return st;
}

/** Reports a measurement in the test output (and keeps it for the summary). */
function measured(t, text) {
  t.diagnostic(`measured: ${text}`);
}

const statusOf = (text) => Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1]);

// --- a hand-rolled WebSocket client (RFC 6455), for clients the official one cannot imitate ---

class RawWebSocket {
  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.head = null;
    this.frames = [];
    this.frameWaiters = [];
    this.records = [];
    this.recordText = '';
    this.fragments = null;
    this.state = track(socket);
    this.upgraded = new Promise((resolve, reject) => { this.onHead = resolve; this.onHeadError = reject; });
    socket.on('data', (d) => this.onData(d));
    socket.on('close', () => {
      this.onHeadError(new Error('closed before the upgrade response'));
      for (const w of this.frameWaiters.splice(0)) w.reject(new Error('socket closed'));
    });
  }

  /** Negotiates, then upgrades by hand. */
  static async open(user, roles = ['Editor']) {
    return RawWebSocket.upgrade(await RawWebSocket.negotiate(user, roles));
  }

  static async negotiate(user, roles = ['Editor']) {
    const tok = token(user, 't1', roles);
    const neg = await api('POST', '/hubs/notifications/negotiate?negotiateVersion=1', { token: tok });
    assert.equal(neg.status, 200);
    return { tok, ...neg.json };
  }

  /** The WebSocket upgrade of a negotiated connection, on a TCP connection of its own. */
  static async upgrade({ tok, connectionToken, connectionId }) {
    const socket = await rawConnect();
    const ws = new RawWebSocket(socket);
    const key = randomBytes(16).toString('base64');
    socket.write(`GET /hubs/notifications?id=${encodeURIComponent(connectionToken)}&access_token=${tok} HTTP/1.1\r\n`
      + `Host: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
      + `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const head = await withTimeout(ws.upgraded, 10000, 'the upgrade response');
    assert.match(head, /^HTTP\/1\.1 101 /);
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    assert.match(head, new RegExp(`\\r\\nsec-websocket-accept: ${accept.replace(/[+/]/g, '\\$&')}\\r\\n`, 'i'));
    ws.connectionId = connectionId;
    return ws;
  }

  onData(d) {
    this.buf = Buffer.concat([this.buf, d]);
    if (this.head === null) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.head = this.buf.subarray(0, end + 4).toString('latin1');
      this.buf = this.buf.subarray(end + 4);
      this.onHead(this.head);
    }
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0];
      const b1 = this.buf[1];
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      assert.equal(b1 & 0x80, 0, 'server frames are not masked');
      if (this.buf.length < off + len) return;
      const payload = Buffer.from(this.buf.subarray(off, off + len));
      this.buf = this.buf.subarray(off + len);
      this.onFrame({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload });
    }
  }

  onFrame(f) {
    if (f.opcode === 0 || (f.opcode < 8 && !f.fin)) { // fragmented message
      this.fragments = this.fragments ? { ...this.fragments, parts: [...this.fragments.parts, f.payload] }
        : { opcode: f.opcode, parts: [f.payload] };
      if (!f.fin) return;
      f = { fin: true, opcode: this.fragments.opcode, payload: Buffer.concat(this.fragments.parts) };
      this.fragments = null;
    }
    if (f.opcode === 1) { // SignalR JSON records, separated by 0x1e
      this.recordText += f.payload.toString('utf8');
      const parts = this.recordText.split('\x1e');
      this.recordText = parts.pop();
      this.records.push(...parts);
    }
    const w = this.frameWaiters.shift();
    if (w) w.resolve(f);
    else this.frames.push(f);
  }

  nextFrame(timeoutMs = 10000) {
    if (this.frames.length) return Promise.resolve(this.frames.shift());
    return withTimeout(new Promise((resolve, reject) => this.frameWaiters.push({ resolve, reject })), timeoutMs, 'a WebSocket frame');
  }

  /** The next SignalR JSON record (parsed) satisfying `accept`; earlier ones are dropped. */
  async nextRecord(accept = () => true, timeoutMs = 10000) {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      while (this.records.length) {
        const r = JSON.parse(this.records.shift());
        if (accept(r)) return r;
      }
      this.frames.length = 0;
      await this.nextFrame(Math.max(1, deadline - performance.now()));
    }
  }

  send(opcode, payload) {
    const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
    const mask = randomBytes(4);
    let header;
    if (data.length < 126) {
      header = Buffer.from([0x80 | opcode, 0x80 | data.length]);
    } else if (data.length < 65536) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 126;
      header.writeUInt16BE(data.length, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(data.length), 2);
    }
    const masked = Buffer.alloc(data.length);
    for (let i = 0; i < data.length; ++i) masked[i] = data[i] ^ mask[i & 3];
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  sendRecord(obj) { this.send(1, `${JSON.stringify(obj)}\x1e`); }

  close(code = 1000) {
    const p = Buffer.alloc(2);
    p.writeUInt16BE(code);
    this.send(8, p);
  }
}

// --- suite ------------------------------------------------------------------------------------

before(async () => {
  server = await startServer();
  base = `http://127.0.0.1:${server.port}`;
  watcher = connection({ user: 'watcher', roles: ['Editor'] });
  watcher.on('ReceiveNotification', (n) => watcherNotifications.push(Number(n.sequence)));
  await watcher.start();
  await served('before');
});

after(async () => {
  for (const s of openSockets) s.destroy();
  for (const c of clients) {
    if (c !== watcher) await withTimeout(c.stop(), 10000, 'a client to stop').catch(() => {});
  }
  let received;
  if (watcher) {
    // A round trip: everything sent before it has arrived.
    await withTimeout(watcher.invoke('GetOnlineUsers'), 10000, 'a last round trip').catch(() => {});
    received = [...watcherNotifications];
    await withTimeout(watcher.stop(), 10000, 'the watcher to stop').catch(() => {});
  }
  const { code } = server ? await stopServer(server.child) : { code: 0 };
  if (server) rmSync(server.dataDir, { recursive: true, force: true });
  // Every notification pushed reached the official client exactly once, in order.
  if (received) assert.deepEqual(received, Array.from({ length: pushed }, (_, i) => i + 1), pushedTitles.join(' | '));
  assert.equal(code, 0, 'SIGTERM drains and exits 0');
});

describe('raw HTTP abuse', () => {
  test('garbage bytes: 400, then the server closes', async () => {
    const s = await rawConnect();
    const st = track(s);
    s.write(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]),
      Buffer.from(Array.from({ length: 64 }, (_, i) => ((i * 37 + 11) & 0xff) || 0x20)), Buffer.from('\r\n\r\n')]));
    await served('garbage: during');
    await withTimeout(st.closed, 10000, 'the server to close the garbage connection');
    assert.equal(statusOf(st.text), 400, st.text.slice(0, 80));
    assert.ok(st.endedByPeer, 'the server closed the connection');
    await served('garbage: after');
  });

  test('a request that never completes is cut after the request timeout', async (t) => {
    const s = await rawConnect();
    const st = track(s);
    const t0 = performance.now();
    s.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: half-a-req');
    await served('slow request: during');
    assert.equal(st.closedAt, null, 'still open while the official client is served');
    await withTimeout(st.closed, REQUEST_TIMEOUT_S * 1000 + LATE_SLACK_MS + 2000, 'the request timeout');
    const elapsed = st.closedAt - t0;
    measured(t, `half request cut after ${elapsed.toFixed(0)} ms (limit ${REQUEST_TIMEOUT_S} s)`);
    assert.ok(elapsed >= REQUEST_TIMEOUT_S * 1000 - EARLY_SLACK_MS, `not before the timeout (${elapsed} ms)`);
    assert.ok(elapsed <= REQUEST_TIMEOUT_S * 1000 + LATE_SLACK_MS, `soon after the timeout (${elapsed} ms)`);
    assert.equal(st.text, '', 'no response to a request that never completed');
    await served('slow request: after');
  });

  test('trickling header bytes does not extend the request timeout', async (t) => {
    const s = await rawConnect();
    const st = track(s);
    const t0 = performance.now();
    const request = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'x'.repeat(200);
    let i = 0;
    const trickle = setInterval(() => { if (!s.destroyed && i < request.length) s.write(request[i++]); }, 100);
    try {
      await served('trickle: during');
      await withTimeout(st.closed, REQUEST_TIMEOUT_S * 1000 + LATE_SLACK_MS + 2000, 'the request timeout');
    } finally {
      clearInterval(trickle);
    }
    const elapsed = st.closedAt - t0;
    measured(t, `trickling request cut after ${elapsed.toFixed(0)} ms (${i} bytes sent)`);
    assert.ok(elapsed >= REQUEST_TIMEOUT_S * 1000 - EARLY_SLACK_MS, `not before the timeout (${elapsed} ms)`);
    assert.ok(elapsed <= REQUEST_TIMEOUT_S * 1000 + LATE_SLACK_MS, `soon after the timeout (${elapsed} ms)`);
    await served('trickle: after');
  });

  test('1,000 idle half-open sockets: the official client is served, and all are cut by the request timeout', async (t) => {
    const N = 1000;
    const BATCH = 25; // Qt's listen backlog is 50: connect in batches so that SYNs are not dropped
    const states = [];
    const t0 = performance.now();
    for (let i = 0; i < N; i += BATCH) {
      const batch = await Promise.all(Array.from({ length: Math.min(BATCH, N - i) }, async () => {
        const started = performance.now();
        const s = await rawConnect();
        const st = track(s);
        st.connectedAt = performance.now(); // each socket's own connect time
        st.connectMs = st.connectedAt - started;
        return st;
      }));
      states.push(...batch);
    }
    const allConnected = performance.now();
    const slowConnects = states.filter((st) => st.connectMs > 500).length;
    let closedEvents = 0;
    const allClosed = Promise.all(states.map((st) => st.closed.then(() => { closedEvents += 1; })));
    const during = await served('1000 idle: during');
    const openDuring = states.filter((st) => st.closedAt === null).length;
    measured(t, `${N} sockets connected in ${(allConnected - t0).toFixed(0)} ms (${slowConnects} connects took > 500 ms); official client served in ${during.toFixed(0)} ms with ${openDuring} idle sockets open`);
    assert.ok(openDuring > 0, 'the official client was served while idle sockets were open');
    await withTimeout(allClosed, REQUEST_TIMEOUT_S * 1000 + 15000, `all ${N} idle sockets to be closed`);
    assert.equal(closedEvents, N, 'every idle socket got a close event');
    const lifetimes = states.map((st) => st.closedAt - st.connectedAt);
    const min = Math.min(...lifetimes);
    const max = Math.max(...lifetimes);
    const lastClose = Math.max(...states.map((st) => st.closedAt));
    measured(t, `idle socket lifetimes ${min.toFixed(0)}..${max.toFixed(0)} ms; last closed ${(lastClose - allConnected).toFixed(0)} ms after the last connect`);
    assert.ok(min >= REQUEST_TIMEOUT_S * 1000 - EARLY_SLACK_MS, `none is cut before the timeout (min ${min} ms)`);
    assert.ok(max <= REQUEST_TIMEOUT_S * 1000 + 10000, `all are cut soon after the timeout (max ${max} ms)`);
    assert.ok(states.every((st) => st.chunks.length === 0), 'an idle socket gets no bytes');
    await served('1000 idle: after');
  });

  // These requests are written so that the server has read every byte sent when it refuses; the
  // test at the end covers clients that are still sending (lingering close).
  test('a 64 KB header block is refused with 431', async () => {
    const s = await rawConnect();
    const st = track(s);
    const filler = Array.from({ length: 64 }, (_, i) => `X-Filler-${i}: ${'a'.repeat(1024)}\r\n`).join('');
    assert.ok(filler.length >= 64 * 1024);
    const sent = new Promise((resolve) => s.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n${filler}\r\n`, resolve));
    await served('431: during');
    await withTimeout(st.closed, 10000, 'the server to close after 431');
    assert.equal(statusOf(st.text), 431, `${st.text.slice(0, 80)} ${st.error}`);
    assert.equal((await sent) ?? null, null, 'the whole request was written');
    await served('431: after');
  });

  test('a 2 MB POST body is refused with 413 before it is sent (Content-Length)', async () => {
    const s = await rawConnect();
    const st = track(s);
    const answered = new Promise((resolve) => s.once('data', resolve));
    s.write('POST /api/tenants/t1/users/watcher/notifications HTTP/1.1\r\nHost: 127.0.0.1\r\n'
      + `Authorization: Bearer ${token('pusher', 'ops', ['Service'])}\r\n`
      + `Content-Type: application/json\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`);
    await served('413: during');
    await withTimeout(answered, 10000, 'the 413 to the headers alone');
    assert.equal(statusOf(st.text), 413, st.text.slice(0, 80));
    assert.match(st.text, /\r\nconnection: close\r\n/i);
    // A client that sends the body anyway is not read from: the connection is closed.
    if (!s.destroyed) s.write(Buffer.alloc(2 * 1024 * 1024, 0x61), () => {});
    await withTimeout(st.closed, 10000, 'the server to close after 413');
    await served('413: after');
  });

  test('a chunked POST body growing to 2 MB is refused with 413', async () => {
    const s = await rawConnect();
    const st = track(s);
    s.write('POST /api/tenants/t1/users/watcher/notifications HTTP/1.1\r\nHost: 127.0.0.1\r\n'
      + `Authorization: Bearer ${token('pusher', 'ops', ['Service'])}\r\n`
      + 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    await served('chunked 413: during');
    // 1 MB in 64 KB chunks (the limit), then the size line of one more 1 MB chunk.
    const chunk = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 0x61), Buffer.from('\r\n')]);
    s.write(Buffer.concat([...Array(16).fill(chunk), Buffer.from('100000\r\n')]), () => {});
    await withTimeout(st.closed, 10000, 'the server to close after 413');
    assert.equal(statusOf(st.text), 413, `${st.text.slice(0, 80)} ${st.error}`);
    await served('chunked 413: after');
  });
});

describe('WebSocket abuse', () => {
  test('an upgraded WebSocket that never sends the SignalR handshake is cancelled after the handshake timeout', async (t) => {
    const ws = await RawWebSocket.open('mute');
    const t0 = performance.now();
    await served('no handshake: during');
    const f = await ws.nextFrame(HANDSHAKE_TIMEOUT_S * 1000 + LATE_SLACK_MS + 2000);
    const elapsed = performance.now() - t0;
    measured(t, `handshake cancelled ${elapsed.toFixed(0)} ms after the upgrade (limit ${HANDSHAKE_TIMEOUT_S} s)`);
    assert.equal(f.opcode, 1, 'a text frame');
    assert.equal(f.payload.toString('utf8'), '{"error":"Handshake was canceled."}\x1e');
    assert.ok(elapsed >= HANDSHAKE_TIMEOUT_S * 1000 - EARLY_SLACK_MS, `not before the timeout (${elapsed} ms)`);
    assert.ok(elapsed <= HANDSHAKE_TIMEOUT_S * 1000 + LATE_SLACK_MS, `soon after the timeout (${elapsed} ms)`);
    const close = await ws.nextFrame();
    assert.equal(close.opcode, 8, 'then a close frame');
    assert.equal(close.payload.readUInt16BE(0), 1000);
    ws.close(1000); // complete the closing handshake: the server then closes the TCP connection
    await withTimeout(ws.state.closed, 10000, 'the TCP close after the closing handshake');
    assert.ok(ws.state.endedByPeer, 'the server closed the TCP connection');
    await served('no handshake: after');
  });

  test('clients that never read are cut once their output queue is full; the official client gets every patch in order', async (t) => {
    const doc = 'flood-doc';
    const patchOf = (i) => JSON.stringify({ op: 'insert', i, text: `${i}:`.padEnd(8192, 'x') });
    const updates = [];
    watcher.on('DocumentUpdated', (d, u) => { if (d === doc) updates.push(u); });
    assert.equal(Number(await watcher.invoke('JoinDocument', doc)), 0);
    const writer = connection({ user: 'writer', roles: ['Editor'] });
    await writer.start();
    // Two non-readers whose upgrades are consecutive TCP connections: the server deals connections
    // to its 2 worker threads in turn, so one of them shares the writer's thread (its sends are
    // direct calls inside SendDocumentPatch) and the other is on the other thread (queued sends).
    const users = ['nonreader-a', 'nonreader-b'];
    const negotiated = [];
    for (const u of users) negotiated.push(await RawWebSocket.negotiate(u, ['Viewer']));
    const slow = [];
    for (const n of negotiated) slow.push(await RawWebSocket.upgrade(n));
    for (const ws of slow) {
      ws.send(1, '{"protocol":"json","version":1}\x1e');
      assert.deepEqual(await ws.nextRecord(), {});
      ws.sendRecord({ type: 1, invocationId: '1', target: 'JoinDocument', arguments: [doc] });
      const joined = await ws.nextRecord((r) => r.type === 3 && r.invocationId === '1');
      assert.equal(joined.result, 0);
    }
    // Each non-reader's last connection going away is announced to the tenant (UserLeft).
    const cut = new Set();
    const allCut = Promise.all(users.map((u) => next(watcher, 'UserLeft', (x) => x === u, 60000).then(() => cut.add(u))));
    allCut.catch(() => {});
    for (const ws of slow) ws.socket.pause(); // stop reading

    let sent = 0;
    const send = async (n) => { // at most 4 in flight: see the todo test below
      const versions = await withTimeout(Promise.all(Array.from({ length: n },
        (_, k) => writer.invoke('SendDocumentPatch', doc, patchOf(sent + k + 1)))), 10000, `patches ${sent + 1}..${sent + n}`);
      assert.deepEqual(versions.map(Number), Array.from({ length: n }, (_, k) => sent + k + 1));
      sent += n;
    };
    const MAX_PATCHES = 4000; // 32 MB: far beyond the queue limit plus any socket buffers
    const t0 = performance.now();
    await send(4);
    await served('non-readers: during');
    while (cut.size < users.length && sent < MAX_PATCHES) await send(4);
    assert.equal(cut.size, users.length, `non-readers still connected after ${sent} patches of 8 KB`);
    await allCut;
    const cutAfter = sent;
    measured(t, `both non-readers cut after ${cutAfter} patches (~${(cutAfter * 8.2).toFixed(0)} KB each) in ${(performance.now() - t0).toFixed(0)} ms`);
    await logLine(/does not read \(output queue full\)/);
    // More patches after the cut; the official client receives every one, in order.
    for (let k = 0; k < 5; ++k) await send(4);
    await served('non-readers: after');
    if (updates.length < sent) await next(watcher, 'DocumentUpdated', (d, u) => d === doc && Number(u.version) === sent, 20000);
    assert.deepEqual(updates.map((u) => Number(u.version)), Array.from({ length: sent }, (_, i) => i + 1));
    assert.ok(updates.every((u) => u.patchJson === patchOf(Number(u.version)) && u.authorId === 'writer'));
    // Each non-reader: what the kernel buffered still arrives, then the connection ends, short of
    // the patches sent before the cut and without a SignalR Close (it was aborted, not closed).
    for (const ws of slow) {
      ws.socket.resume();
      await withTimeout(ws.state.closed, 10000, 'the non-reader socket to end');
      const got = ws.records.map((r) => JSON.parse(r)).filter((r) => r.type === 1 && r.target === 'DocumentUpdated');
      measured(t, `a non-reader had ${got.length} of ${cutAfter} patches in its socket buffers`);
      assert.ok(got.length < cutAfter, 'the non-reader did not get everything');
      assert.deepEqual(got.map((r) => Number(r.arguments[1].version)), Array.from({ length: got.length }, (_, i) => i + 1));
      assert.ok(!ws.records.some((r) => JSON.parse(r).type === 7), 'no Close message for an aborted client');
    }
    watcher.off('DocumentUpdated');
    await withTimeout(writer.stop(), 10000, 'the writer to stop');
  });
});

describe('long-polling abuse', () => {
  test('long-polling clients that stop polling are cut once their output buffer is full', async (t) => {
    const doc = 'lp-flood-doc';
    const updates = [];
    watcher.on('DocumentUpdated', (d, u) => { if (d === doc) updates.push(u); });
    assert.equal(Number(await watcher.invoke('JoinDocument', doc)), 0);
    const writer = connection({ user: 'lp-writer', roles: ['Editor'] });
    await writer.start();
    // Two long-polling connections whose first polls are consecutive TCP connections: one lives on
    // each worker thread, so one of them shares the writer's thread.
    const users = ['lp-idle-a', 'lp-idle-b'];
    const lps = [];
    for (const u of users) lps.push(await RawWebSocket.negotiate(u, ['Viewer']));
    for (const lp of lps) {
      const first = await api('GET', `/hubs/notifications?id=${encodeURIComponent(lp.connectionToken)}`, { token: lp.tok });
      assert.equal(first.status, 200, 'the first poll starts the connection');
    }
    const post = (lp, text) => api('POST', `/hubs/notifications?id=${encodeURIComponent(lp.connectionToken)}`, { token: lp.tok, raw: text });
    for (const lp of lps) {
      assert.equal((await post(lp, '{"protocol":"json","version":1}\x1e')).status, 200);
      assert.equal((await post(lp, `{"type":1,"invocationId":"1","target":"JoinDocument","arguments":["${doc}"]}\x1e`)).status, 200);
    }
    const cut = new Set();
    const allCut = Promise.all(users.map((u) => next(watcher, 'UserLeft', (x) => x === u, 60000).then(() => cut.add(u))));
    allCut.catch(() => {});
    // They never poll again.
    let sent = 0;
    const send = async (n) => {
      const versions = await withTimeout(Promise.all(Array.from({ length: n },
        (_, k) => writer.invoke('SendDocumentPatch', doc, `{"i":${sent + k + 1},"t":"${'y'.repeat(8192)}"}`))), 10000, `patches ${sent + 1}..${sent + n}`);
      assert.deepEqual(versions.map(Number), Array.from({ length: n }, (_, k) => sent + k + 1));
      sent += n;
    };
    await send(4);
    await served('idle long polling: during');
    while (cut.size < users.length && sent < 1000) await send(4);
    assert.equal(cut.size, users.length, `long-polling clients still connected after ${sent} patches`);
    measured(t, `both idle long-polling clients cut after ${sent} patches of 8 KB (limit ${MAX_QUEUED_OUTPUT} bytes)`);
    // Each patch message is a little over 8 KB (its JSON envelope), so `sent` patches of exactly
    // MAX_QUEUED_OUTPUT / 8 KB already overflow the buffer.
    assert.ok(sent * 8192 >= MAX_QUEUED_OUTPUT, 'not before the buffer was full');
    assert.ok(sent * 8192 < 4 * MAX_QUEUED_OUTPUT, 'soon after the buffer was full');
    await logLine(/long-polling client is not polling: closing/);
    for (let k = 0; k < 5; ++k) await send(4);
    await served('idle long polling: after');
    if (updates.length < sent) await next(watcher, 'DocumentUpdated', (d, u) => d === doc && Number(u.version) === sent, 20000);
    assert.deepEqual(updates.map((u) => Number(u.version)), Array.from({ length: sent }, (_, i) => i + 1));
    // A poll now finds no connection.
    for (const lp of lps) {
      const late = await api('GET', `/hubs/notifications?id=${encodeURIComponent(lp.connectionToken)}`, { token: lp.tok });
      assert.ok([204, 404].includes(late.status), `a late poll gets ${late.status}`);
    }
    watcher.off('DocumentUpdated');
    await withTimeout(writer.stop(), 10000, 'the writer to stop');
  });
});

describe('limits spare well-behaved clients', () => {
  // The official client queues messages sent while a send is in flight and writes them as ONE
  // WebSocket frame (TransportSendQueue joins them). Each SignalR message here is ~8 KB, far below
  // --max-message-size (32 KB), but 16 of them make a ~130 KB frame. The limit applies per SignalR
  // message, as in ASP.NET Core; frames are bounded like request bodies (1 MiB).
  test('16 pipelined 8 KB invocations (one ~130 KB frame from the official client) are all served',
    async () => {
      const c = connection({ user: 'pipeliner', roles: ['Editor'] });
      await c.start();
      try {
        const patches = Array.from({ length: 16 }, (_, i) => JSON.stringify({ i, text: 'p'.repeat(8192) }));
        const versions = await Promise.all(patches.map((p) => c.invoke('SendDocumentPatch', 'pipeline-doc', p)));
        assert.deepEqual(versions.map(Number), Array.from({ length: 16 }, (_, i) => i + 1));
      } finally {
        await c.stop();
      }
      await served('pipelined: after');
    });
});

describe('refusals reach clients that are still sending', () => {
  // RFC 9112 section 9.6: a server that closes while request bytes are still arriving makes its
  // TCP stack send a reset, which can destroy the response before the client reads it. The server
  // half-closes after the response and drops what still arrives (lingering close); without that,
  // a client that writes a 2 MB body with its headers, as most clients do, mostly got
  // EPIPE/ECONNRESET and never saw the 413.
  test('20 clients writing headers, then a 2 MB body at once, all read the 413', async () => {
    const outcomes = [];
    for (let i = 0; i < 20; ++i) {
      const s = await rawConnect();
      const st = track(s);
      s.write(`POST /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`);
      s.write(Buffer.alloc(2 * 1024 * 1024, 0x61), () => {});
      await withTimeout(st.closed, 10000, 'the server to close');
      outcomes.push(`${statusOf(st.text) || 'no response'}${st.error ? ` (${st.error.code})` : ''}`);
    }
    assert.deepEqual(outcomes.filter((o) => !o.startsWith('413')), [], outcomes.join(', '));
    await served('lingering close: after');
  });
});
