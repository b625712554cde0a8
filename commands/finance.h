// The money side of a tenant's write model: tariffs, finance settings,
// invoices, credit notes, payments and refunds, document numbers, imports
// and the closed period, folded from the same log by `Books::Apply`; and
// the pure pricing arithmetic that `Decide` uses.
//
// Amounts are int64 minor units of the tenant's currency (common/money.h).
// For an invoice:
//   owed = gross - credited            what the booker owes after credit notes
//   kept = captured - refunds          money received and not paid back
//                                      (requested refunds count at once;
//                                      failed ones are added back)
//   open = owed - kept                 > 0: still to pay; < 0: to pay back
//
// Thread-safety: none; confined to the tenant's writer like TenantModel.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/money.h"
#include "common/time.h"
#include "common/types.h"
#include "schemas/event_generated.h"

namespace saalbuch::commands {

enum class TariffUnit { kHour, kBooking, kUnit };
std::optional<TariffUnit> ParseTariffUnit(std::string_view s);
const char* TariffUnitName(TariffUnit u);

struct TariffVersion {
  TimeUs valid_from = 0;
  TariffUnit unit = TariffUnit::kBooking;
  std::int64_t amount = 0;  // per unit, minor units
  bool gross = true;        // amount includes tax
  std::int32_t tax_rate_bp = 0;
  std::string description;
  std::string product;      // Haushaltsstelle / Produkt
  std::string cost_center;  // Kostenstelle
  bool operator==(const TariffVersion&) const = default;
};

struct Tariff {
  std::string id;
  std::string target;  // "resource/<id>" | "addon/<id>"
  std::string group;   // empty: every group without its own tariff
  std::string currency;
  std::vector<TariffVersion> versions;  // by valid_from, ascending
  // The version in force at `t`; nullptr before the first.
  const TariffVersion* At(TimeUs t) const;
  bool operator==(const Tariff&) const = default;
};

struct CancellationTier {
  TimeUs min_notice = 0;
  std::int32_t fee_bp = 0;  // 10000: the whole price
  bool operator==(const CancellationTier&) const = default;
};

struct FinanceSettings {
  std::string currency = "EUR";
  int payment_terms_days = 14;
  std::vector<CancellationTier> tiers;  // empty: cancelling is free
  std::vector<std::string> letterhead;
  std::map<std::string, std::string> accounts;  // role → account; see DefaultAccounts()
  std::string kassenzeichen_prefix;
  std::string datev_consultant = "1001";
  std::string datev_client = "1";
  std::uint64_t version = 0;
  // The fee (basis points of the price) for cancelling `notice` before the
  // start: the tier with the largest min_notice not above `notice`; 10000
  // when notice is below every tier; 0 without tiers.
  std::int32_t FeeFor(TimeUs notice) const;
  bool operator==(const FinanceSettings&) const = default;
};

struct Line {
  std::string description;
  std::string item;  // "resource/<id>" | "addon/<id>" | ""
  std::string tariff;
  TariffUnit unit = TariffUnit::kBooking;
  std::int64_t quantity_milli = 0;
  std::int64_t unit_amount = 0;
  bool gross_priced = true;
  std::int32_t tax_rate_bp = 0;
  std::int64_t net = 0;
  std::int64_t tax = 0;
  std::int64_t gross = 0;
  std::string product;
  std::string cost_center;
  bool operator==(const Line&) const = default;
};

struct Totals {
  std::int64_t net = 0;
  std::int64_t tax = 0;
  std::int64_t gross = 0;
  bool operator==(const Totals&) const = default;
};
// REQUIRES: the lines were priced within kMaxAmount (PriceLine, CheckedSum),
// as every recorded document's are.
Totals Sum(const std::vector<Line>& lines);

struct Invoice {
  std::string id;
  std::string number;
  BookingId booking;
  std::string customer;
  std::vector<Line> lines;
  Totals totals;
  TimeUs due = 0;
  TimeUs issued = 0;  // when it was issued (its record's time): no money is booked before
  std::string kassenzeichen;
  std::vector<std::int64_t> line_credited;  // gross credited per line
  std::int64_t credited = 0;
  std::int64_t captured = 0;
  std::int64_t refunded = 0;  // requested or done, not failed
  std::vector<std::string> payments;
  std::int64_t owed() const { return totals.gross - credited; }
  std::int64_t kept() const { return captured - refunded; }
  std::int64_t open() const { return owed() - kept(); }
  bool operator==(const Invoice&) const = default;
};

struct Payment {
  std::string ref;
  std::string invoice;
  std::string method;  // provider | bank_transfer | cash
  std::int64_t amount = 0;
  std::int64_t refunded = 0;  // requested or done, not failed
  bool operator==(const Payment&) const = default;
};

enum class RefundState { kRequested, kSubmitted, kSucceeded, kFailed };
const char* RefundStateName(RefundState s);

struct Refund {
  std::string id;
  std::string payment;
  std::string invoice;
  std::int64_t amount = 0;
  RefundState state = RefundState::kRequested;
  std::string method;  // the payment's
  bool operator==(const Refund&) const = default;
};

// A payout of the provider seen in a settlement report.
struct PayoutSeen {
  std::int64_t net = 0;
  LocalDay day = 0;
  bool on_bank = false;  // matched to a bank line
  bool operator==(const PayoutSeen&) const = default;
};

class Books {
 public:
  // Folds one event, recorded at `recorded_at` (its envelope's time).
  void Apply(const schema::PayloadUnion& ev, TimeUs recorded_at);

  const FinanceSettings& settings() const { return settings_; }
  const Tariff* FindTariff(const std::string& id) const;
  // The tariff of `target` for `group`, else the one for every group.
  const Tariff* TariffFor(const std::string& target, const std::string& group) const;
  const Invoice* FindInvoice(const std::string& id) const;
  const Invoice* InvoiceOf(const BookingId& booking) const;
  const Payment* FindPayment(const std::string& ref) const;
  const Refund* FindRefund(const std::string& id) const;
  // Whether a failed attempt with this payment reference was recorded.
  bool PaymentFailedBefore(const std::string& ref) const { return failed_payments_.count(ref) != 0; }
  const std::unordered_map<std::string, Invoice>& invoices() const { return invoices_; }
  // For an invoice whose booking was archived before the invoice was
  // settled: whether the booking was still open then (decisions about
  // surplus money depend on it); nullopt for any other invoice.
  std::optional<bool> OrphanOfOpenBooking(const std::string& invoice) const {
    auto it = orphans_.find(invoice);
    return it == orphans_.end() ? std::nullopt : std::optional<bool>(it->second);
  }
  // Whether an invoice was ever issued (archived ones included).
  bool AnyInvoiceIssued() const;
  // When the newest invoice naming the sealed recipient under vault key
  // `key` ("r_" ‖ person) was issued, archived invoices included; nullopt:
  // none names it, so nothing obliges Saalbuch to keep it.
  std::optional<TimeUs> RecipientNamedAt(const std::string& key) const {
    auto it = recipients_.find(key);
    return it == recipients_.end() ? std::nullopt : std::optional<TimeUs>(it->second);
  }
  // The booking left the write model (TenantModel::kArchiveAfter): its
  // invoice leaves the books with its payments and refunds once nothing is
  // open on it and no refund is under way; until then it waits (an
  // "orphan") and leaves with the money event that settles it.
  void ArchiveBookingMoney(const BookingId& booking, bool booking_open);
  bool FileImported(const std::string& sha256) const { return files_.count(sha256) != 0; }
  bool BankLineSeen(const std::string& ref) const { return bank_lines_.count(ref) != 0; }
  // The payout a payment or refund reference was settled in (empty: none).
  std::string SettledIn(const std::string& ref) const;
  const std::map<std::string, PayoutSeen>& payouts() const { return payouts_; }
  // Refund ids of a payment, in the order they were requested.
  std::vector<std::string> RefundsOf(const std::string& payment) const;
  // Our refund id for a provider's refund reference (empty: unknown).
  std::string RefundByProvider(const std::string& provider_refund) const;
  // Credit lines of bank statements not matched to anything yet, by reference.
  struct BankCredit {
    std::int64_t amount = 0;
    LocalDay day = 0;
    std::string remittance;
    bool operator==(const BankCredit&) const = default;
  };
  const std::map<std::string, BankCredit>& unmatched_bank() const { return unmatched_bank_; }
  // The last local day of the closed period (nullopt: nothing closed).
  std::optional<LocalDay> closed_through() const { return closed_through_; }

  // The n-th next (0 = the next) number of a document series: prefix "R"
  // invoices, "G" credit notes, "Z" receipts; "R-2026-000045".
  std::string NumberAfter(char prefix, int year, std::uint64_t n) const;

  bool operator==(const Books&) const = default;

 private:
  friend struct SnapshotCodec;  // commands/snapshot.cc
  // Archives invoice `id` if it is settled; true when it left. (By value:
  // callers may pass a string inside what it erases.)
  bool ArchiveIfSettled(std::string id);
  void ArchiveTouched(const std::string& invoice) {
    if (orphans_.count(invoice) != 0) ArchiveIfSettled(invoice);
  }
  FinanceSettings settings_;
  std::map<std::string, Tariff> tariffs_;
  std::map<std::string, std::string> tariff_by_target_;  // target + '\n' + group → id
  std::unordered_map<std::string, Invoice> invoices_;
  std::unordered_map<BookingId, std::string> invoice_by_booking_;
  std::unordered_map<std::string, Payment> payments_;
  std::unordered_map<std::string, Refund> refunds_;
  std::map<std::string, std::uint64_t> numbers_;  // "R-2026" → last number
  std::set<std::string> files_;
  std::set<std::string> failed_payments_;
  std::set<std::string> bank_lines_;
  std::unordered_map<std::string, std::string> settled_in_;
  std::map<std::string, PayoutSeen> payouts_;
  std::optional<LocalDay> closed_through_;
  std::unordered_map<std::string, std::string> refund_by_provider_;
  std::unordered_map<std::string, std::vector<std::string>> refunds_by_payment_;
  std::map<std::string, BankCredit> unmatched_bank_;
  // Invoices of archived bookings, not yet settled → the booking was open.
  std::map<std::string, bool> orphans_;
  std::map<std::string, TimeUs> recipients_;  // recipient key → its newest invoice's issue time
};

// ---- Pure arithmetic ----

// A line for a quantity of num/den hours or pieces at version `v`: amount =
// round(unit_amount * num / den), then tax at the version's rate from net or
// gross, each rounded half away from zero. nullopt when the amount, or the
// line's gross, would lie beyond ±kMaxAmount (common/money.h): checked,
// never wrapped. REQUIRES: den > 0.
std::optional<Line> PriceLine(const Tariff& t, const TariffVersion& v, std::int64_t num, std::int64_t den,
                              std::string description, std::string item);

// The totals of `lines`; nullopt when one of them would lie beyond
// ±kMaxAmount.
std::optional<Totals> CheckedSum(const std::vector<Line>& lines);

// Gross `amount` of a line turned into a credit line: tax extracted from the
// gross at the line's rate, half away from zero.
Line CreditLine(const Line& of, std::int64_t gross);

}  // namespace saalbuch::commands
