// SPDX-License-Identifier: MIT
// The ASP.NET Core peer for the head-to-head benchmark: the same hub contract as
// heliograph-server's `serve --bench-hub` (server/src/bench/benchhub.h), with everything else at
// the defaults a user would deploy.
//
//   AspNetCoreBenchServer --urls http://127.0.0.1:0
//
// prints `listening on http://127.0.0.1:NNNNN` once Kestrel is bound (port 0 picks a free one).
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.SignalR;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSignalR().AddMessagePackProtocol(); // JSON is on by default
builder.Services.AddSingleton<IUserIdProvider, UserFromQuery>();

var app = builder.Build();
app.MapHub<BenchHub>("/hubs/bench");

app.Lifetime.ApplicationStarted.Register(() =>
{
    // Kestrel has bound by now; for port 0 the addresses carry the port it picked.
    var addresses = app.Services.GetRequiredService<IServer>().Features
        .Get<IServerAddressesFeature>()?.Addresses ?? [];
    foreach (var address in addresses)
        Console.WriteLine($"listening on {address}");
});

app.Run();

/// <summary>No authentication: the user id is the hub URL's <c>user</c> query parameter
/// (<c>/hubs/bench?user=u17</c>); without it the connection has no user.</summary>
sealed class UserFromQuery : IUserIdProvider
{
    public string? GetUserId(HubConnectionContext connection)
    {
        var user = connection.GetHttpContext()?.Request.Query["user"].FirstOrDefault();
        return string.IsNullOrEmpty(user) ? null : user;
    }
}

/// <summary>The benchmark contract; the client method is <c>Receive(payload)</c>.</summary>
sealed class BenchHub : Hub
{
    public string? Echo(string? payload) => payload;

    public Task JoinGroup(string group) =>
        Groups.AddToGroupAsync(Context.ConnectionId, group);

    public Task BroadcastToGroup(string group, string? payload) =>
        Clients.Group(group).SendAsync("Receive", payload);

    public Task SendToUser(string userId, string? payload) =>
        Clients.User(userId).SendAsync("Receive", payload);

    /// <summary>For the client benchmark (bench/clientbench): Receive(payload) to the caller
    /// <paramref name="count"/> times, each send awaited (so a slow reader holds it back), then
    /// returns <paramref name="count"/>.</summary>
    public async Task<int> Flood(int count, string? payload)
    {
        for (var i = 0; i < count; i++)
            await Clients.Caller.SendAsync("Receive", payload);
        return count;
    }
}
