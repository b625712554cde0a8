// Notification e-mails against a real SMTP server (Debian's python3-aiosmtpd,
// delivering into a maildir): the right mails in the booker's language with
// the manage link, retries while the SMTP server is down, nothing sent twice
// across a kill -9, nothing sent once the person is erased.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>

#include "tests/e2e/harness.h"
#include "tests/support/smtp_server.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

using testing_support::SmtpServer;

int Count(const std::vector<std::string>& mails, const std::string& needle) {
  int n = 0;
  for (const auto& m : mails) n += m.find(needle) != std::string::npos;
  return n;
}

// Every message in `maildir`, read by Python's email package with policy
// strict (a defect is an error): decoded headers, the MIME structure and
// both parts decoded, and the raw header block. Sorted by Message-ID.
json ParseMaildir(const std::filesystem::path& maildir) {
  const std::string script = R"PY(
import email, email.header, email.policy, json, os, sys
out = []
d = os.path.join(sys.argv[1], 'new')
for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
    raw = open(os.path.join(d, f), 'rb').read()
    msg = email.message_from_bytes(raw, policy=email.policy.strict)
    legacy = email.message_from_bytes(raw)
    box = lambda h: {'name': msg[h].addresses[0].display_name, 'address': msg[h].addresses[0].addr_spec}
    parts = list(msg.iter_parts())
    out.append({
      'subject': str(msg['subject']),
      'subject_decoded': str(email.header.make_header(email.header.decode_header(legacy['subject']))),
      'raw_subject': legacy['subject'],
      'from': box('from'), 'to': box('to'),
      'message_id': msg['message-id'], 'auto_submitted': msg['auto-submitted'],
      'type': msg.get_content_type(),
      'parts': [{'type': p.get_content_type(), 'charset': p.get_content_charset(),
                 'cte': p['content-transfer-encoding'],
                 'body': p.get_content().replace('\r\n', '\n')} for p in parts],
      'text': parts[0].get_content().replace('\r\n', '\n') if parts else '',
      'html': parts[1].get_content().replace('\r\n', '\n') if len(parts) > 1 else '',
    })
out.sort(key=lambda m: m['message_id'])
print(json.dumps(out))
)PY";
  const auto script_path = maildir.string() + ".parse.py";
  std::ofstream(script_path) << script;
  const std::string cmd = "python3 " + script_path + " " + maildir.string() + " 2>&1";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    std::array<char, 4096> buf{};
    while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    ::pclose(p);
  }
  json j = json::parse(out, nullptr, false);
  EXPECT_TRUE(j.is_array()) << out;
  return j.is_array() ? j : json::array();
}

// Parsed mails (ParseMaildir) whose subject contains `needle`.
std::vector<json> WithSubject(const json& mails, const std::string& needle) {
  std::vector<json> out;
  for (const auto& m : mails) {
    if (m.value("subject", "").find(needle) != std::string::npos) out.push_back(m);
  }
  return out;
}

class NotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("notify");
    smtp_ = std::make_unique<SmtpServer>(dir_ / "maildir");
    server_ = std::make_unique<Server>(
        dir_ / "data",
        std::vector<std::string>{"--smtp-url", "smtp://127.0.0.1:" + std::to_string(smtp_->port()),
                                 "--smtp-from", "Bürgerhaus <buchung@buergerhaus.example>", "--public-url",
                                 "https://buchen.example"});
  }
  void TearDown() override {
    server_.reset();
    smtp_.reset();
    std::filesystem::remove_all(dir_);
  }
  void MakeTenant() {
    auto t = CallJson(server_->port(), "POST", "/v1/tenants",
                      {{"id", "stadt"}, {"name", "Stadt Musterhausen"}, {"time_zone", "Europe/Berlin"}},
                      kOperatorKey);
    ASSERT_EQ(t.status, 201) << t.body;
    admin_ = t.json()["admin_key"]["key"];
    ASSERT_EQ(CallJson(server_->port(), "POST", "/v1/tenants/stadt/resources",
                       {{"id", "saal"}, {"name", "Großer Saal & <Bühne>"}}, admin_)
                  .status,
              201);
  }
  HttpResult Book(const std::string& start, const std::string& end, const json& contact) {
    return CallJson(server_->port(), "POST", "/v1/tenants/stadt/bookings",
                    {{"resource", "saal"}, {"start", start}, {"end", end}, {"contact", contact}});
  }

  std::filesystem::path dir_;
  std::unique_ptr<SmtpServer> smtp_;
  std::unique_ptr<Server> server_;
  std::string admin_;
};

TEST_F(NotifyTest, MailsInTheBookersLanguageWithTheManageLinkAndRetriesWhileSmtpIsDown) {
  // The SMTP server is down at first: deliveries fail and are retried.
  server_->Start();
  MakeTenant();
  auto de = Book("2027-05-03T10:00:00+02:00", "2027-05-03T12:00:00+02:00",
                 {{"name", "Erika Mustermann"}, {"email", "erika@example.org"}, {"language", "de"}});
  ASSERT_EQ(de.status, 201) << de.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  smtp_->Start();
  auto mails = smtp_->WaitFor(1);
  ASSERT_EQ(mails.size(), 1u);
  json parsed = ParseMaildir(dir_ / "maildir");
  ASSERT_EQ(parsed.size(), 1u);
  const json& m = parsed[0];
  EXPECT_EQ(m["to"]["address"], "erika@example.org") << m;
  EXPECT_EQ(m["to"]["name"], "Erika Mustermann") << m;
  EXPECT_EQ(m["from"]["name"], "Bürgerhaus") << m;  // RFC 2047 in From (issue 19)
  EXPECT_EQ(m["from"]["address"], "buchung@buergerhaus.example") << m;
  const std::string text = m["text"], html = m["html"];
  EXPECT_NE(text.find("Guten Tag Erika Mustermann,"), std::string::npos) << text;
  EXPECT_NE(text.find("Ihre Buchung ist bestätigt."), std::string::npos) << text;
  EXPECT_NE(text.find("Mo., 3. Mai 2027, 10:00–12:00 Uhr"), std::string::npos) << text;
  EXPECT_NE(text.find("Ressource: Großer Saal & <Bühne>"), std::string::npos) << text;
  EXPECT_NE(html.find("<td>Großer Saal &amp; &lt;Bühne&gt;</td>"), std::string::npos) << html;
  const std::string id = de.json()["id"], token = de.json()["manage_token"];
  const std::string manage = "https://buchen.example/manage/stadt/" + id + "#token=" + token;
  EXPECT_NE(text.find(manage), std::string::npos) << text;
  EXPECT_NE(html.find("href=\"" + manage + "\""), std::string::npos) << html;
  // "bestätigt" needs RFC 2047; Python's decoder gives the subject back.
  EXPECT_EQ(m["raw_subject"].get<std::string>().rfind("=?UTF-8?B?", 0), 0u) << m;
  EXPECT_EQ(m["subject_decoded"],
            "Ihre Buchung " + de.json()["number"].get<std::string>() + " ist bestätigt");
  EXPECT_EQ(m["subject"], m["subject_decoded"]);
  EXPECT_EQ(m["auto_submitted"], "auto-generated");

  // English, and a cancellation by the booker: a second mail.
  auto en = Book("2027-05-04T10:00:00+02:00", "2027-05-04T12:00:00+02:00",
                 {{"name", "Jane Doe"}, {"email", "jane@example.org"}, {"language", "en"}});
  ASSERT_EQ(en.status, 201) << en.body;
  ASSERT_EQ(CallJson(server_->port(), "POST",
                     "/v1/tenants/stadt/bookings/" + en.json()["id"].get<std::string>() + "/cancel",
                     json::object(), "", {{"Saalbuch-Manage-Token", en.json()["manage_token"]}})
                .status,
            200);
  mails = smtp_->WaitFor(3);
  ASSERT_EQ(mails.size(), 3u);
  EXPECT_EQ(Count(mails, "Subject: Your booking " + en.json()["number"].get<std::string>() + " is confirmed"),
            1);
  EXPECT_EQ(
      Count(mails, "Subject: Your booking " + en.json()["number"].get<std::string>() + " was cancelled"), 1);
  EXPECT_EQ(Count(mails, "Hello Jane Doe,"), 2);
  parsed = ParseMaildir(dir_ / "maildir");
  const auto cancelled = WithSubject(parsed, "was cancelled");
  ASSERT_EQ(cancelled.size(), 1u);
  EXPECT_NE(cancelled[0]["text"].get<std::string>().find("Tue, 4 May 2027, 10:00 am – 12:00 pm"),
            std::string::npos)
      << cancelled[0]["text"];
  EXPECT_NE(cancelled[0]["text"].get<std::string>().find("Status:   cancelled"), std::string::npos)
      << cancelled[0]["text"];

  // Deliveries are in the booking's history and survive kill -9: no mail twice.
  auto doc = Call(server_->port(), "GET", "/v1/tenants/stadt/bookings/" + id, "",
                  {{"Authorization", "Bearer " + admin_}});
  EXPECT_EQ(doc.json()["history"].back()["event"], "notified") << doc.body;
  server_->Kill();
  server_->Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(smtp_->Messages().size(), 3u);
}

// The issue's bug: a booking confirmed and then cancelled before the
// notifier could deliver. Both mails go out after the cancellation; each
// tells the truth of its own event. Parsed by Python's strict parser:
// multipart/alternative with text/plain and text/html in UTF-8.
TEST_F(NotifyTest, ConfirmedThenCancelledBeforeDeliveryEachMailTrueToItsEvent) {
  server_->Start();  // the SMTP server is down: nothing can be delivered yet
  MakeTenant();
  auto b = Book("2027-01-20T18:00:00+01:00", "2027-01-20T20:00:00+01:00",
                {{"name", "Jürgen Öztürk"}, {"email", "juergen@example.org"}, {"language", "de"}});
  ASSERT_EQ(b.status, 201) << b.body;
  const std::string id = b.json()["id"], token = b.json()["manage_token"], number = b.json()["number"];
  ASSERT_EQ(CallJson(server_->port(), "POST", "/v1/tenants/stadt/bookings/" + id + "/cancel", json::object(),
                     "", {{"Saalbuch-Manage-Token", token}})
                .status,
            200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  smtp_->Start();
  ASSERT_EQ(smtp_->WaitFor(2, std::chrono::seconds(20)).size(), 2u);
  const json mails = ParseMaildir(dir_ / "maildir");
  ASSERT_EQ(mails.size(), 2u);
  const auto confirmed = WithSubject(mails, "Ihre Buchung " + number + " ist bestätigt");
  const auto cancelled = WithSubject(mails, "Ihre Buchung " + number + " wurde storniert");
  ASSERT_EQ(confirmed.size(), 1u) << mails;
  ASSERT_EQ(cancelled.size(), 1u) << mails;
  for (const json* m : {&confirmed[0], &cancelled[0]}) {
    EXPECT_EQ((*m)["type"], "multipart/alternative");
    ASSERT_EQ((*m)["parts"].size(), 2u);
    EXPECT_EQ((*m)["parts"][0]["type"], "text/plain");
    EXPECT_EQ((*m)["parts"][1]["type"], "text/html");
    EXPECT_EQ((*m)["parts"][0]["charset"], "utf-8");
    EXPECT_EQ((*m)["parts"][1]["charset"], "utf-8");
    EXPECT_EQ((*m)["to"]["name"], "Jürgen Öztürk");
    const std::string text = (*m)["text"];
    EXPECT_NE(text.find("Zeit:      Mi., 20. Januar 2027, 18:00–20:00 Uhr"), std::string::npos) << text;
    EXPECT_NE(text.find("https://buchen.example/manage/stadt/" + id + "#token=" + token), std::string::npos);
    EXPECT_NE((*m)["html"].get<std::string>().find("<html lang=\"de\">"), std::string::npos);
  }
  const std::string c = confirmed[0]["text"], x = cancelled[0]["text"];
  EXPECT_NE(c.find("Ihre Buchung ist bestätigt."), std::string::npos) << c;
  EXPECT_NE(c.find("Status:    bestätigt\n"), std::string::npos) << c;
  EXPECT_EQ(c.find("storniert"), std::string::npos) << c;
  EXPECT_EQ(c.find("cancelled"), std::string::npos) << c;
  EXPECT_NE(x.find("Ihre Buchung wurde storniert."), std::string::npos) << x;
  EXPECT_NE(x.find("Status:    storniert\n"), std::string::npos) << x;
  EXPECT_EQ(x.find("bestätigt"), std::string::npos) << x;
}

TEST_F(NotifyTest, ApprovalFlowMailsAndNothingForErasedPersons) {
  smtp_->Start();
  server_->Start();
  MakeTenant();
  const int port = server_->port();
  ASSERT_EQ(
      CallJson(port, "POST", "/v1/tenants/stadt/groups", {{"id", "verein"}, {"name", "Vereine"}}, admin_)
          .status,
      201);
  ASSERT_EQ(CallJson(port, "POST", "/v1/tenants/stadt/rights",
                     {{"resource", "saal"}, {"group", "public"}, {"needs_approval", true}}, admin_)
                .status,
            201);
  auto req = Book("2027-06-01T10:00:00Z", "2027-06-01T11:00:00Z",
                  {{"email", "verein@example.org"}, {"language", "en"}});
  ASSERT_EQ(req.status, 201) << req.body;
  const std::string id = req.json()["id"];
  auto mails = smtp_->WaitFor(1);
  EXPECT_EQ(Count(mails, "We received your booking request"), 1);
  ASSERT_EQ(
      CallJson(port, "POST", "/v1/tenants/stadt/bookings/" + id + "/approve", json::object(), admin_).status,
      200);
  mails = smtp_->WaitFor(2);
  EXPECT_EQ(Count(mails, "was approved"), 1);

  // A person erased before their mail goes out gets none.
  auto other = Book("2027-06-02T10:00:00Z", "2027-06-02T11:00:00Z", {{"email", "weg@example.org"}});
  ASSERT_EQ(other.status, 201);
  // Read-your-writes: the projection may not have folded the booking yet.
  auto doc = Call(port, "GET",
                  "/v1/tenants/stadt/bookings/" + other.json()["id"].get<std::string>() +
                      "?min_position=" + other.header("saalbuch-position"),
                  "", {{"Authorization", "Bearer " + admin_}});
  ASSERT_EQ(doc.status, 200) << doc.body;
  const std::string person = doc.json()["person"];
  smtp_->WaitFor(3, std::chrono::seconds(5));
  ASSERT_EQ(
      CallJson(port, "POST", "/v1/tenants/stadt/persons/" + person + "/erase", json::object(), admin_).status,
      200);
  ASSERT_EQ(CallJson(port, "POST",
                     "/v1/tenants/stadt/bookings/" + other.json()["id"].get<std::string>() + "/reject",
                     json::object(), admin_)
                .status,
            200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(Count(smtp_->Messages(), "declined"), 0);
}

TEST_F(NotifyTest, HeldBookingsGetAReminderBeforeTheyExpireAndANoticeWhenTheyDo) {
  smtp_->Start();
  server_->Start();
  MakeTenant();
  const int port = server_->port();
  ASSERT_EQ(CallJson(port, "PUT", "/v1/tenants/stadt/settings", {{"hold_seconds", 4}}, admin_).status, 200);
  ASSERT_EQ(CallJson(port, "POST", "/v1/tenants/stadt/rights",
                     {{"resource", "saal"}, {"group", "public"}, {"hold", true}}, admin_)
                .status,
            201);
  auto held = Book("2027-07-01T10:00:00Z", "2027-07-01T11:00:00Z",
                   {{"email", "halt@example.org"}, {"language", "en"}});
  ASSERT_EQ(held.status, 201) << held.body;
  EXPECT_EQ(held.json()["status"], "held");
  const std::string number = held.json()["number"];
  auto mails = smtp_->WaitFor(3, std::chrono::seconds(20));
  EXPECT_EQ(Count(mails, "Subject: Your booking " + number + " is on hold"), 1);
  EXPECT_EQ(Count(mails, "Subject: Your hold " + number + " expires soon"), 1);
  EXPECT_EQ(Count(mails, "Subject: Your hold " + number + " has expired"), 1);
  // A hold confirmed in time gets no reminder.
  ASSERT_EQ(CallJson(port, "PUT", "/v1/tenants/stadt/settings", {{"hold_seconds", 6}}, admin_).status, 200);
  auto kept = Book("2027-07-02T10:00:00Z", "2027-07-02T11:00:00Z",
                   {{"email", "halt@example.org"}, {"language", "en"}});
  ASSERT_EQ(kept.status, 201);
  ASSERT_EQ(CallJson(port, "POST",
                     "/v1/tenants/stadt/bookings/" + kept.json()["id"].get<std::string>() + "/confirm",
                     json::object(), admin_)
                .status,
            200);
  smtp_->WaitFor(5, std::chrono::seconds(20));
  std::this_thread::sleep_for(std::chrono::seconds(7));  // past the reminder (4.5 s) and the end (6 s)
  mails = smtp_->Messages();
  const std::string kept_number = kept.json()["number"];
  EXPECT_EQ(Count(mails, "Subject: Your booking " + kept_number + " is confirmed"), 1);
  EXPECT_EQ(Count(mails, "Subject: Your hold " + kept_number + " expires soon"), 0);
  EXPECT_EQ(Count(mails, "Subject: Your hold " + kept_number + " has expired"), 0);
  EXPECT_EQ(mails.size(), 5u);
}

// An invitation to the back office is mailed (German, like the back office)
// with its one-time link in the fragment, once; one used or withdrawn before
// the mail could go out is not mailed.
TEST_F(NotifyTest, AnInvitationIsMailedOnceWithItsLinkAndNotWhenUsedOrWithdrawnFirst) {
  server_->Start();  // the SMTP server is down at first
  MakeTenant();
  const int port = server_->port();
  auto invite = [&](const std::string& email, const std::string& name) {
    auto r = CallJson(port, "POST", "/v1/tenants/stadt/accounts",
                      {{"email", email}, {"name", name}, {"role", "staff"}}, admin_);
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_TRUE(r.json().value("invite_mailed", false)) << r.body;
    return r.json();
  };
  const json katrin = invite("k.schmidt@stadt.example", "Katrin Schmidt");
  const json used = invite("schon.da@stadt.example", "Schon Da");
  const json withdrawn = invite("nicht.mehr@stadt.example", "Nicht Mehr");
  ASSERT_EQ(CallJson(port, "POST", "/v1/tenants/stadt/invitations/accept",
                     {{"token", used["invite_token"]}, {"password", "Ein-langes-Passwort-2026"}})
                .status,
            200);
  ASSERT_EQ(
      Call(port, "POST", "/v1/tenants/stadt/accounts/" + withdrawn["id"].get<std::string>() + "/disable", "",
           {{"Authorization", "Bearer " + admin_}})
          .status,
      200);
  smtp_->Start();
  ASSERT_EQ(smtp_->WaitFor(1).size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  json parsed = ParseMaildir(dir_ / "maildir");
  ASSERT_EQ(parsed.size(), 1u) << "one mail: none for the used or withdrawn invitation, none twice";
  const json& m = parsed[0];
  EXPECT_EQ(m["to"]["address"], "k.schmidt@stadt.example") << m;
  EXPECT_EQ(m["to"]["name"], "Katrin Schmidt") << m;
  EXPECT_EQ(m["subject_decoded"], "Einladung in die Verwaltung von Stadt Musterhausen") << m;
  const std::string text = m["text"], html = m["html"];
  const std::string link =
      "https://buchen.example/admin/stadt/join#token=" + katrin["invite_token"].get<std::string>();
  EXPECT_NE(text.find("Guten Tag Katrin Schmidt,"), std::string::npos) << text;
  EXPECT_NE(text.find("(Rolle: Sachbearbeitung)"), std::string::npos) << text;
  EXPECT_NE(text.find(link), std::string::npos) << text;
  EXPECT_NE(text.find("Der Link gilt bis "), std::string::npos) << text;
  EXPECT_NE(html.find("href=\"" + link + "\""), std::string::npos) << html;
  // The log records it once, as a notification about the account.
  auto events =
      Call(port, "GET", "/v1/tenants/stadt/events?limit=500", "", {{"Authorization", "Bearer " + admin_}});
  const json page = events.json();
  int recorded = 0;
  for (const auto& item : page["items"]) {
    const json& r = item["record"];
    if (r["payload_type"] == "NotificationSent" && r["payload"]["kind"] == "invitation") ++recorded;
  }
  EXPECT_EQ(recorded, 1) << events.body;
}

}  // namespace
}  // namespace saalbuch::e2e
