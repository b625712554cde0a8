// Decoding JSON request bodies into command fields, collecting every
// problem (field and what is wrong) instead of stopping at the first.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "commands/model.h"
#include "common/money.h"
#include "common/time.h"
#include "common/types.h"

namespace saalbuch::http {

// A parsed request target: path segments (percent-decoded; empty ones, as
// in "a//b", dropped) and the query (percent-decoded; '+' stays '+', so
// that "+02:00" offsets work unencoded; the last of a repeated key wins).
struct Target {
  std::vector<std::string> segments;
  std::unordered_map<std::string, std::string> query;
};
Target ParseTarget(std::string_view target);

// Whether a free-text field may break lines.
enum class Lines {
  kOne,   // names, labels, ids: no control character at all
  kMany,  // notes, descriptions, reasons: tab and line feed (U+0009, U+000A) allowed
};

// What is wrong with `text` as the value of a text field, for people
// ("contains the control character U+0000"); "" when nothing. Refused:
// invalid UTF-8, the C0 controls U+0000–U+001F (but tab and line feed with
// Lines::kMany), DEL U+007F and the C1 controls U+0080–U+009F. Such
// characters would reach e-mails, PDFs and exports. Pure, thread-safe.
std::string TextProblem(std::string_view text, Lines lines);

// A request body parsed strictly.
struct StrictJson {
  enum class Outcome {
    kOk,
    kMalformed,  // not JSON, or an object names a key twice (400 malformed_json)
    kBadText,    // a string or a key has a character TextProblem(…, kMany) refuses (422)
  };
  Outcome outcome = Outcome::kOk;
  nlohmann::json value;  // kOk: the document
  std::string detail;    // kMalformed: for people
  // kMalformed by a duplicate key: {"key": the key, "field": where}.
  // kBadText: {"fields": [{"field", "problem"}, …]}, field names as
  // Decoder reports them ("contact.notes", "addons[1].addon").
  nlohmann::json details = nlohmann::json::object();
};
// Parses `text` as JSON and refuses what a lenient parser accepts: a key
// given twice in one object (at any depth; otherwise the last would silently
// win) and strings with control characters. Invalid UTF-8 is malformed.
StrictJson ParseStrictJson(std::string_view text);

class Decoder {
 public:
  // `allowed` lists the fields the object may have; others are reported.
  // An empty list skips that check.
  Decoder(const nlohmann::json& object, std::vector<std::string> allowed, std::string prefix = "");

  // A string of one line (Lines::kOne; see TextProblem).
  std::string Str(const char* name, bool required, std::size_t max_bytes, std::string fallback = "");
  // A string that may hold tabs and line feeds (Lines::kMany): notes,
  // descriptions, reasons.
  std::string Text(const char* name, bool required, std::size_t max_bytes);
  TimeUs Time(const char* name, bool required);
  std::int64_t Int(const char* name, std::int64_t min, std::int64_t max, std::int64_t fallback = 0);
  bool Bool(const char* name, bool fallback);
  // {"amount": <minor units>, "currency": "EUR"} with amount in [min, max].
  Money MoneyField(const char* name, bool required, std::int64_t min, std::int64_t max);
  // The array `name` (at most `max_items`), or an empty one when absent.
  nlohmann::json Array(const char* name, std::size_t max_items);

  // The object being decoded.
  const nlohmann::json& object() const { return obj_; }
  void Error(const std::string& field, const std::string& problem);
  bool ok() const { return errors_->empty(); }
  const nlohmann::json& errors() const { return *errors_; }

  // A decoder for a nested object sharing this one's error list.
  Decoder Nested(const nlohmann::json& object, std::vector<std::string> allowed, const std::string& prefix);

 private:
  Decoder(const nlohmann::json& object, std::vector<std::string> allowed, std::string prefix,
          std::shared_ptr<nlohmann::json> errors);
  std::string String(const char* name, bool required, std::size_t max_bytes, std::string fallback,
                     Lines lines);
  const nlohmann::json& obj_;
  std::string prefix_;
  std::shared_ptr<nlohmann::json> errors_;
};

// Rules as in the OpenAPI document ("opening_hours" required, durations in
// minutes, horizon in days). Problems go to `d`.
commands::Rules DecodeRules(Decoder& d, const nlohmann::json& rules, const std::string& prefix);

// {"holidays": [{"date": "YYYY-MM-DD", "name": "…"}, …]}.
std::map<LocalDay, std::string> DecodeHolidays(Decoder& d, const nlohmann::json& body);

// [{"addon": id, "quantity": n}, …] from body field "addons".
std::vector<commands::AddonLine> DecodeAddons(Decoder& d);

std::optional<std::uint64_t> ParseUnsigned(std::string_view s);

// Whether `id` is a Leitweg-ID (the routing id of a German public body's
// e-invoice inbox, BT-10): coarse address (2–12 digits), an optional fine
// address (1–30 letters or digits) and two check digits, joined by "-"; the
// check digits make the whole number ≡ 1 mod 97 (ISO 7064 MOD 97-10,
// letters counted as 10–35), as the Leitweg-ID format specification says.
bool IsLeitwegId(std::string_view id);

// An invoice recipient (§ 14 (4) Nr. 1 UStG) from the object `d` decodes:
// {name (default `default_name`), street, postcode, city, country (ISO
// 3166-1 alpha-2, default DE), leitweg_id (optional)}, as the JSON text to
// seal. Problems go to `d`.
std::string DecodeRecipient(Decoder& d, const std::string& default_name);
inline const std::vector<std::string> kRecipientFields = {"name", "street",  "postcode",
                                                          "city", "country", "leitweg_id"};

}  // namespace saalbuch::http
