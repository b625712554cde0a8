// Folding each record into every projection that has not reached it yet.
// Documents are JSON (dumped with sorted keys, so equal state is equal
// bytes); index keys are byte-ordered. The folds are in <projection>_fold.cc.

#include <functional>

#include "ledger/keys.h"
#include "projections/finance_internal.h"
#include "projections/fold_internal.h"
#include "projections/projections.h"

namespace saalbuch::projections {

Result<Seq> LowestCheckpoint(const KvView& kv, const TenantId& tenant) {
  Seq lowest = ~Seq{0};
  for (const auto& p : kProjections) {
    auto v = kv.Get(CheckpointKey(tenant, p.tag));
    if (!v.ok()) return v.status();
    Seq cp = v->has_value() && (*v)->size() == 8 ? ledger::keys::ReadBigEndian64(**v) : 0;
    lowest = std::min(lowest, cp);
  }
  return lowest;
}

Status FoldRecord(const TenantId& tenant, Seq seq, const schema::Envelope& env, Txn* txn) {
  for (const auto& p : kProjections) {
    const std::string cp_key = CheckpointKey(tenant, p.tag);
    auto v = txn->Get(cp_key);
    if (!v.ok()) return v.status();
    Seq cp = v->has_value() && (*v)->size() == 8 ? ledger::keys::ReadBigEndian64(**v) : 0;
    if (seq <= cp) continue;
    Status s;
    switch (p.tag) {
      case 'C':
        s = FoldCatalog(tenant, env, txn);
        break;
      case 'A':
        s = FoldAvailability(tenant, env, txn);
        break;
      case 'B':
        s = FoldBookings(tenant, seq, env, txn);
        break;
      case 'O':
        s = FoldOutbox(tenant, seq, env, txn);
        break;
      case 'F':
        s = FoldFinance(tenant, seq, env, txn);
        break;
      case 'U':
        s = FoldUsage(tenant, env, txn);
        break;
      case 'D':
        s = FoldDoors(tenant, env, txn);
        break;
    }
    if (!s.ok()) return s;
    std::string enc;
    ledger::keys::AppendBigEndian64(&enc, seq);
    txn->Put(cp_key, std::move(enc));
  }
  return Status::Ok();
}

Status FoldInto(MemoryStore* store, const ledger::Log& log, const TenantId& tenant, Seq upto,
                const std::function<void(Seq)>& progress) {
  auto from = LowestCheckpoint(*store, tenant);
  if (!from.ok()) return from.status();
  Seq next = *from + 1;
  std::vector<ledger::Record> chunk;
  for (;;) {
    chunk.clear();
    std::size_t want = 4096;
    if (upto != 0) {
      if (next > upto) break;
      want = std::min<std::size_t>(want, upto - next + 1);
    }
    if (Status s = log.Read(tenant, next, want, &chunk); !s.ok()) return s;
    Txn txn(store);
    for (const auto& r : chunk) {
      const schema::Envelope* env = ledger::DecodeEnvelope(r.bytes);
      if (env == nullptr || r.seq != next) {
        return {StatusCode::kCorruption, "record " + std::to_string(next) + " cannot be decoded"};
      }
      if (Status s = FoldRecord(tenant, r.seq, *env, &txn); !s.ok()) return s;
      ++next;
    }
    store->Commit(txn);
    if (progress) progress(next - 1);
    if (chunk.size() < want) break;
  }
  return Status::Ok();
}

Result<std::map<std::string, std::string>> TenantKeys(const KvView& kv, const TenantId& tenant) {
  std::map<std::string, std::string> out;
  const std::string prefix = ledger::keys::TenantPrefix(tenant.get());
  Status s = kv.Scan(prefix, PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    out.emplace(k, v);
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace saalbuch::projections
