// The body of POST /sandboxes and /v2/sandboxes (E2B's NewSandbox) read into a CreateRequest,
// apart from the handler so it can be tested and fuzzed without a registry.
#pragma once

#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "sandboxd/registry.h"

namespace swarm::sandboxd {

// `v2`: the /v2 endpoint, whose sandboxes are always secure and live 300 s by default (15 s on
// v1), as on E2B. Errors are kBadRequest with a message for the caller; the timeout's range is
// the registry's to check.
Result<CreateRequest> ParseCreateRequest(const nlohmann::json& body, bool v2);

// An optional integer field of a control-plane body: absent or null is nullopt, anything but
// an integer a 400 naming the field.
Result<std::optional<int64_t>> IntField(const nlohmann::json& body, const char* name);

}  // namespace swarm::sandboxd
