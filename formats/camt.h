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
                              // RltdPties/Dbtr/Pty/Nm from .07)
  std::string counterparty_iban;  // DbtrAcct/Id/IBAN for credits, CdtrAcct/Id/IBAN for debits; may be empty
};

struct BankStatement {
  std::string message_id;  // GrpHdr/MsgId
  std::string id;          // Stmt/Id
  // The account, identified by exactly one of the two (ISO 20022
  // AccountIdentification4Choice): its IBAN, or another identifier such as a
  // domestic account number or a payment institution's account id.
  std::string iban;          // Stmt/Acct/Id/IBAN; empty when the account has none
  std::string other_id;      // Stmt/Acct/Id/Othr/Id; empty when the account has an IBAN
  std::string currency;      // Stmt/Acct/Ccy or the balances' currency
  std::int64_t opening = 0;  // Bal with Tp/CdOrPrtry/Cd OPBD (PRCD as fallback), signed by its CdtDbtInd
  std::int64_t closing = 0;  // CLBD
  // Booked entries only (Sts BOOK, or Sts/Cd BOOK from .07); pending entries skipped.
  std::vector<BankLine> lines;
};

// The camt.053 versions read: urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN
// for NN from kFirstCamt053Version to kLastCamt053Version. In every one of
// them the elements read below sit at the same paths, with two alternatives
// both read: Ntry/Sts is a code up to .06 and Sts/Cd from .07; a party is
// Dbtr/Nm up to .06 and Dbtr/Pty/Nm from .07. (Checked against the ISO
// 20022 schemas as generated into prowide-iso20022's model. .001.01 has
// another root, BkToCstmrStmtV01; .14 and later are refused until checked.)
inline constexpr int kFirstCamt053Version = 2;
inline constexpr int kLastCamt053Version = 13;

// Parses every Stmt of a camt.053 document, each with its own account,
// balances and lines, in document order. Elements are matched by local name,
// so any namespace prefix works; the default or prefixed namespace of the
// root must be camt.053 in one of the versions above.
//
// Read per Stmt: Id, Acct/Id/IBAN or Acct/Id/Othr/Id, Acct/Ccy, the OPBD
// (else PRCD) and CLBD balances (Bal/Tp/CdOrPrtry/Cd, Amt, CdtDbtInd); per
// booked Ntry: Amt, CdtDbtInd, Sts, BookgDt and ValDt (Dt or DtTm),
// AcctSvcrRef or NtryRef; per NtryDtls/TxDtls: Refs/EndToEndId, Amt or
// AmtDtls/TxAmt/Amt and CdtDbtInd (batches), RltdPties (Dbtr, Cdtr and their
// accounts' IBAN), RmtInf/Ustrd and RmtInf/Strd/CdtrRefInf/Ref.
//
// When an entry has neither AcctSvcrRef nor NtryRef, its reference is
// "<Stmt/Id>/<position of the entry in the statement, from 1>", which is
// stable for the same file. A reference that occurs twice in one document is
// an error: callers use it as the idempotency key of an import.
//
// Errors (kInvalidArgument, the message naming the element and its line):
// not XML, not a camt.053 Document, a camt.053 version not listed above (the
// message names the supported ones), a document without Stmt, a statement
// without account identification (IBAN or Othr/Id), opening or closing
// balance, an entry without amount/currency/indicator/booking date, a
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
