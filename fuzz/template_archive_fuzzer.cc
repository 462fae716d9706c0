// A template's files arrive as a tar.gz from any client (PUT to the upload link). The reader
// (ReadTarGz) and sandboxd's extraction (ExtractArchive) must refuse or unpack it without a
// crash, and extraction must leave nothing outside its directory: each input is unpacked into
// a fresh directory next to a decoy file, then checked and removed.
#include <stdlib.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "sandbox/template_archive.h"
#include "sandboxd/archive_extract.h"

namespace {

namespace fs = std::filesystem;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "template_archive_fuzzer: %s\n", what.c_str());
  std::abort();
}

bool Inside(const fs::path& path, const fs::path& dir) {
  const auto relative = path.lexically_normal().lexically_relative(dir);
  return !relative.empty() && *relative.begin() != "..";
}

void CheckTree(const fs::path& out) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(out, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const auto status = it->symlink_status();
    const fs::path& path = it->path();
    switch (status.type()) {
      case fs::file_type::regular:
      case fs::file_type::directory:
        break;
      case fs::file_type::symlink: {
        const fs::path target = fs::read_symlink(path);
        if (target.is_absolute() || !Inside(path.parent_path() / target, out)) {
          Fail("a symlink leaves the directory: " + path.string() + " -> " + target.string());
        }
        break;
      }
      default:
        Fail("a special file was extracted: " + path.string());
    }
    if ((status.permissions() & (fs::perms::set_uid | fs::perms::set_gid)) != fs::perms::none) {
      Fail("a set-id file was extracted: " + path.string());
    }
  }
}

void Extract(std::string_view archive) {
  char tmpl[] = "/tmp/fuzz_archive.XXXXXX";
  const char* made = mkdtemp(tmpl);
  if (made == nullptr) Fail("mkdtemp failed");
  const fs::path parent(made);
  const fs::path out = parent / "out";
  const std::string decoy = "decoy\n";
  std::ofstream(parent / "decoy") << decoy;

  (void)swarm::sandboxd::ExtractArchive(archive, out.string(), 1 << 20, 256);

  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const auto name = entry.path().filename();
    if (name != "out" && name != "decoy") Fail("written outside: " + entry.path().string());
  }
  {
    std::ifstream in(parent / "decoy", std::ios::binary);
    const std::string now((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (now != decoy) Fail("the decoy next to the directory was changed");
  }
  if (fs::exists(fs::symlink_status(out, ec))) {
    if (!fs::is_directory(fs::symlink_status(out, ec))) Fail("the directory was replaced");
    CheckTree(out);
  }
  fs::remove_all(parent, ec);
  if (ec) Fail("cannot remove " + parent.string() + ": " + ec.message());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view archive(reinterpret_cast<const char*>(data), size);
  auto entries = swarm::sandbox::ReadTarGz(
      archive, swarm::sandbox::ArchiveLimits{.max_entries = 256, .max_total_bytes = 1 << 20});
  if (entries) {
    for (const auto& entry : *entries) {
      const fs::path name(entry.name);
      if (name.empty() || name.is_absolute()) Fail("ReadTarGz passed the name " + entry.name);
      for (const auto& part : name) {
        if (part == "..") Fail("ReadTarGz passed the name " + entry.name);
      }
    }
  }
  Extract(archive);
  return 0;
}
