#include "http/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace saalbuch::http {

namespace {

prometheus::MetricFamily One(std::string name, std::string help, prometheus::MetricType type, double value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  prometheus::ClientMetric sample;
  if (type == prometheus::MetricType::Counter) {
    sample.counter.value = value;
  } else {
    sample.gauge.value = value;
  }
  family.metric.push_back(sample);
  return family;
}

// The seconds since the epoch at which the system booted (/proc/stat btime).
double BootTime() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

prometheus::MetricFamily OneGauge(std::string name, std::string help, double value) {
  return One(std::move(name), std::move(help), prometheus::MetricType::Gauge, value);
}

std::vector<prometheus::MetricFamily> ProcessMetricFamilies() {
  std::vector<prometheus::MetricFamily> out;
  // /proc/self/stat (proc(5)): the fields after the command's closing
  // parenthesis, the command itself may hold spaces.
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  const std::size_t close = line.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(line.substr(close + 2));
    std::vector<std::string> f;
    for (std::string v; fields >> v;) f.push_back(v);
    // f[0] is field 3 (state): field n is f[n - 3].
    if (f.size() > 21) {
      const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
      const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
      out.push_back(One("process_cpu_seconds_total", "User and system CPU time spent in seconds.",
                        prometheus::MetricType::Counter, (std::stod(f[11]) + std::stod(f[12])) / ticks));
      out.push_back(OneGauge("process_start_time_seconds",
                             "Start time of the process since unix epoch in seconds.",
                             BootTime() + std::stod(f[19]) / ticks));
      out.push_back(
          OneGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", std::stod(f[20])));
      out.push_back(OneGauge("process_resident_memory_bytes", "Resident memory size in bytes.",
                             std::stod(f[21]) * page));
    }
  }
  std::error_code ec;
  double fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) {
    ++fds;
  }
  out.push_back(OneGauge("process_open_fds", "Number of open file descriptors.", fds));
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out.push_back(OneGauge("process_max_fds", "Maximum number of open file descriptors.",
                           static_cast<double>(limit.rlim_cur)));
  }
  return out;
}

}  // namespace saalbuch::http
