// Queries over projections folded (FoldInto a MemoryStore) from a real log:
// catalog, availability, a booking with its history, bookings per resource.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "tests/projections/projection_fixture.h"

namespace saalbuch::projections {
namespace {

using commands::CancelBooking;
using commands::Rules;

Rules WeekdaysEightToSix() {
  Rules r;
  for (int d = 1; d <= 5; ++d) r.opening.push_back({d, 8 * 60, 18 * 60});
  return r;
}

class QueriesTest : public ProjectionFixture {
 protected:
  void SetUp() override {
    ProjectionFixture::SetUp();
    now_ = T("2026-03-02T08:00:00Z");  // Monday
    MakeTenant("stadt", "Europe/Berlin", now_);
  }

  std::vector<std::pair<std::string, std::string>> Ranges(const nlohmann::json& list) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& r : list)
      out.emplace_back(r.at("start").get<std::string>(), r.at("end").get<std::string>());
    return out;
  }

  TimeUs now_ = 0;
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

// The availability query as the server answers it: from the index decoded
// from the stored keys.
Result<nlohmann::json> QueryAvailability(const KvView& kv, const TenantId& t, const ResourceId& r,
                                         TimeRange w) {
  AvailabilityIndex index;
  if (Status s = index.Load(kv, t); !s.ok()) return s;
  return projections::QueryAvailability(index, t, r, w);
}

TEST_F(QueriesTest, CatalogShowsTheTenantAndItsResourcesWithRules) {
  MakeRoom("stadt", "saal", std::nullopt, now_);
  MakeRoom("stadt", "foyer", WeekdaysEightToSix(), now_);
  Rules changed = WeekdaysEightToSix();
  changed.buffer_after = 30 * kUsPerMinute;
  MustDo("stadt", commands::SetRules{ResourceId("foyer"), changed, 2}, now_);

  auto store = Replay("stadt");
  auto tenant = QueryTenant(*store, TenantId("stadt"));
  ASSERT_TRUE(tenant.ok()) << tenant.status().ToString();
  EXPECT_EQ(tenant->at("name"), "Tenant stadt");
  EXPECT_EQ(tenant->at("time_zone"), "Europe/Berlin");

  auto list = QueryResources(*store, TenantId("stadt"));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->at("items").size(), 2u);
  EXPECT_EQ(list->at("items")[0].at("id"), "foyer");
  EXPECT_EQ(list->at("items")[1].at("id"), "saal");
  EXPECT_TRUE(list->at("next_cursor").is_null());

  // Pages of one: each resource once, in id order, then no cursor.
  auto first = QueryResources(*store, TenantId("stadt"), 1);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->at("items").size(), 1u);
  EXPECT_EQ(first->at("items")[0].at("id"), "foyer");
  ASSERT_EQ(first->at("next_cursor"), "foyer");
  auto second = QueryResources(*store, TenantId("stadt"), 1, "foyer");
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->at("items").size(), 1u);
  EXPECT_EQ(second->at("items")[0].at("id"), "saal");
  EXPECT_TRUE(second->at("next_cursor").is_null());
  EXPECT_EQ(QueryResources(*store, TenantId("stadt"), 1, "Bad Cursor!").status().code(),
            StatusCode::kInvalidArgument);

  auto foyer = QueryResource(*store, TenantId("stadt"), ResourceId("foyer"));
  ASSERT_TRUE(foyer.ok());
  EXPECT_EQ(foyer->at("version"), 3);
  const auto& rules = foyer->at("rules");
  EXPECT_EQ(rules.at("buffer_after_minutes"), 30);
  ASSERT_EQ(rules.at("opening_hours").size(), 5u);
  EXPECT_EQ(rules.at("opening_hours")[0].at("start"), "08:00");
  EXPECT_EQ(rules.at("opening_hours")[0].at("end"), "18:00");

  EXPECT_EQ(QueryResource(*store, TenantId("stadt"), ResourceId("keller")).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(QueryTenant(*store, TenantId("dorf")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(QueryResources(*store, TenantId("dorf")).status().code(), StatusCode::kNotFound);
}

TEST_F(QueriesTest, AvailabilityShowsBusyWithBuffersAndFreeWithinOpeningHours) {
  Rules rules = WeekdaysEightToSix();
  rules.buffer_before = 15 * kUsPerMinute;
  rules.buffer_after = 30 * kUsPerMinute;
  MakeRoom("stadt", "saal", rules, now_);
  // Wednesday 10:00–11:00 Berlin (09:00–10:00Z); blocked 08:45–10:30Z.
  MustDo("stadt", Place("bk-1", "saal", T("2026-03-04T10:00:00+01:00"), T("2026-03-04T11:00:00+01:00")), now_,
         "public");

  auto store = Replay("stadt");
  const TimeRange wednesday{T("2026-03-04T00:00:00+01:00"), T("2026-03-05T00:00:00+01:00")};
  auto a = QueryAvailability(*store, TenantId("stadt"), ResourceId("saal"), wednesday);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->at("time_zone"), "Europe/Berlin");
  EXPECT_EQ(a->at("from"), "2026-03-03T23:00:00Z");
  EXPECT_EQ(Ranges(a->at("busy")), (Pairs{{"2026-03-04T08:45:00Z", "2026-03-04T10:30:00Z"}}));
  EXPECT_EQ(Ranges(a->at("free")), (Pairs{{"2026-03-04T07:00:00Z", "2026-03-04T08:45:00Z"},
                                          {"2026-03-04T10:30:00Z", "2026-03-04T17:00:00Z"}}));
  EXPECT_EQ(a->at("busy")[0].at("start_local"), "2026-03-04T09:45:00+01:00");
  EXPECT_EQ(a->at("free")[0].at("remaining"), 1);

  // A window cutting through the busy range shows only its part.
  auto part = QueryAvailability(*store, TenantId("stadt"), ResourceId("saal"),
                                {T("2026-03-04T09:00:00Z"), T("2026-03-04T12:00:00Z")});
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(Ranges(part->at("busy")), (Pairs{{"2026-03-04T09:00:00Z", "2026-03-04T10:30:00Z"}}));
  EXPECT_EQ(Ranges(part->at("free")), (Pairs{{"2026-03-04T10:30:00Z", "2026-03-04T12:00:00Z"}}));

  // The cancelled booking disappears from busy; folding continues from the
  // store's checkpoints.
  CancelBooking cancel;
  cancel.id = BookingId("bk-1");
  cancel.manage_token = "token-bk-1";
  MustDo("stadt", cancel, now_ + kHour, "manage-token");
  ASSERT_TRUE(FoldInto(store.get(), *log_, TenantId("stadt")).ok());
  auto after = QueryAvailability(*store, TenantId("stadt"), ResourceId("saal"), wednesday);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->at("busy").empty()) << after->dump();
  EXPECT_EQ(Ranges(after->at("free")), (Pairs{{"2026-03-04T07:00:00Z", "2026-03-04T17:00:00Z"}}));
}

TEST_F(QueriesTest, AvailabilityListsAdjacentAndNeighbouringBookingsInOrder) {
  MakeRoom("stadt", "saal", std::nullopt, now_);
  // Monday 23:00 – Tuesday 01:00 local reaches into Tuesday's window.
  MustDo("stadt", Place("night", "saal", T("2026-03-02T23:00:00+01:00"), T("2026-03-03T01:00:00+01:00")),
         now_);
  MustDo("stadt", Place("b", "saal", T("2026-03-03T12:00:00+01:00"), T("2026-03-03T13:00:00+01:00")), now_);
  MustDo("stadt", Place("a", "saal", T("2026-03-03T10:00:00+01:00"), T("2026-03-03T12:00:00+01:00")), now_);
  MustDo("stadt", Place("later", "saal", T("2026-03-04T10:00:00+01:00"), T("2026-03-04T12:00:00+01:00")),
         now_);
  auto store = Replay("stadt");
  auto a = QueryAvailability(*store, TenantId("stadt"), ResourceId("saal"),
                             {T("2026-03-03T00:00:00+01:00"), T("2026-03-04T00:00:00+01:00")});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(Ranges(a->at("busy")), (Pairs{{"2026-03-02T23:00:00Z", "2026-03-03T00:00:00Z"},
                                          {"2026-03-03T09:00:00Z", "2026-03-03T11:00:00Z"},
                                          {"2026-03-03T11:00:00Z", "2026-03-03T12:00:00Z"}}));
  EXPECT_EQ(Ranges(a->at("free")), (Pairs{{"2026-03-03T00:00:00Z", "2026-03-03T09:00:00Z"},
                                          {"2026-03-03T12:00:00Z", "2026-03-03T23:00:00Z"}}));
}

TEST_F(QueriesTest, AvailabilityRefusesBadWindowsAndUnknownIds) {
  MakeRoom("stadt", "saal", std::nullopt, now_);
  auto store = Replay("stadt");
  const TimeUs s = T("2026-03-04T00:00:00Z");
  EXPECT_EQ(QueryAvailability(*store, TenantId("stadt"), ResourceId("saal"), {s, s}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      QueryAvailability(*store, TenantId("stadt"), ResourceId("saal"), {s, s + 63 * kDay}).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_TRUE(QueryAvailability(*store, TenantId("stadt"), ResourceId("saal"), {s, s + 62 * kDay}).ok());
  EXPECT_EQ(QueryAvailability(*store, TenantId("stadt"), ResourceId("keller"), {s, s + kDay}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(QueryAvailability(*store, TenantId("dorf"), ResourceId("saal"), {s, s + kDay}).status().code(),
            StatusCode::kNotFound);
}

TEST_F(QueriesTest, BookingHistoryHasPlacementAndCancellationWithActors) {
  MakeRoom("stadt", "saal", std::nullopt, now_);
  const TimeUs placed_at = now_;
  const TimeUs cancelled_at = now_ + 2 * kHour;
  MustDo("stadt", Place("bk-1", "saal", T("2026-03-04T09:00:00Z"), T("2026-03-04T10:00:00Z")), placed_at,
         "public");
  const Seq placed_seq = Head("stadt");
  CancelBooking cancel;
  cancel.id = BookingId("bk-1");
  cancel.manage_token = "token-bk-1";
  cancel.reason = "Regen";
  MustDo("stadt", cancel, cancelled_at, "manage-token");
  const Seq cancelled_seq = Head("stadt");

  auto store = Replay("stadt");
  auto view = QueryBooking(*store, TenantId("stadt"), BookingId("bk-1"));
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  const nlohmann::json& doc = view->doc;
  EXPECT_EQ(doc.at("status"), "cancelled");
  EXPECT_EQ(doc.at("version"), 2);
  EXPECT_EQ(doc.at("number"), "B-2026-000001");
  EXPECT_EQ(doc.at("start_local"), "2026-03-04T10:00:00+01:00");
  EXPECT_EQ(doc.at("channel"), "public");
  EXPECT_EQ(doc.at("placed_at"), FormatUtc(placed_at));
  EXPECT_EQ(doc.at("cancelled_at"), FormatUtc(cancelled_at));
  const auto& history = doc.at("history");
  ASSERT_EQ(history.size(), 2u) << doc.dump();
  EXPECT_EQ(history[0].at("event"), "placed");
  EXPECT_EQ(history[0].at("actor"), "public");
  EXPECT_EQ(history[0].at("seq"), placed_seq);
  EXPECT_EQ(history[0].at("at"), FormatUtc(placed_at));
  EXPECT_EQ(history[1].at("event"), "cancelled");
  EXPECT_EQ(history[1].at("actor"), "manage-token");
  EXPECT_EQ(history[1].at("by"), "booker");
  EXPECT_EQ(history[1].at("reason"), "Regen");
  EXPECT_EQ(history[1].at("seq"), cancelled_seq);
  EXPECT_EQ(history[1].at("at"), FormatUtc(cancelled_at));
  EXPECT_EQ(view->manage_token_hash, std::string(AsBytes(Sha256Of("token-bk-1"))));
}

TEST_F(QueriesTest, StaffBookingHasNoManageTokenAndStaffCancellationNoReason) {
  MakeRoom("stadt", "saal", std::nullopt, now_);
  MustDo("stadt", Place("bk-s", "saal", T("2026-03-04T09:00:00Z"), T("2026-03-04T10:00:00Z"), true), now_,
         "key:staff-1");
  CancelBooking cancel;
  cancel.id = BookingId("bk-s");
  cancel.by_staff = true;
  MustDo("stadt", cancel, now_, "key:staff-2");

  auto store = Replay("stadt");
  auto view = QueryBooking(*store, TenantId("stadt"), BookingId("bk-s"));
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->manage_token_hash.empty());
  EXPECT_EQ(view->doc.at("channel"), "staff");
  const auto& history = view->doc.at("history");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].at("actor"), "key:staff-1");
  EXPECT_EQ(history[1].at("actor"), "key:staff-2");
  EXPECT_EQ(history[1].at("by"), "staff");
  EXPECT_FALSE(history[1].contains("reason"));

  EXPECT_EQ(QueryBooking(*store, TenantId("stadt"), BookingId("bk-none")).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(QueryBooking(*store, TenantId("dorf"), BookingId("bk-s")).status().code(), StatusCode::kNotFound);
}

class ResourceBookingsTest : public QueriesTest {
 protected:
  void SetUp() override {
    QueriesTest::SetUp();
    MakeRoom("stadt", "saal", std::nullopt, now_);
    MakeRoom("stadt", "foyer", std::nullopt, now_);
    day_ = T("2026-03-04T00:00:00Z");
    // Outside the window on both sides.
    MustDo("stadt", Place("before", "saal", day_ - 2 * kHour, day_ - kHour), now_);
    MustDo("stadt", Place("after", "saal", day_ + 40 * kHour, day_ + 41 * kHour), now_);
    for (int i = 0; i < 20; ++i) {
      const std::string id = "bk-" + std::to_string(i);
      MustDo("stadt", Place(id, "saal", day_ + i * 2 * kHour, day_ + i * 2 * kHour + kHour), now_);
      MustDo("stadt",
             Place("foyer-" + std::to_string(i), "foyer", day_ + i * 2 * kHour, day_ + i * 2 * kHour + kHour),
             now_);
      expected_.insert(id);
    }
    // A cancelled booking and its replacement share a start.
    CancelBooking cancel;
    cancel.id = BookingId("bk-5");
    cancel.by_staff = true;
    MustDo("stadt", cancel, now_);
    MustDo("stadt", Place("bk-5b", "saal", day_ + 10 * kHour, day_ + 11 * kHour), now_);
    expected_.insert("bk-5b");
    store_ = Replay("stadt");
  }

  // Pages through the window with `limit`; returns the ids in order.
  std::vector<std::string> PageThrough(std::size_t limit, int* pages) {
    std::vector<std::string> ids;
    std::string cursor;
    *pages = 0;
    for (;;) {
      auto page = QueryResourceBookings(*store_, TenantId("stadt"), ResourceId("saal"),
                                        {day_, day_ + 40 * kHour}, limit, cursor);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok() || ++*pages > 100) break;
      EXPECT_LE(page->at("items").size(), limit);
      for (const auto& item : page->at("items")) ids.push_back(item.at("id").get<std::string>());
      if (page->at("next_cursor").is_null()) break;
      cursor = page->at("next_cursor").get<std::string>();
    }
    return ids;
  }

  TimeUs day_ = 0;
  std::set<std::string> expected_;
  std::unique_ptr<MemoryStore> store_;
};

TEST_F(ResourceBookingsTest, PagesWithLimitAndCursorReturnEveryBookingExactlyOnce) {
  for (std::size_t limit : {1u, 4u, 20u, 21u, 100u}) {
    int pages = 0;
    std::vector<std::string> ids = PageThrough(limit, &pages);
    EXPECT_EQ(ids.size(), expected_.size()) << "limit " << limit;
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), expected_) << "limit " << limit;
    EXPECT_EQ(pages, static_cast<int>((expected_.size() + limit - 1) / limit)) << "limit " << limit;
  }
}

TEST_F(ResourceBookingsTest, ItemsComeInOrderOfStart) {
  auto page = QueryResourceBookings(*store_, TenantId("stadt"), ResourceId("saal"), {day_, day_ + 40 * kHour},
                                    100, "");
  ASSERT_TRUE(page.ok());
  std::vector<std::string> starts;
  for (const auto& item : page->at("items")) starts.push_back(item.at("start").get<std::string>());
  EXPECT_TRUE(std::is_sorted(starts.begin(), starts.end()));
  ASSERT_EQ(starts.size(), 21u);
  EXPECT_EQ(page->at("items")[0].at("id"), "bk-0");
  EXPECT_EQ(page->at("items")[0].at("status"), "confirmed");
}

TEST_F(ResourceBookingsTest, MalformedCursorOrUnknownResourceIsRefused) {
  const TimeRange w{day_, day_ + 40 * kHour};
  EXPECT_EQ(QueryResourceBookings(*store_, TenantId("stadt"), ResourceId("saal"), w, 4, "00").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(QueryResourceBookings(*store_, TenantId("stadt"), ResourceId("saal"), {day_, day_}, 4, "")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(QueryResourceBookings(*store_, TenantId("stadt"), ResourceId("keller"), w, 4, "").status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace saalbuch::projections
