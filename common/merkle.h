// The Merkle tree of a tenant's log (RFC 6962 §2.1, RFC 9162 §2.1): leaf i
// is record i+1's stored bytes, hashed SHA-256(0x00 ‖ bytes); an interior
// node is SHA-256(0x01 ‖ left ‖ right); the root of an empty tree is
// SHA-256(""). A signed checkpoint carries the root of the first `size`
// records (C2SP tlog-checkpoint), so a booker's receipt can carry an
// inclusion proof and a witness can demand a consistency proof.
//
// A perfect subtree is named by (level, index): the 2^level leaves from
// index·2^level on. Whoever stores the tree hands its perfect subtrees to
// the functions below through a NodeFn; everything else is computed.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "common/crypto.h"
#include "common/result.h"

namespace saalbuch::merkle {

Sha256 LeafHash(std::string_view leaf);
Sha256 NodeHash(const Sha256& left, const Sha256& right);
Sha256 EmptyRoot();

// The hash of the perfect subtree (level, index).
using NodeFn = std::function<Result<Sha256>(int level, std::uint64_t index)>;

// The root of the tree of leaves [0, size).
Result<Sha256> Root(std::uint64_t size, const NodeFn& node);
// RFC 6962 PATH(index, D[size]): the audit path of leaf `index`, bottom up.
Result<std::vector<Sha256>> InclusionProof(std::uint64_t index, std::uint64_t size, const NodeFn& node);
// RFC 6962 PROOF(old_size, D[new_size]), 0 < old_size <= new_size.
Result<std::vector<Sha256>> ConsistencyProof(std::uint64_t old_size, std::uint64_t new_size,
                                             const NodeFn& node);

// RFC 9162 §2.1.3.2: whether `proof` shows `leaf_hash` at `index` in the
// tree of `size` leaves whose root is `root`. The hashes do not bind the
// sizes (a proof can fit a neighbouring size too): take them, with the
// root, from a signed checkpoint.
bool VerifyInclusion(const Sha256& leaf_hash, std::uint64_t index, std::uint64_t size,
                     const std::vector<Sha256>& proof, const Sha256& root);
// RFC 9162 §2.1.4.2: whether `proof` shows the tree (old_size, old_root) to
// be a prefix of (new_size, new_root). Equal sizes need an empty proof and
// equal roots; the empty tree is a prefix of every tree.
bool VerifyConsistency(std::uint64_t old_size, std::uint64_t new_size, const Sha256& old_root,
                       const Sha256& new_root, const std::vector<Sha256>& proof);

// The right edge of a growing tree (a compact range): one perfect subtree
// per set bit of size(). Append is what the log's writer and the auditor's
// verify pass do per record.
class Frontier {
 public:
  // `on_node` is told of every perfect subtree of level >= 1 the leaf
  // completes, lowest first.
  using OnNode = std::function<void(int level, std::uint64_t index, const Sha256& hash)>;

  Frontier() = default;
  // The frontier of the first `size` leaves, read through `node`.
  static Result<Frontier> At(std::uint64_t size, const NodeFn& node);

  void Append(const Sha256& leaf_hash, const OnNode& on_node = {});
  std::uint64_t size() const { return size_; }
  Sha256 Root() const;

 private:
  std::uint64_t size_ = 0;
  std::vector<Sha256> by_level_;  // by_level_[k] valid when bit k of size_ is set
};

}  // namespace saalbuch::merkle
