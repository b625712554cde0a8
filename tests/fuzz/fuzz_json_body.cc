// A request body as any client may send it: the strict JSON parser (one
// value, no duplicate key, nesting bounded) and the decoder of a booking's
// fields report what is wrong, never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = saalbuch::http::ParseStrictJson(text);
  if (parsed.outcome == saalbuch::http::StrictJson::Outcome::kOk && parsed.value.is_object()) {
    saalbuch::http::Decoder d(parsed.value, {"resource", "start", "end", "units", "rules", "contact"});
    (void)d.Str("resource", false, 64);
    (void)d.Time("start", false);
    (void)d.Time("end", false);
    if (auto it = parsed.value.find("rules"); it != parsed.value.end()) {
      (void)saalbuch::http::DecodeRules(d, *it, "rules.");
    }
  }
  return 0;
}
