// The payment provider's settlement report: which payments, refunds and fees
// went into which payout, i.e. into which single transfer to our bank
// account. The finance feature matches a payout's `net` against a camt.053
// line and its items against invoices.
//
// The format (our simulated provider's, modelled on the big providers'
// "payout reconciliation" exports), as a grammar:
//
//   file    = [BOM] header *(EOL record) [EOL]
//   BOM     = %xEF.BB.BF                  ; UTF-8 byte order mark, optional
//   EOL     = CRLF / LF
//   header  = name *("," name)            ; column names, any order
//   record  = field *("," field)          ; as many fields as the header
//   name    = field
//   field   = quoted / bare               ; RFC 4180
//   quoted  = DQUOTE *(%x00-21 / %x23-FF / 2DQUOTE) DQUOTE  ; may hold , CR LF
//   bare    = *(%x00-09 / %x0B-0C / %x0E-21 / %x23-2B / %x2D-FF)
//
// Required columns (others are ignored):
//   payout_id          the transfer this row is part of
//   payout_date        YYYY-MM-DD, the same on every row of a payout
//   currency           ISO 4217, the same on every row of a payout
//   type               payment | refund | fee | adjustment
//   payment_reference  the provider's payment or refund id; required for
//                      payment and refund rows
//   invoice_reference  our invoice number as the booker entered it; may be empty
//   amount             decimal with a dot and at most 2 decimals, "25.00";
//                      payments > 0, refunds < 0, fee/adjustment any sign
//   fee                decimal >= 0, the provider's fee for this row
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace saalbuch::formats {

struct SettlementItem {
  std::string type;         // payment | refund | fee | adjustment
  std::string reference;    // the provider's payment or refund reference
  std::string invoice;      // our invoice reference as the provider knows it (may be empty)
  std::int64_t amount = 0;  // minor units, signed
  std::int64_t fee = 0;     // minor units, >= 0
  int line = 0;             // 1-based line number in the file, for reports
};

struct Payout {
  std::string id;
  std::string date;  // YYYY-MM-DD
  std::string currency;
  std::vector<SettlementItem> items;  // in file order
  std::int64_t gross = 0;             // sum of amounts
  std::int64_t fees = 0;              // sum of fees
  std::int64_t net = 0;               // gross - fees: what reaches the bank
};

// At most this many data rows (a month of a busy municipality is a few
// thousand); a larger file is refused, not truncated.
inline constexpr std::size_t kMaxSettlementRows = 100000;

// Payouts in order of first appearance. Errors (kInvalidArgument, the
// message starting "line N: "): missing required column, a column named
// twice, bad quoting, wrong field count, bad amount/fee/date/type/currency,
// a payment or refund without reference, one payout with two dates or
// currencies, more than kMaxSettlementRows rows, sums beyond int64.
Result<std::vector<Payout>> ParseSettlementCsv(std::string_view csv);

}  // namespace saalbuch::formats
