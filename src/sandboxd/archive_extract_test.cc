#include "sandboxd/archive_extract.h"

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/child_process.h"

// The entries below name only the fields they need (designated initializers); GCC 12 warns
// about every member left to its default initializer, which is the intent here.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace swarm::sandboxd {
namespace {

// A tar of entries of any type: `target` is a symlink's or (with `hardlink`) a hard link's.
struct TarEntry {
  std::string path;
  unsigned type = AE_IFREG;
  std::string target;
  int mode = 0644;
  std::string content;
  bool hardlink = false;
};
std::string MakeTar(const std::vector<TarEntry>& entries, bool gzip = false) {
  std::string out(1 << 20, '\0');
  size_t used = 0;
  archive* writer = archive_write_new();
  if (gzip) archive_write_add_filter_gzip(writer);
  archive_write_set_format_pax_restricted(writer);
  archive_write_open_memory(writer, out.data(), out.size(), &used);
  for (const auto& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, e.mode);
    if (e.hardlink) {
      archive_entry_set_hardlink(entry, e.target.c_str());
    } else if (e.type == AE_IFLNK) {
      archive_entry_set_symlink(entry, e.target.c_str());
    }
    archive_entry_set_size(entry, static_cast<la_int64_t>(e.content.size()));
    archive_write_header(writer, entry);
    archive_write_data(writer, e.content.data(), e.content.size());
    archive_entry_free(entry);
  }
  archive_write_close(writer);
  archive_write_free(writer);
  out.resize(used);
  return out;
}

TEST(ExtractArchiveTest, ExtractsFilesWithTheirModes) {
  testing_support::TempDir dir;
  auto extracted =
      ExtractArchive(MakeTar({{.path = "./bin/run.sh", .mode = 0755, .content = "#!/bin/sh\n"},
                              {.path = "data.txt", .content = "x"}},
                             true),
                     dir.File("out"), 1 << 20);
  ASSERT_TRUE(extracted) << extracted.error().message;
  EXPECT_EQ(testing_support::ReadFile(dir.File("out/bin/run.sh")), "#!/bin/sh\n");
  auto perms = std::filesystem::status(dir.File("out/bin/run.sh")).permissions();
  EXPECT_NE(perms & std::filesystem::perms::owner_exec, std::filesystem::perms::none);
}

TEST(ExtractArchiveTest, RefusesEntriesThatLeaveItsDirectoryAndOversizedArchives) {
  testing_support::TempDir dir;
  EXPECT_FALSE(
      ExtractArchive(MakeTar({{.path = "../evil", .content = "x"}}), dir.File("a"), 1 << 20));
  EXPECT_FALSE(std::filesystem::exists(dir.File("evil")));
  EXPECT_FALSE(
      ExtractArchive(MakeTar({{.path = "/etc/evil", .content = "x"}}), dir.File("b"), 1 << 20));
  EXPECT_FALSE(ExtractArchive(MakeTar({{.path = "big", .content = std::string(100, 'x')}}),
                              dir.File("c"), 10));
  EXPECT_FALSE(ExtractArchive("not an archive", dir.File("d"), 1 << 20));
}

// Found by fuzz_template_archive: libarchive gives no message for these, and formatting the
// null message threw (ending sandboxd, whose build thread does the extraction).
TEST(ExtractArchiveTest, ACutOrEmptyArchiveIsAnErrorWithAMessage) {
  testing_support::TempDir dir;
  // The fuzzer's (minimized) input: a gzip header and the start of a deflate stream.
  const std::string found("\x1f\x8b\x08\x00\x68\x14\x00\x00\x14\x00\x63\x00\x14", 13);
  const std::string whole = MakeTar({{.path = "a", .content = std::string(5000, 'a')}}, true);
  for (const std::string& archive :
       {found, whole.substr(0, 10), whole.substr(0, 3), std::string()}) {
    auto extracted = ExtractArchive(archive, dir.File("cut"), 1 << 20);
    ASSERT_FALSE(extracted);
    EXPECT_FALSE(extracted.error().message.empty());
  }
}

TEST(ExtractArchiveTest, KeepsSymlinksThatStayInsideAndRefusesOthers) {
  namespace fs = std::filesystem;
  testing_support::TempDir dir;
  auto kept = ExtractArchive(MakeTar({{.path = "bin/real"},
                                      {.path = "bin/alias", .type = AE_IFLNK, .target = "real"},
                                      {.path = "top", .type = AE_IFLNK, .target = "bin/../bin"}}),
                             dir.File("ok"), 1 << 20);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(fs::read_symlink(dir.File("ok/bin/alias")), "real");

  EXPECT_FALSE(ExtractArchive(MakeTar({{.path = "l", .type = AE_IFLNK, .target = "/etc"}}),
                              dir.File("abs"), 1 << 20));
  EXPECT_FALSE(ExtractArchive(MakeTar({{.path = "d/l", .type = AE_IFLNK, .target = "../../x"}}),
                              dir.File("up"), 1 << 20));
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir.File("up/d/l"))));
  // Found by fuzz_template_archive: a name with a trailing slash is created without it, so its
  // target resolves one directory higher than the name suggests.
  EXPECT_FALSE(ExtractArchive(MakeTar({{.path = "d/", .type = AE_IFLNK, .target = "../x"}}),
                              dir.File("slash"), 1 << 20));
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir.File("slash/d"))));
}

TEST(ExtractArchiveTest, RefusesAHardLinkToASymlinkAndSpecialFiles) {
  namespace fs = std::filesystem;
  testing_support::TempDir dir;
  // d/l -> ../x stays inside; the same link at the top would point next to the directory.
  EXPECT_FALSE(ExtractArchive(MakeTar({{.path = "d/l", .type = AE_IFLNK, .target = "../x"},
                                       {.path = "l", .target = "d/l", .hardlink = true}}),
                              dir.File("hard"), 1 << 20));
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir.File("hard/l"))));
  EXPECT_FALSE(
      ExtractArchive(MakeTar({{.path = "p", .type = AE_IFIFO}}), dir.File("fifo"), 1 << 20));
  EXPECT_FALSE(
      ExtractArchive(MakeTar({{.path = "c", .type = AE_IFCHR}}), dir.File("chr"), 1 << 20));
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir.File("fifo/p"))));
}

TEST(ExtractArchiveTest, DropsSetIdBits) {
  namespace fs = std::filesystem;
  testing_support::TempDir dir;
  auto extracted =
      ExtractArchive(MakeTar({{.path = "su", .mode = 06755}}), dir.File("out"), 1 << 20);
  ASSERT_TRUE(extracted) << extracted.error().message;
  const auto perms = fs::status(dir.File("out/su")).permissions();
  EXPECT_EQ(perms & (fs::perms::set_uid | fs::perms::set_gid), fs::perms::none);
  EXPECT_NE(perms & fs::perms::owner_exec, fs::perms::none);
}

}  // namespace
}  // namespace swarm::sandboxd
