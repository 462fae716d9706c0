// The Script decides each model turn from the request: the reply text, a tool call the CLI
// then runs, an HTTP error, a delay. It is chosen by rules from a --script file and by markers
// in the prompt (markers.h), the markers winning field by field.
//
// Script file (JSON):
//
//   {
//     "reply": "pong",                 // default reply (else --reply)
//     "rules": [                       // the first matching rule that is not used up answers
//       {"match": "make the file", "shell": "echo hi > out.txt", "reply": "{\"reply\":\"pong\"}"},
//       {"match": "flaky", "status": 500, "error": "overloaded", "times": 1},
//       {"match": "slow", "delayMs": 1500},
//       {"tool": {"name": "write", "arguments": {"path": "a.txt", "content": "x"}}},
//       {"match": "finish", "reply": "done",
//        "mcp": {"tool": "store-progress",
//                "arguments": {"taskId": "{{taskId}}", "status": "completed", "output": {}},
//                "retryArguments": {"taskId": "{{taskId}}", "status": "completed",
//                                   "output": {"reply": "pong"}}}}
//     ]
//   }
//
// Rule fields: `match` (a substring of the latest user text; absent matches every request),
// `times` (answers at most this many requests, then is skipped), `needsTools` (matches only
// requests that offer tools), and an answer: `reply`, `shell`, `tool` {name, arguments},
// `mcp` {tool, arguments, retryArguments} (the MCP_CALL and MCP_RETRY markers: an MCP tool by
// its MCP name whatever prefix the CLI adds, "{{taskId}}" in the arguments, a second call with
// retryArguments when the first one's result is an error; see markers.h), `status` (400..599)
// with `error` and `retry` (default false: the error asks clients not to retry, so a CLI fails
// at once; see wire_error.h), `delayMs`. Unknown fields are an error, so a typo cannot silently
// match nothing. // comments are allowed.
//
// Turn semantics: a request that offers no tools (opencode's title generation) never gets a
// tool call, and rules asking for one do not match it; a tool-result turn gets the final
// reply (the rule's `reply`, else the default), never a second call, except the one MCP retry
// after an error result. A rule with `times` counts every request it answers, tool-result
// turns included.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "stub_llm/answer.h"
#include "stub_llm/chat_request.h"

namespace swarm::stub_llm {

struct Rule {
  std::string match;  // empty: every request
  std::optional<int> times;
  bool needs_tools = false;
  Answer answer;
};

struct ScriptSpec {
  std::optional<std::string> reply;
  std::vector<Rule> rules;
};

// Parses a script file's text; kBadRequest names the offending rule and field.
Result<ScriptSpec> ParseScript(std::string_view text);
// Reads and parses a script file; an unreadable file is kBadRequest naming the path.
Result<ScriptSpec> LoadScript(const std::string& path);

enum class Action { kReply, kToolCall, kError };

struct Decision {
  Action action = Action::kReply;
  std::string text;            // kReply: the reply; kError: the error message
  ToolRequest tool;            // kToolCall
  bool freeform = false;       // kToolCall of a Responses custom tool (string input)
  std::string tool_namespace;  // kToolCall of a tool inside a Responses namespace (codex MCP)
  int status = 200;            // kError
  bool retry = false;          // kError
  std::chrono::milliseconds delay{0};
  std::string source;  // what decided: "default", "rule 2", "marker", "rule 2+marker"
  std::string note;    // why a requested tool call became a plain reply, or what an MCP turn saw

  // The decision as the request log shows it.
  nlohmann::json ToJson() const;
};

class Script {
 public:
  Script(std::string default_reply, ScriptSpec spec = {});
  Script(const Script&) = delete;
  Script& operator=(const Script&) = delete;

  // Decides one turn. Thread-safe: counts of rules with `times` are shared by all requests.
  Decision Decide(const ChatRequest& request);

 private:
  // The index of the first rule that matches and is not used up, counting it as used.
  std::optional<std::size_t> TakeRule(const ChatRequest& request);

  const std::string default_reply_;
  const std::vector<Rule> rules_;
  std::mutex mu_;
  std::vector<int> used_;  // guarded by mu_
};

}  // namespace swarm::stub_llm
