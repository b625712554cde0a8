#include "common/merkle.h"

#include <bit>
#include <cstring>

namespace saalbuch::merkle {
namespace {

// The largest power of two below n (n >= 2): where RFC 6962 splits D[n].
std::uint64_t Split(std::uint64_t n) { return std::bit_floor(n - 1); }

bool Odd(std::uint64_t x) { return (x & 1) != 0; }

// MTH(D[begin:end]), begin < end, made of perfect subtrees.
Result<Sha256> Subtree(std::uint64_t begin, std::uint64_t end, const NodeFn& node) {
  const std::uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) {
    return node(std::countr_zero(n), begin / n);
  }
  const std::uint64_t k = Split(n);
  auto left = Subtree(begin, begin + k, node);
  if (!left.ok()) return left.status();
  auto right = Subtree(begin + k, end, node);
  if (!right.ok()) return right.status();
  return NodeHash(*left, *right);
}

// PATH(m, D[begin:end]).
Status Path(std::uint64_t m, std::uint64_t begin, std::uint64_t end, const NodeFn& node,
            std::vector<Sha256>* out) {
  const std::uint64_t n = end - begin;
  if (n == 1) return Status::Ok();
  const std::uint64_t k = Split(n);
  const bool left = m < k;
  Status s = left ? Path(m, begin, begin + k, node, out) : Path(m - k, begin + k, end, node, out);
  if (!s.ok()) return s;
  auto sibling = left ? Subtree(begin + k, end, node) : Subtree(begin, begin + k, node);
  if (!sibling.ok()) return sibling.status();
  out->push_back(*sibling);
  return Status::Ok();
}

// SUBPROOF(m, D[begin:end], whole).
Status SubProof(std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool whole, const NodeFn& node,
                std::vector<Sha256>* out) {
  const std::uint64_t n = end - begin;
  if (m == n) {
    if (whole) return Status::Ok();
    auto h = Subtree(begin, end, node);
    if (!h.ok()) return h.status();
    out->push_back(*h);
    return Status::Ok();
  }
  const std::uint64_t k = Split(n);
  const bool left = m <= k;
  Status s = left ? SubProof(m, begin, begin + k, whole, node, out)
                  : SubProof(m - k, begin + k, end, false, node, out);
  if (!s.ok()) return s;
  auto sibling = left ? Subtree(begin + k, end, node) : Subtree(begin, begin + k, node);
  if (!sibling.ok()) return sibling.status();
  out->push_back(*sibling);
  return Status::Ok();
}

}  // namespace

Sha256 LeafHash(std::string_view leaf) { return Sha256Of(std::string_view("\0", 1), leaf); }

Sha256 NodeHash(const Sha256& left, const Sha256& right) {
  char buf[65];
  buf[0] = 1;
  std::memcpy(buf + 1, left.data(), 32);
  std::memcpy(buf + 33, right.data(), 32);
  return Sha256Of(std::string_view(buf, sizeof buf));
}

Sha256 EmptyRoot() { return Sha256Of({}); }

Result<Sha256> Root(std::uint64_t size, const NodeFn& node) {
  if (size == 0) return EmptyRoot();
  return Subtree(0, size, node);
}

Result<std::vector<Sha256>> InclusionProof(std::uint64_t index, std::uint64_t size, const NodeFn& node) {
  if (index >= size) return Status(StatusCode::kInvalidArgument, "the leaf is not in the tree");
  std::vector<Sha256> out;
  if (Status s = Path(index, 0, size, node, &out); !s.ok()) return s;
  return out;
}

Result<std::vector<Sha256>> ConsistencyProof(std::uint64_t old_size, std::uint64_t new_size,
                                             const NodeFn& node) {
  if (old_size == 0 || old_size > new_size) {
    return Status(StatusCode::kInvalidArgument, "a consistency proof needs 0 < old size <= new size");
  }
  std::vector<Sha256> out;
  if (Status s = SubProof(old_size, 0, new_size, true, node, &out); !s.ok()) return s;
  return out;
}

bool VerifyInclusion(const Sha256& leaf_hash, std::uint64_t index, std::uint64_t size,
                     const std::vector<Sha256>& proof, const Sha256& root) {
  if (index >= size) return false;
  std::uint64_t fn = index, sn = size - 1;
  Sha256 r = leaf_hash;
  for (const Sha256& p : proof) {
    if (sn == 0) return false;
    if (Odd(fn) || fn == sn) {
      r = NodeHash(p, r);
      while (!Odd(fn) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(std::uint64_t old_size, std::uint64_t new_size, const Sha256& old_root,
                       const Sha256& new_root, const std::vector<Sha256>& proof) {
  if (old_size > new_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  if (old_size == 0) return proof.empty() && old_root == EmptyRoot();
  std::vector<Sha256> path;
  if (std::has_single_bit(old_size)) path.push_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());
  if (path.empty()) return false;
  std::uint64_t fn = old_size - 1, sn = new_size - 1;
  while (Odd(fn)) {
    fn >>= 1;
    sn >>= 1;
  }
  Sha256 fr = path[0], sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Sha256& c = path[i];
    if (sn == 0) return false;
    if (Odd(fn) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while (!Odd(fn) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == old_root && sr == new_root && sn == 0;
}

Result<Frontier> Frontier::At(std::uint64_t size, const NodeFn& node) {
  Frontier f;
  f.size_ = size;
  f.by_level_.resize(64);
  for (int k = 0; k < 64; ++k) {
    if (((size >> k) & 1) == 0) continue;
    auto h = node(k, (size >> k) - 1);
    if (!h.ok()) return h.status();
    f.by_level_[static_cast<std::size_t>(k)] = *h;
  }
  return f;
}

void Frontier::Append(const Sha256& leaf_hash, const OnNode& on_node) {
  if (by_level_.size() < 64) by_level_.resize(64);
  Sha256 carry = leaf_hash;
  int level = 0;
  const std::uint64_t index = size_;  // the new leaf's
  while (((size_ >> level) & 1) != 0) {
    carry = NodeHash(by_level_[static_cast<std::size_t>(level)], carry);
    ++level;
    if (on_node) on_node(level, index >> level, carry);
  }
  by_level_[static_cast<std::size_t>(level)] = carry;
  ++size_;
}

Sha256 Frontier::Root() const {
  if (size_ == 0) return EmptyRoot();
  Sha256 r{};
  bool first = true;
  for (int k = 0; k < 64; ++k) {
    if (((size_ >> k) & 1) == 0) continue;
    const Sha256& h = by_level_[static_cast<std::size_t>(k)];
    r = first ? h : NodeHash(h, r);
    first = false;
  }
  return r;
}

}  // namespace saalbuch::merkle
