#include "stub_llm/tool_args.h"

#include <gtest/gtest.h>

namespace swarm::stub_llm {
namespace {

using nlohmann::json;

// The shell tools' schemas as the CLIs send them (trimmed to the fields that matter).
const json kClaudeBash = {{"type", "object"},
                          {"properties",
                           {{"command", {{"type", "string"}}},
                            {"timeout", {{"type", "number"}}},
                            {"description", {{"type", "string"}}}}},
                          {"required", {"command"}}};
const json kCodexExec = {{"type", "object"},
                         {"properties",
                          {{"cmd", {{"type", "string"}}},
                           {"workdir", {{"type", "string"}}},
                           {"yield_time_ms", {{"type", "number"}}}}},
                         {"required", {"cmd"}}};
const json kOpencodeBash = {{"type", "object"},
                            {"properties",
                             {{"command", {{"type", "string"}}},
                              {"timeout", {{"type", "number"}}},
                              {"description", {{"type", "string"}}}}},
                            {"required", {"command", "description"}}};

ChatRequest WithTools(std::vector<OfferedTool> tools) {
  ChatRequest r;
  r.tools = std::move(tools);
  return r;
}

TEST(ToolArgsTest, FindsEachCliShellTool) {
  auto claude = WithTools({{"Read", json::object()}, {"Bash", kClaudeBash}});
  ASSERT_NE(FindShellTool(claude), nullptr);
  EXPECT_EQ(FindShellTool(claude)->name, "Bash");
  auto codex = WithTools({{"write_stdin", json::object()}, {"exec_command", kCodexExec}});
  EXPECT_EQ(FindShellTool(codex)->name, "exec_command");
  auto opencode = WithTools({{"edit", json::object()}, {"bash", kOpencodeBash}});
  EXPECT_EQ(FindShellTool(opencode)->name, "bash");
}

TEST(ToolArgsTest, KnownNamesBeatSchemaGuesses) {
  const json runner = {{"properties", {{"command", {{"type", "string"}}}}}};
  auto r = WithTools({{"task_runner", runner}, {"shell", json::object()}});
  EXPECT_EQ(FindShellTool(r)->name, "shell");
  auto only_guess = WithTools({{"read", json::object()}, {"task_runner", runner}});
  EXPECT_EQ(FindShellTool(only_guess)->name, "task_runner");
  EXPECT_EQ(FindShellTool(WithTools({{"read", json::object()}})), nullptr);
  EXPECT_EQ(FindShellTool(WithTools({{"bash", json(), /*freeform=*/true}})), nullptr);
}

TEST(ToolArgsTest, ArgumentsFollowTheSchema) {
  EXPECT_EQ(ShellArguments({"Bash", kClaudeBash}, "echo hi"), json({{"command", "echo hi"}}));
  EXPECT_EQ(ShellArguments({"exec_command", kCodexExec}, "echo hi"), json({{"cmd", "echo hi"}}));
  json opencode = ShellArguments({"bash", kOpencodeBash}, "echo hi");
  EXPECT_EQ(opencode["command"], "echo hi");
  ASSERT_TRUE(opencode["description"].is_string());
  EXPECT_FALSE(opencode["description"].get<std::string>().empty());
  EXPECT_FALSE(opencode.contains("timeout"));
}

TEST(ToolArgsTest, ArrayCommandsRunThroughBash) {
  const json schema = {{"properties", {{"command", {{"type", "array"}}}}},
                       {"required", {"command"}}};
  EXPECT_EQ(ShellArguments({"shell", schema}, "ls -l"),
            json({{"command", {"bash", "-lc", "ls -l"}}}));
}

TEST(ToolArgsTest, NoSchemaMeansACommandString) {
  EXPECT_EQ(ShellArguments({"bash", json()}, "ls"), json({{"command", "ls"}}));
}

TEST(ToolArgsTest, FillRequiredUsesDefaultsThenTypes) {
  const json schema = {
      {"properties",
       {{"mode", {{"enum", {"fast", "slow"}}}},
        {"level", {{"type", "integer"}, {"default", 3}}},
        {"min", {{"type", "number"}, {"minimum", 5}}},
        {"count", {{"type", "integer"}}},
        {"flag", {{"type", "boolean"}}},
        {"items", {{"type", "array"}}},
        {"maybe", {{"type", {"null", "string"}}}},
        {"opts",
         {{"type", "object"}, {"properties", {{"x", {{"const", "y"}}}}}, {"required", {"x"}}}},
        {"path", {{"type", "string"}}}}},
      {"required",
       {"mode", "level", "min", "count", "flag", "items", "maybe", "opts", "path", "given",
        "untyped"}}};
  json args = {{"given", 1}};
  FillRequired(schema, args);
  EXPECT_EQ(args, json({{"given", 1},
                        {"mode", "fast"},
                        {"level", 3},
                        {"min", 5},
                        {"count", 1},
                        {"flag", false},
                        {"items", json::array()},
                        {"maybe", ""},
                        {"opts", {{"x", "y"}}},
                        {"path", ""},
                        {"untyped", nullptr}}));
}

}  // namespace
}  // namespace swarm::stub_llm
