// Progress of a long run, for the command-line tools. Goes to stderr only,
// so that stdout can carry JSON. Silent during the first second (short runs
// print nothing); then on a terminal one line rewritten at most twice a
// second, elsewhere (CI logs, files) one line every ten seconds.
//
// Thread-safety: none; one Progress per running command.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace saalbuch::tools {

class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled), tty_(::isatty(STDERR_FILENO) == 1) {}
  ~Progress() { Done(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `done` of `total` units of `what` (total 0: unknown).
  void Update(const std::string& what, std::uint64_t done, std::uint64_t total = 0) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (now - start_ < std::chrono::seconds(1)) return;
    if (printed_ && now - last_ < (tty_ ? std::chrono::milliseconds(500) : std::chrono::seconds(10))) return;
    last_ = now;
    printed_ = true;
    line_open_ = tty_;
    std::string line = what + ": " + std::to_string(done);
    if (total > 0) {
      line += " of " + std::to_string(total) + " (" + std::to_string(done * 100 / total) + " %)";
    }
    line +=
        ", " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - start_).count()) + " s";
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
  }

  // Clears the rewritten line on a terminal, so that later output starts
  // clean.
  void Done() {
    if (line_open_) std::fputs("\r\033[K", stderr);
    line_open_ = false;
  }

 private:
  using Clock = std::chrono::steady_clock;
  const bool enabled_;
  const bool tty_;
  const Clock::time_point start_ = Clock::now();
  Clock::time_point last_;
  bool printed_ = false;    // something was printed (throttles the next line)
  bool line_open_ = false;  // a terminal line waits to be cleared
};

}  // namespace saalbuch::tools
