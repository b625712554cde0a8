// Shared by the decide_*.cc files; not part of the commands/ interface.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "commands/commands.h"

namespace saalbuch::commands::detail {

inline Rejection Reject(Refusal r, std::string code, std::string message,
                        nlohmann::json details = nlohmann::json::object()) {
  return Rejection{r, std::move(code), std::move(message), std::move(details)};
}

inline ledger::EventDraft Draft(const Context& ctx, std::string stream, std::uint64_t version) {
  ledger::EventDraft d;
  d.stream_id = std::move(stream);
  d.stream_version = version;
  d.recorded_at = ctx.now;
  d.actor = ctx.actor;
  d.command_id = ctx.command_id;
  d.correlation_id = ctx.correlation_id;
  return d;
}

// Hands out document numbers within one decision, so that several documents
// of one kind decided together get consecutive numbers.
class DocNumbers {
 public:
  DocNumbers(const Books& books, int year) : books_(books), year_(year) {}
  std::string Next(char prefix) { return books_.NumberAfter(prefix, year_, used_[prefix]++); }
  // Refund ids are the command's id and a counter.
  std::string NextRefund(const Context& ctx) {
    return "rf-" + ctx.command_id + "-" + std::to_string(++refunds_);
  }

 private:
  int refunds_ = 0;
  const Books& books_;
  int year_;
  std::map<char, std::uint64_t> used_;
};

// The price lines of booking `b` under the tariffs in force at `at` for the
// booker's group; empty when nothing of it has a tariff.
std::vector<Line> PriceBooking(const TenantModel& m, const Booking& b, TimeUs at);

// Whether a booking placed or approved now must first be paid: a priced
// booking of a booker (not through a staff key) that would be confirmed.
inline bool NeedsPayment(const std::vector<Line>& lines, bool by_staff) {
  return !by_staff && Sum(lines).gross > 0;
}

// The InvoiceIssued event for booking `b` (its placement or approval is
// decided in the same batch), due at `due`; *reply gets the invoice.
ledger::EventDraft InvoiceEvent(const TenantModel& m, const Context& ctx, const Booking& b,
                                const std::vector<Line>& lines, TimeUs due, DocNumbers& numbers,
                                nlohmann::json* reply);

// What ending booking `b` (cancelled, expired) does to its invoice: a credit
// note for all but `fee_bp` of what is not credited yet, and refunds of what
// was received beyond what is then owed. Appends events; *reply gets
// "invoice" {fee, credit_note, refunds}. No invoice: nothing.
void EndBookingMoney(const TenantModel& m, const Context& ctx, const Booking& b, std::int32_t fee_bp,
                     const std::string& reason, DocNumbers& numbers, std::vector<ledger::EventDraft>* events,
                     nlohmann::json* reply);

// Money decisions (decide_money.cc).
Decision DecideSetTariff(const TenantModel& m, const Context& ctx, const SetTariff& c);
Decision DecideSetFinanceSettings(const TenantModel& m, const Context& ctx, const SetFinanceSettings& c);
Decision DecideOpenCheckout(const TenantModel& m, const Context& ctx, const OpenCheckout& c);
Decision DecideProviderEvent(const TenantModel& m, const Context& ctx, const RecordProviderEvent& c);
Decision DecideRecordPayment(const TenantModel& m, const Context& ctx, const RecordPayment& c);
Decision DecideRefundInvoice(const TenantModel& m, const Context& ctx, const RefundInvoice& c);
Decision DecideRefundSubmitted(const TenantModel& m, const Context& ctx, const RecordRefundSubmitted& c);
Decision DecideCompleteRefund(const TenantModel& m, const Context& ctx, const CompleteRefund& c);
Decision DecideClosePeriod(const TenantModel& m, const Context& ctx, const ClosePeriod& c);
Decision DecideImportSettlement(const TenantModel& m, const Context& ctx, const ImportSettlement& c);
Decision DecideImportBankStatement(const TenantModel& m, const Context& ctx, const ImportBankStatement& c);

}  // namespace saalbuch::commands::detail
