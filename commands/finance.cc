#include "commands/finance.h"

#include <algorithm>
#include <cstdio>

namespace saalbuch::commands {

std::optional<TariffUnit> ParseTariffUnit(std::string_view s) {
  if (s == "hour") return TariffUnit::kHour;
  if (s == "booking") return TariffUnit::kBooking;
  if (s == "unit") return TariffUnit::kUnit;
  return std::nullopt;
}

const char* TariffUnitName(TariffUnit u) {
  switch (u) {
    case TariffUnit::kHour:
      return "hour";
    case TariffUnit::kBooking:
      return "booking";
    case TariffUnit::kUnit:
      return "unit";
  }
  return "booking";
}

const char* RefundStateName(RefundState s) {
  switch (s) {
    case RefundState::kRequested:
      return "requested";
    case RefundState::kSubmitted:
      return "submitted";
    case RefundState::kSucceeded:
      return "succeeded";
    case RefundState::kFailed:
      return "failed";
  }
  return "requested";
}

const TariffVersion* Tariff::At(TimeUs t) const {
  const TariffVersion* found = nullptr;
  for (const auto& v : versions) {
    if (v.valid_from > t) break;
    found = &v;
  }
  return found;
}

std::int32_t FinanceSettings::FeeFor(TimeUs notice) const {
  if (tiers.empty()) return 0;
  const CancellationTier* best = nullptr;
  for (const auto& t : tiers) {
    if (t.min_notice <= notice && (best == nullptr || t.min_notice > best->min_notice)) best = &t;
  }
  return best == nullptr ? 10000 : best->fee_bp;
}

Totals Sum(const std::vector<Line>& lines) {
  Totals t;
  for (const auto& l : lines) {
    t.net += l.net;
    t.tax += l.tax;
    t.gross += l.gross;
  }
  return t;
}

std::optional<Totals> CheckedSum(const std::vector<Line>& lines) {
  Totals t;
  for (const auto& l : lines) {
    if (!CheckedAdd(t.net, l.net, &t.net) || !CheckedAdd(t.tax, l.tax, &t.tax) ||
        !CheckedAdd(t.gross, l.gross, &t.gross)) {
      return std::nullopt;
    }
    for (const std::int64_t v : {t.net, t.tax, t.gross}) {
      if (v > kMaxAmount || v < -kMaxAmount) return std::nullopt;
    }
  }
  return t;
}

namespace {

Line LineFrom(const schema::DocumentLineT& d) {
  Line l;
  l.description = d.description;
  l.item = d.item;
  l.tariff = d.tariff_id;
  l.unit = ParseTariffUnit(d.unit).value_or(TariffUnit::kBooking);
  l.quantity_milli = d.quantity_milli;
  l.unit_amount = d.unit_amount;
  l.gross_priced = d.gross_priced;
  l.tax_rate_bp = d.tax_rate_bp;
  l.net = d.net;
  l.tax = d.tax;
  l.gross = d.gross;
  l.product = d.product;
  l.cost_center = d.cost_center;
  return l;
}

// "R-2026-000045" → "R-2026" and 45.
std::optional<std::pair<std::string, std::uint64_t>> SplitNumber(const std::string& number) {
  auto dash = number.rfind('-');
  if (dash == std::string::npos) return std::nullopt;
  try {
    return std::make_pair(number.substr(0, dash), std::stoull(number.substr(dash + 1)));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

void Books::Apply(const schema::PayloadUnion& ev, TimeUs recorded_at) {
  auto count = [this](const std::string& number) {
    if (auto n = SplitNumber(number)) {
      auto& last = numbers_[n->first];
      last = std::max(last, n->second);
    }
  };
  switch (ev.type) {
    case schema::Payload::TariffSet: {
      const auto* e = ev.AsTariffSet();
      Tariff& t = tariffs_[e->tariff_id];
      t.id = e->tariff_id;
      t.target = e->target;
      t.group = e->group_id;
      t.currency = e->currency;
      TariffVersion v{e->valid_from_us, ParseTariffUnit(e->unit).value_or(TariffUnit::kBooking),
                      e->amount,        e->gross,
                      e->tax_rate_bp,   e->description,
                      e->product,       e->cost_center};
      // A version from the same instant on replaces the later ones.
      std::erase_if(t.versions, [&](const TariffVersion& o) { return o.valid_from >= v.valid_from; });
      t.versions.push_back(std::move(v));
      tariff_by_target_[t.target + '\n' + t.group] = t.id;
      break;
    }
    case schema::Payload::FinanceSettingsSet: {
      const auto* e = ev.AsFinanceSettingsSet();
      FinanceSettings s;
      s.currency = e->currency;
      s.payment_terms_days = e->payment_terms_days;
      for (const auto& t : e->tiers) s.tiers.push_back({t.min_notice_us(), t.fee_bp()});
      s.letterhead = e->letterhead;
      for (const auto& a : e->accounts) s.accounts[a->key] = a->account;
      s.kassenzeichen_prefix = e->kassenzeichen_prefix;
      s.datev_consultant = e->datev_consultant;
      s.datev_client = e->datev_client;
      s.version = settings_.version + 1;
      settings_ = std::move(s);
      break;
    }
    case schema::Payload::InvoiceIssued: {
      const auto* e = ev.AsInvoiceIssued();
      Invoice inv;
      inv.id = e->invoice_id;
      inv.number = e->number;
      inv.booking = BookingId(e->booking_id);
      inv.customer = e->customer_id;
      for (const auto& l : e->lines) inv.lines.push_back(LineFrom(*l));
      inv.line_credited.assign(inv.lines.size(), 0);
      inv.totals = {e->net, e->tax, e->gross};
      inv.due = e->due_us;
      inv.issued = recorded_at;
      inv.kassenzeichen = e->kassenzeichen;
      if (!e->recipient_key.empty()) recipients_[e->recipient_key] = recorded_at;
      count(inv.number);
      if (!inv.booking.get().empty()) invoice_by_booking_[inv.booking] = inv.id;
      invoices_[inv.id] = std::move(inv);
      break;
    }
    case schema::Payload::CreditNoteIssued: {
      const auto* e = ev.AsCreditNoteIssued();
      count(e->number);
      auto it = invoices_.find(e->invoice_id);
      if (it == invoices_.end()) break;
      it->second.credited += e->gross;
      // Credit lines name the invoice line they credit by position.
      for (std::size_t i = 0; i < e->lines.size(); ++i) {
        const auto& l = *e->lines[i];
        for (std::size_t k = 0; k < it->second.lines.size(); ++k) {
          if (it->second.lines[k].item == l.item && it->second.lines[k].tariff == l.tariff_id &&
              it->second.line_credited[k] + l.gross <= it->second.lines[k].gross) {
            it->second.line_credited[k] += l.gross;
            break;
          }
        }
      }
      ArchiveTouched(e->invoice_id);
      break;
    }
    case schema::Payload::PaymentCaptured: {
      const auto* e = ev.AsPaymentCaptured();
      count(e->receipt_number);
      payments_[e->payment_ref] = Payment{e->payment_ref, e->invoice_id, e->method, e->amount, 0};
      auto it = invoices_.find(e->invoice_id);
      if (it != invoices_.end()) {
        it->second.captured += e->amount;
        it->second.payments.push_back(e->payment_ref);
      }
      ArchiveTouched(e->invoice_id);
      break;
    }
    case schema::Payload::PaymentFailed:
      failed_payments_.insert(ev.AsPaymentFailed()->payment_ref);
      break;
    case schema::Payload::RefundRequested: {
      const auto* e = ev.AsRefundRequested();
      auto p = payments_.find(e->payment_ref);
      const std::string method = p == payments_.end() ? "provider" : p->second.method;
      refunds_[e->refund_id] =
          Refund{e->refund_id, e->payment_ref, e->invoice_id, e->amount, RefundState::kRequested, method};
      if (p != payments_.end()) p->second.refunded += e->amount;
      refunds_by_payment_[e->payment_ref].push_back(e->refund_id);
      auto it = invoices_.find(e->invoice_id);
      if (it != invoices_.end()) it->second.refunded += e->amount;
      ArchiveTouched(e->invoice_id);
      break;
    }
    case schema::Payload::RefundSubmitted: {
      const auto* e = ev.AsRefundSubmitted();
      if (!e->provider_refund.empty()) refund_by_provider_[e->provider_refund] = e->refund_id;
      auto it = refunds_.find(e->refund_id);
      if (it != refunds_.end() && it->second.state == RefundState::kRequested) {
        it->second.state = RefundState::kSubmitted;
      }
      break;
    }
    case schema::Payload::RefundSettled: {
      const auto* e = ev.AsRefundSettled();
      if (!e->provider_refund.empty()) refund_by_provider_[e->provider_refund] = e->refund_id;
      auto it = refunds_.find(e->refund_id);
      if (it == refunds_.end()) break;
      Refund& r = it->second;
      if (e->outcome == "failed") {
        r.state = RefundState::kFailed;
        // The money was not paid back: it counts as kept again.
        auto p = payments_.find(r.payment);
        if (p != payments_.end()) p->second.refunded -= r.amount;
        auto inv = invoices_.find(r.invoice);
        if (inv != invoices_.end()) inv->second.refunded -= r.amount;
      } else {
        r.state = RefundState::kSucceeded;
      }
      ArchiveTouched(r.invoice);  // last: may erase r
      break;
    }
    case schema::Payload::PeriodClosed:
      closed_through_ = ev.AsPeriodClosed()->through_day;
      break;
    case schema::Payload::SettlementImported: {
      const auto* e = ev.AsSettlementImported();
      files_.insert(std::string(e->file_sha256.begin(), e->file_sha256.end()));
      for (const auto& p : e->payouts) {
        if (payouts_.count(p->payout_id) == 0)
          payouts_[p->payout_id] = PayoutSeen{p->net, p->date_day, false};
      }
      break;
    }
    case schema::Payload::BankStatementImported: {
      const auto* e = ev.AsBankStatementImported();
      files_.insert(std::string(e->file_sha256.begin(), e->file_sha256.end()));
      for (const auto& l : e->lines) {
        if (bank_lines_.insert(l->reference).second && l->amount > 0) {
          unmatched_bank_[l->reference] = BankCredit{l->amount, l->booking_day, l->remittance};
        }
      }
      break;
    }
    case schema::Payload::Matched: {
      const auto* e = ev.AsMatched();
      if (e->kind == "payment_payout") {
        settled_in_[e->subject] = e->counterpart;
      } else if (e->kind == "payout_bank") {
        auto it = payouts_.find(e->subject);
        if (it != payouts_.end()) it->second.on_bank = true;
        unmatched_bank_.erase(e->counterpart);
      } else if (e->kind == "bank_invoice") {
        unmatched_bank_.erase(e->subject);
      }
      break;
    }
    default:
      break;
  }
}

bool Books::AnyInvoiceIssued() const {
  return !invoices_.empty() || std::any_of(numbers_.begin(), numbers_.end(),
                                           [](const auto& n) { return n.first.starts_with("R-"); });
}

void Books::ArchiveBookingMoney(const BookingId& booking, bool booking_open) {
  auto it = invoice_by_booking_.find(booking);
  if (it == invoice_by_booking_.end()) return;
  const std::string id = it->second;
  if (!ArchiveIfSettled(id)) orphans_[id] = booking_open;
}

// By value on purpose: callers pass strings that live inside what this erases.
bool Books::ArchiveIfSettled(std::string id) {  // NOLINT(performance-unnecessary-value-param)
  auto inv = invoices_.find(id);
  if (inv == invoices_.end()) return false;
  if (inv->second.open() != 0) return false;
  for (const auto& ref : inv->second.payments) {
    for (const auto& refund : RefundsOf(ref)) {
      const Refund* r = FindRefund(refund);
      if (r != nullptr && (r->state == RefundState::kRequested || r->state == RefundState::kSubmitted)) {
        return false;
      }
    }
  }
  for (const auto& ref : inv->second.payments) {
    if (auto refunds = refunds_by_payment_.find(ref); refunds != refunds_by_payment_.end()) {
      for (const auto& refund : refunds->second) {
        refunds_.erase(refund);
        settled_in_.erase(refund);
      }
      refunds_by_payment_.erase(refunds);
    }
    payments_.erase(ref);
    settled_in_.erase(ref);
  }
  invoice_by_booking_.erase(inv->second.booking);
  invoices_.erase(inv);
  orphans_.erase(id);
  return true;
}

const Tariff* Books::FindTariff(const std::string& id) const {
  auto it = tariffs_.find(id);
  return it == tariffs_.end() ? nullptr : &it->second;
}

const Tariff* Books::TariffFor(const std::string& target, const std::string& group) const {
  auto it = tariff_by_target_.find(target + '\n' + group);
  if (it == tariff_by_target_.end()) it = tariff_by_target_.find(target + '\n');
  return it == tariff_by_target_.end() ? nullptr : FindTariff(it->second);
}

const Invoice* Books::FindInvoice(const std::string& id) const {
  auto it = invoices_.find(id);
  return it == invoices_.end() ? nullptr : &it->second;
}

const Invoice* Books::InvoiceOf(const BookingId& booking) const {
  auto it = invoice_by_booking_.find(booking);
  return it == invoice_by_booking_.end() ? nullptr : FindInvoice(it->second);
}

const Payment* Books::FindPayment(const std::string& ref) const {
  auto it = payments_.find(ref);
  return it == payments_.end() ? nullptr : &it->second;
}

const Refund* Books::FindRefund(const std::string& id) const {
  auto it = refunds_.find(id);
  return it == refunds_.end() ? nullptr : &it->second;
}

std::vector<std::string> Books::RefundsOf(const std::string& payment) const {
  auto it = refunds_by_payment_.find(payment);
  return it == refunds_by_payment_.end() ? std::vector<std::string>() : it->second;
}

std::string Books::RefundByProvider(const std::string& provider_refund) const {
  auto it = refund_by_provider_.find(provider_refund);
  return it == refund_by_provider_.end() ? std::string() : it->second;
}

std::string Books::SettledIn(const std::string& ref) const {
  auto it = settled_in_.find(ref);
  return it == settled_in_.end() ? std::string() : it->second;
}

std::string Books::NumberAfter(char prefix, int year, std::uint64_t n) const {
  char series[16];
  std::snprintf(series, sizeof series, "%c-%04d", prefix, year);
  auto it = numbers_.find(series);
  const std::uint64_t next = (it == numbers_.end() ? 0 : it->second) + 1 + n;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s-%06llu", series, static_cast<unsigned long long>(next));
  return buf;
}

std::optional<Line> PriceLine(const Tariff& t, const TariffVersion& v, std::int64_t num, std::int64_t den,
                              std::string description, std::string item) {
  const std::optional<std::int64_t> amount = CheckedMulDivRound(v.amount, num, den);
  const std::optional<std::int64_t> quantity_milli = CheckedMulDivRound(num, 1000, den);
  if (!amount || !quantity_milli || *amount > kMaxAmount || *amount < -kMaxAmount) return std::nullopt;
  Line l;
  l.description = std::move(description);
  l.item = std::move(item);
  l.tariff = t.id;
  l.unit = v.unit;
  l.quantity_milli = *quantity_milli;
  l.unit_amount = v.amount;
  l.gross_priced = v.gross;
  l.tax_rate_bp = v.tax_rate_bp;
  l.product = v.product;
  l.cost_center = v.cost_center;
  const Taxed taxed = v.gross ? TaxFromGross(*amount, v.tax_rate_bp) : TaxFromNet(*amount, v.tax_rate_bp);
  if (taxed.gross > kMaxAmount || taxed.gross < -kMaxAmount) return std::nullopt;
  l.net = taxed.net;
  l.tax = taxed.tax;
  l.gross = taxed.gross;
  return l;
}

Line CreditLine(const Line& of, std::int64_t gross) {
  Line l = of;
  const Taxed taxed = TaxFromGross(gross, of.tax_rate_bp);
  l.net = taxed.net;
  l.tax = taxed.tax;
  l.gross = taxed.gross;
  return l;
}

}  // namespace saalbuch::commands
