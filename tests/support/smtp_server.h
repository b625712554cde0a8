// aiosmtpd (Debian's python3-aiosmtpd) as a real SMTP server on a free
// loopback port, delivering every message into a maildir.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace saalbuch::testing_support {

// aiosmtpd on a loopback port, storing every message in a maildir.
class SmtpServer {
 public:
  explicit SmtpServer(std::filesystem::path maildir) : maildir_(std::move(maildir)) {
    // A free loopback port, from the kernel.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
    ::close(fd);
  }
  ~SmtpServer() { Stop(); }
  int port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }

  void Start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string listen = "127.0.0.1:" + std::to_string(port_);
      ::execl("/usr/bin/python3", "python3", "-m", "aiosmtpd", "-n", "-l", listen.c_str(), "-c",
              "aiosmtpd.handlers.Mailbox", maildir_.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Ready once the port accepts connections.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<std::uint16_t>(port_));
      const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      ::close(fd);
      if (up) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "aiosmtpd did not start on port " << port_;
  }
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // Every message delivered so far, as text.
  std::vector<std::string> Messages() const {
    std::vector<std::string> out;
    if (!std::filesystem::exists(maildir_ / "new")) return out;
    for (const auto& f : std::filesystem::directory_iterator(maildir_ / "new")) {
      std::ifstream in(f.path(), std::ios::binary);
      out.emplace_back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    return out;
  }
  // Waits until at least `n` messages arrived.
  std::vector<std::string> WaitFor(std::size_t n,
                                   std::chrono::seconds timeout = std::chrono::seconds(15)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto m = Messages();
    while (m.size() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      m = Messages();
    }
    return m;
  }

 private:
  std::filesystem::path maildir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace saalbuch::testing_support
