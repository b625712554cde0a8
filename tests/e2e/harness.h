// End-to-end harness: the real saalbuchd binary on a loopback port, driven
// by a real HTTP client (Boost.Beast), and the real saalbuch-replay tool.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/time.h"

namespace rocksdb {
class Env;
}

namespace saalbuch::e2e {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  nlohmann::json json() const;
  std::string header(const std::string& name) const;
};

// One HTTP/1.1 request per connection. Throws on connection failure.
// Every reply from a Server or InProcessServer of this program is checked
// against http/openapi.json (ExpectDocumented).
// Reads one reply from `socket` (no body for a HEAD), then shuts it down.
HttpResult ReadReply(boost::asio::ip::tcp::socket& socket, bool head = false);

HttpResult Call(int port, const std::string& method, const std::string& target, const std::string& body = "",
                const std::map<std::string, std::string>& headers = {});

// Convenience: JSON body with Content-Type, optional bearer key.
HttpResult CallJson(int port, const std::string& method, const std::string& target,
                    const nlohmann::json& body, const std::string& key = "",
                    std::map<std::string, std::string> headers = {});

// Adds a test failure unless http/openapi.json describes this reply: the
// operation (path template and method), the status and the media type,
// and for a JSON body (application/json, application/problem+json) the
// response schema. A path or method the document does not describe must
// be answered with a problem document. The checker is
// tests/support/check_reply.py (python3-jsonschema), one process per test
// program, started on first use; SAALBUCH_E2E_CHECK_REPLIES=0 turns it off.
void ExpectDocumented(const std::string& method, const std::string& target, const HttpResult& reply);

inline constexpr const char* kOperatorKey = "e2e-operator-key-0123456789abcdef";

// A saalbuchd process. Not copyable.
class Server {
 public:
  explicit Server(std::filesystem::path data, std::vector<std::string> extra_args = {});
  ~Server();  // kills the process if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void Start();     // waits until it prints its URL
  void Kill();      // SIGKILL, wait
  int Terminate();  // SIGTERM, wait; returns the exit status
  int port() const { return port_; }
  const std::string& stdout_text() const { return stdout_; }

 private:
  std::filesystem::path data_;
  std::vector<std::string> extra_;
  int pid_ = -1;
  int port_ = 0;
  std::string stdout_;
};

// A saalbuch-replay witness process (tools/replay/witness.h) on a loopback
// port, its key and state in `dir`, witnessing the logs of `log_keys`
// (checkpoint verifier keys). Start() again after Kill() keeps key, state
// and port. Not copyable.
class WitnessProcess {
 public:
  WitnessProcess(std::filesystem::path dir, std::vector<std::string> log_keys);
  ~WitnessProcess();  // kills the process if still running
  WitnessProcess(const WitnessProcess&) = delete;
  WitnessProcess& operator=(const WitnessProcess&) = delete;

  void Start();  // waits until it listens
  void Kill();   // SIGKILL, wait
  int port() const { return port_; }
  static std::string name() { return "rpa.example/witness"; }
  const std::string& verifier_key() const { return verifier_key_; }
  // saalbuchd's --witness value.
  std::string spec() const { return verifier_key_ + "@http://127.0.0.1:" + std::to_string(port_); }
  std::filesystem::path state_dir() const { return dir_ / "state"; }
  // The latest checkpoint it cosigned of the log `origin`.
  std::filesystem::path state_file(const std::string& origin) const;

 private:
  std::filesystem::path dir_;
  std::vector<std::string> logs_;
  std::string verifier_key_;
  int pid_ = -1;
  int port_ = 0;
};

// saalbuchd's parts — database, log, command bus, projections, HTTP API and
// server — wired together as http/saalbuchd.cc does, but in this process and
// over a RocksDB Env the test controls: storage faults seen through the real
// HTTP stack. Operator key kOperatorKey; rate limits off. Not copyable.
class InProcessServer {
 public:
  // Opens `data`/db through `env` (nullptr: the default Env; not owned, must
  // outlive the server) and serves on a free loopback port. Throws
  // std::runtime_error when the database, the bus or the projections do not
  // start.
  // `clock` (empty: the system clock) is the command bus's: decisions see
  // its time, as saalbuchd's see the wall clock. `snapshot_every` is the
  // bus's (--snapshot-every; 0: its default); `write_buffer_bytes` the
  // store's (ledger::DatabaseOptions).
  InProcessServer(const std::filesystem::path& data, rocksdb::Env* env, std::function<TimeUs()> clock = {},
                  std::uint64_t snapshot_every = 0, std::size_t write_buffer_bytes = 0);
  ~InProcessServer();  // stops as saalbuchd does on SIGTERM, closes the database
  InProcessServer(const InProcessServer&) = delete;
  InProcessServer& operator=(const InProcessServer&) = delete;

  int port() const;

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

struct ToolResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs saalbuch-replay with `args`, capturing stdout and stderr.
ToolResult Replay(const std::vector<std::string>& args);
// Runs saalbuch-backup with `args`, capturing stdout and stderr.
ToolResult BackupTool(const std::vector<std::string>& args);
// Runs the program at `path` with `args`, capturing stdout and stderr.
ToolResult RunTool(const std::string& path, const std::vector<std::string>& args);

// The tenant's latest signed checkpoint (GET …/checkpoint with `key`) once
// it covers position `at_least`, polled for up to 15 s; null if none did.
nlohmann::json CheckpointCovering(int port, const std::string& tenant, const std::string& key, Seq at_least);

// A fresh directory under the test temp dir, removed by the caller's fixture.
std::filesystem::path FreshDir(const std::string& name);

}  // namespace saalbuch::e2e
