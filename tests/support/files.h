// Looking into the files of a data directory, as someone with the disk would.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace saalbuch::testing_support {

// Whether any file under `dir` contains `bytes`.
inline bool AnyFileContains(const std::filesystem::path& dir, const std::string& bytes) {
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (content.find(bytes) != std::string::npos) return true;
  }
  return false;
}

}  // namespace saalbuch::testing_support
