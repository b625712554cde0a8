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
// Thread-safety: safe for concurrent use (RocksDB's own guarantees).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/types.h"
#include "ledger/database.h"

namespace saalbuch::ledger {

class Vault {
 public:
  explicit Vault(Database* db) : db_(db) {}

  // The key of `person`, created and written durably (sync) when missing.
  Result<std::string> KeyFor(const TenantId& tenant, std::string_view person);
  // The key of `person`, or nullopt when it never existed or was erased.
  Result<std::optional<std::string>> Find(const TenantId& tenant, std::string_view person) const;
  // Deletes the key durably and compacts its key range, so that the key's
  // bytes also leave RocksDB's files. Erasing an unknown person is no error.
  Status Erase(const TenantId& tenant, std::string_view person);

  // The tenant's Ed25519 signing key (a 32-byte seed) for checkpoints,
  // created durably when missing. Key: tenant-prefix ‖ "k".
  Result<std::string> SigningSeed(const TenantId& tenant);
  // The tenant's signing seed, or nullopt when there is none (never creates
  // one): saalbuchd checks at start that a tenant whose log holds signed
  // checkpoints still has the key that signed them.
  Result<std::optional<std::string>> FindSigningSeed(const TenantId& tenant) const;

  // Seals `plaintext` for `person` (creating the key) / opens it (nullopt:
  // erased, or not sealed for this person).
  Result<std::string> Seal(const TenantId& tenant, std::string_view person, std::string_view plaintext);
  Result<std::optional<std::string>> Open(const TenantId& tenant, std::string_view person,
                                          std::string_view sealed) const;

 private:
  Result<std::string> GetOrCreate(const std::string& key);
  Database* db_;
};

}  // namespace saalbuch::ledger
