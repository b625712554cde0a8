// Renders an encoded Envelope as JSON, generically, from the schema text
// (FlatBuffers' own parser and text generator), so that every event type —
// present and future — is rendered without hand-written code.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/result.h"

namespace saalbuch::ledger {

// Thread-safe. Fails with kCorruption when the bytes do not verify.
Result<nlohmann::json> EnvelopeToJson(std::string_view bytes);

// Rewrites, recursively, every byte array whose key ends in "_hash"
// (prev_hash, key_hash, manage_token_hash) as a lower-case hex string: the
// form people and auditors' tools compare hashes in.
void HexHashes(nlohmann::json* j);

}  // namespace saalbuch::ledger
