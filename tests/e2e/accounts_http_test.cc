// People's accounts over HTTP against the real server: an invitation admits
// once, a session cookie acts in its role and no further, every change by a
// session needs its CSRF header, sign-out everywhere ends every cookie (a
// stolen one replayed afterwards is refused), wrong passwords lock the
// account for a while, and every account event is in the log with its actor.

#include <gtest/gtest.h>

#include <set>

#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

constexpr const char* kPassword = "Ein-langes-Passwort-2026";

class AccountsHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("accounts");
    server_ = std::make_unique<Server>(dir_ / "data");
    server_->Start();
    auto t = CallJson(Port(), "POST", "/v1/tenants", {{"id", "stadt"}, {"name", "Stadt"}}, kOperatorKey);
    ASSERT_EQ(t.status, 201) << t.body;
    admin_key_ = t.json()["admin_key"]["key"];
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  int Port() const { return server_->port(); }

  struct Session {
    std::string cookie;  // "sb_stadt=sbs_…"
    std::string csrf;
    std::string account;
  };

  // An admin key invites `email` with `role`; the invitee sets kPassword.
  std::string Join(const std::string& email, const std::string& role) {
    auto invited = CallJson(Port(), "POST", "/v1/tenants/stadt/accounts",
                            {{"email", email}, {"name", "Erika Muster"}, {"role", role}}, admin_key_);
    EXPECT_EQ(invited.status, 201) << invited.body;
    const std::string token = invited.json()["invite_token"];
    auto joined = CallJson(Port(), "POST", "/v1/tenants/stadt/invitations/accept",
                           {{"token", token}, {"password", kPassword}});
    EXPECT_EQ(joined.status, 200) << joined.body;
    return invited.json()["id"];
  }

  HttpResult TrySignIn(const std::string& email, const std::string& password) {
    return CallJson(Port(), "POST", "/v1/tenants/stadt/session", {{"email", email}, {"password", password}});
  }

  Session SignIn(const std::string& email) {
    auto r = TrySignIn(email, kPassword);
    EXPECT_EQ(r.status, 200) << r.body;
    const std::string set_cookie = r.header("set-cookie");
    for (const char* part : {"HttpOnly", "Secure", "SameSite=Strict", "Path=/"}) {
      EXPECT_NE(set_cookie.find(part), std::string::npos) << part << " missing in " << set_cookie;
    }
    return {set_cookie.substr(0, set_cookie.find(";")), r.json()["csrf_token"], r.json()["id"]};
  }

  // A request with the session's cookie; `csrf` as given ("" leaves it out).
  HttpResult As(const Session& s, const std::string& method, const std::string& path,
                const json& body = nullptr, const std::string& csrf = "") {
    std::map<std::string, std::string> h{{"Cookie", s.cookie}};
    if (!csrf.empty()) h["Saalbuch-CSRF"] = csrf;
    if (!body.is_null()) h["Content-Type"] = "application/json";
    return Call(Port(), method, "/v1/tenants/stadt" + path, body.is_null() ? "" : body.dump(), h);
  }

  std::int64_t Head() {
    auto r = Call(Port(), "GET", "/v1/tenants/stadt/events?limit=1", "",
                  {{"Authorization", "Bearer " + admin_key_}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json()["head"].get<std::int64_t>();
  }

  std::vector<json> Records() {
    auto r = Call(Port(), "GET", "/v1/tenants/stadt/events?limit=500", "",
                  {{"Authorization", "Bearer " + admin_key_}});
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<json> out;
    const json page = r.json();
    for (const auto& item : page["items"]) out.push_back(item["record"]);
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
  std::string admin_key_;
};

TEST_F(AccountsHttpTest, AnInvitationAdmitsOnceAndTheSessionActsInItsRoleOnly) {
  auto invited =
      CallJson(Port(), "POST", "/v1/tenants/stadt/accounts",
               {{"email", "Clerk@Stadt.example"}, {"name", "Erika Muster"}, {"role", "staff"}}, admin_key_);
  ASSERT_EQ(invited.status, 201) << invited.body;
  const std::string token = invited.json()["invite_token"];
  EXPECT_NE(invited.json()["invite_path"].get<std::string>().find(token), std::string::npos);

  // Nobody signs in before joining, and a short password does not join.
  EXPECT_EQ(TrySignIn("clerk@stadt.example", kPassword).status, 401);
  auto short_password = CallJson(Port(), "POST", "/v1/tenants/stadt/invitations/accept",
                                 {{"token", token}, {"password", "kurz"}});
  EXPECT_EQ(short_password.status, 422) << short_password.body;
  auto joined = CallJson(Port(), "POST", "/v1/tenants/stadt/invitations/accept",
                         {{"token", token}, {"password", kPassword}});
  ASSERT_EQ(joined.status, 200) << joined.body;
  auto again = CallJson(Port(), "POST", "/v1/tenants/stadt/invitations/accept",
                        {{"token", token}, {"password", kPassword}});
  EXPECT_EQ(again.status, 404) << again.body;
  EXPECT_EQ(again.json()["code"], "invitation_invalid");

  // The e-mail address signs in in any case; the session is a clerk's.
  const Session clerk = SignIn("CLERK@stadt.example");
  auto me = As(clerk, "GET", "/session");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json()["role"], "staff");
  EXPECT_EQ(me.json()["email"], "Clerk@Stadt.example");
  EXPECT_EQ(me.json()["csrf_token"], clerk.csrf);

  // A clerk may read bookings but not the accounts, and may create no resource.
  EXPECT_EQ(As(clerk, "GET", "/bookings").status, 200);
  auto accounts = As(clerk, "GET", "/accounts");
  EXPECT_EQ(accounts.status, 403) << accounts.body;
  EXPECT_EQ(accounts.json()["code"], "not_permitted");
  const std::int64_t before = Head();
  auto resource = As(clerk, "POST", "/resources", {{"id", "saal"}, {"name", "Saal"}}, clerk.csrf);
  EXPECT_EQ(resource.status, 403) << resource.body;
  EXPECT_EQ(Head(), before) << "nothing was stored";

  // The log names the account as the actor of its own joining and sign-in.
  std::set<std::string> types;
  for (const json& r : Records()) {
    const std::string type = r["payload_type"];
    if (!type.starts_with("Account")) continue;
    types.insert(type);
    if (type == "AccountPasswordSet" || type == "AccountSignedIn") {
      EXPECT_EQ(r["actor"], "account:" + clerk.account) << r.dump();
    }
    EXPECT_EQ(r.dump().find("Clerk@Stadt.example"), std::string::npos) << "the log holds no readable e-mail";
    EXPECT_EQ(r.dump().find(kPassword), std::string::npos) << "nor the password";
  }
  EXPECT_EQ(types, (std::set<std::string>{"AccountInvited", "AccountPasswordSet", "AccountSignedIn"}))
      << "signing in before joining stored nothing";
}

TEST_F(AccountsHttpTest, EveryChangeByASessionNeedsItsCsrfHeaderAndNothingIsStoredWithout) {
  Join("admin@stadt.example", "admin");
  const Session admin = SignIn("admin@stadt.example");
  const json resource = {{"id", "saal"}, {"name", "Saal"}};
  const std::int64_t before = Head();

  auto without = As(admin, "POST", "/resources", resource);
  EXPECT_EQ(without.status, 403) << without.body;
  EXPECT_EQ(without.json()["code"], "csrf_failed");
  auto wrong = As(admin, "POST", "/resources", resource, std::string(32, '0'));
  EXPECT_EQ(wrong.status, 403) << wrong.body;
  // Another session's token is no better (each session has its own).
  const Session second = SignIn("admin@stadt.example");
  ASSERT_NE(second.csrf, admin.csrf);
  auto crossed = As(admin, "POST", "/resources", resource, second.csrf);
  EXPECT_EQ(crossed.status, 403) << crossed.body;
  const std::int64_t after_sign_in = Head();
  EXPECT_EQ(after_sign_in, before + 1) << "only the second sign-in was stored";

  auto with = As(admin, "POST", "/resources", resource, admin.csrf);
  EXPECT_EQ(with.status, 201) << with.body;
  EXPECT_GT(Head(), after_sign_in);

  // Reading needs no CSRF header; a foreign cookie name is no session.
  EXPECT_EQ(As(admin, "GET", "/accounts").status, 200);
  Session foreign = admin;
  foreign.cookie = "sb_other=" + admin.cookie.substr(admin.cookie.find('=') + 1);
  EXPECT_EQ(As(foreign, "GET", "/accounts").status, 401);

  // Nobody changes their own role or disables their own account.
  auto own_role = As(admin, "POST", "/accounts/" + admin.account + "/role", {{"role", "staff"}}, admin.csrf);
  EXPECT_EQ(own_role.status, 409) << own_role.body;
  EXPECT_EQ(own_role.json()["code"], "own_account");
  auto own_disable = As(admin, "POST", "/accounts/" + admin.account + "/disable", json::object(), admin.csrf);
  EXPECT_EQ(own_disable.status, 409) << own_disable.body;
}

TEST_F(AccountsHttpTest, SignOutEverywhereEndsEveryCookieAndADisabledAccountSignsInNoMore) {
  const std::string id = Join("kasse@stadt.example", "finance");
  const Session laptop = SignIn("kasse@stadt.example");
  const Session tablet = SignIn("kasse@stadt.example");
  EXPECT_EQ(As(tablet, "GET", "/session").status, 200);

  // Finance reads the books but books no room and reads no booking list.
  EXPECT_EQ(As(tablet, "GET", "/open-items").status, 200);
  EXPECT_EQ(As(tablet, "GET", "/bookings").status, 403);
  auto booking =
      As(tablet, "POST", "/bookings",
         {{"resource", "saal"}, {"start", "2031-03-04T10:00:00Z"}, {"end", "2031-03-04T11:00:00Z"}},
         tablet.csrf);
  EXPECT_EQ(booking.status, 403) << booking.body;

  // Signing out one session leaves the other.
  auto out = As(laptop, "DELETE", "/session", nullptr, laptop.csrf);
  ASSERT_EQ(out.status, 200) << out.body;
  EXPECT_NE(out.header("set-cookie").find("Max-Age=0"), std::string::npos) << out.header("set-cookie");
  EXPECT_EQ(As(laptop, "GET", "/session").status, 401) << "a copied cookie replayed after sign-out";
  EXPECT_EQ(As(tablet, "GET", "/session").status, 200);

  // Everywhere: the tablet's cookie ends too.
  const Session phone = SignIn("kasse@stadt.example");
  auto everywhere = As(phone, "DELETE", "/session?everywhere=true", nullptr, phone.csrf);
  ASSERT_EQ(everywhere.status, 200) << everywhere.body;
  for (const Session* s : {&tablet, &phone}) {
    auto r = As(*s, "GET", "/session");
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(r.json()["code"], "session_ended");
    EXPECT_EQ(
        As(*s, "POST", "/session/password", {{"current_password", kPassword}, {"password", "x"}}, s->csrf)
            .status,
        401);
  }

  // Disabled by an admin: the sessions end and signing in fails.
  const Session again = SignIn("kasse@stadt.example");
  auto unclear = As(again, "DELETE", "/session?everywhere=maybe", nullptr, again.csrf);
  EXPECT_EQ(unclear.status, 400) << unclear.body;
  EXPECT_EQ(As(again, "GET", "/session").status, 200) << "an unclear sign-out signs nobody out";
  auto disabled =
      CallJson(Port(), "POST", "/v1/tenants/stadt/accounts/" + id + "/disable", json::object(), admin_key_);
  ASSERT_EQ(disabled.status, 200) << disabled.body;
  EXPECT_EQ(As(again, "GET", "/session").status, 401);
  auto refused = TrySignIn("kasse@stadt.example", kPassword);
  EXPECT_EQ(refused.status, 401) << refused.body;
  EXPECT_EQ(refused.json()["code"], "sign_in_failed");
}

TEST_F(AccountsHttpTest, FiveWrongPasswordsLockTheAccountAndBadInputStoresNothing) {
  Join("pruefung@stadt.example", "auditor");
  std::string wrong_detail;
  for (int i = 0; i < 5; ++i) {
    auto r = TrySignIn("pruefung@stadt.example", "falsch-falsch-falsch");
    EXPECT_EQ(r.status, 401) << i << ": " << r.body;
    EXPECT_EQ(r.json()["code"], "sign_in_failed");
    wrong_detail = r.json()["detail"];
    if (i == 4) {
      EXPECT_TRUE(r.json()["details"].contains("locked_until")) << r.body;
    }
  }
  // Locked: even the right password waits, and the reply says how long.
  auto locked = TrySignIn("pruefung@stadt.example", kPassword);
  EXPECT_EQ(locked.status, 429) << locked.body;
  EXPECT_FALSE(locked.header("retry-after").empty());
  // An unknown address is answered exactly as a wrong password.
  auto unknown = TrySignIn("niemand@stadt.example", kPassword);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.json()["code"], "sign_in_failed");
  EXPECT_EQ(unknown.json()["detail"], wrong_detail);

  const std::int64_t before = Head();
  for (const json& bad :
       {json{{"email", "keine-adresse"}, {"name", "X"}, {"role", "staff"}},
        json{{"email", "a@stadt.example"}, {"name", "X"}, {"role", "chef"}},
        json{{"email", "a@stadt.example"}, {"role", "staff"}},
        json{{"email", "a@stadt.example"}, {"name", "X"}, {"role", "staff"}, {"admin", true}},
        json{{"email", std::string(300, 'a') + "@stadt.example"}, {"name", "X"}, {"role", "staff"}}}) {
    auto r = CallJson(Port(), "POST", "/v1/tenants/stadt/accounts", bad, admin_key_);
    EXPECT_EQ(r.status, 422) << bad.dump() << ": " << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
  }
  auto invited_twice =
      CallJson(Port(), "POST", "/v1/tenants/stadt/accounts",
               {{"email", "PRUEFUNG@stadt.example"}, {"name", "X"}, {"role", "staff"}}, admin_key_);
  EXPECT_EQ(invited_twice.status, 409) << invited_twice.body;
  EXPECT_EQ(invited_twice.json()["code"], "account_exists");
  EXPECT_EQ(Head(), before) << "nothing was stored";
}

}  // namespace
}  // namespace saalbuch::e2e
