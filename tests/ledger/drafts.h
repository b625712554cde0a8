// Event drafts for ledger tests: small, distinct and easy to recognise.
#pragma once

#include <string>
#include <vector>

#include "ledger/log.h"

namespace saalbuch::testing_support {

// A batch of one draft.
inline std::vector<ledger::EventDraft> One(ledger::EventDraft d) {
  std::vector<ledger::EventDraft> v;
  v.push_back(std::move(d));
  return v;
}

inline ledger::EventDraft ResourceDraft(const std::string& resource, std::uint64_t version = 1) {
  ledger::EventDraft d;
  d.stream_id = "resource/" + resource;
  d.stream_version = version;
  d.recorded_at = 1'770'000'000'000'000 + static_cast<TimeUs>(version);
  d.actor = "key:admin";
  d.command_id = "cmd-" + resource;
  d.correlation_id = "corr-" + resource;
  schema::ResourceCreatedT e;
  e.resource_id = resource;
  e.kind = "room";
  e.name = "Saal " + resource;
  e.description = "described";
  d.payload.Set(std::move(e));
  return d;
}

// One resource created: the smallest append there is.
inline std::vector<ledger::EventDraft> OneResource(const std::string& resource) {
  return One(ResourceDraft(resource));
}

inline ledger::EventDraft BookingDraft(const std::string& booking, TimeUs start, TimeUs end) {
  ledger::EventDraft d;
  d.stream_id = "booking/" + booking;
  d.stream_version = 1;
  d.recorded_at = start - 1000;
  d.actor = "public";
  d.command_id = "cmd-" + booking;
  d.correlation_id = "corr-" + booking;
  schema::BookingPlacedT e;
  e.booking_id = booking;
  e.number = "B-2026-000001";
  e.resource_id = "saal-1";
  e.start_us = start;
  e.end_us = end;
  e.blocked_start_us = start;
  e.blocked_end_us = end;
  e.channel = "public";
  d.payload.Set(std::move(e));
  return d;
}

}  // namespace saalbuch::testing_support
