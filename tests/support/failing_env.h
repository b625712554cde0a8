// A RocksDB Env whose writable files fail on demand. Everything else goes to
// the default Env.
//
//   fail               while set, appending to, flushing and syncing any file
//                      the database writes fails with an IOError.
//   wal_appends_to_fail the next N appends to a WAL file (NNNNNN.log) fail;
//                      nothing of them reaches the file.
//   wal_syncs_to_fail  the next N syncs of a WAL file fail; what was appended
//                      before is in the file (in the page cache), as after a
//                      real fsync that failed after write() succeeded.
//   before_new_file    when set, called with the file's name before the
//                      database creates a writable file (e.g. to copy the
//                      directory at that moment: what a kill -9 would leave).
//                      Set it only while no database uses the Env.
//
// The counters are decremented by each failure; set them to a large number
// to fail "until further notice".
#pragma once

#include <rocksdb/env.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace saalbuch::testing_support {

struct Faults {
  std::atomic<bool> fail{false};
  std::atomic<int> wal_appends_to_fail{0};
  std::atomic<int> wal_syncs_to_fail{0};
};

// A writable file that delegates to the real one, except where `faults` say
// otherwise.
class FailingWritableFile final : public rocksdb::WritableFileWrapper {
 public:
  FailingWritableFile(std::unique_ptr<rocksdb::WritableFile> target, Faults* faults, bool is_wal)
      : rocksdb::WritableFileWrapper(target.get()),
        owned_(std::move(target)),
        faults_(faults),
        is_wal_(is_wal) {}

  rocksdb::Status Append(const rocksdb::Slice& data) override {
    if (FailAppend()) return Injected("write");
    return WritableFileWrapper::Append(data);
  }
  rocksdb::Status Append(const rocksdb::Slice& data, const rocksdb::DataVerificationInfo& info) override {
    if (FailAppend()) return Injected("write");
    return WritableFileWrapper::Append(data, info);
  }
  rocksdb::Status PositionedAppend(const rocksdb::Slice& data, uint64_t offset) override {
    if (FailAppend()) return Injected("write");
    return WritableFileWrapper::PositionedAppend(data, offset);
  }
  rocksdb::Status Flush() override {
    if (faults_->fail.load()) return Injected("write");
    return WritableFileWrapper::Flush();
  }
  rocksdb::Status Sync() override {
    if (FailSync()) return Injected("sync");
    return WritableFileWrapper::Sync();
  }
  rocksdb::Status Fsync() override {
    if (FailSync()) return Injected("sync");
    return WritableFileWrapper::Fsync();
  }

 private:
  static rocksdb::Status Injected(const char* what) {
    return rocksdb::Status::IOError(std::string("injected ") + what + " failure");
  }
  static bool Take(std::atomic<int>* counter) {
    int n = counter->load();
    while (n > 0) {
      if (counter->compare_exchange_weak(n, n - 1)) return true;
    }
    return false;
  }
  bool FailAppend() { return faults_->fail.load() || (is_wal_ && Take(&faults_->wal_appends_to_fail)); }
  bool FailSync() { return faults_->fail.load() || (is_wal_ && Take(&faults_->wal_syncs_to_fail)); }

  std::unique_ptr<rocksdb::WritableFile> owned_;
  Faults* faults_;
  bool is_wal_;
};

class FailingEnv final : public rocksdb::EnvWrapper, public Faults {
 public:
  FailingEnv() : rocksdb::EnvWrapper(rocksdb::Env::Default()) {}
  const char* Name() const override { return "FailingEnv"; }

  rocksdb::Status NewWritableFile(const std::string& f, std::unique_ptr<rocksdb::WritableFile>* r,
                                  const rocksdb::EnvOptions& options) override {
    if (before_new_file) before_new_file(f);
    std::unique_ptr<rocksdb::WritableFile> real;
    auto s = target()->NewWritableFile(f, &real, options);
    if (s.ok()) *r = Wrap(f, std::move(real));
    return s;
  }
  rocksdb::Status ReopenWritableFile(const std::string& f, std::unique_ptr<rocksdb::WritableFile>* r,
                                     const rocksdb::EnvOptions& options) override {
    std::unique_ptr<rocksdb::WritableFile> real;
    auto s = target()->ReopenWritableFile(f, &real, options);
    if (s.ok()) *r = Wrap(f, std::move(real));
    return s;
  }
  rocksdb::Status ReuseWritableFile(const std::string& f, const std::string& old,
                                    std::unique_ptr<rocksdb::WritableFile>* r,
                                    const rocksdb::EnvOptions& options) override {
    if (before_new_file) before_new_file(f);
    std::unique_ptr<rocksdb::WritableFile> real;
    auto s = target()->ReuseWritableFile(f, old, &real, options);
    if (s.ok()) *r = Wrap(f, std::move(real));
    return s;
  }

  std::function<void(const std::string&)> before_new_file;

 private:
  std::unique_ptr<rocksdb::WritableFile> Wrap(const std::string& f,
                                              std::unique_ptr<rocksdb::WritableFile> real) {
    const bool is_wal = f.size() > 4 && f.compare(f.size() - 4, 4, ".log") == 0;
    return std::make_unique<FailingWritableFile>(std::move(real), this, is_wal);
  }
};

}  // namespace saalbuch::testing_support
