// One tenant: its public profile, settings, holidays and API keys.
#include <spdlog/spdlog.h>

#include "http/edge.h"

namespace saalbuch::http {

using beast_http::verb;
using nlohmann::json;

std::vector<Route> TenantRoutes() {
  return {
      {verb::get, "/v1/tenants/{tenant}", kPublic, "tenant", &Edge::GetTenant},
      {verb::put, "/v1/tenants/{tenant}/settings", kAdmin, "settings", &Edge::SetSettings},
      {verb::put, "/v1/tenants/{tenant}/public-settings", kAdmin, "public_settings",
       &Edge::SetPublicSettings},
      {verb::put, "/v1/tenants/{tenant}/holidays", kAdmin, "holidays", &Edge::SetHolidays},
      {verb::post, "/v1/tenants/{tenant}/keys", kAdmin, "keys", &Edge::CreateKey},
      {verb::get, "/v1/tenants/{tenant}/keys", kAdmin, "keys", &Edge::ListKeys},
      {verb::post, "/v1/tenants/{tenant}/keys/{key}/revoke", kAdmin, "key_revoke", &Edge::RevokeKey},
      {verb::post, "/v1/tenants/{tenant}/keys/{key}/rotate", kAdmin, "key_rotate", &Edge::RotateKey},
  };
}

void Edge::GetTenant(const CallPtr& c) {
  const TenantId& t = c->tenant;
  Query(c, t, [this, c, t] {
    Seq p = runner.Position(t);
    SendQuery(c, p, projections::QueryTenant(runner.view(), t), true);
  });
}

void Edge::SetSettings(const CallPtr& c) {
  KeyCommand(c, {"hold_seconds"}, false, [&](Decoder& d, auto) {
    commands::SetSettings cmd;
    cmd.hold = d.Int("hold_seconds", 1, 30LL * 24 * 3600, 0) * kUsPerSecond;
    if (cmd.hold == 0) d.Error("hold_seconds", "required");
    return commands::Command(cmd);
  });
}

// Types and bounds here; the rules of origins, URLs and colour, and the
// canonical forms, are Decide's (commands/decide_public.cc).
void Edge::SetPublicSettings(const CallPtr& c) {
  KeyCommand(
      c,
      {"allowed_origins", "display_name", "logo_url", "accent_color", "privacy_url", "terms_url", "consent"},
      false, [&](Decoder& d, auto) {
        commands::SetPublicSettings cmd;
        commands::PublicSettings& s = cmd.settings;
        const json origins = d.Array("allowed_origins", commands::kMaxPublicOrigins);
        for (std::size_t i = 0; i < origins.size(); ++i) {
          if (origins[i].is_string()) {
            s.allowed_origins.push_back(origins[i].get<std::string>());
          } else {
            d.Error("allowed_origins[" + std::to_string(i) + "]", "must be a string");
          }
        }
        // One line, but Decide refuses line breaks (ValidText) beside the
        // other fields' problems, so that one reply names every bad field.
        s.display_name = d.Text("display_name", false, commands::kMaxDisplayNameBytes);
        s.logo_url = d.Str("logo_url", false, commands::kMaxPublicUrlBytes);
        s.accent_color = d.Str("accent_color", false, 64);
        s.privacy_url = d.Str("privacy_url", false, commands::kMaxPublicUrlBytes);
        s.terms_url = d.Str("terms_url", false, commands::kMaxPublicUrlBytes);
        const json& body = d.object();
        if (auto it = body.find("consent"); it != body.end() && !it->is_null()) {
          Decoder consent = d.Nested(*it, {"de", "en"}, "consent.");
          s.consent_de = consent.Text("de", false, commands::kMaxConsentBytes);
          s.consent_en = consent.Text("en", false, commands::kMaxConsentBytes);
        }
        return commands::Command(std::move(cmd));
      });
}

void Edge::SetHolidays(const CallPtr& c) {
  const TenantId& t = c->tenant;
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body, {});
  commands::SetHolidays cmd;
  cmd.holidays = DecodeHolidays(d, *body);
  if (Invalid(c, d)) return;
  Submit(c, Ctx(c, t, c->caller.Actor()), std::move(cmd));
}

void Edge::CreateKey(const CallPtr& c) {
  const TenantId& t = c->tenant;
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body, {"role", "label"});
  commands::CreateApiKey cmd;
  cmd.role = d.Str("role", true, 16);
  cmd.label = d.Str("label", false, 200);
  if (Invalid(c, d)) return;
  cmd.key_id = "key_" + RandomHex(6);
  cmd.key = "sbk_" + RandomHex(24);
  Submit(c, Ctx(c, t, c->caller.Actor()), std::move(cmd));
}

// The keys from the catalog projection (never a secret: the log has none),
// with when each last let a request in since the server started.
void Edge::ListKeys(const CallPtr& c) {
  const TenantId& t = c->tenant;
  Query(c, t, [this, c, t] {
    Seq p = runner.Position(t);
    auto list = projections::QueryList(runner.view(), t, 'y');
    if (!list.ok()) return FromStatus(c, list.status());
    const auto used = bus.KeysLastUsed(t);
    // By the bus's clock, so that the status is what Authenticate does.
    const TimeUs now = bus.Now();
    json items = json::array();
    for (auto& key : *list) {
      const auto u = used.find(key.value("id", ""));
      key["last_used"] = u == used.end() ? json(nullptr) : json(FormatUtc(u->second));
      bool expired = false;
      if (key["expires"].is_string()) {
        const auto expires = ParseRfc3339(key["expires"].get<std::string>());
        expired = expires.ok() && *expires <= now;
      }
      key["status"] = !key["revoked"].is_null()  ? "revoked"
                      : expired                  ? "expired"
                      : key["expires"].is_null() ? "active"
                                                 : "retiring";
      items.push_back(std::move(key));
    }
    SendQuery(c, p, json{{"items", std::move(items)}}, false);
  });
}

void Edge::RevokeKey(const CallPtr& c) {
  const std::string id = c->params.at(0);
  KeyCommand(c, {}, true, [&](Decoder&, auto) { return commands::Command(commands::RevokeApiKey{id}); });
}

void Edge::RotateKey(const CallPtr& c) {
  const std::string id = c->params.at(0);
  KeyCommand(c, {"grace_seconds"}, true, [&](Decoder& d, auto) {
    commands::RotateApiKey cmd;
    cmd.key_id = id;
    constexpr std::int64_t kMax = commands::RotateApiKey::kMaxKeyGrace / kUsPerSecond;
    constexpr std::int64_t kDefault = std::int64_t{24} * 3600;  // a day
    cmd.grace = d.Int("grace_seconds", 0, kMax, kDefault) * kUsPerSecond;
    cmd.new_key_id = "key_" + RandomHex(6);
    cmd.new_key = "sbk_" + RandomHex(24);
    return commands::Command(std::move(cmd));
  });
}

}  // namespace saalbuch::http
