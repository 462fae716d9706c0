// Micro-benchmarks of the per-request CPU work outside the store: serializing a task the way
// GET /api/tasks/{id} does (JsonWriter, and nlohmann for comparison), parsing a create body,
// and judging an output against the seed's outputSchema.
//
//   build/bench/bench_codec
#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "api/json_codec.h"
#include "api/output_schema.h"
#include "api/requests.h"
#include "core/field_reader.h"

namespace swarm {
namespace {

constexpr char kSeedSchema[] =
    R"({"type":"object","required":["reply"],"properties":{"reply":{"const":"pong"}}})";

Task SampleTask() {
  Task t;
  t.id = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  t.agent_id = "smoke-codex-abc123";
  t.task = "Reply with exactly: pong";
  t.status = TaskStatus::kCompleted;
  t.tags = {"smoke"};
  t.output_schema = kSeedSchema;
  t.output = R"({"reply":"pong"})";
  t.session_id = "sess-123";
  t.provider = "codex";
  t.created_at = t.last_updated_at = "2026-11-26T05:24:07.606Z";
  t.finished_at = "2026-11-26T05:24:09.001Z";
  return t;
}

void BM_WriteTaskJsonWriter(benchmark::State& state) {
  const Task task = SampleTask();
  for (auto _ : state) {
    JsonWriter w;
    WriteTask(w, task);
    benchmark::DoNotOptimize(w.Take());
  }
}
BENCHMARK(BM_WriteTaskJsonWriter);

// The same shape built as an nlohmann tree and dumped: what the writer replaced.
void BM_WriteTaskNlohmannTree(benchmark::State& state) {
  const Task t = SampleTask();
  for (auto _ : state) {
    nlohmann::json j = {{"id", t.id},
                        {"agentId", *t.agent_id},
                        {"creatorAgentId", nullptr},
                        {"task", t.task},
                        {"status", TaskStatusName(t.status)},
                        {"source", t.source},
                        {"taskType", nullptr},
                        {"tags", t.tags},
                        {"priority", t.priority},
                        {"outputSchema", nlohmann::json::parse(*t.output_schema)},
                        {"output", *t.output},
                        {"failureReason", nullptr},
                        {"progress", nullptr},
                        {"claudeSessionId", *t.session_id},
                        {"provider", *t.provider},
                        {"model", nullptr},
                        {"createdAt", t.created_at},
                        {"lastUpdatedAt", t.last_updated_at},
                        {"startedAt", nullptr},
                        {"finishedAt", *t.finished_at}};
    benchmark::DoNotOptimize(j.dump());
  }
}
BENCHMARK(BM_WriteTaskNlohmannTree);

void BM_ParseCreateTaskWithSchema(benchmark::State& state) {
  const std::string body =
      std::string(R"({"task":"Reply with exactly: pong","agentId":"smoke-x",)") +
      R"("outputSchema":)" + kSeedSchema + "}";
  for (auto _ : state) {
    auto json = ParseJsonObject(body);
    auto request = ParseCreateTask(*json);
    benchmark::DoNotOptimize(request);
  }
}
BENCHMARK(BM_ParseCreateTaskWithSchema);

void BM_JudgeOutputAgainstSeedSchema(benchmark::State& state) {
  const auto schema = OutputSchema::Compile(nlohmann::json::parse(kSeedSchema));
  const auto output = nlohmann::json::parse(R"({"reply":"ping"})");
  for (auto _ : state) benchmark::DoNotOptimize(schema->Check(output));
}
BENCHMARK(BM_JudgeOutputAgainstSeedSchema);

}  // namespace
}  // namespace swarm

BENCHMARK_MAIN();
