// The catalog: resources and their rules, availability and busy feeds, course sessions, add-ons.
#include <spdlog/spdlog.h>

#include "http/edge.h"
#include "http/ical_view.h"

namespace saalbuch::http {

using beast_http::status;
using beast_http::verb;
using nlohmann::json;

std::vector<Route> CatalogRoutes() {
  constexpr unsigned kKeys = kStaff | kAdmin;
  return {
      {verb::get, "/v1/tenants/{tenant}/resources", kPublic, "resources", &Edge::ListResources},
      {verb::post, "/v1/tenants/{tenant}/resources", kAdmin, "resources", &Edge::CreateResource},
      {verb::get, "/v1/tenants/{tenant}/resources/{resource}", kPublic, "resource", &Edge::GetResource},
      {verb::put, "/v1/tenants/{tenant}/resources/{resource}/rules", kAdmin, "rules", &Edge::SetRules},
      {verb::get, "/v1/tenants/{tenant}/resources/{resource}/availability", kPublic, "availability",
       &Edge::Availability},
      {verb::get, "/v1/tenants/{tenant}/resources/{resource}/busy.ics", kPublic, "busy_ics", &Edge::BusyFeed},
      {verb::post, "/v1/tenants/{tenant}/resources/{resource}/sessions", kKeys, "sessions",
       &Edge::ScheduleSession},
      {verb::get, "/v1/tenants/{tenant}/addons", kPublic, "addons", &Edge::ListAddons},
      {verb::put, "/v1/tenants/{tenant}/addons/{addon}", kAdmin, "addon", &Edge::SetAddon},
  };
}

void Edge::ListResources(const CallPtr& c) {
  const TenantId& t = c->tenant;
  std::size_t limit = 0;
  if (!Limit(c, &limit)) return;
  const std::string cursor = c->Param("cursor");
  Query(c, t, [this, c, t, limit, cursor] {
    Seq p = runner.Position(t);
    auto res = projections::QueryResources(runner.view(), t, limit, cursor);
    if (!res.ok() && res.status().code() == StatusCode::kInvalidArgument) {
      return Problem(c, status::bad_request, "invalid_query", res.status().message());
    }
    SendQuery(c, p, res, true);
  });
}

void Edge::CreateResource(const CallPtr& c) {
  const TenantId& t = c->tenant;
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body,
            {"id", "kind", "name", "description", "rules", "capacity", "parent", "requires_qualification"});
  commands::CreateResource cmd;
  cmd.id = ResourceId(d.Str("id", false, 64));
  cmd.kind = d.Str("kind", false, 16, "room");
  cmd.name = d.Str("name", true, 200);
  cmd.description = d.Text("description", false, 4000);
  cmd.capacity = static_cast<std::uint32_t>(d.Int("capacity", 1, 100000, 1));
  cmd.parent = ResourceId(d.Str("parent", false, 64));
  cmd.requires_qualification = d.Str("requires_qualification", false, 64);
  if (body->contains("rules")) cmd.rules = DecodeRules(d, (*body)["rules"], "rules.");
  if (Invalid(c, d)) return;
  if (cmd.id.get().empty()) cmd.id = ResourceId("r-" + RandomHex(5));
  Submit(c, Ctx(c, t, c->caller.Actor()), std::move(cmd), "/v1/tenants/" + t.get() + "/resources/");
}

void Edge::GetResource(const CallPtr& c) {
  const TenantId& t = c->tenant;
  const std::string& r = c->params[0];
  Query(c, t, [this, c, t, r] {
    Seq p = runner.Position(t);
    SendQuery(c, p, projections::QueryResource(runner.view(), t, ResourceId(r)), true);
  });
}

void Edge::SetRules(const CallPtr& c) {
  const TenantId& t = c->tenant;
  const std::string& r = c->params[0];
  bool bad = false;
  auto if_match = IfMatch(c, &bad);
  if (bad) return;
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body, {});
  commands::SetRules cmd;
  cmd.id = ResourceId(r);
  cmd.rules = DecodeRules(d, *body, "");
  cmd.if_match = if_match;
  if (Invalid(c, d)) return;
  Submit(c, Ctx(c, t, c->caller.Actor()), std::move(cmd));
}

void Edge::Availability(const CallPtr& c) {
  const TenantId& t = c->tenant;
  const std::string& r = c->params[0];
  FunnelStep(c, Call::FunnelStep::kView, r);
  TimeRange w;
  if (!Window(c, &w)) return;
  // The hot read model is in memory: answered on this I/O thread.
  QueryInMemory(c, t, [this, c, t, r, w] {
    Seq p = runner.Position(t);
    auto res = projections::QueryAvailability(runner.availability(), t, ResourceId(r), w);
    if (!res.ok() && res.status().code() == StatusCode::kInvalidArgument) {
      return Problem(c, status::bad_request, "invalid_query", res.status().message());
    }
    SendQuery(c, p, res, true);
  });
}

// Public busy feed: live bookings as "busy" events, no personal data.
// Window: ?from=&to= (at most 400 days), default 31 days back to 365 ahead.
void Edge::BusyFeed(const CallPtr& c) {
  const TenantId& t = c->tenant;
  const std::string& r = c->params[0];
  constexpr TimeUs kDay = 24LL * 3600 * kUsPerSecond;
  TimeRange w{Now() - 31 * kDay, Now() + 365 * kDay};
  if (c->target.query.count("from") != 0 || c->target.query.count("to") != 0) {
    if (!Window(c, &w)) return;
    if (w.end - w.start > 400 * kDay) {
      return Problem(c, status::bad_request, "invalid_query", "the window may span at most 400 days");
    }
  }
  Query(c, t, [this, c, t, r, w] {
    Seq p = runner.Position(t);
    auto res = projections::QueryResource(runner.view(), t, ResourceId(r));
    if (!res.ok()) return FromStatus(c, res.status());
    auto busy = projections::QueryBusy(runner.availability(), t, ResourceId(r), w);
    if (!busy.ok()) return FromStatus(c, busy.status());
    SendIcs(c, p, BusyFeedIcs(t, res->value("name", r), *busy, Now()), r + "-busy.ics");
  });
}

void Edge::ScheduleSession(const CallPtr& c) {
  const std::string& r = c->params[0];
  KeyCommand(c, {"id", "start", "end", "seats", "title"}, false, [&](Decoder& d, auto) {
    commands::ScheduleSession cmd;
    cmd.resource = ResourceId(r);
    cmd.session_id = d.Str("id", false, 64);
    if (cmd.session_id.empty()) cmd.session_id = "s-" + RandomHex(5);
    cmd.range = {d.Time("start", true), d.Time("end", true)};
    cmd.seats = static_cast<std::uint32_t>(d.Int("seats", 1, 100000, 0));
    cmd.title = d.Str("title", false, 200);
    return commands::Command(std::move(cmd));
  });
}

void Edge::SetAddon(const CallPtr& c) {
  const std::string& id = c->params[0];
  KeyCommand(c, {"name", "stock", "offers"}, false, [&](Decoder& d, auto if_match) {
    commands::SetAddon cmd;
    cmd.id = id;
    cmd.if_match = if_match;
    cmd.name = d.Str("name", true, 200);
    cmd.stock = static_cast<std::uint32_t>(d.Int("stock", 0, 1000000, 0));
    const json offers = d.Array("offers", 1000);
    for (std::size_t i = 0; i < offers.size(); ++i) {
      Decoder o = d.Nested(offers[i], {"resource", "mandatory"}, "offers[" + std::to_string(i) + "].");
      cmd.offers.push_back({ResourceId(o.Str("resource", true, 64)), o.Bool("mandatory", false)});
    }
    return commands::Command(std::move(cmd));
  });
}

void Edge::ListAddons(const CallPtr& c) { CatalogList(c, 'a'); }

}  // namespace saalbuch::http
