#include "integrations/witnesses.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <memory>

#include "common/crypto.h"
#include "common/merkle.h"
#include "integrations/http_post.h"
#include "ledger/cosignatures.h"
#include "ledger/tree.h"

namespace saalbuch::integrations {
namespace {

constexpr std::size_t kMaxAnswerBytes = std::size_t{16} * 1024;
constexpr auto kLongestBackoff = std::chrono::minutes(5);

// The start of a witness's words, printable, for the log.
std::string QuoteWitness(std::string_view s) {
  std::string out(s.substr(0, 200));
  for (char& ch : out) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = ' ';
  }
  return out;
}

}  // namespace

Result<WitnessEndpoint> ParseWitness(std::string_view spec) {
  const auto at = spec.find('@');
  if (at == std::string_view::npos)
    return Status(StatusCode::kInvalidArgument, "--witness must be <verifier key>@<url>");
  auto key = ParseVerifierKey(spec.substr(0, at), kCosigner);
  if (!key) {
    return Status(StatusCode::kInvalidArgument,
                  "--witness: '" + std::string(spec.substr(0, at)) +
                      "' is not a witness's verifier key (saalbuch-replay witness --print-key)");
  }
  std::string url(spec.substr(at + 1));
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (!url.starts_with("http://") && !url.starts_with("https://"))
    return Status(StatusCode::kInvalidArgument, "--witness: the URL must start with http:// or https://");
  return WitnessEndpoint{*key, url};
}

WitnessSubmitter::WitnessSubmitter(ledger::Database* db, const ledger::Log* log,
                                   std::vector<WitnessEndpoint> witnesses, prometheus::Registry& registry,
                                   long timeout_ms)
    : db_(db), log_(log), witnesses_(std::move(witnesses)), timeout_ms_(timeout_ms) {
  submissions_ = &prometheus::BuildCounter()
                      .Name("saalbuch_witness_submissions_total")
                      .Help(
                          "Checkpoints sent to witnesses, by witness and result (cosigned, refused: the "
                          "witness says the log forked or was rewritten, error: unreachable or broken)")
                      .Register(registry);
  backlog_ = &prometheus::BuildGauge()
                  .Name("saalbuch_witness_backlog")
                  .Help("Tenants whose newest checkpoint some witness has not cosigned yet")
                  .Register(registry)
                  .Add({});
  worker_ = std::thread([this] { Run(); });
}

WitnessSubmitter::~WitnessSubmitter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void WitnessSubmitter::Submit(const TenantId& tenant, Seq size, std::string note) {
  {
    std::lock_guard lock(mu_);
    Pending& p = pending_[tenant.get()];
    if (p.size > size) return;  // a newer one waits already
    p = Pending{size, std::move(note), std::vector<bool>(witnesses_.size(), false), 0, {}};
    backlog_->Set(static_cast<double>(pending_.size()));
  }
  cv_.notify_all();
}

void WitnessSubmitter::Durable(const TenantId& tenant, Seq head) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    Seq& d = durable_[tenant.get()];
    d = std::max(d, head);
    auto it = pending_.find(tenant.get());
    wake = it != pending_.end() && it->second.size <= d;
  }
  if (wake) cv_.notify_all();
}

void WitnessSubmitter::Count(std::size_t w, const char* result) {
  submissions_->Add({{"witness", witnesses_[w].key.name}, {"result", result}}).Increment();
}

Seq WitnessSubmitter::KnownSize(std::size_t w, const TenantId& tenant) {
  const auto key = std::make_pair(w, tenant.get());
  if (auto it = known_.find(key); it != known_.end()) return it->second;
  Seq largest = 0;
  if (auto all = ledger::Cosignatures(*db_, tenant); all.ok()) {
    for (const auto& c : *all) {
      if (c.witness == witnesses_[w].key.name) largest = std::max(largest, c.size);
    }
  }
  known_[key] = largest;
  return largest;
}

WitnessSubmitter::Outcome WitnessSubmitter::SendTo(std::size_t w, const TenantId& tenant, const Pending& p) {
  const WitnessEndpoint& witness = witnesses_[w];
  const auto body = NoteBody(p.note);
  if (!body) return Outcome::kRefused;
  // Twice at most: the first answer may name the size the witness holds.
  for (int round = 0; round < 2; ++round) {
    const Seq old = KnownSize(w, tenant);
    // Cosigned already (this one, stored; or a newer one).
    if (old > p.size || (old == p.size && round == 0)) return Outcome::kCosigned;
    std::string request = "old " + std::to_string(old) + "\n";
    if (old > 0) {
      auto proof = merkle::ConsistencyProof(old, p.size, ledger::TreeNodes(*log_, tenant));
      if (!proof.ok()) {
        spdlog::error(
            "msg=\"no consistency proof for a witness\" tenant={} witness={} from={} to={} error=\"{}\"",
            tenant.get(), witness.key.name, old, p.size, proof.status().ToString());
        Count(w, "error");
        return Outcome::kRefused;
      }
      for (const auto& h : *proof) request += Base64Encode(AsBytes(h)) + "\n";
    }
    request += "\n" + p.note;
    auto answer = HttpPost(witness.url + "/add-checkpoint", request,
                           {"Content-Type: text/plain; charset=utf-8"}, timeout_ms_, kMaxAnswerBytes);
    if (!answer.ok() || answer->status >= 500 || answer->status == 429) {
      spdlog::warn("msg=\"witness unreachable\" tenant={} witness={} size={} error=\"{}\"", tenant.get(),
                   witness.key.name, p.size,
                   answer.ok() ? "HTTP " + std::to_string(answer->status) : answer.status().message());
      Count(w, "error");
      return Outcome::kRetry;
    }
    if (answer->status == 200) {
      std::size_t stored = 0;
      std::size_t at = 0;
      while (at < answer->body.size()) {
        const auto nl = answer->body.find('\n', at);
        if (nl == std::string::npos) break;
        const std::string line = answer->body.substr(at, nl - at + 1);
        at = nl + 1;
        if (!VerifyCosignature(*body, line, witness.key)) continue;
        if (Status s = ledger::PutCosignature(db_, tenant, p.size, witness.key.name, line); !s.ok()) {
          spdlog::error("msg=\"cosignature not stored\" tenant={} witness={} error=\"{}\"", tenant.get(),
                        witness.key.name, s.ToString());
          Count(w, "error");
          return Outcome::kRetry;
        }
        ++stored;
      }
      if (stored == 0) {
        spdlog::error("msg=\"the witness answered without a valid cosignature\" tenant={} witness={} size={}",
                      tenant.get(), witness.key.name, p.size);
        Count(w, "error");
        return Outcome::kRetry;
      }
      known_[{w, tenant.get()}] = p.size;
      Count(w, "cosigned");
      return Outcome::kCosigned;
    }
    if (answer->status == 409 && answer->content_type.starts_with("text/x.tlog.size")) {
      Seq theirs = 0;
      const std::string_view text(answer->body);
      const auto digits = text.substr(0, text.find('\n'));
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), theirs);
      if (ec == std::errc() && end == digits.data() + digits.size() && theirs != old && theirs <= p.size) {
        known_[{w, tenant.get()}] = theirs;
        continue;  // again, with a proof from the size the witness holds
      }
      // It holds a newer checkpoint of ours (this one waited behind it, as
      // the one queued at start can): nothing to do.
      const auto head = log_->GetHead(tenant);
      if (ec == std::errc() && theirs > p.size && head.ok() && head->seq >= theirs) {
        known_[{w, tenant.get()}] = theirs;
        return Outcome::kCosigned;
      }
      spdlog::error(
          "msg=\"the witness holds a larger checkpoint of this log than the server has: the log was cut "
          "back or forked\" tenant={} witness={} size={} witness_size={}",
          tenant.get(), witness.key.name, p.size, QuoteWitness(answer->body));
      Count(w, "refused");
      return Outcome::kRefused;
    }
    spdlog::error(
        "msg=\"the witness refused the checkpoint\" tenant={} witness={} size={} status={} answer=\"{}\" "
        "hint=\"409/422: the log is not a consistent extension of what the witness cosigned (a fork or a "
        "rewrite); 403/404: the witness does not know this log's key\"",
        tenant.get(), witness.key.name, p.size, answer->status, QuoteWitness(answer->body));
    Count(w, "refused");
    return Outcome::kRefused;
  }
  Count(w, "refused");
  return Outcome::kRefused;
}

void WitnessSubmitter::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    // The first tenant that is due, if any: its checkpoint durable, its
    // backoff over.
    const auto now = std::chrono::steady_clock::now();
    auto durable = [&](const std::string& t, Seq size) {
      auto d = durable_.find(t);
      return d != durable_.end() && d->second >= size;
    };
    auto due = std::find_if(pending_.begin(), pending_.end(), [&](const auto& e) {
      return e.second.not_before <= now && durable(e.first, e.second.size);
    });
    if (due == pending_.end()) {
      auto next = std::chrono::steady_clock::time_point::max();
      for (const auto& [t, p] : pending_) {
        if (durable(t, p.size)) next = std::min(next, p.not_before);
      }
      if (next == std::chrono::steady_clock::time_point::max()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, next);
      }
      continue;
    }
    const TenantId tenant(due->first);
    Pending p = due->second;
    lock.unlock();
    bool retry = false;
    for (std::size_t w = 0; w < witnesses_.size(); ++w) {
      if (p.done[w]) continue;
      const Outcome o = SendTo(w, tenant, p);
      p.done[w] = o != Outcome::kRetry;
      retry = retry || o == Outcome::kRetry;
    }
    lock.lock();
    auto it = pending_.find(tenant.get());
    // A newer checkpoint may have arrived meanwhile: it stays queued.
    if (it != pending_.end() && it->second.size == p.size) {
      if (!retry) {
        pending_.erase(it);
      } else {
        p.attempts = std::min(p.attempts + 1, 20);
        const auto backoff = std::min<std::chrono::steady_clock::duration>(
            std::chrono::seconds(1) * (1LL << std::min(p.attempts, 9)), kLongestBackoff);
        p.not_before = std::chrono::steady_clock::now() + backoff;
        it->second = std::move(p);
      }
    }
    backlog_->Set(static_cast<double>(pending_.size()));
  }
}

}  // namespace saalbuch::integrations
