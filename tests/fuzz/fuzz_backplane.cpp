// SPDX-License-Identifier: MIT
// libFuzzer target: the Redis backplane's four messages (what any client of the Redis server
// could publish on a node's channels). Each reader either refuses the bytes or returns a message
// that writes back to bytes it reads as the same message.
#include "cluster/backplaneprotocol.h"
#include "fuzz_common.h"

namespace {

using namespace HeliographFuzz;
namespace Backplane = Heliograph::Server::Backplane;

bool same(const Backplane::Invocation &a, const Backplane::Invocation &b)
{
    return a.excluded == b.excluded && a.payloads == b.payloads && a.invocationId == b.invocationId
        && a.returnChannel == b.returnChannel;
}

void fuzzInvocation(QByteArrayView input)
{
    auto m = Backplane::readInvocation(input);
    if (!m)
        return;
    // An id without a return channel (or the reverse) is not a client-result call on write.
    if (m->invocationId.isEmpty() != m->returnChannel.isEmpty())
        m->returnChannel = m->invocationId.isEmpty() ? QByteArray() : m->returnChannel;
    if (m->invocationId.isEmpty())
        m->returnChannel.clear();
    const QByteArray written = Backplane::write(*m);
    auto again = Backplane::readInvocation(written);
    require(again.has_value() && same(*m, *again), "an Invocation does not round-trip", input,
            written);
}

void fuzzGroupCommand(QByteArrayView input)
{
    auto m = Backplane::readGroupCommand(input);
    if (!m)
        return;
    const QByteArray written = Backplane::write(*m);
    auto again = Backplane::readGroupCommand(written);
    require(again && again->id == m->id && again->serverName == m->serverName
                && again->action == m->action && again->group == m->group
                && again->connectionId == m->connectionId,
            "a GroupCommand does not round-trip", input, written);
}

void fuzzSmall(QByteArrayView input)
{
    if (auto ack = Backplane::readAck(input)) {
        auto again = Backplane::readAck(Backplane::write(*ack));
        require(again && again->id == ack->id, "an Ack does not round-trip", input);
    }
    if (auto c = Backplane::readCompletion(input)) {
        auto again = Backplane::readCompletion(Backplane::write(*c));
        require(again && again->protocol == c->protocol && again->completion == c->completion,
                "a Completion does not round-trip", input);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input = view(data, size);
    fuzzInvocation(input);
    fuzzGroupCommand(input);
    fuzzSmall(input);
    return 0;
}
