// The OpenAI Chat Completions reply (opencode through @ai-sdk/openai-compatible; pi's
// openai-completions provider): a chat.completion object, or a stream of `data:` chunks (no
// event names): the role, the content or tool-call pieces, the finish reason, a usage chunk
// (without it pi reports zero tokens and cost), then `data: [DONE]`.
#pragma once

#include "http/message.h"
#include "stub_llm/model_reply.h"

namespace swarm::stub_llm {

http::HttpResponse EncodeChat(const ModelReply& reply, bool stream);

}  // namespace swarm::stub_llm
