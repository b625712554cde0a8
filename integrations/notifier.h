// Notifications: e-mails to bookers about their bookings, delivered over
// SMTP (libcurl) from the outbox projection.
//
// Invitations to the back office go out the same way (RenderInvitation).
//
// The outbox (projections/) lists one notification per booking event of a
// booking that carries contact data: received, held, confirmed, approved,
// rejected, cancelled, rescheduled, expired, and an "expiring" reminder due
// when three quarters of a hold have passed. Each entry carries what its
// mail says as of that event, so a mail sent late still tells the truth of
// its event (a "confirmed" mail sent after a cancellation says confirmed).
// An entry is sent only once the outbox has folded the whole command that
// caused it (a cancellation's fee and refund come in records after it). The
// notifier opens the booker's contact with the vault (e-mail, name,
// language, manage token), writes the mail in German or English with the
// manage link, sends it, and
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
#include <ctime>
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

// One rendered e-mail: a text and an HTML version of the same content.
struct Mail {
  std::string to;       // address
  std::string to_name;  // display name; may be empty
  std::string subject;
  std::string text;  // text/plain, UTF-8, lines end in "\n"
  std::string html;  // text/html, UTF-8, lines end in "\n"
};

// The mail for outbox entry `entry` (projections::QueryOutbox: kind and the
// "mail" facts as of the event that caused it) to `contact` ({name, email,
// language "de"|"en", manage_token}). Times are written in the tenant's zone
// (formats/dates.h), the resource by name, statuses in words, money with
// what is open; the links go to the manage page
// `{public_url}/manage/{tenant}/{booking}#token={manage_token}` (the token in
// the fragment, so it never reaches a server's log) and the booking's .ics.
// Pure: the same entry and contact give the same mail.
Mail RenderMail(const nlohmann::json& entry, const TenantId& tenant, const nlohmann::json& contact,
                const std::string& public_url);

// The invitation to the back office for outbox entry `entry` (kind
// "invitation": tenant name, role, expiry) to the invitee `person` ({email,
// name, invite_token}), in German like the back office: the link
// `{public_url}/admin/{tenant}/join#token=…` (`/betrieb/join…` for the
// operator's own accounts; in the fragment, as above)
// and until when it holds. Pure.
Mail RenderInvitation(const nlohmann::json& entry, const TenantId& tenant, const nlohmann::json& person,
                      const std::string& public_url);

// The message as sent (RFC 5322 with MIME, CRLF line ends): Date,
// From (`from`: "Name <address>" or an address), To, Subject,
// Message-ID, MIME-Version, Auto-Submitted: auto-generated, and a
// multipart/alternative body with text/plain and text/html in UTF-8,
// quoted-printable (readable where the text is ASCII, 7-bit safe, lines
// of at most 76 characters). Header text that is not ASCII is written as
// RFC 2047 encoded words (base64, at most 75 characters each) and every
// header line is folded to at most 78 characters. Control characters in
// names become spaces, so no header can be injected.
std::string ComposeMessage(const Mail& mail, const std::string& from, const std::string& message_id,
                           std::time_t date);

// `name: value` folded as above (no final CRLF); `value` is unstructured
// text (Subject).
std::string UnstructuredHeader(const std::string& name, const std::string& value);
// `name: display <address>` folded as above (no final CRLF); an ASCII
// display name with specials is a quoted string.
std::string MailboxHeader(const std::string& name, const std::string& display, const std::string& address);
// `text` ("\n" line ends) as quoted-printable with CRLF line ends.
std::string QuotedPrintable(const std::string& text);

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
