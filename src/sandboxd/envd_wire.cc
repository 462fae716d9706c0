#include "sandboxd/envd_wire.h"

#include <signal.h>

#include <fmt/format.h>
#include <boost/beast/core/detail/base64.hpp>

#include "http/query.h"

namespace swarm::sandboxd {
namespace {

namespace b64 = boost::beast::detail::base64;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The value of `name=` in a header's parameters ("multipart/form-data; boundary=xyz").
std::string HeaderParam(std::string_view header, std::string_view name) {
  const std::string lower = Lower(header);
  const std::string key = std::string(name) + "=";
  std::size_t at = 0;
  while ((at = lower.find(key, at)) != std::string::npos) {
    if (at == 0 || lower[at - 1] == ';' || lower[at - 1] == ' ') break;
    at += key.size();
  }
  if (at == std::string::npos) return "";
  std::string_view value = header.substr(at + key.size());
  if (!value.empty() && value.front() == '"') {
    value.remove_prefix(1);
    return std::string(value.substr(0, value.find('"')));
  }
  return std::string(value.substr(0, value.find(';')));
}

}  // namespace

http::HttpResponse E2bError(int status, std::string_view message) {
  http::HttpResponse response;
  response.status = status;
  response.body = nlohmann::json{{"code", status}, {"message", message}}.dump();
  return response;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(b64::encoded_size(bytes.size()), '\0');
  out.resize(b64::encode(out.data(), bytes.data(), bytes.size()));
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  std::string out(b64::decoded_size(text.size()) + 3, '\0');
  auto [written, read] = b64::decode(out.data(), text.data(), text.size());
  // Beast stops at the padding: what it did not read may only be that padding.
  const std::string_view rest = text.substr(read);
  if (rest.size() > 2 || rest.find_first_not_of('=') != std::string_view::npos) {
    return BadRequest("invalid base64");
  }
  out.resize(written);
  return out;
}

nlohmann::json ProcessEventJson(const sandbox::ProcessEvent& event, int pid) {
  using Kind = sandbox::ProcessEvent::Kind;
  nlohmann::json inner;
  switch (event.kind) {
    case Kind::kStart:
      inner = {{"start", {{"pid", pid}}}};
      break;
    case Kind::kStdout:
      inner = {{"data", {{"stdout", Base64Encode(event.data)}}}};
      break;
    case Kind::kStderr:
      inner = {{"data", {{"stderr", Base64Encode(event.data)}}}};
      break;
    case Kind::kEnd: {
      nlohmann::json end = {
          {"exitCode", event.exit_code}, {"exited", event.exited}, {"status", event.status}};
      if (!(event.exited && event.exit_code == 0)) end["error"] = event.status;
      inner = {{"end", std::move(end)}};
      break;
    }
  }
  return {{"event", std::move(inner)}};
}

namespace {

Result<std::string> StringField(const nlohmann::json& object, const char* name) {
  if (!object.contains(name) || object[name].is_null()) return std::string();
  if (!object[name].is_string()) return BadRequest(fmt::format("{} must be a string", name));
  return object[name].get<std::string>();
}

}  // namespace

Result<sandbox::StartSpec> ParseStartRequest(const nlohmann::json& request) {
  if (!request.is_object()) return BadRequest("the request must be a JSON object");
  if (!request.contains("process") || !request["process"].is_object()) {
    return BadRequest("process is required");
  }
  const auto& process = request["process"];
  sandbox::StartSpec start;
  auto cmd = StringField(process, "cmd");
  if (!cmd) return tl::unexpected(cmd.error());
  if (cmd->empty()) return BadRequest("process.cmd is required");
  start.config.cmd = *cmd;
  if (process.contains("args") && !process["args"].is_null()) {
    if (!process["args"].is_array()) return BadRequest("process.args must be an array");
    for (const auto& arg : process["args"]) {
      if (!arg.is_string()) return BadRequest("process.args must hold strings");
      start.config.args.push_back(arg.get<std::string>());
    }
  }
  if (process.contains("envs") && !process["envs"].is_null()) {
    if (!process["envs"].is_object()) return BadRequest("process.envs must be an object");
    for (const auto& [key, value] : process["envs"].items()) {
      if (!value.is_string()) return BadRequest("process.envs values must be strings");
      if (key.empty() || key.find('=') != std::string::npos) {
        return BadRequest("process.envs has an invalid name");
      }
      start.config.envs[key] = value.get<std::string>();
    }
  }
  auto cwd = StringField(process, "cwd");
  if (!cwd) return tl::unexpected(cwd.error());
  start.config.cwd = *cwd;
  auto tag = StringField(request, "tag");
  if (!tag) return tl::unexpected(tag.error());
  start.tag = *tag;
  if (request.contains("stdin") && request["stdin"].is_boolean()) {
    start.stdin = request["stdin"].get<bool>();
  }
  if (request.contains("pty") && !request["pty"].is_null()) {
    return MakeError(ErrorCode::kBadRequest, "pty is not supported by sandboxd");
  }
  return start;
}

std::string ProcessSelector::Describe() const {
  return pid ? fmt::format("pid {}", *pid) : fmt::format("tag '{}'", tag);
}

Result<ProcessSelector> ParseSelector(const nlohmann::json& request) {
  if (!request.is_object() || !request.contains("process") || !request["process"].is_object()) {
    return BadRequest("process is required");
  }
  const auto& process = request["process"];
  ProcessSelector selector;
  if (process.contains("pid")) {
    const auto& pid = process["pid"];
    if (pid.is_number_integer()) {
      selector.pid = pid.get<int>();
    } else if (pid.is_string()) {
      try {
        selector.pid = std::stoi(pid.get<std::string>());
      } catch (const std::exception&) {
        return BadRequest("process.pid must be a number");
      }
    } else {
      return BadRequest("process.pid must be a number");
    }
    return selector;
  }
  if (process.contains("tag") && process["tag"].is_string()) {
    selector.tag = process["tag"].get<std::string>();
    return selector;
  }
  return BadRequest("process needs a pid or a tag");
}

Result<int> ParseSignal(const nlohmann::json& value) {
  if (value.is_string()) {
    const auto name = value.get<std::string>();
    if (name == "SIGNAL_SIGKILL") return SIGKILL;
    if (name == "SIGNAL_SIGTERM") return SIGTERM;
  } else if (value.is_number_integer()) {
    const int number = value.get<int>();
    if (number == 9) return SIGKILL;
    if (number == 15) return SIGTERM;
  }
  return BadRequest("signal must be SIGNAL_SIGKILL or SIGNAL_SIGTERM");
}

Result<std::map<std::string, std::string>> ParseMetadataFilter(std::string_view once_decoded) {
  std::map<std::string, std::string> filter;
  const std::string pairs = http::QueryUnescape(once_decoded);
  std::string_view rest = pairs;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      return BadRequest(fmt::format("metadata filter '{}' is not key=value", pair));
    }
    filter[http::QueryUnescape(pair.substr(0, eq))] = http::QueryUnescape(pair.substr(eq + 1));
  }
  return filter;
}

Result<std::vector<UploadedFile>> ParseMultipart(std::string_view content_type,
                                                 std::string_view body, std::size_t max_parts) {
  const std::string boundary = HeaderParam(content_type, "boundary");
  if (boundary.empty()) return BadRequest("multipart body without a boundary");
  const std::string delimiter = "--" + boundary;
  std::vector<UploadedFile> files;
  std::size_t at = body.find(delimiter);
  if (at == std::string_view::npos) return BadRequest("multipart body without parts");
  while (true) {
    at += delimiter.size();
    if (body.substr(at, 2) == "--") break;  // the closing delimiter
    if (body.substr(at, 2) != "\r\n") return BadRequest("malformed multipart delimiter");
    at += 2;
    const std::size_t headers_end = body.find("\r\n\r\n", at);
    if (headers_end == std::string_view::npos) return BadRequest("malformed multipart part");
    const std::string_view headers = body.substr(at, headers_end - at);
    const std::size_t content_start = headers_end + 4;
    const std::size_t next = body.find("\r\n" + delimiter, content_start);
    if (next == std::string_view::npos) return BadRequest("multipart body is cut short");
    if (files.size() >= max_parts) return BadRequest("too many parts in the multipart body");
    UploadedFile file;
    std::string_view line_rest = headers;
    while (!line_rest.empty()) {
      const std::size_t eol = line_rest.find("\r\n");
      std::string_view line = line_rest.substr(0, eol);
      line_rest = eol == std::string_view::npos ? std::string_view() : line_rest.substr(eol + 2);
      if (Lower(line.substr(0, 20)) == "content-disposition:") {
        file.filename = HeaderParam(line, "filename");
      }
    }
    file.content = std::string(body.substr(content_start, next - content_start));
    files.push_back(std::move(file));
    at = next + 2;
  }
  return files;
}

}  // namespace swarm::sandboxd
