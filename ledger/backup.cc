#include "ledger/backup.h"

#include <rocksdb/utilities/backup_engine.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "common/thread_name.h"

namespace saalbuch::ledger {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Every engine that opens a backup directory must use the same options
// (RocksDB's rule); only the copying speed differs between writers.
rocksdb::BackupEngineOptions EngineOptions(const std::string& dir, const BackupOptions& options = {}) {
  rocksdb::BackupEngineOptions o(dir);
  o.share_table_files = true;  // incremental: unchanged table files are copied once
  o.sync = true;               // a finished backup survives a crash of the backup host
  o.backup_log_files = true;   // the WAL holds what is not flushed yet: needed
  o.max_background_operations = std::max(1, options.threads);
  o.backup_rate_limit = options.rate_limit_bytes;
  return o;
}

std::string Metadata(const std::map<std::string, Seq>& heads) {
  json h = json::object();
  for (const auto& [tenant, seq] : heads) h[tenant] = seq;
  return json{{"saalbuch_backup", 1}, {"heads", h}}.dump();
}

BackupInfo ToInfo(const rocksdb::BackupInfo& r) {
  BackupInfo info;
  info.id = r.backup_id;
  info.created_at_s = r.timestamp;
  info.size_bytes = r.size;
  info.files = r.number_files;
  // Metadata we cannot read leaves the heads empty: the backup itself is
  // still good, and `verify` reports what it holds.
  auto j = json::parse(r.app_metadata, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("heads") && j["heads"].is_object()) {
    for (const auto& [tenant, seq] : j["heads"].items()) {
      if (seq.is_number_unsigned()) info.heads[tenant] = seq.get<Seq>();
    }
  }
  return info;
}

Status BackupStatus(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return {StatusCode::kNotFound, what + ": " + s.ToString()};
  if (s.IsCorruption()) return {StatusCode::kCorruption, what + ": " + s.ToString()};
  if (s.IsIncomplete()) return {StatusCode::kUnavailable, what + ": stopped"};
  return {StatusCode::kIOError, what + ": " + s.ToString()};
}

// RocksDB opens a backup in place only by an absolute path.
std::string Absolute(const std::string& dir) {
  std::error_code ec;
  auto p = fs::absolute(dir, ec);
  return ec ? dir : p.lexically_normal().string();
}

Result<std::unique_ptr<rocksdb::BackupEngineReadOnly>> OpenReadOnly(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status(StatusCode::kNotFound, "no backup directory '" + dir + "'");
  }
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  auto s = rocksdb::BackupEngineReadOnly::Open(EngineOptions(Absolute(dir)), rocksdb::Env::Default(), &raw);
  if (!s.ok()) return BackupStatus(s, "cannot open backup directory '" + dir + "'");
  return std::unique_ptr<rocksdb::BackupEngineReadOnly>(raw);
}

Result<rocksdb::BackupInfo> Describe(const rocksdb::BackupEngineReadOnlyBase& engine, const std::string& dir,
                                     std::optional<BackupId> id, bool file_details) {
  rocksdb::BackupInfo info;
  rocksdb::Status s =
      id ? engine.GetBackupInfo(*id, &info, file_details) : engine.GetLatestBackupInfo(&info, file_details);
  if (!s.ok()) {
    return BackupStatus(s, id ? "no good backup " + std::to_string(*id) + " in '" + dir + "'"
                              : "no good backup in '" + dir + "'");
  }
  return info;
}

}  // namespace

// ---- BackupWriter ----

Result<std::unique_ptr<BackupWriter>> BackupWriter::Open(Database* db, const Log* log, const std::string& dir,
                                                         const BackupOptions& options) {
  if (db->read_only()) return Status(StatusCode::kInvalidArgument, "backups need the writable database");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return Status(StatusCode::kIOError, "cannot create backup directory '" + dir + "': " + ec.message());
  rocksdb::BackupEngine* raw = nullptr;
  auto s = rocksdb::BackupEngine::Open(EngineOptions(Absolute(dir), options), db->db()->GetEnv(), &raw);
  if (!s.ok()) return BackupStatus(s, "cannot open backup directory '" + dir + "'");
  std::unique_ptr<BackupWriter> w(new BackupWriter());
  w->engine_.reset(raw);
  w->db_ = db;
  w->log_ = log;
  w->dir_ = dir;
  w->options_ = options;
  return w;
}

BackupWriter::~BackupWriter() = default;

Result<BackupInfo> BackupWriter::Create() {
  // Heads first: whatever was acknowledged before this line is in the WAL
  // the engine copies below.
  std::map<std::string, Seq> heads;
  for (const auto& t : log_->Tenants()) {
    auto h = log_->GetHead(t);
    if (!h.ok()) return h.status();
    heads[t.get()] = h->seq;
  }
  rocksdb::CreateBackupOptions create;
  // Flush first. Without it the backup must hold every live WAL file, and
  // with several column families (small ones flush rarely) those add up to
  // hundreds of MB that each backup copies again in full; after a flush it
  // holds shared table files (copied once across backups) and the short
  // tail of the WAL written since. Writers are not stopped by the flush:
  // it switches memtables and writes the old ones in the background.
  create.flush_before_backup = true;
  rocksdb::BackupID id = 0;
  auto s = engine_->CreateNewBackupWithMetadata(create, db_->db(), Metadata(heads), &id);
  if (!s.ok()) return BackupStatus(s, "backup into '" + dir_ + "' failed");
  if (options_.keep > 0) {
    // A failed purge leaves one backup too many; the next backup retries.
    IgnoreError(BackupStatus(engine_->PurgeOldBackups(options_.keep), "purge"));
  }
  auto info = Describe(*engine_, dir_, id, false);
  if (!info.ok()) return info.status();
  return ToInfo(*info);
}

void BackupWriter::Stop() { engine_->StopBackup(); }

Result<std::vector<BackupInfo>> BackupWriter::List() const {
  std::vector<rocksdb::BackupInfo> infos;
  engine_->GetBackupInfo(&infos);
  std::vector<BackupInfo> out;
  out.reserve(infos.size());
  for (const auto& i : infos) out.push_back(ToInfo(i));
  return out;
}

// ---- BackupService ----

BackupService::BackupService(std::unique_ptr<BackupWriter> writer) : writer_(std::move(writer)) {
  if (auto list = writer_->List(); list.ok()) backups_ = std::move(list).value();
  thread_ = std::thread([this] {
    NameThisThread("sb-backup");
    Loop();
  });
}

BackupService::~BackupService() { Shutdown(); }

bool BackupService::Start(Done done) {
  std::lock_guard lock(mu_);
  if (running_ || stopping_) return false;
  running_ = true;
  job_ = std::move(done);
  cv_.notify_one();
  return true;
}

bool BackupService::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

std::vector<BackupInfo> BackupService::List() const {
  std::lock_guard lock(mu_);
  return backups_;
}

void BackupService::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  writer_->Stop();
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void BackupService::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || job_.has_value(); });
    if (!job_) return;  // stopping, nothing queued
    Done done = std::move(*job_);
    job_.reset();
    Result<BackupInfo> result = Status(StatusCode::kUnavailable, "shutting down");
    if (!stopping_) {
      lock.unlock();
      result = writer_->Create();
      lock.lock();
    }
    running_ = false;
    if (result.ok()) {
      if (auto list = writer_->List(); list.ok()) backups_ = std::move(list).value();
    }
    lock.unlock();
    // Called after running_ is cleared: a client that gets the answer may
    // start the next backup at once.
    done(std::move(result));
    lock.lock();
  }
}

// ---- reading a backup directory ----

Result<std::vector<BackupInfo>> ListBackups(const std::string& dir) {
  auto engine = OpenReadOnly(dir);
  if (!engine.ok()) return engine.status();
  std::vector<rocksdb::BackupInfo> infos;
  (*engine)->GetBackupInfo(&infos);
  std::vector<BackupInfo> out;
  out.reserve(infos.size());
  for (const auto& i : infos) out.push_back(ToInfo(i));
  return out;
}

Status VerifyBackupFiles(const std::string& dir, BackupId id) {
  auto engine = OpenReadOnly(dir);
  if (!engine.ok()) return engine.status();
  if (auto info = Describe(**engine, dir, id, false); !info.ok()) return info.status();
  return BackupStatus((*engine)->VerifyBackup(id, /*verify_with_checksum=*/true),
                      "backup " + std::to_string(id) + " is damaged");
}

Result<std::unique_ptr<Database>> OpenBackup(const std::string& dir, std::optional<BackupId> id,
                                             BackupInfo* info) {
  auto engine = OpenReadOnly(dir);
  if (!engine.ok()) return engine.status();
  auto described = Describe(**engine, dir, id, /*file_details=*/true);
  if (!described.ok()) return described.status();
  if (info != nullptr) *info = ToInfo(*described);
  DatabaseOptions o;
  o.read_only = true;  // nothing writes a backup
  o.shared_env = described->env_for_open;
  return Database::Open(described->name_for_open, o);
}

Status RestoreBackup(const std::string& dir, std::optional<BackupId> id, const std::string& db_dir) {
  std::error_code ec;
  const bool existed = fs::exists(db_dir, ec);
  if (existed && !(fs::is_directory(db_dir, ec) && fs::is_empty(db_dir, ec))) {
    return Status(StatusCode::kConflict, "'" + db_dir + "' exists and is not an empty directory");
  }
  auto engine = OpenReadOnly(dir);
  if (!engine.ok()) return engine.status();
  auto described = Describe(**engine, dir, id, false);
  if (!described.ok()) return described.status();
  fs::create_directories(db_dir, ec);
  if (ec) return Status(StatusCode::kIOError, "cannot create '" + db_dir + "': " + ec.message());
  const rocksdb::BackupID id_restored = described->backup_id;
  auto s = (*engine)->RestoreDBFromBackup(rocksdb::RestoreOptions(), id_restored, db_dir, db_dir);
  // The engine's copy threads may still finish files after a failed
  // restore returned; closing the engine joins them.
  engine->reset();
  if (!s.ok()) {
    // Leave the target as it was: absent, or empty.
    if (existed) {
      for (const auto& e : fs::directory_iterator(db_dir, ec)) fs::remove_all(e.path(), ec);
    } else {
      fs::remove_all(db_dir, ec);
    }
    return BackupStatus(s, "restore of backup " + std::to_string(id_restored) + " failed");
  }
  return Status::Ok();
}

}  // namespace saalbuch::ledger
