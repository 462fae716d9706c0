#include "sandboxd/envd_wire.h"

#include <signal.h>

#include <gtest/gtest.h>

#include "http/query.h"

namespace swarm::sandboxd {
namespace {

TEST(MetadataFilterTest, UndoesTheSdksTripleEncoding) {
  // e2b-wire.md §1: {'user id':'a b&c=d', app:'prod'} as the SDK sends it, after the query's
  // own decoding of the parameter.
  const std::string sent = "user%252520id%3Da%252520b%252526c%25253Dd%26app%3Dprod";
  auto once = http::QueryUnescape(sent);
  auto filter = ParseMetadataFilter(once);
  ASSERT_TRUE(filter) << filter.error().message;
  EXPECT_EQ(filter->size(), 2u);
  EXPECT_EQ(filter->at("user id"), "a b&c=d");
  EXPECT_EQ(filter->at("app"), "prod");
}

TEST(MetadataFilterTest, RefusesAPairWithoutValue) {
  EXPECT_FALSE(ParseMetadataFilter("justakey"));
  EXPECT_TRUE(ParseMetadataFilter("")->empty());
}

TEST(Base64Test, RoundTripsBytes) {
  const std::string bytes("\x00\xff hi\n", 6);
  EXPECT_EQ(Base64Encode("hi\n"), "aGkK");
  EXPECT_EQ(*Base64Decode(Base64Encode(bytes)), bytes);
  EXPECT_EQ(*Base64Decode("c2Vjb25kCg=="), "second\n");
  EXPECT_EQ(*Base64Decode(Base64Encode("ab")), "ab");
  EXPECT_FALSE(Base64Decode("not base64!"));
  EXPECT_FALSE(Base64Decode("YQ==="));
}

TEST(ProcessEventJsonTest, MatchesEnvdsProtoJson) {
  sandbox::ProcessEvent start;
  EXPECT_EQ(ProcessEventJson(start, 7).dump(), R"({"event":{"start":{"pid":7}}})");
  sandbox::ProcessEvent out;
  out.kind = sandbox::ProcessEvent::Kind::kStderr;
  out.data = "hi\n";
  EXPECT_EQ(ProcessEventJson(out, 7).dump(), R"({"event":{"data":{"stderr":"aGkK"}}})");
  auto ok = ProcessEventJson(sandbox::EndEventForStatus(0), 7);
  EXPECT_EQ(ok["event"]["end"]["exitCode"], 0);
  EXPECT_FALSE(ok["event"]["end"].contains("error"));
  auto killed = ProcessEventJson(sandbox::EndEventForStatus(SIGKILL), 7);
  EXPECT_EQ(killed["event"]["end"]["exitCode"], -1);
  EXPECT_EQ(killed["event"]["end"]["exited"], false);
  EXPECT_EQ(killed["event"]["end"]["status"], "signal: killed");
}

TEST(StartRequestTest, ReadsTheSdksRequest) {
  auto start = ParseStartRequest(nlohmann::json::parse(
      R"({"process":{"cmd":"/bin/bash","args":["-l","-c","echo hi"],"envs":{"A":"1"},
          "cwd":"/tmp"},"tag":"t1","stdin":true})"));
  ASSERT_TRUE(start) << start.error().message;
  EXPECT_EQ(start->config.cmd, "/bin/bash");
  EXPECT_EQ(start->config.args.back(), "echo hi");
  EXPECT_EQ(start->config.envs.at("A"), "1");
  EXPECT_EQ(start->config.cwd, "/tmp");
  EXPECT_EQ(start->tag, "t1");
  EXPECT_TRUE(start->stdin);
}

TEST(StartRequestTest, RefusesWhatItCannotRun) {
  EXPECT_FALSE(ParseStartRequest(nlohmann::json::parse(R"({})")));
  EXPECT_FALSE(ParseStartRequest(nlohmann::json::parse(R"({"process":{"args":["x"]}})")));
  EXPECT_FALSE(ParseStartRequest(nlohmann::json::parse(R"({"process":{"cmd":"x","args":[1]}})")));
  EXPECT_FALSE(
      ParseStartRequest(nlohmann::json::parse(R"({"process":{"cmd":"x","envs":{"A=B":"1"}}})")));
  EXPECT_FALSE(ParseStartRequest(
      nlohmann::json::parse(R"({"process":{"cmd":"x"},"pty":{"size":{"cols":80,"rows":24}}})")));
}

TEST(SelectorTest, ByPidOrTag) {
  EXPECT_EQ(*ParseSelector(nlohmann::json::parse(R"({"process":{"pid":12}})"))->pid, 12);
  EXPECT_EQ(ParseSelector(nlohmann::json::parse(R"({"process":{"tag":"w"}})"))->tag, "w");
  EXPECT_FALSE(ParseSelector(nlohmann::json::parse(R"({"process":{}})")));
  EXPECT_EQ(*ParseSignal("SIGNAL_SIGKILL"), SIGKILL);
  EXPECT_EQ(*ParseSignal(15), SIGTERM);
  EXPECT_FALSE(ParseSignal("SIGNAL_SIGSTOP"));
}

TEST(MultipartTest, ReadsTheFileParts) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"/home/user/a.txt\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\nline1\r\nline2\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.bin\"\r\n\r\n" +
      std::string("\x00\x01--X", 5) + "\r\n--XyZ--\r\n";
  auto files = ParseMultipart("multipart/form-data; boundary=XyZ", std::string_view(body));
  ASSERT_TRUE(files) << files.error().message;
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].filename, "/home/user/a.txt");
  EXPECT_EQ((*files)[0].content, "line1\r\nline2");
  EXPECT_EQ((*files)[1].filename, "b.bin");
  EXPECT_EQ((*files)[1].content, std::string("\x00\x01--X", 5));
}

TEST(MultipartTest, RefusesMalformedBodies) {
  EXPECT_FALSE(ParseMultipart("multipart/form-data", "--a\r\n"));
  EXPECT_FALSE(ParseMultipart("multipart/form-data; boundary=a", "--a\r\nno headers end"));
  EXPECT_FALSE(ParseMultipart("multipart/form-data; boundary=a",
                              "--a\r\nContent-Disposition: form-data\r\n\r\ncut short"));
  std::string many;
  for (int i = 0; i < 5; ++i) many += "--a\r\nContent-Disposition: form-data\r\n\r\nx\r\n";
  many += "--a--";
  EXPECT_FALSE(ParseMultipart("multipart/form-data; boundary=a", many, 4));
  EXPECT_TRUE(ParseMultipart("multipart/form-data; boundary=a", many, 5));
}

TEST(E2bErrorTest, CarriesTheStatusAsCode) {
  auto response = E2bError(404, "sandbox 'x' not found");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(nlohmann::json::parse(response.body)["code"], 404);
}

}  // namespace
}  // namespace swarm::sandboxd
