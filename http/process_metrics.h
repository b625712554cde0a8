// The process_* metrics every Prometheus client library exports (CPU time,
// memory, file descriptors, start time), read from /proc at each scrape,
// under the names of Prometheus' own "Process metrics" convention, so
// that the usual dashboards and alerts work unchanged.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace saalbuch::http {

std::vector<prometheus::MetricFamily> ProcessMetricFamilies();

// One family with one unlabelled sample.
prometheus::MetricFamily OneGauge(std::string name, std::string help, double value);

}  // namespace saalbuch::http
