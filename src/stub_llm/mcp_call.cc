#include "stub_llm/mcp_call.h"

#include <cctype>

#include "core/bounded_json.h"

namespace swarm::stub_llm {
namespace {

using nlohmann::json;

char Fold(char c) { return c == '-' ? '_' : c; }

bool EqualFolded(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Fold(a[i]) != Fold(b[i])) return false;
  }
  return true;
}

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

bool McpNameMatches(std::string_view offered, std::string_view mcp_name) {
  if (mcp_name.empty()) return false;
  if (EqualFolded(offered, mcp_name)) return true;
  if (offered.size() <= mcp_name.size()) return false;
  const std::size_t at = offered.size() - mcp_name.size();
  return Fold(offered[at - 1]) == '_' && EqualFolded(offered.substr(at), mcp_name);
}

const OfferedTool* FindMcpTool(const ChatRequest& request, std::string_view mcp_name) {
  for (const auto& tool : request.tools) {
    if (!tool.freeform && EqualFolded(tool.name, mcp_name)) return &tool;
  }
  for (const auto& tool : request.tools) {
    if (!tool.freeform && McpNameMatches(tool.name, mcp_name)) return &tool;
  }
  return nullptr;
}

int CountMcpCalls(const ChatRequest& request, std::string_view mcp_name) {
  int n = 0;
  for (const auto& call : request.calls_since_prompt) {
    if (McpNameMatches(call, mcp_name)) ++n;
  }
  return n;
}

bool ReplaceTaskId(json& args, std::string_view task_id) {
  bool found = false;
  if (args.is_string()) {
    std::string& s = args.get_ref<std::string&>();
    for (std::size_t at = s.find(kTaskIdPlaceholder); at != std::string::npos;
         at = s.find(kTaskIdPlaceholder, at)) {
      found = true;
      if (task_id.empty()) break;
      s.replace(at, kTaskIdPlaceholder.size(), task_id);
      at += task_id.size();
    }
  } else if (args.is_structured()) {
    for (auto& value : args) found = ReplaceTaskId(value, task_id) || found;
  }
  return found;
}

std::string TaskIdIn(std::string_view text) {
  constexpr std::string_view kLabel = "Task ID:";
  constexpr std::string_view kOpening = "\"'`<([{";
  constexpr std::string_view kClosing = "\"'`>)]}.,;:!?";
  for (std::size_t at = text.find(kLabel); at != std::string_view::npos;
       at = text.find(kLabel, at + 1)) {
    std::string_view rest = text.substr(at + kLabel.size());
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    std::size_t end = 0;
    while (end < rest.size() && !IsSpace(rest[end])) ++end;
    std::string_view id = rest.substr(0, end);
    while (!id.empty() && kOpening.find(id.front()) != std::string_view::npos) id.remove_prefix(1);
    while (!id.empty() && kClosing.find(id.back()) != std::string_view::npos) id.remove_suffix(1);
    if (!id.empty()) return std::string(id);
  }
  return "";
}

bool LooksLikeToolError(std::string_view text) {
  text = TrimSpace(text);
  // codex sends a tool's output as one string under a header of its own:
  // "Wall time: 0.0043 seconds\nOutput:\n<output>".
  if (text.starts_with("Wall time:")) {
    constexpr std::string_view kOutput = "\nOutput:";
    const std::size_t at = text.find(kOutput);
    if (at != std::string_view::npos) text = TrimSpace(text.substr(at + kOutput.size()));
  }
  if (text.starts_with("Error") || text.starts_with("ERR")) return true;
  // codex gives the model an MCP result's structuredContent instead of its text, and no error
  // flag: the API's refusals say {"success": false, ...} there.
  if (!text.starts_with("{")) return false;
  auto parsed = ParseBoundedJson(text);
  if (!parsed || !parsed->is_object()) return false;
  const auto success = parsed->find("success");
  const auto is_error = parsed->find("isError");
  return (success != parsed->end() && *success == false) ||
         (is_error != parsed->end() && *is_error == true);
}

}  // namespace swarm::stub_llm
