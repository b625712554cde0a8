// Shared by the decide_*.cc files; not part of the commands/ interface.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "commands/commands.h"
#include "common/crypto.h"

namespace saalbuch::commands::detail {

// Hard limit on a booking's (and an event session's) length whatever a
// resource's rules say, so that no single booking makes the writer walk
// years of opening hours.
constexpr TimeUs kMaxBookingDuration = 31LL * 24 * 3600 * kUsPerSecond;

inline std::vector<std::uint8_t> HashBytes(std::string_view secret) {
  Sha256 h = Sha256Of(secret);
  return {h.begin(), h.end()};
}

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
// booker's group; empty when nothing of it has a tariff. Refused (422
// validation_failed, details {max_amount, currency}) when a line or the
// total would lie beyond kMaxAmount (common/money.h): a booking is never
// priced by a wrapped sum.
std::variant<std::vector<Line>, Rejection> PriceBooking(const TenantModel& m, const Booking& b, TimeUs at);

// The largest gross amount of an invoice that may omit its recipient's full
// name and address: § 33 UStDV (Kleinbetragsrechnung, 250 € since 2017).
// Above it § 14 (4) UStG requires them. In minor units of the tenant's
// currency.
inline constexpr std::int64_t kShortInvoiceLimit = 25'000;

// Refused (422 recipient_required) when booking `b` priced at `lines`
// would get an invoice above kShortInvoiceLimit that could not name its
// recipient: neither the booking (contact.address) nor its customer (billing
// profile) names one; 409 person_erased when the booking's was erased.
std::optional<Rejection> RecipientMissing(const TenantModel& m, const Booking& b,
                                          const std::vector<Line>& lines);

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

// Who places a booking, resolved from the command.
struct Booker {
  bool staff = false;     // an internal staff booking (no customer)
  bool by_staff = false;  // placed through a staff key
  std::string customer;
  std::string group = "public";
};

// Judges one booking (new, an occurrence, or a move of `exclude`) against
// the model plus the `pending` bookings this command already accepted.
// Returns the booking as it would be placed (number, version unset).
std::variant<Booking, Rejection> PlanBooking(const TenantModel& m, const Context& ctx, const PlaceBooking& c,
                                             const Booker& who, const BookingId& exclude,
                                             const std::vector<Booking>& pending);

// The reply describing a booking.
nlohmann::json BookingReply(const TenantModel& m, const Booking& b);

// The invoice of a placed booking that is held or confirmed: due when the
// hold ends, or after the tenant's payment terms.
void InvoicePlaced(const TenantModel& m, const Context& ctx, const Booking& b, const std::vector<Line>& lines,
                   DocNumbers& numbers, Acceptance* a, nlohmann::json* reply);

// Tenant and catalog decisions (decide_catalog.cc).
Decision DecideCreateTenant(const TenantModel& m, const Context& ctx, const CreateTenant& c);
Decision DecideCreateApiKey(const TenantModel& m, const Context& ctx, const CreateApiKey& c);
Decision DecideRevokeApiKey(const TenantModel& m, const Context& ctx, const RevokeApiKey& c);
Decision DecideRotateApiKey(const TenantModel& m, const Context& ctx, const RotateApiKey& c);
Decision DecideSetCustomerBilling(const TenantModel& m, const Context& ctx, const SetCustomerBilling& c);
Decision DecideCreateResource(const TenantModel& m, const Context& ctx, const CreateResource& c);
Decision DecideSetRules(const TenantModel& m, const Context& ctx, const SetRules& c);
Decision DecideSetHolidays(const TenantModel& m, const Context& ctx, const SetHolidays& c);
Decision DecideScheduleSession(const TenantModel& m, const Context& ctx, const ScheduleSession& c);
Decision DecideSetAddon(const TenantModel& m, const Context& ctx, const SetAddon& c);
Decision DecideSetSettings(const TenantModel& m, const Context& ctx, const SetSettings& c);
Decision DecideSetPublicSettings(const TenantModel& m, const Context& ctx, const SetPublicSettings& c);
Decision DecideSignCheckpoint(const TenantModel& m, const Context& ctx, const SignCheckpoint& c);

// Placing bookings (decide_bookings.cc).
Decision DecidePlaceBooking(const TenantModel& m, const Context& ctx, const PlaceBooking& c);
Decision DecidePlaceSeries(const TenantModel& m, const Context& ctx, const PlaceSeries& c);

// Groups, customers, rights and quotas, qualifications, persons
// (decide_rights.cc).
Decision DecideDefineGroup(const TenantModel& m, const Context& ctx, const DefineGroup& c);
Decision DecideRegisterCustomer(const TenantModel& m, const Context& ctx, const RegisterCustomer& c);
Decision DecideChangeCustomerGroup(const TenantModel& m, const Context& ctx, const ChangeCustomerGroup& c);
Decision DecideGrantRight(const TenantModel& m, const Context& ctx, const GrantRight& c);
Decision DecideRevokeRight(const TenantModel& m, const Context& ctx, const RevokeRight& c);
Decision DecideGrantQualification(const TenantModel& m, const Context& ctx, const GrantQualification& c);
Decision DecideRevokeQualification(const TenantModel& m, const Context& ctx, const RevokeQualification& c);
Decision DecideErasePerson(const TenantModel& m, const Context& ctx, const ErasePerson& c);

// The lifecycle of a placed booking (decide_lifecycle.cc).
Decision DecideCancelBooking(const TenantModel& m, const Context& ctx, const CancelBooking& c);
Decision DecideQuoteCancellation(const TenantModel& m, const Context& ctx, const QuoteCancellation& c);
// decide_accounts.cc
Decision DecideInviteAccount(const TenantModel& m, const Context& ctx, const InviteAccount& c);
Decision DecideSetAccountPassword(const TenantModel& m, const Context& ctx, const SetAccountPassword& c);
Decision DecideChangeAccountRole(const TenantModel& m, const Context& ctx, const ChangeAccountRole& c);
Decision DecideDisableAccount(const TenantModel& m, const Context& ctx, const DisableAccount& c);
Decision DecideSignIn(const TenantModel& m, const Context& ctx, const SignIn& c);
Decision DecideSignOut(const TenantModel& m, const Context& ctx, const SignOut& c);
Decision DecideSetAccountTotp(const TenantModel& m, const Context& ctx, const SetAccountTotp& c);
Decision DecideSetTotpPolicy(const TenantModel& m, const Context& ctx, const SetTotpPolicy& c);
Decision DecideSetRetentionRule(const TenantModel& m, const Context& ctx, const SetRetentionRule& c);
Decision DecideRecordFunnel(const TenantModel& m, const Context& ctx, const RecordFunnel& c);
Decision DecideSetDoor(const TenantModel& m, const Context& ctx, const SetDoor& c);
Decision DecideSetDoorSettings(const TenantModel& m, const Context& ctx, const SetDoorSettings& c);
Decision DecideRecordDoor(const TenantModel& m, const Context& ctx, const RecordDoor& c);
Decision DecideCancelSeries(const TenantModel& m, const Context& ctx, const CancelSeries& c);
Decision DecideApprove(const TenantModel& m, const Context& ctx, const ApproveBooking& c);
Decision DecideReject(const TenantModel& m, const Context& ctx, const RejectBooking& c);
Decision DecideConfirm(const TenantModel& m, const Context& ctx, const ConfirmBooking& c);
Decision DecideComplete(const TenantModel& m, const Context& ctx, const CompleteBooking& c);
Decision DecideReschedule(const TenantModel& m, const Context& ctx, const RescheduleBooking& c);
Decision DecideExpireHolds(const TenantModel& m, const Context& ctx, const ExpireHolds& c);
Decision DecideRecordNotification(const TenantModel& m, const Context& ctx, const RecordNotification& c);

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
