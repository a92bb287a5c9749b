// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// ReconnectBuffer: the bookkeeping of stateful reconnect, on either side of a connection.

#include <heliograph/protocol/heliographprotocol_export.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>

#include <optional>

namespace Heliograph {
inline namespace Protocol {

/// What stateful reconnect (the Ack and Sequence messages, protocol version 2) needs to know on
/// one side of a connection; the client and the server each keep one per logical connection.
///
/// Sequenced messages (invocations, stream items, completions, stream invocations, cancels)
/// are counted from 1 in each direction. What this side sends is kept, as the framed bytes it
/// wrote, until the peer acknowledges it, so that it can be sent again on a new socket after a
/// Sequence message. What this side receives is counted, so that a message the peer sends again
/// after a resume is told from a new one.
class HELIOGRAPH_PROTOCOL_EXPORT ReconnectBuffer {
public:
    /// A message sent and not acknowledged yet.
    struct Entry {
        qint64 id = 0; ///< its sequence id
        QByteArray bytes; ///< as written, framing included (shared, not copied)
    };

    // --- what this side sends ------------------------------------------------------------

    /// Numbers a sequenced message and keeps it until the peer acknowledges it. Returns its id.
    qint64 append(const QByteArray &bytes);
    /// The peer's Ack: drops the messages up to `sequenceId`. Returns how many were dropped.
    qsizetype acknowledge(qint64 sequenceId);
    /// Drops every kept message (the connection will not resume); ids go on counting.
    void clear();
    /// What a Sequence message after a resume carries: the id of the first message kept, or
    /// the next id when nothing is kept.
    qint64 firstUnacknowledged() const noexcept;
    /// The messages kept, oldest first: what is sent again after the Sequence message.
    const QList<Entry> &unacknowledged() const noexcept { return m_sent; }
    /// The bytes of the messages kept.
    qsizetype bufferedBytes() const noexcept { return m_sentBytes; }
    /// The id of the latest message appended (0 before the first).
    qint64 lastSent() const noexcept { return m_lastSent; }

    // --- what this side receives ---------------------------------------------------------

    /// Counts a sequenced message from the peer: true if it is new, false if it was received
    /// before (sent again by the peer after a resume; drop it).
    bool receive() noexcept;
    /// The peer's Sequence message: the next message it sends is number `sequenceId`. False
    /// (and nothing changes) if that is past the messages received, which the peer cannot
    /// know of: a protocol error.
    bool resetReceive(qint64 sequenceId) noexcept;
    /// The Ack due: the latest message received, if it has not been acknowledged yet (it
    /// counts as acknowledged from now on); nullopt when there is nothing new to acknowledge.
    std::optional<qint64> takeAckDue() noexcept;
    /// The id of the latest new message received (0 before the first).
    qint64 latestReceived() const noexcept { return m_latestReceived; }

private:
    /// Not a std::deque: an empty QList allocates nothing, and most connections never resume
    /// (libstdc++'s deque allocates 576 bytes when constructed: 0.9 KB per idle connection).
    QList<Entry> m_sent;
    qsizetype m_sentBytes = 0;
    qint64 m_lastSent = 0;
    qint64 m_nextExpected = 1; ///< the id the next message received will have
    qint64 m_latestReceived = 0;
    qint64 m_lastAcked = 0;
};

} // namespace Protocol
} // namespace Heliograph
