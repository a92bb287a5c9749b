// Automatic reconnect across a server restart, with Microsoft's official JavaScript client
// (@microsoft/signalr, pinned by tests/conformance/package-lock.json), black box: SIGTERM drains
// with Close(allowReconnect), the restarted server (same port, same SQLite data, same secret)
// takes the client back, document versions and notification sequences continue from storage,
// and a refused connection (per-user limit) is not retried.
// Run: HELIOGRAPH_SERVER=/path/to/heliograph-server node --test reconnect.test.mjs
// (HELIOGRAPH_VERBOSE=1 echoes the server's log.)
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as signalR from '@microsoft/signalr';

const SERVER = process.env.HELIOGRAPH_SERVER;
assert.ok(SERVER, 'set HELIOGRAPH_SERVER to the heliograph-server binary');
const SECRET = randomBytes(32).toString('hex');
const RETRY_DELAYS = [0, 500, 1000, 1000, 1000, 2000, 2000, 5000];
const S = signalR.HubConnectionState;

const children = new Set(); // server processes still running, killed in after()
const clients = new Set(); // official clients, stopped in after()
const tempDirs = [];

// --- server process ---------------------------------------------------------------------------

/** A port that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Starts on a port that was free a moment ago; another one if it was taken since (exit 4). */
async function startOnFreePort(options) {
  for (let attempt = 1; ; ++attempt) {
    const port = await freePort();
    try {
      return await startServer({ ...options, port });
    } catch (e) {
      if (attempt === 3 || !/exited early with 4:/.test(e.message)) throw e;
    }
  }
}

function startServer({ port = 0, dataDir, memory = false, extraArgs = [] }) {
  return new Promise((resolve, reject) => {
    const args = ['serve', '--listen', `127.0.0.1:${port}`, '--threads', '2', '--jwt-secret', SECRET,
      '--data', dataDir, ...(memory ? ['--memory'] : ['--storage', 'sqlite']), ...extraArgs];
    const child = spawn(SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const log = [];
    let out = '';
    let partial = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on port (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), url: `http://127.0.0.1:${m[1]}`, log });
    });
    child.stderr.on('data', (d) => {
      if (process.env.HELIOGRAPH_VERBOSE) process.stderr.write(d);
      const lines = (partial + d).split('\n');
      partial = lines.pop();
      log.push(...lines);
    });
    child.on('exit', (code, signal) => {
      children.delete(child);
      reject(new Error(`server exited early with ${code ?? signal}: ${log.slice(-3).join(' | ')}`));
    });
  });
}

/** SIGTERM, resolves with how the process ended. */
function stopServer(child, timeoutMs = 15000) {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    if (child.exitCode !== null || child.signalCode !== null) {
      children.delete(child);
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    // A server that does not drain in time is killed, and reported as such.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => { clearTimeout(timer); children.delete(child); resolve({ code, signal }); });
    child.kill('SIGTERM');
  });
}

after(async () => {
  for (const c of clients) await c.stop().catch(() => {});
  for (const child of [...children]) child.kill('SIGKILL');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

// --- clients ----------------------------------------------------------------------------------

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

/**
 * An official client over WebSockets. `log` collects the client's own log (with message content),
 * which shows the Close message it received.
 */
function connection(url, { user, tenant = 't1', roles = ['Editor'], query = '', reconnect, beforeToken,
  transport = signalR.HttpTransportType.WebSockets } = {}) {
  const tok = token(user, tenant, roles);
  const log = [];
  // `beforeToken`: awaited before each (re)connect hands out the token, to order a retry.
  const accessTokenFactory = beforeToken ? async () => { await beforeToken(); return tok; } : () => tok;
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(`${url}/hubs/notifications${query}`, {
      transport, accessTokenFactory, logMessageContent: true,
    })
    .configureLogging({ log: (level, message) => log.push(message) });
  if (reconnect) builder.withAutomaticReconnect(reconnect);
  const c = builder.build();
  c.log = log;
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

/** Pushes a notification through the push API; resolves with its sequence. */
async function push(url, tenant, user, title) {
  const res = await fetch(`${url}/api/tenants/${tenant}/users/${user}/notifications`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token('pusher', 'ops', ['Service'])}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ title }),
  });
  const json = await res.json();
  assert.equal(res.status, 202, JSON.stringify(json));
  return json.sequence;
}

/** The Close messages a client logged receiving (content logging is on). */
function closeMessages(c) {
  return c.log.flatMap((line) => [...line.matchAll(/\{"type":7[^}]*\}/g)].map((m) => JSON.parse(m[0])));
}

/** Collects the sequences of ReceiveNotification on `c`. */
function collect(c) {
  const seqs = [];
  c.on('ReceiveNotification', (n) => seqs.push(Number(n.sequence)));
  return seqs;
}

// --- tests ------------------------------------------------------------------------------------

describe('restart', () => {
  test('SIGTERM: Close(allowReconnect), automatic reconnect to the restarted server, state from storage', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hg-reconnect-'));
    tempDirs.push(dataDir);
    let srv = await startOnFreePort({ dataDir });
    const { port } = srv; // fixed from now on: the client's URL names it
    assert.ok(existsSync(join(dataDir, 'heliograph.db')), 'SQLite storage in the data dir');
    const doc = 'survivor-doc';

    // A: the automatically reconnecting client, a member of a document.
    const a = connection(srv.url, { user: 'roamer', reconnect: RETRY_DELAYS });
    const aSeqs = collect(a);
    const aGot2 = next(a, 'ReceiveNotification', (n) => Number(n.sequence) === 2);
    await a.start();
    const firstId = a.connectionId;
    assert.equal(Number(await a.invoke('JoinDocument', doc)), 0);
    for (let v = 1; v <= 3; ++v) assert.equal(Number(await a.invoke('SendDocumentPatch', doc, `{"v":${v}}`)), v);
    assert.equal(await push(srv.url, 't1', 'roamer', 'r1'), 1);
    assert.equal(await push(srv.url, 't1', 'roamer', 'r2'), 2);
    await aGot2;

    // B: a plain client (no automatic reconnect) that sees notifications 1 and 2 live.
    const b = connection(srv.url, { user: 'returner' });
    const bSeqs = collect(b);
    const bGot2 = next(b, 'ReceiveNotification', (n) => Number(n.sequence) === 2);
    await b.start();
    assert.equal(await push(srv.url, 't1', 'returner', 'b1'), 1);
    assert.equal(await push(srv.url, 't1', 'returner', 'b2'), 2);
    await bGot2;
    const lastSeenByB = bSeqs.at(-1);
    assert.equal(lastSeenByB, 2);
    const bClosed = new Promise((resolve) => b.onclose(resolve));

    let reconnectingCalls = 0;
    let closedA = false;
    const reconnecting = new Promise((resolve) => a.onreconnecting((error) => { reconnectingCalls += 1; resolve({ error, at: performance.now() }); }));
    a.onclose(() => { closedA = true; });
    // The application-level rejoin runs in onreconnected, as an app would do it.
    const reconnected = new Promise((resolve) => a.onreconnected((id) => {
      resolve({ id, at: performance.now(), rejoin: a.invoke('JoinDocument', doc) });
    }));

    // Stop: SIGTERM drains (Close with allowReconnect to everyone) and exits 0.
    const tStop = performance.now();
    const { code, signal } = await withTimeout(stopServer(srv.child), 15000, 'the server to exit on SIGTERM');
    assert.equal(signal, null);
    assert.equal(code, 0, 'SIGTERM drains and exits 0');
    const r1 = await withTimeout(reconnecting, 10000, 'onreconnecting');
    t.diagnostic(`measured: server exited ${(performance.now() - tStop).toFixed(0)} ms after SIGTERM; onreconnecting after ${(r1.at - tStop).toFixed(0)} ms`);
    assert.equal(r1.error, undefined, 'a clean Close, not a transport failure');
    assert.ok(a.state === S.Reconnecting, `A is Reconnecting, not ${a.state}`);
    assert.deepEqual(closeMessages(a), [{ type: 7, allowReconnect: true }], 'A received Close with allowReconnect');
    assert.equal(await withTimeout(bClosed, 10000, 'B onclose'), undefined);
    assert.equal(b.state, S.Disconnected, 'B has no reconnect policy');
    assert.deepEqual(closeMessages(b), [{ type: 7, allowReconnect: true }]);

    // Nothing is pushed while the server is down. Restart: same port, data and secret.
    const tRestart = performance.now();
    srv = await startServer({ port, dataDir });
    const listening = performance.now() - tRestart;
    assert.equal(srv.port, port);
    const r2 = await withTimeout(reconnected, 20000, 'onreconnected');
    t.diagnostic(`measured: restart took ${listening.toFixed(0)} ms to listen; reconnected ${(r2.at - tRestart).toFixed(0)} ms after the restart began, ${(r2.at - tStop).toFixed(0)} ms after SIGTERM`);
    assert.equal(a.state, S.Connected);
    assert.equal(reconnectingCalls, 1);
    assert.equal(closedA, false, 'onclose never fired for A');
    assert.ok(r2.id && r2.id !== firstId, 'a new connection id');
    assert.equal(r2.id, a.connectionId);
    assert.equal(Number(await r2.rejoin), 3, 'the rejoin sees the stored version');
    assert.equal(Number(await a.invoke('SendDocumentPatch', doc, '{"v":4}')), 4, 'versions continue from storage');
    const patches = await a.invoke('GetDocumentPatchesSince', doc, 0);
    assert.deepEqual(patches.map((p) => [Number(p.version), p.patchJson, p.authorId]),
      [1, 2, 3, 4].map((v) => [v, `{"v":${v}}`, 'roamer']));

    // A gets new notifications live, once: no replay of what it saw before the restart.
    const aGot3 = next(a, 'ReceiveNotification', (n) => Number(n.sequence) === 3);
    assert.equal(await push(srv.url, 't1', 'roamer', 'r3'), 3, 'sequences continue from storage');
    await aGot3;
    await a.invoke('GetOnlineUsers'); // a round trip: anything sent before it has arrived
    assert.deepEqual(aSeqs, [1, 2, 3]);

    // B was away: three notifications are stored; a fresh connection with ?lastSequence=N gets
    // exactly those, in order, then live ones.
    for (const title of ['away 1', 'away 2', 'away 3']) await push(srv.url, 't1', 'returner', title);
    const b2 = connection(srv.url, { user: 'returner', query: `?lastSequence=${lastSeenByB}` });
    const b2Seqs = collect(b2);
    const b2Got5 = next(b2, 'ReceiveNotification', (n) => Number(n.sequence) === 5);
    await b2.start();
    await b2Got5;
    const b2Got6 = next(b2, 'ReceiveNotification', (n) => Number(n.sequence) === 6);
    assert.equal(await push(srv.url, 't1', 'returner', 'live'), 6);
    await b2Got6;
    await b2.invoke('GetOnlineUsers');
    assert.deepEqual(b2Seqs, [3, 4, 5, 6], 'replayed exactly once, in order, then live');

    await a.stop();
    await b2.stop();
    assert.equal(a.state, S.Disconnected);
    const stopped = await withTimeout(stopServer(srv.child), 15000, 'the restarted server to exit');
    assert.equal(stopped.code, 0);
  });
});

describe('drain on SIGTERM, other transports', () => {
  // The WebSockets case is the restart test above. Five rounds each: a Close lost in a race would
  // show up. LongPolling: the Close waits in the transport for the client's next poll; the drain
  // gives long-polling clients up to 2 s to fetch it.
  for (const name of ['ServerSentEvents', 'LongPolling']) {
    test(`${name}: SIGTERM sends Close(allowReconnect), the client reconnects`, async () => {
      const outcomes = [];
      for (let round = 1; round <= 5; ++round) {
        const dataDir = mkdtempSync(join(tmpdir(), 'hg-drain-'));
        tempDirs.push(dataDir);
        const srv = await startServer({ dataDir, memory: true });
        const c = connection(srv.url, { user: 'drained', transport: signalR.HttpTransportType[name], reconnect: [0, 60000] });
        await c.start();
        await c.invoke('GetOnlineUsers');
        const reconnecting = new Promise((resolve) => c.onreconnecting(resolve));
        assert.equal((await withTimeout(stopServer(srv.child), 15000, 'SIGTERM')).code, 0);
        await withTimeout(reconnecting, 10000, 'onreconnecting');
        outcomes.push(JSON.stringify(closeMessages(c)));
        await c.stop(); // in the 60 s retry delay: stops at once
      }
      assert.deepEqual(outcomes, Array(5).fill(JSON.stringify([{ type: 7, allowReconnect: true }])));
    });
  }
});

describe('refused connections', () => {
  test('over --max-connections-per-user: 429 at negotiate, the first connection unaffected', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hg-limit-'));
    tempDirs.push(dataDir);
    const srv = await startServer({ dataDir, memory: true, extraArgs: ['--max-connections-per-user', '1'] });
    const first = connection(srv.url, { user: 'solo' });
    await first.start();

    // The limit counts negotiated and started connections in one step: the second one is
    // refused before it exists, with 429 Too Many Requests.
    const second = connection(srv.url, { user: 'solo', reconnect: RETRY_DELAYS });
    let reconnectingCalls = 0;
    second.onreconnecting(() => { reconnectingCalls += 1; });
    await assert.rejects(second.start(), /Status code '429'/);
    assert.equal(second.state, S.Disconnected);
    assert.equal(reconnectingCalls, 0, 'a failed start() does not reconnect');
    // The first connection is unaffected, and the server counts one connection for the user.
    const online = await first.invoke('GetOnlineUsers');
    assert.deepEqual(online.map((u) => [u.userId, u.connections]), [['solo', 1]]);
    // The server's text says why (the official client reports the status line only).
    const res = await fetch(`${srv.url}/hubs/notifications/negotiate?negotiateVersion=1`, {
      method: 'POST', headers: { Authorization: `Bearer ${token('solo', 't1', ['Editor'])}` },
    });
    assert.equal(res.status, 429);
    assert.equal(await res.text(), 'Too many connections for this user (the limit is 1).');
    await first.stop();
    // Its place is free again once the server has seen the close: the official client's stop()
    // resolves when it has sent its close frame, not when the server has read it. So a new
    // connection is refused with 429 at most until then, and gets in after.
    const third = connection(srv.url, { user: 'solo' });
    const deadline = Date.now() + 10000;
    for (;;) {
      try {
        await third.start();
        break;
      } catch (e) {
        assert.match(String(e), /Status code '429'/);
        if (Date.now() > deadline) throw e;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    assert.equal(third.state, S.Connected);
    await third.stop();
    const { code } = await stopServer(srv.child);
    assert.equal(code, 0);
  });
  test('a reconnect refused by the per-user limit retries, and gets in once a place is free', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hg-limit-'));
    tempDirs.push(dataDir);
    let srv = await startOnFreePort({ dataDir, memory: true, extraArgs: ['--max-connections-per-user', '1'] });
    const options = { port: srv.port, dataDir, memory: true, extraArgs: ['--max-connections-per-user', '1'] };
    // A's retries wait for their token until B holds the user's only connection: the order of
    // the two connections on the restarted server is then fixed.
    let gate = Promise.resolve();
    let tokenAsked;
    const asked = new Promise((resolve) => { tokenAsked = resolve; });
    const a = connection(srv.url, { user: 'duo', reconnect: [0, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200], beforeToken: () => { tokenAsked(); return gate; } });
    await a.start();
    let reconnectingCalls = 0;
    const reconnecting = new Promise((resolve) => a.onreconnecting(() => { reconnectingCalls += 1; resolve(); }));
    const reconnected = new Promise((resolve) => a.onreconnected(resolve));
    let release;
    gate = new Promise((resolve) => { release = resolve; });

    assert.equal((await withTimeout(stopServer(srv.child), 15000, 'SIGTERM')).code, 0);
    await withTimeout(reconnecting, 10000, 'onreconnecting');
    await withTimeout(asked, 10000, "A's first retry to ask for its token");
    srv = await startServer(options);
    const b = connection(srv.url, { user: 'duo' });
    await b.start();
    // A's retries are refused while B holds the place (429 at negotiate)...
    const refusedOnce = new Promise((resolve) => {
      const timer = setInterval(() => {
        if (a.log.some((line) => /Status code '429'/.test(line))) { clearInterval(timer); resolve(); }
      }, 20);
    });
    release();
    await withTimeout(refusedOnce, 10000, "A's retry to be refused with 429");
    assert.equal(a.state, S.Reconnecting);
    const online = await b.invoke('GetOnlineUsers');
    assert.deepEqual(online.map((u) => [u.userId, u.connections]), [['duo', 1]]);
    // ... and succeed once B has gone.
    await b.stop();
    await withTimeout(reconnected, 15000, 'A to reconnect');
    assert.equal(a.state, S.Connected);
    assert.equal(reconnectingCalls, 1);
    const closes = closeMessages(a);
    assert.equal(closes.length, 1, JSON.stringify(closes));
    assert.equal(closes[0].allowReconnect, true, 'the drain allowed reconnecting');
    await a.stop();
    assert.equal((await stopServer(srv.child)).code, 0);
  });
});

