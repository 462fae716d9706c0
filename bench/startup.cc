// Time from exec of `agent-swarm api` to its first healthy GET /health, on a fresh database,
// and the server's resident memory once idle. Repeated R times; prints JSON.
//
//   AGENT_SWARM_API_KEY=... bench_startup build/agent-swarm 10
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace {

using Steady = std::chrono::steady_clock;

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// One GET /health on a new connection; true on a 200.
bool Healthy(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (write(fd, req, sizeof req - 1) == static_cast<ssize_t>(sizeof req - 1)) {
      char buf[64] = {};
      ok = read(fd, buf, sizeof buf - 1) > 12 && std::strncmp(buf + 9, "200", 3) == 0;
    }
  }
  close(fd);
  return ok;
}

long RssKb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || !std::getenv("AGENT_SWARM_API_KEY")) {
    std::cerr << "usage: AGENT_SWARM_API_KEY=... bench_startup AGENT_SWARM_BIN RUNS\n";
    return 2;
  }
  const std::string bin = argv[1];
  const int runs = std::max(1, std::atoi(argv[2]));
  std::vector<double> start_ms;
  std::vector<double> rss_mb;
  for (int i = 0; i < runs; ++i) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("swarm-bench-startup-" + std::to_string(getpid()) + "-" + std::to_string(i));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const int port = FreePort();
    std::vector<std::string> args = {
        bin, "api", "--port", std::to_string(port), "--db", (dir / "swarm.sqlite").string()};
    std::vector<char*> argv_c;
    for (auto& a : args) argv_c.push_back(a.data());
    argv_c.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    const auto exec_at = Steady::now();
    if (posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv_c.data(), environ) != 0) {
      std::cerr << "cannot run " << bin << "\n";
      return 1;
    }
    posix_spawn_file_actions_destroy(&actions);
    bool up = false;
    while (Steady::now() - exec_at < std::chrono::seconds(10)) {
      if (Healthy(port)) {
        up = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    const auto healthy_at = Steady::now();
    if (!up) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      std::cerr << "server did not become healthy\n";
      return 1;
    }
    start_ms.push_back(std::chrono::duration<double, std::milli>(healthy_at - exec_at).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // idle
    rss_mb.push_back(RssKb(pid) / 1024.0);
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    std::filesystem::remove_all(dir);
  }
  nlohmann::json out = {
      {"runs", runs},
      {"start_to_healthy_ms_median", Median(start_ms)},
      {"start_to_healthy_ms_max", *std::max_element(start_ms.begin(), start_ms.end())},
      {"idle_rss_mb_median", Median(rss_mb)}};
  std::cout << out.dump() << "\n";
  return 0;
}
