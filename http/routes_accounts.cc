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
#include <algorithm>

#include "common/password.h"
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
  };
}

int Edge::SessionCaller(const CallPtr& c, unsigned access, bool public_fallback) {
  if (c->tenant.get().empty()) return 0;
  std::string token = CookieValue(c->req, CookieName(c->tenant));
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
  auto dir = bus.Accounts(c->tenant);
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
  const TenantId t = c->tenant;
  const std::string actor = c->caller.Actor();
  const std::string text = json{{"email", email}, {"name", name}, {"invite_token", cmd->invite_token}}.dump();
  // The vault writes the person's key durably: not on an I/O thread.
  RunQuery(c, [this, c, t, actor, cmd, text] {
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
  if (double wait = sign_in_limiter.Take(t.get() + "|" + c->ip); wait > 0) return TooMany(c, wait);
  auto body = Body(c);
  if (!body) return;
  Decoder d(*body, {"email", "password"});
  const std::string email = d.Str("email", true, 254);
  const std::string password = d.Str("password", true, kMaxPassword);
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
  RunQuery(c, [this, c, t, wrong, password, id = a->id, person = a->person, credential = a->credential] {
    auto plain = options.vault->Open(t, person, credential);
    const bool ok = plain.ok() && plain->has_value() && PasswordMatches(password, **plain);
    commands::SignIn cmd{id, ok, ok ? "sbs_" + RandomHex(32) : std::string()};
    const std::string token = cmd.session_token;
    commands::Submission s;
    s.ctx = Ctx(c, t, "account:" + id);
    s.command = std::move(cmd);
    bus.Submit(std::move(s), [this, c, t, ok, token, wrong](commands::Outcome o) {
      if (o.kind != commands::Outcome::Kind::kOk && o.kind != commands::Outcome::Kind::kCreated) {
        return Refused(c, o);
      }
      if (!ok) {
        json details = json::object();
        if (o.body.value("locked", false)) details["locked_until"] = o.body.value("locked_until", "");
        return wrong(details);
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
  RunQuery(c, [this, c, t, account = *a] {
    json reply = {{"account", account.id},
                  {"role", commands::RoleName(account.role)},
                  {"csrf_token", CsrfToken(c->caller.session)},
                  {"expires_at", FormatUtc(account.sessions.at(SessionHash(c->caller.session)))}};
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

}  // namespace saalbuch::http
