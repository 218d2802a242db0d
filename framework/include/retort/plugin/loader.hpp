// Loading one plugin file: its manifest read from the file and checked (ABI, kind, schemes)
// before the file is handed to dlopen (Boost.DLL), so no code of a refused plugin runs; then the
// factory. The registry (registry.hpp) decides which files to try.
#pragma once

#include <retort/core/export.hpp>
#include <retort/plugin/spi.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace retort {

/// Where to look for plugin files, beyond RETORT_PLUGIN_PATH and the installed directory.
struct PluginSearch {
  /// An explicit plugin file; when set it is the only candidate.
  std::filesystem::path explicit_path;
  /// Directories to search first (e.g. `plugins.paths` of a YAML file, already absolute).
  std::vector<std::filesystem::path> paths;
};

/// The file name a plugin of `kind` called `name` must have: "retort-dialect-sqlite.so".
RETORT_API std::string plugin_file_name(PluginKind kind, std::string_view name);

/// The directories searched, in order: `search.paths`, RETORT_PLUGIN_PATH, the installed plugin
/// directory, and the directory of libretort itself (duplicates removed).
RETORT_API std::vector<std::filesystem::path> plugin_directories(const PluginSearch& search);

/// Loads `file` as a dialect plugin serving `scheme`; throws PluginError naming the file and why.
/// The library stays loaded until the process exits.
RETORT_API std::shared_ptr<const DialectPlugin>
load_dialect_plugin(const std::filesystem::path& file, std::string_view scheme);

/// Reads the manifest of the plugin `file` without loading it; throws PluginError naming the
/// file and why it is not a usable plugin file (truncated, not ELF, another machine, ...).
RETORT_API PluginManifest read_plugin_manifest(const std::filesystem::path& file);

/// Loads `file` as a pool plugin. Like a dialect plugin, it stays loaded until the process exits.
RETORT_API std::shared_ptr<const PoolPlugin> load_pool_plugin(const std::filesystem::path& file);

/// The dialect part of a URL scheme, which names the plugin file: "postgresql+libpq" ->
/// "postgresql".
RETORT_API std::string dialect_name_of_scheme(std::string_view scheme);

} // namespace retort
