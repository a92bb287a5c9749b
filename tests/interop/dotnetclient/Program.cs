// SPDX-License-Identifier: MIT
// Microsoft's .NET SignalR client (Microsoft.AspNetCore.SignalR.Client, with
// Microsoft.AspNetCore.SignalR.Protocols.MessagePack) against the real heliograph-server binary:
// the notification hub over every transport and both protocols, the push API, replay,
// presence, documents, hub errors, the MessagePack key case (`--messagepack-key-case`) and an
// automatic reconnect across a server restart. ctest runs it as interop_dotnet_client:
//
//   dotnet DotnetClientSuite.dll --server /path/to/heliograph-server [--filter TEXT] [--verbose]
//
// Prints one line per test and then `N passed, M failed`; exits 1 if any test failed.
// Nothing sleeps to wait: every step awaits an event or a reply, with a timeout.
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using MessagePack;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

string? serverPath = null, filter = null;
var verbose = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--server" when i + 1 < args.Length: serverPath = args[++i]; break;
        case "--filter" when i + 1 < args.Length: filter = args[++i]; break;
        case "--verbose": verbose = true; break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}");
            return 2;
    }
}
if (serverPath is null || !File.Exists(serverPath))
{
    Console.Error.WriteLine("usage: DotnetClientSuite --server PATH-TO-heliograph-server [--filter TEXT] [--verbose]");
    return 2;
}
return await Suite.Run(serverPath, filter, verbose);

// --- the notification hub's DTOs, as a .NET application would declare them -------------------

/// PascalCase records without attributes: what a .NET app writes. JSON binds them on any server
/// (System.Text.Json ignores case); MessagePack only with `--messagepack-key-case pascal`.
public record Notification(string Id, string Title, string Body, string Type, DateTime CreatedAt,
    long Sequence, bool Replayed);
public record OnlineUser(string UserId, string DisplayName, int Connections);
public record DocumentUpdate(long Version, string PatchJson, string AuthorId);

/// The same records for the default key case (camelCase in MessagePack): each member names its
/// key. System.Text.Json ignores these attributes, so they bind over JSON too.
[MessagePackObject]
public record CamelNotification(
    [property: Key("id")] string Id, [property: Key("title")] string Title,
    [property: Key("body")] string Body, [property: Key("type")] string Type,
    [property: Key("createdAt")] DateTime CreatedAt, [property: Key("sequence")] long Sequence,
    [property: Key("replayed")] bool Replayed)
{
    public Notification Plain() => new(Id, Title, Body, Type, CreatedAt, Sequence, Replayed);
}
[MessagePackObject]
public record CamelOnlineUser([property: Key("userId")] string UserId,
    [property: Key("displayName")] string DisplayName, [property: Key("connections")] int Connections)
{
    public OnlineUser Plain() => new(UserId, DisplayName, Connections);
}
[MessagePackObject]
public record CamelDocumentUpdate([property: Key("version")] long Version,
    [property: Key("patchJson")] string PatchJson, [property: Key("authorId")] string AuthorId)
{
    public DocumentUpdate Plain() => new(Version, PatchJson, AuthorId);
}

// --- the suite ------------------------------------------------------------------------------------

public enum Protocol { Json, MessagePack }

/// Which records a test binds: Camel ([Key] attributes) on the default server, Plain on a
/// server started with `--messagepack-key-case pascal`.
public enum Records { Camel, Plain }

public sealed class TestFailure(string message) : Exception(message);

public static class Suite
{
    static readonly (Protocol Protocol, HttpTransportType Transport)[] Combinations =
    [
        (Protocol.Json, HttpTransportType.WebSockets),
        (Protocol.Json, HttpTransportType.ServerSentEvents), // MessagePack needs a binary transport
        (Protocol.Json, HttpTransportType.LongPolling),
        (Protocol.MessagePack, HttpTransportType.WebSockets),
        (Protocol.MessagePack, HttpTransportType.LongPolling),
    ];

    public static async Task<int> Run(string serverPath, string? filter, bool verbose)
    {
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var tests = new List<(string Name, Func<Task> Body)>();
        Server? camel = null, pascal = null;
        Fixture F(Func<Server> server, Records records) => new(server(), secret, records);

        foreach (var (protocol, transport) in Combinations)
        {
            var c = $"{protocol}/{transport}";
            tests.Add(($"{c}: connect with a token provider; ConnectionAcknowledged",
                () => Tests.Connect(F(() => camel!, Records.Camel), protocol, transport)));
            tests.Add(($"{c}: a pushed notification arrives once, bound to a record",
                () => Tests.PushedOnce(F(() => camel!, Records.Camel), protocol, transport)));
            tests.Add(($"{c}: replay with ?lastSequence=N",
                () => Tests.ReplayFromCursor(F(() => camel!, Records.Camel), protocol, transport)));
            tests.Add(($"{c}: last-seen mode: reconnecting without lastSequence gets what was missed",
                () => Tests.LastSeen(F(() => camel!, Records.Camel), protocol, transport)));
            tests.Add(($"{c}: presence: GetOnlineUsers, UserJoined, UserLeft",
                () => Tests.Presence(F(() => camel!, Records.Camel), protocol, transport)));
            tests.Add(($"{c}: documents: JoinDocument, SendDocumentPatch, DocumentUpdated, GetDocumentPatchesSince",
                () => Tests.Documents(F(() => camel!, Records.Camel), protocol, transport)));
            tests.Add(($"{c}: hub errors surface as HubException",
                () => Tests.HubErrors(F(() => camel!, Records.Camel), protocol, transport)));
        }
        tests.Add(("default key case, MessagePack: a PascalCase record without [Key] binds nothing",
            () => Tests.PlainRecordBindsNothing(F(() => camel!, Records.Plain))));
        tests.Add(("default key case, JSON: the PascalCase record binds every field",
            () => Tests.PushedOnce(F(() => camel!, Records.Plain), Protocol.Json, HttpTransportType.WebSockets)));
        tests.Add(("default key case, MessagePack: the wire keys are camelCase",
            () => Tests.WireKeys(F(() => camel!, Records.Camel), Protocol.MessagePack, pascalKeys: false)));
        foreach (var (protocol, transport) in Combinations)
        {
            var c = $"pascal key case, {protocol}/{transport}";
            tests.Add(($"{c}: PascalCase records bind every field of a notification",
                () => Tests.PushedOnce(F(() => pascal!, Records.Plain), protocol, transport)));
            tests.Add(($"{c}: PascalCase records bind GetOnlineUsers",
                () => Tests.Presence(F(() => pascal!, Records.Plain), protocol, transport)));
            tests.Add(($"{c}: PascalCase records bind DocumentUpdated and GetDocumentPatchesSince",
                () => Tests.Documents(F(() => pascal!, Records.Plain), protocol, transport)));
        }
        tests.Add(("pascal key case, MessagePack: the wire keys are PascalCase",
            () => Tests.WireKeys(F(() => pascal!, Records.Plain), Protocol.MessagePack, pascalKeys: true)));
        tests.Add(("pascal key case, JSON: the wire keys stay camelCase",
            () => Tests.WireKeys(F(() => pascal!, Records.Plain), Protocol.Json, pascalKeys: false)));
        foreach (var protocol in new[] { Protocol.Json, Protocol.MessagePack })
            tests.Add(($"pascal key case, {protocol}: user data (a client result) keeps its keys",
                () => Tests.UserDataKeepsKeys(F(() => pascal!, Records.Plain), protocol)));
        tests.Add(("automatic reconnect on every transport after the server restarts on the same port",
            () => Tests.ReconnectAcrossRestart(F(() => camel!, Records.Camel), Combinations, s => camel = s)));

        var passed = 0;
        var failed = 0;
        try
        {
            camel = await Server.Start(serverPath, secret, [], verbose);
            pascal = await Server.Start(serverPath, secret, ["--messagepack-key-case", "pascal"], verbose);
            foreach (var (name, body) in tests)
            {
                if (filter is not null && !name.Contains(filter, StringComparison.OrdinalIgnoreCase))
                    continue;
                var watch = Stopwatch.StartNew();
                try
                {
                    var run = body();
                    if (await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(45))) != run)
                        throw new TestFailure("did not finish within 45 s");
                    await run;
                    passed++;
                    Console.WriteLine($"PASS {name} ({watch.ElapsedMilliseconds} ms)");
                }
                catch (Exception e)
                {
                    failed++;
                    Console.WriteLine($"FAIL {name} ({watch.ElapsedMilliseconds} ms): {Describe(e)}");
                }
            }
        }
        catch (Exception e)
        {
            failed++;
            Console.WriteLine($"FAIL starting heliograph-server: {Describe(e)}");
        }
        finally
        {
            foreach (var s in new[] { camel, pascal })
            {
                if (s is null)
                    continue;
                var code = await s.Stop();
                if (code != 0)
                {
                    failed++;
                    Console.WriteLine($"FAIL heliograph-server exited with {code}:\n{s.Log}");
                }
                else if (failed > 0 && verbose)
                {
                    Console.WriteLine(s.Log);
                }
            }
        }
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }

    static string Describe(Exception e) =>
        e is TestFailure ? e.Message : $"{e.GetType().Name}: {e.Message}";
}

/// One test's view of a server: tokens, clients, the push API. Tenants are unique per fixture,
/// so tests never see each other's notifications or presence.
public sealed class Fixture(Server server, string secret, Records records)
{
    static int s_tenants;
    public Server Server { get; } = server;
    public Records Records { get; } = records;
    public string Tenant { get; } = $"t{Interlocked.Increment(ref s_tenants)}";
    public string Secret { get; } = secret;
    public string HubUrl => $"{Server.BaseUrl}/hubs/notifications";

    public string Token(string user, params string[] roles) =>
        Jwt.Sign(Secret, user, Tenant, $"{user} name", roles, TimeSpan.FromMinutes(10));

    public Client Client(string user, Protocol protocol, HttpTransportType transport,
        string query = "", string[]? roles = null, Action<IHubConnectionBuilder>? configure = null,
        bool bindNotifications = true) =>
        new(this, user, protocol, transport, query, roles ?? ["Editor"], configure, bindNotifications);

    /// POST /api/tenants/{t}/users/{u}/notifications with a Service token: 202 {id, sequence}.
    public async Task<(string Id, long Sequence)> Push(string user, string title)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post,
            $"{Server.BaseUrl}/api/tenants/{Tenant}/users/{user}/notifications");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer",
            Jwt.Sign(Secret, "pusher", null, "Pusher", ["Service"], TimeSpan.FromMinutes(10)));
        request.Content = new StringContent(
            JsonSerializer.Serialize(new { title, body = $"body of {title}", type = "info" }),
            Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Check.Equal(HttpStatusCode.Accepted, response.StatusCode, $"push API status ({text})");
        using var doc = JsonDocument.Parse(text);
        return (doc.RootElement.GetProperty("id").GetString()!,
            doc.RootElement.GetProperty("sequence").GetInt64());
    }
}

/// A HubConnection with an inbox per server-to-client method.
public sealed class Client : IAsyncDisposable
{
    public HubConnection Connection { get; }
    public string User { get; }
    public int TokenRequests;
    public readonly Inbox<(string ConnectionId, DateTime ServerTime)> Acks = new("ConnectionAcknowledged");
    public readonly Inbox<Notification> Notifications = new("ReceiveNotification");
    public readonly Inbox<(string UserId, string DisplayName)> Joined = new("UserJoined");
    public readonly Inbox<string> Left = new("UserLeft");
    public readonly Inbox<(string DocumentId, DocumentUpdate Update)> Updates = new("DocumentUpdated");
    readonly Records _records;

    public Client(Fixture f, string user, Protocol protocol, HttpTransportType transport, string query,
        string[] roles, Action<IHubConnectionBuilder>? configure, bool bindNotifications)
    {
        User = user;
        _records = f.Records;
        var token = f.Token(user, roles);
        var builder = new HubConnectionBuilder().WithUrl(f.HubUrl + query, transport, o =>
        {
            o.AccessTokenProvider = () =>
            {
                Interlocked.Increment(ref TokenRequests);
                return Task.FromResult<string?>(token);
            };
        });
        if (protocol == Protocol.MessagePack)
            builder.AddMessagePackProtocol();
        configure?.Invoke(builder);
        Connection = builder.Build();
        Connection.On<string, DateTime>("ConnectionAcknowledged", (id, at) => Acks.Add((id, at)));
        Connection.On<string, string>("UserJoined", (id, name) => Joined.Add((id, name)));
        Connection.On<string>("UserLeft", id => Left.Add(id));
        // The .NET client binds a method's arguments to the types of its first handler.
        if (_records == Records.Camel)
        {
            if (bindNotifications)
                Connection.On<CamelNotification>("ReceiveNotification", n => Notifications.Add(n.Plain()));
            Connection.On<string, CamelDocumentUpdate>("DocumentUpdated", (d, u) => Updates.Add((d, u.Plain())));
        }
        else
        {
            if (bindNotifications)
                Connection.On<Notification>("ReceiveNotification", n => Notifications.Add(n));
            Connection.On<string, DocumentUpdate>("DocumentUpdated", (d, u) => Updates.Add((d, u)));
        }
    }

    /// Starts and waits for ConnectionAcknowledged (sent before the replay and UserJoined).
    public async Task<string> Start()
    {
        await Connection.StartAsync();
        return (await Acks.Next()).ConnectionId;
    }

    public async Task<List<OnlineUser>> GetOnlineUsers() => _records == Records.Camel
        ? (await Connection.InvokeAsync<List<CamelOnlineUser>>("GetOnlineUsers")).Select(u => u.Plain()).ToList()
        : await Connection.InvokeAsync<List<OnlineUser>>("GetOnlineUsers");

    public async Task<List<DocumentUpdate>> GetDocumentPatchesSince(string document, long version) =>
        _records == Records.Camel
            ? (await Connection.InvokeAsync<List<CamelDocumentUpdate>>("GetDocumentPatchesSince", document, version))
                .Select(u => u.Plain()).ToList()
            : await Connection.InvokeAsync<List<DocumentUpdate>>("GetDocumentPatchesSince", document, version);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Connection.StopAsync();
        }
        finally
        {
            await Connection.DisposeAsync();
        }
    }
}

public static class Tests
{
    public static async Task Connect(Fixture f, Protocol protocol, HttpTransportType transport)
    {
        await using var c = f.Client("ann", protocol, transport);
        await c.Connection.StartAsync();
        var (id, serverTime) = await c.Acks.Next();
        Check.True(!string.IsNullOrEmpty(id), "ConnectionAcknowledged has a connection id");
        Check.Equal(c.Connection.ConnectionId, id, "the acknowledged id is the negotiated one");
        Check.True(Math.Abs((serverTime.ToUniversalTime() - DateTime.UtcNow).TotalMinutes) < 5,
            $"serverTime {serverTime:O} is now");
        Check.True(c.TokenRequests >= 1, "the access token provider was asked");
        Check.Equal(HubConnectionState.Connected, c.Connection.State, "state");
    }

    public static async Task PushedOnce(Fixture f, Protocol protocol, HttpTransportType transport)
    {
        await using var c = f.Client("bob", protocol, transport);
        await c.Start();
        var before = DateTime.UtcNow;
        var (id, sequence) = await f.Push("bob", "first");
        Check.Equal(1L, sequence, "the push API's sequence");
        var n = await c.Notifications.Next();
        Check.Equal(new Notification(id, "first", "body of first", "info", n.CreatedAt, 1, false), n,
            "the notification");
        Check.Equal(DateTimeKind.Utc, n.CreatedAt.Kind, "createdAt is UTC");
        Check.True(Math.Abs((n.CreatedAt - before).TotalMinutes) < 5, $"createdAt {n.CreatedAt:O} is now");
        // Exactly once: the next one is the second notification, not the first again.
        var (id2, _) = await f.Push("bob", "second");
        var n2 = await c.Notifications.Next();
        Check.Equal((id2, 2L, false), (n2.Id, n2.Sequence, n2.Replayed), "the second notification");
        Check.Equal(0, c.Notifications.Count, "nothing else arrived");
    }

    public static async Task ReplayFromCursor(Fixture f, Protocol protocol, HttpTransportType transport)
    {
        for (var i = 1; i <= 3; i++)
            await f.Push("cat", $"n{i}");
        await using var c = f.Client("cat", protocol, transport, query: "?lastSequence=1");
        await c.Start();
        var a = await c.Notifications.Next();
        var b = await c.Notifications.Next();
        Check.Equal((2L, "n2", true), (a.Sequence, a.Title, a.Replayed), "first replayed");
        Check.Equal((3L, "n3", true), (b.Sequence, b.Title, b.Replayed), "second replayed");
        await f.Push("cat", "n4");
        var live = await c.Notifications.Next();
        Check.Equal((4L, false), (live.Sequence, live.Replayed), "live after the replay");
        Check.Equal(0, c.Notifications.Count, "nothing else arrived");
    }

    public static async Task LastSeen(Fixture f, Protocol protocol, HttpTransportType transport)
    {
        await using var observer = f.Client("obs", protocol, transport);
        await observer.Start();
        await observer.Joined.Next(); // itself
        var first = f.Client("dan", protocol, transport);
        await first.Start();
        Check.Equal("dan", (await observer.Joined.Next()).UserId, "UserJoined");
        await f.Push("dan", "seen");
        Check.Equal(1L, (await first.Notifications.Next()).Sequence, "delivered live");
        await first.DisposeAsync();
        // UserLeft is sent after the server stored the user's last-seen time.
        Check.Equal("dan", await observer.Left.Next(), "UserLeft");
        await f.Push("dan", "missed");
        await using var again = f.Client("dan", protocol, transport);
        await again.Start();
        // Last-seen is a time (milliseconds): one created in the millisecond of the disconnect
        // comes again. The recipe: drop what is at or below the highest sequence already seen.
        var n = await again.Notifications.Next();
        if (n.Sequence == 1)
            n = await again.Notifications.Next();
        Check.Equal((2L, "missed", true), (n.Sequence, n.Title, n.Replayed), "the missed one, replayed");
        await f.Push("dan", "live");
        var live = await again.Notifications.Next();
        Check.Equal((3L, false), (live.Sequence, live.Replayed), "live after the replay");
        Check.Equal(0, again.Notifications.Count, "nothing else arrived");
    }

    public static async Task Presence(Fixture f, Protocol protocol, HttpTransportType transport)
    {
        await using var a = f.Client("eve", protocol, transport);
        await a.Start();
        Check.Equal(("eve", "eve name"), await a.Joined.Next(), "UserJoined for itself");
        var b = f.Client("fay", protocol, transport, roles: ["Viewer"]);
        await b.Start();
        Check.Equal(("fay", "fay name"), await a.Joined.Next(), "UserJoined");
        var online = (await b.GetOnlineUsers()).OrderBy(u => u.UserId).ToList();
        Check.Sequence([new OnlineUser("eve", "eve name", 1), new OnlineUser("fay", "fay name", 1)],
            online, "GetOnlineUsers");
        await b.DisposeAsync();
        Check.Equal("fay", await a.Left.Next(), "UserLeft");
        var after = await a.GetOnlineUsers();
        Check.Sequence([new OnlineUser("eve", "eve name", 1)], after, "GetOnlineUsers after UserLeft");
    }

    public static async Task Documents(Fixture f, Protocol protocol, HttpTransportType transport)
    {
        await using var editor = f.Client("gus", protocol, transport, roles: ["Editor"]);
        await using var viewer = f.Client("hal", protocol, transport, roles: ["Viewer"]);
        await editor.Start();
        await viewer.Start();
        Check.Equal(0L, await editor.Connection.InvokeAsync<long>("JoinDocument", "doc-1"), "version (editor)");
        Check.Equal(0L, await viewer.Connection.InvokeAsync<long>("JoinDocument", "doc-1"), "version (viewer)");
        const string patch = """{"op":"insert","at":0,"text":"héllo"}""";
        Check.Equal(1L, await editor.Connection.InvokeAsync<long>("SendDocumentPatch", "doc-1", patch),
            "the version assigned");
        Check.Equal(("doc-1", new DocumentUpdate(1, patch, "gus")), await viewer.Updates.Next(), "DocumentUpdated");
        Check.Equal(2L, await editor.Connection.InvokeAsync<long>("SendDocumentPatch", "doc-1", "{}"),
            "the next version");
        Check.Equal(("doc-1", new DocumentUpdate(2, "{}", "gus")), await viewer.Updates.Next(), "DocumentUpdated");
        Check.Sequence([new DocumentUpdate(1, patch, "gus"), new DocumentUpdate(2, "{}", "gus")],
            await viewer.GetDocumentPatchesSince("doc-1", 0), "GetDocumentPatchesSince(0)");
        Check.Sequence([new DocumentUpdate(2, "{}", "gus")],
            await viewer.GetDocumentPatchesSince("doc-1", 1), "GetDocumentPatchesSince(1)");
        Check.Equal(0, editor.Updates.Count, "the author gets no DocumentUpdated");
    }

    public static async Task HubErrors(Fixture f, Protocol protocol, HttpTransportType transport)
    {
        await using var viewer = f.Client("ian", protocol, transport, roles: ["Viewer"]);
        await viewer.Start();
        var e = await Check.Throws<HubException>(
            () => viewer.Connection.InvokeAsync<long>("SendDocumentPatch", "doc-1", "{}"));
        Check.Equal("Failed to invoke 'SendDocumentPatch' because user is unauthorized", e.Message,
            "the role error");
        e = await Check.Throws<HubException>(() => viewer.Connection.InvokeAsync<long>("JoinDocument", ""));
        Check.Equal("An unexpected error occurred invoking 'JoinDocument' on the server. "
            + "HubException: A document id must have 1 to 200 characters.", e.Message, "the hub's own error");
        e = await Check.Throws<HubException>(() => viewer.Connection.InvokeAsync<long>("NoSuchMethod"));
        Check.Equal("Failed to invoke 'NoSuchMethod' due to an error on the server. "
            + "HubException: Method does not exist.", e.Message, "an unknown method");
        // The connection survives its errors.
        Check.Equal(1, (await viewer.GetOnlineUsers()).Count, "GetOnlineUsers after the errors");
    }

    public static async Task PlainRecordBindsNothing(Fixture f)
    {
        await using var c = f.Client("jay", Protocol.MessagePack, HttpTransportType.WebSockets);
        await c.Start();
        await f.Push("jay", "lost");
        var n = await c.Notifications.Next();
        // MessagePack-CSharp matches keys exactly: "id" is not "Id", so every member keeps its default.
        Check.Equal(new Notification(null!, null!, null!, null!, default, 0, false), n,
            "a PascalCase record over camelCase MessagePack");
    }

    /// The keys on the wire, read into untyped maps.
    public static async Task WireKeys(Fixture f, Protocol protocol, bool pascalKeys)
    {
        var keys = new Inbox<List<string>>("ReceiveNotification (untyped)");
        await using var c = f.Client("kim", protocol, HttpTransportType.WebSockets, bindNotifications: false);
        if (protocol == Protocol.MessagePack)
            c.Connection.On<Dictionary<object, object>>("ReceiveNotification",
                m => keys.Add(m.Keys.Select(k => (string)k).ToList()));
        else
            c.Connection.On<JsonElement>("ReceiveNotification",
                e => keys.Add(e.EnumerateObject().Select(p => p.Name).ToList()));
        await c.Start();
        await f.Push("kim", "keys");
        string[] camel = ["id", "title", "body", "type", "createdAt", "sequence", "replayed"];
        var expected = pascalKeys ? camel.Select(k => char.ToUpperInvariant(k[0]) + k[1..]).ToArray() : camel;
        Check.Sequence(expected, await keys.Next(), "the keys of ReceiveNotification");
    }

    /// A client result passes through the server (QueryClient -> GetClientInfo): its maps are the
    /// client's data, so `--messagepack-key-case pascal` must not touch them.
    public static async Task UserDataKeepsKeys(Fixture f, Protocol protocol)
    {
        await using var target = f.Client("lea", protocol, HttpTransportType.WebSockets);
        target.Connection.On("GetClientInfo", () => new Dictionary<string, object>
        {
            ["clientName"] = "dotnet",
            ["details"] = new Dictionary<string, object> { ["innerKey"] = 1 },
        });
        var targetId = await target.Start();
        await using var admin = f.Client("max", protocol, HttpTransportType.WebSockets, roles: ["Admin"]);
        await admin.Start();
        var info = await admin.Connection.InvokeAsync<Dictionary<string, object>>("QueryClient", targetId);
        Check.Sequence(["clientName", "details"], info.Keys.ToList(), "the result's keys");
        Check.Equal("dotnet", info["clientName"].ToString(), "clientName");
        var inner = info["details"] switch
        {
            JsonElement e => e.EnumerateObject().Select(p => p.Name).ToList(),
            IDictionary<object, object> d => d.Keys.Select(k => (string)k).ToList(),
            var other => throw new TestFailure($"details is a {other.GetType()}"),
        };
        Check.Sequence(["innerKey"], inner, "the nested map's keys");
    }

    /// One connection per transport/protocol with automatic reconnect; the server is stopped
    /// (SIGTERM: Close with allowReconnect) and started again on the same port, which `restarted`
    /// is told at once.
    public static async Task ReconnectAcrossRestart(Fixture f,
        (Protocol Protocol, HttpTransportType Transport)[] combinations, Action<Server> restarted)
    {
        var clients = new List<(Client Client, Inbox<string?> Reconnected, Inbox<Exception?> Reconnecting)>();
        try
        {
            foreach (var (protocol, transport) in combinations)
            {
                var reconnected = new Inbox<string?>("Reconnected");
                var reconnecting = new Inbox<Exception?>("Reconnecting");
                var c = f.Client($"r{clients.Count}", protocol, transport,
                    configure: b => b.WithAutomaticReconnect(new FastRetry()));
                c.Connection.Reconnected += id => { reconnected.Add(id); return Task.CompletedTask; };
                c.Connection.Reconnecting += e => { reconnecting.Add(e); return Task.CompletedTask; };
                clients.Add((c, reconnected, reconnecting));
                await c.Start();
            }
            var code = await f.Server.Stop();
            Check.Equal(0, code, "the server's exit code");
            foreach (var (c, _, reconnecting) in clients)
            {
                await reconnecting.Next();
                Check.Equal(HubConnectionState.Reconnecting, c.Connection.State, "state after the stop");
            }
            restarted(await Server.Start(f.Server.Path, f.Secret,
                ["--messagepack-key-case", "camel"], f.Server.Verbose, f.Server.Port));
            foreach (var (c, reconnected, _) in clients)
            {
                var id = await reconnected.Next(20);
                Check.Equal(c.Connection.ConnectionId, id, "the new connection id");
                Check.Equal(id, (await c.Acks.Next()).ConnectionId, "ConnectionAcknowledged again");
                Check.Equal(1, (await c.GetOnlineUsers()).Count(u => u.UserId == c.User), "a call after the reconnect");
            }
        }
        finally
        {
            foreach (var (c, _, _) in clients)
                await c.DisposeAsync();
        }
    }

    sealed class FastRetry : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext context) =>
            context.ElapsedTime < TimeSpan.FromSeconds(30) ? TimeSpan.FromMilliseconds(100) : null;
    }
}

// --- helpers ---------------------------------------------------------------------------------------

/// Events of one kind, awaited in order with a timeout.
public sealed class Inbox<T>(string what)
{
    readonly Channel<T> _channel = Channel.CreateUnbounded<T>();
    public void Add(T item) => _channel.Writer.TryWrite(item);
    public int Count => _channel.Reader.Count;

    public async Task<T> Next(int seconds = 10)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            return await _channel.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TestFailure($"no {what} within {seconds} s");
        }
    }
}

public static class Check
{
    public static void True(bool condition, string what)
    {
        if (!condition)
            throw new TestFailure($"expected: {what}");
    }

    public static void Equal<T>(T expected, T actual, string what)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
            throw new TestFailure($"{what}: expected {expected}, got {actual}");
    }

    public static void Sequence<T>(IEnumerable<T> expected, IEnumerable<T> actual, string what)
    {
        var e = expected.ToList();
        var a = actual.ToList();
        if (!e.SequenceEqual(a))
            throw new TestFailure($"{what}: expected [{string.Join(", ", e)}], got [{string.Join(", ", a)}]");
    }

    public static async Task<E> Throws<E>(Func<Task> call) where E : Exception
    {
        try
        {
            await call();
        }
        catch (E e)
        {
            return e;
        }
        catch (Exception e)
        {
            throw new TestFailure($"expected {typeof(E).Name}, got {e.GetType().Name}: {e.Message}");
        }
        throw new TestFailure($"expected {typeof(E).Name}, the call succeeded");
    }
}

/// HS256 JWTs as heliograph-server reads them: sub, tenant_id, name, role, exp.
public static class Jwt
{
    public static string Sign(string secret, string subject, string? tenant, string name, string[] roles,
        TimeSpan lifetime)
    {
        var claims = new Dictionary<string, object>
        {
            ["sub"] = subject,
            ["name"] = name,
            ["exp"] = DateTimeOffset.UtcNow.Add(lifetime).ToUnixTimeSeconds(),
        };
        if (tenant is not null)
            claims["tenant_id"] = tenant;
        if (roles.Length == 1)
            claims["role"] = roles[0];
        else if (roles.Length > 1)
            claims["role"] = roles;
        var signingInput = $"{Encode(JsonSerializer.SerializeToUtf8Bytes(new { alg = "HS256", typ = "JWT" }))}."
            + Encode(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(signingInput));
        return $"{signingInput}.{Encode(signature)}";
    }

    static string Encode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// The heliograph-server process: `serve --listen 127.0.0.1:PORT --memory ...`; the port comes
/// from its first stdout line, `heliograph-server listening on port N`.
public sealed partial class Server
{
    readonly Process _process;
    readonly string _dataDir;
    readonly StringBuilder _log = new();
    public string Path { get; }
    public int Port { get; private set; }
    public bool Verbose { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public string Log { get { lock (_log) return _log.ToString(); } }

    Server(string path, Process process, string dataDir, bool verbose)
    {
        Path = path;
        _process = process;
        _dataDir = dataDir;
        Verbose = verbose;
    }

    public static async Task<Server> Start(string path, string secret, string[] extra, bool verbose, int port = 0)
    {
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var dataDir = Directory.CreateTempSubdirectory("hg-dotnet-").FullName;
        foreach (var a in (string[])["serve", "--listen", $"127.0.0.1:{port}", "--memory", "--threads", "2",
                     "--jwt-secret", secret, "--data", dataDir])
            start.ArgumentList.Add(a);
        foreach (var a in extra)
            start.ArgumentList.Add(a);
        var process = Process.Start(start) ?? throw new TestFailure($"cannot start {path}");
        var server = new Server(path, process, dataDir, verbose);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (server._log)
                server._log.AppendLine(e.Data);
            if (verbose)
                Console.Error.WriteLine($"[server {process.Id}] {e.Data}");
        };
        process.BeginErrorReadLine();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (true)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new TestFailure($"heliograph-server exited before listening:\n{server.Log}");
                var m = ListeningLine().Match(line);
                if (m.Success)
                {
                    server.Port = int.Parse(m.Groups[1].Value);
                    break;
                }
            }
        }
        catch
        {
            await server.Stop();
            throw;
        }
        _ = process.StandardOutput.ReadToEndAsync(); // keep the pipe drained
        return server;
    }

    /// SIGTERM (a drain: Close with allowReconnect to every connection), then the exit code.
    public async Task<int> Stop()
    {
        if (!_process.HasExited && Kill(_process.Id, 15) != 0)
            _process.Kill();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            return -1;
        }
        if (Directory.Exists(_dataDir))
            Directory.Delete(_dataDir, recursive: true);
        return _process.ExitCode;
    }

    [DllImport("libc", EntryPoint = "kill")]
    static extern int Kill(int pid, int signal);

    [GeneratedRegex(@"listening on port (\d+)")]
    private static partial Regex ListeningLine();
}
