// A RocksDB file system that knows what a disk would still hold after a
// power loss, for the files directly in one directory (a database's):
//
//   * a file's content is durable up to the length it had when its last
//     Sync or Fsync began (RangeSync, Flush and Close make nothing durable);
//   * a directory entry (a file created, renamed or linked there) is durable
//     once a sync of the directory began after it was made; until then the
//     directory keeps what it held at its last sync, including a file since
//     deleted or renamed over, with that file's durable content.
//
// This is the model of RocksDB's own FaultInjectionTestFS, which Debian's
// librocksdb does not ship. Writes go through to the real files at once (so
// the database reads what it wrote); hard links in a shadow directory beside
// the tracked one keep the content of files the durable view still names.
//
// CutPower is the power loss: it takes the lock every tracked operation
// takes and never gives it back, and writes the durable view into a new
// directory. From then on every thread that writes, syncs, creates, renames
// or deletes a tracked file waits for ever, so nothing more is written and
// no sync completes (a sync under way does not return): the process has
// only to end, as a machine without power does (_exit, no destructors).
// Files the tracked directory held when the file system was created count
// as durable as they are.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>

namespace saalbuch::testing_support {

class PowerLossFs final : public rocksdb::FileSystemWrapper {
 public:
  explicit PowerLossFs(const std::filesystem::path& root)
      : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()),
        root_(root.lexically_normal()),
        shadow_(root_.string() + ".power-loss-shadow") {
    std::filesystem::remove_all(shadow_);
    std::filesystem::create_directories(shadow_);
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root_, ec)) {
      if (!entry.is_regular_file()) continue;
      auto inode = NewInode(entry.path());
      inode->size = inode->synced = entry.file_size();
      live_[entry.path().filename().string()] = inode;
    }
    durable_ = live_;
  }
  ~PowerLossFs() override {
    live_.clear();
    durable_.clear();
    std::error_code ec;
    std::filesystem::remove_all(shadow_, ec);
  }
  PowerLossFs(const PowerLossFs&) = delete;
  PowerLossFs& operator=(const PowerLossFs&) = delete;

  const char* Name() const override { return "PowerLossFs"; }

  struct Cut {
    std::size_t files = 0;      // files in the image
    std::size_t truncated = 0;  // of which written beyond what was synced
    std::size_t dropped = 0;    // files now in the directory whose entry was not synced
  };
  // The power goes off. `image` (created; must not exist) receives each file
  // of the durable view, cut to its durable length. The file system stays
  // locked: end the process next.
  Cut CutPower(const std::filesystem::path& image) {
    mu_.lock();  // never unlocked: see above
    Cut cut;
    std::filesystem::create_directories(image);
    for (const auto& [name, inode] : durable_) {
      std::filesystem::copy_file(inode->shadow, image / name);
      std::filesystem::resize_file(image / name, inode->synced);
      ++cut.files;
      cut.truncated += inode->size > inode->synced ? 1 : 0;
    }
    for (const auto& [name, inode] : live_) {
      auto it = durable_.find(name);
      cut.dropped += it == durable_.end() || it->second != inode ? 1 : 0;
    }
    return cut;
  }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(mu_);
    const auto name = Tracked(f);
    if (name.empty()) return target()->NewWritableFile(f, options, result, dbg);
    // A new inode, as O_TRUNC would not give: the durable view may still
    // name the old one, whose content must survive.
    if (live_.count(name) != 0) ::unlink(f.c_str());
    std::unique_ptr<rocksdb::FSWritableFile> real;
    auto s = target()->NewWritableFile(f, options, &real, dbg);
    if (!s.ok()) return s;
    auto inode = NewInode(f);
    live_[name] = inode;
    *result = std::make_unique<File>(std::move(real), this, std::move(inode));
    return s;
  }

  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(mu_);
    const auto name = Tracked(f);
    if (name.empty()) return target()->ReopenWritableFile(f, options, result, dbg);
    std::unique_ptr<rocksdb::FSWritableFile> real;
    auto s = target()->ReopenWritableFile(f, options, &real, dbg);
    if (!s.ok()) return s;
    auto& inode = live_[name];
    if (!inode) {
      inode = NewInode(f);
      inode->size = inode->synced = std::filesystem::file_size(f);
    }
    *result = std::make_unique<File>(std::move(real), this, inode);
    return s;
  }

  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
    if (!Tracked(f).empty()) return rocksdb::IOStatus::NotSupported("PowerLossFs: recycled log files");
    return target()->ReuseWritableFile(f, old, options, result, dbg);
  }

  rocksdb::IOStatus NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    if (!Tracked(f).empty()) return rocksdb::IOStatus::NotSupported("PowerLossFs: random-access writes");
    return target()->NewRandomRWFile(f, options, result, dbg);
  }

  rocksdb::IOStatus NewDirectory(const std::string& d, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSDirectory> real;
    auto s = target()->NewDirectory(d, options, &real, dbg);
    if (!s.ok()) return s;
    const bool tracked = std::filesystem::path(d).lexically_normal() == root_;
    *result = std::make_unique<Directory>(std::move(real), tracked ? this : nullptr);
    return s;
  }

  rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(mu_);
    auto s = target()->DeleteFile(f, options, dbg);
    if (s.ok()) live_.erase(Tracked(f));
    return s;
  }

  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(mu_);
    auto s = target()->RenameFile(from, to, options, dbg);
    if (!s.ok()) return s;
    auto inode = Take(Tracked(from));
    if (const auto name = Tracked(to); !name.empty()) {
      live_[name] = inode ? inode : Untracked(to);
    }
    return s;
  }

  rocksdb::IOStatus LinkFile(const std::string& from, const std::string& to,
                             const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(mu_);
    auto s = target()->LinkFile(from, to, options, dbg);
    if (!s.ok()) return s;
    if (const auto name = Tracked(to); !name.empty()) {
      auto it = live_.find(Tracked(from));
      live_[name] = it != live_.end() ? it->second : Untracked(to);
    }
    return s;
  }

  rocksdb::IOStatus Truncate(const std::string& f, size_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(mu_);
    auto s = target()->Truncate(f, size, options, dbg);
    if (auto it = live_.find(Tracked(f)); s.ok() && it != live_.end()) {
      it->second->size = size;
      it->second->synced = std::min<std::uint64_t>(it->second->synced, size);
    }
    return s;
  }

 private:
  // A file's content: the shadow link keeps it while either view names it.
  struct Inode {
    std::filesystem::path shadow;
    std::uint64_t size = 0;    // bytes written
    std::uint64_t synced = 0;  // of which durable
    ~Inode() { ::unlink(shadow.c_str()); }
  };
  using InodePtr = std::shared_ptr<Inode>;

  // The file name when `f` lies directly in the tracked directory, else "".
  std::string Tracked(const std::string& f) const {
    const std::filesystem::path p = std::filesystem::path(f).lexically_normal();
    return p.parent_path() == root_ ? p.filename().string() : std::string();
  }

  // Called with mu_ held.
  InodePtr NewInode(const std::filesystem::path& real) {
    auto inode = std::make_shared<Inode>();
    inode->shadow = shadow_ / std::to_string(next_id_++);
    std::filesystem::create_hard_link(real, inode->shadow);
    return inode;
  }
  // A file that came into the directory without us (it counts as durable).
  InodePtr Untracked(const std::filesystem::path& real) {
    auto inode = NewInode(real);
    inode->size = inode->synced = std::filesystem::file_size(real);
    return inode;
  }
  InodePtr Take(const std::string& name) {
    auto it = live_.find(name);
    if (it == live_.end()) return nullptr;
    auto inode = std::move(it->second);
    live_.erase(it);
    return inode;
  }

  class File final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> real, PowerLossFs* fs, InodePtr inode)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(real)), fs_(fs), inode_(std::move(inode)) {}

    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      std::lock_guard lock(fs_->mu_);
      auto s = target()->Append(data, options, dbg);
      if (s.ok()) inode_->size += data.size();
      return s;
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      std::lock_guard lock(fs_->mu_);
      auto s = target()->Append(data, options, info, dbg);
      if (s.ok()) inode_->size += data.size();
      return s;
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                       const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* dbg) override {
      std::lock_guard lock(fs_->mu_);
      auto s = target()->PositionedAppend(data, offset, options, dbg);
      if (s.ok()) inode_->size = std::max<std::uint64_t>(inode_->size, offset + data.size());
      return s;
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                       const rocksdb::IOOptions& options,
                                       const rocksdb::DataVerificationInfo& info,
                                       rocksdb::IODebugContext* dbg) override {
      std::lock_guard lock(fs_->mu_);
      auto s = target()->PositionedAppend(data, offset, options, info, dbg);
      if (s.ok()) inode_->size = std::max<std::uint64_t>(inode_->size, offset + data.size());
      return s;
    }
    rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override {
      std::lock_guard lock(fs_->mu_);
      auto s = target()->Truncate(size, options, dbg);
      if (s.ok()) {
        inode_->size = size;
        inode_->synced = std::min(inode_->synced, size);
      }
      return s;
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      return Synced([&] { return target()->Sync(options, dbg); });
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      return Synced([&] { return target()->Fsync(options, dbg); });
    }

   private:
    // What was written when the sync began is durable once it returned
    // (and the power is still on). The real sync runs unlocked, as syncs
    // of different files do.
    template <typename F>
    rocksdb::IOStatus Synced(F sync) {
      std::uint64_t size = 0;
      {
        std::lock_guard lock(fs_->mu_);
        size = inode_->size;
      }
      auto s = sync();
      std::lock_guard lock(fs_->mu_);
      if (s.ok()) inode_->synced = std::max(inode_->synced, size);
      return s;
    }

    PowerLossFs* fs_;
    InodePtr inode_;
  };

  class Directory final : public rocksdb::FSDirectoryWrapper {
   public:
    // `fs` is null for a directory we do not track.
    Directory(std::unique_ptr<rocksdb::FSDirectory> real, PowerLossFs* fs)
        : rocksdb::FSDirectoryWrapper(std::move(real)), fs_(fs) {}
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      return Synced([&] { return FSDirectoryWrapper::Fsync(options, dbg); });
    }
    rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg,
                                          const rocksdb::DirFsyncOptions& dir_options) override {
      return Synced([&] { return FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options); });
    }

   private:
    // The entries present when the sync began are durable once it returned.
    // Syncs may overlap (a flush's and the WAL's): one that began earlier
    // and returns later must not take back what a later one made durable.
    template <typename F>
    rocksdb::IOStatus Synced(F sync) {
      if (fs_ == nullptr) return sync();
      std::map<std::string, InodePtr> entries;
      std::uint64_t ticket = 0;
      {
        std::lock_guard lock(fs_->mu_);
        entries = fs_->live_;
        ticket = ++fs_->dir_syncs_begun_;
      }
      auto s = sync();
      std::lock_guard lock(fs_->mu_);
      if (s.ok() && ticket > fs_->dir_sync_applied_) {
        fs_->durable_ = std::move(entries);
        fs_->dir_sync_applied_ = ticket;
      }
      return s;
    }
    PowerLossFs* fs_;
  };

  const std::filesystem::path root_;
  const std::filesystem::path shadow_;
  std::mutex mu_;
  std::uint64_t next_id_ = 0;                // guarded by mu_
  std::uint64_t dir_syncs_begun_ = 0;        // guarded by mu_
  std::uint64_t dir_sync_applied_ = 0;       // guarded by mu_: the latest-begun sync applied so far
  std::map<std::string, InodePtr> live_;     // the directory now; guarded by mu_
  std::map<std::string, InodePtr> durable_;  // as of its last sync; guarded by mu_
};

// An Env over a PowerLossFs for `root`; keep `fs` to cut the power.
struct PowerLossEnv {
  explicit PowerLossEnv(const std::filesystem::path& root)
      : fs(std::make_shared<PowerLossFs>(root)), env(rocksdb::NewCompositeEnv(fs)) {}
  std::shared_ptr<PowerLossFs> fs;
  std::unique_ptr<rocksdb::Env> env;
};

}  // namespace saalbuch::testing_support
