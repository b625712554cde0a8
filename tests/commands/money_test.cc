#include "common/money.h"

#include <gtest/gtest.h>

namespace saalbuch {
namespace {

TEST(MoneyTest, RoundsHalfAwayFromZero) {
  EXPECT_EQ(MulDivRound(5, 1, 10), 1);    // 0.5 → 1
  EXPECT_EQ(MulDivRound(4, 1, 10), 0);    // 0.4 → 0
  EXPECT_EQ(MulDivRound(-5, 1, 10), -1);  // -0.5 → -1
  EXPECT_EQ(MulDivRound(-4, 1, 10), 0);
  EXPECT_EQ(MulDivRound(1'000'000'000'000, 1900, 10000), 190'000'000'000);
}

TEST(MoneyTest, TaxFromNetAndGrossAddUp) {
  // 19 % of 10.05 is 1.9095 → 1.91.
  Taxed t = TaxFromNet(1005, 1900);
  EXPECT_EQ(t.tax, 191);
  EXPECT_EQ(t.gross, 1196);
  // 119.00 gross at 19 % is 100.00 net.
  t = TaxFromGross(11900, 1900);
  EXPECT_EQ(t.net, 10000);
  EXPECT_EQ(t.tax, 1900);
  // 10.00 gross at 7 %: 0.6542… → 0.65.
  t = TaxFromGross(1000, 700);
  EXPECT_EQ(t.tax, 65);
  EXPECT_EQ(t.net, 935);
  t = TaxFromGross(1234, 0);
  EXPECT_EQ(t.tax, 0);
  EXPECT_EQ(t.net, 1234);
}

TEST(MoneyTest, ParsesDecimalsExactly) {
  EXPECT_EQ(ParseDecimal("12.50"), 1250);
  EXPECT_EQ(ParseDecimal("12.5"), 1250);
  EXPECT_EQ(ParseDecimal("12"), 1200);
  EXPECT_EQ(ParseDecimal("-0.05"), -5);
  EXPECT_EQ(ParseDecimal("1234,56", true), 123456);
  EXPECT_EQ(ParseDecimal("0.10"), 10);
  for (const char* bad : {"", "-", ".5", "1.", "1.234", "1,50", "1 000", "12a", "1e3", "99999999999999"}) {
    EXPECT_EQ(ParseDecimal(bad), std::nullopt) << bad;
  }
}

TEST(MoneyTest, FormatsPlainAndGerman) {
  EXPECT_EQ(FormatDecimal(1250), "12.50");
  EXPECT_EQ(FormatDecimal(-5), "-0.05");
  EXPECT_EQ(FormatDecimal(0), "0.00");
  EXPECT_EQ(FormatDecimalDe(123450), "1.234,50");
  EXPECT_EQ(FormatDecimalDe(100000000), "1.000.000,00");
  EXPECT_EQ(FormatDecimalDe(-99), "-0,99");
  EXPECT_TRUE(IsValidCurrency("EUR"));
  EXPECT_FALSE(IsValidCurrency("eur"));
  EXPECT_FALSE(IsValidCurrency("EURO"));
}

}  // namespace
}  // namespace saalbuch
