// Times in tests, written as RFC 3339 text.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "common/time.h"

namespace saalbuch::testing_support {

// The instant `rfc3339` names; a test failure (and 0) when it does not parse.
inline TimeUs T(std::string_view rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339 << ": " << t.status().ToString();
  return t.ok() ? *t : 0;
}

inline constexpr TimeUs kHour = 60 * kUsPerMinute;
inline constexpr TimeUs kDay = 24 * kHour;

}  // namespace saalbuch::testing_support
