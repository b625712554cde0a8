// A RocksDB Env whose writable files fail on demand: while `fail` is set,
// appending to, flushing and syncing any file the database writes fails with
// an IOError. Everything else goes to the default Env.
#pragma once

#include <rocksdb/env.h>

#include <atomic>
#include <memory>
#include <string>

namespace saalbuch::testing_support {

// A writable file that delegates to the real one, except that writing and
// syncing fail while `*fail` is set.
class FailingWritableFile final : public rocksdb::WritableFileWrapper {
 public:
  FailingWritableFile(std::unique_ptr<rocksdb::WritableFile> target, const std::atomic<bool>* fail)
      : rocksdb::WritableFileWrapper(target.get()), owned_(std::move(target)), fail_(fail) {}

  rocksdb::Status Append(const rocksdb::Slice& data) override {
    if (fail_->load()) return Injected();
    return WritableFileWrapper::Append(data);
  }
  rocksdb::Status Append(const rocksdb::Slice& data, const rocksdb::DataVerificationInfo& info) override {
    if (fail_->load()) return Injected();
    return WritableFileWrapper::Append(data, info);
  }
  rocksdb::Status PositionedAppend(const rocksdb::Slice& data, uint64_t offset) override {
    if (fail_->load()) return Injected();
    return WritableFileWrapper::PositionedAppend(data, offset);
  }
  rocksdb::Status Flush() override {
    if (fail_->load()) return Injected();
    return WritableFileWrapper::Flush();
  }
  rocksdb::Status Sync() override {
    if (fail_->load()) return Injected();
    return WritableFileWrapper::Sync();
  }
  rocksdb::Status Fsync() override {
    if (fail_->load()) return Injected();
    return WritableFileWrapper::Fsync();
  }

 private:
  static rocksdb::Status Injected() { return rocksdb::Status::IOError("injected write failure"); }

  std::unique_ptr<rocksdb::WritableFile> owned_;
  const std::atomic<bool>* fail_;
};

class FailingEnv final : public rocksdb::EnvWrapper {
 public:
  FailingEnv() : rocksdb::EnvWrapper(rocksdb::Env::Default()) {}
  const char* Name() const override { return "FailingEnv"; }

  rocksdb::Status NewWritableFile(const std::string& f, std::unique_ptr<rocksdb::WritableFile>* r,
                                  const rocksdb::EnvOptions& options) override {
    std::unique_ptr<rocksdb::WritableFile> real;
    auto s = target()->NewWritableFile(f, &real, options);
    if (s.ok()) *r = std::make_unique<FailingWritableFile>(std::move(real), &fail);
    return s;
  }
  rocksdb::Status ReopenWritableFile(const std::string& f, std::unique_ptr<rocksdb::WritableFile>* r,
                                     const rocksdb::EnvOptions& options) override {
    std::unique_ptr<rocksdb::WritableFile> real;
    auto s = target()->ReopenWritableFile(f, &real, options);
    if (s.ok()) *r = std::make_unique<FailingWritableFile>(std::move(real), &fail);
    return s;
  }
  rocksdb::Status ReuseWritableFile(const std::string& f, const std::string& old,
                                    std::unique_ptr<rocksdb::WritableFile>* r,
                                    const rocksdb::EnvOptions& options) override {
    std::unique_ptr<rocksdb::WritableFile> real;
    auto s = target()->ReuseWritableFile(f, old, &real, options);
    if (s.ok()) *r = std::make_unique<FailingWritableFile>(std::move(real), &fail);
    return s;
  }

  std::atomic<bool> fail{false};
};

}  // namespace saalbuch::testing_support
