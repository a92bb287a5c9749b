// SPDX-License-Identifier: MIT
// libFuzzer target: the MessagePack hub protocol (VarInt framing, MessageReader, decoder,
// encoder).
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace HeliographFuzz;
    fuzzHubProtocol(HubProtocol::messagePack(), HubProtocol::json(), view(data, size));
    return 0;
}
