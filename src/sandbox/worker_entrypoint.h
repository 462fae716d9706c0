// The worker image's /docker-entrypoint.sh (docker/docker-entrypoint.sh), built into the
// binary, and the local worker template made from it: sandboxd runs sandboxes over this
// machine's root, so the template only adds the entrypoint the image has. The API's embedded
// sandboxd and `agent-swarm smoke --local` build it, wherever the binary runs.
#pragma once

#include <string>
#include <string_view>

#include "sandbox/template_client.h"

namespace swarm::sandbox {

std::string_view WorkerEntrypointScript();

// A template named `name` for sandboxd: image "local" (sandboxd has no container runtime),
// /docker-entrypoint.sh from WorkerEntrypointScript() (mode 0755), the worker's default size.
TemplateSpec LocalWorkerTemplate(std::string name);

}  // namespace swarm::sandbox
