// The auditor's tool against the real server: every command runs on the data
// directory of a server that keeps taking bookings; a booking's history,
// the state as of an instant, and an export whose chain an auditor can
// recompute without Saalbuch's code.

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "common/crypto.h"
#include "common/merkle.h"
#include "tests/e2e/booking_load.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

std::vector<json> JsonLines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

std::string FromHex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string NowRfc3339() {
  return FormatUtc(std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count());
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshDir("audit"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string data() const { return (dir_ / "data").string(); }
  std::filesystem::path dir_;
};

// This server signs nothing (--checkpoint-every 0), so verify is told not
// to expect a cadence: under the sanitizers the load writes more than the
// 2,000 unsigned records verify allows by default.
constexpr const char* kNoCadence = "1000000000";

TEST_F(AuditTest, EveryCommandReadsALiveServerWhileClientsBook) {
  // No signed checkpoints: the record count below is exactly the bookings
  // (a checkpoint after 1000 records made it flaky on fast machines).
  Server server(dir_ / "data", {"--rate-limit", "100000", "--checkpoint-every", "0"});
  server.Start();
  const std::string admin = TenantWithRooms(server.port(), "stadt", {"a", "b", "c"});
  BookingLoad load(server.port(), "stadt", {"a", "b", "c"}, admin);
  load.Start();
  load.WaitFor(10);
  for (int round = 0; round < 2; ++round) {
    const auto acknowledged = load.Acknowledged();
    auto verify = Replay({"verify", "--data", data(), "--json", "--checkpoint-every", kNoCadence});
    ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    const auto report = json::parse(verify.out);
    // tenant, admin key, 3 × (room created + rules), then the bookings
    EXPECT_GE(report[0]["records"].get<Seq>(), 2 + 6 + acknowledged.size());

    auto diff = Replay({"diff", "--data", data()});
    EXPECT_EQ(diff.exit_code, 0) << diff.out << diff.err;
    EXPECT_NE(diff.out.find("identical"), std::string::npos) << diff.out;

    auto history = Replay({"history", acknowledged.back(), "--data", data(), "--tenant", "stadt", "--json"});
    ASSERT_EQ(history.exit_code, 0) << history.out << history.err;
    EXPECT_EQ(json::parse(history.out)["events"][0]["type"], "BookingPlaced");

    auto exported = Replay({"export", "--data", data(), "--tenant", "stadt"});
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    std::set<std::string> placed;
    Seq expected = 1;
    for (const auto& line : JsonLines(exported.out)) {
      if (line.contains("head")) {
        EXPECT_EQ(line["head"]["seq"].get<Seq>(), expected - 1);  // the last line: where it ends
        continue;
      }
      EXPECT_EQ(line["seq"].get<Seq>(), expected++);
      if (line["record"]["payload_type"] == "BookingPlaced")
        placed.insert(line["record"]["payload"]["booking_id"]);
    }
    for (const auto& id : acknowledged) EXPECT_EQ(placed.count(id), 1u) << id;
    load.WaitFor(acknowledged.size() + 10);
  }
  load.Stop();
  EXPECT_EQ(load.failures(), 0) << load.last_failure();
  auto verify = Replay({"verify", "--data", data(), "--json", "--checkpoint-every", kNoCadence});
  ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(json::parse(verify.out)[0]["records"].get<Seq>(), 2 + 6 + load.Acknowledged().size());
  EXPECT_EQ(server.Terminate(), 0);
}

TEST_F(AuditTest, HistoryStateAsOfAnInstantAndAnExportAnAuditorCanRecompute) {
  Server server(dir_ / "data");
  server.Start();
  const int port = server.port();
  const std::string admin = TenantWithRooms(port, "amt", {"saal"});
  auto book = [&](int hour) {
    const TimeUs day = 24LL * 3600 * kUsPerSecond;
    const TimeUs start = (std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                                  .count() /
                              day +
                          10) *
                             day +
                         hour * 3600 * kUsPerSecond;
    auto r = CallJson(
        port, "POST", "/v1/tenants/amt/bookings",
        {{"resource", "saal"}, {"start", FormatUtc(start)}, {"end", FormatUtc(start + 3600 * kUsPerSecond)}},
        admin);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json()["id"].get<std::string>();
  };
  const std::string first = book(9);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const std::string between = NowRfc3339();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const std::string second = book(11);
  ASSERT_EQ(
      CallJson(port, "POST", "/v1/tenants/amt/bookings/" + first + "/cancel", {{"reason", "Regen"}}, admin)
          .status,
      200);

  // history: both events of the first booking, with actor and time.
  auto h = Replay({"history", first, "--data", data(), "--tenant", "amt", "--json"});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  const auto events = json::parse(h.out)["events"];
  ASSERT_EQ(events.size(), 2u) << h.out;
  EXPECT_EQ(events[0]["type"], "BookingPlaced");
  EXPECT_EQ(events[1]["type"], "BookingCancelled");
  EXPECT_EQ(events[1]["payload"]["reason"], "Regen");
  EXPECT_EQ(events[1]["actor"].get<std::string>().rfind("key:", 0), 0u);
  EXPECT_LT(events[0]["seq"].get<Seq>(), events[1]["seq"].get<Seq>());
  EXPECT_TRUE(ParseRfc3339(events[0]["recorded_at"].get<std::string>()).ok());
  auto text = Replay({"history", first, "--data", data(), "--tenant", "amt"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("BookingCancelled  by key:"), std::string::npos) << text.out;
  auto unknown = Replay({"history", "bk_unknown", "--data", data(), "--tenant", "amt"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no booking 'bk_unknown'"), std::string::npos) << unknown.err;
  auto usage = Replay({"history", first, "--data", data()});  // no --tenant
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_NE(usage.err.find("--tenant is required"), std::string::npos) << usage.err;

  // state --at an RFC 3339 instant: the first booking was live, the second
  // did not exist yet.
  auto then_first =
      Replay({"state", "--data", data(), "--tenant", "amt", "--at", between, "--booking", first});
  ASSERT_EQ(then_first.exit_code, 0) << then_first.err;
  EXPECT_EQ(json::parse(then_first.out)["booking"]["status"], "confirmed") << then_first.out;
  auto then_second =
      Replay({"state", "--data", data(), "--tenant", "amt", "--at", between, "--booking", second});
  EXPECT_EQ(then_second.exit_code, 1) << then_second.out;
  auto now_first = Replay({"state", "--data", data(), "--tenant", "amt", "--booking", first});
  EXPECT_EQ(json::parse(now_first.out)["booking"]["status"], "cancelled");

  // export --with-bytes: the chain recomputed from the exported bytes alone.
  const std::string file = (dir_ / "amt.jsonl").string();
  auto ex = Replay({"export", "--data", data(), "--tenant", "amt", "--with-bytes", "--out", file});
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  EXPECT_TRUE(ex.out.empty());
  std::ifstream in(file);
  std::stringstream content;
  content << in.rdbuf();
  Sha256 prev{};
  auto lines = JsonLines(content.str());
  // tenant, the first checkpoint, key, room + rules, two bookings, a
  // cancellation; then the head line
  ASSERT_EQ(lines.size(), 2u + 1u + 2u + 3u + 1u);
  const json end = lines.back();
  lines.pop_back();
  merkle::Frontier tree;
  for (const auto& line : lines) {
    EXPECT_EQ(line["record"]["prev_hash"], ToHex(prev));
    prev = Sha256Of(AsBytes(prev), FromHex(line["bytes"]));
    EXPECT_EQ(line["hash"], ToHex(prev)) << line["seq"];
    tree.Append(merkle::LeafHash(FromHex(line["bytes"])));
  }
  // The head line: the last record, its chain hash, the Merkle root of all
  // of them, and the checkpoint record among them.
  EXPECT_EQ(end["tenant"], "amt");
  EXPECT_EQ(end["head"]["seq"], lines.back()["seq"]);
  EXPECT_EQ(end["head"]["hash"], ToHex(prev));
  EXPECT_EQ(end["head"]["root"], ToHex(tree.Root()));
  EXPECT_EQ(end["checkpoint"]["record"], 3);
  EXPECT_EQ(end["checkpoint"]["position"], 2);
  auto verify = Replay({"verify", "--data", data(), "--json"});
  EXPECT_EQ(json::parse(verify.out)[0]["head_hash"], ToHex(prev));
  auto range = Replay({"export", "--data", data(), "--tenant", "amt", "--from", "3", "--to", "4"});
  const auto part = JsonLines(range.out);
  ASSERT_EQ(part.size(), 3u);
  EXPECT_EQ(part[2]["head"]["seq"], 4);
  EXPECT_EQ(part[0]["seq"], 3);
  EXPECT_EQ(part[1]["seq"], 4);

  // The same chain from the API alone (issue 18): GET …/events?with_bytes=true,
  // two records per page.
  Sha256 api_prev{};
  Seq seen = 0;
  for (std::string after = "0"; !after.empty();) {
    auto page = Call(port, "GET", "/v1/tenants/amt/events?with_bytes=true&limit=2&after=" + after, "",
                     {{"Authorization", "Bearer " + admin}});
    ASSERT_EQ(page.status, 200) << page.body;
    const json body = page.json();
    for (const auto& item : body["items"]) {
      EXPECT_EQ(item["record"]["prev_hash"], ToHex(api_prev));
      api_prev = Sha256Of(AsBytes(api_prev), FromHex(item["bytes"]));
      EXPECT_EQ(item["hash"], ToHex(api_prev)) << item["seq"];
      ++seen;
    }
    after = body["next_cursor"].is_string() ? body["next_cursor"].get<std::string>() : "";
  }
  EXPECT_EQ(seen, lines.size());
  EXPECT_EQ(api_prev, prev);
  auto without =
      Call(port, "GET", "/v1/tenants/amt/events?limit=1", "", {{"Authorization", "Bearer " + admin}});
  EXPECT_FALSE(without.json()["items"][0].contains("bytes")) << without.body;
  auto bad =
      Call(port, "GET", "/v1/tenants/amt/events?with_bytes=yes", "", {{"Authorization", "Bearer " + admin}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(server.Terminate(), 0);
}

}  // namespace
}  // namespace saalbuch::e2e
