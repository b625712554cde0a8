// saalbuchd's log: lines in logfmt (`ts=… level=info msg="…" key=value`)
// or, with --log-format json, one JSON object per line with the same keys,
// on standard error (the journal under systemd).
//
// The access log (one line per request, logger "access") is buffered and
// written at most a second late, or once 64 KiB have gathered: a write per
// request would cost a system call per request. Every other line is
// written at once, after the access lines before it, so the order holds.
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/logger.h>

#include <memory>
#include <string>

namespace saalbuch::http {

inline constexpr const char* kAccessLogger = "access";

// Formats a logfmt message as one JSON object: ts and level first, then
// each key=value of the message (a value of digits as a number, anything
// else as a string). A message that is not logfmt is the value of "msg".
class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// Makes the default logger ("saalbuchd") and the access logger, both on
// standard error. `format`: "text" or "json"; `level` as spdlog names it.
void SetUpLogging(const std::string& format, const std::string& level);

// Writes what is buffered; call before the process ends.
void FlushLogs();

}  // namespace saalbuch::http
