#include "http/decode.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <unordered_set>

#include "common/time.h"

namespace saalbuch::http {

namespace {

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    // '+' stays '+': RFC 3986 query strings, so that "+02:00" offsets work
    // unencoded from curl.
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

Target ParseTarget(std::string_view target) {
  Target t;
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::size_t pos = 0;
  while (pos < path.size()) {
    auto next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    if (next > pos) t.segments.push_back(PercentDecode(path.substr(pos, next - pos)));
    pos = next + 1;
  }
  if (q != std::string_view::npos) {
    std::string_view qs = target.substr(q + 1);
    pos = 0;
    while (pos < qs.size()) {
      auto next = qs.find('&', pos);
      if (next == std::string_view::npos) next = qs.size();
      auto kv = qs.substr(pos, next - pos);
      auto eq = kv.find('=');
      if (!kv.empty()) {
        t.query[PercentDecode(kv.substr(0, eq))] =
            eq == std::string_view::npos ? "" : PercentDecode(kv.substr(eq + 1));
      }
      pos = next + 1;
    }
  }
  return t;
}

using nlohmann::json;

namespace {

std::string CodePoint(std::uint32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

}  // namespace

std::string TextProblem(std::string_view text, Lines lines) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned char b = *p;
    std::uint32_t cp = 0;
    std::size_t n = 0;
    if (b < 0x80) {
      cp = b;
      n = 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
      cp = b & 0x1FU;
      n = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      cp = b & 0x0FU;
      n = 3;
    } else if (b >= 0xF0 && b <= 0xF4) {
      cp = b & 0x07U;
      n = 4;
    } else {
      return "is not valid UTF-8";
    }
    if (static_cast<std::size_t>(end - p) < n) return "is not valid UTF-8";
    for (std::size_t i = 1; i < n; ++i) {
      if ((p[i] & 0xC0U) != 0x80U) return "is not valid UTF-8";
      cp = (cp << 6) | (p[i] & 0x3FU);
    }
    // Overlong forms, surrogates and code points beyond U+10FFFF.
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return "is not valid UTF-8";
    }
    const bool control = cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
    const bool line_break = cp == '\t' || cp == '\n';
    if (control && !(line_break && lines == Lines::kMany)) {
      return "contains the control character " + CodePoint(cp) +
             (line_break ? " (this field is one line)" : "");
    }
    p += n;
  }
  return "";
}

namespace {

// Checks keys and strings as nlohmann::json's parser reports them, with the
// path to each in Decoder's spelling.
class StrictChecker {
 public:
  explicit StrictChecker(StrictJson* out) : out_(out) {}

  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        frames_.push_back(Frame{true, {}, {}, 0});
        break;
      case json::parse_event_t::array_start:
        frames_.push_back(Frame{false, {}, {}, 0});
        break;
      case json::parse_event_t::key: {
        Frame& f = frames_.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second && duplicate_.empty()) {
          duplicate_ = f.key;
          duplicate_at_ = Path();
        }
        if (auto problem = TextProblem(f.key, Lines::kOne); !problem.empty()) {
          BadText(Path(), "a key " + problem);
        }
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames_.pop_back();
        Next();
        break;
      case json::parse_event_t::value:
        if (parsed.is_string()) {
          if (auto problem = TextProblem(parsed.get_ref<const std::string&>(), Lines::kMany);
              !problem.empty()) {
            BadText(Path(), problem);
          }
        }
        Next();
        break;
    }
    return true;
  }

  const std::string& duplicate() const { return duplicate_; }
  const std::string& duplicate_at() const { return duplicate_at_; }

 private:
  struct Frame {
    bool object;
    std::unordered_set<std::string> keys;
    std::string key;        // object: the current member's
    std::size_t index = 0;  // array: the current element's
  };
  // Done with the current element of the enclosing array.
  void Next() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
  }
  std::string Path() const {
    std::string p;
    for (const Frame& f : frames_) {
      if (!f.object) {
        p += '[';
        p += std::to_string(f.index);
        p += ']';
      } else {
        if (!p.empty()) p += '.';
        p += f.key;
      }
    }
    return p;
  }
  void BadText(const std::string& field, const std::string& problem) {
    constexpr std::size_t kMaxReported = 20;
    auto& fields = out_->details["fields"];
    if (fields.size() < kMaxReported) fields.push_back({{"field", field}, {"problem", problem}});
  }

  StrictJson* out_;
  std::vector<Frame> frames_;
  std::string duplicate_, duplicate_at_;
};

}  // namespace

StrictJson ParseStrictJson(std::string_view text) {
  StrictJson out;
  out.details = json::object();
  StrictChecker checker(&out);
  out.value = json::parse(
      text.begin(), text.end(),
      [&checker](int depth, json::parse_event_t event, json& parsed) {
        return checker(depth, event, parsed);
      },
      /*allow_exceptions=*/false);
  if (out.value.is_discarded()) {
    out.outcome = StrictJson::Outcome::kMalformed;
    out.detail = "the request body is not valid JSON (UTF-8)";
    out.details = json::object();
  } else if (!checker.duplicate().empty()) {
    out.outcome = StrictJson::Outcome::kMalformed;
    out.detail = "the key \"" + checker.duplicate() + "\" is given twice in one object";
    out.details = {{"key", checker.duplicate()}, {"field", checker.duplicate_at()}};
  } else if (out.details.contains("fields")) {
    out.outcome = StrictJson::Outcome::kBadText;
  }
  if (out.outcome != StrictJson::Outcome::kOk) out.value = json();
  return out;
}

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
  return String(name, required, max_bytes, std::move(fallback), Lines::kOne);
}

std::string Decoder::Text(const char* name, bool required, std::size_t max_bytes) {
  return String(name, required, max_bytes, "", Lines::kMany);
}

std::string Decoder::String(const char* name, bool required, std::size_t max_bytes, std::string fallback,
                            Lines lines) {
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
  if (auto problem = TextProblem(s, lines); !problem.empty()) {
    Error(name, problem);
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

bool IsLeitwegId(std::string_view id) {
  const std::size_t first = id.find('-'), last = id.rfind('-');
  if (first == std::string_view::npos || first < 2 || first > 12 || id.size() - last != 3) return false;
  if (last != first && (last - first - 1 < 1 || last - first - 1 > 30)) return false;
  int rest = 0;  // the number's value mod 97, digit by digit
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char ch = id[i];
    if (ch == '-') {
      if (i != first && i != last) return false;
      continue;
    }
    const bool digit = ch >= '0' && ch <= '9';
    const bool letter = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
    if (!digit && !(letter && i > first && i < last)) return false;
    if (digit) {
      rest = (rest * 10 + (ch - '0')) % 97;
    } else {
      rest = (rest * 100 + (std::toupper(static_cast<unsigned char>(ch)) - 'A' + 10)) % 97;
    }
  }
  return rest == 1;
}

std::string DecodeRecipient(Decoder& d, const std::string& default_name) {
  json r = {{"name", d.Str("name", false, 200, default_name)},
            {"street", d.Str("street", true, 200)},
            {"postcode", d.Str("postcode", true, 16)},
            {"city", d.Str("city", true, 100)},
            {"country", d.Str("country", false, 2, "DE")}};
  if (r["name"].get<std::string>().empty()) d.Error("name", "required: the invoice recipient's name");
  const std::string country = r["country"];
  if (country.size() != 2 || !std::isupper(static_cast<unsigned char>(country[0])) ||
      !std::isupper(static_cast<unsigned char>(country[1]))) {
    d.Error("country", "must be a two-letter country code (ISO 3166-1), such as DE");
  }
  if (std::string leitweg = d.Str("leitweg_id", false, 46); !leitweg.empty()) {
    if (!IsLeitwegId(leitweg)) {
      d.Error("leitweg_id",
              "is not a Leitweg-ID (such as 04011000-1234512345-06; its check digits must match)");
    }
    r["leitweg_id"] = leitweg;
  }
  return r.dump();
}

}  // namespace saalbuch::http
