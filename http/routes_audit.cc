// The auditors' routes: the log with its hashes, its live tail, signed
// checkpoints, and Merkle proofs of inclusion and consistency.
#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>

#include "common/merkle.h"
#include "common/note.h"
#include "http/edge.h"
#include "ledger/event_json.h"
#include "ledger/tree.h"

namespace saalbuch::http {

using beast_http::field;
using beast_http::status;
using beast_http::verb;
using nlohmann::json;
namespace net = boost::asio;

std::vector<Route> AuditRoutes() {
  constexpr unsigned kAudit = kAuditor | kAdmin;
  return {
      {verb::get, "/v1/tenants/{tenant}/events", kAudit, "events", &Edge::Events},
      {verb::get, "/v1/tenants/{tenant}/events/stream", kAudit, "events_stream", &Edge::EventStream},
      {verb::get, "/v1/tenants/{tenant}/checkpoint", kAudit, "checkpoint", &Edge::LatestCheckpoint},
      {verb::get, "/v1/tenants/{tenant}/checkpoint/key", kPublic, "checkpoint_key", &Edge::CheckpointKey},
      {verb::get, "/v1/tenants/{tenant}/proof/inclusion", kAudit, "proof_inclusion", &Edge::InclusionProof},
      {verb::get, "/v1/tenants/{tenant}/proof/consistency", kAudit, "proof_consistency",
       &Edge::ConsistencyProof},
  };
}

void Edge::Events(const CallPtr& c) {
  const TenantId& t = c->tenant;
  Seq after = 0;
  if (auto a = c->target.query.find("after"); a != c->target.query.end()) {
    auto n = ParseUnsigned(a->second);
    if (!n) return Problem(c, status::bad_request, "invalid_query", "after must be a log position");
    after = *n;
  }
  std::size_t limit = 0;
  if (!Limit(c, &limit)) return;
  // With the stored bytes of each record, an auditor recomputes the chain
  // from the API alone: hash(n) = SHA-256(hash(n-1) ‖ bytes(n)).
  bool with_bytes = false;
  if (const std::string b = c->Param("with_bytes"); !b.empty()) {
    if (b != "true" && b != "false")
      return Problem(c, status::bad_request, "invalid_query", "with_bytes must be true or false");
    with_bytes = b == "true";
  }
  RunQuery(c, [this, c, t, after, limit, with_bytes] {
    std::vector<ledger::Record> records;
    if (Status s = log.Read(t, after + 1, limit + 1, &records); !s.ok()) return FromStatus(c, s);
    auto head = log.GetHead(t);
    if (!head.ok()) return FromStatus(c, head.status());
    const bool more = records.size() > limit;
    if (more) records.pop_back();
    json items = json::array();
    for (const auto& r : records) {
      auto ev = ledger::EnvelopeToJson(r.bytes);
      if (!ev.ok()) return FromStatus(c, ev.status());
      ledger::HexHashes(&*ev);
      items.push_back({{"seq", r.seq}, {"hash", ToHex(r.hash)}, {"record", *ev}});
      if (with_bytes) items.back()["bytes"] = ToHex(r.bytes);
    }
    json body = {{"items", items},
                 {"head", head->seq},
                 {"next_cursor", more ? json(std::to_string(records.back().seq)) : json(nullptr)}};
    SendJson(c, status::ok, body, head->seq);
  });
}

// GET …/events/stream: the log as server-sent events for auditors' live
// tail. Each response carries the records after the client's
// Last-Event-ID (or ?after=) — waiting up to ?wait= seconds (default and
// most 10) for at least one — then ends with a retry hint; an EventSource
// reconnects with the last id it saw, so no record is missed or repeated.
// Bounded: at most 500 records per response, nothing held between them.
void Edge::EventStream(const CallPtr& c) {
  const TenantId& t = c->tenant;
  std::string from = c->Param("after");
  if (auto h = c->req.find("Last-Event-ID"); h != c->req.end()) from = std::string(h->value());
  auto after = from.empty() ? std::optional<std::uint64_t>(0) : ParseUnsigned(from);
  const std::string wait_text = c->Param("wait");
  auto wait = wait_text.empty() ? std::optional<std::uint64_t>(10) : ParseUnsigned(wait_text);
  if (!after || !wait || *wait > 10) {
    return Problem(c, status::bad_request, "invalid_query",
                   "Last-Event-ID (or after) must be a log position and wait 0–10 seconds");
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(*wait);
  WaitForRecords(c, t, *after, deadline, [this, c, t, after = *after] {
    std::vector<ledger::Record> records;
    if (Status s = log.Read(t, after + 1, 500, &records); !s.ok()) return FromStatus(c, s);
    std::string body = "retry: 1000\n\n";
    if (records.empty()) body += ": no new records\n\n";
    for (const auto& r : records) {
      auto ev = ledger::EnvelopeToJson(r.bytes);
      if (!ev.ok()) return FromStatus(c, ev.status());
      ledger::HexHashes(&*ev);
      body += "id: " + std::to_string(r.seq) +
              "\nevent: record\ndata: " + Dump({{"seq", r.seq}, {"hash", ToHex(r.hash)}, {"record", *ev}}) +
              "\n\n";
    }
    Response res{status::ok, 11};
    res.set(field::content_type, "text/event-stream; charset=utf-8");
    res.set(field::cache_control, "no-cache");
    res.set("Saalbuch-Position", std::to_string(records.empty() ? after : records.back().seq));
    res.body() = std::move(body);
    Send(c, std::move(res));
  });
}

void Edge::WaitForRecords(const CallPtr& c, const TenantId& t, Seq after,
                          std::chrono::steady_clock::time_point deadline, std::function<void()> then) {
  if (runner.Position(t) > after || std::chrono::steady_clock::now() >= deadline) {
    return RunQuery(c, std::move(then));
  }
  auto timer = std::make_shared<net::steady_timer>(ioc, std::chrono::milliseconds(50));
  timer->async_wait(
      [this, c, t, after, deadline, then = std::move(then), timer](const boost::system::error_code&) mutable {
        WaitForRecords(c, t, after, deadline, std::move(then));
      });
}

// The latest signed checkpoint (auditor, admin).
void Edge::LatestCheckpoint(const CallPtr& c) {
  const TenantId& t = c->tenant;
  Query(c, t, [this, c, t] {
    Seq p = runner.Position(t);
    auto cp = projections::QueryCheckpoint(runner.view(), t);
    if (cp.ok()) AddCosignatures(t, &*cp);
    SendQuery(c, p, cp, false);
  });
}

// The size a proof is for: ?<name>= when given (1..head), else the latest
// signed checkpoint's position, whose note the answer then carries, so the
// client checks the proof against a root it verifies itself. nullopt after
// answering 400/404.
std::optional<Seq> Edge::ProofSize(const CallPtr& c, const char* name, Seq head, json* checkpoint) {
  if (const std::string v = c->Param(name); !v.empty()) {
    auto n = ParseUnsigned(v);
    if (!n || *n == 0 || *n > head) {
      Problem(
          c, status::bad_request, "invalid_query",
          std::string(name) + " must be a log position from 1 to the head (" + std::to_string(head) + ")");
      return std::nullopt;
    }
    return *n;
  }
  auto cp = projections::QueryCheckpoint(runner.view(), c->tenant);
  if (!cp.ok()) {
    Problem(c, status::not_found, "no_checkpoint",
            std::string("no signed checkpoint yet; name the tree size with ") + name);
    return std::nullopt;
  }
  *checkpoint = {
      {"position", cp->at("position")}, {"note", cp->at("note")}, {"verifier_key", cp->at("verifier_key")}};
  AddCosignatures(c->tenant, checkpoint);
  return cp->at("position").get<Seq>();
}

// The witnesses' cosignatures of `checkpoint` (its "position" is the tree
// size): their lines, and the note with them appended ("cosigned_note", a
// C2SP signed note that opens with the log's key and each witness's).
void Edge::AddCosignatures(const TenantId& t, json* checkpoint) const {
  if (!options.cosignatures || !checkpoint->contains("position") || !checkpoint->contains("note")) return;
  const auto lines = options.cosignatures(t, checkpoint->at("position").get<Seq>());
  std::string note = checkpoint->at("note").get<std::string>();
  for (const auto& l : lines) note += l;
  (*checkpoint)["cosignatures"] = lines;
  (*checkpoint)["cosigned_note"] = std::move(note);
}

namespace {

// Whether the checkpoint a proof defaults to signs `root`: one recorded
// before the Merkle tree signed the chain hash, and a proof against it
// would look like a fork.
bool SignsRoot(const json& checkpoint, const Sha256& root) {
  const auto body = NoteBody(checkpoint.value("note", ""));
  const auto cp = body ? ParseCheckpointBody(*body) : std::nullopt;
  return cp && cp->hash == AsBytes(root);
}

json HexList(const std::vector<Sha256>& hashes) {
  json out = json::array();
  for (const auto& h : hashes) out.push_back(ToHex(h));
  return out;
}

}  // namespace

void Edge::NoRootSigned(const CallPtr& c) {
  Problem(c, status::conflict, "checkpoint_without_root",
          "the latest checkpoint was signed before the log had its Merkle tree and signs no root; name the "
          "tree size, or wait for the next checkpoint");
}

// GET …/proof/inclusion?position=N[&size=M]: record N is leaf N-1 of the
// Merkle tree of the first M records (common/merkle.h). With its stored
// bytes, so that the client hashes the leaf itself.
void Edge::InclusionProof(const CallPtr& c) {
  const TenantId& t = c->tenant;
  auto position = ParseUnsigned(c->Param("position"));
  if (!position || *position == 0)
    return Problem(c, status::bad_request, "invalid_query",
                   "position must name a record of the log (1, 2, …)");
  RunQuery(c, [this, c, t, p = *position] {
    auto head = log.GetHead(t);
    if (!head.ok()) return FromStatus(c, head.status());
    json checkpoint;
    const auto size = ProofSize(c, "size", head->seq, &checkpoint);
    if (!size) return;
    if (p > *size) {
      return Problem(c, status::bad_request, "invalid_query",
                     "record " + std::to_string(p) + " is not in the tree of the first " +
                         std::to_string(*size) + " records");
    }
    const auto nodes = ledger::TreeNodes(log, t);
    auto proof = merkle::InclusionProof(p - 1, *size, nodes);
    if (!proof.ok()) return FromStatus(c, proof.status());
    auto root = merkle::Root(*size, nodes);
    if (!root.ok()) return FromStatus(c, root.status());
    if (!checkpoint.is_null() && !SignsRoot(checkpoint, *root)) return NoRootSigned(c);
    std::vector<ledger::Record> record;
    if (Status s = log.Read(t, p, 1, &record); !s.ok()) return FromStatus(c, s);
    if (record.size() != 1 || record[0].seq != p)
      return FromStatus(c, Status(StatusCode::kNotFound, "record"));
    json body = {{"position", p},
                 {"size", *size},
                 {"leaf_index", p - 1},
                 {"bytes", ToHex(record[0].bytes)},
                 {"leaf_hash", ToHex(merkle::LeafHash(record[0].bytes))},
                 {"root", ToHex(*root)},
                 {"proof", HexList(*proof)}};
    if (!checkpoint.is_null()) body["checkpoint"] = checkpoint;
    SendJson(c, status::ok, body, head->seq);
  });
}

// GET …/proof/consistency?from=M[&to=N]: the tree of the first M records is
// a prefix of the tree of the first N (RFC 6962 PROOF(M, D[N])).
void Edge::ConsistencyProof(const CallPtr& c) {
  const TenantId& t = c->tenant;
  auto from = ParseUnsigned(c->Param("from"));
  if (!from || *from == 0)
    return Problem(c, status::bad_request, "invalid_query",
                   "from must be a tree size (a log position, 1, 2, …)");
  RunQuery(c, [this, c, t, m = *from] {
    auto head = log.GetHead(t);
    if (!head.ok()) return FromStatus(c, head.status());
    json checkpoint;
    const auto to = ProofSize(c, "to", head->seq, &checkpoint);
    if (!to) return;
    if (m > *to) {
      return Problem(c, status::bad_request, "invalid_query",
                     "from (" + std::to_string(m) + ") must not exceed to (" + std::to_string(*to) + ")");
    }
    const auto nodes = ledger::TreeNodes(log, t);
    auto proof = merkle::ConsistencyProof(m, *to, nodes);
    if (!proof.ok()) return FromStatus(c, proof.status());
    auto old_root = merkle::Root(m, nodes);
    auto new_root = merkle::Root(*to, nodes);
    if (!old_root.ok() || !new_root.ok())
      return FromStatus(c, old_root.ok() ? new_root.status() : old_root.status());
    if (!checkpoint.is_null() && !SignsRoot(checkpoint, *new_root)) return NoRootSigned(c);
    json body = {{"from", m},
                 {"to", *to},
                 {"from_root", ToHex(*old_root)},
                 {"to_root", ToHex(*new_root)},
                 {"proof", HexList(*proof)}};
    if (!checkpoint.is_null()) body["checkpoint"] = checkpoint;
    SendJson(c, status::ok, body, head->seq);
  });
}

// The tenant's checkpoint verifier key (public): an auditor keeps it
// apart from the data to verify copies offline.
void Edge::CheckpointKey(const CallPtr& c) {
  const TenantId& t = c->tenant;
  if (options.vault == nullptr)
    return Problem(c, status::not_found, "not_found", "this server signs no checkpoints");
  RunQuery(c, [this, c, t] {
    auto seed = options.vault->SigningSeed(t);
    if (!seed.ok()) return FromStatus(c, seed.status());
    Response res{status::ok, 11};
    res.set(field::content_type, "text/plain; charset=utf-8");
    res.body() = VerifierKey(options.log_origin + "/" + t.get(), Ed25519PublicKey(*seed)) + "\n";
    Send(c, std::move(res));
  });
}
}  // namespace saalbuch::http
