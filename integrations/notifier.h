// Notifications: e-mails to bookers about their bookings, delivered over
// SMTP (libcurl) from the outbox projection.
//
// The outbox (projections/) lists one notification per booking event of a
// booking that carries contact data: received, held, confirmed, approved,
// rejected, cancelled, rescheduled, expired, and an "expiring" reminder due
// when three quarters of a hold have passed. The notifier opens the
// booker's contact with the vault (e-mail, name, language, manage token),
// writes the mail in German or English with the manage link, sends it, and
// then records NotificationSent in the log, which removes it from the
// outbox: nothing is sent twice after a restart. A crash between the SMTP
// server's acceptance and that record can send one mail twice; its
// Message-ID is the same both times, so mail systems can drop the copy.
// Failed deliveries are retried with exponential backoff (1 s … 5 min).
//
// Threading: one thread of its own; SMTP never runs on HTTP or writer threads.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "commands/bus.h"
#include "ledger/log.h"
#include "ledger/vault.h"
#include "projections/runner.h"

namespace saalbuch::integrations {

struct NotifierOptions {
  std::string smtp_url;            // smtp://host:port or smtps://…; empty: no delivery
  bool starttls = false;           // require STARTTLS on smtp://
  std::string username, password;  // SMTP AUTH, when set
  std::string from = "Saalbuch <noreply@saalbuch.invalid>";
  std::string public_url = "http://127.0.0.1:8080";  // base of links in mails
  std::chrono::milliseconds poll{1000};
  std::chrono::seconds max_backoff{300};
  long timeout_seconds = 20;
};

// One rendered e-mail.
struct Mail {
  std::string to;
  std::string subject;
  std::string body;
};

// The mail for notification `kind` of `booking` (a bookings-projection
// document) to `contact` ({name, email, language, manage_token}).
Mail RenderMail(const std::string& kind, const TenantId& tenant, const std::string& tenant_name,
                const nlohmann::json& booking, const nlohmann::json& contact, const std::string& public_url);

class Notifier {
 public:
  // None of the references is owned; all must outlive the Notifier.
  Notifier(commands::CommandBus& bus, const projections::Runner& runner, const ledger::Log& log,
           const ledger::Vault& vault, prometheus::Registry& registry, NotifierOptions options);
  ~Notifier();  // calls Stop()
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void Start();
  void Stop();

 private:
  struct Retry {
    int attempts = 0;
    std::chrono::steady_clock::time_point next;
  };
  void Loop();
  void Deliver(const TenantId& tenant, const nlohmann::json& entry);
  bool Record(const TenantId& tenant, const nlohmann::json& entry, const std::string& kind);
  std::string Send(const Mail& mail, const std::string& message_id);  // empty: sent; else the error

  commands::CommandBus& bus_;
  const projections::Runner& runner_;
  const ledger::Log& log_;
  const ledger::Vault& vault_;
  NotifierOptions options_;
  prometheus::Family<prometheus::Counter>& deliveries_;
  std::map<std::string, Retry> retries_;  // notifier thread only

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace saalbuch::integrations
