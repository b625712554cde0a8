// The files of web/ (the widget, the pages Saalbuch hosts and their styles),
// built into saalbuchd by embed_web.cmake.
#pragma once

#include <span>
#include <string_view>

namespace saalbuch::http {

struct WebAsset {
  std::string_view name;          // path under web/, e.g. "widget/saalbuch.js"
  std::string_view content_type;  // with charset for text
  std::string_view hash;          // 16 hex digits of the SHA-256 of `body`
  std::string_view body;
  std::string_view gzip;  // `body` gzip-compressed
};

std::span<const WebAsset> WebAssets();

}  // namespace saalbuch::http
