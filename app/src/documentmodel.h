// SPDX-License-Identifier: MIT
// One shared document as the desktop app sees it: the patches applied so far, oldest first
// (version, author, patch JSON), from the catch-up on join and live DocumentUpdated
// invocations, plus the user's own patches once the server has assigned their versions.
//
// Versions count up by one per document. A live update that skips versions is a gap: the
// model marks it (gapDetected, gapCount, gapText), asks GetDocumentPatchesSince() for what was
// missed and applies it in order. Live updates that arrive while a catch-up or an own send is
// under way wait until it is done, so that ordinary races are not reported as gaps. The join
// is a rejoin call (HubConnection::addRejoin), so it is made again after every new
// connection, followed by a catch-up.
#pragma once

#include <heliograph/client/hubconnection.h>

#include <QtCore/QAbstractListModel>
#include <QtCore/QDateTime>
#include <QtCore/QPointer>
#include <QtQml/qqmlregistration.h>

#include <map>

namespace Heliograph::Desktop {

class DocumentModel : public QAbstractListModel {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("a Session owns it")
    /// The joined document; empty: none.
    Q_PROPERTY(QString documentId READ documentId NOTIFY documentIdChanged)
    /// The highest version applied (every version up to it is in the list). A double to QML
    /// (Qt 6.4's QML tooling has no qint64; versions stay far below 2^53).
    Q_PROPERTY(double version READ versionForQml NOTIFY versionChanged)
    /// A join or catch-up is under way.
    Q_PROPERTY(bool loading READ isLoading NOTIFY loadingChanged)
    /// A version gap was seen since the join.
    Q_PROPERTY(bool gapDetected READ gapDetected NOTIFY gapChanged)
    Q_PROPERTY(int gapCount READ gapCount NOTIFY gapChanged)
    /// "expected v5, received v8" for the latest gap.
    Q_PROPERTY(QString gapText READ gapText NOTIFY gapChanged)
    /// The latest failure (join, catch-up or send), for humans; empty when the last call
    /// succeeded.
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)
public:
    enum Roles {
        VersionRole = Qt::UserRole + 1,
        AuthorRole,
        PatchRole, ///< the patch JSON text
        MineRole, ///< sent by the signed-in user
        ReceivedAtRole, ///< when this client applied it
    };
    Q_ENUM(Roles)

    explicit DocumentModel(QObject *parent = nullptr);
    ~DocumentModel() override;

    /// The connection to call and listen on (not owned); the user's id marks own patches.
    void setConnection(HubConnection *connection, const QString &userId);

    QString documentId() const { return m_documentId; }
    qint64 version() const { return m_version; }
    double versionForQml() const { return static_cast<double>(m_version); }
    bool isLoading() const { return m_loading; }
    bool gapDetected() const { return m_gapCount > 0; }
    int gapCount() const { return m_gapCount; }
    QString gapText() const { return m_gapText; }
    QString errorString() const { return m_error; }
    int count() const { return int(m_rows.size()); }

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    /// Leaves the current document (if any), joins `documentId` and catches up.
    Q_INVOKABLE void join(const QString &documentId);
    /// Leaves the document; the list is cleared.
    Q_INVOKABLE void leave();
    /// Sends a patch (JSON text); it appears once the server assigned its version.
    Q_INVOKABLE void sendPatch(const QString &patchJson);
    /// Fetches what is missing since version() (after a reconnect).
    Q_INVOKABLE void catchUp();

    /// A live DocumentUpdated(documentId, {version, patchJson, authorId}).
    void applyLive(const QString &documentId, qint64 version, const QString &patchJson,
                   const QString &authorId);

Q_SIGNALS:
    void documentIdChanged();
    void versionChanged();
    void loadingChanged();
    void gapChanged();
    void errorChanged();
    void countChanged();
    /// A patch from someone else was applied live.
    void patchReceived(qint64 version, const QString &authorId);

private:
    struct Patch {
        QString patchJson;
        QString authorId;
    };
    struct Row {
        qint64 version = 0;
        QString authorId;
        QString patchJson;
        QDateTime receivedAt;
    };
    void apply(qint64 version, const Patch &patch);
    void flushPending();
    void setLoading(bool loading);
    void setError(const QString &error);
    void clearRows();

    QPointer<HubConnection> m_hub;
    Subscription m_updates;
    QMetaObject::Connection m_reconnected;
    QString m_userId;
    QString m_documentId;
    quint64 m_rejoinId = 0;
    quint64 m_generation = 0; ///< bumped by join()/leave(): stale answers are dropped
    qint64 m_version = 0;
    int m_busy = 0; ///< catch-ups and own sends under way
    bool m_loading = false;
    std::map<qint64, Patch> m_pending; ///< live updates waiting for a catch-up or a send
    int m_gapCount = 0;
    qint64 m_gapRetriedAt = -1; ///< the version a gap catch-up was made at
    QString m_gapText;
    QString m_error;
    QList<Row> m_rows;
};

} // namespace Heliograph::Desktop
