// The free space of the filesystem that holds the data directory, sampled
// a few times a second, so that saalbuchd refuses new commands (503
// storage_unavailable with Retry-After) while less than a reserve is free:
// before RocksDB meets a full disk, which Debian's librocksdb (built with
// assertions) does not survive (README, "Disk full"). Queries are served
// all along; commands are taken again by themselves once space returns.
//
// A ballast file in the data directory (--space-ballast-bytes, allocated
// with fallocate) keeps room for RocksDB itself: it is released while less
// than the reserve is free, so that the store's own work (flushes,
// compactions, the projections catching up, a start on a full disk: RocksDB
// writes a new WAL and MANIFEST at every open) still finds space, and laid
// again once the reserve and the ballast fit.
//
// Thread-safe; the sampling runs on a thread of its own.
#pragma once

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>

namespace saalbuch::http {

class FreeSpaceWatch {
 public:
  // `reserve`: bytes that must stay free (0: never refuse). `ballast`:
  // the size of the ballast file (0: none). Samples once at once, so low()
  // is right from the start, and releases the ballast then when space is
  // low: construct it before the store is opened.
  FreeSpaceWatch(std::filesystem::path dir, std::uint64_t reserve, std::uint64_t ballast,
                 prometheus::Registry& registry,
                 std::chrono::milliseconds every = std::chrono::milliseconds(250));
  ~FreeSpaceWatch();
  FreeSpaceWatch(const FreeSpaceWatch&) = delete;
  FreeSpaceWatch& operator=(const FreeSpaceWatch&) = delete;

  // Samples until destroyed.
  void Start();
  // Less than the reserve was free at the last sample.
  bool low() const { return low_.load(std::memory_order_relaxed); }
  std::uint64_t free_bytes() const { return free_.load(std::memory_order_relaxed); }
  std::uint64_t reserve() const { return reserve_; }

 private:
  void Sample();
  // Lays or releases the ballast as the last sample says.
  void Ballast(std::uint64_t free, bool low);

  const std::filesystem::path dir_;
  const std::uint64_t reserve_;
  const std::uint64_t ballast_;
  const std::filesystem::path ballast_path_;
  const std::chrono::milliseconds every_;
  prometheus::Gauge& free_gauge_;
  prometheus::Gauge& low_gauge_;
  prometheus::Gauge& ballast_gauge_;
  std::atomic<bool> low_{false};
  std::atomic<std::uint64_t> free_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace saalbuch::http
