#include "stub_llm/answer.h"

namespace swarm::stub_llm {

void Answer::Overlay(const Answer& other) {
  if (other.reply) reply = other.reply;
  if (other.shell || other.tool) {
    shell = other.shell;
    tool = other.tool;
    mcp.reset();
    mcp_retry.reset();
  }
  if (other.mcp) {
    mcp = other.mcp;
    shell.reset();
    tool.reset();
  }
  if (other.mcp_retry) mcp_retry = other.mcp_retry;
  if (other.status) status = other.status;
  if (other.error) error = other.error;
  if (other.retry) retry = other.retry;
  if (other.delay) delay = other.delay;
}

}  // namespace swarm::stub_llm
