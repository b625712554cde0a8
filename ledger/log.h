// The per-tenant append-only log: the narrow interface every log store
// implements (RocksDB today; PostgreSQL is the planned scale-out store, see
// ARCHITECTURE.md). Key grammar of the RocksDB store: ledger/README.md.
//
// Each tenant's records are numbered gaplessly from 1. Each record is a
// FlatBuffers Envelope (schemas/event.fbs) whose prev_hash is the chain hash
// of the record before; chain hash(n) = SHA-256(chain hash(n-1) ‖ bytes(n)),
// with 32 zero bytes before record 1.
//
// Thread-safety: all methods may be called concurrently. Appends to one
// tenant are serialised by the store; appends to different tenants proceed
// in parallel.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/crypto.h"
#include "common/result.h"
#include "common/types.h"
#include "schemas/event_generated.h"

namespace saalbuch::ledger {

// An event to append; the store assigns tenant, seq and prev_hash.
struct EventDraft {
  std::string stream_id;             // e.g. "booking/bk_…", "resource/saal-1"
  std::uint64_t stream_version = 0;  // the stream's version after this event
  TimeUs recorded_at = 0;
  std::string actor;  // who caused it: "key:<id>", "public", …
  std::string command_id;
  std::string correlation_id;
  schema::PayloadUnion payload;
};

// An opaque value stored under a client's idempotency key, atomically with
// the events of the same append.
struct IdempotencyRecord {
  std::string key;
  std::string value;
};

struct Head {
  Seq seq = 0;
  Sha256 hash{};  // chain hash of record `seq`; zeros when seq == 0
};

struct AppendResult {
  Seq first = 0;  // seq of the first appended record; last + 1 when none
  Head head;      // the tenant's head after the append
};

struct Record {
  Seq seq = 0;
  Sha256 hash{};      // chain hash as stored beside the record
  std::string bytes;  // the encoded Envelope
};

// Decodes and verifies the FlatBuffers structure of an envelope; nullptr when
// the bytes are not a well-formed Envelope, or its payload is missing or of
// a type this schema does not know. The pointer aliases `bytes`, which must
// start 8-byte aligned, as a std::string's buffer does (FlatBuffers reads
// its offsets in place).
const schema::Envelope* DecodeEnvelope(std::string_view bytes);

Sha256 ChainHash(const Sha256& prev, std::string_view record_bytes);

class Log {
 public:
  virtual ~Log() = default;

  // Appends `drafts` (may be empty) and `idempotency` records for `tenant` as
  // one atomic, durable write: when this returns ok, all of it survives a
  // crash. When it fails with kUnavailable, the store refused the write
  // before writing anything (it has not recovered from an earlier failure
  // yet); nothing of it will ever appear and the log is not poisoned. When
  // it fails otherwise, the caller must assume nothing or everything was
  // written, and the tenant's log is poisoned: every later Append for it
  // fails with kPoisoned until the process restarts and re-reads its head.
  // One tenant's failure does not poison the others.
  // An unknown tenant starts at seq 1.
  virtual Result<AppendResult> Append(const TenantId& tenant, std::vector<EventDraft> drafts,
                                      const std::vector<IdempotencyRecord>& idempotency) = 0;

  // Append without waiting for the disk: when this returns ok, the write is
  // in the store (readers may see it) but durable only once a later Sync()
  // returned ok. Failures as for Append. This is group commit across
  // tenants: the command bus appends every tenant's batch this way and
  // acknowledges them all after one Sync (commands/bus.h).
  virtual Result<AppendResult> AppendDeferred(const TenantId& tenant, std::vector<EventDraft> drafts,
                                              const std::vector<IdempotencyRecord>& idempotency) = 0;

  // Makes every append that returned before this call durable, whatever the
  // tenant: one sync of the store's write-ahead log. When it fails, an
  // append since the last successful Sync may or may not survive a crash.
  virtual Status Sync() = 0;

  // Appends to `out` up to `max` records of `tenant` with seq >= `from`, in
  // order.
  virtual Status Read(const TenantId& tenant, Seq from, std::size_t max, std::vector<Record>* out) const = 0;

  virtual Result<Head> GetHead(const TenantId& tenant) const = 0;

  // The value stored under an idempotency key, or nullopt.
  virtual Result<std::optional<std::string>> GetIdempotency(const TenantId& tenant,
                                                            std::string_view key) const = 0;

  // The stored hash of the perfect subtree (level, index) of the tenant's
  // Merkle tree (common/merkle.h; level >= 1), written with the record that
  // completes it; nullopt when not stored (a read-only copy of a log older
  // than the tree). ledger/tree.h computes roots and proofs from these.
  virtual Result<std::optional<Sha256>> StoredTreeNode(const TenantId& tenant, int level,
                                                       std::uint64_t index) const = 0;

  // Drops the tenant's stored tree and builds it again from its records
  // (the operator accepted a log that was changed after it was written).
  virtual Status RebuildTree(const TenantId& tenant) = 0;

  // Every tenant that has at least one record, sorted.
  virtual std::vector<TenantId> Tenants() const = 0;

  // Snapshots of a tenant's write model: opaque bytes (commands/snapshot.h)
  // describing the state after record `seq`. PutSnapshot stores one durably
  // and atomically, replacing an older one at the same seq, and keeps only
  // the newest `keep` (>= 1) snapshots of the tenant; kUnavailable when the
  // store will not take one now (e.g. after a failed write). A snapshot is
  // a cache: losing one only costs a longer fold at the next start.
  virtual Status PutSnapshot(const TenantId& tenant, Seq seq, std::string_view bytes, std::size_t keep) = 0;
  // The seqs of the tenant's stored snapshots, newest first.
  virtual Result<std::vector<Seq>> SnapshotSeqs(const TenantId& tenant) const = 0;
  // The bytes of the snapshot at `seq` (kNotFound when there is none).
  virtual Result<std::string> GetSnapshot(const TenantId& tenant, Seq seq) const = 0;
  // Deletes every snapshot of the tenant durably (the operator accepted a
  // log that its snapshots disagree with).
  virtual Status DropSnapshots(const TenantId& tenant) = 0;
};

}  // namespace saalbuch::ledger
