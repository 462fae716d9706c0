// `agent-swarm stub-llm`: a scripted model server speaking the Anthropic Messages, OpenAI
// Responses and Chat Completions APIs, so the real harness CLIs run with no credentials.
#pragma once

#include <CLI/App.hpp>

namespace swarm {

void AddStubLlmCommand(CLI::App& root);

}  // namespace swarm
