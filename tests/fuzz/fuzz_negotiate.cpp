// SPDX-License-Identifier: MIT
// libFuzzer target: negotiate response parsing (client side) and the toJson -> fromJson round
// trip of whatever parses; also the server's negotiateVersion query parsing.
#include "fuzz_common.h"

#include <heliograph/protocol/hubside.h>
#include <heliograph/protocol/negotiate.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace HeliographFuzz;
    const QByteArrayView input = view(data, size);

    const Expected<NegotiateResponse> parsed = NegotiateResponse::fromJson(input);
    if (parsed) {
        const NegotiateResponse &r = *parsed;
        (void)r.effectiveToken();
        (void)r.isRedirect();
        for (const AvailableTransport &t : r.availableTransports)
            (void)t.supports(TransferFormat::Binary);

        const QByteArray json = r.toJson();
        const Expected<NegotiateResponse> again = NegotiateResponse::fromJson(json);
        if (!again) {
            std::fprintf(stderr, "reparse error: %s\n", qPrintable(again.error().message));
            violated("a written negotiate response does not parse", input, json);
        }
        require(*again == r, "negotiate response changed in a toJson/fromJson round trip", input,
                json);
        require(again->toJson() == json, "toJson is not stable over a round trip", json);
    }

    const Expected<int> version = Negotiate::selectVersion(input, 0);
    if (version)
        require(*version >= 0 && *version <= Negotiate::MaxVersion,
                "selectVersion answered a version out of range", input);
    return 0;
}
