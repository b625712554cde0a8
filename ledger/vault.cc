#include "ledger/vault.h"

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "common/crypto.h"
#include "ledger/keys.h"

namespace saalbuch::ledger {
namespace {

std::string VaultKey(const TenantId& tenant, std::string_view person) {
  return keys::TenantPrefix(tenant.get()) + "v" + std::string(person);
}

// Name terms: tenant-prefix ‖ "n" ‖ term ‖ person (terms have one length)
// and tenant-prefix ‖ "N" ‖ person ‖ 0 ‖ term.
std::string NameTermKey(const TenantId& tenant, std::string_view term, std::string_view person) {
  return keys::TenantPrefix(tenant.get()) + "n" + std::string(term) + std::string(person);
}

std::string NameOwnPrefix(const TenantId& tenant, std::string_view person) {
  return keys::TenantPrefix(tenant.get()) + "N" + std::string(person) + '\0';
}

std::string Aad(const TenantId& tenant, std::string_view person) {
  return tenant.get() + "/" + std::string(person);
}

constexpr std::string_view kWrapTag = "sbw1";
// Tag ‖ nonce ‖ 32 bytes ‖ GCM tag.
constexpr std::size_t kWrappedSize = 4 + 12 + 32 + 16;

std::string WrapAad(std::string_view key) { return "saalbuch-vault/" + std::string(key); }

// A key of the vault in the meta family: tenant-prefix ‖ "v" ‖ person,
// tenant-prefix ‖ "k" (signing) or tenant-prefix ‖ "b" (blind indexes); the
// family's other keys are "c", "h", "m", "n", "N", "s", "t" and "w".
bool IsVaultSlot(std::string_view key) {
  if (key.empty()) return false;
  const std::size_t at = 1 + static_cast<unsigned char>(key[0]);
  if (key.size() <= at) return false;
  return (key[at] == 'v' && key.size() > at + 1) ||
         ((key[at] == 'k' || key[at] == 'b') && key.size() == at + 1);
}

// KeyFor is get-or-create; two callers for the same new person must not
// create two keys.
std::mutex& CreateMutex() {
  static std::mutex mu;
  return mu;
}

}  // namespace

Result<std::string> Vault::Unwrap(const std::string& key, const std::string& value) const {
  if (value.size() == kWrappedSize && value.compare(0, kWrapTag.size(), kWrapTag) == 0) {
    if (!master_) {
      return Status(StatusCode::kInvalidArgument,
                    "the vault's keys are wrapped with a master key, and none was given (--master-key-file)");
    }
    auto raw = saalbuch::Open(*master_, std::string_view(value).substr(kWrapTag.size()), WrapAad(key));
    if (!raw || raw->size() != 32) {
      return Status(StatusCode::kInvalidArgument, "the master key given does not open the vault's keys");
    }
    return std::move(*raw);
  }
  if (value.size() == 32) return value;
  return Status(StatusCode::kCorruption, "vault key has the wrong length");
}

std::string Vault::Wrap(const std::string& key, const std::string& raw) const {
  if (!master_) return raw;
  return std::string(kWrapTag) + saalbuch::Seal(*master_, raw, WrapAad(key));
}

Result<std::optional<std::string>> Vault::Get(const std::string& key) const {
  std::string value;
  rocksdb::Status s = db_->db()->Get(rocksdb::ReadOptions(), db_->cf(Cf::kMeta), key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s);
  auto raw = Unwrap(key, value);
  if (!raw.ok()) return raw.status();
  return std::optional<std::string>(std::move(raw).value());
}

Result<std::optional<std::string>> Vault::Find(const TenantId& tenant, std::string_view person) const {
  return Get(VaultKey(tenant, person));
}

Result<std::string> Vault::GetOrCreate(const std::string& k) {
  std::lock_guard lock(CreateMutex());
  auto existing = Get(k);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return std::move(**existing);
  std::string key = RandomBytes(32);
  rocksdb::WriteOptions w;
  w.sync = true;
  rocksdb::Status s = db_->db()->Put(w, db_->cf(Cf::kMeta), k, Wrap(k, key));
  if (!s.ok()) return FromRocks(s);
  return key;
}

Result<std::string> Vault::KeyFor(const TenantId& tenant, std::string_view person) {
  return GetOrCreate(VaultKey(tenant, person));
}

Result<std::string> Vault::SigningSeed(const TenantId& tenant) {
  return GetOrCreate(keys::TenantPrefix(tenant.get()) + "k");
}

Result<std::string> Vault::BlindIndexKey(const TenantId& tenant) {
  return GetOrCreate(keys::TenantPrefix(tenant.get()) + "b");
}

Result<std::optional<std::string>> Vault::FindSigningSeed(const TenantId& tenant) const {
  return Get(keys::TenantPrefix(tenant.get()) + "k");
}

Result<std::size_t> Vault::Prepare(const std::optional<std::string>& previous) {
  // First read and check everything, then write: a refusal changes nothing.
  std::vector<std::pair<std::string, std::string>> rewrite;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->cf(Cf::kMeta)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key = it->key().ToString();
    if (!IsVaultSlot(key)) continue;
    const std::string value = it->value().ToString();
    const bool wrapped = value.size() == kWrappedSize && value.compare(0, kWrapTag.size(), kWrapTag) == 0;
    auto raw = Unwrap(key, value);
    if (!raw.ok() && wrapped && master_ && previous) {
      Vault old(db_, previous);
      raw = old.Unwrap(key, value);
      if (!raw.ok()) {
        return Status(StatusCode::kInvalidArgument,
                      "neither the master key nor the previous one opens the vault's keys");
      }
    }
    if (!raw.ok()) return raw.status();
    if (master_ && !(wrapped && Unwrap(key, value).ok())) rewrite.emplace_back(key, Wrap(key, *raw));
  }
  if (!it->status().ok()) return FromRocks(it->status());
  if (rewrite.empty()) return std::size_t{0};
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : rewrite) {
    if (auto s = batch.Put(db_->cf(Cf::kMeta), key, value); !s.ok()) return FromRocks(s);
  }
  rocksdb::WriteOptions w;
  w.sync = true;
  if (auto s = db_->db()->Write(w, &batch); !s.ok()) return FromRocks(s);
  // The bare or old values must leave RocksDB's files, as an erased key's
  // do (Erase).
  for (Cf cf : {Cf::kLog, Cf::kMeta, Cf::kIdempotency, Cf::kProjections}) {
    if (auto s = db_->db()->Flush(rocksdb::FlushOptions(), db_->cf(cf)); !s.ok()) return FromRocks(s);
  }
  rocksdb::CompactRangeOptions c;
  c.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  if (auto s = db_->db()->CompactRange(c, db_->cf(Cf::kMeta), nullptr, nullptr); !s.ok()) return FromRocks(s);
  return rewrite.size();
}

Status Vault::Erase(const TenantId& tenant, std::string_view person) {
  const std::string k = VaultKey(tenant, person);
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Delete(db_->cf(Cf::kMeta), k);
  if (!s.ok()) return FromRocks(s);
  // The person's name terms, both ways.
  std::vector<std::string> gone;
  const std::string own = NameOwnPrefix(tenant, person);
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->cf(Cf::kMeta)));
  for (it->Seek(own); it->Valid() && it->key().starts_with(own); it->Next()) {
    const std::string term = it->key().ToString().substr(own.size());
    gone.push_back(it->key().ToString());
    gone.push_back(NameTermKey(tenant, term, person));
  }
  if (!it->status().ok()) return FromRocks(it->status());
  for (const auto& key : gone) {
    if (s = batch.Delete(db_->cf(Cf::kMeta), key); !s.ok()) return FromRocks(s);
  }
  rocksdb::WriteOptions w;
  w.sync = true;
  if (s = db_->db()->Write(w, &batch); !s.ok()) return FromRocks(s);
  // Flush every column family (so that no WAL file is still needed for the
  // key's put and RocksDB deletes them), then compact the key's range so its
  // bytes leave the SST files too. Erasure is rare; the cost is acceptable.
  for (Cf cf : {Cf::kLog, Cf::kMeta, Cf::kIdempotency, Cf::kProjections}) {
    if (s = db_->db()->Flush(rocksdb::FlushOptions(), db_->cf(cf)); !s.ok()) return FromRocks(s);
  }
  rocksdb::CompactRangeOptions c;
  c.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  gone.push_back(k);
  for (const auto& key : gone) {
    const std::string end = key + '\0';
    rocksdb::Slice begin_slice(key), end_slice(end);
    if (s = db_->db()->CompactRange(c, db_->cf(Cf::kMeta), &begin_slice, &end_slice); !s.ok())
      return FromRocks(s);
  }
  return Status::Ok();
}

Status Vault::IndexName(const TenantId& tenant, std::string_view person,
                        const std::vector<std::string>& terms) {
  rocksdb::WriteBatch batch;
  std::string value;
  for (const auto& term : terms) {
    const std::string own = NameOwnPrefix(tenant, person) + term;
    rocksdb::Status s = db_->db()->Get(rocksdb::ReadOptions(), db_->cf(Cf::kMeta), own, &value);
    if (s.ok()) continue;
    if (!s.IsNotFound()) return FromRocks(s);
    if (s = batch.Put(db_->cf(Cf::kMeta), own, ""); !s.ok()) return FromRocks(s);
    if (s = batch.Put(db_->cf(Cf::kMeta), NameTermKey(tenant, term, person), ""); !s.ok())
      return FromRocks(s);
  }
  if (batch.Count() == 0) return Status::Ok();
  rocksdb::WriteOptions w;
  w.sync = true;
  return FromRocks(db_->db()->Write(w, &batch));
}

Result<std::vector<std::string>> Vault::PersonsByName(const TenantId& tenant,
                                                      const std::vector<std::string>& terms,
                                                      std::size_t limit) const {
  std::vector<std::string> out;
  if (terms.empty()) return out;
  // The persons of the first term, kept where every other term has them too.
  const std::string first = NameTermKey(tenant, terms.front(), "");
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->cf(Cf::kMeta)));
  std::string value;
  for (it->Seek(first); it->Valid() && it->key().starts_with(first) && out.size() < limit; it->Next()) {
    const std::string person = it->key().ToString().substr(first.size());
    bool all = true;
    for (std::size_t i = 1; i < terms.size() && all; ++i) {
      rocksdb::Status s = db_->db()->Get(rocksdb::ReadOptions(), db_->cf(Cf::kMeta),
                                         NameTermKey(tenant, terms[i], person), &value);
      if (!s.ok() && !s.IsNotFound()) return FromRocks(s);
      all = s.ok();
    }
    if (all) out.push_back(person);
  }
  if (!it->status().ok()) return FromRocks(it->status());
  return out;
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
