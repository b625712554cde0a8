#include "integrations/refunds.h"

#include <spdlog/spdlog.h>

#include <future>

#include "common/crypto.h"
#include "common/thread_name.h"

namespace saalbuch::integrations {

using nlohmann::json;

RefundDispatcher::RefundDispatcher(commands::CommandBus& bus, const projections::Runner& runner,
                                   const ledger::Log& log, PaymentProvider& provider,
                                   RefundDispatcherOptions options)
    : bus_(bus), runner_(runner), log_(log), provider_(provider), options_(options) {}

RefundDispatcher::~RefundDispatcher() { Stop(); }

void RefundDispatcher::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    NameThisThread("sb-refunds");
    Loop();
  });
}

void RefundDispatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RefundDispatcher::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    for (const TenantId& t : log_.Tenants()) {
      auto pending = projections::QueryPendingRefunds(runner_.view(), t, 50);
      if (!pending.ok()) {
        spdlog::error("msg=\"pending refunds unreadable\" tenant={} error=\"{}\"", t.get(),
                      pending.status().ToString());
        continue;
      }
      for (const auto& p : *pending) {
        {
          std::lock_guard stop(mu_);
          if (stopping_) return;
        }
        Dispatch(t, p);
      }
    }
    lock.lock();
    cv_.wait_for(lock, options_.poll, [this] { return stopping_; });
  }
}

bool RefundDispatcher::Record(const TenantId& tenant, commands::Command command) {
  commands::Submission s;
  s.ctx.tenant = tenant;
  s.ctx.actor = "system";
  s.ctx.command_id = "cmd_" + RandomHex(8);
  s.ctx.correlation_id = "refunds";
  s.command = std::move(command);
  const commands::Outcome o = bus_.SubmitAndWait(std::move(s));
  if (o.kind != commands::Outcome::Kind::kOk && o.kind != commands::Outcome::Kind::kCreated) {
    spdlog::warn("msg=\"refund outcome not recorded\" tenant={} body={}", tenant.get(), o.body.dump());
    return false;
  }
  return true;
}

void RefundDispatcher::Dispatch(const TenantId& tenant, const json& pending) {
  const std::string id = pending.value("id", "");
  const std::string key = tenant.get() + "/" + id;
  const auto now = std::chrono::steady_clock::now();
  if (auto r = retries_.find(key); r != retries_.end() && now < r->second.next) return;
  auto settings = projections::QueryFinanceSettings(runner_.view(), tenant);
  RefundRequest req;
  req.refund = id;
  req.payment = pending.value("payment", "");
  req.amount = pending.value("amount", std::int64_t{0});
  req.currency = settings.ok() ? settings->value("currency", "EUR") : "EUR";
  auto ticket = provider_.Refund(req);
  if (ticket.ok()) {
    if (Record(tenant, commands::RecordRefundSubmitted{id, ticket->id})) retries_.erase(key);
    return;
  }
  if (ticket.status().code() == StatusCode::kInvalidArgument) {
    spdlog::warn("msg=\"provider refused refund\" tenant={} refund={} error=\"{}\"", tenant.get(), id,
                 ticket.status().message());
    commands::CompleteRefund failed;
    failed.refund = id;
    failed.failed = true;
    failed.reason = ticket.status().message().substr(0, 500);
    if (Record(tenant, failed)) retries_.erase(key);
    return;
  }
  Retry& r = retries_[key];
  ++r.attempts;
  const auto wait = std::min<std::chrono::seconds>(options_.max_backoff,
                                                   std::chrono::seconds(1LL << std::min(r.attempts - 1, 16)));
  r.next = now + wait;
  spdlog::warn("msg=\"refund not submitted, will retry\" tenant={} refund={} attempt={} error=\"{}\"",
               tenant.get(), id, r.attempts, ticket.status().ToString());
}

}  // namespace saalbuch::integrations
