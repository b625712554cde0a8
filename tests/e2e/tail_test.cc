// The auditor's live tail over the real server: GET …/events/stream answers
// in the server-sent events format with each record's log position as its
// id, waits for new records, and resumes after Last-Event-ID without gaps or
// repeats — the way a browser's EventSource reconnects.

#include <gtest/gtest.h>

#include <future>
#include <sstream>

#include "tests/e2e/booking_load.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

struct SseEvent {
  std::string id, event, data;
};

// Parses a text/event-stream body (the WHATWG grammar: fields up to a blank
// line; comments start with ':').
std::vector<SseEvent> ParseSse(const std::string& body, std::string* retry) {
  std::vector<SseEvent> out;
  SseEvent cur;
  std::istringstream in(body);
  bool any = false;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) {
      if (any) out.push_back(cur);
      cur = {};
      any = false;
      continue;
    }
    if (line[0] == ':') continue;
    const auto colon = line.find(':');
    const std::string field = line.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    if (field == "retry") {
      *retry = value;
      continue;
    }
    any = true;
    if (field == "id") cur.id = value;
    if (field == "event") cur.event = value;
    if (field == "data") cur.data += value;
  }
  return out;
}

class TailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("tail");
    server_ = std::make_unique<Server>(dir_ / "data");
    server_->Start();
    admin_ = TenantWithRooms(server_->port(), "stadt", {"a"});
    auto k = CallJson(server_->port(), "POST", "/v1/tenants/stadt/keys", {{"role", "auditor"}}, admin_);
    ASSERT_EQ(k.status, 201) << k.body;
    auditor_ = k.json()["key"];
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  HttpResult Stream(const std::string& query, const std::string& last_id = "") {
    std::map<std::string, std::string> h = {{"Authorization", "Bearer " + auditor_},
                                            {"Accept", "text/event-stream"}};
    if (!last_id.empty()) h["Last-Event-ID"] = last_id;
    return Call(server_->port(), "GET", "/v1/tenants/stadt/events/stream" + query, "", h);
  }
  HttpResult Book(int hour) {
    return CallJson(server_->port(), "POST", "/v1/tenants/stadt/bookings",
                    {{"resource", "a"},
                     {"start", "2027-05-03T" + std::to_string(hour) + ":00:00Z"},
                     {"end", "2027-05-03T" + std::to_string(hour) + ":30:00Z"}},
                    admin_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
  std::string admin_, auditor_;
};

TEST_F(TailTest, FromTheStartEveryRecordWithItsPositionAsId) {
  auto r = Stream("?after=0&wait=0");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(r.header("cache-control"), "no-cache");
  std::string retry;
  auto events = ParseSse(r.body, &retry);
  EXPECT_EQ(retry, "1000");
  ASSERT_GE(events.size(), 3u);
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].id, std::to_string(i + 1));
    EXPECT_EQ(events[i].event, "record");
    const json rec = json::parse(events[i].data);
    EXPECT_EQ(rec["seq"], i + 1);
    EXPECT_EQ(rec["hash"].get<std::string>().size(), 64u);
  }
  EXPECT_EQ(json::parse(events[0].data)["record"]["payload_type"], "TenantCreated");
}

TEST_F(TailTest, WaitsForTheNextRecordAndResumesAfterLastEventId) {
  std::string retry;
  const auto before = ParseSse(Stream("?wait=0").body, &retry);
  ASSERT_FALSE(before.empty());
  const std::string last = before.back().id;
  // A tail that waits: a booking made meanwhile arrives in the same response.
  auto tail = std::async(std::launch::async, [&] { return Stream("?wait=10", last); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(Book(10).status, 201);
  auto r = tail.get();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << "answered when it came";
  ASSERT_EQ(r.status, 200) << r.body;
  auto events = ParseSse(r.body, &retry);
  ASSERT_FALSE(events.empty()) << r.body;
  EXPECT_EQ(events.front().id, std::to_string(std::stoull(last) + 1)) << "no gap after Last-Event-ID";
  EXPECT_EQ(json::parse(events.front().data)["record"]["payload_type"], "BookingPlaced");
  // Nothing new: after the wait a keep-alive comment and no events.
  const auto idle_start = std::chrono::steady_clock::now();
  auto idle = Stream("?wait=1", events.back().id);
  EXPECT_GE(std::chrono::steady_clock::now() - idle_start, std::chrono::milliseconds(900));
  ASSERT_EQ(idle.status, 200);
  EXPECT_TRUE(ParseSse(idle.body, &retry).empty()) << idle.body;
  EXPECT_NE(idle.body.find(": no new records"), std::string::npos);
}

TEST_F(TailTest, OnlyAuditorsAndAdminsAndOnlyPositions) {
  auto anon = Call(server_->port(), "GET", "/v1/tenants/stadt/events/stream?wait=0");
  EXPECT_EQ(anon.status, 401);
  auto k = CallJson(server_->port(), "POST", "/v1/tenants/stadt/keys", {{"role", "staff"}}, admin_);
  auto staff = Call(server_->port(), "GET", "/v1/tenants/stadt/events/stream?wait=0", "",
                    {{"Authorization", "Bearer " + k.json()["key"].get<std::string>()}});
  EXPECT_EQ(staff.status, 403);
  EXPECT_EQ(Stream("?wait=0", "abc").status, 400);
  EXPECT_EQ(Stream("?wait=11").status, 400);
  EXPECT_EQ(Stream("?after=-1&wait=0").status, 400);
}

}  // namespace
}  // namespace saalbuch::e2e
