#include "ledger/rocks_log.h"

#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>

#include <spdlog/spdlog.h>

#include "ledger/keys.h"
#include "ledger/tree.h"

namespace saalbuch::ledger {

struct RocksLog::TenantState {
  std::mutex mu;
  Head head;                  // guarded by mu
  merkle::Frontier frontier;  // guarded by mu: the Merkle tree of records 1..head.seq
  bool tree_ok = false;       // guarded by mu: whether `frontier` is that; else no nodes are written
  Status poison;              // guarded by mu; non-ok after a failed write
};

namespace {

// Value in the log family: chain hash (32 bytes) ‖ envelope bytes.
std::string LogValue(const Sha256& hash, std::string_view bytes) {
  std::string v(AsBytes(hash));
  v.append(bytes);
  return v;
}

std::string SeqValue(Seq seq) {
  std::string v;
  keys::AppendBigEndian64(&v, seq);
  return v;
}

// Value of the head key: seq (8 bytes big-endian) ‖ chain hash (32 bytes).
std::string HeadValue(const Head& h) {
  std::string v;
  keys::AppendBigEndian64(&v, h.seq);
  v.append(AsBytes(h.hash));
  return v;
}

// True when `s` is RocksDB refusing a write because the database is stopped
// after an earlier failure: such a write was not attempted at all. The
// writers whose batch was in a failed WAL write get that write's own I/O
// error, which carries no severity; only the stored background error that
// RocksDB hands to every later writer does.
bool RefusedUnwritten(const rocksdb::Status& s) { return s.severity() != rocksdb::Status::kNoError; }

}  // namespace

const schema::Envelope* DecodeEnvelope(std::string_view bytes) {
  flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (!schema::VerifyEnvelopeBuffer(verifier)) return nullptr;
  const schema::Envelope* env = schema::GetEnvelope(bytes.data());
  // FlatBuffers' verifier accepts a union type it does not know (for
  // readers of an older schema) and NONE with anything beside it; every
  // record this program writes has a payload of a known type, and
  // FlatBuffers' JSON printer aborts on the others (found by
  // tests/fuzz/fuzz_record).
  const auto type = env->payload_type();
  if (type == schema::Payload::NONE || type > schema::Payload::MAX || env->payload() == nullptr)
    return nullptr;
  return env;
}

Sha256 ChainHash(const Sha256& prev, std::string_view record_bytes) {
  return Sha256Of(AsBytes(prev), record_bytes);
}

RocksLog::RocksLog(Database* db) : db_(db) {
  // Table files of snapshots that a crash interrupted before their ingestion
  // (PutSnapshot). Only the primary, which alone writes them, removes them.
  if (db_->read_only()) return;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(db_->db()->GetName(), ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("saalbuch-snapshot-", 0) == 0 && name.size() > 8 &&
        name.compare(name.size() - 8, 8, ".sst.tmp") == 0) {
      std::filesystem::remove(e.path(), ec);
    }
  }
}
RocksLog::~RocksLog() = default;

Result<Head> RocksLog::ReadHead(const TenantId& tenant) const {
  std::string v;
  auto s = db_->db()->Get(rocksdb::ReadOptions(), db_->cf(Cf::kMeta), keys::HeadKey(tenant.get()), &v);
  if (s.IsNotFound()) return Head{};
  if (!s.ok()) return FromRocks(s);
  if (v.size() != 8 + 32) {
    return Status(StatusCode::kCorruption, "head record of tenant '" + tenant.get() + "' has " +
                                               std::to_string(v.size()) + " bytes, expected 40");
  }
  Head h;
  h.seq = keys::ReadBigEndian64(v);
  std::memcpy(h.hash.data(), v.data() + 8, 32);
  return h;
}

Status RocksLog::Resume() {
  failures_.fetch_add(1);
  std::lock_guard lock(resume_mu_);
  write_failed_ = true;
  return FromRocks(db_->db()->Resume());
}

Result<RocksLog::TenantState*> RocksLog::State(const TenantId& tenant) const {
  if (tenant.get().empty() || tenant.get().size() > 255) {
    return Status(StatusCode::kInvalidArgument, "tenant id must have 1 to 255 bytes");
  }
  std::lock_guard lock(map_mu_);
  auto it = tenants_.find(tenant.get());
  if (it != tenants_.end()) return it->second.get();
  auto head = ReadHead(tenant);
  if (!head.ok()) return head.status();
  auto st = std::make_unique<TenantState>();
  st->head = *head;
  if (!db_->read_only()) {
    // A log whose records cannot be read back (a damaged copy) is still
    // opened: verify and the command bus name the damage. Its tree stays
    // where it was and is caught up at an open that can read them.
    auto frontier = CatchUpTree(tenant, head->seq);
    if (frontier.ok()) {
      st->frontier = std::move(frontier).value();
      st->tree_ok = true;
    } else {
      spdlog::warn("msg=\"the log's Merkle tree cannot be brought up to its head\" tenant={} problem=\"{}\"",
                   tenant.get(), frontier.status().ToString());
    }
  }
  auto* raw = st.get();
  tenants_.emplace(tenant.get(), std::move(st));
  return raw;
}

Result<AppendResult> RocksLog::Append(const TenantId& tenant, std::vector<EventDraft> drafts,
                                      const std::vector<IdempotencyRecord>& idempotency) {
  return Write(tenant, std::move(drafts), idempotency, true);
}

Result<AppendResult> RocksLog::AppendDeferred(const TenantId& tenant, std::vector<EventDraft> drafts,
                                              const std::vector<IdempotencyRecord>& idempotency) {
  return Write(tenant, std::move(drafts), idempotency, false);
}

Status RocksLog::Sync() {
  if (db_->read_only()) return Status(StatusCode::kInvalidArgument, "log opened read-only");
  std::lock_guard lock(sync_mu_);
  if (const auto failures = failures_.load(); failures != failures_synced_) {
    // A write failed since the last sync. When a write to the WAL file
    // failed, RocksDB's writer of that file keeps the error, and Debian's
    // librocksdb (built with assertions) aborts the process on the next
    // sync or flush of that writer (WritableFileWriter::
    // AssertFalseAndGetStatusForPrevError; found by the power-loss test,
    // tests/e2e/crash_test.cc). Only a resume, which flushes every memtable
    // and starts a new WAL, replaces the writer; until one succeeds nothing
    // is synced. A write that fails while a SyncWAL below is under way can
    // still meet it: closing that window would mean syncing inside
    // RocksDB's write queue again, which stops every append for the length
    // of an fsync (BENCHMARKS.md, "Group commit across tenants").
    std::lock_guard resume(resume_mu_);
    auto s = db_->db()->Resume();
    if (!s.ok()) {
      return Status(StatusCode::kIOError,
                    "sync failed: the store has not recovered from a failed write (" + s.ToString() + ")");
    }
    failures_synced_ = failures;
    // What was written since the resume is in the new WAL; the flush below
    // makes it durable without syncing the old one.
    sync_broken_ = true;
  }
  if (sync_broken_) {
    // An earlier sync failed: the kernel may have dropped what it covered
    // from the WAL file, and a later fsync of that file could succeed all
    // the same. Flushing the memtables (they hold every write) to table
    // files, synced, and starting a new WAL makes everything written so far
    // durable without trusting the old file.
    auto s = db_->db()->Flush(rocksdb::FlushOptions(), db_->handles());
    if (!s.ok()) return Status(StatusCode::kIOError, "sync failed: " + s.ToString());
    sync_broken_ = false;
    return Status::Ok();
  }
  // SyncWAL syncs the WAL up to every write that returned before it, outside
  // RocksDB's write queue: appends go on while the disk works.
  auto s = db_->db()->SyncWAL();
  if (!s.ok()) {
    sync_broken_ = true;
    return Status(StatusCode::kIOError, "sync failed: " + s.ToString());
  }
  return Status::Ok();
}

Result<AppendResult> RocksLog::Write(const TenantId& tenant, std::vector<EventDraft> drafts,
                                     const std::vector<IdempotencyRecord>& idempotency, bool sync) {
  if (db_->read_only()) return Status(StatusCode::kInvalidArgument, "log opened read-only");
  auto state = State(tenant);
  if (!state.ok()) return state.status();
  TenantState& st = **state;
  std::lock_guard lock(st.mu);
  if (!st.poison.ok()) return st.poison;

  rocksdb::WriteBatch batch;
  Head head = st.head;
  merkle::Frontier tree = st.frontier;
  rocksdb::Status tree_put;
  const auto put_node = [&](int level, std::uint64_t index, const Sha256& h) {
    if (tree_put.ok())
      tree_put = batch.Put(db_->cf(Cf::kMeta), keys::TreeNodeKey(tenant.get(), level, index), AsBytes(h));
  };
  AppendResult result;
  result.first = head.seq + 1;
  flatbuffers::FlatBufferBuilder fbb(1024);
  for (auto& d : drafts) {
    schema::EnvelopeT env;
    env.tenant = tenant.get();
    env.seq = head.seq + 1;
    env.stream_id = std::move(d.stream_id);
    env.stream_version = d.stream_version;
    env.recorded_at_us = d.recorded_at;
    env.actor = std::move(d.actor);
    env.command_id = std::move(d.command_id);
    env.correlation_id = std::move(d.correlation_id);
    env.prev_hash.assign(head.hash.begin(), head.hash.end());
    env.payload = std::move(d.payload);
    fbb.Clear();
    schema::FinishEnvelopeBuffer(fbb, schema::Envelope::Pack(fbb, &env));
    std::string_view bytes(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
    head.seq = env.seq;
    head.hash = ChainHash(head.hash, bytes);
    std::string version;
    keys::AppendBigEndian64(&version, env.stream_version);
    rocksdb::Status s;
    s = batch.Put(db_->cf(Cf::kLog), keys::LogKey(tenant.get(), head.seq), LogValue(head.hash, bytes));
    if (s.ok()) s = batch.Put(db_->cf(Cf::kMeta), keys::StreamKey(tenant.get(), env.stream_id), version);
    if (st.tree_ok) tree.Append(merkle::LeafHash(bytes), put_node);
    if (s.ok()) s = tree_put;
    if (!s.ok()) return FromRocks(s);  // nothing written; the head is unchanged
  }
  for (const auto& r : idempotency) {
    auto s = batch.Put(db_->cf(Cf::kIdempotency), keys::IdempotencyKey(tenant.get(), r.key), r.value);
    if (!s.ok()) return FromRocks(s);
  }
  if (batch.Count() == 0) {
    result.head = head;
    return result;
  }
  if (!drafts.empty()) {
    auto s = batch.Put(db_->cf(Cf::kMeta), keys::HeadKey(tenant.get()), HeadValue(head));
    if (s.ok() && st.tree_ok)
      s = batch.Put(db_->cf(Cf::kMeta), keys::TreeSizeKey(tenant.get()), SeqValue(head.seq));
    if (!s.ok()) return FromRocks(s);
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;  // durable before acknowledged: now, or by the caller's Sync()
  auto s = db_->db()->Write(wo, &batch);
  if (!s.ok() && RefusedUnwritten(s)) {
    // An earlier write (perhaps another tenant's) failed and RocksDB stopped
    // taking writes; nothing of this batch was written. Once the database
    // is resumed, writing it is as if that had never happened.
    if (Status r = Resume(); !r.ok()) {
      return Status(
          StatusCode::kUnavailable,
          "append refused, nothing was written: the store has not recovered yet (" + r.message() + ")");
    }
    s = db_->db()->Write(wo, &batch);
    if (!s.ok() && RefusedUnwritten(s)) {
      return Status(StatusCode::kUnavailable,
                    "append refused after another write failed (" + s.ToString() + "); nothing was written");
    }
  }
  if (!s.ok()) {
    // We cannot know whether the batch reached the disk; refuse to pretend.
    st.poison = Status(StatusCode::kPoisoned, "log of tenant '" + tenant.get() +
                                                  "' refuses writes after a failed write (" + s.ToString() +
                                                  "); restart the server to recover");
    // The failure stopped the database for every tenant. Resuming now lets
    // the others continue; when it fails (the disk is still broken), the
    // next refused append tries again.
    IgnoreError(Resume());
    return Status(StatusCode::kIOError, "append failed: " + s.ToString());
  }
  st.head = head;
  st.frontier = std::move(tree);
  result.head = head;
  return result;
}

Status RocksLog::Read(const TenantId& tenant, Seq from, std::size_t max, std::vector<Record>* out) const {
  const std::string prefix = keys::TenantPrefix(tenant.get());
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->cf(Cf::kLog)));
  std::size_t n = 0;
  for (it->Seek(keys::LogKey(tenant.get(), std::max<Seq>(from, 1))); it->Valid() && n < max;
       it->Next(), ++n) {
    auto k = it->key();
    if (!k.starts_with(prefix)) break;
    if (k.size() != prefix.size() + 8) {
      return {StatusCode::kCorruption, "malformed log key under tenant '" + tenant.get() + "'"};
    }
    auto v = it->value();
    Record r;
    r.seq = keys::ReadBigEndian64(std::string_view(k.data() + prefix.size(), 8));
    if (v.size() < 32) {
      return {StatusCode::kCorruption, "record " + std::to_string(r.seq) + " is shorter than its hash"};
    }
    std::memcpy(r.hash.data(), v.data(), 32);
    r.bytes.assign(v.data() + 32, v.size() - 32);
    out->push_back(std::move(r));
  }
  return FromRocks(it->status());
}

Result<Head> RocksLog::GetHead(const TenantId& tenant) const {
  if (db_->read_only()) return ReadHead(tenant);
  auto state = State(tenant);
  if (!state.ok()) return state.status();
  std::lock_guard lock((*state)->mu);
  return (*state)->head;
}

Result<std::optional<std::string>> RocksLog::GetIdempotency(const TenantId& tenant,
                                                            std::string_view key) const {
  std::string v;
  auto s = db_->db()->Get(rocksdb::ReadOptions(), db_->cf(Cf::kIdempotency),
                          keys::IdempotencyKey(tenant.get(), key), &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s);
  return std::optional<std::string>(std::move(v));
}

Result<std::optional<Sha256>> RocksLog::StoredTreeNode(const TenantId& tenant, int level,
                                                       std::uint64_t index) const {
  std::string v;
  auto s = db_->db()->Get(rocksdb::ReadOptions(), db_->cf(Cf::kMeta),
                          keys::TreeNodeKey(tenant.get(), level, index), &v);
  if (s.IsNotFound()) return std::optional<Sha256>();
  if (!s.ok()) return FromRocks(s);
  if (v.size() != 32) return Status(StatusCode::kCorruption, "a Merkle tree node is not 32 bytes");
  Sha256 h;
  std::memcpy(h.data(), v.data(), 32);
  return std::optional<Sha256>(h);
}

Result<merkle::Frontier> RocksLog::CatchUpTree(const TenantId& tenant, Seq head) const {
  std::string v;
  auto s = db_->db()->Get(rocksdb::ReadOptions(), db_->cf(Cf::kMeta), keys::TreeSizeKey(tenant.get()), &v);
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s);
  Seq covered = s.ok() && v.size() == 8 ? keys::ReadBigEndian64(v) : 0;
  if (covered > head) covered = 0;  // not this log's tree: built again
  auto frontier = merkle::Frontier::At(covered, TreeNodes(*this, tenant));
  if (!frontier.ok()) return frontier.status();
  if (covered == head) return frontier;
  // A log written before the tree: its nodes in batches, each with the size
  // it reaches, so that a crash in between resumes where it stopped.
  spdlog::info("msg=\"building the Merkle tree of the log\" tenant={} from={} to={}", tenant.get(),
               covered + 1, head);
  std::vector<Record> chunk;
  for (Seq next = covered + 1; next <= head;) {
    chunk.clear();
    if (Status r = Read(tenant, next, 4096, &chunk); !r.ok()) return r;
    if (chunk.empty() || chunk.front().seq != next) {
      return Status(StatusCode::kCorruption, "record " + std::to_string(next) + " of tenant '" +
                                                 tenant.get() + "' is missing below its head");
    }
    rocksdb::WriteBatch batch;
    rocksdb::Status put;
    for (const Record& r : chunk) {
      if (r.seq > head) break;
      if (r.seq != next)
        return Status(StatusCode::kCorruption, "the log has a gap before record " + std::to_string(r.seq));
      frontier->Append(merkle::LeafHash(r.bytes), [&](int level, std::uint64_t index, const Sha256& h) {
        if (put.ok())
          put = batch.Put(db_->cf(Cf::kMeta), keys::TreeNodeKey(tenant.get(), level, index), AsBytes(h));
      });
      ++next;
    }
    if (put.ok()) put = batch.Put(db_->cf(Cf::kMeta), keys::TreeSizeKey(tenant.get()), SeqValue(next - 1));
    if (put.ok()) put = db_->db()->Write(rocksdb::WriteOptions(), &batch);
    if (!put.ok()) return FromRocks(put);
  }
  return frontier;
}

Status RocksLog::RebuildTree(const TenantId& tenant) {
  if (db_->read_only()) return {StatusCode::kInvalidArgument, "log opened read-only"};
  auto state = State(tenant);
  if (!state.ok()) return state.status();
  TenantState& st = **state;
  std::lock_guard lock(st.mu);
  const std::string prefix = keys::TenantPrefix(tenant.get());
  rocksdb::WriteBatch batch;
  auto s = batch.DeleteRange(db_->cf(Cf::kMeta), prefix + "m", prefix + "n");
  if (s.ok()) s = batch.Delete(db_->cf(Cf::kMeta), keys::TreeSizeKey(tenant.get()));
  if (s.ok()) s = db_->db()->Write(rocksdb::WriteOptions(), &batch);
  if (!s.ok()) return FromRocks(s);
  auto frontier = CatchUpTree(tenant, st.head.seq);
  st.tree_ok = frontier.ok();
  if (!frontier.ok()) return frontier.status();
  st.frontier = std::move(frontier).value();
  return Status::Ok();
}

std::vector<TenantId> RocksLog::Tenants() const {
  std::vector<TenantId> out;
  for (auto& t : db_->TenantsWithHead()) out.emplace_back(std::move(t));
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// Snapshots are split into values of at most this size, so no single
// RocksDB value (and block) grows with the model.
constexpr std::size_t kSnapshotChunk = 4u << 20;

// Whether `k` is the key of chunk 0 of a snapshot of the tenant with
// snapshot prefix `prefix`; *seq gets its seq.
bool FirstChunkKey(const rocksdb::Slice& k, const std::string& prefix, Seq* seq) {
  if (k.size() != prefix.size() + 12 || !k.starts_with(prefix)) return false;
  const std::string_view rest(k.data() + prefix.size(), 12);
  if (rest.substr(8) != std::string_view("\0\0\0\0", 4)) return false;
  *seq = keys::ReadBigEndian64(rest);
  return true;
}

}  // namespace

Result<std::vector<Seq>> RocksLog::SnapshotSeqs(const TenantId& tenant) const {
  const std::string prefix = keys::SnapshotPrefix(tenant.get());
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->cf(Cf::kMeta)));
  std::vector<Seq> out;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);) {
    Seq seq = 0;
    if (!FirstChunkKey(it->key(), prefix, &seq)) {
      it->Next();  // a later chunk of a snapshot whose first one was skipped: cannot happen
      continue;
    }
    out.push_back(seq);
    if (seq == std::numeric_limits<Seq>::max()) break;
    it->Seek(keys::SnapshotChunkKey(tenant.get(), seq + 1, 0));
  }
  if (!it->status().ok()) return FromRocks(it->status());
  std::reverse(out.begin(), out.end());
  return out;
}

Result<std::string> RocksLog::GetSnapshot(const TenantId& tenant, Seq seq) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->cf(Cf::kMeta)));
  std::string out;
  std::uint32_t chunk = 0;
  for (it->Seek(keys::SnapshotChunkKey(tenant.get(), seq, 0));
       it->Valid() && it->key() == keys::SnapshotChunkKey(tenant.get(), seq, chunk); it->Next(), ++chunk) {
    out.append(it->value().data(), it->value().size());
  }
  if (!it->status().ok()) return FromRocks(it->status());
  if (chunk == 0) return Status(StatusCode::kNotFound, "no snapshot at " + std::to_string(seq));
  return out;
}

Status RocksLog::PutSnapshot(const TenantId& tenant, Seq seq, std::string_view bytes, std::size_t keep) {
  if (db_->read_only()) return {StatusCode::kInvalidArgument, "log opened read-only"};
  // After a failed write and the recovery from it, RocksDB 7.8 can abort in
  // an assertion while ingesting a file (seen in tests/e2e/
  // storage_fault_test.cc). A snapshot is only a cache: none until a
  // restart.
  if (write_failed_) {
    return {StatusCode::kUnavailable, "no snapshots after a failed write until the server restarts"};
  }
  if (seq == std::numeric_limits<Seq>::max()) {
    return {StatusCode::kInvalidArgument, "snapshot seq out of range"};
  }
  auto existing = SnapshotSeqs(tenant);
  if (!existing.ok()) return existing.status();
  auto* cf = db_->cf(Cf::kMeta);
  // Deletes snapshots in one small synced write. A failed WAL write stops
  // the database; bring it back for the appends (an append that meets the
  // stopped state resumes too; see Append).
  auto drop = [&](const std::vector<Seq>& seqs) -> Status {
    if (seqs.empty()) return Status::Ok();
    rocksdb::WriteBatch batch;
    for (Seq old : seqs) {
      auto d = batch.DeleteRange(cf, keys::SnapshotChunkKey(tenant.get(), old, 0),
                                 keys::SnapshotChunkKey(tenant.get(), old + 1, 0));
      if (!d.ok()) return FromRocks(d);
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    auto w = db_->db()->Write(wo, &batch);
    if (!w.ok()) IgnoreError(Resume());
    return FromRocks(w);
  };
  // A snapshot at the same seq is replaced whole.
  if (std::find(existing->begin(), existing->end(), seq) != existing->end()) {
    if (Status d = drop({seq}); !d.ok()) return d;
  }
  // The chunks go into a table file of their own, ingested atomically: no
  // WAL record and no memtable copy of a snapshot that may be gigabytes, and
  // nothing to replay from the WAL at the next open.
  const std::string file =
      db_->db()->GetName() + "/saalbuch-snapshot-" + tenant.get() + "-" + std::to_string(seq) + ".sst.tmp";
  rocksdb::Options options(db_->db()->GetDBOptions(), db_->db()->GetOptions(cf));
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options, cf);
  rocksdb::Status s = writer.Open(file);
  std::uint32_t chunk = 0;
  for (std::size_t at = 0; s.ok() && (at < bytes.size() || chunk == 0); at += kSnapshotChunk, ++chunk) {
    const auto part = bytes.substr(at, kSnapshotChunk);
    s = writer.Put(keys::SnapshotChunkKey(tenant.get(), seq, chunk),
                   rocksdb::Slice(part.data(), part.size()));
  }
  if (s.ok()) s = writer.Finish();
  if (s.ok()) {
    rocksdb::IngestExternalFileOptions ingest;
    ingest.move_files = true;  // a hard link; the file is ours to give away
    s = db_->db()->IngestExternalFile(cf, {file}, ingest);
  }
  std::error_code ec;
  std::filesystem::remove(file, ec);  // left only after a failure
  if (!s.ok()) return FromRocks(s);
  // Keep the newest `keep` of the old ones plus this one.
  std::vector<Seq> all = *existing;
  all.push_back(seq);
  std::sort(all.begin(), all.end(), std::greater<>());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  const std::size_t kept = std::max<std::size_t>(keep, 1);
  return drop(all.size() > kept ? std::vector<Seq>(all.begin() + static_cast<std::ptrdiff_t>(kept), all.end())
                                : std::vector<Seq>());
}

Status RocksLog::DropSnapshots(const TenantId& tenant) {
  if (db_->read_only()) return {StatusCode::kInvalidArgument, "log opened read-only"};
  const std::string from = keys::SnapshotPrefix(tenant.get());
  std::string to = from;
  to.back() = static_cast<char>(to.back() + 1);  // tenant-prefix ‖ "x": just past every "w" key
  rocksdb::WriteBatch batch;
  if (auto d = batch.DeleteRange(db_->cf(Cf::kMeta), from, to); !d.ok()) return FromRocks(d);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->db()->Write(wo, &batch));
}

}  // namespace saalbuch::ledger
