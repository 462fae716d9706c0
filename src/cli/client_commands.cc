#include "cli/client_commands.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/api_key.h"
#include "cli/views.h"
#include "client/swarm_client.h"
#include "core/bounded_json.h"
#include "core/redact.h"

namespace swarm {
namespace {

using nlohmann::json;

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

struct ClientFlags {
  std::string api_url;
  std::string api_key;
  std::string api_key_file;
  bool json = false;
};

void AddClientFlags(CLI::App* cmd, const std::shared_ptr<ClientFlags>& flags) {
  cmd->add_option("--api-url", flags->api_url,
                  "API base URL (default: $MCP_BASE_URL, else http://127.0.0.1:3013)");
  auto* file = cmd->add_option("--api-key-file", flags->api_key_file,
                               "read the API key from the first line of this file (default: "
                               "$AGENT_SWARM_API_KEY, else $API_KEY)");
  // Not a way in: argv is readable by every process on the machine, and the seed's CLI has
  // --api-key only on `e2b start-worker`. Accepted only to refuse it without echoing the key.
  cmd->add_option("--api-key", flags->api_key)->group("")->excludes(file);
  cmd->add_flag("--json", flags->json, "print the server's JSON reply");
}

[[noreturn]] void Fail(const std::string& message) {
  std::cerr << "error: " << Redact(message) << "\n";
  throw CLI::RuntimeError(1);
}

// Runs one API call for a command, printing the reply (rendered, or raw with --json).
void Run(const ClientFlags& flags, const std::string& method, const std::string& path,
         const std::optional<json>& body, std::string (*render)(const json&)) {
  SwarmClientOptions options;
  options.base_url =
      flags.api_url.empty() ? EnvOr("MCP_BASE_URL", "http://127.0.0.1:3013") : flags.api_url;
  if (!flags.api_key.empty()) {
    RegisterSecret(flags.api_key);
    std::cerr << "error: " << kArgvKeyRefused << "\n";
    throw CLI::RuntimeError(2);
  }
  auto key = ResolveApiKeyFromEnvironment(flags.api_key_file, /*key_flag=*/"");
  if (!key) Fail(key.error().message);
  options.api_key = std::move(*key);
  RegisterSecret(options.api_key);
  http::CurlHttpClient http;
  SwarmClient client(http, options);
  auto reply = client.Call(method, path, body);
  if (!reply) Fail(reply.error().message);
  if (flags.json) {
    std::cout << reply->body.dump(2) << "\n";
  } else {
    std::cout << render(reply->body);
  }
}

json ReadSchema(const std::string& text) {
  std::string source = text;
  if (!text.empty() && text.front() == '@') {
    std::ifstream in(text.substr(1));
    if (!in) Fail(fmt::format("cannot read {}", text.substr(1)));
    std::stringstream ss;
    ss << in.rdbuf();
    source = ss.str();
  }
  // Bounded like any document: the API refuses a deeper one anyway, and a crafted file must
  // not crash the CLI on its way there.
  auto schema = ParseBoundedJson(source);
  if (!schema) Fail("--output-schema is not valid JSON: " + schema.error().message);
  return std::move(*schema);
}

std::string RenderCancel(const json& reply) {
  auto task = reply.find("task");  // end() when the reply is no object
  return RenderTask(task != reply.end() ? *task : json());
}

void AddTasksCommands(CLI::App& root) {
  auto* tasks = root.add_subcommand("tasks", "create, inspect and cancel tasks");
  tasks->require_subcommand(1);

  {
    auto flags = std::make_shared<ClientFlags>();
    auto text = std::make_shared<std::string>();
    auto agent = std::make_shared<std::string>();
    auto source = std::make_shared<std::string>();
    auto schema = std::make_shared<std::string>();
    auto priority = std::make_shared<int>(-1);
    auto tags = std::make_shared<std::vector<std::string>>();
    auto* cmd = tasks->add_subcommand("create", "create a task");
    cmd->add_option("task", *text, "what to do")->required();
    cmd->add_option("--agent-id", *agent, "assign it to this agent (else: the pool)");
    cmd->add_option("--source", *source, "source label (default api)");
    cmd->add_option("--priority", *priority, "0..100 (default 50)")->check(CLI::Range(0, 100));
    cmd->add_option("--tag", *tags, "a tag (repeatable)");
    cmd->add_option("--output-schema", *schema, "JSON Schema for the output, or @file");
    AddClientFlags(cmd, flags);
    cmd->callback([=] {
      json body = {{"task", *text}};
      if (!agent->empty()) body["agentId"] = *agent;
      if (!source->empty()) body["source"] = *source;
      if (*priority >= 0) body["priority"] = *priority;
      if (!tags->empty()) body["tags"] = *tags;
      if (!schema->empty()) body["outputSchema"] = ReadSchema(*schema);
      Run(*flags, "POST", "/api/tasks", body, RenderTask);
    });
  }
  {
    auto flags = std::make_shared<ClientFlags>();
    auto id = std::make_shared<std::string>();
    auto* cmd = tasks->add_subcommand("get", "show a task with its lifecycle log");
    cmd->add_option("id", *id, "task id")->required();
    AddClientFlags(cmd, flags);
    cmd->callback([=] { Run(*flags, "GET", "/api/tasks/" + UrlEncode(*id), {}, RenderTask); });
  }
  {
    auto flags = std::make_shared<ClientFlags>();
    auto status = std::make_shared<std::string>();
    auto agent = std::make_shared<std::string>();
    auto source = std::make_shared<std::string>();
    auto limit = std::make_shared<int>(25);
    auto offset = std::make_shared<int>(0);
    auto* cmd = tasks->add_subcommand("list", "list tasks, most recently updated first");
    cmd->add_option("--status", *status, "comma-separated statuses");
    cmd->add_option("--agent-id", *agent, "only this agent's tasks");
    cmd->add_option("--source", *source, "comma-separated sources");
    cmd->add_option("--limit", *limit, "1..1000 (default 25)")->check(CLI::Range(1, 1000));
    cmd->add_option("--offset", *offset, "skip this many")->check(CLI::NonNegativeNumber);
    AddClientFlags(cmd, flags);
    cmd->callback([=] {
      std::string query = fmt::format("?limit={}&offset={}", *limit, *offset);
      if (!status->empty()) query += "&status=" + UrlEncode(*status);
      if (!agent->empty()) query += "&agentId=" + UrlEncode(*agent);
      if (!source->empty()) query += "&source=" + UrlEncode(*source);
      Run(*flags, "GET", "/api/tasks" + query, {}, RenderTaskList);
    });
  }
  {
    auto flags = std::make_shared<ClientFlags>();
    auto id = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    auto* cmd = tasks->add_subcommand("cancel", "cancel a task that has not finished");
    cmd->add_option("id", *id, "task id")->required();
    cmd->add_option("--reason", *reason, "why (default: Cancelled by user)");
    AddClientFlags(cmd, flags);
    cmd->callback([=] {
      json body = json::object();
      if (!reason->empty()) body["reason"] = *reason;
      Run(*flags, "POST", "/api/tasks/" + UrlEncode(*id) + "/cancel", body, RenderCancel);
    });
  }
}

void AddAgentsCommands(CLI::App& root) {
  auto* agents = root.add_subcommand("agents", "inspect registered agents");
  agents->require_subcommand(1);
  {
    auto flags = std::make_shared<ClientFlags>();
    auto* cmd = agents->add_subcommand("list", "list agents with their capacity");
    AddClientFlags(cmd, flags);
    cmd->callback([=] { Run(*flags, "GET", "/api/agents", {}, RenderAgentList); });
  }
  {
    auto flags = std::make_shared<ClientFlags>();
    auto id = std::make_shared<std::string>();
    auto* cmd = agents->add_subcommand("get", "show one agent");
    cmd->add_option("id", *id, "agent id")->required();
    AddClientFlags(cmd, flags);
    cmd->callback([=] { Run(*flags, "GET", "/api/agents/" + UrlEncode(*id), {}, RenderAgent); });
  }
}

}  // namespace

void AddClientCommands(CLI::App& root) {
  AddTasksCommands(root);
  AddAgentsCommands(root);
}

}  // namespace swarm
