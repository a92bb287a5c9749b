// SPDX-License-Identifier: MIT
// The C++ hub API: typed hub methods, per-method authorization, lifecycle hooks.
#pragma once

#include "signalr/hubreply.h"
#include "signalr/hubtypes.h"
#include "signalr/serverstream.h"
#include "signalr/uploadstream.h"

#include <heliograph/protocol/convert.h>

#include <QtCore/QHash>

#include <functional>
#include <tuple>
#include <type_traits>

namespace Heliograph::Server {

class ConnectionRegistry;
class HubConnectionContext;
class HubLifetimeManager;

/// What a hub method sees of the call: the caller, and ways to reach other clients.
class HubCallContext {
public:
    HubCallContext(HubConnectionContext &caller, HubLifetimeManager &lifetime)
        : m_caller(caller)
        , m_lifetime(lifetime)
    { }
    HubConnectionContext &caller() const noexcept { return m_caller; }
    HubLifetimeManager &clients() const noexcept { return m_lifetime; }
    const Principal &user() const noexcept;
    const QByteArray &connectionId() const noexcept;

private:
    HubConnectionContext &m_caller;
    HubLifetimeManager &m_lifetime;
};

/// The outcome of binding and running a hub method.
struct InvocationOutcome {
    enum class Status : quint8 { Ok, BindingFailed, Unauthorized, Threw, HubError };
    Status status = Status::Ok;
    Value result; ///< void methods give null (as .NET does)
    QString detail; ///< the exception or binding message
};

/// Who may call a method: any of `roles` (empty = any authenticated caller), and a predicate.
struct MethodPolicy {
    QList<QByteArray> anyRole;
    std::function<bool(const Principal &)> requirement;
    bool allowAnonymous = false;
    bool allows(const Principal &p) const
    {
        if (!allowAnonymous && !p.isAuthenticated())
            return false;
        if (!anyRole.isEmpty()) {
            bool ok = false;
            for (const QByteArray &r : anyRole)
                ok = ok || p.hasRole(r);
            if (!ok)
                return false;
        }
        return !requirement || requirement(p);
    }
};

namespace Detail {
/// A handler's signature `R f(HubCallContext &, P...)`: a lambda, a function object or a
/// function pointer.
template<typename T> struct Signature : Signature<decltype(&T::operator())> { };
template<typename R, typename... P> struct Signature<R (*)(HubCallContext &, P...)> {
    using Result = R;
    using Params = std::tuple<std::decay_t<P>...>;
};
template<typename R, typename C, typename... P>
struct Signature<R (C::*)(HubCallContext &, P...) const>
    : Signature<R (*)(HubCallContext &, P...)> { };
template<typename R, typename C, typename... P>
struct Signature<R (C::*)(HubCallContext &, P...)> : Signature<R (*)(HubCallContext &, P...)> { };

/// The elements of `Tuple` from index `Offset` on, `Count` of them.
template<size_t Offset, size_t Count, typename Tuple,
         typename Indices = std::make_index_sequence<Count>>
struct TupleSlice;
template<size_t Offset, size_t Count, typename Tuple, size_t... I>
struct TupleSlice<Offset, Count, Tuple, std::index_sequence<I...>> {
    using type = std::tuple<std::tuple_element_t<Offset + I, Tuple>...>;
};

/// What every registration needs of its handler: the hub arguments (after the context and the
/// handles the registration passes itself, `Handles...`: none for a plain method,
/// ServerStreamPtr for a stream, HubReplyPtr for an async method, HubReplyPtr and
/// QList<UploadStreamPtr> for an upload method), their number and the result type.
template<typename F, typename... Handles> struct HandlerTraits {
    using Params = typename Signature<F>::Params;
    static constexpr size_t HandleCount = sizeof...(Handles);
    static_assert(std::tuple_size_v<Params> >= HandleCount
                      && std::is_same_v<typename TupleSlice<0, HandleCount, Params>::type,
                                        std::tuple<Handles...>>,
                  "after HubCallContext &, the handler must take the handles of its kind of "
                  "method first (see Hub::addStreamMethod, addAsyncMethod, addUploadMethod)");
    using Result = typename Signature<F>::Result;
    using Args =
        typename TupleSlice<HandleCount, std::tuple_size_v<Params> - HandleCount, Params>::type;
    static constexpr size_t Arity = std::tuple_size_v<Args>;
};
} // namespace Detail

class Hub {
public:
    /// What a streaming or async method gets besides its arguments (null otherwise).
    struct Handles {
        ServerStreamPtr stream;
        HubReplyPtr reply;
        QList<UploadStreamPtr> uploads;
    };
    using Invoker = std::function<InvocationOutcome(HubCallContext &, const ValueList &,
                                                    const Handles &handles)>;
    struct Method {
        QByteArray name;
        Invoker invoke;
        MethodPolicy policy;
        int arity = 0;
        bool streaming = false;
        bool async = false;
        int uploadStreams = 0; ///< client-to-server streams the method takes
    };

    explicit Hub(QByteArray path)
        : m_path(std::move(path))
    { }
    virtual ~Hub() = default;

    const QByteArray &path() const noexcept { return m_path; }

    /// Registers `f(HubCallContext&, Args...) -> R`: arguments are converted with fromValue(),
    /// the result with toValue(); wrong arity or types give ASP.NET Core's error completions.
    template<typename F> void addMethod(QByteArray name, F f, MethodPolicy policy = {})
    {
        using Traits = Detail::HandlerTraits<std::decay_t<F>>;
        Method m;
        m.name = std::move(name);
        m.arity = int(Traits::Arity);
        m.policy = std::move(policy);
        m.invoke = [f = std::move(f)](HubCallContext &ctx, const ValueList &args, const Handles &) {
            return invokeTyped<Traits>(
                [&f](HubCallContext &c, auto &&...a) {
                    return f(c, std::forward<decltype(a)>(a)...);
                },
                ctx, args, std::make_index_sequence<Traits::Arity>());
        };
        insert(std::move(m));
    }

    /// Registers a server-to-client stream: `f(HubCallContext&, ServerStreamPtr, Args...)`
    /// writes items to the stream, now or later, and completes or fails it; the client's
    /// CancelInvocation calls the stream's cancel handler.
    template<typename F> void addStreamMethod(QByteArray name, F f, MethodPolicy policy = {})
    {
        using Traits = Detail::HandlerTraits<std::decay_t<F>, ServerStreamPtr>;
        Method m;
        m.name = std::move(name);
        m.arity = int(Traits::Arity);
        m.policy = std::move(policy);
        m.streaming = true;
        m.invoke
            = [f = std::move(f)](HubCallContext &ctx, const ValueList &args, const Handles &h) {
                  return invokeTyped<Traits>(
                      [&f, &h](HubCallContext &c, auto &&...a) {
                          return f(c, h.stream, std::forward<decltype(a)>(a)...);
                      },
                      ctx, args, std::make_index_sequence<Traits::Arity>());
              };
        insert(std::move(m));
    }

    /// Registers a method that takes `streamCount` client-to-server streams (the client's
    /// streamIds) and completes later: `f(HubCallContext&, HubReplyPtr, QList<UploadStreamPtr>,
    /// Args...)`. Open streams are ended when the reply completes.
    template<typename F>
    void addUploadMethod(QByteArray name, int streamCount, F f, MethodPolicy policy = {})
    {
        using Traits = Detail::HandlerTraits<std::decay_t<F>, HubReplyPtr, QList<UploadStreamPtr>>;
        Method m;
        m.name = std::move(name);
        m.arity = int(Traits::Arity);
        m.policy = std::move(policy);
        m.async = true;
        m.uploadStreams = streamCount;
        m.invoke
            = [f = std::move(f)](HubCallContext &ctx, const ValueList &args, const Handles &h) {
                  return invokeTyped<Traits>(
                      [&f, &h](HubCallContext &c, auto &&...a) {
                          return f(c, h.reply, h.uploads, std::forward<decltype(a)>(a)...);
                      },
                      ctx, args, std::make_index_sequence<Traits::Arity>());
              };
        insert(std::move(m));
    }

    /// Registers a method that completes later: `f(HubCallContext&, HubReplyPtr, Args...)`
    /// resolves or rejects the reply, now or from a later event (a client result, a job).
    /// While it is pending, further invocations of this client wait
    /// (HubOptions::maximumParallelInvocationsPerClient).
    template<typename F> void addAsyncMethod(QByteArray name, F f, MethodPolicy policy = {})
    {
        using Traits = Detail::HandlerTraits<std::decay_t<F>, HubReplyPtr>;
        Method m;
        m.name = std::move(name);
        m.arity = int(Traits::Arity);
        m.policy = std::move(policy);
        m.async = true;
        m.invoke
            = [f = std::move(f)](HubCallContext &ctx, const ValueList &args, const Handles &h) {
                  return invokeTyped<Traits>(
                      [&f, &h](HubCallContext &c, auto &&...a) {
                          return f(c, h.reply, std::forward<decltype(a)>(a)...);
                      },
                      ctx, args, std::make_index_sequence<Traits::Arity>());
              };
        insert(std::move(m));
    }

    /// Method lookup ignores case, as ASP.NET Core's does.
    const Method *method(QByteArrayView name) const
    {
        auto it = m_methods.constFind(name.toByteArray().toLower());
        return it == m_methods.cend() ? nullptr : &it.value();
    }

    /// Lifecycle hooks, called on the connection's thread. Throwing from onConnected closes the
    /// connection with an error (reconnect not allowed).
    virtual void onConnected(HubCallContext &) { }
    virtual void onDisconnected(HubCallContext &) { }

    /// Who may connect at all (default: any authenticated user).
    MethodPolicy connectPolicy;

    /// Where this hub's connections are listed for the admin console (null: not listed). Set
    /// before the server starts; must outlive every connection of the hub.
    ConnectionRegistry *registry = nullptr;

    /// For hubs that take no access token (the benchmark hub only): when set, HubServer does
    /// not authenticate this hub's requests and names the caller with this function of the
    /// request's decoded query instead. Unset (the default): a valid access token is required.
    using AnonymousIdentity
        = std::function<Principal(const QList<std::pair<QByteArray, QByteArray>> &query)>;
    AnonymousIdentity anonymousIdentity;

private:
    /// Adds `m` under its lower-case name (replacing a method of the same name).
    void insert(Method &&m)
    {
        QByteArray key = m.name.toLower();
        m_methods.emplace(std::move(key), std::move(m));
    }

    template<typename Traits, typename F, size_t... I>
    static InvocationOutcome invokeTyped(F &&f, HubCallContext &ctx, const ValueList &args,
                                         std::index_sequence<I...>)
    {
        InvocationOutcome out;
        if (size_t(args.size()) != Traits::Arity) {
            out.status = InvocationOutcome::Status::BindingFailed;
            out.detail = QStringLiteral("InvalidDataException: Invocation provides %1 argument(s) "
                                        "but target expects %2.")
                             .arg(args.size())
                             .arg(Traits::Arity);
            return out;
        }
        typename Traits::Args bound;
        QString error;
        bool ok = true;
        int failedIndex = -1;
        auto bindOne = [&](auto &slot, const Value &v, int index) {
            if (!ok)
                return;
            using T = std::decay_t<decltype(slot)>;
            if (!ValueTraits<T>::fromValue(v, slot, error)) {
                ok = false;
                failedIndex = index;
            }
        };
        (bindOne(std::get<I>(bound), args[qsizetype(I)], int(I)), ...);
        Q_UNUSED(bindOne); // unused for methods without arguments
        if (!ok) {
            out.status = InvocationOutcome::Status::BindingFailed;
            out.detail
                = QStringLiteral("InvalidDataException: Error binding argument %1. Make sure "
                                 "that the types of the provided values match the types of "
                                 "the hub method being invoked. (%2)")
                      .arg(failedIndex + 1)
                      .arg(error);
            return out;
        }
        try {
            if constexpr (std::is_void_v<typename Traits::Result>) {
                // NOLINTNEXTLINE(bugprone-use-after-move): each get<I> moves another element
                f(ctx, std::get<I>(std::move(bound))...);
                out.result = Value();
            } else {
                // NOLINTNEXTLINE(bugprone-use-after-move): each get<I> moves another element
                out.result = toValue(f(ctx, std::get<I>(std::move(bound))...));
            }
        } catch (const HubUnauthorizedException &) {
            out.status = InvocationOutcome::Status::Unauthorized;
        } catch (const HubException &e) {
            out.status = InvocationOutcome::Status::HubError;
            out.detail = QStringLiteral("HubException: ") + QString::fromUtf8(e.what());
        } catch (const std::exception &e) {
            out.status = InvocationOutcome::Status::Threw;
            out.detail = QString::fromUtf8(typeid(e).name()) + QStringLiteral(": ")
                + QString::fromUtf8(e.what());
        }
        return out;
    }

    QByteArray m_path;
    QHash<QByteArray, Method> m_methods;
};

} // namespace Heliograph::Server
