#include "http/logging.h"

#include <fmt/chrono.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace saalbuch::http {

namespace {

// Standard error, written whole lines at a time (see logging.h).
class StderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    formatter_->format(msg, buffer_);
    if (msg.logger_name != kAccessLogger || buffer_.size() >= kMaxBuffered) flush_();
  }
  void flush_() override {
    const char* p = buffer_.data();
    std::size_t left = buffer_.size();
    while (left > 0) {
      const ssize_t n = ::write(STDERR_FILENO, p, left);
      if (n < 0 && errno == EINTR) continue;
      // A closed or full standard error loses log lines, never the service.
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    buffer_.clear();
  }

 private:
  static constexpr std::size_t kMaxBuffered = std::size_t{64} * 1024;
  spdlog::memory_buf_t buffer_;
};

std::shared_ptr<StderrSink>& Sink() {
  static auto sink = std::make_shared<StderrSink>();
  return sink;
}

// The key=value pairs of a logfmt line; nullopt when it is not one.
std::optional<std::vector<std::pair<std::string, std::string>>> Logfmt(std::string_view s) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ') {
      ++i;
      continue;
    }
    const std::size_t eq = s.find('=', i);
    if (eq == std::string_view::npos || eq == i) return std::nullopt;
    std::string key(s.substr(i, eq - i));
    if (key.find_first_of(" \"") != std::string::npos) return std::nullopt;
    i = eq + 1;
    std::string value;
    if (i < s.size() && s[i] == '"') {
      ++i;
      for (;; ++i) {
        if (i >= s.size()) return std::nullopt;
        if (s[i] == '\\' && i + 1 < s.size()) {
          value += s[++i];
          continue;
        }
        if (s[i] == '"') break;
        value += s[i];
      }
      ++i;
      if (i < s.size() && s[i] != ' ') return std::nullopt;
    } else {
      const std::size_t end = std::min(s.find(' ', i), s.size());
      value = std::string(s.substr(i, end - i));
      i = end;
    }
    pairs.emplace_back(std::move(key), std::move(value));
  }
  if (pairs.empty()) return std::nullopt;
  return pairs;
}

bool IsNumber(std::string_view v) {
  if (v.empty() || v.size() > 18) return false;
  bool dot = false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '.' && !dot && i > 0 && i + 1 < v.size()) {
      dot = true;
    } else if (v[i] < '0' || v[i] > '9') {
      return false;
    }
  }
  return v.size() == 1 || v[0] != '0' || v[1] == '.';
}

}  // namespace

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  nlohmann::ordered_json line;
  const auto since = msg.time.time_since_epoch();
  const std::time_t secs = std::chrono::duration_cast<std::chrono::seconds>(since).count();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since).count() % 1000000;
  line["ts"] = fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06}Z", fmt::gmtime(secs), micros);
  const auto level = spdlog::level::to_string_view(msg.level);
  line["level"] = std::string(level.data(), level.size());
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  if (auto pairs = Logfmt(payload)) {
    for (auto& [key, value] : *pairs) {
      if (key == "ts" || key == "level") continue;
      if (IsNumber(value)) {
        line[key] = nlohmann::json::parse(value);
      } else {
        line[key] = std::move(value);
      }
    }
  } else {
    line["msg"] = std::string(payload);
  }
  const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  dest.append(text.data(), text.data() + text.size());
  dest.push_back('\n');
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

void SetUpLogging(const std::string& format, const std::string& level) {
  auto sink = Sink();
  if (format == "json") {
    sink->set_formatter(std::make_unique<JsonLogFormatter>());
  } else {
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("ts=%Y-%m-%dT%H:%M:%S.%fZ level=%l %v",
                                                                    spdlog::pattern_time_type::utc));
  }
  auto main = std::make_shared<spdlog::logger>("saalbuchd", sink);
  auto access = std::make_shared<spdlog::logger>(kAccessLogger, sink);
  for (auto* logger : {main.get(), access.get()}) logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(main);
  spdlog::register_logger(access);
  spdlog::flush_every(std::chrono::seconds(1));
}

void FlushLogs() {
  if (auto access = spdlog::get(kAccessLogger)) access->flush();
}

}  // namespace saalbuch::http
