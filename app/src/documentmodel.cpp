// SPDX-License-Identifier: MIT
#include "documentmodel.h"

#include <QtCore/QLoggingCategory>

namespace Heliograph::Desktop {
using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcDocument, "heliograph.desktop.document")

DocumentModel::DocumentModel(QObject *parent)
    : QAbstractListModel(parent)
{ }

DocumentModel::~DocumentModel()
{
    m_updates.disconnect();
}

void DocumentModel::setConnection(HubConnection *connection, const QString &userId)
{
    if (m_hub && !m_documentId.isEmpty())
        leave();
    m_updates.disconnect();
    disconnect(m_reconnected);
    m_hub = connection;
    m_userId = userId;
    if (!connection)
        return;
    m_updates = connection->on("DocumentUpdated", this, [this](const ValueList &args) {
        const Value &update = args.value(1);
        applyLive(args.value(0).toString(), update["version"].toInteger(),
                  update["patchJson"].toString(), update["authorId"].toString());
    });
    // The rejoin registry joins again after a new connection; what was missed comes next.
    m_reconnected = connect(connection, &HubConnection::reconnected, this, [this] {
        if (!m_documentId.isEmpty())
            catchUp();
    });
}

int DocumentModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant DocumentModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case PatchRole:
        return r.patchJson;
    case VersionRole:
        return r.version;
    case AuthorRole:
        return r.authorId;
    case MineRole:
        return !m_userId.isEmpty() && r.authorId == m_userId;
    case ReceivedAtRole:
        return r.receivedAt;
    default:
        return {};
    }
}

QHash<int, QByteArray> DocumentModel::roleNames() const
{
    return {{VersionRole, "version"},
            {AuthorRole, "author"},
            {PatchRole, "patch"},
            {MineRole, "mine"},
            {ReceivedAtRole, "receivedAt"}};
}

void DocumentModel::join(const QString &documentId)
{
    if (!m_hub) {
        setError(u"Not signed in."_s);
        return;
    }
    if (documentId.trimmed().isEmpty()) {
        setError(u"Enter a document name."_s);
        return;
    }
    if (!m_documentId.isEmpty())
        leave();
    m_documentId = documentId.trimmed();
    Q_EMIT documentIdChanged();
    setError({});
    m_rejoinId = m_hub->addRejoin("JoinDocument", {Value::fromUtf8(m_documentId.toUtf8())});
    qCInfo(lcDocument) << "joining" << m_documentId;
    catchUp();
}

void DocumentModel::leave()
{
    ++m_generation;
    if (m_hub && !m_documentId.isEmpty()) {
        m_hub->removeRejoin(m_rejoinId);
        if (m_hub->state() == HubConnection::State::Connected)
            m_hub->invoke("LeaveDocument", {Value::fromUtf8(m_documentId.toUtf8())}, this,
                          [](const HubResult<Value> &) {});
    }
    m_rejoinId = 0;
    m_busy = 0;
    m_gapRetriedAt = -1;
    m_pending.clear();
    setLoading(false);
    clearRows();
    const bool hadGap = m_gapCount > 0;
    m_gapCount = 0;
    m_gapText.clear();
    if (hadGap)
        Q_EMIT gapChanged();
    if (m_version != 0) {
        m_version = 0;
        Q_EMIT versionChanged();
    }
    if (!m_documentId.isEmpty()) {
        m_documentId.clear();
        Q_EMIT documentIdChanged();
    }
}

void DocumentModel::catchUp()
{
    if (!m_hub || m_documentId.isEmpty())
        return;
    ++m_busy;
    setLoading(true);
    const quint64 generation = m_generation;
    const qint64 since = m_version;
    // The server answers one page (at most 1 MiB of patches): ask again from where it ended
    // while pages come back and move the document on.
    m_hub->invoke("GetDocumentPatchesSince", {Value::fromUtf8(m_documentId.toUtf8()), Value(since)},
                  this, [this, generation, since](const HubResult<Value> &result) {
                      if (generation != m_generation)
                          return;
                      --m_busy;
                      bool more = false;
                      if (!result) {
                          setError(
                              u"Could not load the document: %1"_s.arg(result.error().message));
                      } else {
                          setError({});
                          for (const Value &p : result.value().array())
                              m_pending.insert_or_assign(
                                  p["version"].toInteger(),
                                  Patch {p["patchJson"].toString(), p["authorId"].toString()});
                          more = !result.value().array().isEmpty();
                      }
                      flushPending();
                      if (more && m_version > since) {
                          catchUp();
                          return;
                      }
                      if (m_busy == 0)
                          setLoading(false);
                  });
}

void DocumentModel::sendPatch(const QString &patchJson)
{
    if (!m_hub || m_documentId.isEmpty()) {
        setError(u"Join a document first."_s);
        return;
    }
    ++m_busy;
    const quint64 generation = m_generation;
    m_hub->invoke(
        "SendDocumentPatch",
        {Value::fromUtf8(m_documentId.toUtf8()), Value::fromUtf8(patchJson.toUtf8())}, this,
        [this, generation, patchJson](const HubResult<Value> &result) {
            if (generation != m_generation)
                return;
            --m_busy;
            if (!result)
                setError(u"The patch was not sent: %1"_s.arg(result.error().message));
            else
                m_pending.insert_or_assign(result.value().toInteger(), Patch {patchJson, m_userId});
            flushPending();
        });
}

void DocumentModel::applyLive(const QString &documentId, qint64 version, const QString &patchJson,
                              const QString &authorId)
{
    if (documentId != m_documentId || version <= m_version)
        return;
    m_pending.insert_or_assign(version, Patch {patchJson, authorId});
    if (authorId != m_userId)
        Q_EMIT patchReceived(version, authorId);
    flushPending();
}

void DocumentModel::flushPending()
{
    if (m_busy > 0)
        return; // a catch-up or a send may fill the holes
    while (!m_pending.empty()) {
        auto first = m_pending.begin();
        if (first->first <= m_version) {
            m_pending.erase(first);
            continue;
        }
        if (first->first != m_version + 1 && m_gapRetriedAt != m_version) {
            m_gapRetriedAt = m_version;
            ++m_gapCount;
            m_gapText = u"expected v%1, received v%2"_s.arg(m_version + 1).arg(first->first);
            qCWarning(lcDocument) << "version gap in" << m_documentId << m_gapText;
            Q_EMIT gapChanged();
            catchUp();
            return;
        }
        // In order, or a gap the catch-up could not fill either (the server pruned it):
        // moving on is all that is left.
        apply(first->first, first->second);
        m_pending.erase(first);
    }
}

void DocumentModel::apply(qint64 version, const Patch &patch)
{
    const int row = int(m_rows.size());
    beginInsertRows({}, row, row);
    m_rows.append({version, patch.authorId, patch.patchJson, QDateTime::currentDateTimeUtc()});
    endInsertRows();
    m_version = version;
    Q_EMIT versionChanged();
    Q_EMIT countChanged();
}

void DocumentModel::setLoading(bool loading)
{
    if (loading == m_loading)
        return;
    m_loading = loading;
    Q_EMIT loadingChanged();
}

void DocumentModel::setError(const QString &error)
{
    if (error == m_error)
        return;
    m_error = error;
    if (!error.isEmpty())
        qCWarning(lcDocument) << error;
    Q_EMIT errorChanged();
}

void DocumentModel::clearRows()
{
    if (m_rows.isEmpty())
        return;
    beginRemoveRows({}, 0, int(m_rows.size()) - 1);
    m_rows.clear();
    endRemoveRows();
    Q_EMIT countChanged();
}

} // namespace Heliograph::Desktop
