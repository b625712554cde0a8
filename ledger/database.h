// The embedded RocksDB database holding logs, idempotency records and
// projections. Tenants are key prefixes inside a few column families (never
// a column family per tenant: each one costs a memtable). Grammar:
// ledger/README.md.
//
// Thread-safety: the handle is safe for concurrent use (RocksDB's own
// guarantees); the object itself is not copyable.
#pragma once

#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace saalbuch::ledger {

enum class Cf { kLog = 0, kMeta, kIdempotency, kProjections };

struct DatabaseOptions {
  // Open without write access (tools). Works on a copy of a live data
  // directory and on a directory a running server holds.
  bool read_only = false;
  // Create the directory and column families when missing. Ignored when
  // read_only.
  bool create_if_missing = true;
  // Replaces RocksDB's environment (tests inject failing file systems).
  // Not owned; must outlive the Database. nullptr = the default Env.
  rocksdb::Env* env = nullptr;
};

class Database {
 public:
  static Result<std::unique_ptr<Database>> Open(const std::string& path, const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(Cf which) const { return cfs_[static_cast<int>(which)]; }
  bool read_only() const { return read_only_; }

 private:
  Database() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;  // owned, destroyed before db_
  bool read_only_ = false;
};

Status FromRocks(const rocksdb::Status& s);

}  // namespace saalbuch::ledger
