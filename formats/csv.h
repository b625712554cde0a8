// The books as plain CSV for spreadsheets: the journal and the open items.
//
//   file   = header CRLF *(row CRLF)
//   field  = bare / DQUOTE *(any but DQUOTE / 2DQUOTE) DQUOTE
//            ; quoted only when it holds ';', '"', CR or LF
//   row    = field *(";" field)
// UTF-8 without BOM; amounts with a decimal point and two decimals ("25.00").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/time.h"
#include "formats/journal.h"

namespace saalbuch::formats {

// "date;document;text;account;debit;credit;position", one row per line of
// each entry in the given order; date YYYY-MM-DD, position the entry's seq.
std::string JournalCsv(const std::vector<JournalEntry>& entries);

// An invoice with money still owed.
struct OpenItem {
  std::string number;  // the invoice number
  std::string customer;
  TimeUs due = 0;             // written in UTC, RFC 3339
  std::int64_t gross = 0;     // minor units
  std::int64_t open = 0;      // minor units still owed
  std::string currency;       // ISO 4217
  std::string kassenzeichen;  // the reference a payer quotes
  std::string recipient;      // the invoice recipient's name; may be empty
};

// "number;customer;due;gross;open;currency;kassenzeichen;recipient", one row per item
// in the given order.
std::string OpenItemsCsv(const std::vector<OpenItem>& items);

}  // namespace saalbuch::formats
