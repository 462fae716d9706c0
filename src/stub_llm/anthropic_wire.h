// The Anthropic Messages API reply (Claude Code; pi's anthropic-messages provider): a message
// object, or its SSE stream message_start, ping, content_block_start, content_block_delta…,
// content_block_stop, message_delta (stop_reason, output usage), message_stop.
#pragma once

#include "http/message.h"
#include "stub_llm/model_reply.h"

namespace swarm::stub_llm {

http::HttpResponse EncodeAnthropic(const ModelReply& reply, bool stream);

// POST /v1/messages/count_tokens: {"input_tokens": N} for a body of this size.
http::HttpResponse AnthropicCountTokens(std::size_t body_bytes);

}  // namespace swarm::stub_llm
