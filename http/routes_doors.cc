// Door access (integrations/doors.h): which door each resource has, the
// tenant's margins, and for staff the bookings whose code is pending or
// failed. A booking's own door state, with the code, is part of the
// booking (RevealDoor).
#include "http/edge.h"

namespace saalbuch::http {

using beast_http::verb;
using nlohmann::json;

std::vector<Route> DoorRoutes() {
  constexpr unsigned kKeys = kStaff | kAdmin;
  return {
      {verb::get, "/v1/tenants/{tenant}/doors", kKeys, "doors", &Edge::ListDoors},
      {verb::get, "/v1/tenants/{tenant}/doors/settings", kKeys, "door_settings", &Edge::GetDoorSettings},
      {verb::put, "/v1/tenants/{tenant}/doors/settings", kAdmin, "door_settings", &Edge::SetDoorSettings},
      {verb::put, "/v1/tenants/{tenant}/resources/{resource}/door", kAdmin, "resource_door", &Edge::SetDoor},
  };
}

void Edge::SetDoor(const CallPtr& c) {
  const std::string resource = c->params[0];
  KeyCommand(c, {"access_point"}, false, [&](Decoder& d, auto) {
    commands::SetDoor cmd;
    cmd.resource = ResourceId(resource);
    const json& body = d.object();
    if (auto it = body.find("access_point"); it == body.end()) {
      d.Error("access_point", "required: the lock provider's id of the door, or null for none");
    } else if (!it->is_null()) {
      cmd.access_point = d.Text("access_point", true, commands::kMaxAccessPoint);
    }
    return commands::Command(cmd);
  });
}

void Edge::SetDoorSettings(const CallPtr& c) {
  KeyCommand(c, {"before_minutes", "after_minutes", "reveal_minutes"}, false, [&](Decoder& d, auto) {
    commands::SetDoorSettings cmd;
    cmd.before = static_cast<int>(d.Int("before_minutes", 0, commands::kMaxDoorMargin, 15));
    cmd.after = static_cast<int>(d.Int("after_minutes", 0, commands::kMaxDoorMargin, 15));
    cmd.reveal = static_cast<int>(d.Int("reveal_minutes", 0, commands::kMaxDoorReveal, 2880));
    return commands::Command(cmd);
  });
}

void Edge::GetDoorSettings(const CallPtr& c) {
  const TenantId& t = c->tenant;
  Query(c, t, [this, c, t] {
    const Seq p = runner.Position(t);
    auto settings = projections::QueryDoorSettings(runner.view(), t);
    if (settings.ok()) (*settings)["provider"] = options.doors;
    SendQuery(c, p, settings, false);
  });
}

// ?state=pending (default) | failed: at most 500 bookings, by id.
void Edge::ListDoors(const CallPtr& c) {
  const TenantId& t = c->tenant;
  const std::string state = c->Param("state").empty() ? "pending" : c->Param("state");
  if (state != "pending" && state != "failed") {
    return Problem(c, beast_http::status::bad_request, "invalid_query", "state must be pending or failed");
  }
  Query(c, t, [this, c, t, state] {
    const Seq p = runner.Position(t);
    SendQuery(c, p, projections::QueryDoors(runner.view(), t, state == "failed" ? 'f' : 'q', 500), false);
  });
}

void Edge::RevealDoor(json& doc, const TenantId& t, bool staff) {
  auto door = projections::QueryDoor(runner.view(), t, BookingId(doc.value("id", "")));
  if (!door.ok() || !door->has_value()) return;
  // Without a lock provider nothing is issued: a booker is not told to wait.
  if (!staff && !options.doors && (*door)->sealed_code.empty()) return;
  json view = (*door)->view;
  // The booker sees the code of a confirmed booking from `reveal` on;
  // staff always (a caller on the phone who lost the mail).
  const bool shown = staff || (doc.value("status", "") == "confirmed" && Now() >= (*door)->reveal);
  if (!(*door)->sealed_code.empty() && shown && options.vault != nullptr) {
    auto code = options.vault->Open(t, (*door)->person, (*door)->sealed_code);
    if (code.ok() && code->has_value()) view["code"] = **code;
  }
  doc["door"] = std::move(view);
}

}  // namespace saalbuch::http
