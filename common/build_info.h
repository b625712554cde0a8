// The version and the source revision a program was built from, for
// --version and the saalbuch_build_info metric. The definitions are
// generated at every build (common/build_info.cmake) into a library of their
// own, build_info, which only the programs link: a new commit recompiles one
// file and relinks the programs, nothing else.
#pragma once

#include <string>
#include <string_view>

namespace saalbuch {

// The project version of CMakeLists.txt: "MAJOR.MINOR.PATCH".
std::string_view BuildVersion();

// The git revision of the source tree (`git rev-parse --short=12 HEAD`),
// with "-dirty" appended when tracked files differed from it; the CMake
// variable SAALBUCH_REVISION when set (a packager's build from a tarball);
// otherwise "unknown" (not a git checkout, or no git).
std::string_view BuildRevision();

// What --version prints: "<program> <version> (revision <revision>)".
inline std::string VersionLine(std::string_view program) {
  return std::string(program) + " " + std::string(BuildVersion()) + " (revision " +
         std::string(BuildRevision()) + ")";
}

}  // namespace saalbuch
