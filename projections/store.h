// Key-value views that projections fold into and queries read from: the
// projections column family of the live database, or an in-memory map (the
// auditor's replay). The same fold code runs against both, so a replay
// reproduces the live state byte for byte.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/types.h"
#include "ledger/database.h"

namespace saalbuch::projections {

// Called for each key in order; return false to stop.
using ScanFn = std::function<bool(std::string_view key, std::string_view value)>;

class KvView {
 public:
  virtual ~KvView() = default;
  virtual Result<std::optional<std::string>> Get(std::string_view key) const = 0;
  // Keys in [from, to), ascending.
  virtual Status Scan(std::string_view from, std::string_view to, const ScanFn& fn) const = 0;
};

// Buffered changes over a base view; reads see the buffered writes.
// Thread-safety: none.
class Txn {
 public:
  explicit Txn(const KvView* base) : base_(base) {}
  Result<std::optional<std::string>> Get(std::string_view key) const;
  // Keys in [from, to) of the base with the buffered changes applied. Reads
  // the whole range first: for small ranges (one person's bookings).
  Status Scan(std::string_view from, std::string_view to, const ScanFn& fn) const;
  void Put(std::string key, std::string value) { changes_[std::move(key)] = std::move(value); }
  void Delete(std::string key) { changes_[std::move(key)] = std::nullopt; }
  const std::map<std::string, std::optional<std::string>>& changes() const { return changes_; }
  void Clear() { changes_.clear(); }

 private:
  const KvView* base_;
  std::map<std::string, std::optional<std::string>> changes_;
};

// Thread-safety: none (the replay tool folds on one thread).
class MemoryStore final : public KvView {
 public:
  Result<std::optional<std::string>> Get(std::string_view key) const override;
  Status Scan(std::string_view from, std::string_view to, const ScanFn& fn) const override;
  void Commit(const Txn& txn);
  void Put(std::string_view key, std::string_view value) { data_[std::string(key)] = value; }
  void Erase(std::string_view key) {
    if (auto it = data_.find(key); it != data_.end()) data_.erase(it);
  }
  // Removes the keys in [from, to).
  void EraseRange(std::string_view from, std::string_view to) {
    data_.erase(data_.lower_bound(from), data_.lower_bound(to));
  }
  const std::map<std::string, std::string, std::less<>>& data() const { return data_; }

 private:
  std::map<std::string, std::string, std::less<>> data_;
};

// The projections column family. Thread-safe (RocksDB's guarantees).
class RocksStore final : public KvView {
 public:
  explicit RocksStore(ledger::Database* db) : db_(db) {}
  Result<std::optional<std::string>> Get(std::string_view key) const override;
  Status Scan(std::string_view from, std::string_view to, const ScanFn& fn) const override;
  // One atomic write without sync: projections are rebuilt from the log, and
  // their checkpoints travel in the same batch as their updates.
  Status Commit(const Txn& txn);

 private:
  ledger::Database* db_;
};

}  // namespace saalbuch::projections
