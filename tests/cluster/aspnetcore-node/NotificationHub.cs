// SPDX-License-Identifier: MIT
using Microsoft.AspNetCore.SignalR;

namespace ClusterPeer.Hubs;

/// <summary>
/// The peer of heliograph-server's notification hub: the same full name on both nodes (it is
/// the backplane's channel prefix), the same group names, nothing else of its behaviour.
/// </summary>
public class NotificationHub : Hub
{
    public override async Task OnConnectedAsync()
    {
        var query = Context.GetHttpContext()?.Request.Query;
        var tenant = query?["tenant"].ToString();
        var user = Context.UserIdentifier;
        if (!string.IsNullOrEmpty(tenant))
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, $"tenant:{tenant}");
            if (!string.IsNullOrEmpty(user))
                await Groups.AddToGroupAsync(Context.ConnectionId, $"user:{tenant}/{user}");
        }
        await base.OnConnectedAsync();
    }

    public string Echo(string value) => value;
}
