#include "commands/bus.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <utility>

#include "commands/snapshot.h"
#include "common/crypto.h"
#include "common/merkle.h"
#include "common/note.h"
#include "common/thread_name.h"
#include "common/time.h"
#include "ledger/tree.h"

namespace saalbuch::commands {

struct CommandBus::Tenant {
  explicit Tenant(TenantId i) : id(std::move(i)) {}
  const TenantId id;

  std::mutex mu;
  std::deque<Pending> queue;  // guarded by mu
  bool scheduled = false;     // guarded by mu; true while queued or draining

  // Confined to the writer that holds the tenant (scheduled == true).
  TenantModel model;
  Status poison;
  TimeUs last_now = 0;
  Sha256 head_hash{};     // chain hash of the model's position
  Seq last_snapshot = 0;  // position of the last snapshot stored or loaded

  // The auth index, refreshed after each durable append that adds keys.
  mutable std::shared_mutex auth_mu;
  std::unordered_map<std::string, ApiKey> keys;  // guarded by auth_mu
  // Key id → when it last let a request in; in memory only (see KeysLastUsed).
  mutable std::mutex used_mu;
  mutable std::unordered_map<std::string, TimeUs> last_used;  // guarded by used_mu
  std::vector<std::string> origins;  // guarded by auth_mu; the allowed browser origins
  std::shared_ptr<const AccountDirectory> accounts = std::make_shared<AccountDirectory>();  // auth_mu
  std::atomic<bool> exists{false};
  // Why the tenant is held (guarded by auth_mu); `held` mirrors it for the
  // writers and the timer.
  std::optional<TenantHold> hold;
  std::atomic<bool> held{false};

  // The earliest hold deadline (0: none), published by the writer for the
  // hold timer; expiry_queued while an ExpireHolds is on its way.
  std::atomic<TimeUs> next_hold{0};
  std::atomic<bool> expiry_queued{false};
  // For checkpoints: the head and the record of the last checkpoint.
  std::atomic<Seq> head{0};
  std::atomic<Seq> last_checkpoint_record{0};
  std::atomic<bool> checkpoint_queued{false};
  std::atomic<bool> poisoned{false};  // mirrors !poison.ok() for the timer
  // Set by the syncer when a sync that covered an append of this tenant
  // failed; the writer then poisons the tenant (the model holds what may
  // not have reached the disk).
  std::atomic<bool> sync_failed{false};
  std::atomic<std::chrono::steady_clock::rep> last_checkpoint_time{
      std::chrono::steady_clock::now().time_since_epoch().count()};
  void PublishHolds() {
    next_hold = model.holds().empty() ? 0 : model.holds().begin()->first;
    head = model.position();
    last_checkpoint_record = model.last_checkpoint_record();
  }
};

struct CommandBus::Metrics {
  explicit Metrics(prometheus::Registry* r)
      : commands(prometheus::BuildCounter()
                     .Name("saalbuch_commands_total")
                     .Help("Commands decided, by command and outcome")
                     .Register(*r)),
        appends(prometheus::BuildCounter()
                    .Name("saalbuch_log_appends_total")
                    .Help("Durable log appends (one per group-committed batch), by result")
                    .Register(*r)),
        append_seconds(
            prometheus::BuildHistogram()
                .Name("saalbuch_log_append_seconds")
                .Help("Time of one batch append, written but before the sync that makes it durable")
                .Register(*r)),
        sync_seconds(
            prometheus::BuildHistogram()
                .Name("saalbuch_log_sync_seconds")
                .Help("Time of one sync of the log (group commit across tenants: fsync included)")
                .Register(*r)
                .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005,
                                                                 0.01, 0.02, 0.05, 0.1, 0.5})),
        syncs(prometheus::BuildCounter()
                  .Name("saalbuch_log_syncs_total")
                  .Help("Syncs of the log (each acknowledges every batch appended before it), by result")
                  .Register(*r)),
        sync_ok(syncs.Add({{"result", "ok"}})),
        sync_failed(syncs.Add({{"result", "failed"}})),
        synced_batches(
            prometheus::BuildHistogram()
                .Name("saalbuch_log_sync_batches")
                .Help("Batches (of any tenant) that one sync of the log made durable")
                .Register(*r)
                .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256})),
        batch_commands(prometheus::BuildHistogram()
                           .Name("saalbuch_log_append_batch_commands")
                           .Help("Commands per group-committed batch")
                           .Register(*r)),
        appended_events(prometheus::BuildCounter()
                            .Name("saalbuch_log_events_appended_total")
                            .Help("Events appended to tenants' logs")
                            .Register(*r)
                            .Add({})),
        append_ok(appends.Add({{"result", "ok"}})),
        append_failed(appends.Add({{"result", "failed"}})),
        append_hist(append_seconds.Add(
            {}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1,
                                                        0.25, 0.5, 1, 2.5})),
        batch_hist(batch_commands.Add(
            {}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256, 512})),
        snapshot_writes(prometheus::BuildCounter()
                            .Name("saalbuch_snapshot_writes_total")
                            .Help("Write-model snapshots stored, by result")
                            .Register(*r)),
        snapshot_loads(prometheus::BuildCounter()
                           .Name("saalbuch_snapshot_loads_total")
                           .Help("Write-model snapshots read at start: loaded, or rejected and skipped")
                           .Register(*r)),
        snapshot_seconds(
            prometheus::BuildHistogram()
                .Name("saalbuch_snapshot_write_seconds")
                .Help("Time to encode and durably store one write-model snapshot")
                .Register(*r)
                .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30})),
        held(prometheus::BuildGauge()
                 .Name("saalbuch_tenant_held")
                 .Help("1 while a tenant is held (no commands, no checkpoints) until the operator acts, by "
                       "cause (integrity_alarm, time_zone_unknown) and the log position that disagrees")
                 .Register(*r)) {}

  prometheus::Family<prometheus::Counter>& commands;
  prometheus::Family<prometheus::Counter>& appends;
  prometheus::Family<prometheus::Histogram>& append_seconds;
  prometheus::Histogram& sync_seconds;
  prometheus::Family<prometheus::Counter>& syncs;
  prometheus::Counter& sync_ok;
  prometheus::Counter& sync_failed;
  prometheus::Histogram& synced_batches;
  prometheus::Family<prometheus::Histogram>& batch_commands;
  prometheus::Counter& appended_events;
  prometheus::Counter& append_ok;
  prometheus::Counter& append_failed;
  prometheus::Histogram& append_hist;
  prometheus::Histogram& batch_hist;
  prometheus::Family<prometheus::Counter>& snapshot_writes;
  prometheus::Family<prometheus::Counter>& snapshot_loads;
  prometheus::Histogram& snapshot_seconds;
  prometheus::Family<prometheus::Gauge>& held;

  void Count(const Command& c, const char* outcome) {
    commands.Add({{"command", CommandName(c)}, {"outcome", outcome}}).Increment();
  }
};

namespace {

bool IsKeyEvent(schema::Payload type) {
  return type == schema::Payload::ApiKeyCreated || type == schema::Payload::ApiKeyRevoked ||
         type == schema::Payload::ApiKeyRotated;
}

bool IsAccountEvent(schema::Payload type) {
  switch (type) {
    case schema::Payload::AccountInvited:
    case schema::Payload::AccountPasswordSet:
    case schema::Payload::AccountRoleChanged:
    case schema::Payload::AccountDisabled:
    case schema::Payload::AccountSignedIn:
    case schema::Payload::AccountSignInFailed:
    case schema::Payload::AccountSignedOut:
    case schema::Payload::AccountTotpSet:
    case schema::Payload::TotpPolicySet:
      return true;
    default:
      return false;
  }
}

std::shared_ptr<const AccountDirectory> MakeDirectory(const TenantModel& m) {
  auto d = std::make_shared<AccountDirectory>();
  d->accounts = m.accounts();
  d->totp_roles = m.totp_roles();
  for (const auto& [id, a] : d->accounts) {
    if (const Account* owner = m.FindAccountByLogin(a.login_hash); owner != nullptr) {
      d->by_login[a.login_hash] = owner->id;
    }
    for (const auto& [hash, end] : a.sessions) d->by_session[hash] = id;
    if (!a.invite_hash.empty()) d->by_invitation[a.invite_hash] = id;
  }
  return d;
}

Outcome Failed(std::string code, std::string message) {
  Outcome o;
  o.kind = Outcome::Kind::kFailed;
  o.body = {{"code", std::move(code)}, {"message", std::move(message)}};
  return o;
}

const char* KindName(Outcome::Kind k) {
  switch (k) {
    case Outcome::Kind::kCreated:
      return "created";
    case Outcome::Kind::kOk:
      return "ok";
    case Outcome::Kind::kRejected:
      return "rejected";
    case Outcome::Kind::kFailed:
      return "failed";
  }
  return "failed";
}

std::string EncodeIdempotency(const std::string& fingerprint, const Outcome& o) {
  nlohmann::json j = {{"fingerprint", fingerprint},
                      {"kind", static_cast<int>(o.kind)},
                      {"refusal", static_cast<int>(o.refusal)},
                      {"body", o.body},
                      {"position", o.position}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// nullopt when the stored record is unreadable (treated as storage damage).
std::optional<std::pair<std::string, Outcome>> DecodeIdempotency(const std::string& v) {
  auto j = nlohmann::json::parse(v, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    Outcome o;
    o.kind = static_cast<Outcome::Kind>(j.at("kind").get<int>());
    o.refusal = static_cast<Refusal>(j.at("refusal").get<int>());
    o.body = j.at("body");
    o.position = j.at("position").get<Seq>();
    o.replayed = true;
    return std::make_pair(j.at("fingerprint").get<std::string>(), std::move(o));
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

CommandBus::CommandBus(ledger::Log* log, prometheus::Registry* registry, BusOptions options)
    : log_(log), options_(std::move(options)), metrics_(std::make_unique<Metrics>(registry)) {
  if (!options_.clock) {
    options_.clock = [] {
      return std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

CommandBus::~CommandBus() { Shutdown(); }

Status CommandBus::Rebuild(Tenant* t) {
  if (Status s = RebuildModel(t); !s.ok()) return s;
  t->keys = t->model.keys();
  t->origins = t->model.public_settings().allowed_origins;
  t->accounts = MakeDirectory(t->model);
  t->exists = t->model.exists();
  t->PublishHolds();
  return Status::Ok();
}

Status CommandBus::RebuildModel(Tenant* t) {
  const auto start = std::chrono::steady_clock::now();
  t->model = TenantModel();
  t->head_hash = Sha256{};
  t->last_snapshot = 0;
  LoadSnapshot(t);
  const Seq from = t->model.position();
  if (Status s = FoldLog(*log_, t->id, 0, &t->model, &t->head_hash); !s.ok()) return s;
  spdlog::info("msg=\"write model rebuilt\" tenant={} snapshot={} folded={} position={} ms={}", t->id.get(),
               t->last_snapshot, t->model.position() - from, t->model.position(),
               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
                   .count());
  return Status::Ok();
}

bool CommandBus::LoadSnapshot(Tenant* t) {
  auto seqs = log_->SnapshotSeqs(t->id);
  if (!seqs.ok()) {
    spdlog::warn("msg=\"snapshots unreadable; folding the whole log\" tenant={} error=\"{}\"", t->id.get(),
                 seqs.status().ToString());
    return false;
  }
  auto head = log_->GetHead(t->id);
  for (const Seq seq : *seqs) {
    // Each check is a reason to fall back to an older snapshot or the fold.
    std::string why;
    std::vector<ledger::Record> at;
    if (!head.ok()) {
      why = "the log's head is unreadable";
    } else if (seq > head->seq) {
      why = "it lies beyond the log's head " + std::to_string(head->seq);
      Raise(t, {"integrity_alarm", head->seq + 1,
                "a write-model snapshot was taken at log position " + std::to_string(seq) +
                    ", but the log ends at " + std::to_string(head->seq) + ": records " +
                    std::to_string(head->seq + 1) + " to " + std::to_string(seq) + " are gone"});
    } else if (auto bytes = log_->GetSnapshot(t->id, seq); !bytes.ok()) {
      why = bytes.status().ToString();
    } else if (auto h = ReadSnapshotHeader(*bytes); !h.ok()) {
      why = h.status().ToString();
    } else if (h->seq != seq) {
      why = "it names position " + std::to_string(h->seq);
    } else if (Status s = log_->Read(t->id, seq, 1, &at); !s.ok() || at.size() != 1 || at[0].seq != seq) {
      why = "record " + std::to_string(seq) + " is unreadable";
    } else if (at[0].hash != h->chain_hash) {
      why = "it belongs to another log: record " + std::to_string(seq) + "'s chain hash differs";
      Raise(t, {"integrity_alarm", seq,
                "the write-model snapshot of log position " + std::to_string(seq) +
                    " holds another chain hash than the log's record " + std::to_string(seq) +
                    ": the log was changed after the snapshot was taken"});
    } else if (auto m = DecodeSnapshot(*bytes); !m.ok()) {
      why = m.status().ToString();
    } else {
      t->model = std::move(*m);
      t->head_hash = h->chain_hash;
      t->last_snapshot = seq;
      metrics_->snapshot_loads.Add({{"result", "loaded"}}).Increment();
      return true;
    }
    metrics_->snapshot_loads.Add({{"result", "rejected"}}).Increment();
    spdlog::warn("msg=\"write-model snapshot skipped\" tenant={} seq={} reason=\"{}\"", t->id.get(), seq,
                 why);
  }
  return false;
}

void CommandBus::WriteSnapshot(Tenant* t, std::size_t keep) {
  const auto start = std::chrono::steady_clock::now();
  const Seq seq = t->model.position();
  // The model may hold batches whose sync is still to come: a snapshot of a
  // position a crash could take back would raise an integrity alarm at the
  // next start. (Rare: every snapshot_every records.)
  if (Status s = log_->Sync(); !s.ok()) {
    t->last_snapshot = seq;
    spdlog::warn("msg=\"write-model snapshot not stored\" tenant={} seq={} error=\"{}\"", t->id.get(), seq,
                 s.ToString());
    return;
  }
  const std::string bytes = EncodeSnapshot(t->model, t->head_hash);
  const Status s = log_->PutSnapshot(t->id, seq, bytes, keep);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Also after a failure: the next attempt waits for another snapshot_every
  // records instead of following every batch.
  t->last_snapshot = seq;
  metrics_->snapshot_writes.Add({{"result", s.ok() ? "ok" : "failed"}}).Increment();
  if (!s.ok()) {
    spdlog::warn("msg=\"write-model snapshot not stored\" tenant={} seq={} error=\"{}\"", t->id.get(), seq,
                 s.ToString());
    return;
  }
  metrics_->snapshot_seconds.Observe(secs);
  spdlog::info("msg=\"write-model snapshot stored\" tenant={} seq={} bytes={} ms={}", t->id.get(), seq,
               bytes.size(), static_cast<long long>(secs * 1000));
}

void CommandBus::SubmitCheckpoints(bool unsigned_too) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<Tenant*> due;
  {
    std::shared_lock tenants(tenants_mu_);
    for (const auto& [id, t] : tenants_) {
      const Seq head = t->head, last = t->last_checkpoint_record;
      // Nothing new since the last checkpoint's own record, or nothing to sign.
      if (head <= last || t->poisoned || t->held) continue;
      const auto since = now - std::chrono::steady_clock::time_point(
                                   std::chrono::steady_clock::duration(t->last_checkpoint_time.load()));
      if ((unsigned_too || head - last >= options_.checkpoint_every ||
           since >= options_.checkpoint_interval) &&
          !t->checkpoint_queued.exchange(true)) {
        due.push_back(t.get());
      }
    }
  }
  for (Tenant* t : due) {
    auto head = log_->GetHead(t->id);
    if (!head.ok() || head->seq == 0) {
      t->checkpoint_queued = false;
      continue;
    }
    Submission s;
    try {
      s = CheckpointSubmission(t, *head, "system", "checkpoint");
    } catch (const std::exception& e) {
      spdlog::error("msg=\"checkpoint not signed\" tenant={} error=\"{}\"", t->id.get(), e.what());
      t->checkpoint_queued = false;
      continue;
    }
    Submit(std::move(s), [t](const Outcome& o) {
      if (o.kind == Outcome::Kind::kOk) {
        t->last_checkpoint_time = std::chrono::steady_clock::now().time_since_epoch().count();
      }
      t->checkpoint_queued = false;
    });
  }
}

Submission CommandBus::CheckpointSubmission(Tenant* t, const ledger::Head& head, std::string actor,
                                            std::string correlation) {
  auto root = merkle::Root(head.seq, ledger::TreeNodes(*log_, t->id));
  if (!root.ok()) throw std::runtime_error("the log's Merkle root: " + root.status().ToString());
  auto [note, verifier_key] = options_.sign_checkpoint(t->id, head.seq, *root);
  Submission s;
  s.ctx.tenant = t->id;
  s.ctx.actor = std::move(actor);
  s.ctx.command_id = "cmd_" + RandomHex(8);
  s.ctx.correlation_id = std::move(correlation);
  s.command = SignCheckpoint{head.seq, std::string(AsBytes(head.hash)), std::move(note),
                             std::move(verifier_key), std::string(AsBytes(*root))};
  return s;
}

void CommandBus::Raise(Tenant* t, const TenantHold& hold) {
  if (hold.code == "integrity_alarm" && options_.accept_log.count(t->id.get()) != 0) {
    spdlog::warn(
        "msg=\"integrity alarm; the operator accepted the log as it stands (--accept-log)\" tenant={} "
        "position={} reason=\"{}\"",
        t->id.get(), hold.position, hold.message);
    return;
  }
  std::optional<TenantHold> replaced;
  {
    std::unique_lock lock(t->auth_mu);
    // The first cause stays, but an integrity alarm outranks anything else.
    if (t->hold && (t->hold->code == "integrity_alarm" || hold.code != "integrity_alarm")) return;
    replaced = std::exchange(t->hold, hold);
  }
  t->held = true;
  auto labels = [&](const TenantHold& h) -> std::map<std::string, std::string> {
    return {{"tenant", t->id.get()}, {"code", h.code}, {"position", std::to_string(h.position)}};
  };
  if (replaced) metrics_->held.Add(labels(*replaced)).Set(0);
  metrics_->held.Add(labels(hold)).Set(1);
  spdlog::error(
      "msg=\"tenant held: it takes no commands and signs nothing until the operator acts\" tenant={} "
      "code={} position={} reason=\"{}\"",
      t->id.get(), hold.code, hold.position, hold.message);
}

void CommandBus::CheckTenant(Tenant* t) {
  // The time zone: TenantCreated is every tenant's first record.
  std::vector<ledger::Record> first;
  if (log_->Read(t->id, 1, 1, &first).ok() && first.size() == 1) {
    const schema::Envelope* env = ledger::DecodeEnvelope(first[0].bytes);
    if (const auto* created = env == nullptr ? nullptr : env->payload_as_TenantCreated()) {
      const std::string zone = created->time_zone() == nullptr ? "" : created->time_zone()->str();
      const std::string rules = created->zone_rules() == nullptr ? "" : created->zone_rules()->str();
      if (RecordedZone(rules, zone) == nullptr) {
        Raise(t, {"time_zone_unknown", 1,
                  "the tenant's time zone '" + zone +
                      "' (log record 1) is not in this host's time zone database; local times would "
                      "be wrong. Install it (Debian: the tzdata package) and restart"});
      }
    }
  }
  // The latest signed checkpoint: its signature, and the chain hash at the
  // position it signed.
  LogFacts facts;
  facts.head = t->model.position();
  facts.checkpoints = t->model.checkpoints();
  facts.last_checkpoint_record = t->model.last_checkpoint_record();
  if (const Seq r = facts.last_checkpoint_record; r != 0) {
    const std::string at_r = "the signed checkpoint of log record " + std::to_string(r);
    auto alarm = [&](Seq position, const std::string& what) {
      Raise(t, {"integrity_alarm", position, what + ": the log was changed after it was signed"});
    };
    std::vector<ledger::Record> rec;
    const schema::CheckpointSigned* cp = nullptr;
    if (log_->Read(t->id, r, 1, &rec).ok() && rec.size() == 1 && rec[0].seq == r) {
      const schema::Envelope* env = ledger::DecodeEnvelope(rec[0].bytes);
      cp = env == nullptr ? nullptr : env->payload_as_CheckpointSigned();
    }
    if (cp == nullptr) {
      alarm(r, "log record " + std::to_string(r) + " is no longer a signed checkpoint");
    } else {
      facts.last_verifier_key = cp->verifier_key() == nullptr ? "" : cp->verifier_key()->str();
      const Seq p = cp->position();
      std::string hash, root;
      if (cp->head_hash() != nullptr) hash.assign(cp->head_hash()->begin(), cp->head_hash()->end());
      if (cp->root_hash() != nullptr) root.assign(cp->root_hash()->begin(), cp->root_hash()->end());
      // Since the Merkle tree, the note signs its root; before, the chain hash.
      const std::string& signed_hash = cp->root_hash() != nullptr ? root : hash;
      const auto key = ParseVerifierKey(facts.last_verifier_key);
      const auto body =
          key && cp->note() != nullptr ? OpenNote(cp->note()->string_view(), *key) : std::nullopt;
      const auto signed_cp = body ? ParseCheckpointBody(*body) : std::nullopt;
      std::vector<ledger::Record> at;
      // The origin is the key's name and ends in the tenant's id (its
      // prefix is the installation's --log-origin, which may change).
      if (!signed_cp || signed_cp->origin != key->name || !signed_cp->origin.ends_with("/" + t->id.get()) ||
          signed_cp->size != p || signed_cp->hash != signed_hash) {
        alarm(r, "the signature of " + at_r + " does not verify with the key it names");
      } else if (p == 0 || p >= r || !log_->Read(t->id, p, 1, &at).ok() || at.size() != 1 || at[0].seq != p) {
        alarm(p, "log position " + std::to_string(p) + ", signed by " + at_r + ", is not in the log");
      } else if (std::string(AsBytes(at[0].hash)) != hash) {
        alarm(p, "the log's chain hash at position " + std::to_string(p) +
                     " differs from the one signed by " + at_r);
      } else if (cp->root_hash() != nullptr) {
        // Record p's bytes under the signed root: its audit path comes from
        // the stored tree, but no path makes other bytes fit a signed root
        // (that would take a SHA-256 preimage). Its bytes name the chain
        // hash before it, and with them the stored chain hash at p follows:
        // the log up to p is the signed one, as far as the chain holds
        // (verify checks the rest).
        Sha256 prev{};
        const schema::Envelope* env = ledger::DecodeEnvelope(at[0].bytes);
        if (env != nullptr && env->prev_hash() != nullptr && env->prev_hash()->size() == 32) {
          std::copy(env->prev_hash()->begin(), env->prev_hash()->end(), prev.begin());
        }
        auto path = merkle::InclusionProof(p - 1, p, ledger::TreeNodes(*log_, t->id));
        Sha256 signed_root{};
        std::copy(root.begin(), root.end(), signed_root.begin());
        if (!path.ok() || root.size() != 32 ||
            !merkle::VerifyInclusion(merkle::LeafHash(at[0].bytes), p - 1, p, *path, signed_root) ||
            ledger::ChainHash(prev, at[0].bytes) != at[0].hash) {
          alarm(p, "log record " + std::to_string(p) + " is not the one under the Merkle root signed by " +
                       at_r);
        }
      }
    }
  }
  if (options_.check_tenant) {
    if (const auto hold = options_.check_tenant(t->id, facts)) Raise(t, *hold);
  }
}

Status CommandBus::Start() {
  for (const TenantId& id : log_->Tenants()) {
    auto t = std::make_unique<Tenant>(id);
    if (Status s = Rebuild(t.get()); !s.ok()) return s;
    CheckTenant(t.get());
    tenants_.emplace(id.get(), std::move(t));
  }
  // The logs the operator accepted: their snapshots are replaced by one of
  // the log as it stands, and below a checkpoint is signed, so that the
  // next start finds nothing that disagrees.
  std::vector<Tenant*> accepted;
  for (const std::string& id : options_.accept_log) {
    auto it = tenants_.find(id);
    if (it == tenants_.end() || it->second->held) {
      spdlog::warn("msg=\"--accept-log names a tenant that {}\" tenant={}",
                   it == tenants_.end() ? "does not exist" : "is held for another cause", id);
      continue;
    }
    accepted.push_back(it->second.get());
    if (Status s = log_->DropSnapshots(it->second->id); !s.ok()) return s;
    if (options_.snapshot_every > 0) WriteSnapshot(it->second.get(), options_.snapshots_kept);
  }
  syncer_ = std::thread([this] {
    NameThisThread("sb-syncer");
    SyncLoop();
  });
  for (int i = 0; i < std::max(1, options_.writer_threads); ++i) {
    writers_.emplace_back([this] {
      NameThisThread("sb-writer");
      WriterLoop();
    });
  }
  {
    std::unique_lock accept(accept_mu_);
    accepting_ = true;
  }
  for (Tenant* t : accepted) {
    // The stored tree hashes the records as they were; the accepted log's
    // checkpoint signs the root of the records as they are.
    if (Status s = log_->RebuildTree(t->id); !s.ok()) return s;
    auto head = log_->GetHead(t->id);
    if (!head.ok()) return head.status();
    Outcome o;
    if (options_.sign_checkpoint) {
      try {
        o = SubmitAndWait(CheckpointSubmission(t, *head, "operator", "accept-log"));
      } catch (const std::exception& e) {
        return Status(
            StatusCode::kUnavailable,
            "tenant '" + t->id.get() + "': the accepted log's checkpoint was not signed: " + e.what());
      }
      if (o.kind != Outcome::Kind::kOk) {
        return Status(
            StatusCode::kUnavailable,
            "tenant '" + t->id.get() + "': the accepted log's checkpoint was not stored: " + o.body.dump());
      }
    }
    spdlog::warn(
        "msg=\"the operator accepted the log as it stands (--accept-log); remove the flag now\" "
        "tenant={} position={} checkpoint_record={}",
        t->id.get(), head->seq, options_.sign_checkpoint ? std::to_string(o.position) : "none");
  }
  // Records left unsigned by the last run are signed before any new one
  // (these checkpoints are first in their tenants' queues).
  if (options_.sign_checkpoint) SubmitCheckpoints(/*unsigned_too=*/true);
  hold_timer_ = std::thread([this] {
    NameThisThread("sb-timer");
    HoldTimerLoop();
  });
  return Status::Ok();
}

void CommandBus::HoldTimerLoop() {
  std::unique_lock lock(ready_mu_);
  while (!stopping_) {
    timer_cv_.wait_for(lock, options_.hold_check_interval);
    if (stopping_) break;
    lock.unlock();
    const TimeUs now = options_.clock();
    std::vector<Tenant*> due;
    {
      std::shared_lock tenants(tenants_mu_);
      for (const auto& [id, t] : tenants_) {
        const TimeUs next = t->next_hold;
        if (next != 0 && next <= now && !t->held && !t->expiry_queued.exchange(true)) due.push_back(t.get());
      }
    }
    if (options_.sign_checkpoint) SubmitCheckpoints();
    for (Tenant* t : due) {
      Submission s;
      s.ctx.tenant = t->id;
      s.ctx.actor = "system";
      s.ctx.command_id = "cmd_" + RandomHex(8);
      s.ctx.correlation_id = "hold-timer";
      s.command = ExpireHolds{};
      Submit(std::move(s), [t](const Outcome&) { t->expiry_queued = false; });
    }
    lock.lock();
  }
}

CommandBus::Tenant* CommandBus::Find(const TenantId& id) const {
  std::shared_lock lock(tenants_mu_);
  auto it = tenants_.find(id.get());
  return it == tenants_.end() ? nullptr : it->second.get();
}

CommandBus::Tenant* CommandBus::FindOrCreate(const TenantId& id) {
  if (Tenant* t = Find(id)) return t;
  std::unique_lock lock(tenants_mu_);
  auto& slot = tenants_[id.get()];
  if (!slot) slot = std::make_unique<Tenant>(id);
  return slot.get();
}

Outcome CommandBus::SubmitAndWait(Submission s) {
  std::promise<Outcome> done;
  auto f = done.get_future();
  Submit(std::move(s), [&done](Outcome o) { done.set_value(std::move(o)); });
  return f.get();
}

void CommandBus::Submit(Submission s, std::function<void(Outcome)> done) {
  // Held while enqueueing so that Shutdown, once it has flipped accepting_,
  // knows every accepted command is already visible to the writers.
  std::shared_lock accept(accept_mu_);
  if (!accepting_) {
    done(
        Failed("shutting_down", "the server is not accepting commands; retry with the same Idempotency-Key"));
    return;
  }
  // Only tenant creation may name a tenant that does not exist yet; anything
  // else must not make the bus allocate state for arbitrary ids.
  Tenant* t =
      std::holds_alternative<CreateTenant>(s.command) ? FindOrCreate(s.ctx.tenant) : Find(s.ctx.tenant);
  if (t == nullptr) {
    Outcome o;
    o.kind = Outcome::Kind::kRejected;
    o.refusal = Refusal::kNotFound;
    o.body = {{"code", "not_found"}, {"message", "no such tenant"}, {"details", nlohmann::json::object()}};
    done(std::move(o));
    return;
  }
  bool schedule = false;
  {
    std::lock_guard lock(t->mu);
    if (t->queue.size() >= options_.max_queue_per_tenant) {
      done(Failed("overloaded", "too many commands queued for this tenant; retry shortly"));
      return;
    }
    t->queue.push_back(Pending{std::move(s), std::move(done)});
    if (!t->scheduled) schedule = t->scheduled = true;
  }
  if (schedule) {
    std::lock_guard lock(ready_mu_);
    ready_.push_back(t);
    ready_cv_.notify_one();
  }
}

void CommandBus::WriterLoop() {
  for (;;) {
    Tenant* t = nullptr;
    {
      std::unique_lock lock(ready_mu_);
      ready_cv_.wait(lock, [&] { return stopping_ || !ready_.empty(); });
      if (ready_.empty()) return;  // stopping and nothing left
      t = ready_.front();
      ready_.pop_front();
    }
    Drain(t);
    bool again = false;
    {
      std::lock_guard lock(t->mu);
      again = !t->queue.empty();
      if (!again) t->scheduled = false;
    }
    if (again) {
      std::lock_guard lock(ready_mu_);
      ready_.push_back(t);  // to the back: tenants take turns
      ready_cv_.notify_one();
    }
  }
}

void CommandBus::Drain(Tenant* t) {
  std::deque<Pending> batch;
  {
    std::lock_guard lock(t->mu);
    batch.swap(t->queue);
  }
  if (t->sync_failed && t->poison.ok()) {
    t->poisoned = true;
    t->poison =
        Status(StatusCode::kPoisoned, "tenant '" + t->id.get() +
                                          "' is unavailable after a failed sync of the log; restart the "
                                          "server to recover");
  }
  if (!t->poison.ok()) {
    for (auto& p : batch) {
      metrics_->Count(p.submission.command, "failed");
      p.done(Failed("tenant_unavailable", t->poison.message()));
    }
    return;
  }
  if (t->held) {
    const std::optional<TenantHold> hold = Hold(t->id);
    for (auto& p : batch) {
      metrics_->Count(p.submission.command, "failed");
      p.done(Failed(hold ? hold->code : "tenant_unavailable", hold ? hold->message : "the tenant is held"));
    }
    return;
  }

  // The checkpoint cadence is a bound the writer keeps, not a hope: once
  // checkpoint_every records follow the last checkpoint, this batch opens
  // with one that signs the head as it stands (its chain hash is known), and
  // a batch ends early where it reaches checkpoint_every (below), so at most
  // checkpoint_every records, plus those of one command beyond the first,
  // come between two checkpoints.
  // A tenant's first checkpoint opens its second batch. The timer adds the
  // time bound.
  bool opened_with_checkpoint = false;
  if (options_.sign_checkpoint && t->model.position() > 0 &&
      (t->model.last_checkpoint_record() == 0 ||
       t->model.position() - t->model.last_checkpoint_record() >= options_.checkpoint_every)) {
    try {
      batch.push_front(
          {CheckpointSubmission(t, ledger::Head{t->model.position(), t->head_hash}, "system", "checkpoint"),
           [t](const Outcome& o) {
             if (o.kind == Outcome::Kind::kOk)
               t->last_checkpoint_time = std::chrono::steady_clock::now().time_since_epoch().count();
           }});
      opened_with_checkpoint = true;
    } catch (const std::exception& e) {
      spdlog::error("msg=\"checkpoint not signed\" tenant={} error=\"{}\"", t->id.get(), e.what());
    }
  }

  std::vector<Outcome> outcomes(batch.size());
  std::vector<ledger::EventDraft> events;
  std::vector<ledger::IdempotencyRecord> idempotency;
  std::unordered_map<std::string, std::size_t> keys_in_batch;  // key → index in batch
  std::unordered_map<std::size_t, Outcome> withheld;  // index → outcome as stored (secrets withheld)
  Seq position = t->model.position();
  bool keys_changed = false;
  bool origins_changed = false;
  bool accounts_changed = false;
  const TimeUs now = t->last_now = std::max(t->last_now, options_.clock());

  for (std::size_t i = 0; i < batch.size(); ++i) {
    // Once checkpoint_every records follow the last checkpoint, the rest of
    // the batch goes back to the queue: the next batch opens with one. (At
    // least one command of each batch is decided, so a refused checkpoint
    // cannot stall the tenant.)
    if (options_.sign_checkpoint && i > (opened_with_checkpoint ? 1U : 0U) &&
        position - t->model.last_checkpoint_record() >= options_.checkpoint_every) {
      std::lock_guard lock(t->mu);
      for (std::size_t j = batch.size(); j-- > i;) t->queue.push_front(std::move(batch[j]));
      batch.erase(batch.begin() + static_cast<std::ptrdiff_t>(i), batch.end());
      outcomes.resize(i);
      break;
    }
    const Submission& s = batch[i].submission;
    Outcome& out = outcomes[i];
    if (!s.idempotency_key.empty()) {
      std::optional<std::pair<std::string, Outcome>> earlier;
      if (auto it = keys_in_batch.find(s.idempotency_key); it != keys_in_batch.end()) {
        earlier = std::make_pair(batch[it->second].submission.fingerprint, withheld[it->second]);
        earlier->second.replayed = true;
      } else {
        auto stored = log_->GetIdempotency(t->id, s.idempotency_key);
        if (!stored.ok()) {
          out = Failed("storage_failure", stored.status().message());
          continue;
        }
        if (stored->has_value()) {
          earlier = DecodeIdempotency(**stored);
          if (!earlier) {
            out = Failed("storage_failure", "stored idempotency record is unreadable");
            continue;
          }
        }
      }
      if (earlier) {
        if (earlier->first == s.fingerprint) {
          out = std::move(earlier->second);
        } else {
          out.kind = Outcome::Kind::kRejected;
          out.refusal = Refusal::kUnprocessable;
          out.body = {{"code", "idempotency_key_reused"},
                      {"message", "this Idempotency-Key was used with a different request"},
                      {"details", nlohmann::json::object()}};
          out.position = position;
        }
        continue;
      }
    }
    std::vector<std::string> secrets;
    Context ctx = s.ctx;
    if (ctx.now == 0) ctx.now = now;
    Decision d;
    try {
      d = Decide(t->model, ctx, s.command);
    } catch (const std::exception& e) {
      // A programming error in Decide: refuse this command, keep the writer.
      spdlog::error("msg=\"decide threw\" tenant={} command={} error=\"{}\"", t->id.get(),
                    CommandName(s.command), e.what());
      d = Rejection{Refusal::kUnprocessable, "internal_error", "the command could not be decided", {}};
    }
    if (auto* a = std::get_if<Acceptance>(&d)) {
      for (auto& ev : a->events) {
        t->model.Apply(++position, ev.stream_version, ev.recorded_at, ev.payload);
        keys_changed = keys_changed || IsKeyEvent(ev.payload.type);
        origins_changed = origins_changed || ev.payload.type == schema::Payload::PublicSettingsSet;
        accounts_changed = accounts_changed || IsAccountEvent(ev.payload.type);
        events.push_back(std::move(ev));
      }
      out.kind = a->created ? Outcome::Kind::kCreated : Outcome::Kind::kOk;
      out.body = std::move(a->reply);
      secrets = std::move(a->secrets);
    } else {
      auto& r = std::get<Rejection>(d);
      out.kind = Outcome::Kind::kRejected;
      out.refusal = r.refusal;
      out.body = {{"code", r.code}, {"message", r.message}, {"details", r.details}};
    }
    out.position = position;
    if (!s.idempotency_key.empty()) {
      Outcome stored = out;
      if (!secrets.empty()) {
        for (const auto& p : secrets) stored.body[nlohmann::json::json_pointer(p)] = nullptr;
        stored.body["secrets_withheld"] = true;
      }
      idempotency.push_back({s.idempotency_key, EncodeIdempotency(s.fingerprint, stored)});
      keys_in_batch[s.idempotency_key] = i;
      withheld[i] = std::move(stored);
    }
  }

  const std::size_t event_count = events.size();
  Seq head_after = 0;
  if (!events.empty() || !idempotency.empty()) {
    metrics_->batch_hist.Observe(static_cast<double>(batch.size()));
    auto start = std::chrono::steady_clock::now();
    auto appended = log_->AppendDeferred(t->id, std::move(events), idempotency);
    metrics_->append_hist.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!appended.ok() && appended.status().code() == StatusCode::kUnavailable) {
      // The database refused the batch without writing any of it (the disk
      // is failing; ledger/log.h). Drop the model's speculative state by
      // rebuilding it from the log; the tenant stays available. The auth
      // index and holds only change after successful appends: still right.
      if (Status s = RebuildModel(t); s.ok()) {
        metrics_->append_failed.Increment();
        t->PublishHolds();
        spdlog::warn("msg=\"append refused; nothing written\" tenant={} error=\"{}\"", t->id.get(),
                     appended.status().ToString());
        for (auto& p : batch) {
          metrics_->Count(p.submission.command, "failed");
          p.done(Failed("storage_unavailable",
                        "the command was not stored; nothing was acknowledged. Retry later with the same "
                        "Idempotency-Key"));
        }
        return;
      }
    }
    if (!appended.ok()) {
      metrics_->append_failed.Increment();
      spdlog::error("msg=\"append failed; tenant poisoned until restart\" tenant={} error=\"{}\"",
                    t->id.get(), appended.status().ToString());
      // The model already holds the batch's events; it no longer matches the
      // durable log, so this tenant takes no more commands until a restart
      // rebuilds it from the log.
      t->poisoned = true;
      t->poison = Status(StatusCode::kPoisoned, "tenant '" + t->id.get() +
                                                    "' is unavailable after a storage failure (" +
                                                    appended.status().message() + ")");
      for (std::size_t i = 0; i < batch.size(); ++i) {
        metrics_->Count(batch[i].submission.command, "failed");
        batch[i].done(Failed("storage_failure",
                             "the command could not be stored durably; nothing was "
                             "acknowledged. Retry later with the same Idempotency-Key"));
      }
      return;
    }
    metrics_->append_ok.Increment();
    metrics_->appended_events.Increment(static_cast<double>(event_count));
    t->head_hash = appended->head.hash;
    if (keys_changed || origins_changed || accounts_changed || !t->exists) {
      auto accounts = accounts_changed ? MakeDirectory(t->model) : nullptr;
      std::unique_lock lock(t->auth_mu);
      t->keys = t->model.keys();
      t->origins = t->model.public_settings().allowed_origins;
      if (accounts) t->accounts = std::move(accounts);
      t->exists = t->model.exists();
    }
    t->PublishHolds();
    if (event_count > 0) head_after = appended->head.seq;
  }
  AwaitSync({t, head_after, std::move(batch), std::move(outcomes)});
  // Every snapshot_every records, but never more often than every tenth of
  // the log: storing one costs the writer time in proportion to the model
  // (BENCHMARKS.md), so a huge tenant's writer is not paused all the time.
  const Seq head = t->model.position();
  if (options_.snapshot_every > 0 &&
      head - t->last_snapshot >= std::max(options_.snapshot_every, head / 10)) {
    WriteSnapshot(t, options_.snapshots_kept);
  }
}

void CommandBus::AwaitSync(Unsynced u) {
  {
    std::lock_guard lock(sync_mu_);
    unsynced_.push_back(std::move(u));
  }
  sync_cv_.notify_one();
}

void CommandBus::SyncLoop() {
  for (;;) {
    std::vector<Unsynced> group;
    {
      std::unique_lock lock(sync_mu_);
      sync_cv_.wait(lock, [&] { return sync_stopping_ || !unsynced_.empty(); });
      if (unsynced_.empty()) return;  // stopping and nothing left
      group.swap(unsynced_);
    }
    // A writer queues a tenant's batches in the order it appends them, so
    // whatever the outcomes of this group rest on was appended by a batch
    // of this group or of an earlier one, whose sync has returned. Without
    // an append in the group there is nothing to sync.
    std::size_t appends = 0;
    for (const auto& u : group) appends += u.head != 0 ? 1 : 0;
    if (appends > 0) {
      const auto start = std::chrono::steady_clock::now();
      const Status s = log_->Sync();
      metrics_->sync_seconds.Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      metrics_->synced_batches.Observe(static_cast<double>(appends));
      if (s.ok()) {
        metrics_->sync_ok.Increment();
      } else {
        metrics_->sync_failed.Increment();
        spdlog::error("msg=\"sync of the log failed; its tenants are poisoned until restart\" error=\"{}\"",
                      s.ToString());
        for (const auto& u : group) {
          if (u.head != 0) u.tenant->sync_failed = true;
        }
      }
    }
    for (auto& u : group) {
      if (u.tenant->sync_failed) {
        for (auto& p : u.batch) {
          metrics_->Count(p.submission.command, "failed");
          p.done(Failed("storage_failure",
                        "the command could not be stored durably; nothing was acknowledged. Retry later with "
                        "the same Idempotency-Key"));
        }
        continue;
      }
      if (u.head != 0 && options_.on_appended) options_.on_appended(u.tenant->id, u.head);
      for (std::size_t i = 0; i < u.batch.size(); ++i) {
        metrics_->Count(u.batch[i].submission.command,
                        u.outcomes[i].replayed ? "replayed" : KindName(u.outcomes[i].kind));
        u.batch[i].done(std::move(u.outcomes[i]));
      }
    }
  }
}

std::optional<ApiKey> CommandBus::Authenticate(const TenantId& tenant, std::string_view key) const {
  const Tenant* t = Find(tenant);
  if (t == nullptr || key.empty()) return std::nullopt;
  Sha256 h = Sha256Of(key);
  std::optional<ApiKey> found;
  {
    std::shared_lock lock(t->auth_mu);
    auto it = t->keys.find(std::string(AsBytes(h)));
    if (it == t->keys.end()) return std::nullopt;
    found = it->second;
  }
  // A rotated key stops at its expiry by the bus's clock (the one decisions
  // see), with no record in the log.
  const TimeUs now = options_.clock();
  if (!found->ValidAt(now)) return std::nullopt;
  std::lock_guard used(t->used_mu);
  t->last_used[found->id] = now;
  return found;
}

std::unordered_map<std::string, TimeUs> CommandBus::KeysLastUsed(const TenantId& tenant) const {
  const Tenant* t = Find(tenant);
  if (t == nullptr) return {};
  std::lock_guard used(t->used_mu);
  return t->last_used;
}

std::shared_ptr<const AccountDirectory> CommandBus::Accounts(const TenantId& tenant) const {
  const Tenant* t = Find(tenant);
  if (t == nullptr) return std::make_shared<AccountDirectory>();
  std::shared_lock lock(t->auth_mu);
  return t->accounts;
}

OriginCheck CommandBus::CheckOrigin(const TenantId& tenant, std::string_view origin) const {
  const Tenant* t = Find(tenant);
  if (t == nullptr) return OriginCheck::kAny;
  std::shared_lock lock(t->auth_mu);
  if (t->origins.empty()) return OriginCheck::kAny;
  return std::find(t->origins.begin(), t->origins.end(), origin) != t->origins.end() ? OriginCheck::kListed
                                                                                     : OriginCheck::kUnlisted;
}

bool CommandBus::TenantExists(const TenantId& tenant) const {
  const Tenant* t = Find(tenant);
  return t != nullptr && t->exists;
}

std::optional<TenantHold> CommandBus::Hold(const TenantId& tenant) const {
  const Tenant* t = Find(tenant);
  if (t == nullptr || !t->held) return std::nullopt;
  std::shared_lock lock(t->auth_mu);
  return t->hold;
}

std::map<std::string, TenantHold> CommandBus::Holds() const {
  std::map<std::string, TenantHold> out;
  std::shared_lock tenants(tenants_mu_);
  for (const auto& [id, t] : tenants_) {
    if (!t->held) continue;
    std::shared_lock lock(t->auth_mu);
    if (t->hold) out.emplace(id, *t->hold);
  }
  return out;
}

void CommandBus::Shutdown() {
  {
    std::unique_lock accept(accept_mu_);
    accepting_ = false;
  }
  {
    std::lock_guard lock(ready_mu_);
    stopping_ = true;
  }
  ready_cv_.notify_all();
  timer_cv_.notify_all();
  if (hold_timer_.joinable()) hold_timer_.join();
  for (auto& w : writers_) {
    if (w.joinable()) w.join();
  }
  writers_.clear();
  // The writers are done: the syncer acknowledges what they left, then ends.
  {
    std::lock_guard lock(sync_mu_);
    sync_stopping_ = true;
  }
  sync_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  // No writer runs any more: the models are ours.
  std::shared_lock tenants(tenants_mu_);
  for (const auto& [id, t] : tenants_) {
    // Never for a held tenant: a snapshot of the log as it is now would
    // replace the evidence that it changed.
    if (options_.snapshot_every > 0 && t->poison.ok() && !t->held && t->model.position() > t->last_snapshot) {
      WriteSnapshot(t.get(), options_.snapshots_kept);
    }
  }
}

}  // namespace saalbuch::commands
