// Backups: made while appends run, listed, verified, opened in place,
// restored; damage and wrong use refused; one at a time off the caller's
// thread.

#include "ledger/backup.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "ledger/rocks_log.h"
#include "ledger/verify.h"
#include "tests/ledger/drafts.h"
#include "tests/support/scratch_dir.h"

namespace saalbuch::ledger {
namespace {

namespace fs = std::filesystem;
using testing_support::One;
using testing_support::ResourceDraft;
using testing_support::ScratchDir;

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(dir_.Sub("db"), {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    log_ = std::make_unique<RocksLog>(db_.get());
  }

  void Append(const std::string& tenant, int n) {
    for (int i = 0; i < n; ++i) {
      auto r = log_->Append(TenantId(tenant), One(ResourceDraft("r" + std::to_string(next_++))), {});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }

  Seq HeadOf(const Log& log, const std::string& tenant) {
    auto h = log.GetHead(TenantId(tenant));
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? h->seq : 0;
  }

  static void ExpectChainOk(const Log& log, const std::string& tenant, Seq records) {
    auto v = VerifyChain(log, TenantId(tenant));
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_TRUE(v->ok()) << v->problem;
    EXPECT_EQ(v->records, records);
  }

  std::unique_ptr<BackupWriter> Writer(BackupOptions options = {}) {
    auto w = BackupWriter::Open(db_.get(), log_.get(), dir_.Sub("backups"), options);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? std::move(w).value() : nullptr;
  }

  ScratchDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<RocksLog> log_;
  int next_ = 0;
};

TEST_F(BackupTest, BackupUnderAppendsHoldsEverythingAcknowledgedBeforeIt) {
  Append("stadt", 10);
  ASSERT_TRUE(db_->db()
                  ->Flush(rocksdb::FlushOptions(), {db_->cf(Cf::kLog), db_->cf(Cf::kMeta)})
                  .ok());  // some records in a table file,
  Append("dorf", 4);       // some only in the WAL
  auto writer = Writer();
  ASSERT_NE(writer, nullptr);
  std::atomic<bool> stop{false};
  std::thread appender([&] {
    while (!stop) Append("stadt", 1);
  });
  const Seq acknowledged = HeadOf(*log_, "stadt");
  auto info = writer->Create();
  stop = true;
  appender.join();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->id, 1u);
  EXPECT_GE(info->heads.at("stadt"), acknowledged);
  EXPECT_EQ(info->heads.at("dorf"), 4u);
  EXPECT_GT(info->size_bytes, 0u);

  auto listed = ListBackups(dir_.Sub("backups"));
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].heads, info->heads);
  EXPECT_TRUE(VerifyBackupFiles(dir_.Sub("backups"), info->id).ok());

  // In place, read-only: the chain verifies and holds at least the heads.
  BackupInfo opened_info;
  auto in_place = OpenBackup(dir_.Sub("backups"), std::nullopt, &opened_info);
  ASSERT_TRUE(in_place.ok()) << in_place.status().ToString();
  EXPECT_EQ(opened_info.id, info->id);
  RocksLog backup_log(in_place->get());
  const Seq in_backup = HeadOf(backup_log, "stadt");
  EXPECT_GE(in_backup, info->heads.at("stadt"));
  ExpectChainOk(backup_log, "stadt", in_backup);
  ExpectChainOk(backup_log, "dorf", 4);

  // Restored: the same records, and a writable database that continues them.
  ASSERT_TRUE(RestoreBackup(dir_.Sub("backups"), info->id, dir_.Sub("restored")).ok());
  auto restored = Database::Open(dir_.Sub("restored"), {});
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  RocksLog restored_log(restored->get());
  EXPECT_EQ(HeadOf(restored_log, "stadt"), in_backup);
  ExpectChainOk(restored_log, "dorf", 4);
  ASSERT_TRUE(restored_log.Append(TenantId("dorf"), One(ResourceDraft("after")), {}).ok());
  ExpectChainOk(restored_log, "dorf", 5);
}

TEST_F(BackupTest, RestoreRefusesANonEmptyTargetAndWritesNothing) {
  Append("stadt", 2);
  auto writer = Writer();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Create().ok());
  fs::create_directories(dir_.Sub("target"));
  std::ofstream(dir_.Sub("target") + "/keep.txt") << "precious";
  Status s = RestoreBackup(dir_.Sub("backups"), std::nullopt, dir_.Sub("target"));
  EXPECT_EQ(s.code(), StatusCode::kConflict) << s.ToString();
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_.Sub("target"))) names.push_back(e.path().filename());
  EXPECT_EQ(names, std::vector<std::string>{"keep.txt"});

  EXPECT_EQ(RestoreBackup(dir_.Sub("backups"), 7, dir_.Sub("other")).code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir_.Sub("other")));
  EXPECT_EQ(ListBackups(dir_.Sub("nowhere")).status().code(), StatusCode::kNotFound);
}

TEST_F(BackupTest, DamagedBackupFileIsFoundByVerifyAndRestore) {
  Append("stadt", 20);
  ASSERT_TRUE(db_->db()->Flush(rocksdb::FlushOptions(), {db_->cf(Cf::kLog), db_->cf(Cf::kMeta)}).ok());
  auto writer = Writer();
  ASSERT_NE(writer, nullptr);
  auto info = writer->Create();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  std::string victim;
  for (const auto& e : fs::recursive_directory_iterator(dir_.Sub("backups"))) {
    if (e.path().extension() == ".sst") victim = e.path();
  }
  ASSERT_FALSE(victim.empty());
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(10);
    char c = 0;
    f.get(c);
    f.seekp(10);
    f.put(static_cast<char>(c ^ 0x40));
  }
  Status v = VerifyBackupFiles(dir_.Sub("backups"), info->id);
  EXPECT_EQ(v.code(), StatusCode::kCorruption) << v.ToString();
  Status r = RestoreBackup(dir_.Sub("backups"), info->id, dir_.Sub("restored"));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(fs::exists(dir_.Sub("restored"))) << r.ToString() << [&] {
    std::string all;
    for (const auto& e : fs::recursive_directory_iterator(dir_.Sub("restored")))
      all += " " + e.path().string();
    return all;
  }();
}

TEST_F(BackupTest, ServiceRunsOneBackupAtATimeOffTheCallersThread) {
  Append("stadt", 3);
  BackupOptions keep_two;
  keep_two.keep = 2;
  BackupService service(Writer(keep_two));
  for (int round = 1; round <= 3; ++round) {
    std::promise<Result<BackupInfo>> done;
    ASSERT_TRUE(service.Start([&](Result<BackupInfo> r) { done.set_value(std::move(r)); }));
    auto r = done.get_future().get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->id, static_cast<BackupId>(round));
    EXPECT_FALSE(service.running());
  }
  auto list = service.List();
  ASSERT_EQ(list.size(), 2u);  // the oldest was purged
  EXPECT_EQ(list[0].id, 2u);
  EXPECT_EQ(list[1].id, 3u);
  service.Shutdown();
  EXPECT_FALSE(service.Start([](Result<BackupInfo>) { ADD_FAILURE() << "called after shutdown"; }));
}

// An Env whose files under `prefix` block on their first write until the
// gate opens: a backup that is certainly still running.
class GateEnv final : public rocksdb::EnvWrapper {
 public:
  explicit GateEnv(std::string prefix)
      : rocksdb::EnvWrapper(rocksdb::Env::Default()), prefix_(std::move(prefix)) {}
  const char* Name() const override { return "GateEnv"; }

  rocksdb::Status NewWritableFile(const std::string& f, std::unique_ptr<rocksdb::WritableFile>* r,
                                  const rocksdb::EnvOptions& options) override {
    if (f.starts_with(prefix_)) {
      entered_.set_value_once();
      opened_.wait();
    }
    return target()->NewWritableFile(f, r, options);
  }

  void WaitEntered() { entered_.wait(); }
  void Open() { opened_.set_value_once(); }

 private:
  // A one-shot latch.
  struct Latch {
    std::mutex mu;
    std::condition_variable cv;
    bool set = false;
    void set_value_once() {
      std::lock_guard lock(mu);
      set = true;
      cv.notify_all();
    }
    void wait() {
      std::unique_lock lock(mu);
      cv.wait(lock, [this] { return set; });
    }
  };
  std::string prefix_;
  Latch entered_, opened_;
};

class GatedBackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DatabaseOptions o;
    o.env = &env_;
    auto db = Database::Open(dir_.Sub("db"), o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    log_ = std::make_unique<RocksLog>(db_.get());
    ASSERT_TRUE(log_->Append(TenantId("stadt"), One(ResourceDraft("saal")), {}).ok());
    auto w = BackupWriter::Open(db_.get(), log_.get(), dir_.Sub("backups"), {});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    service_ = std::make_unique<BackupService>(std::move(w).value());
  }
  void TearDown() override {
    env_.Open();
    service_.reset();
  }

  ScratchDir dir_;
  GateEnv env_{dir_.Sub("backups") + "/"};
  std::unique_ptr<Database> db_;
  std::unique_ptr<RocksLog> log_;
  std::unique_ptr<BackupService> service_;
};

TEST_F(GatedBackupTest, SecondStartWhileOneRunsIsRefused) {
  std::promise<Result<BackupInfo>> done;
  ASSERT_TRUE(service_->Start([&](Result<BackupInfo> r) { done.set_value(std::move(r)); }));
  env_.WaitEntered();
  EXPECT_TRUE(service_->running());
  EXPECT_FALSE(service_->Start([](Result<BackupInfo>) { ADD_FAILURE() << "second backup ran"; }));
  EXPECT_TRUE(service_->List().empty());
  env_.Open();
  auto r = done.get_future().get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(service_->List().size(), 1u);
}

TEST_F(GatedBackupTest, ShutdownStopsARunningBackupAndAnswersIt) {
  std::promise<Result<BackupInfo>> done;
  ASSERT_TRUE(service_->Start([&](Result<BackupInfo> r) { done.set_value(std::move(r)); }));
  env_.WaitEntered();
  std::thread stopper([&] { service_->Shutdown(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  env_.Open();
  stopper.join();
  auto r = done.get_future().get();
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  auto listed = ListBackups(dir_.Sub("backups"));
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_TRUE(listed->empty());
}

}  // namespace
}  // namespace saalbuch::ledger
