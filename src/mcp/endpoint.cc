#include "mcp/endpoint.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <mutex>
#include <string_view>

#include "core/bounded_json.h"
#include "core/ids.h"
#include "core/log.h"
#include "mcp/jsonrpc.h"
#include "mcp/sessions.h"

namespace swarm::mcp {
namespace {

using jsonrpc::Kind;
using jsonrpc::Message;
using nlohmann::json;

// Newest first: a client asking for a version we do not know gets the first.
constexpr std::array<std::string_view, 3> kProtocolVersions = {"2025-11-25", "2025-06-18",
                                                               "2025-03-26"};

constexpr std::string_view kInstructions =
    "This server is the agent swarm your task came from. Finish every task by calling "
    "store-progress with its taskId: status \"completed\" with the output (when the task has an "
    "outputSchema the output must match it; a mismatch comes back as a tool error naming the "
    "violation, so fix the output and call store-progress again), or status \"failed\" with a "
    "failureReason.";

// Longest method name echoed in a "Method not found" message.
constexpr std::size_t kMaxEchoedMethod = 100;

bool IsSupportedVersion(std::string_view version) {
  return std::find(kProtocolVersions.begin(), kProtocolVersions.end(), version) !=
         kProtocolVersions.end();
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The media type of one header element, lower case, without its parameters:
// "Application/JSON; charset=utf-8" → "application/json".
std::string MediaType(std::string_view element) {
  std::string type(Trim(element.substr(0, element.find(';'))));
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type;
}

struct Acceptable {
  bool json = false;
  bool sse = false;
};

// Which of our two response forms an Accept header lists. A wildcard lists both forms it
// covers, as HTTP reads it.
Acceptable ReadAccept(std::string_view accept) {
  Acceptable out;
  while (!accept.empty()) {
    const std::size_t comma = accept.find(',');
    const std::string type = MediaType(accept.substr(0, comma));
    if (type == "application/json" || type == "application/*" || type == "*/*") out.json = true;
    if (type == "text/event-stream" || type == "text/*" || type == "*/*") out.sse = true;
    if (comma == std::string_view::npos) break;
    accept.remove_prefix(comma + 1);
  }
  return out;
}

// 128 bits from the OS's CSPRNG, as the spec asks of session ids (globally unique and
// cryptographically secure), in UUID form: visible ASCII, as the header requires.
std::string NewSessionId() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return NewUuid();
  bytes[6] = static_cast<unsigned char>(0x40 | (bytes[6] & 0x0F));  // version 4
  bytes[8] = static_cast<unsigned char>(0x80 | (bytes[8] & 0x3F));  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0x0F]);
  }
  return out;
}

McpResponse HttpError(int status, int code, std::string_view message, const json& id = nullptr) {
  McpResponse response;
  response.status = status;
  response.body = jsonrpc::ErrorResponse(id, code, message);
  return response;
}

McpResponse NoContent(int status) {
  McpResponse response;
  response.status = status;
  response.content_type.clear();
  return response;
}

// One JSON-RPC response as the answer to a POST: the JSON itself, or a single SSE `message`
// event for a client that accepts only an event stream.
McpResponse Frame(std::string body, bool sse) {
  McpResponse response;
  if (sse) {
    response.content_type = "text/event-stream";
    // dump() escapes control characters, so the JSON is one line: one `data:` field.
    response.body = "event: message\ndata: ";
    response.body.reserve(response.body.size() + body.size() + 2);
    response.body += body;
    response.body += "\n\n";
  } else {
    response.body = std::move(body);
  }
  return response;
}

}  // namespace

struct Endpoint::Impl {
  Impl(ToolSet& tools, AgentCheck agent_check, const Clock& clock, EndpointOptions options)
      : tools(tools),
        agent_check(std::move(agent_check)),
        clock(clock),
        options(std::move(options)),
        sessions(this->options.max_sessions_total, this->options.max_sessions_per_agent) {}

  McpResponse Initialize(const McpRequest& request, const Message& message, bool sse);
  // Checks the request's session (header present, known, this agent's) and the
  // MCP-Protocol-Version header, and refreshes the session's idle clock. Returns the HTTP
  // error to answer, if any. Takes the lock.
  std::optional<McpResponse> UseSession(const McpRequest& request, const json& id);
  std::optional<McpResponse> CheckSessionLocked(const McpRequest& request, const json& id,
                                                Session** found);
  std::string Dispatch(const Message& message, const Caller& caller);
  std::string CallTool(const Message& message, const Caller& caller);
  const std::string& ToolsListResult();

  ToolSet& tools;
  AgentCheck agent_check;
  const Clock& clock;
  EndpointOptions options;

  mutable std::mutex mu;
  SessionTable sessions;  // guarded by mu

  // tools/list never changes (listChanged: false): serialized once, on first use.
  std::once_flag tools_once;
  std::string tools_list_result;
};

McpResponse Endpoint::Impl::Initialize(const McpRequest& request, const Message& message,
                                       bool sse) {
  if (!request.session_id.empty()) {
    return HttpError(400, jsonrpc::kInvalidRequest,
                     "initialize must not carry an Mcp-Session-Id header: it opens a new session",
                     message.id);
  }
  if (request.agent_id.empty()) {
    return HttpError(401, jsonrpc::kServerError, "X-Agent-ID header is required", message.id);
  }
  const json* requested = nullptr;
  if (message.params.is_object()) {
    if (const auto it = message.params.find("protocolVersion"); it != message.params.end()) {
      requested = &*it;
    }
  }
  if (requested == nullptr || !requested->is_string()) {
    return HttpError(400, jsonrpc::kInvalidParams,
                     "initialize params.protocolVersion must be a string", message.id);
  }
  // The store answers this; never under the lock.
  if (auto known = agent_check(request.agent_id); !known) {
    if (known.error().code == ErrorCode::kNotFound) {
      return HttpError(401, jsonrpc::kServerError, "Agent not found", message.id);
    }
    log::Warn("mcp initialize: cannot check the agent",
              {{"agent", request.agent_id}, {"error", known.error().message}});
    return HttpError(503, jsonrpc::kServerError, "the server cannot check the agent now; try again",
                     message.id);
  }

  const std::string& asked = requested->get_ref<const std::string&>();
  const std::string version(IsSupportedVersion(asked) ? std::string_view(asked)
                                                      : kProtocolVersions.front());
  Session session;
  session.id = NewSessionId();
  session.agent_id = request.agent_id;
  session.protocol_version = version;
  const std::string session_id = session.id;
  std::vector<EvictedSession> evicted;
  std::size_t total = 0;
  {
    std::lock_guard lock(mu);
    session.last_used = clock.Monotonic();
    evicted = sessions.Add(std::move(session));
    total = sessions.size();
  }
  for (const EvictedSession& e : evicted) {
    log::Info("mcp session evicted",
              {{"agent", e.agent_id}, {"reason", e.reason}, {"for_agent", request.agent_id}});
  }
  log::Info("mcp session opened",
            {{"agent", request.agent_id}, {"protocol", version}, {"sessions", total}});

  const json result = {
      {"protocolVersion", version},
      {"capabilities", {{"tools", {{"listChanged", false}}}}},
      {"serverInfo", {{"name", options.server_name}, {"version", options.server_version}}},
      {"instructions", kInstructions},
  };
  McpResponse response = Frame(jsonrpc::ResultResponse(message.id, result), sse);
  response.headers.emplace_back("Mcp-Session-Id", session_id);
  return response;
}

std::optional<McpResponse> Endpoint::Impl::CheckSessionLocked(const McpRequest& request,
                                                              const json& id, Session** found) {
  if (request.session_id.empty()) {
    return HttpError(400, jsonrpc::kInvalidRequest, "Mcp-Session-Id header is required", id);
  }
  if (!request.protocol_version.empty() && !IsSupportedVersion(request.protocol_version)) {
    return HttpError(400, jsonrpc::kInvalidRequest,
                     "unsupported MCP-Protocol-Version; this server speaks 2025-11-25, "
                     "2025-06-18 and 2025-03-26",
                     id);
  }
  Session* session = sessions.Find(request.session_id);
  if (session == nullptr) return HttpError(404, jsonrpc::kSessionNotFound, "Session not found", id);
  if (session->agent_id != request.agent_id) {
    return HttpError(401, jsonrpc::kServerError, "the session belongs to another agent", id);
  }
  *found = session;
  return std::nullopt;
}

std::optional<McpResponse> Endpoint::Impl::UseSession(const McpRequest& request, const json& id) {
  std::lock_guard lock(mu);
  Session* session = nullptr;
  if (auto refused = CheckSessionLocked(request, id, &session)) return refused;
  sessions.Touch(session->id, clock.Monotonic());
  return std::nullopt;
}

const std::string& Endpoint::Impl::ToolsListResult() {
  std::call_once(tools_once, [this] {
    json list = json::array();
    for (const ToolSpec& tool : tools.Tools()) {
      list.push_back({{"name", tool.name},
                      {"title", tool.title},
                      {"description", tool.description},
                      {"inputSchema", tool.input_schema}});
    }
    tools_list_result = jsonrpc::Dump(json{{"tools", std::move(list)}});
  });
  return tools_list_result;
}

std::string Endpoint::Impl::CallTool(const Message& message, const Caller& caller) {
  const json& params = message.params;
  const auto name = params.is_object() ? params.find("name") : params.end();
  if (!params.is_object() || name == params.end() || !name->is_string()) {
    return jsonrpc::ErrorResponse(message.id, jsonrpc::kInvalidParams,
                                  "tools/call params.name must be a string");
  }
  static const json kNoArguments = json::object();
  const json* arguments = &kNoArguments;
  // An explicit null counts as no arguments: some clients send it for a tool without any.
  if (const auto it = params.find("arguments"); it != params.end() && !it->is_null()) {
    if (!it->is_object()) {
      return jsonrpc::ErrorResponse(message.id, jsonrpc::kInvalidParams,
                                    "tools/call params.arguments must be an object");
    }
    arguments = &*it;
  }

  Result<ToolOutcome> outcome = Internal("the tool did not run");
  try {
    outcome = tools.Call(name->get_ref<const std::string&>(), *arguments, caller);
  } catch (const std::exception& e) {
    // A tool should answer with values; an exception is a bug, and must not take the
    // request thread with it.
    log::Error("mcp tool threw",
               {{"tool", name->get_ref<const std::string&>()}, {"error", std::string(e.what())}});
    outcome = Internal("the tool failed unexpectedly");
  }
  if (!outcome) {
    const ErrorCode code = outcome.error().code;
    const int rpc_code = code == ErrorCode::kNotFound || code == ErrorCode::kBadRequest
                             ? jsonrpc::kInvalidParams
                             : jsonrpc::kInternalError;
    return jsonrpc::ErrorResponse(message.id, rpc_code, outcome.error().message);
  }
  json result = {{"content", json::array({{{"type", "text"}, {"text", outcome->text}}})}};
  // An empty object says nothing the text does not; the spec's own examples leave it out.
  if (outcome->structured.is_object() && !outcome->structured.empty()) {
    result["structuredContent"] = std::move(outcome->structured);
  }
  result["isError"] = outcome->is_error;
  return jsonrpc::ResultResponse(message.id, result);
}

std::string Endpoint::Impl::Dispatch(const Message& message, const Caller& caller) {
  if (message.method == "tools/call") return CallTool(message, caller);
  if (message.method == "tools/list") {
    return jsonrpc::RawResultResponse(message.id, ToolsListResult());
  }
  if (message.method == "ping") return jsonrpc::ResultResponse(message.id, json::object());
  std::string shown = message.method.substr(0, kMaxEchoedMethod);
  return jsonrpc::ErrorResponse(message.id, jsonrpc::kMethodNotFound, "Method not found",
                                json{{"method", std::move(shown)}});
}

Endpoint::Endpoint(ToolSet& tools, AgentCheck agent_check, const Clock& clock,
                   EndpointOptions options)
    : impl_(std::make_unique<Impl>(tools, std::move(agent_check), clock, std::move(options))) {}

Endpoint::~Endpoint() = default;

Result<json> Endpoint::ParseBody(std::string_view body) const {
  const EndpointOptions& options = impl_->options;
  JsonLimits limits;
  limits.max_depth = static_cast<std::size_t>(std::max(options.max_json_depth, 1));
  limits.max_bytes = options.max_body_bytes;
  return ParseBoundedJson(body, limits);
}

McpResponse Endpoint::Post(const McpRequest& request) { return PostBody(request, std::nullopt); }

McpResponse Endpoint::Post(const McpRequest& request, Result<json> parsed_body) {
  return PostBody(request, std::move(parsed_body));
}

McpResponse Endpoint::PostBody(const McpRequest& request, std::optional<Result<json>> parsed) {
  const EndpointOptions& options = impl_->options;
  if (MediaType(request.content_type) != "application/json") {
    return HttpError(415, jsonrpc::kServerError, "Content-Type must be application/json");
  }
  const Acceptable accept = ReadAccept(request.accept);
  if (!accept.json && !accept.sse) {
    return HttpError(406, jsonrpc::kServerError,
                     "Accept must list application/json or text/event-stream");
  }
  const bool sse = accept.sse && !accept.json;
  if (request.body.size() > options.max_body_bytes) {
    return HttpError(413, jsonrpc::kServerError,
                     "request body is larger than the " + std::to_string(options.max_body_bytes) +
                         "-byte limit");
  }
  if (!parsed) parsed = ParseBody(request.body);  // only once the headers and size passed
  if (!*parsed) return HttpError(400, jsonrpc::kParseError, parsed->error().message);
  auto message = jsonrpc::Classify(std::move(**parsed));
  if (!message) {
    return HttpError(400, message.error().code, message.error().message, message.error().id);
  }

  if (message->kind == Kind::kRequest && message->method == "initialize") {
    return impl_->Initialize(request, *message, sse);
  }
  if (auto refused = impl_->UseSession(request, message->id)) return *std::move(refused);
  // notifications/initialized, notifications/cancelled (we answer every request before the
  // POST returns, so there is nothing to cancel), and responses to requests we never send.
  if (message->kind != Kind::kRequest) return NoContent(202);

  const Caller caller{request.agent_id, request.source_task_id, request.token_task_id};
  return Frame(impl_->Dispatch(*message, caller), sse);
}

McpResponse Endpoint::Delete(const McpRequest& request) {
  std::string agent;
  {
    std::lock_guard lock(impl_->mu);
    Session* session = nullptr;
    if (auto refused = impl_->CheckSessionLocked(request, nullptr, &session)) {
      return *std::move(refused);
    }
    agent = session->agent_id;
    impl_->sessions.Remove(request.session_id);
  }
  log::Info("mcp session ended", {{"agent", agent}, {"reason", "DELETE"}});
  return NoContent(204);
}

std::variant<Endpoint::OpenedStream, McpResponse> Endpoint::OpenStream(const McpRequest& request) {
  if (!ReadAccept(request.accept).sse) {
    return HttpError(406, jsonrpc::kServerError, "Accept must list text/event-stream");
  }
  std::lock_guard lock(impl_->mu);
  Session* session = nullptr;
  if (auto refused = impl_->CheckSessionLocked(request, nullptr, &session)) {
    return *std::move(refused);
  }
  if (session->stream_open) {
    return HttpError(409, jsonrpc::kServerError, "this session already has an open stream");
  }
  session->stream_open = true;
  impl_->sessions.Touch(session->id, impl_->clock.Monotonic());
  return OpenedStream{request.session_id};
}

bool Endpoint::StreamAlive(const std::string& session_id) const {
  std::lock_guard lock(impl_->mu);
  const Session* session = impl_->sessions.Find(session_id);
  return session != nullptr && session->stream_open;
}

void Endpoint::CloseStream(const std::string& session_id) {
  std::lock_guard lock(impl_->mu);
  if (Session* session = impl_->sessions.Find(session_id)) session->stream_open = false;
}

std::size_t Endpoint::ExpireIdle() {
  std::size_t expired = 0;
  {
    std::lock_guard lock(impl_->mu);
    expired =
        impl_->sessions.RemoveUsedBefore(impl_->clock.Monotonic() - impl_->options.idle_timeout);
  }
  if (expired > 0) log::Info("mcp sessions expired", {{"count", expired}});
  return expired;
}

void Endpoint::CloseAll() {
  std::lock_guard lock(impl_->mu);
  impl_->sessions.Clear();
}

std::size_t Endpoint::session_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->sessions.size();
}

}  // namespace swarm::mcp
