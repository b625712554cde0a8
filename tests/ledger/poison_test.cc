// A failed durable write poisons the tenant's log: the ledger refuses every
// later append rather than pretending, until a restart re-reads the head.
// Failures are injected through a RocksDB Env whose writable files fail on
// demand.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ledger/database.h"
#include "ledger/rocks_log.h"
#include "ledger/verify.h"
#include "tests/ledger/drafts.h"
#include "tests/support/failing_env.h"
#include "tests/support/scratch_dir.h"

namespace saalbuch::ledger {
namespace {

using testing_support::FailingEnv;
using testing_support::OneResource;
using testing_support::ResourceDraft;
using testing_support::ScratchDir;

class PoisonTest : public ::testing::Test {
 protected:
  void Open(rocksdb::Env* env) {
    log_.reset();
    db_.reset();
    DatabaseOptions opts;
    opts.env = env;
    auto db = Database::Open(dir_.Sub("db"), opts);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    log_ = std::make_unique<RocksLog>(db_.get());
  }

  ScratchDir dir_;
  FailingEnv env_;  // outlives the database (declared before it)
  std::unique_ptr<Database> db_;
  std::unique_ptr<RocksLog> log_;
};

TEST_F(PoisonTest, FailedWritePoisonsTheTenantUntilRestart) {
  Open(&env_);
  const TenantId tenant("stadt");
  for (int i = 0; i < 3; ++i) {
    auto r = log_->Append(tenant, OneResource("ok-" + std::to_string(i)), {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  env_.fail = true;
  auto failed = log_->Append(tenant, OneResource("during-failure"), {{"idem-fail", "x"}});
  env_.fail = false;
  ASSERT_FALSE(failed.ok()) << "an append whose write failed must not be acknowledged";
  EXPECT_NE(failed.status().code(), StatusCode::kOk);

  // The storage works again, but the log does not pretend: it refuses.
  auto refused = log_->Append(tenant, OneResource("after-failure"), {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPoisoned) << refused.status().ToString();
  auto refused_again = log_->Append(tenant, {}, {{"idem-only", "y"}});
  ASSERT_FALSE(refused_again.ok());
  EXPECT_EQ(refused_again.status().code(), StatusCode::kPoisoned) << refused_again.status().ToString();
}

TEST_F(PoisonTest, RestartAfterPoisoningRecoversAndTheChainStillVerifies) {
  Open(&env_);
  const TenantId tenant("stadt");
  for (int i = 0; i < 3; ++i) {
    auto r = log_->Append(tenant, OneResource("ok-" + std::to_string(i)), {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  env_.fail = true;
  auto failed = log_->Append(tenant, OneResource("during-failure"), {{"idem-failed", "outcome"}});
  env_.fail = false;
  ASSERT_FALSE(failed.ok());

  // "Restart": a fresh database and log over the same directory.
  Open(nullptr);
  auto head = log_->GetHead(tenant);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  // Nothing or everything of the failed append may have reached the disk,
  // never the event without its idempotency record or the other way round.
  EXPECT_TRUE(head->seq == 3 || head->seq == 4) << head->seq;
  auto idem = log_->GetIdempotency(tenant, "idem-failed");
  ASSERT_TRUE(idem.ok());
  EXPECT_EQ(idem->has_value(), head->seq == 4);
  auto rep = VerifyChain(*log_, tenant);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_TRUE(rep->ok()) << rep->problem;
  EXPECT_EQ(rep->records, head->seq);

  auto next = log_->Append(tenant, OneResource("after-restart"), {});
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->first, head->seq + 1);
  auto rep2 = VerifyChain(*log_, tenant);
  ASSERT_TRUE(rep2.ok());
  EXPECT_TRUE(rep2->ok()) << rep2->problem;
}

TEST_F(PoisonTest, NoSnapshotIsStoredAfterAFailedWriteUntilRestart) {
  Open(&env_);
  const TenantId tenant("stadt"), other("dorf");
  ASSERT_TRUE(log_->Append(tenant, OneResource("a"), {}).ok());
  ASSERT_TRUE(log_->Append(other, OneResource("b"), {}).ok());
  ASSERT_TRUE(log_->PutSnapshot(other, 1, "before", 2).ok());  // through the same Env
  env_.wal_appends_to_fail = 1;
  EXPECT_FALSE(log_->Append(tenant, OneResource("lost"), {}).ok());
  ASSERT_TRUE(log_->Append(other, OneResource("c"), {}).ok());  // the others go on
  auto refused = log_->PutSnapshot(other, 2, "after", 2);
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable) << refused.ToString();
  EXPECT_EQ(*log_->SnapshotSeqs(other), std::vector<Seq>{1});
  Open(&env_);  // a restart
  ASSERT_TRUE(log_->PutSnapshot(other, 2, "after", 2).ok());
  EXPECT_EQ(*log_->GetSnapshot(other, 2), "after");
}

}  // namespace
}  // namespace saalbuch::ledger
