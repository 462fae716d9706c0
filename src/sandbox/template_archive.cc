#include "sandbox/template_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include <array>
#include <memory>

namespace swarm::sandbox {
namespace {

struct ArchiveWriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

la_ssize_t AppendToString(archive*, void* client_data, const void* buffer, size_t length) {
  static_cast<std::string*>(client_data)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

std::string LibarchiveError(archive* a, std::string_view what) {
  const char* text = archive_error_string(a);
  return std::string(what) + ": " + (text != nullptr ? text : "unknown libarchive error");
}

bool IsSafeName(std::string_view name) {
  if (name.empty() || name.front() == '/') return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    auto end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    if (name.substr(start, end - start) == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

Result<std::string> WriteTarGz(const std::vector<ArchiveEntry>& entries) {
  // Declared before the writer: freeing an unfinished writer flushes into it, so it must
  // outlive the writer on every return path.
  std::string out;
  std::unique_ptr<archive, ArchiveWriteDeleter> a(archive_write_new());
  if (!a) return Internal("cannot create a tar writer");
  if (archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK ||
      archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK ||
      archive_write_open(a.get(), &out, nullptr, AppendToString, nullptr) != ARCHIVE_OK) {
    return Internal(LibarchiveError(a.get(), "cannot start a tar.gz"));
  }
  for (const auto& file : entries) {
    if (!IsSafeName(file.name)) return BadRequest("not a relative archive path: " + file.name);
    std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), file.name.c_str());
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(file.content.size()));
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), static_cast<mode_t>(file.mode & 07777));
    archive_entry_set_mtime(entry.get(), 0, 0);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) {
      return Internal(LibarchiveError(a.get(), "cannot add " + file.name + " to a tar.gz"));
    }
    if (!file.content.empty() &&
        archive_write_data(a.get(), file.content.data(), file.content.size()) !=
            static_cast<la_ssize_t>(file.content.size())) {
      return Internal(LibarchiveError(a.get(), "cannot write " + file.name + " into a tar.gz"));
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return Internal(LibarchiveError(a.get(), "cannot finish a tar.gz"));
  }
  return out;
}

Result<std::vector<ArchiveEntry>> ReadTarGz(std::string_view bytes, const ArchiveLimits& limits) {
  std::unique_ptr<archive, ArchiveReadDeleter> a(archive_read_new());
  if (!a) return Internal("cannot create a tar reader");
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_none(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return BadRequest(LibarchiveError(a.get(), "not a tar archive"));
  }
  std::vector<ArchiveEntry> out;
  std::size_t total = 0;
  std::size_t seen = 0;
  archive_entry* entry = nullptr;
  for (;;) {
    const int status = archive_read_next_header(a.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
      return BadRequest(LibarchiveError(a.get(), "broken tar archive"));
    }
    if (++seen > limits.max_entries) {
      return MakeError(
          ErrorCode::kPayloadTooLarge,
          "tar archive has more than " + std::to_string(limits.max_entries) + " entries");
    }
    const char* raw_name = archive_entry_pathname(entry);
    std::string name = raw_name != nullptr ? raw_name : "";
    while (name.size() > 2 && name.compare(0, 2, "./") == 0) name.erase(0, 2);
    const auto type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) continue;
    if (type != AE_IFREG) return BadRequest("tar entry " + name + " is not a regular file");
    if (!IsSafeName(name)) return BadRequest("tar entry name is not a relative path: " + name);
    const auto size = archive_entry_size(entry);
    if (size < 0 || total + static_cast<std::size_t>(size) > limits.max_total_bytes) {
      return MakeError(
          ErrorCode::kPayloadTooLarge,
          "tar archive unpacks to more than " + std::to_string(limits.max_total_bytes) + " bytes");
    }
    ArchiveEntry file;
    file.name = std::move(name);
    file.mode = static_cast<int>(archive_entry_perm(entry));
    file.content.resize(static_cast<std::size_t>(size));
    std::size_t at = 0;
    while (at < file.content.size()) {
      const auto n = archive_read_data(a.get(), file.content.data() + at, file.content.size() - at);
      if (n < 0) return BadRequest(LibarchiveError(a.get(), "broken tar archive"));
      if (n == 0) break;
      at += static_cast<std::size_t>(n);
    }
    if (at != file.content.size()) return BadRequest("tar entry " + file.name + " is truncated");
    total += file.content.size();
    out.push_back(std::move(file));
  }
  return out;
}

std::string Sha256Hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0x0f]);
  }
  return out;
}

}  // namespace swarm::sandbox
