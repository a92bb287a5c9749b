// Conformance of heliograph-server with Microsoft's official JavaScript client
// (@microsoft/signalr + @microsoft/signalr-protocol-msgpack, pinned by package-lock.json).
// Run: HELIOGRAPH_SERVER=/path/to/heliograph-server node --test conformance.test.mjs
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as signalR from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';

const SERVER = process.env.HELIOGRAPH_SERVER;
assert.ok(SERVER, 'set HELIOGRAPH_SERVER to the heliograph-server binary');
const SECRET = randomBytes(32).toString('hex');
let base;
let server;

function startServer(extraArgs = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(SERVER, ['serve', '--listen', '127.0.0.1:0', '--memory', '--threads', '2',
      '--jwt-secret', SECRET, '--data', mkdtempSync(join(tmpdir(), 'hg-')), ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on port (\d+)/.exec(out);
      if (m) resolve({ child, url: `http://127.0.0.1:${m[1]}` });
    });
    child.stderr.on('data', (d) => { if (process.env.HELIOGRAPH_VERBOSE) process.stderr.write(d); });
    child.on('exit', (code) => reject(new Error(`server exited early with ${code}`)));
  });
}

function stopServer(child) {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.kill('SIGTERM');
  });
}

function token(user, tenant, roles = [], extra = []) {
  const args = ['token', '--user', user, '--tenant', tenant, '--secret', SECRET, '--name', user.toUpperCase()];
  for (const r of roles) args.push('--role', r);
  return execFileSync(SERVER, [...args, ...extra]).toString().trim();
}

const b64url = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');
function forge(header, payload, key = SECRET) {
  const signingInput = `${b64url(header)}.${b64url(payload)}`;
  const sig = key === null ? '' : createHmac('sha256', key).update(signingInput).digest('base64url');
  return `${signingInput}.${sig}`;
}
const now = () => Math.floor(Date.now() / 1000);

function connection({ user = 'alice', tenant = 't1', roles = ['Editor'], transport, protocol = 'json',
  accessToken, query = '' } = {}) {
  const tok = accessToken ?? token(user, tenant, roles);
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(`${base}/hubs/notifications${query}`, { transport, accessTokenFactory: () => tok })
    .configureLogging(signalR.LogLevel.None);
  if (protocol === 'messagepack') builder.withHubProtocol(new MessagePackHubProtocol());
  return builder.build();
}

/** Resolves with the arguments of the next `method` invocation on `conn`. */
function next(conn, method, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${method} within ${timeoutMs} ms`)), timeoutMs);
    const handler = (...args) => { clearTimeout(timer); conn.off(method, handler); resolve(args); };
    conn.on(method, handler);
  });
}

function closed(conn) {
  return new Promise((resolve) => conn.onclose((error) => resolve(error)));
}

before(async () => {
  ({ child: server, url: base } = await startServer());
});

after(async () => {
  const { code } = await stopServer(server);
  assert.equal(code, 0, 'SIGTERM drains and exits 0');
});

const T = signalR.HttpTransportType;
const matrix = [
  ['WebSockets', T.WebSockets, 'json'],
  ['WebSockets', T.WebSockets, 'messagepack'],
  ['ServerSentEvents', T.ServerSentEvents, 'json'],
  ['LongPolling', T.LongPolling, 'json'],
  ['LongPolling', T.LongPolling, 'messagepack'],
];

for (const [name, transport, protocol] of matrix) {
  describe(`${name} + ${protocol}`, () => {
    test('connect, acknowledgement, presence', async () => {
      const c = connection({ user: `ack-${name}-${protocol}`, transport, protocol });
      const ack = next(c, 'ConnectionAcknowledged');
      await c.start();
      assert.equal(c.state, signalR.HubConnectionState.Connected);
      const [connectionId, serverTime] = await ack;
      assert.equal(connectionId, c.connectionId);
      assert.ok(Math.abs(new Date(serverTime).getTime() - Date.now()) < 60000);
      const online = await c.invoke('GetOnlineUsers');
      assert.ok(online.some((u) => u.userId === `ack-${name}-${protocol}` && u.connections === 1));
      await c.stop();
      assert.equal(c.state, signalR.HubConnectionState.Disconnected);
    });

    test('documents: versions, broadcast to others, roles', async () => {
      const doc = `doc-${name}-${protocol}`;
      const editor = connection({ user: 'ed', roles: ['Editor'], transport, protocol });
      const viewer = connection({ user: 'vi', roles: ['Viewer'], transport, protocol });
      await editor.start();
      await viewer.start();
      assert.equal(Number(await editor.invoke('JoinDocument', doc)), 0);
      assert.equal(Number(await viewer.invoke('JoinDocument', doc)), 0);
      const update = next(viewer, 'DocumentUpdated');
      assert.equal(Number(await editor.invoke('SendDocumentPatch', doc, '{"op":"insert"}')), 1);
      const [documentId, payload] = await update;
      assert.equal(documentId, doc);
      assert.equal(Number(payload.version), 1);
      assert.equal(payload.patchJson, '{"op":"insert"}');
      assert.equal(payload.authorId, 'ed');
      await assert.rejects(viewer.invoke('SendDocumentPatch', doc, '{}'),
        { message: "Failed to invoke 'SendDocumentPatch' because user is unauthorized" });
      const patches = await viewer.invoke('GetDocumentPatchesSince', doc, 0);
      assert.equal(patches.length, 1);
      await assert.rejects(editor.invoke('NoSuchMethod'),
        { message: "Failed to invoke 'NoSuchMethod' due to an error on the server. HubException: Method does not exist." });
      await editor.stop();
      await viewer.stop();
    });
  });
}

describe('authentication', () => {
  const cases = [
    ['no token', ''],
    ['bad signature', forge({ alg: 'HS256', typ: 'JWT' }, { sub: 'a', tenant_id: 't1', exp: now() + 60 }, 'wrong-key-wrong-key-wrong-key-wrong')],
    ['alg none', forge({ alg: 'none', typ: 'JWT' }, { sub: 'a', tenant_id: 't1', exp: now() + 60 }, null)],
    ['expired', forge({ alg: 'HS256', typ: 'JWT' }, { sub: 'a', tenant_id: 't1', exp: now() - 3600 })],
    ['no tenant', forge({ alg: 'HS256', typ: 'JWT' }, { sub: 'a', exp: now() + 60 })],
  ];
  for (const [label, tok] of cases) {
    for (const [tname, transport] of [['WebSockets', T.WebSockets], ['LongPolling', T.LongPolling]]) {
      test(`${label} is refused (${tname})`, async () => {
        const c = connection({ transport, accessToken: tok });
        await assert.rejects(c.start(), /401|Unauthorized/);
        assert.equal(c.state, signalR.HubConnectionState.Disconnected);
      });
    }
  }
  test('a valid self-made token is accepted', async () => {
    const c = connection({ transport: T.WebSockets, accessToken: forge({ alg: 'HS256', typ: 'JWT' }, { sub: 'selfmade', tenant_id: 't1', exp: now() + 60 }) });
    await c.start();
    await c.stop();
  });
});

describe('isolation and limits', () => {
  test('tenant B never sees tenant A alerts', async () => {
    const adminA = connection({ user: 'rootA', tenant: 'tA', roles: ['Admin'], transport: T.WebSockets });
    const userA = connection({ user: 'uA', tenant: 'tA', transport: T.LongPolling });
    const adminB = connection({ user: 'rootB', tenant: 'tB', roles: ['Admin'], transport: T.WebSockets, protocol: 'messagepack' });
    const userB = connection({ user: 'uB', tenant: 'tB', transport: T.ServerSentEvents });
    for (const c of [adminA, userA, adminB, userB]) await c.start();
    const alertsB = [];
    userB.on('ReceiveSystemAlert', (a) => alertsB.push(a.message));
    const gotA = next(userA, 'ReceiveSystemAlert');
    await adminA.invoke('BroadcastSystemAlert', 'for A only');
    assert.equal((await gotA)[0].message, 'for A only');
    const gotB = next(userB, 'ReceiveSystemAlert');
    await adminB.invoke('BroadcastSystemAlert', 'for B');
    await gotB;
    // Deliveries reach a connection in the order they were sent: A's alert would be first.
    assert.deepEqual(alertsB, ['for B']);
    await assert.rejects(userA.invoke('BroadcastSystemAlert', 'x'), /because user is unauthorized/);
    for (const c of [adminA, userA, adminB, userB]) await c.stop();
  });

  test('an oversize message closes that client only', async () => {
    const big = connection({ user: 'big', transport: T.WebSockets });
    const other = connection({ user: 'other', transport: T.WebSockets });
    await big.start();
    await other.start();
    const bigClosed = closed(big);
    big.send('JoinDocument', 'x'.repeat(40000)).catch(() => {});
    const error = await bigClosed;
    assert.match(String(error), /Connection closed with an error/);
    assert.ok(Array.isArray(await other.invoke('GetOnlineUsers')));
    await other.stop();
  });
});
