// SPDX-License-Identifier: MIT
// The smallest Heliograph Client program, built with pkg-config instead of CMake:
//
//   c++ -std=c++20 -fPIC main.cpp $(pkg-config --cflags --libs HeliographClient) -o echo
//   ./echo http://127.0.0.1:5000/hubs/bench hello messagepack
//
// It connects, invokes Echo(text) on the hub and prints the answer. Exit code 0 when the
// answer equals the text, 1 otherwise.

#include <heliograph/client/hubconnection.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QTextStream>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 3) {
        QTextStream(stderr) << "usage: " << args.value(0) << " <hub url> <text> [json|messagepack]"
                            << Qt::endl;
        return 2;
    }
    const QString &text = args.at(2);

    Heliograph::HubConnection hub(QUrl(args.at(1)));
    if (args.value(3) == QLatin1String("messagepack"))
        hub.setProtocol(Heliograph::HubConnection::Protocol::MessagePack);

    int exitCode = 1;
    QObject::connect(&hub, &Heliograph::HubConnection::connected, &app, [&] {
        hub.invokeAs<QString>("Echo", text)
            .then(&app,
                  [&](const QString &echo) {
                      QTextStream(stdout)
                          << "Echo over " << hub.protocolName() << ": " << echo << Qt::endl;
                      exitCode = echo == text ? 0 : 1;
                      hub.stop();
                  })
            .onFailed(&app, [&](const Heliograph::HubErrorException &e) {
                QTextStream(stderr) << "Echo failed: " << e.error().message << Qt::endl;
                hub.stop();
            });
    });
    QObject::connect(&hub, &Heliograph::HubConnection::disconnected, &app,
                     [&] { QCoreApplication::exit(exitCode); });
    hub.start();
    return app.exec();
}
