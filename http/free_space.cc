#include "http/free_space.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace saalbuch::http {

FreeSpaceWatch::FreeSpaceWatch(std::filesystem::path dir, std::uint64_t reserve, std::uint64_t ballast,
                               prometheus::Registry& registry, std::chrono::milliseconds every)
    : dir_(std::move(dir)),
      reserve_(reserve),
      ballast_(ballast),
      ballast_path_(dir_ / "space-ballast"),
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
                     .Add({})),
      ballast_gauge_(
          prometheus::BuildGauge()
              .Name("saalbuch_storage_ballast_bytes")
              .Help("Bytes of the ballast file laid in the data directory (--space-ballast-bytes); "
                    "0 while it is released")
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
  Ballast(free, low);
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

void FreeSpaceWatch::Ballast(std::uint64_t free, bool low) {
  std::error_code ec;
  const bool laid = std::filesystem::exists(ballast_path_, ec);
  ballast_gauge_.Set(laid ? static_cast<double>(ballast_) : 0);
  if (laid && (low || ballast_ == 0)) {
    if (std::filesystem::remove(ballast_path_, ec)) {
      ballast_gauge_.Set(0);
      spdlog::warn("msg=\"space ballast released\" file={} bytes={} free={}", ballast_path_.string(),
                   ballast_, free);
    } else {
      spdlog::error("msg=\"space ballast not released\" file={} error=\"{}\"", ballast_path_.string(),
                    ec.message());
    }
    return;
  }
  if (laid || ballast_ == 0 || low || free < reserve_ + ballast_) return;
  // Laid under a temporary name and renamed, so that a ballast file is
  // always whole.
  const std::filesystem::path part = ballast_path_.string() + ".part";
  const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int error = fd < 0 ? errno : ::posix_fallocate(fd, 0, static_cast<off_t>(ballast_));
  if (fd >= 0) ::close(fd);
  if (error == 0 && ::rename(part.c_str(), ballast_path_.c_str()) == 0) {
    ballast_gauge_.Set(static_cast<double>(ballast_));
    spdlog::info("msg=\"space ballast laid\" file={} bytes={}", ballast_path_.string(), ballast_);
    return;
  }
  ::unlink(part.c_str());
  spdlog::warn("msg=\"space ballast not laid\" file={} error=\"{}\"", ballast_path_.string(),
               std::strerror(error != 0 ? error : errno));
}

}  // namespace saalbuch::http
