// Decisions about who may book: customer groups, customers, usage rights
// with their quotas, qualifications, and erasing a person's data.
#include "commands/decide_internal.h"
#include "common/time_json.h"

namespace saalbuch::commands::detail {

using nlohmann::json;

Decision DecideDefineGroup(const TenantModel& m, const Context& ctx, const DefineGroup& c) {
  if (!IsValidSlug(c.id) || c.name.empty() || c.name.size() > 200) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "group id must be a slug (a–z, 0–9, '-') and name 1–200 bytes");
  }
  if (m.HasGroup(c.id)) return Reject(Refusal::kConflict, "group_exists", "this group exists");
  Acceptance a;
  a.created = true;
  auto d = Draft(ctx, "group/" + c.id, 1);
  schema::GroupDefinedT e;
  e.group_id = c.id;
  e.name = c.name;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"id", c.id}, {"name", c.name}};
  return a;
}

Decision DecideRegisterCustomer(const TenantModel& m, const Context& ctx, const RegisterCustomer& c) {
  // A slug, or a generated "cu_<hex>".
  if (!IsValidSlug(c.id) && !(c.id.starts_with("cu_") && IsValidSlug(std::string_view(c.id).substr(3)))) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "customer id must be a slug");
  }
  if (m.FindCustomer(c.id) != nullptr)
    return Reject(Refusal::kConflict, "customer_exists", "this customer exists");
  if (!m.HasGroup(c.group)) {
    return Reject(Refusal::kUnprocessable, "unknown_group", "no such customer group", {{"group", c.group}});
  }
  Acceptance a;
  a.created = true;
  auto d = Draft(ctx, "customer/" + c.id, 1);
  schema::CustomerRegisteredT e;
  e.customer_id = c.id;
  e.group_id = c.group;
  e.token_hash = HashBytes(c.token);
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"id", c.id}, {"group", c.group}, {"customer_token", c.token}, {"version", 1}};
  a.secrets = {"/customer_token"};
  return a;
}

Decision DecideChangeCustomerGroup(const TenantModel& m, const Context& ctx, const ChangeCustomerGroup& c) {
  const Customer* cu = m.FindCustomer(c.id);
  if (cu == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such customer");
  if (!m.HasGroup(c.group)) {
    return Reject(Refusal::kUnprocessable, "unknown_group", "no such customer group", {{"group", c.group}});
  }
  Acceptance a;
  auto d = Draft(ctx, "customer/" + c.id, cu->version + 1);
  schema::CustomerGroupChangedT e;
  e.customer_id = c.id;
  e.group_id = c.group;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"id", c.id}, {"group", c.group}, {"version", cu->version + 1}};
  return a;
}

Decision DecideSetCustomerBilling(const TenantModel& m, const Context& ctx, const SetCustomerBilling& c) {
  const Customer* cu = m.FindCustomer(c.id);
  if (cu == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such customer");
  if (c.recipient.size() > std::size_t{4} * 1024) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "the billing profile is limited to 4 KiB");
  }
  Acceptance a;
  auto d = Draft(ctx, "customer/" + c.id, cu->version + 1);
  schema::CustomerBillingSetT e;
  e.customer_id = c.id;
  e.recipient.assign(c.recipient.begin(), c.recipient.end());
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"id", c.id}, {"billing", !c.recipient.empty()}, {"version", cu->version + 1}};
  return a;
}

Decision DecideGrantRight(const TenantModel& m, const Context& ctx, const GrantRight& c) {
  const Right& r = c.right;
  if (m.FindResource(r.resource) == nullptr) {
    return Reject(Refusal::kUnprocessable, "unknown_resource", "no such resource",
                  {{"resource", r.resource.get()}});
  }
  if (!m.HasGroup(r.group)) {
    return Reject(Refusal::kUnprocessable, "unknown_group", "no such customer group", {{"group", r.group}});
  }
  if (m.FindRight(r.id) != nullptr) return Reject(Refusal::kConflict, "right_exists", "this right exists");
  if (r.quota < 0 || r.quota > 366LL * 24 * 60 * kUsPerMinute ||
      (r.quota > 0 && !CalendarPeriod(0, r.quota_period))) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "a quota needs quota_period week, month or year and at most a year of minutes");
  }
  if (r.quota > 0 && r.group == "public") {
    return Reject(Refusal::kUnprocessable, "quota_needs_customers",
                  "quotas count per customer; anonymous public bookers have none");
  }
  if (r.valid_until != 0 && r.valid_until <= r.valid_from) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "valid_until must be after valid_from");
  }
  if (r.basis.size() > 1000) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "basis must have at most 1000 bytes");
  }
  Acceptance a;
  a.created = true;
  auto d = Draft(ctx, "right/" + r.id, 1);
  schema::RightGrantedT e;
  e.right_id = r.id;
  e.resource_id = r.resource.get();
  e.group_id = r.group;
  e.may_book = r.may_book;
  e.needs_approval = r.needs_approval;
  e.hold = r.hold;
  e.quota_minutes = static_cast<std::int32_t>(r.quota / kUsPerMinute);
  e.quota_period = r.quota > 0 ? r.quota_period : "";
  e.basis = r.basis;
  e.valid_from_us = r.valid_from;
  e.valid_until_us = r.valid_until;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"id", r.id}, {"resource", r.resource.get()}, {"group", r.group}, {"version", 1}};
  return a;
}

Decision DecideRevokeRight(const TenantModel& m, const Context& ctx, const RevokeRight& c) {
  const Right* r = m.FindRight(c.id);
  if (r == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such right");
  if (r->revoked) return Reject(Refusal::kConflict, "already_revoked", "the right is already revoked");
  if (c.reason.size() > 1000) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "reason must have at most 1000 bytes");
  }
  Acceptance a;
  auto d = Draft(ctx, "right/" + c.id, 2);
  schema::RightRevokedT e;
  e.right_id = c.id;
  e.reason = c.reason;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"id", c.id}, {"revoked", true}, {"version", 2}};
  return a;
}

Decision DecideGrantQualification(const TenantModel& m, const Context& ctx, const GrantQualification& c) {
  const Customer* cu = m.FindCustomer(c.customer);
  if (cu == nullptr) return Reject(Refusal::kNotFound, "not_found", "no such customer");
  if (!IsValidSlug(c.qualification) || c.basis.size() > 1000 || c.valid_until < 0) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "qualification must be a slug; basis at most 1000 bytes");
  }
  Acceptance a;
  auto d = Draft(ctx, "customer/" + c.customer, cu->version + 1);
  schema::QualificationGrantedT e;
  e.customer_id = c.customer;
  e.qualification = c.qualification;
  e.valid_until_us = c.valid_until;
  e.basis = c.basis;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"customer", c.customer},
             {"qualification", c.qualification},
             {"valid_until", c.valid_until == 0 ? json(nullptr) : json(FormatUtc(c.valid_until))},
             {"version", cu->version + 1}};
  return a;
}

Decision DecideRevokeQualification(const TenantModel& m, const Context& ctx, const RevokeQualification& c) {
  const Customer* cu = m.FindCustomer(c.customer);
  if (cu == nullptr || cu->qualifications.count(c.qualification) == 0) {
    return Reject(Refusal::kNotFound, "not_found", "the customer does not hold this qualification");
  }
  Acceptance a;
  auto d = Draft(ctx, "customer/" + c.customer, cu->version + 1);
  schema::QualificationRevokedT e;
  e.customer_id = c.customer;
  e.qualification = c.qualification;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"customer", c.customer}, {"qualification", c.qualification}, {"revoked", true}};
  return a;
}

Decision DecideErasePerson(const TenantModel& m, const Context& ctx, const ErasePerson& c) {
  auto p = m.persons().find(c.person);
  if (p == m.persons().end()) return Reject(Refusal::kNotFound, "not_found", "no such person");
  if (p->second) return Reject(Refusal::kConflict, "already_erased", "this person's data is already erased");
  if (c.reason.size() > 1000) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "reason must have at most 1000 bytes");
  }
  Acceptance a;
  auto d = Draft(ctx, "person/" + c.person, 1);
  schema::PersonErasedT e;
  e.person_id = c.person;
  e.reason = c.reason;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"person", c.person}, {"erased", true}};
  // An invoice naming the person's recipient data is a record that must be
  // kept for 8 years from the end of its year (§ 147 (3) AO, § 14b (1) UStG,
  // as of 2025); GDPR Art. 17 (3) (b) lets that data stay. The HTTP layer
  // deletes the recipient key at once when no invoice names it.
  if (auto named = m.books().RecipientNamedAt("r_" + c.person)) {
    a.reply["invoice_recipient_kept_until"] = std::to_string(LocalYear(*named, m.zone()) + 8) + "-12-31";
  }
  return a;
}

}  // namespace saalbuch::commands::detail
