// Merkle proofs as a witness or an auditor receives them (common/merkle.h):
// any sizes, any path, any roots are checked without a crash, a hang or an
// overflow; and for a tree the input describes, every proof the functions
// produce verifies, and the same proof for another leaf does not.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/merkle.h"

namespace {

std::uint64_t Take64(const std::uint8_t*& p, std::size_t& n) {
  std::uint64_t v = 0;
  const std::size_t k = n < 8 ? n : 8;
  std::memcpy(&v, p, k);
  p += k;
  n -= k;
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace saalbuch;
  const std::uint8_t* p = data;
  std::size_t n = size;
  const std::uint64_t a = Take64(p, n), b = Take64(p, n);
  std::vector<Sha256> hashes;
  for (; n >= 32 && hashes.size() < 80; p += 32, n -= 32) {
    Sha256 h;
    std::memcpy(h.data(), p, 32);
    hashes.push_back(h);
  }
  const Sha256 r1 = hashes.empty() ? Sha256{} : hashes.front();
  const Sha256 r2 = hashes.size() < 2 ? Sha256{} : hashes[1];
  // Arbitrary claims: answered, whatever they are.
  (void)merkle::VerifyInclusion(r1, a, b, hashes, r2);
  (void)merkle::VerifyConsistency(a, b, r1, r2, hashes);

  // A tree of 1–300 leaves named by the input: proofs round-trip.
  std::vector<Sha256> leaves;
  for (std::uint64_t i = 0; i < (a % 300) + 1; ++i) {
    leaves.push_back(merkle::LeafHash(std::string_view(reinterpret_cast<const char*>(&i), sizeof i)));
  }
  const auto node = [&](int level, std::uint64_t index) -> Result<Sha256> {
    merkle::Frontier f;
    for (std::uint64_t i = index << level; i < (index + 1) << level; ++i) f.Append(leaves.at(i));
    return f.Root();
  };
  const std::uint64_t tree = leaves.size(), leaf = b % tree, old = (b >> 32) % tree + 1;
  const auto root = merkle::Root(tree, node);
  const auto inclusion = merkle::InclusionProof(leaf, tree, node);
  if (!root.ok() || !inclusion.ok() ||
      !merkle::VerifyInclusion(leaves[leaf], leaf, tree, *inclusion, *root)) {
    __builtin_trap();
  }
  if (tree > 1 && merkle::VerifyInclusion(leaves[(leaf + 1) % tree], leaf, tree, *inclusion, *root)) {
    __builtin_trap();
  }
  const auto old_root = merkle::Root(old, node);
  const auto consistency = merkle::ConsistencyProof(old, tree, node);
  if (!old_root.ok() || !consistency.ok() ||
      !merkle::VerifyConsistency(old, tree, *old_root, *root, *consistency)) {
    __builtin_trap();
  }
  return 0;
}
