// Status and Result<T>: the one way expected failures travel in Saalbuch.
//
// A Status is a code plus a human message. Result<T> holds either a value or
// a non-ok Status. Both are [[nodiscard]]; to drop one on purpose write
// `IgnoreError(expr)` so that it can be found with grep.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace saalbuch {

enum class StatusCode {
  kOk = 0,
  kNotFound,
  kInvalidArgument,  // the caller's input is wrong
  kConflict,         // the state does not allow it (version, duplicate)
  kCorruption,       // stored bytes fail a check
  kIOError,          // the storage failed
  kPoisoned,         // an earlier write failed; the log refuses until restart
  kUnavailable,      // shutting down, overloaded or not ready
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline const char* StatusCodeName(StatusCode c) {
  switch (c) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kConflict:
      return "conflict";
    case StatusCode::kCorruption:
      return "corruption";
    case StatusCode::kIOError:
      return "io_error";
    case StatusCode::kPoisoned:
      return "poisoned";
    case StatusCode::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

inline std::string Status::ToString() const {
  return ok() ? "ok" : std::string(StatusCodeName(code_)) + ": " + message_;
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T value_or(T fallback) const { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

// Drops a Status or Result on purpose; grep for IgnoreError to find them all.
template <typename T>
void IgnoreError(T&&) {}

}  // namespace saalbuch
