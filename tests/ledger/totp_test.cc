// The second factor's one-time passwords against RFC 6238's test vectors
// and base32 against RFC 4648's.

#include "common/totp.h"

#include <gtest/gtest.h>

namespace saalbuch {
namespace {

constexpr std::int64_t kUs = 1'000'000;

// RFC 6238, appendix B (SHA-1 key "12345678901234567890"), the last six of
// each eight-digit value.
TEST(TotpTest, MatchesRfc6238TestVectors) {
  const std::string key = "12345678901234567890";
  const std::pair<std::int64_t, const char*> vectors[] = {{59, "287082"},
                                                          {1111111109, "081804"},
                                                          {1111111111, "050471"},
                                                          {1234567890, "005924"},
                                                          {2000000000, "279037"}};
  for (const auto& [t, code] : vectors) {
    EXPECT_EQ(TotpCode(key, t / kTotpStepSeconds), code) << t;
    EXPECT_EQ(TotpMatch(key, code, t * kUs), t / kTotpStepSeconds) << t;
  }
}

TEST(TotpTest, AcceptsOneStepOfClockDriftAndNothingElse) {
  const std::string key = "12345678901234567890";
  const std::int64_t now = 1234567890 * kUs;
  const std::int64_t step = 1234567890 / kTotpStepSeconds;
  EXPECT_EQ(TotpMatch(key, TotpCode(key, step - 1), now), step - 1);
  EXPECT_EQ(TotpMatch(key, TotpCode(key, step + 1), now), step + 1);
  EXPECT_FALSE(TotpMatch(key, TotpCode(key, step - 2), now));
  EXPECT_FALSE(TotpMatch(key, TotpCode(key, step + 2), now));
  for (const char* bad : {"", "12345", "1234567", "12345a", " 05924", "-05924"}) {
    EXPECT_FALSE(TotpMatch(key, bad, now)) << bad;
  }
  EXPECT_FALSE(TotpMatch("", "005924", now)) << "no secret matches nothing";
}

TEST(TotpTest, Base32RoundTripsAndMatchesRfc4648) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "MY"},
                                                         {"fo", "MZXQ"},
                                                         {"foo", "MZXW6"},
                                                         {"foob", "MZXW6YQ"},
                                                         {"fooba", "MZXW6YTB"},
                                                         {"foobar", "MZXW6YTBOI"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base32(plain), encoded);
    EXPECT_EQ(FromBase32(encoded), plain);
  }
  EXPECT_EQ(FromBase32("mzxw 6ytb oi"), "foobar") << "as a person types it: lower case, in groups";
  EXPECT_FALSE(FromBase32("MZXW1")) << "1 is not base32";
  EXPECT_FALSE(FromBase32("MZXW6!"));
}

}  // namespace
}  // namespace saalbuch
