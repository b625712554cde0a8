// The back office's accounts: invitations, passwords, roles, sign-in and
// sign-out (commands.h). Decide sees hashes and sealed bytes only; the
// password itself is checked in http/ (Argon2id) before SignIn arrives.
#include <algorithm>
#include <set>

#include "commands/decide_internal.h"

namespace saalbuch::commands::detail {
namespace {

std::vector<std::uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

// The account id of an actor "account:<id>", or "operator:<id>" (an
// operator's session, whose account is in the operator's own log); "" for
// any other actor.
std::string ActingAccount(const Context& ctx) {
  for (std::string_view prefix : {"account:", "operator:"}) {
    if (ctx.actor.starts_with(prefix)) return ctx.actor.substr(prefix.size());
  }
  return {};
}

Rejection OperatorsAreAdmins() {
  return Reject(Refusal::kUnprocessable, "validation_failed", "operator accounts have the one role admin",
                {{"fields", nlohmann::json::array({{{"field", "role"}, {"problem", "must be admin"}}})}});
}

Rejection NoAccount(const std::string& id) {
  return Reject(Refusal::kNotFound, "not_found", "no such account", {{"account", id}});
}

nlohmann::json AccountReply(const Account& a) {
  return {{"id", a.id}, {"role", RoleName(a.role)}, {"joined", a.joined()}, {"disabled", a.disabled}};
}

}  // namespace

Decision DecideInviteAccount(const TenantModel& m, const Context& ctx, const InviteAccount& c) {
  if (!ParseRole(c.role)) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "role must be one of admin, staff, finance, auditor",
                  {{"fields", nlohmann::json::array({{{"field", "role"}, {"problem", "unknown role"}}})}});
  }
  if (ctx.tenant == OperatorTenant() && c.role != "admin") return OperatorsAreAdmins();
  if (c.login_hash.size() != 32 || c.invite_token.empty() || c.personal.empty()) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "an invitation needs an e-mail address");
  }
  if (m.FindAccount(c.account_id) != nullptr) {
    return Reject(Refusal::kConflict, "account_exists", "an account with this id exists");
  }
  if (const Account* other = m.FindAccountByLogin(c.login_hash); other != nullptr && !other->disabled) {
    return Reject(Refusal::kConflict, "account_exists",
                  "this e-mail address already has an account; disable it before inviting it again",
                  {{"account", other->id}});
  }
  Acceptance a;
  a.created = true;
  auto d = Draft(ctx, "account/" + c.account_id, 1);
  schema::AccountInvitedT e;
  e.account_id = c.account_id;
  e.role = c.role;
  e.login_hash = Bytes(c.login_hash);
  e.person = c.person;
  e.personal = Bytes(c.personal);
  e.invite_hash = HashBytes(c.invite_token);
  e.invite_expires_us = ctx.now + Account::kInviteLife;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = {{"id", c.account_id},
             {"role", c.role},
             {"joined", false},
             {"disabled", false},
             {"invite_token", c.invite_token},
             {"invite_path", BackOfficePath(ctx.tenant) + "/join#token=" + c.invite_token},
             {"invite_expires_at", FormatUtc(ctx.now + Account::kInviteLife)},
             {"invite_mailed", c.mailed}};
  a.secrets = {"/invite_token", "/invite_path"};
  return a;
}

Decision DecideSetAccountPassword(const TenantModel& m, const Context& ctx, const SetAccountPassword& c) {
  const Account* acc = m.FindAccount(c.account_id);
  if (acc == nullptr || acc->disabled) return NoAccount(c.account_id);
  if (c.invite_token.empty()) {
    if (ActingAccount(ctx) != acc->id) {
      return Reject(Refusal::kForbidden, "not_permitted",
                    "only the account's holder may change its password");
    }
  } else if (acc->invite_hash.empty() || !SecretMatches(c.invite_token, acc->invite_hash) ||
             ctx.now >= acc->invite_expires) {
    return Reject(Refusal::kNotFound, "invitation_invalid",
                  "this invitation is not valid (any more): it was used, withdrawn or has expired");
  }
  if (c.credential.empty()) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "a password is needed");
  }
  Acceptance a;
  auto d = Draft(ctx, "account/" + acc->id, acc->version + 1);
  schema::AccountPasswordSetT e;
  e.account_id = acc->id;
  e.credential = Bytes(c.credential);
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = AccountReply(*acc);
  a.reply["joined"] = true;
  return a;
}

Decision DecideChangeAccountRole(const TenantModel& m, const Context& ctx, const ChangeAccountRole& c) {
  const Account* acc = m.FindAccount(c.account_id);
  if (acc == nullptr) return NoAccount(c.account_id);
  if (!ParseRole(c.role)) {
    return Reject(Refusal::kUnprocessable, "validation_failed",
                  "role must be one of admin, staff, finance, auditor",
                  {{"fields", nlohmann::json::array({{{"field", "role"}, {"problem", "unknown role"}}})}});
  }
  if (ctx.tenant == OperatorTenant()) return OperatorsAreAdmins();
  if (ActingAccount(ctx) == acc->id) {
    return Reject(Refusal::kConflict, "own_account", "nobody changes the role of their own account");
  }
  if (acc->disabled) return Reject(Refusal::kConflict, "account_disabled", "the account is disabled");
  Acceptance a;
  auto d = Draft(ctx, "account/" + acc->id, acc->version + 1);
  schema::AccountRoleChangedT e;
  e.account_id = acc->id;
  e.role = c.role;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  a.reply = AccountReply(*acc);
  a.reply["role"] = c.role;
  return a;
}

Decision DecideDisableAccount(const TenantModel& m, const Context& ctx, const DisableAccount& c) {
  const Account* acc = m.FindAccount(c.account_id);
  if (acc == nullptr) return NoAccount(c.account_id);
  if (ActingAccount(ctx) == acc->id) {
    return Reject(Refusal::kConflict, "own_account", "nobody disables their own account");
  }
  Acceptance a;
  a.reply = AccountReply(*acc);
  a.reply["disabled"] = true;
  if (acc->disabled) return a;  // already: nothing to record
  auto d = Draft(ctx, "account/" + acc->id, acc->version + 1);
  schema::AccountDisabledT e;
  e.account_id = acc->id;
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  return a;
}

Decision DecideSignIn(const TenantModel& m, const Context& ctx, const SignIn& c) {
  const Account* acc = m.FindAccount(c.account_id);
  if (acc == nullptr || acc->disabled || !acc->joined()) return NoAccount(c.account_id);
  if (ctx.now < acc->locked_until) {
    return Reject(Refusal::kForbidden, "sign_in_locked",
                  "too many wrong passwords: signing in to this account is paused for a while",
                  {{"locked_until", FormatUtc(acc->locked_until)}});
  }
  Acceptance a;
  auto d = Draft(ctx, "account/" + acc->id, acc->version + 1);
  // With a second factor, the password alone is not enough: the code's time
  // step must be one not used before (a code seen over a shoulder or in a
  // proxy's log does not sign in again).
  const bool factor_ok = acc->totp.empty() || c.totp_step > acc->totp_step;
  if (c.password_ok && factor_ok) {
    if (c.session_token.empty()) return Reject(Refusal::kUnprocessable, "validation_failed", "no session");
    schema::AccountSignedInT e;
    e.account_id = acc->id;
    e.session_hash = HashBytes(c.session_token);
    e.expires_us = ctx.now + Account::kSessionLife;
    e.totp_step = acc->totp.empty() ? 0 : c.totp_step;
    d.payload.Set(std::move(e));
    a.reply = AccountReply(*acc);
    a.reply["expires_at"] = FormatUtc(ctx.now + Account::kSessionLife);
  } else {
    // This failure locks the account when it is the kMaxFailures-th within
    // kFailureWindow.
    const auto recent = std::count_if(acc->failures.begin(), acc->failures.end(),
                                      [&](TimeUs t) { return t > ctx.now - Account::kFailureWindow; });
    schema::AccountSignInFailedT e;
    e.account_id = acc->id;
    e.at_us = ctx.now;
    e.locked_until_us =
        static_cast<std::size_t>(recent) + 1 >= Account::kMaxFailures ? ctx.now + Account::kLockout : 0;
    a.reply = {{"signed_in", false}, {"locked", e.locked_until_us > 0}};
    if (e.locked_until_us > 0) a.reply["locked_until"] = FormatUtc(e.locked_until_us);
    d.payload.Set(std::move(e));
  }
  a.events.push_back(std::move(d));
  return a;
}

Decision DecideSignOut(const TenantModel& m, const Context& ctx, const SignOut& c) {
  const Account* acc = m.FindAccount(c.account_id);
  if (acc == nullptr) return NoAccount(c.account_id);
  Acceptance a;
  a.reply = {{"signed_out", true}, {"everywhere", c.everywhere}};
  const std::string hash(AsBytes(Sha256Of(c.session_token)));
  if (!c.everywhere && acc->sessions.count(hash) == 0) return a;  // ended already
  if (c.everywhere && acc->sessions.empty()) return a;
  auto d = Draft(ctx, "account/" + acc->id, acc->version + 1);
  schema::AccountSignedOutT e;
  e.account_id = acc->id;
  if (!c.everywhere) e.session_hash = HashBytes(c.session_token);
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  return a;
}

Decision DecideSetAccountTotp(const TenantModel& m, const Context& ctx, const SetAccountTotp& c) {
  const Account* acc = m.FindAccount(c.account_id);
  if (acc == nullptr || acc->disabled || !acc->joined()) return NoAccount(c.account_id);
  const bool holder = ActingAccount(ctx) == acc->id;
  if (c.reset && holder) {
    // The holder removes it with a current code (http/), not by a reset.
    return Reject(Refusal::kConflict, "own_account", "nobody resets the second factor of their own account");
  }
  if (!holder && !c.secret.empty()) {
    return Reject(Refusal::kForbidden, "not_permitted",
                  "only the account's holder sets up its second factor");
  }
  if (holder && c.secret.empty() && m.totp_roles().count(acc->role) != 0) {
    return Reject(Refusal::kConflict, "totp_required",
                  std::string("the role '") + RoleName(acc->role) + "' must sign in with a second factor");
  }
  Acceptance a;
  a.reply = AccountReply(*acc);
  a.reply["totp"] = !c.secret.empty();
  if (c.secret.empty() && acc->totp.empty()) return a;  // none to remove
  auto d = Draft(ctx, "account/" + acc->id, acc->version + 1);
  schema::AccountTotpSetT e;
  e.account_id = acc->id;
  e.secret = Bytes(c.secret);
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  return a;
}

Decision DecideSetTotpPolicy(const TenantModel& m, const Context& ctx, const SetTotpPolicy& c) {
  std::set<Role> roles;
  nlohmann::json problems = nlohmann::json::array();
  for (std::size_t i = 0; i < c.roles.size(); ++i) {
    if (auto r = ParseRole(c.roles[i])) {
      roles.insert(*r);
    } else {
      problems.push_back({{"field", "totp_required_roles[" + std::to_string(i) + "]"},
                          {"problem", "must be one of admin, staff, finance, auditor"}});
    }
  }
  if (!problems.empty()) {
    return Reject(Refusal::kUnprocessable, "validation_failed", "unknown roles", {{"fields", problems}});
  }
  schema::TotpPolicySetT e;
  nlohmann::json names = nlohmann::json::array();
  for (Role r : roles) {
    e.roles.emplace_back(RoleName(r));
    names.push_back(RoleName(r));
  }
  Acceptance a;
  a.reply = {{"totp_required_roles", names}, {"version", m.totp_policy_version() + 1}};
  auto d = Draft(ctx, "tenant/totp", m.totp_policy_version() + 1);
  d.payload.Set(std::move(e));
  a.events.push_back(std::move(d));
  return a;
}

}  // namespace saalbuch::commands::detail
