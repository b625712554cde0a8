// Schema evolution guard: records encoded with every released schema must
// keep decoding. tests/ledger/golden/<schema version>/ holds one encoded
// Envelope per payload type; new schemas add a folder, old ones never change.
// SAALBUCH_WRITE_GOLDEN=1 writes the current encodings into golden/v1 (only
// ever done once per released schema version).

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "ledger/log.h"

namespace saalbuch::ledger {
namespace {

namespace fs = std::filesystem;

schema::EnvelopeT Envelope(schema::PayloadUnion payload) {
  schema::EnvelopeT e;
  e.tenant = "goldstadt";
  e.seq = 7;
  e.stream_id = "golden";
  e.stream_version = 3;
  e.recorded_at_us = 1'790'000'000'000'000;
  e.actor = "key:key_gold";
  e.command_id = "cmd_gold";
  e.correlation_id = "req_gold";
  e.prev_hash.assign(32, 0xab);
  e.payload = std::move(payload);
  return e;
}

std::map<std::string, schema::PayloadUnion> CurrentPayloads() {
  std::map<std::string, schema::PayloadUnion> out;
  schema::TenantCreatedT tc;
  tc.name = "Goldstadt";
  tc.time_zone = "Europe/Berlin";
  out["tenant_created"].Set(std::move(tc));
  schema::ApiKeyCreatedT kc;
  kc.key_id = "key_gold";
  kc.role = "staff";
  kc.key_hash.assign(32, 0x11);
  kc.label = "Empfang";
  out["api_key_created"].Set(std::move(kc));
  schema::ResourceCreatedT rc;
  rc.resource_id = "saal";
  rc.kind = "room";
  rc.name = "Saal";
  rc.description = "groß";
  out["resource_created"].Set(std::move(rc));
  schema::RulesSetT rs;
  rs.resource_id = "saal";
  rs.opening.emplace_back(1, 480, 1200);
  rs.buffer_after_s = 900;
  rs.granularity_s = 1800;
  rs.horizon_s = 86400LL * 365;
  out["rules_set"].Set(std::move(rs));
  schema::BookingPlacedT bp;
  bp.booking_id = "bk_gold";
  bp.number = "B-2026-000042";
  bp.resource_id = "saal";
  bp.start_us = 1'790'000'000'000'000;
  bp.end_us = 1'790'003'600'000'000;
  bp.blocked_start_us = bp.start_us;
  bp.blocked_end_us = bp.end_us + 900'000'000;
  bp.manage_token_hash.assign(32, 0x22);
  bp.channel = "public";
  out["booking_placed"].Set(std::move(bp));
  schema::BookingCancelledT bc;
  bc.booking_id = "bk_gold";
  bc.reason = "verschoben";
  bc.by = "booker";
  out["booking_cancelled"].Set(std::move(bc));
  return out;
}

// One payload of each type added in schemas v2 and v3 (kinds, rights,
// lifecycle, series, personal data, notifications), and the v1 types with
// their new fields.
std::map<std::string, schema::PayloadUnion> V3Payloads() {
  std::map<std::string, schema::PayloadUnion> out;
  schema::HolidaysSetT hs;
  auto h = std::make_unique<schema::HolidayT>();
  h->day = 20'544;
  h->name = "Tag der Deutschen Einheit";
  hs.holidays.push_back(std::move(h));
  out["holidays_set"].Set(std::move(hs));
  schema::ResourceCreatedT rc;
  rc.resource_id = "halle-a";
  rc.kind = "room";
  rc.name = "Halle A";
  rc.parent_id = "halle";
  rc.requires_qualification = "hallenwart";
  out["resource_created"].Set(std::move(rc));
  schema::BookingPlacedT bp;
  bp.booking_id = "bk_gold3";
  bp.number = "B-2026-000043";
  bp.resource_id = "kurs";
  bp.start_us = 1'790'000'000'000'000;
  bp.end_us = 1'790'007'200'000'000;
  bp.blocked_start_us = bp.start_us;
  bp.blocked_end_us = bp.end_us;
  bp.channel = "public";
  bp.status = "held";
  bp.units = 3;
  bp.session_id = "montag";
  bp.customer_id = "tsv";
  bp.group_id = "verein";
  bp.right_id = "rt_gold";
  auto line = std::make_unique<schema::AddonLineT>();
  line->addon_id = "beamer";
  line->quantity = 1;
  bp.addons.push_back(std::move(line));
  bp.hold_until_us = 1'789'000'000'000'000;
  bp.series_id = "sr_gold";
  bp.person_id = "p_gold";
  bp.personal.assign(60, 0x5a);
  out["booking_placed"].Set(std::move(bp));
  schema::SessionScheduledT ss{{}, "kurs",     "montag", 1'790'000'000'000'000, 1'790'007'200'000'000,
                               12, "Grundkurs"};
  out["session_scheduled"].Set(std::move(ss));
  schema::AddonSetT as;
  as.addon_id = "beamer";
  as.name = "Beamer";
  as.stock = 2;
  auto offer = std::make_unique<schema::AddonOfferT>();
  offer->resource_id = "saal";
  offer->mandatory = true;
  as.offers.push_back(std::move(offer));
  out["addon_set"].Set(std::move(as));
  out["group_defined"].Set(schema::GroupDefinedT{{}, "verein", "Vereine"});
  schema::CustomerRegisteredT cr;
  cr.customer_id = "tsv";
  cr.group_id = "verein";
  cr.token_hash.assign(32, 0x33);
  out["customer_registered"].Set(std::move(cr));
  out["customer_group_changed"].Set(schema::CustomerGroupChangedT{{}, "tsv", "schule"});
  schema::RightGrantedT rg{
      {}, "rt_gold", "saal", "verein", true, true, true, 480, "week", "BO §4", 1'780'000'000'000'000, 0};
  out["right_granted"].Set(std::move(rg));
  out["right_revoked"].Set(schema::RightRevokedT{{}, "rt_gold", "Sanierung"});
  out["qualification_granted"].Set(
      schema::QualificationGrantedT{{}, "tsv", "laser", 1'800'000'000'000'000, "Einweisung"});
  out["qualification_revoked"].Set(schema::QualificationRevokedT{{}, "tsv", "laser"});
  out["tenant_settings_set"].Set(schema::TenantSettingsSetT{{}, 1800});
  out["booking_approved"].Set(schema::BookingApprovedT{{}, "bk_gold3", "held", 1'789'000'000'000'000, "ok"});
  out["booking_rejected"].Set(schema::BookingRejectedT{{}, "bk_gold3", "belegt"});
  out["booking_confirmed"].Set(schema::BookingConfirmedT{{}, "bk_gold3", "staff"});
  out["booking_expired"].Set(schema::BookingExpiredT{{}, "bk_gold3"});
  out["booking_completed"].Set(schema::BookingCompletedT{{}, "bk_gold3", "no_show"});
  out["booking_rescheduled"].Set(
      schema::BookingRescheduledT{{}, "bk_gold3", 1, 2, 0, 3, "dienstag", "booker"});
  schema::SeriesPlacedT sp;
  sp.series_id = "sr_gold";
  sp.resource_id = "halle";
  sp.rrule = "FREQ=WEEKLY;COUNT=4";
  sp.first_start_us = 1;
  sp.first_end_us = 2;
  sp.exdates_us = {5};
  sp.mode = "skip_conflicts";
  out["series_placed"].Set(std::move(sp));
  out["person_erased"].Set(schema::PersonErasedT{{}, "p_gold", "Art. 17 DSGVO"});
  out["notification_sent"].Set(
      schema::NotificationSentT{{}, "n-00000000000000000042", "bk_gold3", "confirmed"});
  return out;
}

std::string Encode(const schema::EnvelopeT& e) {
  flatbuffers::FlatBufferBuilder fbb;
  schema::FinishEnvelopeBuffer(fbb, schema::Envelope::Pack(fbb, &e));
  return {reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()};
}

// One record of every payload type added in schema v4 (money), plus
// CheckpointSigned (added after v3 was written) and BookingPlaced with its
// new placed_at_us.
std::map<std::string, schema::PayloadUnion> V4Payloads() {
  std::map<std::string, schema::PayloadUnion> out;
  schema::CheckpointSignedT cs;
  cs.position = 1000;
  cs.head_hash.assign(32, 0xab);
  cs.note = "goldstadt\n1000\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n— goldstadt sig\n";
  cs.verifier_key = "goldstadt+01234567+AQ";
  out["checkpoint_signed"].Set(std::move(cs));
  schema::BookingPlacedT bp;
  bp.booking_id = "bk_gold4";
  bp.number = "B-2026-000044";
  bp.resource_id = "saal";
  bp.start_us = 1'790'000'000'000'000;
  bp.end_us = 1'790'007'200'000'000;
  bp.status = "held";
  bp.placed_at_us = 1'789'000'000'000'000;
  out["booking_placed"].Set(std::move(bp));
  schema::TariffSetT ts;
  ts.tariff_id = "saal-stunde";
  ts.target = "resource/saal";
  ts.valid_from_us = 1'789'000'000'000'000;
  ts.unit = "hour";
  ts.amount = 6000;
  ts.currency = "EUR";
  ts.gross = true;
  ts.tax_rate_bp = 1900;
  ts.product = "1.1.1.01";
  ts.cost_center = "4711";
  out["tariff_set"].Set(std::move(ts));
  schema::FinanceSettingsSetT fs;
  fs.currency = "EUR";
  fs.payment_terms_days = 14;
  fs.tiers.emplace_back(336LL * 3600 * 1'000'000, 0);
  fs.letterhead = {"Stadt Goldstadt"};
  auto am = std::make_unique<schema::AccountMappingT>();
  am->key = "bank";
  am->account = "1210";
  fs.accounts.push_back(std::move(am));
  out["finance_settings_set"].Set(std::move(fs));
  auto line = [] {
    auto l = std::make_unique<schema::DocumentLineT>();
    l->description = "Saalmiete";
    l->item = "resource/saal";
    l->tariff_id = "saal-stunde";
    l->unit = "hour";
    l->quantity_milli = 2000;
    l->unit_amount = 6000;
    l->gross_priced = true;
    l->tax_rate_bp = 1900;
    l->net = 10084;
    l->tax = 1916;
    l->gross = 12000;
    return l;
  };
  schema::InvoiceIssuedT ii;
  ii.invoice_id = "inv-bk_gold4";
  ii.number = "R-2026-000001";
  ii.booking_id = "bk_gold4";
  ii.currency = "EUR";
  ii.lines.push_back(line());
  ii.net = 10084;
  ii.tax = 1916;
  ii.gross = 12000;
  ii.due_us = 1'790'000'000'000'000;
  ii.kassenzeichen = "5.0100.2026-000001";
  out["invoice_issued"].Set(std::move(ii));
  schema::CreditNoteIssuedT cn;
  cn.credit_note_id = "G-2026-000001";
  cn.number = "G-2026-000001";
  cn.invoice_id = "inv-bk_gold4";
  cn.lines.push_back(line());
  cn.net = 10084;
  cn.tax = 1916;
  cn.gross = 12000;
  out["credit_note_issued"].Set(std::move(cn));
  schema::CheckoutOpenedT co;
  co.invoice_id = "inv-bk_gold4";
  co.checkout_id = "cs_gold";
  co.url = "https://pay.example/cs_gold";
  co.amount = 12000;
  out["checkout_opened"].Set(std::move(co));
  schema::PaymentCapturedT pc;
  pc.payment_ref = "pay_gold";
  pc.invoice_id = "inv-bk_gold4";
  pc.method = "provider";
  pc.amount = 12000;
  pc.fee = 193;
  pc.currency = "EUR";
  pc.value_us = 1'789'500'000'000'000;
  pc.receipt_id = "Z-2026-000001";
  pc.receipt_number = "Z-2026-000001";
  out["payment_captured"].Set(std::move(pc));
  schema::PaymentFailedT pf;
  pf.payment_ref = "pay_fail";
  pf.invoice_id = "inv-bk_gold4";
  pf.reason = "card declined";
  out["payment_failed"].Set(std::move(pf));
  schema::RefundRequestedT rr;
  rr.refund_id = "rf-cmd_gold-1";
  rr.payment_ref = "pay_gold";
  rr.invoice_id = "inv-bk_gold4";
  rr.credit_note_id = "G-2026-000001";
  rr.amount = 6000;
  out["refund_requested"].Set(std::move(rr));
  schema::RefundSubmittedT rs;
  rs.refund_id = "rf-cmd_gold-1";
  rs.provider_refund = "re_gold";
  out["refund_submitted"].Set(std::move(rs));
  schema::RefundSettledT rd;
  rd.refund_id = "rf-cmd_gold-1";
  rd.outcome = "succeeded";
  rd.value_us = 1'789'600'000'000'000;
  out["refund_settled"].Set(std::move(rd));
  schema::PeriodClosedT pcl;
  pcl.through_day = 20'758;
  out["period_closed"].Set(std::move(pcl));
  schema::SettlementImportedT si;
  si.import_id = "imp-gold";
  si.file_sha256.assign(32, 0x11);
  auto po = std::make_unique<schema::PayoutT>();
  po->payout_id = "po_gold";
  po->date_day = 20'759;
  po->currency = "EUR";
  po->gross = 12000;
  po->fees = 193;
  po->net = 11807;
  auto item = std::make_unique<schema::SettlementItemT>();
  item->type = "payment";
  item->reference = "pay_gold";
  item->amount = 12000;
  item->fee = 193;
  po->items.push_back(std::move(item));
  si.payouts.push_back(std::move(po));
  out["settlement_imported"].Set(std::move(si));
  schema::BankStatementImportedT bs;
  bs.import_id = "imp-gold2";
  bs.file_sha256.assign(32, 0x22);
  bs.statement_id = "STMT-1";
  bs.iban = "DE89370400440532013000";
  bs.currency = "EUR";
  auto bl = std::make_unique<schema::BankLineT>();
  bl->reference = "BANK-1";
  bl->amount = 11807;
  bl->booking_day = 20'760;
  bl->remittance = "Auszahlung po_gold";
  bs.lines.push_back(std::move(bl));
  out["bank_statement_imported"].Set(std::move(bs));
  schema::MatchedT m;
  m.import_id = "imp-gold2";
  m.kind = "payout_bank";
  m.subject = "po_gold";
  m.counterpart = "BANK-1";
  m.amount = 11807;
  out["matched"].Set(std::move(m));
  return out;
}

const fs::path kGolden = fs::path(SAALBUCH_TESTS_DIR) / "ledger" / "golden";

TEST(GoldenRecordsTest, EveryReleasedSchemaStillDecodes) {
  // SAALBUCH_WRITE_GOLDEN=v1, =v3 or =v4 writes that version's folder (done once
  // per released schema; the folders are never rewritten afterwards).
  if (const char* version = std::getenv("SAALBUCH_WRITE_GOLDEN")) {
    const std::string v(version);
    fs::create_directories(kGolden / version);
    for (auto& [name, payload] : v == "v4" ? V4Payloads() : v == "v3" ? V3Payloads() : CurrentPayloads()) {
      std::ofstream(kGolden / version / (name + ".fb"), std::ios::binary) << Encode(Envelope(payload));
    }
  }
  ASSERT_TRUE(fs::exists(kGolden / "v1")) << kGolden;
  int files = 0;
  for (const auto& version : fs::directory_iterator(kGolden)) {
    for (const auto& file : fs::directory_iterator(version.path())) {
      std::ifstream in(file.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const schema::Envelope* env = DecodeEnvelope(bytes);
      ASSERT_NE(env, nullptr) << file.path();
      EXPECT_EQ(env->tenant()->str(), "goldstadt");
      EXPECT_EQ(env->seq(), 7u);
      EXPECT_EQ(env->stream_version(), 3u);
      EXPECT_EQ(env->actor()->str(), "key:key_gold");
      ASSERT_EQ(env->prev_hash()->size(), 32u);
      EXPECT_NE(env->payload_type(), schema::Payload::NONE) << file.path();
      ++files;
    }
  }
  EXPECT_GE(files, 6 + 22 + 16);
}

TEST(GoldenRecordsTest, V3PayloadsDecodeToTheirFields) {
  auto read = [](const char* name) {
    std::ifstream in(kGolden / "v3" / name, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const std::string placed = read("booking_placed.fb");
  const auto* bp = DecodeEnvelope(placed)->payload_as_BookingPlaced();
  ASSERT_NE(bp, nullptr);
  EXPECT_EQ(bp->status()->str(), "held");
  EXPECT_EQ(bp->units(), 3u);
  EXPECT_EQ(bp->addons()->Get(0)->addon_id()->str(), "beamer");
  EXPECT_EQ(bp->person_id()->str(), "p_gold");
  EXPECT_EQ(bp->personal()->size(), 60u);
  const std::string right = read("right_granted.fb");
  const auto* rg = DecodeEnvelope(right)->payload_as_RightGranted();
  ASSERT_NE(rg, nullptr);
  EXPECT_EQ(rg->quota_minutes(), 480);
  EXPECT_TRUE(rg->needs_approval());
  const std::string moved = read("booking_rescheduled.fb");
  EXPECT_EQ(DecodeEnvelope(moved)->payload_as_BookingRescheduled()->session_id()->str(), "dienstag");
}

TEST(GoldenRecordsTest, CurrentEncodingOfV3DataIsUnchanged) {
  for (auto& [name, payload] : V3Payloads()) {
    std::ifstream in(kGolden / "v3" / (name + ".fb"), std::ios::binary);
    ASSERT_TRUE(in) << name;
    std::string golden((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(Encode(Envelope(payload)), golden) << name;
  }
}

TEST(GoldenRecordsTest, CurrentEncodingOfV4DataIsUnchanged) {
  for (auto& [name, payload] : V4Payloads()) {
    std::ifstream in(kGolden / "v4" / (name + ".fb"), std::ios::binary);
    ASSERT_TRUE(in) << name;
    std::string golden((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(Encode(Envelope(payload)), golden) << name;
  }
}

TEST(GoldenRecordsTest, V4PayloadsDecodeToTheirFields) {
  auto read = [](const char* name) {
    std::ifstream in(kGolden / "v4" / name, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const std::string invoice = read("invoice_issued.fb");
  const auto* ii = DecodeEnvelope(invoice)->payload_as_InvoiceIssued();
  ASSERT_NE(ii, nullptr);
  EXPECT_EQ(ii->number()->str(), "R-2026-000001");
  EXPECT_EQ(ii->lines()->Get(0)->tax(), 1916);
  const std::string captured = read("payment_captured.fb");
  EXPECT_EQ(DecodeEnvelope(captured)->payload_as_PaymentCaptured()->fee(), 193);
  const std::string placed = read("booking_placed.fb");
  EXPECT_EQ(DecodeEnvelope(placed)->payload_as_BookingPlaced()->placed_at_us(), 1'789'000'000'000'000);
}

TEST(GoldenRecordsTest, V1PayloadsDecodeToTheirFields) {
  auto read = [](const char* name) {
    std::ifstream in(kGolden / "v1" / name, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const std::string placed = read("booking_placed.fb");
  const auto* bp = DecodeEnvelope(placed)->payload_as_BookingPlaced();
  ASSERT_NE(bp, nullptr);
  EXPECT_EQ(bp->number()->str(), "B-2026-000042");
  EXPECT_EQ(bp->blocked_end_us() - bp->end_us(), 900'000'000);
  const std::string rules = read("rules_set.fb");
  const auto* rs = DecodeEnvelope(rules)->payload_as_RulesSet();
  ASSERT_NE(rs, nullptr);
  ASSERT_EQ(rs->opening()->size(), 1u);
  EXPECT_EQ(rs->opening()->Get(0)->end_minute(), 1200);
  EXPECT_EQ(rs->horizon_s(), 86400LL * 365);
  const std::string cancelled = read("booking_cancelled.fb");
  EXPECT_EQ(DecodeEnvelope(cancelled)->payload_as_BookingCancelled()->by()->str(), "booker");
}

// The current encoder still produces exactly the v1 bytes for v1 data: a
// changed field id or type would show up here first.
TEST(GoldenRecordsTest, CurrentEncodingOfV1DataIsUnchanged) {
  for (auto& [name, payload] : CurrentPayloads()) {
    std::ifstream in(kGolden / "v1" / (name + ".fb"), std::ios::binary);
    std::string golden((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(Encode(Envelope(payload)), golden) << name;
  }
}

}  // namespace
}  // namespace saalbuch::ledger
