// A tenant's stored log as saalbuch-replay verify reads it (ledger/verify.h
// VerifyChain), from the real RocksDB store: the input is a sequence of
// records (separated by "\n--\n"), written under positions 1, 2, … with a
// head naming the last. Whatever the bytes, VerifyChain reports the first
// bad record or accepts the whole log, and never reads outside a record.
//
// The first input byte steers how hostile the store is:
//   bit 0: the stored hashes are the records' first 32 bytes, not the chain
//   bit 1: the head names one position beyond the last record
// The tenant is the one the first record names, when it decodes, so that
// records exported from a real log (the corpus) verify as far as they go.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/database.h"
#include "ledger/keys.h"
#include "ledger/rocks_log.h"
#include "ledger/verify.h"

namespace {

using namespace saalbuch;

// A store in a temporary directory, removed with it.
struct Scratch {
  Scratch() {
    char name[] = "/tmp/fuzz-chain-XXXXXX";
    if (mkdtemp(name) == nullptr) std::abort();
    dir = name;
    auto opened = ledger::Database::Open(dir + "/db", {});
    if (!opened.ok()) std::abort();
    db = std::move(opened).value();
  }
  ~Scratch() {
    db.reset();
    std::filesystem::remove_all(dir);
  }
  std::string dir;
  std::unique_ptr<ledger::Database> db;
};

// A fresh store every 256 inputs, so that the range deletions between
// inputs do not pile up and slow every read. The last one is closed by an
// atexit handler registered after RocksDB's first open, so that it runs
// before RocksDB's own statics are destroyed.
Scratch* scratch = nullptr;

void CloseStore() {
  delete scratch;
  scratch = nullptr;
}

ledger::Database& Store() {
  static unsigned uses = 0;
  if (uses++ % 256 == 0) {
    const bool first = scratch == nullptr;
    CloseStore();
    scratch = new Scratch();
    if (first) std::atexit(CloseStore);
  }
  return *scratch->db;
}

std::vector<std::string_view> Split(std::string_view text) {
  std::vector<std::string_view> out;
  constexpr std::string_view kSep = "\n--\n";
  while (!text.empty()) {
    const auto at = text.find(kSep);
    out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + kSep.size());
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const auto records = Split(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  if (records.empty() || records.size() > 64) return 0;
  std::string tenant = "t";
  // A copy: FlatBuffers reads need the alignment a std::string's buffer has
  // (as every record the store hands out), and the input's records have none.
  const std::string first(records.front());
  if (const auto* env = ledger::DecodeEnvelope(first); env != nullptr && env->tenant() != nullptr &&
                                                       env->tenant()->size() > 0 &&
                                                       env->tenant()->size() <= 255) {
    tenant = env->tenant()->str();
  }

  ledger::Database& store = Store();
  rocksdb::WriteBatch batch;
  const std::string prefix = ledger::keys::TenantPrefix(tenant);
  // Every key of the tenant is its prefix and a letter.
  const std::string end = prefix + "\xff";
  for (auto cf : {ledger::Cf::kLog, ledger::Cf::kMeta}) {
    if (!batch.DeleteRange(store.cf(cf), prefix, end).ok()) std::abort();
  }
  Sha256 hash{};
  Seq seq = 0;
  for (auto bytes : records) {
    ++seq;
    if ((flags & 1) != 0 && bytes.size() >= 32) {
      std::memcpy(hash.data(), bytes.data(), 32);
    } else {
      hash = ledger::ChainHash(hash, bytes);
    }
    std::string value(reinterpret_cast<const char*>(hash.data()), hash.size());
    value.append(bytes);
    if (!batch.Put(store.cf(ledger::Cf::kLog), ledger::keys::LogKey(tenant, seq), value).ok()) std::abort();
  }
  std::string head;
  ledger::keys::AppendBigEndian64(&head, seq + ((flags & 2) != 0 ? 1 : 0));
  head.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  if (!batch.Put(store.cf(ledger::Cf::kMeta), ledger::keys::HeadKey(tenant), head).ok()) std::abort();
  rocksdb::WriteOptions no_wal;
  no_wal.disableWAL = true;
  if (!store.db()->Write(no_wal, &batch).ok()) std::abort();

  const ledger::RocksLog log(&store);
  auto report = ledger::VerifyChain(log, TenantId(tenant));
  if (!report.ok()) return 0;
  if (report->records > seq) std::abort();
  if (report->ok() && report->records != seq) std::abort();
  if (!report->ok() && (*report->first_bad > seq + 1 || report->problem.empty())) std::abort();
  return 0;
}
