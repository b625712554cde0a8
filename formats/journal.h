// The books' journal as plain values: what the DATEV export (formats/datev.h)
// and the journal CSV (formats/csv.h) are made of.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/time.h"

namespace saalbuch::formats {

// One side of a journal entry on one account. Exactly one of debit and
// credit is > 0 in a well-formed line.
struct JournalLine {
  std::string account;      // ledger account number, e.g. "1200"
  std::int64_t debit = 0;   // minor units, >= 0
  std::int64_t credit = 0;  // minor units, >= 0
  // On a revenue line: the tax on its amount, which a tax line of the same
  // entry posts (the line's gross is its amount plus this).
  std::int64_t tax = 0;
  bool tax_line = false;         // posts the tax of the entry's revenue lines
  std::string cost_center = {};  // the revenue line's Kostenstelle; may be empty
};

// One balanced posting of the books: its lines' debits add up to their credits.
struct JournalEntry {
  std::int64_t seq = 0;     // the log position of the record that made the entry
  LocalDay date = 0;        // the booking day in the tenant's zone
  std::string document;     // the document number, e.g. "R-2026-000001"
  std::string text;         // the posting text
  std::string cost_center;  // may be empty
  std::vector<JournalLine> lines;
};

}  // namespace saalbuch::formats
