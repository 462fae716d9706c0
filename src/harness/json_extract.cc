#include "harness/json_extract.h"

#include <cctype>
#include <vector>

#include "core/bounded_json.h"

namespace swarm::harness {
namespace {

// Bound the balanced-bracket search, which is quadratic on a reply full of brackets: no
// answer nests deeper, or starts after more stray brackets, than this.
constexpr int kMaxCandidates = 1000;
constexpr size_t kMaxDepth = 256;

// Within core/bounded_json.h's limits: a value nested deeper than the server will judge is
// no answer, and must not be one for whatever later walks it.
bool IsJson(std::string_view text) { return !text.empty() && ParseBoundedJson(text).has_value(); }

std::string_view Trim(std::string_view text) {
  const char* space = " \t\r\n";
  const size_t first = text.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(space) - first + 1);
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

std::optional<std::string_view> FromFence(std::string_view text) {
  size_t pos = 0;
  while ((pos = text.find("```", pos)) != std::string_view::npos) {
    const std::string_view rest = text.substr(pos + 3);
    if (!StartsWithNoCase(rest, "json")) {
      pos += 3;
      continue;
    }
    const size_t body = rest.find('\n');
    if (body == std::string_view::npos) return std::nullopt;
    const size_t end = rest.find("```", body);
    if (end == std::string_view::npos) return std::nullopt;
    const std::string_view inner = Trim(rest.substr(body + 1, end - body - 1));
    if (IsJson(inner)) return inner;
    pos += 3 + end + 3;
  }
  return std::nullopt;
}

// The index one past the bracket closing text[open], honouring JSON strings; npos if none.
size_t MatchingClose(std::string_view text, size_t open) {
  std::vector<char> expected;
  bool in_string = false;
  for (size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (expected.size() == kMaxDepth) return std::string_view::npos;
      expected.push_back(c == '{' ? '}' : ']');
    } else if (c == '}' || c == ']') {
      if (expected.empty() || expected.back() != c) return std::string_view::npos;
      expected.pop_back();
      if (expected.empty()) return i + 1;
    }
  }
  return std::string_view::npos;
}

std::optional<std::string_view> FromBrackets(std::string_view text) {
  int candidates = 0;
  for (size_t i = text.find_first_of("{["); i != std::string_view::npos;
       i = text.find_first_of("{[", i + 1)) {
    if (++candidates > kMaxCandidates) break;
    const size_t end = MatchingClose(text, i);
    if (end == std::string_view::npos) continue;
    const std::string_view candidate = text.substr(i, end - i);
    if (IsJson(candidate)) return candidate;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ExtractJsonValue(std::string_view text) {
  const std::string_view trimmed = Trim(text);
  if (IsJson(trimmed)) return std::string(trimmed);
  if (auto fenced = FromFence(text)) return std::string(*fenced);
  if (auto bracketed = FromBrackets(text)) return std::string(*bracketed);
  return std::nullopt;
}

}  // namespace swarm::harness
