// Notification e-mails against a real SMTP server (Debian's python3-aiosmtpd,
// delivering into a maildir): the right mails in the booker's language with
// the manage link, retries while the SMTP server is down, nothing sent twice
// across a kill -9, nothing sent once the person is erased.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

using nlohmann::json;

// aiosmtpd on a loopback port, storing every message in a maildir.
class SmtpServer {
 public:
  explicit SmtpServer(std::filesystem::path maildir) : maildir_(std::move(maildir)) {
    // A free loopback port, from the kernel.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
    ::close(fd);
  }
  ~SmtpServer() { Stop(); }
  int port() const { return port_; }

  void Start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string listen = "127.0.0.1:" + std::to_string(port_);
      ::execl("/usr/bin/python3", "python3", "-m", "aiosmtpd", "-n", "-l", listen.c_str(), "-c",
              "aiosmtpd.handlers.Mailbox", maildir_.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Ready once the port accepts connections.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<std::uint16_t>(port_));
      const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      ::close(fd);
      if (up) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "aiosmtpd did not start on port " << port_;
  }
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // Every message delivered so far, as text.
  std::vector<std::string> Messages() const {
    std::vector<std::string> out;
    if (!std::filesystem::exists(maildir_ / "new")) return out;
    for (const auto& f : std::filesystem::directory_iterator(maildir_ / "new")) {
      std::ifstream in(f.path(), std::ios::binary);
      out.emplace_back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    return out;
  }
  // Waits until at least `n` messages arrived.
  std::vector<std::string> WaitFor(std::size_t n,
                                   std::chrono::seconds timeout = std::chrono::seconds(15)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto m = Messages();
    while (m.size() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      m = Messages();
    }
    return m;
  }

 private:
  std::filesystem::path maildir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

int Count(const std::vector<std::string>& mails, const std::string& needle) {
  int n = 0;
  for (const auto& m : mails) n += m.find(needle) != std::string::npos;
  return n;
}

class NotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("notify");
    smtp_ = std::make_unique<SmtpServer>(dir_ / "maildir");
    server_ = std::make_unique<Server>(
        dir_ / "data",
        std::vector<std::string>{"--smtp-url", "smtp://127.0.0.1:" + std::to_string(smtp_->port()),
                                 "--smtp-from", "Bürgerhaus <buchung@buergerhaus.example>", "--public-url",
                                 "https://buchen.example"});
  }
  void TearDown() override {
    server_.reset();
    smtp_.reset();
    std::filesystem::remove_all(dir_);
  }
  void MakeTenant() {
    auto t = CallJson(server_->port(), "POST", "/v1/tenants",
                      {{"id", "stadt"}, {"name", "Stadt Musterhausen"}}, kOperatorKey);
    ASSERT_EQ(t.status, 201) << t.body;
    admin_ = t.json()["admin_key"]["key"];
    ASSERT_EQ(CallJson(server_->port(), "POST", "/v1/tenants/stadt/resources",
                       {{"id", "saal"}, {"name", "Saal"}}, admin_)
                  .status,
              201);
  }
  HttpResult Book(const std::string& start, const std::string& end, const json& contact) {
    return CallJson(server_->port(), "POST", "/v1/tenants/stadt/bookings",
                    {{"resource", "saal"}, {"start", start}, {"end", end}, {"contact", contact}});
  }

  std::filesystem::path dir_;
  std::unique_ptr<SmtpServer> smtp_;
  std::unique_ptr<Server> server_;
  std::string admin_;
};

TEST_F(NotifyTest, MailsInTheBookersLanguageWithTheManageLinkAndRetriesWhileSmtpIsDown) {
  // The SMTP server is down at first: deliveries fail and are retried.
  server_->Start();
  MakeTenant();
  auto de = Book("2027-05-03T10:00:00+02:00", "2027-05-03T12:00:00+02:00",
                 {{"name", "Erika Mustermann"}, {"email", "erika@example.org"}, {"language", "de"}});
  ASSERT_EQ(de.status, 201) << de.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  smtp_->Start();
  auto mails = smtp_->WaitFor(1);
  ASSERT_EQ(mails.size(), 1u);
  const std::string& m = mails[0];
  EXPECT_NE(m.find("To: <erika@example.org>"), std::string::npos) << m;
  EXPECT_NE(m.find("From: Bürgerhaus <buchung@buergerhaus.example>"), std::string::npos) << m;
  EXPECT_NE(m.find("Guten Tag Erika Mustermann,"), std::string::npos) << m;
  EXPECT_NE(m.find("Ihre Buchung ist bestätigt."), std::string::npos) << m;
  EXPECT_NE(m.find("2027-05-03T10:00:00+02:00"), std::string::npos) << m;
  const std::string id = de.json()["id"], token = de.json()["manage_token"];
  EXPECT_NE(m.find("https://buchen.example/v1/tenants/stadt/bookings/" + id + "?token=" + token),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("Subject: =?UTF-8?B?"), std::string::npos) << m;  // "bestätigt" needs RFC 2047

  // English, and a cancellation by the booker: a second mail.
  auto en = Book("2027-05-04T10:00:00+02:00", "2027-05-04T12:00:00+02:00",
                 {{"name", "Jane Doe"}, {"email", "jane@example.org"}, {"language", "en"}});
  ASSERT_EQ(en.status, 201) << en.body;
  ASSERT_EQ(CallJson(server_->port(), "POST",
                     "/v1/tenants/stadt/bookings/" + en.json()["id"].get<std::string>() + "/cancel",
                     json::object(), "", {{"Saalbuch-Manage-Token", en.json()["manage_token"]}})
                .status,
            200);
  mails = smtp_->WaitFor(3);
  ASSERT_EQ(mails.size(), 3u);
  EXPECT_EQ(Count(mails, "Subject: Your booking " + en.json()["number"].get<std::string>() + " is confirmed"),
            1);
  EXPECT_EQ(
      Count(mails, "Subject: Your booking " + en.json()["number"].get<std::string>() + " was cancelled"), 1);
  EXPECT_EQ(Count(mails, "Hello Jane Doe,"), 2);

  // Deliveries are in the booking's history and survive kill -9: no mail twice.
  auto doc = Call(server_->port(), "GET", "/v1/tenants/stadt/bookings/" + id, "",
                  {{"Authorization", "Bearer " + admin_}});
  EXPECT_EQ(doc.json()["history"].back()["event"], "notified") << doc.body;
  server_->Kill();
  server_->Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(smtp_->Messages().size(), 3u);
}

TEST_F(NotifyTest, ApprovalFlowMailsAndNothingForErasedPersons) {
  smtp_->Start();
  server_->Start();
  MakeTenant();
  const int port = server_->port();
  ASSERT_EQ(
      CallJson(port, "POST", "/v1/tenants/stadt/groups", {{"id", "verein"}, {"name", "Vereine"}}, admin_)
          .status,
      201);
  ASSERT_EQ(CallJson(port, "POST", "/v1/tenants/stadt/rights",
                     {{"resource", "saal"}, {"group", "public"}, {"needs_approval", true}}, admin_)
                .status,
            201);
  auto req = Book("2027-06-01T10:00:00Z", "2027-06-01T11:00:00Z",
                  {{"email", "verein@example.org"}, {"language", "en"}});
  ASSERT_EQ(req.status, 201) << req.body;
  const std::string id = req.json()["id"];
  auto mails = smtp_->WaitFor(1);
  EXPECT_EQ(Count(mails, "We received your booking request"), 1);
  ASSERT_EQ(
      CallJson(port, "POST", "/v1/tenants/stadt/bookings/" + id + "/approve", json::object(), admin_).status,
      200);
  mails = smtp_->WaitFor(2);
  EXPECT_EQ(Count(mails, "was approved"), 1);

  // A person erased before their mail goes out gets none.
  auto other = Book("2027-06-02T10:00:00Z", "2027-06-02T11:00:00Z", {{"email", "weg@example.org"}});
  ASSERT_EQ(other.status, 201);
  // Read-your-writes: the projection may not have folded the booking yet.
  auto doc = Call(port, "GET",
                  "/v1/tenants/stadt/bookings/" + other.json()["id"].get<std::string>() +
                      "?min_position=" + other.header("saalbuch-position"),
                  "", {{"Authorization", "Bearer " + admin_}});
  ASSERT_EQ(doc.status, 200) << doc.body;
  const std::string person = doc.json()["person"];
  smtp_->WaitFor(3, std::chrono::seconds(5));
  ASSERT_EQ(
      CallJson(port, "POST", "/v1/tenants/stadt/persons/" + person + "/erase", json::object(), admin_).status,
      200);
  ASSERT_EQ(CallJson(port, "POST",
                     "/v1/tenants/stadt/bookings/" + other.json()["id"].get<std::string>() + "/reject",
                     json::object(), admin_)
                .status,
            200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(Count(smtp_->Messages(), "declined"), 0);
}

TEST_F(NotifyTest, HeldBookingsGetAReminderBeforeTheyExpireAndANoticeWhenTheyDo) {
  smtp_->Start();
  server_->Start();
  MakeTenant();
  const int port = server_->port();
  ASSERT_EQ(CallJson(port, "PUT", "/v1/tenants/stadt/settings", {{"hold_seconds", 4}}, admin_).status, 200);
  ASSERT_EQ(CallJson(port, "POST", "/v1/tenants/stadt/rights",
                     {{"resource", "saal"}, {"group", "public"}, {"hold", true}}, admin_)
                .status,
            201);
  auto held = Book("2027-07-01T10:00:00Z", "2027-07-01T11:00:00Z",
                   {{"email", "halt@example.org"}, {"language", "en"}});
  ASSERT_EQ(held.status, 201) << held.body;
  EXPECT_EQ(held.json()["status"], "held");
  const std::string number = held.json()["number"];
  auto mails = smtp_->WaitFor(3, std::chrono::seconds(20));
  EXPECT_EQ(Count(mails, "Subject: Your booking " + number + " is on hold"), 1);
  EXPECT_EQ(Count(mails, "Subject: Your hold " + number + " expires soon"), 1);
  EXPECT_EQ(Count(mails, "Subject: Your hold " + number + " has expired"), 1);
  // A hold confirmed in time gets no reminder.
  ASSERT_EQ(CallJson(port, "PUT", "/v1/tenants/stadt/settings", {{"hold_seconds", 6}}, admin_).status, 200);
  auto kept = Book("2027-07-02T10:00:00Z", "2027-07-02T11:00:00Z",
                   {{"email", "halt@example.org"}, {"language", "en"}});
  ASSERT_EQ(kept.status, 201);
  ASSERT_EQ(CallJson(port, "POST",
                     "/v1/tenants/stadt/bookings/" + kept.json()["id"].get<std::string>() + "/confirm",
                     json::object(), admin_)
                .status,
            200);
  smtp_->WaitFor(5, std::chrono::seconds(20));
  std::this_thread::sleep_for(std::chrono::seconds(7));  // past the reminder (4.5 s) and the end (6 s)
  mails = smtp_->Messages();
  const std::string kept_number = kept.json()["number"];
  EXPECT_EQ(Count(mails, "Subject: Your booking " + kept_number + " is confirmed"), 1);
  EXPECT_EQ(Count(mails, "Subject: Your hold " + kept_number + " expires soon"), 0);
  EXPECT_EQ(Count(mails, "Subject: Your hold " + kept_number + " has expired"), 0);
  EXPECT_EQ(mails.size(), 5u);
}

}  // namespace
}  // namespace saalbuch::e2e
