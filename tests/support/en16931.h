// The official EN 16931 validator (CII D16B XSD and the CEN/TC 434 rules),
// kept outside the repository at ../shared/validators/en16931 next to the
// repository's root. Each run starts a Java VM (seconds): validate several
// files with one call.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace saalbuch::testing_support {

// validate.sh, or empty when the validator is not there.
inline std::string En16931Validator() {
  const std::filesystem::path p = std::filesystem::path(SAALBUCH_TESTS_DIR) / ".." / ".." / "shared" /
                                  "validators" / "en16931" / "validate.sh";
  return std::filesystem::exists(p) ? p.lexically_normal().string() : std::string();
}

// Runs validate.sh on each file; adds a failure naming the file and the
// validator's report for each that has a fatal finding (or cannot be run).
// Returns how many passed.
inline int ExpectValidEn16931(const std::string& validator, const std::vector<std::string>& files) {
  int passed = 0;
  for (const std::string& f : files) {
    std::string report;
    FILE* p = ::popen(("sh '" + validator + "' '" + f + "' 2>&1").c_str(), "r");
    if (p == nullptr) {
      ADD_FAILURE() << "cannot start " << validator;
      continue;
    }
    std::array<char, 4096> buf{};
    for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;) report.append(buf.data(), n);
    const int rc = ::pclose(p);
    if (rc == 0 && report.find("EN 16931: 0 fatal") != std::string::npos) {
      ++passed;
    } else {
      ADD_FAILURE() << f << " is not a valid EN 16931 invoice (rc " << rc << "):\n" << report;
    }
  }
  return passed;
}

}  // namespace saalbuch::testing_support
