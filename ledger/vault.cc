#include "ledger/vault.h"

#include <mutex>

#include "common/crypto.h"
#include "ledger/keys.h"

namespace saalbuch::ledger {
namespace {

std::string VaultKey(const TenantId& tenant, std::string_view person) {
  return keys::TenantPrefix(tenant.get()) + "v" + std::string(person);
}

std::string Aad(const TenantId& tenant, std::string_view person) {
  return tenant.get() + "/" + std::string(person);
}

// KeyFor is get-or-create; two callers for the same new person must not
// create two keys.
std::mutex& CreateMutex() {
  static std::mutex mu;
  return mu;
}

}  // namespace

Result<std::optional<std::string>> Vault::Find(const TenantId& tenant, std::string_view person) const {
  std::string value;
  rocksdb::Status s =
      db_->db()->Get(rocksdb::ReadOptions(), db_->cf(Cf::kMeta), VaultKey(tenant, person), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s);
  if (value.size() != 32) return Status(StatusCode::kCorruption, "vault key has the wrong length");
  return std::optional<std::string>(std::move(value));
}

Result<std::string> Vault::GetOrCreate(const std::string& k) {
  std::lock_guard lock(CreateMutex());
  std::string value;
  rocksdb::Status s = db_->db()->Get(rocksdb::ReadOptions(), db_->cf(Cf::kMeta), k, &value);
  if (s.ok() && value.size() == 32) return value;
  if (s.ok()) return Status(StatusCode::kCorruption, "vault key has the wrong length");
  if (!s.IsNotFound()) return FromRocks(s);
  std::string key = RandomBytes(32);
  rocksdb::WriteOptions w;
  w.sync = true;
  s = db_->db()->Put(w, db_->cf(Cf::kMeta), k, key);
  if (!s.ok()) return FromRocks(s);
  return key;
}

Result<std::string> Vault::KeyFor(const TenantId& tenant, std::string_view person) {
  return GetOrCreate(VaultKey(tenant, person));
}

Result<std::string> Vault::SigningSeed(const TenantId& tenant) {
  return GetOrCreate(keys::TenantPrefix(tenant.get()) + "k");
}

Result<std::optional<std::string>> Vault::FindSigningSeed(const TenantId& tenant) const {
  std::string value;
  rocksdb::Status s = db_->db()->Get(rocksdb::ReadOptions(), db_->cf(Cf::kMeta),
                                     keys::TenantPrefix(tenant.get()) + "k", &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s);
  if (value.size() != 32) return Status(StatusCode::kCorruption, "signing key has the wrong length");
  return std::optional<std::string>(std::move(value));
}

Status Vault::Erase(const TenantId& tenant, std::string_view person) {
  const std::string k = VaultKey(tenant, person);
  rocksdb::WriteOptions w;
  w.sync = true;
  rocksdb::Status s = db_->db()->Delete(w, db_->cf(Cf::kMeta), k);
  if (!s.ok()) return FromRocks(s);
  // Flush every column family (so that no WAL file is still needed for the
  // key's put and RocksDB deletes them), then compact the key's range so its
  // bytes leave the SST files too. Erasure is rare; the cost is acceptable.
  for (Cf cf : {Cf::kLog, Cf::kMeta, Cf::kIdempotency, Cf::kProjections}) {
    if (s = db_->db()->Flush(rocksdb::FlushOptions(), db_->cf(cf)); !s.ok()) return FromRocks(s);
  }
  rocksdb::CompactRangeOptions c;
  c.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  const std::string end = k + '\0';
  rocksdb::Slice begin_slice(k), end_slice(end);
  s = db_->db()->CompactRange(c, db_->cf(Cf::kMeta), &begin_slice, &end_slice);
  return FromRocks(s);
}

Result<std::string> Vault::Seal(const TenantId& tenant, std::string_view person, std::string_view plaintext) {
  auto key = KeyFor(tenant, person);
  if (!key.ok()) return key.status();
  return saalbuch::Seal(*key, plaintext, Aad(tenant, person));
}

Result<std::optional<std::string>> Vault::Open(const TenantId& tenant, std::string_view person,
                                               std::string_view sealed) const {
  auto key = Find(tenant, person);
  if (!key.ok()) return key.status();
  if (!key->has_value()) return std::optional<std::string>();
  return saalbuch::Open(**key, sealed, Aad(tenant, person));
}

}  // namespace saalbuch::ledger
