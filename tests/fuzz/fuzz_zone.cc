// Zone rules as a log carries them (TenantCreated.zone_rules, common/zone.h):
// any text is refused or gives a zone, never a crash. A zone's own rules
// give the same zone, and its local times map back: of the earliest and the
// latest instant of an instant's local time, one is that instant and the
// earliest is never after it, the latest never before.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "common/zone.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The first 8 bytes (if any) choose an instant; the rest is the text.
  std::int64_t pick = 0;
  if (size >= 8) {
    std::memcpy(&pick, data, 8);
    data += 8;
    size -= 8;
  }
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const saalbuch::Zone* z = saalbuch::ZoneFromRules(text);
  if (z == nullptr) return 0;
  if (saalbuch::ZoneFromRules(z->Rules()) != z) __builtin_trap();
  // 1900 … 2199 and a little beyond.
  const std::int64_t lo = -2'208'988'800 - 86'400, span = 9'467'280'000 + 2 * 86'400;
  const std::int64_t s = lo + static_cast<std::int64_t>(static_cast<std::uint64_t>(pick) % span);
  const date::sys_seconds t{std::chrono::seconds(s)};
  const auto local = z->to_local(t);
  const auto early = z->to_sys(local, date::choose::earliest);
  const auto late = z->to_sys(local, date::choose::latest);
  if (early > t || late < t || (early != t && late != t)) __builtin_trap();
  return 0;
}
