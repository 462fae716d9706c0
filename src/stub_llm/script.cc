#include "stub_llm/script.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/bounded_json.h"
#include "stub_llm/markers.h"
#include "stub_llm/mcp_call.h"
#include "stub_llm/tool_args.h"

namespace swarm::stub_llm {
namespace {

using nlohmann::json;

constexpr std::string_view kRuleKeys[] = {"match", "times", "needsTools", "reply",
                                          "shell", "tool",  "mcp",        "status",
                                          "error", "retry", "delayMs",    "comment"};
constexpr std::string_view kMcpKeys[] = {"tool", "arguments", "retryArguments", "comment"};

// The log shows the start of long texts only: a reply can be a whole document.
constexpr std::size_t kLoggedTextBytes = 200;

Result<std::string> StringField(const json& object, const char* key, const std::string& where) {
  const json& v = object.at(key);
  if (!v.is_string()) return BadRequest(where + ": " + key + " must be a string");
  return v.get<std::string>();
}

Result<long> IntField(const json& object, const char* key, const std::string& where, long min,
                      long max) {
  const json& v = object.at(key);
  if (!v.is_number_integer() || v.get<long>() < min || v.get<long>() > max) {
    return BadRequest(where + ": " + key + " must be an integer from " + std::to_string(min) +
                      " to " + std::to_string(max));
  }
  return v.get<long>();
}

Result<ToolRequest> ToolField(const json& object, const std::string& where) {
  const json& v = object.at("tool");
  if (!v.is_object() || !v.contains("name") || !v["name"].is_string() ||
      v["name"].get<std::string>().empty()) {
    return BadRequest(where + ": tool must be an object with a name");
  }
  ToolRequest call;
  call.name = v["name"].get<std::string>();
  if (v.contains("arguments")) {
    call.arguments = v["arguments"];
    if (!call.arguments.is_object() && !call.arguments.is_string()) {
      return BadRequest(where +
                        ": tool.arguments must be an object (a string for a freeform tool)");
    }
  }
  return call;
}

// A rule's `mcp` {tool, arguments?, retryArguments?} as the Answer fields the markers set.
Result<void> McpField(const json& object, const std::string& where, Answer& a) {
  const json& v = object.at("mcp");
  if (!v.is_object()) {
    return BadRequest(where + ": mcp must be an object {tool, arguments?, retryArguments?}");
  }
  for (const auto& [key, value] : v.items()) {
    if (std::find(std::begin(kMcpKeys), std::end(kMcpKeys), key) == std::end(kMcpKeys)) {
      return BadRequest(where + ": unknown field mcp." + key);
    }
  }
  auto tool = v.find("tool");
  if (tool == v.end() || !tool->is_string() || tool->get<std::string>().empty()) {
    return BadRequest(where + ": mcp.tool must be the MCP tool name (store-progress)");
  }
  ToolRequest call;
  call.name = tool->get<std::string>();
  if (auto args = v.find("arguments"); args != v.end()) {
    if (!args->is_object()) return BadRequest(where + ": mcp.arguments must be an object");
    call.arguments = *args;
  }
  if (auto retry = v.find("retryArguments"); retry != v.end()) {
    if (!retry->is_object()) return BadRequest(where + ": mcp.retryArguments must be an object");
    a.mcp_retry = *retry;
  }
  a.mcp = std::move(call);
  return {};
}

Result<Rule> ParseRule(const json& r, const std::string& where) {
  if (!r.is_object()) return BadRequest(where + " must be an object");
  for (const auto& [key, value] : r.items()) {
    if (std::find(std::begin(kRuleKeys), std::end(kRuleKeys), key) == std::end(kRuleKeys)) {
      return BadRequest(where + ": unknown field " + key);
    }
  }
  Rule rule;
  Answer& a = rule.answer;
  if (r.contains("match")) {
    auto v = StringField(r, "match", where);
    if (!v) return tl::unexpected(v.error());
    rule.match = *v;
  }
  if (r.contains("times")) {
    auto v = IntField(r, "times", where, 1, 1'000'000'000);
    if (!v) return tl::unexpected(v.error());
    rule.times = static_cast<int>(*v);
  }
  if (r.contains("needsTools")) {
    if (!r["needsTools"].is_boolean()) return BadRequest(where + ": needsTools must be a boolean");
    rule.needs_tools = r["needsTools"].get<bool>();
  }
  if (r.contains("reply")) {
    auto v = StringField(r, "reply", where);
    if (!v) return tl::unexpected(v.error());
    a.reply = *v;
  }
  if (r.contains("shell")) {
    auto v = StringField(r, "shell", where);
    if (!v) return tl::unexpected(v.error());
    if (v->empty()) return BadRequest(where + ": shell must not be empty");
    a.shell = *v;
  }
  if (r.contains("tool")) {
    auto v = ToolField(r, where);
    if (!v) return tl::unexpected(v.error());
    a.tool = *v;
  }
  if (r.contains("mcp")) {
    if (auto v = McpField(r, where, a); !v) return tl::unexpected(v.error());
  }
  if (r.contains("status")) {
    auto v = IntField(r, "status", where, 400, 599);
    if (!v) return tl::unexpected(v.error());
    a.status = static_cast<int>(*v);
  }
  if (r.contains("error")) {
    auto v = StringField(r, "error", where);
    if (!v) return tl::unexpected(v.error());
    a.error = *v;
  }
  if (r.contains("retry")) {
    if (!r["retry"].is_boolean()) return BadRequest(where + ": retry must be a boolean");
    a.retry = r["retry"].get<bool>();
  }
  if (r.contains("delayMs")) {
    auto v = IntField(r, "delayMs", where, 0, kMaxDelay.count());
    if (!v) return tl::unexpected(v.error());
    a.delay = std::chrono::milliseconds(*v);
  }
  if ((a.shell ? 1 : 0) + (a.tool ? 1 : 0) + (a.mcp ? 1 : 0) > 1) {
    return BadRequest(where + ": shell, tool and mcp exclude each other");
  }
  if (a.status && a.asks_for_tool()) {
    return BadRequest(where + ": status (an error) excludes shell, tool and mcp");
  }
  if ((a.error || a.retry) && !a.status) {
    return BadRequest(where + ": error and retry need a status");
  }
  return rule;
}

std::string Shorten(const std::string& text) {
  if (text.size() <= kLoggedTextBytes) return text;
  return text.substr(0, kLoggedTextBytes) + "…";
}

// Fills `d` for an answer with an MCP call: the call, the retry after an error result, or the
// final reply.
void DecideMcp(const ChatRequest& request, const Answer& a, Decision& d) {
  const std::string& wanted = a.mcp->name;
  if (request.tools.empty()) {
    if (!request.tool_result_turn) d.note = "the request offers no tools";
    return;
  }
  const OfferedTool* offered = FindMcpTool(request, wanted);
  if (offered == nullptr) {
    d.note = "the request offers no MCP tool " + wanted;
    return;
  }
  json arguments = a.mcp->arguments;
  if (request.tool_result_turn) {
    const int calls = CountMcpCalls(request, wanted);
    if (!request.tool_result_error) {
      d.note = "the MCP tool result is a success";
      return;
    }
    if (!a.mcp_retry) {
      d.note = "the MCP tool result is an error; no retry is scripted";
      return;
    }
    if (calls != 1) {
      d.note = "the MCP tool result is an error; " + std::to_string(calls) + " calls of " + wanted +
               " since the prompt, so no retry";
      return;
    }
    arguments = *a.mcp_retry;
    d.note = "retry after an MCP tool error";
  }
  if (ReplaceTaskId(arguments, request.task_id) && request.task_id.empty()) {
    d.note += std::string(d.note.empty() ? "" : "; ") + "no \"Task ID:\" in the request, " +
              std::string(kTaskIdPlaceholder) + " left as is";
  }
  FillRequired(offered->schema, arguments);
  d.action = Action::kToolCall;
  d.tool = {offered->name, std::move(arguments)};
  d.tool_namespace = offered->ns;
}

}  // namespace

Result<ScriptSpec> ParseScript(std::string_view text) {
  JsonLimits limits;
  limits.allow_comments = true;  // script files are written by people
  auto parsed = ParseBoundedJson(text, limits);
  if (!parsed) {
    const std::string& why = parsed.error().message;
    return BadRequest(why.starts_with("malformed") ? std::string("the script is not valid JSON")
                                                   : "the script: " + why);
  }
  json doc = std::move(*parsed);
  if (!doc.is_object()) return BadRequest("the script must be a JSON object {reply?, rules?}");
  ScriptSpec spec;
  for (const auto& [key, value] : doc.items()) {
    if (key != "reply" && key != "rules" && key != "comment") {
      return BadRequest("script: unknown field " + key);
    }
  }
  if (doc.contains("reply")) {
    if (!doc["reply"].is_string()) return BadRequest("script: reply must be a string");
    spec.reply = doc["reply"].get<std::string>();
  }
  if (doc.contains("rules")) {
    if (!doc["rules"].is_array()) return BadRequest("script: rules must be an array");
    for (std::size_t i = 0; i < doc["rules"].size(); ++i) {
      auto rule = ParseRule(doc["rules"][i], "script: rules[" + std::to_string(i) + "]");
      if (!rule) return tl::unexpected(rule.error());
      spec.rules.push_back(std::move(*rule));
    }
  }
  return spec;
}

Result<ScriptSpec> LoadScript(const std::string& path) {
  std::ifstream in(path);
  if (!in) return BadRequest("cannot read the script file " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto spec = ParseScript(text.str());
  if (!spec) return BadRequest(path + ": " + spec.error().message);
  return spec;
}

json Decision::ToJson() const {
  json out = {{"source", source}};
  switch (action) {
    case Action::kReply:
      out["action"] = "reply";
      out["text"] = Shorten(text);
      break;
    case Action::kToolCall:
      out["action"] = "tool_call";
      out["tool"] = tool.name;
      if (!tool_namespace.empty()) out["namespace"] = tool_namespace;
      out["arguments"] = tool.arguments;
      break;
    case Action::kError:
      out["action"] = "error";
      out["status"] = status;
      out["error"] = Shorten(text);
      break;
  }
  if (delay.count() > 0) out["delayMs"] = delay.count();
  if (!note.empty()) out["note"] = note;
  return out;
}

Script::Script(std::string default_reply, ScriptSpec spec)
    : default_reply_(spec.reply.value_or(std::move(default_reply))),
      rules_(std::move(spec.rules)),
      used_(rules_.size(), 0) {}

std::optional<std::size_t> Script::TakeRule(const ChatRequest& request) {
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const Rule& rule = rules_[i];
    if (rule.times && used_[i] >= *rule.times) continue;
    if ((rule.needs_tools || rule.answer.asks_for_tool()) && request.tools.empty()) continue;
    if (!rule.match.empty() && request.user_text.find(rule.match) == std::string::npos) continue;
    ++used_[i];
    return i;
  }
  return std::nullopt;
}

Decision Script::Decide(const ChatRequest& request) {
  Decision d;
  auto markers = ParseMarkers(request.user_text);
  if (!markers) {
    d.action = Action::kError;
    d.status = 400;
    d.text = markers.error().message;
    d.source = "marker";
    return d;
  }
  Answer a;
  d.source = "default";
  if (auto i = TakeRule(request)) {
    a = rules_[*i].answer;
    d.source = "rule " + std::to_string(*i + 1);
  }
  if (!markers->empty()) {
    a.Overlay(*markers);
    d.source = d.source == "default" ? "marker" : d.source + "+marker";
  }

  d.delay = a.delay.value_or(std::chrono::milliseconds(0));
  d.text = a.reply.value_or(default_reply_);
  if (a.status) {
    d.action = Action::kError;
    d.status = *a.status;
    d.retry = a.retry.value_or(false);
    d.text = a.error.value_or("stub-llm: scripted HTTP " + std::to_string(*a.status));
    return d;
  }
  if (a.mcp_retry && !a.mcp) {
    // Loud, not a silent plain reply: the test meant a retry and would get none.
    d.action = Action::kError;
    d.status = 400;
    d.text = "stub-llm: MCP_RETRY: needs an MCP_CALL (or a rule's mcp) to retry";
    return d;
  }
  if (a.mcp) {
    DecideMcp(request, a, d);
    return d;
  }
  if (request.tool_result_turn || !a.asks_for_tool()) return d;
  if (request.tools.empty()) {
    d.note = "the request offers no tools";
    return d;
  }
  if (a.shell) {
    const OfferedTool* shell = FindShellTool(request);
    if (shell == nullptr) {
      d.note = "the request offers no shell tool";
      return d;
    }
    d.action = Action::kToolCall;
    d.tool = {shell->name, ShellArguments(*shell, *a.shell)};
    d.tool_namespace = shell->ns;
    return d;
  }
  const OfferedTool* offered = request.FindTool(a.tool->name);
  if (offered == nullptr) {
    d.note = "the request does not offer the tool " + a.tool->name;
    return d;
  }
  if (!offered->freeform && a.tool->arguments.is_string()) {
    d.note = "the tool " + a.tool->name + " takes a JSON object, not a string";
    return d;
  }
  d.action = Action::kToolCall;
  d.freeform = offered->freeform;
  d.tool_namespace = offered->ns;
  d.tool = *a.tool;
  if (d.freeform) {
    // A freeform tool's input is text; an object given for it is sent as its JSON text.
    if (!d.tool.arguments.is_string()) d.tool.arguments = d.tool.arguments.dump();
  } else {
    FillRequired(offered->schema, d.tool.arguments);
  }
  return d;
}

}  // namespace swarm::stub_llm
