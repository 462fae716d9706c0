// The build version every role reports (GET /health, worker registration): the release version
// compiled in, stamped with the image's commit when the image sets AGENT_SWARM_BUILD_SHA
// (Dockerfile.worker does, from its GIT_SHA build argument). The smoke runner compares the
// API's with each worker's: the seed's version-alignment invariant.
#pragma once

#include <string>
#include <string_view>

namespace swarm {

// "0.1.0", or "0.1.0+<sha>" when `build_sha` is a plausible commit or tag ([A-Za-z0-9._-],
// 1..64 characters); anything else is ignored.
std::string BuildVersion(std::string_view build_sha);

// BuildVersion(getenv("AGENT_SWARM_BUILD_SHA")), read once.
const std::string& BuildVersion();

}  // namespace swarm
