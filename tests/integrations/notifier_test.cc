// Notification mails: rendered from the outbox entry (the facts as of the
// event), German and English dates in the tenant's zone, statuses in words,
// multipart text and HTML, RFC 2047 headers. The MIME structure and the
// encoded words are checked with Python's email package (policy strict), a
// real parser, not with our own reading of what we wrote.
#include "integrations/notifier.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include "common/time.h"
#include "formats/dates.h"

namespace saalbuch::integrations {
namespace {

using formats::Language;
using nlohmann::json;

TimeUs At(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

const Zone* Berlin() { return FindZone("Europe/Berlin"); }

json Entry(const std::string& kind, const std::string& status, json extra = json::object()) {
  json mail = {{"booking", "bk_1"},
               {"number", "2027-0042"},
               {"resource", "saal"},
               {"resource_name", "Großer Saal"},
               {"tenant_name", "Bürgerhaus Musterstadt"},
               {"zone", "Europe/Berlin"},
               {"start", At("2027-01-20T17:00:00Z")},
               {"end", At("2027-01-20T19:00:00Z")},
               {"status", status},
               {"units", 1}};
  for (auto& [k, v] : extra.items()) mail[k] = v;
  return {{"id", "n-00000000000000000007"}, {"booking", "bk_1"}, {"kind", kind}, {"mail", mail}};
}

json Contact(const std::string& language, const std::string& name = "Erika Mustermann") {
  return {
      {"name", name}, {"email", "erika@example.org"}, {"language", language}, {"manage_token", "sbm_abc"}};
}

Mail Render(const json& entry, const json& contact) {
  return RenderMail(entry, TenantId("stadt"), contact, "https://buchen.example");
}

bool Has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The value of the text part's line "label:   value" ("" when none).
std::string Field(const std::string& text, const std::string& label) {
  const auto at = text.find("\n" + label + ":");
  if (at == std::string::npos) return "";
  auto from = at + label.size() + 2;
  while (from < text.size() && text[from] == ' ') ++from;
  return text.substr(from, text.find('\n', from) - from);
}

// ---- dates ----

TEST(MailDates, GermanAndEnglishRangesOnOneDayInTheTenantsZone) {
  const TimeUs a = At("2027-01-20T17:00:00Z"), b = At("2027-01-20T19:00:00Z");
  EXPECT_EQ(formats::FormatTimeRange(a, b, Berlin(), Language::kGerman),
            "Mi., 20. Januar 2027, 18:00–20:00 Uhr");
  EXPECT_EQ(formats::FormatTimeRange(a, b, Berlin(), Language::kEnglish),
            "Wed, 20 January 2027, 6:00–8:00 pm");
  EXPECT_EQ(formats::FormatTimeRange(At("2027-05-03T08:00:00Z"), At("2027-05-03T12:30:00Z"), Berlin(),
                                     Language::kEnglish),
            "Mon, 3 May 2027, 10:00 am – 2:30 pm");
  EXPECT_EQ(formats::FormatTimeRange(At("2027-05-03T08:00:00Z"), At("2027-05-03T12:30:00Z"), Berlin(),
                                     Language::kGerman),
            "Mo., 3. Mai 2027, 10:00–14:30 Uhr");
  // Noon and midnight in English.
  EXPECT_EQ(formats::FormatDateTime(At("2027-03-01T11:00:00Z"), Berlin(), Language::kEnglish),
            "Mon, 1 March 2027, 12:00 pm");
  EXPECT_EQ(formats::FormatDateTime(At("2027-02-28T23:00:00Z"), Berlin(), Language::kEnglish),
            "Mon, 1 March 2027, 12:00 am");
  EXPECT_EQ(formats::FormatDateTime(At("2027-02-28T23:05:00Z"), Berlin(), Language::kGerman),
            "Mo., 1. März 2027, 00:05 Uhr");
}

TEST(MailDates, OverMidnightAndOverSeveralDaysNameBothDays) {
  const TimeUs a = At("2027-12-31T21:00:00Z"), b = At("2028-01-01T01:00:00Z");
  EXPECT_EQ(formats::FormatTimeRange(a, b, Berlin(), Language::kGerman),
            "Fr., 31. Dezember 2027, 22:00 Uhr – Sa., 1. Januar 2028, 02:00 Uhr");
  EXPECT_EQ(formats::FormatTimeRange(a, b, Berlin(), Language::kEnglish),
            "Fri, 31 December 2027, 10:00 pm – Sat, 1 January 2028, 2:00 am");
  EXPECT_EQ(formats::FormatTimeRange(At("2027-07-05T06:00:00Z"), At("2027-07-09T15:00:00Z"), Berlin(),
                                     Language::kGerman),
            "Mo., 5. Juli 2027, 08:00 Uhr – Fr., 9. Juli 2027, 17:00 Uhr");
}

TEST(MailDates, AcrossTheSpringDstChangeEachEndShowsTheWallClock) {
  // 01:30 CET to 03:30 CEST: one hour of real time.
  EXPECT_EQ(formats::FormatTimeRange(At("2027-03-28T00:30:00Z"), At("2027-03-28T01:30:00Z"), Berlin(),
                                     Language::kGerman),
            "So., 28. März 2027, 01:30–03:30 Uhr");
  // The same instant in another tenant's zone.
  EXPECT_EQ(
      formats::FormatDateTime(At("2027-01-20T17:00:00Z"), FindZone("America/New_York"), Language::kEnglish),
      "Wed, 20 January 2027, 12:00 pm");
}

// ---- content ----

TEST(RenderMail, ConfirmedInGermanWithDateResourceNameStatusWordsAndManageLink) {
  const Mail m = Render(Entry("confirmed", "confirmed"), Contact("de"));
  EXPECT_EQ(m.subject, "Ihre Buchung 2027-0042 ist bestätigt");
  EXPECT_EQ(m.to, "erika@example.org");
  EXPECT_EQ(m.to_name, "Erika Mustermann");
  EXPECT_TRUE(Has(m.text, "Guten Tag Erika Mustermann,\n\nIhre Buchung ist bestätigt.\n")) << m.text;
  EXPECT_TRUE(Has(m.text, "Zeit:      Mi., 20. Januar 2027, 18:00–20:00 Uhr\n")) << m.text;
  EXPECT_TRUE(Has(m.text, "Ressource: Großer Saal\n")) << m.text;
  EXPECT_TRUE(Has(m.text, "Anbieter:  Bürgerhaus Musterstadt\n")) << m.text;
  EXPECT_TRUE(Has(m.text, "Status:    bestätigt\n")) << m.text;
  EXPECT_FALSE(Has(m.text, "saal\n")) << "the resource's id instead of its name";
  EXPECT_FALSE(Has(m.text, "confirmed")) << m.text;
  const std::string manage = "https://buchen.example/manage/stadt/bk_1#token=sbm_abc";
  EXPECT_TRUE(Has(m.text, "\n" + manage + "\n")) << m.text;
  EXPECT_TRUE(Has(m.html, "<a href=\"" + manage + "\">")) << m.html;
  EXPECT_TRUE(Has(m.html, "<td>Mi., 20. Januar 2027, 18:00–20:00 Uhr</td>")) << m.html;
  EXPECT_TRUE(Has(m.html, "<html lang=\"de\">")) << m.html;
}

TEST(RenderMail, ConfirmedInEnglish) {
  const Mail m = Render(Entry("confirmed", "confirmed"), Contact("en", "Jane Doe"));
  EXPECT_EQ(m.subject, "Your booking 2027-0042 is confirmed");
  EXPECT_TRUE(Has(m.text, "Hello Jane Doe,\n\nYour booking is confirmed.\n")) << m.text;
  EXPECT_TRUE(Has(m.text, "Time:     Wed, 20 January 2027, 6:00–8:00 pm\n")) << m.text;
  EXPECT_TRUE(Has(m.text, "Resource: Großer Saal\n")) << m.text;
  EXPECT_TRUE(Has(m.html, "<html lang=\"en\">")) << m.html;
}

// Every kind in both languages: the subject, the first sentence and the
// status in words as of the event; no raw status value in German.
TEST(RenderMail, EveryKindInBothLanguages) {
  struct Case {
    const char* kind;
    const char* status;
    const char* subject_de;
    const char* status_de;
    const char* subject_en;
    const char* status_en;
  };
  const Case cases[] = {
      {"received", "requested", "Ihre Buchungsanfrage 2027-0042 ist eingegangen",
       "angefragt (wartet auf Entscheidung)", "We received your booking request 2027-0042",
       "requested (awaiting a decision)"},
      {"held", "held", "Ihre Buchung 2027-0042 ist vorgemerkt", "vorgemerkt",
       "Your booking 2027-0042 is on hold", "on hold"},
      {"confirmed", "confirmed", "Ihre Buchung 2027-0042 ist bestätigt", "bestätigt",
       "Your booking 2027-0042 is confirmed", "confirmed"},
      {"approved", "confirmed", "Ihre Buchungsanfrage 2027-0042 wurde angenommen", "bestätigt",
       "Your booking request 2027-0042 was approved", "confirmed"},
      {"rejected", "rejected", "Ihre Buchungsanfrage 2027-0042 wurde abgelehnt", "abgelehnt",
       "Your booking request 2027-0042 was declined", "declined"},
      {"cancelled", "cancelled", "Ihre Buchung 2027-0042 wurde storniert", "storniert",
       "Your booking 2027-0042 was cancelled", "cancelled"},
      {"rescheduled", "confirmed", "Ihre Buchung 2027-0042 wurde verlegt", "bestätigt",
       "Your booking 2027-0042 was moved", "confirmed"},
      {"expiring", "held", "Ihre Vormerkung 2027-0042 läuft bald ab", "vorgemerkt",
       "Your hold 2027-0042 expires soon", "on hold"},
      {"expired", "expired", "Ihre Vormerkung 2027-0042 ist abgelaufen", "abgelaufen",
       "Your hold 2027-0042 has expired", "expired"},
  };
  const json hold = {{"hold_until", At("2027-01-10T11:00:00Z")}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.kind);
    const json entry = Entry(c.kind, c.status, std::string(c.status) == "held" ? hold : json::object());
    const Mail de = Render(entry, Contact("de"));
    EXPECT_EQ(de.subject, c.subject_de);
    EXPECT_EQ(Field(de.text, "Status"), c.status_de) << de.text;
    EXPECT_TRUE(Has(de.html, std::string("<td>") + c.status_de + "</td>")) << de.html;
    for (const char* raw : {"requested", "held", "confirmed", "rejected", "cancelled", "expired"}) {
      EXPECT_FALSE(Has(de.text, raw)) << raw << " in\n" << de.text;
    }
    const Mail en = Render(entry, Contact("en"));
    EXPECT_EQ(en.subject, c.subject_en);
    EXPECT_EQ(Field(en.text, "Status"), c.status_en) << en.text;
    if (std::string(c.status) == "held") {
      EXPECT_TRUE(Has(de.text, "Vorgemerkt bis: So., 10. Januar 2027, 12:00 Uhr\n")) << de.text;
      EXPECT_TRUE(Has(en.text, "Held until: Sun, 10 January 2027, 12:00 pm\n")) << en.text;
    } else {
      EXPECT_FALSE(Has(de.text, "Vorgemerkt bis")) << de.text;
    }
    EXPECT_TRUE(Has(en.text, "https://buchen.example/manage/stadt/bk_1#token=sbm_abc")) << en.text;
  }
}

// The confirmed mail of a booking cancelled before the notifier ran says
// what the confirmation said; the cancellation mail says its own truth.
TEST(RenderMail, EachMailTellsItsOwnEventsStatus) {
  const Mail confirmed = Render(Entry("confirmed", "confirmed"), Contact("de"));
  const Mail cancelled = Render(Entry("cancelled", "cancelled"), Contact("de"));
  EXPECT_TRUE(Has(confirmed.text, "Status:    bestätigt")) << confirmed.text;
  EXPECT_FALSE(Has(confirmed.text, "storniert")) << confirmed.text;
  EXPECT_TRUE(Has(cancelled.text, "Status:    storniert")) << cancelled.text;
  EXPECT_FALSE(Has(cancelled.text, "bestätigt")) << cancelled.text;
}

TEST(RenderMail, HeldWithAnOpenInvoiceSaysHowMuchIsOpenAndThatTheLinkPaysIt) {
  const json money = {{"currency", "EUR"}, {"number", "R-2027-7"}, {"gross", 13500}, {"owed", 13500},
                      {"paid", 0},         {"open", 13500},        {"refund", 0}};
  const json entry = Entry("held", "held", {{"hold_until", At("2027-01-10T11:00:00Z")}, {"money", money}});
  const Mail de = Render(entry, Contact("de"));
  EXPECT_TRUE(Has(de.text, "Rechnung:       R-2027-7 (135,00 €)\n")) << de.text;
  EXPECT_TRUE(Has(de.text, "Offen:          135,00 €\n")) << de.text;
  EXPECT_TRUE(Has(de.text, "Offen sind noch 135,00 €. Sie können den Betrag über den Link unten bezahlen."))
      << de.text;
  EXPECT_TRUE(Has(de.html, "Offen sind noch 135,00 €. Sie können den Betrag über den Link unten bezahlen."))
      << de.html;
  const Mail en = Render(entry, Contact("en"));
  EXPECT_TRUE(Has(en.text, "€135.00 is still open. You can pay it through the link below.")) << en.text;
  EXPECT_FALSE(Has(en.text, "Refund")) << en.text;
}

TEST(RenderMail, CancelledStatesTheFeeAndTheRefund) {
  const json money = {{"currency", "EUR"}, {"number", "R-2027-7"}, {"gross", 13500},
                      {"owed", 6750},      {"paid", 13500},        {"open", 0},
                      {"refund", 6750}};
  const Mail de = Render(Entry("cancelled", "cancelled", {{"money", money}}), Contact("de"));
  EXPECT_TRUE(Has(de.text, "Stornogebühr: 67,50 €\n")) << de.text;
  EXPECT_TRUE(Has(de.text, "Erstattung:   67,50 €\n")) << de.text;
  EXPECT_TRUE(Has(de.text, "Wir erstatten 67,50 € auf dem Weg, auf dem Sie bezahlt haben.")) << de.text;
  EXPECT_FALSE(Has(de.text, "Offen")) << de.text;
  const Mail en = Render(Entry("cancelled", "cancelled", {{"money", money}}), Contact("en"));
  EXPECT_TRUE(Has(en.text, "Cancellation fee: €67.50\n")) << en.text;
  EXPECT_TRUE(Has(en.text, "We refund €67.50 the way you paid.")) << en.text;
}

TEST(RenderMail, HtmlEscapesNamesAndTheTextPartKeepsThem) {
  json entry = Entry("confirmed", "confirmed");
  entry["mail"]["resource_name"] = "Saal <A> & \"B\"";
  entry["mail"]["tenant_name"] = "Müller & Söhne <script>";
  const Mail m = Render(entry, Contact("de", "Tom & <Jerry>"));
  EXPECT_TRUE(Has(m.html, "<p>Guten Tag Tom &amp; &lt;Jerry&gt;,</p>")) << m.html;
  EXPECT_TRUE(Has(m.html, "<td>Saal &lt;A&gt; &amp; &quot;B&quot;</td>")) << m.html;
  EXPECT_TRUE(Has(m.html, "<td>Müller &amp; Söhne &lt;script&gt;</td>")) << m.html;
  EXPECT_FALSE(Has(m.html, "<script>"));
  EXPECT_FALSE(Has(m.html, "<Jerry>"));
  EXPECT_FALSE(Has(m.html, "<img"));
  EXPECT_TRUE(Has(m.text, "Guten Tag Tom & <Jerry>,")) << m.text;
  EXPECT_TRUE(Has(m.text, "Ressource: Saal <A> & \"B\"\n")) << m.text;
}

// ---- headers and MIME ----

TEST(MailHeaders, QuotedPrintableEncodesEqualsTrailingSpaceLeadingDotAndLongLines) {
  EXPECT_EQ(QuotedPrintable("a=b \n.x\nä"), "a=3Db=20\r\n=2Ex\r\n=C3=A4");
  const std::string long_line(200, 'x');
  const std::string qp = QuotedPrintable(long_line);
  std::size_t start = 0;
  std::string decoded;
  while (start < qp.size()) {
    auto end = qp.find("\r\n", start);
    if (end == std::string::npos) end = qp.size();
    const std::string line = qp.substr(start, end - start);
    EXPECT_LE(line.size(), 76u);
    decoded += line.back() == '=' ? line.substr(0, line.size() - 1) : line;
    start = end + 2;
  }
  EXPECT_EQ(decoded, long_line);
}

TEST(MailHeaders, NonAsciiBecomesEncodedWordsOfAtMost75AndLinesOfAtMost78) {
  const std::string subject =
      "Ihre Vormerkung 2027-0042 läuft bald ab – Größe: Übergroße Bühne für Ärztinnen und Öffentlichkeit";
  const std::string h = UnstructuredHeader("Subject", subject);
  EXPECT_EQ(h.rfind("Subject: =?UTF-8?B?", 0), 0u) << h;
  const std::regex word(R"(=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=)");
  std::size_t words = 0;
  for (auto it = std::sregex_iterator(h.begin(), h.end(), word); it != std::sregex_iterator(); ++it) {
    EXPECT_LE(it->length(), 75);
    ++words;
  }
  EXPECT_GT(words, 1u);
  std::size_t start = 0;
  while (start < h.size()) {
    auto end = h.find("\r\n", start);
    if (end == std::string::npos) end = h.size();
    EXPECT_LE(end - start, 78u) << h;
    start = end + 2;
  }
  for (unsigned char c : h) EXPECT_LT(c, 0x80);
  // ASCII stays readable; specials in a display name are quoted.
  EXPECT_EQ(UnstructuredHeader("Subject", "Your booking 1 is confirmed"),
            "Subject: Your booking 1 is confirmed");
  EXPECT_EQ(MailboxHeader("To", "Doe, Jane", "jane@example.org"), "To: \"Doe, Jane\" <jane@example.org>");
  EXPECT_EQ(MailboxHeader("To", "", "jane@example.org"), "To: <jane@example.org>");
}

TEST(MailHeaders, NamesCannotInjectHeaders) {
  Mail m = Render(Entry("confirmed", "confirmed"), Contact("en", "Eve\r\nBcc: victim@example.org"));
  const std::string msg = ComposeMessage(m, "Saalbuch <noreply@example.org>", "<1@saalbuch>", 0);
  EXPECT_FALSE(Has(msg, "\r\nBcc:")) << msg;
  EXPECT_FALSE(Has(msg, "\nBcc:")) << msg;
}

// Runs Python's email parser (policy strict: a defect is an error) over
// `message` and returns what it read, as JSON.
json ParseWithPython(const std::string& message) {
  const auto path = std::filesystem::temp_directory_path() / ("saalbuch-mail-" + std::to_string(::getpid()));
  std::ofstream(path, std::ios::binary) << message;
  const std::string script = R"PY(
import email, email.header, email.policy, json, sys
raw = open(sys.argv[1], 'rb').read()
msg = email.message_from_bytes(raw, policy=email.policy.strict)
def mailbox(h):
    a = msg[h].addresses[0]
    return {'name': a.display_name, 'address': a.addr_spec}
legacy = email.message_from_bytes(raw)
print(json.dumps({
  'subject': str(msg['subject']),
  'subject_decoded': str(email.header.make_header(email.header.decode_header(legacy['subject']))),
  'from': mailbox('from'), 'to': mailbox('to'),
  'to_decoded': str(email.header.make_header(email.header.decode_header(legacy['to']))),
  'from_decoded': str(email.header.make_header(email.header.decode_header(legacy['from']))),
  'date': msg['date'].datetime.isoformat(),
  'message_id': msg['message-id'], 'mime_version': msg['mime-version'],
  'auto_submitted': msg['auto-submitted'],
  'type': msg.get_content_type(),
  'parts': [{'type': p.get_content_type(), 'charset': p.get_content_charset(),
             'cte': p['content-transfer-encoding'],
             'body': p.get_content().replace('\r\n', '\n')} for p in msg.iter_parts()],
  'defects': [str(d) for d in msg.defects],
}))
)PY";
  const auto script_path = path.string() + ".py";
  std::ofstream(script_path) << script;
  const std::string cmd = "python3 " + script_path + " " + path.string() + " 2>&1";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    std::array<char, 4096> buf{};
    while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    ::pclose(p);
  }
  std::filesystem::remove(path);
  std::filesystem::remove(script_path);
  json j = json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << out;
  return j.is_discarded() ? json::object() : j;
}

TEST(MailHeaders, PythonsStrictParserReadsTheMultipartMessageAndDecodesTheHeaders) {
  json entry = Entry("expiring", "held", {{"hold_until", At("2027-01-10T11:00:00Z")}});
  const Mail m = Render(entry, Contact("de", "Jürgen Größenwahn-Übermut von und zu Äppelwoi-Öhringen"));
  const std::string msg = ComposeMessage(m, "Bürgerhaus Musterstädt <buchung@buergerhaus.example>",
                                         "<n-7.bk_1.stadt@saalbuch>", 1'800'000'000);
  const json p = ParseWithPython(msg);
  ASSERT_TRUE(p.contains("parts")) << p.dump() << "\n" << msg;
  EXPECT_EQ(p["subject"], "Ihre Vormerkung 2027-0042 läuft bald ab");
  EXPECT_EQ(p["subject_decoded"], "Ihre Vormerkung 2027-0042 läuft bald ab");
  EXPECT_EQ(p["from"]["name"], "Bürgerhaus Musterstädt");
  EXPECT_EQ(p["from"]["address"], "buchung@buergerhaus.example");
  // RFC 2047 (6.2): white space between adjacent encoded words is ignored;
  // email.header.decode_header does so. The strict address parser keeps it
  // as a space (a CPython quirk), so there only the words are compared.
  EXPECT_EQ(p["to_decoded"], "Jürgen Größenwahn-Übermut von und zu Äppelwoi-Öhringen <erika@example.org>");
  EXPECT_EQ(p["from_decoded"], "Bürgerhaus Musterstädt <buchung@buergerhaus.example>");
  std::string strict_name = p["to"]["name"];
  for (auto at = strict_name.find("  "); at != std::string::npos; at = strict_name.find("  ")) {
    strict_name.erase(at, 1);
  }
  EXPECT_EQ(strict_name, "Jürgen Größenwahn-Übermut von und zu Äppelwoi-Öhringen");
  EXPECT_EQ(p["to"]["address"], "erika@example.org");
  EXPECT_EQ(p["date"], "2027-01-15T08:00:00+00:00");
  EXPECT_EQ(p["message_id"], "<n-7.bk_1.stadt@saalbuch>");
  EXPECT_EQ(p["mime_version"], "1.0");
  EXPECT_EQ(p["auto_submitted"], "auto-generated");
  EXPECT_EQ(p["type"], "multipart/alternative");
  EXPECT_EQ(p["defects"], json::array());
  ASSERT_EQ(p["parts"].size(), 2u);
  EXPECT_EQ(p["parts"][0]["type"], "text/plain");
  EXPECT_EQ(p["parts"][1]["type"], "text/html");
  for (const auto& part : p["parts"]) {
    EXPECT_EQ(part["charset"], "utf-8");
    EXPECT_EQ(part["cte"], "quoted-printable");
  }
  EXPECT_EQ(p["parts"][0]["body"], m.text);
  EXPECT_EQ(p["parts"][1]["body"], m.html);
  // Every line of the message, headers and body, within 78 characters; the
  // message itself is 7-bit.
  std::size_t start = 0;
  while (start < msg.size()) {
    auto end = msg.find("\r\n", start);
    if (end == std::string::npos) end = msg.size();
    EXPECT_LE(end - start, 78u) << msg.substr(start, end - start);
    start = end + 2;
  }
  for (unsigned char c : msg) ASSERT_LT(c, 0x80);
}

// The invitation: the invitee by name, the role in words, the expiry in the
// tenant's zone, the link with the token in the fragment; names escaped in
// the HTML part.
TEST(RenderInvitation, GermanWithRoleExpiryAndLinkAndEscapedNames) {
  const json entry = {{"id", "n-00000000000000000007-invitation"},
                      {"kind", "invitation"},
                      {"account", "ac_1"},
                      {"mail",
                       {{"tenant_name", "Bürgerhaus <Nord> & Süd"},
                        {"zone", "Europe/Berlin"},
                        {"role", "finance"},
                        {"expires", TimeUs{1'800'000'000} * 1'000'000}}}};
  const json person = {
      {"email", "k.schmidt@stadt.example"}, {"name", "Katrin <K> Schmidt"}, {"invite_token", "sbi_abc"}};
  const Mail m = RenderInvitation(entry, TenantId("stadt"), person, "https://buchen.example");
  EXPECT_EQ(m.to, "k.schmidt@stadt.example");
  EXPECT_EQ(m.subject, "Einladung in die Verwaltung von Bürgerhaus <Nord> & Süd");
  EXPECT_NE(m.text.find("Guten Tag Katrin <K> Schmidt,"), std::string::npos) << m.text;
  EXPECT_NE(m.text.find("(Rolle: Kasse und Finanzen)"), std::string::npos) << m.text;
  EXPECT_NE(m.text.find("https://buchen.example/admin/stadt/join#token=sbi_abc"), std::string::npos)
      << m.text;
  // 1,800,000,000 s is 15 January 2027, 09:00 in Berlin (CET).
  EXPECT_NE(m.text.find("Der Link gilt bis Fr., 15. Januar 2027, 09:00 Uhr"), std::string::npos) << m.text;
  EXPECT_NE(m.html.find("Bürgerhaus &lt;Nord&gt; &amp; Süd"), std::string::npos) << m.html;
  EXPECT_NE(m.html.find("Katrin &lt;K&gt; Schmidt"), std::string::npos) << m.html;
  EXPECT_EQ(m.html.find("<K>"), std::string::npos) << m.html;
}

}  // namespace
}  // namespace saalbuch::integrations
