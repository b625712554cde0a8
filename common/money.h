// Money: int64 minor units plus an ISO 4217 currency. No floating point
// touches an amount; every rounding is explicit and half away from zero
// ("kaufmännisch", what German fee schedules mean by rounding).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace saalbuch {

struct Money {
  std::int64_t amount = 0;  // minor units (cents)
  std::string currency = "EUR";
  auto operator<=>(const Money&) const = default;
};

// The largest amount of money Saalbuch takes in or works out: 10^11 minor
// units (one billion in a currency with cents). Every price, payment, fee
// and refund at input, and every priced line and document total, lies
// within ±kMaxAmount; what would go beyond is refused, never wrapped. Sums
// over a tenant's documents then stay far inside int64 (about 9.2·10^18).
inline constexpr std::int64_t kMaxAmount = 100'000'000'000;

// Checked int64 arithmetic for money: *out = a + b (a - b, a * b); false on
// overflow, and then *out is unspecified.
[[nodiscard]] inline bool CheckedAdd(std::int64_t a, std::int64_t b, std::int64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}
[[nodiscard]] inline bool CheckedSub(std::int64_t a, std::int64_t b, std::int64_t* out) {
  return !__builtin_sub_overflow(a, b, out);
}
[[nodiscard]] inline bool CheckedMul(std::int64_t a, std::int64_t b, std::int64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}

// a * num / den rounded half away from zero. REQUIRES: den > 0. Computed in
// 128 bits; the result must fit int64 (callers bound their inputs, or use
// CheckedMulDivRound).
std::int64_t MulDivRound(std::int64_t a, std::int64_t num, std::int64_t den);
// The same; nullopt when the result does not fit int64. REQUIRES: den > 0.
std::optional<std::int64_t> CheckedMulDivRound(std::int64_t a, std::int64_t num, std::int64_t den);

// Tax rates are basis points: 1900 is 19 %, 700 is 7 %.
struct Taxed {
  std::int64_t net = 0;
  std::int64_t tax = 0;
  std::int64_t gross = 0;
};
// From a net amount: tax = round(net * rate), gross = net + tax.
// REQUIRES: |net| ≤ kMaxAmount, 0 ≤ rate_bp ≤ 10000 (then nothing overflows).
Taxed TaxFromNet(std::int64_t net, std::int32_t rate_bp);
// From a gross amount: tax = round(gross * rate / (1 + rate)), net = gross - tax.
Taxed TaxFromGross(std::int64_t gross, std::int32_t rate_bp);

// "12.5", "12.50", "-3", "1234.56" → minor units with two decimals; nullopt
// for anything else (more than two decimals, thousands separators, signs in
// the middle, empty, beyond ±10^15). `decimal_comma` accepts ',' instead.
std::optional<std::int64_t> ParseDecimal(std::string_view s, bool decimal_comma = false);
// 1250 → "12.50", -5 → "-0.05".
std::string FormatDecimal(std::int64_t minor);
// 123450 → "1.234,50" (German grouping and decimal comma).
std::string FormatDecimalDe(std::int64_t minor);

// The chart of accounts (role → account number) where a tenant configured
// none, after SKR03: receivables 1400, revenue at 19 % 8400 (and every rate
// without its own), revenue@700 (7 %) 8300, revenue@0 (no tax) 8200 — 8400
// and 8300 are DATEV automatic accounts —, tax:1900 1776, tax:700 1771,
// clearing (payment provider) 1360, fees 4970, bank 1200, cash 1000.
const std::map<std::string, std::string>& DefaultAccounts();

// ISO 4217 codes are three upper-case letters.
bool IsValidCurrency(std::string_view c);

}  // namespace saalbuch
