#include "stub_llm/answer.h"

namespace swarm::stub_llm {

void Answer::Overlay(const Answer& other) {
  if (other.reply) reply = other.reply;
  if (other.shell) {
    shell = other.shell;
    tool.reset();
  }
  if (other.tool) {
    tool = other.tool;
    shell.reset();
  }
  if (other.status) status = other.status;
  if (other.error) error = other.error;
  if (other.retry) retry = other.retry;
  if (other.delay) delay = other.delay;
}

}  // namespace swarm::stub_llm
