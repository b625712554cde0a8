// saalbuch-replay on damaged copies: a changed byte in one stored record is
// named by `verify`, which exits non-zero; a clean copy verifies.

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "ledger/keys.h"
#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

// Flips one byte of record `seq` of `tenant` in the copy at `data`.
void Damage(const std::filesystem::path& data, const std::string& tenant, Seq seq, std::size_t offset) {
  rocksdb::Options opts;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* n : {"default", "log", "meta", "idempotency", "projections"}) cfs.emplace_back(n, opts);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(opts, (data / "db").string(), cfs, &handles, &db).ok());
  std::string v;
  const std::string key = ledger::keys::LogKey(tenant, seq);
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), handles[1], key, &v).ok());
  ASSERT_LT(offset, v.size());
  v[offset] = static_cast<char>(v[offset] ^ 0x01);
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[1], key, v).ok());
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  ASSERT_TRUE(db->Close().ok());
  delete db;
}

TEST(ReplayToolTest, ChangedByteInOneRecordIsNamedByVerify) {
  const auto dir = FreshDir("replay");
  {
    Server server(dir / "live", {"--demo"});
    server.Start();
    EXPECT_EQ(server.Terminate(), 0);
  }
  // The demo seed writes 38 records: tenant, admin key, 9 resources (created +
  // rules each), a session, an add-on, the finance settings, a tariff, the
  // door of the hall and its three parts, the public settings and four
  // back-office accounts (invited, password set);
  // and the tenant's first signed checkpoint, which opens the second batch.
  // The operator's own log has 4: its creation, its first checkpoint and
  // the demo operator's account (invited, password set).
  auto clean = Replay({"verify", "--data", (dir / "live").string(), "--json"});
  ASSERT_EQ(clean.exit_code, 0) << clean.out;
  auto report = nlohmann::json::parse(clean.out);
  std::map<std::string, int> records;
  for (const auto& t : report) records[t["tenant"].get<std::string>()] = t["records"].get<int>();
  EXPECT_EQ(records, (std::map<std::string, int>{{"_operator", 4}, {"buergerhaus", 38}})) << clean.out;
  for (std::size_t offset : {std::size_t{40}, std::size_t{3}}) {  // in the envelope bytes; in the stored hash
    const auto copy = dir / ("copy" + std::to_string(offset));
    std::filesystem::copy(dir / "live", copy, std::filesystem::copy_options::recursive);
    Damage(copy, "buergerhaus", 4, offset);
    auto r = Replay({"verify", "--data", copy.string()});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("DAMAGED at record 4"), std::string::npos) << r.out;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace saalbuch::e2e
