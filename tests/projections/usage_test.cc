// The usage projection from a real log: what each kind of booking event
// counts, in which month and group, the revenue beside it, the opening time
// and the utilisation; a replay equals the incremental fold.

#include <gtest/gtest.h>

#include "tests/projections/projection_fixture.h"

namespace saalbuch::projections {
namespace {

using nlohmann::json;

class UsageTest : public ProjectionFixture {
 protected:
  void SetUp() override {
    ProjectionFixture::SetUp();
    MakeTenant("stadt", "Europe/Berlin", now_);
    commands::Rules hours;  // weekdays 08:00–18:00: 22 weekdays in March and in April 2026
    for (int d = 1; d <= 5; ++d) hours.opening.push_back({d, 8 * 60, 18 * 60});
    MakeRoom("stadt", "saal", hours, now_);
    MustDo("stadt", commands::CreateResource{ResourceId("tablets"), "pool", "Tablets", "", hours, 4, {}, {}},
           now_);
    MustDo("stadt", commands::SetSettings{30 * kUsPerMinute}, now_);
    MustDo("stadt", commands::DefineGroup{"verein", "Vereine"}, now_);
    MustDo("stadt", commands::RegisterCustomer{"tsv", "verein", "sbc_tsv"}, now_);
    commands::Right club;
    club.id = "r-saal-verein";
    club.resource = ResourceId("saal");
    club.group = "verein";
    club.needs_approval = true;
    MustDo("stadt", commands::GrantRight{club}, now_);
    commands::Right everyone = club;
    everyone.id = "r-saal-public";
    everyone.group = "public";
    everyone.needs_approval = false;
    MustDo("stadt", commands::GrantRight{everyone}, now_);
    commands::SetTariff t;
    t.id = "saal";
    t.target = "resource/saal";
    t.currency = "EUR";
    t.version.unit = commands::TariffUnit::kHour;
    t.version.amount = 1190;  // 11,90 € an hour gross, 19 %
    t.version.gross = true;
    t.version.tax_rate_bp = 1900;
    MustDo("stadt", t, now_);
  }

  commands::PlaceBooking Club(const std::string& id, TimeUs start, TimeUs end) {
    commands::PlaceBooking p = Place(id, "saal", start, end);
    p.customer_token = "sbc_tsv";
    return p;
  }

  // The rows of the months [from, to] as "month/resource/group" → row.
  std::map<std::string, json> Rows(const KvView& kv, const std::string& from, const std::string& to) {
    AvailabilityIndex index;
    EXPECT_TRUE(index.Load(kv, kTenant).ok());
    auto usage = QueryUsage(kv, index, kTenant, from, to, "");
    EXPECT_TRUE(usage.ok()) << usage.status().ToString();
    std::map<std::string, json> out;
    if (!usage.ok()) return out;
    EXPECT_EQ((*usage)["time_zone"], "Europe/Berlin");
    for (const auto& i : (*usage)["items"]) {
      out[i["month"].get<std::string>() + "/" + i["resource"].get<std::string>() + "/" +
          i["group"].get<std::string>()] = i;
    }
    return out;
  }

  TimeUs now_ = T("2026-03-02T08:00:00Z");  // Monday
};

TEST_F(UsageTest, EachEventCountsInItsMonthAndGroupWithRevenueAndUtilisation) {
  // Staff's own held booking that expires: placed and expired, never booked.
  commands::PlaceBooking held =
      Place("g", "saal", T("2026-03-13T10:00:00+01:00"), T("2026-03-13T11:00:00+01:00"), true);
  held.hold = true;
  MustDo("stadt", held, now_, "key:staff");
  now_ += kHour;
  MustDo("stadt", commands::ExpireHolds{}, now_, "system");
  // Priced public bookings are held until paid; paid in cash they are confirmed.
  auto pay = [&](const std::string& booking, std::int64_t amount) {
    MustDo("stadt", commands::RecordPayment{"inv-" + booking, "kasse-" + booking, "cash", amount, "EUR", 0},
           now_, "key:finance");
  };
  // Public, paid: 2 hours in March.
  MustDo("stadt", Place("a", "saal", T("2026-03-04T10:00:00+01:00"), T("2026-03-04T12:00:00+01:00")), now_,
         "public");
  pay("a", 2380);
  // Public, cancelled before paying: counted as placed and cancelled, its revenue credited.
  MustDo("stadt", Place("b", "saal", T("2026-03-05T10:00:00+01:00"), T("2026-03-05T11:00:00+01:00")), now_,
         "public");
  commands::CancelBooking cancel;
  cancel.id = BookingId("b");
  cancel.manage_token = "token-b";
  MustDo("stadt", cancel, now_, "manage-token");
  // Staff's own booking, then a no-show: internal, still booked.
  MustDo("stadt", Place("c", "saal", T("2026-03-06T08:00:00+01:00"), T("2026-03-06T10:00:00+01:00"), true),
         now_, "key:staff");
  MustDo("stadt", commands::CompleteBooking{BookingId("c"), true, std::nullopt},
         T("2026-03-06T10:30:00+01:00"), "key:staff");
  // The club asks twice: one approved (and paid), one rejected.
  MustDo("stadt", Club("d", T("2026-03-10T14:00:00+01:00"), T("2026-03-10T17:00:00+01:00")), now_,
         "customer-token");
  MustDo("stadt", Club("e", T("2026-03-11T14:00:00+01:00"), T("2026-03-11T15:00:00+01:00")), now_,
         "customer-token");
  MustDo("stadt", commands::ApproveBooking{BookingId("d"), "", std::nullopt}, now_, "key:staff");
  MustDo("stadt", commands::RejectBooking{BookingId("e"), "belegt", std::nullopt}, now_, "key:staff");
  pay("d", 3570);
  // Paid, then moved from March to April: its time and revenue go along,
  // "placed" stays in March.
  MustDo("stadt", Place("f", "saal", T("2026-03-12T10:00:00+01:00"), T("2026-03-12T11:00:00+01:00")), now_,
         "public");
  pay("f", 1190);
  commands::RescheduleBooking move;
  move.id = BookingId("f");
  move.range = {T("2026-04-01T10:00:00+02:00"), T("2026-04-01T11:00:00+02:00")};
  move.manage_token = "token-f";
  MustDo("stadt", move, now_, "manage-token");
  // Three of the four tablets (free) for a day's opening hours.
  commands::PlaceBooking tablets =
      Place("h", "tablets", T("2026-03-16T08:00:00+01:00"), T("2026-03-16T18:00:00+01:00"));
  tablets.units = 3;
  MustDo("stadt", tablets, now_, "public");
  // The public side's counts of the funnel; a resource no longer known is
  // left out.
  commands::RecordFunnel counted{
      now_ - kHour, now_, {{"saal", 10, 6, {{"booking_conflict", 1}}}, {"nirgends", 5, 1, {}}}};
  MustDo("stadt", counted, now_, "system");

  auto store = Replay("stadt");
  auto rows = Rows(*store, "2026-03", "2026-04");
  ASSERT_EQ(rows.size(), 5u) << json(rows).dump(1);

  const json& pub = rows["2026-03/saal/public"];
  EXPECT_EQ(pub["placed"], 3);  // a, b, f
  EXPECT_EQ(pub["bookings"], 1);
  EXPECT_EQ(pub["booked_minutes"], 120);
  EXPECT_EQ(pub["cancelled"], 1);
  EXPECT_EQ(pub["open_minutes"], 22 * 600);
  EXPECT_EQ(pub["capacity"], 1);
  EXPECT_DOUBLE_EQ(pub["utilisation"].get<double>(), 0.0091);  // 120 / 13200
  EXPECT_EQ(pub["revenue"]["currency"], "EUR");

  const json& internal = rows["2026-03/saal/internal"];
  EXPECT_EQ(internal["placed"], 2);  // c and the held g
  EXPECT_EQ(internal["bookings"], 1);
  EXPECT_EQ(internal["booked_minutes"], 120);
  EXPECT_EQ(internal["no_show"], 1);
  EXPECT_EQ(internal["expired"], 1);

  const json& club = rows["2026-03/saal/verein"];
  EXPECT_EQ(club["placed"], 2);
  EXPECT_EQ(club["approved"], 1);
  EXPECT_EQ(club["rejected"], 1);
  EXPECT_EQ(club["bookings"], 1);
  EXPECT_EQ(club["booked_minutes"], 180);

  const json& april = rows["2026-04/saal/public"];
  EXPECT_EQ(april["placed"], 0);
  EXPECT_EQ(april["bookings"], 1);
  EXPECT_EQ(april["booked_minutes"], 60);
  EXPECT_EQ(april["open_minutes"], 22 * 600);

  const json& pool = rows["2026-03/tablets/public"];
  EXPECT_EQ(pool["unit_minutes"], 3 * 600);
  EXPECT_EQ(pool["capacity"], 4);
  EXPECT_DOUBLE_EQ(pool["utilisation"].get<double>(), 0.0341);  // 1800 / (4 × 13200)

  // Revenue: what the finance projection invoiced less what it credited,
  // per booking, in the row of the booking's month now.
  const std::map<std::string, std::string> row_of = {
      {"a", "2026-03/saal/public"}, {"b", "2026-03/saal/public"}, {"c", "2026-03/saal/internal"},
      {"d", "2026-03/saal/verein"}, {"f", "2026-04/saal/public"}, {"g", "2026-03/saal/internal"}};
  std::map<std::string, std::int64_t> net_by_row;
  std::map<std::string, std::string> booking_of;
  const std::string finance = ledger::keys::TenantPrefix("stadt") + "F";
  for (const auto& [key, value] : Keys(*store, "stadt")) {
    if (key.compare(0, finance.size() + 1, finance + "i") != 0) continue;
    const json inv = json::parse(value);
    booking_of[inv["id"]] = inv["booking"];
    ASSERT_EQ(row_of.count(inv["booking"]), 1u) << inv.dump();
    net_by_row[row_of.at(inv["booking"])] += inv["net"].get<std::int64_t>();
  }
  int credit_notes = 0;
  for (const auto& [key, value] : Keys(*store, "stadt")) {
    if (key.compare(0, finance.size() + 1, finance + "c") != 0) continue;
    const json cn = json::parse(value);
    net_by_row[row_of.at(booking_of.at(cn["invoice"]))] -= cn["net"].get<std::int64_t>();
    ++credit_notes;
  }
  EXPECT_GE(credit_notes, 1);                          // b's, and g's if its expiry credits it
  EXPECT_EQ(net_by_row["2026-03/saal/public"], 2000);  // a: 23,80 € gross
  EXPECT_EQ(net_by_row["2026-04/saal/public"], 1000);
  for (const auto& [row, net] : net_by_row) EXPECT_EQ(rows[row]["revenue"]["net"], net) << row;
  EXPECT_EQ(pub["revenue"]["gross"], 2380);

  // The funnel: the counts as recorded; booked (placed by the public side,
  // the club's included) and paid (a, d, f) in the month they happened.
  auto funnel = QueryFunnel(*store, kTenant, "2026-03", "2026-04", "");
  ASSERT_TRUE(funnel.ok()) << funnel.status().ToString();
  ASSERT_EQ((*funnel)["items"].size(), 2u) << funnel->dump();
  const json& saal = (*funnel)["items"][0];
  EXPECT_EQ(saal["month"], "2026-03");
  EXPECT_EQ(saal["resource"], "saal");
  EXPECT_EQ(saal["views"], 10);
  EXPECT_EQ(saal["attempts"], 6);
  EXPECT_EQ(saal["refused"], json({{"booking_conflict", 1}}));
  EXPECT_EQ(saal["refused_total"], 1);
  EXPECT_EQ(saal["booked"], 5);  // a, b, d, e, f
  EXPECT_EQ(saal["paid"], 3);
  const json& pool_funnel = (*funnel)["items"][1];
  EXPECT_EQ(pool_funnel["resource"], "tablets");
  EXPECT_EQ(pool_funnel["booked"], 1);
  EXPECT_EQ(pool_funnel["views"], 0);
  EXPECT_EQ(QueryFunnel(*store, kTenant, "2026-03", "2026-04", "tablets")->at("items").size(), 1u);

  // Bad months are refused; a month without anything has no rows.
  AvailabilityIndex index;
  ASSERT_TRUE(index.Load(*store, kTenant).ok());
  EXPECT_EQ(QueryUsage(*store, index, kTenant, "2026-04", "2026-03", "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(QueryUsage(*store, index, kTenant, "2026-13", "2026-14", "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(Rows(*store, "2026-05", "2026-05").empty());
  EXPECT_EQ(QueryUsage(*store, index, TenantId("dorf"), "2026-03", "2026-03", "").status().code(),
            StatusCode::kNotFound);
  // One resource only.
  auto only = QueryUsage(*store, index, kTenant, "2026-03", "2026-04", "tablets");
  ASSERT_TRUE(only.ok());
  EXPECT_EQ((*only)["items"].size(), 1u);
}

}  // namespace
}  // namespace saalbuch::projections
