// The log's Merkle tree (common/merkle.h) against RFC 6962 written out the
// slow way, the roots of Certificate Transparency's published test leaves,
// and proofs that must fail once anything in them is changed.

#include "common/merkle.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace saalbuch::merkle {
namespace {

// MTH(D[begin:end]) exactly as RFC 6962 §2.1 defines it.
Sha256 Naive(const std::vector<Sha256>& leaves, std::size_t begin, std::size_t end) {
  if (end == begin) return EmptyRoot();
  if (end - begin == 1) return leaves[begin];
  std::size_t k = 1;
  while (2 * k < end - begin) k *= 2;
  return NodeHash(Naive(leaves, begin, begin + k), Naive(leaves, begin + k, end));
}

NodeFn FromLeaves(const std::vector<Sha256>& leaves, int* calls = nullptr) {
  return [&leaves, calls](int level, std::uint64_t index) -> Result<Sha256> {
    if (calls) ++*calls;
    const std::size_t width = std::size_t{1} << level;
    if ((index + 1) * width > leaves.size()) return Status(StatusCode::kNotFound, "beyond the leaves");
    return Naive(leaves, index * width, (index + 1) * width);
  };
}

std::vector<Sha256> Leaves(std::size_t n) {
  std::vector<Sha256> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(LeafHash("record " + std::to_string(i)));
  return out;
}

// The leaves and roots of the CT test data (certificate-transparency,
// merkle_tree_test.cc; the same in Trillian and RFC 9162's references).
TEST(MerkleTest, MatchesCertificateTransparencyRoots) {
  const std::vector<std::string> data = {"",
                                         std::string("\x00", 1),
                                         "\x10",
                                         "\x20\x21",
                                         "\x30\x31",
                                         "\x40\x41\x42\x43",
                                         "\x50\x51\x52\x53\x54\x55\x56\x57",
                                         "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
  const char* roots[] = {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                         "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                         "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                         "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                         "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  EXPECT_EQ(ToHex(EmptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Frontier f;
  std::vector<Sha256> leaves;
  for (std::size_t i = 0; i < data.size(); ++i) {
    leaves.push_back(LeafHash(data[i]));
    f.Append(leaves.back());
    EXPECT_EQ(ToHex(f.Root()), roots[i]) << i + 1 << " leaves";
    EXPECT_EQ(ToHex(*Root(i + 1, FromLeaves(leaves))), roots[i]);
  }
}

// Every size up to 70: the frontier, the root read through perfect
// subtrees, and the frontier rebuilt from them agree with the definition;
// the nodes the frontier reports are the perfect subtrees.
TEST(MerkleTest, FrontierRootAndStoredNodesMatchTheDefinition) {
  const auto leaves = Leaves(70);
  Frontier f;
  std::map<std::pair<int, std::uint64_t>, Sha256> reported;
  for (std::size_t n = 0; n <= leaves.size(); ++n) {
    EXPECT_EQ(f.Root(), Naive(leaves, 0, n)) << n;
    EXPECT_EQ(*Root(n, FromLeaves(leaves)), Naive(leaves, 0, n)) << n;
    auto again = Frontier::At(n, FromLeaves(leaves));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->Root(), f.Root()) << n;
    if (n == leaves.size()) break;
    f.Append(leaves[n], [&](int level, std::uint64_t index, const Sha256& h) {
      EXPECT_GE(level, 1);
      EXPECT_TRUE(reported.emplace(std::make_pair(level, index), h).second) << "reported twice";
    });
  }
  // 70 leaves complete 35 + 17 + 8 + 4 + 2 + 1 perfect subtrees above the leaves.
  EXPECT_EQ(reported.size(), 67u);
  for (const auto& [at, h] : reported) EXPECT_EQ(h, *FromLeaves(leaves)(at.first, at.second));
}

TEST(MerkleTest, InclusionProofsVerifyAndFailWhenChanged) {
  const auto leaves = Leaves(40);
  const auto node = FromLeaves(leaves);
  for (std::uint64_t size = 1; size <= leaves.size(); ++size) {
    const Sha256 root = Naive(leaves, 0, size);
    for (std::uint64_t i = 0; i < size; ++i) {
      auto proof = InclusionProof(i, size, node);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(VerifyInclusion(leaves[i], i, size, *proof, root)) << i << " in " << size;
      EXPECT_FALSE(VerifyInclusion(leaves[(i + 1) % size], i, size, *proof, root) && size > 1);
      if (size > 1) {
        EXPECT_FALSE(VerifyInclusion(leaves[i], (i + 1) % size, size, *proof, root)) << i << " in " << size;
      }
      EXPECT_FALSE(VerifyInclusion(leaves[i], size, size, *proof, root));  // not a leaf
      for (std::size_t k = 0; k < proof->size(); ++k) {
        auto bad = *proof;
        bad[k][k % 32] ^= 1;
        EXPECT_FALSE(VerifyInclusion(leaves[i], i, size, bad, root));
      }
      if (!proof->empty()) {
        auto shorter = *proof;
        shorter.pop_back();
        EXPECT_FALSE(VerifyInclusion(leaves[i], i, size, shorter, root));
      }
      auto longer = *proof;
      longer.push_back(root);
      EXPECT_FALSE(VerifyInclusion(leaves[i], i, size, longer, root));
    }
  }
  EXPECT_FALSE(InclusionProof(3, 3, node).ok());
}

TEST(MerkleTest, ConsistencyProofsVerifyAndFailWhenChanged) {
  const auto leaves = Leaves(40);
  const auto node = FromLeaves(leaves);
  for (std::uint64_t n = 1; n <= leaves.size(); ++n) {
    const Sha256 new_root = Naive(leaves, 0, n);
    for (std::uint64_t m = 1; m <= n; ++m) {
      const Sha256 old_root = Naive(leaves, 0, m);
      auto proof = ConsistencyProof(m, n, node);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(VerifyConsistency(m, n, old_root, new_root, *proof)) << m << " → " << n;
      if (m < n) {
        // A fork: the same sizes, but leaf m-1 differs.
        auto forked = leaves;
        forked[m - 1] = LeafHash("forged");
        EXPECT_FALSE(VerifyConsistency(m, n, Naive(forked, 0, m), new_root, *proof));
        EXPECT_FALSE(VerifyConsistency(m, n, old_root, Naive(forked, 0, n), *proof));
        EXPECT_FALSE(VerifyConsistency(m - 1, n, Naive(leaves, 0, m - 1), new_root, *proof) && m > 1);
        for (std::size_t k = 0; k < proof->size(); ++k) {
          auto bad = *proof;
          bad[k][0] ^= 0x80;
          EXPECT_FALSE(VerifyConsistency(m, n, old_root, new_root, bad)) << m << " → " << n;
        }
      } else {
        EXPECT_TRUE(proof->empty());
        EXPECT_FALSE(VerifyConsistency(m, n, old_root, Naive(leaves, 0, n - 1), *proof));
      }
    }
  }
  EXPECT_TRUE(VerifyConsistency(0, 5, EmptyRoot(), Naive(leaves, 0, 5), {}));
  EXPECT_FALSE(VerifyConsistency(6, 5, Naive(leaves, 0, 6), Naive(leaves, 0, 5), {}));
  EXPECT_FALSE(ConsistencyProof(0, 5, node).ok());
  EXPECT_FALSE(ConsistencyProof(6, 5, node).ok());
}

// A proof only asks for perfect subtrees: O(log n) of them, whatever n.
TEST(MerkleTest, ProofsReadLogarithmicallyManyNodes) {
  const auto leaves = Leaves(1000);
  int calls = 0;
  const auto node = FromLeaves(leaves, &calls);
  ASSERT_TRUE(InclusionProof(777, 1000, node).ok());
  EXPECT_LE(calls, 2 * 10);
  calls = 0;
  ASSERT_TRUE(ConsistencyProof(333, 1000, node).ok());
  EXPECT_LE(calls, 3 * 10);
}

}  // namespace
}  // namespace saalbuch::merkle
