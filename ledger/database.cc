#include "ledger/database.h"

namespace saalbuch::ledger {

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
