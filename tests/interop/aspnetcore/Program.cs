// SPDX-License-Identifier: MIT
// The ASP.NET Core hub server for the Qt client library's interop tests: every transport
// (WebSockets, Server-Sent Events, long polling), both hub protocols (JSON, MessagePack), stateful
// reconnect, and a hub behind a trivial bearer scheme. The hub contract is in TestHub.cs and
// README.md.
//
//   dotnet InteropTestHub.dll --urls http://127.0.0.1:0
//
// prints exactly one line `listening on http://127.0.0.1:NNNNN` on stdout once Kestrel is bound
// (port 0 picks a free one); logs go to stderr at Warning. SIGTERM stops it with exit code 0.
using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Xml.Linq;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace); // stdout: the port only
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));

builder.Services.AddSignalR(o =>
{
    o.EnableDetailedErrors = false;
    // Client results (AskClient) wait for the caller's answer inside a hub method; with the
    // default of 1 the caller could not run another invocation meanwhile.
    o.MaximumParallelInvocationsPerClient = 10;
})
    .AddMessagePackProtocol() // JSON is on by default
    .AddHubOptions<DetailedTestHub>(o => o.EnableDetailedErrors = true);
// Remembers each connection's HubConnectionContext (its protocol; CloseMe writes through it).
builder.Services.AddSingleton<ConnectionRegistry>();
builder.Services.AddSingleton(typeof(HubLifetimeManager<>), typeof(TrackingHubLifetimeManager<>));

// Authentication brings in data protection, whose key ring is created at start-up and by default
// persisted under ~/.aspnet: keep it in memory instead (nothing here protects data).
builder.Services.Configure<KeyManagementOptions>(o =>
{
    o.XmlRepository = new InMemoryXmlRepository();
    o.XmlEncryptor = new NullXmlEncryptor();
});
builder.Services.AddAuthentication(TestBearerHandler.SchemeName)
    .AddScheme<AuthenticationSchemeOptions, TestBearerHandler>(TestBearerHandler.SchemeName, null);
builder.Services.AddAuthorization();

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();
app.MapHub<TestHub>("/hubs/test", o => o.AllowStatefulReconnects = true);
app.MapHub<DetailedTestHub>("/hubs/test-detailed", o => o.AllowStatefulReconnects = true);
app.MapHub<AuthHub>("/hubs/auth", o => o.AllowStatefulReconnects = true);

app.Lifetime.ApplicationStarted.Register(() =>
{
    // Kestrel has bound by now; for port 0 the address carries the port it picked.
    var address = app.Services.GetRequiredService<IServer>().Features
        .Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
    Console.Out.WriteLine($"listening on {address}");
    Console.Out.Flush();
});

app.Run();
return 0;

/// <summary>
/// The trivial bearer scheme of <c>/hubs/auth</c>: the token <c>good-token</c>, from the
/// <c>Authorization: Bearer</c> header or the <c>access_token</c> query parameter, is the user
/// <c>tester</c>; anything else is not authenticated, so the endpoint answers 401.
/// </summary>
sealed class TestBearerHandler(IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "TestBearer";
    public const string GoodToken = "good-token";
    public const string UserName = "tester";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? token = null;
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.Ordinal))
            token = header["Bearer ".Length..];
        else if (Request.Query.TryGetValue("access_token", out var fromQuery))
            token = fromQuery.ToString();
        if (token is null)
            return Task.FromResult(AuthenticateResult.NoResult());
        if (token != GoodToken)
            return Task.FromResult(AuthenticateResult.Fail("invalid token"));
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, UserName), new Claim(ClaimTypes.Name, UserName)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(
            new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}

/// <summary>Data protection keys that live as long as the process.</summary>
sealed class InMemoryXmlRepository : IXmlRepository
{
    private readonly List<XElement> _elements = [];

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        lock (_elements)
            return _elements.Select(e => new XElement(e)).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        lock (_elements)
            _elements.Add(new XElement(element));
    }
}

/// <summary>The live connections of all hubs, by connection id.</summary>
public sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<string, HubConnectionContext> _connections = new();
    public void Add(HubConnectionContext c) => _connections[c.ConnectionId] = c;
    public void Remove(HubConnectionContext c) => _connections.TryRemove(c.ConnectionId, out _);
    public HubConnectionContext? Find(string connectionId) =>
        _connections.TryGetValue(connectionId, out var c) ? c : null;
}

/// <summary>
/// ASP.NET Core's own lifetime manager, plus the registry: a hub method sees only
/// <c>HubCallerContext</c>, which exposes neither the negotiated protocol nor a way to write a
/// message of our choosing to the connection; <c>HubConnectionContext</c> has both.
/// </summary>
sealed class TrackingHubLifetimeManager<THub>(ILogger<DefaultHubLifetimeManager<THub>> logger,
    ConnectionRegistry registry) : DefaultHubLifetimeManager<THub>(logger) where THub : Hub
{
    public override Task OnConnectedAsync(HubConnectionContext connection)
    {
        registry.Add(connection);
        return base.OnConnectedAsync(connection);
    }

    public override Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        registry.Remove(connection);
        return base.OnDisconnectedAsync(connection);
    }
}
