#include "http/decode.h"

#include <charconv>

#include "common/time.h"

namespace saalbuch::http {

using nlohmann::json;

Decoder::Decoder(const json& object, std::vector<std::string> allowed, std::string prefix)
    : Decoder(object, std::move(allowed), std::move(prefix), std::make_shared<json>(json::array())) {}

Decoder::Decoder(const json& object, std::vector<std::string> allowed, std::string prefix,
                 std::shared_ptr<json> errors)
    : obj_(object), prefix_(std::move(prefix)), errors_(std::move(errors)) {
  if (!obj_.is_object()) {
    Error("", "must be a JSON object");
    return;
  }
  if (allowed.empty()) return;
  for (const auto& [k, v] : obj_.items()) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) Error(k, "unknown field");
  }
}

Decoder Decoder::Nested(const json& object, std::vector<std::string> allowed, const std::string& prefix) {
  return Decoder(object, std::move(allowed), prefix_ + prefix, errors_);
}

void Decoder::Error(const std::string& field, const std::string& problem) {
  std::string name = prefix_ + field;
  if (!name.empty() && name.back() == '.') name.pop_back();
  errors_->push_back({{"field", name}, {"problem", problem}});
}

std::string Decoder::Str(const char* name, bool required, std::size_t max_bytes, std::string fallback) {
  if (!obj_.is_object()) return fallback;
  auto it = obj_.find(name);
  if (it == obj_.end() || it->is_null()) {
    if (required) Error(name, "required");
    return fallback;
  }
  if (!it->is_string()) {
    Error(name, "must be a string");
    return fallback;
  }
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_bytes) {
    Error(name, "longer than " + std::to_string(max_bytes) + " bytes");
    return fallback;
  }
  if (required && s.empty()) Error(name, "must not be empty");
  return s;
}

bool Decoder::Bool(const char* name, bool fallback) {
  if (!obj_.is_object()) return fallback;
  auto it = obj_.find(name);
  if (it == obj_.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) {
    Error(name, "must be true or false");
    return fallback;
  }
  return it->get<bool>();
}

json Decoder::Array(const char* name, std::size_t max_items) {
  if (!obj_.is_object()) return json::array();
  auto it = obj_.find(name);
  if (it == obj_.end() || it->is_null()) return json::array();
  if (!it->is_array()) {
    Error(name, "must be an array");
    return json::array();
  }
  if (it->size() > max_items) {
    Error(name, "has more than " + std::to_string(max_items) + " items");
    return json::array();
  }
  return *it;
}

std::vector<commands::AddonLine> DecodeAddons(Decoder& d) {
  std::vector<commands::AddonLine> out;
  const json list = d.Array("addons", 50);
  for (std::size_t i = 0; i < list.size(); ++i) {
    Decoder a = d.Nested(list[i], {"addon", "quantity"}, "addons[" + std::to_string(i) + "].");
    commands::AddonLine line;
    line.addon = a.Str("addon", true, 64);
    line.quantity = static_cast<std::uint32_t>(a.Int("quantity", 1, 100000, 1));
    out.push_back(std::move(line));
  }
  return out;
}

TimeUs Decoder::Time(const char* name, bool required) {
  std::string s = Str(name, required, 64);
  if (s.empty()) return 0;
  auto t = ParseRfc3339(s);
  if (!t.ok()) {
    Error(name, t.status().message());
    return 0;
  }
  return *t;
}

std::int64_t Decoder::Int(const char* name, std::int64_t min, std::int64_t max, std::int64_t fallback) {
  if (!obj_.is_object()) return fallback;
  auto it = obj_.find(name);
  if (it == obj_.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) {
    Error(name, "must be an integer");
    return fallback;
  }
  // Unsigned JSON numbers above int64 range arrive as number_unsigned.
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    Error(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return fallback;
  }
  auto v = it->get<std::int64_t>();
  if (v < min || v > max) {
    Error(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return fallback;
  }
  return v;
}

Money Decoder::MoneyField(const char* name, bool required, std::int64_t min, std::int64_t max) {
  Money m;
  auto it = obj_.is_object() ? obj_.find(name) : obj_.end();
  if (it == obj_.end() || it->is_null()) {
    if (required) Error(name, "required");
    return m;
  }
  if (!it->is_object()) {
    Error(name, "must be {\"amount\": <minor units>, \"currency\": \"EUR\"}");
    return m;
  }
  Decoder d = Nested(*it, {"amount", "currency"}, std::string(name) + ".");
  if (!it->contains("amount")) d.Error("amount", "required");
  m.amount = d.Int("amount", min, max, 0);
  m.currency = d.Str("currency", true, 3);
  if (!m.currency.empty() && !IsValidCurrency(m.currency)) d.Error("currency", "must be an ISO 4217 code");
  return m;
}

namespace {

// "HH:MM" (00:00–24:00) → minutes, or -1.
int ParseClock(const std::string& s) {
  if (s.size() != 5 || s[2] != ':') return -1;
  int h = 0, m = 0;
  if (std::from_chars(s.data(), s.data() + 2, h).ptr != s.data() + 2) return -1;
  if (std::from_chars(s.data() + 3, s.data() + 5, m).ptr != s.data() + 5) return -1;
  if (h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0)) return -1;
  return h * 60 + m;
}

int ParseWeekday(const json& v) {
  static const char* kNames[] = {"monday", "tuesday",  "wednesday", "thursday",
                                 "friday", "saturday", "sunday"};
  if (v.is_number_integer()) {
    auto n = v.get<std::int64_t>();
    return n >= 1 && n <= 7 ? static_cast<int>(n) : -1;
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    for (int i = 0; i < 7; ++i) {
      if (s == kNames[i] || (s.size() == 3 && std::string(kNames[i]).starts_with(s))) return i + 1;
    }
  }
  return -1;
}

}  // namespace

commands::Rules DecodeRules(Decoder& parent, const json& rules, const std::string& prefix) {
  Decoder d = parent.Nested(rules,
                            {"opening_hours", "special_days", "closures", "buffer_before_minutes",
                             "buffer_after_minutes", "granularity_minutes", "min_duration_minutes",
                             "max_duration_minutes", "lead_time_minutes", "horizon_days"},
                            prefix);
  commands::Rules r;
  if (!rules.is_object()) return r;
  constexpr std::int64_t kMaxMinutes = 366LL * 24 * 60;
  r.buffer_before = d.Int("buffer_before_minutes", 0, std::int64_t{24} * 60) * kUsPerMinute;
  r.buffer_after = d.Int("buffer_after_minutes", 0, std::int64_t{24} * 60) * kUsPerMinute;
  r.granularity = d.Int("granularity_minutes", 0, std::int64_t{24} * 60) * kUsPerMinute;
  r.min_duration = d.Int("min_duration_minutes", 0, kMaxMinutes) * kUsPerMinute;
  r.max_duration = d.Int("max_duration_minutes", 0, kMaxMinutes) * kUsPerMinute;
  r.lead_time = d.Int("lead_time_minutes", 0, kMaxMinutes) * kUsPerMinute;
  r.horizon = d.Int("horizon_days", 0, 3660) * 24 * 60 * kUsPerMinute;
  auto it = rules.find("opening_hours");
  if (it == rules.end() || !it->is_array()) {
    d.Error("opening_hours", "required: a list of {weekday, start, end}");
    return r;
  }
  if (it->size() > std::size_t{7} * 24) {
    d.Error("opening_hours", "at most 168 intervals");
    return r;
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& h = (*it)[i];
    const std::string at = "opening_hours[" + std::to_string(i) + "].";
    Decoder hd = d.Nested(h, {"weekday", "start", "end"}, at);
    if (!h.is_object()) continue;
    int wd = h.contains("weekday") ? ParseWeekday(h["weekday"]) : -1;
    if (wd < 0) hd.Error("weekday", "1–7 (Monday = 1) or a day name such as \"monday\"");
    int start = ParseClock(hd.Str("start", true, 5));
    int end = ParseClock(hd.Str("end", true, 5));
    if (start < 0) hd.Error("start", "a local time HH:MM");
    if (end < 0) hd.Error("end", "a local time HH:MM (24:00 allowed)");
    if (start >= 0 && end >= 0 && end <= start) hd.Error("end", "must be after start (same day)");
    if (wd > 0 && start >= 0 && end > start) r.opening.push_back({wd, start, end});
  }
  if (auto sd = rules.find("special_days"); sd != rules.end()) {
    if (!sd->is_array() || sd->size() > 1000) {
      d.Error("special_days", "a list of at most 1000 {date, opening_hours}");
    } else {
      for (std::size_t i = 0; i < sd->size(); ++i) {
        const json& day = (*sd)[i];
        Decoder dd = d.Nested(day, {"date", "opening_hours"}, "special_days[" + std::to_string(i) + "].");
        auto date = ParseLocalDay(dd.Str("date", true, 10));
        if (!date) dd.Error("date", "a date YYYY-MM-DD");
        std::vector<DayInterval> hours;
        const json* list = day.is_object() && day.contains("opening_hours") ? &day["opening_hours"] : nullptr;
        if (list == nullptr || !list->is_array() || list->size() > 24) {
          dd.Error("opening_hours", "required: a list (empty: closed that day) of at most 24 {start, end}");
          continue;
        }
        for (std::size_t j = 0; j < list->size(); ++j) {
          Decoder hd = dd.Nested((*list)[j], {"start", "end"}, "opening_hours[" + std::to_string(j) + "].");
          int start = ParseClock(hd.Str("start", true, 5));
          int end = ParseClock(hd.Str("end", true, 5));
          if (start < 0 || end < 0 || end <= start) {
            hd.Error("end", "start and end are local times HH:MM with start < end");
          } else {
            hours.push_back({start, end});
          }
        }
        if (date) {
          if (r.special_days.count(*date) != 0) dd.Error("date", "given twice");
          r.special_days[*date] = std::move(hours);
        }
      }
    }
  }
  if (auto cl = rules.find("closures"); cl != rules.end()) {
    if (!cl->is_array() || cl->size() > 1000) {
      d.Error("closures", "a list of at most 1000 {from, to, reason}");
    } else {
      for (std::size_t i = 0; i < cl->size(); ++i) {
        Decoder cd = d.Nested((*cl)[i], {"from", "to", "reason"}, "closures[" + std::to_string(i) + "].");
        auto from = ParseLocalDay(cd.Str("from", true, 10));
        auto to = ParseLocalDay(cd.Str("to", true, 10));
        std::string reason = cd.Str("reason", false, 200);
        if (!from) cd.Error("from", "a date YYYY-MM-DD");
        if (!to) cd.Error("to", "a date YYYY-MM-DD (inclusive)");
        if (from && to) r.closures.push_back({*from, *to, reason});
      }
    }
  }
  return r;
}

std::map<LocalDay, std::string> DecodeHolidays(Decoder& parent, const json& body) {
  std::map<LocalDay, std::string> out;
  Decoder d = parent.Nested(body, {"holidays"}, "");
  auto it = body.is_object() ? body.find("holidays") : body.end();
  if (!body.is_object() || it == body.end() || !it->is_array() || it->size() > 1000) {
    d.Error("holidays", "required: a list of at most 1000 {date, name}");
    return out;
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    Decoder hd = d.Nested((*it)[i], {"date", "name"}, "holidays[" + std::to_string(i) + "].");
    auto day = ParseLocalDay(hd.Str("date", true, 10));
    std::string name = hd.Str("name", false, 200);
    if (!day) {
      hd.Error("date", "a date YYYY-MM-DD");
    } else if (!out.emplace(*day, name).second) {
      hd.Error("date", "given twice");
    }
  }
  return out;
}

std::optional<std::uint64_t> ParseUnsigned(std::string_view s) {
  std::uint64_t v = 0;
  if (s.empty() || s.size() > 19) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace saalbuch::http
