#include "core/role_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace swarm {
namespace {

using std::chrono::milliseconds;

class RoleProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/role-process-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  RoleProcessSpec Shell(const std::string& script) {
    RoleProcessSpec spec;
    spec.executable = "/bin/sh";
    spec.args = {"-c", script};
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    spec.log_path = dir_ + "/child.log";
    spec.start_timeout = milliseconds(5'000);
    return spec;
  }

  std::string dir_;
};

TEST_F(RoleProcessTest, LearnsThePortFromTheListeningLine) {
  auto child = RoleProcess::Start(Shell(R"(echo '{"level":"info","msg":"starting"}' >&2;
               echo '{"level":"info","msg":"listening","host":"127.0.0.1","port":40123}' >&2;
               exec sleep 30)"));
  ASSERT_TRUE(child) << child.error().message;
  EXPECT_EQ((*child)->port(), 40123);
  EXPECT_TRUE((*child)->Running());
  EXPECT_EQ((*child)->Stop(milliseconds(5'000)), 128 + SIGTERM);
  EXPECT_FALSE((*child)->Running());
}

TEST_F(RoleProcessTest, OwnProcessGroupKeepsTheParentsSignalsAway) {
  const std::string listening = R"(echo '{"msg":"listening","port":1}' >&2; exec sleep 30)";
  auto shared = RoleProcess::Start(Shell(listening));
  ASSERT_TRUE(shared) << shared.error().message;
  EXPECT_EQ(::getpgid((*shared)->pid()), ::getpgrp());
  auto spec = Shell(listening);
  spec.own_process_group = true;
  auto own = RoleProcess::Start(spec);
  ASSERT_TRUE(own) << own.error().message;
  // A group of its own: a signal to the parent's group (a terminal's Ctrl-C) misses it.
  EXPECT_EQ(::getpgid((*own)->pid()), (*own)->pid());
  EXPECT_EQ((*own)->Stop(milliseconds(5'000)), 128 + SIGTERM);
}

TEST_F(RoleProcessTest, TheChildHasOnlyTheEnvironmentItIsGiven) {
  ::setenv("ROLE_PROCESS_TEST_PARENT_ONLY", "leak", 1);
  auto spec = Shell(
      R"(echo "{\"msg\":\"listening\",\"port\":${GIVEN_PORT}${ROLE_PROCESS_TEST_PARENT_ONLY}}" >&2;
         exec sleep 30)");
  spec.env["GIVEN_PORT"] = "5";
  auto child = RoleProcess::Start(spec);
  ::unsetenv("ROLE_PROCESS_TEST_PARENT_ONLY");
  ASSERT_TRUE(child) << child.error().message;
  EXPECT_EQ((*child)->port(), 5);  // "5leak" would not have parsed as port 5 alone
  std::ifstream log(spec.log_path);
  std::string text((std::istreambuf_iterator<char>(log)), {});
  EXPECT_EQ(text.find("leak"), std::string::npos);
}

TEST_F(RoleProcessTest, AChildThatExitsFirstIsAnErrorWithItsLog) {
  auto child = RoleProcess::Start(Shell("echo 'no key given' >&2; exit 3"));
  ASSERT_FALSE(child);
  EXPECT_NE(child.error().message.find("status 3"), std::string::npos) << child.error().message;
  EXPECT_NE(child.error().message.find("no key given"), std::string::npos);
}

TEST_F(RoleProcessTest, AChildThatNeverListensIsKilledAtTheTimeout) {
  auto spec = Shell("echo $$ > " + dir_ + "/pid; exec sleep 30");
  spec.start_timeout = milliseconds(300);
  auto child = RoleProcess::Start(spec);
  ASSERT_FALSE(child);
  EXPECT_NE(child.error().message.find("did not start listening"), std::string::npos);
  std::ifstream pid_file(dir_ + "/pid");
  pid_t pid = 0;
  pid_file >> pid;
  ASSERT_GT(pid, 0);
  EXPECT_NE(::kill(pid, 0), 0);  // reaped: no such process
}

TEST_F(RoleProcessTest, StopEscalatesToKillWhenTermIsIgnored) {
  auto child = RoleProcess::Start(Shell(R"(trap '' TERM;
      echo '{"msg":"listening","port":1}' >&2; while :; do sleep 0.05; done)"));
  ASSERT_TRUE(child) << child.error().message;
  EXPECT_EQ((*child)->Stop(milliseconds(200)), 128 + SIGKILL);
  EXPECT_EQ((*child)->Stop(), 128 + SIGKILL);  // the same answer again
}

TEST_F(RoleProcessTest, AMissingProgramIsAnError) {
  RoleProcessSpec spec = Shell("");
  spec.executable = dir_ + "/no-such-program";
  auto child = RoleProcess::Start(spec);
  ASSERT_FALSE(child);
  EXPECT_NE(child.error().message.find("status 127"), std::string::npos);
}

TEST(SelfExecutable, IsThisTestBinary) {
  auto self = SelfExecutable();
  ASSERT_TRUE(self);
  EXPECT_NE(self->find("core_tests"), std::string::npos) << *self;
}

TEST(FileTail, StartsAtALineBoundary) {
  char path[] = "/tmp/file-tail-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  {
    std::ofstream out(path);
    for (int i = 0; i < 100; ++i) out << "line " << i << "\n";
  }
  const std::string tail = FileTail(path, 30);
  std::remove(path);
  EXPECT_EQ(tail.rfind("line 99\n"), tail.size() - 8);
  EXPECT_EQ(tail.rfind("line", 0), 0u) << tail;
}

}  // namespace
}  // namespace swarm
