// SPDX-License-Identifier: MIT
// The hub contract of the interop test server; README.md documents every method and what an
// official client sees on the wire.
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using MessagePack;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

// Records for the typed echo. JSON: System.Text.Json with SignalR's defaults (camelCase names
// out, case-insensitive names in). MessagePack: without attributes, SignalR's resolver
// (ContractlessStandardResolver) writes a record as a map keyed by the C# property names
// (`Name`, `Age`, ...) and matches keys case-sensitively when reading; the [Key] attributes make
// the keys camelCase, as in JSON. Both must be public for MessagePack's dynamic formatters.
[MessagePackObject]
public sealed record Person(
    [property: Key("name")] string Name,
    [property: Key("age")] int Age,
    [property: Key("tags")] string[] Tags,
    [property: Key("address")] Address? Address);

[MessagePackObject]
public sealed record Address(
    [property: Key("city")] string City,
    [property: Key("zip")] string Zip);

// No [Key] attributes: over MessagePack it binds only PascalCase keys (`Name`, `Count`, ...), as
// a .NET app's own types usually do.
public sealed record Gadget(string? Name, int Count, string[]? Tags, DateTime When);

[MessagePackObject]
public sealed record ConnectionInfo(
    [property: Key("connectionId")] string ConnectionId,
    [property: Key("transport")] string? Transport,
    [property: Key("protocol")] string? Protocol,
    [property: Key("userAgent")] string? UserAgent);

/// <summary>The test hub, mapped at <c>/hubs/test</c> (EnableDetailedErrors = false).</summary>
public class TestHub(ConnectionRegistry registry) : Hub
{
    // --- echoes -------------------------------------------------------------------------------

    /// <summary>Returns the argument as the protocol bound it: a JsonElement (JSON) or
    /// MessagePack-CSharp's primitive object graph (MessagePack), written back unchanged.</summary>
    public object? Echo(object? value) => value;
    public long EchoLong(long value) => value;
    public double EchoDouble(double value) => value;
    public string? EchoString(string? value) => value;
    public byte[]? EchoBytes(byte[]? value) => value;
    public Person? EchoPerson(Person? value) => value;
    public string DescribeGadget(Gadget gadget) =>
        $"{gadget.Name ?? "null"}:{gadget.Count}:"
        + $"{(gadget.Tags is null ? "null" : string.Join(',', gadget.Tags))}:"
        + $"{gadget.When.ToUniversalTime():yyyy-MM-ddTHH:mm:ss}";

    public int Add(int a, int b) => a + b;
    public void NoResult() { }

    // --- sending to clients -------------------------------------------------------------------

    public Task SendToCaller(string method, object? arg) => Clients.Caller.SendAsync(method, arg);
    public Task Broadcast(string method, object? arg) => Clients.All.SendAsync(method, arg);
    public Task JoinGroup(string group) => Groups.AddToGroupAsync(Context.ConnectionId, group);
    public Task LeaveGroup(string group) => Groups.RemoveFromGroupAsync(Context.ConnectionId, group);
    public Task SendToGroup(string group, string method, object? arg) =>
        Clients.Group(group).SendAsync(method, arg);

    /// <summary>Sends <c>Seq(1)</c> … <c>Seq(count)</c> to the caller, then completes.</summary>
    public async Task SequenceTo(int count)
    {
        for (var i = 1; i <= count; ++i)
            await Clients.Caller.SendAsync("Seq", i);
    }

    // --- streams ------------------------------------------------------------------------------

    private enum StreamState { Running, Completed, Cancelled }
    private static readonly ConcurrentDictionary<string, StreamState> Streams = new();

    /// <summary>Streams 0 … count−1, waiting delayMs before every item but the first. A client
    /// cancel ends it; <see cref="StreamCancelled"/> reports that by tag.</summary>
    public async IAsyncEnumerable<int> Counter(int count, int delayMs, string tag,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Streams[tag] = StreamState.Running;
        var state = StreamState.Completed;
        try
        {
            for (var i = 0; i < count; ++i)
            {
                if (i > 0 && delayMs > 0)
                {
                    try
                    {
                        await Task.Delay(delayMs, cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        state = StreamState.Cancelled;
                        yield break;
                    }
                }
                if (cancellationToken.IsCancellationRequested)
                {
                    state = StreamState.Cancelled;
                    yield break;
                }
                yield return i;
            }
        }
        finally
        {
            // Also runs when the framework disposes the enumerator after a cancel.
            if (cancellationToken.IsCancellationRequested)
                state = StreamState.Cancelled;
            Streams[tag] = state;
        }
    }

    /// <summary>Whether the Counter stream with this tag ended because the client cancelled it.
    /// While that stream is still running, waits (up to 10 s) for it to end first, so a client
    /// can ask right after sending its cancel. Unknown tags: false.</summary>
    public async Task<bool> StreamCancelled(string tag)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Streams.TryGetValue(tag, out var s) && s == StreamState.Running && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        return Streams.TryGetValue(tag, out var state) && state == StreamState.Cancelled;
    }

    /// <summary>Client-to-server stream: the sum of the items.</summary>
    public async Task<int> Sum(IAsyncEnumerable<int> numbers)
    {
        var sum = 0;
        await foreach (var n in numbers)
            sum += n;
        return sum;
    }

    /// <summary>Two client-to-server streams: all items of a, then all of b, concatenated. Both
    /// are drained concurrently, so the client may interleave them freely.</summary>
    public async Task<string> Concat(ChannelReader<string> a, ChannelReader<string> b)
    {
        static async Task<string> Drain(ChannelReader<string> reader)
        {
            var text = new StringBuilder();
            await foreach (var item in reader.ReadAllAsync())
                text.Append(item);
            return text.ToString();
        }
        var first = Drain(a);
        var second = Drain(b);
        return await first + await second;
    }

    // --- client results -----------------------------------------------------------------------

    /// <summary>Invokes <c>method(arg)</c> on the caller and returns its answer. A client error
    /// surfaces as a HubException carrying the client's text.</summary>
    public async Task<object?> AskClient(string method, object? arg) =>
        await Clients.Caller.InvokeAsync<object?>(method, arg, Context.ConnectionAborted);

    // --- errors -------------------------------------------------------------------------------

    public void Throw(string message) => throw new HubException(message);
    public void ThrowGeneric() => throw new InvalidOperationException("secret detail");

    /// <summary>
    /// Closes the caller's connection with a Close message carrying <paramref name="error"/> and
    /// <paramref name="allowReconnect"/>. The invocation itself never completes.
    /// </summary>
    public async Task CloseMe(bool allowReconnect, string? error)
    {
        if (error is null && !allowReconnect)
        {
            // ASP.NET Core's own path: Close without error, then the transport is closed.
            Context.Abort();
            return;
        }
        if (error is null)
        {
            // ASP.NET Core's own path to allowReconnect: true, the one a host shutdown takes: the
            // connection's IConnectionLifetimeNotificationFeature.RequestClose().
            Context.Features.Get<IConnectionLifetimeNotificationFeature>()!.RequestClose();
        }
        else
        {
            // No public API puts a text of our choosing into the framework's Close message (it
            // says "Connection closed with an error." for a server-side exception, plus the
            // exception when detailed errors are on). So write the Close message ourselves; the
            // client drops the connection on it. Aborting here would make ASP.NET Core send a
            // second Close, without error and allowReconnect, which a client may read in the
            // same batch.
            var connection = registry.Find(Context.ConnectionId)
                ?? throw new HubException("connection not found");
            await connection.WriteAsync(new CloseMessage(error, allowReconnect));
        }
        // Return only once the connection is gone, so that no Completion follows the Close;
        // abort a client that ignores the Close after 10 s.
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(10), Context.ConnectionAborted);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        Context.Abort();
    }

    public async Task<string> Slow(int delayMs)
    {
        await Task.Delay(delayMs);
        return $"slept {delayMs} ms";
    }

    public ConnectionInfo GetConnectionInfo()
    {
        var http = Context.GetHttpContext();
        return new ConnectionInfo(
            Context.ConnectionId,
            Context.Features.Get<IHttpTransportFeature>()?.TransportType.ToString(),
            registry.Find(Context.ConnectionId)?.Protocol.Name,
            http?.Request.Headers.UserAgent.ToString());
    }
}

/// <summary>The same hub at <c>/hubs/test-detailed</c> with EnableDetailedErrors = true (hub
/// options are per hub type in ASP.NET Core, so the second mapping needs its own type).</summary>
public sealed class DetailedTestHub(ConnectionRegistry registry) : TestHub(registry);

/// <summary><c>/hubs/auth</c>: only for the bearer token <c>good-token</c>.</summary>
[Authorize]
public sealed class AuthHub : Hub
{
    public string? WhoAmI() => Context.User?.Identity?.Name;
}
