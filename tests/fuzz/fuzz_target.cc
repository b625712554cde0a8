// A request target as any client may send it (http/decode.h ParseTarget):
// path segments and query pairs, percent-decoded. Any bytes give a Target,
// never a read outside the input; no segment is empty, and no segment or
// query key holds more than the input did.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto t = saalbuch::http::ParseTarget(text);
  const std::string_view path = text.substr(0, text.find('?'));
  std::size_t slashes = 0;
  for (char c : path) slashes += c == '/' ? 1 : 0;
  if (t.segments.size() > slashes + 1) std::abort();
  for (const auto& s : t.segments) {
    if (s.empty() || s.size() > path.size()) std::abort();
  }
  for (const auto& [key, value] : t.query) {
    if (key.size() + value.size() > size) std::abort();
  }
  return 0;
}
