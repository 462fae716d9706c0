// Unpacking the tar archives a template build's COPY steps upload (from any client holding an
// upload link), apart from the template store so it can be tested and fuzzed on its own.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.h"

namespace swarm::sandboxd {

// True for a non-empty relative path with no ".." component.
bool IsSafeRelativePath(const std::string& path);

// Extracts a tar (gzip or not) into `dir`, refusing absolute paths, "..", links that leave it,
// devices, FIFOs and set-id bits; at most `max_bytes` of content and `max_entries` entries.
Result<void> ExtractArchive(std::string_view archive, const std::string& dir, std::size_t max_bytes,
                            std::size_t max_entries = 10000);

}  // namespace swarm::sandboxd
