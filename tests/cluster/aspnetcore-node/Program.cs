// SPDX-License-Identifier: MIT
// The ASP.NET Core node of the mixed-cluster test (tests/cluster/mixed.test.mjs): one hub,
// ClusterPeer.Hubs.NotificationHub at /hubs/notifications, on ASP.NET Core's own Redis backplane
// (Microsoft.AspNetCore.SignalR.StackExchangeRedis), JSON and MessagePack. heliograph-server shares
// the Redis with it and must interoperate byte for byte (docs: redis-backplane.md).
//
//   dotnet ClusterPeer.dll --urls http://127.0.0.1:0 --redis 127.0.0.1:PORT [--channel-prefix P]
//
// Once Kestrel is bound and the backplane has subscribed its start-up channels, prints exactly one
// line `listening on http://127.0.0.1:NNNNN` on stdout. Logs go to stderr at Warning (more with
// e.g. `--Logging:LogLevel:Default Debug`). If Redis cannot be reached it writes why to stderr and
// exits with 1. SIGTERM stops it with exit code 0. The hub is in NotificationHub.cs.
//
// No authentication: a client says who it is in the query string, `?user=U&tenant=T`. On connect
// the hub puts the connection into the groups heliograph-server's notification hub uses,
// `tenant:T` and `user:T/U`. The HTTP endpoints below drive IHubContext; each answers 200 once the
// awaited call has completed, or 500 with the exception's text.
using ClusterPeer.Hubs;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.SignalR;
using RedisChannel = StackExchange.Redis.RedisChannel;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace); // stdout: the port only
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));

// `--redis HOST:PORT` and `--channel-prefix P` arrive as configuration keys (command-line provider).
var redis = builder.Configuration["redis"];
if (string.IsNullOrWhiteSpace(redis))
{
    Console.Error.WriteLine("usage: ClusterPeer --urls http://127.0.0.1:0 --redis HOST:PORT [--channel-prefix P]");
    return 2;
}
var channelPrefix = builder.Configuration["channel-prefix"];

builder.Services.AddSignalR()
    .AddMessagePackProtocol() // JSON is on by default: the backplane carries both, json first
    .AddStackExchangeRedis(redis, o =>
    {
        if (!string.IsNullOrEmpty(channelPrefix))
            o.Configuration.ChannelPrefix = RedisChannel.Literal(channelPrefix);
    });
builder.Services.AddSingleton<IUserIdProvider, QueryUserIdProvider>();

var app = builder.Build();
app.MapHub<NotificationHub>("/hubs/notifications");

// Runs one IHubContext call: 200 (with its text, if any) once it completed, 500 with the exception.
static async Task<IResult> Run(Func<Task<string>> call)
{
    try
    {
        return Results.Text(await call(), "text/plain", statusCode: 200);
    }
    catch (Exception ex)
    {
        return Results.Text(ex.ToString(), "text/plain", statusCode: 500);
    }
}

app.MapPost("/send/all", (string target, string arg, IHubContext<NotificationHub> hub) =>
    Run(async () => { await hub.Clients.All.SendAsync(target, arg); return ""; }));
app.MapPost("/send/group", (string group, string target, string arg, IHubContext<NotificationHub> hub) =>
    Run(async () => { await hub.Clients.Group(group).SendAsync(target, arg); return ""; }));
app.MapPost("/send/user", (string user, string target, string arg, IHubContext<NotificationHub> hub) =>
    Run(async () => { await hub.Clients.User(user).SendAsync(target, arg); return ""; }));
app.MapPost("/send/connection", (string id, string target, string arg, IHubContext<NotificationHub> hub) =>
    Run(async () => { await hub.Clients.Client(id).SendAsync(target, arg); return ""; }));
// For a connection on another node these publish a group command and wait for its owner's ack
// (ASP.NET Core gives up after 30-35 s).
app.MapPost("/groups/add", (string id, string group, IHubContext<NotificationHub> hub) =>
    Run(async () => { await hub.Groups.AddToGroupAsync(id, group); return ""; }));
app.MapPost("/groups/remove", (string id, string group, IHubContext<NotificationHub> hub) =>
    Run(async () => { await hub.Groups.RemoveFromGroupAsync(id, group); return ""; }));
// A client result, local or across the backplane; the answer is the result string.
app.MapPost("/invoke", (string id, string target, string arg, IHubContext<NotificationHub> hub) =>
    Run(async () =>
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await hub.Clients.Client(id).InvokeAsync<string>(target, arg, timeout.Token);
    }));

await app.StartAsync();

// The lifetime manager connects to Redis in its constructor, without waiting; a publish waits for
// that connection and for the start-up subscriptions (all, internal:groups, internal:ack). One
// publish to a group nobody joins makes sure the node is on the backplane before it says so.
try
{
    var hub = app.Services.GetRequiredService<IHubContext<NotificationHub>>();
    await hub.Clients.Group("cluster-peer:startup").SendAsync("Startup");
}
catch (Exception ex)
{
    Console.Error.WriteLine($"cannot use the Redis backplane at {redis}: {ex.Message}");
    await app.StopAsync();
    return 1;
}

var address = app.Services.GetRequiredService<IServer>().Features
    .Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
Console.Out.WriteLine($"listening on {address}");
Console.Out.Flush();

await app.WaitForShutdownAsync();
return 0;

/// <summary>The user id is the <c>user</c> query parameter of the connect request.</summary>
sealed class QueryUserIdProvider : IUserIdProvider
{
    public string? GetUserId(HubConnectionContext connection)
    {
        var user = connection.GetHttpContext()?.Request.Query["user"].ToString();
        return string.IsNullOrEmpty(user) ? null : user;
    }
}
