// A TenantModel driven by Decide: accepted commands' events are applied with
// increasing seqs, exactly as the command bus does.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>

#include "commands/commands.h"
#include "common/crypto.h"
#include "common/time.h"
#include "tests/support/times.h"

namespace saalbuch::commands {

using testing_support::kDay;
using testing_support::kHour;
using testing_support::T;

// Opening hours on every weekday from `first` to `last` (ISO weekdays).
// The tenant of the tests that run a bus, and a minute in microseconds.
inline const TenantId kTenant("stadt");
inline constexpr TimeUs kMinute = kUsPerMinute;

inline Rules OpenDays(int first, int last, int start_minute, int end_minute) {
  Rules r;
  for (int d = first; d <= last; ++d) r.opening.push_back({d, start_minute, end_minute});
  return r;
}

// Everything a decision says (reply, events, payload bytes), to compare two
// decisions.
inline std::string DescribeDecision(const Decision& d) {
  if (const auto* r = std::get_if<Rejection>(&d)) {
    return "refused " + r->code + " " + r->message + " " + r->details.dump();
  }
  const auto& a = std::get<Acceptance>(d);
  std::string out = "accepted " + std::to_string(a.created) + " " + a.reply.dump();
  for (const auto& ev : a.events) {
    flatbuffers::FlatBufferBuilder fbb;
    fbb.Finish(ev.payload.Pack(fbb));
    out += "\n" + ev.stream_id + " v" + std::to_string(ev.stream_version) + " " +
           schema::EnumNamePayload(ev.payload.type) + " " + ev.actor + " " + std::to_string(ev.recorded_at) +
           " " +
           ToHex(std::string_view(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()));
  }
  return out;
}

class DecideFixture : public ::testing::Test {
 protected:
  Context Ctx(TimeUs now, std::string actor = "key:admin") {
    Context c;
    c.tenant = TenantId("stadt");
    c.now = now;
    c.actor = std::move(actor);
    c.command_id = "cmd-" + std::to_string(++commands_);
    c.correlation_id = "corr-" + std::to_string(commands_);
    return c;
  }

  // Decides without touching the model.
  Decision DecideAt(const Command& cmd, TimeUs now) { return Decide(model_, Ctx(now), cmd); }

  // Decides; the command must be accepted, and its events are applied.
  Acceptance Accept(const Command& cmd, TimeUs now) {
    Decision d = DecideAt(cmd, now);
    if (auto* r = std::get_if<Rejection>(&d)) {
      ADD_FAILURE() << CommandName(cmd) << " refused: " << r->code << " (" << r->message << ") "
                    << r->details.dump();
      return {};
    }
    Acceptance a = std::get<Acceptance>(std::move(d));
    for (const auto& ev : a.events) model_.Apply(++seq_, ev.stream_version, ev.recorded_at, ev.payload);
    return a;
  }

  // Decides `cmd` on model_ and on `twin`: both must decide exactly alike
  // (`what` says how the twin differs, for a failure); accepted events are
  // applied to both.
  Decision DecideWithTwin(TenantModel& twin, const Command& cmd, TimeUs now, const std::string& actor,
                          const char* what) {
    Context ctx = Ctx(now, actor);
    Decision d = Decide(model_, ctx, cmd);
    EXPECT_EQ(DescribeDecision(d), DescribeDecision(Decide(twin, ctx, cmd)))
        << CommandName(cmd) << " decided differently " << what;
    if (auto* a = std::get_if<Acceptance>(&d)) {
      for (const auto& ev : a->events) {
        ++seq_;
        model_.Apply(seq_, ev.stream_version, ev.recorded_at, ev.payload);
        twin.Apply(seq_, ev.stream_version, ev.recorded_at, ev.payload);
      }
    }
    return d;
  }

  // Decides; the command must be refused. The model is unchanged.
  Rejection Refuse(const Command& cmd, TimeUs now) {
    Decision d = DecideAt(cmd, now);
    if (std::holds_alternative<Acceptance>(d)) {
      ADD_FAILURE() << CommandName(cmd) << " was accepted: " << std::get<Acceptance>(d).reply.dump();
      return {};
    }
    return std::get<Rejection>(std::move(d));
  }

  void MakeTenant(const std::string& zone, TimeUs now) {
    CreateTenant c;
    c.id = TenantId("stadt");
    c.name = "Stadt Musterhausen";
    c.time_zone = zone;
    c.admin_key_id = "admin";
    c.admin_key = "secret-admin-key";
    Accept(c, now);
  }

  void MakeRoom(const std::string& id, std::optional<Rules> rules, TimeUs now) {
    CreateResource c;
    c.id = ResourceId(id);
    c.kind = "room";
    c.name = "Room " + id;
    c.rules = std::move(rules);
    Accept(c, now);
  }

  static PlaceBooking Place(const std::string& id, const std::string& resource, TimeUs start, TimeUs end,
                            bool by_staff = false) {
    PlaceBooking p;
    p.id = BookingId(id);
    p.resource = ResourceId(resource);
    p.range = {start, end};
    p.by_staff = by_staff;
    if (!by_staff) p.manage_token = "token-" + id;
    return p;
  }

  static CancelBooking CancelAsBooker(const std::string& id, std::string token = "") {
    CancelBooking c;
    c.id = BookingId(id);
    c.manage_token = token.empty() ? "token-" + id : std::move(token);
    c.reason = "changed plans";
    return c;
  }

  static CancelBooking CancelAsStaff(const std::string& id) {
    CancelBooking c;
    c.id = BookingId(id);
    c.by_staff = true;
    c.reason = "staff decision";
    return c;
  }

  TenantModel model_;
  Seq seq_ = 0;
  int commands_ = 0;
};

}  // namespace saalbuch::commands
