#include "http/client.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string_view>

#include <curl/curl.h>

namespace swarm::http {
namespace {

// curl_global_init is not thread-safe in every libcurl build: a function-local static runs it
// exactly once, before the first handle exists. It runs with the first request, not when a
// client is made: it initialises the TLS library (about 2 MB of memory), which an API whose
// smoke runs never come does not need.
void EnsureCurlGlobalInit() {
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)init;
}

// One easy handle per thread, kept for the thread's life: it owns the connection cache, so
// consecutive requests to the same host reuse the keep-alive connection.
class ThreadHandle {
 public:
  ThreadHandle() : handle_(curl_easy_init()) {}
  ~ThreadHandle() {
    if (handle_ != nullptr) curl_easy_cleanup(handle_);
  }
  ThreadHandle(const ThreadHandle&) = delete;
  ThreadHandle& operator=(const ThreadHandle&) = delete;
  CURL* get() const { return handle_; }

 private:
  CURL* handle_;
};

CURL* HandleForThisThread() {
  EnsureCurlGlobalInit();
  thread_local ThreadHandle handle;
  return handle.get();
}

// Returns the handle to a clean state after every call (options pointing at this call's
// locals included), while keeping its connections, DNS and TLS session caches.
class ResetOnExit {
 public:
  ResetOnExit(CURL* handle, curl_slist* headers) : handle_(handle), headers_(headers) {}
  ~ResetOnExit() {
    curl_easy_reset(handle_);
    curl_slist_free_all(headers_);
  }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;
  void set_headers(curl_slist* headers) { headers_ = headers; }

 private:
  CURL* handle_;
  curl_slist* headers_;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  try {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
  } catch (...) {
    return 0;  // makes curl fail the transfer; exceptions must not cross C code
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  const size_t total = size * count;
  try {
    auto* headers = static_cast<HeaderList*>(user);
    std::string_view line(data, total);
    if (line.rfind("HTTP/", 0) == 0) {
      // A new status line (after "100 Continue"): only the final response's headers count.
      headers->clear();
      return total;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return total;  // the blank line ending the header
    std::string name(Trim(line.substr(0, colon)));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    headers->emplace_back(std::move(name), std::string(Trim(line.substr(colon + 1))));
    return total;
  } catch (...) {
    return 0;
  }
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// Where a streamed body goes: to the sink while the status is 2xx, else into the response
// (an error body, read whole).
struct StreamTarget {
  CURL* curl;
  const BodySink* sink;
  ClientResponse* response;
  bool stopped = false;  // the sink asked to stop
};

size_t OnStreamBody(char* data, size_t size, size_t count, void* user) {
  auto* target = static_cast<StreamTarget*>(user);
  const size_t total = size * count;
  try {
    long status = 0;
    curl_easy_getinfo(target->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
      target->response->body.append(data, total);
      return total;
    }
    if (!(*target->sink)(std::string_view(data, total))) {
      target->stopped = true;
      return 0;  // ends the transfer with CURLE_WRITE_ERROR, which the caller expects
    }
    return total;
  } catch (...) {
    return 0;
  }
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancel = static_cast<const std::atomic<bool>*>(user);
  return cancel->load() ? 1 : 0;  // non-zero aborts with CURLE_ABORTED_BY_CALLBACK
}

}  // namespace

Result<ClientResponse> HttpClient::SendStreaming(const ClientRequest& request,
                                                 const BodySink& sink) {
  auto response = Send(request);
  if (response && response->status >= 200 && response->status <= 299) {
    if (!response->body.empty()) sink(response->body);
    response->body.clear();
  }
  return response;
}

CurlHttpClient::CurlHttpClient() = default;

Result<ClientResponse> CurlHttpClient::Send(const ClientRequest& request) {
  return Perform(request, nullptr);
}

Result<ClientResponse> CurlHttpClient::SendStreaming(const ClientRequest& request,
                                                     const BodySink& sink) {
  return Perform(request, &sink);
}

Result<ClientResponse> CurlHttpClient::Perform(const ClientRequest& request, const BodySink* sink) {
  const std::string what = request.method + " " + request.url;
  CURL* curl = HandleForThisThread();
  if (curl == nullptr) return Unavailable(what + ": cannot create a curl handle");
  ResetOnExit reset(curl, nullptr);

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    // A line break would smuggle a header in; the value itself is never echoed (secrets).
    if (HasLineBreak(name) || HasLineBreak(value)) {
      return Internal(what + ": a request header contains a line break");
    }
    // "Name;" is curl's spelling of a header with an empty value.
    std::string line = value.empty() ? name + ";" : name + ": " + value;
    headers = curl_slist_append(headers, line.c_str());
    reset.set_headers(headers);
  }
  // No "Expect: 100-continue" round trip before larger bodies.
  headers = curl_slist_append(headers, "Expect:");
  reset.set_headers(headers);

  ClientResponse response;
  char error_text[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  // Timeouts through signals are not thread-safe.
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  // A stream may run unbounded, but reaching the server may not.
  if (request.timeout.count() == 0) curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  StreamTarget target{curl, sink, &response};
  if (sink != nullptr) {
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnStreamBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &target);
  } else {
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  }
  if (request.stall_timeout.count() > 0) {
    // Under one byte a second for the whole window counts as stalled.
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(std::max<int64_t>(1, request.stall_timeout.count() / 1000)));
  }
  if (request.cancel != nullptr) {
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, request.cancel);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  }
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);

  if (request.method == "GET" && request.body.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    if (!request.body.empty() || request.method == "POST") {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    }
    // POSTFIELDS makes curl send POST; any other method overrides the verb only.
    if (request.method != "POST") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  }

  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_WRITE_ERROR && target.stopped) rc = CURLE_OK;  // the sink had enough
  if (rc == CURLE_ABORTED_BY_CALLBACK) return Unavailable(what + ": cancelled");
  if (rc != CURLE_OK) {
    std::string reason = error_text[0] != '\0' ? error_text : curl_easy_strerror(rc);
    return Unavailable(what + ": " + reason);
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace swarm::http
