// The dispatcher: each command to its decision in a decide_*.cc by topic.
#include "commands/commands.h"
#include "commands/decide_internal.h"

namespace saalbuch::commands {

const char* CommandName(const Command& c) {
  static constexpr const char* kNames[] = {"create_tenant",
                                           "create_api_key",
                                           "create_resource",
                                           "set_rules",
                                           "place_booking",
                                           "cancel_booking",
                                           "set_holidays",
                                           "schedule_session",
                                           "set_addon",
                                           "define_group",
                                           "register_customer",
                                           "change_customer_group",
                                           "grant_right",
                                           "revoke_right",
                                           "grant_qualification",
                                           "revoke_qualification",
                                           "set_settings",
                                           "place_series",
                                           "cancel_series",
                                           "approve_booking",
                                           "reject_booking",
                                           "confirm_booking",
                                           "complete_booking",
                                           "reschedule_booking",
                                           "expire_holds",
                                           "erase_person",
                                           "record_notification",
                                           "sign_checkpoint",
                                           "set_tariff",
                                           "set_finance_settings",
                                           "open_checkout",
                                           "record_provider_event",
                                           "record_payment",
                                           "refund_invoice",
                                           "record_refund_submitted",
                                           "complete_refund",
                                           "close_period",
                                           "import_settlement",
                                           "import_bank_statement",
                                           "set_public_settings",
                                           "quote_cancellation",
                                           "invite_account",
                                           "set_account_password",
                                           "change_account_role",
                                           "disable_account",
                                           "sign_in",
                                           "sign_out",
                                           "revoke_api_key",
                                           "rotate_api_key",
                                           "set_customer_billing",
                                           "set_account_totp",
                                           "set_totp_policy",
                                           "set_retention_rule",
                                           "record_funnel",
                                           "set_door",
                                           "set_door_settings",
                                           "record_door"};
  static_assert(std::size(kNames) == std::variant_size_v<Command>);
  return kNames[c.index()];
}

Decision Decide(const TenantModel& m, const Context& ctx, const Command& cmd) {
  if (!m.exists() && !std::holds_alternative<CreateTenant>(cmd)) {
    return detail::Reject(Refusal::kNotFound, "not_found", "no such tenant");
  }
  return std::visit(
      [&](const auto& c) -> Decision {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, CreateTenant>) return detail::DecideCreateTenant(m, ctx, c);
        if constexpr (std::is_same_v<T, CreateApiKey>) return detail::DecideCreateApiKey(m, ctx, c);
        if constexpr (std::is_same_v<T, CreateResource>) return detail::DecideCreateResource(m, ctx, c);
        if constexpr (std::is_same_v<T, SetRules>) return detail::DecideSetRules(m, ctx, c);
        if constexpr (std::is_same_v<T, PlaceBooking>) return detail::DecidePlaceBooking(m, ctx, c);
        if constexpr (std::is_same_v<T, CancelBooking>) return detail::DecideCancelBooking(m, ctx, c);
        if constexpr (std::is_same_v<T, SetHolidays>) return detail::DecideSetHolidays(m, ctx, c);
        if constexpr (std::is_same_v<T, ScheduleSession>) return detail::DecideScheduleSession(m, ctx, c);
        if constexpr (std::is_same_v<T, SetAddon>) return detail::DecideSetAddon(m, ctx, c);
        if constexpr (std::is_same_v<T, DefineGroup>) return detail::DecideDefineGroup(m, ctx, c);
        if constexpr (std::is_same_v<T, RegisterCustomer>) return detail::DecideRegisterCustomer(m, ctx, c);
        if constexpr (std::is_same_v<T, ChangeCustomerGroup>)
          return detail::DecideChangeCustomerGroup(m, ctx, c);
        if constexpr (std::is_same_v<T, GrantRight>) return detail::DecideGrantRight(m, ctx, c);
        if constexpr (std::is_same_v<T, RevokeRight>) return detail::DecideRevokeRight(m, ctx, c);
        if constexpr (std::is_same_v<T, GrantQualification>)
          return detail::DecideGrantQualification(m, ctx, c);
        if constexpr (std::is_same_v<T, RevokeQualification>)
          return detail::DecideRevokeQualification(m, ctx, c);
        if constexpr (std::is_same_v<T, SetSettings>) return detail::DecideSetSettings(m, ctx, c);
        if constexpr (std::is_same_v<T, PlaceSeries>) return detail::DecidePlaceSeries(m, ctx, c);
        if constexpr (std::is_same_v<T, CancelSeries>) return detail::DecideCancelSeries(m, ctx, c);
        if constexpr (std::is_same_v<T, ApproveBooking>) return detail::DecideApprove(m, ctx, c);
        if constexpr (std::is_same_v<T, RejectBooking>) return detail::DecideReject(m, ctx, c);
        if constexpr (std::is_same_v<T, ConfirmBooking>) return detail::DecideConfirm(m, ctx, c);
        if constexpr (std::is_same_v<T, CompleteBooking>) return detail::DecideComplete(m, ctx, c);
        if constexpr (std::is_same_v<T, RescheduleBooking>) return detail::DecideReschedule(m, ctx, c);
        if constexpr (std::is_same_v<T, ExpireHolds>) return detail::DecideExpireHolds(m, ctx, c);
        if constexpr (std::is_same_v<T, ErasePerson>) return detail::DecideErasePerson(m, ctx, c);
        if constexpr (std::is_same_v<T, RecordNotification>)
          return detail::DecideRecordNotification(m, ctx, c);
        if constexpr (std::is_same_v<T, SignCheckpoint>) return detail::DecideSignCheckpoint(m, ctx, c);
        if constexpr (std::is_same_v<T, SetTariff>) return detail::DecideSetTariff(m, ctx, c);
        if constexpr (std::is_same_v<T, SetFinanceSettings>)
          return detail::DecideSetFinanceSettings(m, ctx, c);
        if constexpr (std::is_same_v<T, OpenCheckout>) return detail::DecideOpenCheckout(m, ctx, c);
        if constexpr (std::is_same_v<T, RecordProviderEvent>) return detail::DecideProviderEvent(m, ctx, c);
        if constexpr (std::is_same_v<T, RecordPayment>) return detail::DecideRecordPayment(m, ctx, c);
        if constexpr (std::is_same_v<T, RefundInvoice>) return detail::DecideRefundInvoice(m, ctx, c);
        if constexpr (std::is_same_v<T, RecordRefundSubmitted>)
          return detail::DecideRefundSubmitted(m, ctx, c);
        if constexpr (std::is_same_v<T, CompleteRefund>) return detail::DecideCompleteRefund(m, ctx, c);
        if constexpr (std::is_same_v<T, ClosePeriod>) return detail::DecideClosePeriod(m, ctx, c);
        if constexpr (std::is_same_v<T, ImportSettlement>) return detail::DecideImportSettlement(m, ctx, c);
        if constexpr (std::is_same_v<T, ImportBankStatement>)
          return detail::DecideImportBankStatement(m, ctx, c);
        if constexpr (std::is_same_v<T, SetPublicSettings>) return detail::DecideSetPublicSettings(m, ctx, c);
        if constexpr (std::is_same_v<T, QuoteCancellation>) return detail::DecideQuoteCancellation(m, ctx, c);
        if constexpr (std::is_same_v<T, InviteAccount>) return detail::DecideInviteAccount(m, ctx, c);
        if constexpr (std::is_same_v<T, SetAccountPassword>)
          return detail::DecideSetAccountPassword(m, ctx, c);
        if constexpr (std::is_same_v<T, ChangeAccountRole>) return detail::DecideChangeAccountRole(m, ctx, c);
        if constexpr (std::is_same_v<T, DisableAccount>) return detail::DecideDisableAccount(m, ctx, c);
        if constexpr (std::is_same_v<T, SignIn>) return detail::DecideSignIn(m, ctx, c);
        if constexpr (std::is_same_v<T, SignOut>) return detail::DecideSignOut(m, ctx, c);
        if constexpr (std::is_same_v<T, RevokeApiKey>) return detail::DecideRevokeApiKey(m, ctx, c);
        if constexpr (std::is_same_v<T, RotateApiKey>) return detail::DecideRotateApiKey(m, ctx, c);
        if constexpr (std::is_same_v<T, SetCustomerBilling>)
          return detail::DecideSetCustomerBilling(m, ctx, c);
        if constexpr (std::is_same_v<T, SetAccountTotp>) return detail::DecideSetAccountTotp(m, ctx, c);
        if constexpr (std::is_same_v<T, SetTotpPolicy>) return detail::DecideSetTotpPolicy(m, ctx, c);
        if constexpr (std::is_same_v<T, SetRetentionRule>) return detail::DecideSetRetentionRule(m, ctx, c);
        if constexpr (std::is_same_v<T, RecordFunnel>) return detail::DecideRecordFunnel(m, ctx, c);
        if constexpr (std::is_same_v<T, SetDoor>) return detail::DecideSetDoor(m, ctx, c);
        if constexpr (std::is_same_v<T, SetDoorSettings>) return detail::DecideSetDoorSettings(m, ctx, c);
        if constexpr (std::is_same_v<T, RecordDoor>) return detail::DecideRecordDoor(m, ctx, c);
      },
      cmd);
}

}  // namespace saalbuch::commands
