// The tenant's public side over real HTTP: its settings (PUT
// …/public-settings, shown as `public` by GET /v1/tenants/{tenant}), CORS
// by those settings on every reply under the tenant — errors, 429 and the
// server's own 413/431 included — and the cancellation quote of the manage
// page, which must say what the cancel then does.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/time.h"
#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

constexpr const char* kListed = "https://www.musterstadt.de";
constexpr const char* kOwn = "http://saalbuch.example:8080";  // --public-url

// `days` from now at the full hour, RFC 3339 UTC.
std::string OnTheHourAhead(int days, int hours = 0) {
  const auto t = std::chrono::system_clock::now() + std::chrono::hours(24 * days + hours);
  TimeUs us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  us -= us % (3600 * kUsPerSecond);
  return FormatUtc(us);
}

class PublicSideTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("public-side");
    server_ = std::make_unique<Server>(dir_ / "data",
                                       std::vector<std::string>{"--public-url", std::string(kOwn) + "/"});
    server_->Start();
    for (const char* t : {"stadt", "dorf"}) {
      auto r = CallJson(Port(), "POST", "/v1/tenants", {{"id", t}, {"name", t}}, kOperatorKey);
      ASSERT_EQ(r.status, 201) << r.body;
      admin_[t] = r.json()["admin_key"]["key"];
    }
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  int Port() const { return server_->port(); }

  HttpResult Put(const std::string& tenant, const json& body) {
    return CallJson(Port(), "PUT", "/v1/tenants/" + tenant + "/public-settings", body, admin_[tenant]);
  }
  HttpResult Get(const std::string& target, std::map<std::string, std::string> headers = {}) {
    return Call(Port(), "GET", target, "", headers);
  }
  std::uint64_t Head(const std::string& tenant) {
    auto r =
        Get("/v1/tenants/" + tenant + "/events?limit=1", {{"Authorization", "Bearer " + admin_[tenant]}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json()["head"].get<std::uint64_t>();
  }
  // The fields a 422 names.
  static std::vector<std::string> Fields(const HttpResult& r) {
    std::vector<std::string> out;
    const json j = r.json();
    for (const auto& f : j["details"]["fields"]) out.push_back(f["field"]);
    return out;
  }
  void ListOrigins(const std::string& tenant) {
    auto r = Put(tenant, {{"allowed_origins", {kListed, "https://buergerhaus.musterstadt.de"}}});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
  std::map<std::string, std::string> admin_;
};

TEST_F(PublicSideTest, SettingsRoundTripThroughTheTenantDocument) {
  auto before = Get("/v1/tenants/stadt");
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_EQ(before.json()["public"]["version"], 0);
  EXPECT_EQ(before.json()["public"]["allowed_origins"], json::array());
  EXPECT_TRUE(before.json()["public"]["display_name"].is_null());

  const json settings = {{"allowed_origins", {"HTTPS://WWW.Musterstadt.de:443", "http://localhost:8081"}},
                         {"display_name", "Bürgerhaus Musterstadt"},
                         {"logo_url", "https://www.musterstadt.de/logo.svg"},
                         {"accent_color", "#005CA9"},
                         {"privacy_url", "https://www.musterstadt.de/datenschutz"},
                         {"terms_url", "https://www.musterstadt.de/benutzungsordnung"},
                         {"consent",
                          {{"de", "Ich habe die Datenschutzerklärung gelesen.\nIch bin einverstanden."},
                           {"en", "I have read the privacy notice."}}}};
  auto put = Put("stadt", settings);
  ASSERT_EQ(put.status, 200) << put.body;
  json reply = put.json();
  EXPECT_EQ(reply["allowed_origins"], json::array({kListed, "http://localhost:8081"}));
  EXPECT_EQ(reply["accent_color"], "#005ca9");
  EXPECT_EQ(reply["version"], 1);
  const std::string position = put.header("saalbuch-position");
  EXPECT_EQ(reply["position"].get<std::uint64_t>(), std::stoull(position));

  auto after = Get("/v1/tenants/stadt?min_position=" + position);
  ASSERT_EQ(after.status, 200) << after.body;
  reply.erase("position");
  EXPECT_EQ(after.json()["public"], reply);
  EXPECT_EQ(after.json()["name"], "stadt");

  // The other tenant is untouched.
  EXPECT_EQ(Get("/v1/tenants/dorf").json()["public"]["version"], 0);
  // Admin only.
  auto anon = Call(Port(), "PUT", "/v1/tenants/stadt/public-settings", settings.dump(),
                   {{"Content-Type", "application/json"}});
  EXPECT_EQ(anon.status, 401);
}

TEST_F(PublicSideTest, BadInputIs422WithEveryFieldAndStoresNothing) {
  ListOrigins("stadt");
  const std::uint64_t head = Head("stadt");
  auto expect_refused = [&](const json& body, const std::vector<std::string>& fields) {
    auto r = Put("stadt", body);
    EXPECT_EQ(r.status, 422) << body.dump() << ": " << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    EXPECT_EQ(r.json()["code"], "validation_failed");
    EXPECT_EQ(Fields(r), fields) << r.body;
  };
  expect_refused({{"accent_color", "red"}}, {"accent_color"});
  expect_refused({{"accent_color", "#12345g"}}, {"accent_color"});
  expect_refused({{"allowed_origins", {"https://www.musterstadt.de/buchen"}}}, {"allowed_origins[0]"});
  expect_refused({{"allowed_origins", {kListed, "https://www.musterstadt.de/"}}}, {"allowed_origins[1]"});
  expect_refused({{"allowed_origins", {"*"}}, {"logo_url", "javascript:alert(1)"}},
                 {"allowed_origins[0]", "logo_url"});
  expect_refused({{"allowed_origins", {1}}}, {"allowed_origins[0]"});
  expect_refused({{"consent", {{"de", std::string(4001, 'x')}}}}, {"consent.de"});
  expect_refused({{"consent", {{"fr", "oui"}}}}, {"consent.fr"});
  expect_refused({{"display_name", std::string(201, 'x')}}, {"display_name"});
  expect_refused({{"display_name", "Zeile\nZwei"}, {"privacy_url", "ftp://x.de/p"}},
                 {"display_name", "privacy_url"});
  expect_refused({{"colour", "#ffffff"}}, {"colour"});
  json many = json::array();
  for (int i = 0; i < 21; ++i) many.push_back("https://o" + std::to_string(i) + ".de");
  expect_refused({{"allowed_origins", many}}, {"allowed_origins"});
  // Nothing was stored: the log did not move, the settings are as they were.
  EXPECT_EQ(Head("stadt"), head);
  auto t = Get("/v1/tenants/stadt");
  EXPECT_EQ(t.json()["public"]["version"], 1);
  EXPECT_EQ(t.json()["public"]["allowed_origins"][0], kListed);
}

TEST_F(PublicSideTest, CorsFollowsTheTenantsOrigins) {
  ListOrigins("stadt");
  const std::string res = "/v1/tenants/stadt/resources";
  // A listed origin: allowed by name, Vary: Origin.
  auto listed = Get(res, {{"Origin", kListed}});
  EXPECT_EQ(listed.status, 200);
  EXPECT_EQ(listed.header("access-control-allow-origin"), kListed);
  EXPECT_EQ(listed.header("vary"), "Origin");
  EXPECT_NE(listed.header("access-control-expose-headers").find("Saalbuch-Position"), std::string::npos);
  // Not listed: no Access-Control-Allow-Origin at all (the browser blocks it).
  auto unlisted = Get(res, {{"Origin", "https://evil.example"}});
  EXPECT_EQ(unlisted.status, 200);
  EXPECT_EQ(unlisted.header("access-control-allow-origin"), "");
  EXPECT_EQ(unlisted.header("vary"), "Origin");
  // Exact origins only: another scheme or port is another origin.
  EXPECT_EQ(Get(res, {{"Origin", "http://www.musterstadt.de"}}).header("access-control-allow-origin"), "");
  EXPECT_EQ(Get(res, {{"Origin", "https://www.musterstadt.de:8443"}}).header("access-control-allow-origin"),
            "");
  // The server's own origin (--public-url) is always allowed.
  EXPECT_EQ(Get(res, {{"Origin", kOwn}}).header("access-control-allow-origin"), kOwn);
  // No Origin: nothing to allow, but the answer still depends on it.
  auto none = Get(res);
  EXPECT_EQ(none.header("access-control-allow-origin"), "");
  EXPECT_EQ(none.header("vary"), "Origin");
  // Errors under the tenant carry the same headers: 404 of an unknown
  // resource and of an unknown route, 405, 401 of the manage page.
  EXPECT_EQ(Get(res + "/gibtsnicht", {{"Origin", kListed}}).header("access-control-allow-origin"), kListed);
  EXPECT_EQ(Get("/v1/tenants/stadt/nichts", {{"Origin", kListed}}).header("access-control-allow-origin"),
            kListed);
  auto method = Call(Port(), "DELETE", res, "", {{"Origin", kListed}});
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(method.header("access-control-allow-origin"), kListed);
  auto booking = Get("/v1/tenants/stadt/bookings/bk_nichts", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(booking.status, 401);
  EXPECT_EQ(booking.header("access-control-allow-origin"), "");

  // A tenant that configured none: "*" for any origin, no Vary.
  auto open = Get("/v1/tenants/dorf/resources", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(open.header("access-control-allow-origin"), "*");
  EXPECT_EQ(open.header("vary"), "");
  // The tenant's public description stays readable from anywhere: it names
  // the origins, so a widget on an unlisted page can say why it cannot book.
  auto description = Get("/v1/tenants/stadt", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(description.header("access-control-allow-origin"), "*");
  EXPECT_EQ(description.json()["public"]["allowed_origins"][0], kListed);
  // Routes outside a tenant keep "*".
  EXPECT_EQ(
      Get("/v1/openapi.json", {{"Origin", "https://evil.example"}}).header("access-control-allow-origin"),
      "*");
  // Admin routes (keys only) send no CORS headers, as before.
  auto admin = CallJson(Port(), "PUT", "/v1/tenants/dorf/settings", {{"hold_seconds", 600}}, admin_["dorf"],
                        {{"Origin", kListed}});
  EXPECT_EQ(admin.status, 200) << admin.body;
  EXPECT_EQ(admin.header("access-control-allow-origin"), "");

  // Emptying the list opens the tenant again.
  ASSERT_EQ(Put("stadt", json::object()).status, 200);
  EXPECT_EQ(Get(res, {{"Origin", "https://evil.example"}}).header("access-control-allow-origin"), "*");
}

TEST_F(PublicSideTest, PreflightFollowsTheSameRule) {
  ListOrigins("stadt");
  auto preflight = [&](const std::string& tenant, const std::string& origin) {
    auto r = Call(Port(), "OPTIONS", "/v1/tenants/" + tenant + "/bookings", "",
                  {{"Origin", origin},
                   {"Access-Control-Request-Method", "POST"},
                   {"Access-Control-Request-Headers", "content-type"}});
    EXPECT_EQ(r.status, 204);
    EXPECT_NE(r.header("access-control-allow-methods").find("POST"), std::string::npos);
    return r;
  };
  auto listed = preflight("stadt", kListed);
  EXPECT_EQ(listed.header("access-control-allow-origin"), kListed);
  EXPECT_EQ(listed.header("vary"), "Origin");
  auto own = preflight("stadt", kOwn);
  EXPECT_EQ(own.header("access-control-allow-origin"), kOwn);
  auto unlisted = preflight("stadt", "https://evil.example");
  EXPECT_EQ(unlisted.header("access-control-allow-origin"), "");
  EXPECT_EQ(unlisted.header("vary"), "Origin");
  EXPECT_EQ(preflight("dorf", "https://evil.example").header("access-control-allow-origin"), "*");
}

TEST_F(PublicSideTest, ServersOwnEarlyErrorsCarryCors) {
  ListOrigins("stadt");
  // 413: the body limit, answered before the request reaches the API.
  const std::string big = "{\"resource\":\"" + std::string(70 * 1024, 'x') + "\"}";
  auto too_large = Call(Port(), "POST", "/v1/tenants/stadt/bookings", big,
                        {{"Content-Type", "application/json"}, {"Origin", kListed}});
  EXPECT_EQ(too_large.status, 413);
  EXPECT_EQ(too_large.header("access-control-allow-origin"), kListed);
  EXPECT_EQ(too_large.header("vary"), "Origin");
  auto too_large_open = Call(Port(), "POST", "/v1/tenants/dorf/bookings", big,
                             {{"Content-Type", "application/json"}, {"Origin", "https://evil.example"}});
  EXPECT_EQ(too_large_open.status, 413);
  EXPECT_EQ(too_large_open.header("access-control-allow-origin"), "*");
  auto unlisted = Call(Port(), "POST", "/v1/tenants/stadt/bookings", big,
                       {{"Content-Type", "application/json"}, {"Origin", "https://evil.example"}});
  EXPECT_EQ(unlisted.status, 413);
  EXPECT_EQ(unlisted.header("access-control-allow-origin"), "");
  // 431: the header fields read before the limit (Origin here) count.
  auto huge =
      Get("/v1/tenants/dorf/resources", {{"Origin", kListed}, {"X-Filler", std::string(16 * 1024, 'y')}});
  EXPECT_EQ(huge.status, 431);
  EXPECT_EQ(huge.header("access-control-allow-origin"), "*");
  EXPECT_EQ(Call(Port(), "GET", "/healthz").status, 200);
}

TEST_F(PublicSideTest, QuoteSaysWhatTheCancelThenDoes) {
  const std::string t = "/v1/tenants/stadt";
  const std::string admin = admin_["stadt"];
  auto must = [&](const std::string& method, const std::string& path, const json& body) {
    auto r = CallJson(Port(), method, t + path, body, admin);
    EXPECT_TRUE(r.status == 200 || r.status == 201) << method << " " << path << ": " << r.body;
    return r.json();
  };
  must("POST", "/resources", {{"id", "saal"}, {"name", "Saal"}});
  must("POST", "/resources", {{"id", "raum"}, {"name", "Raum"}});
  must(
      "PUT", "/finance/settings",
      {{"cancellation_tiers",
        {{{"min_notice_hours", 336}, {"fee_percent", 0}}, {{"min_notice_hours", 72}, {"fee_percent", 50}}}}});
  must("PUT", "/tariffs/saal-stunde",
       {{"target", "resource/saal"},
        {"unit", "hour"},
        {"price", {{"amount", 6000}, {"currency", "EUR"}}},
        {"gross", true},
        {"tax_rate_percent", 19}});
  const std::string finance = must("POST", "/keys", {{"role", "finance"}})["key"];

  // Staff bookings of the priced room, one per tier; the first paid by bank
  // transfer, so that its cancel refunds.
  struct Case {
    int days;
    double percent;
    std::int64_t fee, credited, refunded;
  };
  const Case cases[] = {{20, 0, 0, 6000, 6000}, {5, 50, 3000, 3000, 0}, {1, 100, 6000, 0, 0}};
  for (const Case& k : cases) {
    SCOPED_TRACE(k.days);
    json b =
        must("POST", "/bookings",
             {{"resource", "saal"}, {"start", OnTheHourAhead(k.days)}, {"end", OnTheHourAhead(k.days, 1)}});
    const std::string id = b["id"];
    if (k.days == 20) {
      auto paid =
          CallJson(Port(), "POST", t + "/invoices/" + b["invoice"]["id"].get<std::string>() + "/payments",
                   {{"amount", {{"amount", 6000}, {"currency", "EUR"}}},
                    {"method", "bank_transfer"},
                    {"reference", "ueberweisung-" + id}},
                   finance);
      ASSERT_EQ(paid.status, 201) << paid.body;
    }
    auto quote = Get(t + "/bookings/" + id + "/cancellation", {{"Authorization", "Bearer " + admin}});
    ASSERT_EQ(quote.status, 200) << quote.body;
    const json q = quote.json();
    const std::uint64_t head = Head("stadt");
    EXPECT_EQ(q["position"].get<std::uint64_t>(), head);  // nothing was appended
    EXPECT_EQ(q["allowed"], true);
    EXPECT_EQ(q["fee_percent"], k.percent);
    EXPECT_EQ(q["fee"]["amount"], k.fee);
    EXPECT_EQ(q["credit_note_total"]["amount"], k.credited);
    EXPECT_EQ(q["refund_total"]["amount"], k.refunded);

    json c = must("POST", "/bookings/" + id + "/cancel", json::object());
    EXPECT_EQ(c["invoice"]["fee"], q["fee"]);
    EXPECT_EQ(c["invoice"]["fee_percent"], q["fee_percent"]);
    EXPECT_EQ(c["invoice"]["number"], q["invoice"]["number"]);
    std::int64_t refunded = 0;
    for (const auto& r : c["invoice"]["refunds"]) refunded += r["amount"]["amount"].get<std::int64_t>();
    EXPECT_EQ(refunded, k.refunded);
    const std::int64_t credited = c["invoice"].contains("credit_note")
                                      ? c["invoice"]["credit_note"]["total"]["amount"].get<std::int64_t>()
                                      : 0;
    EXPECT_EQ(credited, k.credited);
  }

  // A citizen's free booking, quoted and cancelled with its manage token;
  // then the quote carries the cancel's refusal.
  auto placed =
      CallJson(Port(), "POST", t + "/bookings",
               {{"resource", "raum"}, {"start", OnTheHourAhead(10)}, {"end", OnTheHourAhead(10, 2)}});
  ASSERT_EQ(placed.status, 201) << placed.body;
  const std::string id = placed.json()["id"], token = placed.json()["manage_token"];
  const std::map<std::string, std::string> as_booker = {{"Saalbuch-Manage-Token", token},
                                                        {"Origin", "https://evil.example"}};
  auto quote = Get(t + "/bookings/" + id + "/cancellation", as_booker);
  ASSERT_EQ(quote.status, 200) << quote.body;
  EXPECT_EQ(quote.json()["allowed"], true);
  EXPECT_TRUE(quote.json()["fee"].is_null());
  EXPECT_TRUE(quote.json()["invoice"].is_null());
  EXPECT_EQ(quote.header("access-control-allow-origin"), "*");
  auto cancel = Call(Port(), "POST", t + "/bookings/" + id + "/cancel", "", as_booker);
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  auto again = Call(Port(), "POST", t + "/bookings/" + id + "/cancel", "", as_booker);
  EXPECT_EQ(again.status, 409);
  quote = Get(t + "/bookings/" + id + "/cancellation", as_booker);
  ASSERT_EQ(quote.status, 200) << quote.body;
  EXPECT_EQ(quote.json()["allowed"], false);
  EXPECT_EQ(quote.json()["status"], "cancelled");
  EXPECT_EQ(quote.json()["refusal"]["code"], again.json()["code"]);
  EXPECT_EQ(quote.json()["refusal"]["message"], again.json()["detail"]);
  // A wrong token looks like an unknown booking; an Idempotency-Key on the
  // quote stores nothing.
  EXPECT_EQ(Get(t + "/bookings/" + id + "/cancellation", {{"Saalbuch-Manage-Token", "sbm_wrong"}}).status,
            404);
  const std::uint64_t head = Head("stadt");
  EXPECT_EQ(Get(t + "/bookings/" + id + "/cancellation",
                {{"Saalbuch-Manage-Token", token}, {"Idempotency-Key", "quote-0123456789abcdef"}})
                .status,
            200);
  EXPECT_EQ(Head("stadt"), head);
}

TEST(PublicSideRateTest, RateLimitedRepliesCarryCors) {
  const auto dir = FreshDir("public-side-rate");
  {
    Server server(dir / "data", {"--rate-limit", "2"});  // burst 4
    server.Start();
    auto t =
        CallJson(server.port(), "POST", "/v1/tenants", {{"id", "stadt"}, {"name", "Stadt"}}, kOperatorKey);
    ASSERT_EQ(t.status, 201) << t.body;
    const std::string admin = t.json()["admin_key"]["key"];
    HttpResult put;
    for (int i = 0; i < 50; ++i) {  // the limiter may refuse it too
      put = CallJson(server.port(), "PUT", "/v1/tenants/stadt/public-settings",
                     {{"allowed_origins", {kListed}}}, admin);
      if (put.status != 429) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ASSERT_EQ(put.status, 200) << put.body;
    int limited = 0;
    for (int i = 0; i < 12; ++i) {
      const bool listed = i % 2 == 0;
      auto r = Call(server.port(), "GET", "/v1/tenants/stadt/resources", "",
                    {{"Origin", listed ? kListed : "https://evil.example"}});
      if (r.status != 429) continue;
      ++limited;
      EXPECT_EQ(r.json()["code"], "rate_limited");
      EXPECT_FALSE(r.header("retry-after").empty());
      EXPECT_EQ(r.header("access-control-allow-origin"), listed ? kListed : "");
      EXPECT_EQ(r.header("vary"), "Origin");
      if (listed) {
        EXPECT_NE(r.header("access-control-expose-headers").find("Retry-After"), std::string::npos);
      }
    }
    EXPECT_GE(limited, 4);
    auto open = Call(server.port(), "GET", "/v1/tenants/gibtsnicht/resources", "", {{"Origin", kListed}});
    if (open.status == 429) {
      EXPECT_EQ(open.header("access-control-allow-origin"), "*");
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace saalbuch::e2e
