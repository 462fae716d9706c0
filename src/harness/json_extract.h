// Finding the JSON value in a model's final reply. Asked for "only JSON", models still wrap
// it in prose or a ```json fence now and then; the server judges the value against the schema,
// so here we only find the most likely candidate.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace swarm::harness {

// The JSON text in `text`, verbatim: the whole (trimmed) text if it parses; else the first
// ```json fenced block that parses; else the first balanced {...} or [...] that parses.
// nullopt when there is none.
std::optional<std::string> ExtractJsonValue(std::string_view text);

}  // namespace swarm::harness
