#include "tests/e2e/harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <random>
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
  beast::flat_buffer buf;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(std::uint64_t{64} * 1024 * 1024);
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

void Server::Start() {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  std::filesystem::create_directories(data_);
  const std::string err_path = (data_ / "saalbuchd.stderr").string();
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], 1);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err >= 0) dup2(err, 2);
    close(out[0]);
    setenv("SAALBUCH_OPERATOR_KEY", kOperatorKey, 1);
    std::vector<std::string> args = {SAALBUCHD_PATH, "--data", data_.string(), "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  stdout_.clear();
  port_ = 0;
  char buf[4096];
  const std::string marker = "listening on http://127.0.0.1:";
  while (port_ == 0) {
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    stdout_.append(buf, static_cast<std::size_t>(n));
    auto pos = stdout_.find(marker);
    if (pos != std::string::npos) {
      auto end = stdout_.find_first_not_of("0123456789", pos + marker.size());
      if (end != std::string::npos)
        port_ = std::stoi(stdout_.substr(pos + marker.size(), end - pos - marker.size()));
    }
  }
  // Keep draining stdout so the server never blocks on a full pipe.
  std::thread([fd = out[0]] {
    char b[1024];
    while (read(fd, b, sizeof b) > 0) {
    }
    close(fd);
  }).detach();
  if (port_ == 0) {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    throw std::runtime_error("saalbuchd did not start; stdout: " + stdout_);
  }
}

void Server::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int Server::Terminate() {
  if (pid_ <= 0) return -1;
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
                                 std::function<TimeUs()> clock)
    : parts_(std::make_unique<Parts>()) {
  Parts& p = *parts_;
  std::filesystem::create_directories(data);
  ledger::DatabaseOptions db_options;
  db_options.env = env;
  auto db = ledger::Database::Open((data / "db").string(), db_options);
  if (!db.ok()) throw std::runtime_error(db.status().ToString());
  p.db = std::move(db).value();
  p.log = std::make_unique<ledger::RocksLog>(p.db.get());
  p.runner = std::make_unique<projections::Runner>(p.db.get(), p.log.get());
  commands::BusOptions bus_options;
  bus_options.clock = std::move(clock);
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
  p.api->SetReady(true);
  for (int i = 0; i < 2; ++i) p.io.emplace_back([&ioc = p.ioc] { ioc.run(); });
}

InProcessServer::~InProcessServer() {
  Parts& p = *parts_;
  p.api->SetReady(false);
  p.server->StopAccepting();
  p.bus->Shutdown();  // every queued command is decided and answered
  p.ioc.stop();
  for (auto& t : p.io) t.join();
  p.api->Shutdown();
  p.runner->Shutdown();
}

int InProcessServer::port() const { return parts_->port; }

namespace {

// Runs `path` with `args`; stdout through a pipe, stderr through a file
// (read after the exit, so that neither pipe can fill up and block).
ToolResult RunTool(const std::string& path, const std::vector<std::string>& args) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  char err_name[] = "/tmp/saalbuch-tool-stderr-XXXXXX";
  const int err_fd = mkstemp(err_name);
  if (err_fd < 0) throw std::runtime_error("mkstemp failed");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err_fd, 2);
    close(out[0]);
    std::vector<std::string> a = {path};
    a.insert(a.end(), args.begin(), args.end());
    std::vector<char*> argv;
    argv.reserve(a.size() + 1);
    for (auto& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  ToolResult r;
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<std::size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  lseek(err_fd, 0, SEEK_SET);
  while ((n = read(err_fd, buf, sizeof buf)) > 0) r.err.append(buf, static_cast<std::size_t>(n));
  close(err_fd);
  unlink(err_name);
  return r;
}

}  // namespace

ToolResult Replay(const std::vector<std::string>& args) { return RunTool(SAALBUCH_REPLAY_PATH, args); }

ToolResult BackupTool(const std::vector<std::string>& args) { return RunTool(SAALBUCH_BACKUP_PATH, args); }

std::filesystem::path FreshDir(const std::string& name) {
  std::random_device rd;
  auto p = std::filesystem::temp_directory_path() /
           ("saalbuch-e2e-" + name + "-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace saalbuch::e2e
