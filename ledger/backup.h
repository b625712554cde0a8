// Backups of the database with RocksDB's BackupEngine: made while the server
// serves, listed, verified, opened in place and restored.
//
// A backup directory holds any number of backups; table files are shared
// between them, so each new backup copies only what changed. A backup holds
// every column family as of one instant during Create: Create flushes the
// memtables, then copies the live table files plus the tail of the
// write-ahead log written since (replayed at restore, as after a kill -9).
// Hence every append acknowledged before Create was called is in the
// backup, and projections are at most behind the log, never ahead (they
// catch up at the restored server's start).
//
// Backup metadata (stored with each backup): the head of every tenant's log
// acknowledged when the backup started.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "ledger/database.h"
#include "ledger/log.h"

namespace rocksdb {
class BackupEngine;
}

namespace saalbuch::ledger {

using BackupId = std::uint32_t;

struct BackupInfo {
  BackupId id = 0;
  std::int64_t created_at_s = 0;  // Unix seconds, when the backup was finished
  std::uint64_t size_bytes = 0;   // its files' bytes (files shared with other backups included)
  std::uint32_t files = 0;
  // Per tenant: the log head acknowledged when the backup started. The
  // backup holds at least these records (and may hold some appended while
  // it ran).
  std::map<std::string, Seq> heads;
};

struct BackupOptions {
  // Threads copying files. 1 leaves the other cores to serving.
  int threads = 1;
  // Bytes per second written into the backup directory; 0 = as fast as the
  // disks go (which competes with the server's own fsyncs).
  std::uint64_t rate_limit_bytes = 0;
  // After a successful backup, delete all but the newest `keep`; 0 = keep
  // every backup.
  std::uint32_t keep = 0;
};

// Makes backups of one open, writable database into one directory.
// Thread-safety: all methods may be called from any thread; Create calls
// are serialised by the engine. Stop may be called while Create runs.
class BackupWriter {
 public:
  // Opens (creating when missing) the backup directory `dir`. `db` and
  // `log` are not owned and must outlive the writer.
  static Result<std::unique_ptr<BackupWriter>> Open(Database* db, const Log* log, const std::string& dir,
                                                    const BackupOptions& options);
  ~BackupWriter();
  BackupWriter(const BackupWriter&) = delete;
  BackupWriter& operator=(const BackupWriter&) = delete;

  // Backs the database up as of now. Blocks for as long as copying takes:
  // never call it on a thread that serves requests.
  Result<BackupInfo> Create();
  // Makes a running Create give up soon with kUnavailable; what it copied
  // is removed by the next Create.
  void Stop();
  // Every complete backup, oldest first.
  Result<std::vector<BackupInfo>> List() const;
  const std::string& dir() const { return dir_; }

 private:
  BackupWriter() = default;
  Database* db_ = nullptr;
  const Log* log_ = nullptr;
  std::string dir_;
  BackupOptions options_;
  std::unique_ptr<rocksdb::BackupEngine> engine_;
};

// Runs backups one at a time on a thread of its own, so that the callers
// (HTTP I/O threads) never block, and keeps a list of the backups that
// never blocks either.
// Thread-safety: all methods may be called from any thread.
class BackupService {
 public:
  using Done = std::function<void(Result<BackupInfo>)>;
  // `writer` is owned.
  explicit BackupService(std::unique_ptr<BackupWriter> writer);
  ~BackupService();  // calls Shutdown()
  BackupService(const BackupService&) = delete;
  BackupService& operator=(const BackupService&) = delete;

  // Starts a backup and returns true; `done` is called on the backup thread
  // when it ends. Returns false (and never calls `done`) while another
  // backup runs or after Shutdown.
  bool Start(Done done);
  bool running() const;
  // The backups as of the last one finished (or of Open), oldest first.
  std::vector<BackupInfo> List() const;
  const std::string& dir() const { return writer_->dir(); }
  // Stops a running backup (its `done` gets kUnavailable) and joins the
  // backup thread. REQUIRES: whatever `done` callbacks touch outlives this
  // call.
  void Shutdown();

 private:
  void Loop();

  std::unique_ptr<BackupWriter> writer_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Done> job_;          // guarded by mu_
  bool running_ = false;             // guarded by mu_
  bool stopping_ = false;            // guarded by mu_
  std::vector<BackupInfo> backups_;  // guarded by mu_
  std::thread thread_;
};

// ---- Reading a backup directory without changing it (tools) ----

// Every complete backup in `dir`, oldest first. kNotFound when `dir` holds
// no backups.
Result<std::vector<BackupInfo>> ListBackups(const std::string& dir);

// Checks every file of backup `id` against the size and CRC32C recorded
// when it was made (kCorruption names the damage).
Status VerifyBackupFiles(const std::string& dir, BackupId id);

// Opens backup `id` (nullopt: the newest) in place, read-only, without
// copying it; `info`, when given, receives its description.
Result<std::unique_ptr<Database>> OpenBackup(const std::string& dir, std::optional<BackupId> id,
                                             BackupInfo* info = nullptr);

// Restores backup `id` (nullopt: the newest) into the database directory
// `db_dir`, which must not exist or be empty (kConflict otherwise, and
// nothing is written). File checksums are checked while copying.
Status RestoreBackup(const std::string& dir, std::optional<BackupId> id, const std::string& db_dir);

}  // namespace saalbuch::ledger
