#include "harness/process_hardening.h"

#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

namespace swarm::harness {
namespace {

constexpr char kDefaultCliUser[] = "agent-swarm-cli";
constexpr char kFallbackCliUser[] = "nobody";

std::optional<RunAs> LookUp(const std::string& name) {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwnam_r(name.c_str(), &entry, buf.data(), buf.size(), &found) != 0 || !found) {
    return std::nullopt;
  }
  return RunAs{name, found->pw_uid, found->pw_gid};
}

Result<void> Chown(const std::filesystem::path& path, const RunAs& user) {
  if (::lchown(path.c_str(), user.uid, user.gid) != 0) {
    return Internal("cannot hand " + path.string() + " to user " + user.name + ": " +
                    std::strerror(errno));
  }
  return {};
}

}  // namespace

Result<void> HardenProcess() {
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return Internal(std::string("prctl(PR_SET_DUMPABLE): ") + std::strerror(errno));
  }
  return {};
}

Result<std::optional<RunAs>> ResolveCliUser(const std::optional<std::string>& name) {
  if (::geteuid() != 0) return std::optional<RunAs>{};
  std::optional<RunAs> user;
  if (name && !name->empty()) {
    user = LookUp(*name);
    if (!user) return BadRequest("WORKER_CLI_USER: no such user: " + *name);
  } else {
    user = LookUp(kDefaultCliUser);
    if (!user) user = LookUp(kFallbackCliUser);
    if (!user) {
      return BadRequest(std::string("running as root, the CLI needs an unprivileged user: "
                                    "neither ") +
                        kDefaultCliUser + " nor " + kFallbackCliUser +
                        " exists; set WORKER_CLI_USER");
    }
  }
  if (user->uid == 0) return std::optional<RunAs>{};
  return user;
}

Result<void> ChownTree(const std::filesystem::path& path, const RunAs& user) {
  if (auto done = Chown(path, user); !done) return done;
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(path, std::filesystem::directory_options::none,
                                                   ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (auto done = Chown(it->path(), user); !done) return done;
  }
  if (ec) return Internal("cannot walk " + path.string() + ": " + ec.message());
  return {};
}

}  // namespace swarm::harness
