#include "formats/settlement.h"

#include <gtest/gtest.h>

namespace saalbuch::formats {
namespace {

constexpr char kHeader[] =
    "payout_id,payout_date,currency,type,payment_reference,invoice_reference,amount,fee\n";

void ExpectCsvRefused(const std::string& csv, const std::string& message_part) {
  Result<std::vector<Payout>> r = ParseSettlementCsv(csv);
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << message_part;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(message_part), std::string::npos) << r.status().message();
}

TEST(SettlementTest, PayoutsKeepFileOrderAndAddUp) {
  const std::string csv = std::string(kHeader) +
                          "po_2,2026-11-20,EUR,payment,pay_1,R-2026-000001,119.00,1.79\n"
                          "po_1,2026-11-19,EUR,payment,pay_2,R-2026-000002,50.00,0.75\n"
                          "po_2,2026-11-20,EUR,refund,re_1,R-2026-000003,-10.00,0.00\n"
                          "po_2,2026-11-20,EUR,fee,,,0.00,2.50\n"
                          "po_2,2026-11-20,EUR,adjustment,,,-0.40,0\n";
  Result<std::vector<Payout>> r = ParseSettlementCsv(csv);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  const Payout& p = r->at(0);
  EXPECT_EQ(p.id, "po_2");
  EXPECT_EQ(p.date, "2026-11-20");
  EXPECT_EQ(p.currency, "EUR");
  ASSERT_EQ(p.items.size(), 4u);
  EXPECT_EQ(p.gross, 11900 - 1000 - 40);
  EXPECT_EQ(p.fees, 179 + 250);
  EXPECT_EQ(p.net, 10860 - 429);
  EXPECT_EQ(p.items[0].type, "payment");
  EXPECT_EQ(p.items[0].reference, "pay_1");
  EXPECT_EQ(p.items[0].invoice, "R-2026-000001");
  EXPECT_EQ(p.items[0].line, 2);
  EXPECT_EQ(p.items[1].type, "refund");
  EXPECT_EQ(p.items[1].amount, -1000);
  EXPECT_EQ(p.items[1].line, 4);
  EXPECT_TRUE(p.items[2].invoice.empty());
  EXPECT_EQ(r->at(1).id, "po_1");
  EXPECT_EQ(r->at(1).net, 4925);
}

TEST(SettlementTest, ColumnsInAnyOrderAndUnknownColumnsAreIgnored) {
  const std::string csv =
      "fee,amount,note,invoice_reference,payment_reference,type,currency,payout_date,payout_id\n"
      "0.30,25.00,hello,R-1,pay_9,payment,EUR,2026-01-31,po_9\n";
  Result<std::vector<Payout>> r = ParseSettlementCsv(csv);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->at(0).id, "po_9");
  EXPECT_EQ(r->at(0).items.at(0).amount, 2500);
  EXPECT_EQ(r->at(0).items.at(0).fee, 30);
  EXPECT_EQ(r->at(0).net, 2470);
}

TEST(SettlementTest, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  const std::string csv = std::string(kHeader) +
                          "\"po_1\",2026-11-19,EUR,payment,\"pay,1\",\"R \"\"2026\"\"\n-1\",\"1.00\",0\n"
                          "po_1,2026-11-19,EUR,payment,pay_2,,2.00,0\n";
  Result<std::vector<Payout>> r = ParseSettlementCsv(csv);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Payout& p = r->at(0);
  EXPECT_EQ(p.items.at(0).reference, "pay,1");
  EXPECT_EQ(p.items.at(0).invoice, "R \"2026\"\n-1");
  EXPECT_EQ(p.items.at(1).line, 4);  // the quoted line break moved it down
  EXPECT_EQ(p.gross, 300);
}

TEST(SettlementTest, CrlfAndByteOrderMarkAreAccepted) {
  const std::string csv =
      "\xEF\xBB\xBFpayout_id,payout_date,currency,type,payment_reference,invoice_reference,amount,fee\r\n"
      "po_1,2026-11-19,EUR,payment,pay_1,,10.00,0.10\r\n"
      "po_1,2026-11-19,EUR,payment,\"pay_2\",,5,0\r\n";
  Result<std::vector<Payout>> r = ParseSettlementCsv(csv);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->at(0).net, 1490);
  EXPECT_EQ(r->at(0).items.at(1).reference, "pay_2");
  EXPECT_EQ(r->at(0).items.at(1).line, 3);
}

TEST(SettlementTest, MissingColumnIsRefused) {
  ExpectCsvRefused("payout_id,payout_date,currency,type,payment_reference,amount,fee\n",
                   "line 1: missing required column 'invoice_reference'");
  ExpectCsvRefused("", "empty file");
}

TEST(SettlementTest, ColumnNamedTwiceIsRefused) {
  ExpectCsvRefused(
      "amount,payout_id,payout_date,currency,type,payment_reference,invoice_reference,amount,fee\n",
      "column 'amount' appears twice");
}

TEST(SettlementTest, BadQuotingIsRefused) {
  const std::string row = "po_1,2026-11-19,EUR,payment,pay_1,,10.00,0\n";
  ExpectCsvRefused(std::string(kHeader) + row + "po_1,2026-11-19,EUR,payment,pa\"y,,1.00,0\n",
                   "line 3: bad quoting: quote inside an unquoted field");
  ExpectCsvRefused(std::string(kHeader) + "po_1,2026-11-19,EUR,payment,\"pay\"x,,1.00,0\n",
                   "line 2: bad quoting: text after a closing quote");
  ExpectCsvRefused(std::string(kHeader) + row + "po_1,2026-11-19,EUR,payment,\"pay,,1.00,0\n",
                   "line 3: bad quoting: quoted field not closed");
}

TEST(SettlementTest, WrongFieldCountIsRefused) {
  ExpectCsvRefused(std::string(kHeader) + "po_1,2026-11-19,EUR,payment,pay_1,10.00,0\n",
                   "line 2: 7 fields, the header has 8");
  ExpectCsvRefused(std::string(kHeader) + "po_1,2026-11-19,EUR,payment,pay_1,,10.00,0\n\npo_1\n",
                   "line 3: 1 fields, the header has 8");
}

TEST(SettlementTest, BadTypeIsRefused) {
  ExpectCsvRefused(std::string(kHeader) + "po_1,2026-11-19,EUR,chargeback,pay_1,,10.00,0\n",
                   "line 2: bad type 'chargeback'");
}

TEST(SettlementTest, BadAmountsAreRefused) {
  ExpectCsvRefused(std::string(kHeader) + "po_1,2026-11-19,EUR,payment,pay_1,,10.001,0\n",
                   "line 2: bad amount '10.001'");
  ExpectCsvRefused(std::string(kHeader) + "po_1,2026-11-19,EUR,payment,pay_1,,\"10,00\",0\n",
                   "line 2: bad amount '10,00'");
  ExpectCsvRefused(std::string(kHeader) + "po_1,2026-11-19,EUR,payment,pay_1,,10.00,-0.10\n",
                   "line 2: bad fee '-0.10'");
  ExpectCsvRefused(std::string(kHeader) + "po_1,2026-11-19,EUR,payment,pay_1,,-10.00,0\n",
                   "a payment's amount must be positive");
  ExpectCsvRefused(std::string(kHeader) + "po_1,2026-11-19,EUR,refund,re_1,,10.00,0\n",
                   "a refund's amount must be negative");
  ExpectCsvRefused(std::string(kHeader) + "po_1,2026-11-19,EUR,payment,,,10.00,0\n",
                   "a payment without payment_reference");
}

TEST(SettlementTest, BadDateOrCurrencyIsRefused) {
  ExpectCsvRefused(std::string(kHeader) + "po_1,0000-01-01,EUR,payment,pay_1,,10.00,0\n",
                   "line 2: bad payout_date '0000-01-01'");
  ExpectCsvRefused(std::string(kHeader) + "po_1,2026-02-29,EUR,payment,pay_1,,10.00,0\n",
                   "line 2: bad payout_date '2026-02-29'");
  ExpectCsvRefused(std::string(kHeader) + "po_1,19.11.2026,EUR,payment,pay_1,,10.00,0\n", "bad payout_date");
  ExpectCsvRefused(std::string(kHeader) + "po_1,2026-11-19,eur,payment,pay_1,,10.00,0\n",
                   "line 2: bad currency 'eur'");
}

TEST(SettlementTest, PayoutWithTwoDatesOrCurrenciesIsRefused) {
  const std::string first = "po_1,2026-11-19,EUR,payment,pay_1,,10.00,0\n";
  ExpectCsvRefused(std::string(kHeader) + first + "po_1,2026-11-20,EUR,payment,pay_2,,1.00,0\n",
                   "line 3: payout po_1 has two dates: 2026-11-19 and 2026-11-20");
  ExpectCsvRefused(std::string(kHeader) + first + "po_1,2026-11-19,CHF,payment,pay_2,,1.00,0\n",
                   "line 3: payout po_1 has two currencies: EUR and CHF");
}

TEST(SettlementTest, MoreThanHundredThousandRowsAreRefused) {
  std::string csv = kHeader;
  const std::string row = "po_1,2026-11-19,EUR,payment,pay_1,,1.00,0\n";
  csv.reserve(csv.size() + row.size() * (kMaxSettlementRows + 1));
  for (std::size_t i = 0; i < kMaxSettlementRows; ++i) csv += row;
  Result<std::vector<Payout>> r = ParseSettlementCsv(csv);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->at(0).gross, 100 * static_cast<std::int64_t>(kMaxSettlementRows));
  ExpectCsvRefused(csv + row, "more than 100000 rows");
}

}  // namespace
}  // namespace saalbuch::formats
