#include "mcp/endpoint.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <regex>
#include <set>
#include <stdexcept>
#include <thread>

namespace swarm::mcp {
namespace {

using nlohmann::json;
using std::chrono::minutes;

// A ToolSet that records its calls and answers what the test sets.
class FakeTools final : public ToolSet {
 public:
  FakeTools() {
    specs_.push_back({"get_weather", "Weather Information Provider",
                      "Get current weather information for a location",
                      json::parse(R"({"type":"object","properties":{"location":{"type":"string",
                          "description":"City name or zip code"}},"required":["location"]})")});
    specs_.push_back(
        {"store-progress", "Store progress", "Finish a task", json{{"type", "object"}}});
  }
  const std::vector<ToolSpec>& Tools() const override { return specs_; }
  Result<ToolOutcome> Call(const std::string& name, const json& arguments,
                           const Caller& caller) override {
    ++calls;
    last_name = name;
    last_arguments = arguments;
    last_caller = caller;
    if (block) block();
    if (throws) throw std::runtime_error("boom");
    if (!error_code) return outcome;
    return MakeError(*error_code, error_message);
  }

  std::vector<ToolSpec> specs_;
  std::atomic<int> calls{0};
  std::string last_name;
  json last_arguments;
  Caller last_caller;
  ToolOutcome outcome;
  std::optional<ErrorCode> error_code;
  std::string error_message;
  bool throws = false;
  std::function<void()> block;
};

constexpr const char* kBothAccepted = "application/json, text/event-stream";

class EndpointTest : public ::testing::Test {
 protected:
  EndpointTest() { Rebuild(); }

  void Rebuild() {
    endpoint_.reset();
    endpoint_ = std::make_unique<Endpoint>(
        tools_,
        [this](const std::string& agent) -> Result<void> {
          ++agent_checks_;
          if (agent == "broken") return Unavailable("database is locked");
          if (agent == "agent-1" || agent == "agent-2" || agent == "agent-3") return {};
          return NotFound("no agent " + agent);
        },
        clock_, options_);
  }

  McpRequest Request(std::string body, std::string session = "", std::string agent = "agent-1") {
    McpRequest request;
    request.method = "POST";
    request.body = std::move(body);
    request.accept = kBothAccepted;
    request.content_type = "application/json";
    request.session_id = std::move(session);
    request.agent_id = std::move(agent);
    return request;
  }

  static std::string InitializeBody(const std::string& version = "2025-06-18") {
    return json{
        {"jsonrpc", "2.0"},
        {"id", 1},
        {"method", "initialize"},
        {"params",
         {{"protocolVersion", version},
          {"capabilities", {{"roots", {{"listChanged", true}}}, {"sampling", json::object()}}},
          {"clientInfo", {{"name", "ExampleClient"}, {"version", "1.0.0"}}}}}}
        .dump();
  }

  static std::string Header(const McpResponse& response, const std::string& name) {
    for (const auto& [key, value] : response.headers) {
      if (key == name) return value;
    }
    return "";
  }

  // Opens a session for `agent` and returns its id.
  std::string Open(const std::string& agent = "agent-1") {
    const McpResponse response = endpoint_->Post(Request(InitializeBody(), "", agent));
    EXPECT_EQ(response.status, 200) << response.body;
    const std::string id = Header(response, "Mcp-Session-Id");
    EXPECT_FALSE(id.empty());
    return id;
  }

  McpResponse Ping(const std::string& session, const std::string& agent = "agent-1") {
    return endpoint_->Post(Request(R"({"jsonrpc":"2.0","id":9,"method":"ping"})", session, agent));
  }

  static json Body(const McpResponse& response) { return json::parse(response.body); }

  static void ExpectHttpError(const McpResponse& response, int status, int code) {
    EXPECT_EQ(response.status, status) << response.body;
    EXPECT_EQ(response.content_type, "application/json");
    const json body = Body(response);
    EXPECT_EQ(body["jsonrpc"], "2.0");
    EXPECT_TRUE(body.contains("id"));
    EXPECT_EQ(body["error"]["code"], code) << response.body;
    EXPECT_TRUE(body["error"]["message"].is_string());
  }

  FakeTools tools_;
  ManualClock clock_{TimePoint{} + std::chrono::hours(24 * 365 * 50)};
  EndpointOptions options_{.server_name = "agent-swarm", .server_version = "9.9.9"};
  std::atomic<int> agent_checks_{0};
  std::unique_ptr<Endpoint> endpoint_;
};

// --- initialize (the spec's lifecycle examples) ---

TEST_F(EndpointTest, InitializeAnswersTheSpecsExampleAndOpensASession) {
  const McpResponse response = endpoint_->Post(Request(InitializeBody("2025-06-18")));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  const json body = Body(response);
  EXPECT_EQ(body["jsonrpc"], "2.0");
  EXPECT_EQ(body["id"], 1);
  const json& result = body["result"];
  EXPECT_EQ(result["protocolVersion"], "2025-06-18");
  EXPECT_EQ(result["capabilities"], json::parse(R"({"tools":{"listChanged":false}})"));
  EXPECT_EQ(result["serverInfo"], json::parse(R"({"name":"agent-swarm","version":"9.9.9"})"));
  EXPECT_NE(result["instructions"].get<std::string>().find("store-progress"), std::string::npos);
  const std::string session = Header(response, "Mcp-Session-Id");
  EXPECT_TRUE(std::regex_match(
      session, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << session;
  EXPECT_EQ(endpoint_->session_count(), 1u);
  EXPECT_EQ(Ping(session).status, 200);
}

TEST_F(EndpointTest, EverySessionGetsAFreshId) {
  std::set<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.insert(Open());
  EXPECT_EQ(ids.size(), 10u);
}

TEST_F(EndpointTest, NegotiatesTheProtocolVersion) {
  const std::pair<std::string, std::string> cases[] = {
      {"2025-11-25", "2025-11-25"}, {"2025-06-18", "2025-06-18"}, {"2025-03-26", "2025-03-26"},
      {"2024-11-05", "2025-11-25"},  // unsupported: we answer our latest, the client decides
      {"1.0.0", "2025-11-25"},
  };
  for (const auto& [asked, answered] : cases) {
    const McpResponse response = endpoint_->Post(Request(InitializeBody(asked)));
    ASSERT_EQ(response.status, 200) << asked;
    EXPECT_EQ(Body(response)["result"]["protocolVersion"], answered) << asked;
  }
}

TEST_F(EndpointTest, InitializeNeedsAProtocolVersion) {
  for (const char* body :
       {R"({"jsonrpc":"2.0","id":1,"method":"initialize"})",
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}})",
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":5}})"}) {
    ExpectHttpError(endpoint_->Post(Request(body)), 400, -32602);
  }
  EXPECT_EQ(endpoint_->session_count(), 0u);
}

TEST_F(EndpointTest, InitializeNeedsARegisteredAgent) {
  const McpResponse missing = endpoint_->Post(Request(InitializeBody(), "", ""));
  ExpectHttpError(missing, 401, -32000);
  EXPECT_EQ(Body(missing)["id"], 1);
  EXPECT_EQ(agent_checks_, 0);

  const McpResponse unknown = endpoint_->Post(Request(InitializeBody(), "", "stranger"));
  ExpectHttpError(unknown, 401, -32000);
  EXPECT_EQ(Body(unknown)["error"]["message"], "Agent not found");

  const McpResponse broken = endpoint_->Post(Request(InitializeBody(), "", "broken"));
  ExpectHttpError(broken, 503, -32000);
  EXPECT_EQ(broken.body.find("database"), std::string::npos);  // internals stay in the log
  EXPECT_EQ(endpoint_->session_count(), 0u);
  EXPECT_TRUE(Header(unknown, "Mcp-Session-Id").empty());
}

TEST_F(EndpointTest, InitializeWithASessionIdIsInvalid) {
  const std::string session = Open();
  ExpectHttpError(endpoint_->Post(Request(InitializeBody(), session)), 400, -32600);
  ExpectHttpError(endpoint_->Post(Request(InitializeBody(), "made-up")), 400, -32600);
  EXPECT_EQ(endpoint_->session_count(), 1u);
}

// --- notifications and client responses ---

TEST_F(EndpointTest, NotificationsAndResponsesAreAcceptedWithoutABody) {
  const std::string session = Open();
  for (const char* body :
       {R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
        R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":4}})",
        R"({"jsonrpc":"2.0","method":"notifications/whatever-comes-next"})",
        R"({"jsonrpc":"2.0","id":"srv-1","result":{}})",
        R"({"jsonrpc":"2.0","id":"srv-2","error":{"code":-1,"message":"no"}})"}) {
    const McpResponse response = endpoint_->Post(Request(body, session));
    EXPECT_EQ(response.status, 202) << body;
    EXPECT_TRUE(response.body.empty()) << body;
    EXPECT_TRUE(response.content_type.empty()) << body;
  }
}

TEST_F(EndpointTest, NotificationsNeedAValidSessionToo) {
  const char* body = R"({"jsonrpc":"2.0","method":"notifications/initialized"})";
  ExpectHttpError(endpoint_->Post(Request(body)), 400, -32600);
  ExpectHttpError(endpoint_->Post(Request(body, "gone")), 404, -32001);
  ExpectHttpError(endpoint_->Post(Request(body, Open(), "agent-2")), 401, -32000);
}

// --- methods ---

TEST_F(EndpointTest, PingAnswersAnEmptyResult) {
  const McpResponse response =
      endpoint_->Post(Request(R"({"jsonrpc":"2.0","id":"123","method":"ping"})", Open()));
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(Body(response), json::parse(R"({"jsonrpc":"2.0","id":"123","result":{}})"));
}

TEST_F(EndpointTest, ToolsListAnswersTheSpecsExample) {
  const McpResponse response = endpoint_->Post(Request(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"optional-cursor-value"}})",
      Open()));
  ASSERT_EQ(response.status, 200) << response.body;
  const json result = Body(response)["result"];
  EXPECT_FALSE(result.contains("nextCursor"));
  ASSERT_EQ(result["tools"].size(), 2u);
  EXPECT_EQ(result["tools"][0], json::parse(R"({
      "name": "get_weather",
      "title": "Weather Information Provider",
      "description": "Get current weather information for a location",
      "inputSchema": {"type": "object",
                      "properties": {"location": {"type": "string",
                                                  "description": "City name or zip code"}},
                      "required": ["location"]}})"));
  EXPECT_EQ(result["tools"][1]["name"], "store-progress");
  // Served from the cache the second time, same answer.
  const McpResponse again =
      endpoint_->Post(Request(R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})", Open()));
  EXPECT_EQ(Body(again)["result"], result);
}

TEST_F(EndpointTest, ToolsCallAnswersTheSpecsExampleAndPassesTheCaller) {
  tools_.outcome.text =
      "Current weather in New York:\nTemperature: 72°F\nConditions: Partly cloudy";
  McpRequest request = Request(
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call",
          "params":{"name":"get_weather","arguments":{"location":"New York"}}})",
      Open());
  request.source_task_id = "task-7";
  request.token_task_id = "task-8";
  const McpResponse response = endpoint_->Post(request);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(Body(response), json::parse(R"({"jsonrpc":"2.0","id":2,"result":{
      "content":[{"type":"text","text":
          "Current weather in New York:\nTemperature: 72°F\nConditions: Partly cloudy"}],
      "isError":false}})"));
  EXPECT_EQ(tools_.last_name, "get_weather");
  EXPECT_EQ(tools_.last_arguments, json::parse(R"({"location":"New York"})"));
  EXPECT_EQ(tools_.last_caller.agent_id, "agent-1");
  EXPECT_EQ(tools_.last_caller.source_task_id, std::optional<std::string>("task-7"));
  EXPECT_EQ(tools_.last_caller.token_task_id, std::optional<std::string>("task-8"));
}

TEST_F(EndpointTest, ToolsCallCarriesStructuredContentAndToolErrors) {
  tools_.outcome.structured = {{"success", false}, {"message", "output does not match"}};
  tools_.outcome.text = "output does not match the schema: /count must be integer";
  tools_.outcome.is_error = true;
  const McpResponse response = endpoint_->Post(Request(
      R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"store-progress",
          "arguments":{"taskId":"t","status":"completed"}}})",
      Open()));
  ASSERT_EQ(response.status, 200);
  const json result = Body(response)["result"];
  EXPECT_EQ(result["isError"], true);
  EXPECT_EQ(result["structuredContent"], tools_.outcome.structured);
  EXPECT_EQ(result["content"][0]["text"], tools_.outcome.text);
}

TEST_F(EndpointTest, ToolsCallWithoutArgumentsPassesAnEmptyObject) {
  const std::string session = Open();
  for (const char* body :
       {R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"store-progress"}})",
        R"({"jsonrpc":"2.0","id":1,"method":"tools/call",
            "params":{"name":"store-progress","arguments":null}})"}) {
    tools_.last_arguments = nullptr;
    ASSERT_EQ(endpoint_->Post(Request(body, session)).status, 200);
    EXPECT_EQ(tools_.last_arguments, json::object()) << body;
  }
}

TEST_F(EndpointTest, ToolErrorsBecomeTheSpecsJsonRpcErrors) {
  const std::string session = Open();
  const char* call = R"({"jsonrpc":"2.0","id":3,"method":"tools/call",
                         "params":{"name":"invalid_tool_name","arguments":{}}})";
  tools_.error_code = ErrorCode::kNotFound;
  tools_.error_message = "Unknown tool: invalid_tool_name";
  McpResponse response = endpoint_->Post(Request(call, session));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(Body(response), json::parse(R"({"jsonrpc":"2.0","id":3,"error":{"code":-32602,
                                              "message":"Unknown tool: invalid_tool_name"}})"));

  const std::pair<ErrorCode, int> cases[] = {{ErrorCode::kBadRequest, -32602},
                                             {ErrorCode::kForbidden, -32603},
                                             {ErrorCode::kUnavailable, -32603},
                                             {ErrorCode::kInternal, -32603}};
  for (const auto& [code, rpc] : cases) {
    tools_.error_code = code;
    tools_.error_message = "reason " + std::to_string(rpc);
    response = endpoint_->Post(Request(call, session));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(Body(response)["error"]["code"], rpc);
    EXPECT_EQ(Body(response)["error"]["message"], tools_.error_message);
  }
}

TEST_F(EndpointTest, AToolThatThrowsIsAnInternalError) {
  tools_.throws = true;
  const std::string session = Open();
  const McpResponse response = endpoint_->Post(
      Request(R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_weather"}})",
              session));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(Body(response)["error"]["code"], -32603);
  EXPECT_EQ(Body(response)["error"]["message"].get<std::string>().find("boom"), std::string::npos);
  EXPECT_EQ(Ping(session).status, 200);
}

TEST_F(EndpointTest, ToolsCallWithBadParamsIsInvalidParamsAndRunsNothing) {
  const std::string session = Open();
  for (const char* params :
       {R"({})", R"({"name":7})", R"({"name":null})", R"({"name":"get_weather","arguments":[1]})",
        R"({"name":"get_weather","arguments":"location=NY"})"}) {
    const std::string body =
        std::string(R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":)") + params + "}";
    const McpResponse response = endpoint_->Post(Request(body, session));
    EXPECT_EQ(response.status, 200) << params;
    EXPECT_EQ(Body(response)["error"]["code"], -32602) << params;
    EXPECT_EQ(Body(response)["id"], 4);
  }
  ExpectHttpError(
      endpoint_->Post(Request(R"({"jsonrpc":"2.0","id":4,"method":"tools/call"})", session)), 200,
      -32602);
  EXPECT_EQ(tools_.calls, 0);
}

TEST_F(EndpointTest, AnUnknownMethodIsMethodNotFound) {
  const McpResponse response =
      endpoint_->Post(Request(R"({"jsonrpc":"2.0","id":"x","method":"resources/list"})", Open()));
  EXPECT_EQ(response.status, 200);
  const json body = Body(response);
  EXPECT_EQ(body["id"], "x");
  EXPECT_EQ(body["error"]["code"], -32601);
  EXPECT_EQ(body["error"]["data"]["method"], "resources/list");
}

// --- malformed input ---

TEST_F(EndpointTest, MalformedJsonIsAParseError) {
  const std::string session = Open();
  for (const std::string& body : {std::string("{"), std::string(""), std::string("{\"jsonrpc\":"),
                                  std::string("not json"), std::string("{\"a\":1} trailing")}) {
    const McpResponse response = endpoint_->Post(Request(body, session));
    ExpectHttpError(response, 400, -32700);
    EXPECT_TRUE(Body(response)["id"].is_null());
  }
}

TEST_F(EndpointTest, JsonNestedBeyondTheLimitIsRefusedWhileParsing) {
  options_.max_json_depth = 8;
  Rebuild();
  const std::string session = Open();
  const std::string deep = R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":)" +
                           std::string(20, '[') + std::string(20, ']') + "}}";
  ExpectHttpError(endpoint_->Post(Request(deep, session)), 400, -32700);
}

TEST_F(EndpointTest, ABodyParsedByTheCallerAnswersAsOneParsedHere) {
  options_.max_json_depth = 8;
  Rebuild();
  const std::string session = Open();
  const std::string ping = R"({"jsonrpc":"2.0","id":5,"method":"ping"})";
  const McpResponse answered = endpoint_->Post(Request(ping, session), endpoint_->ParseBody(ping));
  EXPECT_EQ(answered.status, 200);
  EXPECT_EQ(Body(answered)["id"], 5);
  // ParseBody applies this endpoint's limits, and a parse error is answered as Post's own is:
  // after the header checks.
  const std::string deep = std::string(20, '[') + std::string(20, ']');
  ASSERT_FALSE(endpoint_->ParseBody(deep));
  ExpectHttpError(endpoint_->Post(Request(deep, session), endpoint_->ParseBody(deep)), 400, -32700);
  McpRequest plain = Request("{", session);
  plain.content_type = "text/plain";
  ExpectHttpError(endpoint_->Post(plain, endpoint_->ParseBody("{")), 415, -32000);
}

TEST_F(EndpointTest, ABatchIsRefused) {
  const McpResponse response = endpoint_->Post(Request(
      R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}])",
      Open()));
  ExpectHttpError(response, 400, -32600);
  EXPECT_EQ(Body(response)["error"]["message"], "batches are not supported");
}

TEST_F(EndpointTest, AnInvalidRequestEchoesAUsableId) {
  const std::string session = Open();
  McpResponse response =
      endpoint_->Post(Request(R"({"jsonrpc":"1.0","id":77,"method":"ping"})", session));
  ExpectHttpError(response, 400, -32600);
  EXPECT_EQ(Body(response)["id"], 77);
  response = endpoint_->Post(Request(R"({"jsonrpc":"2.0","id":{"x":1},"method":"ping"})", session));
  ExpectHttpError(response, 400, -32600);
  EXPECT_TRUE(Body(response)["id"].is_null());
  response = endpoint_->Post(
      Request(R"({"jsonrpc":"2.0","id":"q","method":"ping","params":[]})", session));
  ExpectHttpError(response, 400, -32600);
  EXPECT_EQ(Body(response)["id"], "q");
}

TEST_F(EndpointTest, ABodyOverTheLimitIs413) {
  options_.max_body_bytes = 1000;
  Rebuild();
  const std::string session = Open();
  const std::string body = R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":")" +
                           std::string(2000, 'x') + R"("}})";
  const McpResponse response = endpoint_->Post(Request(body, session));
  ExpectHttpError(response, 413, -32000);
  EXPECT_NE(Body(response)["error"]["message"].get<std::string>().find("1000"), std::string::npos);
  EXPECT_EQ(tools_.calls, 0);
}

TEST_F(EndpointTest, ContentTypeMustBeJson) {
  const std::string session = Open();
  for (const char* type : {"", "text/plain", "application/x-www-form-urlencoded",
                           "application/jsonx", "text/event-stream"}) {
    McpRequest request = Request(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", session);
    request.content_type = type;
    ExpectHttpError(endpoint_->Post(request), 415, -32000);
  }
  for (const char* type : {"application/json; charset=utf-8", "Application/JSON"}) {
    McpRequest request = Request(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", session);
    request.content_type = type;
    EXPECT_EQ(endpoint_->Post(request).status, 200) << type;
  }
}

TEST_F(EndpointTest, AcceptMustListJsonOrAnEventStream) {
  const std::string session = Open();
  for (const char* accept : {"", "text/html", "application/xml, text/plain"}) {
    McpRequest request = Request(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", session);
    request.accept = accept;
    ExpectHttpError(endpoint_->Post(request), 406, -32000);
  }
  for (const char* accept : {"application/json", "*/*", "text/html, application/*;q=0.5",
                             "text/event-stream;q=1, application/json"}) {
    McpRequest request = Request(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", session);
    request.accept = accept;
    const McpResponse response = endpoint_->Post(request);
    EXPECT_EQ(response.status, 200) << accept;
    EXPECT_EQ(response.content_type, "application/json") << accept;
  }
}

TEST_F(EndpointTest, AClientThatAcceptsOnlyAnEventStreamGetsOneSseMessage) {
  McpRequest init = Request(InitializeBody());
  init.accept = "text/event-stream";
  const McpResponse opened = endpoint_->Post(init);
  ASSERT_EQ(opened.status, 200);
  EXPECT_EQ(opened.content_type, "text/event-stream");
  const std::string session = Header(opened, "Mcp-Session-Id");
  ASSERT_FALSE(session.empty());

  tools_.outcome.text = "line one\nline two";
  McpRequest call = Request(
      R"({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"get_weather"}})", session);
  call.accept = "text/event-stream";
  const McpResponse response = endpoint_->Post(call);
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "text/event-stream");
  const std::string prefix = "event: message\ndata: ";
  ASSERT_TRUE(response.body.starts_with(prefix)) << response.body;
  ASSERT_TRUE(response.body.ends_with("\n\n"));
  const std::string data =
      response.body.substr(prefix.size(), response.body.size() - prefix.size() - 2);
  EXPECT_EQ(data.find('\n'), std::string::npos);  // one data line
  EXPECT_EQ(json::parse(data)["result"]["content"][0]["text"], "line one\nline two");

  // Notifications stay 202 without a body whatever the client accepts.
  McpRequest note = Request(R"({"jsonrpc":"2.0","method":"notifications/initialized"})", session);
  note.accept = "text/event-stream";
  EXPECT_EQ(endpoint_->Post(note).status, 202);
}

TEST_F(EndpointTest, InvalidUtf8FromAToolStillMakesValidJson) {
  tools_.outcome.text = "bytes \xC3\x28 \xFF";
  tools_.outcome.structured = {{"raw", "\xFE"}};
  const McpResponse response = endpoint_->Post(Request(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_weather"}})", Open()));
  ASSERT_EQ(response.status, 200);
  EXPECT_TRUE(json::accept(response.body));
}

// --- sessions ---

TEST_F(EndpointTest, RequestsOutsideASessionAreRefused) {
  const std::string session = Open();
  McpResponse response = Ping("");
  ExpectHttpError(response, 400, -32600);
  EXPECT_EQ(Body(response)["error"]["message"], "Mcp-Session-Id header is required");
  EXPECT_EQ(Body(response)["id"], 9);

  response = Ping("not-a-session");
  ExpectHttpError(response, 404, -32001);
  EXPECT_EQ(Body(response)["error"]["message"], "Session not found");

  ExpectHttpError(Ping(session, "agent-2"), 401, -32000);
  ExpectHttpError(Ping(session, ""), 401, -32000);
  EXPECT_EQ(Ping(session).status, 200);  // the refusals left the session alone
}

TEST_F(EndpointTest, AnUnsupportedProtocolVersionHeaderIs400) {
  const std::string session = Open();
  McpRequest request = Request(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", session);
  request.protocol_version = "2024-11-05";
  ExpectHttpError(endpoint_->Post(request), 400, -32600);
  request.protocol_version = "2025-03-26";
  EXPECT_EQ(endpoint_->Post(request).status, 200);
  request.protocol_version = "2025-11-25";
  EXPECT_EQ(endpoint_->Post(request).status, 200);
}

TEST_F(EndpointTest, AnAgentAtItsCapLosesItsLeastRecentlyUsedSession) {
  options_.max_sessions_per_agent = 2;
  Rebuild();
  const std::string other = Open("agent-2");
  const std::string first = Open();
  clock_.Advance(minutes(1));
  const std::string second = Open();
  clock_.Advance(minutes(1));
  EXPECT_EQ(Ping(first).status, 200);  // now `second` is the least recently used
  const std::string third = Open();
  EXPECT_EQ(Ping(second).status, 404);
  EXPECT_EQ(Ping(first).status, 200);
  EXPECT_EQ(Ping(third).status, 200);
  EXPECT_EQ(Ping(other, "agent-2").status, 200);
  EXPECT_EQ(endpoint_->session_count(), 3u);
}

TEST_F(EndpointTest, AFullServerLosesItsLeastRecentlyUsedSession) {
  options_.max_sessions_total = 3;
  Rebuild();
  const std::string a1 = Open("agent-1");
  const std::string b1 = Open("agent-2");
  const std::string a2 = Open("agent-1");
  EXPECT_EQ(Ping(a1).status, 200);
  const std::string c1 = Open("agent-3");
  EXPECT_EQ(Ping(b1, "agent-2").status, 404);
  EXPECT_EQ(Ping(a1).status, 200);
  EXPECT_EQ(Ping(a2).status, 200);
  EXPECT_EQ(Ping(c1, "agent-3").status, 200);
  EXPECT_EQ(endpoint_->session_count(), 3u);
}

TEST_F(EndpointTest, IdleSessionsExpireAndUseRefreshesTheClock) {
  options_.idle_timeout = minutes(10);
  Rebuild();
  const std::string busy = Open();
  const std::string idle = Open();
  clock_.Advance(minutes(9));
  EXPECT_EQ(Ping(busy).status, 200);
  EXPECT_EQ(endpoint_->ExpireIdle(), 0u);
  clock_.Advance(minutes(2));  // idle: 11 min, busy: 2 min
  EXPECT_EQ(endpoint_->ExpireIdle(), 1u);
  EXPECT_EQ(Ping(idle).status, 404);
  EXPECT_EQ(Ping(busy).status, 200);
  clock_.Advance(minutes(10));  // exactly the timeout is not longer than it
  EXPECT_EQ(endpoint_->ExpireIdle(), 0u);
  clock_.Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(endpoint_->ExpireIdle(), 1u);
  EXPECT_EQ(Ping(busy).status, 404);
  EXPECT_EQ(endpoint_->session_count(), 0u);
}

TEST_F(EndpointTest, DeleteEndsTheSession) {
  const std::string session = Open();
  McpRequest request = Request("", session);
  request.method = "DELETE";

  McpRequest no_header = request;
  no_header.session_id.clear();
  ExpectHttpError(endpoint_->Delete(no_header), 400, -32600);
  McpRequest other = request;
  other.agent_id = "agent-2";
  ExpectHttpError(endpoint_->Delete(other), 401, -32000);
  EXPECT_EQ(Ping(session).status, 200);

  const McpResponse deleted = endpoint_->Delete(request);
  EXPECT_EQ(deleted.status, 204);
  EXPECT_TRUE(deleted.body.empty());
  EXPECT_EQ(endpoint_->session_count(), 0u);
  ExpectHttpError(Ping(session), 404, -32001);
  ExpectHttpError(endpoint_->Delete(request), 404, -32001);
}

// --- the GET stream ---

TEST_F(EndpointTest, OneStreamPerSession) {
  const std::string session = Open();
  McpRequest get = Request("", session);
  get.method = "GET";
  get.accept = "text/event-stream";

  auto opened = endpoint_->OpenStream(get);
  ASSERT_TRUE(std::holds_alternative<Endpoint::OpenedStream>(opened));
  EXPECT_EQ(std::get<Endpoint::OpenedStream>(opened).session_id, session);
  EXPECT_TRUE(endpoint_->StreamAlive(session));

  auto again = endpoint_->OpenStream(get);
  ASSERT_TRUE(std::holds_alternative<McpResponse>(again));
  ExpectHttpError(std::get<McpResponse>(again), 409, -32000);

  endpoint_->CloseStream(session);
  EXPECT_FALSE(endpoint_->StreamAlive(session));
  EXPECT_TRUE(std::holds_alternative<Endpoint::OpenedStream>(endpoint_->OpenStream(get)));
  EXPECT_FALSE(endpoint_->StreamAlive("unknown"));
  endpoint_->CloseStream("unknown");  // harmless
}

TEST_F(EndpointTest, OpenStreamRefusesWhatPostRefuses) {
  const std::string session = Open();
  McpRequest get = Request("", session);
  get.method = "GET";
  get.accept = "text/event-stream";
  struct Case {
    std::function<void(McpRequest&)> change;
    int status;
  };
  const Case cases[] = {
      {[](McpRequest& r) { r.accept = "application/json"; }, 406},
      {[](McpRequest& r) { r.session_id.clear(); }, 400},
      {[](McpRequest& r) { r.session_id = "unknown"; }, 404},
      {[](McpRequest& r) { r.agent_id = "agent-2"; }, 401},
  };
  for (const Case& c : cases) {
    McpRequest request = get;
    c.change(request);
    auto result = endpoint_->OpenStream(request);
    ASSERT_TRUE(std::holds_alternative<McpResponse>(result)) << c.status;
    EXPECT_EQ(std::get<McpResponse>(result).status, c.status);
  }
  EXPECT_FALSE(endpoint_->StreamAlive(session));
}

TEST_F(EndpointTest, EndingTheSessionEndsItsStream) {
  options_.max_sessions_per_agent = 1;
  options_.idle_timeout = minutes(5);
  Rebuild();
  McpRequest get;
  get.method = "GET";
  get.accept = "text/event-stream";
  get.agent_id = "agent-1";

  // DELETE
  get.session_id = Open();
  ASSERT_TRUE(std::holds_alternative<Endpoint::OpenedStream>(endpoint_->OpenStream(get)));
  EXPECT_EQ(endpoint_->Delete(get).status, 204);
  EXPECT_FALSE(endpoint_->StreamAlive(get.session_id));

  // eviction by a newer session of the same agent
  get.session_id = Open();
  ASSERT_TRUE(std::holds_alternative<Endpoint::OpenedStream>(endpoint_->OpenStream(get)));
  const std::string newer = Open();
  EXPECT_FALSE(endpoint_->StreamAlive(get.session_id));

  // idling
  get.session_id = newer;
  ASSERT_TRUE(std::holds_alternative<Endpoint::OpenedStream>(endpoint_->OpenStream(get)));
  clock_.Advance(minutes(6));
  EXPECT_EQ(endpoint_->ExpireIdle(), 1u);
  EXPECT_FALSE(endpoint_->StreamAlive(newer));

  // server shutdown
  get.session_id = Open();
  McpRequest other = get;
  other.agent_id = "agent-2";
  other.session_id = Open("agent-2");
  ASSERT_TRUE(std::holds_alternative<Endpoint::OpenedStream>(endpoint_->OpenStream(get)));
  ASSERT_TRUE(std::holds_alternative<Endpoint::OpenedStream>(endpoint_->OpenStream(other)));
  endpoint_->CloseAll();
  EXPECT_FALSE(endpoint_->StreamAlive(get.session_id));
  EXPECT_FALSE(endpoint_->StreamAlive(other.session_id));
  EXPECT_EQ(endpoint_->session_count(), 0u);
}

// --- threads ---

TEST_F(EndpointTest, ARunningToolBlocksNoOtherRequest) {
  const std::string session = Open();
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  tools_.block = [&] {
    entered.set_value();
    released.wait_for(std::chrono::seconds(10));
  };
  auto call = std::async(std::launch::async, [&] {
    return endpoint_->Post(
        Request(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_weather"}})",
                session));
  });
  ASSERT_EQ(entered.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  // The endpoint's lock is free while the tool runs: sessions open, pings answer, streams open.
  EXPECT_EQ(Ping(session).status, 200);
  const std::string another = Open("agent-2");
  EXPECT_EQ(Ping(another, "agent-2").status, 200);
  EXPECT_EQ(endpoint_->session_count(), 2u);
  release.set_value();
  ASSERT_EQ(call.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(call.get().status, 200);
}

TEST_F(EndpointTest, ManyThreadsAtOnce) {
  options_.max_sessions_per_agent = 4;
  options_.max_sessions_total = 6;
  Rebuild();
  std::vector<std::thread> threads;
  std::atomic<int> unexpected{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string agent = t % 2 == 0 ? "agent-1" : "agent-2";
      for (int i = 0; i < 50; ++i) {
        const McpResponse init = endpoint_->Post(Request(InitializeBody(), "", agent));
        if (init.status != 200) ++unexpected;
        const std::string session = init.headers.empty() ? "" : init.headers[0].second;
        // The session may be evicted by another thread at once: 200 or 404, nothing else.
        const int status = Ping(session, agent).status;
        if (status != 200 && status != 404) ++unexpected;
        if (i % 10 == 0) endpoint_->ExpireIdle();
        if (i % 7 == 0) {
          McpRequest del = Request("", session, agent);
          const int deleted = endpoint_->Delete(del).status;
          if (deleted != 204 && deleted != 404) ++unexpected;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(unexpected, 0);
  EXPECT_LE(endpoint_->session_count(), 6u);
}

}  // namespace
}  // namespace swarm::mcp
