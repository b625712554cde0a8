#include "integrations/http_post.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace saalbuch::integrations {
namespace {

struct Sink {
  std::string data;
  std::size_t max = 0;
  bool overflow = false;
};

std::size_t Collect(char* ptr, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t bytes = size * n;
  if (sink->data.size() + bytes > sink->max) {
    sink->overflow = true;
    return 0;  // makes curl abort the transfer with CURLE_WRITE_ERROR
  }
  sink->data.append(ptr, bytes);
  return bytes;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

Result<HttpAnswer> HttpPost(const std::string& url, std::string_view body,
                            const std::vector<std::string>& headers, long timeout_ms, std::size_t max_bytes) {
  // Since 7.84 curl_global_init is thread-safe on Linux; the once_flag keeps it to one call from here.
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Status(StatusCode::kUnavailable, "curl_easy_init failed");
  curl_slist* list = nullptr;
  for (const std::string& h : headers) {
    curl_slist* grown = curl_slist_append(list, h.c_str());
    if (grown == nullptr) {
      curl_slist_free_all(list);
      return Status(StatusCode::kUnavailable, "out of memory for request headers");
    }
    list = grown;
  }
  const std::unique_ptr<curl_slist, CurlDeleter> header_list(list);
  Sink sink{{}, max_bytes, false};
  char error[CURL_ERROR_SIZE] = {};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_bytes));
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for DNS timeouts in a threaded server
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  const CURLcode rc = curl_easy_perform(c);
  if (sink.overflow || rc == CURLE_FILESIZE_EXCEEDED)
    return Status(StatusCode::kUnavailable, "answer larger than " + std::to_string(max_bytes) + " bytes");
  if (rc != CURLE_OK)
    return Status(StatusCode::kUnavailable, std::string(error[0] != '\0' ? error : curl_easy_strerror(rc)));
  HttpAnswer a;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);
  char* type = nullptr;
  curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
  if (type != nullptr) a.content_type = type;
  a.body = std::move(sink.data);
  return a;
}

}  // namespace saalbuch::integrations
