#include "tests/e2e/harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include "commands/bus.h"
#include "http/api.h"
#include "http/server.h"
#include "ledger/database.h"
#include "ledger/rocks_log.h"
#include "projections/runner.h"

namespace saalbuch::e2e {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// One tests/support/check_reply.py per test program, started on the first
// reply and fed one JSON line per reply over a socket pair (its stdin and
// stdout); it answers one line. Calls from several threads take turns.
class ReplyChecker {
 public:
  static ReplyChecker& Get() {
    static auto* checker = new ReplyChecker();  // never destroyed: threads may still call
    return *checker;
  }

  // Empty when the reply is documented; otherwise what is wrong.
  std::string Check(const nlohmann::json& reply) {
    std::lock_guard lock(mu_);
    if (broken_) return {};  // reported once, when it broke
    if (fd_ < 0 && !Start()) return Broke("could not start " + Script());
    std::string line = reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    for (std::size_t sent = 0; sent < line.size();) {
      const ssize_t n = ::send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Broke(Script() + " stopped (see its message on stderr)");
      sent += static_cast<std::size_t>(n);
    }
    std::size_t end;
    while ((end = buffer_.find('\n')) == std::string::npos) {
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Broke(Script() + " stopped (see its message on stderr)");
      buffer_.append(buf, static_cast<std::size_t>(n));
    }
    const auto verdict = nlohmann::json::parse(buffer_.substr(0, end), nullptr, false);
    buffer_.erase(0, end + 1);
    if (verdict.is_discarded() || !verdict.is_object()) return "unreadable verdict from " + Script();
    if (verdict.value("ok", false)) return {};
    return verdict.value("error", std::string("(no message)"));
  }

  static bool Enabled() {
    const char* v = std::getenv("SAALBUCH_E2E_CHECK_REPLIES");
    return v == nullptr || std::string(v) != "0";
  }

 private:
  static std::string Script() { return SAALBUCH_TESTS_DIR "/support/check_reply.py"; }

  std::string Broke(const std::string& why) {
    broken_ = true;
    return why + "; no further replies are checked in this test program";
  }

  bool Start() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return false;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, sv[1], 0);
    posix_spawn_file_actions_adddup2(&actions, sv[1], 1);
    std::string python = "/usr/bin/python3", script = Script(),
                document = SAALBUCH_TESTS_DIR "/../http/openapi.json";
    char* argv[] = {python.data(), script.data(), document.data(), nullptr};
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, python.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(sv[1]);
    if (rc != 0) {
      ::close(sv[0]);
      return false;
    }
    fd_ = sv[0];  // the checker exits when this closes, with the test program
    return true;
  }

  std::mutex mu_;
  int fd_ = -1;          // guarded by mu_
  bool broken_ = false;  // guarded by mu_
  std::string buffer_;   // guarded by mu_
};

// The ports saalbuchd servers of this program listen on: only their replies
// are checked (tests also talk to the payment provider's simulator).
class ServerPorts {
 public:
  static void Add(int port) {
    std::lock_guard lock(mu());
    ports().insert(port);
  }
  static void Remove(int port) {
    std::lock_guard lock(mu());
    if (auto it = ports().find(port); it != ports().end()) ports().erase(it);
  }
  static bool Has(int port) {
    std::lock_guard lock(mu());
    return ports().count(port) != 0;
  }

 private:
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  static std::multiset<int>& ports() {
    static std::multiset<int> p;
    return p;
  }
};

bool IsJson(const std::string& content_type) {
  const std::string type = content_type.substr(0, content_type.find(';'));
  return type == "application/json" || type == "application/problem+json";
}

// Starts args[0] with `args`: stdout on `out`, stderr on `err_fd` (or,
// when it is -1, appended to `err_path`), `close_in_child` closed, and
// `env` ("NAME=value") over this process's environment. Returns the pid,
// or -1 with *error set. posix_spawn and not fork: after a fork only one
// thread lives on in the child, and if another one held a lock (malloc's,
// the sanitizers' allocator's) the child's first allocation hung forever;
// an ASan run of a test with an in-process server and a tool did.
pid_t Spawn(std::vector<std::string> args, int out, int close_in_child, int err_fd,
            const std::string& err_path, const std::vector<std::string>& env, int* error) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out, 1);
  if (err_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  posix_spawn_file_actions_addclose(&actions, close_in_child);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string var = *e;
    const bool replaced = std::any_of(env.begin(), env.end(), [&](const std::string& v) {
      return var.compare(0, v.find('=') + 1, v, 0, v.find('=') + 1) == 0;
    });
    if (!replaced) vars.push_back(var);
  }
  vars.insert(vars.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  *error = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return *error == 0 ? pid : -1;
}

}  // namespace

void ExpectDocumented(const std::string& method, const std::string& target, const HttpResult& reply) {
  if (!ReplyChecker::Enabled()) return;
  const std::string content_type = reply.header("content-type");
  nlohmann::json line = {{"method", method},
                         {"target", target},
                         {"status", reply.status},
                         {"content_type", content_type},
                         {"has_body", !reply.body.empty()}};
  if (IsJson(content_type)) line["body"] = reply.body;
  const std::string error = ReplyChecker::Get().Check(line);
  if (!error.empty()) {
    ADD_FAILURE() << "the reply to " << method << " " << target << " (" << reply.status
                  << ") is not as http/openapi.json documents it: " << error
                  << "\n  body: " << reply.body.substr(0, 600);
  }
}

nlohmann::json HttpResult::json() const {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) throw std::runtime_error("response is not JSON: " + body.substr(0, 200));
  return j;
}

std::string HttpResult::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

HttpResult Call(int port, const std::string& method, const std::string& target, const std::string& body,
                const std::map<std::string, std::string>& headers) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.keep_alive(false);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  bhttp::write(socket, req);
  HttpResult out = ReadReply(socket, method == "HEAD");
  if (ServerPorts::Has(port)) ExpectDocumented(method, target, out);
  return out;
}

HttpResult ReadReply(tcp::socket& socket, bool head) {
  beast::flat_buffer buf;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(std::uint64_t{64} * 1024 * 1024);
  if (head) parser.skip(true);  // a HEAD reply has the GET's Content-Length but no body
  bhttp::read(socket, buf, parser);
  auto res = parser.release();
  HttpResult out;
  out.status = res.result_int();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    out.headers[name] = std::string(f.value());
  }
  out.body = res.body();
  beast::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
  return out;
}

HttpResult CallJson(int port, const std::string& method, const std::string& target,
                    const nlohmann::json& body, const std::string& key,
                    std::map<std::string, std::string> headers) {
  headers["Content-Type"] = "application/json";
  if (!key.empty()) headers["Authorization"] = "Bearer " + key;
  return Call(port, method, target, body.is_null() ? "" : body.dump(), headers);
}

Server::Server(std::filesystem::path data, std::vector<std::string> extra_args)
    : data_(std::move(data)), extra_(std::move(extra_args)) {}

Server::~Server() {
  if (pid_ > 0) Kill();
}

namespace {

// Starts `args` (stderr appended to `err_path`) and waits until it prints
// "listening on http://127.0.0.1:<port>"; returns the port and sets *pid
// and *out (what it printed until then). Its stdout is drained from then
// on, so that it never blocks on a full pipe. Throws when it does not start.
int StartListening(std::vector<std::string> args, const std::string& err_path,
                   const std::vector<std::string>& env, pid_t* pid, std::string* out_text) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  const std::string program = args[0];
  int error = 0;
  *pid = Spawn(std::move(args), out[1], out[0], -1, err_path, env, &error);
  close(out[1]);
  if (*pid < 0) {
    close(out[0]);
    throw std::runtime_error("cannot start " + program + ": " + std::string(std::strerror(error)));
  }
  out_text->clear();
  int port = 0;
  char buf[4096];
  const std::string marker = "listening on http://127.0.0.1:";
  while (port == 0) {
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    out_text->append(buf, static_cast<std::size_t>(n));
    auto pos = out_text->find(marker);
    if (pos != std::string::npos) {
      auto end = out_text->find_first_not_of("0123456789", pos + marker.size());
      if (end != std::string::npos)
        port = std::stoi(out_text->substr(pos + marker.size(), end - pos - marker.size()));
    }
  }
  std::thread([fd = out[0]] {
    char b[1024];
    while (read(fd, b, sizeof b) > 0) {
    }
    close(fd);
  }).detach();
  if (port == 0) {
    int status = 0;
    waitpid(*pid, &status, 0);
    *pid = -1;
    throw std::runtime_error(program + " did not start; stdout: " + *out_text);
  }
  return port;
}

}  // namespace

void Server::Start() {
  std::filesystem::create_directories(data_);
  std::vector<std::string> args = {SAALBUCHD_PATH, "--data", data_.string(), "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra_.begin(), extra_.end());
  port_ = StartListening(std::move(args), (data_ / "saalbuchd.stderr").string(),
                         {std::string("SAALBUCH_OPERATOR_KEY=") + kOperatorKey}, &pid_, &stdout_);
  ServerPorts::Add(port_);
}

WitnessProcess::WitnessProcess(std::filesystem::path dir, std::vector<std::string> log_keys)
    : dir_(std::move(dir)), logs_(std::move(log_keys)) {
  std::filesystem::create_directories(dir_);
  auto key = Replay({"witness", "--name", name(), "--key", (dir_ / "witness.key").string(), "--print-key"});
  if (key.exit_code != 0) throw std::runtime_error("saalbuch-replay witness --print-key: " + key.err);
  verifier_key_ = key.out.substr(0, key.out.find('\n'));
}

WitnessProcess::~WitnessProcess() { Kill(); }

void WitnessProcess::Start() {
  std::vector<std::string> args = {SAALBUCH_REPLAY_PATH,
                                   "witness",
                                   "--name",
                                   name(),
                                   "--key",
                                   (dir_ / "witness.key").string(),
                                   "--state",
                                   state_dir().string(),
                                   "--listen",
                                   "127.0.0.1:" + std::to_string(port_)};
  for (const auto& l : logs_) {
    args.push_back("--log");
    args.push_back(l);
  }
  std::string out;
  port_ = StartListening(std::move(args), (dir_ / "witness.stderr").string(), {}, &pid_, &out);
}

void WitnessProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::filesystem::path WitnessProcess::state_file(const std::string& origin) const {
  std::string name;
  for (const char c : origin) name += c == '/' ? std::string("%2F") : std::string(1, c);
  return state_dir() / (name + ".checkpoint");
}

void Server::Kill() {
  if (pid_ <= 0) return;
  ServerPorts::Remove(port_);
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int Server::Terminate() {
  if (pid_ <= 0) return -1;
  ServerPorts::Remove(port_);
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Members in start-up order; destroyed in reverse.
struct InProcessServer::Parts {
  std::unique_ptr<ledger::Database> db;
  std::unique_ptr<ledger::RocksLog> log;
  prometheus::Registry registry;
  std::unique_ptr<projections::Runner> runner;
  std::unique_ptr<commands::CommandBus> bus;
  net::io_context ioc{2};
  std::unique_ptr<http::Api> api;
  std::unique_ptr<http::Server> server;
  std::vector<std::thread> io;
  int port = 0;
};

InProcessServer::InProcessServer(const std::filesystem::path& data, rocksdb::Env* env,
                                 std::function<TimeUs()> clock, std::uint64_t snapshot_every,
                                 std::size_t write_buffer_bytes)
    : parts_(std::make_unique<Parts>()) {
  Parts& p = *parts_;
  std::filesystem::create_directories(data);
  ledger::DatabaseOptions db_options;
  db_options.env = env;
  db_options.write_buffer_bytes = write_buffer_bytes;
  auto db = ledger::Database::Open((data / "db").string(), db_options);
  if (!db.ok()) throw std::runtime_error(db.status().ToString());
  p.db = std::move(db).value();
  p.log = std::make_unique<ledger::RocksLog>(p.db.get());
  p.runner = std::make_unique<projections::Runner>(p.db.get(), p.log.get());
  commands::BusOptions bus_options;
  bus_options.clock = std::move(clock);
  if (snapshot_every != 0) bus_options.snapshot_every = snapshot_every;
  bus_options.on_appended = [runner = p.runner.get()](const TenantId& t, Seq head) {
    runner->Notify(t, head);
  };
  p.bus = std::make_unique<commands::CommandBus>(p.log.get(), &p.registry, std::move(bus_options));
  if (Status s = p.bus->Start(); !s.ok()) throw std::runtime_error("bus: " + s.ToString());
  if (Status s = p.runner->Start(); !s.ok()) throw std::runtime_error("projections: " + s.ToString());
  http::ApiOptions api_options;
  api_options.operator_key = kOperatorKey;
  api_options.rate_per_second = api_options.rate_burst = 1e9;
  api_options.public_booking_rate = api_options.public_booking_burst = 1e9;
  // Generous: after a storage failure the projections retry once a second.
  api_options.max_position_wait = std::chrono::seconds(10);
  p.api = std::make_unique<http::Api>(p.ioc, *p.bus, *p.runner, *p.log, p.registry, api_options);
  p.server = std::make_unique<http::Server>(
      p.ioc, http::ServerOptions{},
      [api = p.api.get()](http::Request&& req, const std::string& ip, http::Respond respond) {
        api->Handle(std::move(req), ip, std::move(respond));
      });
  p.server->Listen({net::ip::make_address("127.0.0.1"), 0});
  p.port = p.server->local_endpoint().port();
  ServerPorts::Add(p.port);
  p.api->SetReady(true);
  for (int i = 0; i < 2; ++i) p.io.emplace_back([&ioc = p.ioc] { ioc.run(); });
}

InProcessServer::~InProcessServer() {
  Parts& p = *parts_;
  ServerPorts::Remove(p.port);
  p.api->SetReady(false);
  p.server->StopAccepting();
  p.bus->Shutdown();  // every queued command is decided and answered
  p.ioc.stop();
  for (auto& t : p.io) t.join();
  p.api->Shutdown();
  p.runner->Shutdown();
}

int InProcessServer::port() const { return parts_->port; }

// Runs `path` with `args`; stdout through a pipe, stderr through a file
// (read after the exit, so that neither pipe can fill up and block).
ToolResult RunTool(const std::string& path, const std::vector<std::string>& args) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  char err_name[] = "/tmp/saalbuch-tool-stderr-XXXXXX";
  const int err_fd = mkstemp(err_name);
  if (err_fd < 0) throw std::runtime_error("mkstemp failed");
  std::vector<std::string> a = {path};
  a.insert(a.end(), args.begin(), args.end());
  int error = 0;
  const pid_t pid = Spawn(std::move(a), out[1], out[0], err_fd, "", {}, &error);
  close(out[1]);
  ToolResult r;
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<std::size_t>(n));
  close(out[0]);
  int status = 0;
  if (pid > 0) waitpid(pid, &status, 0);
  r.exit_code = pid < 0 ? 127 : WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  lseek(err_fd, 0, SEEK_SET);
  while ((n = read(err_fd, buf, sizeof buf)) > 0) r.err.append(buf, static_cast<std::size_t>(n));
  close(err_fd);
  unlink(err_name);
  return r;
}

ToolResult Replay(const std::vector<std::string>& args) { return RunTool(SAALBUCH_REPLAY_PATH, args); }

ToolResult BackupTool(const std::vector<std::string>& args) { return RunTool(SAALBUCH_BACKUP_PATH, args); }

nlohmann::json CheckpointCovering(int port, const std::string& tenant, const std::string& key, Seq at_least) {
  nlohmann::json cp;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto r =
        Call(port, "GET", "/v1/tenants/" + tenant + "/checkpoint", "", {{"Authorization", "Bearer " + key}});
    cp = r.status == 200 ? r.json() : nlohmann::json();
  } while ((cp.is_null() || cp["position"].get<Seq>() < at_least) &&
           std::chrono::steady_clock::now() < deadline);
  return cp;
}

std::filesystem::path FreshDir(const std::string& name) {
  std::random_device rd;
  auto p = std::filesystem::temp_directory_path() /
           ("saalbuch-e2e-" + name + "-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace saalbuch::e2e
