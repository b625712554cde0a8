#include "formats/settlement.h"

#include <array>
#include <map>
#include <optional>

#include "common/money.h"
#include "common/time.h"

namespace saalbuch::formats {
namespace {

struct Record {
  int line = 0;  // where the record starts; a quoted field may span lines
  std::vector<std::string> fields;
};

Status Bad(int line, const std::string& what) {
  return {StatusCode::kInvalidArgument, "line " + std::to_string(line) + ": " + what};
}

bool AtEol(std::string_view s, std::size_t pos) {
  return pos < s.size() && (s[pos] == '\n' || (s[pos] == '\r' && pos + 1 < s.size() && s[pos + 1] == '\n'));
}

// RFC 4180 by hand: the rules are a dozen lines, and a lenient reader that
// guesses at a stray quote would silently shift amounts into other columns.
Result<std::vector<Record>> SplitRecords(std::string_view s) {
  std::vector<Record> out;
  std::size_t pos = 0;
  int line = 1;
  while (pos < s.size()) {
    if (out.size() > kMaxSettlementRows) {
      return Bad(line, "more than " + std::to_string(kMaxSettlementRows) + " rows");
    }
    Record rec{line, {}};
    while (true) {
      std::string field;
      if (pos < s.size() && s[pos] == '"') {
        const int start = line;
        ++pos;
        while (true) {
          if (pos >= s.size()) return Bad(start, "bad quoting: quoted field not closed");
          if (s[pos] == '"') {
            if (pos + 1 < s.size() && s[pos + 1] == '"') {
              field += '"';
              pos += 2;
              continue;
            }
            ++pos;
            break;
          }
          if (s[pos] == '\n') ++line;
          field += s[pos++];
        }
        if (pos < s.size() && s[pos] != ',' && !AtEol(s, pos)) {
          return Bad(line, "bad quoting: text after a closing quote");
        }
      } else {
        while (pos < s.size() && s[pos] != ',' && s[pos] != '\n') {
          if (s[pos] == '"') return Bad(line, "bad quoting: quote inside an unquoted field");
          if (s[pos] == '\r' && !AtEol(s, pos)) return Bad(line, "carriage return inside an unquoted field");
          if (s[pos] == '\r') break;
          field += s[pos++];
        }
      }
      rec.fields.push_back(std::move(field));
      if (pos < s.size() && s[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < s.size()) {
        pos += s[pos] == '\r' ? 2 : 1;
        ++line;
      }
      break;
    }
    out.push_back(std::move(rec));
  }
  return out;
}

// A real date YYYY-MM-DD of the years Saalbuch stores (common/time.h).
bool IsDate(std::string_view d) { return ParseLocalDay(d).has_value(); }

enum Column { kPayoutId, kPayoutDate, kCurrency, kType, kPaymentRef, kInvoiceRef, kAmount, kFee, kColumns };
constexpr std::array<std::string_view, kColumns> kRequired = {
    "payout_id",         "payout_date",       "currency", "type",
    "payment_reference", "invoice_reference", "amount",   "fee"};

}  // namespace

Result<std::vector<Payout>> ParseSettlementCsv(std::string_view csv) {
  if (csv.substr(0, 3) == "\xEF\xBB\xBF") csv.remove_prefix(3);
  Result<std::vector<Record>> records = SplitRecords(csv);
  if (!records.ok()) return records.status();
  if (records->empty()) return Bad(1, "empty file, expected a header line");

  const std::vector<std::string>& header = records->front().fields;
  std::array<std::size_t, kColumns> index{};
  for (std::size_t c = 0; c < kColumns; ++c) {
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] != kRequired[c]) continue;
      if (found) return Bad(1, "column '" + std::string(kRequired[c]) + "' appears twice");
      found = i;
    }
    if (!found) return Bad(1, "missing required column '" + std::string(kRequired[c]) + "'");
    index[c] = *found;
  }

  std::vector<Payout> payouts;
  std::map<std::string, std::size_t, std::less<>> by_id;
  for (std::size_t r = 1; r < records->size(); ++r) {
    const Record& rec = (*records)[r];
    if (rec.fields.size() != header.size()) {
      return Bad(rec.line, std::to_string(rec.fields.size()) + " fields, the header has " +
                               std::to_string(header.size()));
    }
    auto field = [&](Column c) -> const std::string& { return rec.fields[index[c]]; };
    SettlementItem item;
    item.line = rec.line;
    item.type = field(kType);
    item.reference = field(kPaymentRef);
    item.invoice = field(kInvoiceRef);
    if (item.type != "payment" && item.type != "refund" && item.type != "fee" && item.type != "adjustment") {
      return Bad(rec.line, "bad type '" + item.type + "' (payment, refund, fee or adjustment)");
    }
    if (field(kPayoutId).empty()) return Bad(rec.line, "empty payout_id");
    if (!IsDate(field(kPayoutDate))) return Bad(rec.line, "bad payout_date '" + field(kPayoutDate) + "'");
    if (!IsValidCurrency(field(kCurrency))) return Bad(rec.line, "bad currency '" + field(kCurrency) + "'");
    const std::optional<std::int64_t> amount = ParseDecimal(field(kAmount));
    if (!amount) return Bad(rec.line, "bad amount '" + field(kAmount) + "'");
    const std::optional<std::int64_t> fee = ParseDecimal(field(kFee));
    if (!fee || *fee < 0) return Bad(rec.line, "bad fee '" + field(kFee) + "' (a decimal >= 0)");
    if (item.type == "payment" && *amount <= 0) return Bad(rec.line, "a payment's amount must be positive");
    if (item.type == "refund" && *amount >= 0) return Bad(rec.line, "a refund's amount must be negative");
    if ((item.type == "payment" || item.type == "refund") && item.reference.empty()) {
      return Bad(rec.line, "a " + item.type + " without payment_reference");
    }
    item.amount = *amount;
    item.fee = *fee;

    auto [it, inserted] = by_id.try_emplace(field(kPayoutId), payouts.size());
    if (inserted) {
      payouts.push_back(Payout{field(kPayoutId), field(kPayoutDate), field(kCurrency), {}, 0, 0, 0});
    }
    Payout& p = payouts[it->second];
    if (p.date != field(kPayoutDate)) {
      return Bad(rec.line, "payout " + p.id + " has two dates: " + p.date + " and " + field(kPayoutDate));
    }
    if (p.currency != field(kCurrency)) {
      return Bad(rec.line,
                 "payout " + p.id + " has two currencies: " + p.currency + " and " + field(kCurrency));
    }
    if (__builtin_add_overflow(p.gross, item.amount, &p.gross) ||
        __builtin_add_overflow(p.fees, item.fee, &p.fees)) {
      return Bad(rec.line, "sums of payout " + p.id + " overflow");
    }
    p.items.push_back(std::move(item));
  }
  for (Payout& p : payouts) {
    if (__builtin_sub_overflow(p.gross, p.fees, &p.net))
      return Bad(1, "net of payout " + p.id + " overflows");
  }
  return payouts;
}

}  // namespace saalbuch::formats
