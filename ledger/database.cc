#include "ledger/database.h"

#include <rocksdb/listener.h>

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

}  // namespace

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return {StatusCode::kNotFound, s.ToString()};
  if (s.IsCorruption()) return {StatusCode::kCorruption, s.ToString()};
  if (s.IsInvalidArgument()) return {StatusCode::kInvalidArgument, s.ToString()};
  return {StatusCode::kIOError, s.ToString()};
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, const DatabaseOptions& options) {
  rocksdb::Options opts;
  opts.create_if_missing = options.create_if_missing && !options.read_only;
  opts.create_missing_column_families = opts.create_if_missing;
  if (options.env != nullptr) opts.env = options.env;
  // The WAL is the durability boundary: every log append is written with
  // sync=true; projections write without sync because they are rebuilt from
  // the log and their checkpoint travels in the same batch.
  opts.paranoid_checks = true;
  if (!options.read_only) {
    opts.listeners.push_back(std::make_shared<ResumableWriteErrors>());
    opts.max_bgerror_resume_count = 0;  // no automatic recovery: see ResumableWriteErrors
    // The flush that recovers from a failed WAL write must be atomic across
    // the column families: the failed batch may sit whole in the old WAL, and
    // a kill -9 between two families' flushes would otherwise replay it into
    // some families only (a head without its records).
    opts.atomic_flush = true;
  }

  std::vector<rocksdb::ColumnFamilyDescriptor> descs = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(opts)},
      {"log", rocksdb::ColumnFamilyOptions(opts)},
      {"meta", rocksdb::ColumnFamilyOptions(opts)},
      {"idempotency", rocksdb::ColumnFamilyOptions(opts)},
      {"projections", rocksdb::ColumnFamilyOptions(opts)},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = options.read_only ? rocksdb::DB::OpenForReadOnly(opts, path, descs, &handles, &raw)
                                        : rocksdb::DB::Open(opts, path, descs, &handles, &raw);
  if (!s.ok()) {
    return Status(StatusCode::kIOError, "cannot open data directory '" + path + "': " + s.ToString());
  }
  std::unique_ptr<Database> d(new Database());
  d->db_.reset(raw);
  d->read_only_ = options.read_only;
  // handles[0] is the default family; keep the four of ours in Cf order.
  d->cfs_.assign(handles.begin() + 1, handles.end());
  IgnoreError(raw->DestroyColumnFamilyHandle(handles[0]));
  return d;
}

Database::~Database() {
  for (auto* h : cfs_) {
    IgnoreError(db_->DestroyColumnFamilyHandle(h));
  }
  if (db_ != nullptr) IgnoreError(db_->Close());
}

}  // namespace saalbuch::ledger
