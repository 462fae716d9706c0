#include "sandbox/template_archive.h"

#include <gtest/gtest.h>

namespace swarm::sandbox {
namespace {

TEST(TemplateArchive, RoundTripsFilesWithTheirModes) {
  std::vector<ArchiveEntry> files = {{"docker-entrypoint.sh", "#!/bin/sh\nexec true\n", 0755},
                                     {"dir/data.bin", std::string("\0\1\2", 3), 0600},
                                     {"empty", "", 0644}};
  auto archive = WriteTarGz(files);
  ASSERT_TRUE(archive) << archive.error().message;
  ASSERT_GE(archive->size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>((*archive)[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>((*archive)[1]), 0x8b);
  auto back = ReadTarGz(*archive);
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->size(), 3u);
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ((*back)[i].name, files[i].name);
    EXPECT_EQ((*back)[i].content, files[i].content);
    EXPECT_EQ((*back)[i].mode, files[i].mode);
  }
}

TEST(TemplateArchive, RefusesNamesThatEscapeTheDestination) {
  for (const char* name : {"/etc/passwd", "../x", "a/../../x", ""}) {
    auto archive = WriteTarGz({{name, "x", 0644}});
    ASSERT_FALSE(archive) << name;
    EXPECT_EQ(archive.error().code, ErrorCode::kBadRequest);
  }
}

TEST(TemplateArchive, ReadingIsBounded) {
  auto archive = WriteTarGz({{"a", std::string(100, 'a'), 0644}, {"b", "b", 0644}});
  ASSERT_TRUE(archive);
  auto too_big = ReadTarGz(*archive, {.max_entries = 10, .max_total_bytes = 50});
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code, ErrorCode::kPayloadTooLarge);
  auto too_many = ReadTarGz(*archive, {.max_entries = 1, .max_total_bytes = 1000});
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().code, ErrorCode::kPayloadTooLarge);
  auto garbage = ReadTarGz("this is not a tar archive at all, not even close............");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code, ErrorCode::kBadRequest);
}

TEST(TemplateArchive, Sha256Hex) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace swarm::sandbox
