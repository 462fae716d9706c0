#include "sandbox/dotenv.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace swarm::sandbox {
namespace {

constexpr std::string_view kBlank = " \t\r\v\f";

std::string_view Trim(std::string_view text) {
  const auto first = text.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kBlank);
  return text.substr(first, last - first + 1);
}

// The body of a "double quoted" value whose opening quote is gone; stops at the closing quote.
std::string UnescapeDoubleQuoted(std::string_view rest) {
  std::string out;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const char c = rest[i];
    if (c == '"') break;
    if (c == '\\' && i + 1 < rest.size()) {
      const char next = rest[i + 1];
      switch (next) {
        case 'n':
          out += '\n';
          ++i;
          continue;
        case 'r':
          out += '\r';
          ++i;
          continue;
        case 't':
          out += '\t';
          ++i;
          continue;
        case '"':
        case '\\':
          out += next;
          ++i;
          continue;
        default:
          break;  // any other backslash is kept as written
      }
    }
    out += c;
  }
  return out;
}

std::string ParseValue(std::string_view raw) {
  std::string_view value = Trim(raw);
  if (value.empty()) return {};
  if (value.front() == '"') return UnescapeDoubleQuoted(value.substr(1));
  if (value.front() == '\'') {
    value.remove_prefix(1);
    return std::string(value.substr(0, value.find('\'')));
  }
  // An unquoted value ends where a comment starts: a `#` after whitespace.
  for (std::size_t i = 1; i < value.size(); ++i) {
    if (value[i] == '#' && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
      value = Trim(value.substr(0, i));
      break;
    }
  }
  return std::string(value);
}

}  // namespace

bool IsValidEnvKey(std::string_view key) {
  if (key.empty()) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(key.front())) return false;
  for (char c : key) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

StringMap ParseDotenv(std::string_view text) {
  StringMap out;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = Trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export ") || line.starts_with("export\t")) {
      line = Trim(line.substr(7));
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = Trim(line.substr(0, eq));
    if (!IsValidEnvKey(key)) continue;
    out[std::string(key)] = ParseValue(line.substr(eq + 1));
  }
  return out;
}

Result<StringMap> ReadDotenvFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return BadRequest(fmt::format("env file {}: cannot be read ({})", path, std::strerror(errno)));
  }
  std::string text(kMaxDotenvBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return BadRequest(fmt::format("env file {}: cannot be read", path));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxDotenvBytes) {
    return BadRequest(
        fmt::format("env file {}: larger than {} bytes, not an env file", path, kMaxDotenvBytes));
  }
  return ParseDotenv(text);
}

}  // namespace swarm::sandbox
