// Decoding JSON request bodies into command fields, collecting every
// problem (field and what is wrong) instead of stopping at the first.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/model.h"
#include "common/money.h"
#include "common/time.h"
#include "common/types.h"

namespace saalbuch::http {

class Decoder {
 public:
  // `allowed` lists the fields the object may have; others are reported.
  // An empty list skips that check.
  Decoder(const nlohmann::json& object, std::vector<std::string> allowed, std::string prefix = "");

  std::string Str(const char* name, bool required, std::size_t max_bytes, std::string fallback = "");
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

}  // namespace saalbuch::http
