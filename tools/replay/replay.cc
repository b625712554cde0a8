// saalbuch-replay: the auditor's tool. Reads a data directory (a copy, or
// the directory of a running server, as a RocksDB secondary instance) or a
// backup in place, never writes, and verifies, replays, compares and exports
// without trusting the server.

#include <sys/stat.h>
#include <CLI/CLI.hpp>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "common/build_info.h"
#include "common/crypto.h"
#include "common/merkle.h"
#include "common/note.h"
#include "common/time.h"
#include "ledger/cosignatures.h"
#include "ledger/event_json.h"
#include "ledger/tree.h"
#include "ledger/verify.h"
#include "projections/projections.h"
#include "tools/progress.h"
#include "tools/replay/source.h"
#include "tools/replay/witness.h"

using namespace saalbuch;
using nlohmann::json;
using tools::Progress;
using tools::Source;

namespace {

// Exit codes: 0 all good; 1 a finding (damage, a difference, an unknown
// booking); 2 the tool could not do its job (usage, unreadable input).
constexpr int kFinding = 1;
constexpr int kFailure = 2;

std::string Dump(const json& j, int indent = -1) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

// The tenants to work on: `only`, which must exist, or all of them.
std::vector<TenantId> Tenants(const Source& s, const std::string& only) {
  if (only.empty()) return s.log->Tenants();
  auto head = s.log->GetHead(TenantId(only));
  if (!head.ok()) throw std::runtime_error(head.status().message());
  if (head->seq == 0) throw std::runtime_error("no tenant '" + only + "' in " + s.name);
  return {TenantId(only)};
}

Seq HeadOf(const Source& s, const TenantId& t) {
  auto head = s.log->GetHead(t);
  if (!head.ok()) throw std::runtime_error(head.status().message());
  return head->seq;
}

// Calls `fn` for the records of `t` with from ≤ seq ≤ to, in order, until it
// returns false.
Status ForEachRecord(const Source& s, const TenantId& t, Seq from, Seq to,
                     const std::function<bool(const ledger::Record&)>& fn) {
  constexpr std::size_t kChunk = 1024;
  std::vector<ledger::Record> chunk;
  for (Seq next = std::max<Seq>(from, 1); next <= to;) {
    chunk.clear();
    if (Status st = s.log->Read(t, next, kChunk, &chunk); !st.ok()) return st;
    for (const auto& r : chunk) {
      if (r.seq > to || !fn(r)) return Status::Ok();
    }
    if (chunk.size() < kChunk) break;
    next = chunk.back().seq + 1;
  }
  return Status::Ok();
}

// The tenant's time zone when this host's tz database lacks it (local times
// would silently come out in UTC), else nullopt. TenantCreated is every
// tenant's first record.
std::optional<std::string> UnknownZone(const Source& s, const TenantId& t) {
  std::vector<ledger::Record> first;
  if (Status st = s.log->Read(t, 1, 1, &first); !st.ok()) throw std::runtime_error(st.ToString());
  const schema::Envelope* env = first.size() == 1 ? ledger::DecodeEnvelope(first[0].bytes) : nullptr;
  const auto* created = env == nullptr ? nullptr : env->payload_as_TenantCreated();
  if (created == nullptr) return std::nullopt;
  const std::string zone = created->time_zone() == nullptr ? "" : created->time_zone()->str();
  const std::string rules = created->zone_rules() == nullptr ? "" : created->zone_rules()->str();
  if (RecordedZone(rules, zone) != nullptr) return std::nullopt;
  return zone;
}

// Prints why `t` cannot be replayed here and returns true when its zone is
// unknown.
bool ZoneMissing(const Source& s, const TenantId& t) {
  const auto zone = UnknownZone(s, t);
  if (!zone) return false;
  std::cerr << "tenant '" << t.get() << "': its time zone '" << *zone
            << "' (record 1) is not in this host's time zone database, so its local times cannot be "
               "computed; install it (Debian: the tzdata package) and run again\n";
  return true;
}

// ---- verify ----

// The log's Merkle tree as verify recomputes it from the records' bytes,
// never from the nodes the server stored: perfect subtrees of level >=
// kKept are kept as the pass completes them (64 bytes per 256 records);
// the lower ones a root needs are hashed again from at most 255 records.
class RecomputedTree {
 public:
  RecomputedTree(const Source& s, TenantId t) : s_(s), t_(std::move(t)), kept_(64) {}

  void Append(const ledger::Record& r) {
    tree_.Append(merkle::LeafHash(r.bytes), [&](int level, std::uint64_t, const Sha256& h) {
      if (level >= kKept) kept_[static_cast<std::size_t>(level)].push_back(h);
    });
  }

  // The root of records 1..size (size <= the records appended).
  Result<Sha256> RootAt(Seq size) const {
    if (size > tree_.size()) return Status(StatusCode::kNotFound, "beyond the verified records");
    return merkle::Root(size, [&](int level, std::uint64_t index) -> Result<Sha256> {
      if (level >= kKept) return kept_[static_cast<std::size_t>(level)].at(index);
      merkle::Frontier part;
      const Seq first = (index << level) + 1, last = (index + 1) << level;
      Status st = ForEachRecord(s_, t_, first, last, [&](const ledger::Record& r) {
        part.Append(merkle::LeafHash(r.bytes));
        return true;
      });
      if (!st.ok()) return st;
      if (part.size() != last - first + 1) return Status(StatusCode::kNotFound, "records are missing");
      return part.Root();
    });
  }

 private:
  static constexpr int kKept = 8;
  const Source& s_;
  TenantId t_;
  merkle::Frontier tree_;
  std::vector<std::vector<Sha256>> kept_;  // by level, then index
};

// A CheckpointSigned record, as the chain pass found it.
struct SignedCheckpoint {
  Seq record;
  Seq position;
  std::string hash, note, verifier_key;
  std::string root;  // empty in checkpoints recorded before the Merkle tree
};

SignedCheckpoint ReadSignedCheckpoint(const ledger::Record& r, const schema::CheckpointSigned& e) {
  auto str = [](const flatbuffers::String* x) { return x == nullptr ? std::string() : x->str(); };
  auto bytes = [](const flatbuffers::Vector<std::uint8_t>* x) {
    return x == nullptr ? std::string() : std::string(x->begin(), x->end());
  };
  return {r.seq,         e.position(),          bytes(e.head_hash()),
          str(e.note()), str(e.verifier_key()), bytes(e.root_hash())};
}

// Checks the CheckpointSigned records of `t` (collected during the chain
// pass, which found every stored chain hash right): each note opens with the
// verifier (the auditor's key, or else the key the log names), its body
// names this tenant's origin, the position and the hash the record states
// (the Merkle root; the chain hash in checkpoints older than the tree), the
// root is the one `tree` recomputed at that position, and the record's
// chain hash is the one stored there (one point read per checkpoint). Fills `out` with {"checkpoints",
// "last_position", "verifier_key", "key_from"} and, on a finding, "first_bad_checkpoint" and
// "checkpoint_problem".
bool VerifyCheckpoints(const Source& s, const TenantId& t, const RecomputedTree& tree,
                       const std::vector<SignedCheckpoint>& signed_,
                       const std::optional<NoteVerifier>& auditor_key, const std::string& auditor_key_text,
                       json* out) {
  (*out)["checkpoints"] = signed_.size();
  (*out)["last_position"] = signed_.empty() ? 0 : signed_.back().position;
  auto finding = [&](const SignedCheckpoint& c, const std::string& problem) {
    (*out)["first_bad_checkpoint"] = c.record;
    (*out)["checkpoint_problem"] = problem;
    return false;
  };
  std::optional<NoteVerifier> key = auditor_key;
  (*out)["key_from"] = auditor_key ? "auditor" : "log";
  if (auditor_key) (*out)["verifier_key"] = auditor_key_text;
  std::vector<ledger::Record> at;
  for (const auto& c : signed_) {
    if (!key) {
      key = ParseVerifierKey(c.verifier_key);
      if (!key) return finding(c, "the verifier key named in the log is malformed");
      (*out)["verifier_key"] = c.verifier_key;
    }
    // The same key under another name: the installation renamed its origin
    // (saalbuchd --log-origin); the notes since carry the new name.
    NoteVerifier use = *key;
    if (const auto named = ParseVerifierKey(c.verifier_key); named && named->public_key == key->public_key) {
      use = *named;
    }
    auto body = OpenNote(c.note, use);
    if (!body) return finding(c, "the signature does not verify with the verifier key");
    auto cp = ParseCheckpointBody(*body);
    if (!cp) return finding(c, "the signed note is not a checkpoint");
    // The origin is "<installation's --log-origin>/<tenant>", named by the key.
    if (cp->origin != use.name || !cp->origin.ends_with("/" + t.get()))
      return finding(c, "signed for another origin: " + cp->origin);
    if (cp->size != c.position || cp->hash != (c.root.empty() ? c.hash : c.root) || c.position == 0 ||
        c.position >= c.record) {
      return finding(c, "the signed position or hash differs from the record's");
    }
    if (!c.root.empty()) {
      auto root = tree.RootAt(c.position);
      if (!root.ok() || std::string(AsBytes(*root)) != c.root) {
        return finding(c, "the Merkle root of the log's first " + std::to_string(c.position) +
                              " records is not the signed one: the log was changed after it was signed");
      }
    }
    // The chain hash at the signed position must be the signed one.
    at.clear();
    if (Status st = s.log->Read(t, c.position, 1, &at); !st.ok()) throw std::runtime_error(st.ToString());
    if (at.size() != 1 || at[0].seq != c.position || std::string(AsBytes(at[0].hash)) != c.hash) {
      return finding(c, "the log's chain hash at position " + std::to_string(c.position) +
                            " is not the signed one: the log was changed after it was signed");
    }
  }
  return true;
}

struct VerifyArgs {
  std::string tenant;
  bool as_json = false;
  std::string verifier_key_file;
  // The auditor's own state: a signed checkpoint kept from an earlier run.
  std::string trusted_file;
  // The server's cadence (saalbuchd --checkpoint-every/--checkpoint-interval):
  // more records, or records older than this, after the last checkpoint are
  // a finding.
  std::uint64_t checkpoint_every = 1000;
  std::int64_t checkpoint_interval_s = 300;
  // Witnesses' verifier keys (saalbuch-replay witness --print-key) and how
  // many of them must have cosigned the newest checkpoint (0: all).
  std::vector<std::string> witnesses;
  std::size_t witness_quorum = 0;
};

// One batch's records may follow a due checkpoint before the writer signs
// the next (commands/bus.cc), and the timer looks once a second: the bounds
// `verify` enforces allow for that much (a batch is what queued while the
// previous one was written; taken as at most checkpoint_every records).
constexpr std::int64_t kTimerAllowanceS = 60;

// A checkpoint the auditor kept: the note as the server gave it (the
// `note` of GET …/checkpoint, or that JSON itself).
struct TrustedCheckpoint {
  std::string note;
  Checkpoint cp;
};

// The body of `note` signed by `key`, also when the note names the same key
// under another name (the installation renamed its origin since the auditor
// kept the key: saalbuchd --log-origin).
std::optional<std::string> OpenWithKey(const std::string& note, const NoteVerifier& key) {
  if (auto body = OpenNote(note, key)) return body;
  const auto unsigned_body = NoteBody(note);
  const auto cp = unsigned_body ? ParseCheckpointBody(*unsigned_body) : std::nullopt;
  if (!cp || cp->origin == key.name) return std::nullopt;
  return OpenNote(note, NoteVerifier{cp->origin, key.public_key});
}

std::optional<TrustedCheckpoint> ReadTrusted(const std::string& file, const std::optional<NoteVerifier>& key,
                                             std::string* error) {
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!text.empty() && text.front() == '{') {
    const json j = json::parse(text, nullptr, false);
    text = j.is_object() && j.contains("note") && j["note"].is_string() ? j["note"].get<std::string>() : "";
  }
  const auto body = key ? OpenWithKey(text, *key) : NoteBody(text);
  if (!body) {
    *error =
        key ? "it does not carry a signature that verifies with --verifier-key" : "it is not a signed note";
    return std::nullopt;
  }
  auto cp = ParseCheckpointBody(*body);
  if (!cp || cp->size == 0 || cp->origin.find('/') == std::string::npos || cp->origin.ends_with("/")) {
    *error = "it is not a Saalbuch checkpoint";
    return std::nullopt;
  }
  return TrustedCheckpoint{text, *cp};
}

// Replaces `file` with `text`, owner-only, atomically.
bool WriteAtomically(const std::string& file, const std::string& text) {
  const std::string tmp = file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return false;
  }
  ::chmod(tmp.c_str(), 0600);
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  return !ec;
}

// The witnesses' cosignatures stored beside the log (ledger/cosignatures.h):
// each must verify against the checkpoint as the log's records make it (a
// rewrite re-signed with the stored key keeps no witness's cosignature), and
// the newest checkpoint must carry `quorum` of them. An empty string when
// all holds, else the finding.
std::string CheckWitnesses(const Source& s, const TenantId& t, const RecomputedTree& tree, Seq head,
                           const std::vector<SignedCheckpoint>& checkpoints,
                           const std::vector<NoteVerifier>& witnesses, std::size_t quorum, json* out) {
  auto stored = ledger::Cosignatures(*s.db, t);
  if (!stored.ok()) throw std::runtime_error(stored.status().ToString());
  std::map<Seq, std::string> origin_at;  // the origin each checkpoint names, by size
  for (const auto& c : checkpoints) {
    const auto body = NoteBody(c.note);
    const auto cp = body ? ParseCheckpointBody(*body) : std::nullopt;
    if (cp) origin_at[c.position] = cp->origin;
  }
  std::map<Seq, std::set<std::string>> valid;  // size → witnesses whose cosignature verifies
  std::map<Seq, std::string> lines;            // size → those cosignature lines
  for (const auto& c : *stored) {
    const auto w = std::find_if(witnesses.begin(), witnesses.end(),
                                [&](const NoteVerifier& v) { return v.name == c.witness; });
    if (w == witnesses.end()) continue;  // not one the auditor trusts
    const std::string at = "the cosignature of witness " + c.witness + " for size " + std::to_string(c.size);
    if (c.size > head) {
      (*out)["witness_problem"] = "truncated";
      return "TRUNCATED: " + at + " shows the log had at least " + std::to_string(c.size) +
             " records; it ends at " + std::to_string(head);
    }
    // The origin of the checkpoint of that size, else the newest one's.
    auto o = origin_at.find(c.size);
    const std::string origin =
        o != origin_at.end() ? o->second : (origin_at.empty() ? "" : origin_at.rbegin()->second);
    auto root = tree.RootAt(c.size);
    if (!root.ok() || origin.empty() ||
        !VerifyCosignature(CheckpointBody({origin, c.size, std::string(AsBytes(*root))}), c.line, *w)) {
      (*out)["witness_problem"] = "rewritten";
      return "REWRITTEN: " + at +
             " does not verify against the log's Merkle root at that size: the log up to there was changed "
             "after the witness cosigned it (and re-signed, if its checkpoints verify)";
    }
    valid[c.size].insert(c.witness);
    lines[c.size] += c.line;
  }
  const std::size_t need = quorum == 0 ? witnesses.size() : quorum;
  Seq witnessed = 0;  // the newest checkpoint with the quorum
  for (const auto& c : checkpoints) {
    if (valid[c.position].size() >= need) witnessed = c.position;
  }
  (*out)["witnessed_position"] = witnessed;
  (*out)["witness_quorum"] = need;
  if (checkpoints.empty()) return {};
  const Seq newest = checkpoints.back().position;
  const std::size_t have = valid[newest].size();
  (*out)["newest_checkpoint_cosignatures"] = have;
  (*out)["newest_cosignature_lines"] = lines[newest];
  if (have < need) {
    (*out)["witness_problem"] = "not_witnessed";
    return "NOT WITNESSED: the newest checkpoint (position " + std::to_string(newest) + ") carries " +
           std::to_string(have) + " of the " + std::to_string(need) + " required witness cosignatures" +
           (witnessed > 0 ? "; the newest witnessed checkpoint is at position " + std::to_string(witnessed)
                          : "; no checkpoint is witnessed");
  }
  return {};
}

int Verify(const Source& s, const VerifyArgs& a, Progress& progress) {
  std::optional<NoteVerifier> auditor_key;
  std::string auditor_key_text;
  std::string tenant = a.tenant;
  if (!a.verifier_key_file.empty()) {
    std::ifstream in(a.verifier_key_file);
    std::getline(in, auditor_key_text);
    auditor_key = ParseVerifierKey(auditor_key_text);
    if (!auditor_key) {
      std::cerr << "--verifier-key: " << a.verifier_key_file << " holds no verifier key (name+id+key)\n";
      return kFailure;
    }
  }
  std::vector<NoteVerifier> witnesses;
  std::vector<std::string> witness_urls;  // "" when only the key was given
  for (const auto& given : a.witnesses) {
    const auto at = given.find('@');
    const std::string w = given.substr(0, at);
    witness_urls.push_back(at == std::string::npos ? "" : given.substr(at + 1));
    auto v = ParseVerifierKey(w, kCosigner);
    if (!v) {
      std::cerr << "--witness: '" << w
                << "' is not a witness's verifier key (saalbuch-replay witness --print-key)\n";
      return kFailure;
    }
    witnesses.push_back(*v);
  }
  if (a.witness_quorum > witnesses.size()) {
    std::cerr << "--witness-quorum " << a.witness_quorum << " exceeds the " << witnesses.size()
              << " --witness keys given\n";
    return kFailure;
  }
  std::optional<TrustedCheckpoint> trusted;
  if (!a.trusted_file.empty() && std::filesystem::exists(a.trusted_file)) {
    std::string error;
    trusted = ReadTrusted(a.trusted_file, auditor_key, &error);
    if (!trusted) {
      std::cerr << "--trusted-checkpoint: " << a.trusted_file << " cannot be used: " << error << "\n";
      return kFailure;
    }
    // With --witness the kept checkpoint must itself carry the quorum of
    // their cosignatures: then it may come from anywhere (the witness's own
    // state, an earlier GET …/checkpoint's cosigned_note).
    if (!witnesses.empty()) {
      const auto body = NoteBody(trusted->note);
      std::size_t have = 0;
      for (const auto& w : witnesses) have += (body && OpenNote(trusted->note, w)) ? 1 : 0;
      const std::size_t need = a.witness_quorum == 0 ? witnesses.size() : a.witness_quorum;
      if (have < need) {
        std::cerr << "--trusted-checkpoint: " << a.trusted_file << " carries " << have << " of the " << need
                  << " required witness cosignatures\n";
        return kFailure;
      }
    }
    const std::string of = trusted->cp.origin.substr(trusted->cp.origin.rfind('/') + 1);
    if (tenant.empty()) tenant = of;
    if (of != tenant) {
      std::cerr << "--trusted-checkpoint: " << a.trusted_file << " is tenant '" << of << "''s, not '"
                << tenant << "''s\n";
      return kFailure;
    }
  }
  if ((auditor_key || !a.trusted_file.empty()) && tenant.empty()) {
    std::cerr << (auditor_key ? "--verifier-key" : "--trusted-checkpoint")
              << " needs --tenant: each tenant has its own key and checkpoints\n";
    return kFailure;
  }
  int rc = 0;
  json report = json::array();
  for (const auto& t : Tenants(s, tenant)) {
    const auto start = std::chrono::steady_clock::now();
    const Seq total = HeadOf(s, t);
    std::vector<SignedCheckpoint> checkpoints;
    RecomputedTree tree(s, t);
    // Record positions and times the cadence is checked with.
    Seq largest_gap = 0, first_uncovered = 1;
    TimeUs first_uncovered_at = 0, last_at = 0;
    auto r = ledger::VerifyChain(
        *s.log, t, [&](Seq n) { progress.Update("verify " + t.get(), n, total); },
        [&](const ledger::Record& rec, const schema::Envelope& env) {
          last_at = env.recorded_at_us();
          tree.Append(rec);
          if (rec.seq == first_uncovered) first_uncovered_at = last_at;
          if (const auto* e = env.payload_as_CheckpointSigned()) {
            checkpoints.push_back(ReadSignedCheckpoint(rec, *e));
            largest_gap = std::max(largest_gap, rec.seq - first_uncovered);
            first_uncovered = rec.seq + 1;
          }
        });
    progress.Done();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!r.ok()) {
      std::cerr << t.get() << ": cannot read the log: " << r.status().ToString() << "\n";
      return kFailure;
    }
    json j = {{"tenant", t.get()},   {"records", r->records},
              {"head", r->head.seq}, {"head_hash", ToHex(r->head.hash)},
              {"ok", r->ok()},       {"seconds", secs}};
    // The findings, in the order they are reported: the first one names
    // the log's state.
    std::string finding;
    if (!r->ok()) {
      j["first_bad_record"] = *r->first_bad;
      j["problem"] = r->problem;
      finding = "DAMAGED at record " + std::to_string(*r->first_bad) + ": " + r->problem + " (" +
                std::to_string(r->records) + " records before it verify)";
    }
    if (finding.empty() && !VerifyCheckpoints(s, t, tree, checkpoints, auditor_key, auditor_key_text, &j)) {
      finding = "BAD CHECKPOINT at record " + std::to_string(j.value("first_bad_checkpoint", Seq{0})) + ": " +
                j.value("checkpoint_problem", "");
    }
    // The auditor's trusted checkpoint: the log must still hold that
    // position with that Merkle root (or, kept before the tree, that chain
    // hash).
    if (trusted) {
      const Checkpoint& cp = trusted->cp;
      j["trusted_position"] = cp.size;
      std::vector<ledger::Record> at;
      if (Status st = s.log->Read(t, cp.size, 1, &at); !st.ok()) throw std::runtime_error(st.ToString());
      if (finding.empty() && r->head.seq < cp.size) {
        j["trust_problem"] = "truncated";
        finding = "TRUNCATED: the log ends at position " + std::to_string(r->head.seq) +
                  ", but the trusted checkpoint (" + a.trusted_file + ") covers position " +
                  std::to_string(cp.size) + ": records were removed";
      } else if (auto root = tree.RootAt(cp.size);
                 finding.empty() && !(root.ok() && std::string(AsBytes(*root)) == cp.hash) &&
                 (at.size() != 1 || at[0].seq != cp.size || std::string(AsBytes(at[0].hash)) != cp.hash)) {
        j["trust_problem"] = "rewritten";
        finding = "REWRITTEN: the Merkle root at position " + std::to_string(cp.size) +
                  " is not the one the trusted checkpoint (" + a.trusted_file +
                  ") signed: the log up to there was changed (and re-signed, if its checkpoints verify)";
      }
    }
    if (finding.empty() && !witnesses.empty() && r->ok()) {
      finding = CheckWitnesses(s, t, tree, r->head.seq, checkpoints, witnesses, a.witness_quorum, &j);
    }
    // What each witness named with its URL holds now: the log must still
    // have that size with that root (what deleting cosignatures together
    // with the records they cover cannot hide).
    for (std::size_t w = 0; finding.empty() && r->ok() && w < witnesses.size(); ++w) {
      if (witness_urls[w].empty() || checkpoints.empty()) continue;
      const auto newest = NoteBody(checkpoints.back().note);
      const auto named = newest ? ParseCheckpointBody(*newest) : std::nullopt;
      if (!named) continue;
      std::string error;
      const auto held = tools::FetchWitnessCheckpoint(witness_urls[w], named->origin, &error);
      if (!held) {
        std::cerr << "--witness " << witnesses[w].name << ": cannot read its state at " << witness_urls[w]
                  << ": " << error << "\n";
        return kFailure;
      }
      if (held->empty()) continue;  // it cosigned nothing of this log yet
      const auto body = OpenNote(*held, witnesses[w]);
      const auto cp = body ? ParseCheckpointBody(*body) : std::nullopt;
      if (!cp || cp->origin != named->origin) {
        std::cerr << "--witness " << witnesses[w].name << ": its answer is not a checkpoint of "
                  << named->origin << " it cosigned\n";
        return kFailure;
      }
      j["witness_sizes"][witnesses[w].name] = cp->size;
      const std::string by =
          "witness " + witnesses[w].name + " holds a cosigned checkpoint of size " + std::to_string(cp->size);
      auto root =
          cp->size <= r->head.seq ? tree.RootAt(cp->size) : Result<Sha256>(Status(StatusCode::kNotFound, ""));
      if (cp->size > r->head.seq) {
        j["witness_problem"] = "truncated";
        finding = "TRUNCATED: " + by + "; the log ends at " + std::to_string(r->head.seq);
      } else if (!root.ok() || std::string(AsBytes(*root)) != cp->hash) {
        j["witness_problem"] = "rewritten";
        finding = "REWRITTEN: " + by + " whose root the log's records no longer give";
      }
    }
    // What no signature vouches for yet: the records after the last signed
    // position (all of them without a checkpoint).
    const Seq last_position = j.value("last_position", Seq{0});
    const Seq not_covered = r->ok() ? r->head.seq - std::min(r->head.seq, last_position) : 0;
    j["not_covered"] = not_covered;
    // The cadence: the server signs after checkpoint_every records and
    // while records arrive every checkpoint_interval. More unsigned records,
    // or an unsigned record older than that before the newest, means
    // checkpoints were removed (a cut after or before the last one).
    const Seq tail = r->head.seq - std::min(r->head.seq, first_uncovered - 1);
    largest_gap = std::max(largest_gap, tail);
    j["largest_gap"] = largest_gap;
    const Seq max_gap = 2 * a.checkpoint_every;
    const TimeUs max_age = (a.checkpoint_interval_s + kTimerAllowanceS) * kUsPerSecond;
    if (finding.empty() && largest_gap > max_gap) {
      j["cadence_problem"] = "records";
      finding = "CHECKPOINTS MISSING: " + std::to_string(largest_gap) +
                " records in a row are not followed by a signed checkpoint (the server signs after " +
                std::to_string(a.checkpoint_every) + "; allowed: " + std::to_string(max_gap) + ")";
    } else if (finding.empty() && tail > 0 && last_at - first_uncovered_at > max_age) {
      j["cadence_problem"] = "time";
      finding = "CHECKPOINTS MISSING: record " + std::to_string(first_uncovered) + " was recorded " +
                std::to_string((last_at - first_uncovered_at) / kUsPerSecond) +
                " s before the newest record and no checkpoint follows it (the server signs at least every " +
                std::to_string(a.checkpoint_interval_s) + " s while records arrive)";
    }
    j["ok"] = finding.empty();
    if (!finding.empty()) {
      rc = kFinding;
      j["finding"] = finding;
    }
    // Next time, the auditor trusts the newest checkpoint this run verified.
    if (finding.empty() && !a.trusted_file.empty() && !checkpoints.empty() &&
        (!trusted || checkpoints.back().position > trusted->cp.size)) {
      // With the witnesses' cosignatures: the file then satisfies the next
      // run's --witness as well.
      std::string keep = checkpoints.back().note + j.value("newest_cosignature_lines", "");
      if (!WriteAtomically(a.trusted_file, keep)) {
        std::cerr << "--trusted-checkpoint: cannot write " << a.trusted_file << "\n";
        return kFailure;
      }
      j["trusted_position_now"] = checkpoints.back().position;
    }
    j.erase("newest_cosignature_lines");  // for the file above, not the report
    if (!a.as_json) {
      if (!finding.empty()) {
        std::cout << t.get() << ": " << finding << "\n";
      } else {
        std::cout << t.get() << ": OK — " << r->records << " records, head " << r->head.seq << " "
                  << ToHex(r->head.hash) << "; " << j.value("checkpoints", 0) << " signed checkpoints verify"
                  << (j.value("checkpoints", 0) > 0
                          ? std::string(" (key from the ") + j.value("key_from", "") + ")"
                          : std::string())
                  << "; " << not_covered << (not_covered == 1 ? " record" : " records")
                  << " not covered by any signed checkpoint"
                  << (not_covered > 0 && not_covered < r->head.seq
                          ? " (after position " + std::to_string(r->head.seq - not_covered) + ")"
                          : std::string())
                  << (j.contains("witnessed_position")
                          ? "; witnessed (" + std::to_string(j["witness_quorum"].get<std::size_t>()) +
                                " of " + std::to_string(witnesses.size()) + ") up to position " +
                                std::to_string(j["witnessed_position"].get<Seq>())
                          : std::string())
                  << (trusted ? "; the trusted checkpoint at position " + std::to_string(trusted->cp.size) +
                                    " holds"
                              : std::string())
                  << (j.contains("trusted_position_now")
                          ? "; " + a.trusted_file + " now holds the checkpoint at position " +
                                std::to_string(j["trusted_position_now"].get<Seq>())
                          : std::string())
                  << "\n";
      }
    }
    report.push_back(std::move(j));
  }
  if (a.as_json) std::cout << Dump(report, 2) << "\n";
  return rc;
}

// ---- check-proof ----

struct ProofArgs {
  std::string proof_file, checkpoint_file, old_checkpoint_file, verifier_key_file;
};

std::string ReadFile(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A note as kept in a file: the note itself, or the JSON of GET …/checkpoint.
std::string NoteText(std::string text) {
  if (!text.empty() && text.front() == '{') {
    const json j = json::parse(text, nullptr, false);
    return j.is_object() && j.contains("note") && j["note"].is_string() ? j["note"].get<std::string>() : "";
  }
  return text;
}

std::optional<Sha256> HashFromHex(const json& j) {
  if (!j.is_string()) return std::nullopt;
  auto raw = FromHex(j.get<std::string>());
  if (!raw || raw->size() != 32) return std::nullopt;
  Sha256 h;
  std::copy(raw->begin(), raw->end(), h.begin());
  return h;
}

// Checks the answer of GET …/proof/inclusion or …/proof/consistency against
// signed checkpoints: the roots come from notes (verified with the
// auditor's key when given), never from the server's answer.
int CheckProof(const ProofArgs& a) {
  const json proof = json::parse(ReadFile(a.proof_file), nullptr, false);
  if (!proof.is_object() || !proof.contains("proof") || !proof["proof"].is_array()) {
    std::cerr << a.proof_file << " is not the answer of GET …/proof/inclusion or …/proof/consistency\n";
    return kFailure;
  }
  std::vector<Sha256> path;
  for (const auto& h : proof["proof"]) {
    auto x = HashFromHex(h);
    if (!x) {
      std::cerr << a.proof_file << ": a proof hash is not 64 hex digits\n";
      return kFailure;
    }
    path.push_back(*x);
  }
  std::optional<NoteVerifier> key;
  if (!a.verifier_key_file.empty()) {
    std::string text = ReadFile(a.verifier_key_file);
    text = text.substr(0, text.find('\n'));
    key = ParseVerifierKey(text);
    if (!key) {
      std::cerr << "--verifier-key: " << a.verifier_key_file << " holds no verifier key (name+id+key)\n";
      return kFailure;
    }
  }
  // A checkpoint: from the file, else the one the answer carries.
  auto checkpoint = [&](const std::string& file, const char* what) -> std::optional<Checkpoint> {
    std::string note;
    if (!file.empty()) {
      note = NoteText(ReadFile(file));
    } else if (std::string_view(what) != "older" && proof.contains("checkpoint") &&
               proof["checkpoint"].is_object()) {
      note = proof["checkpoint"].value("note", "");
    }
    if (note.empty()) {
      std::cerr << "no " << what << " checkpoint: pass one with "
                << (std::string_view(what) == "older" ? "--old-checkpoint" : "--checkpoint") << "\n";
      return std::nullopt;
    }
    const auto body = key ? OpenWithKey(note, *key) : NoteBody(note);
    auto cp = body ? ParseCheckpointBody(*body) : std::nullopt;
    if (!cp) {
      std::cerr << "the " << what << " checkpoint "
                << (key ? "does not carry a signature that verifies with --verifier-key"
                        : "is not a checkpoint")
                << "\n";
      return std::nullopt;
    }
    if (cp->hash.size() != 32) return std::nullopt;
    return cp;
  };
  auto root_of = [](const Checkpoint& cp) {
    Sha256 h;
    std::copy(cp.hash.begin(), cp.hash.end(), h.begin());
    return h;
  };
  const std::string signed_by =
      key ? " (signatures verified with --verifier-key)" : " (signatures NOT checked: no --verifier-key)";
  if (proof.contains("leaf_index")) {
    const auto cp = checkpoint(a.checkpoint_file, "signed");
    if (!cp) return kFailure;
    const Seq position = proof.value("position", Seq{0}), size = proof.value("size", Seq{0});
    auto bytes = proof.contains("bytes") && proof["bytes"].is_string()
                     ? FromHex(proof["bytes"].get<std::string>())
                     : std::nullopt;
    if (!bytes || position == 0 || proof.value("leaf_index", Seq{0}) != position - 1) {
      std::cerr << a.proof_file << ": no record bytes, or the position and leaf index disagree\n";
      return kFailure;
    }
    if (cp->size != size) {
      std::cerr << "the proof is for a tree of " << size << " records, the checkpoint covers " << cp->size
                << "\n";
      return kFailure;
    }
    const schema::Envelope* env = ledger::DecodeEnvelope(*bytes);
    if (!merkle::VerifyInclusion(merkle::LeafHash(*bytes), position - 1, size, path, root_of(*cp))) {
      std::cout << "NOT INCLUDED: record " << position << " with these bytes is not in the tree of "
                << cp->origin << " signed at size " << size << signed_by << "\n";
      return kFinding;
    }
    std::cout << "OK — record " << position;
    if (env != nullptr) {
      std::cout << " (" << schema::EnumNamePayload(env->payload_type()) << ", "
                << (env->stream_id() == nullptr ? std::string() : env->stream_id()->str()) << ", recorded "
                << FormatUtc(env->recorded_at_us()) << ")";
    }
    std::cout << " is in the log of " << cp->origin << " as signed at size " << size << signed_by << "\n";
    return 0;
  }
  const auto old_cp = checkpoint(a.old_checkpoint_file, "older");
  if (!old_cp) return kFailure;
  const auto new_cp = checkpoint(a.checkpoint_file, "newer");
  if (!new_cp) return kFailure;
  if (old_cp->origin != new_cp->origin || old_cp->size != proof.value("from", Seq{0}) ||
      new_cp->size != proof.value("to", Seq{0})) {
    std::cerr << "the proof is for sizes " << proof.value("from", Seq{0}) << " → "
              << proof.value("to", Seq{0}) << ", the checkpoints are " << old_cp->origin << " at "
              << old_cp->size << " and " << new_cp->origin << " at " << new_cp->size << "\n";
    return kFailure;
  }
  if (!merkle::VerifyConsistency(old_cp->size, new_cp->size, root_of(*old_cp), root_of(*new_cp), path)) {
    std::cout << "INCONSISTENT: the log of " << new_cp->origin << " signed at size " << new_cp->size
              << " does not extend the one signed at size " << old_cp->size
              << ": records up to there were changed (a fork)" << signed_by << "\n";
    return kFinding;
  }
  std::cout << "OK — the log of " << new_cp->origin << " at size " << new_cp->size
            << " extends the one at size " << old_cp->size << signed_by << "\n";
  return 0;
}

// ---- state ----

// The position `at` names: a log position (clamped to the head), or an
// RFC 3339 instant: the last record of the longest prefix of the log
// recorded at or before it (0 when the first record is later).
Seq ResolveAt(const Source& s, const TenantId& t, const std::string& at, Seq head, Progress& progress) {
  if (at.empty()) return head;
  if (std::all_of(at.begin(), at.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const Seq n = std::stoull(at);
    if (n == 0) throw std::invalid_argument("--at: log positions start at 1");
    return std::min(n, head);
  }
  auto instant = ParseRfc3339(at);
  if (!instant.ok()) {
    throw std::invalid_argument("--at must be a log position or an RFC 3339 time with offset: " +
                                instant.status().message());
  }
  Seq position = 0;
  Status st = ForEachRecord(s, t, 1, head, [&](const ledger::Record& r) {
    const auto* env = ledger::DecodeEnvelope(r.bytes);
    if (env == nullptr) throw std::runtime_error("record " + std::to_string(r.seq) + " does not decode");
    if (env->recorded_at_us() > *instant) return false;
    position = r.seq;
    progress.Update("state: finding the position", r.seq, head);
    return true;
  });
  progress.Done();
  if (!st.ok()) throw std::runtime_error(st.ToString());
  return position;
}

struct StateArgs {
  std::string tenant, at, resource, from, to, booking;
  bool journal = false;
};

int State(const Source& s, const StateArgs& a, Progress& progress) {
  const TenantId t(a.tenant);
  const Seq head = HeadOf(s, t);
  if (head == 0) {
    std::cerr << "no tenant '" << a.tenant << "' in " << s.name << "\n";
    return kFailure;
  }
  if (ZoneMissing(s, t)) return kFailure;
  const Seq at = ResolveAt(s, t, a.at, head, progress);
  json out = {{"tenant", a.tenant}, {"position", at}, {"head", head}};
  if (!a.at.empty() && !std::isdigit(static_cast<unsigned char>(a.at[0]))) out["as_of"] = a.at;
  if (at == 0) {
    std::cerr << "tenant '" << a.tenant << "' has no record recorded at or before " << a.at << "\n";
    return kFinding;
  }
  projections::MemoryStore store;
  auto report = [&](Seq n) { progress.Update("state: replaying", n, at); };
  Status folded = projections::FoldInto(&store, *s.log, t, at, report);
  progress.Done();
  if (!folded.ok()) {
    std::cerr << "replay failed: " << folded.ToString() << "\n";
    return kFailure;
  }
  if (!a.booking.empty()) {
    auto b = projections::QueryBooking(store, t, BookingId(a.booking));
    out["booking"] = b.ok() ? b->doc : json(nullptr);
    std::cout << Dump(out, 2) << "\n";
    return b.ok() ? 0 : kFinding;
  }
  auto f = ParseRfc3339(a.from);
  auto e = ParseRfc3339(a.to);
  if (!f.ok() || !e.ok()) {
    std::cerr << "--from and --to must be RFC 3339 times with offset\n";
    return kFailure;
  }
  const TimeRange window{*f, *e};
  auto tenant_doc = projections::QueryTenant(store, t);
  auto resources = projections::QueryResources(store, t);
  if (!tenant_doc.ok() || !resources.ok()) {
    std::cerr << (tenant_doc.ok() ? resources.status() : tenant_doc.status()).ToString() << "\n";
    return kFailure;
  }
  json availability = json::object();
  json bookings = json::object();
  json listed = json::array();
  projections::AvailabilityIndex index;
  if (Status st = index.Load(store, t); !st.ok()) {
    std::cerr << st.ToString() << "\n";
    return kFailure;
  }
  for (const auto& r : resources->at("items")) {
    const std::string id = r.at("id").get<std::string>();
    if (!a.resource.empty() && id != a.resource) continue;
    listed.push_back(r);
    auto av = projections::QueryAvailability(index, t, ResourceId(id), window);
    auto bk = projections::QueryResourceBookings(store, t, ResourceId(id), window, 500, "");
    if (!av.ok() || !bk.ok()) {
      std::cerr << id << ": " << (av.ok() ? bk.status() : av.status()).ToString() << "\n";
      return kFailure;
    }
    availability[id] = *av;
    bookings[id] = *bk;
  }
  out["catalog"] = {{"tenant", *tenant_doc}, {"resources", listed}};
  out["availability"] = availability;
  out["bookings"] = bookings;
  // The accounts as of that position: balances with the trial balance, open
  // items, and with --journal every journal entry.
  auto balances = projections::QueryBalances(store, t);
  auto open = projections::QueryOpenItems(store, t, "");
  if (!balances.ok() || !open.ok()) {
    std::cerr << (balances.ok() ? open.status() : balances.status()).ToString() << "\n";
    return kFailure;
  }
  out["accounts"] = {{"balances", *balances}, {"open_items", *open}};
  if (a.journal) {
    json entries = json::array();
    std::string cursor;
    do {
      auto page = projections::QueryJournal(store, t, "", "", 500, cursor);
      if (!page.ok()) {
        std::cerr << page.status().ToString() << "\n";
        return kFailure;
      }
      for (auto& e : (*page)["items"]) entries.push_back(std::move(e));
      cursor = (*page)["next_cursor"].is_null() ? "" : (*page)["next_cursor"].get<std::string>();
    } while (!cursor.empty());
    out["accounts"]["journal"] = std::move(entries);
  }
  std::cout << Dump(out, 2) << "\n";
  return 0;
}

// ---- diff ----

// A projection key for people: printable bytes as they are, others as \xNN.
std::string Printable(std::string_view key) {
  std::string out;
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x" + ToHex(std::string(1, static_cast<char>(c)));
    }
  }
  return out;
}

int Diff(const Source& s, const std::string& tenant, bool as_json, Progress& progress) {
  projections::RocksStore live(s.db.get());
  int rc = 0;
  json report = json::array();
  for (const auto& t : Tenants(s, tenant)) {
    if (ZoneMissing(s, t)) return kFailure;
    auto upto = projections::LowestCheckpoint(live, t);
    if (!upto.ok()) {
      std::cerr << t.get() << ": " << upto.status().ToString() << "\n";
      return kFailure;
    }
    projections::MemoryStore replay;
    if (*upto > 0) {
      auto report = [&](Seq n) { progress.Update("diff " + t.get() + ": replaying", n, *upto); };
      if (Status st = projections::FoldInto(&replay, *s.log, t, *upto, report); !st.ok()) {
        std::cerr << t.get() << ": replay failed: " << st.ToString() << "\n";
        return kFailure;
      }
    }
    progress.Done();
    auto a = projections::TenantKeys(live, t);
    auto b = projections::TenantKeys(replay, t);
    if (!a.ok() || !b.ok()) {
      std::cerr << t.get() << ": " << (a.ok() ? b.status() : a.status()).ToString() << "\n";
      return kFailure;
    }
    std::size_t differences = 0;
    json examples = json::array();
    auto note = [&](const std::string& key, const char* what) {
      if (++differences <= 10) examples.push_back({{"key", Printable(key)}, {"problem", what}});
    };
    for (const auto& [k, v] : *a) {
      auto it = b->find(k);
      if (it == b->end()) {
        note(k, "only in the live projection");
      } else if (it->second != v) {
        note(k, "value differs");
      }
    }
    for (const auto& [k, v] : *b) {
      if (a->count(k) == 0) note(k, "missing from the live projection");
    }
    if (differences != 0) rc = kFinding;
    if (as_json) {
      report.push_back({{"tenant", t.get()},
                        {"position", *upto},
                        {"live_keys", a->size()},
                        {"differences", differences},
                        {"identical", differences == 0},
                        {"first_differences", examples}});
    } else {
      std::cout << t.get() << ": position " << *upto << ", " << a->size() << " live keys, " << differences
                << " differences" << (differences == 0 ? " — identical" : " — DIFFERENT") << "\n";
      for (const auto& ex : examples) {
        std::cout << "  " << ex["problem"].get<std::string>() << ": " << ex["key"].get<std::string>() << "\n";
      }
    }
  }
  if (as_json) std::cout << Dump(report, 2) << "\n";
  return rc;
}

// ---- history ----

json EventJson(const ledger::Record& r, json rendered) {
  ledger::HexHashes(&rendered);
  const TimeUs at = rendered.value("recorded_at_us", TimeUs{0});
  return {{"seq", r.seq},
          {"hash", ToHex(r.hash)},
          {"recorded_at", FormatUtc(at)},
          {"actor", rendered.value("actor", "")},
          {"type", rendered.value("payload_type", "")},
          {"stream_id", rendered.value("stream_id", "")},
          {"command_id", rendered.value("command_id", "")},
          {"correlation_id", rendered.value("correlation_id", "")},
          {"payload", rendered.value("payload", json::object())}};
}

// For people: every "…_us" integer (UTC microseconds) as an RFC 3339 time
// under the name without "_us".
json Readable(const json& payload) {
  json out = json::object();
  for (const auto& [k, v] : payload.items()) {
    if (k.size() > 3 && k.ends_with("_us") && v.is_number_integer()) {
      out[k.substr(0, k.size() - 3)] = FormatUtc(v.get<TimeUs>());
    } else {
      out[k] = v;
    }
  }
  return out;
}

int History(const Source& s, const std::string& tenant, const std::string& booking, bool as_json,
            Progress& progress) {
  const TenantId t(tenant);
  const Seq head = HeadOf(s, t);
  if (head == 0) {
    std::cerr << "no tenant '" << tenant << "' in " << s.name << "\n";
    return kFailure;
  }
  json events = json::array();
  Sha256 prev{};
  Seq expected = 1;
  std::string damage;
  Status st = ForEachRecord(s, t, 1, head, [&](const ledger::Record& r) {
    // The whole log is read anyway: check the chain on the way, so that the
    // history shown is the one the chain vouches for.
    if (r.seq != expected || ledger::ChainHash(prev, r.bytes) != r.hash) {
      damage = "record " + std::to_string(expected) + " fails the hash chain";
      return false;
    }
    prev = r.hash;
    ++expected;
    progress.Update("history: searching " + tenant, r.seq, head);
    // Rendering every record is slow; the id must occur in the bytes of any
    // record whose payload names it.
    if (r.bytes.find(booking) == std::string::npos) return true;
    auto rendered = ledger::EnvelopeToJson(r.bytes);
    if (!rendered.ok()) {
      damage = "record " + std::to_string(r.seq) + ": " + rendered.status().message();
      return false;
    }
    // Any event type whose payload has this booking_id, present or future.
    const json& payload = rendered->value("payload", json::object());
    if (payload.is_object() && payload.value("booking_id", "") == booking) {
      events.push_back(EventJson(r, std::move(rendered).value()));
    }
    return true;
  });
  progress.Done();
  if (!st.ok()) {
    std::cerr << "cannot read the log: " << st.ToString() << "\n";
    return kFailure;
  }
  if (!damage.empty()) {
    std::cerr << "the log of '" << tenant << "' is damaged: " << damage
              << "; run saalbuch-replay verify for the details\n";
    return kFinding;
  }
  if (events.empty()) {
    std::cerr << "no booking '" << booking << "' in tenant '" << tenant << "' (" << head
              << " records searched)\n";
    return kFinding;
  }
  if (as_json) {
    std::cout << Dump({{"tenant", tenant}, {"booking", booking}, {"head", head}, {"events", events}}, 2)
              << "\n";
    return 0;
  }
  std::cout << "Booking " << booking << " of tenant " << tenant << ": " << events.size()
            << (events.size() == 1 ? " event" : " events") << " (records 1–" << head
            << " checked against the hash chain)\n";
  for (const auto& e : events) {
    std::cout << "  seq " << e["seq"].get<Seq>() << "  " << e["recorded_at"].get<std::string>() << "  "
              << e["type"].get<std::string>() << "  by " << e["actor"].get<std::string>() << "\n    "
              << Dump(Readable(e["payload"])) << "\n";
  }
  return 0;
}

// ---- export ----

struct ExportArgs {
  std::string tenant, out;
  Seq from = 1, to = 0;
  bool with_bytes = false;
};

int Export(const Source& s, const ExportArgs& a, Progress& progress) {
  namespace fs = std::filesystem;
  std::ofstream file;
  const std::string partial = a.out + ".partial";
  if (!a.out.empty()) {
    file.open(partial, std::ios::trunc);
    if (!file) {
      std::cerr << "cannot write " << partial << "\n";
      return kFailure;
    }
  }
  std::ostream& os = a.out.empty() ? std::cout : file;
  std::uint64_t written = 0;
  std::size_t tenants = 0;
  for (const auto& t : Tenants(s, a.tenant)) {
    const Seq head = HeadOf(s, t);
    const Seq to = a.to == 0 ? head : std::min(a.to, head);
    ++tenants;
    std::string problem;
    // The chain is checked on the way, from the stored hash of the record
    // before the first one exported: an export never vouches for damage.
    Sha256 prev{};
    Seq expected = std::max<Seq>(a.from, 1);
    if (expected > 1 && expected <= to) {
      std::vector<ledger::Record> before;
      if (Status st = s.log->Read(t, expected - 1, 1, &before); !st.ok())
        throw std::runtime_error(st.ToString());
      if (before.size() == 1 && before[0].seq == expected - 1) prev = before[0].hash;
    }
    auto damaged = [&](Seq seq, const char* what) {
      problem.assign("the log of '").append(t.get()).append("' is damaged at record ");
      problem.append(std::to_string(seq)).append(": ").append(what);
      problem.append("; run saalbuch-replay verify for the details");
      return false;
    };
    // The Merkle tree of the exported records, when they start at 1: the
    // head line's root is then recomputed, not read.
    merkle::Frontier tree;
    nlohmann::ordered_json checkpoint;  // the last CheckpointSigned exported
    Status st = ForEachRecord(s, t, a.from, to, [&](const ledger::Record& r) {
      if (r.seq != expected) return damaged(expected, "it is missing");
      if (ledger::ChainHash(prev, r.bytes) != r.hash) {
        return damaged(r.seq, "its stored hash is not SHA-256(previous hash ‖ record bytes)");
      }
      prev = r.hash;
      ++expected;
      tree.Append(merkle::LeafHash(r.bytes));
      if (const auto* env = ledger::DecodeEnvelope(r.bytes)) {
        if (const auto* cp = env->payload_as_CheckpointSigned()) {
          checkpoint = {{"record", r.seq},
                        {"position", cp->position()},
                        {"note", cp->note() == nullptr ? "" : cp->note()->str()},
                        {"verifier_key", cp->verifier_key() == nullptr ? "" : cp->verifier_key()->str()}};
        }
      }
      auto rendered = ledger::EnvelopeToJson(r.bytes);
      if (!rendered.ok()) {
        problem = "record " + std::to_string(r.seq) + " of '" + t.get() + "': " + rendered.status().message();
        return false;
      }
      ledger::HexHashes(&*rendered);
      nlohmann::ordered_json line = {{"tenant", t.get()}, {"seq", r.seq}, {"hash", ToHex(r.hash)}};
      line["record"] = std::move(rendered).value();
      if (a.with_bytes) line["bytes"] = ToHex(r.bytes);
      os << line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
      ++written;
      progress.Update("export " + t.get(), r.seq, to);
      return true;
    });
    progress.Done();
    if (st.ok() && problem.empty() && expected <= to) damaged(expected, "it is missing");
    if (!st.ok() || !problem.empty()) {
      std::cerr << "export stopped: " << (st.ok() ? problem : st.ToString()) << " (" << written
                << " records were exported before it" << (a.out.empty() ? ")" : "; the file was removed)")
                << "\n";
      if (!a.out.empty()) fs::remove(partial);
      return st.ok() ? kFinding : kFailure;
    }
    // The tenant's last line: where the export ends (chain hash and Merkle
    // root there) and the newest signed checkpoint in it, so that a file
    // cut short is seen and its root checked against a note.
    if (to >= std::max<Seq>(a.from, 1)) {
      auto root = a.from <= 1 ? Result<Sha256>(tree.Root()) : merkle::Root(to, ledger::TreeNodes(*s.log, t));
      if (!root.ok()) throw std::runtime_error(root.status().ToString());
      // With the witnesses' cosignatures of that checkpoint (stored beside
      // the log): the export alone then shows who confirmed it.
      if (checkpoint.is_object()) {
        auto cosigned = ledger::Cosignatures(*s.db, t, checkpoint["position"].get<Seq>());
        if (!cosigned.ok()) throw std::runtime_error(cosigned.status().ToString());
        std::string note = checkpoint["note"].get<std::string>();
        checkpoint["cosignatures"] = nlohmann::ordered_json::array();
        for (const auto& c : *cosigned) {
          checkpoint["cosignatures"].push_back(c.line);
          note += c.line;
        }
        checkpoint["cosigned_note"] = note;
      }
      nlohmann::ordered_json end = {{"tenant", t.get()},
                                    {"head", {{"seq", to}, {"hash", ToHex(prev)}, {"root", ToHex(*root)}}},
                                    {"checkpoint", checkpoint}};
      os << end.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
    }
  }
  os.flush();
  if (!os) {
    std::cerr << "writing the export failed\n";
    if (!a.out.empty()) fs::remove(partial);
    return kFailure;
  }
  if (!a.out.empty()) {
    file.close();
    fs::rename(partial, a.out);
    std::cerr << "exported " << written << " records of " << tenants
              << (tenants == 1 ? " tenant" : " tenants") << " to " << a.out << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // What the tool writes (a restored data directory, exports) is owner-only,
  // as saalbuchd's own files are.
  ::umask(077);
  CLI::App app{
      "saalbuch-replay — the auditor's tool: verify, replay, compare and export Saalbuch logs.\n"
      "Reads without writing and without trusting the server: a copy of a data directory,\n"
      "the directory of a running server (opened as a RocksDB secondary instance, which\n"
      "sees the state as of the start of the command and never disturbs the server), or\n"
      "a backup directory in place (--backup)."};
  app.set_version_flag("--version", VersionLine("saalbuch-replay"),
                       "Print the version and the git revision, then exit");
  app.footer(
      "Exit codes: 0 all good; 1 a finding (damage, a difference, an unknown booking);\n"
      "2 the tool could not do its job (bad arguments, unreadable directory).\n"
      "Output: results on stdout (--json where offered); progress and errors on stderr.");
  app.require_subcommand(1);
  bool quiet = false;
  app.add_flag("-q,--quiet", quiet, "No progress messages on stderr");
  app.fallthrough();
  tools::SourceFlags source;
  std::string tenant;
  bool as_json = false;

  auto* verify = app.add_subcommand("verify", "Verify every tenant's hash chain from the first record");
  verify->footer(
      "Checks, from record 1: no gap in the numbering; each stored hash equals\n"
      "SHA-256(previous hash ‖ record bytes); each record decodes and names its tenant, position\n"
      "and the previous hash; the stored head names the last record. On damage: names the first\n"
      "bad record and exits 1. Then every signed checkpoint: its Ed25519 signature (C2SP signed\n"
      "note), and that the Merkle root (RFC 6962) of the records up to its position, recomputed\n"
      "from their bytes, is the one signed (older checkpoints: the chain hash). Then the cadence: more\n"
      "than twice --checkpoint-every records in a row without a checkpoint, or an\n"
      "unsigned record more than --checkpoint-interval (and a minute) older than the newest, is a\n"
      "finding: checkpoints were cut off. With --trusted-checkpoint, the auditor's own kept\n"
      "checkpoint must still be in the log (else TRUNCATED or REWRITTEN, exit 1). With --witness,\n"
      "each stored cosignature of those witnesses must verify against the log's roots (else\n"
      "REWRITTEN or TRUNCATED) and the newest checkpoint must carry --witness-quorum of them (else\n"
      "NOT WITNESSED).");
  tools::AddSourceOptions(verify, &source);
  VerifyArgs va;
  verify->add_option("--tenant", va.tenant, "Only this tenant");
  verify->add_flag("--json", va.as_json, "Print a JSON report");
  verify->add_option("--trusted-checkpoint", va.trusted_file,
                     "A signed checkpoint the auditor kept (the note of GET …/checkpoint): the log must "
                     "still hold its position with its Merkle root. After a good run the newest verified "
                     "checkpoint is written to it, for the next run; a missing file is created");
  verify
      ->add_option("--checkpoint-every", va.checkpoint_every,
                   "The server's --checkpoint-every: more than twice as many records in a row without a "
                   "checkpoint are a finding")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000000));
  verify
      ->add_option("--checkpoint-interval", va.checkpoint_interval_s,
                   "The server's --checkpoint-interval in seconds: an unsigned record more than this "
                   "(and a minute) older than the newest record is a finding")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400 * 366));
  verify
      ->add_option(
          "--verifier-key", va.verifier_key_file,
          "File with the tenant's checkpoint verifier key (GET …/checkpoint/key), kept apart from the "
          "data; without it, checkpoints are checked against the key the log names")
      ->check(CLI::ExistingFile);
  verify->add_option(
      "--witness", va.witnesses,
      "A witness's verifier key (saalbuch-replay witness --print-key): its cosignatures stored "
      "beside the log must verify against the log's roots. Repeatable");
  verify->add_option(
      "--witness-quorum", va.witness_quorum,
      "How many of the --witness keys must have cosigned the newest checkpoint (default: all)");

  StateArgs st;
  auto* state = app.add_subcommand("state", "The projections as of a log position or an instant, as JSON");
  state->footer(
      "Folds the log from record 1 up to --at, with the server's own projection code, and prints\n"
      "the catalog (tenant, resources), availability and bookings in the window --from/--to and\n"
      "the accounts (balances with the trial balance, open items; the journal with --journal), or\n"
      "one booking with its history (--booking). --at 2027-03-01T00:00:00+01:00 means every\n"
      "record recorded up to that instant (the state as of that day).");
  tools::AddSourceOptions(state, &source);
  state->add_option("--tenant", st.tenant, "Tenant")->required();
  state->add_option("--at", st.at,
                    "A log position (e.g. 120) or an RFC 3339 time with offset (e.g. "
                    "2027-03-01T00:00:00+01:00: the records recorded up to then). Default: the head");
  state->add_option("--resource", st.resource, "Only this resource");
  state->add_option("--from", st.from, "Window start, RFC 3339 (default: today 00:00 UTC)");
  state->add_option("--to", st.to, "Window end, RFC 3339 (default: 7 days after --from)");
  state->add_option("--booking", st.booking, "Print this booking with its history instead");
  state->add_flag("--journal", st.journal, "Also print every journal entry up to --at");

  auto* diff =
      app.add_subcommand("diff", "Rebuild every projection from record 1 and compare it with the stored one");
  diff->footer(
      "Replays each tenant's log in memory up to the stored projections' checkpoint and compares\n"
      "every key and value byte for byte; names the first differing keys and exits 1 on any\n"
      "difference.");
  tools::AddSourceOptions(diff, &source);
  diff->add_option("--tenant", tenant, "Only this tenant");
  diff->add_flag("--json", as_json, "Print a JSON report");

  std::string booking;
  auto* history = app.add_subcommand("history", "Every event of one booking, with position, time and actor");
  history->footer(
      "Lists every record whose payload has this booking_id (whatever the event type), with its\n"
      "position, time, actor, type and payload. The tenant's whole log is read, and its hash chain\n"
      "checked on the way. An unknown booking: a message on stderr and exit 1.");
  tools::AddSourceOptions(history, &source);
  history->add_option("booking", booking, "The booking id (bk_…)")->required();
  history->add_option("--tenant", tenant, "The booking's tenant")->required();
  history->add_flag("--json", as_json, "Print JSON");

  ExportArgs ex;
  auto* exp = app.add_subcommand("export", "The log as JSON Lines, for auditors' own tools");
  exp->footer(
      "One record per line: {\"tenant\", \"seq\", \"hash\", \"record\"} (hash in hex; record is the\n"
      "envelope with its payload, as in GET /v1/tenants/{t}/events), plus \"bytes\" with\n"
      "--with-bytes, so that the chain can be recomputed: hash(n) = SHA-256(hash(n-1) ‖ bytes(n)),\n"
      "hash(0) = 32 zero bytes. Each tenant ends with one line {\"tenant\", \"head\": {\"seq\",\n"
      "\"hash\", \"root\"}, \"checkpoint\"}: the last record exported, its chain hash, the Merkle\n"
      "root of records 1..seq (RFC 6962), and the newest signed checkpoint among the records.\n"
      "Personal data: events carry none yet, so everything is exported. Once they do (encrypted\n"
      "per person), it will be exported only where that person's key still exists.");
  tools::AddSourceOptions(exp, &source);
  exp->add_option("--tenant", ex.tenant, "Only this tenant (default: all, one after the other)");
  exp->add_option("--from", ex.from, "First log position")->capture_default_str()->check(CLI::PositiveNumber);
  exp->add_option("--to", ex.to, "Last log position (default: the head)");
  exp->add_option("--out", ex.out, "Write to this file (atomically) instead of stdout");
  exp->add_flag("--with-bytes", ex.with_bytes,
                "Add each record's encoded bytes (hex), so that the chain can be recomputed");

  ProofArgs pa;
  auto* check =
      app.add_subcommand("check-proof", "Check a Merkle proof of the API against signed checkpoints");
  check->footer(
      "Reads the answer of GET /v1/tenants/{t}/proof/inclusion (a record is in the log) or\n"
      "…/proof/consistency (the log at one checkpoint extends the log at an earlier one) and checks\n"
      "it (RFC 9162) against the roots of signed checkpoints, never against the server's roots:\n"
      "--checkpoint (else the one the answer carries) and, for consistency, --old-checkpoint (the\n"
      "auditor's kept one). Exit 1 when the proof fails: NOT INCLUDED or INCONSISTENT.");
  check->add_option("--proof", pa.proof_file, "The answer of the proof route (JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  check->add_option("--checkpoint", pa.checkpoint_file, "The signed checkpoint the proof is for")
      ->check(CLI::ExistingFile);
  check->add_option("--old-checkpoint", pa.old_checkpoint_file, "The earlier signed checkpoint (consistency)")
      ->check(CLI::ExistingFile);
  check->add_option("--verifier-key", pa.verifier_key_file, "The tenant's verifier key: check the signatures")
      ->check(CLI::ExistingFile);

  tools::WitnessArgs wa;
  auto* witness = tools::AddWitnessCommand(&app, &wa);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help is a ParseError that exits 0; anything else is exit 2 as documented.
    return app.exit(e) == 0 ? 0 : kFailure;
  }
  Progress progress(!quiet);
  try {
    if (*check) return CheckProof(pa);
    if (*witness) return tools::RunWitness(wa);
    const Source s = tools::OpenSource(source);
    if (*verify) return Verify(s, va, progress);
    if (*state) {
      if (st.from.empty()) {
        auto today = date::floor<date::days>(std::chrono::system_clock::now());
        st.from = date::format("%FT%TZ", date::sys_seconds(today));
      }
      if (st.to.empty()) {
        auto f = ParseRfc3339(st.from);
        if (!f.ok()) {
          std::cerr << f.status().message() << "\n";
          return kFailure;
        }
        st.to = FormatUtc(*f + 7LL * 24 * 3600 * kUsPerSecond);
      }
      return State(s, st, progress);
    }
    if (*diff) return Diff(s, tenant, as_json, progress);
    if (*history) return History(s, tenant, booking, as_json, progress);
    if (*exp) return Export(s, ex, progress);
  } catch (const std::exception& e) {
    progress.Done();
    std::cerr << "saalbuch-replay: " << e.what() << "\n";
    return kFailure;
  }
  return 0;
}
