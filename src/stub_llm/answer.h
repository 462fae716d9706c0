// An Answer is what a script rule or a prompt marker asks of one model turn; every field is
// optional so a marker can override a single field of the rule that matched.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace swarm::stub_llm {

// Scripted delays are bounded: a typo must not park a connection for a day.
inline constexpr std::chrono::milliseconds kMaxDelay{600'000};

struct ToolRequest {
  std::string name;
  nlohmann::json arguments = nlohmann::json::object();  // a string for freeform tools
};

struct Answer {
  std::optional<std::string> reply;  // the final text (also the text after a tool result)
  std::optional<std::string> shell;  // ask for this command through the offered shell tool
  std::optional<ToolRequest> tool;   // ask for this call of an offered tool
  std::optional<int> status;         // answer with this HTTP error status (400..599)
  std::optional<std::string> error;  // the message of that error
  std::optional<bool> retry;         // whether the error invites a retry (x-should-retry)
  std::optional<std::chrono::milliseconds> delay;  // wait this long before answering

  // Takes every field `other` sets. A tool call replaces a shell command and the other way
  // round, since one turn asks for one call.
  void Overlay(const Answer& other);
  bool asks_for_tool() const { return shell.has_value() || tool.has_value(); }
  bool empty() const { return !reply && !shell && !tool && !status && !error && !retry && !delay; }
};

}  // namespace swarm::stub_llm
