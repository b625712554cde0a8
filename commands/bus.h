// The write side's front door: one writer per tenant with group commit.
//
// Submit() queues a command for its tenant. A pool of writer threads takes
// tenants that have work; the writer of a tenant takes *every* command queued
// at that moment, decides them in order against the tenant's write model and
// appends all resulting events (and idempotency records) in one batch
// without waiting for the disk (Log::AppendDeferred). Decisions for one
// tenant are therefore serial — a double booking is impossible by
// construction — while tenants proceed in parallel.
//
// Group commit across tenants: one syncer thread makes everything appended
// so far durable with one Log::Sync and only then calls the callbacks of the
// batches it covers (and on_appended), while the writers already decide the
// next batches. Every outcome waits for that sync, refusals and idempotent
// replays too, since they may rest on a batch that is not durable yet: no
// reply ever tells of something a crash could still take back.
//
// A timer thread submits ExpireHolds (actor "system") for tenants whose
// earliest hold has run out, and SignCheckpoint when a checkpoint is due.
//
// Thread-safety: Submit, Authenticate, CheckOrigin and TenantExists may be called from any
// thread. A tenant's model is confined to whichever writer thread holds the
// tenant (at most one at a time). Callbacks run on writer threads and must
// not block.
#pragma once

#include <prometheus/registry.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "commands/commands.h"
#include "common/crypto.h"
#include "ledger/log.h"

namespace saalbuch::commands {

struct Outcome {
  enum class Kind { kCreated, kOk, kRejected, kFailed };
  Kind kind = Kind::kFailed;
  Refusal refusal = Refusal::kUnprocessable;  // when kRejected
  // kRejected: {"code","message","details"}; kFailed: {"code","message"};
  // otherwise the reply.
  nlohmann::json body;
  Seq position = 0;       // the tenant's log position after this command
  bool replayed = false;  // answered from an idempotency record
};

// How a tenant's public settings treat a browser's Origin.
enum class OriginCheck {
  kAny,       // the tenant lists no origins (or does not exist): any origin
  kListed,    // the origin is one the tenant lists
  kUnlisted,  // the tenant lists origins, and not this one
};

// Why a tenant is held: it takes no commands, signs no checkpoints, and
// saalbuchd answers its routes (and /readyz) with this problem, until the
// cause is gone at a restart (an installed time zone) or the operator
// decided (BusOptions::accept_log; README, "Integrity alarms").
struct TenantHold {
  // "integrity_alarm": something the server wrote earlier (a snapshot, the
  // projections, a signed checkpoint, the signing key) disagrees with the
  // log: history changed underneath the server. "time_zone_unknown": the
  // tenant's IANA zone is not in this host's time zone database.
  std::string code;
  Seq position = 0;     // the log position that disagrees (0: none in particular)
  std::string message;  // for the operator: what disagrees, and what to do
};

// What Start found in a tenant's log, for BusOptions::check_tenant.
struct LogFacts {
  Seq head = 0;
  std::uint64_t checkpoints = 0;  // CheckpointSigned records in the log
  Seq last_checkpoint_record = 0;
  std::string last_verifier_key;  // named by the latest checkpoint; empty when none
};

struct Submission {
  Context ctx;
  Command command;
  std::string idempotency_key;  // empty: none
  std::string fingerprint;      // identifies the request; a retry must match
};

struct BusOptions {
  // Writer threads: they decide and append but never wait for the disk
  // (the syncer does), so about one per core. More only contend in
  // RocksDB's write queue (BENCHMARKS.md, "Group commit across tenants");
  // two, so that one tenant's long decision or snapshot does not stop all.
  int writer_threads = 2;
  // Commands queued per tenant before Submit answers "overloaded" (503).
  std::size_t max_queue_per_tenant = 10000;
  // Called on the syncer thread once an append is durable, with the
  // tenant's new head position. Must not block.
  std::function<void(const TenantId&, Seq)> on_appended;
  // The clock that stamps commands whose Context has no time (now == 0),
  // read once per batch. Default: the system clock. Per tenant, stamps never
  // go backwards.
  std::function<TimeUs()> clock;
  // How often the hold timer looks for held bookings whose hold ran out.
  // Deadlines come from the write models (hence from the log), so expiry
  // also happens for holds that ran out while the server was down.
  std::chrono::milliseconds hold_check_interval{1000};
  // Signs a checkpoint of a tenant's log at (position, Merkle root of the
  // records up to it): returns {signed note, verifier key}. Unset: no
  // checkpoints.
  // The writer opens a batch with SignCheckpoint once `checkpoint_every`
  // records follow the last checkpoint (and a tenant's second batch with its
  // first); the timer submits one, while records arrive, every
  // `checkpoint_interval`; Start signs what the last run left unsigned.
  std::function<std::pair<std::string, std::string>(const TenantId&, Seq, const Sha256&)> sign_checkpoint;
  std::uint64_t checkpoint_every = 1000;
  std::chrono::seconds checkpoint_interval{300};
  // Write-model snapshots (commands/snapshot.h): the writer stores one after
  // a batch once `snapshot_every` records, and at least a tenth of the
  // tenant's log, have come since the last (0: never), and Shutdown one for
  // every tenant that changed, so that Start folds only the records after a
  // tenant's newest valid snapshot. The writer encodes and stores it before
  // taking the tenant's next batch: a pause for that tenant only
  // (BENCHMARKS.md, "Write-model snapshots").
  std::uint64_t snapshot_every = 100000;
  std::size_t snapshots_kept = 2;
  // Called by Start for every tenant after its model is rebuilt, with what
  // the log holds: a hold when something outside the log disagrees with it
  // (saalbuchd: the signing key, the projections). Unset: no such check.
  std::function<std::optional<TenantHold>(const TenantId&, const LogFacts&)> check_tenant;
  // Tenants whose log the operator accepted as it stands (saalbuchd
  // --accept-log): Start logs their integrity alarms as warnings instead of
  // holding them, replaces their snapshots by one of the log as it is, and
  // (with sign_checkpoint) signs a checkpoint of the log at once, recorded
  // with actor "operator" and correlation id "accept-log".
  std::set<std::string> accept_log;
};

// The back-office accounts of a tenant with their lookups, published by
// the bus after each durable append that changed one; immutable.
struct AccountDirectory {
  std::map<std::string, Account> accounts;                     // by id
  std::unordered_map<std::string, std::string> by_login;       // login hash → id (active first)
  std::unordered_map<std::string, std::string> by_session;     // session hash → id
  std::unordered_map<std::string, std::string> by_invitation;  // invitation hash → id
  std::set<Role> totp_roles;                                   // roles that must sign in with a second factor
  const Account* Find(const std::unordered_map<std::string, std::string>& index,
                      const std::string& hash) const {
    auto it = index.find(hash);
    return it == index.end() ? nullptr : &accounts.at(it->second);
  }
};

class CommandBus {
 public:
  // `log` and `registry` are not owned and must outlive the bus.
  CommandBus(ledger::Log* log, prometheus::Registry* registry, BusOptions options);
  ~CommandBus();  // calls Shutdown()
  CommandBus(const CommandBus&) = delete;
  CommandBus& operator=(const CommandBus&) = delete;

  // Rebuilds every tenant's write model from its newest valid snapshot and
  // the log after it (or the whole log), then starts the writers.
  // REQUIRES: called once, before Submit.
  Status Start();

  void Submit(Submission s, std::function<void(Outcome)> done);
  // Submit, then block until the outcome. Never from a thread the bus calls
  // back on (a writer): it would wait for itself.
  Outcome SubmitAndWait(Submission s);

  // The key's id and role when `key` is a key of `tenant`.
  // Not for a revoked key, nor for a rotated one from its expiry on (by
  // options.clock). Notes the time of use for KeysLastUsed.
  std::optional<ApiKey> Authenticate(const TenantId& tenant, std::string_view key) const;
  // Key id → when Authenticate last let it in (options.clock). Kept in
  // memory only, so that a request never writes: it starts empty with the
  // process.
  std::unordered_map<std::string, TimeUs> KeysLastUsed(const TenantId& tenant) const;
  // The time by options.clock: the one decisions and Authenticate see (so
  // that a key's state is shown as Authenticate treats it).
  TimeUs Now() const { return options_.clock(); }
  // The tenant's back-office accounts as of its last durable append (never
  // null; empty for an unknown tenant).
  std::shared_ptr<const AccountDirectory> Accounts(const TenantId& tenant) const;
  bool TenantExists(const TenantId& tenant) const;
  // The tenant's hold, or nullopt while it is served.
  std::optional<TenantHold> Hold(const TenantId& tenant) const;
  // Every held tenant, by id.
  std::map<std::string, TenantHold> Holds() const;
  // `origin` (an Origin header, compared exactly: the tenant's origins are
  // stored canonical, as browsers send them) against the tenant's allowed
  // origins as of its last durable append.
  OriginCheck CheckOrigin(const TenantId& tenant, std::string_view origin) const;

  // Stops taking commands, finishes every queued one, joins the writers,
  // then snapshots every tenant's write model that changed since its last.
  void Shutdown();

 private:
  struct Pending {
    Submission submission;
    std::function<void(Outcome)> done;
  };
  struct Tenant;
  struct Metrics;
  // A decided batch waiting for the sync that makes it durable.
  struct Unsynced {
    Tenant* tenant = nullptr;
    Seq head = 0;  // the tenant's position after its append; 0: it appended nothing
    std::deque<Pending> batch;
    std::vector<Outcome> outcomes;
  };

  Tenant* Find(const TenantId& id) const;
  Tenant* FindOrCreate(const TenantId& id);
  void WriterLoop();
  void HoldTimerLoop();
  // Submits SignCheckpoint for each tenant that is due; with unsigned_too,
  // for each with a record after its last checkpoint (at start).
  void SubmitCheckpoints(bool unsigned_too = false);
  void Drain(Tenant* t);
  void SyncLoop();
  // Hands a decided batch to the syncer.
  void AwaitSync(Unsynced u);
  Status Rebuild(Tenant* t);       // the model and what is published from it
  Status RebuildModel(Tenant* t);  // the model alone, from a snapshot and the log
  // Loads the tenant's newest snapshot that matches its log into the model;
  // false (model untouched) when there is none. A snapshot of a position
  // whose record has another chain hash, or beyond the head, raises an
  // integrity alarm.
  bool LoadSnapshot(Tenant* t);
  void WriteSnapshot(Tenant* t, std::size_t keep);
  // The checks of Start beyond the snapshot: the tenant's time zone, its
  // latest signed checkpoint against the log, then options_.check_tenant.
  void CheckTenant(Tenant* t);
  // Holds `t` (an integrity alarm of an accepted log is logged instead).
  void Raise(Tenant* t, const TenantHold& hold);
  Submission CheckpointSubmission(Tenant* t, const ledger::Head& head, std::string actor,
                                  std::string correlation);

  ledger::Log* log_;
  BusOptions options_;
  std::unique_ptr<Metrics> metrics_;

  std::shared_mutex accept_mu_;
  bool accepting_ = false;  // guarded by accept_mu_

  mutable std::shared_mutex tenants_mu_;
  std::unordered_map<std::string, std::unique_ptr<Tenant>> tenants_;

  std::mutex ready_mu_;
  std::condition_variable ready_cv_;
  std::deque<Tenant*> ready_;  // guarded by ready_mu_
  bool stopping_ = false;      // guarded by ready_mu_
  std::vector<std::thread> writers_;
  std::condition_variable timer_cv_;  // with ready_mu_; wakes the hold timer to stop
  std::thread hold_timer_;

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::vector<Unsynced> unsynced_;  // guarded by sync_mu_
  bool sync_stopping_ = false;      // guarded by sync_mu_
  std::thread syncer_;
};

}  // namespace saalbuch::commands
