// What an attacker with write access to a stopped server's data directory
// does (issue 18), for the integrity and witness tests: rewrite a record and
// re-chain, re-sign with the stored key, cut the log back. Each opens the
// RocksDB directly, as a forger with RocksDB's own tools would.
#pragma once

#include <rocksdb/db.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/types.h"
#include "schemas/event_generated.h"

namespace saalbuch::e2e {

// The data directory's RocksDB with every column family, as a forger opens it.
class ForgerDb {
 public:
  explicit ForgerDb(const std::filesystem::path& data) {
    rocksdb::Options opts;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* n : {"default", "log", "meta", "idempotency", "projections"}) cfs.emplace_back(n, opts);
    rocksdb::DB* db = nullptr;
    const rocksdb::Status s = rocksdb::DB::Open(opts, (data / "db").string(), cfs, &handles_, &db);
    if (!s.ok()) throw std::runtime_error(s.ToString());
    db_.reset(db);
  }
  ~ForgerDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
  }
  ForgerDb(const ForgerDb&) = delete;
  ForgerDb& operator=(const ForgerDb&) = delete;

  std::string Get(rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    std::string v;
    const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, key, &v);
    if (!s.ok()) throw std::runtime_error("get: " + s.ToString());
    return v;
  }
  bool Has(rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    std::string v;
    return db_->Get(rocksdb::ReadOptions(), cf, key, &v).ok();
  }
  void Put(rocksdb::ColumnFamilyHandle* cf, const std::string& key, const std::string& value) {
    if (!db_->Put(rocksdb::WriteOptions(), cf, key, value).ok()) throw std::runtime_error("put failed");
  }
  void Delete(rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    if (!db_->Delete(rocksdb::WriteOptions(), cf, key).ok()) throw std::runtime_error("delete failed");
  }
  rocksdb::ColumnFamilyHandle* log() { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* meta() { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* projections() { return handles_[4]; }

 private:
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
};

// Rewrites record `seq` of `tenant` with `edit` applied to its envelope (in
// place: the bytes keep their size) and recomputes every later prev_hash,
// chain hash and the stored head, so that the chain verifies again.
void ForgeRecord(const std::filesystem::path& data, const std::string& tenant, Seq seq,
                 const std::function<void(const schema::Envelope&)>& edit);

// What an attacker with the files and the signing seed stored beside them
// does (issue 18): rewrites record `seq` like ForgeRecord and re-signs every
// later checkpoint (its Merkle root and chain hash) with the tenant's own
// key, so that the chain, every root and every note verify again, also
// against the verifier key an auditor kept.
void ForgeAndResign(const std::filesystem::path& data, const std::string& tenant, Seq seq,
                    const std::function<void(const schema::Envelope&)>& edit);

// Cuts the log of `tenant` back to position `keep`: what an attacker who
// removes records at the end does.
void Truncate(const std::filesystem::path& data, const std::string& tenant, Seq keep);

// The edit of the issue: the actor's first letter changed.
void ChangeActor(const schema::Envelope& env);

// A copy of the data directory `data` at `to` (without the server's stderr).
std::filesystem::path CopyOf(const std::filesystem::path& data, const std::filesystem::path& to);
std::string FileText(const std::filesystem::path& p);

}  // namespace saalbuch::e2e
