// SPDX-License-Identifier: MIT
// HubConnection: a SignalR hub connection for QML. Everything but the variadic calls is in
// the C++ base (HubConnectionBase, qmlhubconnection.h).
import Heliograph.Client

HubConnectionBase {
    /// invoke(method, ...args): calls a hub method; returns a PendingCall (then(onResult,
    /// onError), finished, result, error).
    function invoke(method) {
        return invokeWithArguments(method, Array.prototype.slice.call(arguments, 1))
    }
    /// send(method, ...args): fire and forget; the PendingCall finishes once it was sent.
    function send(method) {
        return sendWithArguments(method, Array.prototype.slice.call(arguments, 1))
    }
}
