// Key encodings of the RocksDB store (ledger/README.md has the grammar).
// Internal to ledger/ and projections/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/types.h"

namespace saalbuch::ledger::keys {

// tenant-prefix = u8 length ‖ tenant id bytes
inline std::string TenantPrefix(std::string_view tenant) {
  std::string k;
  k.push_back(static_cast<char>(tenant.size()));
  k.append(tenant);
  return k;
}

inline void AppendBigEndian64(std::string* k, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) k->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline std::uint64_t ReadBigEndian64(std::string_view s) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

inline std::string LogKey(std::string_view tenant, Seq seq) {
  std::string k = TenantPrefix(tenant);
  AppendBigEndian64(&k, seq);
  return k;
}

inline std::string HeadKey(std::string_view tenant) { return TenantPrefix(tenant) + "h"; }

inline std::string StreamKey(std::string_view tenant, std::string_view stream) {
  return TenantPrefix(tenant) + "s" + std::string(stream);
}

// A write-model snapshot is stored in chunks: "w" ‖ seq ‖ u32 chunk index.
inline std::string SnapshotPrefix(std::string_view tenant) { return TenantPrefix(tenant) + "w"; }

inline std::string SnapshotChunkKey(std::string_view tenant, Seq seq, std::uint32_t chunk) {
  std::string k = SnapshotPrefix(tenant);
  AppendBigEndian64(&k, seq);
  for (int i = 3; i >= 0; --i) k.push_back(static_cast<char>((chunk >> (8 * i)) & 0xff));
  return k;
}

// The log's Merkle tree (common/merkle.h): the perfect subtrees of level
// >= 1, "m" ‖ u8 level ‖ u64 index, and how many records they cover, "t".
inline std::string TreeNodeKey(std::string_view tenant, int level, std::uint64_t index) {
  std::string k = TenantPrefix(tenant) + "m";
  k.push_back(static_cast<char>(level));
  AppendBigEndian64(&k, index);
  return k;
}

inline std::string TreeSizeKey(std::string_view tenant) { return TenantPrefix(tenant) + "t"; }

inline std::string IdempotencyKey(std::string_view tenant, std::string_view key) {
  return TenantPrefix(tenant) + std::string(key);
}

}  // namespace saalbuch::ledger::keys
