// The free space of the filesystem that holds the data directory, sampled
// a few times a second, so that saalbuchd refuses new commands (503
// storage_unavailable with Retry-After) while less than a reserve is free:
// before RocksDB meets a full disk, which Debian's librocksdb (built with
// assertions) does not survive (README, "Disk full"). Queries are served
// all along; commands are taken again by themselves once space returns.
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
  // `reserve`: bytes that must stay free (0: never refuse). Samples once
  // at once, so low() is right from the start.
  FreeSpaceWatch(std::filesystem::path dir, std::uint64_t reserve, prometheus::Registry& registry,
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

  const std::filesystem::path dir_;
  const std::uint64_t reserve_;
  const std::chrono::milliseconds every_;
  prometheus::Gauge& free_gauge_;
  prometheus::Gauge& low_gauge_;
  std::atomic<bool> low_{false};
  std::atomic<std::uint64_t> free_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace saalbuch::http
