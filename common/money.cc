#include "common/money.h"

#include <cassert>
#include <limits>

namespace saalbuch {

namespace {

// a * num / den rounded half away from zero, in 128 bits (a product of two
// int64 fits, and so does the quotient).
__int128 MulDivRound128(std::int64_t a, std::int64_t num, std::int64_t den) {
  assert(den > 0);
  const __int128 p = static_cast<__int128>(a) * num;
  const __int128 q = p / den;
  const __int128 r = p % den;
  // |r| * 2 >= den rounds away from zero.
  const __int128 twice = (r < 0 ? -r : r) * 2;
  if (twice >= den) return p < 0 ? q - 1 : q + 1;
  return q;
}

}  // namespace

std::int64_t MulDivRound(std::int64_t a, std::int64_t num, std::int64_t den) {
  return static_cast<std::int64_t>(MulDivRound128(a, num, den));
}

std::optional<std::int64_t> CheckedMulDivRound(std::int64_t a, std::int64_t num, std::int64_t den) {
  const __int128 v = MulDivRound128(a, num, den);
  if (v > std::numeric_limits<std::int64_t>::max() || v < std::numeric_limits<std::int64_t>::min()) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(v);
}

Taxed TaxFromNet(std::int64_t net, std::int32_t rate_bp) {
  const std::int64_t tax = MulDivRound(net, rate_bp, 10000);
  return {net, tax, net + tax};
}

Taxed TaxFromGross(std::int64_t gross, std::int32_t rate_bp) {
  const std::int64_t tax = MulDivRound(gross, rate_bp, 10000 + static_cast<std::int64_t>(rate_bp));
  return {gross - tax, tax, gross};
}

std::optional<std::int64_t> ParseDecimal(std::string_view s, bool decimal_comma) {
  const char point = decimal_comma ? ',' : '.';
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  std::int64_t units = 0;
  std::size_t i = 0;
  std::size_t digits = 0;
  for (; i < s.size() && s[i] != point; ++i) {
    if (s[i] < '0' || s[i] > '9' || ++digits > 13) return std::nullopt;
    units = units * 10 + (s[i] - '0');
  }
  if (digits == 0) return std::nullopt;
  std::int64_t cents = 0;
  if (i < s.size()) {
    const std::string_view frac = s.substr(i + 1);
    if (frac.empty() || frac.size() > 2) return std::nullopt;
    for (char c : frac) {
      if (c < '0' || c > '9') return std::nullopt;
    }
    cents = (frac[0] - '0') * 10 + (frac.size() == 2 ? frac[1] - '0' : 0);
  }
  const std::int64_t v = units * 100 + cents;
  return negative ? -v : v;
}

std::string FormatDecimal(std::int64_t minor) {
  const bool negative = minor < 0;
  const std::uint64_t abs =
      negative ? 0 - static_cast<std::uint64_t>(minor) : static_cast<std::uint64_t>(minor);
  // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict
  // (GCC PR 105329) for "literal" + std::string&&, and for insert(0, …).
  const std::uint64_t cents = abs % 100;
  std::string out = negative ? "-" : "";
  out += std::to_string(abs / 100);
  out += '.';
  out += static_cast<char>('0' + cents / 10);
  out += static_cast<char>('0' + cents % 10);
  return out;
}

std::string FormatDecimalDe(std::int64_t minor) {
  std::string plain = FormatDecimal(minor);
  const bool negative = plain.front() == '-';
  if (negative) plain.erase(0, 1);
  const std::size_t dot = plain.find('.');
  std::string units = plain.substr(0, dot);
  std::string grouped;
  for (std::size_t i = 0; i < units.size(); ++i) {
    if (i > 0 && (units.size() - i) % 3 == 0) grouped += '.';
    grouped += units[i];
  }
  return (negative ? "-" : "") + grouped + "," + plain.substr(dot + 1);
}

const std::map<std::string, std::string>& DefaultAccounts() {
  static const std::map<std::string, std::string> kAccounts = {
      {"receivables", "1400"}, {"revenue", "8400"}, {"revenue@700", "8300"}, {"revenue@0", "8200"},
      {"tax:1900", "1776"},    {"tax:700", "1771"}, {"clearing", "1360"},    {"fees", "4970"},
      {"bank", "1200"},        {"cash", "1000"}};
  return kAccounts;
}

bool IsValidCurrency(std::string_view c) {
  if (c.size() != 3) return false;
  for (char ch : c) {
    if (ch < 'A' || ch > 'Z') return false;
  }
  return true;
}

}  // namespace saalbuch
