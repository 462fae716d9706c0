#include "stub_llm/tool_args.h"

#include <array>
#include <cctype>
#include <string>

namespace swarm::stub_llm {
namespace {

using nlohmann::json;

// Shell tools of the CLIs stub-llm serves, and of other common agents, best first.
constexpr std::array<std::string_view, 10> kShellToolNames = {
    "bash",        "exec_command",      "shell",           "shell_command",
    "local_shell", "run_shell_command", "execute_command", "run_terminal_cmd",
    "run_command", "terminal"};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

const json& Properties(const json& schema) {
  static const json kEmpty = json::object();
  if (!schema.is_object()) return kEmpty;
  auto it = schema.find("properties");
  return it != schema.end() && it->is_object() ? *it : kEmpty;
}

// The declared type; for a union such as ["string", "null"] the first that is not null.
std::string TypeOf(const json& property) {
  if (!property.is_object()) return "";
  auto it = property.find("type");
  if (it == property.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    for (const auto& t : *it) {
      if (t.is_string() && t.get<std::string>() != "null") return t.get<std::string>();
    }
  }
  return "";
}

bool IsProseField(std::string_view name) {
  return name == "description" || name == "justification" || name == "reason" ||
         name == "explanation" || name == "title" || name == "summary";
}

json NeutralValue(std::string_view name, const json& property) {
  if (property.is_object()) {
    if (auto it = property.find("default"); it != property.end()) return *it;
    if (auto it = property.find("const"); it != property.end()) return *it;
    if (auto it = property.find("enum"); it != property.end() && it->is_array() && !it->empty()) {
      return (*it)[0];
    }
  }
  const std::string type = TypeOf(property);
  if (type == "string")
    return IsProseField(name) ? "Run the shell command the prompt asked for" : "";
  if (type == "integer" || type == "number") {
    if (auto it = property.find("minimum"); it != property.end() && it->is_number()) return *it;
    return 1;
  }
  if (type == "boolean") return false;
  if (type == "array") return json::array();
  if (type == "object") {
    json nested = json::object();
    FillRequired(property, nested);
    return nested;
  }
  return nullptr;
}

}  // namespace

const OfferedTool* FindShellTool(const ChatRequest& request) {
  for (std::string_view known : kShellToolNames) {
    for (const auto& tool : request.tools) {
      if (!tool.freeform && EqualsIgnoreCase(tool.name, known)) return &tool;
    }
  }
  for (const auto& tool : request.tools) {
    const json& props = Properties(tool.schema);
    if (!tool.freeform && (props.contains("command") || props.contains("cmd"))) return &tool;
  }
  return nullptr;
}

json ShellArguments(const OfferedTool& tool, std::string_view command) {
  json args = json::object();
  const json& props = Properties(tool.schema);
  std::string field = "command";
  if (!props.contains("command") && props.contains("cmd")) field = "cmd";
  if (props.contains(field) && TypeOf(props[field]) == "array") {
    args[field] = json::array({"bash", "-lc", command});
  } else {
    args[field] = command;
  }
  FillRequired(tool.schema, args);
  return args;
}

void FillRequired(const json& schema, json& args) {
  if (!schema.is_object() || !args.is_object()) return;
  auto required = schema.find("required");
  if (required == schema.end() || !required->is_array()) return;
  const json& props = Properties(schema);
  for (const auto& name : *required) {
    if (!name.is_string()) continue;
    const std::string key = name.get<std::string>();
    if (args.contains(key)) continue;
    args[key] = NeutralValue(key, props.contains(key) ? props[key] : json());
  }
}

}  // namespace swarm::stub_llm
