#include "integrations/notifier.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <future>
#include <mutex>

#include "common/crypto.h"
#include "common/time.h"

namespace saalbuch::integrations {

using nlohmann::json;

namespace {

struct Text {
  const char* subject;
  const char* intro;
};

// Subject and first sentence per kind, German and English.
Text Template(const std::string& kind, bool german) {
  struct Row {
    const char* kind;
    Text de, en;
  };
  static const Row kRows[] = {
      {"received",
       {"Ihre Buchungsanfrage %s ist eingegangen",
        "wir haben Ihre Buchungsanfrage erhalten. Sie wird geprüft; "
        "Sie hören von uns, sobald sie entschieden ist."},
       {"We received your booking request %s",
        "we received your booking request. It will be reviewed; you will "
        "hear from us as soon as it is decided."}},
      {"held",
       {"Ihre Buchung %s ist vorgemerkt",
        "Ihre Buchung ist vorgemerkt. Sie wird erst mit der Bestätigung "
        "verbindlich und verfällt sonst zum unten genannten Zeitpunkt."},
       {"Your booking %s is on hold",
        "your booking is on hold. It becomes binding once confirmed and "
        "otherwise expires at the time given below."}},
      {"confirmed",
       {"Ihre Buchung %s ist bestätigt", "Ihre Buchung ist bestätigt."},
       {"Your booking %s is confirmed", "your booking is confirmed."}},
      {"approved",
       {"Ihre Buchungsanfrage %s wurde angenommen", "Ihre Buchungsanfrage wurde angenommen."},
       {"Your booking request %s was approved", "your booking request was approved."}},
      {"rejected",
       {"Ihre Buchungsanfrage %s wurde abgelehnt", "Ihre Buchungsanfrage wurde leider abgelehnt."},
       {"Your booking request %s was declined", "unfortunately your booking request was declined."}},
      {"cancelled",
       {"Ihre Buchung %s wurde storniert", "Ihre Buchung wurde storniert."},
       {"Your booking %s was cancelled", "your booking was cancelled."}},
      {"rescheduled",
       {"Ihre Buchung %s wurde verlegt", "Ihre Buchung wurde auf die unten genannte Zeit verlegt."},
       {"Your booking %s was moved", "your booking was moved to the time below."}},
      {"expiring",
       {"Ihre Vormerkung %s läuft bald ab",
        "Ihre Vormerkung läuft bald ab. Bitte bestätigen Sie sie "
        "rechtzeitig, sonst wird der Termin wieder freigegeben."},
       {"Your hold %s expires soon",
        "your hold expires soon. Please confirm it in time, or the slot will be "
        "released."}},
      {"expired",
       {"Ihre Vormerkung %s ist abgelaufen", "Ihre Vormerkung ist abgelaufen; der Termin ist wieder frei."},
       {"Your hold %s has expired", "your hold has expired; the slot has been released."}},
  };
  for (const auto& r : kRows) {
    if (kind == r.kind) return german ? r.de : r.en;
  }
  return german ? kRows[2].de : kRows[2].en;
}

std::string Format(const char* pattern, const std::string& arg) {
  std::string out(pattern);
  if (auto at = out.find("%s"); at != std::string::npos) out.replace(at, 2, arg);
  return out;
}

// RFC 2047 for non-ASCII header text.
std::string EncodedWord(const std::string& text) {
  const bool ascii = std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  return ascii ? text : "=?UTF-8?B?" + Base64Encode(text) + "?=";
}

// "Name <a@b>" → "<a@b>"; "a@b" → "<a@b>".
std::string Address(const std::string& from) {
  auto lt = from.find('<');
  return lt == std::string::npos ? "<" + from + ">" : from.substr(lt);
}

std::string RfcDate(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

struct Upload {
  std::string data;
  std::size_t offset = 0;
};

std::size_t ReadPayload(char* out, std::size_t size, std::size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  const std::size_t left = u->data.size() - u->offset;
  const std::size_t take = std::min(left, size * n);
  std::memcpy(out, u->data.data() + u->offset, take);
  u->offset += take;
  return take;
}

}  // namespace

Mail RenderMail(const std::string& kind, const TenantId& tenant, const std::string& tenant_name,
                const json& booking, const json& contact, const std::string& public_url) {
  const bool german = contact.value("language", "de") != "en";
  const Text text = Template(kind, german);
  const std::string number = booking.value("number", "");
  const std::string name = contact.value("name", "");
  const std::string id = booking.value("id", "");
  const std::string token = contact.value("manage_token", "");
  const std::string base = public_url + "/v1/tenants/" + tenant.get() + "/bookings/" + id;
  Mail m;
  m.to = contact.value("email", "");
  m.subject = Format(text.subject, number);
  std::string b;
  b += german ? (name.empty() ? "Guten Tag," : "Guten Tag " + name + ",")
              : (name.empty() ? "Hello," : "Hello " + name + ",");
  b += "\n\n";
  std::string intro = text.intro;
  intro[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(intro[0])));  // ASCII first letters
  b += intro;
  b += "\n\n";
  b += (german ? "Buchung:  " : "Booking:  ") + number + "\n";
  b += (german ? "Anbieter: " : "Provider: ") + tenant_name + "\n";
  b += (german ? "Ressource: " : "Resource: ") + booking.value("resource", "") + "\n";
  b += (german ? "Zeit:     " : "Time:     ") + booking.value("start_local", "") + " – " +
       booking.value("end_local", "") + " (" + booking.value("time_zone", "") + ")\n";
  b += "Status:   " + booking.value("status", "") + "\n";
  if (booking.contains("hold_until") && (kind == "held" || kind == "expiring" || kind == "approved")) {
    b += (german ? "Vorgemerkt bis: " : "Held until: ") + booking.value("hold_until", "") + " (UTC)\n";
  }
  if (!token.empty()) {
    b += "\n";
    b += german ? "Ihre Buchung ansehen oder stornieren:\n" : "See or cancel your booking:\n";
    b += base + "?token=" + token + "\n";
    b += german ? "Kalendereintrag (.ics):\n" : "Calendar entry (.ics):\n";
    b += base + "/calendar.ics?token=" + token + "\n";
  }
  b +=
      german ? "\nDiese Nachricht wurde automatisch erstellt.\n" : "\nThis message was sent automatically.\n";
  m.body = std::move(b);
  return m;
}

Notifier::Notifier(commands::CommandBus& bus, const projections::Runner& runner, const ledger::Log& log,
                   const ledger::Vault& vault, prometheus::Registry& registry, NotifierOptions options)
    : bus_(bus),
      runner_(runner),
      log_(log),
      vault_(vault),
      options_(std::move(options)),
      deliveries_(prometheus::BuildCounter()
                      .Name("saalbuch_notifications_total")
                      .Help("Notification deliveries by result (sent, failed attempt, skipped)")
                      .Register(registry)) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Notifier::~Notifier() { Stop(); }

void Notifier::Start() {
  if (options_.smtp_url.empty() || thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void Notifier::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Notifier::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    const TimeUs now = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    for (const TenantId& t : log_.Tenants()) {
      auto due = projections::QueryOutbox(runner_.view(), t, now, 100);
      if (!due.ok()) {
        spdlog::error("msg=\"outbox unreadable\" tenant={} error=\"{}\"", t.get(), due.status().ToString());
        continue;
      }
      for (const auto& entry : *due) {
        {
          std::lock_guard stop(mu_);
          if (stopping_) return;
        }
        Deliver(t, entry);
      }
    }
    lock.lock();
    cv_.wait_for(lock, options_.poll, [this] { return stopping_; });
  }
}

bool Notifier::Record(const TenantId& tenant, const json& entry, const std::string& kind) {
  commands::Submission s;
  s.ctx.tenant = tenant;
  s.ctx.actor = "system";
  s.ctx.command_id = "cmd_" + RandomHex(8);
  s.ctx.correlation_id = "notifier";
  s.command =
      commands::RecordNotification{entry.value("id", ""), BookingId(entry.value("booking", "")), kind};
  const commands::Outcome o = bus_.SubmitAndWait(std::move(s));
  if (o.kind != commands::Outcome::Kind::kOk && o.kind != commands::Outcome::Kind::kCreated) {
    spdlog::warn("msg=\"notification not recorded\" tenant={} id={} body={}", tenant.get(),
                 entry.value("id", ""), o.body.dump());
    return false;
  }
  return true;
}

void Notifier::Deliver(const TenantId& tenant, const json& entry) {
  const std::string id = entry.value("id", "");
  const std::string key = tenant.get() + "/" + id;
  const auto now = std::chrono::steady_clock::now();
  if (auto r = retries_.find(key); r != retries_.end() && now < r->second.next) return;
  const std::string kind = entry.value("kind", "");
  auto skip = [&](const char* why) {
    deliveries_.Add({{"result", "skipped"}}).Increment();
    spdlog::info("msg=\"notification skipped\" tenant={} id={} reason=\"{}\"", tenant.get(), id, why);
    if (Record(tenant, entry, "skipped-" + kind)) retries_.erase(key);
  };
  auto booking = projections::QueryBooking(runner_.view(), tenant, BookingId(entry.value("booking", "")));
  if (!booking.ok()) return skip("booking not readable");
  const json& doc = booking->doc;
  if (kind == "expiring" && doc.value("status", "") != "held") return skip("no longer held");
  const std::string sealed = FromHex(doc.value("personal_sealed", "")).value_or("");
  auto plain = vault_.Open(tenant, doc.value("person", ""), sealed);
  if (!plain.ok()) return;  // storage trouble: try again next round
  if (!plain->has_value()) return skip("contact erased");
  json contact = json::parse(**plain, nullptr, false);
  if (!contact.is_object() || contact.value("email", "").empty()) return skip("no e-mail address");
  auto tenant_doc = projections::QueryTenant(runner_.view(), tenant);
  const std::string tenant_name = tenant_doc.ok() ? tenant_doc->value("name", tenant.get()) : tenant.get();
  const Mail mail = RenderMail(kind, tenant, tenant_name, doc, contact, options_.public_url);
  const std::string error =
      Send(mail, "<" + id + "." + doc.value("id", "") + "." + tenant.get() + "@saalbuch>");
  if (!error.empty()) {
    Retry& r = retries_[key];
    ++r.attempts;
    const auto wait = std::min<std::chrono::seconds>(
        options_.max_backoff, std::chrono::seconds(1LL << std::min(r.attempts - 1, 16)));
    r.next = now + wait;
    deliveries_.Add({{"result", "failed"}}).Increment();
    spdlog::warn(
        "msg=\"notification failed; will retry\" tenant={} id={} attempts={} retry_in_s={} error=\"{}\"",
        tenant.get(), id, r.attempts, wait.count(), error);
    return;
  }
  deliveries_.Add({{"result", "sent"}}).Increment();
  if (Record(tenant, entry, kind)) retries_.erase(key);
}

std::string Notifier::Send(const Mail& mail, const std::string& message_id) {
  std::string msg;
  msg += "Date: " + RfcDate(std::time(nullptr)) + "\r\n";
  msg += "From: " + options_.from + "\r\n";
  msg += "To: <" + mail.to + ">\r\n";
  msg += "Message-ID: " + message_id + "\r\n";
  msg += "Subject: " + EncodedWord(mail.subject) + "\r\n";
  msg +=
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: "
      "8bit\r\n\r\n";
  for (std::size_t pos = 0; pos < mail.body.size();) {
    auto nl = mail.body.find('\n', pos);
    if (nl == std::string::npos) nl = mail.body.size();
    std::string line = mail.body.substr(pos, nl - pos);
    if (!line.empty() && line[0] == '.') line.insert(0, ".");  // dot-stuffing (curl does it too; harmless)
    msg += line + "\r\n";
    pos = nl + 1;
  }
  Upload upload{std::move(msg), 0};
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return "curl_easy_init failed";
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + mail.to + ">").c_str());
  const std::string from = Address(options_.from);
  curl_easy_setopt(curl, CURLOPT_URL, options_.smtp_url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadPayload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, options_.timeout_seconds);
  if (options_.starttls) curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!options_.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.password.c_str());
  }
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  return rc == CURLE_OK ? std::string() : std::string(curl_easy_strerror(rc));
}

}  // namespace saalbuch::integrations
