// SPDX-License-Identifier: MIT
// libFuzzer target: the JSON hub protocol (framing, MessageReader, decoder, encoder).
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace HeliographFuzz;
    fuzzHubProtocol(HubProtocol::json(), HubProtocol::messagePack(), view(data, size));
    return 0;
}
