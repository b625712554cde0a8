#include "formats/camt.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace saalbuch::formats {
namespace {

std::string Load(const std::string& name) {
  std::ifstream in(std::string(SAALBUCH_TESTS_DIR) + "/formats/data/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// `text` with the first occurrence of `from` replaced by `to`.
std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

void ExpectRefused(const std::string& xml, const std::string& message_part) {
  Result<std::vector<BankStatement>> r = ParseCamt053(xml);
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << message_part;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(message_part), std::string::npos) << r.status().message();
}

class CamtTest : public ::testing::Test {
 protected:
  std::string sparkasse_ = Load("camt053_sparkasse.xml");
  std::string v08_ = Load("camt053_v08.xml");
  // Real-world samples from open-source CAMT parsers (origin and licence in
  // data/README.md), unchanged.
  std::string vrbank_ = Load("camt053_viafintech_valid_example.xml");
  std::string vrbank_other_id_ = Load("camt053_viafintech_with_other_id.xml");
  std::string wise_ = Load("camt053_viafintech_with_datetime.xml");
  std::string multi_ = Load("camt053_genkgo_multi_statement.xml");
};

TEST_F(CamtTest, SparkasseStatementHasAccountAndBalances) {
  Result<std::vector<BankStatement>> r = ParseCamt053(sparkasse_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  const BankStatement& st = r->front();
  EXPECT_EQ(st.message_id, "053D2026-11-22T20:15:04.0N120000000");
  EXPECT_EQ(st.id, "0352C5320261122201504");
  EXPECT_EQ(st.iban, "DE89370400440532013000");
  EXPECT_EQ(st.currency, "EUR");
  EXPECT_EQ(st.opening, 100000);  // OPBD wins over PRCD
  EXPECT_EQ(st.closing, 139220);
  EXPECT_EQ(st.lines.size(), 5u);  // 1 + batch of 2 + debit + 1; the pending entry is left out
}

TEST_F(CamtTest, SingleTransactionEntryCarriesItsDetails) {
  Result<std::vector<BankStatement>> r = ParseCamt053(sparkasse_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BankLine& l = r->front().lines.at(0);
  EXPECT_EQ(l.reference, "2026112200001");
  EXPECT_EQ(l.amount, 11900);
  EXPECT_TRUE(l.credit);
  EXPECT_EQ(l.currency, "EUR");
  EXPECT_EQ(l.booking_date, "2026-11-22");
  EXPECT_EQ(l.value_date, "2026-11-22");
  EXPECT_EQ(l.remittance, "R-2026-000001 Saalmiete Bürgerhaus 12.12.2026");
  EXPECT_EQ(l.end_to_end_id, "R-2026-000001");
  EXPECT_EQ(l.counterparty, "Müller, Hans");
  EXPECT_EQ(l.counterparty_iban, "DE02120300000000202051");
}

TEST_F(CamtTest, BatchEntryYieldsOneLinePerTransaction) {
  Result<std::vector<BankStatement>> r = ParseCamt053(sparkasse_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BankLine& a = r->front().lines.at(1);
  const BankLine& b = r->front().lines.at(2);
  EXPECT_EQ(a.reference, "2026112200002/1");
  EXPECT_EQ(b.reference, "2026112200002/2");
  EXPECT_EQ(a.amount, 10000);
  EXPECT_EQ(b.amount, 15000);
  EXPECT_EQ(a.counterparty, "Turnverein 1880 e.V.");
  EXPECT_EQ(b.counterparty, "Schützenverein Grün-Weiß");
  EXPECT_EQ(b.counterparty_iban, "DE12500105170648489890");
  EXPECT_EQ(a.remittance, "R-2026-000002 Turnhalle Oktober");
  EXPECT_EQ(b.end_to_end_id, "R-2026-000003");
  EXPECT_EQ(b.booking_date, "2026-11-22");
}

TEST_F(CamtTest, DebitEntryNamesTheCreditor) {
  Result<std::vector<BankStatement>> r = ParseCamt053(sparkasse_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BankLine& l = r->front().lines.at(3);
  EXPECT_FALSE(l.credit);
  EXPECT_EQ(l.amount, 1250);
  EXPECT_EQ(l.value_date, "2026-11-21");
  EXPECT_EQ(l.counterparty, "Sparkasse Musterstadt");
  EXPECT_EQ(l.end_to_end_id, "NOTPROVIDED");
  EXPECT_EQ(l.remittance, "Kontoführung November");
}

TEST_F(CamtTest, PendingEntryIsLeftOut) {
  Result<std::vector<BankStatement>> r = ParseCamt053(sparkasse_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const BankLine& l : r->front().lines) EXPECT_NE(l.reference, "2026112300001");
}

TEST_F(CamtTest, StructuredCreditorReferenceIsAppendedToRemittance) {
  Result<std::vector<BankStatement>> r = ParseCamt053(sparkasse_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BankLine& l = r->front().lines.at(4);
  EXPECT_EQ(l.remittance, "Grillhütte 3.10. RF18539007547034");
  EXPECT_EQ(l.amount, 3570);
  EXPECT_EQ(l.counterparty, "Jörg Weiß");
}

TEST_F(CamtTest, Version08WithPrefixAndPartyWrapperIsRead) {
  Result<std::vector<BankStatement>> r = ParseCamt053(v08_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  const BankStatement& first = r->at(0);
  EXPECT_EQ(first.message_id, "DB-20261124-0001");
  EXPECT_EQ(first.opening, -20000);
  EXPECT_EQ(first.closing, 22000);
  ASSERT_EQ(first.lines.size(), 3u);
  EXPECT_EQ(first.lines[0].reference, "DB-0001");
  EXPECT_EQ(first.lines[0].booking_date, "2026-11-23");  // from DtTm
  EXPECT_EQ(first.lines[0].counterparty, "Zahlungsdienst Beispiel GmbH");
  EXPECT_EQ(first.lines[0].end_to_end_id, "PAYOUT-po_7731");
  EXPECT_EQ(first.lines[1].reference, "DB-0002/1");
  EXPECT_EQ(first.lines[1].amount, 5000);
  EXPECT_FALSE(first.lines[1].credit);
  EXPECT_EQ(first.lines[1].counterparty, "Hausmeisterservice Köhler");
  EXPECT_EQ(first.lines[2].amount, 3000);
  const BankStatement& second = r->at(1);
  EXPECT_EQ(second.currency, "EUR");  // no Acct/Ccy: the balances' currency
  ASSERT_EQ(second.lines.size(), 1u);
}

TEST_F(CamtTest, EntryWithoutReferenceIsNamedByStatementAndPosition) {
  Result<std::vector<BankStatement>> r = ParseCamt053(v08_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BankLine& l = r->at(1).lines.at(0);
  EXPECT_EQ(l.reference, "DB-STMT-2026-328/1");
  EXPECT_EQ(l.amount, 1000);
  EXPECT_TRUE(l.remittance.empty());
}

// A German cooperative bank's day statement: PRCD as opening balance, a
// batch of two transfers given by AmtDtls/TxAmt, end-to-end references.
TEST_F(CamtTest, CooperativeBankSampleIsRead) {
  Result<std::vector<BankStatement>> r = ParseCamt053(vrbank_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  const BankStatement& st = r->front();
  EXPECT_EQ(st.id, "0352C5320131227220503");
  EXPECT_EQ(st.iban, "DE14740618130000033626");
  EXPECT_EQ(st.other_id, "");
  EXPECT_EQ(st.opening, 3306);
  EXPECT_EQ(st.closing, 2306);
  ASSERT_EQ(st.lines.size(), 5u);
  EXPECT_EQ(st.lines[0].reference, "2013122710583450000");
  EXPECT_FALSE(st.lines[0].credit);
  EXPECT_EQ(st.lines[0].amount, 200);
  EXPECT_EQ(st.lines[0].end_to_end_id, "EndToEndReference");
  EXPECT_EQ(st.lines[0].counterparty, "Testkonto Nummer 2");
  EXPECT_EQ(st.lines[0].counterparty_iban, "DE09300606010012345671");
  EXPECT_EQ(st.lines[1].end_to_end_id, "NOTPROVIDED");
  EXPECT_TRUE(st.lines[2].credit);
  EXPECT_EQ(st.lines[2].end_to_end_id, "");
  EXPECT_EQ(st.lines[2].counterparty_iban, "");  // the debtor's account is a BBAN (Othr/Id)
  EXPECT_EQ(st.lines[2].remittance, "R CKBUCHUNG");
  EXPECT_EQ(st.lines[3].reference, "2013122711513230000/1");
  EXPECT_EQ(st.lines[3].amount, 350);
  EXPECT_EQ(st.lines[3].end_to_end_id, "STZV-EtE27122013-11:02-1");
  EXPECT_EQ(st.lines[4].amount, 250);
  EXPECT_EQ(st.lines[4].end_to_end_id, "STZV-EtE27122013-11:02-2");
}

// Issue 15, defect 4: an account identified by Acct/Id/Othr/Id (valid ISO
// 20022; banks use it for accounts without IBAN) was refused with "Stmt
// without Acct/Id/IBAN". The statement is the one above with the account as
// the same bank gives it in viafintech's other-id sample.
TEST_F(CamtTest, AccountIdentifiedByOtherIdIsRead) {
  const std::string account = R"(<Othr>
          <Id>ABCDE1234</Id>
        </Othr>)";
  ASSERT_NE(vrbank_other_id_.find(account), std::string::npos);
  Result<std::vector<BankStatement>> r =
      ParseCamt053(Replace(vrbank_, "<IBAN>DE14740618130000033626</IBAN>", account));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BankStatement& st = r->front();
  EXPECT_EQ(st.iban, "");
  EXPECT_EQ(st.other_id, "ABCDE1234");
  EXPECT_EQ(st.closing, 2306);
  EXPECT_EQ(st.lines.size(), 5u);
}

// The other-id sample itself ends after the account: the account passes,
// the missing balances do not.
TEST_F(CamtTest, OtherIdSampleIsRefusedOnlyForItsMissingBalances) {
  ExpectRefused(vrbank_other_id_, "Stmt without opening balance");
}

// Wise exports camt.053.001.10 with an Othr/Id account ("Wise Account ID"),
// DtTm booking dates and Sts/Cd. Its sample carries the closing balance
// only; given the opening balance it implies, it is read.
TEST_F(CamtTest, WiseVersion10StatementWithOtherIdIsRead) {
  ExpectRefused(wise_, "Stmt without opening balance");
  const std::string opening =
      "<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"USD\">410.94</Amt>"
      "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2023-06-21</Dt></Dt></Bal>\n            <Bal>";
  Result<std::vector<BankStatement>> r = ParseCamt053(Replace(wise_, "<Bal>", opening));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BankStatement& st = r->front();
  EXPECT_EQ(st.other_id, "11111111");
  EXPECT_EQ(st.currency, "USD");
  EXPECT_EQ(st.closing, 60680);
  ASSERT_EQ(st.lines.size(), 1u);
  EXPECT_EQ(st.lines[0].reference, "Test Buchung");
  EXPECT_EQ(st.lines[0].booking_date, "2023-06-21");
  EXPECT_EQ(st.lines[0].amount, 19586);
  EXPECT_TRUE(st.lines[0].credit);
}

TEST_F(CamtTest, StatementWithoutAccountIdentificationIsRefused) {
  ExpectRefused(Replace(vrbank_, "<IBAN>DE14740618130000033626</IBAN>", ""),
                "Stmt without account identification (Acct/Id/IBAN or Acct/Id/Othr/Id) (line 13)");
  ExpectRefused(Replace(vrbank_, "<IBAN>DE14740618130000033626</IBAN>", "<Othr><Id></Id></Othr>"),
                "Stmt without account identification");
}

// Issue 15, defect 4: a file of several statements, as the standard allows
// (Stmt 1..n), each with its own balances and entries.
TEST_F(CamtTest, SeveralStatementsEachKeepTheirBalancesAndLines) {
  Result<std::vector<BankStatement>> r = ParseCamt053(multi_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  const BankStatement& first = r->at(0);
  const BankStatement& second = r->at(1);
  EXPECT_EQ(first.message_id, "CAMT053RIB000000000001");
  EXPECT_EQ(second.message_id, "CAMT053RIB000000000001");
  EXPECT_EQ(first.id, "253EURNL26VAYB8060476890");
  EXPECT_EQ(second.id, "254EURNL26VAYB8060476890");
  EXPECT_EQ(first.iban, "NL26VAYB8060476890");
  EXPECT_EQ(first.opening, 1815);
  EXPECT_EQ(first.closing, 2700);
  EXPECT_EQ(second.opening, 2700);
  EXPECT_EQ(second.closing, 2000);
  ASSERT_EQ(first.lines.size(), 1u);
  ASSERT_EQ(second.lines.size(), 1u);
  EXPECT_EQ(first.lines[0].reference, "253EURNL26VAYB8060476890/1");
  EXPECT_TRUE(first.lines[0].credit);
  EXPECT_EQ(first.lines[0].amount, 885);
  EXPECT_EQ(first.lines[0].end_to_end_id, "000000001");
  EXPECT_EQ(second.lines[0].reference, "254EURNL26VAYB8060476890/1");
  EXPECT_FALSE(second.lines[0].credit);
  EXPECT_EQ(second.lines[0].amount, 700);
  EXPECT_EQ(second.lines[0].counterparty, "Company Name 2");
  EXPECT_EQ(second.lines[0].remittance, "Transaction Description 2");
  // Each statement's balance is checked on its own.
  ExpectRefused(Replace(multi_, "<Amt Ccy=\"EUR\">20.00</Amt>", "<Amt Ccy=\"EUR\">27.00</Amt>"),
                "balance mismatch in Stmt 254EURNL26VAYB8060476890");
}

TEST_F(CamtTest, DocumentWithoutStatementIsRefused) {
  ExpectRefused(
      "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt><GrpHdr>"
      "<MsgId>M1</MsgId></GrpHdr></BkToCstmrStmt></Document>",
      "BkToCstmrStmt without Stmt");
}

// Issue 15, defect 4: the versions read are those whose schema has every
// element read at the same path (camt.h); each of them is read.
TEST_F(CamtTest, EveryCheckedVersionIsRead) {
  for (int v = kFirstCamt053Version; v <= kLastCamt053Version; ++v) {
    const std::string version = (v < 10 ? "0" : "") + std::to_string(v);
    Result<std::vector<BankStatement>> r =
        ParseCamt053(Replace(v08_, "camt.053.001.08\"", "camt.053.001." + version + "\""));
    ASSERT_TRUE(r.ok()) << version << ": " << r.status().ToString();
    EXPECT_EQ(r->size(), 2u) << version;
  }
  EXPECT_EQ(kFirstCamt053Version, 2);
  EXPECT_EQ(kLastCamt053Version, 13);
}

// Issue 15, defect 4: .001.10 was accepted although the documentation said
// .02–.08, and anything naming camt.053 was read. Now every other version,
// and a document without namespace, is refused naming the supported ones.
TEST_F(CamtTest, OtherVersionsAreRefusedNamingTheSupportedOnes) {
  const std::string supported = "; supported: camt.053.001.02 to camt.053.001.13";
  for (const char* v : {"01", "14", "99", "1", "008", "0x"}) {
    ExpectRefused(
        Replace(sparkasse_, "camt.053.001.02\" xmlns:xsi", "camt.053.001." + std::string(v) + "\" xmlns:xsi"),
        "unsupported camt.053 version (namespace 'urn:iso:std:iso:20022:tech:xsd:camt.053.001." +
            std::string(v) + "')" + supported);
  }
  ExpectRefused(Replace(sparkasse_, "xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\" ", ""),
                "camt.053 Document without namespace, so of unknown version" + supported);
}

TEST_F(CamtTest, TruncatedXmlIsRefused) {
  ExpectRefused(sparkasse_.substr(0, sparkasse_.size() / 2), "not XML");
}

TEST_F(CamtTest, TextThatIsNotXmlIsRefused) { ExpectRefused("payout_id,amount\n1,2\n", "not XML"); }

TEST_F(CamtTest, OtherIsoMessageIsRefused) {
  ExpectRefused(Replace(sparkasse_, "camt.053.001.02\" xmlns:xsi", "camt.052.001.02\" xmlns:xsi"),
                "not a camt.053 Document");
  ExpectRefused("<?xml version=\"1.0\"?><Invoice><Id>1</Id></Invoice>", "not a camt.053 Document");
}

TEST_F(CamtTest, EntryWithoutAmountIsRefused) {
  ExpectRefused(Replace(sparkasse_, "<Amt Ccy=\"EUR\">119.00</Amt>\n        <CdtDbtInd>", "<CdtDbtInd>"),
                "Ntry without Amt (line ");
}

TEST_F(CamtTest, EntryWithoutIndicatorOrDateIsRefused) {
  ExpectRefused(Replace(v08_, "<camt:CdtDbtInd>CRDT</camt:CdtDbtInd>\n        <camt:Sts>", "<camt:Sts>"),
                "Ntry without CdtDbtInd");
  ExpectRefused(Replace(v08_, "<camt:BookgDt><camt:Dt>2026-11-24</camt:Dt></camt:BookgDt>", ""),
                "Ntry without a BookgDt date");
}

// A date that is none, or out of the years Saalbuch stores (1900–9000), is
// refused rather than booked on some other day.
TEST_F(CamtTest, ImpossibleOrOutOfRangeBookingDateIsRefused) {
  const std::string day = "<camt:BookgDt><camt:Dt>2026-11-24</camt:Dt></camt:BookgDt>";
  for (const char* bad : {"2026-13-45", "2026-02-30", "0000-01-01", "9999-12-31"}) {
    ExpectRefused(
        Replace(v08_, day, "<camt:BookgDt><camt:Dt>" + std::string(bad) + "</camt:Dt></camt:BookgDt>"),
        "Ntry without a BookgDt date");
  }
}

TEST_F(CamtTest, AmountWithThreeDecimalsIsRefused) {
  ExpectRefused(Replace(sparkasse_, ">119.00<", ">119.001<"), "amount '119.001' has more than 2 decimals");
}

TEST_F(CamtTest, MalformedOrZeroAmountIsRefused) {
  ExpectRefused(Replace(sparkasse_, ">119.00<", ">119,00<"), "malformed amount '119,00'");
  ExpectRefused(Replace(sparkasse_, ">119.00<", ">-119.00<"), "malformed amount");
  ExpectRefused(Replace(sparkasse_, "<Amt Ccy=\"EUR\">12.50<", "<Amt Ccy=\"EUR\">0.00<"),
                "amount must be positive");
}

TEST_F(CamtTest, BrokenBalanceIsRefused) {
  ExpectRefused(Replace(sparkasse_, ">1392.20<", ">1392.21<"),
                "balance mismatch in Stmt 0352C5320261122201504");
}

TEST_F(CamtTest, BatchWhoseTransactionsDoNotAddUpIsRefused) {
  ExpectRefused(Replace(sparkasse_, ">150.00<", ">149.00<"), "TxDtls amounts do not add up");
}

TEST_F(CamtTest, DuplicateReferenceIsRefused) {
  std::string xml = Replace(sparkasse_, ">2026112200003<", ">2026112200001<");
  ExpectRefused(xml, "duplicate entry reference '2026112200001'");
}

TEST_F(CamtTest, EntryInAnotherCurrencyIsRefused) {
  ExpectRefused(Replace(sparkasse_, "<Amt Ccy=\"EUR\">12.50", "<Amt Ccy=\"USD\">12.50"),
                "Ntry currency USD differs from the account's EUR");
}

TEST_F(CamtTest, ExternalEntityIsNotExpanded) {
  std::string xml = Replace(sparkasse_, "<Document ",
                            "<!DOCTYPE Document [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<Document ");
  xml = Replace(xml, "Kontoführung November", "&xxe;");
  Result<std::vector<BankStatement>> r = ParseCamt053(xml);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->front().lines.at(3).remittance.find("root:"), std::string::npos);
  EXPECT_EQ(r->front().lines.at(3).remittance, "&xxe;");
}

}  // namespace
}  // namespace saalbuch::formats
