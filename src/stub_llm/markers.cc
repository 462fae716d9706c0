#include "stub_llm/markers.h"

#include <cctype>
#include <charconv>
#include <string>
#include <utility>

#include "core/bounded_json.h"

namespace swarm::stub_llm {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The rest of the line after the first `name:` that starts a word, or nullopt.
std::optional<std::string_view> MarkerValue(std::string_view text, std::string_view name) {
  const std::string needle = std::string(name) + ":";
  for (std::size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + 1)) {
    if (at > 0 && IsWordChar(text[at - 1])) continue;
    std::string_view rest = text.substr(at + needle.size());
    return Trim(rest.substr(0, rest.find('\n')));
  }
  return std::nullopt;
}

// A leading decimal integer of `s` and what follows it, or nullopt.
std::optional<std::pair<long, std::string_view>> LeadingInt(std::string_view s) {
  long value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  return std::make_pair(value, Trim(s.substr(static_cast<std::size_t>(end - s.data()))));
}

}  // namespace

Result<Answer> ParseMarkers(std::string_view text) {
  Answer answer;
  if (auto v = MarkerValue(text, "REPLY")) answer.reply = std::string(*v);
  if (auto v = MarkerValue(text, "RUN_SHELL")) {
    if (v->empty()) return BadRequest("stub-llm: RUN_SHELL: needs a command");
    answer.shell = std::string(*v);
  }
  if (auto v = MarkerValue(text, "CALL_TOOL")) {
    const std::size_t space = v->find_first_of(" \t");
    ToolRequest call;
    call.name = std::string(v->substr(0, space));
    if (call.name.empty()) return BadRequest("stub-llm: CALL_TOOL: needs a tool name");
    const std::string_view args = space == std::string_view::npos ? "" : Trim(v->substr(space));
    if (!args.empty()) {
      auto parsed = ParseBoundedJson(args);
      if (parsed) call.arguments = std::move(*parsed);
      if (!parsed || !(call.arguments.is_object() || call.arguments.is_string())) {
        return BadRequest("stub-llm: CALL_TOOL: the arguments of " + call.name +
                          " are not a JSON object (or a JSON string for a freeform tool)");
      }
    }
    answer.tool = std::move(call);
  }
  if (auto v = MarkerValue(text, "MCP_CALL")) {
    const std::size_t space = v->find_first_of(" \t");
    ToolRequest call;
    call.name = std::string(v->substr(0, space));
    if (call.name.empty()) return BadRequest("stub-llm: MCP_CALL: needs a tool name");
    const std::string_view args = space == std::string_view::npos ? "" : Trim(v->substr(space));
    if (!args.empty()) {
      auto parsed = ParseBoundedJson(args);
      if (!parsed || !parsed->is_object()) {
        return BadRequest("stub-llm: MCP_CALL: the arguments of " + call.name +
                          " are not a JSON object");
      }
      call.arguments = std::move(*parsed);
    }
    answer.mcp = std::move(call);
  }
  if (auto v = MarkerValue(text, "MCP_RETRY")) {
    auto parsed = ParseBoundedJson(*v);
    if (!parsed || !parsed->is_object()) {
      return BadRequest(
          "stub-llm: MCP_RETRY: needs the arguments of the second call, a JSON object");
    }
    answer.mcp_retry = std::move(*parsed);
  }
  // A prompt asking for several calls gets the one it names most explicitly.
  if (answer.tool || answer.mcp) answer.shell.reset();
  if (answer.mcp) answer.tool.reset();
  if (auto v = MarkerValue(text, "HTTP_ERROR")) {
    auto status = LeadingInt(*v);
    if (!status || status->first < 400 || status->first > 599) {
      return BadRequest("stub-llm: HTTP_ERROR: needs a status from 400 to 599");
    }
    answer.status = static_cast<int>(status->first);
    if (!status->second.empty()) answer.error = std::string(status->second);
  }
  if (auto v = MarkerValue(text, "DELAY_MS")) {
    auto ms = LeadingInt(*v);
    if (!ms || ms->first < 0 || ms->first > kMaxDelay.count() || !ms->second.empty()) {
      return BadRequest("stub-llm: DELAY_MS: needs milliseconds from 0 to " +
                        std::to_string(kMaxDelay.count()));
    }
    answer.delay = std::chrono::milliseconds(ms->first);
  }
  return answer;
}

}  // namespace swarm::stub_llm
