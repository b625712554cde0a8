#include "tools/replay/witness.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>

#include "common/build_info.h"
#include "common/crypto.h"
#include "common/merkle.h"
#include "common/note.h"

namespace saalbuch::tools {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
namespace fs = std::filesystem;

// A request carries at most 63 proof hashes and a checkpoint with a few
// signatures: a few KiB. Anything larger is not a witness request.
constexpr std::size_t kMaxBody = std::size_t{64} * 1024;
constexpr std::size_t kMaxProofLines = 63;
constexpr auto kIoTimeout = std::chrono::seconds(10);

struct Reply {
  http::status status = http::status::ok;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
};

Reply Text(http::status s, std::string text) { return {s, std::move(text) + "\n"}; }

// "saalbuch/buergerhaus" → "saalbuch%2Fbuergerhaus": one file name per origin.
std::string FileNameOf(std::string_view origin) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : origin) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '.' || c == '-' || c == '_') {
      out.push_back(ch);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Writes `text` to `file` durably: a temporary file, fsync, rename, fsync
// of the directory. False on any failure (nothing half-written remains).
bool WriteDurably(const fs::path& file, const std::string& text) {
  const fs::path tmp = file.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  const bool ok = done == text.size() && ::fsync(fd) == 0;
  ::close(fd);
  std::error_code ec;
  if (!ok || (fs::rename(tmp, file, ec), ec)) {
    fs::remove(tmp, ec);
    return false;
  }
  const fs::path parent = file.has_parent_path() ? file.parent_path() : fs::path(".");
  const int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return false;
  const bool synced = ::fsync(dir) == 0;
  ::close(dir);
  return synced;
}

std::optional<std::string> ReadFile(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The witness's seed: 64 hex digits in `file`, created owner-only when the
// file does not exist.
std::string LoadOrCreateSeed(const std::string& file) {
  if (!fs::exists(file)) {
    const Ed25519Keys keys = Ed25519Generate();
    if (!WriteDurably(file, ToHex(keys.seed) + "\n"))
      throw std::runtime_error("cannot write the witness key " + file);
    std::cerr << "saalbuch-replay witness: generated a new witness key into " << file << "\n";
  }
  auto text = ReadFile(file);
  std::string hex = text ? text->substr(0, text->find_first_of("\r\n")) : "";
  auto seed = FromHex(hex);
  if (!seed || seed->size() != 32)
    throw std::runtime_error("the witness key " + file + " is not 64 hex digits (an Ed25519 seed)");
  return *seed;
}

std::optional<std::uint64_t> ParseSize(std::string_view text) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() ||
      (text.size() > 1 && text[0] == '0')) {
    return std::nullopt;
  }
  return v;
}

Sha256 ToSha(const std::string& raw) {
  Sha256 h{};
  std::copy(raw.begin(), raw.end(), h.begin());
  return h;
}

class Witness {
 public:
  Witness(const WitnessArgs& args, std::string seed)
      : name_(args.name), seed_(std::move(seed)), state_(args.state_dir) {
    self_ = {name_, Ed25519PublicKey(seed_), kCosigner};
    std::vector<std::string> keys = args.logs;
    if (!args.logs_file.empty()) {
      auto text = ReadFile(args.logs_file);
      if (!text) throw std::runtime_error("cannot read --logs-file " + args.logs_file);
      std::size_t at = 0;
      while (at < text->size()) {
        const auto nl = text->find('\n', at);
        std::string line = text->substr(at, nl == std::string::npos ? std::string::npos : nl - at);
        at = nl == std::string::npos ? text->size() : nl + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty() && line[0] != '#') keys.push_back(line);
      }
    }
    for (const auto& k : keys) {
      auto v = ParseVerifierKey(k);
      if (!v) throw std::runtime_error("not a log's verifier key (name+id+key): " + k);
      logs_[v->name].push_back(*v);
    }
    if (logs_.empty()) throw std::runtime_error("no log to witness: give --log or --logs-file");
    fs::create_directories(state_ / "refused");
  }

  std::string VerifierKey() const { return saalbuch::VerifierKey(name_, self_.public_key, kCosigner); }

  // GET /checkpoint/<origin, percent-encoded as in the state's file names>:
  // the latest checkpoint it cosigned of that log, for auditors (C2SP
  // leaves reading to each witness; this one shows its state).
  Reply Latest(std::string_view file_name) const {
    const bool plain = !file_name.empty() && std::all_of(file_name.begin(), file_name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '%' || c == '.' || c == '-' || c == '_';
    });
    if (!plain) return Text(http::status::bad_request, "not an origin");
    auto kept = ReadFile(state_ / (std::string(file_name) + ".checkpoint"));
    if (!kept) return Text(http::status::not_found, "no checkpoint of that log cosigned");
    return {http::status::ok, *kept};
  }
  std::size_t Logs() const { return logs_.size(); }

  // POST /add-checkpoint (C2SP tlog-witness).
  Reply AddCheckpoint(const std::string& request) {
    // old <size>\n, up to 63 proof lines, an empty line, the checkpoint.
    std::size_t at = 0;
    auto next_line = [&]() -> std::optional<std::string_view> {
      const auto nl = request.find('\n', at);
      if (nl == std::string::npos) return std::nullopt;
      std::string_view line(request.data() + at, nl - at);
      at = nl + 1;
      return line;
    };
    auto first = next_line();
    if (!first || !first->starts_with("old ")) return Text(http::status::bad_request, "no old size line");
    auto old_size = ParseSize(first->substr(4));
    if (!old_size) return Text(http::status::bad_request, "the old size is not a decimal number");
    std::vector<Sha256> proof;
    for (;;) {
      auto line = next_line();
      if (!line) return Text(http::status::bad_request, "no empty line before the checkpoint");
      if (line->empty()) break;
      auto hash = Base64Decode(*line);
      if (!hash || hash->size() != 32)
        return Text(http::status::bad_request, "a consistency proof line is not a base64 SHA-256 hash");
      if (proof.size() == kMaxProofLines) return Text(http::status::bad_request, "more than 63 proof lines");
      proof.push_back(ToSha(*hash));
    }
    const std::string note = request.substr(at);
    const auto unsigned_body = NoteBody(note);
    const auto cp = unsigned_body ? ParseCheckpointBody(*unsigned_body) : std::nullopt;
    if (!cp) return Text(http::status::bad_request, "the request carries no checkpoint (a signed note)");
    const auto known = logs_.find(cp->origin);
    if (known == logs_.end()) return Text(http::status::not_found, "unknown log origin " + cp->origin);
    std::optional<std::string> body;
    for (const auto& key : known->second) {
      if ((body = OpenNote(note, key))) break;
    }
    if (!body) return Text(http::status::forbidden, "no signature of a known key of " + cp->origin);
    if (*old_size > cp->size)
      return Text(http::status::bad_request, "the old size exceeds the checkpoint's size");

    const fs::path file = state_ / (FileNameOf(cp->origin) + ".checkpoint");
    std::optional<Checkpoint> latest;
    if (auto kept = ReadFile(file)) {
      const auto kept_body = OpenNote(*kept, self_);
      latest = kept_body ? ParseCheckpointBody(*kept_body) : std::nullopt;
      if (!latest || latest->origin != cp->origin) {
        std::cerr << "witness: " << file.string() << " does not carry this witness's cosignature\n";
        return Text(http::status::internal_server_error, "the witness's state is damaged");
      }
    }
    const std::uint64_t latest_size = latest ? latest->size : 0;
    if (*old_size != latest_size) {
      return {http::status::conflict, std::to_string(latest_size) + "\n", "text/x.tlog.size"};
    }
    if (latest && latest->size == cp->size && latest->hash != cp->hash) {
      Keep(cp->origin, cp->size, request, "same size, another root");
      return Text(http::status::conflict, "a different root at the size already cosigned: a fork");
    }
    if (latest_size == 0 ? !proof.empty()
                         : !merkle::VerifyConsistency(latest_size, cp->size, ToSha(latest->hash),
                                                      ToSha(cp->hash), proof)) {
      Keep(cp->origin, cp->size, request, "inconsistent");
      return Text(http::status::unprocessable_entity, "the consistency proof from " +
                                                          std::to_string(latest_size) + " to " +
                                                          std::to_string(cp->size) + " does not verify");
    }
    const auto now = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    const std::string line = CosignatureLine(*body, name_, seed_, now);
    // Only the log's signature and ours: what others cosigned is theirs.
    const auto split = note.rfind("\n\n");
    std::string kept = note.substr(0, split + 2);
    for (std::size_t p = split + 2; p < note.size();) {
      const auto nl = note.find('\n', p);
      const std::string sig = note.substr(p, nl - p + 1);
      p = nl + 1;
      for (const auto& key : known->second) {
        if (OpenNote(*body + "\n" + sig, key)) {
          kept += sig;
          break;
        }
      }
    }
    if (!WriteDurably(file, kept + line)) {
      return Text(http::status::service_unavailable, "the witness cannot store the checkpoint");
    }
    std::cerr << "witness: cosigned " << cp->origin << " at size " << cp->size << " (was " << latest_size
              << ")\n";
    return {http::status::ok, line};
  }

 private:
  // A refused request of a known, correctly signed log: evidence of the
  // log's misbehaviour (tlog-witness allows keeping it).
  void Keep(const std::string& origin, std::uint64_t size, const std::string& request, const char* why) {
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    const fs::path file =
        state_ / "refused" /
        (FileNameOf(origin) + "-" + std::to_string(size) + "-" + std::to_string(now) + ".request");
    std::cerr << "witness: REFUSED " << origin << " at size " << size << " (" << why << "); kept as "
              << file.string() << "\n";
    if (!WriteDurably(file, request)) std::cerr << "witness: cannot keep " << file.string() << "\n";
  }

  std::string name_;
  std::string seed_;
  NoteVerifier self_;
  fs::path state_;
  std::map<std::string, std::vector<NoteVerifier>> logs_;
};

Reply Handle(Witness& w, const http::request<http::string_body>& req) {
  const std::string_view target(req.target().data(), req.target().size());
  if (target == "/add-checkpoint") {
    if (req.method() != http::verb::post) return Text(http::status::method_not_allowed, "use POST");
    return w.AddCheckpoint(req.body());
  }
  if (target.starts_with("/checkpoint/") && req.method() == http::verb::get) {
    return w.Latest(target.substr(std::string_view("/checkpoint/").size()));
  }
  if (target == "/" && req.method() == http::verb::get) {
    return Text(http::status::ok, "saalbuch-replay witness\nkey " + w.VerifierKey());
  }
  return Text(http::status::not_found, "not found");
}

void Serve(Witness& w, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer(8192);
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxBody);
    parser.header_limit(8192);
    beast::error_code ec;
    stream.expires_after(kIoTimeout);
    http::read(stream, buffer, parser, ec);
    if (ec == http::error::end_of_stream || ec == beast::error::timeout) return;
    Reply reply;
    bool close = false;
    if (ec == http::error::body_limit) {
      reply = Text(http::status::payload_too_large, "a witness request is at most 64 KiB");
      close = true;
    } else if (ec) {
      reply = Text(http::status::bad_request, "not an HTTP request");
      close = true;
    } else {
      reply = Handle(w, parser.get());
      close = !parser.get().keep_alive();
    }
    http::response<http::string_body> res{reply.status, 11};
    res.set(http::field::server, "saalbuch-witness");
    res.set(http::field::content_type, reply.content_type);
    res.body() = std::move(reply.body);
    res.keep_alive(!close);
    res.prepare_payload();
    stream.expires_after(kIoTimeout);
    http::write(stream, res, ec);
    if (ec || close) return;
  }
}

}  // namespace

std::optional<std::string> FetchWitnessCheckpoint(const std::string& url, const std::string& origin,
                                                  std::string* error) {
  // http://host:port[/prefix]
  if (!url.starts_with("http://")) {
    *error = "only http:// witness URLs can be read";
    return std::nullopt;
  }
  std::string rest = url.substr(7);
  const auto slash = rest.find('/');
  std::string prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  const std::string authority = rest.substr(0, slash);
  const auto colon = authority.rfind(':');
  const std::string host = authority.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  try {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(kIoTimeout);
    stream.connect(resolver.resolve(host, port));
    http::request<http::empty_body> req{http::verb::get, prefix + "/checkpoint/" + FileNameOf(origin), 11};
    req.set(http::field::host, authority);
    req.set(http::field::user_agent, "saalbuch-replay");
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxBody);
    http::read(stream, buffer, parser);
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    const auto& res = parser.get();
    if (res.result() == http::status::not_found) return std::string();
    if (res.result() != http::status::ok) {
      *error = "the witness answered " + std::to_string(res.result_int());
      return std::nullopt;
    }
    return res.body();
  } catch (const std::exception& e) {
    *error = e.what();
    return std::nullopt;
  }
}

CLI::App* AddWitnessCommand(CLI::App* app, WitnessArgs* a) {
  auto* cmd =
      app->add_subcommand("witness", "Run a transparency-log witness for Saalbuch logs (C2SP tlog-witness)");
  cmd->footer(
      "Serves POST /add-checkpoint: cosigns a checkpoint of a log it knows (--log) when it is a\n"
      "consistent extension of the last one it cosigned, and refuses forks, rewrites and\n"
      "truncations (409, 422), keeping the refused request in --state/refused/. The latest\n"
      "cosigned checkpoint of each log is in --state/<origin>.checkpoint: a copy of it is an\n"
      "auditor's --trusted-checkpoint. Prints the witness's verifier key, which saalbuchd's\n"
      "--witness and verify's --witness take, on start.");
  cmd->add_option("--listen", a->listen, "HOST:PORT to listen on")->capture_default_str();
  cmd->add_option("--name", a->name, "The witness's name, e.g. rpa.stadt.example/witness")->required();
  cmd->add_option("--key", a->key_file, "File with the witness's Ed25519 seed; created when missing")
      ->required();
  cmd->add_option("--state", a->state_dir, "Directory of the witness's state (created when missing)");
  cmd->add_option("--log", a->logs, "A log's checkpoint verifier key (GET …/checkpoint/key); repeatable");
  cmd->add_option("--logs-file", a->logs_file, "A file with more verifier keys, one per line")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--print-key", a->print_key, "Print the witness's verifier key and exit");
  return cmd;
}

int RunWitness(const WitnessArgs& a) {
  try {
    const std::string seed = LoadOrCreateSeed(a.key_file);
    if (!ParseVerifierKey(VerifierKey(a.name, Ed25519PublicKey(seed), kCosigner), kCosigner))
      throw std::runtime_error("--name must be a key name: no spaces, no '+'");
    if (a.print_key) {
      std::cout << VerifierKey(a.name, Ed25519PublicKey(seed), kCosigner) << "\n";
      return 0;
    }
    if (a.state_dir.empty()) throw std::runtime_error("--state is required");
    Witness w(a, seed);
    const auto colon = a.listen.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("--listen must be HOST:PORT");
    net::io_context ioc(1);
    tcp::acceptor acceptor(ioc, {net::ip::make_address(a.listen.substr(0, colon)),
                                 static_cast<unsigned short>(std::stoi(a.listen.substr(colon + 1)))});
    std::cout << "witness " << w.VerifierKey() << " for " << w.Logs() << " log(s), listening on http://"
              << acceptor.local_endpoint() << "\n"
              << std::flush;
    for (;;) {
      tcp::socket socket(ioc);
      beast::error_code ec;
      acceptor.accept(socket, ec);
      if (ec) continue;
      try {
        Serve(w, std::move(socket));
      } catch (const std::exception& e) {
        std::cerr << "witness: connection failed: " << e.what() << "\n";
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "saalbuch-replay witness: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace saalbuch::tools
