// A peer written in Python (Debian's /usr/bin/python3) as a child process on
// a free loopback port: the script is started with "--port 0 --port-file
// <file>" and must write the port it bound to that file. The payment
// provider (tools/payprovider) and the lock provider (tools/locksim) run
// this way.
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

class PythonPeer {
 public:
  PythonPeer(const std::string& script, const std::vector<std::string>& flags) {
    using std::chrono::milliseconds;
    name_ = std::filesystem::path(script).filename().string();
    dir_ = std::filesystem::temp_directory_path() / ("peer-" + RandomHex(8));
    std::filesystem::create_directories(dir_);
    const std::string port_file = (dir_ / "port").string();
    std::vector<std::string> args = {"python3", script, "--port", "0", "--port-file", port_file};
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
    ADD_FAILURE() << name_ << " did not start";
  }
  ~PythonPeer() {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PythonPeer(const PythonPeer&) = delete;
  PythonPeer& operator=(const PythonPeer&) = delete;

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
  std::string name_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace saalbuch::testing_support
