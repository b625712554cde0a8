#include "http/forwarded.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <stdexcept>

namespace saalbuch::http {

namespace ip = boost::asio::ip;

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits at `sep` outside double quotes.
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  bool quoted = false;
  std::size_t from = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') quoted = !quoted;
    if (s[i] == sep && !quoted) {
      parts.push_back(Trim(s.substr(from, i - from)));
      from = i + 1;
    }
  }
  parts.push_back(Trim(s.substr(from)));
  return parts;
}

std::optional<ip::address> ParseAddress(std::string_view s) {
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(s), ec);
  if (ec) return std::nullopt;
  return Unmapped(a);
}

// A node of `Forwarded: for=` or an entry of X-Forwarded-For: an address,
// with brackets and a port or not ("[2001:db8::1]:4711", "192.0.2.4:80").
std::optional<ip::address> ParseNode(std::string_view node) {
  node = Trim(node);
  if (node.size() >= 2 && node.front() == '"' && node.back() == '"') node = node.substr(1, node.size() - 2);
  if (!node.empty() && node.front() == '[') {
    const std::size_t close = node.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return ParseAddress(node.substr(1, close - 1));
  }
  if (std::count(node.begin(), node.end(), ':') == 1) node = node.substr(0, node.find(':'));
  return ParseAddress(node);
}

// All values of a header, its repeated lines joined with commas (RFC 9110
// § 5.3), as one string.
std::string Joined(const Request& req, std::string_view name) {
  std::string out;
  auto [first, last] = req.equal_range(boost::beast::string_view(name.data(), name.size()));
  for (auto it = first; it != last; ++it) {
    if (!out.empty()) out += ',';
    out.append(it->value().data(), it->value().size());
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char ch) { return static_cast<char>(std::tolower(static_cast<unsigned char>(ch))); });
  return out;
}

std::string Unquoted(std::string_view v) {
  v = Trim(v);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return std::string(v);
}

// A host as a URL may carry it: a name or address, an optional port.
bool IsHost(std::string_view h) {
  return !h.empty() && h.size() <= 255 && std::all_of(h.begin(), h.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == ':' || ch == '[' ||
           ch == ']';
  });
}

// One hop of the chain: the address the proxy saw, and what it says of
// the request it received.
struct Hop {
  std::string node;
  std::string proto;
  std::string host;
};

std::vector<Hop> HopsOf(const Request& req, ForwardedHeader header) {
  std::vector<Hop> hops;
  if (header == ForwardedHeader::kForwarded) {
    const std::string forwarded = Joined(req, "Forwarded");
    for (std::string_view element : Split(forwarded, ',')) {
      Hop hop;
      for (std::string_view pair : Split(element, ';')) {
        const std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos) continue;
        const std::string name = Lower(Trim(pair.substr(0, eq)));
        const std::string value = Unquoted(pair.substr(eq + 1));
        if (name == "for") hop.node = value;
        if (name == "proto") hop.proto = Lower(value);
        if (name == "host") hop.host = value;
      }
      hops.push_back(std::move(hop));
    }
    if (hops.empty()) hops.push_back({});
    return hops;
  }
  const std::string chain = Joined(req, "X-Forwarded-For");
  for (std::string_view node : Split(chain, ',')) {
    if (!node.empty()) hops.push_back({std::string(node), "", ""});
  }
  // X-Forwarded-Proto and -Host describe the request the nearest proxy
  // received: the last of their values.
  auto last = [&](std::string_view name) {
    const std::string joined = Joined(req, name);
    return std::string(Split(joined, ',').back());
  };
  if (hops.empty()) hops.push_back({});
  hops.back().proto = Lower(last("X-Forwarded-Proto"));
  hops.back().host = last("X-Forwarded-Host");
  return hops;
}

}  // namespace

ip::address Unmapped(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

TrustedProxies TrustedProxies::Parse(std::string_view list, ForwardedHeader header) {
  TrustedProxies out;
  out.header_ = header;
  for (std::string_view entry : Split(list, ',')) {
    if (entry.empty()) continue;
    const std::size_t slash = entry.find('/');
    auto address = ParseAddress(entry.substr(0, slash));
    if (!address) throw std::invalid_argument("not an address: " + std::string(entry));
    Net net{};
    net.v4 = address->is_v4();
    const int max_bits = net.v4 ? 32 : 128;
    net.bits = max_bits;
    if (slash != std::string_view::npos) {
      const std::string_view len = entry.substr(slash + 1);
      auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), net.bits);
      if (ec != std::errc() || end != len.data() + len.size() || len.empty() || net.bits < 0 ||
          net.bits > max_bits) {
        throw std::invalid_argument("not a prefix length: " + std::string(entry));
      }
    }
    if (net.v4) {
      const auto b = address->to_v4().to_bytes();
      std::copy(b.begin(), b.end(), net.bytes.begin());
    } else {
      net.bytes = address->to_v6().to_bytes();
    }
    out.nets_.push_back(net);
  }
  return out;
}

bool TrustedProxies::Contains(const ip::address& raw) const {
  const ip::address address = Unmapped(raw);
  std::array<std::uint8_t, 16> bytes{};
  if (address.is_v4()) {
    const auto b = address.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), bytes.begin());
  } else {
    bytes = address.to_v6().to_bytes();
  }
  return std::any_of(nets_.begin(), nets_.end(), [&](const Net& net) {
    if (net.v4 != address.is_v4()) return false;
    const int whole = net.bits / 8;
    if (!std::equal(bytes.begin(), bytes.begin() + whole, net.bytes.begin())) return false;
    const int rest = net.bits % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
    return (bytes[static_cast<std::size_t>(whole)] & mask) ==
           (net.bytes[static_cast<std::size_t>(whole)] & mask);
  });
}

bool TrustedProxies::Contains(std::string_view address) const {
  auto a = ParseAddress(address);
  return a && Contains(*a);
}

ClientView ClientOf(const TrustedProxies& trusted, const std::string& peer, const Request& req) {
  ClientView view;
  view.address = peer;
  auto peer_address = ParseAddress(peer);
  if (!peer_address || !trusted.Contains(*peer_address)) return view;
  view.proxied = true;
  const std::vector<Hop> hops = HopsOf(req, trusted.header());
  // The nearest proxy's account of the request.
  if (hops.back().proto == "https" || hops.back().proto == "http") view.scheme = hops.back().proto;
  std::string host = hops.back().host;
  if (host.empty()) {
    auto h = req.find(boost::beast::http::field::host);
    if (h != req.end()) host = std::string(h->value());
  }
  if (IsHost(host)) view.host = host;
  // From the right: each trusted hop vouches for the one before it.
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    if (hop->node.empty()) break;
    auto address = ParseNode(hop->node);
    // "unknown", an obfuscated name or junk: the proxy that wrote it is
    // the last address known.
    if (!address) break;
    view.address = address->to_string();
    if (!trusted.Contains(*address)) break;
  }
  return view;
}

}  // namespace saalbuch::http
