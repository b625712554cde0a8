// The RocksDB implementation of Log.
//
// All tenants share RocksDB's write-ahead log, and after a failed WAL write
// RocksDB refuses every write until DB::Resume() succeeds. RocksLog confines
// a failure to the tenants whose batch was in the failed write: they are
// poisoned; it resumes the database right after the failure, and a write
// that RocksDB refused only because an earlier one had failed (nothing of it
// written) is retried once after resuming.
//
// Thread-safety: a mutex per tenant serialises that tenant's appends and
// guards its cached head and poison state; a map mutex guards the set of
// tenant states; a recovery mutex serialises DB::Resume(). Reads take no
// tenant lock (RocksDB snapshots suffice).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "common/merkle.h"
#include "ledger/database.h"
#include "ledger/log.h"

namespace saalbuch::ledger {

class RocksLog final : public Log {
 public:
  // `db` is not owned and must outlive the log.
  explicit RocksLog(Database* db);
  ~RocksLog() override;

  Result<AppendResult> Append(const TenantId& tenant, std::vector<EventDraft> drafts,
                              const std::vector<IdempotencyRecord>& idempotency) override;
  Result<AppendResult> AppendDeferred(const TenantId& tenant, std::vector<EventDraft> drafts,
                                      const std::vector<IdempotencyRecord>& idempotency) override;
  Status Sync() override;
  Status Read(const TenantId& tenant, Seq from, std::size_t max, std::vector<Record>* out) const override;
  Result<Head> GetHead(const TenantId& tenant) const override;
  Result<std::optional<std::string>> GetIdempotency(const TenantId& tenant,
                                                    std::string_view key) const override;
  Result<std::optional<Sha256>> StoredTreeNode(const TenantId& tenant, int level,
                                               std::uint64_t index) const override;
  Status RebuildTree(const TenantId& tenant) override;
  std::vector<TenantId> Tenants() const override;
  Status PutSnapshot(const TenantId& tenant, Seq seq, std::string_view bytes, std::size_t keep) override;
  Result<std::vector<Seq>> SnapshotSeqs(const TenantId& tenant) const override;
  Result<std::string> GetSnapshot(const TenantId& tenant, Seq seq) const override;
  Status DropSnapshots(const TenantId& tenant) override;

 private:
  struct TenantState;
  Result<TenantState*> State(const TenantId& tenant) const;
  Result<Head> ReadHead(const TenantId& tenant) const;
  // Stores the tree nodes of records the tree does not cover yet (a log
  // written before the tree existed) and returns the frontier at `head`.
  Result<merkle::Frontier> CatchUpTree(const TenantId& tenant, Seq head) const;
  Result<AppendResult> Write(const TenantId& tenant, std::vector<EventDraft> drafts,
                             const std::vector<IdempotencyRecord>& idempotency, bool sync);
  // Brings the database out of RocksDB's stopped state after a failed
  // write; ok at once when it is not stopped. Every failure path calls it,
  // so it also counts the failures Sync() must know of.
  Status Resume();

  Database* db_;
  mutable std::mutex map_mu_;
  mutable std::unordered_map<std::string, std::unique_ptr<TenantState>> tenants_;
  std::mutex resume_mu_;
  std::mutex sync_mu_;                     // serialises Sync()
  bool sync_broken_ = false;               // guarded by sync_mu_: a sync failed, the next one flushes instead
  std::atomic<bool> write_failed_{false};  // set by Resume(): a write has failed since open
  std::atomic<std::uint64_t> failures_{0};  // counted by Resume()
  std::uint64_t failures_synced_ = 0;       // guarded by sync_mu_: those Sync() has dealt with
};

}  // namespace saalbuch::ledger
