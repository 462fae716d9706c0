// UTF-8 validity. Text from child processes and model output can hold any bytes; JSON (and so
// every API body and log line) must be valid UTF-8.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace swarm {

// Length of the valid UTF-8 sequence starting at text[i] (1 for ASCII), or 0 if the bytes there
// are not valid UTF-8 (a stray continuation byte, a cut sequence, an overlong form, a UTF-16
// surrogate, a value past U+10FFFF).
std::size_t Utf8SequenceLength(std::string_view text, std::size_t i);

// `text` with each byte that is not part of valid UTF-8 replaced by U+FFFD.
std::string SanitizeUtf8(std::string_view text);

// The longest prefix of `text` of at most `max_bytes` that does not end inside a multi-byte
// sequence (it backs up over continuation bytes), for bounding text without splitting a
// character.
std::string_view Utf8Prefix(std::string_view text, std::size_t max_bytes);

// The first `max_chars` characters (code points) of UTF-8 `text`: it cuts before the lead byte
// of the next one, so never inside a character.
std::string_view Utf8PrefixChars(std::string_view text, std::size_t max_chars);

}  // namespace swarm
