// The bodies of E2B's template build API as sandboxd reads them (e2b-wire.md §3): POST
// /v3/templates (the template's name and resources) and POST /v2/templates/{id}/builds/{build}
// (base, steps, start and ready commands). Read and checked before a build starts, so a
// malformed body is a 400 rather than a failure inside the build's thread, and testable and
// fuzzable without a store.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace swarm::sandboxd {

inline constexpr std::size_t kMaxBuildSteps = 1000;

struct TemplateRequest {
  std::string full_name;          // "name" or "name:tag"
  std::vector<std::string> tags;  // extra tags given in `tags`
  int cpu_count = 2;
  int memory_mb = 1024;
};
Result<TemplateRequest> ParseTemplateRequest(const nlohmann::json& body);

struct BuildStep {
  std::string type;  // COPY, ENV, WORKDIR, USER, RUN, …
  std::vector<std::string> args;
  std::string files_hash;  // COPY: the uploaded archive's hash (as FileLink accepts it)
};

struct BuildRequest {
  std::optional<std::string> from_template;  // else the image, recorded but not pulled
  std::string from_image = "e2bdev/base";
  std::vector<BuildStep> steps;
  std::optional<std::string> start_cmd;  // absent: the base template's
  std::optional<std::string> ready_cmd;
};
Result<BuildRequest> ParseBuildRequest(const nlohmann::json& body);

// A files hash as FileLink and the COPY steps accept it: it becomes a file name.
bool IsValidFilesHash(const std::string& hash);

}  // namespace swarm::sandboxd
