#include "formats/camt.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include "common/money.h"
#include "common/time.h"

namespace saalbuch::formats {
namespace {

// Banks use different prefixes (none, "ns2:", "camt:") and schema versions
// for the same element names, so the structure is navigated by local name.
std::string_view LocalName(const pugi::xml_node& n) {
  std::string_view name = n.name();
  const std::size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node Child(const pugi::xml_node& n, std::string_view local) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c) == local) return c;
  }
  return {};
}

// Child(Child(n, a), b)…; an empty node when any step is missing.
pugi::xml_node Path(pugi::xml_node n, std::initializer_list<std::string_view> steps) {
  for (std::string_view s : steps) n = Child(n, s);
  return n;
}

std::vector<pugi::xml_node> Children(const pugi::xml_node& n, std::string_view local) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c) == local) out.push_back(c);
  }
  return out;
}

std::string Text(const pugi::xml_node& n) { return n.child_value(); }

// pugixml keeps each node's offset into the parsed buffer; a line number is
// what a person looking at the file can use.
int LineOf(std::string_view xml, const pugi::xml_node& n) {
  const std::ptrdiff_t offset = n.offset_debug();
  if (offset < 0 || static_cast<std::size_t>(offset) > xml.size()) return 0;
  return 1 + static_cast<int>(std::count(xml.begin(), xml.begin() + offset, '\n'));
}

Status Bad(std::string_view xml, const pugi::xml_node& n, const std::string& what) {
  return {StatusCode::kInvalidArgument, what + " (line " + std::to_string(LineOf(xml, n)) + ")"};
}

// camt amounts are unsigned decimals with a dot; the sign is CdtDbtInd.
Result<std::int64_t> Amount(std::string_view xml, const pugi::xml_node& amt, bool allow_zero) {
  const std::string text = Text(amt);
  const std::size_t dot = text.find('.');
  if (dot != std::string::npos && text.size() - dot - 1 > 2) {
    return Bad(xml, amt, "amount '" + text + "' has more than 2 decimals");
  }
  const std::optional<std::int64_t> v =
      text.empty() || text.front() == '-' || text.front() == '+' ? std::nullopt : ParseDecimal(text);
  if (!v) return Bad(xml, amt, "malformed amount '" + text + "'");
  if (*v == 0 && !allow_zero) return Bad(xml, amt, "amount must be positive, got '" + text + "'");
  return *v;
}

// A real date YYYY-MM-DD of the years Saalbuch stores (common/time.h).
bool IsIsoDate(std::string_view d) { return ParseLocalDay(d).has_value(); }

// Dt, or the date part of DtTm; empty when neither is present.
std::string DateOf(const pugi::xml_node& n) {
  if (pugi::xml_node dt = Child(n, "Dt")) return Text(dt);
  if (pugi::xml_node dttm = Child(n, "DtTm")) return Text(dttm).substr(0, 10);
  return {};
}

// Up to .06 a party is Dbtr/Nm; from .07 it is wrapped in Dbtr/Pty/Nm.
std::string PartyName(const pugi::xml_node& party) {
  if (pugi::xml_node nm = Child(party, "Nm")) return Text(nm);
  return Text(Path(party, {"Pty", "Nm"}));
}

std::string Remittance(const pugi::xml_node& tx) {
  std::string out;
  auto append = [&out](const std::string& s) {
    if (s.empty()) return;
    if (!out.empty()) out += ' ';
    out += s;
  };
  for (const pugi::xml_node& rmt : Children(tx, "RmtInf")) {
    for (const pugi::xml_node& u : Children(rmt, "Ustrd")) append(Text(u));
    for (const pugi::xml_node& s : Children(rmt, "Strd")) append(Text(Path(s, {"CdtrRefInf", "Ref"})));
  }
  return out;
}

struct Balance {
  bool found = false;
  std::int64_t amount = 0;
  std::string currency;
};

Result<Balance> FindBalance(std::string_view xml, const pugi::xml_node& stmt, std::string_view code) {
  for (const pugi::xml_node& bal : Children(stmt, "Bal")) {
    if (Text(Path(bal, {"Tp", "CdOrPrtry", "Cd"})) != code) continue;
    const pugi::xml_node amt = Child(bal, "Amt");
    if (!amt) return Bad(xml, bal, std::string(code) + " balance without Amt");
    Result<std::int64_t> v = Amount(xml, amt, /*allow_zero=*/true);
    if (!v.ok()) return v.status();
    const std::string ind = Text(Child(bal, "CdtDbtInd"));
    if (ind != "CRDT" && ind != "DBIT")
      return Bad(xml, bal, std::string(code) + " balance without CdtDbtInd");
    return Balance{true, ind == "DBIT" ? -*v : *v, amt.attribute("Ccy").value()};
  }
  return Balance{};
}

bool IsBooked(const pugi::xml_node& entry) {
  const pugi::xml_node sts = Child(entry, "Sts");
  const pugi::xml_node cd = Child(sts, "Cd");
  return (cd ? Text(cd) : Text(sts)) == "BOOK";
}

// The fields of one TxDtls (or of the entry itself when it has none).
void FillDetails(const pugi::xml_node& tx, BankLine& line) {
  line.end_to_end_id = Text(Path(tx, {"Refs", "EndToEndId"}));
  line.remittance = Remittance(tx);
  const pugi::xml_node parties = Child(tx, "RltdPties");
  const char* role = line.credit ? "Dbtr" : "Cdtr";
  line.counterparty = PartyName(Child(parties, role));
  line.counterparty_iban = Text(Path(parties, {line.credit ? "DbtrAcct" : "CdtrAcct", "Id", "IBAN"}));
}

Status ParseEntry(std::string_view xml, const pugi::xml_node& entry, const BankStatement& st, int position,
                  std::vector<BankLine>& out, std::int64_t& signed_sum) {
  const pugi::xml_node amt = Child(entry, "Amt");
  if (!amt) return Bad(xml, entry, "Ntry without Amt");
  Result<std::int64_t> amount = Amount(xml, amt, /*allow_zero=*/false);
  if (!amount.ok()) return amount.status();
  BankLine base;
  base.amount = *amount;
  base.currency = amt.attribute("Ccy").value();
  if (!IsValidCurrency(base.currency)) return Bad(xml, amt, "Ntry/Amt without a valid Ccy");
  if (base.currency != st.currency) {
    return Bad(xml, amt, "Ntry currency " + base.currency + " differs from the account's " + st.currency);
  }
  const std::string ind = Text(Child(entry, "CdtDbtInd"));
  if (ind != "CRDT" && ind != "DBIT") return Bad(xml, entry, "Ntry without CdtDbtInd CRDT or DBIT");
  base.credit = ind == "CRDT";
  base.booking_date = DateOf(Child(entry, "BookgDt"));
  if (!IsIsoDate(base.booking_date)) return Bad(xml, entry, "Ntry without a BookgDt date");
  base.value_date = DateOf(Child(entry, "ValDt"));
  if (!base.value_date.empty() && !IsIsoDate(base.value_date))
    return Bad(xml, entry, "Ntry with a bad ValDt");
  base.reference = Text(Child(entry, "AcctSvcrRef"));
  if (base.reference.empty()) base.reference = Text(Child(entry, "NtryRef"));
  if (base.reference.empty()) base.reference = st.id + "/" + std::to_string(position);
  signed_sum = base.credit ? *amount : -*amount;

  std::vector<pugi::xml_node> txs;
  for (const pugi::xml_node& details : Children(entry, "NtryDtls")) {
    for (const pugi::xml_node& tx : Children(details, "TxDtls")) txs.push_back(tx);
  }
  if (txs.size() <= 1) {
    BankLine line = base;
    if (!txs.empty()) FillDetails(txs.front(), line);
    out.push_back(std::move(line));
    return Status::Ok();
  }
  // A batch: each transaction carries its own amount, and together they are
  // the entry; if they are not, the lines would not add up to the balance.
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < txs.size(); ++i) {
    pugi::xml_node tx_amt = Child(txs[i], "Amt");
    if (!tx_amt) tx_amt = Path(txs[i], {"AmtDtls", "TxAmt", "Amt"});
    if (!tx_amt) return Bad(xml, txs[i], "TxDtls of a batch entry without Amt or AmtDtls/TxAmt/Amt");
    Result<std::int64_t> v = Amount(xml, tx_amt, /*allow_zero=*/false);
    if (!v.ok()) return v.status();
    BankLine line = base;
    line.amount = *v;
    const std::string tx_ind = Text(Child(txs[i], "CdtDbtInd"));
    if (!tx_ind.empty()) line.credit = tx_ind == "CRDT";
    line.reference = base.reference + "/" + std::to_string(i + 1);
    FillDetails(txs[i], line);
    sum += line.credit ? line.amount : -line.amount;
    out.push_back(std::move(line));
  }
  if (sum != signed_sum) return Bad(xml, entry, "TxDtls amounts do not add up to the Ntry amount");
  return Status::Ok();
}

Result<BankStatement> ParseStatement(std::string_view xml, const pugi::xml_node& stmt,
                                     const std::string& message_id) {
  BankStatement st;
  st.message_id = message_id;
  st.id = Text(Child(stmt, "Id"));
  const pugi::xml_node acct = Child(stmt, "Acct");
  st.iban = Text(Path(acct, {"Id", "IBAN"}));
  if (st.iban.empty()) st.other_id = Text(Path(acct, {"Id", "Othr", "Id"}));
  if (st.iban.empty() && st.other_id.empty()) {
    return Bad(xml, stmt, "Stmt without account identification (Acct/Id/IBAN or Acct/Id/Othr/Id)");
  }
  Result<Balance> opening = FindBalance(xml, stmt, "OPBD");
  if (opening.ok() && !opening->found) opening = FindBalance(xml, stmt, "PRCD");
  if (!opening.ok()) return opening.status();
  if (!opening->found) return Bad(xml, stmt, "Stmt without opening balance (Bal OPBD or PRCD)");
  Result<Balance> closing = FindBalance(xml, stmt, "CLBD");
  if (!closing.ok()) return closing.status();
  if (!closing->found) return Bad(xml, stmt, "Stmt without closing balance (Bal CLBD)");
  st.opening = opening->amount;
  st.closing = closing->amount;
  st.currency = Text(Child(acct, "Ccy"));
  if (st.currency.empty()) st.currency = opening->currency;
  if (!IsValidCurrency(st.currency)) return Bad(xml, stmt, "Stmt without account currency");

  std::int64_t balance = st.opening;
  int position = 0;
  for (const pugi::xml_node& entry : Children(stmt, "Ntry")) {
    ++position;
    if (!IsBooked(entry)) continue;
    std::int64_t signed_amount = 0;
    Status s = ParseEntry(xml, entry, st, position, st.lines, signed_amount);
    if (!s.ok()) return s;
    if (__builtin_add_overflow(balance, signed_amount, &balance)) return Bad(xml, entry, "amounts overflow");
  }
  if (balance != st.closing) {
    return Bad(xml, stmt,
               "balance mismatch in Stmt " + st.id + ": opening " + FormatDecimal(st.opening) +
                   " + booked entries = " + FormatDecimal(balance) + ", closing says " +
                   FormatDecimal(st.closing));
  }
  return st;
}

// The namespace bound to the root's prefix (or the default one), if any.
std::string RootNamespace(const pugi::xml_node& root) {
  std::string_view name = root.name();
  const std::size_t colon = name.find(':');
  const std::string attr =
      colon == std::string_view::npos ? "xmlns" : "xmlns:" + std::string(name.substr(0, colon));
  return root.attribute(attr.c_str()).value();
}

constexpr std::string_view kCamt053Namespace = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.";

// "camt.053.001.NN" for a version number.
std::string VersionName(int version) {
  std::string out = "camt.053.001.";
  if (version < 10) out += '0';
  return out + std::to_string(version);
}

// The version a camt.053 namespace names (the two digits after
// kCamt053Namespace), or 0 when it names none.
int NamespaceVersion(std::string_view ns) {
  if (!ns.starts_with(kCamt053Namespace)) return 0;
  const std::string_view digits = ns.substr(kCamt053Namespace.size());
  if (digits.size() != 2 || !std::isdigit(static_cast<unsigned char>(digits[0])) ||
      !std::isdigit(static_cast<unsigned char>(digits[1]))) {
    return 0;
  }
  return (digits[0] - '0') * 10 + (digits[1] - '0');
}

}  // namespace

Result<std::vector<BankStatement>> ParseCamt053(std::string_view xml) {
  pugi::xml_document doc;
  // parse_default neither reads the DTD nor expands entities beyond the five
  // predefined ones and character references: no XXE, no entity bombs.
  const pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default);
  if (!parsed) {
    const int line =
        1 + static_cast<int>(std::count(
                xml.begin(), xml.begin() + std::min<std::size_t>(parsed.offset, xml.size()), '\n'));
    return Status(StatusCode::kInvalidArgument,
                  std::string("not XML: ") + parsed.description() + " (line " + std::to_string(line) + ")");
  }
  const pugi::xml_node root = doc.document_element();
  const std::string ns = RootNamespace(root);
  const pugi::xml_node body = Child(root, "BkToCstmrStmt");
  if (LocalName(root) != "Document" || !body || (!ns.empty() && ns.find("camt.053") == std::string::npos)) {
    return Status(StatusCode::kInvalidArgument, "not a camt.053 Document (root element '" +
                                                    std::string(root.name()) + "', namespace '" + ns + "')");
  }
  // The paths read are the same in the versions listed in camt.h; a newer
  // version may move or redefine them, so it is refused rather than
  // half-read. Without a namespace the version is unknown.
  const int version = NamespaceVersion(ns);
  if (version < kFirstCamt053Version || version > kLastCamt053Version) {
    const std::string what = ns.empty()
                                 ? std::string("camt.053 Document without namespace, so of unknown version")
                                 : "unsupported camt.053 version (namespace '" + ns + "')";
    return Status(StatusCode::kInvalidArgument, what + "; supported: " + VersionName(kFirstCamt053Version) +
                                                    " to " + VersionName(kLastCamt053Version) +
                                                    " (namespace " + std::string(kCamt053Namespace) + "NN)");
  }
  const std::string message_id = Text(Path(body, {"GrpHdr", "MsgId"}));
  const std::vector<pugi::xml_node> stmts = Children(body, "Stmt");
  if (stmts.empty()) return Bad(xml, body, "BkToCstmrStmt without Stmt");
  std::vector<BankStatement> out;
  std::set<std::string> references;
  for (const pugi::xml_node& stmt : stmts) {
    Result<BankStatement> st = ParseStatement(xml, stmt, message_id);
    if (!st.ok()) return st.status();
    for (const BankLine& line : st->lines) {
      if (!references.insert(line.reference).second) {
        return Bad(xml, stmt, "duplicate entry reference '" + line.reference + "' in Stmt " + st->id);
      }
    }
    out.push_back(std::move(st).value());
  }
  return out;
}

}  // namespace saalbuch::formats
