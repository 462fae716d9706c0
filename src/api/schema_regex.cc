#include "api/schema_regex.h"

#include <cctype>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>
#include <re2/re2.h>
#include <nlohmann/json.hpp>

namespace swarm {
namespace {

using nlohmann::json;

constexpr std::size_t kCacheEntries = 512;
constexpr int64_t kMaxProgramMemory = 8 << 20;  // RE2's default; bounds huge repetitions

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// ECMA-262 spells a code point \uXXXX; RE2 spells it \x{XXXX}. Everything else RE2 accepts
// means the same, or is refused by RE2 with its own message.
std::string ToRe2Syntax(std::string_view ecma) {
  std::string out;
  out.reserve(ecma.size());
  for (std::size_t i = 0; i < ecma.size(); ++i) {
    if (ecma[i] != '\\' || i + 1 >= ecma.size()) {
      out += ecma[i];
      continue;
    }
    if (ecma[i + 1] == 'u' && i + 6 <= ecma.size() && IsHex(ecma[i + 2]) && IsHex(ecma[i + 3]) &&
        IsHex(ecma[i + 4]) && IsHex(ecma[i + 5])) {
      out += "\\x{";
      out.append(ecma.substr(i + 2, 4));
      out += '}';
      i += 5;
      continue;
    }
    out += ecma[i];
    out += ecma[i + 1];
    ++i;
  }
  return out;
}

class RegexCache {
 public:
  Result<std::shared_ptr<const re2::RE2>> Get(std::string_view pattern) {
    std::string key(pattern);
    {
      std::lock_guard lock(mu_);
      if (auto it = entries_.find(key); it != entries_.end()) return it->second;
    }
    re2::RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(kMaxProgramMemory);
    auto re = std::make_shared<const re2::RE2>(ToRe2Syntax(pattern), options);
    if (!re->ok()) {
      return BadRequest(fmt::format(
          "\"{}\" is not a regular expression this server can run ({}); patterns run with RE2, "
          "which has no lookaround and no backreferences",
          pattern, re->error()));
    }
    std::lock_guard lock(mu_);
    // Whole-cache eviction keeps this simple; schemas rarely hold more than a few patterns.
    if (entries_.size() >= kCacheEntries) entries_.clear();
    entries_.emplace(std::move(key), re);
    return re;
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const re2::RE2>> entries_;
};

RegexCache& Cache() {
  static auto* cache = new RegexCache();  // never destroyed: used until exit
  return *cache;
}

// Walks only the places draft-07 reads as subschemas, so a property *named* "pattern" or an
// enum value holding one is not mistaken for a regex. The schema was parsed with a depth
// bound, so this recursion is bounded too.
class RegexWalker {
 public:
  Result<void> Schema(const json& s, const std::string& path) {
    if (!s.is_object()) return {};
    if (auto it = s.find("pattern"); it != s.end() && it->is_string()) {
      if (auto r = Regex(it->get_ref<const std::string&>(), path + ".pattern"); !r) return r;
    }
    for (const char* key : {"properties", "definitions"}) {
      if (auto r = SchemaMap(s, key, path, /*keys_are_regexes=*/false); !r) return r;
    }
    if (auto r = SchemaMap(s, "patternProperties", path, /*keys_are_regexes=*/true); !r) return r;
    for (const char* key : {"additionalProperties", "additionalItems", "contains", "propertyNames",
                            "not", "if", "then", "else"}) {
      if (auto it = s.find(key); it != s.end()) {
        if (auto r = Schema(*it, path + "." + key); !r) return r;
      }
    }
    for (const char* key : {"items", "allOf", "anyOf", "oneOf"}) {
      auto it = s.find(key);
      if (it == s.end()) continue;
      if (it->is_array()) {
        for (std::size_t i = 0; i < it->size(); ++i) {
          if (auto r = Schema((*it)[i], fmt::format("{}.{}.{}", path, key, i)); !r) return r;
        }
      } else if (auto r = Schema(*it, path + "." + key); !r) {
        return r;
      }
    }
    if (auto it = s.find("dependencies"); it != s.end() && it->is_object()) {
      for (const auto& [name, dep] : it->items()) {
        if (auto r = Schema(dep, path + ".dependencies." + name); !r) return r;
      }
    }
    return {};
  }

 private:
  Result<void> SchemaMap(const json& s, const char* key, const std::string& path,
                         bool keys_are_regexes) {
    auto it = s.find(key);
    if (it == s.end() || !it->is_object()) return {};
    for (const auto& [name, sub] : it->items()) {
      const std::string where = path + "." + key + "." + name;
      if (keys_are_regexes) {
        if (auto r = Regex(name, where); !r) return r;
      }
      if (auto r = Schema(sub, where); !r) return r;
    }
    return {};
  }

  static Result<void> Regex(const std::string& pattern, const std::string& where) {
    auto compiled = CompileSchemaRegex(pattern);
    if (!compiled) return BadRequest(where + ": " + compiled.error().message);
    return {};
  }
};

}  // namespace

Result<std::shared_ptr<const re2::RE2>> CompileSchemaRegex(std::string_view ecma_pattern) {
  return Cache().Get(ecma_pattern);
}

bool SchemaRegexSearch(std::string_view ecma_pattern, std::string_view text) {
  auto re = CompileSchemaRegex(ecma_pattern);
  if (!re) return false;
  return re2::RE2::PartialMatch(text, **re);
}

Result<void> CheckSchemaRegexes(const json& schema) {
  return RegexWalker().Schema(schema, "outputSchema");
}

}  // namespace swarm
