// A series' recurrence rule as a booker types it (RRULE of RFC 5545,
// expanded through libical): any text gives occurrences in order within the
// bound, or an error the booker can read; never a crash or a hang.
#include <date/tz.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "formats/ical.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const saalbuch::Zone* zone = saalbuch::FindZone("Europe/Berlin");
  const std::string rule(reinterpret_cast<const char*>(data), size);
  // Monday 2027-03-01 18:00–20:00 in Berlin.
  const saalbuch::TimeRange first{1'803'315'600'000'000, 1'803'322'800'000'000};
  auto occurrences = saalbuch::formats::ExpandRRule(rule, first, zone, {}, {}, 500);
  if (occurrences.ok()) {
    if (occurrences->empty() || occurrences->size() > 500) __builtin_trap();
    for (std::size_t i = 1; i < occurrences->size(); ++i) {
      if ((*occurrences)[i].start <= (*occurrences)[i - 1].start) __builtin_trap();
    }
  }
  return 0;
}
