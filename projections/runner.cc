#include "projections/runner.h"

#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "common/thread_name.h"
#include "projections/keys_internal.h"

namespace saalbuch::projections {

namespace {

// 0x00 ‖ "H" ‖ tenant → u64 BE seq ‖ chain hash (projections/README.md).
std::string FoldedToKey(const TenantId& tenant) { return std::string(1, '\0') + "H" + tenant.get(); }

}  // namespace

Runner::Runner(ledger::Database* db, const ledger::Log* log) : db_(db), log_(log), store_(db) {}

Result<std::optional<Seq>> Runner::DisagreeingPosition(const TenantId& tenant) const {
  auto v = store_.Get(FoldedToKey(tenant));
  if (!v.ok()) return v.status();
  if (!v->has_value() || (*v)->size() != 8 + 32) return std::optional<Seq>();
  const Seq seq = ledger::keys::ReadBigEndian64(**v);
  std::vector<ledger::Record> at;
  if (Status s = log_->Read(tenant, seq, 1, &at); !s.ok()) return s;
  if (at.size() != 1 || at[0].seq != seq) return std::optional<Seq>(seq);  // the log ends before it
  if ((*v)->compare(8, 32, AsBytes(at[0].hash)) != 0) return std::optional<Seq>(seq);
  return std::optional<Seq>();
}

void Runner::Hold(const TenantId& tenant) { held_.insert(tenant.get()); }

Status Runner::Reset(const TenantId& tenant) {
  const std::string prefix = ledger::keys::TenantPrefix(tenant.get());
  const std::string end = PrefixEnd(prefix);
  auto* cf = db_->cf(ledger::Cf::kProjections);
  rocksdb::WriteBatch batch;
  if (auto s = batch.DeleteRange(cf, prefix, end); !s.ok()) return ledger::FromRocks(s);
  if (auto s = batch.Delete(cf, FoldedToKey(tenant)); !s.ok()) return ledger::FromRocks(s);
  rocksdb::WriteOptions w;
  w.sync = true;
  if (auto s = db_->db()->Write(w, &batch); !s.ok()) return ledger::FromRocks(s);
  availability_.Drop(tenant);
  return Status::Ok();
}

Runner::~Runner() { Shutdown(); }

Status Runner::CheckVersions() {
  for (const auto& p : kProjections) {
    const std::string vkey = std::string(1, '\0') + "V" + p.name;
    auto v = store_.Get(vkey);
    if (!v.ok()) return v.status();
    const std::string want = std::to_string(p.version);
    if (v->has_value() && **v == want) continue;
    if (v->has_value()) {
      spdlog::info("projection {} changed version {} -> {}; rebuilding from seq 1", p.name, **v, want);
    }
    // Drop the projection's keys and checkpoints in every tenant.
    rocksdb::WriteBatch batch;
    auto* cf = db_->cf(ledger::Cf::kProjections);
    std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto k = it->key().ToStringView();
      std::size_t len = static_cast<unsigned char>(k[0]);
      if (len == 0 || k.size() < len + 2) continue;
      char tag = k[1 + len];
      if (tag == p.tag || (tag == 'P' && k.size() == len + 3 && k[2 + len] == p.tag)) {
        if (auto s = batch.Delete(cf, it->key()); !s.ok()) return ledger::FromRocks(s);
      }
    }
    if (!it->status().ok()) return ledger::FromRocks(it->status());
    if (auto s = batch.Put(cf, vkey, want); !s.ok()) return ledger::FromRocks(s);
    if (auto s = db_->db()->Write(rocksdb::WriteOptions(), &batch); !s.ok()) return ledger::FromRocks(s);
  }
  return Status::Ok();
}

Status Runner::CatchUp(const TenantId& tenant, Seq upto) {
  if (held_.count(tenant.get()) != 0) return Status::Ok();
  constexpr std::size_t kChunk = 1024;
  std::vector<ledger::Record> chunk;
  for (;;) {
    auto from = LowestCheckpoint(store_, tenant);
    if (!from.ok()) return from.status();
    chunk.clear();
    std::size_t want = kChunk;
    if (upto != 0) want = *from >= upto ? 0 : std::min<std::size_t>(kChunk, upto - *from);
    if (want > 0) {
      if (Status s = log_->Read(tenant, *from + 1, want, &chunk); !s.ok()) return s;
    }
    if (chunk.empty()) {
      std::lock_guard lock(mu_);
      position_[tenant.get()] = *from;
      return Status::Ok();
    }
    Txn txn(&store_);
    for (const auto& r : chunk) {
      const schema::Envelope* env = ledger::DecodeEnvelope(r.bytes);
      if (env == nullptr) {
        return {StatusCode::kCorruption, "record " + std::to_string(r.seq) + " cannot be decoded"};
      }
      if (Status s = FoldRecord(tenant, r.seq, *env, &txn); !s.ok()) return s;
    }
    std::string folded_to;
    ledger::keys::AppendBigEndian64(&folded_to, chunk.back().seq);
    folded_to.append(AsBytes(chunk.back().hash));
    txn.Put(FoldedToKey(tenant), std::move(folded_to));
    if (Status s = store_.Commit(txn); !s.ok()) return s;
    availability_.Apply(txn);
    {
      std::lock_guard lock(mu_);
      position_[tenant.get()] = chunk.back().seq;
    }
    cv_.notify_all();
    if (chunk.size() < want) return Status::Ok();
  }
}

Status Runner::Start() {
  if (Status s = CheckVersions(); !s.ok()) return s;
  for (const TenantId& t : log_->Tenants()) {
    if (Status s = availability_.Load(store_, t); !s.ok()) return s;
    if (Status s = CatchUp(t, 0); !s.ok()) {
      return {s.code(), "projections of tenant '" + t.get() + "': " + s.message()};
    }
  }
  thread_ = std::thread([this] {
    NameThisThread("sb-projections");
    Loop();
  });
  return Status::Ok();
}

void Runner::Notify(const TenantId& tenant, Seq head) {
  {
    std::lock_guard lock(mu_);
    Seq& durable = durable_[tenant.get()];
    durable = std::max(durable, head);
    if (dirty_set_.insert(tenant.get()).second) dirty_.push_back(tenant.get());
  }
  cv_.notify_all();
}

void Runner::Expedite(const TenantId& tenant) {
  std::lock_guard lock(mu_);
  if (dirty_set_.count(tenant.get()) == 0 || dirty_.front() == tenant.get()) return;
  dirty_.erase(std::find(dirty_.begin(), dirty_.end(), tenant.get()));
  dirty_.push_front(tenant.get());
}

Seq Runner::Position(const TenantId& tenant) const {
  std::lock_guard lock(mu_);
  auto it = position_.find(tenant.get());
  return it == position_.end() ? 0 : it->second;
}

void Runner::Loop() {
  for (;;) {
    std::string tenant;
    Seq upto = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !dirty_.empty(); });
      if (dirty_.empty()) return;
      if (lag_.count() > 0 && cv_.wait_for(lock, lag_, [&] { return stopping_; })) return;
      tenant = std::move(dirty_.front());
      dirty_.pop_front();
      dirty_set_.erase(tenant);
      upto = durable_[tenant];
    }
    Status s;
    try {
      s = CatchUp(TenantId(tenant), upto);
    } catch (const std::exception& e) {
      s = Status(StatusCode::kCorruption, std::string("fold threw: ") + e.what());
    }
    if (!s.ok()) {
      // Queries for this tenant wait for a position that does not come and
      // answer 503; the log itself is unaffected. Retry after a pause, in
      // case the cause was passing (an I/O error).
      spdlog::error("msg=\"projections stalled; retrying in 1 s\" tenant={} error=\"{}\"", tenant,
                    s.ToString());
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      if (!stopping_ && dirty_set_.insert(tenant).second) dirty_.push_back(tenant);
    }
  }
}

void Runner::Shutdown() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace saalbuch::projections
