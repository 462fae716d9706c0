// Test support: an HttpServer listening on a loopback port chosen by the OS, its io_context run
// by two background threads, the way the real process runs it. Header-only, for *_test.cc.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "http/server.h"

namespace swarm::http::test_support {

class TestServer {
 public:
  TestServer(ServerOptions options, Handler handler, AccessLogger access_log = nullptr)
      : server_(io_, std::move(options), std::move(handler), std::move(access_log)) {
    auto port = server_.Listen();
    if (!port) throw std::runtime_error("listen: " + port.error().message);
    port_ = *port;
    for (int i = 0; i < 2; ++i) threads_.emplace_back(&TestServer::Run, this);
  }
  ~TestServer() { Stop(); }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  HttpServer& server() { return server_; }
  uint16_t port() const { return port_; }
  std::string Url(const std::string& target) const {
    return "http://127.0.0.1:" + std::to_string(port_) + target;
  }

  // Waits up to `bound` for both io threads to return from run(), which they do once the
  // server holds no more work. On timeout, stops the io_context so the test can end.
  bool WaitForIoThreads(std::chrono::milliseconds bound) {
    bool returned;
    {
      std::unique_lock lock(mu_);
      returned = cv_.wait_for(lock, bound, [this] { return finished_ == threads_.size(); });
    }
    if (!returned) io_.stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    return returned;
  }

  // BeginShutdown and wait (bounded) for the io threads. Returns whether they returned on
  // their own.
  bool Stop(std::chrono::milliseconds bound = std::chrono::seconds(10)) {
    server_.BeginShutdown();
    return WaitForIoThreads(bound);
  }

 private:
  void Run() {
    io_.run();
    std::lock_guard lock(mu_);
    ++finished_;
    cv_.notify_all();
  }

  boost::asio::io_context io_{2};
  HttpServer server_;
  uint16_t port_ = 0;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t finished_ = 0;
};

// Polls `predicate` until it holds or `bound` passes.
template <typename Predicate>
bool WaitUntil(Predicate predicate, std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace swarm::http::test_support
