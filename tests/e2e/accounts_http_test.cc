// People's accounts over HTTP against the real server: an invitation admits
// once, a session cookie acts in its role and no further, every change by a
// session needs its CSRF header, sign-out everywhere ends every cookie (a
// stolen one replayed afterwards is refused), wrong passwords lock the
// account for a while, and every account event is in the log with its actor.

#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "common/totp.h"
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

  HttpResult TrySignIn(const std::string& email, const std::string& password, const std::string& totp = "") {
    json body = {{"email", email}, {"password", password}};
    if (!totp.empty()) body["totp"] = totp;
    return CallJson(Port(), "POST", "/v1/tenants/stadt/session", body);
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

// The code of `secret` (raw bytes) `ahead` steps after now.
std::string CodeOf(const std::string& secret, int ahead = 0) {
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  return TotpCode(secret, now.count() / kTotpStepSeconds + ahead);
}

TEST_F(AccountsHttpTest, ASecondFactorIsNeededWithThePasswordAndEachCodeSignsInOnce) {
  const std::string account = Join("kasse@stadt.example", "finance");
  Session s = SignIn("kasse@stadt.example");
  auto fresh = As(s, "POST", "/session/totp/secret", nullptr, s.csrf);
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  const std::string text = fresh.json()["secret"];
  EXPECT_NE(fresh.json()["otpauth_uri"].get<std::string>().find("secret=" + text), std::string::npos);
  const std::string secret = FromBase32(text).value();
  EXPECT_EQ(secret.size(), kTotpSecretBytes);

  // A code that is not the secret's is refused, and nothing is stored.
  const std::int64_t before = Head();
  const std::string right = CodeOf(secret);
  const std::string wrong = right == "000000" ? "111111" : "000000";
  auto refused = As(s, "PUT", "/session/totp", {{"secret", text}, {"code", wrong}}, s.csrf);
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(refused.json()["details"]["fields"][0]["field"], "code");
  EXPECT_EQ(As(s, "PUT", "/session/totp", {{"secret", "kein base32!"}, {"code", right}}, s.csrf).status, 422);
  EXPECT_EQ(Head(), before);
  auto set = As(s, "PUT", "/session/totp", {{"secret", text}, {"code", right}}, s.csrf);
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_TRUE(set.json()["totp"].get<bool>());

  // The password alone no longer signs in; nothing is recorded for that.
  const std::int64_t set_at = Head();
  auto password_only = TrySignIn("kasse@stadt.example", kPassword);
  EXPECT_EQ(password_only.status, 401) << password_only.body;
  EXPECT_EQ(password_only.json()["code"], "totp_required");
  EXPECT_TRUE(password_only.header("set-cookie").empty());
  EXPECT_EQ(Head(), set_at);
  // A wrong code counts like a wrong password.
  auto bad_code = TrySignIn("kasse@stadt.example", kPassword, wrong);
  EXPECT_EQ(bad_code.status, 401) << bad_code.body;
  EXPECT_EQ(bad_code.json()["code"], "totp_failed");
  // The right one signs in once: the same code again is refused.
  const std::string code = CodeOf(secret);
  auto with_code = TrySignIn("kasse@stadt.example", kPassword, code);
  ASSERT_EQ(with_code.status, 200) << with_code.body;
  auto replayed = TrySignIn("kasse@stadt.example", kPassword, code);
  EXPECT_EQ(replayed.status, 401) << replayed.body;
  EXPECT_EQ(replayed.json()["code"], "totp_failed");
  EXPECT_EQ(TrySignIn("kasse@stadt.example", kPassword, CodeOf(secret, 1)).status, 200)
      << "the next code does";
  // A wrong password with the right code is a wrong password.
  auto wrong_password = TrySignIn("kasse@stadt.example", "falsch-falsch-falsch", CodeOf(secret, 1));
  EXPECT_EQ(wrong_password.json()["code"], "sign_in_failed");

  auto accounts =
      Call(Port(), "GET", "/v1/tenants/stadt/accounts", "", {{"Authorization", "Bearer " + admin_key_}});
  bool listed = false;
  const json list = accounts.json();
  for (const auto& a : list["items"]) listed = listed || (a["id"] == account && a["totp"] == true);
  EXPECT_TRUE(listed) << accounts.body;
  // The log holds the sealed secret, never the secret itself.
  int totp_records = 0;
  for (const json& r : Records()) {
    if (r["payload_type"] == "AccountTotpSet") {
      ++totp_records;
      EXPECT_EQ(r["actor"], "account:" + account);
      EXPECT_EQ(r.dump().find(text), std::string::npos);
    }
  }
  EXPECT_EQ(totp_records, 1);
}

TEST_F(AccountsHttpTest, APolicyConfinesASessionWithoutSecondFactorToSettingOneUp) {
  const std::string clerk = Join("sachbearbeitung@stadt.example", "staff");
  const std::int64_t before = Head();
  for (const json& bad : {json{{"totp_required_roles", {"chef"}}}, json{{"totp_required_roles", "staff"}},
                          json::object(), json{{"totp_required_roles", {"staff"}}, {"more", 1}}}) {
    auto r = Call(Port(), "PUT", "/v1/tenants/stadt/totp-policy", bad.dump(),
                  {{"Authorization", "Bearer " + admin_key_}, {"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 422) << bad.dump() << ": " << r.body;
  }
  EXPECT_EQ(Head(), before) << "a refused policy stores nothing";
  Session s = SignIn("sachbearbeitung@stadt.example");
  auto policy = Call(Port(), "PUT", "/v1/tenants/stadt/totp-policy",
                     json{{"totp_required_roles", {"staff", "admin", "staff"}}}.dump(),
                     {{"Authorization", "Bearer " + admin_key_}, {"Content-Type", "application/json"}});
  ASSERT_EQ(policy.status, 200) << policy.body;
  EXPECT_EQ(policy.json()["totp_required_roles"], json({"admin", "staff"}));
  auto read =
      Call(Port(), "GET", "/v1/tenants/stadt/totp-policy", "", {{"Authorization", "Bearer " + admin_key_}});
  EXPECT_EQ(read.json()["totp_required_roles"], json({"admin", "staff"})) << read.body;

  // The open session now reaches only its own set-up.
  auto me = As(s, "GET", "/session");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_TRUE(me.json()["totp_setup_required"].get<bool>());
  auto bookings = As(s, "GET", "/bookings");
  EXPECT_EQ(bookings.status, 403) << bookings.body;
  EXPECT_EQ(bookings.json()["code"], "totp_setup_required");
  EXPECT_EQ(As(s, "POST", "/session/password",
               {{"current_password", kPassword}, {"password", "Ein-neues-Passwort-2027"}}, s.csrf)
                .status,
            403);
  // Signing in with the password still works, to the same confinement.
  Session again = SignIn("sachbearbeitung@stadt.example");
  EXPECT_EQ(As(again, "GET", "/bookings").status, 403);
  auto fresh = As(s, "POST", "/session/totp/secret", nullptr, s.csrf);
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  const std::string secret = FromBase32(fresh.json()["secret"].get<std::string>()).value();
  ASSERT_EQ(
      As(s, "PUT", "/session/totp", {{"secret", fresh.json()["secret"]}, {"code", CodeOf(secret)}}, s.csrf)
          .status,
      200);
  EXPECT_EQ(As(s, "GET", "/bookings").status, 200) << "set up: the role's routes again";
  EXPECT_FALSE(As(s, "GET", "/session").json()["totp_setup_required"].get<bool>());

  // Required for the role: its holder cannot remove it, an admin can reset it.
  auto remove = As(s, "POST", "/session/totp/remove", {{"code", CodeOf(secret)}}, s.csrf);
  EXPECT_EQ(remove.status, 409) << remove.body;
  EXPECT_EQ(remove.json()["code"], "totp_required");
  auto reset = Call(Port(), "POST", "/v1/tenants/stadt/accounts/" + clerk + "/totp/reset", "",
                    {{"Authorization", "Bearer " + admin_key_}});
  ASSERT_EQ(reset.status, 200) << reset.body;
  EXPECT_FALSE(reset.json()["totp"].get<bool>());
  EXPECT_EQ(As(s, "GET", "/bookings").json()["code"], "totp_setup_required") << "reset: set up a new one";
  EXPECT_EQ(TrySignIn("sachbearbeitung@stadt.example", kPassword).status, 200) << "the password alone again";

  // An admin resets others' second factors, not their own (that takes a code).
  const std::string chef = Join("chef@stadt.example", "admin");
  Session admin = SignIn("chef@stadt.example");
  auto own = As(admin, "POST", "/session/totp/secret", nullptr, admin.csrf);
  ASSERT_EQ(own.status, 200) << own.body;
  const std::string own_secret = FromBase32(own.json()["secret"].get<std::string>()).value();
  ASSERT_EQ(As(admin, "PUT", "/session/totp",
               {{"secret", own.json()["secret"]}, {"code", CodeOf(own_secret)}}, admin.csrf)
                .status,
            200);
  auto self_reset = As(admin, "POST", "/accounts/" + chef + "/totp/reset", nullptr, admin.csrf);
  EXPECT_EQ(self_reset.status, 409) << self_reset.body;
  EXPECT_EQ(self_reset.json()["code"], "own_account");
}

// The operator's own accounts: the first is invited with the operator key,
// joins and signs in like any account, and then does what the key does
// (tenants, backups, the accounts of operators) with its CSRF header. An
// operator's session is no tenant's, a tenant's session no operator's, and
// operators have the one role.
TEST_F(AccountsHttpTest, AnOperatorSignsInAndActsAsTheOperatorKeyWouldAndNoFurther) {
  const json op = {{"email", "betrieb@rechenzentrum.example"}, {"name", "Olga Betrieb"}, {"role", "admin"}};
  EXPECT_EQ(CallJson(Port(), "POST", "/v1/operator/accounts", op).status, 401) << "not without the key";
  EXPECT_EQ(CallJson(Port(), "POST", "/v1/operator/accounts", op, admin_key_).status, 401)
      << "nor with a tenant's key";
  json staff = op;
  staff["role"] = "staff";
  auto wrong_role = CallJson(Port(), "POST", "/v1/operator/accounts", staff, kOperatorKey);
  EXPECT_EQ(wrong_role.status, 422) << wrong_role.body;
  auto invited = CallJson(Port(), "POST", "/v1/operator/accounts", op, kOperatorKey);
  ASSERT_EQ(invited.status, 201) << invited.body;
  EXPECT_TRUE(invited.json()["invite_path"].get<std::string>().starts_with("/betrieb/join#token="))
      << invited.body;
  auto joined = CallJson(Port(), "POST", "/v1/operator/invitations/accept",
                         {{"token", invited.json()["invite_token"]}, {"password", kPassword}});
  ASSERT_EQ(joined.status, 200) << joined.body;

  // The tenant's sign-in does not know the operator; the operator's does.
  EXPECT_EQ(TrySignIn(op["email"], kPassword).status, 401);
  auto signed_in =
      CallJson(Port(), "POST", "/v1/operator/session", {{"email", op["email"]}, {"password", kPassword}});
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  const std::string set_cookie = signed_in.header("set-cookie");
  ASSERT_TRUE(set_cookie.starts_with("sb__operator=sbs_")) << set_cookie;
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  const std::string csrf = signed_in.json()["csrf_token"];
  auto as_operator = [&](const std::string& method, const std::string& path, const json& body,
                         bool with_csrf) {
    std::map<std::string, std::string> h{{"Cookie", cookie}, {"Content-Type", "application/json"}};
    if (with_csrf) h["Saalbuch-CSRF"] = csrf;
    return Call(Port(), method, path, body.is_null() ? "" : body.dump(), h);
  };
  auto me = as_operator("GET", "/v1/operator/session", nullptr, false);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json()["email"], op["email"]);

  // The tenants and their state, the operator's own log not among them.
  auto tenants = as_operator("GET", "/v1/operator/tenants", nullptr, false);
  ASSERT_EQ(tenants.status, 200) << tenants.body;
  ASSERT_EQ(tenants.json()["items"].size(), 1U) << tenants.body;
  const json stadt = tenants.json()["items"][0];
  EXPECT_EQ(stadt["id"], "stadt");
  EXPECT_EQ(stadt["name"], "Stadt");
  EXPECT_GT(stadt["head"].get<int>(), 0);
  EXPECT_TRUE(stadt["hold"].is_null());
  EXPECT_FALSE(tenants.json()["server"]["backups"].get<bool>());

  // A change needs the CSRF header; without, nothing is created.
  const json dorf = {{"id", "dorf"}, {"name", "Dorf"}};
  auto no_csrf = as_operator("POST", "/v1/tenants", dorf, false);
  EXPECT_EQ(no_csrf.status, 403) << no_csrf.body;
  EXPECT_EQ(no_csrf.json()["code"], "csrf_failed");
  EXPECT_EQ(Call(Port(), "GET", "/v1/tenants/dorf").status, 404) << "nothing was created";
  auto created = as_operator("POST", "/v1/tenants", dorf, true);
  ASSERT_EQ(created.status, 201) << created.body;
  auto events = Call(Port(), "GET", "/v1/tenants/dorf/events?limit=10", "",
                     {{"Authorization", "Bearer " + created.json()["admin_key"]["key"].get<std::string>()}});
  ASSERT_EQ(events.status, 200) << events.body;
  EXPECT_EQ(events.json()["items"][0]["record"]["actor"],
            "operator:" + signed_in.json()["id"].get<std::string>())
      << "the tenant's log names the operator who created it";

  // An operator's session is no tenant's credential, a tenant admin's
  // session no operator's, and the operator's log is no tenant's.
  EXPECT_EQ(Call(Port(), "GET", "/v1/tenants/stadt/accounts", "", {{"Cookie", cookie}}).status, 401);
  Join("admin@stadt.example", "admin");
  const Session admin = SignIn("admin@stadt.example");
  EXPECT_EQ(Call(Port(), "GET", "/v1/operator/tenants", "", {{"Cookie", admin.cookie}}).status, 401);
  EXPECT_EQ(Call(Port(), "GET", "/v1/tenants/_operator", "").status, 404);
  auto reserved = CallJson(Port(), "POST", "/v1/tenants", {{"id", "_operator"}, {"name", "X"}}, kOperatorKey);
  EXPECT_EQ(reserved.status, 422) << reserved.body;

  // The operator invites the next operator and sees both; nobody disables
  // their own account.
  auto second =
      as_operator("POST", "/v1/operator/accounts",
                  {{"email", "zwei@rechenzentrum.example"}, {"name", "Zweite"}, {"role", "admin"}}, true);
  ASSERT_EQ(second.status, 201) << second.body;
  auto accounts = as_operator("GET", "/v1/operator/accounts", nullptr, false);
  ASSERT_EQ(accounts.status, 200) << accounts.body;
  EXPECT_EQ(accounts.json()["items"].size(), 2U);
  auto self =
      as_operator("POST", "/v1/operator/accounts/" + signed_in.json()["id"].get<std::string>() + "/disable",
                  json::object(), true);
  EXPECT_EQ(self.status, 409) << self.body;

  // Signing out ends the operator's session.
  EXPECT_EQ(as_operator("DELETE", "/v1/operator/session", nullptr, true).status, 200);
  EXPECT_EQ(as_operator("GET", "/v1/operator/tenants", nullptr, false).status, 401);
}

}  // namespace
}  // namespace saalbuch::e2e
