// SPDX-License-Identifier: MIT
// The official .NET SignalR client (Microsoft.AspNetCore.SignalR.Client) in the client
// benchmark. Same command line, behaviour and one-line JSON result as heliograph-client-bench
// (bench/clientbench/heliograph_client_bench.cpp) and the Node script (node/clientbench.mjs):
//
//   DotnetClientBench --url http://127.0.0.1:PORT/hubs/bench --protocol json|messagepack
//                     --scenario invoke|receive|memory [--inflight N] [--payload BYTES]
//                     [--duration S] [--warmup S] [--batch N] [--connections N]
//                     [--concurrency N] [--settle S] [--min-operations N]
//
// The measured window lasts `duration` seconds, and longer until `min-operations` were counted
// (default 0; the smoke test sets it so that a loaded machine cannot fail it).
// invoke:  one connection, N Echo(payload) calls in flight, each completion issues the next;
//          round trips counted in the measured window after the warm-up.
// receive: one connection, two Flood(batch, payload) calls in flight; the hub sends Receive(payload)
//          batch times per call; handler calls counted in the measured window.
// memory:  RSS at start, with one idle connection, then with N more (connected `concurrency` at a
//          time); each reading after `settle` seconds and, in the managed clients, a full GC.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

var o = Options.Parse(args);
if (o is null)
    return 2;
try
{
    return o.Scenario switch
    {
        "invoke" => await Bench.Invoke(o),
        "receive" => await Bench.Receive(o),
        "memory" => await Bench.Memory(o),
        _ => Bench.Fail($"unknown scenario {o.Scenario}"),
    };
}
catch (Exception e)
{
    return Bench.Fail(e.Message);
}

sealed class Options
{
    public string Url = "";
    public string Protocol = "json";
    public string Scenario = "invoke";
    public int Inflight = 1, Payload = 64, Batch = 2000, Connections = 1000, Concurrency = 50;
    public long MinOperations;
    public double Duration = 5, Warmup = 1, Settle = 1;

    public static Options? Parse(string[] args)
    {
        var o = new Options();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var v = args[i + 1];
            switch (args[i])
            {
                case "--url": o.Url = v; break;
                case "--protocol": o.Protocol = v; break;
                case "--scenario": o.Scenario = v; break;
                case "--inflight": o.Inflight = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--payload": o.Payload = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--batch": o.Batch = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--connections": o.Connections = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--concurrency": o.Concurrency = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--duration": o.Duration = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--warmup": o.Warmup = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--settle": o.Settle = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--min-operations": o.MinOperations = long.Parse(v, CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return null;
            }
        }
        if (args.Length % 2 != 0 || o.Url.Length == 0 || (o.Protocol != "json" && o.Protocol != "messagepack"))
        {
            Console.Error.WriteLine("usage: --url URL --protocol json|messagepack --scenario invoke|receive|memory ... (see Program.cs)");
            return null;
        }
        return o;
    }
}

static class Bench
{
    public static int Fail(string why)
    {
        Console.Error.WriteLine($"DotnetClientBench: {why}");
        return 1;
    }

    static HubConnection Build(Options o)
    {
        var builder = new HubConnectionBuilder().WithUrl(o.Url);
        if (o.Protocol == "messagepack")
            builder.AddMessagePackProtocol();
        return builder.Build();
    }

    static string MakePayload(int n)
    {
        var sb = new StringBuilder(n);
        for (var i = 0; i < n; i++)
            sb.Append((char)('a' + i % 26));
        return sb.ToString();
    }

    static double CpuSeconds() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    static long RssKb()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(6).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
        return 0;
    }

    static string Num(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    static void Report(Options o, long operations, double seconds, double cpu, long errors)
    {
        Console.WriteLine("{" + $"\"client\":\"dotnet\",\"scenario\":\"{o.Scenario}\",\"protocol\":\"{o.Protocol}\","
            + $"\"inflight\":{(o.Scenario == "invoke" ? o.Inflight : 2)},\"payload\":{o.Payload},"
            + $"\"seconds\":{Num(seconds)},\"operations\":{operations},\"perSec\":{Num(operations / seconds)},"
            + $"\"cpuSeconds\":{Num(cpu)},\"cpuUsPerOp\":{Num(operations > 0 ? cpu * 1e6 / operations : 0)},"
            + $"\"errors\":{errors}" + "}");
    }

    /// Waits out the warm-up and the measured window; returns (operations, seconds, cpu) of the
    /// window.
    static async Task<(long, double, double)> Measure(Options o, Func<long> counter)
    {
        await Task.Delay(TimeSpan.FromSeconds(o.Warmup));
        var c0 = counter();
        var cpu0 = CpuSeconds();
        var sw = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(o.Duration));
        while (counter() - c0 < o.MinOperations)
            await Task.Delay(10);
        var c1 = counter();
        var seconds = sw.Elapsed.TotalSeconds;
        var cpu = CpuSeconds() - cpu0;
        return (c1 - c0, seconds, cpu);
    }

    public static async Task<int> Invoke(Options o)
    {
        var payload = MakePayload(o.Payload);
        await using var connection = Build(o);
        await connection.StartAsync();
        long done = 0, errors = 0;
        var stop = false;
        async Task Loop()
        {
            while (!Volatile.Read(ref stop))
            {
                try
                {
                    var echo = await connection.InvokeAsync<string>("Echo", payload);
                    if (echo.Length != payload.Length)
                        Interlocked.Increment(ref errors);
                    Interlocked.Increment(ref done);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref errors);
                    return;
                }
            }
        }
        var loops = Enumerable.Range(0, o.Inflight).Select(_ => Loop()).ToArray();
        var (operations, seconds, cpu) = await Measure(o, () => Interlocked.Read(ref done));
        Volatile.Write(ref stop, true);
        await Task.WhenAll(loops);
        await connection.StopAsync();
        Report(o, operations, seconds, cpu, Interlocked.Read(ref errors));
        return 0;
    }

    public static async Task<int> Receive(Options o)
    {
        var payload = MakePayload(o.Payload);
        await using var connection = Build(o);
        long received = 0, errors = 0;
        connection.On<string>("Receive", p =>
        {
            if (p.Length != payload.Length)
                Interlocked.Increment(ref errors);
            Interlocked.Increment(ref received);
        });
        await connection.StartAsync();
        var stop = false;
        async Task Loop()
        {
            while (!Volatile.Read(ref stop))
            {
                try
                {
                    if (await connection.InvokeAsync<int>("Flood", o.Batch, payload) != o.Batch)
                        Interlocked.Increment(ref errors);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref errors);
                    return;
                }
            }
        }
        var loops = new[] { Loop(), Loop() };
        var (operations, seconds, cpu) = await Measure(o, () => Interlocked.Read(ref received));
        Volatile.Write(ref stop, true);
        await Task.WhenAll(loops);
        await connection.StopAsync();
        Report(o, operations, seconds, cpu, Interlocked.Read(ref errors));
        return 0;
    }

    static async Task<long> Settled(Options o)
    {
        await Task.Delay(TimeSpan.FromSeconds(o.Settle));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return RssKb();
    }

    public static async Task<int> Memory(Options o)
    {
        var start = await Settled(o);
        var first = Build(o);
        await first.StartAsync();
        var idle = await Settled(o);

        var connections = new HubConnection[o.Connections];
        long errors = 0;
        var next = -1;
        async Task Connector()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < connections.Length)
            {
                connections[i] = Build(o);
                try
                {
                    await connections[i].StartAsync();
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, o.Concurrency)).Select(_ => Connector()));
        var after = await Settled(o);
        // Failed and dropped connections alike: everything that is not connected now.
        var connected = connections.Count(c => c.State == HubConnectionState.Connected);
        errors = o.Connections - connected + (first.State == HubConnectionState.Connected ? 0 : 1);

        Console.WriteLine("{" + $"\"client\":\"dotnet\",\"scenario\":\"memory\",\"protocol\":\"{o.Protocol}\","
            + $"\"connections\":{o.Connections},\"connected\":{connected},\"rssStartKb\":{start},"
            + $"\"rssIdleKb\":{idle},\"rssAfterKb\":{after},"
            + $"\"kbPerConnection\":{Num((after - idle) / (double)Math.Max(1, o.Connections))},"
            + $"\"errors\":{errors}" + "}");

        await Task.WhenAll(connections.Append(first).Select(c => c.DisposeAsync().AsTask()));
        return 0;
    }
}
