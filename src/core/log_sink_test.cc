#include "core/log_sink.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace swarm::log {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

std::string Line(int i) {
  return "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(180, 'p') + "\"}\n";
}

// Reads whatever the pipe holds until `needle` shows up or `bound` passes.
std::string ReadUntil(int fd, const std::string& needle, std::chrono::milliseconds bound) {
  std::string out;
  const auto deadline = SteadyClock::now() + bound;
  while (out.find(needle) == std::string::npos && SteadyClock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[65536];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// Restores the default SIGPIPE action for one test, so a write that raised it would end the
// test binary (another test in this binary ignores SIGPIPE for the whole process).
class DefaultSigpipe {
 public:
  DefaultSigpipe() {
    ::sigaction(SIGPIPE, nullptr, &saved_);
    std::signal(SIGPIPE, SIG_DFL);
  }
  ~DefaultSigpipe() { ::sigaction(SIGPIPE, &saved_, nullptr); }

 private:
  struct sigaction saved_ {};
};

TEST(AsyncFdWriterTest, WritesLinesInOrder) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  {
    AsyncFdWriter writer(fds[1]);
    writer.Write("one\n");
    writer.Write("two\nthree\n");
    EXPECT_TRUE(writer.Drain(2s));
    EXPECT_EQ(ReadUntil(fds[0], "three\n", 2s), "one\ntwo\nthree\n");
    EXPECT_EQ(writer.dropped_lines(), 0u);
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(AsyncFdWriterTest, APipeNobodyReadsNeverBlocksTheCallerAndDropsAreReportedLater) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  {
    AsyncFdWriter writer(fds[1], /*max_queued_bytes=*/64 * 1024);
    // 4 MB of lines into a 64 KiB pipe that nobody reads: the writer thread blocks, callers
    // do not.
    const int kLines = 20'000;
    const auto start = SteadyClock::now();
    auto slowest = SteadyClock::duration::zero();
    for (int i = 0; i < kLines; ++i) {
      const auto before = SteadyClock::now();
      writer.Write(Line(i));
      slowest = std::max(slowest, SteadyClock::now() - before);
    }
    EXPECT_LT(SteadyClock::now() - start, 2s);
    EXPECT_LT(slowest, 100ms);
    const uint64_t dropped = writer.dropped_lines();
    EXPECT_GT(dropped, 0u);
    EXPECT_LT(dropped, static_cast<uint64_t>(kLines));

    // The reader comes back: what was queued arrives, then one line saying what was lost,
    // then the next line.
    std::string out;
    std::thread reader([&] { out = ReadUntil(fds[0], "marker\n", 5s); });
    EXPECT_TRUE(writer.Drain(5s));
    writer.Write("marker\n");
    reader.join();
    // Every dropped line is reported, each in one notice written when a write worked again
    // (a notice may also go out between two stalls while the pipe filled up).
    const std::string kNotice = "\"msg\":\"log lines dropped\",\"count\":";
    uint64_t reported = 0;
    std::size_t last_notice = std::string::npos;
    for (std::size_t at = out.find(kNotice); at != std::string::npos;
         at = out.find(kNotice, at + 1)) {
      reported += std::stoull(out.substr(at + kNotice.size()));
      last_notice = at;
    }
    ASSERT_NE(last_notice, std::string::npos) << out.substr(0, 300);
    EXPECT_EQ(reported, writer.dropped_lines());
    EXPECT_NE(out.find("marker\n", last_notice), std::string::npos);
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(AsyncFdWriterTest, AClosedPipeDropsLinesWithoutSigpipe) {
  DefaultSigpipe default_action;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);  // nobody will ever read
  {
    AsyncFdWriter writer(fds[1]);
    const auto start = SteadyClock::now();
    for (int i = 0; i < 100; ++i) writer.Write(Line(i));
    EXPECT_LT(SteadyClock::now() - start, 500ms);
    EXPECT_TRUE(writer.Drain(2s));
    // Alive (a SIGPIPE would have ended the binary) and every line counted as lost.
    EXPECT_EQ(writer.dropped_lines(), 100u);
  }
  ::close(fds[1]);
}

TEST(AsyncFdWriterTest, AClosedDescriptorDropsLines) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  ::close(fds[1]);
  AsyncFdWriter writer(fds[1]);  // EBADF
  writer.Write("a\nb\n");
  EXPECT_TRUE(writer.Drain(2s));
  EXPECT_EQ(writer.dropped_lines(), 2u);
}

}  // namespace
}  // namespace swarm::log
