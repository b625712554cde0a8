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

std::string Encode(const schema::EnvelopeT& e) {
  flatbuffers::FlatBufferBuilder fbb;
  schema::FinishEnvelopeBuffer(fbb, schema::Envelope::Pack(fbb, &e));
  return {reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()};
}

const fs::path kGolden = fs::path(SAALBUCH_TESTS_DIR) / "ledger" / "golden";

TEST(GoldenRecordsTest, EveryReleasedSchemaStillDecodes) {
  if (std::getenv("SAALBUCH_WRITE_GOLDEN") != nullptr) {
    fs::create_directories(kGolden / "v1");
    for (auto& [name, payload] : CurrentPayloads()) {
      std::ofstream(kGolden / "v1" / (name + ".fb"), std::ios::binary) << Encode(Envelope(payload));
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
  EXPECT_GE(files, 6);
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
