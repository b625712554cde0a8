#include "http/free_space.h"

#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace saalbuch::http {

FreeSpaceWatch::FreeSpaceWatch(std::filesystem::path dir, std::uint64_t reserve,
                               prometheus::Registry& registry, std::chrono::milliseconds every)
    : dir_(std::move(dir)),
      reserve_(reserve),
      every_(every),
      free_gauge_(prometheus::BuildGauge()
                      .Name("saalbuch_storage_free_bytes")
                      .Help("Bytes free for saalbuchd on the data directory's filesystem")
                      .Register(registry)
                      .Add({})),
      low_gauge_(prometheus::BuildGauge()
                     .Name("saalbuch_storage_low")
                     .Help("1 while less than --min-free-bytes is free: commands are refused (503)")
                     .Register(registry)
                     .Add({})) {
  prometheus::BuildGauge()
      .Name("saalbuch_storage_reserve_bytes")
      .Help("The free space saalbuchd keeps (--min-free-bytes)")
      .Register(registry)
      .Add({})
      .Set(static_cast<double>(reserve));
  Sample();
}

FreeSpaceWatch::~FreeSpaceWatch() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FreeSpaceWatch::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, every_, [this] { return stopping_; })) {
      lock.unlock();
      Sample();
      lock.lock();
    }
  });
}

void FreeSpaceWatch::Sample() {
  struct statvfs fs {};
  if (::statvfs(dir_.c_str(), &fs) != 0) {
    // Unreadable: keep the last sample; the store's own errors still count.
    spdlog::warn("msg=\"free space unknown\" dir={} error=\"{}\"", dir_.string(), std::strerror(errno));
    return;
  }
  // What an unprivileged process may still write (f_bavail), as RocksDB runs.
  const std::uint64_t free = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  free_.store(free, std::memory_order_relaxed);
  free_gauge_.Set(static_cast<double>(free));
  const bool low = free < reserve_;
  if (low_.exchange(low) != low) {
    low_gauge_.Set(low ? 1 : 0);
    if (low) {
      spdlog::error(
          "msg=\"free space below the reserve: commands are refused until space is freed\" dir={} free={} "
          "reserve={}",
          dir_.string(), free, reserve_);
    } else {
      spdlog::warn("msg=\"free space above the reserve again: commands are taken\" dir={} free={} reserve={}",
                   dir_.string(), free, reserve_);
    }
  }
}

}  // namespace saalbuch::http
