// The tenant's settings for its public side (commands/decide_public.cc):
// what is accepted, in which canonical form it is stored, what is refused
// (every problem at once, nothing decided), and that the write model folds
// it.

#include <gtest/gtest.h>

#include "tests/commands/decide_fixture.h"

namespace saalbuch::commands {
namespace {

class PublicSettingsTest : public DecideFixture {
 protected:
  void SetUp() override { MakeTenant("Europe/Berlin", now_); }

  static SetPublicSettings Good() {
    SetPublicSettings c;
    c.settings.allowed_origins = {"https://www.musterstadt.de", "http://localhost:8080"};
    c.settings.display_name = "Bürgerhaus Musterstadt";
    c.settings.logo_url = "https://www.musterstadt.de/logo.svg?v=2";
    c.settings.accent_color = "#005ca9";
    c.settings.privacy_url = "https://www.musterstadt.de/datenschutz";
    c.settings.terms_url = "http://www.musterstadt.de/benutzungsordnung#saal";
    c.settings.consent_de = "Ich habe die Datenschutzerklärung gelesen.\nIch bin einverstanden.";
    c.settings.consent_en = "I have read the privacy notice.";
    return c;
  }

  // The fields a refusal names.
  static std::vector<std::string> Fields(const Rejection& r) {
    std::vector<std::string> out;
    for (const auto& f : r.details.at("fields")) out.push_back(f.at("field").get<std::string>());
    return out;
  }

  const TimeUs now_ = T("2026-06-01T08:00:00Z");
};

TEST_F(PublicSettingsTest, AcceptedSettingsAreFoldedIntoTheModel) {
  Acceptance a = Accept(Good(), now_);
  ASSERT_EQ(a.events.size(), 1u);
  EXPECT_EQ(a.events[0].stream_id, "tenant/public");
  EXPECT_EQ(a.events[0].stream_version, 1u);
  EXPECT_EQ(a.reply.at("allowed_origins"),
            nlohmann::json::array({"https://www.musterstadt.de", "http://localhost:8080"}));
  EXPECT_EQ(a.reply.at("consent").at("en"), "I have read the privacy notice.");
  EXPECT_EQ(a.reply.at("version"), 1);
  const PublicSettings& s = model_.public_settings();
  EXPECT_EQ(s.allowed_origins.size(), 2u);
  EXPECT_EQ(s.display_name, "Bürgerhaus Musterstadt");
  EXPECT_EQ(s.accent_color, "#005ca9");
  EXPECT_EQ(s.version, 1u);

  // Replaced whole: what is left out is unset; the version counts on.
  SetPublicSettings only_name;
  only_name.settings.display_name = "Bürgerhaus";
  a = Accept(only_name, now_);
  EXPECT_EQ(a.reply.at("allowed_origins"), nlohmann::json::array());
  EXPECT_TRUE(a.reply.at("logo_url").is_null());
  EXPECT_TRUE(a.reply.at("consent").at("de").is_null());
  EXPECT_EQ(a.reply.at("version"), 2);
  EXPECT_TRUE(model_.public_settings().allowed_origins.empty());
  EXPECT_EQ(model_.public_settings().version, 2u);
}

TEST_F(PublicSettingsTest, OriginsAndColourAreStoredAsBrowsersSendThem) {
  SetPublicSettings c;
  c.settings.allowed_origins = {"HTTPS://WWW.Musterstadt.DE:443", "http://Example.org:80",
                                "http://[::1]:8080", "https://xn--mnchen-3ya.de:8443", "http://192.168.1.10"};
  c.settings.accent_color = "#AbCdEf";
  Acceptance a = Accept(c, now_);
  EXPECT_EQ(model_.public_settings().allowed_origins,
            (std::vector<std::string>{"https://www.musterstadt.de", "http://example.org", "http://[::1]:8080",
                                      "https://xn--mnchen-3ya.de:8443", "http://192.168.1.10"}));
  EXPECT_EQ(model_.public_settings().accent_color, "#abcdef");
}

TEST_F(PublicSettingsTest, BadOriginsAreRefusedEachByItsIndex) {
  SetPublicSettings c;
  c.settings.allowed_origins = {"https://www.musterstadt.de/",        // a path, even '/'
                                "https://www.musterstadt.de/buchen",  // a path
                                "ftp://www.musterstadt.de",           // scheme
                                "www.musterstadt.de",                 // no scheme
                                "https://user@www.musterstadt.de",    // user information
                                "https://www.musterstadt.de:0",       // port
                                "https://www.musterstadt.de:65536",   // port
                                "https://-bad-.de",                   // label
                                "https://münchen.de",                 // not ASCII
                                "https://www.musterstadt.de?x=1",     // query
                                "https://ok.de",
                                "https://OK.de:443",  // the same origin twice
                                "*"};
  Rejection r = Refuse(c, now_);
  EXPECT_EQ(r.code, "validation_failed");
  EXPECT_EQ(r.refusal, Refusal::kUnprocessable);
  std::vector<std::string> want;
  for (int i : {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12})
    want.push_back("allowed_origins[" + std::to_string(i) + "]");
  EXPECT_EQ(Fields(r), want) << r.details.dump();
  EXPECT_EQ(model_.public_settings().version, 0u);
}

TEST_F(PublicSettingsTest, EveryBadFieldIsReportedAtOnce) {
  SetPublicSettings c = Good();
  c.settings.accent_color = "#05ca9";
  c.settings.logo_url = "javascript:alert(1)";
  c.settings.privacy_url = "https://www.musterstadt.de/daten schutz";
  c.settings.terms_url = "/benutzungsordnung";
  c.settings.display_name = std::string(kMaxDisplayNameBytes + 1, 'x');
  c.settings.consent_de = std::string(kMaxConsentBytes + 1, 'x');
  c.settings.consent_en = "tab\there";
  Rejection r = Refuse(c, now_);
  EXPECT_EQ(Fields(r), (std::vector<std::string>{"display_name", "logo_url", "privacy_url", "terms_url",
                                                 "accent_color", "consent.de", "consent.en"}))
      << r.details.dump();
}

TEST_F(PublicSettingsTest, TooManyOriginsAndInvalidTextAreRefused) {
  SetPublicSettings c;
  for (std::size_t i = 0; i <= kMaxPublicOrigins; ++i) {
    c.settings.allowed_origins.push_back("https://o" + std::to_string(i) + ".de");
  }
  EXPECT_EQ(Fields(Refuse(c, now_)), std::vector<std::string>{"allowed_origins"});
  c.settings.allowed_origins.resize(kMaxPublicOrigins);
  EXPECT_EQ(Accept(c, now_).reply.at("allowed_origins").size(), kMaxPublicOrigins);

  SetPublicSettings text;
  text.settings.display_name = "line\nbreak";             // one line only
  text.settings.consent_de = std::string("\xc3\x28", 2);  // not UTF-8
  text.settings.consent_en = "\xc2\x85";                  // a C1 control
  EXPECT_EQ(Fields(Refuse(text, now_)),
            (std::vector<std::string>{"display_name", "consent.de", "consent.en"}));
}

TEST_F(PublicSettingsTest, EmptySettingsAreValidAndMeanDefaults) {
  Acceptance a = Accept(SetPublicSettings{}, now_);
  EXPECT_EQ(a.reply.at("allowed_origins"), nlohmann::json::array());
  EXPECT_TRUE(a.reply.at("accent_color").is_null());
  EXPECT_EQ(a.reply.at("version"), 1);
}

}  // namespace
}  // namespace saalbuch::commands
