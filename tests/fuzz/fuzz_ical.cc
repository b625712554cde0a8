// The iCalendar writer's inputs: a resource's, a tenant's and a booking's
// names as staff type them and any times. For every name the API admits
// (UTF-8 without control characters: commas, semicolons, backslashes,
// umlauts, any length) the feed and the booking's .ics are RFC 5545 text:
// CRLF line ends and nothing else of CR or LF, content lines folded at 75
// octets, and a fold never splits a UTF-8 character. Other bytes (which the
// edge refuses) must not crash it; libical then folds wrongly (a bare CR or
// LF), so the text is not checked for them.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "formats/ical.h"

namespace {

// Whether the API admits `s` as a name: UTF-8 (the strict JSON parser
// refuses anything else) without control characters (http/decode.h
// TextProblem). Overlong forms and surrogates need not be told apart here.
bool Admitted(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return false;
    const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// Traps unless `ics` is folded, CRLF-terminated text whose folds fall
// between two characters.
void CheckIcs(const std::string& ics) {
  std::size_t start = 0;
  while (start < ics.size()) {
    const std::size_t crlf = ics.find("\r\n", start);
    if (crlf == std::string::npos) __builtin_trap();  // a last line without CRLF
    const std::string_view line(ics.data() + start, crlf - start);
    if (line.size() > 75) __builtin_trap();
    if (line.find('\r') != std::string_view::npos || line.find('\n') != std::string_view::npos)
      __builtin_trap();
    // A continuation line (after a fold) starts with one space; a fold must
    // not leave a UTF-8 continuation byte at the start of the next line.
    if (line.size() > 1 && line[0] == ' ' && (static_cast<unsigned char>(line[1]) & 0xC0) == 0x80) {
      __builtin_trap();
    }
    start = crlf + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 16) return 0;
  std::int64_t a = 0;
  std::int64_t b = 0;
  std::memcpy(&a, data, 8);
  std::memcpy(&b, data + 8, 8);
  // Times within the years 1900–9000, as everywhere in Saalbuch.
  constexpr std::int64_t kSpan = 7100LL * 366 * 24 * 3600 * 1'000'000;
  constexpr std::int64_t kFrom = -2'208'988'800'000'000;
  const saalbuch::TimeUs start = kFrom + static_cast<std::int64_t>(static_cast<std::uint64_t>(a) % kSpan);
  const saalbuch::TimeUs end =
      start + static_cast<std::int64_t>(static_cast<std::uint64_t>(b) % (31LL * 86400'000'000)) + 1;
  // The rest: NUL-separated texts.
  std::vector<std::string> text;
  std::string_view rest(reinterpret_cast<const char*>(data) + 16, size - 16);
  while (text.size() < 4) {
    const std::size_t nul = rest.find('\0');
    text.emplace_back(rest.substr(0, nul));
    if (nul == std::string_view::npos) {
      rest = {};
    } else {
      rest.remove_prefix(nul + 1);
    }
  }
  bool admitted = true;
  for (const auto& t : text) admitted = admitted && Admitted(t);
  const saalbuch::TenantId tenant("stadt");
  const std::string feed =
      saalbuch::formats::BusyFeedIcs(tenant, text[0], {{{start, end}, saalbuch::BookingId(text[1])}}, start);
  if (admitted) CheckIcs(feed);
  saalbuch::formats::IcsBooking booking;
  // Booking ids are Saalbuch's own (bk_ and hex; the API takes ids of at
  // most 64 letters, digits, '-' and '_'). libical folds a UID of
  // multi-byte characters wrongly (a bare LF), which no id can reach.
  for (char ch : text[1]) {
    if (booking.id.size() < 64 &&
        (std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '_')) {
      booking.id.push_back(ch);
    }
  }
  booking.number = text[2];
  booking.range = {start, end};
  booking.version = static_cast<int>(b & 0xFF);
  booking.cancelled = (a & 1) != 0;
  const std::string ics = saalbuch::formats::BookingIcs(tenant, text[3], text[0], booking, end);
  if (admitted) CheckIcs(ics);
  return 0;
}
