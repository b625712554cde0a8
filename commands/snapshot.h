// Snapshots of a tenant's write model, so that a start folds only the
// records after the newest snapshot instead of the whole log.
//
// A snapshot is a cache, never a source of truth: it names the log position
// it was taken at and that record's chain hash, and the bus uses it only
// when the log still has exactly that record (commands/bus.cc); anything
// else (damage, an unknown format, a position beyond the head, another
// log's snapshot) falls back to the full fold. Bytes:
//
//   "SBWM" ‖ u32 format ‖ u64 seq ‖ chain hash(seq) [32] ‖ SHA-256(body) [32] ‖ body
//
// (integers little-endian); body = every member of TenantModel and Books
// (but the derived by_end_ and the configured archive_after_) in
// cereal's portable binary archive (commands/snapshot.cc). Any change to a
// member of the model or of a struct it holds must raise kSnapshotFormat:
// old snapshots are then ignored once and replaced at the next snapshot.
// The golden test in tests/commands/snapshot_test.cc fails when the encoding
// of a fixed model changes, as a reminder.
//
// Personal data: the model holds pseudonymous ids and token hashes, never
// sealed contact data, so erasure (crypto-shredding) is unaffected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "commands/model.h"
#include "common/crypto.h"
#include "common/result.h"

namespace saalbuch::commands {

inline constexpr std::uint32_t kSnapshotFormat = 9;  // 2: the archive (clock, orphans); 3: public settings;
                                                     // 4: invoice issue time, tenant creation time;
                                                     // 5: accounts; 6: key expiry, version, label;
                                                     // 7: invoice recipients (bookings, customers);
                                                     // 8: second factors (TOTP) and their policy;
                                                     // 9: the zone as rules (common/zone.h)

struct SnapshotHeader {
  std::uint32_t format = 0;
  Seq seq = 0;
  Sha256 chain_hash{};
};

// The snapshot of `model` (taken at model.position(), whose record has the
// chain hash `chain_hash`).
std::string EncodeSnapshot(const TenantModel& model, const Sha256& chain_hash);

// The header alone; kCorruption when `bytes` are too short or not a
// snapshot. Does not check the format or the body.
Result<SnapshotHeader> ReadSnapshotHeader(std::string_view bytes);

// The model of a snapshot: kInvalidArgument for a format other than
// kSnapshotFormat, kCorruption when the checksum or the body do not decode.
Result<TenantModel> DecodeSnapshot(std::string_view bytes);

}  // namespace saalbuch::commands
