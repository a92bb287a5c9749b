// SPDX-License-Identifier: MIT
// hubclient: connects to a SignalR hub with Heliograph Client, optionally invokes one method,
// prints what the server sends to the methods it listens to, and shows every state change,
// automatic reconnects included. Building and running it: examples/README.md.
//
//   hubclient http://127.0.0.1:5000/hubs/bench Echo '"hello"'
//   hubclient --protocol messagepack --listen Receive --expect 1
//             'http://127.0.0.1:5000/hubs/bench?user=me' SendToUser me hi
//   hubclient --token "$TOKEN" --listen ReceiveNotification --stay
//             http://127.0.0.1:5000/hubs/notifications

#include <heliograph/client/heliographclient_version.h>
#include <heliograph/client/hubconnection.h>
#include <heliograph/protocol/json.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QLoggingCategory>
#include <QtCore/QMetaEnum>
#include <QtCore/QTextStream>
#include <QtCore/QTimer>

#include <chrono>

#ifdef Q_OS_UNIX
#include <QtCore/QSocketNotifier>

#include <csignal>
#include <sys/socket.h>
#include <unistd.h>
#endif

using namespace Qt::StringLiterals;
using Heliograph::HubConnection;

namespace {

// Exit codes, also listed by --help.
enum ExitCode {
    Ok = 0,
    CallFailed = 1, // the invocation completed with an error
    Usage = 2,
    ConnectFailed = 3, // the connection could not be established
    TimedOut = 4, // --timeout passed before the work was done
    ConnectionEnded = 5, // an established connection ended for good before the work was done
};

template<typename E> QString enumName(E value)
{
    return QString::fromLatin1(QMetaEnum::fromType<E>().valueToKey(int(value)));
}

// One event per line on stdout, flushed at once, so that a script can follow along.
void print(const QString &line)
{
    QTextStream out(stdout);
    out << line << Qt::endl;
}

void printError(const QString &line)
{
    QTextStream err(stderr);
    err << line << Qt::endl;
}

QString json(const Heliograph::Value &value)
{
    return QString::fromUtf8(Heliograph::Json::serialize(value));
}

// Each argument is JSON when it parses as JSON (42, true, "text", [1,2], {"a":1}), a string
// otherwise: `hello` and `'"hello"'` both pass the string hello.
Heliograph::ValueList parseArguments(const QStringList &texts)
{
    Heliograph::ValueList arguments;
    for (const QString &text : texts) {
        const QByteArray utf8 = text.toUtf8();
        auto parsed = Heliograph::Json::parse(utf8);
        arguments.append(parsed ? *parsed : Heliograph::Value::fromUtf8(utf8));
    }
    return arguments;
}

bool parseTransports(const QStringList &names, HubConnection::Transports &transports,
                     QString &error)
{
    if (names.isEmpty()) {
        transports = HubConnection::Transport::WebSockets
            | HubConnection::Transport::ServerSentEvents | HubConnection::Transport::LongPolling;
        return true;
    }
    transports = {};
    for (const QString &list : names) {
        for (const QString &name : list.split(u',', Qt::SkipEmptyParts)) {
            const QString n = name.trimmed().toLower();
            if (n == "websockets"_L1)
                transports |= HubConnection::Transport::WebSockets;
            else if (n == "sse"_L1 || n == "serversentevents"_L1)
                transports |= HubConnection::Transport::ServerSentEvents;
            else if (n == "longpolling"_L1)
                transports |= HubConnection::Transport::LongPolling;
            else {
                error = u"unknown transport '%1' (websockets, sse, longpolling)"_s.arg(name);
                return false;
            }
        }
    }
    return true;
}

#ifdef Q_OS_UNIX
// SIGINT/SIGTERM stop the connection cleanly (a Close message is sent) instead of killing
// the process: the handler only writes a byte, the event loop does the rest.
int signalFds[2] = {-1, -1};
extern "C" void onSignal(int)
{
    const char byte = 1;
    [[maybe_unused]] const auto written = ::write(signalFds[1], &byte, 1);
}
#endif

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"hubclient"_s);
    QCoreApplication::setApplicationVersion(QStringLiteral(HELIOGRAPH_CLIENT_VERSION_STRING));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        u"Connects to a SignalR hub, invokes <method> with the given arguments (each one JSON, "
        "or else a string) and prints the result; prints every call of the --listen methods "
        "and every state change.\n\nExit codes: 0 done, 1 the invocation failed, 2 usage, "
        "3 could not connect, 4 timed out, 5 the connection ended for good."_s);
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(u"url"_s, u"The hub URL, e.g. http://127.0.0.1:5000/hubs/bench"_s);
    parser.addPositionalArgument(u"method"_s, u"The hub method to invoke (optional)."_s,
                                 u"[method [arguments...]]"_s);
    const QCommandLineOption protocolOption(u"protocol"_s, u"json (default) or messagepack."_s,
                                            u"name"_s, u"json"_s);
    const QCommandLineOption transportOption(
        u"transport"_s,
        u"websockets, sse or longpolling; repeat or separate with commas (default: all, in "
        "that order)."_s,
        u"name"_s);
    const QCommandLineOption tokenOption(
        u"token"_s, u"Access token (sent as a Bearer token); default: $HELIOGRAPH_TOKEN."_s,
        u"token"_s);
    const QCommandLineOption listenOption(
        u"listen"_s, u"Print every call of this client method (repeatable)."_s, u"method"_s);
    const QCommandLineOption expectOption(
        u"expect"_s, u"Wait for this many calls of the --listen methods before exiting."_s,
        u"count"_s, u"0"_s);
    const QCommandLineOption sendOption(
        u"send"_s, u"Send <method> without waiting for a result (fire and forget)."_s);
    const QCommandLineOption stayOption(u"stay"_s,
                                        u"Keep running (and reconnecting) until interrupted."_s);
    const QCommandLineOption timeoutOption(
        u"timeout"_s, u"Give up after this many seconds (default 30; 0: never)."_s, u"seconds"_s,
        u"30"_s);
    const QCommandLineOption verboseOption(
        u"verbose"_s, u"Show the library's informational logs (heliograph.client.*) too."_s);
    parser.addOptions({protocolOption, transportOption, tokenOption, listenOption, expectOption,
                       sendOption, stayOption, timeoutOption, verboseOption});
    parser.process(app);

    auto usage = [&](const QString &message) {
        printError(u"hubclient: "_s + message);
        printError(u"Try 'hubclient --help'."_s);
        return Usage;
    };
    const QStringList positional = parser.positionalArguments();
    if (positional.isEmpty())
        return usage(u"missing <url>"_s);
    const QUrl url(positional.first(), QUrl::StrictMode);
    if (!url.isValid() || url.scheme().isEmpty())
        return usage(u"invalid URL '%1'"_s.arg(positional.first()));
    const QString method = positional.value(1);
    const Heliograph::ValueList arguments = parseArguments(positional.mid(2));

    const QString protocolName = parser.value(protocolOption).toLower();
    HubConnection::Protocol protocol = HubConnection::Protocol::Json;
    if (protocolName == "messagepack"_L1)
        protocol = HubConnection::Protocol::MessagePack;
    else if (protocolName != "json"_L1)
        return usage(u"unknown protocol '%1' (json, messagepack)"_s.arg(protocolName));
    HubConnection::Transports transports;
    QString transportError;
    if (!parseTransports(parser.values(transportOption), transports, transportError))
        return usage(transportError);
    bool ok = false;
    const int expected = parser.value(expectOption).toInt(&ok);
    if (!ok || expected < 0)
        return usage(u"--expect needs a count"_s);
    const int timeoutSeconds = parser.value(timeoutOption).toInt(&ok);
    if (!ok || timeoutSeconds < 0)
        return usage(u"--timeout needs a number of seconds"_s);
    const QStringList listened = parser.values(listenOption);
    if (expected > 0 && listened.isEmpty())
        return usage(u"--expect needs at least one --listen method"_s);
    const bool stay = parser.isSet(stayOption);
    QString token = parser.value(tokenOption);
    if (token.isEmpty())
        token = qEnvironmentVariable("HELIOGRAPH_TOKEN");

    // The library logs through QLoggingCategory; by default this program shows only its
    // warnings. QT_LOGGING_RULES still overrides this.
    if (!parser.isSet(verboseOption))
        QLoggingCategory::setFilterRules(
            u"heliograph.client.*.debug=false\nheliograph.client.*.info=false"_s);

    int exitCode = Ok;
    bool everConnected = false;
    bool called = method.isEmpty(); // nothing to call: done once connected
    bool finishing = false;
    int received = 0;

    // On the stack, after what its handlers use: its connections end before those do.
    HubConnection hub(url);
    hub.setProtocol(protocol);
    hub.setTransports(transports);
    if (!token.isEmpty())
        hub.setAccessTokenProvider([token] { return QtFuture::makeReadyFuture(token); });

    // Stops once the call is answered and the expected calls arrived (unless --stay).
    auto finishIfDone = [&] {
        if (!stay && !finishing && called && received >= expected) {
            finishing = true;
            hub.stop();
        }
    };
    auto fail = [&](int code) {
        if (exitCode == Ok)
            exitCode = code;
        finishing = true;
        hub.stop();
    };

    QObject::connect(&hub, &HubConnection::stateChanged, &app,
                     [](HubConnection::State state) { print(u"state "_s + enumName(state)); });
    QObject::connect(&hub, &HubConnection::reconnecting, &app, [](Heliograph::Error error) {
        print(u"reconnecting after "_s + enumName(error));
    });
    QObject::connect(&hub, &HubConnection::reconnected, &app, [&hub](const QString &id) {
        print(u"reconnected id=%1 transport=%2 (reconnect #%3)"_s.arg(
            id, enumName(hub.transport()), QString::number(hub.reconnectCount())));
    });
    QObject::connect(&hub, &HubConnection::errorOccurred, &app, [&](Heliograph::Error error) {
        printError(u"error %1: %2"_s.arg(enumName(error), hub.errorString()));
        if (exitCode == Ok)
            exitCode = everConnected ? ConnectionEnded : ConnectFailed;
    });
    QObject::connect(&hub, &HubConnection::disconnected, &app, [&] {
        if (!finishing && exitCode == Ok) // ended without error, e.g. Close from the server
            exitCode = ConnectionEnded;
        QCoreApplication::exit(exitCode);
    });

    for (const QString &name : listened) {
        hub.on(name.toUtf8(), &app, [&, name](const Heliograph::ValueList &args) {
            print(u"received %1 %2"_s.arg(name, json(Heliograph::Value(args))));
            ++received;
            finishIfDone();
        });
    }

    QObject::connect(&hub, &HubConnection::connected, &app, [&] {
        everConnected = true;
        print(u"connected id=%1 transport=%2 protocol=%3"_s.arg(
            hub.connectionId(), enumName(hub.transport()), hub.protocolName()));
        if (method.isEmpty()) {
            finishIfDone();
            return;
        }
        if (parser.isSet(sendOption)) {
            hub.send(method.toUtf8(), arguments)
                .then(&app,
                      [&] {
                          print(u"sent "_s + method);
                          called = true;
                          finishIfDone();
                      })
                .onFailed(&app, [&](const Heliograph::HubErrorException &e) {
                    printError(u"send failed: "_s + e.error().message);
                    fail(CallFailed);
                });
            return;
        }
        hub.invoke(method.toUtf8(), arguments, &app,
                   [&](const Heliograph::HubResult<Heliograph::Value> &result) {
                       if (!result) {
                           printError(u"invocation failed (%1): %2"_s.arg(
                               enumName(result.error().code), result.error().message));
                           fail(CallFailed);
                           return;
                       }
                       print(u"result "_s + json(*result));
                       called = true;
                       finishIfDone();
                   });
    });

    QTimer timeout;
    timeout.setSingleShot(true);
    QObject::connect(&timeout, &QTimer::timeout, &app, [&] {
        printError(u"timed out after %1 s (received %2 of %3 expected calls)"_s.arg(
            QString::number(timeoutSeconds), QString::number(received), QString::number(expected)));
        fail(TimedOut);
    });
    if (timeoutSeconds > 0 && !stay)
        timeout.start(std::chrono::seconds(timeoutSeconds));

#ifdef Q_OS_UNIX
    QSocketNotifier interrupted(QSocketNotifier::Read); // SIGINT and SIGTERM, once set up
    QObject::connect(&interrupted, &QSocketNotifier::activated, &app, [&] {
        char byte;
        [[maybe_unused]] const auto got = ::read(signalFds[0], &byte, 1);
        print(u"interrupted: stopping"_s);
        finishing = true;
        if (hub.state() == HubConnection::State::Disconnected)
            QCoreApplication::exit(exitCode);
        else
            hub.stop();
    });
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalFds) == 0) {
        interrupted.setSocket(signalFds[0]);
        interrupted.setEnabled(true);
        std::signal(SIGINT, onSignal);
        std::signal(SIGTERM, onSignal);
    }
#endif

    hub.start();
    return app.exec();
}
