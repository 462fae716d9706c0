#include "sandboxd/templates.h"

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "support/child_process.h"

namespace swarm::sandboxd {
namespace {

using nlohmann::json;

// A gzipped tar of (path, content, mode) entries, as the SDK uploads for COPY steps.
std::string MakeTarGz(const std::vector<std::tuple<std::string, std::string, int>>& entries) {
  std::string out(1 << 20, '\0');
  size_t used = 0;
  archive* writer = archive_write_new();
  archive_write_add_filter_gzip(writer);
  archive_write_set_format_pax_restricted(writer);
  archive_write_open_memory(writer, out.data(), out.size(), &used);
  for (const auto& [path, content, mode] : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, path.c_str());
    archive_entry_set_size(entry, static_cast<la_int64_t>(content.size()));
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, mode);
    archive_write_header(writer, entry);
    archive_write_data(writer, content.data(), content.size());
    archive_entry_free(entry);
  }
  archive_write_close(writer);
  archive_write_free(writer);
  out.resize(used);
  return out;
}

TEST(TemplateStoreTest, BuildsFromUploadedFilesAndSurvivesARestart) {
  testing_support::TempDir root;
  std::string template_id;
  {
    TemplateStore store(root.path());
    auto requested =
        store.RequestBuild({{"name", "worker:v1"}, {"cpuCount", 1}, {"memoryMB", 256}});
    ASSERT_TRUE(requested) << requested.error().message;
    template_id = (*requested)["templateID"];
    const std::string build_id = (*requested)["buildID"];
    EXPECT_EQ((*requested)["names"][0], "worker");

    auto link = store.FileLink(template_id, "hash1", "http://127.0.0.1:1");
    ASSERT_TRUE(link);
    EXPECT_EQ((*link)["present"], false);
    const std::string url = (*link)["url"];
    const std::string upload_id = url.substr(url.rfind('/') + 1);
    ASSERT_TRUE(store.Upload(upload_id, MakeTarGz({{"entry.sh", "#!/bin/sh\necho hi\n", 0644}})));
    EXPECT_FALSE(store.Upload(upload_id, "again")) << "an upload link works once";
    EXPECT_EQ((*store.FileLink(template_id, "hash1", "http://x"))["present"], true);

    ASSERT_TRUE(store.StartBuild(template_id, build_id,
                                 {{"fromImage", "ubuntu:24.04"},
                                  {"startCmd", "sleep 100"},
                                  {"readyCmd", "true"},
                                  {"steps",
                                   {{{"type", "COPY"},
                                     {"args", {"entry.sh", "/docker-entrypoint.sh", "", "0755"}},
                                     {"filesHash", "hash1"}},
                                    {{"type", "ENV"}, {"args", {"A", "1", "B", "2"}}},
                                    {{"type", "WORKDIR"}, {"args", {"/app"}}},
                                    {{"type", "RUN"}, {"args", {"apt-get install -y x"}}}}}}));
    EXPECT_FALSE(store.StartBuild(template_id, build_id, json::object())) << "started twice";
    store.WaitForBuilds();
    auto status = store.BuildStatus(template_id, build_id, 0, 100);
    ASSERT_TRUE(status);
    EXPECT_EQ((*status)["status"], "ready") << status->dump();
    const std::string logs = (*status)["logEntries"].dump();
    EXPECT_NE(logs.find("cannot pull image 'ubuntu:24.04'"), std::string::npos) << logs;
    EXPECT_NE(logs.find("RUN steps are not run"), std::string::npos) << logs;
    EXPECT_EQ((*store.BuildStatus(template_id, build_id, 100, 100))["logEntries"].size(), 0u);
  }
  TemplateStore reloaded(root.path());
  reloaded.Load();
  for (const std::string name : {template_id, std::string("worker"), std::string("worker:v1")}) {
    auto runtime = reloaded.Resolve(name);
    ASSERT_TRUE(runtime) << name;
    ASSERT_EQ(runtime->ro_binds.size(), 1u);
    EXPECT_EQ(runtime->ro_binds[0].second, "/docker-entrypoint.sh");
    EXPECT_EQ(runtime->env.at("B"), "2");
    EXPECT_EQ(runtime->workdir, "/app");
    EXPECT_EQ(runtime->start_cmd, "sleep 100");
    EXPECT_EQ(runtime->cpu_count, 1);
  }
  EXPECT_FALSE(reloaded.Resolve("worker:v2"));
  EXPECT_TRUE(reloaded.Resolve("base"));
  EXPECT_EQ((*reloaded.SetPublic(template_id, true))["names"][0], "worker");
  EXPECT_TRUE(*reloaded.Delete(template_id));
  EXPECT_FALSE(*reloaded.Delete(template_id));
  EXPECT_FALSE(reloaded.Resolve("worker"));
  EXPECT_FALSE(reloaded.Delete("base"));
}

// Records on disk are read by type: a number out of range falls back or is clamped to what a
// build accepts (1e300 was an undefined cast), and a record of the wrong shape is skipped
// without taking the others with it.
TEST(TemplateStoreTest, DamagedRecordsOnDiskAreClampedOrSkipped) {
  testing_support::TempDir root;
  auto write = [&](const std::string& id, const std::string& text) {
    std::filesystem::create_directories(root.path() + "/templates/" + id);
    std::ofstream(root.path() + "/templates/" + id + "/template.json") << text;
  };
  write("t-odd", R"({"templateID":"t-odd","name":"odd","cpuCount":1e300,"memoryMB":-5,
                     "runtime":{"workdir":"/w","startCmd":"sleep 1"}})");
  write("t-huge", R"({"templateID":"t-huge","cpuCount":1000,"memoryMB":18446744073709551615,
                      "runtime":{}})");
  write("t-bad", R"({"templateID":"t-bad","name":5,"runtime":{}})");
  write("t-cut", R"({"templateID":"t-cut","runtime":)");
  TemplateStore store(root.path());
  store.Load();
  auto odd = store.Resolve("t-odd");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->cpu_count, 2);    // not an integer: the default
  EXPECT_EQ(odd->memory_mb, 128);  // clamped up
  EXPECT_EQ(odd->workdir, "/w");
  auto huge = store.Resolve("t-huge");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->cpu_count, 64);    // clamped down
  EXPECT_EQ(huge->memory_mb, 1024);  // past INT64_MAX: the default, never wrapped
  EXPECT_FALSE(store.Resolve("t-bad"));
  EXPECT_FALSE(store.Resolve("t-cut"));
}

TEST(TemplateStoreTest, ABuildWithoutItsFilesFails) {
  testing_support::TempDir root;
  TemplateStore store(root.path());
  auto requested = store.RequestBuild({{"name", "broken"}});
  ASSERT_TRUE(requested);
  ASSERT_TRUE(store.StartBuild(
      (*requested)["templateID"], (*requested)["buildID"],
      {{"steps", {{{"type", "COPY"}, {"args", {"a", "/a"}}, {"filesHash", "missing"}}}}}));
  store.WaitForBuilds();
  auto status = store.BuildStatus((*requested)["templateID"], (*requested)["buildID"], 0, 100);
  EXPECT_EQ((*status)["status"], "error");
  EXPECT_NE((*status)["reason"]["message"].get<std::string>().find("were not uploaded"),
            std::string::npos);
  EXPECT_FALSE(store.Resolve("broken"));
  EXPECT_FALSE(store.RequestBuild({{"name", "base"}}));
  EXPECT_FALSE(store.RequestBuild({{"name", "bad name!"}}));
}

TEST(TemplateStoreTest, AMalformedBuildBodyIsRefusedBeforeTheBuildStarts) {
  testing_support::TempDir root;
  TemplateStore store(root.path());
  auto requested = store.RequestBuild({{"name", "w"}});
  ASSERT_TRUE(requested);
  const std::string id = (*requested)["templateID"];
  const std::string build = (*requested)["buildID"];
  auto refused = store.StartBuild(id, build, {{"steps", {{{"type", 5}}}}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ((*store.BuildStatus(id, build, 0, 100))["status"], "waiting");
  EXPECT_TRUE(store.StartBuild(id, build, {{"steps", json::array()}})) << "still startable";
  store.WaitForBuilds();
  EXPECT_EQ((*store.BuildStatus(id, build, 0, 100))["status"], "ready");
}

}  // namespace
}  // namespace swarm::sandboxd
