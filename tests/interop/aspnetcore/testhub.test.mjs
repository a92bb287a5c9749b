// What Microsoft's official JavaScript client (@microsoft/signalr + signalr-protocol-msgpack,
// pinned by tests/conformance/package-lock.json) sees of every method of the ASP.NET Core interop
// test hub (tests/interop/aspnetcore, README.md there), over WebSockets, Server-Sent Events (JSON
// only) and long polling, with both protocols. Each check pins the value the client gets and the
// bytes of the server's answer, so the Qt client's interop tests can assert the same.
// Run: HELIOGRAPH_INTEROP_TESTHUB_DLL=/path/to/InteropTestHub.dll node --test testhub.test.mjs
// (HELIOGRAPH_DOTNET: the dotnet executable, default `dotnet`; HELIOGRAPH_VERBOSE=1 echoes the
// server's log and the client's warnings.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as signalR from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { decode } from '@msgpack/msgpack';

const DLL = process.env.HELIOGRAPH_INTEROP_TESTHUB_DLL;
assert.ok(DLL, 'set HELIOGRAPH_INTEROP_TESTHUB_DLL to InteropTestHub.dll');
const DOTNET = process.env.HELIOGRAPH_DOTNET || 'dotnet';
const VERBOSE = !!process.env.HELIOGRAPH_VERBOSE;
const T = signalR.HttpTransportType;

// --- the server process -----------------------------------------------------------------------

let server; // { child, url, stdout, log }

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(DOTNET, [DLL, '--urls', 'http://127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' },
    });
    const s = { child, url: null, stdout: '', log: [] };
    child.stdout.on('data', (d) => {
      s.stdout += d;
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(s.stdout);
      if (m && !s.url) {
        s.url = m[1];
        resolve(s);
      }
    });
    child.stderr.on('data', (d) => {
      if (VERBOSE) process.stderr.write(d);
      s.log.push(String(d));
      if (s.log.length > 200) s.log.shift();
    });
    child.on('exit', (code, signal) => {
      reject(new Error(`server exited early with ${code ?? signal}: ${s.log.join('').slice(-2000)}`));
    });
  });
}

/** SIGTERM; resolves with how the process ended (SIGKILL after 20 s). */
function stopServer(child) {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal }); });
    child.kill('SIGTERM');
  });
}

before(async () => { server = await startServer(); });

const clients = new Set();
after(async () => {
  for (const c of clients) await c.stop().catch(() => {});
  if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
});

// --- wire capture -----------------------------------------------------------------------------

/** Splits what a transport delivered into frames: JSON text records, MessagePack bodies (hex). */
function splitFrames(input) {
  if (typeof input === 'string') return input.split('\x1e').filter((s) => s.length > 0);
  const bytes = Buffer.from(input);
  const frames = [];
  for (let i = 0; i < bytes.length;) {
    let length = 0;
    let shift = 0;
    let b;
    do {
      b = bytes[i++];
      length += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    frames.push(bytes.subarray(i, i + length).toString('hex'));
    i += length;
  }
  return frames;
}

function mapBigInts(value, f) {
  if (typeof value === 'bigint') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapBigInts(v, f));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapBigInts(v, f)]));
  return value;
}

/**
 * The official protocol, plus: every frame the server sent is recorded (`frames`), and BigInt
 * arguments are written as exact 64-bit integers, which neither official protocol can do (a JS
 * number is a double): as their digits in JSON; in MessagePack as `cf`/`d3` + 8 bytes, in place of
 * a same-length placeholder the official encoder wrote.
 */
class WireProtocol {
  constructor(protocol) {
    this.inner = protocol === 'json' ? new signalR.JsonHubProtocol() : new MessagePackHubProtocol();
    this.name = this.inner.name;
    this.version = this.inner.version;
    this.transferFormat = this.inner.transferFormat;
    this.frames = [];
  }

  parseMessages(input, logger) {
    this.frames.push(...splitFrames(input));
    return this.inner.parseMessages(input, logger);
  }

  writeMessage(message) {
    const bigints = [];
    const placeholder = (v) => {
      bigints.push(v);
      return this.name === 'json' ? `@bigint:${v}@` : 2 ** 52 + bigints.length; // cf 00 10 00 .. nn
    };
    const out = this.inner.writeMessage(mapBigInts(message, placeholder));
    if (bigints.length === 0) return out;
    if (this.name === 'json') return out.replace(/"@bigint:(-?\d+)@"/g, '$1');
    const bytes = Buffer.from(out);
    bigints.forEach((v, i) => {
      const from = Buffer.alloc(9);
      from[0] = 0xcf;
      from.writeBigUInt64BE(BigInt(2 ** 52 + i + 1), 1);
      const to = Buffer.alloc(9);
      to[0] = v < 0n ? 0xd3 : 0xcf;
      to.writeBigUInt64BE(BigInt.asUintN(64, v), 1);
      const at = bytes.indexOf(from);
      assert.ok(at >= 0, 'BigInt placeholder not found');
      to.copy(bytes, at);
    });
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  }
}

/** The type of a recorded frame. */
function frameType(frame, protocol) {
  return protocol === 'json' ? JSON.parse(frame).type : decode(Buffer.from(frame, 'hex'))[0];
}

/** The invocation id of a recorded StreamItem or Completion frame. */
function frameId(frame, protocol) {
  return protocol === 'json' ? JSON.parse(frame).invocationId : decode(Buffer.from(frame, 'hex'))[2];
}

/**
 * What a Completion frame carries, as raw wire text: JSON `{ result: '<raw JSON>' }` or
 * `{ error: '...' }` or `{}`; MessagePack `{ kind, result: '<hex of the result item>' }`.
 */
function completionWire(frame, protocol) {
  if (protocol === 'json') {
    const m = /^\{"type":3,"invocationId":"\d+"(?:,"result":([\s\S]*)|,"error":("(?:[^"\\]|\\.)*"))?\}$/.exec(frame);
    assert.ok(m, `unexpected completion frame ${frame}`);
    if (m[1] !== undefined) return { result: m[1] };
    if (m[2] !== undefined) return { error: JSON.parse(m[2]) };
    return {};
  }
  const [type, headers, id, kind] = decode(Buffer.from(frame, 'hex'));
  assert.equal(type, 3);
  assert.deepEqual(headers, {});
  // array header, type, empty map, fixstr id, kind
  const prefix = 1 + 1 + 1 + 1 + Buffer.byteLength(id) + 1;
  const out = { kind };
  if (kind !== 2) out.result = frame.slice(2 * prefix);
  return out;
}

// --- clients ----------------------------------------------------------------------------------

const clientLogger = {
  log(level, message) {
    if (VERBOSE && level >= signalR.LogLevel.Warning) console.error(`[client] ${message}`);
  },
};

/** A started official client; `wire.frames` collects what the server sends it. */
async function connect({ path = '/hubs/test', transport, protocol, reconnect = false, stateful = false,
  accessTokenFactory, start = true } = {}) {
  const wire = new WireProtocol(protocol);
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(`${server.url}${path}`, { transport, accessTokenFactory })
    .withHubProtocol(wire)
    .configureLogging(clientLogger);
  if (reconnect) builder.withAutomaticReconnect([0, 100, 500]);
  if (stateful) builder.withStatefulReconnect();
  const conn = builder.build();
  clients.add(conn);
  if (start) await conn.start();
  return { conn, wire };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(predicate, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * Invokes `method(...args)` and returns the value (or the error text) the client got together
 * with the server's frames for it: `completion` (see completionWire) and everything else it sent
 * meanwhile (`others`, pings left out).
 */
async function call({ conn, wire }, method, ...args) {
  const first = wire.frames.length;
  let value;
  let error;
  try {
    value = await conn.invoke(method, ...args);
  } catch (e) {
    error = e.message;
  }
  const protocol = wire.name;
  const frames = wire.frames.slice(first).filter((f) => frameType(f, protocol) !== 6);
  const completions = frames.filter((f) => frameType(f, protocol) === 3);
  assert.equal(completions.length, 1, `one Completion for ${method}: ${frames.join(' | ')}`);
  return {
    value, error, completion: completionWire(completions[0], protocol),
    others: frames.filter((f) => frameType(f, protocol) !== 3),
  };
}

/** Asserts what the client gets for `method(...args)`: `js` and the wire form `json`/`msgpack`. */
async function expectResult(client, method, args, { js, json, msgpack }) {
  const r = await call(client, method, ...args);
  assert.equal(r.error, undefined, `${method}: ${r.error}`);
  assert.deepEqual(r.value, js, `${method}(${args.map(String)}) as the client sees it`);
  if (client.wire.name === 'json') assert.equal(r.completion.result, json, `${method}: JSON wire`);
  else assert.deepEqual(r.completion, { kind: 3, result: msgpack }, `${method}: MessagePack wire`);
}

/** Asserts that `method(...args)` fails with exactly `text` (the Completion's error). */
async function expectError(client, method, args, text) {
  const r = await call(client, method, ...args);
  assert.equal(r.error, text);
  if (client.wire.name === 'json') assert.deepEqual(r.completion, { error: text });
  else assert.equal(r.completion.kind, 1);
}

const hex = (s) => Buffer.from(s).toString('hex');
/** MessagePack float64. */
const f64 = (x) => {
  const b = Buffer.alloc(9);
  b[0] = 0xcb;
  b.writeDoubleBE(x, 1);
  return b.toString('hex');
};
/** MessagePack str header + UTF-8 bytes, for strings below 256 bytes. */
const mpStr = (s) => {
  const n = Buffer.byteLength(s);
  return (n < 32 ? (0xa0 + n).toString(16) : `d9${n.toString(16).padStart(2, '0')}`) + hex(s);
};

// --- values -----------------------------------------------------------------------------------

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const UINT64_MAX = 18446744073709551615n;
const UNICODE = 'héllo wörld ✓ 😀 <&> "q" \\ \n\t \u0001 \u007f \u2028';
// System.Text.Json's writer as SignalR configures it: characters outside the BMP as escaped
// surrogate pairs; control characters (also DEL), U+2028, quote and backslash escaped with
// upper-case hex; everything else raw, including <&>.
const UNICODE_JSON = '"héllo wörld ✓ \\uD83D\\uDE00 <&> \\"q\\" \\\\ \\n\\t \\u0001 \\u007F \\u2028"';
const NESTED = { a: 39, b: [1, -32, 'two', 3.5, null, true, { c: {} }], '': 'e', 'ü': [] };
const PERSON = { name: 'Ann', age: 42, tags: ['a', 'b'], address: { city: 'Zürich', zip: '8000' } };

const COMBOS = [
  { transport: T.WebSockets, protocol: 'json' },
  { transport: T.WebSockets, protocol: 'messagepack' },
  { transport: T.ServerSentEvents, protocol: 'json' },
  { transport: T.LongPolling, protocol: 'json' },
  { transport: T.LongPolling, protocol: 'messagepack' },
];

for (const { transport, protocol } of COMBOS) {
  const name = T[transport];
  const mp = protocol === 'messagepack';
  describe(`${name} ${protocol}`, () => {
    let c; // one connection for the request/response checks
    before(async () => { c = await connect({ transport, protocol }); });
    after(async () => { await c.conn.stop(); });

    test('GetConnectionInfo reports the negotiated transport and protocol', async () => {
      const r = await call(c, 'GetConnectionInfo');
      assert.deepEqual(Object.keys(r.value), ['connectionId', 'transport', 'protocol', 'userAgent']);
      assert.equal(r.value.connectionId, c.conn.connectionId);
      assert.equal(r.value.transport, name);
      assert.equal(r.value.protocol, protocol);
      assert.match(r.value.userAgent, /^Microsoft SignalR\/10\.0 \(10\.0\.11; /);
    });

    test('Echo returns every value kind as received', async () => {
      const cases = [
        [39, 39, '39', '27'],
        [-32, -32, '-32', 'e0'],
        [0, 0, '0', '00'],
        [4294967296, 4294967296, '4294967296', 'cf0000000100000000'],
        [INT64_MAX, Number(INT64_MAX), '9223372036854775807', 'cf7fffffffffffffff'],
        [INT64_MIN, Number(INT64_MIN), '-9223372036854775808', 'd38000000000000000'],
        [UINT64_MAX, Number(UINT64_MAX), '18446744073709551615', 'cfffffffffffffffff'],
        [3.5, 3.5, '3.5', f64(3.5)],
        [0.1, 0.1, '0.1', f64(0.1)],
        [-1.5e300, -1.5e300, '-1.5e+300', f64(-1.5e300)],
        [true, true, 'true', 'c3'],
        [false, false, 'false', 'c2'],
        [null, null, 'null', 'c0'],
        ['', '', '""', 'a0'],
        [UNICODE, UNICODE, UNICODE_JSON, mpStr(UNICODE)],
        [[], [], '[]', '90'],
        [{}, {}, '{}', '80'],
        // Inside an object graph MessagePack-CSharp writes small integers in fixed-width forms
        // (cc 27 for 39, d0 e0 for -32), not the compact ones it uses at the top level.
        [NESTED, NESTED, '{"a":39,"b":[1,-32,"two",3.5,null,true,{"c":{}}],"":"e","ü":[]}',
          `84${mpStr('a')}cc27${mpStr('b')}97cc01d0e0${mpStr('two')}${f64(3.5)}c0c381${mpStr('c')}80`
          + `${mpStr('')}${mpStr('e')}${mpStr('ü')}90`],
      ];
      for (const [arg, js, json, msgpack] of cases) await expectResult(c, 'Echo', [arg], { js, json, msgpack });
      if (mp) {
        // Binary is a MessagePack bin; in JSON a client can only send base64 text, echoed as text.
        await expectResult(c, 'Echo', [new Uint8Array([0, 1, 2, 255])],
          { js: new Uint8Array([0, 1, 2, 255]), msgpack: 'c404000102ff' });
        await expectResult(c, 'Echo', [NaN], { js: NaN, msgpack: f64(NaN) });
        await expectResult(c, 'Echo', [-Infinity], { js: -Infinity, msgpack: f64(-Infinity) });
      } else {
        await expectResult(c, 'Echo', ['AAEC/w=='], { js: 'AAEC/w==', json: '"AAEC/w=="' });
      }
    });

    test('typed echoes', async () => {
      await expectResult(c, 'EchoLong', [1], { js: 1, json: '1', msgpack: '01' });
      await expectResult(c, 'EchoLong', [INT64_MAX], { js: Number(INT64_MAX), json: '9223372036854775807', msgpack: 'cf7fffffffffffffff' });
      await expectResult(c, 'EchoLong', [INT64_MIN], { js: Number(INT64_MIN), json: '-9223372036854775808', msgpack: 'd38000000000000000' });
      await expectResult(c, 'EchoLong', [-129], { js: -129, json: '-129', msgpack: 'd1ff7f' });
      // A double keeps its type in MessagePack (float64 even for 42); JSON writes 42 as `42`.
      await expectResult(c, 'EchoDouble', [42], { js: 42, json: '42', msgpack: f64(42) });
      await expectResult(c, 'EchoDouble', [0.1], { js: 0.1, json: '0.1', msgpack: f64(0.1) });
      await expectResult(c, 'EchoDouble', [-0.5], { js: -0.5, json: '-0.5', msgpack: f64(-0.5) });
      if (mp) {
        await expectResult(c, 'EchoDouble', [NaN], { js: NaN, msgpack: f64(NaN) });
        await expectResult(c, 'EchoDouble', [Infinity], { js: Infinity, msgpack: f64(Infinity) });
      }
      await expectResult(c, 'EchoString', [UNICODE], { js: UNICODE, json: UNICODE_JSON, msgpack: mpStr(UNICODE) });
      await expectResult(c, 'EchoString', [''], { js: '', json: '""', msgpack: 'a0' });
      await expectResult(c, 'EchoString', [null], { js: null, json: 'null', msgpack: 'c0' });
      if (mp) {
        await expectResult(c, 'EchoBytes', [new Uint8Array([0, 1, 2, 255])], { js: new Uint8Array([0, 1, 2, 255]), msgpack: 'c404000102ff' });
        await expectResult(c, 'EchoBytes', [new Uint8Array([])], { js: new Uint8Array([]), msgpack: 'c400' });
      } else {
        // byte[] in JSON is base64 text, both ways.
        await expectResult(c, 'EchoBytes', ['AAEC/w=='], { js: 'AAEC/w==', json: '"AAEC/w=="' });
        await expectResult(c, 'EchoBytes', [''], { js: '', json: '""' });
      }
      await expectResult(c, 'EchoBytes', [null], { js: null, json: 'null', msgpack: 'c0' });
    });

    test('EchoPerson: camelCase keys in both protocols', async () => {
      const personMp = `84${mpStr('name')}${mpStr('Ann')}${mpStr('age')}2a${mpStr('tags')}92${mpStr('a')}${mpStr('b')}`
        + `${mpStr('address')}82${mpStr('city')}${mpStr('Zürich')}${mpStr('zip')}${mpStr('8000')}`;
      await expectResult(c, 'EchoPerson', [PERSON], {
        js: PERSON,
        json: '{"name":"Ann","age":42,"tags":["a","b"],"address":{"city":"Zürich","zip":"8000"}}',
        msgpack: personMp,
      });
      const homeless = { name: 'Bo', age: -1, tags: [], address: null };
      await expectResult(c, 'EchoPerson', [homeless], {
        js: homeless,
        json: '{"name":"Bo","age":-1,"tags":[],"address":null}',
        msgpack: `84${mpStr('name')}${mpStr('Bo')}${mpStr('age')}ff${mpStr('tags')}90${mpStr('address')}c0`,
      });
      // Keys in another case: JSON binds them (case-insensitive); MessagePack matches keys
      // exactly, so they are ignored and the members keep their defaults.
      const pascal = { Name: 'Ann', Age: 42, Tags: ['a', 'b'], Address: { City: 'Zürich', Zip: '8000' } };
      if (mp) {
        await expectResult(c, 'EchoPerson', [pascal], {
          js: { name: null, age: 0, tags: null, address: null },
          msgpack: `84${mpStr('name')}c0${mpStr('age')}00${mpStr('tags')}c0${mpStr('address')}c0`,
        });
      } else {
        await expectResult(c, 'EchoPerson', [pascal], {
          js: PERSON, json: '{"name":"Ann","age":42,"tags":["a","b"],"address":{"city":"Zürich","zip":"8000"}}',
        });
      }
    });

    test('Add, NoResult, binding errors', async () => {
      await expectResult(c, 'Add', [2, 3], { js: 5, json: '5', msgpack: '05' });
      await expectResult(c, 'Add', [2147483647, 1], { js: -2147483648, json: '-2147483648', msgpack: 'd280000000' });
      // A void method completes with a null result (MessagePack: result kind 3, nil).
      await expectResult(c, 'NoResult', [], { js: null, json: 'null', msgpack: 'c0' });
      await expectError(c, 'Add', ['x', 1], "Failed to invoke 'Add' due to an error on the server.");
      await expectError(c, 'Add', [1], "Failed to invoke 'Add' due to an error on the server.");
      await expectError(c, 'NoSuchMethod', [], "Failed to invoke 'NoSuchMethod' due to an error on the server. HubException: Method does not exist.");
    });

    test('SendToCaller sends method(arg) to the caller before completing', async () => {
      const got = [];
      c.conn.on('Told', (...args) => got.push(args));
      const r = await call(c, 'SendToCaller', 'Told', { x: [1, 'y'] });
      c.conn.off('Told');
      assert.deepEqual(got, [[{ x: [1, 'y'] }]]);
      assert.deepEqual(r.completion, mp ? { kind: 3, result: 'c0' } : { result: 'null' });
      assert.deepEqual(r.others, [mp
        ? `960180c0${mpStr('Told')}9181${mpStr('x')}92cc01${mpStr('y')}90`
        : '{"type":1,"target":"Told","arguments":[{"x":[1,"y"]}]}']);
    });

    test('Broadcast reaches every connection of the hub', async () => {
      const other = await connect({ transport: T.LongPolling, protocol: 'json' });
      const method = `Broadcast${name}${protocol}`;
      const got = [];
      const received = new Promise((resolve) => other.conn.on(method, (arg) => resolve(arg)));
      c.conn.on(method, (arg) => got.push(arg));
      await c.conn.invoke('Broadcast', method, 'to all');
      assert.deepEqual(got, ['to all']); // the caller's copy arrives before its completion
      assert.equal(await received, 'to all');
      c.conn.off(method);
      await other.conn.stop();
    });

    test('JoinGroup, SendToGroup, LeaveGroup', async () => {
      const other = await connect({ transport, protocol });
      const group = `g-${name}-${protocol}`;
      const inbox = { mine: [], other: [] };
      c.conn.on('G', (arg) => inbox.mine.push(arg));
      other.conn.on('G', (arg) => inbox.other.push(arg));
      await c.conn.invoke('JoinGroup', group);
      // Sent by a non-member; the members' messages are written before the sender's completion.
      await other.conn.invoke('SendToGroup', group, 'G', 1);
      await until(() => inbox.mine.length === 1, 'the group message');
      await c.conn.invoke('SendToGroup', group, 'G', 2); // a member gets its own group message
      assert.deepEqual(inbox, { mine: [1, 2], other: [] });
      await c.conn.invoke('LeaveGroup', group);
      await c.conn.invoke('SendToGroup', group, 'G', 3);
      await other.conn.invoke('JoinGroup', group);
      await other.conn.invoke('SendToGroup', group, 'G', 4);
      assert.deepEqual(inbox, { mine: [1, 2], other: [4] });
      c.conn.off('G');
      await other.conn.stop();
    });

    test('SequenceTo sends Seq(1..count) in order before completing', async () => {
      const seen = [];
      c.conn.on('Seq', (i) => seen.push(i));
      await c.conn.invoke('SequenceTo', 200);
      c.conn.off('Seq');
      assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i + 1));
    });

    test('Counter streams 0..count-1 and completes', async () => {
      const first = c.wire.frames.length;
      const items = await new Promise((resolve, reject) => {
        const got = [];
        c.conn.stream('Counter', 5, 1, `done-${name}-${protocol}`).subscribe({
          next: (i) => got.push(i), complete: () => resolve(got), error: reject,
        });
      });
      assert.deepEqual(items, [0, 1, 2, 3, 4]);
      const frames = c.wire.frames.slice(first).filter((f) => frameType(f, protocol) !== 6);
      assert.equal(frames.length, 6);
      // StreamItem frames, then a Completion without result or error.
      if (mp) {
        assert.match(frames[0], /^940280a\d(?:3\d)+00$/);
        assert.deepEqual(completionWire(frames[5], protocol), { kind: 2 });
      } else {
        assert.match(frames[0], /^\{"type":2,"invocationId":"\d+","item":0\}$/);
        assert.deepEqual(completionWire(frames[5], protocol), {});
      }
      assert.equal(await c.conn.invoke('StreamCancelled', `done-${name}-${protocol}`), false);
      assert.equal(await c.conn.invoke('StreamCancelled', 'never-streamed'), false);
    });

    test('Counter honours a client cancel; StreamCancelled reports it', async () => {
      const tag = `cancel-${name}-${protocol}`;
      const first = c.wire.frames.length;
      const got = [];
      let outcome = 'open';
      await new Promise((resolve) => {
        const subscription = c.conn.stream('Counter', 1000, 20, tag).subscribe({
          next: (i) => {
            got.push(i);
            if (i === 2) {
              subscription.dispose(); // sends CancelInvocation
              resolve();
            }
          },
          complete: () => { outcome = 'complete'; },
          error: (e) => { outcome = `error ${e}`; },
        });
      });
      assert.equal(await c.conn.invoke('StreamCancelled', tag), true);
      assert.deepEqual(got, [0, 1, 2]);
      assert.equal(outcome, 'open'); // a disposed subscription hears nothing more
      // After the cancel the server still sends a plain Completion for the stream (it may come
      // after StreamCancelled's own Completion).
      const since = () => c.wire.frames.slice(first);
      const streamId = frameId(since().find((f) => frameType(f, protocol) === 2), protocol);
      const streamCompletion = () => since().find((f) => frameType(f, protocol) === 3 && frameId(f, protocol) === streamId);
      await until(streamCompletion, 'the Completion of the cancelled stream');
      assert.deepEqual(completionWire(streamCompletion(), protocol), mp ? { kind: 2 } : {});
    });

    test('Sum consumes a client-to-server stream', async () => {
      const subject = new signalR.Subject();
      const result = c.conn.invoke('Sum', subject);
      for (let i = 1; i <= 100; ++i) subject.next(i);
      subject.complete();
      assert.equal(await result, 5050);
      const empty = new signalR.Subject();
      const zero = c.conn.invoke('Sum', empty);
      empty.complete();
      assert.equal(await zero, 0);
    });

    test('Concat consumes two client-to-server streams', async () => {
      // @microsoft/signalr 10.0.11 cannot send two adjacent stream arguments: its
      // _replaceStreamingParams splices while iterating forward, so the second Subject stays in
      // `arguments` and only one stream id is sent. ASP.NET Core rejects that as a binding error.
      if (!mp) { // (MessagePack cannot even serialize the leftover Subject)
        const a = new signalR.Subject();
        const b = new signalR.Subject();
        const broken = c.conn.invoke('Concat', a, b);
        a.complete();
        await assert.rejects(broken, { message: "Failed to invoke 'Concat' due to an error on the server." });
      }
      // With that loop fixed (on this connection only) the server gets both streams.
      const fixed = await connect({ transport, protocol });
      fixed.conn._replaceStreamingParams = function (args) {
        const streams = [];
        const streamIds = [];
        for (let i = 0; i < args.length;) {
          if (this._isObservable(args[i])) {
            const streamId = this._invocationId++;
            streams[streamId] = args[i];
            streamIds.push(streamId.toString());
            args.splice(i, 1);
          } else {
            ++i;
          }
        }
        return [streams, streamIds];
      };
      const a = new signalR.Subject();
      const b = new signalR.Subject();
      const result = fixed.conn.invoke('Concat', a, b);
      b.next('x'); a.next('he'); b.next('y'); a.next('llo '); b.complete(); a.next('w'); a.complete();
      assert.equal(await result, 'hello wxy');
      await fixed.conn.stop();
    });

    test('AskClient returns the client result, or its error', async () => {
      c.conn.on('Question', (arg) => ({ answer: arg }));
      c.conn.on('Refuse', () => { throw new Error('not telling'); });
      c.conn.on('Nothing', () => null);
      c.conn.on('Silent', () => {}); // returning undefined is no answer: an error
      try {
        const r = await call(c, 'AskClient', 'Question', 21);
        assert.deepEqual(r.value, { answer: 21 });
        assert.equal(r.others.length, 1); // the server's Invocation, with an id
        if (mp) {
          assert.deepEqual(decode(Buffer.from(r.others[0], 'hex')).slice(0, 1), [1]);
          assert.equal(r.completion.result, `81${mpStr('answer')}cc15`);
        } else {
          assert.match(r.others[0], /^\{"type":1,"invocationId":"s\d+","target":"Question","arguments":\[21\]\}$/);
          assert.equal(r.completion.result, '{"answer":21}');
        }
        await expectResult(c, 'AskClient', ['Nothing', 1], { js: null, json: 'null', msgpack: 'c0' });
        await expectError(c, 'AskClient', ['Silent', 1],
          "An unexpected error occurred invoking 'AskClient' on the server. HubException: Client didn't provide a result.");
        await expectError(c, 'AskClient', ['Refuse', 1],
          "An unexpected error occurred invoking 'AskClient' on the server. HubException: Error: not telling");
        await expectError(c, 'AskClient', ['NoSuchHandler', 1],
          "An unexpected error occurred invoking 'AskClient' on the server. HubException: Client didn't provide a result.");
      } finally {
        c.conn.off('Question');
        c.conn.off('Refuse');
        c.conn.off('Silent');
        c.conn.off('Nothing');
      }
    });

    test('Throw and ThrowGeneric: HubException text always, other exceptions only in detail', async () => {
      await expectError(c, 'Throw', ['boom ✓'], "An unexpected error occurred invoking 'Throw' on the server. HubException: boom ✓");
      await expectError(c, 'ThrowGeneric', [], "An unexpected error occurred invoking 'ThrowGeneric' on the server.");
      const detailed = await connect({ path: '/hubs/test-detailed', transport, protocol });
      await expectError(detailed, 'Throw', ['boom'], "An unexpected error occurred invoking 'Throw' on the server. HubException: boom");
      await expectError(detailed, 'ThrowGeneric', [], "An unexpected error occurred invoking 'ThrowGeneric' on the server. InvalidOperationException: secret detail");
      await expectError(detailed, 'Add', ['x', 1], "Failed to invoke 'Add' due to an error on the server. InvalidDataException: Error binding arguments. Make sure that the types of the provided values match the types of the hub method being invoked.");
      await expectResult(detailed, 'Add', [20, 22], { js: 42, json: '42', msgpack: '2a' });
      await detailed.conn.stop();
    });

    test('Slow completes later; other invocations are not held up meanwhile', async () => {
      const order = [];
      const slow = c.conn.invoke('Slow', 300).then((v) => order.push(v));
      const quick = c.conn.invoke('Add', 1, 1).then((v) => order.push(v));
      await Promise.all([slow, quick]);
      assert.deepEqual(order, [2, 'slept 300 ms']);
    });

    test('CloseMe: Close messages with and without error and allowReconnect', async () => {
      const closeWire = (error, allowReconnect) => (mp
        ? `9307${error === null ? 'c0' : mpStr(error)}${allowReconnect ? 'c3' : 'c2'}`
        : JSON.stringify({ type: 7, ...(error === null ? {} : { error }), ...(allowReconnect ? { allowReconnect } : {}) }));
      for (const [allowReconnect, error] of [[false, null], [false, 'bye ✓'], [true, null], [true, 'come back']]) {
        const label = `CloseMe(${allowReconnect}, ${error})`;
        const client = await connect({ transport, protocol, reconnect: true });
        const events = [];
        client.conn.onclose((e) => events.push(['close', e?.message]));
        client.conn.onreconnecting((e) => events.push(['reconnecting', e?.message]));
        client.conn.onreconnected(() => events.push(['reconnected']));
        const firstId = client.conn.connectionId;
        const first = client.wire.frames.length;
        const invocation = client.conn.invoke('CloseMe', allowReconnect, error);
        // The invocation never completes: it fails when the client drops the connection.
        const expectedFailure = error === null
          ? 'Invocation canceled due to the underlying connection being closed.'
          : `Server returned an error on close: ${error}`;
        await assert.rejects(invocation, { message: expectedFailure }, label);
        const frames = client.wire.frames.slice(first).filter((f) => frameType(f, protocol) !== 6);
        assert.deepEqual(frames, [closeWire(error, allowReconnect)], label);
        const why = error === null ? undefined : `Server returned an error on close: ${error}`;
        if (allowReconnect) {
          await until(() => events.length >= 2, `${label}: reconnect`);
          assert.deepEqual(events, [['reconnecting', why], ['reconnected']], label);
          assert.notEqual(client.conn.connectionId, firstId, label);
          assert.equal(await client.conn.invoke('Add', 1, 2), 3, label);
        } else {
          await until(() => events.length >= 1, `${label}: close`);
          assert.deepEqual(events, [['close', why]], label);
          assert.equal(client.conn.state, signalR.HubConnectionState.Disconnected, label);
        }
        await client.conn.stop();
      }
      // Without automatic reconnect, allowReconnect does not make the client come back.
      const client = await connect({ transport, protocol });
      const closed = new Promise((resolve) => client.conn.onclose((e) => resolve(e?.message)));
      await assert.rejects(client.conn.invoke('CloseMe', true, null));
      assert.equal(await closed, undefined);
    });

    test('/hubs/auth: WhoAmI with the good token, 401 otherwise', async () => {
      const good = await connect({ path: '/hubs/auth', transport, protocol, accessTokenFactory: () => 'good-token' });
      await expectResult(good, 'WhoAmI', [], { js: 'tester', json: '"tester"', msgpack: mpStr('tester') });
      await good.conn.stop();
      for (const token of [undefined, 'bad-token']) {
        const bad = await connect({ path: '/hubs/auth', transport, protocol, accessTokenFactory: token && (() => token), start: false });
        await assert.rejects(bad.conn.start(), {
          message: "Failed to complete negotiation with the server: Error: Unauthorized: Status code '401'",
        });
      }
    });
  });
}

describe('stateful reconnect (WebSockets)', () => {
  for (const protocol of ['json', 'messagepack']) {
    test(`${protocol}: messages survive a dropped socket, exactly once and in order`, async () => {
      const client = await connect({ transport: T.WebSockets, protocol, stateful: true, reconnect: true });
      const id = client.conn.connectionId;
      const events = [];
      client.conn.onreconnecting(() => events.push('reconnecting'));
      client.conn.onclose(() => events.push('close'));
      const seen = [];
      const transport = client.conn.connection.transport;
      const firstSocket = transport._webSocket;
      let viaNewSocket = 0;
      client.conn.on('Seq', (i) => {
        seen.push(i);
        if (transport._webSocket !== firstSocket) ++viaNewSocket;
      });
      // Drop the socket (no close handshake) right behind the invocation: whether or not the
      // invocation got out, it is replayed (by the client) or answered (by the server, into its
      // buffer), and everything reaches the client over the resumed transport.
      const done = client.conn.invoke('SequenceTo', 500);
      firstSocket.terminate();
      await done;
      assert.notEqual(transport._webSocket, firstSocket);
      assert.equal(viaNewSocket, 500);
      assert.deepEqual(seen, Array.from({ length: 500 }, (_, i) => i + 1));
      // The same connection, resumed by the transport: the hub client noticed nothing.
      assert.equal(client.conn.connectionId, id);
      assert.deepEqual(events, []);
      const info = await client.conn.invoke('GetConnectionInfo');
      assert.equal(info.connectionId, id);
      await client.conn.stop();
    });
  }
});

describe('/hubs/auth over HTTP', () => {
  test('negotiate: Bearer header or access_token query with good-token, 401 otherwise', async () => {
    const negotiate = (query, headers = {}) => fetch(`${server.url}/hubs/auth/negotiate?negotiateVersion=1${query}`,
      { method: 'POST', headers }).then((r) => r.status);
    assert.equal(await negotiate('', { Authorization: 'Bearer good-token' }), 200);
    assert.equal(await negotiate('&access_token=good-token'), 200);
    assert.equal(await negotiate(''), 401);
    assert.equal(await negotiate('', { Authorization: 'Bearer bad-token' }), 401);
    assert.equal(await negotiate('', { Authorization: 'Basic Z29vZC10b2tlbg==' }), 401);
    assert.equal(await negotiate('&access_token=bad-token'), 401);
    assert.equal(await fetch(`${server.url}/hubs/test/negotiate?negotiateVersion=1`, { method: 'POST' }).then((r) => r.status), 200);
  });
});

describe('server process', () => {
  test('printed exactly one line on stdout and exits 0 on SIGTERM', async () => {
    for (const c of clients) await c.stop().catch(() => {});
    const result = await stopServer(server.child);
    assert.deepEqual(result, { code: 0, signal: null });
    assert.match(server.stdout, /^listening on http:\/\/127\.0\.0\.1:\d+\n$/);
  });
});
