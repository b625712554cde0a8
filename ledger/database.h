// The embedded RocksDB database holding logs, idempotency records and
// projections. Tenants are key prefixes inside a few column families (never
// a column family per tenant: each one costs a memtable). Grammar:
// ledger/README.md.
//
// Thread-safety: the handle is safe for concurrent use (RocksDB's own
// guarantees); the object itself is not copyable.
#pragma once

#include <rocksdb/db.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace saalbuch::ledger {

enum class Cf { kLog = 0, kMeta, kIdempotency, kProjections };

struct DatabaseOptions {
  // Open without write access. Safe only on a directory that no process
  // writes while it is open: a copy, a restored backup, a stopped server's
  // directory. RocksDB leaves a read-only open beside a live writer
  // undefined (rocksdb/db.h); use `secondary` for a running server's
  // directory.
  bool read_only = false;
  // Open as a RocksDB secondary instance (implies read_only): the supported
  // way to read a directory that another process writes, and fine on a copy
  // too. Reads see the primary's state as of Open, consistently across
  // column families; later writes are not seen. Files the primary deletes
  // afterwards stay readable (all table files are held open).
  bool secondary = false;
  // Where a secondary instance keeps its own info log. Empty = a fresh
  // directory under $TMPDIR, removed when the Database closes.
  std::string secondary_path;
  // Create the directory and column families when missing. Ignored when
  // read_only or secondary.
  bool create_if_missing = true;
  // Bytes of each column family's memtable before it is flushed to a table
  // file (0: RocksDB's default, 64 MiB). Tests make it small, so that
  // flushes, compactions and new WAL files happen under their load.
  std::size_t write_buffer_bytes = 0;
  // Replaces RocksDB's environment (tests inject failing file systems).
  // Not owned; must outlive the Database. nullptr = the default Env.
  rocksdb::Env* env = nullptr;
  // Like `env`, but shared: kept alive until the Database closes (a backup
  // opened in place reads through the backup engine's Env). Takes
  // precedence over `env`.
  std::shared_ptr<rocksdb::Env> shared_env;
};

class Database {
 public:
  static Result<std::unique_ptr<Database>> Open(const std::string& path, const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(Cf which) const { return cfs_[static_cast<int>(which)]; }
  // Our column families, in Cf order.
  const std::vector<rocksdb::ColumnFamilyHandle*>& handles() const { return cfs_; }
  // True for read-only and secondary instances.
  bool read_only() const { return read_only_; }
  // The ids of every tenant with a head key (ledger/README.md), in key order.
  std::vector<std::string> TenantsWithHead() const;

 private:
  Database() = default;
  static Result<std::unique_ptr<Database>> OpenSecondary(
      std::unique_ptr<Database> d, const rocksdb::Options& opts, const std::string& path,
      const std::string& secondary_path, const std::vector<rocksdb::ColumnFamilyDescriptor>& descs);
  void Adopt(rocksdb::DB* raw, const std::vector<rocksdb::ColumnFamilyHandle*>& handles);
  // Whether every tenant's head names its last record (see OpenSecondary).
  bool HeadsMatchRecords() const;
  void CloseDb();

  std::shared_ptr<rocksdb::Env> shared_env_;  // outlives db_
  std::string scratch_dir_;                   // removed after db_ closes
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;  // owned, destroyed before db_
  bool read_only_ = false;
};

Status FromRocks(const rocksdb::Status& s);

}  // namespace saalbuch::ledger
