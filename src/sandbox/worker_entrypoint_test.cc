#include "sandbox/worker_entrypoint.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace swarm::sandbox {
namespace {

TEST(WorkerEntrypoint, IsTheImagesScriptByteForByte) {
  std::ifstream in(std::string(SWARM_SOURCE_DIR) + "/docker/docker-entrypoint.sh",
                   std::ios::binary);
  ASSERT_TRUE(in) << "docker/docker-entrypoint.sh not found";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(WorkerEntrypointScript(), text.str());
  EXPECT_TRUE(WorkerEntrypointScript().starts_with("#!/usr/bin/env bash\n"));
}

TEST(LocalWorkerTemplate, AddsOnlyTheEntrypoint) {
  const TemplateSpec spec = LocalWorkerTemplate("agent-swarm-worker-x");
  EXPECT_EQ(spec.name, "agent-swarm-worker-x");
  EXPECT_EQ(spec.from_image, "local");
  ASSERT_EQ(spec.files.size(), 1u);
  EXPECT_EQ(spec.files[0].dest_path, "/docker-entrypoint.sh");
  EXPECT_EQ(spec.files[0].mode, 0755);
  ASSERT_TRUE(spec.files[0].content);
  EXPECT_EQ(*spec.files[0].content, WorkerEntrypointScript());
}

}  // namespace
}  // namespace swarm::sandbox
