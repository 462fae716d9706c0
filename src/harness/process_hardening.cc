#include "harness/process_hardening.h"

#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
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

// Switching the CLI to another user takes handing it the task directory (CAP_CHOWN), setting
// its groups and ids (CAP_SETGID, CAP_SETUID) and cleaning up what it wrote
// (CAP_DAC_OVERRIDE). A root whose capabilities were dropped (a local sandbox runs every
// command so) has none of them.
bool CanSwitchUsers() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  for (int cap : {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_SETGID, CAP_SETUID}) {
    if ((data[cap / 32].effective & (1u << (cap % 32))) == 0) return false;
  }
  return true;
}

}  // namespace

Result<void> HardenProcess() {
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return Internal(std::string("prctl(PR_SET_DUMPABLE): ") + std::strerror(errno));
  }
  return {};
}

Result<std::optional<RunAs>> ResolveCliUser(const std::optional<std::string>& name) {
  if (::geteuid() != 0 || !CanSwitchUsers()) return std::optional<RunAs>{};
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
