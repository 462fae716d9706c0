// The OpenAI Responses API reply (Codex; pi's openai-responses provider). The stream is the
// full event sequence: response.created, response.in_progress, response.output_item.added,
// then for text response.content_part.added, response.output_text.delta…,
// response.output_text.done, response.content_part.done (for a tool call
// response.function_call_arguments.delta…, .done), then response.output_item.done and
// response.completed with the response id and usage. Codex needs only the last two; pi builds
// its text from output_item.added and the deltas.
#pragma once

#include "http/message.h"
#include "stub_llm/model_reply.h"

namespace swarm::stub_llm {

http::HttpResponse EncodeResponses(const ModelReply& reply, bool stream);

}  // namespace swarm::stub_llm
