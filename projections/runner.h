// Keeps the projections of every tenant caught up with its log.
//
// The command side calls Notify after each durable append; one runner thread
// folds the new records in batches (each batch with its checkpoints) and
// publishes the position reached, which queries use for read-your-writes.
//
// Thread-safety: Notify, Position and view() may be called from any thread;
// folding happens on the runner's own thread only.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "ledger/database.h"
#include "ledger/log.h"
#include "projections/projections.h"
#include "projections/store.h"

namespace saalbuch::projections {

class Runner {
 public:
  // Neither pointer is owned; both must outlive the runner.
  Runner(ledger::Database* db, const ledger::Log* log);
  ~Runner();  // calls Shutdown()
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Rebuilds projections whose version changed, catches every tenant up with
  // its log (synchronously) and starts the runner thread.
  Status Start();

  // Every batch the runner folds also stores the position it reached with
  // that record's chain hash. When the log's record at that position now has
  // another chain hash (or the log ends before it), the log changed under
  // the projections: this returns that position (nullopt while they agree,
  // or before the first batch). Reads only; call before Start.
  Result<std::optional<Seq>> DisagreeingPosition(const TenantId& tenant) const;
  // The runner folds nothing more for `tenant` (it is held: commands/bus.h).
  // REQUIRES: before Start.
  void Hold(const TenantId& tenant);
  // Drops every projection key of `tenant`, so that Start rebuilds them
  // from record 1 (the operator accepted a changed log). REQUIRES: before
  // Start.
  Status Reset(const TenantId& tenant);

  void Notify(const TenantId& tenant, Seq head);

  // For tests: every catch-up starts `lag` after the runner took it up, so
  // that a reader which does not name the position of its own write sees
  // it missing (saalbuchd --projection-lag-ms). REQUIRES: before Start.
  void SetLag(std::chrono::milliseconds lag) { lag_ = lag; }

  // Folds `tenant` next if it has records waiting, ahead of the tenants
  // that got records before it: for a reader that waits for a position
  // (read-your-writes), so that its wait is one catch-up, not a round.
  void Expedite(const TenantId& tenant);

  // The position every projection of `tenant` has reached (0 if none).
  Seq Position(const TenantId& tenant) const;

  const KvView& view() const { return store_; }
  // The availability projection decoded in memory (no RocksDB read, nothing
  // blocks but a short lock), for QueryAvailability and QueryBusy. Its
  // state is at least at Position().
  const AvailabilityIndex& availability() const { return availability_; }

  void Shutdown();

 private:
  Status CheckVersions();
  // Folds the tenant's records after the checkpoints, up to `upto` (0: to
  // the end of the log).
  Status CatchUp(const TenantId& tenant, Seq upto);
  void Loop();

  ledger::Database* db_;
  const ledger::Log* log_;
  RocksStore store_;
  // The availability keys, decoded (without what only the fold reads).
  AvailabilityIndex availability_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Tenants with records to fold, in the order they became so: first come,
  // first folded, so that under load no tenant waits behind others that keep
  // getting new records (a sorted set starved the last ones for seconds).
  std::deque<std::string> dirty_;                  // guarded by mu_
  std::unordered_set<std::string> dirty_set_;      // the same tenants; guarded by mu_
  std::unordered_map<std::string, Seq> position_;  // guarded by mu_
  // The highest durable position Notify named, per tenant: records after it
  // may be in the store already but are folded only once durable.
  std::unordered_map<std::string, Seq> durable_;  // guarded by mu_
  std::set<std::string> held_;                    // set before Start, then read only
  bool stopping_ = false;                         // guarded by mu_
  std::chrono::milliseconds lag_{0};
  std::thread thread_;
};

}  // namespace saalbuch::projections
