// Witnesses' cosignatures of a tenant's checkpoints (C2SP tlog-cosignature,
// common/note.h), kept beside the log in the meta family:
//
//   tenant-prefix ‖ "c" ‖ u64 BE checkpoint size ‖ witness name → the signature line
//
// Outside the hash chain on purpose: each cosignature is signed by its
// witness and proves itself against the checkpoint body, and a record per
// cosignature would itself be a record the next checkpoint has to sign (a
// quiet tenant's timer would never rest).
//
// Thread-safety: safe for concurrent use (RocksDB's own guarantees).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "ledger/database.h"

namespace saalbuch::ledger {

struct Cosignature {
  Seq size = 0;         // the checkpoint's tree size
  std::string witness;  // the witness's key name
  std::string line;     // "— <name> <base64>\n"
};

// Stores (durably) the cosignature `line` of `witness` for the checkpoint
// of size `size`; a later one for the same size and witness replaces it.
Status PutCosignature(Database* db, const TenantId& tenant, Seq size, std::string_view witness,
                      std::string_view line);

// The cosignatures of the checkpoint of size `size` (every size when 0),
// by size, then witness name.
Result<std::vector<Cosignature>> Cosignatures(const Database& db, const TenantId& tenant, Seq size = 0);

}  // namespace saalbuch::ledger
