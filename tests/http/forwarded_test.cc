// Who the client is behind a reverse proxy (http/forwarded.h), and the
// JSON form of the log (http/logging.h).
#include "http/forwarded.h"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "http/logging.h"

namespace saalbuch::http {
namespace {

Request With(std::vector<std::pair<std::string, std::string>> headers) {
  Request req{beast_http::verb::get, "/", 11};
  for (auto& [name, value] : headers) req.insert(name, value);
  return req;
}

TEST(TrustedProxiesTest, AddressesAndRangesOfBothFamilies) {
  const auto trusted = TrustedProxies::Parse("127.0.0.1, 10.0.0.0/8,192.168.7.128/25, fd00::/8");
  EXPECT_TRUE(trusted.Contains("127.0.0.1"));
  EXPECT_FALSE(trusted.Contains("127.0.0.2"));
  EXPECT_TRUE(trusted.Contains("10.200.3.4"));
  EXPECT_FALSE(trusted.Contains("11.0.0.1"));
  EXPECT_TRUE(trusted.Contains("192.168.7.200"));
  EXPECT_FALSE(trusted.Contains("192.168.7.127"));
  EXPECT_TRUE(trusted.Contains("fd12:3456::1"));
  EXPECT_FALSE(trusted.Contains("fe80::1"));
  // An IPv4 peer of a dual-stack socket is the IPv4 address.
  EXPECT_TRUE(trusted.Contains("::ffff:10.1.2.3"));
  EXPECT_FALSE(trusted.Contains("not an address"));
  EXPECT_TRUE(TrustedProxies::Parse("").empty());
  EXPECT_TRUE(TrustedProxies::Parse("0.0.0.0/0").Contains("203.0.113.9"));
}

TEST(TrustedProxiesTest, WhatIsNotAnAddressOrRangeIsRefused) {
  for (const char* bad :
       {"localhost", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8x", "fd00::/129", "1.2.3", "10.0.0.0/-1"}) {
    EXPECT_THROW(TrustedProxies::Parse(bad), std::invalid_argument) << bad;
  }
}

TEST(ClientOfTest, AnUntrustedPeerIsTheClientWhateverItsHeadersSay) {
  const auto trusted = TrustedProxies::Parse("127.0.0.1");
  const auto view = ClientOf(trusted, "203.0.113.7",
                             With({{"X-Forwarded-For", "198.51.100.1"},
                                   {"X-Forwarded-Proto", "https"},
                                   {"Forwarded", "for=198.51.100.2;proto=https"},
                                   {"Host", "evil.example"}}));
  EXPECT_EQ(view.address, "203.0.113.7");
  EXPECT_EQ(view.scheme, "http");
  EXPECT_EQ(view.host, "");
  EXPECT_FALSE(view.proxied);
  // And with no proxy configured at all.
  EXPECT_EQ(ClientOf(TrustedProxies(), "127.0.0.1", With({{"X-Forwarded-For", "198.51.100.1"}})).address,
            "127.0.0.1");
}

TEST(ClientOfTest, ATrustedProxyNamesTheRightmostAddressItDoesNotTrust) {
  const auto trusted = TrustedProxies::Parse("127.0.0.1,10.0.0.0/8");
  // nginx appends what it saw; what the client wrote in front proves nothing.
  auto view = ClientOf(trusted, "127.0.0.1",
                       With({{"X-Forwarded-For", "6.6.6.6, 198.51.100.20"},
                             {"X-Forwarded-Proto", "https"},
                             {"X-Forwarded-Host", "buchen.stadt.example"}}));
  EXPECT_EQ(view.address, "198.51.100.20");
  EXPECT_EQ(view.scheme, "https");
  EXPECT_EQ(view.host, "buchen.stadt.example");
  EXPECT_TRUE(view.proxied);
  // Two proxies in a row, the inner one trusted too; repeated header lines.
  view = ClientOf(
      trusted, "127.0.0.1",
      With({{"X-Forwarded-For", "198.51.100.20"}, {"X-Forwarded-For", "10.1.1.1"}, {"Host", "a.b:8443"}}));
  EXPECT_EQ(view.address, "198.51.100.20");
  EXPECT_EQ(view.scheme, "http");
  EXPECT_EQ(view.host, "a.b:8443");
  // Every hop trusted: the leftmost.
  EXPECT_EQ(ClientOf(trusted, "127.0.0.1", With({{"X-Forwarded-For", "10.0.0.5, 10.0.0.6"}})).address,
            "10.0.0.5");
  // No header: the proxy itself.
  EXPECT_EQ(ClientOf(trusted, "127.0.0.1", With({})).address, "127.0.0.1");
  // A proto other than http or https, and a host with a space, are ignored.
  view = ClientOf(trusted, "127.0.0.1",
                  With({{"X-Forwarded-Proto", "gopher"}, {"X-Forwarded-Host", "a b"}, {"Host", "x"}}));
  EXPECT_EQ(view.scheme, "http");
  EXPECT_EQ(view.host, "");
}

// A proxy passes on what a client sent in a header it does not write
// itself: only the kind it writes is read.
TEST(ClientOfTest, OnlyTheKindOfHeaderTheProxyWritesIsRead) {
  const auto x = TrustedProxies::Parse("127.0.0.1");
  auto view = ClientOf(x, "127.0.0.1",
                       With({{"Forwarded", "for=6.6.6.6;proto=https;host=evil.example"},
                             {"X-Forwarded-For", "198.51.100.20"},
                             {"Host", "buchen.example"}}));
  EXPECT_EQ(view.address, "198.51.100.20");
  EXPECT_EQ(view.scheme, "http");
  EXPECT_EQ(view.host, "buchen.example");
  const auto rfc = TrustedProxies::Parse("127.0.0.1", ForwardedHeader::kForwarded);
  view = ClientOf(rfc, "127.0.0.1",
                  With({{"Forwarded", "for=198.51.100.21"},
                        {"X-Forwarded-For", "6.6.6.6"},
                        {"X-Forwarded-Proto", "https"},
                        {"X-Forwarded-Host", "evil.example"},
                        {"Host", "buchen.example"}}));
  EXPECT_EQ(view.address, "198.51.100.21");
  EXPECT_EQ(view.scheme, "http");
  EXPECT_EQ(view.host, "buchen.example");
  // Nothing of the kind it writes: the proxy itself.
  EXPECT_EQ(ClientOf(rfc, "127.0.0.1", With({{"X-Forwarded-For", "6.6.6.6"}})).address, "127.0.0.1");
}

TEST(ClientOfTest, ForwardedOfRfc7239) {
  const auto trusted = TrustedProxies::Parse("127.0.0.1", ForwardedHeader::kForwarded);
  auto view = ClientOf(trusted, "127.0.0.1",
                       With({{"Forwarded", R"(for="[2001:db8:cafe::17]:4711";proto=https;host=saal.example)"},
                             {"X-Forwarded-For", "198.51.100.99"}}));
  EXPECT_EQ(view.address, "2001:db8:cafe::17");
  EXPECT_EQ(view.scheme, "https");
  EXPECT_EQ(view.host, "saal.example");
  view = ClientOf(trusted, "127.0.0.1",
                  With({{"Forwarded", R"(for=6.6.6.6, For="192.0.2.43:47011";Proto=HTTPS)"}}));
  EXPECT_EQ(view.address, "192.0.2.43");
  EXPECT_EQ(view.scheme, "https");
  // An obfuscated or unknown node: the proxy that wrote it is what is known.
  EXPECT_EQ(ClientOf(trusted, "127.0.0.1", With({{"Forwarded", "for=unknown"}})).address, "127.0.0.1");
  EXPECT_EQ(ClientOf(trusted, "127.0.0.1", With({{"Forwarded", "for=_hidden, for=127.0.0.1"}})).address,
            "127.0.0.1");
}

nlohmann::json JsonLine(std::string_view payload, spdlog::level::level_enum level = spdlog::level::info) {
  spdlog::details::log_msg msg("saalbuchd", level, spdlog::string_view_t(payload.data(), payload.size()));
  spdlog::memory_buf_t out;
  JsonLogFormatter().format(msg, out);
  std::string text(out.data(), out.size());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line";
  return nlohmann::json::parse(text);
}

TEST(JsonLogFormatterTest, LogfmtBecomesOneObjectPerLine) {
  auto line = JsonLine(R"(msg="request" id=ab12 route=resources status=200 ms=0.89 client=2001:db8::1)");
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["msg"], "request");
  EXPECT_EQ(line["id"], "ab12");
  EXPECT_EQ(line["status"], 200);
  EXPECT_DOUBLE_EQ(line["ms"].get<double>(), 0.89);
  EXPECT_EQ(line["client"], "2001:db8::1");
  ASSERT_TRUE(line["ts"].is_string());
  EXPECT_EQ(line["ts"].get<std::string>().size(), 27u);
  EXPECT_EQ(line["ts"].get<std::string>().back(), 'Z');
  // Quotes and backslashes in a quoted value; a value that only looks like
  // a number stays a string.
  line = JsonLine(R"(msg="query failed" error="a \"quoted\" word" code=007)", spdlog::level::err);
  EXPECT_EQ(line["level"], "error");
  EXPECT_EQ(line["error"], R"(a "quoted" word)");
  EXPECT_EQ(line["code"], "007");
  // Not logfmt: the whole text is the message.
  line = JsonLine("request abc failed: disk full");
  EXPECT_EQ(line["msg"], "request abc failed: disk full");
  EXPECT_EQ(line.size(), 3u);
  // Control characters and invalid UTF-8 cannot break the line.
  line = JsonLine("msg=\"two\nlines \xff\"");
  EXPECT_EQ(line["msg"], "two\nlines \xEF\xBF\xBD");
}

}  // namespace
}  // namespace saalbuch::http
