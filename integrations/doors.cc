#include "integrations/doors.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/crypto.h"
#include "common/thread_name.h"
#include "integrations/http_post.h"

namespace saalbuch::integrations {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxDoorAnswerBytes = std::size_t{64} * 1024;

class HttpDoorProvider final : public DoorProvider {
 public:
  explicit HttpDoorProvider(DoorConfig config) : config_(std::move(config)) {}

  Result<DoorGrant> Issue(const DoorRequest& r) override { return Grant("/v1/codes/issue", r); }
  Result<DoorGrant> Change(const DoorRequest& r) override { return Grant("/v1/codes/change", r); }
  Status Revoke(const std::string& key) override {
    auto doc = Call("/v1/codes/revoke", {{"key", key}});
    return doc.ok() ? Status::Ok() : doc.status();
  }

 private:
  Result<DoorGrant> Grant(const char* path, const DoorRequest& r) {
    auto doc = Call(path, {{"key", r.key},
                           {"access_point", r.access_point},
                           {"valid_from", FormatUtc(r.from)},
                           {"valid_to", FormatUtc(r.to)}});
    if (!doc.ok()) return doc.status();
    DoorGrant g;
    g.grant = doc->value("grant", "");
    g.code = doc->value("code", "");
    g.access_point = doc->value("access_point", "");
    auto from = ParseRfc3339(doc->value("valid_from", ""));
    auto to = ParseRfc3339(doc->value("valid_to", ""));
    // A 2xx without what the protocol promises: the provider may have
    // acted; asking again under the same key is safe.
    if (g.grant.empty() || g.code.empty() || g.code.size() > 64 || g.access_point.empty() || !from.ok() ||
        !to.ok()) {
      return Status(StatusCode::kUnavailable, "lock provider answered without a code and its window");
    }
    g.from = *from;
    g.to = *to;
    return g;
  }

  Result<json> Call(const std::string& path, const json& body) {
    if (config_.base_url.empty()) return Status(StatusCode::kUnavailable, "door access is off");
    auto answer = HttpPost(config_.base_url + path, body.dump(-1, ' ', false, json::error_handler_t::replace),
                           {"Content-Type: application/json", "Accept: application/json",
                            "Authorization: Bearer " + config_.api_key},
                           config_.timeout_ms, kMaxDoorAnswerBytes);
    if (!answer.ok())
      return Status(StatusCode::kUnavailable, "lock provider unreachable: " + answer.status().message());
    const json doc = json::parse(answer->body, nullptr, false);
    const std::string words = doc.is_object() && doc.contains("error") && doc["error"].is_string()
                                  ? doc["error"].get<std::string>()
                                  : answer->body.substr(0, 200);
    const long status = answer->status;
    if (status >= 400 && status < 500 && status != 429) {
      return Status(StatusCode::kInvalidArgument,
                    "lock provider refused (" + std::to_string(status) + "): " + words);
    }
    if (status < 200 || status >= 300) {
      return Status(StatusCode::kUnavailable,
                    "lock provider answered " + std::to_string(status) + ": " + words);
    }
    if (!doc.is_object()) return Status(StatusCode::kUnavailable, "lock provider answered without JSON");
    return doc;
  }

  DoorConfig config_;
};

}  // namespace

std::unique_ptr<DoorProvider> MakeHttpDoorProvider(DoorConfig config) {
  return std::make_unique<HttpDoorProvider>(std::move(config));
}

DoorDispatcher::DoorDispatcher(commands::CommandBus& bus, const projections::Runner& runner,
                               const ledger::Log& log, ledger::Vault& vault, DoorProvider& provider,
                               DoorDispatcherOptions options)
    : bus_(bus), runner_(runner), log_(log), vault_(vault), provider_(provider), options_(options) {}

DoorDispatcher::~DoorDispatcher() { Stop(); }

void DoorDispatcher::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    NameThisThread("sb-doors");
    Loop();
  });
}

void DoorDispatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DoorDispatcher::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    for (const TenantId& t : log_.Tenants()) {
      // What was recorded last round — and, the first time, everything in
      // the log when we started — must be folded before the pending list is
      // read, else a call already recorded would be made and recorded again.
      auto r = recorded_.find(t.get());
      if (r == recorded_.end()) {
        auto head = log_.GetHead(t);
        if (!head.ok()) continue;
        r = recorded_.emplace(t.get(), head->seq).first;
      }
      if (runner_.Position(t) < r->second) continue;
      auto pending = projections::QueryDoorWork(runner_.view(), t, 50);
      if (!pending.ok()) {
        spdlog::error("msg=\"pending door codes unreadable\" tenant={} error=\"{}\"", t.get(),
                      pending.status().ToString());
        continue;
      }
      for (const auto& w : *pending) {
        {
          std::lock_guard stop(mu_);
          if (stopping_) return;
        }
        Dispatch(t, w);
      }
    }
    lock.lock();
    cv_.wait_for(lock, options_.poll, [this] { return stopping_; });
  }
}

bool DoorDispatcher::Record(const TenantId& tenant, commands::RecordDoor record) {
  commands::Submission s;
  s.ctx.tenant = tenant;
  s.ctx.actor = "system";
  s.ctx.command_id = "cmd_" + RandomHex(8);
  s.ctx.correlation_id = "doors";
  s.command = std::move(record);
  const commands::Outcome o = bus_.SubmitAndWait(std::move(s));
  if (o.kind != commands::Outcome::Kind::kOk && o.kind != commands::Outcome::Kind::kCreated) {
    spdlog::warn("msg=\"door outcome not recorded\" tenant={} body={}", tenant.get(), o.body.dump());
    return false;
  }
  recorded_[tenant.get()] = o.position;
  return true;
}

void DoorDispatcher::Dispatch(const TenantId& tenant, const projections::DoorWork& w) {
  const std::string key = tenant.get() + ":" + w.booking;
  const auto now = std::chrono::steady_clock::now();
  if (auto r = retries_.find(key); r != retries_.end() && now < r->second.next) return;
  commands::RecordDoor rec;
  rec.booking = BookingId(w.booking);
  Status failure = Status::Ok();
  if (w.issue) {
    // The code is sealed like the booker's contact: with their vault key,
    // which must still exist (an erased person's key is never made anew).
    rec.person = w.person.empty() ? "door:" + w.booking : w.person;
    if (!w.person.empty()) {
      auto found = vault_.Find(tenant, w.person);
      if (!found.ok() || !found->has_value()) return;  // storage trouble, or erased: the fold follows
    }
    const DoorRequest req{key, w.access_point, w.from, w.to};
    auto grant = w.grant.empty() ? provider_.Issue(req) : provider_.Change(req);
    if (grant.ok()) {
      auto sealed = vault_.Seal(tenant, rec.person, grant->code);
      if (!sealed.ok()) {
        spdlog::error("msg=\"door code not sealed\" tenant={} booking={} error=\"{}\"", tenant.get(),
                      w.booking, sealed.status().ToString());
        return;
      }
      rec.outcome = commands::RecordDoor::Outcome::kIssued;
      rec.access_point = grant->access_point;
      rec.from = grant->from;
      rec.to = grant->to;
      rec.grant = grant->grant;
      rec.sealed_code = std::move(*sealed);
      if (Record(tenant, std::move(rec))) retries_.erase(key);
      return;
    }
    failure = grant.status();
    rec.operation = "issue";
  } else {
    failure = provider_.Revoke(key);
    if (failure.ok()) {
      rec.outcome = commands::RecordDoor::Outcome::kRevoked;
      rec.grant = w.grant;
      if (Record(tenant, std::move(rec))) retries_.erase(key);
      return;
    }
    rec.operation = "revoke";
  }
  rec.outcome = commands::RecordDoor::Outcome::kFailed;
  rec.reason = failure.message().substr(0, 500);
  if (failure.code() == StatusCode::kInvalidArgument) {
    spdlog::warn("msg=\"lock provider refused\" tenant={} booking={} operation={} error=\"{}\"", tenant.get(),
                 w.booking, rec.operation, failure.message());
    rec.refused = true;
    if (Record(tenant, std::move(rec))) retries_.erase(key);
    return;
  }
  Retry& r = retries_[key];
  ++r.attempts;
  const auto wait = std::min<std::chrono::seconds>(options_.max_backoff,
                                                   std::chrono::seconds(1LL << std::min(r.attempts - 1, 16)));
  r.next = now + wait;
  spdlog::warn(
      "msg=\"door code not done, will retry\" tenant={} booking={} operation={} attempt={} error=\"{}\"",
      tenant.get(), w.booking, rec.operation, r.attempts, failure.ToString());
  if (r.attempts == 3) Record(tenant, std::move(rec));  // staff see it; the retries go on
}

}  // namespace saalbuch::integrations
