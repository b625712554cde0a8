// The official EN 16931 validation artefacts (the CII D16B XSD and the
// CEN/TC 434 rules compiled to XSLT), kept outside the repository at
// ../shared/validators/en16931 next to the repository's root, run the way
// its validate.sh runs them: xmllint for the schema, Saxon-HE for the rules,
// a failed assertion not flagged "warning" is fatal. Each Saxon run starts a
// Java VM and compiles the rules (seconds), so all files go through one
// xmllint and one Saxon run (Saxon transforms a whole directory).
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <pugixml.hpp>
#include <string>
#include <vector>

#include "tests/support/scratch_dir.h"

namespace saalbuch::testing_support {

// validate.sh, or empty when the validator is not there.
inline std::string En16931Validator() {
  const std::filesystem::path p = std::filesystem::path(SAALBUCH_TESTS_DIR) / ".." / ".." / "shared" /
                                  "validators" / "en16931" / "validate.sh";
  return std::filesystem::exists(p) ? p.lexically_normal().string() : std::string();
}

// `command`'s exit code and standard output with standard error.
inline int RunCapturing(const std::string& command, std::string* output) {
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  std::array<char, 4096> buf{};
  for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;) output->append(buf.data(), n);
  return ::pclose(p);
}

// The fatal findings of one SVRL report ("id: text" each), or one line
// saying why the report cannot be read.
inline std::vector<std::string> FatalFindings(const std::filesystem::path& svrl) {
  pugi::xml_document doc;
  if (!doc.load_file(svrl.c_str())) return {"no readable report " + svrl.string()};
  std::vector<std::string> out;
  for (const pugi::xpath_node& n : doc.select_nodes("//*[local-name()='failed-assert']")) {
    const pugi::xml_node a = n.node();
    if (std::string(a.attribute("flag").value()) == "warning") continue;
    out.push_back(std::string(a.attribute("id").value()) + ": " +
                  a.select_node("*[local-name()='text']").node().text().get());
  }
  return out;
}

// Validates each file with the artefacts next to `validator`; adds a
// failure naming the file and what is wrong for each that breaks the
// schema or a rule (and one if the tools cannot run). Returns how many
// passed.
inline int ExpectValidEn16931(const std::string& validator, const std::vector<std::string>& files) {
  namespace fs = std::filesystem;
  if (files.empty()) return 0;
  const fs::path here = fs::path(validator).parent_path();
  const ScratchDir scratch;
  const fs::path work = scratch.path();
  fs::create_directories(work / "in");
  fs::create_directories(work / "out");
  // Copies named by position: the names the reports come back under.
  std::string listed;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const fs::path copy = work / "in" / (std::to_string(i) + ".xml");
    fs::copy_file(files[i], copy);
    listed += " '" + copy.string() + "'";
  }
  std::map<std::size_t, std::string> broken;  // file → what is wrong
  std::string report;
  const int schema =
      RunCapturing("xmllint --noout --schema '" +
                       (here / "cii-schema" / "CrossIndustryInvoice_100pD16B.xsd").string() + "'" + listed,
                   &report);
  if (schema != 0) {
    for (std::size_t i = 0; i < files.size(); ++i) {
      const std::string copy = (work / "in" / (std::to_string(i) + ".xml")).string();
      if (report.find(copy + " fails to validate") == std::string::npos) continue;
      std::string& what = broken[i] = "CII D16B schema:\n";
      for (std::size_t at = report.find(copy + ":"); at != std::string::npos;
           at = report.find(copy + ":", at + 1)) {
        what += files[i] + report.substr(at + copy.size(), report.find('\n', at) - at - copy.size()) + "\n";
      }
    }
    if (broken.empty()) ADD_FAILURE() << "xmllint could not run (rc " << schema << "):\n" << report;
  }
  report.clear();
  const int rules = RunCapturing("java -jar /usr/share/java/Saxon-HE.jar -s:'" + (work / "in").string() +
                                     "' -xsl:'" + (here / "EN16931-CII-validation.xslt").string() + "' -o:'" +
                                     (work / "out").string() + "'",
                                 &report);
  if (rules != 0)
    ADD_FAILURE() << "Saxon-HE could not run the EN 16931 rules (rc " << rules << "):\n" << report;
  int passed = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::string wrong = broken.count(i) != 0 ? broken[i] : std::string();
    if (rules == 0) {
      for (const std::string& f : FatalFindings(work / "out" / (std::to_string(i) + ".xml"))) {
        wrong += "fatal " + f + "\n";
      }
    }
    if (wrong.empty() && rules == 0) {
      ++passed;
    } else if (!wrong.empty()) {
      ADD_FAILURE() << files[i] << " is not a valid EN 16931 invoice:\n" << wrong;
    }
  }
  return passed;
}

}  // namespace saalbuch::testing_support
