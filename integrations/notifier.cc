#include "integrations/notifier.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <future>
#include <mutex>
#include <utility>
#include <vector>

#include "common/crypto.h"
#include "common/money.h"
#include "common/thread_name.h"
#include "common/time.h"
#include "formats/dates.h"
#include "formats/html.h"

namespace saalbuch::integrations {

using nlohmann::json;

namespace {

using formats::HtmlEscape;

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
        "Wir haben Ihre Buchungsanfrage erhalten. Sie wird geprüft; "
        "Sie hören von uns, sobald sie entschieden ist."},
       {"We received your booking request %s",
        "We received your booking request. It will be reviewed; you will "
        "hear from us as soon as it is decided."}},
      {"held",
       {"Ihre Buchung %s ist vorgemerkt",
        "Ihre Buchung ist vorgemerkt. Sie wird erst mit der Bestätigung "
        "verbindlich und verfällt sonst zum unten genannten Zeitpunkt."},
       {"Your booking %s is on hold",
        "Your booking is on hold. It becomes binding once confirmed and "
        "otherwise expires at the time given below."}},
      {"confirmed",
       {"Ihre Buchung %s ist bestätigt", "Ihre Buchung ist bestätigt."},
       {"Your booking %s is confirmed", "Your booking is confirmed."}},
      {"approved",
       {"Ihre Buchungsanfrage %s wurde angenommen", "Ihre Buchungsanfrage wurde angenommen."},
       {"Your booking request %s was approved", "Your booking request was approved."}},
      {"rejected",
       {"Ihre Buchungsanfrage %s wurde abgelehnt", "Ihre Buchungsanfrage wurde leider abgelehnt."},
       {"Your booking request %s was declined", "Unfortunately your booking request was declined."}},
      {"cancelled",
       {"Ihre Buchung %s wurde storniert", "Ihre Buchung wurde storniert."},
       {"Your booking %s was cancelled", "Your booking was cancelled."}},
      {"rescheduled",
       {"Ihre Buchung %s wurde verlegt", "Ihre Buchung wurde auf die unten genannte Zeit verlegt."},
       {"Your booking %s was moved", "Your booking was moved to the time below."}},
      {"expiring",
       {"Ihre Vormerkung %s läuft bald ab",
        "Ihre Vormerkung läuft bald ab. Bitte bestätigen Sie sie "
        "rechtzeitig, sonst wird der Termin wieder freigegeben."},
       {"Your hold %s expires soon",
        "Your hold expires soon. Please confirm it in time, or the slot will be "
        "released."}},
      {"door",
       {"Ihr Türcode für die Buchung %s",
        "Mit diesem Code öffnen Sie die Tür in der unten genannten Zeit. Geben Sie ihn nicht weiter."},
       {"Your door code for booking %s",
        "This code opens the door during the time given below. Please do not pass it on."}},
      {"expired",
       {"Ihre Vormerkung %s ist abgelaufen", "Ihre Vormerkung ist abgelaufen; der Termin ist wieder frei."},
       {"Your hold %s has expired", "Your hold has expired; the slot has been released."}},
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

// A booking's status in words.
std::string StatusWords(const std::string& status, bool german) {
  struct Row {
    const char* status;
    const char* de;
    const char* en;
  };
  static const Row kRows[] = {
      {"requested", "angefragt (wartet auf Entscheidung)", "requested (awaiting a decision)"},
      {"held", "vorgemerkt", "on hold"},
      {"confirmed", "bestätigt", "confirmed"},
      {"completed", "abgeschlossen", "completed"},
      {"no_show", "nicht wahrgenommen", "not attended"},
      {"rejected", "abgelehnt", "declined"},
      {"cancelled", "storniert", "cancelled"},
      {"expired", "abgelaufen", "expired"},
  };
  for (const auto& r : kRows) {
    if (status == r.status) return german ? r.de : r.en;
  }
  return german ? "unbekannt" : "unknown";
}

// 13500 EUR → "135,00 €" (German) or "€135.00" (English).
std::string Amount(std::int64_t minor, const std::string& currency, bool german) {
  if (german) return FormatDecimalDe(minor) + (currency == "EUR" ? " €" : " " + currency);
  if (currency == "EUR") return minor < 0 ? "-€" + FormatDecimal(-minor) : "€" + FormatDecimal(minor);
  return FormatDecimal(minor) + " " + currency;
}

// Control characters (CR, LF, tabs, …) in text from outside become spaces.
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return s;
}

bool IsAscii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// Joins `tokens` with single spaces after "name: ", folding (CRLF + space)
// before a token that would take the line beyond 78 characters.
std::string Fold(const std::string& name, const std::vector<std::string>& tokens) {
  constexpr std::size_t kMaxLine = 78;
  std::string out = name + ":";
  std::size_t line = out.size();
  for (const auto& t : tokens) {
    if (line + 1 + t.size() > kMaxLine && line > 1) {
      out += "\r\n";
      line = 0;
    }
    out += " " + t;
    line += 1 + t.size();
  }
  return out;
}

// `text` as RFC 2047 encoded words ("=?UTF-8?B?…?="), each of at most 42
// bytes of whole UTF-8 characters: 68 characters per word, so that even
// "Subject: " and one word fit in 78.
std::vector<std::string> EncodedWords(const std::string& text) {
  constexpr std::size_t kMaxBytes = 42;
  std::vector<std::string> words;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t n = std::min(kMaxBytes, text.size() - pos);
    // Never split a character: back off continuation bytes (10xxxxxx).
    while (n > 0 && pos + n < text.size() && (static_cast<unsigned char>(text[pos + n]) & 0xC0) == 0x80) --n;
    if (n == 0) n = std::min(kMaxBytes, text.size() - pos);  // not UTF-8; split anyway
    words.push_back("=?UTF-8?B?" + Base64Encode(text.substr(pos, n)) + "?=");
    pos += n;
  }
  return words;
}

std::vector<std::string> SplitSpaces(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto sp = text.find(' ', pos);
    if (sp == std::string::npos) sp = text.size();
    if (sp > pos) out.push_back(text.substr(pos, sp - pos));
    pos = sp + 1;
  }
  return out;
}

// A display name as phrase tokens: atoms, a quoted string, or encoded words.
std::vector<std::string> Phrase(const std::string& display) {
  if (display.empty()) return {};
  if (!IsAscii(display)) return EncodedWords(display);
  if (display.find_first_of("()<>[]:;@\\,.\"") == std::string::npos) return SplitSpaces(display);
  std::string quoted = "\"";
  for (char c : display) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return {quoted + "\""};
}

// "Name <a@b>" → {"Name", "a@b"}; "a@b" → {"", "a@b"}.
std::pair<std::string, std::string> SplitMailbox(const std::string& mailbox) {
  const auto lt = mailbox.find('<');
  const auto gt = mailbox.find('>', lt == std::string::npos ? 0 : lt);
  if (lt == std::string::npos || gt == std::string::npos) return {"", mailbox};
  std::string name = mailbox.substr(0, lt);
  while (!name.empty() && name.back() == ' ') name.pop_back();
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
  return {name, mailbox.substr(lt + 1, gt - lt - 1)};
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

std::string UnstructuredHeader(const std::string& name, const std::string& value) {
  const std::string v = OneLine(value);
  return Fold(name, IsAscii(v) ? SplitSpaces(v) : EncodedWords(v));
}

std::string MailboxHeader(const std::string& name, const std::string& display, const std::string& address) {
  std::vector<std::string> tokens = Phrase(OneLine(display));
  tokens.push_back("<" + OneLine(address) + ">");
  return Fold(name, tokens);
}

std::string QuotedPrintable(const std::string& text) {
  constexpr std::size_t kMaxLine = 76;
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string_view line(text.data() + pos, nl - pos);
    std::string cur;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      const bool last = i + 1 == line.size();
      std::string piece;
      // A leading '.' is encoded too, so no line needs SMTP dot-stuffing.
      if ((c >= 33 && c <= 126 && c != '=' && !(c == '.' && cur.empty())) ||
          ((c == ' ' || c == '\t') && !last)) {
        piece = std::string(1, static_cast<char>(c));
      } else {
        piece = {'=', kHex[c >> 4], kHex[c & 15]};
      }
      // Soft line break ("=") so that no encoded line is longer than 76.
      if (cur.size() + piece.size() > kMaxLine - 1) {
        out += cur + "=\r\n";
        cur.clear();
        if (piece == ".") piece = "=2E";
      }
      cur += piece;
    }
    out += cur;
    if (nl == text.size()) break;
    out += "\r\n";
    pos = nl + 1;
  }
  return out;
}

Mail RenderMail(const json& entry, const TenantId& tenant, const json& contact,
                const std::string& public_url) {
  const bool german = contact.value("language", "de") != "en";
  const auto language = german ? formats::Language::kGerman : formats::Language::kEnglish;
  const std::string kind = entry.value("kind", "");
  const json facts = entry.value("mail", json::object());
  const Text text = Template(kind, german);
  const std::string number = facts.value("number", "");
  const std::string name = OneLine(contact.value("name", ""));
  const std::string booking = facts.value("booking", entry.value("booking", ""));
  const std::string token = contact.value("manage_token", "");
  const Zone* zone = FindZone(facts.value("zone", "UTC"));
  if (zone == nullptr) zone = UtcZone();

  // The facts as label/value rows, the same in both parts.
  std::vector<std::pair<std::string, std::string>> rows;
  rows.emplace_back(german ? "Buchung" : "Booking", number);
  rows.emplace_back(german ? "Anbieter" : "Provider", facts.value("tenant_name", tenant.get()));
  rows.emplace_back(german ? "Ressource" : "Resource",
                    facts.value("resource_name", facts.value("resource", "")));
  rows.emplace_back(german ? "Zeit" : "Time",
                    formats::FormatTimeRange(facts.value("start", TimeUs{0}), facts.value("end", TimeUs{0}),
                                             zone, language));
  if (facts.value("units", 1) > 1) {
    rows.emplace_back(german ? "Anzahl" : "Quantity", std::to_string(facts.value("units", 1)));
  }
  const std::string status = kind == "expiring" ? "held" : facts.value("status", "");
  rows.emplace_back("Status", StatusWords(status, german));
  if (status == "held" && facts.contains("hold_until")) {
    rows.emplace_back(german ? "Vorgemerkt bis" : "Held until",
                      formats::FormatDateTime(facts.value("hold_until", TimeUs{0}), zone, language));
  }
  // A door code (kind "door"; Deliver opened it into "door_code").
  if (facts.contains("door") && facts.contains("door_code")) {
    const json& d = facts["door"];
    rows.emplace_back(german ? "Türcode" : "Door code", facts.value("door_code", ""));
    rows.emplace_back(
        german ? "Gültig" : "Valid",
        formats::FormatTimeRange(d.value("from", TimeUs{0}), d.value("to", TimeUs{0}), zone, language));
  }
  // Money, as of the event: the invoice, a cancellation's fee, what goes
  // back, what is still open.
  std::vector<std::string> notes;
  if (facts.contains("money")) {
    const json& m = facts["money"];
    const std::string cur = m.value("currency", "EUR");
    const auto gross = m.value("gross", std::int64_t{0});
    const auto owed = m.value("owed", std::int64_t{0});
    const auto paid = m.value("paid", std::int64_t{0});
    const auto open = m.value("open", std::int64_t{0});
    const auto refund = m.value("refund", std::int64_t{0});
    rows.emplace_back(german ? "Rechnung" : "Invoice",
                      m.value("number", "") + " (" + Amount(gross, cur, german) + ")");
    if (kind == "cancelled") {
      rows.emplace_back(german ? "Stornogebühr" : "Cancellation fee", Amount(owed, cur, german));
    }
    if (paid > 0) rows.emplace_back(german ? "Bezahlt" : "Paid", Amount(paid, cur, german));
    if (refund > 0) {
      rows.emplace_back(german ? "Erstattung" : "Refund", Amount(refund, cur, german));
      notes.push_back(german ? "Wir erstatten " + Amount(refund, cur, german) +
                                   " auf dem Weg, auf dem Sie bezahlt haben."
                             : "We refund " + Amount(refund, cur, german) + " the way you paid.");
    }
    if (open > 0) {
      rows.emplace_back(german ? "Offen" : "Open", Amount(open, cur, german));
      notes.push_back(german ? "Offen sind noch " + Amount(open, cur, german) +
                                   ". Sie können den Betrag über den Link unten bezahlen."
                             : Amount(open, cur, german) +
                                   " is still open. You can pay it through the link below.");
    }
  }
  const std::string base = public_url + "/v1/tenants/" + tenant.get() + "/bookings/" + booking;
  const std::string manage = public_url + "/manage/" + tenant.get() + "/" + booking + "#token=" + token;
  const std::string ics = base + "/calendar.ics?token=" + token;
  const std::string greeting = german ? (name.empty() ? "Guten Tag," : "Guten Tag " + name + ",")
                                      : (name.empty() ? "Hello," : "Hello " + name + ",");
  const std::string manage_label =
      german ? "Ihre Buchung ansehen, bezahlen oder stornieren:" : "See, pay for or cancel your booking:";
  const std::string ics_label = german ? "Kalendereintrag (.ics):" : "Calendar entry (.ics):";
  const std::string footer =
      german ? "Diese Nachricht wurde automatisch erstellt." : "This message was sent automatically.";

  Mail mail;
  mail.to = OneLine(contact.value("email", ""));
  mail.to_name = name;
  mail.subject = Format(text.subject, number);

  // Values aligned in a column; labels are counted in characters, not bytes.
  auto chars = [](const std::string& s) {
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
  };
  std::size_t width = 0;
  for (const auto& [label, value] : rows) width = std::max(width, chars(label));
  std::string& t = mail.text;
  t += greeting + "\n\n" + text.intro + "\n\n";
  for (const auto& [label, value] : rows) {
    t += label;
    t += ':';
    t.append(width - chars(label) + 1, ' ');
    t += value;
    t += '\n';
  }
  for (const auto& n : notes) t += "\n" + n + "\n";
  if (!token.empty()) {
    t += "\n" + manage_label + "\n" + manage + "\n\n" + ics_label + "\n" + ics + "\n";
  }
  t += "\n" + footer + "\n";

  std::string& h = mail.html;
  h += "<!DOCTYPE html>\n<html lang=\"" + std::string(german ? "de" : "en") + "\">\n<head>\n";
  h += "<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>" + HtmlEscape(mail.subject) + "</title>\n</head>\n<body>\n";
  h += "<p>" + HtmlEscape(greeting) + "</p>\n<p>" + HtmlEscape(text.intro) + "</p>\n";
  h += "<table>\n<caption>" + std::string(german ? "Ihre Buchung" : "Your booking") + "</caption>\n";
  for (const auto& [label, value] : rows) {
    h += "<tr><th scope=\"row\" style=\"text-align:left;padding-right:1em\">" + HtmlEscape(label) +
         "</th><td>" + HtmlEscape(value) + "</td></tr>\n";
  }
  h += "</table>\n";
  for (const auto& n : notes) h += "<p>" + HtmlEscape(n) + "</p>\n";
  if (!token.empty()) {
    h += "<p><a href=\"" + HtmlEscape(manage) + "\">" +
         HtmlEscape(german ? "Ihre Buchung ansehen, bezahlen oder stornieren"
                           : "See, pay for or cancel your booking") +
         "</a></p>\n";
    h += "<p><a href=\"" + HtmlEscape(ics) + "\">" +
         HtmlEscape(german ? "Kalendereintrag (.ics)" : "Calendar entry (.ics)") + "</a></p>\n";
  }
  h += "<p>" + HtmlEscape(footer) + "</p>\n</body>\n</html>\n";
  return mail;
}

Mail RenderInvitation(const json& entry, const TenantId& tenant, const json& person,
                      const std::string& public_url) {
  const json facts = entry.value("mail", json::object());
  const std::string tenant_name = OneLine(facts.value("tenant_name", tenant.get()));
  const std::string name = OneLine(person.value("name", ""));
  const std::map<std::string, std::string> roles = {{"admin", "Verwaltung"},
                                                    {"staff", "Sachbearbeitung"},
                                                    {"finance", "Kasse und Finanzen"},
                                                    {"auditor", "Prüfung"}};
  const auto role = roles.find(facts.value("role", ""));
  const Zone* zone = FindZone(facts.value("zone", "UTC"));
  if (zone == nullptr) zone = UtcZone();
  const std::string until =
      formats::FormatDateTime(facts.value("expires", TimeUs{0}), zone, formats::Language::kGerman);
  const std::string link =
      public_url + BackOfficePath(tenant) + "/join#token=" + person.value("invite_token", "");
  const std::string greeting = name.empty() ? "Guten Tag," : "Guten Tag " + name + ",";
  const std::string intro =
      tenant == OperatorTenant()
          ? "Sie sind eingeladen, den Saalbuch-Server " + public_url +
                " zu betreiben (Betriebskonto). Bitte legen Sie mit diesem Link Ihr Passwort fest:"
          : "Sie sind eingeladen, in der Verwaltung von " + tenant_name +
                " mit Saalbuch zu arbeiten (Rolle: " +
                (role == roles.end() ? facts.value("role", "") : role->second) +
                "). Bitte legen Sie mit diesem Link Ihr Passwort fest:";
  const std::string note = "Der Link gilt bis " + until +
                           " und nur einmal. Wenn Sie mit dieser Einladung nichts anfangen können, "
                           "ignorieren Sie diese E-Mail einfach.";
  Mail mail;
  mail.to = person.value("email", "");
  mail.to_name = name;
  mail.subject = tenant == OperatorTenant() ? std::string("Einladung in den Betrieb von Saalbuch")
                                            : "Einladung in die Verwaltung von " + tenant_name;
  mail.text = greeting + "\n\n" + intro + "\n\n" + link + "\n\n" + note + "\n";
  mail.html = "<!doctype html>\n<html lang=\"de\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
              HtmlEscape(mail.subject) + "</title>\n</head>\n<body>\n<p>" + HtmlEscape(greeting) +
              "</p>\n<p>" + HtmlEscape(intro) + "</p>\n<p><a href=\"" + HtmlEscape(link) +
              "\">Passwort festlegen</a></p>\n<p>" + HtmlEscape(note) + "</p>\n</body>\n</html>\n";
  return mail;
}

std::string ComposeMessage(const Mail& mail, const std::string& from, const std::string& message_id,
                           std::time_t date) {
  // "=_" never occurs in quoted-printable text, so the boundary cannot
  // occur in either part.
  const std::string boundary = "=_saalbuch_" + ToHex(Sha256Of(message_id)).substr(0, 24);
  const auto [from_name, from_address] = SplitMailbox(from);
  std::string msg;
  msg += "Date: " + RfcDate(date) + "\r\n";
  msg += MailboxHeader("From", from_name, from_address) + "\r\n";
  msg += MailboxHeader("To", mail.to_name, mail.to) + "\r\n";
  msg += UnstructuredHeader("Subject", mail.subject) + "\r\n";
  msg += "Message-ID: " + OneLine(message_id) + "\r\n";
  msg += "MIME-Version: 1.0\r\n";
  msg += "Auto-Submitted: auto-generated\r\n";
  msg += "Content-Type: multipart/alternative;\r\n boundary=\"" + boundary + "\"\r\n";
  msg += "\r\nThis is a message in MIME format.\r\n";
  auto part = [&](const char* type, const std::string& body) {
    msg += "\r\n--" + boundary + "\r\n";
    msg += std::string("Content-Type: ") + type + "; charset=UTF-8\r\n";
    msg += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    msg += QuotedPrintable(body);
  };
  part("text/plain", mail.text);
  part("text/html", mail.html);
  msg += "\r\n--" + boundary + "--\r\n";
  return msg;
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
  thread_ = std::thread([this] {
    NameThisThread("sb-notifier");
    Loop();
  });
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
      // Records of one command are contiguous in the log, and the runner may
      // publish a position inside a command. An entry is complete once the
      // record after the published position belongs to another command.
      const Seq folded = runner_.Position(t);
      std::string next_command;
      std::vector<ledger::Record> next;
      if (log_.Read(t, folded + 1, 1, &next).ok() && !next.empty()) {
        const schema::Envelope* env = ledger::DecodeEnvelope(next.front().bytes);
        if (env != nullptr && env->command_id() != nullptr) next_command = env->command_id()->str();
      }
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
        if (entry.value("seq", Seq{0}) > folded) continue;  // folded after we looked: next round
        if (!next_command.empty() && entry.value("cmd", "") == next_command)
          continue;  // command not whole yet
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
  s.command = commands::RecordNotification{entry.value("id", ""), BookingId(entry.value("booking", "")), kind,
                                           entry.value("account", "")};
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
  if (!entry.contains("mail")) return skip("entry without mail facts");
  Mail mail;
  std::string message_id;
  if (kind == "invitation") {
    // The entry names the invitee's sealed data (e-mail, name, token).
    const json& facts = entry["mail"];
    auto plain =
        vault_.Open(tenant, facts.value("person", ""), FromHex(facts.value("personal", "")).value_or(""));
    if (!plain.ok()) return;  // storage trouble: try again next round
    if (!plain->has_value()) return skip("invitee's data erased");
    json person = json::parse(**plain, nullptr, false);
    if (!person.is_object() || person.value("email", "").empty()) return skip("no e-mail address");
    if (person.value("invite_token", "").empty()) return skip("no invitation link");
    mail = RenderInvitation(entry, tenant, person, options_.public_url);
    message_id = "<" + id + "." + entry.value("account", "") + "." + tenant.get() + "@saalbuch>";
  } else {
    // The booking document holds the booker's sealed contact (written once,
    // at placement); what the mail says comes from the entry.
    auto booking = projections::QueryBooking(runner_.view(), tenant, BookingId(entry.value("booking", "")));
    if (!booking.ok()) return skip("booking not readable");
    const json& doc = booking->doc;
    if (kind == "expiring" && doc.value("status", "") != "held") return skip("no longer held");
    if (kind == "door" && doc.value("status", "") != "confirmed") return skip("no longer confirmed");
    const std::string sealed = FromHex(doc.value("personal_sealed", "")).value_or("");
    auto plain = vault_.Open(tenant, doc.value("person", ""), sealed);
    if (!plain.ok()) return;  // storage trouble: try again next round
    if (!plain->has_value()) return skip("contact erased");
    json contact = json::parse(**plain, nullptr, false);
    if (!contact.is_object() || contact.value("email", "").empty()) return skip("no e-mail address");
    if (kind == "door") {
      // The code, sealed like the contact; a code since revoked or replaced
      // has no entry any more (the outbox drops it).
      const json& door = entry["mail"].value("door", json::object());
      auto code = vault_.Open(tenant, door.value("person", ""), FromHex(door.value("code", "")).value_or(""));
      if (!code.ok()) return;
      if (!code->has_value()) return skip("door code erased");
      json with_code = entry;
      with_code["mail"]["door_code"] = **code;
      mail = RenderMail(with_code, tenant, contact, options_.public_url);
    } else {
      mail = RenderMail(entry, tenant, contact, options_.public_url);
    }
    message_id = "<" + id + "." + doc.value("id", "") + "." + tenant.get() + "@saalbuch>";
  }
  const std::string error = Send(mail, message_id);
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
  std::string msg = ComposeMessage(mail, options_.from, message_id, std::time(nullptr));
  Upload upload{std::move(msg), 0};
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return "curl_easy_init failed";
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + mail.to + ">").c_str());
  const std::string from = "<" + SplitMailbox(options_.from).second + ">";
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
