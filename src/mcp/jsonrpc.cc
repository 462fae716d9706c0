#include "mcp/jsonrpc.h"

#include <utility>

namespace swarm::mcp::jsonrpc {
namespace {

using nlohmann::json;

bool IsUsableId(const json& id) { return id.is_string() || id.is_number(); }

tl::unexpected<RpcError> Invalid(std::string message, json id = nullptr) {
  return tl::unexpected<RpcError>(RpcError{kInvalidRequest, std::move(message), std::move(id)});
}

}  // namespace

tl::expected<Message, RpcError> Classify(json value) {
  if (value.is_array()) return Invalid("batches are not supported");
  if (!value.is_object()) return Invalid("a JSON-RPC message must be an object");

  const auto id_it = value.find("id");
  const bool has_id = id_it != value.end();
  json echo_id = has_id && IsUsableId(*id_it) ? *id_it : json(nullptr);

  const auto version = value.find("jsonrpc");
  if (version == value.end() || !version->is_string() ||
      version->get_ref<const std::string&>() != "2.0") {
    return Invalid("\"jsonrpc\" must be \"2.0\"", std::move(echo_id));
  }

  if (const auto method = value.find("method"); method != value.end()) {
    if (!method->is_string()) return Invalid("\"method\" must be a string", std::move(echo_id));
    Message message;
    if (const auto params = value.find("params"); params != value.end()) {
      if (!params->is_object()) return Invalid("\"params\" must be an object", std::move(echo_id));
      message.params = std::move(*params);
    }
    message.method = std::move(method->get_ref<std::string&>());
    if (!has_id) {
      message.kind = Kind::kNotification;
      return message;
    }
    // MCP narrows JSON-RPC here: a request id is never null.
    if (!IsUsableId(*id_it)) return Invalid("\"id\" must be a string or a number");
    message.kind = Kind::kRequest;
    message.id = *id_it;
    return message;
  }

  // A response to a request of ours: an id (null only when the client could not read ours)
  // and exactly one of result and error.
  const bool has_result = value.contains("result");
  const auto error = value.find("error");
  const bool has_error = error != value.end();
  if (!has_id || !(IsUsableId(*id_it) || id_it->is_null()) || has_result == has_error ||
      (has_error && !error->is_object())) {
    return Invalid("not a JSON-RPC request, notification or response", std::move(echo_id));
  }
  Message message;
  message.kind = Kind::kResponse;
  message.id = *id_it;
  return message;
}

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string RawResultResponse(const json& id, std::string_view result_json) {
  std::string out = R"({"jsonrpc":"2.0","id":)";
  out += Dump(id);
  out += R"(,"result":)";
  out += result_json;
  out += '}';
  return out;
}

std::string ResultResponse(const json& id, const json& result) {
  return RawResultResponse(id, Dump(result));
}

std::string ErrorResponse(const json& id, int code, std::string_view message, const json& data) {
  json error = {{"code", code}, {"message", message}};
  if (!data.is_null()) error["data"] = data;
  std::string out = R"({"jsonrpc":"2.0","id":)";
  out += Dump(id);
  out += R"(,"error":)";
  out += Dump(error);
  out += '}';
  return out;
}

}  // namespace swarm::mcp::jsonrpc
