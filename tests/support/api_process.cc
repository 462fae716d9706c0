#include "support/api_process.h"

namespace swarm::testing_support {

std::string AgentSwarmBinary() { return AGENT_SWARM_BIN; }

ApiProcess::ApiProcess(const std::string& db_path, std::vector<std::string> extra_args)
    : ApiProcess(db_path, std::move(extra_args), {}) {}

ApiProcess::ApiProcess(const std::string& db_path, std::vector<std::string> extra_args,
                       const std::map<std::string, std::string>& env) {
  log_path_ = db_path + ".log";
  ChildSpec spec;
  spec.argv = {AgentSwarmBinary(), "api", "--port", "0", "--db", db_path};
  spec.argv.insert(spec.argv.end(), extra_args.begin(), extra_args.end());
  spec.env = {{"AGENT_SWARM_API_KEY", kTestApiKey}};
  for (const auto& [key, value] : env) spec.env[key] = value;
  spec.stderr_path = log_path_;
  child_ = std::make_unique<ChildProcess>(spec);

  port_ = WaitListening(*child_, log_path_, "agent-swarm api");
}

Reply TestApi::Send(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& agent_id, std::chrono::milliseconds timeout) const {
  http::ClientRequest request;
  request.method = method;
  request.url = base_url_ + path;
  request.body = body;
  request.timeout = timeout;
  if (!key_.empty()) request.headers.emplace_back("Authorization", "Bearer " + key_);
  if (!agent_id.empty()) request.headers.emplace_back("X-Agent-ID", agent_id);
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  auto response = http_.Send(request);
  Reply reply;
  if (!response) {
    reply.status = -1;
    reply.raw = response.error().message;
    return reply;
  }
  reply.status = response->status;
  reply.raw = response->body;
  auto parsed = nlohmann::json::parse(response->body, nullptr, false);
  if (!parsed.is_discarded()) reply.body = parsed;
  return reply;
}

Reply TestApi::Register(const std::string& agent_id, int max_tasks) const {
  return Post("/api/agents",
              {{"name", agent_id},
               {"role", "worker"},
               {"maxTasks", max_tasks},
               {"harness_provider", "claude"}},
              agent_id);
}

}  // namespace swarm::testing_support
