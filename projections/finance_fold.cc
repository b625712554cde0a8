// The finance projection ('F'): documents, payments, refunds, the
// double-entry journal with account balances, open items, revenue per month,
// and reconciliation state. Grammar: projections/README.md.
//
// Every journal entry is checked to balance before it is written; an entry
// that does not is a programming error and fails the fold (kCorruption), so
// the trial balance is zero after every record (invariant 4).
#include <set>

#include "common/money.h"
#include "common/time.h"
#include "common/time_json.h"
#include "projections/finance_internal.h"
#include "projections/fold_internal.h"

namespace saalbuch::projections {
namespace {

using nlohmann::json;

std::string S(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

// The elements of a FlatBuffers vector; an empty vector is stored as none.
template <typename T>
std::vector<const T*> Each(const flatbuffers::Vector<flatbuffers::Offset<T>>* v) {
  std::vector<const T*> out;
  if (v != nullptr) out.assign(v->begin(), v->end());
  return out;
}

class Finance {
 public:
  Finance(const TenantId& t, Seq seq, const schema::Envelope& env, Txn* txn)
      : t_(t), seq_(seq), env_(env), txn_(txn) {}

  Status Fold();

 private:
  Result<json> Get(const std::string& rest) {
    auto v = txn_->Get(Key(t_, 'F', rest));
    if (!v.ok()) return v.status();
    if (!v->has_value()) return json();
    auto j = json::parse(**v, nullptr, false);
    if (j.is_discarded()) return Status(StatusCode::kCorruption, "finance document is not JSON");
    return j;
  }
  void Put(const std::string& rest, const json& doc) { txn_->Put(Key(t_, 'F', rest), doc.dump()); }

  Status LoadSettings();
  std::string Account(const std::string& role) const;
  std::string Day(TimeUs t) const { return FormatLocalDay(LocalDayOf(t, zone_)); }

  struct Posting {
    Posting(std::string a, std::int64_t d, std::int64_t c) : account(std::move(a)), debit(d), credit(c) {}
    std::string account;
    std::int64_t debit = 0;
    std::int64_t credit = 0;
    std::int64_t tax = 0;     // a revenue line: the tax on it, posted by a tax line of the entry
    bool tax_line = false;    // DATEV leaves it out (its automatic accounts compute the tax)
    std::string cost_center;  // a revenue line's Kostenstelle
  };
  // The revenue account of lines of a cost centre at a tax rate: the cost
  // centre's own ("revenue:<cc>") when it has one, else the rate's
  // ("revenue@<bp>"), else "revenue".
  std::string RevenueAccount(const std::string& cost_center, std::int32_t rate_bp) const;
  // Receivable against revenue per cost centre and rate, and tax per rate;
  // `sign` 1 for an invoice, -1 for a credit note.
  std::vector<Posting> DocumentPostings(
      const flatbuffers::Vector<flatbuffers::Offset<schema::DocumentLine>>* lines, std::int64_t gross,
      int sign, std::string* cost_center) const;
  Status Post(TimeUs when, const std::string& document, const std::string& text,
              const std::string& cost_center, const std::vector<Posting>& postings);
  Status UpdateInvoice(const std::string& id, const std::function<void(json&)>& change);
  Status Revenue(TimeUs when, const flatbuffers::Vector<flatbuffers::Offset<schema::DocumentLine>>* lines,
                 int sign);

  Status Settings();
  Status Invoice();
  Status CreditNote();
  Status Payment();
  Status Refund();
  Status Settlement();
  Status BankStatement();
  Status Match();

  const TenantId& t_;
  Seq seq_;
  const schema::Envelope& env_;
  Txn* txn_;
  json settings_;
  const Zone* zone_ = nullptr;
  int entry_ = 0;
};

json LinesJson(const flatbuffers::Vector<flatbuffers::Offset<schema::DocumentLine>>* lines) {
  json out = json::array();
  if (lines == nullptr) return out;
  for (const auto* l : *lines) {
    out.push_back({{"description", S(l->description())},
                   {"item", S(l->item())},
                   {"tariff", S(l->tariff_id())},
                   {"unit", S(l->unit())},
                   {"quantity_milli", l->quantity_milli()},
                   {"unit_amount", l->unit_amount()},
                   {"gross_priced", l->gross_priced()},
                   {"tax_rate_bp", l->tax_rate_bp()},
                   {"net", l->net()},
                   {"tax", l->tax()},
                   {"gross", l->gross()},
                   {"product", S(l->product())},
                   {"cost_center", S(l->cost_center())}});
  }
  return out;
}

// Invoice status from its figures.
std::string InvoiceStatus(const json& inv) {
  const std::int64_t owed = inv["gross"].get<std::int64_t>() - inv["credited"].get<std::int64_t>();
  const std::int64_t open = inv["open"].get<std::int64_t>();
  if (owed == 0 && open == 0) return "cancelled";
  if (open > 0) return inv["captured"].get<std::int64_t>() > 0 ? "partly_paid" : "open";
  if (open < 0) return "overpaid";
  return "paid";
}

}  // namespace

Status Finance::LoadSettings() {
  auto s = Get("s");
  if (!s.ok()) return s.status();
  settings_ = s->is_null() ? json::object() : *s;
  // The rules TenantCreated carried ("Z"), else the zone's name (finance
  // projections folded before the rules were).
  auto rules = txn_->Get(Key(t_, 'F', "Z"));
  if (!rules.ok()) return rules.status();
  zone_ = ZoneOf(rules->has_value() ? **rules : settings_.value("time_zone", "UTC"));
  if (zone_ == nullptr) zone_ = UtcZone();
  return Status::Ok();
}

std::string Finance::Account(const std::string& role) const {
  if (settings_.contains("accounts") && settings_["accounts"].contains(role)) {
    return settings_["accounts"][role].get<std::string>();
  }
  const auto& d = DefaultAccounts();
  auto it = d.find(role);
  if (it != d.end()) return it->second;
  // "revenue:<cost center>" and unknown tax rates fall back to their kind.
  return Account(role.substr(0, role.find(':')) == "revenue" ? "revenue" : "tax:1900");
}

std::string Finance::RevenueAccount(const std::string& cost_center, std::int32_t rate_bp) const {
  const json& accounts = settings_.contains("accounts") ? settings_["accounts"] : json::object();
  if (!cost_center.empty() && accounts.contains("revenue:" + cost_center)) {
    return accounts["revenue:" + cost_center].get<std::string>();
  }
  const std::string by_rate = "revenue@" + std::to_string(rate_bp);
  if (accounts.contains(by_rate)) return accounts[by_rate].get<std::string>();
  if (DefaultAccounts().count(by_rate) != 0) return DefaultAccounts().at(by_rate);
  return Account("revenue");
}

std::vector<Finance::Posting> Finance::DocumentPostings(
    const flatbuffers::Vector<flatbuffers::Offset<schema::DocumentLine>>* lines, std::int64_t gross, int sign,
    std::string* cost_center) const {
  auto side = [sign](const std::string& account, std::int64_t amount) {
    return sign > 0 ? Posting(account, 0, amount) : Posting(account, amount, 0);
  };
  std::vector<Posting> p{sign > 0 ? Posting(Account("receivables"), gross, 0)
                                  : Posting(Account("receivables"), 0, gross)};
  std::map<std::pair<std::string, std::int32_t>, std::pair<std::int64_t, std::int64_t>> revenue;  // net, tax
  std::map<std::int32_t, std::int64_t> tax;
  std::set<std::string> centres;
  for (const auto* l : Each(lines)) {
    auto& r = revenue[{S(l->cost_center()), l->tax_rate_bp()}];
    r.first += l->net();
    r.second += l->tax();
    centres.insert(S(l->cost_center()));
    if (l->tax() != 0) tax[l->tax_rate_bp()] += l->tax();
  }
  for (const auto& [key, amounts] : revenue) {
    Posting r = side(RevenueAccount(key.first, key.second), amounts.first);
    r.tax = amounts.second;
    r.cost_center = key.first;
    p.push_back(std::move(r));
  }
  for (const auto& [rate, amount] : tax) {
    Posting t = side(Account("tax:" + std::to_string(rate)), amount);
    t.tax_line = true;
    p.push_back(std::move(t));
  }
  *cost_center = centres.size() == 1 ? *centres.begin() : "";
  return p;
}

Status Finance::Post(TimeUs when, const std::string& document, const std::string& text,
                     const std::string& cost_center, const std::vector<Posting>& postings) {
  std::int64_t debit = 0, credit = 0;
  json lines = json::array();
  for (const auto& p : postings) {
    if (p.debit == 0 && p.credit == 0) continue;
    json line = {{"account", p.account}, {"debit", p.debit}, {"credit", p.credit}};
    if (p.tax != 0) line["tax"] = p.tax;
    if (p.tax_line) line["tax_line"] = true;
    if (!p.cost_center.empty()) line["cost_center"] = p.cost_center;
    lines.push_back(std::move(line));
    auto bal = Get("b" + p.account);
    if (!bal.ok()) return bal.status();
    json b = bal->is_null() ? json{{"account", p.account}, {"debit", 0}, {"credit", 0}} : *bal;
    std::int64_t account_debit = 0, account_credit = 0;
    // Decide bounds every amount (common/money.h, kMaxAmount); a sum that
    // still overflowed would be a corrupt history, never a wrapped balance.
    if (!CheckedAdd(debit, p.debit, &debit) || !CheckedAdd(credit, p.credit, &credit) ||
        !CheckedAdd(b["debit"].get<std::int64_t>(), p.debit, &account_debit) ||
        !CheckedAdd(b["credit"].get<std::int64_t>(), p.credit, &account_credit)) {
      const std::string seq = std::to_string(seq_);  // named: see Cat (keys_internal.h)
      return {StatusCode::kCorruption, "journal entry of record " + seq + " overflows account " + p.account};
    }
    b["debit"] = account_debit;
    b["credit"] = account_credit;
    Put("b" + p.account, b);
  }
  if (debit != credit) {
    const std::string seq = std::to_string(seq_);  // named: see Cat (keys_internal.h)
    return {StatusCode::kCorruption, "journal entry of record " + seq + " does not balance"};
  }
  if (lines.empty()) return Status::Ok();
  std::string key = "j";
  ledger::keys::AppendBigEndian64(&key, seq_);
  key.push_back(static_cast<char>(entry_++));
  Put(key, {{"seq", seq_},
            {"date", Day(when)},
            {"document", document},
            {"text", text},
            {"cost_center", cost_center},
            {"lines", lines}});
  return Status::Ok();
}

Status Finance::UpdateInvoice(const std::string& id, const std::function<void(json&)>& change) {
  auto inv = Get("i" + id);
  if (!inv.ok()) return inv.status();
  if (inv->is_null()) return Status::Ok();
  json& doc = *inv;
  change(doc);
  doc["open"] = doc["gross"].get<std::int64_t>() - doc["credited"].get<std::int64_t>() -
                (doc["captured"].get<std::int64_t>() - doc["refunded"].get<std::int64_t>());
  doc["status"] = InvoiceStatus(doc);
  Put("i" + id, doc);
  if (doc["open"].get<std::int64_t>() != 0) {
    Put("o" + id, {{"due", doc["due"]}});
  } else {
    txn_->Delete(Key(t_, 'F', "o" + id));
  }
  return Status::Ok();
}

Status Finance::Revenue(TimeUs when,
                        const flatbuffers::Vector<flatbuffers::Offset<schema::DocumentLine>>* lines,
                        int sign) {
  if (lines == nullptr) return Status::Ok();
  const std::string month = Day(when).substr(0, 7);
  for (const auto* l : *lines) {
    const std::string key = "m" + month + "/" + S(l->item());
    auto cur = Get(key);
    if (!cur.ok()) return cur.status();
    json doc = cur->is_null() ? json{{"month", month}, {"item", S(l->item())}, {"net", 0}} : *cur;
    std::int64_t net = 0;
    if (!CheckedAdd(doc["net"].get<std::int64_t>(), sign * l->net(), &net)) {
      std::string message = "revenue of record " + std::to_string(seq_);
      message += " overflows ";
      message += key;
      return {StatusCode::kCorruption, message};
    }
    doc["net"] = net;
    Put(key, doc);
  }
  return Status::Ok();
}

Status Finance::Settings() {
  const auto* e = env_.payload_as_FinanceSettingsSet();
  json accounts = json::object();
  for (const auto& [k, v] : DefaultAccounts()) accounts[k] = v;
  if (e->accounts() != nullptr) {
    for (const auto* a : *e->accounts()) accounts[S(a->key())] = S(a->account());
  }
  json tiers = json::array();
  if (e->tiers() != nullptr) {
    for (const auto* t : *e->tiers()) {
      tiers.push_back({{"min_notice_hours", t->min_notice_us() / (3600 * kUsPerSecond)},
                       {"fee_percent", t->fee_bp() / 100.0}});
    }
  }
  json letterhead = json::array();
  if (e->letterhead() != nullptr) {
    for (const auto* l : *e->letterhead()) letterhead.push_back(l->str());
  }
  settings_["currency"] = S(e->currency());
  settings_["payment_terms_days"] = e->payment_terms_days();
  settings_["tiers"] = tiers;
  settings_["letterhead"] = letterhead;
  settings_["accounts"] = accounts;
  settings_["kassenzeichen_prefix"] = S(e->kassenzeichen_prefix());
  settings_["datev_consultant"] = S(e->datev_consultant());
  // Records from before e-invoices have none: the key stays absent, so
  // their replay gives the same documents as before.
  if (const auto* ei = e->einvoice(); ei != nullptr) {
    settings_["einvoice"] = {{"name", S(ei->name())},
                             {"street", S(ei->street())},
                             {"postcode", S(ei->postcode())},
                             {"city", S(ei->city())},
                             {"country", S(ei->country())},
                             {"vat_id", S(ei->vat_id())},
                             {"tax_number", S(ei->tax_number())},
                             {"seller_id", S(ei->seller_id())},
                             {"iban", S(ei->iban())},
                             {"bic", S(ei->bic())},
                             {"account_holder", S(ei->account_holder())},
                             {"tax_exempt_category", S(ei->tax_exempt_category())},
                             {"tax_exempt_reason", S(ei->tax_exempt_reason())}};
  } else {
    settings_.erase("einvoice");
  }
  settings_["datev_client"] = S(e->datev_client());
  settings_["version"] = env_.stream_version();
  Put("s", settings_);
  return Status::Ok();
}

Status Finance::Invoice() {
  const auto* e = env_.payload_as_InvoiceIssued();
  const std::string id = S(e->invoice_id());
  const std::string number = S(e->number());
  auto booking = Get(Cat("k", S(e->booking_id())));
  if (!booking.ok()) return booking.status();
  json doc = {{"id", id},
              {"number", number},
              {"booking", S(e->booking_id())},
              {"booking_number", booking->is_null() ? "" : (*booking)["number"]},
              {"customer", S(e->customer_id())},
              {"currency", S(e->currency())},
              {"issued", FormatUtc(env_.recorded_at_us())},
              {"issued_at_us", env_.recorded_at_us()},
              {"due", FormatUtc(e->due_us())},
              {"kassenzeichen", S(e->kassenzeichen())},
              {"lines", LinesJson(e->lines())},
              {"net", e->net()},
              {"tax", e->tax()},
              {"gross", e->gross()},
              {"credited", 0},
              {"captured", 0},
              {"refunded", 0},
              {"open", e->gross()},
              {"credit_notes", json::array()},
              {"payments", json::array()},
              {"receipts", json::array()},
              {"refunds", json::array()},
              {"checkouts", json::array()}};
  doc["status"] = InvoiceStatus(doc);
  if (!S(e->recipient_key()).empty() && e->recipient() != nullptr) {
    // Sealed; the HTTP layer opens it with the vault (or says erased).
    doc["recipient_key"] = S(e->recipient_key());
    doc["recipient_sealed"] = ToHex(
        std::string_view(reinterpret_cast<const char*>(e->recipient()->data()), e->recipient()->size()));
  }
  Put("i" + id, doc);
  Put("n" + number, {{"kind", "invoice"}, {"id", id}});
  if (e->gross() != 0) Put("o" + id, {{"due", doc["due"]}});
  TRY_STATUS(Revenue(env_.recorded_at_us(), e->lines(), 1));
  std::string cost_center;
  const std::vector<Posting> p = DocumentPostings(e->lines(), e->gross(), 1, &cost_center);
  return Post(env_.recorded_at_us(), number, "Rechnung " + number, cost_center, p);
}

Status Finance::CreditNote() {
  const auto* e = env_.payload_as_CreditNoteIssued();
  const std::string number = S(e->number());
  const std::string invoice = S(e->invoice_id());
  std::string invoice_number;
  TRY_STATUS(UpdateInvoice(invoice, [&](json& doc) {
    doc["credited"] = doc["credited"].get<std::int64_t>() + e->gross();
    doc["credit_notes"].push_back(number);
    invoice_number = doc["number"].get<std::string>();
  }));
  Put("c" + number, {{"number", number},
                     {"invoice", invoice},
                     {"invoice_number", invoice_number},
                     {"issued", FormatUtc(env_.recorded_at_us())},
                     {"issued_at_us", env_.recorded_at_us()},
                     {"reason", S(e->reason())},
                     {"lines", LinesJson(e->lines())},
                     {"net", e->net()},
                     {"tax", e->tax()},
                     {"gross", e->gross()}});
  Put("n" + number, {{"kind", "credit_note"}, {"id", number}, {"invoice", invoice}});
  TRY_STATUS(Revenue(env_.recorded_at_us(), e->lines(), -1));
  std::string cost_center;
  const std::vector<Posting> p = DocumentPostings(e->lines(), e->gross(), -1, &cost_center);
  return Post(env_.recorded_at_us(), number, "Gutschrift " + number + " zu " + invoice_number, cost_center,
              p);
}

Status Finance::Payment() {
  const auto* e = env_.payload_as_PaymentCaptured();
  const std::string ref = S(e->payment_ref());
  const std::string invoice = S(e->invoice_id());
  const std::string method = S(e->method());
  std::string invoice_number;
  TRY_STATUS(UpdateInvoice(invoice, [&](json& doc) {
    doc["captured"] = doc["captured"].get<std::int64_t>() + e->amount();
    doc["payments"].push_back(ref);
    // The receipts (Zahlungsbelege), so that the booker can fetch them.
    if (!S(e->receipt_number()).empty()) doc["receipts"].push_back(S(e->receipt_number()));
    invoice_number = doc["number"].get<std::string>();
  }));
  const std::string receipt = S(e->receipt_number());
  Put("p" + ref, {{"ref", ref},
                  {"invoice", invoice},
                  {"invoice_number", invoice_number},
                  {"method", method},
                  {"amount", e->amount()},
                  {"fee", e->fee()},
                  {"currency", S(e->currency())},
                  {"received", FormatUtc(e->value_us())},
                  {"received_at_us", e->value_us()},
                  {"recorded_at_us", env_.recorded_at_us()},
                  {"receipt", receipt},
                  {"refunded", 0},
                  {"settled_in", ""}});
  Put("n" + receipt, {{"kind", "receipt"}, {"id", ref}, {"invoice", invoice}});
  const std::string money = method == "provider" ? "clearing" : method == "cash" ? "cash" : "bank";
  return Post(e->value_us(), receipt, "Zahlung " + invoice_number + " (" + method + ")", "",
              {{Account(money), e->amount(), 0}, {Account("receivables"), 0, e->amount()}});
}

Status Finance::Refund() {
  switch (env_.payload_type()) {
    case schema::Payload::RefundRequested: {
      const auto* e = env_.payload_as_RefundRequested();
      const std::string id = S(e->refund_id());
      auto pay = Get(Cat("p", S(e->payment_ref())));
      if (!pay.ok()) return pay.status();
      const std::string method = pay->is_null() ? "provider" : (*pay)["method"].get<std::string>();
      if (!pay->is_null()) {
        (*pay)["refunded"] = (*pay)["refunded"].get<std::int64_t>() + e->amount();
        Put(Cat("p", S(e->payment_ref())), *pay);
      }
      TRY_STATUS(UpdateInvoice(S(e->invoice_id()), [&](json& doc) {
        doc["refunded"] = doc["refunded"].get<std::int64_t>() + e->amount();
        doc["refunds"].push_back(id);
      }));
      json doc = {{"id", id},
                  {"payment", S(e->payment_ref())},
                  {"invoice", S(e->invoice_id())},
                  {"credit_note", S(e->credit_note_id())},
                  {"amount", e->amount()},
                  {"method", method},
                  {"reason", S(e->reason())},
                  {"state", "requested"},
                  {"requested", FormatUtc(env_.recorded_at_us())},
                  {"provider_refund", ""}};
      Put("r" + id, doc);
      if (method == "provider")
        Put("q" + id, {{"id", id}, {"payment", doc["payment"]}, {"amount", e->amount()}});
      return Status::Ok();
    }
    case schema::Payload::RefundSubmitted: {
      const auto* e = env_.payload_as_RefundSubmitted();
      const std::string id = S(e->refund_id());
      auto doc = Get("r" + id);
      if (!doc.ok()) return doc.status();
      if (doc->is_null()) return Status::Ok();
      if ((*doc)["state"] == "requested") (*doc)["state"] = "submitted";
      (*doc)["provider_refund"] = S(e->provider_refund());
      Put("r" + id, *doc);
      txn_->Delete(Key(t_, 'F', "q" + id));
      return Status::Ok();
    }
    default: {
      const auto* e = env_.payload_as_RefundSettled();
      const std::string id = S(e->refund_id());
      auto doc = Get("r" + id);
      if (!doc.ok()) return doc.status();
      if (doc->is_null()) return Status::Ok();
      json& r = *doc;
      const bool ok = S(e->outcome()) == "succeeded";
      r["state"] = ok ? "succeeded" : "failed";
      if (!S(e->provider_refund()).empty()) r["provider_refund"] = S(e->provider_refund());
      r["settled"] = FormatUtc(e->value_us());
      if (!S(e->reason()).empty()) r["failure_reason"] = S(e->reason());
      Put("r" + id, r);
      txn_->Delete(Key(t_, 'F', "q" + id));
      const std::int64_t amount = r["amount"].get<std::int64_t>();
      // Named, not "p" + r[…].get<std::string>(): see Cat (keys_internal.h).
      const std::string payment = r["payment"].get<std::string>();
      const std::string invoice = r["invoice"].get<std::string>();
      if (!ok) {
        auto pay = Get("p" + payment);
        if (!pay.ok()) return pay.status();
        if (!pay->is_null()) {
          (*pay)["refunded"] = (*pay)["refunded"].get<std::int64_t>() - amount;
          Put("p" + payment, *pay);
        }
        return UpdateInvoice(
            invoice, [&](json& inv) { inv["refunded"] = inv["refunded"].get<std::int64_t>() - amount; });
      }
      const std::string method = r["method"].get<std::string>();
      const std::string money = method == "provider" ? "clearing" : method == "cash" ? "cash" : "bank";
      // The documents a treasurer knows the refund by: its credit note, else
      // the invoice (never our internal ids).
      auto inv = Get("i" + invoice);
      if (!inv.ok()) return inv.status();
      const std::string invoice_number = inv->is_null() ? invoice : inv->value("number", invoice);
      const std::string credit_note = r.value("credit_note", "");
      return Post(e->value_us(), credit_note.empty() ? invoice_number : credit_note,
                  "Erstattung zu " + invoice_number +
                      (credit_note.empty() ? std::string() : " (Gutschrift " + credit_note + ")"),
                  "", {{Account("receivables"), amount, 0}, {Account(money), 0, amount}});
    }
  }
}

Status Finance::Settlement() {
  const auto* e = env_.payload_as_SettlementImported();
  const std::string id = S(e->import_id());
  json payouts = json::array(), unmatched = json::array(), duplicates = json::array();
  std::set<std::string> seen;
  for (const auto* p : Each(e->payouts())) {
    const std::string pid = S(p->payout_id());
    auto known = Get("w" + pid);
    if (!known.ok()) return known.status();
    if (!known->is_null()) {
      duplicates.push_back({{"payout", pid}, {"detail", "payout already imported"}});
      continue;
    }
    Put("w" + pid, {{"payout", pid},
                    {"import", id},
                    {"date", FormatLocalDay(p->date_day())},
                    {"gross", p->gross()},
                    {"fees", p->fees()},
                    {"net", p->net()},
                    {"bank_line", ""}});
    payouts.push_back({{"payout", pid}, {"net", p->net()}, {"items", Each(p->items()).size()}});
    for (const auto* i : Each(p->items())) {
      const std::string ref = S(i->reference());
      if (S(i->type()) != "payment") continue;  // refunds name their payment
      if (!seen.insert(ref).second) {
        duplicates.push_back({{"payout", pid}, {"reference", ref}, {"detail", "twice in this file"}});
        continue;
      }
      auto pay = Get("p" + ref);
      if (!pay.ok()) return pay.status();
      if (pay->is_null()) {
        unmatched.push_back({{"payout", pid}, {"reference", ref}, {"amount", i->amount()}});
      } else if (!(*pay)["settled_in"].get<std::string>().empty()) {
        duplicates.push_back({{"payout", pid}, {"reference", ref}, {"detail", "already settled"}});
      }
    }
  }
  Put("x" + id, {{"import", id},
                 {"kind", "settlement"},
                 {"file_name", S(e->file_name())},
                 {"imported", FormatUtc(env_.recorded_at_us())},
                 {"seq", seq_},
                 {"payouts", payouts},
                 {"unmatched", unmatched},
                 {"duplicates", duplicates}});
  return Status::Ok();
}

// A file of several statements records one event per statement: the first
// writes the import, each adds its statement (account, balances, lines).
// The import's own statement, iban, opening and closing are the first
// statement's.
Status Finance::BankStatement() {
  const auto* e = env_.payload_as_BankStatementImported();
  const std::string id = S(e->import_id());
  auto x = Get("x" + id);
  if (!x.ok()) return x.status();
  if (x->is_null()) {
    *x = {{"import", id},
          {"kind", "bank_statement"},
          {"statement", S(e->statement_id())},
          {"iban", S(e->iban())},
          {"opening", e->opening()},
          {"closing", e->closing()},
          {"imported", FormatUtc(env_.recorded_at_us())},
          {"seq", seq_},
          {"lines", 0},
          {"duplicates", json::array()},
          {"statements", json::array()}};
  }
  std::size_t lines = 0;
  for (const auto* l : Each(e->lines())) {
    const std::string ref = S(l->reference());
    auto known = Get("y" + ref);
    if (!known.ok()) return known.status();
    if (!known->is_null()) {
      (*x)["duplicates"].push_back({{"reference", ref}, {"amount", l->amount()}});
      continue;
    }
    ++lines;
    Put("y" + ref, {{"reference", ref},
                    {"import", id},
                    {"amount", l->amount()},
                    {"booking_date", FormatLocalDay(l->booking_day())},
                    {"remittance", S(l->remittance())},
                    {"counterparty", S(l->counterparty())},
                    {"matched", ""}});
  }
  (*x)["lines"] = (*x)["lines"].get<std::size_t>() + lines;
  (*x)["statements"].push_back({{"statement", S(e->statement_id())},
                                {"iban", S(e->iban())},
                                {"other_id", S(e->account_other_id())},
                                {"currency", S(e->currency())},
                                {"opening", e->opening()},
                                {"closing", e->closing()},
                                {"lines", lines}});
  Put("x" + id, *x);
  return Status::Ok();
}

Status Finance::Match() {
  const auto* e = env_.payload_as_Matched();
  const std::string kind = S(e->kind());
  const std::string subject = S(e->subject());
  const std::string counterpart = S(e->counterpart());
  std::string key = Cat("z", S(e->import_id())) + "/";
  ledger::keys::AppendBigEndian64(&key, seq_);
  Put(key, {{"kind", kind},
            {"subject", subject},
            {"counterpart", counterpart},
            {"amount", e->amount()},
            {"difference", e->difference()},
            {"fee", e->fee()},
            {"date", Day(e->value_us())}});
  if (kind == "payment_payout") {
    // A payment or a refund; only payments carry the provider's fee.
    auto pay = Get("p" + subject);
    if (!pay.ok()) return pay.status();
    if (!pay->is_null()) {
      (*pay)["settled_in"] = counterpart;
      Put("p" + subject, *pay);
    } else {
      auto r = Get("r" + subject);
      if (!r.ok()) return r.status();
      if (!r->is_null()) {
        (*r)["settled_in"] = counterpart;
        Put("r" + subject, *r);
      }
    }
    return Post(e->value_us(), counterpart, "Gebühr " + subject, "",
                {{Account("fees"), e->fee(), 0}, {Account("clearing"), 0, e->fee()}});
  }
  if (kind == "payout_bank") {
    auto w = Get("w" + subject);
    if (!w.ok()) return w.status();
    if (!w->is_null()) {
      (*w)["bank_line"] = counterpart;
      Put("w" + subject, *w);
    }
  }
  auto line = Get("y" + (kind == "payout_bank" ? counterpart : subject));
  if (!line.ok()) return line.status();
  if (!line->is_null()) {
    (*line)["matched"] = kind == "payout_bank" ? subject : counterpart;
    Put("y" + (kind == "payout_bank" ? counterpart : subject), *line);
  }
  if (kind == "payout_bank") {
    return Post(e->value_us(), subject, "Auszahlung " + subject, "",
                {{Account("bank"), e->amount(), 0}, {Account("clearing"), 0, e->amount()}});
  }
  return Status::Ok();  // bank_invoice: its PaymentCaptured posts
}

Status Finance::Fold() {
  TRY_STATUS(LoadSettings());
  switch (env_.payload_type()) {
    case schema::Payload::TenantCreated:
      settings_["time_zone"] = S(env_.payload_as_TenantCreated()->time_zone());
      txn_->Put(Key(t_, 'F', "Z"), ZoneText(*env_.payload_as_TenantCreated()));
      settings_["currency"] = "EUR";
      settings_["accounts"] = json::object();
      for (const auto& [k, v] : DefaultAccounts()) settings_["accounts"][k] = v;
      Put("s", settings_);
      return Status::Ok();
    case schema::Payload::BookingPlaced: {
      const auto* e = env_.payload_as_BookingPlaced();
      Put(Cat("k", S(e->booking_id())), {{"number", S(e->number())},
                                         {"resource", S(e->resource_id())},
                                         {"start_us", e->start_us()},
                                         {"end_us", e->end_us()}});
      return Status::Ok();
    }
    case schema::Payload::BookingRescheduled: {
      const auto* e = env_.payload_as_BookingRescheduled();
      auto b = Get(Cat("k", S(e->booking_id())));
      if (!b.ok()) return b.status();
      if (b->is_null()) return Status::Ok();
      (*b)["start_us"] = e->start_us();
      (*b)["end_us"] = e->end_us();
      Put(Cat("k", S(e->booking_id())), *b);
      return Status::Ok();
    }
    case schema::Payload::TariffSet: {
      const auto* e = env_.payload_as_TariffSet();
      auto cur = Get(Cat("t", S(e->tariff_id())));
      if (!cur.ok()) return cur.status();
      json doc = cur->is_null() ? json{{"id", S(e->tariff_id())},
                                       {"target", S(e->target())},
                                       {"group", S(e->group_id())},
                                       {"currency", S(e->currency())},
                                       {"versions", json::array()}}
                                : *cur;
      json versions = json::array();
      for (const auto& v : doc["versions"]) {
        if (v["valid_from_us"].get<TimeUs>() < e->valid_from_us()) versions.push_back(v);
      }
      versions.push_back({{"valid_from", FormatUtc(e->valid_from_us())},
                          {"valid_from_us", e->valid_from_us()},
                          {"unit", S(e->unit())},
                          {"amount", e->amount()},
                          {"gross", e->gross()},
                          {"tax_rate_percent", e->tax_rate_bp() / 100.0},
                          {"description", S(e->description())},
                          {"product", S(e->product())},
                          {"cost_center", S(e->cost_center())}});
      doc["versions"] = versions;
      Put(Cat("t", S(e->tariff_id())), doc);
      return Status::Ok();
    }
    case schema::Payload::FinanceSettingsSet:
      return Settings();
    case schema::Payload::InvoiceIssued:
      return Invoice();
    case schema::Payload::CreditNoteIssued:
      return CreditNote();
    case schema::Payload::CheckoutOpened: {
      const auto* e = env_.payload_as_CheckoutOpened();
      return UpdateInvoice(S(e->invoice_id()), [&](json& doc) {
        doc["checkouts"].push_back({{"checkout", S(e->checkout_id())},
                                    {"url", S(e->url())},
                                    {"amount", e->amount()},
                                    {"opened", FormatUtc(env_.recorded_at_us())}});
      });
    }
    case schema::Payload::PaymentCaptured:
      return Payment();
    case schema::Payload::PaymentFailed: {
      const auto* e = env_.payload_as_PaymentFailed();
      return UpdateInvoice(S(e->invoice_id()), [&](json& doc) {
        doc["failed_payments"].push_back({{"payment", S(e->payment_ref())}, {"reason", S(e->reason())}});
      });
    }
    case schema::Payload::RefundRequested:
    case schema::Payload::RefundSubmitted:
    case schema::Payload::RefundSettled:
      return Refund();
    case schema::Payload::PeriodClosed:
      settings_["closed_through"] = FormatLocalDay(env_.payload_as_PeriodClosed()->through_day());
      Put("s", settings_);
      return Status::Ok();
    case schema::Payload::SettlementImported:
      return Settlement();
    case schema::Payload::BankStatementImported:
      return BankStatement();
    case schema::Payload::Matched:
      return Match();
    default:
      return Status::Ok();
  }
}

Status FoldFinance(const TenantId& tenant, Seq seq, const schema::Envelope& env, Txn* txn) {
  return Finance(tenant, seq, env, txn).Fold();
}

}  // namespace saalbuch::projections
