// saalbuchd: the Saalbuch server. Wires the ledger, the command bus, the
// projections and the HTTP API together; owns start-up and shutdown.

#include <prometheus/gauge.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <CLI/CLI.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <optional>
#include <thread>

#include "commands/bus.h"
#include "common/build_info.h"
#include "common/crypto.h"
#include "common/note.h"
#include "common/password.h"
#include "common/thread_name.h"
#include "http/api.h"
#include "http/forwarded.h"
#include "http/free_space.h"
#include "http/logging.h"
#include "http/server.h"
#include "integrations/doors.h"
#include "integrations/notifier.h"
#include "integrations/refunds.h"
#include "integrations/witnesses.h"
#include "ledger/backup.h"
#include "ledger/cosignatures.h"
#include "ledger/database.h"
#include "ledger/rocks_log.h"
#include "ledger/vault.h"
#include "projections/runner.h"

namespace fs = std::filesystem;
namespace net = boost::asio;
using namespace saalbuch;

namespace {

struct Config {
  std::string data = "./data";
  std::string listen = "127.0.0.1:8080";
  bool demo = false;
  std::string operator_key_file;
  std::string master_key_file;
  std::string previous_master_key_file;
  int io_threads = 2;
  int writer_threads = 2;
  int query_threads = 2;
  std::uint64_t max_body_bytes = std::uint64_t{64} * 1024;
  std::uint64_t min_free_bytes = std::uint64_t{256} * 1024 * 1024;
  std::uint64_t space_ballast_bytes = std::uint64_t{64} * 1024 * 1024;
  int max_connections = 1024;
  int max_connections_per_ip = 64;
  int request_timeout_s = 15;
  double rate_per_second = 200;
  double public_booking_rate = 2;
  std::string log_level = "info";
  std::string log_format = "text";
  std::string trusted_proxies;
  std::string forwarded_header = "x-forwarded-for";
  std::string smtp_url;
  std::string smtp_from = "Saalbuch <noreply@saalbuch.invalid>";
  bool smtp_starttls = false;
  std::string public_url;
  std::string log_origin = "saalbuch";
  std::vector<std::string> witnesses;
  std::uint64_t checkpoint_every = 1000;
  int checkpoint_interval_s = 300;
  int retention_interval_s = 3600;
  int funnel_interval_s = 300;
  std::uint64_t snapshot_every = 100000;
  std::string backup_dir;
  std::uint32_t backup_keep = 0;
  std::uint32_t backup_rate_mib = 0;
  std::string provider_url;
  std::string door_url;
  int projection_lag_ms = 0;
  std::vector<std::string> accept_log;
};

// The 32 bytes of a master key file (--master-key-file), or nullopt for
// none. Throws with a sentence for the operator when the file is missing,
// open to other accounts, inside the data directory or not 64 hex digits.
std::string ReadFirstLine(const fs::path& p);
std::optional<std::string> ReadMasterKey(const std::string& file, const fs::path& data) {
  if (file.empty()) return std::nullopt;
  std::error_code ec;
  const auto status = fs::status(file, ec);
  if (ec || !fs::is_regular_file(status))
    throw std::runtime_error("master key file " + file + " cannot be read");
  const auto others = fs::perms::group_all | fs::perms::others_all;
  if ((status.permissions() & others) != fs::perms::none) {
    throw std::runtime_error("master key file " + file + " is open to other accounts: chmod 600 it");
  }
  const fs::path key = fs::weakly_canonical(file, ec);
  const fs::path dir = fs::weakly_canonical(data, ec);
  if (std::mismatch(dir.begin(), dir.end(), key.begin(), key.end()).first == dir.end()) {
    throw std::runtime_error("master key file " + file +
                             " is inside the data directory, where it protects nothing: keep it elsewhere");
  }
  auto bytes = FromHex(ReadFirstLine(file));
  if (!bytes || bytes->size() != 32) {
    throw std::runtime_error("master key file " + file +
                             " does not hold 64 hex digits (openssl rand -hex 32)");
  }
  return bytes;
}

std::string ReadFirstLine(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

void WriteSecret(const fs::path& p, const std::string& secret) {
  std::ofstream out(p, std::ios::trunc);
  out << secret << "\n";
  out.close();
  if (!out) throw std::runtime_error("cannot write " + p.string());
  ::chmod(p.c_str(), 0600);
}

// Makes an existing directory owner-only when other accounts may enter it
// (a data directory from before the umask, or one made by hand), with a
// warning: it holds the vault's keys and the checkpoint signing seeds.
void TightenDirectory(const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return;  // not there yet: made under umask 077
  if ((st.st_mode & 077) == 0) return;
  const auto tightened = static_cast<mode_t>(st.st_mode & 07700);
  if (::chmod(dir.c_str(), tightened) != 0) {
    throw std::runtime_error("cannot make " + dir.string() + " owner-only (chmod 0700)");
  }
  spdlog::warn("msg=\"directory was open to other accounts, made owner-only\" path={} mode={:o} now={:o}",
               dir.string(), st.st_mode & 07777, tightened & 07777);
}

// Runs one command to completion (start-up only: the demo seed).
commands::Outcome RunCommand(commands::CommandBus& bus, commands::Context ctx, commands::Command cmd) {
  commands::Submission s;
  s.ctx = std::move(ctx);
  s.command = std::move(cmd);
  return bus.SubmitAndWait(std::move(s));
}

// The demo tenant: a community centre with rooms and weekly hours, a hall
// bookable whole or in thirds, a pool, a device that needs a qualification,
// a course with one session and an add-on.
// The demo's back-office accounts (README: "The back office"); their
// password is public, as the demo is.
constexpr const char* kDemoPassword = "Demo-Passwort-2026";
constexpr std::pair<const char*, const char*> kDemoAccounts[] = {
    {"verwaltung@buergerhaus.example", "admin"},
    {"sachbearbeitung@buergerhaus.example", "staff"},
    {"kasse@buergerhaus.example", "finance"},
    {"pruefung@buergerhaus.example", "auditor"}};
constexpr const char* kDemoOperator = "betrieb@saalbuch.example";

// A joined account with the demo password, as an invitation and its
// acceptance would make it (http/routes_accounts.cc): the two commands.
std::vector<commands::Command> DemoAccount(ledger::Vault& vault, const TenantId& tenant,
                                           const std::string& email, const std::string& role,
                                           const std::string& name) {
  commands::InviteAccount inv;
  inv.account_id = "ac_" + RandomHex(8);
  inv.role = role;
  inv.login_hash = std::string(AsBytes(Sha256Of(email)));
  inv.person = "a_" + inv.account_id;
  inv.invite_token = "sbi_" + RandomHex(24);
  inv.personal =
      vault.Seal(tenant, inv.person, nlohmann::json{{"email", email}, {"name", name}}.dump()).value();
  const auto hash = HashPassword(kDemoPassword);
  if (!hash) throw std::runtime_error("demo seed failed: no memory for Argon2id");
  commands::SetAccountPassword set{inv.account_id, inv.invite_token,
                                   vault.Seal(tenant, inv.person, *hash).value()};
  return {inv, set};
}

// The operator's own log with a demo operator account (the operator pages).
void SeedDemoOperator(commands::CommandBus& bus, ledger::Vault& vault) {
  const TenantId tenant = OperatorTenant();
  if (bus.TenantExists(tenant)) return;
  std::vector<commands::Command> seed = {commands::CreateTenant{tenant, "Betrieb", "Europe/Berlin", "", ""}};
  for (auto& c : DemoAccount(vault, tenant, kDemoOperator, "admin", "Demo Betrieb"))
    seed.push_back(std::move(c));
  for (auto& cmd : seed) {
    commands::Context ctx;
    ctx.tenant = tenant;
    ctx.actor = "operator";
    ctx.command_id = "demo-" + RandomHex(4);
    ctx.correlation_id = "demo-seed";
    auto res = RunCommand(bus, ctx, std::move(cmd));
    if (res.kind != commands::Outcome::Kind::kCreated && res.kind != commands::Outcome::Kind::kOk) {
      throw std::runtime_error("demo seed failed: " + res.body.dump());
    }
  }
}

void SeedDemo(commands::CommandBus& bus, const projections::Runner& runner, ledger::Vault& vault,
              const fs::path& data, const std::string& base_url) {
  const TenantId tenant("buergerhaus");
  const fs::path key_file = data / "demo-admin.key";
  if (bus.TenantExists(tenant)) {
    std::cout << "Demo tenant 'buergerhaus' exists; its admin key is in " << key_file.string() << "\n";
    SeedDemoOperator(bus, vault);
    return;
  }
  auto ctx = [&](const char* actor) {
    commands::Context c;
    c.tenant = tenant;
    c.actor = actor;
    c.command_id = "demo-" + RandomHex(4);
    c.correlation_id = "demo-seed";
    return c;
  };
  commands::CreateTenant ct{tenant, "Bürgerhaus Musterstadt", "Europe/Berlin", "key_" + RandomHex(6),
                            "sbk_" + RandomHex(24)};
  const std::string admin_key = ct.admin_key;
  auto o = RunCommand(bus, ctx("operator"), ct);
  if (o.kind != commands::Outcome::Kind::kCreated)
    throw std::runtime_error("demo seed failed: " + o.body.dump());

  commands::Rules saal;
  for (int d = 1; d <= 5; ++d) saal.opening.push_back({d, 8 * 60, 22 * 60});
  saal.opening.push_back({6, 9 * 60, 18 * 60});
  saal.buffer_after = 30 * kUsPerMinute;
  saal.granularity = 30 * kUsPerMinute;
  saal.min_duration = 60 * kUsPerMinute;
  saal.max_duration = TimeUs{12} * 60 * kUsPerMinute;
  commands::Rules seminar;
  for (int d = 1; d <= 6; ++d) seminar.opening.push_back({d, 8 * 60, 20 * 60});
  seminar.granularity = 15 * kUsPerMinute;
  auto resource = [](const char* id, const char* kind, const char* name, const char* description,
                     std::optional<commands::Rules> rules) {
    commands::CreateResource r;
    r.id = ResourceId(id);
    r.kind = kind;
    r.name = name;
    r.description = description;
    r.rules = std::move(rules);
    return r;
  };
  std::vector<commands::Command> seed;
  seed.emplace_back(resource("grosser-saal", "room", "Großer Saal", "Saal für 200 Personen mit Bühne", saal));
  seed.emplace_back(resource("seminarraum", "room", "Seminarraum 1", "20 Plätze, Beamer", seminar));
  // A composite: the hall whole or any of its three parts.
  seed.emplace_back(
      resource("sporthalle", "room", "Sporthalle", "Dreifeldhalle, ganz oder als Drittel", saal));
  for (const char* part : {"a", "b", "c"}) {
    auto r = resource("", "room", "", "Ein Drittel der Sporthalle", saal);
    r.id = ResourceId(std::string("sporthalle-") + part);
    r.name = std::string("Sporthalle Feld ") + static_cast<char>(part[0] - 'a' + 'A');
    r.parent = ResourceId("sporthalle");
    seed.emplace_back(std::move(r));
  }
  auto tablets = resource("tablets", "pool", "Tablet-Koffer", "10 Tablets zum Ausleihen", seminar);
  tablets.capacity = 10;
  seed.emplace_back(std::move(tablets));
  auto laser = resource("lasercutter", "device", "Lasercutter", "Nur nach Einweisung", seminar);
  laser.requires_qualification = "lasercutter";
  seed.emplace_back(std::move(laser));
  auto course = resource("kurs-3d-druck", "event", "Kurs 3D-Druck", "Einführung, 12 Plätze", std::nullopt);
  course.capacity = 12;
  seed.emplace_back(std::move(course));
  {
    // One session two weeks from today, 10:00–13:00 local time.
    const Zone* berlin = FindZone("Europe/Berlin");
    const auto day =
        date::floor<date::days>(berlin->to_local(std::chrono::system_clock::now())) + date::days{14};
    auto at = [&](int hour) {
      return std::chrono::duration_cast<std::chrono::microseconds>(
                 berlin->to_sys(day + std::chrono::hours{hour}, date::choose::earliest).time_since_epoch())
          .count();
    };
    commands::ScheduleSession session;
    session.resource = ResourceId("kurs-3d-druck");
    session.session_id = "erster-termin";
    session.range = {at(10), at(13)};
    session.title = "3D-Druck für Einsteiger";
    seed.emplace_back(std::move(session));
  }
  commands::SetAddon beamer;
  beamer.id = "beamer";
  beamer.name = "Beamer";
  beamer.stock = 2;
  beamer.offers = {{ResourceId("grosser-saal"), false}, {ResourceId("seminarraum"), false}};
  seed.emplace_back(std::move(beamer));
  {
    // Money: the hall costs 45 € an hour (gross, 19 %), the seminar room is
    // free; cancelling is free until 14 days before, then half the price.
    commands::SetFinanceSettings fs;
    fs.settings.tiers = {{14LL * 24 * 3600 * kUsPerSecond, 0}, {0, 5000}};
    fs.settings.letterhead = {"Bürgerhaus Musterstadt", "Marktplatz 1, 12345 Musterstadt",
                              "Steuernummer 12/345/67890", "IBAN DE89 3704 0044 0532 0130 00"};
    fs.settings.kassenzeichen_prefix = "5.0100.";
    // The seller of its e-invoices (EN 16931), as on the letterhead.
    fs.einvoice = {.name = "Bürgerhaus Musterstadt",
                   .street = "Marktplatz 1",
                   .postcode = "12345",
                   .city = "Musterstadt",
                   .country = "DE",
                   .vat_id = "DE123456789",
                   .tax_number = "12/345/67890",
                   .seller_id = "",
                   .iban = "DE89370400440532013000",
                   .bic = "COBADEFFXXX",
                   .account_holder = "Stadtkasse Musterstadt",
                   .tax_exempt_category = "E",
                   .tax_exempt_reason = "Steuerfrei nach § 4 Nr. 12 UStG"};
    seed.emplace_back(std::move(fs));
    commands::SetTariff hall;
    hall.id = "saal-stunde";
    hall.target = "resource/grosser-saal";
    hall.currency = "EUR";
    hall.version.unit = commands::TariffUnit::kHour;
    hall.version.amount = 4500;
    hall.version.tax_rate_bp = 1900;
    hall.version.description = "Saalmiete";
    hall.version.product = "1.1.1.01";
    hall.version.cost_center = "4711";
    seed.emplace_back(std::move(hall));
  }
  // The hall's door, for the lock provider of --door-url (tools/dev/run.sh
  // starts the simulated one): a booking of the hall or a part of it gets a
  // door code.
  for (const char* id : {"sporthalle", "sporthalle-a", "sporthalle-b", "sporthalle-c"}) {
    seed.emplace_back(commands::SetDoor{ResourceId(id), std::string("sporthalle-tuer")});
  }
  {
    // The public side: the widget's accent colour and consent text.
    commands::SetPublicSettings ps;
    ps.settings.display_name = "Bürgerhaus Musterstadt";
    ps.settings.accent_color = "#1f5f8b";
    ps.settings.consent_de =
        "Ich willige ein, dass das Bürgerhaus Musterstadt meine Angaben zur Bearbeitung dieser Buchung "
        "speichert; sie werden ein Jahr nach dem Termin gelöscht.";
    ps.settings.consent_en =
        "I agree that Bürgerhaus Musterstadt stores my details to process this booking; they are deleted one "
        "year after the booking.";
    seed.emplace_back(std::move(ps));
  }
  for (const auto& [email, role] : kDemoAccounts) {
    const std::string name = std::string("Demo ") + commands::RoleName(*commands::ParseRole(role));
    for (auto& c : DemoAccount(vault, tenant, email, role, name)) seed.push_back(std::move(c));
  }
  SeedDemoOperator(bus, vault);
  Seq last = o.position;
  for (const auto& cmd : seed) {
    auto res = RunCommand(bus, ctx("operator"), cmd);
    if (res.kind != commands::Outcome::Kind::kCreated && res.kind != commands::Outcome::Kind::kOk) {
      throw std::runtime_error("demo seed failed: " + res.body.dump());
    }
    last = res.position;
  }
  // Whoever reads the URL printed next should see the demo at once.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (runner.Position(tenant) < last && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  WriteSecret(key_file, admin_key);
  std::cout << "Demo tenant 'buergerhaus' (Bürgerhaus Musterstadt, Europe/Berlin) created with rooms\n"
            << "  grosser-saal (Mon–Fri 08–22, Sat 09–18) and seminarraum (Mon–Sat 08–20), the composite\n"
            << "  sporthalle (parts sporthalle-a/-b/-c), the pool tablets (10), the device lasercutter\n"
            << "  (needs the qualification 'lasercutter'), the event kurs-3d-druck and the add-on beamer.\n"
            << "Demo admin key: " << admin_key << "   (also in " << key_file.string() << ")\n"
            << "Back office: " << base_url
            << "/admin/buergerhaus/  (sign in as verwaltung@, sachbearbeitung@,\n"
            << "  kasse@ or pruefung@buergerhaus.example with the password " << kDemoPassword << ")\n"
            << "Operator pages: " << base_url << "/betrieb/  (" << kDemoOperator << ", the same password)\n"
            << "The API: curl " << base_url << "/v1/tenants/buergerhaus/resources\n";
}

}  // namespace

int main(int argc, char** argv) {
  // Everything saalbuchd creates — the data directory, RocksDB's files,
  // snapshots, backups, key files — is for its own account alone.
  ::umask(077);
  Config cfg;
  CLI::App app{
      "saalbuchd — the Saalbuch booking ledger server.\n"
      "Every option can also be set as an environment variable (shown as [env]).\n"
      "The operator key comes from SAALBUCH_OPERATOR_KEY, from --operator-key-file, or is\n"
      "generated into <data>/operator.key at the first start."};
  app.set_version_flag("--version", VersionLine("saalbuchd"),
                       "Print the version and the git revision, then exit");
  app.set_config("--config", "", "Read options from this TOML/INI file", false)->envname("SAALBUCH_CONFIG");
  app.add_option("--data", cfg.data, "Data directory (RocksDB and key files)")
      ->envname("SAALBUCH_DATA")
      ->capture_default_str();
  app.add_option("--listen", cfg.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->envname("SAALBUCH_LISTEN")
      ->capture_default_str();
  app.add_flag("--demo", cfg.demo, "Create the demo tenant 'buergerhaus' when it does not exist")
      ->envname("SAALBUCH_DEMO");
  app.add_option(
         "--master-key-file", cfg.master_key_file,
         "File (mode 0600 or 0400, outside the data directory) whose first line is the master key: 64 hex "
         "digits (openssl rand -hex 32). It wraps the vault's per-person keys and the signing keys, so "
         "that a copy of the data directory or a backup alone reveals no personal data. Empty: they are "
         "stored unwrapped")
      ->envname("SAALBUCH_MASTER_KEY_FILE");
  app.add_option("--previous-master-key-file", cfg.previous_master_key_file,
                 "For one start after changing the master key: the old one; every key is rewrapped")
      ->envname("SAALBUCH_PREVIOUS_MASTER_KEY_FILE");
  app.add_option("--operator-key-file", cfg.operator_key_file, "File whose first line is the operator key")
      ->envname("SAALBUCH_OPERATOR_KEY_FILE");
  app.add_option("--io-threads", cfg.io_threads, "Threads serving HTTP")
      ->envname("SAALBUCH_IO_THREADS")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--writer-threads", cfg.writer_threads, "Threads writing tenants' logs")
      ->envname("SAALBUCH_WRITER_THREADS")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--query-threads", cfg.query_threads, "Threads answering queries")
      ->envname("SAALBUCH_QUERY_THREADS")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--max-body-bytes", cfg.max_body_bytes, "Largest request body; larger gets 413")
      ->envname("SAALBUCH_MAX_BODY_BYTES")
      ->check(CLI::Range(1024, 16 * 1024 * 1024))
      ->capture_default_str();
  app.add_option("--min-free-bytes", cfg.min_free_bytes,
                 "Free space kept on the data directory's filesystem: while less is free, commands get 503 "
                 "storage_unavailable (queries are served) and an error is logged; 0: no reserve")
      ->envname("SAALBUCH_MIN_FREE_BYTES")
      ->capture_default_str();
  app.add_option(
         "--space-ballast-bytes", cfg.space_ballast_bytes,
         "Size of the ballast file <data>/space-ballast: released while less than --min-free-bytes is "
         "free, so that the store still finds room for its own work and can start on a full disk; "
         "laid again once the reserve and it fit; 0: none")
      ->envname("SAALBUCH_SPACE_BALLAST_BYTES")
      ->capture_default_str();
  app.add_option("--max-connections", cfg.max_connections, "Open connections; more get 503")
      ->envname("SAALBUCH_MAX_CONNECTIONS")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--max-connections-per-ip", cfg.max_connections_per_ip,
                 "Open connections from one client address; more get 503")
      ->envname("SAALBUCH_MAX_CONNECTIONS_PER_IP")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--request-timeout", cfg.request_timeout_s, "Seconds to read, handle and answer one request")
      ->envname("SAALBUCH_REQUEST_TIMEOUT")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  app.add_option("--rate-limit", cfg.rate_per_second, "Requests per second per client address (burst: twice)")
      ->envname("SAALBUCH_RATE_LIMIT")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--public-booking-rate", cfg.public_booking_rate,
                 "Keyless booking requests per second per client address and tenant (burst: 10×)")
      ->envname("SAALBUCH_PUBLIC_BOOKING_RATE")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--smtp-url", cfg.smtp_url,
                 "SMTP server for notification e-mails (smtp://host:port, smtps://…); empty: none are sent. "
                 "SMTP AUTH from SAALBUCH_SMTP_USER and SAALBUCH_SMTP_PASSWORD")
      ->envname("SAALBUCH_SMTP_URL");
  app.add_option("--smtp-from", cfg.smtp_from, "Sender of notification e-mails")
      ->envname("SAALBUCH_SMTP_FROM")
      ->capture_default_str();
  app.add_flag("--smtp-starttls", cfg.smtp_starttls, "Require STARTTLS on smtp:// URLs")
      ->envname("SAALBUCH_SMTP_STARTTLS");
  app.add_option("--public-url", cfg.public_url,
                 "Base URL of links in e-mails (default: the URL the server listens on)")
      ->envname("SAALBUCH_PUBLIC_URL");
  app.add_option("--trusted-proxies", cfg.trusted_proxies,
                 "Reverse proxies whose Forwarded / X-Forwarded-For / -Proto / -Host headers name the "
                 "client (comma-separated addresses or CIDR ranges, e.g. 127.0.0.1,10.0.0.0/8); from any "
                 "other peer they are ignored. Empty: the peer is the client")
      ->envname("SAALBUCH_TRUSTED_PROXIES");
  app.add_option(
         "--forwarded-header", cfg.forwarded_header,
         "Which headers the trusted proxies write: x-forwarded-for (with X-Forwarded-Proto and -Host; "
         "nginx, HAProxy, Apache) or forwarded (RFC 7239). The other kind is ignored, since a proxy "
         "passes on what a client sent in it")
      ->envname("SAALBUCH_FORWARDED_HEADER")
      ->check(CLI::IsMember({"x-forwarded-for", "forwarded"}))
      ->capture_default_str();
  app.add_option("--checkpoint-every", cfg.checkpoint_every,
                 "Sign a checkpoint of a tenant's log every N records (and a tenant's first at once); 0: "
                 "sign none (an auditor's verify then vouches for no record)")
      ->envname("SAALBUCH_CHECKPOINT_EVERY")
      ->check(CLI::Range(0, 100000000))
      ->capture_default_str();
  app.add_option("--log-origin", cfg.log_origin,
                 "The name this installation's checkpoints carry: origin \"<log-origin>/<tenant>\" (C2SP "
                 "tlog-checkpoint; a schema-less URL such as buergerhaus.example/saalbuch makes it unique "
                 "among installations, so that witnesses and auditors never mix two logs of one tenant id)")
      ->envname("SAALBUCH_LOG_ORIGIN")
      ->check([](const std::string& v) -> std::string {
        const bool ok =
            !v.empty() && v.size() <= 200 && v.back() != '/' &&
            std::all_of(v.begin(), v.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f && c != '+'; });
        return ok ? "" : "must be 1–200 printable ASCII characters without spaces or '+', not ending in '/'";
      })
      ->capture_default_str();
  app.add_option("--checkpoint-interval", cfg.checkpoint_interval_s,
                 "…and at least every this many seconds while records arrive")
      ->envname("SAALBUCH_CHECKPOINT_INTERVAL")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--retention-interval", cfg.retention_interval_s,
                 "Apply the tenants' retention rules (erase personal data due) every this many seconds "
                 "(0: never)")
      ->envname("SAALBUCH_RETENTION_INTERVAL")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  app.add_option("--funnel-interval", cfg.funnel_interval_s,
                 "Record the public booking funnel counted in memory every this many seconds (0: only at a "
                 "clean stop)")
      ->envname("SAALBUCH_FUNNEL_INTERVAL")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  app.add_option("--snapshot-every", cfg.snapshot_every,
                 "Store a snapshot of a tenant's write model every N records (at most every tenth of its "
                 "log) and at shutdown, so that a start folds only the records after it; 0: never")
      ->envname("SAALBUCH_SNAPSHOT_EVERY")
      ->check(CLI::Range(0, 1000000000))
      ->capture_default_str();
  app.add_option("--projection-lag-ms", cfg.projection_lag_ms,
                 "For tests only: projections follow the log this much later, so that a page or client "
                 "which reads its own write without naming its position fails at once")
      ->check(CLI::Range(0, 10000))
      ->group("");
  app.add_option("--log-level", cfg.log_level, "trace, debug, info, warn, error")
      ->envname("SAALBUCH_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--log-format", cfg.log_format,
                 "text: logfmt lines (ts=… level=… msg=\"…\" key=value); json: one JSON object per line")
      ->envname("SAALBUCH_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--backup-dir", cfg.backup_dir,
                 "Directory for online backups (POST /v1/operator/backups); best on another disk. "
                 "Empty: backups are off")
      ->envname("SAALBUCH_BACKUP_DIR");
  app.add_option("--backup-keep", cfg.backup_keep,
                 "Backups kept; older ones are deleted after a new one (0: all)")
      ->envname("SAALBUCH_BACKUP_KEEP")
      ->capture_default_str();
  app.add_option("--backup-rate-limit", cfg.backup_rate_mib,
                 "MiB per second a backup may write, so that it leaves the disk to serving (0: no limit)")
      ->envname("SAALBUCH_BACKUP_RATE_LIMIT")
      ->capture_default_str();
  app.add_option("--provider-url", cfg.provider_url,
                 "Payment provider API (tools/payprovider/README.md). API key from SAALBUCH_PROVIDER_KEY, "
                 "webhook secret from SAALBUCH_PROVIDER_WEBHOOK_SECRET. Empty: bank transfer and cash only")
      ->envname("SAALBUCH_PROVIDER_URL");
  app.add_option("--door-url", cfg.door_url,
                 "Lock provider API for door codes (tools/locksim/README.md). API key from "
                 "SAALBUCH_DOOR_KEY. Empty: no door codes")
      ->envname("SAALBUCH_DOOR_URL");
  app.add_option(
         "--witness", cfg.witnesses,
         "A witness that cosigns each checkpoint (C2SP tlog-witness), as \"<its verifier key>@<URL>\", "
         "e.g. the Rechnungsprüfung's saalbuch-replay witness. Cosignatures are stored beside the log "
         "and shown with GET …/checkpoint. Repeatable")
      ->envname("SAALBUCH_WITNESS")
      ->check([](const std::string& v) -> std::string {
        auto w = integrations::ParseWitness(v);
        return w.ok() ? "" : w.status().message();
      });
  app.add_option("--accept-log", cfg.accept_log,
                 "After an integrity alarm (README, \"Integrity alarms\"): accept this tenant's log as it "
                 "stands, for this start only: its snapshots and projections are rebuilt from it and a "
                 "checkpoint of it is signed (recorded with actor \"operator\"). Repeatable")
      ->envname("SAALBUCH_ACCEPT_LOG");
  CLI11_PARSE(app, argc, argv);

  http::SetUpLogging(cfg.log_format, cfg.log_level);
  http::TrustedProxies trusted_proxies;
  try {
    trusted_proxies = http::TrustedProxies::Parse(
        cfg.trusted_proxies, cfg.forwarded_header == "forwarded" ? http::ForwardedHeader::kForwarded
                                                                 : http::ForwardedHeader::kXForwarded);
  } catch (const std::invalid_argument& e) {
    std::cerr << "--trusted-proxies: " << e.what() << "\n";
    return 2;
  }

  try {
    const fs::path data(cfg.data);
    fs::create_directories(data);
    TightenDirectory(data);
    if (!cfg.backup_dir.empty()) TightenDirectory(cfg.backup_dir);

    std::string operator_key;
    std::string operator_key_source;
    if (const char* env = std::getenv("SAALBUCH_OPERATOR_KEY"); env != nullptr && *env != '\0') {
      operator_key = env;
      operator_key_source = "SAALBUCH_OPERATOR_KEY";
    } else {
      fs::path file = cfg.operator_key_file.empty() ? data / "operator.key" : fs::path(cfg.operator_key_file);
      if (!fs::exists(file)) {
        if (!cfg.operator_key_file.empty())
          throw std::runtime_error("operator key file " + file.string() + " does not exist");
        WriteSecret(file, "sbo_" + RandomHex(24));
        std::cout << "Generated an operator key into " << file.string() << "\n";
      }
      operator_key = ReadFirstLine(file);
      operator_key_source = file.string();
    }
    if (operator_key.size() < 16)
      throw std::runtime_error("the operator key must have at least 16 characters");

    const auto colon = cfg.listen.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("--listen must be HOST:PORT");
    const std::string host = cfg.listen.substr(0, colon);
    const int port = std::stoi(cfg.listen.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::runtime_error("port out of range");

    prometheus::Registry registry;
    // Before the store opens: on a full disk it releases the ballast, so
    // that RocksDB finds room for the files every open writes.
    http::FreeSpaceWatch free_space(data, cfg.min_free_bytes, cfg.space_ballast_bytes, registry);
    auto db = ledger::Database::Open((data / "db").string(), {});
    if (!db.ok()) throw std::runtime_error(db.status().message());
    ledger::RocksLog log(db->get());
    prometheus::BuildGauge()
        .Name("saalbuch_build_info")
        .Help("The version and git revision saalbuchd was built from; always 1")
        .Register(registry)
        .Add({{"version", std::string(BuildVersion())}, {"revision", std::string(BuildRevision())}})
        .Set(1);
    projections::Runner runner(db->get(), &log);
    runner.SetLag(std::chrono::milliseconds(cfg.projection_lag_ms));

    ledger::Vault vault(db->get(), ReadMasterKey(cfg.master_key_file, data));
    if (auto wrapped = vault.Prepare(ReadMasterKey(cfg.previous_master_key_file, data)); !wrapped.ok()) {
      throw std::runtime_error("the key vault: " + wrapped.status().message());
    } else if (*wrapped > 0) {
      spdlog::info("msg=\"vault keys wrapped with the master key\" keys={}", *wrapped);
    }
    if (cfg.master_key_file.empty()) {
      spdlog::warn(
          "msg=\"no --master-key-file: the vault's keys are stored unwrapped in the data directory\"");
    }
    std::unique_ptr<ledger::BackupService> backups;
    if (!cfg.backup_dir.empty()) {
      ledger::BackupOptions backup_options;
      backup_options.keep = cfg.backup_keep;
      backup_options.rate_limit_bytes = std::uint64_t{cfg.backup_rate_mib} * 1024 * 1024;
      auto writer = ledger::BackupWriter::Open(db->get(), &log, cfg.backup_dir, backup_options);
      if (!writer.ok()) throw std::runtime_error(writer.status().message());
      backups = std::make_unique<ledger::BackupService>(std::move(writer).value());
      spdlog::info("msg=\"backups enabled\" dir={} backups={}", cfg.backup_dir, backups->List().size());
    }

    // Before the bus: its first checkpoints are queued for the witnesses.
    std::unique_ptr<integrations::WitnessSubmitter> witnesses;
    if (!cfg.witnesses.empty()) {
      std::vector<integrations::WitnessEndpoint> endpoints;
      for (const auto& w : cfg.witnesses) endpoints.push_back(integrations::ParseWitness(w).value());
      witnesses =
          std::make_unique<integrations::WitnessSubmitter>(db->get(), &log, std::move(endpoints), registry);
      spdlog::info("msg=\"checkpoints go to witnesses\" witnesses={}", cfg.witnesses.size());
    }
    commands::BusOptions bus_options;
    bus_options.checkpoint_every = cfg.checkpoint_every;
    bus_options.checkpoint_interval = std::chrono::seconds(cfg.checkpoint_interval_s);
    bus_options.snapshot_every = cfg.snapshot_every;
    if (cfg.checkpoint_every > 0)
      bus_options.sign_checkpoint = [&vault, &cfg, &witnesses](const TenantId& t, Seq position,
                                                               const Sha256& root) {
        auto seed = vault.SigningSeed(t);
        if (!seed.ok()) throw std::runtime_error("no signing key: " + seed.status().ToString());
        const std::string name = cfg.log_origin + "/" + t.get();
        const std::string body = CheckpointBody({name, position, std::string(AsBytes(root))});
        std::string note = SignNote(body, name, *seed);
        // The records it covers are durable; whether its own record is
        // stored too does not matter to a witness.
        if (witnesses) witnesses->Submit(t, position, note);
        return std::make_pair(std::move(note), VerifierKey(name, Ed25519PublicKey(*seed)));
      };
    bus_options.accept_log.insert(cfg.accept_log.begin(), cfg.accept_log.end());
    // What the log says against what the server wrote beside it: the key
    // that signed its checkpoints, and the position the projections reached.
    bus_options.check_tenant = [&vault, &runner](
                                   const TenantId& t,
                                   const commands::LogFacts& facts) -> std::optional<commands::TenantHold> {
      if (auto at = runner.DisagreeingPosition(t); !at.ok()) {
        return commands::TenantHold{"integrity_alarm", 0,
                                    "the projections' position cannot be read: " + at.status().ToString()};
      } else if (at->has_value()) {
        const std::string p = std::to_string(**at);
        return commands::TenantHold{
            "integrity_alarm", **at,
            "the projections were folded up to log position " + p +
                ", whose chain hash the log no longer has (or the log ends before it): "
                "the log was changed after they were folded"};
      }
      if (facts.checkpoints == 0) return std::nullopt;
      auto seed = vault.FindSigningSeed(t);
      const std::string signed_by = std::to_string(facts.checkpoints) +
                                    " signed checkpoints, the latest in record " +
                                    std::to_string(facts.last_checkpoint_record);
      if (!seed.ok()) {
        return commands::TenantHold{"integrity_alarm", facts.last_checkpoint_record,
                                    "the signing key cannot be read: " + seed.status().ToString()};
      }
      if (!seed->has_value()) {
        return commands::TenantHold{
            "integrity_alarm", facts.last_checkpoint_record,
            "the tenant's checkpoint signing key is missing from the vault, but its log holds " + signed_by +
                "; a new key would be published as the tenant's"};
      }
      // The key, whatever origin it was named with (--log-origin may have
      // changed since).
      const auto last = ParseVerifierKey(facts.last_verifier_key);
      if (!last || last->public_key != Ed25519PublicKey(**seed)) {
        return commands::TenantHold{
            "integrity_alarm", facts.last_checkpoint_record,
            "the tenant's checkpoint signing key is not the one that signed its log's " + signed_by};
      }
      return std::nullopt;
    };
    bus_options.writer_threads = cfg.writer_threads;
    bus_options.on_appended = [&runner, &witnesses](const TenantId& t, Seq head) {
      runner.Notify(t, head);
      if (witnesses) witnesses->Durable(t, head);
    };
    commands::CommandBus bus(&log, &registry, bus_options);

    const auto t0 = std::chrono::steady_clock::now();
    // Before the bus starts: an accepted tenant's projections are folded
    // from record 1 again, and the check of the rest finds nothing stale.
    for (const std::string& t : cfg.accept_log) {
      if (Status s = runner.Reset(TenantId(t)); !s.ok())
        throw std::runtime_error("dropping the projections of '" + t + "': " + s.ToString());
    }
    if (Status s = bus.Start(); !s.ok()) throw std::runtime_error("rebuilding write models: " + s.ToString());
    for (const auto& [t, hold] : bus.Holds()) runner.Hold(TenantId(t));
    if (Status s = runner.Start(); !s.ok())
      throw std::runtime_error("catching up projections: " + s.ToString());
    // What the last run signed but no witness confirmed yet (the submitter
    // skips what is cosigned already).
    for (const TenantId& t : witnesses ? log.Tenants() : std::vector<TenantId>{}) {
      if (auto head = log.GetHead(t); head.ok()) witnesses->Durable(t, head->seq);  // opened: on disk
      if (auto cp = projections::QueryCheckpoint(runner.view(), t); cp.ok())
        witnesses->Submit(t, cp->at("position").get<Seq>(), cp->at("note").get<std::string>());
    }
    spdlog::info(
        "msg=\"started\" tenants={} startup_ms={}", log.Tenants().size(),
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());

    // The main context (listener, signals, timers) and one more per further
    // I/O thread; connections are spread over all of them, each context run
    // by exactly one thread (ServerOptions::connection_contexts).
    net::io_context ioc(1);
    std::vector<std::unique_ptr<net::io_context>> more_io;
    std::vector<net::executor_work_guard<net::io_context::executor_type>> more_io_work;
    for (int i = 1; i < cfg.io_threads; ++i) {
      more_io.push_back(std::make_unique<net::io_context>(1));
      more_io_work.push_back(net::make_work_guard(*more_io.back()));
    }
    http::ApiOptions api_options;
    api_options.operator_key = operator_key;
    api_options.rate_per_second = cfg.rate_per_second;
    api_options.rate_burst = cfg.rate_per_second * 2;
    api_options.public_booking_rate = cfg.public_booking_rate;
    api_options.public_booking_burst = cfg.public_booking_rate * 10;
    api_options.query_threads = cfg.query_threads;
    api_options.vault = &vault;
    api_options.log_origin = cfg.log_origin;
    api_options.cosignatures = [&db](const TenantId& t, Seq size) {
      std::vector<std::string> lines;
      if (auto all = ledger::Cosignatures(*db->get(), t, size); all.ok()) {
        for (auto& c : *all) lines.push_back(std::move(c.line));
      }
      return lines;
    };
    api_options.mails = !cfg.smtp_url.empty();
    api_options.doors = !cfg.door_url.empty();
    api_options.version = VersionLine("saalbuchd");
    api_options.retention_interval = std::chrono::seconds(cfg.retention_interval_s);
    api_options.funnel_interval = std::chrono::seconds(cfg.funnel_interval_s);
    api_options.backups = backups.get();
    api_options.trusted_proxies = trusted_proxies;
    free_space.Start();
    api_options.free_space = &free_space;
    std::unique_ptr<integrations::PaymentProvider> provider;
    if (!cfg.provider_url.empty()) {
      integrations::ProviderConfig pc;
      pc.base_url = cfg.provider_url;
      if (const char* k = std::getenv("SAALBUCH_PROVIDER_KEY")) pc.api_key = k;
      if (const char* w = std::getenv("SAALBUCH_PROVIDER_WEBHOOK_SECRET")) pc.webhook_secret = w;
      if (pc.webhook_secret.empty()) {
        throw std::runtime_error("--provider-url needs SAALBUCH_PROVIDER_WEBHOOK_SECRET");
      }
      api_options.webhook_secret = pc.webhook_secret;
      provider = integrations::MakeHttpProvider(pc);
      api_options.provider = provider.get();
    }
    http::Api api(ioc, bus, runner, log, registry, api_options);

    http::ServerOptions server_options;
    server_options.max_body_bytes = cfg.max_body_bytes;
    server_options.max_connections = cfg.max_connections;
    server_options.max_connections_per_ip = cfg.max_connections_per_ip;
    server_options.request_timeout = std::chrono::seconds(cfg.request_timeout_s);
    if (!trusted_proxies.empty()) {
      server_options.shared_peer = [&trusted_proxies](const std::string& peer) {
        return trusted_proxies.Contains(peer);
      };
    }
    server_options.early_headers = [&api](const http::Request& req, http::Response& res) {
      api.AddEarlyHeaders(req, res);
    };
    server_options.connection_contexts.push_back(&ioc);
    for (auto& c : more_io) server_options.connection_contexts.push_back(c.get());
    http::Server server(ioc, server_options,
                        [&api](http::Request&& req, const std::string& ip, http::Respond respond) {
                          api.Handle(std::move(req), ip, std::move(respond));
                        });
    server.Listen({net::ip::make_address(host), static_cast<unsigned short>(port)});
    std::unique_ptr<integrations::Notifier> notifier;  // started once the URL is known
    std::unique_ptr<integrations::RefundDispatcher> refunds;
    std::unique_ptr<integrations::DoorProvider> door_provider;
    std::unique_ptr<integrations::DoorDispatcher> doors;
    // Installed before the URL is printed: whoever sees the URL may send SIGTERM.
    std::thread stopper;
    net::signal_set signals(ioc, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      spdlog::info("msg=\"shutting down\" signal={}", sig);
      api.SetReady(false);
      server.StopAccepting();
      stopper = std::thread([&] {
        if (notifier) notifier->Stop();
        if (refunds) refunds->Stop();
        if (doors) doors->Stop();
        api.FlushFunnel();                 // what the public side counted, while the bus still takes it
        bus.Shutdown();                    // every queued command is decided and answered
        if (backups) backups->Shutdown();  // a running backup stops and is answered 503
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (api.in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        // Give the last responses a moment to reach their sockets.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        for (auto& c : more_io) c->stop();
        ioc.stop();
      });
    });

    const auto ep = server.local_endpoint();
    const std::string base_url =
        "http://" + (ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string()) +
        ":" + std::to_string(ep.port());
    if (cfg.demo) SeedDemo(bus, runner, vault, data, base_url);
    integrations::NotifierOptions notifier_options;
    notifier_options.smtp_url = cfg.smtp_url;
    notifier_options.from = cfg.smtp_from;
    notifier_options.starttls = cfg.smtp_starttls;
    if (const char* u = std::getenv("SAALBUCH_SMTP_USER")) notifier_options.username = u;
    if (const char* p = std::getenv("SAALBUCH_SMTP_PASSWORD")) notifier_options.password = p;
    notifier_options.public_url = cfg.public_url.empty() ? base_url : cfg.public_url;
    notifier = std::make_unique<integrations::Notifier>(bus, runner, log, vault, registry, notifier_options);
    notifier->Start();
    if (cfg.smtp_url.empty()) spdlog::info("msg=\"no --smtp-url: notification e-mails stay in the outbox\"");
    api.SetPublicUrl(cfg.public_url.empty() ? base_url : cfg.public_url, !cfg.public_url.empty());
    if (!trusted_proxies.empty() && cfg.public_url.empty()) {
      spdlog::warn(
          "msg=\"--trusted-proxies without --public-url: links in e-mails name {}; set --public-url "
          "to the address citizens use\"",
          base_url);
    }
    if (provider) {
      refunds = std::make_unique<integrations::RefundDispatcher>(bus, runner, log, *provider);
      refunds->Start();
    }
    if (!cfg.door_url.empty()) {
      integrations::DoorConfig dc;
      dc.base_url = cfg.door_url;
      if (const char* k = std::getenv("SAALBUCH_DOOR_KEY")) dc.api_key = k;
      door_provider = integrations::MakeHttpDoorProvider(dc);
      doors = std::make_unique<integrations::DoorDispatcher>(bus, runner, log, vault, *door_provider);
      doors->Start();
    }
    api.SetReady(true);
    std::cout << "Operator key: from " << operator_key_source << "  (operator pages: " << base_url
              << "/betrieb/)\n"
              << "Saalbuch listening on " << base_url << "  (API description: " << base_url
              << "/v1/openapi.json)\n";
    if (cfg.demo) {
      const std::string page = (cfg.public_url.empty() ? base_url : cfg.public_url) + "/demo/";
      std::cout << "\n  Open in a browser: " << page << "\n"
                << "  (a town's web page with the booking widget of the demo tenant embedded)\n\n";
    }
    std::cout << std::flush;
    spdlog::info("msg=\"listening\" url={} data={}", base_url, data.string());

    std::vector<std::thread> io;
    io.reserve(more_io.size());
    for (auto& c : more_io) {
      io.emplace_back([&c] {
        NameThisThread("sb-io");
        c->run();
      });
    }
    NameThisThread("sb-io");
    ioc.run();
    for (auto& t : io) t.join();
    if (stopper.joinable()) stopper.join();
    if (backups) backups->Shutdown();  // before the Api its answers go through
    api.Shutdown();
    runner.Shutdown();
    spdlog::info("msg=\"stopped\"");
  } catch (const std::exception& e) {
    spdlog::critical("msg=\"cannot start\" error=\"{}\"", e.what());
    http::FlushLogs();
    return 1;
  }
  http::FlushLogs();
  return 0;
}
