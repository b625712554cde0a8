#include "ledger/cosignatures.h"

#include <memory>

#include "ledger/keys.h"

namespace saalbuch::ledger {
namespace {

std::string Prefix(const TenantId& tenant) { return keys::TenantPrefix(tenant.get()) + "c"; }

}  // namespace

Status PutCosignature(Database* db, const TenantId& tenant, Seq size, std::string_view witness,
                      std::string_view line) {
  std::string key = Prefix(tenant);
  keys::AppendBigEndian64(&key, size);
  key.append(witness);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  auto s = db->db()->Put(sync, db->cf(Cf::kMeta), key, rocksdb::Slice(line.data(), line.size()));
  if (!s.ok()) return Status(StatusCode::kIOError, "storing a cosignature: " + s.ToString());
  return Status();
}

Result<std::vector<Cosignature>> Cosignatures(const Database& db, const TenantId& tenant, Seq size) {
  std::string from = Prefix(tenant);
  std::string to = from;
  if (size != 0) {
    keys::AppendBigEndian64(&from, size);
    keys::AppendBigEndian64(&to, size + 1);
  } else {
    to.back() = 'd';
  }
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper(to);
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(ro, db.cf(Cf::kMeta)));
  const std::size_t at = Prefix(tenant).size();
  std::vector<Cosignature> out;
  for (it->Seek(from); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (key.size() <= at + 8) continue;
    out.push_back(
        {keys::ReadBigEndian64(key.substr(at)), std::string(key.substr(at + 8)), it->value().ToString()});
  }
  if (!it->status().ok())
    return Status(StatusCode::kIOError, "reading cosignatures: " + it->status().ToString());
  return out;
}

}  // namespace saalbuch::ledger
