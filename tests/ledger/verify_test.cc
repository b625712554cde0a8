// VerifyChain on good logs and on logs damaged behind the ledger's back: the
// database is reopened with plain RocksDB and a stored record is changed.

#include "ledger/verify.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "ledger/database.h"
#include "ledger/keys.h"
#include "ledger/rocks_log.h"
#include "tests/ledger/drafts.h"
#include "tests/support/scratch_dir.h"

namespace saalbuch::ledger {
namespace {

using testing_support::ResourceDraft;
using testing_support::ScratchDir;

constexpr Seq kRecords = 7;
const char kTenant[] = "stadt";
const char kOther[] = "dorf";

// Opens the data directory with RocksDB alone (every column family) and hands
// the family named `family` to `edit`.
void EditFamily(const std::string& path, const std::string& family,
                const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle*)>& edit) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const auto& n : names) descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(rocksdb::DBOptions(), path, descs, &handles, &raw);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == family) cf = handles[i];
  }
  ASSERT_NE(cf, nullptr) << "no column family '" << family << "'";
  edit(db.get(), cf);
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  ASSERT_TRUE(db->Close().ok());
}

std::string GetValue(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
  std::string v;
  auto s = db->Get(rocksdb::ReadOptions(), cf, key, &v);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return v;
}

void PutValue(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& key,
              const std::string& v) {
  auto s = db->Put(rocksdb::WriteOptions(), cf, key, v);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

class VerifyChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Open();
    for (Seq i = 1; i <= kRecords; ++i) {
      auto r = log_->Append(TenantId(kTenant), Drafts("room-" + std::to_string(i)), {});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
    for (int i = 1; i <= 3; ++i) {
      auto r = log_->Append(TenantId(kOther), Drafts("other-" + std::to_string(i)), {});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }

  static std::vector<EventDraft> Drafts(const std::string& resource) {
    std::vector<EventDraft> v;
    v.push_back(ResourceDraft(resource));
    return v;
  }

  void Open() {
    auto db = Database::Open(path(), {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    log_ = std::make_unique<RocksLog>(db_.get());
  }
  void Close() {
    log_.reset();
    db_.reset();
  }
  // Closes the ledger, edits a column family with plain RocksDB, reopens.
  void Tamper(const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle*)>& edit,
              const std::string& family = "log") {
    Close();
    EditFamily(path(), family, edit);
    Open();
  }

  VerifyReport MustVerify(const char* tenant = kTenant) {
    auto r = VerifyChain(*log_, TenantId(tenant));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  }

  std::string path() const { return dir_.Sub("db"); }

  ScratchDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<RocksLog> log_;
};

TEST_F(VerifyChainTest, IntactLogVerifiesToItsHead) {
  VerifyReport rep = MustVerify();
  EXPECT_TRUE(rep.ok()) << rep.problem;
  EXPECT_EQ(rep.records, kRecords);
  auto head = log_->GetHead(TenantId(kTenant));
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(rep.head.seq, head->seq);
  EXPECT_EQ(rep.head.hash, head->hash);
}

TEST_F(VerifyChainTest, TenantWithoutRecordsVerifiesEmpty) {
  VerifyReport rep = MustVerify("nobody");
  EXPECT_TRUE(rep.ok()) << rep.problem;
  EXPECT_EQ(rep.records, 0u);
  EXPECT_EQ(rep.head.seq, 0u);
}

TEST_F(VerifyChainTest, ChangedByteInStoredEnvelopeIsNamedByVerify) {
  Tamper([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
    const std::string key = keys::LogKey(kTenant, 4);
    std::string v = GetValue(db, cf, key);
    ASSERT_GT(v.size(), 40u);
    // Value layout: 32-byte chain hash ‖ envelope bytes. Flip one bit in the
    // middle of the envelope.
    v[32 + (v.size() - 32) / 2] ^= 0x01;
    PutValue(db, cf, key, v);
  });
  VerifyReport rep = MustVerify();
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(*rep.first_bad, 4u) << rep.problem;
  EXPECT_EQ(rep.records, 3u);
  EXPECT_EQ(rep.head.seq, 3u);
  EXPECT_FALSE(rep.problem.empty());
  // The other tenant's chain is not affected.
  EXPECT_TRUE(MustVerify(kOther).ok());
}

TEST_F(VerifyChainTest, ChangedByteOfFirstRecordIsNamedAsSeqOne) {
  Tamper([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
    const std::string key = keys::LogKey(kTenant, 1);
    std::string v = GetValue(db, cf, key);
    v.back() ^= 0x80;
    PutValue(db, cf, key, v);
  });
  VerifyReport rep = MustVerify();
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(*rep.first_bad, 1u) << rep.problem;
  EXPECT_EQ(rep.records, 0u);
}

TEST_F(VerifyChainTest, ChangedByteInStoredHashIsNamedByVerify) {
  Tamper([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
    const std::string key = keys::LogKey(kTenant, 5);
    std::string v = GetValue(db, cf, key);
    v[7] ^= 0x10;  // inside the 32-byte hash
    PutValue(db, cf, key, v);
  });
  VerifyReport rep = MustVerify();
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(*rep.first_bad, 5u) << rep.problem;
  EXPECT_EQ(rep.records, 4u);
}

TEST_F(VerifyChainTest, DeletedRecordInTheMiddleIsNamedAsGap) {
  Tamper([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), cf, keys::LogKey(kTenant, 3)).ok());
  });
  VerifyReport rep = MustVerify();
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(*rep.first_bad, 3u) << rep.problem;
  EXPECT_EQ(rep.records, 2u);
  EXPECT_NE(rep.problem.find("missing"), std::string::npos) << rep.problem;
}

TEST_F(VerifyChainTest, DeletedLastRecordIsCaughtByTheStoredHead) {
  Tamper([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), cf, keys::LogKey(kTenant, kRecords)).ok());
  });
  VerifyReport rep = MustVerify();
  ASSERT_FALSE(rep.ok()) << "a truncated tail must not verify";
  EXPECT_EQ(*rep.first_bad, kRecords) << rep.problem;
  EXPECT_EQ(rep.records, kRecords - 1);
}

TEST_F(VerifyChainTest, RehashedForgeryIsCaughtAtTheNextRecord) {
  // A forger changes a name inside record 3 and recomputes record 3's own
  // hash; the envelope still decodes, but record 4 was chained to the old
  // hash.
  Tamper([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
    const std::string key = keys::LogKey(kTenant, 3);
    std::string v = GetValue(db, cf, key);
    std::string bytes = v.substr(32);
    auto pos = bytes.find("Saal room-3");
    ASSERT_NE(pos, std::string::npos);
    bytes[pos] = 'X';
    ASSERT_NE(DecodeEnvelope(bytes), nullptr);
    std::string prev = GetValue(db, cf, keys::LogKey(kTenant, 2)).substr(0, 32);
    Sha256 h = Sha256Of(prev, bytes);
    PutValue(db, cf, key, std::string(AsBytes(h)) + bytes);
  });
  VerifyReport rep = MustVerify();
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(*rep.first_bad, 4u) << rep.problem;
  EXPECT_EQ(rep.records, 3u);
}

TEST_F(VerifyChainTest, RecordCopiedFromAnotherTenantIsNamed) {
  // The other tenant's first record has a valid hash for position 1 (both
  // chains start from zeros) but names the wrong tenant.
  Tamper([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
    PutValue(db, cf, keys::LogKey(kTenant, 1), GetValue(db, cf, keys::LogKey(kOther, 1)));
  });
  VerifyReport rep = MustVerify();
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(*rep.first_bad, 1u) << rep.problem;
  EXPECT_NE(rep.problem.find("tenant"), std::string::npos) << rep.problem;
}

TEST_F(VerifyChainTest, ValueShorterThanItsHashIsNeverReportedGood) {
  Tamper([](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
    PutValue(db, cf, keys::LogKey(kTenant, 2), std::string(10, 'x'));
  });
  auto r = VerifyChain(*log_, TenantId(kTenant));
  if (r.ok()) {
    ASSERT_FALSE(r->ok());
    EXPECT_EQ(*r->first_bad, 2u);
  } else {
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  }
}

TEST_F(VerifyChainTest, HeadRecordThatNamesAnOlderRecordIsReported) {
  // The head says 5 while the chain runs to 7: either the head was rolled
  // back or two records were slipped in behind it.
  std::vector<Record> records;
  ASSERT_TRUE(log_->Read(TenantId(kTenant), 5, 1, &records).ok());
  ASSERT_EQ(records.size(), 1u);
  std::string head_value;
  keys::AppendBigEndian64(&head_value, 5);
  head_value.append(AsBytes(records[0].hash));
  Tamper([&](rocksdb::DB* db,
             rocksdb::ColumnFamilyHandle* cf) { PutValue(db, cf, keys::HeadKey(kTenant), head_value); },
         "meta");
  VerifyReport rep = MustVerify();
  ASSERT_FALSE(rep.ok()) << "records beyond the stored head must not verify";
  EXPECT_NE(rep.problem.find("head"), std::string::npos) << rep.problem;
}

// When the stored head is behind the chain, the first record it does not
// cover is named (not a seq beyond the last record).
TEST_F(VerifyChainTest, RecordsBeyondTheStoredHeadAreNamedFromTheFirstUncoveredOne) {
  std::vector<Record> records;
  ASSERT_TRUE(log_->Read(TenantId(kTenant), 5, 1, &records).ok());
  ASSERT_EQ(records.size(), 1u);
  std::string head_value;
  keys::AppendBigEndian64(&head_value, 5);
  head_value.append(AsBytes(records[0].hash));
  Tamper([&](rocksdb::DB* db,
             rocksdb::ColumnFamilyHandle* cf) { PutValue(db, cf, keys::HeadKey(kTenant), head_value); },
         "meta");
  VerifyReport rep = MustVerify();
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(*rep.first_bad, 6u) << rep.problem;
  EXPECT_LE(*rep.first_bad, kRecords) << "first_bad must name a stored record";
}

}  // namespace
}  // namespace saalbuch::ledger
