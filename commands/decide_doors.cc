// Door access: which door a resource has, the tenant's margins, and what
// the lock provider did (integrations/doors.h records it). What a booking
// needs — a code for its window, or none — the doors projection derives
// from the log; nothing here decides it.
#include "commands/decide_internal.h"

namespace saalbuch::commands::detail {

namespace {

// A lock provider's id of a lock: letters, digits and . _ : - only.
bool AccessPointOk(const std::string& s) {
  if (s.empty() || s.size() > kMaxAccessPoint) return false;
  for (const char ch : s) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    ch == '.' || ch == '_' || ch == ':' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

Rejection Invalid(const char* field, const char* problem) {
  return Reject(Refusal::kUnprocessable, "validation_failed", std::string(field) + ": " + problem,
                {{"fields", nlohmann::json::array({{{"field", field}, {"problem", problem}}})}});
}

}  // namespace

Decision DecideSetDoor(const TenantModel& m, const Context& ctx, const SetDoor& c) {
  if (m.FindResource(c.resource) == nullptr) {
    return Reject(Refusal::kNotFound, "not_found", "no such resource", {{"resource", c.resource.get()}});
  }
  if (c.access_point && !AccessPointOk(*c.access_point)) {
    return Invalid("access_point", "1 to 100 letters, digits, '.', '_', ':' or '-', or null");
  }
  schema::DoorLinkedT e;
  e.resource_id = c.resource.get();
  e.access_point = c.access_point.value_or("");
  Acceptance a;
  auto d = Draft(ctx, "resource/" + c.resource.get() + "/door", m.position() + 1);
  d.payload.Set(e);
  a.events.push_back(std::move(d));
  a.reply = {{"resource", c.resource.get()},
             {"access_point", c.access_point ? nlohmann::json(*c.access_point) : nlohmann::json(nullptr)}};
  return a;
}

Decision DecideSetDoorSettings(const TenantModel& m, const Context& ctx, const SetDoorSettings& c) {
  if (c.before < 0 || c.before > kMaxDoorMargin) return Invalid("before_minutes", "between 0 and 1440");
  if (c.after < 0 || c.after > kMaxDoorMargin) return Invalid("after_minutes", "between 0 and 1440");
  if (c.reveal < 0 || c.reveal > kMaxDoorReveal) return Invalid("reveal_minutes", "between 0 and 43200");
  schema::DoorSettingsSetT e;
  e.before_min = static_cast<std::uint32_t>(c.before);
  e.after_min = static_cast<std::uint32_t>(c.after);
  e.reveal_min = static_cast<std::uint32_t>(c.reveal);
  Acceptance a;
  auto d = Draft(ctx, "tenant/doors", m.position() + 1);
  d.payload.Set(e);
  a.events.push_back(std::move(d));
  a.reply = {{"before_minutes", c.before}, {"after_minutes", c.after}, {"reveal_minutes", c.reveal}};
  return a;
}

Decision DecideRecordDoor(const TenantModel& m, const Context& ctx, const RecordDoor& c) {
  if (m.FindBooking(c.booking) == nullptr) {
    return Reject(Refusal::kNotFound, "not_found", "no such booking", {{"booking", c.booking.get()}});
  }
  Acceptance a;
  auto d = Draft(ctx, "booking/" + c.booking.get() + "/door", m.position() + 1);
  switch (c.outcome) {
    case RecordDoor::Outcome::kIssued: {
      if (!AccessPointOk(c.access_point) || c.to <= c.from || c.sealed_code.empty() || c.person.empty()) {
        return Reject(Refusal::kUnprocessable, "validation_failed",
                      "an issued code needs a door and a window");
      }
      schema::DoorCodeIssuedT e;
      e.booking_id = c.booking.get();
      e.access_point = c.access_point;
      e.valid_from_us = c.from;
      e.valid_to_us = c.to;
      e.grant_id = c.grant.substr(0, 200);
      e.person_id = c.person;
      e.code.assign(c.sealed_code.begin(), c.sealed_code.end());
      d.payload.Set(std::move(e));
      break;
    }
    case RecordDoor::Outcome::kRevoked: {
      schema::DoorCodeRevokedT e;
      e.booking_id = c.booking.get();
      e.grant_id = c.grant.substr(0, 200);
      d.payload.Set(std::move(e));
      break;
    }
    case RecordDoor::Outcome::kFailed: {
      if (c.operation != "issue" && c.operation != "revoke") {
        return Reject(Refusal::kUnprocessable, "validation_failed", "operation is issue or revoke");
      }
      schema::DoorCodeFailedT e;
      e.booking_id = c.booking.get();
      e.operation = c.operation;
      e.reason = c.reason.substr(0, 500);
      e.refused = c.refused;
      d.payload.Set(std::move(e));
      break;
    }
  }
  a.events.push_back(std::move(d));
  a.reply = {{"booking", c.booking.get()}};
  return a;
}

}  // namespace saalbuch::commands::detail
