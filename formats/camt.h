// ISO 20022 camt.053 ("Bank to Customer Statement"), the end-of-day account
// statement German banks deliver over EBICS or for download, read with
// pugixml into plain structs the finance feature reconciles against.
//
// Amounts are minor units of a two-decimal currency (EUR); an amount with
// more decimals is refused rather than rounded.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace saalbuch::formats {

// One booked movement on the account. An entry (Ntry) with several
// transaction details (TxDtls, a batch booking) yields one BankLine per
// TxDtls; an entry without TxDtls yields one BankLine.
struct BankLine {
  std::string reference;      // unique per line: AcctSvcrRef of the entry (or NtryRef); with several TxDtls
                              // "<ref>/<n>" (n from 1)
  std::int64_t amount = 0;    // minor units, > 0
  bool credit = true;         // CdtDbtInd CRDT (money in) or DBIT
  std::string currency;       // Amt/@Ccy
  std::string booking_date;   // YYYY-MM-DD (BookgDt/Dt, or the date part of BookgDt/DtTm)
  std::string value_date;     // YYYY-MM-DD (ValDt), may be empty
  std::string remittance;     // every RmtInf/Ustrd of the transaction joined by " "; also
                              // RmtInf/Strd/CdtrRefInf/Ref appended
  std::string end_to_end_id;  // Refs/EndToEndId ("NOTPROVIDED" kept as is)
  std::string counterparty;   // Dbtr name for credits, Cdtr name for debits (RltdPties/Dbtr/Nm or
                              // RltdPties/Dbtr/Pty/Nm in v08)
  std::string counterparty_iban;  // DbtrAcct/Id/IBAN for credits, CdtrAcct/Id/IBAN for debits; may be empty
};

struct BankStatement {
  std::string message_id;    // GrpHdr/MsgId
  std::string id;            // Stmt/Id
  std::string iban;          // Stmt/Acct/Id/IBAN
  std::string currency;      // Stmt/Acct/Ccy or the balances' currency
  std::int64_t opening = 0;  // Bal with Tp/CdOrPrtry/Cd OPBD (PRCD as fallback), signed by its CdtDbtInd
  std::int64_t closing = 0;  // CLBD
  // Booked entries only (Sts BOOK, or Sts/Cd BOOK in v08); pending entries skipped.
  std::vector<BankLine> lines;
};

// Parses every Stmt of a camt.053 document (versions .001.02 to .001.08).
// Elements are matched by local name, so any namespace prefix or version
// works; a declared default or prefixed namespace must name camt.053.
//
// When an entry has neither AcctSvcrRef nor NtryRef, its reference is
// "<Stmt/Id>/<position of the entry in the statement, from 1>", which is
// stable for the same file. A reference that occurs twice in one document is
// an error: callers use it as the idempotency key of an import.
//
// Errors (kInvalidArgument, the message naming the element and its line):
// not XML, not a camt.053 Document, a statement without IBAN, opening or
// closing balance, an entry without amount/currency/indicator/booking date, a
// malformed or non-positive amount, an amount with more than 2 decimals, an
// entry in another currency than its account, several TxDtls whose amounts
// do not add up to the entry's, a duplicate reference, and "balance mismatch"
// when opening + credits - debits != closing for a statement (banks
// guarantee it; a file that fails it is damaged).
//
// External entities are never expanded (pugixml has no DTD processing), so
// a hostile document cannot read local files or reach the network.
Result<std::vector<BankStatement>> ParseCamt053(std::string_view xml);

}  // namespace saalbuch::formats
