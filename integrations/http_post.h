// One HTTP(S) POST through libcurl, for the adapters that call out
// (payment provider, witnesses). Bounded: the answer is cut off at
// `max_bytes`, the whole call at `timeout_ms`. Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace saalbuch::integrations {

struct HttpAnswer {
  long status = 0;
  std::string content_type;
  std::string body;
};

// kUnavailable "answer larger than N bytes" for a longer answer, else
// kUnavailable with curl's words when no answer came.
Result<HttpAnswer> HttpPost(const std::string& url, std::string_view body,
                            const std::vector<std::string>& headers, long timeout_ms, std::size_t max_bytes);

}  // namespace saalbuch::integrations
