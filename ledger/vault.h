// The key vault for personal data (ARCHITECTURE.md: crypto-shredding).
//
// Each person whose data enters a tenant's log — a booker's name, e-mail,
// phone, notes — gets a random 256-bit key kept here, in the mutable `meta`
// family, never in the log. Events carry only AES-256-GCM ciphertext under
// that key (common/crypto.h Seal/Open, aad = tenant ‖ "/" ‖ person). Erasing
// the person deletes the key: the log and its hash chain stay intact and the
// data can no longer be read, in live projections, replays and exports
// alike. Backups taken before the erasure still hold the key (see README).
//
// Keys: tenant-prefix ‖ "v" ‖ person → 32 key bytes; tenant-prefix ‖ "k" →
// the tenant's Ed25519 checkpoint signing seed.
//
// With a master key (saalbuchd --master-key-file, kept outside the data
// directory) every one of these is stored wrapped: "sbw1" ‖ AES-256-GCM of
// the 32 bytes under the master key, bound to its slot (aad: the RocksDB
// key). A copy of the data directory or of a backup then reveals no
// personal data and cannot re-sign history. Without one they are stored as
// they are (a data directory of before the master key, or a test).
// Thread-safety: safe for concurrent use (RocksDB's own guarantees).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "ledger/database.h"

namespace saalbuch::ledger {

class Vault {
 public:
  // `master`: 32 bytes wrapping every key stored here; nullopt: none.
  explicit Vault(Database* db, std::optional<std::string> master = std::nullopt)
      : db_(db), master_(std::move(master)) {}

  // Run once at start, before any other call. With a master key: wraps
  // every key still stored bare, rewraps those wrapped with `previous` (a
  // rotation of the master key), then flushes and compacts the vault so
  // that RocksDB's files keep no old value. Refuses (kInvalidArgument, and
  // changes nothing) when a key is wrapped with neither, or, without a
  // master key, when any key is wrapped. Returns how many it rewrote.
  Result<std::size_t> Prepare(const std::optional<std::string>& previous = std::nullopt);

  // The key of `person`, created and written durably (sync) when missing.
  Result<std::string> KeyFor(const TenantId& tenant, std::string_view person);
  // The key of `person`, or nullopt when it never existed or was erased.
  Result<std::optional<std::string>> Find(const TenantId& tenant, std::string_view person) const;
  // Deletes the key and the person's name terms durably and compacts their
  // key ranges, so that the bytes also leave RocksDB's files. Erasing an
  // unknown person is no error.
  Status Erase(const TenantId& tenant, std::string_view person);

  // The tenant's Ed25519 signing key (a 32-byte seed) for checkpoints,
  // created durably when missing. Key: tenant-prefix ‖ "k".
  Result<std::string> SigningSeed(const TenantId& tenant);
  // The tenant's signing seed, or nullopt when there is none (never creates
  // one): saalbuchd checks at start that a tenant whose log holds signed
  // checkpoints still has the key that signed them.
  Result<std::optional<std::string>> FindSigningSeed(const TenantId& tenant) const;

  // The tenant's key for blind indexes (32 bytes): keyed hashes of e-mail
  // addresses that find a person without storing the address. Created
  // durably when missing; never erased with a person. Key: tenant-prefix ‖ "b".
  Result<std::string> BlindIndexKey(const TenantId& tenant);

  // Name search without the name: `terms` are blind-index terms of a
  // person's name (keyed hashes the caller makes with BlindIndexKey, 32 hex
  // digits each). Keys: tenant-prefix ‖ "n" ‖ term ‖ person → "" and
  // tenant-prefix ‖ "N" ‖ person ‖ 0 ‖ term → "", so that Erase takes a
  // person's terms with its key. Writes (durably) only terms not yet there.
  Status IndexName(const TenantId& tenant, std::string_view person, const std::vector<std::string>& terms);
  // The persons indexed under every one of `terms`, in key order, at most
  // `limit`.
  Result<std::vector<std::string>> PersonsByName(const TenantId& tenant,
                                                 const std::vector<std::string>& terms,
                                                 std::size_t limit) const;

  // Seals `plaintext` for `person` (creating the key) / opens it (nullopt:
  // erased, or not sealed for this person).
  Result<std::string> Seal(const TenantId& tenant, std::string_view person, std::string_view plaintext);
  Result<std::optional<std::string>> Open(const TenantId& tenant, std::string_view person,
                                          std::string_view sealed) const;

 private:
  Result<std::string> GetOrCreate(const std::string& key);
  // The 32 key bytes of a stored value (wrapped or bare) in slot `key`.
  Result<std::string> Unwrap(const std::string& key, const std::string& value) const;
  // What is stored for key bytes `raw` in slot `key`.
  std::string Wrap(const std::string& key, const std::string& raw) const;
  Result<std::optional<std::string>> Get(const std::string& key) const;

  Database* db_;
  std::optional<std::string> master_;
};

}  // namespace saalbuch::ledger
