// The finance projection's fold, for fold.cc's dispatcher.
#pragma once

#include "common/result.h"
#include "ledger/log.h"
#include "projections/keys_internal.h"
#include "projections/store.h"

// Returns a failed Status from the enclosing function.
#define TRY_STATUS(expr)                                     \
  do {                                                       \
    if (::saalbuch::Status s_ = (expr); !s_.ok()) return s_; \
  } while (0)

namespace saalbuch::projections {

Status FoldFinance(const TenantId& tenant, Seq seq, const schema::Envelope& env, Txn* txn);

}  // namespace saalbuch::projections
