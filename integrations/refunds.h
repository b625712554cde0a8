// Hands requested refunds to the payment provider: the finance projection
// lists them (refunds through the provider, requested and not yet
// submitted); a dispatcher thread calls PaymentProvider::Refund with the
// refund's id as idempotency key, then records RefundSubmitted. The
// provider's webhook later reports the outcome (RefundSettled). A crash
// between the call and the record sends the same request again, which the
// idempotency key turns into the same refund. A refusal by the provider is
// recorded as a failed refund (the money counts as kept again, so finance
// can refund another way); network failures are retried with backoff.
//
// Thread-safety: Start/Stop from one thread; the work runs on its own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "commands/bus.h"
#include "integrations/provider.h"
#include "ledger/log.h"
#include "projections/runner.h"

namespace saalbuch::integrations {

struct RefundDispatcherOptions {
  std::chrono::milliseconds poll{500};    // how often the pending list is read
  std::chrono::seconds max_backoff{300};  // longest wait after network failures
};

class RefundDispatcher {
 public:
  // None of the references is owned; all must outlive the dispatcher.
  RefundDispatcher(commands::CommandBus& bus, const projections::Runner& runner, const ledger::Log& log,
                   PaymentProvider& provider, RefundDispatcherOptions options = {});
  ~RefundDispatcher();  // calls Stop()
  RefundDispatcher(const RefundDispatcher&) = delete;
  RefundDispatcher& operator=(const RefundDispatcher&) = delete;

  void Start();
  void Stop();

 private:
  struct Retry {
    int attempts = 0;
    std::chrono::steady_clock::time_point next;
  };
  void Loop();
  void Dispatch(const TenantId& tenant, const nlohmann::json& pending);
  bool Record(const TenantId& tenant, commands::Command command);

  commands::CommandBus& bus_;
  const projections::Runner& runner_;
  const ledger::Log& log_;
  PaymentProvider& provider_;
  RefundDispatcherOptions options_;
  std::map<std::string, Retry> retries_;  // dispatcher thread only

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace saalbuch::integrations
