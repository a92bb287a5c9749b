// SPDX-License-Identifier: MIT
// The official JavaScript SignalR client (@microsoft/signalr on Node) in the client benchmark.
// Same command line, behaviour and one-line JSON result as heliograph-client-bench
// (bench/clientbench/heliograph_client_bench.cpp) and the .NET program (dotnet/Program.cs):
//
//   node --expose-gc clientbench.mjs --url http://127.0.0.1:PORT/hubs/bench
//        --protocol json|messagepack --scenario invoke|receive|memory [--inflight N]
//        [--payload BYTES] [--duration S] [--warmup S] [--batch N] [--connections N]
//        [--concurrency N] [--settle S] [--min-operations N]
//
// See dotnet/Program.cs for the scenarios. --expose-gc lets the memory scenario run a full GC
// before each reading, as the .NET program does.
import { readFileSync } from "node:fs";
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";

function fail(why) {
    console.error(`clientbench.mjs: ${why}`);
    process.exit(1);
}

function parse(argv) {
    const o = {
        url: "", protocol: "json", scenario: "invoke", inflight: 1, payload: 64, batch: 2000,
        connections: 1000, concurrency: 50, duration: 5, warmup: 1, settle: 1, "min-operations": 0,
    };
    const numeric = new Set(["inflight", "payload", "batch", "connections", "concurrency",
        "duration", "warmup", "settle", "min-operations"]);
    if (argv.length % 2 !== 0)
        fail("arguments come in pairs: --name value");
    for (let i = 0; i < argv.length; i += 2) {
        const name = argv[i].replace(/^--/, "");
        if (!(name in o))
            fail(`unknown argument ${argv[i]}`);
        o[name] = numeric.has(name) ? Number(argv[i + 1]) : argv[i + 1];
    }
    if (!o.url || (o.protocol !== "json" && o.protocol !== "messagepack"))
        fail("usage: --url URL --protocol json|messagepack --scenario invoke|receive|memory ...");
    return o;
}

const o = parse(process.argv.slice(2));
const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const cpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const num = (v) => Number(v.toFixed(3));

function rssKb() {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) : 0;
}

function build() {
    const builder = new signalR.HubConnectionBuilder()
        .withUrl(o.url)
        .configureLogging(signalR.LogLevel.Warning); // the default (Information) logs every connect
    if (o.protocol === "messagepack")
        builder.withHubProtocol(new MessagePackHubProtocol());
    return builder.build();
}

function makePayload(n) {
    let s = "";
    for (let i = 0; i < n; i++)
        s += String.fromCharCode(97 + (i % 26));
    return s;
}

function report(operations, seconds, cpu, errors) {
    console.log(JSON.stringify({
        client: "js", scenario: o.scenario, protocol: o.protocol,
        inflight: o.scenario === "invoke" ? o.inflight : 2, payload: o.payload,
        seconds: num(seconds), operations, perSec: num(operations / seconds), cpuSeconds: num(cpu),
        cpuUsPerOp: num(operations > 0 ? (cpu * 1e6) / operations : 0), errors,
    }));
}

// Waits out the warm-up and the measured window; returns what happened in the window.
async function measure(counter) {
    await sleep(o.warmup);
    const c0 = counter(), cpu0 = cpuSeconds(), t0 = performance.now();
    await sleep(o.duration);
    while (counter() - c0 < o["min-operations"])
        await sleep(0.01);
    return { operations: counter() - c0, seconds: (performance.now() - t0) / 1000, cpu: cpuSeconds() - cpu0 };
}

async function invoke() {
    const payload = makePayload(o.payload);
    const connection = build();
    await connection.start();
    let done = 0, errors = 0, stop = false;
    async function loop() {
        while (!stop) {
            try {
                const echo = await connection.invoke("Echo", payload);
                if (echo.length !== payload.length)
                    errors++;
                done++;
            } catch {
                errors++;
                return;
            }
        }
    }
    const loops = Array.from({ length: o.inflight }, loop);
    const m = await measure(() => done);
    stop = true;
    await Promise.all(loops);
    await connection.stop();
    report(m.operations, m.seconds, m.cpu, errors);
}

async function receive() {
    const payload = makePayload(o.payload);
    const connection = build();
    let received = 0, errors = 0, stop = false;
    connection.on("Receive", (p) => {
        if (p.length !== payload.length)
            errors++;
        received++;
    });
    await connection.start();
    async function loop() {
        while (!stop) {
            try {
                if ((await connection.invoke("Flood", o.batch, payload)) !== o.batch)
                    errors++;
            } catch {
                errors++;
                return;
            }
        }
    }
    const loops = [loop(), loop()];
    const m = await measure(() => received);
    stop = true;
    await Promise.all(loops);
    await connection.stop();
    report(m.operations, m.seconds, m.cpu, errors);
}

async function settled() {
    await sleep(o.settle);
    if (globalThis.gc) {
        globalThis.gc();
        globalThis.gc();
    }
    return rssKb();
}

async function memory() {
    const start = await settled();
    const first = build();
    await first.start();
    const idle = await settled();

    const connections = new Array(o.connections);
    let next = 0;
    async function connector() {
        while (next < connections.length) {
            const i = next++;
            connections[i] = build();
            try {
                await connections[i].start();
            } catch {
                // counted below: not connected
            }
        }
    }
    await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, connector));
    const after = await settled();
    const isUp = (c) => c.state === signalR.HubConnectionState.Connected;
    const connected = connections.filter(isUp).length;
    const errors = o.connections - connected + (isUp(first) ? 0 : 1);
    console.log(JSON.stringify({
        client: "js", scenario: "memory", protocol: o.protocol, connections: o.connections, connected,
        rssStartKb: start, rssIdleKb: idle, rssAfterKb: after,
        kbPerConnection: num((after - idle) / Math.max(1, o.connections)), errors,
    }));
    await Promise.all([first, ...connections].map((c) => c.stop()));
}

const scenarios = { invoke, receive, memory };
if (!scenarios[o.scenario])
    fail(`unknown scenario ${o.scenario}`);
try {
    await scenarios[o.scenario]();
} catch (e) {
    fail(e?.message ?? String(e));
}
