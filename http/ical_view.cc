#include "http/ical_view.h"

namespace saalbuch::http {

std::string BusyFeedIcs(const TenantId& tenant, const std::string& resource_name,
                        const std::vector<projections::BusyRange>& busy, TimeUs now) {
  std::vector<formats::BusySlot> slots;
  slots.reserve(busy.size());
  for (const auto& b : busy) slots.push_back({b.range, b.booking});
  return formats::BusyFeedIcs(tenant, resource_name, slots, now);
}

std::string BookingIcs(const TenantId& tenant, const std::string& tenant_name,
                       const std::string& resource_name, const nlohmann::json& booking, TimeUs now) {
  formats::IcsBooking b;
  b.id = booking.at("id").get<std::string>();
  b.number = booking.at("number").get<std::string>();
  b.range = {ParseRfc3339(booking.at("start").get<std::string>()).value(),
             ParseRfc3339(booking.at("end").get<std::string>()).value()};
  b.version = booking.at("version").get<int>();
  b.cancelled = booking.at("status") == "cancelled";
  return formats::BookingIcs(tenant, tenant_name, resource_name, b, now);
}

}  // namespace saalbuch::http
