// Verification of a tenant's hash chain, from the first record.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "ledger/log.h"

namespace saalbuch::ledger {

struct VerifyReport {
  Seq records = 0;               // records checked and found good
  Head head;                     // chain head after the last good record
  std::optional<Seq> first_bad;  // the first record that fails, if any
  std::string problem;           // what is wrong with it
  bool ok() const { return !first_bad.has_value(); }
};

// Checks, for every record from seq 1: no gap in the numbering, the stored
// chain hash equals SHA-256(previous hash ‖ bytes), the bytes decode as an
// Envelope of this tenant with this seq and the previous record's hash; and
// finally that the stored head names the last record. Damage is reported in
// the VerifyReport; the Status is non-ok only when the log cannot be read.
// `progress`, when set, is called after every 1024 records with the number
// verified so far (callers throttle what they print). `visit`, when set, is
// called with every record found good and its decoded envelope, in order,
// so that callers check more in the same pass (saalbuch-replay collects the
// signed checkpoints).
Result<VerifyReport> VerifyChain(
    const Log& log, const TenantId& tenant, const std::function<void(Seq)>& progress = {},
    const std::function<void(const Record&, const schema::Envelope&)>& visit = {});

}  // namespace saalbuch::ledger
