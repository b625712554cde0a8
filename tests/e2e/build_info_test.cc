// The programs name the version and the git revision they were built from:
// `--version` on the command line, the saalbuch_build_info gauge on /metrics.

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <string>

#include "tests/e2e/harness.h"

namespace saalbuch::e2e {
namespace {

struct Output {
  int exit_code = -1;
  std::string text;  // stdout
};

Output RunCommand(const std::string& command) {
  Output o;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return o;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) o.text += buf;
  const int status = pclose(p);
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

// The source tree's HEAD as the build names it (common/build_info.cmake),
// or "" when the source directory is not a git checkout or git is missing.
std::string SourceHead() {
  const std::string source = std::filesystem::path(SAALBUCH_TESTS_DIR).parent_path().string();
  Output head = RunCommand("git -C '" + source + "' rev-parse --short=12 HEAD 2>/dev/null");
  if (head.exit_code != 0) return "";
  while (!head.text.empty() && head.text.back() == '\n') head.text.pop_back();
  return head.text;
}

// The revision a program's --version names; checks the whole line.
std::string ExpectVersionLine(const std::string& program, const std::string& path) {
  const Output out = RunCommand("'" + path + "' --version");
  EXPECT_EQ(out.exit_code, 0) << out.text;
  const std::regex line(program + " ([0-9]+\\.[0-9]+\\.[0-9]+) \\(revision ([0-9a-z._+-]+)\\)\n");
  std::smatch m;
  if (!std::regex_match(out.text, m, line)) {
    ADD_FAILURE() << program << " --version printed: " << out.text;
    return "";
  }
  EXPECT_EQ(m[1].str(), SAALBUCH_PROJECT_VERSION);
  std::string revision = m[2].str();
  if (const std::string head = SourceHead(); !head.empty()) {
    // "-dirty": tracked files differed from HEAD when it was built.
    EXPECT_TRUE(revision == head || revision == head + "-dirty")
        << program << " names revision " << revision << ", the source tree is at " << head
        << " (a stale build? rebuild, then test)";
  }
  return revision;
}

class BuildInfoTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshDir("build-info"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(BuildInfoTest, ProgramsPrintTheVersionAndTheRevisionOfTheSourceTree) {
  const std::string server = ExpectVersionLine("saalbuchd", SAALBUCHD_PATH);
  // saalbuch-replay and saalbuch-backup require a subcommand; --version needs none.
  EXPECT_EQ(ExpectVersionLine("saalbuch-replay", SAALBUCH_REPLAY_PATH), server);
  EXPECT_EQ(ExpectVersionLine("saalbuch-backup", SAALBUCH_BACKUP_PATH), server);
}

TEST_F(BuildInfoTest, MetricsCarryTheBuildInfoGaugeAndPassPromtool) {
  const std::string revision = ExpectVersionLine("saalbuchd", SAALBUCHD_PATH);
  Server server(dir_ / "data");
  server.Start();
  auto m =
      Call(server.port(), "GET", "/metrics", "", {{"Authorization", std::string("Bearer ") + kOperatorKey}});
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("# TYPE saalbuch_build_info gauge\n"), std::string::npos) << m.body;
  const std::string sample = std::string("\nsaalbuch_build_info{revision=\"") + revision + "\",version=\"" +
                             SAALBUCH_PROJECT_VERSION + "\"} 1\n";
  EXPECT_NE(m.body.find(sample), std::string::npos) << "no line " << sample << " in\n" << m.body;

  const auto file = dir_ / "metrics.txt";
  std::ofstream(file) << m.body;
  const Output promtool = RunCommand("promtool check metrics < '" + file.string() + "' 2>&1");
  EXPECT_EQ(promtool.exit_code, 0) << "promtool (from Debian's prometheus package) says: " << promtool.text;
}

}  // namespace
}  // namespace saalbuch::e2e
