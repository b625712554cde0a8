// People's accounts for the back office: invitations, passwords, sign-in,
// sessions and sign-out (DOMAIN.md's staff, finance and auditors).
//
// The session layer: a session is a random token ("sbs_…") kept only in the
// browser's cookie `sb_<tenant>` (HttpOnly, Secure, SameSite=Strict, Path
// /); the log records its SHA-256 (AccountSignedIn). A request with the
// cookie acts in the account's role exactly as an API key of that role
// would (Edge::Authorize), and every state-changing one must also carry the
// session's CSRF token in `Saalbuch-CSRF` (derived from the session token,
// given to the page by the sign-in reply and GET …/session). An identity
// provider (OIDC) would start the same kind of session after its own
// sign-in: only SignIn below would change, not the pages or Authorize.
//
// The second factor: an account may add a TOTP secret (RFC 6238; any
// authenticator app), and an admin may require one for roles. Its holder
// then signs in with password and code; a holder whose role requires one
// and who has none gets a session that can only set it up (or end).
#include <algorithm>

#include "common/password.h"
#include "common/totp.h"
#include "http/edge.h"

namespace saalbuch::http {

using beast_http::field;
using beast_http::status;
using beast_http::verb;
using nlohmann::json;

namespace {

constexpr unsigned kAnyRole = kAdmin | kStaff | kFinance | kAuditor;
constexpr std::size_t kMinPassword = 12;
constexpr std::size_t kMaxPassword = 256;

std::string CookieName(const TenantId& t) { return "sb_" + t.get(); }

// The value of cookie `name` in the request's Cookie headers, or "".
std::string CookieValue(const Request& req, const std::string& name) {
  for (auto it = req.find(field::cookie); it != req.end() && it->name() == field::cookie; ++it) {
    std::string_view v = SV(it->value());
    while (!v.empty()) {
      const std::size_t end = std::min(v.find(';'), v.size());
      std::string_view pair = v.substr(0, end);
      v.remove_prefix(std::min(end + 1, v.size()));
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
        return std::string(pair.substr(name.size() + 1));
      }
    }
  }
  return {};
}

std::string CsrfToken(const std::string& session) {
  return ToHex(Sha256Of("saalbuch-csrf\n", session)).substr(0, 32);
}

std::string SessionHash(const std::string& token) { return std::string(AsBytes(Sha256Of(token))); }

std::string LoginHash(std::string email) {
  std::transform(email.begin(), email.end(), email.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return std::string(AsBytes(Sha256Of(email)));
}

std::string SessionCookie(const TenantId& t, const std::string& token, std::int64_t max_age_s) {
  return CookieName(t) + "=" + token + "; Path=/; Max-Age=" + std::to_string(max_age_s) +
         "; HttpOnly; Secure; SameSite=Strict";
}

bool Allows(unsigned access, commands::Role role) {
  switch (role) {
    case commands::Role::kAdmin:
      return (access & kAdmin) != 0;
    case commands::Role::kStaff:
      return (access & kStaff) != 0;
    case commands::Role::kFinance:
      return (access & kFinance) != 0;
    case commands::Role::kAuditor:
      return (access & kAuditor) != 0;
  }
  return false;
}

// A password the holder chooses: long enough to resist guessing, short
// enough to bound the hashing.
void CheckNewPassword(Decoder& d, const std::string& password) {
  if (password.size() < kMinPassword) {
    d.Error("password", "must have at least " + std::to_string(kMinPassword) + " characters");
  }
}

// RFC 3986 percent-encoding of everything but the unreserved characters
// (for the otpauth URI an authenticator app reads).
std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) != 0 || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back('%');
      out.push_back(kHex[ch >> 4]);
      out.push_back(kHex[ch & 15]);
    }
  }
  return out;
}

bool ValidEmail(const std::string& email) {
  const auto at = email.find('@');
  return at != std::string::npos && at > 0 && at + 1 < email.size() &&
         email.find_first_of(" \t\r\n<>,;\"") == std::string::npos;
}

}  // namespace

std::vector<Route> AccountRoutes() {
  return {
      {verb::get, "/v1/tenants/{tenant}/accounts", kAdmin, "accounts", &Edge::ListAccounts},
      {verb::post, "/v1/tenants/{tenant}/accounts", kAdmin, "accounts", &Edge::InviteAccount},
      {verb::post, "/v1/tenants/{tenant}/accounts/{account}/role", kAdmin, "account_role",
       &Edge::ChangeAccountRole},
      {verb::post, "/v1/tenants/{tenant}/accounts/{account}/disable", kAdmin, "account_disable",
       &Edge::DisableAccount},
      {verb::post, "/v1/tenants/{tenant}/invitations/accept", kPublic, "invitation", &Edge::AcceptInvitation},
      {verb::post, "/v1/tenants/{tenant}/session", kPublic, "session", &Edge::SignIn},
      {verb::get, "/v1/tenants/{tenant}/session", kAnyRole, "session", &Edge::GetSession},
      {verb::delete_, "/v1/tenants/{tenant}/session", kAnyRole, "session", &Edge::SignOut},
      {verb::post, "/v1/tenants/{tenant}/session/password", kAnyRole, "session_password",
       &Edge::ChangePassword},
      {verb::post, "/v1/tenants/{tenant}/session/totp/secret", kAnyRole, "session_totp_secret",
       &Edge::NewTotpSecret},
      {verb::put, "/v1/tenants/{tenant}/session/totp", kAnyRole, "session_totp", &Edge::SetTotp},
      {verb::post, "/v1/tenants/{tenant}/session/totp/remove", kAnyRole, "session_totp_remove",
       &Edge::RemoveTotp},
      {verb::post, "/v1/tenants/{tenant}/accounts/{account}/totp/reset", kAdmin, "account_totp_reset",
       &Edge::ResetTotp},
      {verb::get, "/v1/tenants/{tenant}/totp-policy", kAdmin, "totp_policy", &Edge::GetTotpPolicy},
      {verb::put, "/v1/tenants/{tenant}/totp-policy", kAdmin, "totp_policy", &Edge::SetTotpPolicy},
  };
}

// The operator's own accounts (the operator pages, /betrieb/): the same
// handlers on OperatorTenant, which the router sets for /v1/operator/…. The
// operator key or an operator's session admits; the first account is
// invited with the key.
std::vector<Route> OperatorAccountRoutes() {
  return {
      {verb::get, "/v1/operator/accounts", kOperator, "accounts", &Edge::ListAccounts},
      {verb::post, "/v1/operator/accounts", kOperator, "accounts", &Edge::InviteAccount},
      {verb::post, "/v1/operator/accounts/{account}/disable", kOperator, "account_disable",
       &Edge::DisableAccount},
      {verb::post, "/v1/operator/invitations/accept", kPublic, "invitation", &Edge::AcceptInvitation},
      {verb::post, "/v1/operator/session", kPublic, "session", &Edge::SignIn},
      {verb::get, "/v1/operator/session", kOperator, "session", &Edge::GetSession},
      {verb::delete_, "/v1/operator/session", kOperator, "session", &Edge::SignOut},
      {verb::post, "/v1/operator/session/password", kOperator, "session_password", &Edge::ChangePassword},
      {verb::post, "/v1/operator/session/totp/secret", kOperator, "session_totp_secret",
       &Edge::NewTotpSecret},
      {verb::put, "/v1/operator/session/totp", kOperator, "session_totp", &Edge::SetTotp},
      {verb::post, "/v1/operator/session/totp/remove", kOperator, "session_totp_remove", &Edge::RemoveTotp},
      {verb::post, "/v1/operator/accounts/{account}/totp/reset", kOperator, "account_totp_reset",
       &Edge::ResetTotp},
      {verb::get, "/v1/operator/totp-policy", kOperator, "totp_policy", &Edge::GetTotpPolicy},
      {verb::put, "/v1/operator/totp-policy", kOperator, "totp_policy", &Edge::SetTotpPolicy},
  };
}

int Edge::SessionCaller(const CallPtr& c, const TenantId& t, unsigned access, bool public_fallback) {
  if (t.get().empty()) return 0;
  std::string token = CookieValue(c->req, CookieName(t));
  if (token.empty()) return 0;
  const verb m = c->req.method();
  if (m != verb::get && m != verb::head) {
    auto h = c->req.find("Saalbuch-CSRF");
    if (h == c->req.end() && public_fallback) return 0;  // e.g. the citizens' widget on our own pages
    if (h == c->req.end() || !ConstantTimeEquals(SV(h->value()), CsrfToken(token))) {
      Problem(c, status::forbidden, "csrf_failed",
              "a change by a signed-in person needs the session's Saalbuch-CSRF header");
      return -1;
    }
  }
  auto dir = bus.Accounts(t);
  const std::string hash = SessionHash(token);
  const commands::Account* a = dir->Find(dir->by_session, hash);
  const bool valid =
      a != nullptr && !a->disabled && a->sessions.count(hash) != 0 && a->sessions.at(hash) > Now();
  if (!valid) {
    if (public_fallback) return 0;
    Problem(c, status::unauthorized, "session_ended", "the session has ended: sign in again");
    return -1;
  }
  if (!Allows(access, a->role)) {
    Problem(c, status::forbidden, "not_permitted",
            std::string("the role '") + commands::RoleName(a->role) + "' may not do this");
    return -1;
  }
  // A role that must sign in with a second factor, and none set up yet: the
  // session may only set it up, read itself, or end.
  if (a->totp.empty() && dir->totp_roles.count(a->role) != 0 && c->route != "session" &&
      c->route != "session_totp_secret" && c->route != "session_totp") {
    Problem(c, status::forbidden, "totp_setup_required",
            std::string("the role '") + commands::RoleName(a->role) +
                "' must sign in with a second factor: set one up first (PUT …/session/totp)");
    return -1;
  }
  c->caller.kind = Caller::Kind::kKey;
  commands::ApiKey key;
  key.id = a->id;
  key.role = a->role;
  c->caller.key = std::move(key);
  c->caller.session = std::move(token);
  return 1;
}

void Edge::ListAccounts(const CallPtr& c) {
  const TenantId t = c->tenant;
  auto dir = bus.Accounts(t);
  RunQuery(c, [this, c, t, dir] {
    json items = json::array();
    for (const auto& [id, a] : dir->accounts) {
      json item = {{"id", id},
                   {"role", commands::RoleName(a.role)},
                   {"joined", a.joined()},
                   {"disabled", a.disabled},
                   {"sessions", std::count_if(a.sessions.begin(), a.sessions.end(),
                                              [&](const auto& s) { return s.second > Now(); })}};
      if (!a.joined() && !a.disabled) item["invite_expires_at"] = FormatUtc(a.invite_expires);
      item["totp"] = !a.totp.empty();
      if (a.locked_until > Now()) item["locked_until"] = FormatUtc(a.locked_until);
      auto plain = options.vault == nullptr ? Result<std::optional<std::string>>(std::optional<std::string>())
                                            : options.vault->Open(t, a.person, a.personal);
      if (plain.ok() && plain->has_value()) {
        json p = json::parse(**plain, nullptr, false);
        if (p.is_object()) {
          item["email"] = p.value("email", "");
          item["name"] = p.value("name", "");
        }
      } else {
        item["erased"] = true;
      }
      items.push_back(std::move(item));
    }
    SendJson(c, status::ok, {{"items", items}});
  });
}

void Edge::InviteAccount(const CallPtr& c) {
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body, {"email", "name", "role"});
  const std::string email = d.Str("email", true, 254);
  const std::string name = d.Str("name", true, 200);
  auto cmd = std::make_shared<commands::InviteAccount>();
  cmd->role = d.Str("role", true, 16);
  if (!email.empty() && !ValidEmail(email)) d.Error("email", "must be one e-mail address");
  if (options.vault == nullptr) d.Error("email", "this server keeps no personal data");
  if (Invalid(c, d)) return;
  cmd->account_id = "ac_" + RandomHex(8);
  cmd->invite_token = "sbi_" + RandomHex(24);
  cmd->login_hash = LoginHash(email);
  cmd->person = "a_" + cmd->account_id;
  cmd->mailed = options.mails;
  const TenantId t = c->tenant;
  const std::string actor = c->caller.Actor();
  const std::string text = json{{"email", email}, {"name", name}, {"invite_token", cmd->invite_token}}.dump();
  // The vault writes the person's key durably: not on an I/O thread.
  RunQuery(c, [this, c, t, actor, cmd, text] {
    // The operator's own log begins with its first account.
    if (t == OperatorTenant() && !bus.TenantExists(t)) {
      commands::Submission s;
      s.ctx = Ctx(c, t, actor);
      s.command = commands::CreateTenant{t, "Betrieb", "Europe/Berlin", "", ""};
      const commands::Outcome o = bus.SubmitAndWait(std::move(s));
      if (o.kind != commands::Outcome::Kind::kCreated && !bus.TenantExists(t)) return Refused(c, o);
    }
    auto sealed = options.vault->Seal(t, cmd->person, text);
    if (!sealed.ok()) return FromStatus(c, sealed.status());
    cmd->personal = std::move(sealed).value();
    Submit(c, Ctx(c, t, actor), std::move(*cmd), "/v1/tenants/" + t.get() + "/accounts/");
  });
}

void Edge::ChangeAccountRole(const CallPtr& c) {
  KeyCommand(c, {"role"}, false, [&](Decoder& d, auto) {
    commands::ChangeAccountRole cmd;
    cmd.account_id = c->params.at(0);
    cmd.role = d.Str("role", true, 16);
    return commands::Command(cmd);
  });
}

void Edge::DisableAccount(const CallPtr& c) {
  KeyCommand(c, {}, true,
             [&](Decoder&, auto) { return commands::Command(commands::DisableAccount{c->params.at(0)}); });
}

void Edge::AcceptInvitation(const CallPtr& c) {
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body, {"token", "password"});
  const std::string token = d.Str("token", true, 100);
  const std::string password = d.Str("password", true, kMaxPassword);
  CheckNewPassword(d, password);
  if (Invalid(c, d)) return;
  auto dir = bus.Accounts(c->tenant);
  const commands::Account* a = dir->Find(dir->by_invitation, SessionHash(token));
  if (a == nullptr || a->invite_expires <= Now() || options.vault == nullptr) {
    return Problem(c, status::not_found, "invitation_invalid",
                   "this invitation is not valid (any more): it was used, withdrawn or has expired");
  }
  const TenantId t = c->tenant;
  RunQuery(c, [this, c, t, id = a->id, person = a->person, token, password] {
    auto hash = HashPassword(password);
    if (!hash)
      return Problem(c, status::service_unavailable, "unavailable", "the password could not be hashed");
    auto sealed = options.vault->Seal(t, person, *hash);
    if (!sealed.ok()) return FromStatus(c, sealed.status());
    commands::SetAccountPassword cmd{id, token, std::move(sealed).value()};
    Submit(c, Ctx(c, t, "account:" + id), std::move(cmd));
  });
}

void Edge::SignIn(const CallPtr& c) {
  const TenantId t = c->tenant;
  if (double wait = sign_in_limiter.Take(t.get() + "|" + c->client.address); wait > 0)
    return TooMany(c, wait);
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body, {"email", "password", "totp"});
  const std::string email = d.Str("email", true, 254);
  const std::string password = d.Str("password", true, kMaxPassword);
  const std::string code = d.Str("totp", false, 16);
  if (Invalid(c, d)) return;
  auto dir = bus.Accounts(t);
  const commands::Account* a = dir->Find(dir->by_login, LoginHash(email));
  auto wrong = [this, c](const json& details = json::object()) {
    Problem(c, status::unauthorized, "sign_in_failed", "the e-mail address or the password is wrong",
            details);
  };
  if (a == nullptr || a->disabled || !a->joined() || options.vault == nullptr) {
    return RunQuery(c, [c, wrong, password] {
      PasswordDecoy(password);
      wrong();
    });
  }
  if (a->locked_until > Now()) {
    TooMany(c, static_cast<double>(a->locked_until - Now()) / kUsPerSecond);
    return;
  }
  RunQuery(c, [this, c, t, wrong, password, code, id = a->id, person = a->person, credential = a->credential,
               totp = a->totp] {
    auto plain = options.vault->Open(t, person, credential);
    const bool ok = plain.ok() && plain->has_value() && PasswordMatches(password, **plain);
    std::int64_t step = 0;
    if (ok && !totp.empty()) {
      // The password is right; the second factor decides. Without a code
      // nothing is recorded: the page asks for it.
      if (code.empty()) {
        return Problem(c, status::unauthorized, "totp_required",
                       "this account signs in with a code from its authenticator app as well (totp)");
      }
      auto secret = options.vault->Open(t, person, totp);
      if (secret.ok() && secret->has_value()) step = TotpMatch(**secret, code, Now()).value_or(0);
    }
    commands::SignIn cmd{id, ok, ok ? "sbs_" + RandomHex(32) : std::string(), step};
    const std::string token = cmd.session_token;
    commands::Submission s;
    s.ctx = Ctx(c, t, "account:" + id);
    s.command = std::move(cmd);
    bus.Submit(std::move(s), [this, c, t, ok, token, wrong](commands::Outcome o) {
      if (o.kind != commands::Outcome::Kind::kOk && o.kind != commands::Outcome::Kind::kCreated) {
        return Refused(c, o);
      }
      if (!o.body.value("signed_in", true)) {
        json details = json::object();
        if (o.body.value("locked", false)) details["locked_until"] = o.body.value("locked_until", "");
        if (!ok) return wrong(details);
        return Problem(c, status::unauthorized, "totp_failed",
                       "the code is wrong, too old or was used already: wait for the next one", details);
      }
      json reply = o.body;
      reply["csrf_token"] = CsrfToken(token);
      reply["position"] = o.position;
      c->success_headers.emplace_back(
          "Set-Cookie", SessionCookie(t, token, commands::Account::kSessionLife / kUsPerSecond));
      SendJson(c, status::ok, reply, o.position);
    });
  });
}

void Edge::GetSession(const CallPtr& c) {
  if (c->caller.session.empty()) {
    return Problem(c, status::unauthorized, "no_session", "this route answers a signed-in person only");
  }
  const TenantId t = c->tenant;
  auto dir = bus.Accounts(t);
  const commands::Account* a = dir->Find(dir->by_session, SessionHash(c->caller.session));
  if (a == nullptr)
    return Problem(c, status::unauthorized, "session_ended", "the session has ended: sign in again");
  RunQuery(c, [this, c, t, dir, account = *a] {
    json reply = {{"account", account.id},
                  {"role", commands::RoleName(account.role)},
                  {"csrf_token", CsrfToken(c->caller.session)},
                  {"expires_at", FormatUtc(account.sessions.at(SessionHash(c->caller.session)))},
                  {"totp", !account.totp.empty()},
                  {"totp_setup_required", account.totp.empty() && dir->totp_roles.count(account.role) != 0}};
    auto plain = options.vault == nullptr ? Result<std::optional<std::string>>(std::optional<std::string>())
                                          : options.vault->Open(t, account.person, account.personal);
    if (plain.ok() && plain->has_value()) {
      json p = json::parse(**plain, nullptr, false);
      if (p.is_object()) {
        reply["email"] = p.value("email", "");
        reply["name"] = p.value("name", "");
      }
    }
    SendJson(c, status::ok, reply);
  });
}

void Edge::SignOut(const CallPtr& c) {
  if (c->caller.session.empty()) {
    return Problem(c, status::unauthorized, "no_session", "this route answers a signed-in person only");
  }
  const std::string everywhere = c->Param("everywhere");
  if (!everywhere.empty() && everywhere != "true" && everywhere != "false") {
    return Problem(c, status::bad_request, "invalid_query", "everywhere must be true or false");
  }
  commands::SignOut cmd{c->caller.key->id, c->caller.session, everywhere == "true"};
  c->success_headers.emplace_back("Set-Cookie", SessionCookie(c->tenant, "", 0));
  Submit(c, Ctx(c, c->tenant, c->caller.Actor()), std::move(cmd));
}

void Edge::ChangePassword(const CallPtr& c) {
  if (c->caller.session.empty()) {
    return Problem(c, status::unauthorized, "no_session", "this route answers a signed-in person only");
  }
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body, {"current_password", "password"});
  const std::string current = d.Str("current_password", true, kMaxPassword);
  const std::string password = d.Str("password", true, kMaxPassword);
  CheckNewPassword(d, password);
  if (Invalid(c, d)) return;
  const TenantId t = c->tenant;
  auto dir = bus.Accounts(t);
  const commands::Account* a = dir->Find(dir->by_session, SessionHash(c->caller.session));
  if (a == nullptr || options.vault == nullptr) {
    return Problem(c, status::unauthorized, "session_ended", "the session has ended: sign in again");
  }
  RunQuery(c, [this, c, t, current, password, account = *a] {
    auto plain = options.vault->Open(t, account.person, account.credential);
    if (!plain.ok() || !plain->has_value() || !PasswordMatches(current, **plain)) {
      Decoder bad(json::object(), {});
      bad.Error("current_password", "is not the account's password");
      return (void)Invalid(c, bad);
    }
    auto hash = HashPassword(password);
    if (!hash)
      return Problem(c, status::service_unavailable, "unavailable", "the password could not be hashed");
    auto sealed = options.vault->Seal(t, account.person, *hash);
    if (!sealed.ok()) return FromStatus(c, sealed.status());
    Submit(c, Ctx(c, t, c->caller.Actor()),
           commands::SetAccountPassword{account.id, "", std::move(sealed).value()});
  });
}

namespace {

// The signed-in holder's account (a copy: the directory it is found in may
// be replaced by a newer one at any moment), or nullopt with a problem sent.
std::optional<commands::Account> Holder(Edge& edge, const CallPtr& c) {
  if (c->caller.session.empty()) {
    edge.Problem(c, status::unauthorized, "no_session", "this route answers a signed-in person only");
    return std::nullopt;
  }
  auto dir = edge.bus.Accounts(c->tenant);
  const commands::Account* a = dir->Find(dir->by_session, SessionHash(c->caller.session));
  if (a == nullptr || edge.options.vault == nullptr) {
    edge.Problem(c, status::unauthorized, "session_ended", "the session has ended: sign in again");
    return std::nullopt;
  }
  return *a;
}

}  // namespace

// A fresh random secret for the holder's authenticator app; nothing is
// stored until a code of it is confirmed (SetTotp).
void Edge::NewTotpSecret(const CallPtr& c) {
  const auto a = Holder(*this, c);
  if (!a) return;
  const TenantId t = c->tenant;
  RunQuery(c, [this, c, t, account = *a] {
    std::string label = account.id;
    auto plain = options.vault->Open(t, account.person, account.personal);
    if (plain.ok() && plain->has_value()) {
      json p = json::parse(**plain, nullptr, false);
      if (p.is_object()) label = p.value("email", label);
    }
    const std::string secret = Base32(RandomBytes(kTotpSecretBytes));
    const std::string issuer = "Saalbuch " + t.get();
    std::string uri = "otpauth://totp/" + PercentEncode(issuer + ":" + label) + "?secret=" + secret +
                      "&issuer=" + PercentEncode(issuer) + "&algorithm=SHA1&digits=6&period=30";
    SendJson(c, status::ok, {{"secret", secret}, {"otpauth_uri", uri}});
  });
}

// The holder confirms a secret with a code of it; it is stored sealed.
void Edge::SetTotp(const CallPtr& c) {
  const auto a = Holder(*this, c);
  if (!a) return;
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body, {"secret", "code"});
  const std::string text = d.Str("secret", true, 128);
  const std::string code = d.Str("code", true, 16);
  const auto secret = FromBase32(text);
  if (!text.empty() && (!secret || secret->size() < 16)) {
    d.Error("secret", "is not a base32 secret of 128 bits or more");
  }
  if (secret && secret->size() >= 16 && !code.empty() && !TotpMatch(*secret, code, Now())) {
    d.Error("code", "is not the current code of this secret (check the phone's clock)");
  }
  if (Invalid(c, d)) return;
  const TenantId t = c->tenant;
  RunQuery(c, [this, c, t, id = a->id, person = a->person, secret = *secret] {
    auto sealed = options.vault->Seal(t, person, secret);
    if (!sealed.ok()) return FromStatus(c, sealed.status());
    Submit(c, Ctx(c, t, c->caller.Actor()), commands::SetAccountTotp{id, std::move(sealed).value()});
  });
}

// The holder removes the second factor, proving it with a current code.
void Edge::RemoveTotp(const CallPtr& c) {
  const auto a = Holder(*this, c);
  if (!a) return;
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body, {"code"});
  const std::string code = d.Str("code", true, 16);
  if (Invalid(c, d)) return;
  if (a->totp.empty()) return Problem(c, status::conflict, "no_totp", "this account has no second factor");
  const TenantId t = c->tenant;
  RunQuery(c, [this, c, t, code, id = a->id, person = a->person, totp = a->totp] {
    auto secret = options.vault->Open(t, person, totp);
    if (!secret.ok() || !secret->has_value() || !TotpMatch(**secret, code, Now())) {
      Decoder bad(json::object(), {});
      bad.Error("code", "is not the current code of the account's authenticator app");
      return (void)Invalid(c, bad);
    }
    Submit(c, Ctx(c, t, c->caller.Actor()), commands::SetAccountTotp{id, ""});
  });
}

// An admin removes another account's second factor (a lost phone); its
// holder sets up a new one at the next sign-in if the role requires one.
void Edge::ResetTotp(const CallPtr& c) {
  KeyCommand(c, {}, true, [&](Decoder&, auto) {
    return commands::Command(commands::SetAccountTotp{c->params.at(0), "", true});
  });
}

void Edge::GetTotpPolicy(const CallPtr& c) {
  auto dir = bus.Accounts(c->tenant);
  json roles = json::array();
  for (commands::Role r : dir->totp_roles) roles.push_back(commands::RoleName(r));
  SendJson(c, status::ok, {{"totp_required_roles", roles}});
}

void Edge::SetTotpPolicy(const CallPtr& c) {
  KeyCommand(c, {"totp_required_roles"}, false, [&](Decoder& d, auto) {
    commands::SetTotpPolicy cmd;
    if (!d.object().contains("totp_required_roles")) d.Error("totp_required_roles", "required");
    for (const auto& r : d.Array("totp_required_roles", 4)) {
      if (!r.is_string()) {
        d.Error("totp_required_roles", "must list role names");
        break;
      }
      cmd.roles.push_back(r.get<std::string>());
    }
    return commands::Command(cmd);
  });
}

}  // namespace saalbuch::http
