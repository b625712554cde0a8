// tools/payprovider/payprovider.py, the simulated payment provider, as a
// child process on a free loopback port (Debian's /usr/bin/python3).
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.h"

namespace saalbuch::testing_support {

class PayProvider {
 public:
  PayProvider(const std::string& api_key, const std::string& secret, const std::vector<std::string>& flags) {
    using std::chrono::milliseconds;
    dir_ = std::filesystem::temp_directory_path() / ("payprovider-" + RandomHex(8));
    std::filesystem::create_directories(dir_);
    const std::string port_file = (dir_ / "port").string();
    std::vector<std::string> args = {
        "python3",          SAALBUCH_TESTS_DIR "/../tools/payprovider/payprovider.py",
        "--port",           "0",
        "--port-file",      port_file,
        "--api-key",        api_key,
        "--webhook-secret", secret};
    args.insert(args.end(), flags.begin(), flags.end());
    // argv is built before fork: the child of a threaded process may only exec.
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execv("/usr/bin/python3", argv.data());
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(port_file);
      if (in >> port_ && port_ > 0) return;
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    ADD_FAILURE() << "payprovider.py did not start";
  }
  ~PayProvider() {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PayProvider(const PayProvider&) = delete;
  PayProvider& operator=(const PayProvider&) = delete;

  // SIGTERM and wait; SIGKILL if it has not exited after 5 s.
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace saalbuch::testing_support
