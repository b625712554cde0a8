// A stored log record as an auditor's tool reads it (the FlatBuffers
// envelope verified, then turned into JSON): any bytes give JSON or
// kCorruption, never a read outside the buffer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ledger/event_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto j = saalbuch::ledger::EnvelopeToJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (j.ok()) saalbuch::ledger::HexHashes(&*j);
  return 0;
}
