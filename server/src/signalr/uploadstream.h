// SPDX-License-Identifier: MIT
// A client-to-server stream (an invocation's streamIds): the client sends StreamItem messages
// and ends it with a Completion. Lives on its connection's thread.
#pragma once

#include <heliograph/protocol/value.h>

#include <QtCore/QList>
#include <QtCore/QString>

#include <functional>
#include <memory>
#include <optional>

namespace Heliograph::Server {

class UploadStream {
public:
    using ItemHandler = std::function<void(const Value &)>;
    /// `error` is set if the client failed the stream or the connection ended.
    using EndHandler = std::function<void(const std::optional<QString> &error)>;

    explicit UploadStream(QByteArray streamId)
        : m_streamId(std::move(streamId))
    { }
    const QByteArray &streamId() const noexcept { return m_streamId; }
    bool isOpen() const noexcept { return !m_ended; }

    /// Items that arrived before a handler was set are delivered to it at once.
    void onItem(ItemHandler handler);
    void onEnd(EndHandler handler);

    // For the connection:
    void deliver(const Value &item);
    void end(const std::optional<QString> &error);
    qsizetype queued() const noexcept { return m_queue.size(); }

private:
    QByteArray m_streamId;
    ItemHandler m_onItem;
    EndHandler m_onEnd;
    QList<Value> m_queue;
    std::optional<std::optional<QString>> m_endedWith;
    bool m_ended = false;
};
using UploadStreamPtr = std::shared_ptr<UploadStream>;

inline void UploadStream::onItem(ItemHandler handler)
{
    m_onItem = std::move(handler);
    for (const Value &v : std::exchange(m_queue, {}))
        m_onItem(v);
    if (m_endedWith && m_onEnd)
        m_onEnd(*std::exchange(m_endedWith, std::nullopt));
}

inline void UploadStream::onEnd(EndHandler handler)
{
    m_onEnd = std::move(handler);
    if (m_endedWith && m_queue.isEmpty())
        m_onEnd(*std::exchange(m_endedWith, std::nullopt));
}

inline void UploadStream::deliver(const Value &item)
{
    if (m_ended)
        return;
    if (m_onItem)
        m_onItem(item);
    else
        m_queue.append(item);
}

inline void UploadStream::end(const std::optional<QString> &error)
{
    if (m_ended)
        return;
    m_ended = true;
    if (m_onEnd && m_queue.isEmpty())
        m_onEnd(error);
    else
        m_endedWith = error;
}

} // namespace Heliograph::Server
