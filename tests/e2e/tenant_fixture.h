// A fixture for end-to-end tests of one tenant's routes: the real saalbuchd
// on a fresh data directory with tenant "gemeinde" and its admin, staff and
// finance keys; writes that must succeed, and reads that have seen them.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"

namespace saalbuch::e2e {

class TenantServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir(::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name());
    server_ = std::make_unique<Server>(dir_ / "data", ServerArgs());
    server_->Start();
    auto t =
        CallJson(Port(), "POST", "/v1/tenants", {{"id", "gemeinde"}, {"name", "Gemeinde"}}, kOperatorKey);
    ASSERT_EQ(t.status, 201) << t.body;
    admin_ = t.json()["admin_key"]["key"];
    finance_ = Must("POST", "/keys", {{"role", "finance"}}, admin_)["key"];
    staff_ = Must("POST", "/keys", {{"role", "staff"}}, admin_)["key"];
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  int Port() const { return server_->port(); }
  // saalbuchd's flags beyond the harness's.
  virtual std::vector<std::string> ServerArgs() const { return {}; }

  // `method` on the tenant's `path`; the reply must be 200 or 201. Its
  // position is what later reads wait for.
  nlohmann::json Must(const std::string& method, const std::string& path, const nlohmann::json& body,
                      const std::string& key) {
    auto r = CallJson(Port(), method, "/v1/tenants/gemeinde" + path, body, key);
    if (!r.header("saalbuch-position").empty()) position_ = r.header("saalbuch-position");
    EXPECT_TRUE(r.status == 200 || r.status == 201)
        << method << " " << path << ": " << r.status << " " << r.body;
    return r.json();
  }
  // A GET of the tenant's `path` that has seen every write so far.
  HttpResult Fetch(const std::string& path, const std::string& key) {
    const std::string sep = path.find('?') == std::string::npos ? "?" : "&";
    std::map<std::string, std::string> h;
    if (!key.empty()) h["Authorization"] = "Bearer " + key;
    return Call(Port(), "GET", "/v1/tenants/gemeinde" + path + sep + "min_position=" + position_, "", h);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
  std::string admin_, staff_, finance_, position_ = "0";
};

}  // namespace saalbuch::e2e
