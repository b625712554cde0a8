// The payment provider's settlement CSV: any bytes give payouts whose sums
// hold, or an error; never a crash or an overflow (UBSan traps on one).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/settlement.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view csv(reinterpret_cast<const char*>(data), size);
  auto payouts = saalbuch::formats::ParseSettlementCsv(csv);
  if (payouts.ok()) {
    for (const auto& p : *payouts) {
      if (p.net != p.gross - p.fees || p.fees < 0) __builtin_trap();
    }
  }
  return 0;
}
