// The back office's accounts (commands/decide_accounts.cc): invitations
// admit once and expire, one active account per e-mail address, nobody
// changes or disables their own account, five wrong passwords within 15
// minutes lock the account for 15 minutes, sessions end by sign-out (one or
// everywhere), by disabling and beyond the newest ten.

#include <gtest/gtest.h>

#include "commands/snapshot.h"
#include "tests/commands/decide_fixture.h"

namespace saalbuch::commands {
namespace {

class AccountsTest : public DecideFixture {
 protected:
  void SetUp() override { MakeTenant("Europe/Berlin", now_); }

  // Decides as `actor`; applies accepted events.
  Decision As(const std::string& actor, const Command& cmd, TimeUs now) {
    Decision d = Decide(model_, Ctx(now, actor), cmd);
    if (auto* a = std::get_if<Acceptance>(&d)) {
      for (const auto& ev : a->events) model_.Apply(++seq_, ev.stream_version, ev.recorded_at, ev.payload);
    }
    return d;
  }
  static std::string Code(const Decision& d) {
    return std::holds_alternative<Rejection>(d) ? std::get<Rejection>(d).code : "accepted";
  }

  InviteAccount Invite(const std::string& id, const std::string& email, const std::string& role = "staff") {
    InviteAccount c;
    c.account_id = id;
    c.role = role;
    c.login_hash = std::string(AsBytes(Sha256Of(email)));
    c.person = "a_" + id;
    c.personal = "sealed";
    c.invite_token = "sbi_" + id;
    return c;
  }
  // An invited account that set its password.
  void Joined(const std::string& id, const std::string& email, const std::string& role = "staff") {
    Accept(Invite(id, email, role), now_);
    Accept(SetAccountPassword{id, "sbi_" + id, "sealed-argon2id"}, now_);
  }

  const TimeUs now_ = T("2026-06-01T08:00:00Z");
};

TEST_F(AccountsTest, AnInvitationAdmitsOnceAndExpires) {
  Accept(Invite("ac_1", "a@x.de"), now_);
  EXPECT_EQ(Code(As("public", SetAccountPassword{"ac_1", "sbi_wrong", "c"}, now_)), "invitation_invalid");
  EXPECT_EQ(Code(As("public", SetAccountPassword{"ac_1", "sbi_ac_1", "c"}, now_ + kHour)), "accepted");
  EXPECT_TRUE(model_.FindAccount("ac_1")->joined());
  EXPECT_EQ(Code(As("public", SetAccountPassword{"ac_1", "sbi_ac_1", "c2"}, now_ + kHour)),
            "invitation_invalid");

  Accept(Invite("ac_2", "b@x.de"), now_);
  EXPECT_EQ(Code(As("public", SetAccountPassword{"ac_2", "sbi_ac_2", "c"}, now_ + Account::kInviteLife)),
            "invitation_invalid");
  EXPECT_FALSE(model_.FindAccount("ac_2")->joined());
}

TEST_F(AccountsTest, OneActiveAccountPerEmailAddress) {
  Joined("ac_1", "a@x.de");
  EXPECT_EQ(Refuse(Invite("ac_2", "a@x.de"), now_).code, "account_exists");
  Accept(DisableAccount{"ac_1"}, now_);
  Accept(Invite("ac_2", "a@x.de"), now_);
  EXPECT_EQ(model_.FindAccountByLogin(std::string(AsBytes(Sha256Of("a@x.de"))))->id, "ac_2");
  EXPECT_EQ(Refuse(Invite("ac_3", "c@x.de", "mayor"), now_).code, "validation_failed");
}

TEST_F(AccountsTest, NobodyChangesOrDisablesTheirOwnAccount) {
  Joined("ac_1", "a@x.de", "admin");
  Joined("ac_2", "b@x.de", "staff");
  EXPECT_EQ(Code(As("account:ac_1", ChangeAccountRole{"ac_1", "staff"}, now_)), "own_account");
  EXPECT_EQ(Code(As("account:ac_1", DisableAccount{"ac_1"}, now_)), "own_account");
  EXPECT_EQ(Code(As("account:ac_1", ChangeAccountRole{"ac_2", "finance"}, now_)), "accepted");
  EXPECT_EQ(model_.FindAccount("ac_2")->role, Role::kFinance);
  // A password change is the holder's own act only.
  EXPECT_EQ(Code(As("account:ac_1", SetAccountPassword{"ac_2", "", "c"}, now_)), "not_permitted");
  EXPECT_EQ(Code(As("account:ac_2", SetAccountPassword{"ac_2", "", "c"}, now_)), "accepted");
}

TEST_F(AccountsTest, FiveWrongPasswordsWithinAQuarterHourLockTheAccount) {
  Joined("ac_1", "a@x.de");
  TimeUs t = now_;
  // Failures spread wider than the window never lock.
  for (int i = 0; i < 8; ++i) {
    auto d = As("account:ac_1", SignIn{"ac_1", false, ""}, t += 4 * 60 * kUsPerSecond);
    ASSERT_EQ(Code(d), "accepted");
    EXPECT_FALSE(std::get<Acceptance>(d).reply.value("locked", true)) << i;
  }
  t += kHour;
  for (int i = 1; i <= 5; ++i) {
    auto d = As("account:ac_1", SignIn{"ac_1", false, ""}, t += 60 * kUsPerSecond);
    EXPECT_EQ(std::get<Acceptance>(d).reply.value("locked", false), i == 5) << i;
  }
  EXPECT_EQ(model_.FindAccount("ac_1")->locked_until, t + Account::kLockout);
  // Locked: even the right password is refused until the lock ends.
  EXPECT_EQ(Code(As("account:ac_1", SignIn{"ac_1", true, "sbs_1"}, t + Account::kLockout - 1)),
            "sign_in_locked");
  EXPECT_EQ(Code(As("account:ac_1", SignIn{"ac_1", true, "sbs_1"}, t + Account::kLockout)), "accepted");
  EXPECT_TRUE(model_.FindAccount("ac_1")->failures.empty());
}

TEST_F(AccountsTest, SessionsEndBySignOutDisablingAndAge) {
  Joined("ac_1", "a@x.de");
  Joined("ac_2", "b@x.de");
  auto session = [](int i) { return "sbs_" + std::to_string(i); };
  for (int i = 0; i < 12; ++i) Accept(SignIn{"ac_1", true, session(i)}, now_ + i);
  const Account* a = model_.FindAccount("ac_1");
  EXPECT_EQ(a->sessions.size(), Account::kMaxSessions);
  EXPECT_EQ(a->sessions.count(std::string(AsBytes(Sha256Of(session(0))))), 0u) << "the oldest ended first";
  Accept(SignOut{"ac_1", session(11), false}, now_);
  EXPECT_EQ(a->sessions.size(), Account::kMaxSessions - 1);
  EXPECT_EQ(a->sessions.count(std::string(AsBytes(Sha256Of(session(11))))), 0u);
  // Signing out a session that ended records nothing.
  EXPECT_TRUE(Accept(SignOut{"ac_1", session(11), false}, now_).events.empty());
  Accept(SignOut{"ac_1", session(5), true}, now_);
  EXPECT_TRUE(a->sessions.empty());

  Accept(SignIn{"ac_2", true, session(20)}, now_);
  Accept(DisableAccount{"ac_2"}, now_);
  EXPECT_TRUE(model_.FindAccount("ac_2")->sessions.empty());
  EXPECT_EQ(Refuse(SignIn{"ac_2", true, session(21)}, now_).code, "not_found");
}

TEST_F(AccountsTest, AccountsSurviveASnapshot) {
  Joined("ac_1", "a@x.de", "admin");
  Accept(Invite("ac_2", "b@x.de"), now_);
  Accept(SignIn{"ac_1", true, "sbs_1"}, now_);
  As("account:ac_1", SignIn{"ac_1", false, ""}, now_ + kHour);
  auto restored = DecodeSnapshot(EncodeSnapshot(model_, Sha256{}));
  ASSERT_TRUE(restored.ok()) << restored.status().message();
  EXPECT_TRUE(*restored == model_);
  EXPECT_EQ(restored->accounts().size(), 2u);
}

}  // namespace
}  // namespace saalbuch::commands
