#include "sandbox/worker_entrypoint.h"

#include "sandbox/worker_launch.h"

namespace swarm::sandbox {

TemplateSpec LocalWorkerTemplate(std::string name) {
  TemplateSpec spec;
  spec.name = std::move(name);
  spec.from_image = "local";
  spec.cpu_count = 4;  // the worker template's defaults (upstream's: 4 CPU, 8 GB)
  spec.memory_mb = 8192;
  // As `e2b build-template --role worker`: the sandbox idles until start-worker (or the smoke
  // runner) starts the entrypoint.
  spec.start_cmd = "sleep infinity";
  spec.ready_cmd = "sleep 0";
  TemplateFile entrypoint;
  entrypoint.content = std::string(WorkerEntrypointScript());
  entrypoint.dest_path = kWorkerEntrypoint;
  entrypoint.mode = 0755;
  spec.files.push_back(std::move(entrypoint));
  return spec;
}

}  // namespace swarm::sandbox
