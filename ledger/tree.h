// The Merkle tree of a tenant's log (common/merkle.h) as the store keeps
// it: leaves are the records' stored bytes, perfect subtrees of level >= 1
// are stored beside the records (Log::StoredTreeNode). Roots and proofs:
//   merkle::Root(size, TreeNodes(log, tenant)), merkle::InclusionProof(…).
#pragma once

#include "common/merkle.h"
#include "ledger/log.h"

namespace saalbuch::ledger {

// Reads perfect subtrees of `tenant`'s tree; a leaf is its record hashed, a
// node the log does not store is computed from its children. Ask only for
// subtrees within the head.
merkle::NodeFn TreeNodes(const Log& log, TenantId tenant);

}  // namespace saalbuch::ledger
