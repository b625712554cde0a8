#include "common/names.h"

#include <algorithm>
#include <cctype>

namespace saalbuch {
namespace {

constexpr std::size_t kMaxWords = 8;
constexpr std::size_t kMaxChars = 40;
constexpr std::size_t kMinPrefix = 3;

bool IsContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

}  // namespace

std::vector<std::string> NameWords(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  std::size_t chars = 0;
  auto finish = [&] {
    if (!word.empty() && std::find(words.begin(), words.end(), word) == words.end() &&
        words.size() < kMaxWords) {
      words.push_back(word);
    }
    word.clear();
    chars = 0;
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      ++i;
      if (std::isalnum(b) == 0) {
        finish();
        continue;
      }
      if (chars < kMaxChars) word.push_back(static_cast<char>(std::tolower(b)));
      ++chars;
      continue;
    }
    // One UTF-8 character: the lead byte and its continuation bytes.
    std::size_t n = 1;
    while (i + n < text.size() && IsContinuation(static_cast<unsigned char>(text[i + n]))) ++n;
    std::string ch(text.substr(i, n));
    // U+00C0–U+00DE (not U+00D7 ×): C3 80–C3 9E → C3 A0–C3 BE.
    if (n == 2 && b == 0xC3) {
      const auto c = static_cast<unsigned char>(ch[1]);
      if (c >= 0x80 && c <= 0x9E && c != 0x97) ch[1] = static_cast<char>(c + 0x20);
      if (c == 0x97) {  // ×
        i += n;
        finish();
        continue;
      }
    }
    if (chars < kMaxChars) word += ch;
    ++chars;
    i += n;
  }
  finish();
  return words;
}

std::vector<std::string> NameIndexWords(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& word : NameWords(text)) {
    // The byte offsets where a character ends.
    std::vector<std::size_t> ends;
    for (std::size_t i = 1; i <= word.size(); ++i) {
      if (i == word.size() || !IsContinuation(static_cast<unsigned char>(word[i]))) ends.push_back(i);
    }
    const std::size_t from = std::min(kMinPrefix, ends.size());
    for (std::size_t k = from; k <= ends.size(); ++k) {
      std::string prefix = word.substr(0, ends[k - 1]);
      if (std::find(out.begin(), out.end(), prefix) == out.end()) out.push_back(std::move(prefix));
    }
  }
  return out;
}

}  // namespace saalbuch
