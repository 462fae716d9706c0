// The files of a template build's COPY step travel as a tar.gz (E2B's build API: the client
// PUTs it to the upload URL, the builder unpacks it). Both sides use these: the template client
// writes archives, sandboxd reads them back.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace swarm::sandbox {

struct ArchiveEntry {
  std::string name;     // relative path inside the archive
  std::string content;  // a regular file's bytes
  int mode = 0644;      // permission bits
};

// A gzip-compressed POSIX tar of regular files, with fixed owner and modification time so the
// same files give the same tar stream.
Result<std::string> WriteTarGz(const std::vector<ArchiveEntry>& entries);

struct ArchiveLimits {
  std::size_t max_entries = 10'000;
  std::size_t max_total_bytes = 512 << 20;  // unpacked
};

// The regular files of a tar (gzip-compressed or not). Directories are skipped; links, devices
// and names that are absolute or climb with ".." are refused, since the result gets unpacked.
Result<std::vector<ArchiveEntry>> ReadTarGz(std::string_view archive,
                                            const ArchiveLimits& limits = {});

// Lower-case hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

}  // namespace swarm::sandbox
