// SPDX-License-Identifier: MIT
// libFuzzer target: handshake request/response parsing, protocol resolution, and the
// write -> parse round trip of whatever parses.
#include "fuzz_common.h"

#include <heliograph/protocol/handshake.h>
#include <heliograph/protocol/hubside.h>

namespace {

using namespace HeliographFuzz;

/// A small size limit derived from the input, to exercise the too-large path too.
qsizetype limitFor(QByteArrayView input)
{
    return 1 + splitPoint(input) % 64;
}

template<typename Message, typename Parse>
void checkLimit(QByteArrayView input, qsizetype unlimitedResult, Parse parse)
{
    const qsizetype limit = limitFor(input);
    Message m;
    const Expected<qsizetype> limited = parse(input, m, limit);
    if (unlimitedResult > 0) {
        // A complete message parses under a limit exactly when it fits.
        require(limited.has_value() == (unlimitedResult <= limit)
                    && (!limited || *limited == unlimitedResult),
                "the handshake size limit is applied inconsistently", input);
    } else if (unlimitedResult == 0 && limited) {
        require(*limited == 0, "a limit completed an incomplete handshake", input);
    }
}

void fuzzRequest(QByteArrayView input)
{
    HandshakeRequest request;
    const Expected<qsizetype> consumed = Handshake::parseRequest(input, request);
    checkLimit<HandshakeRequest>(input, consumed ? *consumed : -1,
                                 [](QByteArrayView d, HandshakeRequest &m, qsizetype l) {
                                     return Handshake::parseRequest(d, m, l);
                                 });
    if (!consumed || *consumed == 0)
        return;
    require(*consumed <= input.size() && input[*consumed - 1] == '\x1e',
            "parseRequest consumed a wrong byte count", input);

    for (const TransferFormat formats : {TransferFormat::Text, TransferFormat::Binary,
                                         TransferFormat::Text | TransferFormat::Binary}) {
        const Expected<const HubProtocol *> resolved = Handshake::resolve(request, formats);
        if (resolved) {
            require(*resolved != nullptr && supports(formats, (*resolved)->transferFormat())
                        && request.version <= (*resolved)->version(),
                    "resolve accepted an unusable protocol", input);
        }
    }
    (void)Handshake::resolve(request, TransferFormat::Text, {&HubProtocol::json()});

    const QByteArray written = Handshake::writeRequest(request);
    HandshakeRequest again;
    const Expected<qsizetype> reparsed = Handshake::parseRequest(written, again);
    require(reparsed && *reparsed == written.size(), "a written handshake request does not parse",
            written);
    require(again == request, "handshake request changed in a write/parse round trip", input,
            written);
}

void fuzzResponse(QByteArrayView input)
{
    HandshakeResponse response;
    const Expected<qsizetype> consumed = Handshake::parseResponse(input, response);
    checkLimit<HandshakeResponse>(input, consumed ? *consumed : -1,
                                  [](QByteArrayView d, HandshakeResponse &m, qsizetype l) {
                                      return Handshake::parseResponse(d, m, l);
                                  });
    if (!consumed || *consumed == 0)
        return;
    require(*consumed <= input.size() && input[*consumed - 1] == '\x1e',
            "parseResponse consumed a wrong byte count", input);

    const QByteArray written = Handshake::writeResponse(response);
    HandshakeResponse again;
    const Expected<qsizetype> reparsed = Handshake::parseResponse(written, again);
    require(reparsed && *reparsed == written.size(), "a written handshake response does not parse",
            written);
    require(again == response, "handshake response changed in a write/parse round trip", input,
            written);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input = view(data, size);
    fuzzRequest(input);
    fuzzResponse(input);
    return 0;
}
