// CAMT.053 bank statements as a bank (or an attacker with the upload) sends
// them: any bytes give statements or an error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/camt.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  auto statements = saalbuch::formats::ParseCamt053(xml);
  if (statements.ok()) {
    for (const auto& s : *statements) {
      for (const auto& line : s.lines) {
        // Every amount that was accepted is one a Money can hold.
        if (line.amount < 0) __builtin_trap();
      }
    }
  }
  return 0;
}
