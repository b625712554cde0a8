// Decisions about money: tariffs, invoices, credit notes, payments, refunds,
// imports and the closed period. Invariants 3–5 of DOMAIN.md are kept here:
// numbers come from the log (Books::NumberAfter) inside the tenant's serial
// writer; a payment reference is captured once; a refund never takes more
// than its payment still holds.
#include <algorithm>
#include <set>

#include "commands/decide_internal.h"
#include "common/crypto.h"
#include "common/time_json.h"

namespace saalbuch::commands::detail {
namespace {

using nlohmann::json;

constexpr TimeUs kDay = 24LL * 3600 * kUsPerSecond;

// Whether an amount from outside lies within ±kMaxAmount.
bool Within(std::int64_t amount) { return amount >= -kMaxAmount && amount <= kMaxAmount; }

Rejection BeyondLargestAmount(const std::string& what, json details = json::object()) {
  details["max_amount"] = kMaxAmount;
  return Reject(Refusal::kUnprocessable, "validation_failed",
                what + " beyond the largest amount (" + FormatDecimal(kMaxAmount) + ")", std::move(details));
}

json MoneyJson(std::int64_t amount, const std::string& currency) {
  return {{"amount", amount}, {"currency", currency}};
}

std::unique_ptr<schema::DocumentLineT> LineEvent(const Line& l) {
  auto d = std::make_unique<schema::DocumentLineT>();
  d->description = l.description;
  d->item = l.item;
  d->tariff_id = l.tariff;
  d->unit = TariffUnitName(l.unit);
  d->quantity_milli = l.quantity_milli;
  d->unit_amount = l.unit_amount;
  d->gross_priced = l.gross_priced;
  d->tax_rate_bp = l.tax_rate_bp;
  d->net = l.net;
  d->tax = l.tax;
  d->gross = l.gross;
  d->product = l.product;
  d->cost_center = l.cost_center;
  return d;
}

// The first local day of the tenant's books: the day it was created.
LocalDay BooksBegin(const TenantModel& m) { return LocalDayOf(m.created(), m.zone()); }

// Postings dated before the books begin or in the closed period are refused.
std::optional<Rejection> CheckOpenPeriod(const TenantModel& m, TimeUs posting) {
  auto closed = m.books().closed_through();
  if (closed && LocalDayOf(posting, m.zone()) <= *closed) {
    return Reject(Refusal::kConflict, "period_closed", "the books are closed for this date",
                  {{"date", FormatLocalDay(LocalDayOf(posting, m.zone()))},
                   {"closed_through", FormatLocalDay(*closed)}});
  }
  if (LocalDayOf(posting, m.zone()) < BooksBegin(m)) {
    return Reject(Refusal::kUnprocessable, "before_books_begin",
                  "nothing is booked before the tenant's books begin",
                  {{"date", FormatLocalDay(LocalDayOf(posting, m.zone()))},
                   {"books_begin", FormatLocalDay(BooksBegin(m))}});
  }
  return std::nullopt;
}

// Refunds of `amount` from the invoice's payments that still hold money,
// oldest first. *left gets what no payment could cover.
void PlanRefunds(const TenantModel& m, const Context& ctx, const Invoice& inv, std::int64_t amount,
                 const std::string& credit_note, const std::string& reason, DocNumbers& numbers,
                 std::vector<ledger::EventDraft>* events, json* refunds, std::int64_t* left) {
  for (const auto& ref : inv.payments) {
    if (amount <= 0) break;
    const Payment* p = m.books().FindPayment(ref);
    if (p == nullptr) continue;
    const std::int64_t take = std::min(amount, p->amount - p->refunded);
    if (take <= 0) continue;
    const std::string id = numbers.NextRefund(ctx);
    auto d = Draft(ctx, "refund/" + id, 1);
    schema::RefundRequestedT e;
    e.refund_id = id;
    e.payment_ref = ref;
    e.invoice_id = inv.id;
    e.credit_note_id = credit_note;
    e.amount = take;
    e.reason = reason;
    d.payload.Set(std::move(e));
    events->push_back(std::move(d));
    refunds->push_back({{"id", id},
                        {"payment", ref},
                        {"method", p->method},
                        {"amount", MoneyJson(take, m.books().settings().currency)}});
    amount -= take;
  }
  *left = amount;
}

// A credit note of `gross` against `inv`, spread over its lines in order
// with each line's remaining gross as the limit (when `share_bp` is set,
// every line gets that share of its remaining gross instead). nullopt when
// nothing is left to credit: no number is taken then, so none is skipped.
std::optional<ledger::EventDraft> CreditNoteEvent(const Context& ctx, const Invoice& inv,
                                                  std::optional<std::int64_t> gross, std::int32_t share_bp,
                                                  const std::string& reason, DocNumbers& numbers,
                                                  Totals* totals, std::string* number) {
  std::vector<Line> lines;
  std::int64_t want = gross.value_or(0);
  for (std::size_t i = 0; i < inv.lines.size(); ++i) {
    const std::int64_t remaining = inv.lines[i].gross - inv.line_credited[i];
    std::int64_t take = gross ? std::min(want, remaining) : MulDivRound(remaining, share_bp, 10000);
    if (take <= 0) continue;
    lines.push_back(CreditLine(inv.lines[i], take));
    want -= take;
  }
  if (lines.empty()) return std::nullopt;
  *totals = Sum(lines);
  *number = numbers.Next('G');
  auto d = Draft(ctx, "credit-note/" + *number, 1);
  schema::CreditNoteIssuedT e;
  e.credit_note_id = *number;
  e.number = *number;
  e.invoice_id = inv.id;
  e.reason = reason;
  for (const auto& l : lines) e.lines.push_back(LineEvent(l));
  e.net = totals->net;
  e.tax = totals->tax;
  e.gross = totals->gross;
  d.payload.Set(std::move(e));
  return d;
}

// PaymentCaptured with its receipt, then what paying settles: a held
// booking whose invoice is paid is confirmed; money for a booking that
// ended (cancelled, expired, rejected) goes back at once.
void Capture(const TenantModel& m, const Context& ctx, const Invoice& inv, const std::string& ref,
             const std::string& method, std::int64_t amount, std::int64_t fee, TimeUs value,
             const std::string& provider_event, DocNumbers& numbers, std::vector<ledger::EventDraft>* events,
             json* reply) {
  const std::string receipt = numbers.Next('Z');
  auto d = Draft(ctx, "payment/" + ref, 1);
  schema::PaymentCapturedT e;
  e.payment_ref = ref;
  e.invoice_id = inv.id;
  e.method = method;
  e.amount = amount;
  e.fee = fee;
  e.currency = m.books().settings().currency;
  e.value_us = value;
  e.provider_event = provider_event;
  e.receipt_id = receipt;
  e.receipt_number = receipt;
  d.payload.Set(std::move(e));
  events->push_back(std::move(d));
  const std::int64_t open_after = inv.open() - amount;
  (*reply)["payment"] = ref;
  (*reply)["receipt"] = receipt;
  (*reply)["invoice"] = inv.id;
  (*reply)["open"] = MoneyJson(open_after, m.books().settings().currency);
  const Booking* b = m.FindBooking(inv.booking);
  if (b != nullptr && b->status == BookingStatus::kHeld && open_after <= 0) {
    auto c = Draft(ctx, "booking/" + b->id.get(), b->version + 1);
    schema::BookingConfirmedT ce;
    ce.booking_id = b->id.get();
    ce.by = "payment";
    c.payload.Set(std::move(ce));
    events->push_back(std::move(c));
    (*reply)["booking_status"] = "confirmed";
  }
  // (An archived booking: as it was when it left the model.)
  const bool booking_open =
      b != nullptr ? IsOpen(b->status) : m.books().OrphanOfOpenBooking(inv.id).value_or(false);
  if (!booking_open && open_after < 0) {
    // The payment is not yet in the model: plan the refund against it here.
    const std::string id = numbers.NextRefund(ctx);
    auto r = Draft(ctx, "refund/" + id, 1);
    schema::RefundRequestedT re;
    re.refund_id = id;
    re.payment_ref = ref;
    re.invoice_id = inv.id;
    re.amount = std::min(amount, -open_after);
    re.reason = "booking no longer open";
    (*reply)["refunds"] =
        json::array({{{"id", id}, {"amount", MoneyJson(re.amount, m.books().settings().currency)}}});
    r.payload.Set(std::move(re));
    events->push_back(std::move(r));
  }
}

}  // namespace

std::variant<std::vector<Line>, Rejection> PriceBooking(const TenantModel& m, const Booking& b, TimeUs at) {
  std::vector<Line> lines;
  const Resource* r = m.FindResource(b.resource);
  if (r == nullptr) return lines;
  const Books& books = m.books();
  const std::string group = b.group.empty() ? "public" : b.group;
  const TimeUs duration = b.range.end - b.range.start;
  bool beyond = false;
  auto add = [&](const std::string& target, std::int64_t pieces, const std::string& name) {
    const Tariff* t = books.TariffFor(target, group);
    const TariffVersion* v = t == nullptr ? nullptr : t->At(at);
    if (v == nullptr) return;
    std::int64_t num = pieces;
    std::int64_t den = 1;
    if (v->unit == TariffUnit::kHour) {
      beyond = beyond || !CheckedMul(duration, pieces, &num);
      den = 3600 * kUsPerSecond;
    } else if (v->unit == TariffUnit::kBooking) {
      num = 1;
    }
    auto line = PriceLine(*t, *v, num, den, v->description.empty() ? name : v->description, target);
    if (line) {
      lines.push_back(std::move(*line));
    } else {
      beyond = true;
    }
  };
  add("resource/" + r->id.get(), b.units, r->name);
  for (const auto& a : b.addons) {
    const Addon* addon = m.FindAddon(a.addon);
    add("addon/" + a.addon, a.quantity, addon == nullptr ? a.addon : addon->name);
  }
  if (beyond || !CheckedSum(lines)) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "the price of this booking would exceed the largest amount of " +
                      FormatDecimal(kMaxAmount) + " " + books.settings().currency +
                      "; book fewer units, pieces or hours",
                  {{"max_amount", kMaxAmount}, {"currency", books.settings().currency}});
  }
  return lines;
}

namespace {

bool Erased(const TenantModel& m, const std::string& person) {
  auto p = m.persons().find(person);
  return p != m.persons().end() && p->second;
}

// The recipient an invoice of `b` names, as {vault key, sealed bytes}: the
// booking's own (unless its person was erased: the key may be gone), else
// its customer's billing profile; nullopt: none.
std::optional<std::pair<std::string, std::string>> InvoiceRecipient(const TenantModel& m, const Booking& b) {
  if (!b.recipient.empty() && !Erased(m, b.person)) return std::pair{"r_" + b.person, b.recipient};
  const Customer* c = b.customer.empty() ? nullptr : m.FindCustomer(b.customer);
  if (c != nullptr && !c->recipient.empty()) return std::pair{"rc_" + c->id, c->recipient};
  return std::nullopt;
}

}  // namespace

std::optional<Rejection> RecipientMissing(const TenantModel& m, const Booking& b,
                                          const std::vector<Line>& lines) {
  const std::int64_t gross = Sum(lines).gross;
  if (gross <= kShortInvoiceLimit || InvoiceRecipient(m, b)) return std::nullopt;
  const std::string& currency = m.books().settings().currency;
  json details = {{"limit", MoneyJson(kShortInvoiceLimit, currency)},
                  {"total", MoneyJson(gross, currency)},
                  {"fields",
                   {{{"field", "contact.address"},
                     {"problem", "required: the recipient's name and address for an invoice over " +
                                     FormatDecimal(kShortInvoiceLimit) + " " + currency}}}}};
  if (!b.recipient.empty()) {
    return Reject(Refusal::kConflict, "person_erased",
                  "the booker's data was erased, so the invoice over " + FormatDecimal(kShortInvoiceLimit) +
                      " " + currency + " could not name its recipient (§ 14 UStG)",
                  std::move(details));
  }
  return Reject(Refusal::kUnprocessable, "recipient_required",
                "an invoice over " + FormatDecimal(kShortInvoiceLimit) + " " + currency +
                    " must name its recipient's full name and address (§ 14 UStG, § 33 UStDV): give "
                    "contact.name and contact.address, or set the customer's billing profile",
                std::move(details));
}

ledger::EventDraft InvoiceEvent(const TenantModel& m, const Context& ctx, const Booking& b,
                                const std::vector<Line>& lines, TimeUs due, DocNumbers& numbers,
                                json* reply) {
  const FinanceSettings& s = m.books().settings();
  const std::string number = numbers.Next('R');
  const std::string id = "inv-" + b.id.get();
  auto d = Draft(ctx, "invoice/" + id, 1);
  schema::InvoiceIssuedT e;
  e.invoice_id = id;
  e.number = number;
  e.booking_id = b.id.get();
  e.customer_id = b.customer;
  e.currency = s.currency;
  for (const auto& l : lines) e.lines.push_back(LineEvent(l));
  const Totals t = Sum(lines);
  e.net = t.net;
  e.tax = t.tax;
  e.gross = t.gross;
  e.due_us = due;
  if (auto r = InvoiceRecipient(m, b)) {
    e.recipient_key = r->first;
    e.recipient.assign(r->second.begin(), r->second.end());
  }
  // The Kassenzeichen identifies the payment at the municipal cash office;
  // derived from the invoice number so that a bank line can name either.
  // Without a prefix it is the number itself: "2026-000001" alone would also
  // be found inside a credit note's or receipt's number.
  e.kassenzeichen = s.kassenzeichen_prefix.empty() ? number : s.kassenzeichen_prefix + number.substr(2);
  (*reply)["invoice"] = {{"id", id},
                         {"number", number},
                         {"total", MoneyJson(t.gross, s.currency)},
                         {"net", MoneyJson(t.net, s.currency)},
                         {"tax", MoneyJson(t.tax, s.currency)},
                         {"due", FormatUtc(due)},
                         {"kassenzeichen", e.kassenzeichen}};
  d.payload.Set(std::move(e));
  return d;
}

void EndBookingMoney(const TenantModel& m, const Context& ctx, const Booking& b, std::int32_t fee_bp,
                     const std::string& reason, DocNumbers& numbers, std::vector<ledger::EventDraft>* events,
                     json* reply) {
  const Invoice* inv = m.books().InvoiceOf(b.id);
  if (inv == nullptr) return;
  const std::string& currency = m.books().settings().currency;
  json money = {{"id", inv->id}, {"number", inv->number}, {"fee_percent", fee_bp / 100.0}};
  Totals credited;
  std::string credit_number;
  if (fee_bp < 10000 && inv->owed() > 0) {
    if (auto note = CreditNoteEvent(ctx, *inv, std::nullopt, 10000 - fee_bp, reason, numbers, &credited,
                                    &credit_number)) {
      events->push_back(std::move(*note));
      money["credit_note"] = {{"number", credit_number}, {"total", MoneyJson(credited.gross, currency)}};
    }
  }
  const std::int64_t owed = inv->owed() - credited.gross;
  money["fee"] = MoneyJson(owed, currency);
  const std::int64_t excess = inv->kept() - owed;
  json refunds = json::array();
  if (excess > 0) {
    std::int64_t left = 0;
    PlanRefunds(m, ctx, *inv, excess, credit_number, reason, numbers, events, &refunds, &left);
  }
  money["refunds"] = refunds;
  (*reply)["invoice"] = std::move(money);
}

Decision DecideSetTariff(const TenantModel& m, const Context& ctx, const SetTariff& c) {
  const TariffVersion& v = c.version;
  if (!IsValidSlug(c.id)) return Reject(Refusal::kUnprocessable, "validation_failed", "invalid tariff id");
  const bool resource = c.target.rfind("resource/", 0) == 0;
  const bool addon = c.target.rfind("addon/", 0) == 0;
  if ((resource && m.FindResource(ResourceId(c.target.substr(9))) == nullptr) ||
      (addon && m.FindAddon(c.target.substr(6)) == nullptr) || (!resource && !addon)) {
    return Reject(Refusal::kUnprocessable, "unknown_target",
                  "a tariff prices an existing resource (resource/<id>) or add-on (addon/<id>)",
                  {{"target", c.target}});
  }
  if (!c.group.empty() && !m.HasGroup(c.group)) {
    return Reject(Refusal::kUnprocessable, "unknown_group", "no such customer group", {{"group", c.group}});
  }
  if (c.currency != m.books().settings().currency) {
    return Reject(Refusal::kUnprocessable, "currency_mismatch", "tariffs are in the tenant's currency",
                  {{"currency", m.books().settings().currency}});
  }
  if (v.amount < 0 || v.amount > kMaxAmount) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "amount must be 0 or more (minor units)");
  }
  if (v.tax_rate_bp != 0 && v.tax_rate_bp != 700 && v.tax_rate_bp != 1900) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "tax rate must be 0, 7 or 19 %");
  }
  if (v.description.size() > 200 || v.product.size() > 64 || v.cost_center.size() > 36) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "description ≤ 200, product ≤ 64, cost_center ≤ 36 bytes");
  }
  const Tariff* existing = m.books().FindTariff(c.id);
  const Tariff* same_target = m.books().TariffFor(c.target, c.group);
  if (same_target != nullptr && same_target->group == c.group && same_target->id != c.id) {
    return Reject(Refusal::kConflict, "tariff_exists", "this target and group already have a tariff",
                  {{"tariff", same_target->id}});
  }
  if (existing != nullptr && (existing->target != c.target || existing->group != c.group)) {
    return Reject(Refusal::kConflict, "tariff_target_fixed", "a tariff keeps its target and group");
  }
  const TimeUs from = std::max(v.valid_from, ctx.now);
  if (v.valid_from != 0 && v.valid_from < ctx.now - kDay) {
    return Reject(Refusal::kUnprocessable, "tariff_in_past",
                  "a tariff version starts today or later: issued prices never change");
  }
  auto d = Draft(ctx, "tariff/" + c.id, existing == nullptr ? 1 : existing->versions.size() + 1);
  schema::TariffSetT e;
  e.tariff_id = c.id;
  e.target = c.target;
  e.group_id = c.group;
  e.valid_from_us = from;
  e.unit = TariffUnitName(v.unit);
  e.amount = v.amount;
  e.currency = c.currency;
  e.gross = v.gross;
  e.tax_rate_bp = v.tax_rate_bp;
  e.description = v.description;
  e.product = v.product;
  e.cost_center = v.cost_center;
  d.payload.Set(std::move(e));
  Acceptance a;
  a.created = existing == nullptr;
  a.events.push_back(std::move(d));
  a.reply = {{"id", c.id},
             {"target", c.target},
             {"group", c.group},
             {"valid_from", FormatUtc(from)},
             {"unit", TariffUnitName(v.unit)},
             {"price", MoneyJson(v.amount, c.currency)},
             {"gross", v.gross},
             {"tax_rate_percent", v.tax_rate_bp / 100.0}};
  return a;
}

Decision DecideSetFinanceSettings(const TenantModel& m, const Context& ctx, const SetFinanceSettings& c) {
  const FinanceSettings& s = c.settings;
  if (!IsValidCurrency(s.currency)) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "currency must be an ISO 4217 code");
  }
  if (s.currency != m.books().settings().currency && m.books().AnyInvoiceIssued()) {
    return Reject(Refusal::kConflict, "currency_fixed", "the currency cannot change once invoices exist");
  }
  if (s.payment_terms_days < 0 || s.payment_terms_days > 365) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "payment_terms_days must be 0–365");
  }
  if (s.tiers.size() > 20 || s.letterhead.size() > 12 || s.accounts.size() > 200) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "at most 20 tiers, 12 letterhead lines, 200 accounts");
  }
  for (const auto& t : s.tiers) {
    if (t.fee_bp < 0 || t.fee_bp > 10000 || t.min_notice < 0) {
      return Reject(Refusal::kUnprocessable, "validation_failed",
                    "a tier needs min_notice ≥ 0 and a fee of 0–100 %");
    }
  }
  for (const auto& [key, account] : s.accounts) {
    const bool known = key == "receivables" || key == "revenue" || key == "revenue@700" ||
                       key == "revenue@0" || key == "clearing" || key == "fees" || key == "bank" ||
                       key == "cash" || key.rfind("revenue:", 0) == 0 || key.rfind("tax:", 0) == 0;
    const bool digits =
        !account.empty() && account.size() <= 9 &&
        std::all_of(account.begin(), account.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    if (!known || !digits) {
      return Reject(Refusal::kUnprocessable, "validation_failed",
                    "unknown account role or account not 1–9 digits", {{"role", key}, {"account", account}});
    }
  }
  for (const auto& l : s.letterhead) {
    if (l.size() > 120)
      return Reject(Refusal::kUnprocessable, "validation_failed", "letterhead lines ≤ 120 bytes");
  }
  if (s.kassenzeichen_prefix.size() > 20 || s.datev_consultant.size() > 7 || s.datev_client.size() > 5) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "kassenzeichen_prefix ≤ 20, datev_consultant ≤ 7, datev_client ≤ 5 characters");
  }
  const EInvoiceSettings& ei = c.einvoice;
  for (const std::string* f :
       {&ei.name, &ei.street, &ei.postcode, &ei.city, &ei.country, &ei.vat_id, &ei.tax_number, &ei.seller_id,
        &ei.iban, &ei.bic, &ei.account_holder, &ei.tax_exempt_category, &ei.tax_exempt_reason}) {
    if (f->size() > 200)
      return Reject(Refusal::kUnprocessable, "validation_failed", "einvoice fields ≤ 200 bytes");
  }
  const auto upper = [](const std::string& v) {
    return std::all_of(v.begin(), v.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; });
  };
  if (!ei.country.empty() && (ei.country.size() != 2 || !upper(ei.country))) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "einvoice.country must be an ISO 3166-1 alpha-2 code such as DE",
                  {{"field", "einvoice.country"}});
  }
  if (!ei.tax_exempt_category.empty() && ei.tax_exempt_category != "E" && ei.tax_exempt_category != "O") {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "einvoice.tax_exempt_category must be E (exempt) or O (not subject to VAT)",
                  {{"field", "einvoice.tax_exempt_category"}});
  }
  const bool iban_ok = ei.iban.size() >= 15 && ei.iban.size() <= 34 && upper(ei.iban.substr(0, 2)) &&
                       std::all_of(ei.iban.begin() + 2, ei.iban.end(), [](char ch) {
                         return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
                       });
  if (!ei.iban.empty() && !iban_ok) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "einvoice.iban must be an IBAN without spaces (country code, then 13–32 letters or digits)",
                  {{"field", "einvoice.iban"}});
  }
  auto d = Draft(ctx, "tenant/finance", m.books().settings().version + 1);
  schema::FinanceSettingsSetT e;
  e.einvoice = std::make_unique<schema::EInvoiceSettingsT>();
  e.einvoice->name = ei.name;
  e.einvoice->street = ei.street;
  e.einvoice->postcode = ei.postcode;
  e.einvoice->city = ei.city;
  e.einvoice->country = ei.country;
  e.einvoice->vat_id = ei.vat_id;
  e.einvoice->tax_number = ei.tax_number;
  e.einvoice->seller_id = ei.seller_id;
  e.einvoice->iban = ei.iban;
  e.einvoice->bic = ei.bic;
  e.einvoice->account_holder = ei.account_holder;
  e.einvoice->tax_exempt_category = ei.tax_exempt_category;
  e.einvoice->tax_exempt_reason = ei.tax_exempt_reason;
  e.currency = s.currency;
  e.payment_terms_days = s.payment_terms_days;
  for (const auto& t : s.tiers) e.tiers.emplace_back(t.min_notice, t.fee_bp);
  e.letterhead = s.letterhead;
  for (const auto& [key, account] : s.accounts) {
    auto am = std::make_unique<schema::AccountMappingT>();
    am->key = key;
    am->account = account;
    e.accounts.push_back(std::move(am));
  }
  e.kassenzeichen_prefix = s.kassenzeichen_prefix;
  e.datev_consultant = s.datev_consultant;
  e.datev_client = s.datev_client;
  d.payload.Set(std::move(e));
  Acceptance a;
  a.events.push_back(std::move(d));
  a.reply = {{"version", m.books().settings().version + 1}};
  return a;
}

Decision DecideOpenCheckout(const TenantModel& m, const Context& ctx, const OpenCheckout& c) {
  const Invoice* inv = m.books().FindInvoice(c.invoice);
  const Booking* b = inv == nullptr ? nullptr : m.FindBooking(inv->booking);
  if (inv == nullptr ||
      (!c.by_staff && (b == nullptr || !SecretMatches(c.manage_token, b->manage_token_hash)))) {
    return Reject(Refusal::kNotFound, "not_found", "no such invoice");
  }
  if (inv->open() <= 0) return Reject(Refusal::kConflict, "invoice_paid", "nothing is open on this invoice");
  if (b != nullptr && !IsOpen(b->status)) {
    return Reject(Refusal::kConflict, "booking_not_open", "the booking has ended; nothing to pay",
                  {{"status", StatusName(b->status)}});
  }
  if (c.amount != inv->open()) {
    return Reject(Refusal::kConflict, "invoice_changed", "the open amount changed; start the payment again");
  }
  auto d = Draft(ctx, "checkout/" + c.checkout_id, 1);
  schema::CheckoutOpenedT e;
  e.invoice_id = inv->id;
  e.checkout_id = c.checkout_id;
  e.url = c.url;
  e.amount = c.amount;
  d.payload.Set(std::move(e));
  Acceptance a;
  a.created = true;
  a.events.push_back(std::move(d));
  a.reply = {{"checkout", c.checkout_id},
             {"url", c.url},
             {"invoice", inv->id},
             {"amount", MoneyJson(c.amount, m.books().settings().currency)}};
  return a;
}

Decision DecideProviderEvent(const TenantModel& m, const Context& ctx, const RecordProviderEvent& c) {
  const Books& books = m.books();
  Acceptance a;
  a.reply = {{"event", c.event_id}, {"type", c.type}};
  if (c.type == "payment.succeeded" || c.type == "payment.failed") {
    if (books.FindPayment(c.payment) != nullptr) {
      a.reply["duplicate"] = true;  // booked once (invariant 5), whatever arrives later
      return a;
    }
    const Invoice* inv = books.FindInvoice(c.invoice);
    if (inv == nullptr) return Reject(Refusal::kNotFound, "unknown_invoice", "no such invoice");
    if (c.type == "payment.failed") {
      if (books.PaymentFailedBefore(c.payment)) {
        a.reply["duplicate"] = true;
        return a;
      }
      auto d = Draft(ctx, "payment/" + c.payment + "/failed", 1);
      schema::PaymentFailedT e;
      e.payment_ref = c.payment;
      e.invoice_id = inv->id;
      e.reason = c.reason;
      d.payload.Set(std::move(e));
      a.events.push_back(std::move(d));
      return a;
    }
    if (c.currency != books.settings().currency || c.amount <= 0 || c.amount > kMaxAmount || c.fee < 0 ||
        c.fee > kMaxAmount) {
      return Reject(Refusal::kUnprocessable, "validation_failed",
                    "amount, fee or currency do not fit the invoice");
    }
    DocNumbers numbers(books, LocalYear(ctx.now, m.zone()));
    Capture(m, ctx, *inv, c.payment, "provider", c.amount, c.fee, ctx.now, c.event_id, numbers, &a.events,
            &a.reply);
    return a;
  }
  if (c.type == "refund.succeeded" || c.type == "refund.failed") {
    const Refund* r = books.FindRefund(c.refund);
    if (r == nullptr || r->payment != c.payment) {
      return Reject(Refusal::kNotFound, "unknown_refund", "no such refund");
    }
    if (r->state == RefundState::kSucceeded || r->state == RefundState::kFailed) {
      a.reply["duplicate"] = true;
      return a;
    }
    auto d = Draft(ctx, "refund/" + r->id, r->state == RefundState::kSubmitted ? 3 : 2);
    schema::RefundSettledT e;
    e.refund_id = r->id;
    e.outcome = c.type == "refund.succeeded" ? "succeeded" : "failed";
    e.provider_refund = c.provider_refund;
    e.reason = c.reason;
    e.value_us = ctx.now;
    d.payload.Set(std::move(e));
    a.events.push_back(std::move(d));
    return a;
  }
  return Reject(Refusal::kUnprocessable, "unknown_event_type", "unknown provider event type",
                {{"type", c.type}});
}

Decision DecideRecordPayment(const TenantModel& m, const Context& ctx, const RecordPayment& c) {
  const Invoice* inv = m.books().FindInvoice(c.invoice);
  if (inv == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such invoice");
  if (c.method != "bank_transfer" && c.method != "cash") {
    return Reject(Refusal::kUnprocessable, "validation_failed", "method must be bank_transfer or cash");
  }
  if (c.reference.empty() || c.reference.size() > 100) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "reference must have 1–100 bytes");
  }
  const std::string ref = c.method + ":" + c.reference;
  if (m.books().FindPayment(ref) != nullptr) {
    return Reject(Refusal::kConflict, "payment_exists", "this payment reference is already booked",
                  {{"reference", c.reference}});
  }
  if (c.amount <= 0 || c.amount > kMaxAmount || c.currency != m.books().settings().currency) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "amount must be positive, in the tenant's currency");
  }
  const TimeUs received = c.received == 0 ? ctx.now : c.received;
  if (received > ctx.now) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "received must not be in the future");
  }
  if (auto r = CheckOpenPeriod(m, received)) return *r;
  if (LocalDayOf(received, m.zone()) < LocalDayOf(inv->issued, m.zone())) {
    return Reject(Refusal::kUnprocessable, "payment_before_invoice",
                  "a payment cannot be received before its invoice was issued",
                  {{"received", FormatLocalDay(LocalDayOf(received, m.zone()))},
                   {"invoice_issued", FormatLocalDay(LocalDayOf(inv->issued, m.zone()))}});
  }
  Acceptance a;
  a.created = true;
  DocNumbers numbers(m.books(), LocalYear(ctx.now, m.zone()));
  Capture(m, ctx, *inv, ref, c.method, c.amount, 0, received, "", numbers, &a.events, &a.reply);
  return a;
}

Decision DecideRefundInvoice(const TenantModel& m, const Context& ctx, const RefundInvoice& c) {
  const Invoice* inv = m.books().FindInvoice(c.invoice);
  if (inv == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such invoice");
  const std::string& currency = m.books().settings().currency;
  if (c.amount <= 0 || c.amount > kMaxAmount || c.reason.size() > 1000) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "amount must be positive; reason ≤ 1000 bytes");
  }
  // What was received beyond what is owed goes back without a credit note;
  // the rest reduces the invoice.
  const std::int64_t surplus = std::max<std::int64_t>(0, -inv->open());
  const std::int64_t credit = std::max<std::int64_t>(0, c.amount - surplus);
  if (c.amount > inv->kept()) {
    return Reject(Refusal::kConflict, "refund_exceeds_payments", "a refund cannot exceed what was received",
                  {{"refundable", MoneyJson(inv->kept(), currency)}});
  }
  if (credit > inv->owed()) {
    return Reject(Refusal::kConflict, "refund_exceeds_invoice", "the credit would exceed what is invoiced",
                  {{"creditable", MoneyJson(inv->owed(), currency)}});
  }
  Acceptance a;
  a.created = true;
  DocNumbers numbers(m.books(), LocalYear(ctx.now, m.zone()));
  std::string credit_number;
  Totals t;
  if (credit > 0) {
    auto note = CreditNoteEvent(ctx, *inv, credit, 0, c.reason, numbers, &t, &credit_number);
    if (!note || t.gross != credit) {
      return Reject(Refusal::kConflict, "refund_exceeds_invoice", "the credit would exceed what is invoiced",
                    {{"creditable", MoneyJson(inv->owed(), currency)}});
    }
    a.events.push_back(std::move(*note));
    a.reply["credit_note"] = {{"number", credit_number}, {"total", MoneyJson(t.gross, currency)}};
  }
  json refunds = json::array();
  std::int64_t left = 0;
  PlanRefunds(m, ctx, *inv, c.amount, credit_number, c.reason, numbers, &a.events, &refunds, &left);
  a.reply["invoice"] = inv->id;
  a.reply["refunds"] = refunds;
  return a;
}

Decision DecideRefundSubmitted(const TenantModel& m, const Context& ctx, const RecordRefundSubmitted& c) {
  const Refund* r = m.books().FindRefund(c.refund);
  if (r == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such refund");
  Acceptance a;
  a.reply = {{"refund", c.refund}, {"state", RefundStateName(r->state)}};
  if (r->state != RefundState::kRequested) return a;  // the webhook came first
  auto d = Draft(ctx, "refund/" + r->id, 2);
  schema::RefundSubmittedT e;
  e.refund_id = r->id;
  e.provider_refund = c.provider_refund;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply["state"] = "submitted";
  return a;
}

Decision DecideCompleteRefund(const TenantModel& m, const Context& ctx, const CompleteRefund& c) {
  const Refund* r = m.books().FindRefund(c.refund);
  if (r == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such refund");
  if (r->state == RefundState::kSucceeded || r->state == RefundState::kFailed) {
    return Reject(Refusal::kConflict, "refund_settled", "the refund's outcome is already recorded",
                  {{"state", RefundStateName(r->state)}});
  }
  if (r->method == "provider" && r->state == RefundState::kSubmitted) {
    return Reject(Refusal::kConflict, "refund_at_provider", "the provider reports this refund's outcome");
  }
  const TimeUs paid = c.paid == 0 ? ctx.now : c.paid;
  if (paid > ctx.now)
    return Reject(Refusal::kUnprocessable, "validation_failed", "paid must not be in the future");
  if (auto rej = CheckOpenPeriod(m, paid)) return *rej;
  auto d = Draft(ctx, "refund/" + r->id, r->state == RefundState::kSubmitted ? 3 : 2);
  schema::RefundSettledT e;
  e.refund_id = r->id;
  e.outcome = c.failed ? "failed" : "succeeded";
  e.reason = c.reason;
  e.value_us = paid;
  Acceptance a;
  a.reply = {{"refund", r->id}, {"state", e.outcome}};
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  return a;
}

Decision DecideClosePeriod(const TenantModel& m, const Context& ctx, const ClosePeriod& c) {
  const LocalDay today = LocalDayOf(ctx.now, m.zone());
  if (c.through >= today) {
    return Reject(Refusal::kUnprocessable, "period_not_over", "only days before today can be closed",
                  {{"today", FormatLocalDay(today)}});
  }
  auto closed = m.books().closed_through();
  if (closed && c.through <= *closed) {
    return Reject(Refusal::kConflict, "period_closed", "the books are already closed through this day",
                  {{"closed_through", FormatLocalDay(*closed)}});
  }
  auto d = Draft(ctx, "tenant/period", 1);
  schema::PeriodClosedT e;
  e.through_day = c.through;
  d.payload.Set(e);
  Acceptance a;
  a.events.push_back(std::move(d));
  a.reply = {{"closed_through", FormatLocalDay(c.through)}};
  return a;
}

namespace {

std::string ImportId(const std::string& sha256) { return "imp-" + ToHex(sha256).substr(0, 16); }

ledger::EventDraft MatchEvent(const Context& ctx, const std::string& import_id, std::uint64_t version,
                              const char* kind, const std::string& subject, const std::string& counterpart,
                              std::int64_t amount, std::int64_t difference, TimeUs value, std::int64_t fee) {
  auto d = Draft(ctx, "import/" + import_id, version);
  schema::MatchedT e;
  e.import_id = import_id;
  e.kind = kind;
  e.subject = subject;
  e.counterpart = counterpart;
  e.amount = amount;
  e.difference = difference;
  e.value_us = value;
  e.fee = fee;
  d.payload.Set(std::move(e));
  return d;
}

json MatchJson(const char* kind, const std::string& subject, const std::string& counterpart,
               std::int64_t amount, std::int64_t difference) {
  return {{"kind", kind},
          {"subject", subject},
          {"counterpart", counterpart},
          {"amount", amount},
          {"difference", difference}};
}

}  // namespace

Decision DecideImportSettlement(const TenantModel& m, const Context& ctx, const ImportSettlement& c) {
  const Books& books = m.books();
  Acceptance a;
  const std::string import_id = ImportId(c.file_sha256);
  a.reply = {{"import", import_id}};
  if (books.FileImported(c.file_sha256)) {
    a.reply["already_imported"] = true;  // the same file again changes nothing
    return a;
  }
  std::size_t items = 0;
  for (const auto& p : c.payouts) {
    items += p.items.size();
    if (p.currency != books.settings().currency) {
      return Reject(Refusal::kUnprocessable, "currency_mismatch", "a payout is in another currency",
                    {{"payout", p.id}, {"currency", p.currency}});
    }
    if (auto r = CheckOpenPeriod(m, LocalNoon(p.day, m.zone()))) return *r;
    bool within = Within(p.gross) && Within(p.fees) && Within(p.net);
    for (const auto& i : p.items) within = within && Within(i.amount) && Within(i.fee);
    if (!within) return BeyondLargestAmount("an amount of payout " + p.id, {{"payout", p.id}});
  }
  if (c.payouts.empty() || c.payouts.size() > 10000 || items > 100000) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "a report holds 1–10000 payouts, ≤ 100000 rows");
  }
  auto imported = Draft(ctx, "import/" + import_id, 1);
  schema::SettlementImportedT e;
  e.import_id = import_id;
  e.file_sha256.assign(c.file_sha256.begin(), c.file_sha256.end());
  e.file_name = c.file_name;
  for (const auto& p : c.payouts) {
    auto po = std::make_unique<schema::PayoutT>();
    po->payout_id = p.id;
    po->date_day = p.day;
    po->currency = p.currency;
    po->gross = p.gross;
    po->fees = p.fees;
    po->net = p.net;
    for (const auto& i : p.items) {
      auto it = std::make_unique<schema::SettlementItemT>();
      it->type = i.type;
      it->reference = i.reference;
      it->invoice = i.invoice;
      it->amount = i.amount;
      it->fee = i.fee;
      po->items.push_back(std::move(it));
    }
    e.payouts.push_back(std::move(po));
  }
  imported.payload.Set(std::move(e));
  a.events.push_back(std::move(imported));
  std::uint64_t version = 1;
  json matched = json::array(), unmatched = json::array(), duplicates = json::array();
  std::set<std::string> seen;
  std::set<std::string> used_lines;
  for (const auto& p : c.payouts) {
    if (books.payouts().count(p.id) != 0) {
      duplicates.push_back({{"payout", p.id}, {"detail", "payout already imported"}});
      continue;
    }
    const TimeUs value = LocalNoon(p.day, m.zone());
    for (const auto& i : p.items) {
      std::string subject = i.reference;
      std::int64_t expected = 0;
      bool known = false;
      if (i.type == "payment") {
        const Payment* pay = books.FindPayment(i.reference);
        known = pay != nullptr;
        expected = known ? pay->amount : 0;
      } else if (i.type == "refund") {
        // A refund row names the payment it refunds; the refund is the
        // first of that payment with this amount not settled yet.
        subject.clear();
        for (const auto& id : books.RefundsOf(i.reference)) {
          const Refund* r = books.FindRefund(id);
          if (r->state != RefundState::kFailed && r->amount == -i.amount && books.SettledIn(id).empty() &&
              seen.count(id) == 0) {
            subject = id;
            break;
          }
        }
        known = !subject.empty();
        expected = i.amount;
      }
      if (!known) {
        unmatched.push_back(
            {{"payout", p.id}, {"type", i.type}, {"reference", i.reference}, {"amount", i.amount}});
        continue;
      }
      if (!books.SettledIn(subject).empty() || !seen.insert(subject).second) {
        duplicates.push_back({{"payout", p.id}, {"reference", i.reference}, {"detail", "already settled"}});
        continue;
      }
      a.events.push_back(MatchEvent(ctx, import_id, ++version, "payment_payout", subject, p.id, i.amount,
                                    i.amount - expected, value, i.fee));
      matched.push_back(MatchJson("payment_payout", subject, p.id, i.amount, i.amount - expected));
    }
    // The payout may already be on an imported bank statement.
    for (const auto& [ref, line] : books.unmatched_bank()) {
      if (used_lines.count(ref) == 0 && line.remittance.find(p.id) != std::string::npos) {
        used_lines.insert(ref);
        a.events.push_back(MatchEvent(ctx, import_id, ++version, "payout_bank", p.id, ref, line.amount,
                                      line.amount - p.net, LocalNoon(line.day, m.zone()), 0));
        matched.push_back(MatchJson("payout_bank", p.id, ref, line.amount, line.amount - p.net));
        break;
      }
    }
  }
  a.created = true;
  a.reply["matched"] = matched;
  a.reply["unmatched"] = unmatched;
  a.reply["duplicates"] = duplicates;
  return a;
}

namespace {

// What a bank line names, for matching: its remittance information and the
// end-to-end reference the payer gave, where many payers put the invoice
// number instead ("NOTPROVIDED" is the banks' placeholder for none).
std::string NamedBy(const BankLineIn& l) {
  if (l.end_to_end_id.empty() || l.end_to_end_id == "NOTPROVIDED") return l.remittance;
  return l.remittance + " " + l.end_to_end_id;
}

}  // namespace

Decision DecideImportBankStatement(const TenantModel& m, const Context& ctx, const ImportBankStatement& c) {
  const Books& books = m.books();
  Acceptance a;
  const std::string import_id = ImportId(c.file_sha256);
  a.reply = {{"import", import_id}};
  if (books.FileImported(c.file_sha256)) {
    a.reply["already_imported"] = true;
    return a;
  }
  std::size_t count = 0;
  for (const auto& st : c.statements) {
    if (st.currency != books.settings().currency) {
      return Reject(Refusal::kUnprocessable, "currency_mismatch", "the statement is in another currency",
                    {{"statement", st.statement_id}, {"currency", st.currency}});
    }
    count += st.lines.size();
  }
  if (c.statements.empty() || c.statements.size() > 1000 || count > 100000) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "a file holds 1–1000 statements with at most 100000 lines");
  }
  // Every line of the file, in order; the statements only group them.
  std::vector<const BankLineIn*> lines;
  lines.reserve(count);
  for (const auto& st : c.statements) {
    for (const auto& l : st.lines) lines.push_back(&l);
  }
  for (const BankLineIn* l : lines) {
    if (!Within(l->amount))
      return BeyondLargestAmount("bank line " + l->reference, {{"reference", l->reference}});
  }
  json duplicates = json::array();
  std::set<std::string> fresh;
  for (const BankLineIn* l : lines) {
    if (books.BankLineSeen(l->reference) || !fresh.insert(l->reference).second) {
      duplicates.push_back(
          {{"reference", l->reference}, {"amount", l->amount}, {"detail", "line already imported"}});
      continue;
    }
    // A line dated before the books begin posts nothing (it is left to a
    // person below), so it cannot touch the closed period either.
    if (l->booking_day < BooksBegin(m)) continue;
    if (auto r = CheckOpenPeriod(m, LocalNoon(l->booking_day, m.zone()))) return *r;
  }
  std::uint64_t version = 0;
  json statement_ids = json::array();
  for (const auto& st : c.statements) {
    auto imported = Draft(ctx, "import/" + import_id, ++version);
    schema::BankStatementImportedT e;
    e.import_id = import_id;
    e.file_sha256.assign(c.file_sha256.begin(), c.file_sha256.end());
    e.statement_id = st.statement_id;
    e.iban = st.iban;
    e.account_other_id = st.other_id;
    e.currency = st.currency;
    e.opening = st.opening;
    e.closing = st.closing;
    for (const auto& l : st.lines) {
      auto bl = std::make_unique<schema::BankLineT>();
      bl->reference = l.reference;
      bl->amount = l.amount;
      bl->booking_day = l.booking_day;
      bl->value_day = l.value_day;
      bl->remittance = l.remittance;
      bl->counterparty = l.counterparty;
      bl->end_to_end_id = l.end_to_end_id;
      e.lines.push_back(std::move(bl));
    }
    imported.payload.Set(std::move(e));
    a.events.push_back(std::move(imported));
    statement_ids.push_back(st.statement_id);
  }
  json matched = json::array(), unmatched = json::array();
  std::set<std::string> payouts_used, invoices_used;
  DocNumbers numbers(books, LocalYear(ctx.now, m.zone()));
  for (const BankLineIn* line : lines) {
    const BankLineIn& l = *line;
    if (fresh.count(l.reference) == 0) continue;
    fresh.erase(l.reference);  // a line listed twice in one file is matched once
    const TimeUs value = LocalNoon(l.booking_day, m.zone());
    const std::string named_by = NamedBy(l);
    bool done = false;
    // Why a line that names something was not matched, for the person who
    // checks it (null: nothing but the line itself stood in the way). A
    // line dated before the books begin is matched to nothing and books
    // nothing.
    json reason;
    const bool before_books = l.booking_day < BooksBegin(m);
    if (before_books) {
      reason = {{"code", "before_books_begin"},
                {"detail", "dated " + FormatLocalDay(l.booking_day) + ", before the books begin on " +
                               FormatLocalDay(BooksBegin(m))}};
    }
    if (!before_books && l.amount > 0) {
      for (const auto& [id, payout] : books.payouts()) {
        if (!payout.on_bank && payouts_used.count(id) == 0 && named_by.find(id) != std::string::npos) {
          payouts_used.insert(id);
          a.events.push_back(MatchEvent(ctx, import_id, ++version, "payout_bank", id, l.reference, l.amount,
                                        l.amount - payout.net, value, 0));
          matched.push_back(MatchJson("payout_bank", id, l.reference, l.amount, l.amount - payout.net));
          done = true;
          break;
        }
      }
    }
    // Invoices are kept in a hash map: everything taken from it is sorted by
    // number, so that a decision never depends on the map's order (which
    // differs between a folded model and one restored from a snapshot).
    std::vector<std::string> named;  // invoice numbers the line names
    if (!done && l.amount > 0) {
      // An invoice named by its number or Kassenzeichen in the remittance
      // or the end-to-end reference; a line naming several is left to a
      // person.
      std::vector<const Invoice*> hits;
      for (const auto& [id, inv] : books.invoices()) {
        if (named_by.find(inv.number) != std::string::npos ||
            (!inv.kassenzeichen.empty() && named_by.find(inv.kassenzeichen) != std::string::npos)) {
          hits.push_back(&inv);
          named.push_back(inv.number);
        }
      }
      const Invoice* hit = hits.size() == 1 && !before_books ? hits[0] : nullptr;
      // Money cannot arrive for an invoice before it was issued: such a line
      // (a wrong date, or another debt) is left to a person.
      if (hit != nullptr && l.booking_day < LocalDayOf(hit->issued, m.zone())) {
        reason = {{"code", "dated_before_invoice"},
                  {"detail", "dated " + FormatLocalDay(l.booking_day) + ", before invoice " + hit->number +
                                 " was issued on " + FormatLocalDay(LocalDayOf(hit->issued, m.zone()))}};
        hit = nullptr;
      }
      if (hit != nullptr && invoices_used.insert(hit->id).second) {
        a.events.push_back(MatchEvent(ctx, import_id, ++version, "bank_invoice", l.reference, hit->id,
                                      l.amount, l.amount - hit->open(), value, 0));
        matched.push_back(MatchJson("bank_invoice", l.reference, hit->id, l.amount, l.amount - hit->open()));
        json paid;
        Capture(m, ctx, *hit, "bank:" + l.reference, "bank_transfer", l.amount, 0, value, "", numbers,
                &a.events, &paid);
        done = true;
      }
    }
    if (!done) {
      json u = {{"reference", l.reference}, {"amount", l.amount}, {"remittance", l.remittance}};
      if (named_by != l.remittance) u["end_to_end_id"] = l.end_to_end_id;
      if (!reason.is_null()) u["reason"] = reason;
      // Candidates for a person to check, never matched by amount alone:
      // the invoices the line names, else those whose open amount equals it.
      std::vector<std::string> candidates = named;
      if (candidates.empty() && l.amount > 0 && reason.is_null()) {
        for (const auto& [id, inv] : books.invoices()) {
          if (inv.open() == l.amount) candidates.push_back(inv.number);
        }
      }
      std::sort(candidates.begin(), candidates.end());
      if (candidates.size() > 5) candidates.resize(5);
      if (!candidates.empty()) u["candidates"] = json(candidates);
      unmatched.push_back(std::move(u));
    }
  }
  a.created = true;
  a.reply["statements"] = statement_ids;
  a.reply["matched"] = matched;
  a.reply["unmatched"] = unmatched;
  a.reply["duplicates"] = duplicates;
  return a;
}

}  // namespace saalbuch::commands::detail
