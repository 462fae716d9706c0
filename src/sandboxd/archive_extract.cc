#include "sandboxd/archive_extract.h"

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <memory>

#include <fmt/format.h>

namespace swarm::sandboxd {
namespace fs = std::filesystem;

namespace {

// libarchive leaves the message null for some failures (e.g. a gzip stream cut short), and a
// null char* makes fmt throw.
std::string ArchiveMessage(archive* a) {
  const char* text = archive_error_string(a);
  return text != nullptr ? text : "unknown libarchive error";
}

}  // namespace

bool IsSafeRelativePath(const std::string& path) {
  if (path.empty() || path.front() == '/') return false;
  for (const auto& part : fs::path(path)) {
    if (part == "..") return false;
  }
  return true;
}

Result<void> ExtractArchive(std::string_view archive, const std::string& dir, std::size_t max_bytes,
                            std::size_t max_entries) {
  std::unique_ptr<struct archive, decltype(&archive_read_free)> reader(archive_read_new(),
                                                                       archive_read_free);
  std::unique_ptr<struct archive, decltype(&archive_write_free)> writer(archive_write_disk_new(),
                                                                        archive_write_free);
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_filter_none(reader.get());
  archive_read_support_format_tar(reader.get());
  // Entries are rewritten to absolute paths under `dir` (after SafeRelative checked them), so
  // libarchive's own no-absolute-paths check cannot be used; its ".." and symlink checks are.
  archive_write_disk_set_options(writer.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                                   ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                   ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  if (archive_read_open_memory(reader.get(), archive.data(), archive.size()) != ARCHIVE_OK) {
    return BadRequest(fmt::format("not a tar archive: {}", ArchiveMessage(reader.get())));
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::size_t entries = 0;
  std::size_t bytes = 0;
  archive_entry* entry = nullptr;
  while (true) {
    int r = archive_read_next_header(reader.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return BadRequest(fmt::format("bad archive: {}", ArchiveMessage(reader.get())));
    }
    if (++entries > max_entries) return BadRequest("the archive has too many entries");
    const char* raw = archive_entry_pathname(entry);
    std::string path = raw ? raw : "";
    while (path.rfind("./", 0) == 0) path.erase(0, 2);
    // "d/" is created as "d": judge the name as it will be on disk.
    while (!path.empty() && path.back() == '/') path.pop_back();
    if (path.empty() || path == ".") continue;
    if (!IsSafeRelativePath(path)) {
      return BadRequest(fmt::format("archive entry '{}' leaves the template's directory", path));
    }
    if (const char* link = archive_entry_hardlink(entry)) {
      std::string target = link;
      while (target.rfind("./", 0) == 0) target.erase(0, 2);
      if (!IsSafeRelativePath(target)) return BadRequest("archive hard link leaves the directory");
      // A hard link to a symlink is a symlink resolved from another directory, where its
      // relative target may lead out.
      if (fs::is_symlink(fs::symlink_status(dir + "/" + target, ec))) {
        return BadRequest(fmt::format("archive entry '{}' is a hard link to a symlink", path));
      }
      archive_entry_set_hardlink(entry, (dir + "/" + target).c_str());
    } else if (archive_entry_filetype(entry) == AE_IFLNK) {
      // The files get bound into sandboxes and read by the build: a symlink may only point at
      // another file of the archive.
      const char* raw_target = archive_entry_symlink(entry);
      const std::string target = raw_target ? raw_target : "";
      const auto resolved = (fs::path(path).parent_path() / target).lexically_normal();
      if (target.empty() || target.front() == '/' || !IsSafeRelativePath(resolved.string())) {
        return BadRequest(fmt::format("archive symlink '{}' points outside the directory", path));
      }
    } else if (archive_entry_filetype(entry) != AE_IFREG &&
               archive_entry_filetype(entry) != AE_IFDIR) {
      // Devices, FIFOs and sockets: sandboxd runs as root, so mknod would succeed.
      return BadRequest(fmt::format("archive entry '{}' is not a file, directory or link", path));
    }
    // No set-user/group-id files: sandboxd may run as root and a sandbox's user must not gain it.
    archive_entry_set_perm(entry, archive_entry_perm(entry) & 0777);
    const auto size = archive_entry_size(entry);
    bytes += size > 0 ? static_cast<std::size_t>(size) : 0;
    if (bytes > max_bytes) {
      return BadRequest(fmt::format("the archive unpacks to more than {} bytes", max_bytes));
    }
    archive_entry_set_pathname(entry, (dir + "/" + path).c_str());
    if (archive_write_header(writer.get(), entry) < ARCHIVE_WARN) {
      return BadRequest(fmt::format("cannot extract '{}': {}", path, ArchiveMessage(writer.get())));
    }
    const void* block;
    size_t block_size;
    la_int64_t offset;
    while ((r = archive_read_data_block(reader.get(), &block, &block_size, &offset)) ==
           ARCHIVE_OK) {
      if (archive_write_data_block(writer.get(), block, block_size, offset) < ARCHIVE_WARN) {
        return BadRequest(
            fmt::format("cannot extract '{}': {}", path, ArchiveMessage(writer.get())));
      }
    }
    if (r < ARCHIVE_WARN) {
      return BadRequest(fmt::format("bad archive: {}", ArchiveMessage(reader.get())));
    }
    archive_write_finish_entry(writer.get());
  }
  return {};
}

}  // namespace swarm::sandboxd
