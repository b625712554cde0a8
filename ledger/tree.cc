#include "ledger/tree.h"

namespace saalbuch::ledger {

merkle::NodeFn TreeNodes(const Log& log, TenantId tenant) {
  return [&log, tenant = std::move(tenant)](int level, std::uint64_t index) -> Result<Sha256> {
    const auto node = [&](const auto& self, int l, std::uint64_t i) -> Result<Sha256> {
      if (l == 0) {
        std::vector<Record> r;
        if (Status s = log.Read(tenant, i + 1, 1, &r); !s.ok()) return s;
        if (r.size() != 1 || r[0].seq != i + 1) {
          return Status(StatusCode::kNotFound, "record " + std::to_string(i + 1) + " is not in the log");
        }
        return merkle::LeafHash(r[0].bytes);
      }
      auto stored = log.StoredTreeNode(tenant, l, i);
      if (!stored.ok()) return stored.status();
      if (stored->has_value()) return **stored;
      auto left = self(self, l - 1, 2 * i);
      if (!left.ok()) return left.status();
      auto right = self(self, l - 1, 2 * i + 1);
      if (!right.ok()) return right.status();
      return merkle::NodeHash(*left, *right);
    };
    return node(node, level, index);
  };
}

}  // namespace saalbuch::ledger
