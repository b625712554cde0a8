#include "ledger/database.h"

#include <rocksdb/env.h>
#include <rocksdb/listener.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <thread>

#include "ledger/keys.h"

namespace saalbuch::ledger {

namespace {

// RocksDB keeps one WAL for all tenants. With paranoid checks it treats a
// failed WAL write or sync, and a failed flush, as a *fatal* background
// error: every later write, whoever makes it, is refused and DB::Resume()
// refuses to recover (tests/ledger/wal_failure_test.cc pins this for the
// RocksDB we build against). One tenant's failed append would stop them all
// until a restart.
//
// We declare these I/O errors "hard" instead, which lets Resume() do what
// RocksDB does for its retryable errors: flush every memtable (they hold
// exactly the writes that succeeded) to new table files and switch to a new
// WAL, so nothing is ever appended after a record that may be torn, and the
// failed batch is gone for good once that flush is recorded. The memtable
// switch that starts that flush fails too while the disk is broken; RocksDB
// calls that fatal because the WAL's in-memory buffer may be lost, but with
// a flush to the file after every write (manual_wal_flush off) that buffer
// only ever holds a batch whose write failed. RocksLog calls Resume() after
// a failed append (ledger/rocks_log.cc); RocksDB's own automatic recovery is
// off so that RocksLog is the only one who does.
class ResumableWriteErrors final : public rocksdb::EventListener {
 public:
  const char* Name() const override { return "ResumableWriteErrors"; }

  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* bg_error) override {
    using R = rocksdb::BackgroundErrorReason;
    const bool resumable = reason == R::kWriteCallback || reason == R::kFlush ||
                           reason == R::kManifestWrite || reason == R::kMemTable;
    if (resumable && bg_error->IsIOError() && bg_error->severity() == rocksdb::Status::kFatalError) {
      *bg_error = rocksdb::Status(*bg_error, rocksdb::Status::kHardError);
    }
  }

  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason /*reason*/, rocksdb::Status bg_error,
                            bool* auto_recovery) override {
    bg_error.PermitUncheckedError();
    *auto_recovery = false;
  }
};

// RocksDB's own log lines (errors and warnings of flushes, compactions,
// recovery) go to saalbuchd's log, not to a LOG file in the data directory.
// On a full disk that file was what killed the process: a failed write left
// its writer in an error state, and the next line RocksDB logged hit an
// assertion (`sync_without_flush_called_` in WritableFileWriter), which
// Debian's librocksdb keeps — at every start while the disk stayed full,
// and under load as the disk filled (README, "Disk full"). Info lines (the
// options at open, every flush and compaction) are dropped: they would
// drown ours.
class RocksLogToSpdlog final : public rocksdb::Logger {
 public:
  RocksLogToSpdlog() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}

  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel() || level == rocksdb::InfoLogLevel::HEADER_LEVEL) return;
    std::array<char, 1024> line{};
    std::vsnprintf(line.data(), line.size(), format, ap);
    std::string text(line.data());
    std::replace(text.begin(), text.end(), '"', '\'');
    std::replace(text.begin(), text.end(), '\n', ' ');
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) {
      spdlog::error("msg=\"rocksdb\" text=\"{}\"", text);
    } else {
      spdlog::warn("msg=\"rocksdb\" text=\"{}\"", text);
    }
  }
};

}  // namespace

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return {StatusCode::kNotFound, s.ToString()};
  if (s.IsCorruption()) return {StatusCode::kCorruption, s.ToString()};
  if (s.IsInvalidArgument()) return {StatusCode::kInvalidArgument, s.ToString()};
  return {StatusCode::kIOError, s.ToString()};
}

namespace {

Result<std::string> MakeScratchDir() {
  std::error_code ec;
  auto base = std::filesystem::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string tmpl = (base / "saalbuch-secondary-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Status(StatusCode::kIOError, "cannot create a scratch directory under " + base.string());
  }
  return tmpl;
}

// The primary's current MANIFEST and its size: "" when unreadable. Equal
// values before and after a read mean the primary installed no flush or
// compaction in between.
std::string ManifestState(const std::string& path) {
  std::ifstream current(path + "/CURRENT");
  std::string name;
  std::getline(current, name);
  if (name.empty()) return {};
  std::error_code ec;
  const auto size = std::filesystem::file_size(path + "/" + name, ec);
  if (ec) return {};
  return name + ":" + std::to_string(size);
}

}  // namespace

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, const DatabaseOptions& options) {
  const bool read_only = options.read_only || options.secondary;
  rocksdb::Options opts;
  opts.create_if_missing = options.create_if_missing && !read_only;
  opts.create_missing_column_families = opts.create_if_missing;
  if (options.env != nullptr) opts.env = options.env;
  if (options.shared_env != nullptr) opts.env = options.shared_env.get();
  // The WAL is the durability boundary: every log append is written with
  // sync=true; projections write without sync because they are rebuilt from
  // the log and their checkpoint travels in the same batch.
  opts.paranoid_checks = true;
  if (!read_only) {
    // (A read-only or secondary open writes no file in the data directory;
    // the tools that make them keep RocksDB's own log out of their output.)
    opts.info_log = std::make_shared<RocksLogToSpdlog>();
    opts.listeners.push_back(std::make_shared<ResumableWriteErrors>());
    opts.max_bgerror_resume_count = 0;  // no automatic recovery: see ResumableWriteErrors
    // The flush that recovers from a failed WAL write must be atomic across
    // the column families: the failed batch may sit whole in the old WAL, and
    // a kill -9 between two families' flushes would otherwise replay it into
    // some families only (a head without its records).
    opts.atomic_flush = true;
  }
  if (options.write_buffer_bytes != 0) opts.write_buffer_size = options.write_buffer_bytes;
  // A secondary must hold every table file open, so that files the primary
  // compacts away while we read stay readable (RocksDB's requirement).
  if (options.secondary) opts.max_open_files = -1;

  std::vector<rocksdb::ColumnFamilyDescriptor> descs = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(opts)},
      {"log", rocksdb::ColumnFamilyOptions(opts)},
      {"meta", rocksdb::ColumnFamilyOptions(opts)},
      {"idempotency", rocksdb::ColumnFamilyOptions(opts)},
      {"projections", rocksdb::ColumnFamilyOptions(opts)},
  };
  std::unique_ptr<Database> d(new Database());
  d->shared_env_ = options.shared_env;
  d->read_only_ = read_only;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (options.secondary) {
    std::string secondary_path = options.secondary_path;
    if (secondary_path.empty()) {
      auto scratch = MakeScratchDir();
      if (!scratch.ok()) return scratch.status();
      d->scratch_dir_ = *scratch;
      secondary_path = *scratch;
    }
    return OpenSecondary(std::move(d), opts, path, secondary_path, descs);
  }
  if (options.read_only) {
    s = rocksdb::DB::OpenForReadOnly(opts, path, descs, &handles, &raw);
  } else {
    // A new database's directory exists before RocksDB looks into it, which
    // it would otherwise log as an error.
    if (opts.create_if_missing) {
      std::error_code ec;
      std::filesystem::create_directories(path, ec);
    }
    s = rocksdb::DB::Open(opts, path, descs, &handles, &raw);
  }
  if (!s.ok()) {
    return Status(StatusCode::kIOError, "cannot open data directory '" + path + "': " + s.ToString());
  }
  d->Adopt(raw, handles);
  return d;
}

void Database::Adopt(rocksdb::DB* raw, const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
  db_.reset(raw);
  // handles[0] is the default family; keep the four of ours in Cf order.
  cfs_.assign(handles.begin() + 1, handles.end());
  IgnoreError(raw->DestroyColumnFamilyHandle(handles[0]));
}

Result<std::unique_ptr<Database>> Database::OpenSecondary(
    std::unique_ptr<Database> d, const rocksdb::Options& opts, const std::string& path,
    const std::string& secondary_path, const std::vector<rocksdb::ColumnFamilyDescriptor>& descs) {
  // A secondary reads the primary's MANIFEST, then its WAL files. When the
  // primary installs a flush in between, it deletes a WAL whose records the
  // MANIFEST we read does not cover yet: those records would be silently
  // missing. A catch-up reads the newer MANIFEST and repairs that, but can
  // race again. A pass during which the MANIFEST did not change is safe:
  // the primary deletes files only after recording their replacement in
  // it, and a secondary (max_open_files = -1) holds open every file it has
  // read. So: open, then catch up until one pass saw no MANIFEST change.
  constexpr int kAttempts = 50;
  constexpr int kMismatchRetries = 3;
  int mismatches = 0;
  rocksdb::Status s;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    const std::string before = ManifestState(path);
    if (d->db_ == nullptr) {
      std::vector<rocksdb::ColumnFamilyHandle*> handles;
      rocksdb::DB* raw = nullptr;
      s = rocksdb::DB::OpenAsSecondary(opts, path, secondary_path, descs, &handles, &raw);
      if (s.IsInvalidArgument()) break;  // not a database, or wrong column families: no retry helps
      if (s.ok()) d->Adopt(raw, handles);
    } else {
      s = d->db_->TryCatchUpWithPrimary();
    }
    if (s.ok() && !before.empty() && before == ManifestState(path)) {
      // A head that does not name its tenant's last record is a view the
      // primary never had (some family caught up further than another; seen
      // rarely under load in tests/ledger/secondary_test.cc): start again
      // from a fresh open. A few times only: it may also be real damage,
      // which verify must get to see and report.
      if (mismatches >= kMismatchRetries || d->HeadsMatchRecords()) return d;
      ++mismatches;
      d->CloseDb();
    }
    // A file named in the MANIFEST may also be gone by the time we open it
    // (a compaction finished): a fresh attempt reads the new MANIFEST.
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5 * attempt, 50)));
  }
  if (s.ok()) s = rocksdb::Status::Busy("the primary changed its MANIFEST during every attempt");
  return Status(StatusCode::kIOError,
                "cannot open data directory '" + path + "' as a secondary: " + s.ToString());
}

std::vector<std::string> Database::TenantsWithHead() const {
  // One seek per tenant: after a tenant's first key in the meta family, jump
  // past all of its keys (every key after the prefix starts with a letter,
  // never 0xff), so stream versions and snapshots are never scanned.
  const rocksdb::ReadOptions ro;
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(Cf::kMeta)));
  for (it->SeekToFirst(); it->Valid();) {
    const auto k = it->key();
    const auto len = static_cast<unsigned char>(k[0]);
    if (k.size() < 1u + len) {  // not ours; skip it
      it->Next();
      continue;
    }
    const std::string prefix(k.data(), 1u + len);
    std::string head;
    if (db_->Get(ro, cf(Cf::kMeta), prefix + "h", &head).ok()) out.push_back(prefix.substr(1));
    it->Seek(prefix + "\xff");
  }
  return out;
}

bool Database::HeadsMatchRecords() const {
  // Every head (meta family) and the records up to it (log family) are
  // written in one batch, so in every state of the primary each tenant's
  // head names its last record.
  const rocksdb::ReadOptions ro;
  for (const auto& tenant : TenantsWithHead()) {
    std::string v;
    if (!db_->Get(ro, cf(Cf::kMeta), keys::HeadKey(tenant), &v).ok() || v.size() < 8) return false;
    const Seq head = keys::ReadBigEndian64(v);
    const bool has_head = head == 0 || db_->Get(ro, cf(Cf::kLog), keys::LogKey(tenant, head), &v).ok();
    const bool has_next = db_->Get(ro, cf(Cf::kLog), keys::LogKey(tenant, head + 1), &v).ok();
    if (!has_head || has_next) return false;
  }
  return true;
}

void Database::CloseDb() {
  for (auto* h : cfs_) {
    IgnoreError(db_->DestroyColumnFamilyHandle(h));
  }
  cfs_.clear();
  if (db_ != nullptr) IgnoreError(db_->Close());
  db_.reset();
}

Database::~Database() {
  CloseDb();
  if (!scratch_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(scratch_dir_, ec);  // best effort: only our own info log is in it
  }
}

}  // namespace saalbuch::ledger
