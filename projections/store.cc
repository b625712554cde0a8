#include "projections/store.h"

#include <rocksdb/write_batch.h>

#include <memory>

#include "projections/keys_internal.h"

namespace saalbuch::projections {

Result<std::optional<std::string>> Txn::Get(std::string_view key) const {
  auto it = changes_.find(std::string(key));
  if (it != changes_.end()) return it->second;
  return base_->Get(key);
}

Result<std::optional<std::string>> MemoryStore::Get(std::string_view key) const {
  auto it = data_.find(key);
  if (it == data_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status MemoryStore::Scan(std::string_view from, std::string_view to, const ScanFn& fn) const {
  for (auto it = data_.lower_bound(from); it != data_.end() && it->first < to; ++it) {
    if (!fn(it->first, it->second)) break;
  }
  return Status::Ok();
}

void MemoryStore::Commit(const Txn& txn) {
  for (const auto& [k, v] : txn.changes()) {
    if (v) {
      data_[k] = *v;
    } else {
      data_.erase(k);
    }
  }
}

Result<std::optional<std::string>> RocksStore::Get(std::string_view key) const {
  std::string v;
  auto s = db_->db()->Get(rocksdb::ReadOptions(), db_->cf(ledger::Cf::kProjections), key, &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return ledger::FromRocks(s);
  return std::optional<std::string>(std::move(v));
}

Status RocksStore::Scan(std::string_view from, std::string_view to, const ScanFn& fn) const {
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper(to.data(), to.size());
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->cf(ledger::Cf::kProjections)));
  for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid(); it->Next()) {
    if (!fn(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  return ledger::FromRocks(it->status());
}

Status RocksStore::Commit(const Txn& txn) {
  rocksdb::WriteBatch batch;
  auto* cf = db_->cf(ledger::Cf::kProjections);
  for (const auto& [k, v] : txn.changes()) {
    auto s = v ? batch.Put(cf, k, *v) : batch.Delete(cf, k);
    if (!s.ok()) return ledger::FromRocks(s);
  }
  return ledger::FromRocks(db_->db()->Write(rocksdb::WriteOptions(), &batch));
}

Status Txn::Scan(std::string_view from, std::string_view to, const ScanFn& fn) const {
  std::map<std::string, std::string, std::less<>> merged;
  Status s = base_->Scan(from, to, [&](std::string_view k, std::string_view v) {
    merged.emplace(k, v);
    return true;
  });
  if (!s.ok()) return s;
  for (auto it = changes_.lower_bound(std::string(from)); it != changes_.end() && it->first < to; ++it) {
    if (it->second) {
      merged[it->first] = *it->second;
    } else {
      merged.erase(it->first);
    }
  }
  for (const auto& [k, v] : merged) {
    if (!fn(k, v)) break;
  }
  return Status::Ok();
}

}  // namespace saalbuch::projections
