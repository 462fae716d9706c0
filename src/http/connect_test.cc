#include "http/connect.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace swarm::http::connect {
namespace {

std::vector<Envelope> DecodeAll(EnvelopeDecoder& decoder) {
  std::vector<Envelope> out;
  while (auto e = decoder.Next()) out.push_back(std::move(*e));
  return out;
}

TEST(ConnectEnvelope, HeaderIsFlagsThenBigEndianLength) {
  const std::string e = EncodeEnvelope("abc", kFlagEndStream);
  ASSERT_EQ(e.size(), 8u);
  EXPECT_EQ(e[0], '\x02');
  EXPECT_EQ(e.substr(1, 4), std::string("\0\0\0\x03", 4));
  EXPECT_EQ(e.substr(5), "abc");
  const std::string big = EncodeEnvelope(std::string(0x010203, 'x'));
  EXPECT_EQ(big.substr(0, 5), std::string("\0\x00\x01\x02\x03", 5));
}

TEST(ConnectEnvelope, SplitAtEveryByteStillDecodes) {
  const std::string stream = EncodeMessage({{"event", {{"start", {{"pid", 1}}}}}}) +
                             EncodeMessage({{"event", {{"keepalive", nlohmann::json::object()}}}}) +
                             EncodeEndStream();
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    EnvelopeDecoder decoder;
    ASSERT_TRUE(decoder.Feed(std::string_view(stream).substr(0, cut)));
    auto first = DecodeAll(decoder);
    ASSERT_TRUE(decoder.Feed(std::string_view(stream).substr(cut)));
    auto rest = DecodeAll(decoder);
    first.insert(first.end(), rest.begin(), rest.end());
    ASSERT_EQ(first.size(), 3u) << "cut at " << cut;
    EXPECT_FALSE(first[0].end_stream());
    EXPECT_TRUE(first[2].end_stream());
    EXPECT_EQ(first[2].payload, "{}");
    EXPECT_FALSE(decoder.mid_envelope());
  }
}

TEST(ConnectEnvelope, OneByteAtATime) {
  const std::string stream = EncodeMessage({{"a", 1}}) + EncodeMessage({{"b", 2}});
  EnvelopeDecoder decoder;
  std::vector<Envelope> got;
  for (char c : stream) {
    ASSERT_TRUE(decoder.Feed(std::string_view(&c, 1)));
    auto some = DecodeAll(decoder);
    got.insert(got.end(), some.begin(), some.end());
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].payload, R"({"b":2})");
}

TEST(ConnectEnvelope, CutStreamIsMidEnvelope) {
  const std::string e = EncodeMessage({{"a", 1}});
  EnvelopeDecoder decoder;
  ASSERT_TRUE(decoder.Feed(std::string_view(e).substr(0, e.size() - 1)));
  EXPECT_FALSE(decoder.Next());
  EXPECT_TRUE(decoder.mid_envelope());
}

TEST(ConnectEnvelope, OversizedLengthIsRefusedBeforeItsBytesArrive) {
  EnvelopeDecoder decoder(1024);
  // Only the header of a 1 GiB message: refused on the length alone.
  auto fed = decoder.Feed(std::string("\0\x40\0\0\0", 5));
  ASSERT_FALSE(fed);
  EXPECT_EQ(fed.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_NE(fed.error().message.find("1024-byte limit"), std::string::npos);
  EXPECT_FALSE(decoder.Feed("more")) << "a failed decoder stays failed";
  EXPECT_FALSE(decoder.Next());
}

TEST(ConnectEnvelope, MessageAtTheLimitIsAccepted) {
  EnvelopeDecoder decoder(16);
  ASSERT_TRUE(decoder.Feed(EncodeEnvelope(std::string(16, 'x'))));
  auto e = decoder.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->payload.size(), 16u);
}

TEST(ConnectEnvelope, CompressedEnvelopeIsRefused) {
  EnvelopeDecoder decoder;
  auto fed = decoder.Feed(EncodeEnvelope("x", kFlagCompressed));
  ASSERT_FALSE(fed);
  EXPECT_NE(fed.error().message.find("compressed"), std::string::npos);
}

TEST(ConnectEndStream, CleanEndAndErrorTrailer) {
  auto clean = ParseEndStream("{}");
  ASSERT_TRUE(clean);
  EXPECT_FALSE(*clean);

  const std::string trailer = EncodeEndStream(ConnectError{"invalid_argument", "bad cwd"});
  EnvelopeDecoder decoder;
  ASSERT_TRUE(decoder.Feed(trailer));
  auto e = decoder.Next();
  ASSERT_TRUE(e && e->end_stream());
  auto error = ParseEndStream(e->payload);
  ASSERT_TRUE(error && *error);
  EXPECT_EQ((*error)->code, "invalid_argument");
  EXPECT_EQ((*error)->message, "bad cwd");

  auto with_metadata = ParseEndStream(R"({"metadata":{"k":["v"]}})");
  ASSERT_TRUE(with_metadata);
  EXPECT_FALSE(*with_metadata);
}

TEST(ConnectEndStream, GarbageAndDeepPayloadsAreErrorsNotCrashes) {
  EXPECT_FALSE(ParseEndStream("not json"));
  EXPECT_FALSE(ParseEndStream("[]"));
  EXPECT_FALSE(ParseEndStream(std::string(100000, '[')));
  auto odd = ParseEndStream(R"({"error":"text"})");  // an error of the wrong shape still is one
  ASSERT_TRUE(odd && *odd);
  EXPECT_EQ((*odd)->code, "unknown");
}

TEST(ConnectUnary, ErrorBodyOrTheStatusAlone) {
  EXPECT_EQ(EncodeUnaryError({"not_found", "process with pid 4 not found"}),
            R"({"code":"not_found","message":"process with pid 4 not found"})");
  ConnectError from_body = ParseUnaryError(404, R"({"code":"not_found","message":"gone"})");
  EXPECT_EQ(from_body.code, "not_found");
  EXPECT_EQ(from_body.message, "gone");
  // A bare 404 is what a server without the method answers: connect clients call it
  // unimplemented.
  ConnectError bare = ParseUnaryError(404, "<html>");
  EXPECT_EQ(bare.code, "unimplemented");
  EXPECT_EQ(bare.message, "HTTP 404");
  EXPECT_EQ(ParseUnaryError(502, "").code, "unavailable");
}

TEST(ConnectCodes, StatusMappingFollowsTheProtocol) {
  EXPECT_EQ(HttpStatusForCode("not_found"), 404);
  EXPECT_EQ(HttpStatusForCode("invalid_argument"), 400);
  EXPECT_EQ(HttpStatusForCode("unauthenticated"), 401);
  EXPECT_EQ(HttpStatusForCode("deadline_exceeded"), 504);
  EXPECT_EQ(HttpStatusForCode("no_such_code"), 500);
  EXPECT_EQ(CodeForError(ErrorCode::kNotFound), "not_found");
  EXPECT_EQ(ErrorForCode("not_found"), ErrorCode::kNotFound);
  EXPECT_EQ(ErrorForCode("unauthenticated"), ErrorCode::kUnauthorized);
  EXPECT_EQ(ErrorForCode("deadline_exceeded"), ErrorCode::kUnavailable);
  EXPECT_EQ(ErrorForCode("whatever"), ErrorCode::kInternal);
}

}  // namespace
}  // namespace swarm::http::connect
