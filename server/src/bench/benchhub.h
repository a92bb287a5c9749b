// SPDX-License-Identifier: MIT
// The benchmark hub (`serve --bench-hub`): the contract bench/heliograph-bench drives, the same
// as the ASP.NET Core peer's in bench/aspnetcore. It takes no access token: the caller's user id
// is the `user` query parameter of the hub URL. For benchmarks only.
#pragma once

#include "signalr/hub.h"

namespace Heliograph::Server {

/// At /hubs/bench:
/// - Echo(string payload) -> string: the payload unchanged;
/// - JoinGroup(string group): adds the caller to the group;
/// - BroadcastToGroup(string group, string payload): Receive(payload) to every member;
/// - SendToUser(string userId, string payload): Receive(payload) to every connection of the user.
/// - Flood(int count, string payload) -> count: Receive(payload) to the caller `count` times.
/// Serve it with its own HubLifetimeManager.
class BenchHub : public Hub {
public:
    BenchHub();
};

} // namespace Heliograph::Server
