// Internal to the plugin layer: checking a plugin file as an ELF shared object for this machine
// and reading its manifest note (spi.hpp) without the system loader. dlopen() trusts the file:
// a truncated one (segments past the end) is mapped anyway and faults (SIGBUS) on first touch,
// and a foreign or corrupt one may be half-loaded with its static initializers run. So every
// structure dlopen() will map or read is checked to lie inside the file first.
#pragma once

#include <retort/plugin/spi.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>

namespace retort::detail {

/// Copies `size` bytes at `offset` of the image into `out`; false when they cannot be read.
using ReadAt = std::function<bool(std::uint64_t offset, void* out, std::size_t size)>;

/// The manifest of an image, or why there is none (`failure`, a short sentence).
struct ManifestRead {
  std::optional<PluginManifest> manifest;
  std::string failure;
};

/// Checks the ELF image of `file_size` bytes read through `read` and reads its manifest note.
ManifestRead read_manifest(std::uint64_t file_size, const ReadAt& read);
/// read_manifest() over bytes in memory (the fuzz target's entry).
ManifestRead read_manifest(std::span<const unsigned char> image);
/// read_manifest() of a file: it must be a regular, readable file.
ManifestRead read_manifest(const std::filesystem::path& file);

/// Parses a manifest note's descriptor ("abi=8\0tag=...\0..."); the failure names the field.
ManifestRead parse_manifest_desc(std::string_view desc);

} // namespace retort::detail
