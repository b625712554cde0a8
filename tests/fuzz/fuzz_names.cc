// Names as staff and bookers type them, split into the words of the blind
// name index (common/names.h): never a crash. For valid UTF-8 — all a name
// can be, since the JSON parser refuses anything else — at most 8 words of
// at most 40 characters, none empty, none with an ASCII separator or
// capital; the words of the words joined are the words again; every word
// is among the index words, and every index word is a word or a beginning
// of one of 3 characters or more. (Bytes that are not UTF-8 are cut into
// "characters" differently by the two functions; no caller passes them.)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/names.h"

namespace {

std::size_t Characters(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Lead bytes with the right number of continuation bytes (not the finer
// rules on overlong forms and surrogates, which do not change the cuts).
bool Utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const std::size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto words = saalbuch::NameWords(text);
  if (!Utf8(text)) {
    (void)saalbuch::NameIndexWords(text);
    return 0;
  }
  if (words.size() > 8) __builtin_trap();
  std::string joined;
  for (const auto& w : words) {
    if (w.empty() || Characters(w) > 40) __builtin_trap();
    for (const char c : w) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x80 && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) __builtin_trap();
    }
    joined += w;
    joined += ' ';
  }
  if (saalbuch::NameWords(joined) != words) __builtin_trap();
  const auto index = saalbuch::NameIndexWords(text);
  for (const auto& w : words) {
    if (std::find(index.begin(), index.end(), w) == index.end()) __builtin_trap();
  }
  for (const auto& i : index) {
    const bool of_a_word = std::any_of(words.begin(), words.end(), [&](const std::string& w) {
      return w == i || (w.rfind(i, 0) == 0 && Characters(i) >= 3);
    });
    if (!of_a_word) __builtin_trap();
  }
  return 0;
}
