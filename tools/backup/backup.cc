// saalbuch-backup: the operator's tool for backups. The running server makes
// them (POST /v1/operator/backups, saalbuchd --backup-dir); this tool lists
// and verifies them and restores one into a new data directory. It never
// changes a backup directory.

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/build_info.h"
#include "common/time.h"
#include "ledger/backup.h"
#include "ledger/rocks_log.h"
#include "ledger/verify.h"
#include "tools/progress.h"

using namespace saalbuch;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Exit codes: 0 all good; 1 a damaged backup; 2 the tool could not do its
// job (bad arguments, a refused or failed restore, unreadable directory).
constexpr int kDamaged = 1;
constexpr int kFailure = 2;

std::string When(const ledger::BackupInfo& b) { return FormatUtc(b.created_at_s * kUsPerSecond); }

std::string Size(std::uint64_t bytes) {
  char buf[32];
  constexpr std::uint64_t kMiB = std::uint64_t{1024} * 1024;
  if (bytes >= kMiB) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / static_cast<double>(kMiB));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024.0);
  }
  return buf;
}

json InfoJson(const ledger::BackupInfo& b) {
  return {{"id", b.id},
          {"created_at", When(b)},
          {"size_bytes", b.size_bytes},
          {"files", b.files},
          {"heads", b.heads}};
}

int List(const std::string& dir, bool as_json) {
  auto list = ledger::ListBackups(dir);
  if (!list.ok()) {
    std::cerr << "saalbuch-backup: " << list.status().message() << "\n";
    return kFailure;
  }
  if (as_json) {
    json out = json::array();
    for (const auto& b : *list) out.push_back(InfoJson(b));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (list->empty()) std::cout << "no backups in " << dir << "\n";
  for (const auto& b : *list) {
    std::cout << "backup " << b.id << "  " << When(b) << "  " << Size(b.size_bytes) << "  " << b.files
              << " files ";
    for (const auto& [tenant, seq] : b.heads) std::cout << " " << tenant << "@" << seq;
    std::cout << "\n";
  }
  return 0;
}

// What a database restored from (or opened in place as) backup `b` holds:
// every tenant's chain verifies from record 1 and reaches at least the head
// recorded when the backup was made. Problems are appended to `problems`.
json CheckContents(ledger::Database* db, const ledger::BackupInfo& b, tools::Progress& progress,
                   std::vector<std::string>* problems) {
  ledger::RocksLog log(db);
  json tenants = json::array();
  const auto present = log.Tenants();
  for (const auto& t : present) {
    auto head = log.GetHead(t);
    const Seq total = head.ok() ? head->seq : 0;
    auto r = ledger::VerifyChain(log, t, [&](Seq n) { progress.Update("verify " + t.get(), n, total); });
    progress.Done();
    if (!r.ok()) {
      problems->push_back(t.get() + ": cannot read the log: " + r.status().ToString());
      continue;
    }
    json j = {{"tenant", t.get()},
              {"records", r->records},
              {"head", r->head.seq},
              {"head_hash", ToHex(r->head.hash)},
              {"ok", r->ok()}};
    if (!r->ok()) {
      problems->push_back(t.get() + ": damaged at record " + std::to_string(*r->first_bad) + ": " +
                          r->problem);
    }
    tenants.push_back(std::move(j));
  }
  for (const auto& [tenant, seq] : b.heads) {
    auto head = log.GetHead(TenantId(tenant));
    if (!head.ok() || head->seq < seq) {
      problems->push_back(tenant + ": the backup was made with head " + std::to_string(seq) + " but holds " +
                          (head.ok() ? std::to_string(head->seq) : head.status().ToString()));
    }
  }
  return tenants;
}

int Verify(const std::string& dir, std::optional<ledger::BackupId> only, bool as_json,
           tools::Progress& progress) {
  std::vector<ledger::BackupId> ids;
  if (only) {
    ids.push_back(*only);
  } else {
    auto list = ledger::ListBackups(dir);
    if (!list.ok()) {
      std::cerr << "saalbuch-backup: " << list.status().message() << "\n";
      return kFailure;
    }
    for (const auto& b : *list) ids.push_back(b.id);
    if (ids.empty()) {
      std::cerr << "saalbuch-backup: no backups in " << dir << "\n";
      return kFailure;
    }
  }
  int rc = 0;
  json report = json::array();
  for (auto id : ids) {
    std::vector<std::string> problems;
    json entry = {{"id", id}};
    if (Status s = ledger::VerifyBackupFiles(dir, id); !s.ok()) {
      if (s.code() == StatusCode::kNotFound) {
        std::cerr << "saalbuch-backup: " << s.message() << "\n";
        return kFailure;
      }
      problems.push_back(s.message());
    } else {
      ledger::BackupInfo info;
      auto db = ledger::OpenBackup(dir, id, &info);
      if (!db.ok()) {
        problems.push_back("cannot open: " + db.status().message());
      } else {
        entry = InfoJson(info);
        entry["tenants"] = CheckContents(db->get(), info, progress, &problems);
      }
    }
    entry["ok"] = problems.empty();
    entry["problems"] = problems;
    if (!problems.empty()) rc = kDamaged;
    if (!as_json) {
      if (problems.empty()) {
        std::cout << "backup " << id << ": OK — every file matches its checksum, every chain verifies (";
        const char* sep = "";
        for (const auto& t : entry["tenants"]) {
          std::cout << sep << t["tenant"].get<std::string>() << ": " << t["records"].get<Seq>() << " records";
          sep = ", ";
        }
        std::cout << ")\n";
      } else {
        std::cout << "backup " << id << ": DAMAGED\n";
        for (const auto& p : problems) std::cout << "  " << p << "\n";
      }
    }
    report.push_back(std::move(entry));
  }
  if (as_json) std::cout << report.dump(2) << "\n";
  return rc;
}

// Makes a rename inside `dir` durable.
void SyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

int Restore(const std::string& dir, std::optional<ledger::BackupId> id, const std::string& to,
            tools::Progress& progress) {
  const fs::path target = fs::absolute(to).lexically_normal();
  std::error_code ec;
  if (fs::exists(target, ec) && !(fs::is_directory(target, ec) && fs::is_empty(target, ec))) {
    std::cerr << "saalbuch-backup: refusing to restore into " << target.string()
              << ": it exists and is not an empty directory. Nothing was written; restore into a new "
                 "directory.\n";
    return kFailure;
  }
  const fs::path parent = target.parent_path();
  fs::create_directories(parent, ec);
  // Restore beside the target and rename at the end: a restore that fails
  // or is interrupted never leaves a half-restored data directory.
  std::string staging_tmpl = (parent / ("." + target.filename().string() + ".restoring-XXXXXX")).string();
  if (::mkdtemp(staging_tmpl.data()) == nullptr) {
    std::cerr << "saalbuch-backup: cannot create a directory in " << parent.string() << "\n";
    return kFailure;
  }
  const fs::path staging = staging_tmpl;
  auto fail = [&](const std::string& why, int rc) {
    fs::remove_all(staging, ec);
    std::cerr << "saalbuch-backup: " << why << "\nNothing was written to " << target.string() << ".\n";
    return rc;
  };
  std::cerr << "restoring " << (id ? "backup " + std::to_string(*id) : std::string("the newest backup"))
            << " from " << dir << " …\n";
  if (Status s = ledger::RestoreBackup(dir, id, (staging / "db").string()); !s.ok()) {
    return fail(s.message(), s.code() == StatusCode::kCorruption ? kDamaged : kFailure);
  }
  ledger::BackupInfo info;
  {
    auto list = ledger::ListBackups(dir);
    if (!list.ok()) return fail(list.status().message(), kFailure);
    auto it = std::find_if(list->begin(), list->end(), [&](const auto& b) { return !id || b.id == *id; });
    if (!id) it = list->empty() ? list->end() : list->end() - 1;
    if (it == list->end()) return fail("the backup vanished from " + dir, kFailure);
    info = *it;
    // The restored copy must hold what the backup promised before it
    // becomes a data directory.
    ledger::DatabaseOptions ro;
    ro.read_only = true;
    auto db = ledger::Database::Open((staging / "db").string(), ro);
    if (!db.ok()) return fail(db.status().message(), kFailure);
    std::vector<std::string> problems;
    CheckContents(db->get(), info, progress, &problems);
    if (!problems.empty()) {
      std::string all = "the restored copy of backup " + std::to_string(info.id) + " is damaged:";
      for (const auto& p : problems) all += "\n  " + p;
      return fail(all, kDamaged);
    }
  }
  if (fs::exists(target, ec)) fs::remove(target, ec);  // the empty directory
  fs::rename(staging, target, ec);
  if (ec) return fail("cannot rename " + staging.string() + ": " + ec.message(), kFailure);
  SyncDir(parent);
  std::cout << "restored backup " << info.id << " (made " << When(info) << ", " << Size(info.size_bytes)
            << ") into " << target.string() << "; every tenant's chain verifies:";
  for (const auto& [tenant, seq] : info.heads) std::cout << " " << tenant << "≥" << seq;
  std::cout << "\nStart it with: saalbuchd --data " << target.string()
            << "\nThe operator key is not part of a backup: pass SAALBUCH_OPERATOR_KEY or "
               "--operator-key-file, or a new one is generated at the first start.\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // What the tool writes (a restored data directory, exports) is owner-only,
  // as saalbuchd's own files are.
  ::umask(077);
  CLI::App app{
      "saalbuch-backup — list, verify and restore Saalbuch backups.\n"
      "The running server makes the backups, while it serves: start saalbuchd with\n"
      "--backup-dir DIR and send POST /v1/operator/backups with the operator key.\n"
      "This tool never changes a backup directory."};
  app.set_version_flag("--version", VersionLine("saalbuch-backup"),
                       "Print the version and the git revision, then exit");
  app.footer(
      "Exit codes: 0 all good; 1 a damaged backup; 2 the tool could not do its job (bad\n"
      "arguments, a refused or failed restore, an unreadable directory).\n"
      "After a restore, saalbuch-replay verify/diff --data DATA_DIR audit the result;\n"
      "saalbuch-replay --backup DIR reads a backup in place without restoring it.");
  app.require_subcommand(1);
  std::string dir, to;
  std::optional<ledger::BackupId> id;
  bool as_json = false;
  bool quiet = false;
  app.add_flag("-q,--quiet", quiet, "No progress messages on stderr");
  app.fallthrough();

  auto* list = app.add_subcommand("list", "The backups in a backup directory, oldest first");
  list->add_option("--backup-dir", dir, "Backup directory (saalbuchd --backup-dir)")->required();
  list->add_flag("--json", as_json, "Print JSON");

  auto* verify = app.add_subcommand("verify",
                                    "Check every file of a backup against its checksum, then open it in "
                                    "place and verify every tenant's hash chain and that it holds the log "
                                    "heads recorded when it was made; exit 1 on damage");
  verify->add_option("--backup-dir", dir, "Backup directory")->required();
  verify->add_option("--id", id, "Only this backup (default: every backup)");
  verify->add_flag("--json", as_json, "Print a JSON report");

  auto* restore = app.add_subcommand("restore",
                                     "Restore a backup into a new data directory for saalbuchd --data. "
                                     "Refuses a directory that exists and is not empty; restores beside "
                                     "it, verifies the copy, then renames it into place");
  restore->add_option("--backup-dir", dir, "Backup directory")->required();
  restore->add_option("--id", id, "Which backup (default: the newest)");
  restore->add_option("--to", to, "The new data directory")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help is a ParseError that exits 0; anything else is exit 2 as documented.
    return app.exit(e) == 0 ? 0 : kFailure;
  }
  tools::Progress progress(!quiet);
  try {
    if (*list) return List(dir, as_json);
    if (*verify) return Verify(dir, id, as_json, progress);
    if (*restore) return Restore(dir, id, to, progress);
  } catch (const std::exception& e) {
    progress.Done();
    std::cerr << "saalbuch-backup: " << e.what() << "\n";
    return kFailure;
  }
  return 0;
}
