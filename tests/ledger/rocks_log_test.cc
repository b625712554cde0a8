// RocksLog against a real RocksDB in a scratch directory: numbering, the hash
// chain, the Merkle tree, envelopes, idempotency records, tenant isolation, reopening and
// read-only use.

#include "ledger/rocks_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "common/merkle.h"
#include "ledger/database.h"
#include "ledger/keys.h"
#include "ledger/tree.h"
#include "ledger/verify.h"
#include "tests/ledger/drafts.h"
#include "tests/support/scratch_dir.h"

namespace saalbuch::ledger {
namespace {

using testing_support::BookingDraft;
using testing_support::One;
using testing_support::ResourceDraft;
using testing_support::ScratchDir;

const Sha256 kZeroHash{};

class RocksLogTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(DatabaseOptions options = {}) {
    log_.reset();
    db_.reset();
    auto db = Database::Open(dir_.Sub("db"), options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    log_ = std::make_unique<RocksLog>(db_.get());
  }

  void Close() {
    log_.reset();
    db_.reset();
  }

  AppendResult MustAppend(const std::string& tenant, std::vector<EventDraft> drafts,
                          const std::vector<IdempotencyRecord>& idem = {}) {
    auto r = log_->Append(TenantId(tenant), std::move(drafts), idem);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : AppendResult{};
  }

  std::vector<Record> ReadAll(const std::string& tenant, Seq from = 1, std::size_t max = 1000) {
    std::vector<Record> out;
    Status s = log_->Read(TenantId(tenant), from, max, &out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  Head MustHead(const std::string& tenant) {
    auto h = log_->GetHead(TenantId(tenant));
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? *h : Head{};
  }

  ScratchDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<RocksLog> log_;
};

TEST_F(RocksLogTest, UnknownTenantHasEmptyHeadAndNoRecords) {
  Head h = MustHead("nobody");
  EXPECT_EQ(h.seq, 0u);
  EXPECT_EQ(h.hash, kZeroHash);
  EXPECT_TRUE(ReadAll("nobody").empty());
  EXPECT_TRUE(log_->Tenants().empty());
}

TEST_F(RocksLogTest, FirstAppendIsSeqOneChainedFromZeroHash) {
  AppendResult r = MustAppend("stadt", One(ResourceDraft("saal-1")));
  EXPECT_EQ(r.first, 1u);
  EXPECT_EQ(r.head.seq, 1u);

  auto records = ReadAll("stadt");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].seq, 1u);
  EXPECT_EQ(records[0].hash, Sha256Of(AsBytes(kZeroHash), records[0].bytes));
  EXPECT_EQ(r.head.hash, records[0].hash);

  const schema::Envelope* env = DecodeEnvelope(records[0].bytes);
  ASSERT_NE(env, nullptr);
  ASSERT_NE(env->prev_hash(), nullptr);
  ASSERT_EQ(env->prev_hash()->size(), 32u);
  for (auto b : *env->prev_hash()) EXPECT_EQ(b, 0);
}

TEST_F(RocksLogTest, AppendedRecordsReadBackGaplessWithChainHashes) {
  constexpr int kRecords = 6;
  for (int i = 0; i < kRecords; ++i) {
    AppendResult r = MustAppend("stadt", One(ResourceDraft("saal-" + std::to_string(i))));
    EXPECT_EQ(r.first, static_cast<Seq>(i + 1));
    EXPECT_EQ(r.head.seq, static_cast<Seq>(i + 1));
  }
  auto records = ReadAll("stadt");
  ASSERT_EQ(records.size(), static_cast<std::size_t>(kRecords));
  Sha256 prev = kZeroHash;
  for (int i = 0; i < kRecords; ++i) {
    const Record& rec = records[i];
    EXPECT_EQ(rec.seq, static_cast<Seq>(i + 1));
    // chain hash(n) = SHA-256(chain hash(n-1) ‖ bytes(n)), computed here
    // independently of ChainHash.
    EXPECT_EQ(rec.hash, Sha256Of(AsBytes(prev), rec.bytes)) << "seq " << rec.seq;
    EXPECT_EQ(rec.hash, ChainHash(prev, rec.bytes));
    const schema::Envelope* env = DecodeEnvelope(rec.bytes);
    ASSERT_NE(env, nullptr);
    EXPECT_EQ(env->seq(), rec.seq);
    ASSERT_NE(env->tenant(), nullptr);
    EXPECT_EQ(env->tenant()->str(), "stadt");
    ASSERT_NE(env->prev_hash(), nullptr);
    EXPECT_TRUE(std::equal(env->prev_hash()->begin(), env->prev_hash()->end(), prev.begin(), prev.end()))
        << "prev_hash of seq " << rec.seq;
    prev = rec.hash;
  }
  Head h = MustHead("stadt");
  EXPECT_EQ(h.seq, static_cast<Seq>(kRecords));
  EXPECT_EQ(h.hash, prev);
}

TEST_F(RocksLogTest, EnvelopeCarriesEveryDraftFieldAndThePayload) {
  MustAppend("stadt", One(ResourceDraft("saal-7", 3)));
  auto records = ReadAll("stadt");
  ASSERT_EQ(records.size(), 1u);
  const schema::Envelope* env = DecodeEnvelope(records[0].bytes);
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(env->stream_id()->str(), "resource/saal-7");
  EXPECT_EQ(env->stream_version(), 3u);
  EXPECT_EQ(env->recorded_at_us(), 1'770'000'000'000'003);
  EXPECT_EQ(env->actor()->str(), "key:admin");
  EXPECT_EQ(env->command_id()->str(), "cmd-saal-7");
  EXPECT_EQ(env->correlation_id()->str(), "corr-saal-7");
  ASSERT_EQ(env->payload_type(), schema::Payload::ResourceCreated);
  const auto* p = env->payload_as_ResourceCreated();
  EXPECT_EQ(p->resource_id()->str(), "saal-7");
  EXPECT_EQ(p->kind()->str(), "room");
  EXPECT_EQ(p->name()->str(), "Saal saal-7");
}

TEST_F(RocksLogTest, BatchOfDraftsGetsConsecutiveSeqsChainedWithinTheBatch) {
  MustAppend("stadt", One(ResourceDraft("first")));
  std::vector<EventDraft> batch;
  batch.push_back(BookingDraft("bk-a", 1'000'000, 2'000'000));
  batch.push_back(BookingDraft("bk-b", 3'000'000, 4'000'000));
  batch.push_back(ResourceDraft("third"));
  AppendResult r = MustAppend("stadt", std::move(batch));
  EXPECT_EQ(r.first, 2u);
  EXPECT_EQ(r.head.seq, 4u);

  auto records = ReadAll("stadt");
  ASSERT_EQ(records.size(), 4u);
  for (std::size_t i = 1; i < records.size(); ++i) {
    EXPECT_EQ(records[i].seq, records[i - 1].seq + 1);
    EXPECT_EQ(records[i].hash, Sha256Of(AsBytes(records[i - 1].hash), records[i].bytes));
  }
  EXPECT_EQ(r.head.hash, records.back().hash);
  const auto* second = DecodeEnvelope(records[1].bytes);
  ASSERT_NE(second, nullptr);
  ASSERT_EQ(second->payload_type(), schema::Payload::BookingPlaced);
  EXPECT_EQ(second->payload_as_BookingPlaced()->booking_id()->str(), "bk-a");

  // Reading from the middle with a limit gives exactly that window.
  auto window = ReadAll("stadt", 2, 2);
  ASSERT_EQ(window.size(), 2u);
  EXPECT_EQ(window[0].seq, 2u);
  EXPECT_EQ(window[1].seq, 3u);
  EXPECT_TRUE(ReadAll("stadt", 5).empty());
}

TEST_F(RocksLogTest, EmptyAppendChangesNothing) {
  AppendResult before = MustAppend("stadt", One(ResourceDraft("saal-1")));
  AppendResult r = MustAppend("stadt", {});
  EXPECT_EQ(r.first, 2u);
  EXPECT_EQ(r.head.seq, before.head.seq);
  EXPECT_EQ(r.head.hash, before.head.hash);
  EXPECT_EQ(ReadAll("stadt").size(), 1u);
}

TEST_F(RocksLogTest, IdempotencyRecordIsStoredWithTheEventsAndReadable) {
  AppendResult r = MustAppend("stadt", One(BookingDraft("bk-1", 10, 20)),
                              {{"idem-1", "outcome-1"}, {"idem-2", "outcome-2"}});
  EXPECT_EQ(r.head.seq, 1u);

  auto v = log_->GetIdempotency(TenantId("stadt"), "idem-1");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_TRUE(v->has_value());
  EXPECT_EQ(**v, "outcome-1");
  auto v2 = log_->GetIdempotency(TenantId("stadt"), "idem-2");
  ASSERT_TRUE(v2.ok());
  ASSERT_TRUE(v2->has_value());
  EXPECT_EQ(**v2, "outcome-2");

  auto missing = log_->GetIdempotency(TenantId("stadt"), "idem-3");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  auto other_tenant = log_->GetIdempotency(TenantId("dorf"), "idem-1");
  ASSERT_TRUE(other_tenant.ok());
  EXPECT_FALSE(other_tenant->has_value()) << "idempotency keys must not leak across tenants";

  Close();
  Open();
  auto after = log_->GetIdempotency(TenantId("stadt"), "idem-1");
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE(after->has_value());
  EXPECT_EQ(**after, "outcome-1");
  EXPECT_EQ(MustHead("stadt").seq, 1u);
}

TEST_F(RocksLogTest, IdempotencyRecordAloneMovesNeitherHeadNorTenantList) {
  MustAppend("stadt", One(ResourceDraft("saal-1")));
  Head before = MustHead("stadt");
  AppendResult r = MustAppend("stadt", {}, {{"rejected-cmd", "a rejection"}});
  EXPECT_EQ(r.head.seq, before.seq);
  EXPECT_EQ(r.head.hash, before.hash);
  auto v = log_->GetIdempotency(TenantId("stadt"), "rejected-cmd");
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(v->has_value());
  EXPECT_EQ(**v, "a rejection");

  // A tenant with only idempotency records has no record and is not listed.
  MustAppend("leer", {}, {{"k", "v"}});
  EXPECT_EQ(MustHead("leer").seq, 0u);
  auto tenants = log_->Tenants();
  ASSERT_EQ(tenants.size(), 1u);
  EXPECT_EQ(tenants[0], TenantId("stadt"));
}

TEST_F(RocksLogTest, TenantsAreIsolatedAndEachCountsFromOne) {
  // "ab" starts with "a": the length prefix of the key layout must keep them
  // apart.
  for (int i = 0; i < 3; ++i) MustAppend("a", One(ResourceDraft("a" + std::to_string(i))));
  for (int i = 0; i < 5; ++i) MustAppend("ab", One(ResourceDraft("ab" + std::to_string(i))));
  for (int i = 0; i < 2; ++i) MustAppend("b", One(ResourceDraft("b" + std::to_string(i))));

  const std::vector<std::pair<std::string, std::size_t>> expected = {{"a", 3}, {"ab", 5}, {"b", 2}};
  for (const auto& [tenant, count] : expected) {
    auto records = ReadAll(tenant);
    ASSERT_EQ(records.size(), count) << tenant;
    Sha256 prev = kZeroHash;
    for (std::size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ(records[i].seq, i + 1) << tenant;
      EXPECT_EQ(records[i].hash, Sha256Of(AsBytes(prev), records[i].bytes)) << tenant;
      const auto* env = DecodeEnvelope(records[i].bytes);
      ASSERT_NE(env, nullptr);
      EXPECT_EQ(env->tenant()->str(), tenant);
      EXPECT_EQ(env->payload_as_ResourceCreated()->resource_id()->str(), tenant + std::to_string(i));
      prev = records[i].hash;
    }
    Head h = MustHead(tenant);
    EXPECT_EQ(h.seq, count) << tenant;
    EXPECT_EQ(h.hash, prev) << tenant;
    auto verified = VerifyChain(*log_, TenantId(tenant));
    ASSERT_TRUE(verified.ok());
    EXPECT_TRUE(verified->ok()) << tenant << ": " << verified->problem;
  }
  EXPECT_EQ(log_->Tenants(), (std::vector<TenantId>{TenantId("a"), TenantId("ab"), TenantId("b")}));
}

TEST_F(RocksLogTest, InvalidTenantIdIsRefused) {
  auto empty = log_->Append(TenantId(""), One(ResourceDraft("x")), {});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  auto huge = log_->Append(TenantId(std::string(256, 't')), One(ResourceDraft("x")), {});
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(log_->Tenants().empty());
}

TEST_F(RocksLogTest, ReopenedDatabaseKeepsHeadAndRecordsAndContinuesTheChain) {
  for (int i = 0; i < 4; ++i) MustAppend("stadt", One(ResourceDraft("r" + std::to_string(i))));
  MustAppend("dorf", One(ResourceDraft("d")));
  Head before = MustHead("stadt");
  auto records_before = ReadAll("stadt");

  Close();
  Open();

  Head after = MustHead("stadt");
  EXPECT_EQ(after.seq, before.seq);
  EXPECT_EQ(after.hash, before.hash);
  auto records_after = ReadAll("stadt");
  ASSERT_EQ(records_after.size(), records_before.size());
  for (std::size_t i = 0; i < records_after.size(); ++i) {
    EXPECT_EQ(records_after[i].seq, records_before[i].seq);
    EXPECT_EQ(records_after[i].hash, records_before[i].hash);
    EXPECT_EQ(records_after[i].bytes, records_before[i].bytes);
  }
  EXPECT_EQ(log_->Tenants(), (std::vector<TenantId>{TenantId("dorf"), TenantId("stadt")}));

  AppendResult r = MustAppend("stadt", One(ResourceDraft("after-restart")));
  EXPECT_EQ(r.first, 5u);
  auto fifth = ReadAll("stadt", 5);
  ASSERT_EQ(fifth.size(), 1u);
  EXPECT_EQ(fifth[0].hash, Sha256Of(AsBytes(before.hash), fifth[0].bytes));
  auto verified = VerifyChain(*log_, TenantId("stadt"));
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->problem;
  EXPECT_EQ(verified->records, 5u);
}

TEST_F(RocksLogTest, ReadOnlyOpenSeesTheDataAndRefusesAppend) {
  for (int i = 0; i < 3; ++i) MustAppend("stadt", One(ResourceDraft("r" + std::to_string(i))));
  MustAppend("stadt", {}, {{"idem", "value"}});
  Head before = MustHead("stadt");
  Close();

  DatabaseOptions ro;
  ro.read_only = true;
  Open(ro);
  ASSERT_TRUE(db_->read_only());
  Head h = MustHead("stadt");
  EXPECT_EQ(h.seq, 3u);
  EXPECT_EQ(h.hash, before.hash);
  EXPECT_EQ(ReadAll("stadt").size(), 3u);
  EXPECT_EQ(log_->Tenants(), std::vector<TenantId>{TenantId("stadt")});
  auto idem = log_->GetIdempotency(TenantId("stadt"), "idem");
  ASSERT_TRUE(idem.ok());
  ASSERT_TRUE(idem->has_value());
  EXPECT_EQ(**idem, "value");
  auto verified = VerifyChain(*log_, TenantId("stadt"));
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->problem;

  auto r = log_->Append(TenantId("stadt"), One(ResourceDraft("refused")), {});
  EXPECT_FALSE(r.ok());
  auto idem_only = log_->Append(TenantId("stadt"), {}, {{"k", "v"}});
  EXPECT_FALSE(idem_only.ok());

  // Nothing reached the disk: a writable reopen sees the old head.
  Close();
  Open();
  EXPECT_EQ(MustHead("stadt").seq, 3u);
  auto k = log_->GetIdempotency(TenantId("stadt"), "k");
  ASSERT_TRUE(k.ok());
  EXPECT_FALSE(k->has_value());
}

TEST_F(RocksLogTest, SecondaryOpenBesideARunningWriterSeesItsRecords) {
  for (int i = 0; i < 3; ++i) MustAppend("stadt", One(ResourceDraft("r" + std::to_string(i))));
  DatabaseOptions ro;
  ro.secondary = true;
  auto reader_db = Database::Open(dir_.Sub("db"), ro);
  ASSERT_TRUE(reader_db.ok()) << reader_db.status().ToString();
  RocksLog reader(reader_db->get());
  auto h = reader.GetHead(TenantId("stadt"));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->seq, 3u);
  EXPECT_EQ(h->hash, MustHead("stadt").hash);
  auto verified = VerifyChain(reader, TenantId("stadt"));
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->problem;
}

TEST_F(RocksLogTest, MissingDirectoryIsNotCreatedWhenCreationIsOff) {
  DatabaseOptions opts;
  opts.create_if_missing = false;
  auto db = Database::Open(dir_.Sub("absent"), opts);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kIOError);
}

// ---- Write-model snapshots (opaque bytes here; commands/snapshot.h) ----

TEST_F(RocksLogTest, SnapshotsAreChunkedKeptNewestFirstAndReplacedWhole) {
  const TenantId t("stadt");
  MustAppend("stadt", One(ResourceDraft("saal")));
  std::string big(9u << 20, '\0');  // three 4 MiB chunks
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 4096);
  ASSERT_TRUE(log_->PutSnapshot(t, 10, big, 2).ok());
  ASSERT_TRUE(log_->PutSnapshot(t, 20, "twenty", 2).ok());
  EXPECT_EQ(*log_->SnapshotSeqs(t), (std::vector<Seq>{20, 10}));
  EXPECT_EQ(*log_->GetSnapshot(t, 10), big);
  // A third one drops the oldest; at the same seq, the old bytes go whole
  // (no chunk of the longer one survives behind the shorter one).
  ASSERT_TRUE(log_->PutSnapshot(t, 30, big, 2).ok());
  EXPECT_EQ(*log_->SnapshotSeqs(t), (std::vector<Seq>{30, 20}));
  EXPECT_EQ(log_->GetSnapshot(t, 10).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(log_->PutSnapshot(t, 30, "short", 2).ok());
  EXPECT_EQ(*log_->GetSnapshot(t, 30), "short");
  ASSERT_TRUE(log_->PutSnapshot(t, 40, "", 1).ok());
  EXPECT_EQ(*log_->SnapshotSeqs(t), (std::vector<Seq>{40}));
  EXPECT_EQ(*log_->GetSnapshot(t, 40), "");
  // Another tenant's snapshots are its own; snapshots make no tenant.
  ASSERT_TRUE(log_->PutSnapshot(TenantId("dorf"), 5, "dorf", 2).ok());
  EXPECT_EQ(*log_->SnapshotSeqs(t), (std::vector<Seq>{40}));
  EXPECT_EQ(log_->Tenants(), (std::vector<TenantId>{t}));
  // They survive a reopen, and a read-only open reads but never writes them.
  Close();
  DatabaseOptions ro;
  ro.read_only = true;
  Open(ro);
  EXPECT_EQ(*log_->GetSnapshot(t, 40), "");
  EXPECT_EQ(*log_->GetSnapshot(TenantId("dorf"), 5), "dorf");
  EXPECT_FALSE(log_->PutSnapshot(t, 50, "x", 2).ok());
}

TEST_F(RocksLogTest, TenantsSkipsEveryKeyOfATenantButFindsEachOne) {
  for (const char* t : {"a", "b-2", "zz", "stadt-musterhausen"}) {
    for (int i = 0; i < 3; ++i) {
      std::string id = "r";  // appended, not "r" + …: GCC 12's false -Wrestrict at -O3 (PR 105329)
      id += std::to_string(i);
      MustAppend(t, One(ResourceDraft(id)));
    }
    ASSERT_TRUE(log_->PutSnapshot(TenantId(t), 3, std::string(100, 'x'), 2).ok());
  }
  EXPECT_EQ(log_->Tenants(), (std::vector<TenantId>{TenantId("a"), TenantId("b-2"),
                                                    TenantId("stadt-musterhausen"), TenantId("zz")}));
}

TEST_F(RocksLogTest, SnapshotFilesLeaveNothingBehindAndACrashedOneIsRemovedAtOpen) {
  const TenantId t("stadt");
  MustAppend("stadt", One(ResourceDraft("saal")));
  ASSERT_TRUE(log_->PutSnapshot(t, 1, std::string(5u << 20, 's'), 2).ok());
  auto leftovers = [&] {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_.Sub("db"))) {
      n += e.path().filename().string().find("saalbuch-snapshot-") == 0;
    }
    return n;
  };
  EXPECT_EQ(leftovers(), 0);
  // A table file a kill -9 left before its ingestion.
  std::ofstream(dir_.Sub("db") + "/saalbuch-snapshot-stadt-7.sst.tmp") << "half";
  EXPECT_EQ(leftovers(), 1);
  Close();
  Open();
  EXPECT_EQ(leftovers(), 0);
  EXPECT_EQ(log_->GetSnapshot(t, 1)->size(), 5u << 20);
}

// The root of records 1..size by RFC 6962's definition, from the bytes.
Sha256 NaiveRoot(const std::vector<Record>& records, std::size_t size) {
  std::vector<Sha256> level;
  for (std::size_t i = 0; i < size; ++i) level.push_back(merkle::LeafHash(records[i].bytes));
  const std::function<Sha256(std::size_t, std::size_t)> mth = [&](std::size_t b, std::size_t e) {
    if (e - b == 1) return level[b];
    std::size_t k = 1;
    while (2 * k < e - b) k *= 2;
    return merkle::NodeHash(mth(b, b + k), mth(b + k, e));
  };
  return size == 0 ? merkle::EmptyRoot() : mth(0, size);
}

// Batches of 1–5 records for two tenants: the stored tree gives, at every
// size, the root of the definition, and proofs that verify against it.
TEST_F(RocksLogTest, MerkleTreeIsStoredWithTheRecordsAndGivesRootsAndProofs) {
  for (int i = 0, n = 0; n < 100; ++i) {
    std::vector<EventDraft> batch;
    for (int k = 0; k <= i % 5 && n < 100; ++k, ++n) batch.push_back(ResourceDraft("r" + std::to_string(n)));
    MustAppend("stadt", std::move(batch));
    MustAppend("dorf", One(ResourceDraft("d" + std::to_string(i))));
  }
  const auto records = ReadAll("stadt");
  ASSERT_EQ(records.size(), 100u);
  const auto nodes = TreeNodes(*log_, TenantId("stadt"));
  for (std::size_t size = 1; size <= 100; ++size) {
    auto root = merkle::Root(size, nodes);
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    EXPECT_EQ(*root, NaiveRoot(records, size)) << size;
  }
  // Every perfect subtree above the leaves is stored.
  for (int level = 1; level <= 6; ++level) {
    for (std::uint64_t i = 0; (i + 1) << level <= 100; ++i) {
      auto stored = log_->StoredTreeNode(TenantId("stadt"), level, i);
      ASSERT_TRUE(stored.ok() && stored->has_value()) << level << "/" << i;
    }
  }
  EXPECT_FALSE(log_->StoredTreeNode(TenantId("stadt"), 1, 50)->has_value());  // beyond the head
  const Sha256 root = NaiveRoot(records, 100);
  for (std::uint64_t i : {0u, 1u, 37u, 63u, 64u, 98u, 99u}) {
    auto proof = merkle::InclusionProof(i, 100, nodes);
    ASSERT_TRUE(proof.ok());
    EXPECT_TRUE(merkle::VerifyInclusion(merkle::LeafHash(records[i].bytes), i, 100, *proof, root)) << i;
  }
  for (std::uint64_t m : {1u, 7u, 32u, 33u, 99u, 100u}) {
    auto proof = merkle::ConsistencyProof(m, 100, nodes);
    ASSERT_TRUE(proof.ok());
    EXPECT_TRUE(merkle::VerifyConsistency(m, 100, NaiveRoot(records, m), root, *proof)) << m;
  }
  // The other tenant's tree is its own.
  EXPECT_EQ(*merkle::Root(20, TreeNodes(*log_, TenantId("dorf"))), NaiveRoot(ReadAll("dorf"), 20));
}

// A record changed under the stored tree (an accepted rewrite): the stale
// nodes give the old root until RebuildTree hashes the records again.
TEST_F(RocksLogTest, RebuildTreeReplacesNodesOfChangedRecords) {
  for (int i = 0; i < 8; ++i) MustAppend("stadt", One(ResourceDraft("r" + std::to_string(i))));
  const Sha256 before = NaiveRoot(ReadAll("stadt"), 8);
  std::string v;
  ASSERT_TRUE(db_->db()->Get(rocksdb::ReadOptions(), db_->cf(Cf::kLog), keys::LogKey("stadt", 3), &v).ok());
  v[v.size() - 1] ^= 0x01;  // a byte of record 3 (padding; the envelope still decodes)
  ASSERT_TRUE(db_->db()->Put(rocksdb::WriteOptions(), db_->cf(Cf::kLog), keys::LogKey("stadt", 3), v).ok());
  const Sha256 after = NaiveRoot(ReadAll("stadt"), 8);
  ASSERT_NE(after, before);
  EXPECT_EQ(*merkle::Root(8, TreeNodes(*log_, TenantId("stadt"))), before);  // stale
  ASSERT_TRUE(log_->RebuildTree(TenantId("stadt")).ok());
  EXPECT_EQ(*merkle::Root(8, TreeNodes(*log_, TenantId("stadt"))), after);
  MustAppend("stadt", One(ResourceDraft("next")));  // the writer goes on from the rebuilt frontier
  EXPECT_EQ(*merkle::Root(9, TreeNodes(*log_, TenantId("stadt"))), NaiveRoot(ReadAll("stadt"), 9));
}

// A data directory written before the tree: read-only readers compute the
// missing nodes; the writer stores them at its next open and goes on.
TEST_F(RocksLogTest, LogWithoutATreeGetsOneAtOpen) {
  for (int i = 0; i < 37; ++i) MustAppend("stadt", One(ResourceDraft("r" + std::to_string(i))));
  const std::string prefix = keys::TenantPrefix("stadt");
  rocksdb::WriteBatch erase;
  ASSERT_TRUE(erase.DeleteRange(db_->cf(Cf::kMeta), prefix + "m", prefix + "n").ok());
  ASSERT_TRUE(erase.Delete(db_->cf(Cf::kMeta), keys::TreeSizeKey("stadt")).ok());
  ASSERT_TRUE(db_->db()->Write(rocksdb::WriteOptions(), &erase).ok());
  EXPECT_FALSE(log_->StoredTreeNode(TenantId("stadt"), 1, 0)->has_value());
  const auto records = ReadAll("stadt");
  EXPECT_EQ(*merkle::Root(37, TreeNodes(*log_, TenantId("stadt"))), NaiveRoot(records, 37));

  Close();
  Open();
  MustAppend("stadt", One(ResourceDraft("after")));
  EXPECT_TRUE(log_->StoredTreeNode(TenantId("stadt"), 5, 0)->has_value());
  EXPECT_TRUE(log_->StoredTreeNode(TenantId("stadt"), 1, 18)->has_value());  // records 37, 38
  EXPECT_EQ(*merkle::Root(38, TreeNodes(*log_, TenantId("stadt"))), NaiveRoot(ReadAll("stadt"), 38));
}

}  // namespace
}  // namespace saalbuch::ledger
